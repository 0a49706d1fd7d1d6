"""Prose as pages show it: the small Markdown subset of the language, never raw HTML.

The subset is paragraphs, bullet lists nested by indentation, ``*emphasis*`` and
``**strong**``. Prose is parsed into blocks of plain text runs; templates write the runs, escaped. The
text of every run is the author's, verbatim: only the list markers and emphasis markers
are taken away.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from regdsl.model.limits import LIST_DEPTH

__all__ = ["Block", "Item", "Run", "inline_runs", "parse_prose"]

_BULLET = re.compile(r"^( *)[-*•] +(.*)$")


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


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _closers(text: str, valid: Callable[[int], bool]) -> list[int]:
    """For each offset, the first offset at or after it where ``valid`` holds, before a newline (-1: none)."""
    found = [-1] * (len(text) + 1)
    after = -1
    for i in range(len(text) - 1, -1, -1):
        if text[i] == "\n":
            after = -1
        elif valid(i):
            after = i
        found[i] = after
    return found


def _emphasis(text: str) -> Iterator[tuple[int, int, str, str]]:
    r"""Find ``**strong**`` and ``*em*`` runs as a lazy regular expression would, in linear time.

    Yields ``(start, end, inner text, style)`` from left to right: the matches of
    ``\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])``. Where a
    search for it would look for a closing marker from every opening one (quadratic in a
    line of markers that never close), the first closing marker after each offset is found
    once, right to left.
    """
    n = len(text)

    def strong_end(q: int) -> bool:  # `(?<=\S)\*\*`
        return text.startswith("**", q) and q > 0 and not text[q - 1].isspace()

    def em_end(q: int) -> bool:  # `(?<=[^\s*])\*(?![\w*])`
        return (
            text[q] == "*"
            and q > 0
            and not (text[q - 1].isspace() or text[q - 1] == "*")
            and (q + 1 == n or not (_is_word(text[q + 1]) or text[q + 1] == "*"))
        )

    strong, em = _closers(text, strong_end), _closers(text, em_end)
    p = 0
    while p < n:
        if text.startswith("**", p) and p + 3 <= n and not text[p + 2].isspace() and text[p + 2] != "\n":
            q = strong[p + 3] if p + 3 < n else -1
            if q != -1:
                yield p, q + 2, text[p + 2 : q], "strong"
                p = q + 2
                continue
        if (
            text[p] == "*"
            and (p == 0 or not (_is_word(text[p - 1]) or text[p - 1] == "*"))
            and p + 2 < n
            and not (text[p + 1].isspace() or text[p + 1] == "*")
        ):
            q = em[p + 2]
            if q != -1:
                yield p, q + 1, text[p + 1 : q], "em"
                p = q + 1
                continue
        p += 1


def inline_runs(text: str) -> tuple[Run, ...]:
    """Split a line of text into plain, emphasised and strong runs."""
    found: list[Run] = []
    at = 0
    for start, end, inner, style in _emphasis(text):
        if start > at:
            found.append(Run(text[at:start]))
        found.append(Run(inner, "strong" if style == "strong" else "em"))
        at = end
    if at < len(text):
        found.append(Run(text[at:]))
    return tuple(found)


def _items(lines: list[tuple[int, list[str]]]) -> tuple[Item, ...]:
    """Build nested items from ``(indent, words)`` pairs; deeper indents nest under the item above.

    A line nests under the nearest line above it that is indented less, with nothing indented
    as little or less between them. Items nest at most ``LIST_DEPTH`` deep: a deeper one is
    shown at that depth, after the items above it there.
    """
    root: list[tuple[list[str], list[object]]] = []
    open_: list[tuple[int, list[tuple[list[str], list[object]]]]] = [(-1, root)]  # indent, children
    for indent, words in lines:
        while open_[-1][0] >= indent and len(open_) > 1:
            open_.pop()
        while len(open_) > LIST_DEPTH.value:
            open_.pop()
        children: list[object] = []
        open_[-1][1].append((words, children))
        open_.append((indent, children))  # type: ignore[arg-type]
    return _frozen(root)


def _frozen(nodes: list[tuple[list[str], list[object]]]) -> tuple[Item, ...]:
    return tuple(Item(inline_runs(" ".join(words)), _frozen(children)) for words, children in nodes)  # type: ignore[arg-type]


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
    bullets: list[tuple[int, list[str]]] = []

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
            bullets.append((len(bullet.group(1)), [bullet.group(2).strip()]))
        elif bullets:
            bullets[-1][1].append(line.strip())
        else:
            paragraph.append(line.strip())
    flush()
    return tuple(blocks)
