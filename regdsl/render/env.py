"""The jinja2 environments: one for HTML (autoescaped), one for Markdown (explicit escaping).

Both are strict (an undefined name is an error, never an empty string) and load the
bundled templates, which a library may override file by file with ``--templates DIR``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import jinja2

__all__ = ["environment", "md_cell", "md_text"]

# Characters that Markdown (GitHub-flavoured) would read as markup in running text.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
_MD_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(text: object) -> str:
    """Escape text for Markdown: markup characters are backslashed, HTML is made inert."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text))
    return re.sub(r"[&<]", lambda m: _MD_HTML[m.group(0)], escaped)


def md_cell(text: object) -> str:
    """Escape text for a Markdown table cell: as ``md_text``, and line breaks become ``<br>``."""
    return "<br>".join(md_text(line) for line in str(text).splitlines())


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
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_text
    env.filters["md_cell"] = md_cell
    return env
