"""Prose as pages show it: the small Markdown subset of the language, never raw HTML.

The subset is paragraphs, bullet lists nested by indentation, ``*emphasis*`` and
``**strong**``. Prose is parsed into blocks of plain text runs; templates write the runs, escaped. The
text of every run is the author's, verbatim: only the list markers and emphasis markers
are taken away.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Block", "Item", "Run", "inline_runs", "parse_prose"]

_BULLET = re.compile(r"^( *)[-*•] +(.*)$")
_EMPHASIS = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")


@dataclass(frozen=True, slots=True)
class Run:
    """A run of text with one style."""

    text: str
    style: Literal["plain", "em", "strong"] = "plain"


@dataclass(frozen=True, slots=True)
class Item:
    """A bullet item: its text, and the items nested under it."""

    runs: tuple[Run, ...]
    children: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph (``runs``) or a bullet list (``items``)."""

    kind: Literal["paragraph", "list"]
    runs: tuple[Run, ...] = ()
    items: tuple[Item, ...] = ()


def inline_runs(text: str) -> tuple[Run, ...]:
    """Split a line of text into plain, emphasised and strong runs."""
    found: list[Run] = []
    at = 0
    for match in _EMPHASIS.finditer(text):
        if match.start() > at:
            found.append(Run(text[at : match.start()]))
        if match.group(1) is not None:
            found.append(Run(match.group(1), "strong"))
        else:
            found.append(Run(match.group(2), "em"))
        at = match.end()
    if at < len(text):
        found.append(Run(text[at:]))
    return tuple(found)


def _items(lines: list[tuple[int, str]]) -> tuple[Item, ...]:
    """Build nested items from ``(indent, text)`` pairs; deeper indents nest under the item above."""
    items: list[Item] = []
    i = 0
    while i < len(lines):
        indent, text = lines[i]
        j = i + 1
        while j < len(lines) and lines[j][0] > indent:
            j += 1
        items.append(Item(inline_runs(text), _items(lines[i + 1 : j])))
        i = j
    return tuple(items)


@functools.lru_cache(maxsize=4096)
def parse_prose(text: str | None) -> tuple[Block, ...]:
    """Parse prose into blocks: blank lines separate paragraphs; bullet lines form lists.

    A line that is neither a bullet nor blank continues the paragraph (or the bullet item)
    above it, joined with a space, as Markdown does. Blocks are immutable, so one parse
    serves every page that shows the same prose (a library repeats its instructions).
    """
    if not text:
        return ()
    blocks: list[Block] = []
    paragraph: list[str] = []
    bullets: list[tuple[int, str]] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", runs=inline_runs(" ".join(paragraph))))
            paragraph.clear()
        if bullets:
            blocks.append(Block("list", items=_items(bullets)))
            bullets.clear()

    for line in text.splitlines():
        bullet = _BULLET.match(line)
        if not line.strip():
            flush()
        elif bullet:
            if paragraph:
                flush()
            bullets.append((len(bullet.group(1)), bullet.group(2).strip()))
        elif bullets:
            indent, previous = bullets[-1]
            bullets[-1] = (indent, f"{previous} {line.strip()}")
        else:
            paragraph.append(line.strip())
    flush()
    return tuple(blocks)
