"""The jinja2 environments: one for HTML (autoescaped), one for Markdown (explicit escaping).

Both are strict (an undefined name is an error, never an empty string) and load the
bundled templates, which a library may override file by file with ``--templates DIR``.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Literal

import jinja2

from regdsl.render.prose import Block, Item, Run
from regdsl.source import visible

__all__ = ["environment", "md_cell", "md_code", "md_lines", "md_prose", "md_text", "static_text"]

# Characters that GitHub-flavoured Markdown reads as markup anywhere in running text.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# What makes a line a heading, quote, list item or rule when it starts the line.
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])(?=\s|$)", re.MULTILINE)
# An ampersand that would start a character reference.
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_TICKS = re.compile(r"`+")


def md_text(text: object) -> str:
    """Escape text for Markdown: markup characters are backslashed, HTML is made inert."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text))
    escaped = _MD_ENTITY.sub("&amp;", escaped).replace("<", "&lt;")
    return _MD_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1." starts a numbered list: escape the dot, "1\\."
        return f"{indent}{marker[:-1]}\\{marker[-1]}"
    return f"{indent}\\{marker}"


def md_code(text: object, *, cell: bool = False) -> str:
    """Write text as a Markdown code span, whatever it holds (a file name with backticks, ``|``, ``<``).

    The fence is one backtick longer than the longest run inside, with a space inside each end
    when the text starts or ends with a backtick or a space (Markdown takes one off each end
    of a span that has both, unless it is spaces alone); hidden characters and line breaks
    are escapes (``visible``); in a table cell (``cell``) a ``|`` is backslashed, as tables need
    even inside code.
    """
    body = visible(str(text))
    if not body:
        return ""
    fence = "`" * (1 + max((len(run) for run in _MD_TICKS.findall(body)), default=0))
    if body.strip(" ") and (body[0] in "` " or body[-1] in "` "):  # (text of spaces alone is kept whole)
        body = f" {body} "
    if cell:
        body = body.replace("|", "\\|")
    return f"{fence}{body}{fence}"


def md_lines(markdown: str) -> str:
    """Join the lines of Markdown already written (and escaped) with ``<br>``, to fit a table cell."""
    return "<br>".join(markdown.splitlines())


def md_cell(text: object) -> str:
    """Escape text for a Markdown table cell: as ``md_text``, and line breaks become ``<br>``."""
    return "<br>".join(md_text(line) for line in str(text).splitlines())


def _md_runs(runs: tuple[Run, ...]) -> str:
    marks = {"plain": "", "em": "*", "strong": "**"}
    return "".join(f"{marks[r.style]}{md_text(r.text)}{marks[r.style]}" for r in runs)


def _md_items(items: tuple[Item, ...], depth: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        lines.append(f"{'  ' * depth}- {_md_runs(item.runs)}")
        lines.extend(_md_items(item.children, depth + 1))
    return lines


def md_prose(blocks: tuple[Block, ...]) -> str:
    """Write prose blocks as Markdown: paragraphs and lists separated by blank lines, text escaped."""
    chunks = []
    for block in blocks:
        if block.kind == "paragraph":
            chunks.append(_md_runs(block.runs))
        else:
            chunks.append("\n".join(_md_items(block.items, 0)))
    return "\n\n".join(chunks)


@functools.cache
def static_text(name: str) -> str:
    """Return a file of the package's ``static`` folder (stylesheets, the search script), read once."""
    return resources.files("regdsl.render").joinpath("static", name).read_text(encoding="utf-8")


@functools.cache
def environment(kind: Literal["html", "md"], templates: Path | None = None) -> jinja2.Environment:
    """Return the environment for ``kind``, with ``templates`` (a folder) overriding the bundled ones."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("regdsl.render", "templates")]
    if templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(templates)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=kind == "html",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a build: no file checks per page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_text
    env.filters["md_cell"] = md_cell
    env.filters["md_code"] = md_code
    env.filters["md_prose"] = md_prose
    env.filters["md_lines"] = md_lines
    return env
