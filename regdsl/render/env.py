"""The jinja2 environments: one for HTML (autoescaped), one for Markdown (explicit escaping).

Both are strict (an undefined name is an error, never an empty string) and load the
bundled templates, which a library may override file by file with ``--templates DIR``.
Templates are trusted configuration (they write the pages clinicians read), yet they run
in jinja2's immutable sandbox: a template reads the view it is given and can reach no
Python internals, call no unsafe method and change nothing. A template that cannot be
used (a syntax error, an undefined name, a forbidden access, a failure in its own code)
is a ``TemplateProblem`` naming its file and line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import traceback
import types
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from regdsl.render.prose import Block, Item, Run
from regdsl.source import visible

__all__ = [
    "TemplateProblem",
    "compile_templates",
    "environment",
    "md_code",
    "md_lines",
    "md_prose",
    "md_text",
    "render_template",
    "static_text",
]

# Characters that GitHub-flavoured Markdown reads as markup anywhere in running text.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# What makes a line a heading, quote, list item or rule when it starts the line.
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])(?=\s|$)", re.MULTILINE)
# A line that starts with `::` (after any spaces) is a command to a GitHub Actions runner when
# the page is printed in a CI log (`regdsl render X --to md`): a colon that starts a line of a
# page is written `\:`, which Markdown shows as `:` (see ``render_template``).
_MD_COMMAND = re.compile(r"^([^\S\n]*):", re.MULTILINE)
# In HTML (a page, a picture), a text's line break is written `&#10;` and a colon that starts
# it `&#58;`, which a browser shows as they are: printed in a CI log (`regdsl render X --to
# html`), no text starts a line (see ``_html_text``).
_HTML_COMMAND = re.compile(r"^([^\S\n]*):")
# An ampersand that would start a character reference.
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_TICKS = re.compile(r"`+")


def md_text(text: object) -> str:
    """Escape a field (a name, a title, a table cell) for Markdown, on one line: see ``_md_escaped``.

    A field is one line of its page (a heading, a list item, a cell), so a line break in it is
    written ``<br>``: it never ends the heading or the item and starts a line of its own. Its
    leading spaces and tabs are left out, as Markdown leaves them out of a paragraph, a heading
    or a cell, so that four of them never make it a block of code.
    """
    return "<br>".join(_md_escaped(line) for line in str(text).lstrip(" \t").splitlines())


def _md_escaped(text: str) -> str:
    """Escape text for Markdown: markup characters are backslashed, HTML is made inert."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
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


def _html_text(value: object) -> object:
    """Escape a text for HTML as autoescaping does, and so that it starts no line: see ``_HTML_COMMAND``.

    The HTML environment's ``finalize``: markup (the package's stylesheet, what a macro wrote)
    and values that are not text are left to autoescaping.
    """
    if not isinstance(value, str) or isinstance(value, Markup):
        return value
    escaped = escape(value)
    if ":" not in escaped and "\n" not in escaped:  # most texts: nothing more to do
        return escaped
    return Markup(_HTML_COMMAND.sub(r"\1&#58;", str(escaped)).replace("\n", "&#10;"))


def _md_runs(runs: tuple[Run, ...]) -> str:
    marks = {"plain": "", "em": "*", "strong": "**"}
    return "".join(f"{marks[r.style]}{_md_escaped(r.text)}{marks[r.style]}" for r in runs)


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


# What jinja2's sandbox looks at more closely when a template reads it: a method may be ``str.format``.
_METHODS = (types.MethodType, types.BuiltinMethodType)
# The largest result of ``*`` (repeating a text or a list) and ``**`` in a template: far more
# than a page needs, far less than would exhaust memory or time.
_MAX_REPEAT = 1 << 20  # characters or items
_MAX_POWER_BITS = 1 << 10


class _Sandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, remembering its verdict on each attribute of each type.

    jinja2 decides whether an attribute is safe from the attribute's name and the object's
    type alone (a name with an underscore, an internal attribute of a function, method,
    frame or generator, a method that changes a list, dict or set), so one verdict per
    type and name holds for every object of the type. It is most of the sandbox's cost.

    ``*`` and ``**`` are evaluated by ``call_binop`` (so never folded into a constant when
    the template is compiled), which refuses a result no page needs. A template that cannot
    be compiled at all (a number too long to read, nesting too deep) is a syntax error.
    """

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        """Whether ``obj.attr`` may be read: jinja2's verdict for the type and name, once."""
        key = (type(obj), attr)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute`` as jinja2's sandbox gives it, without its look at ``str.format`` for what is no method."""
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            return super().getattr(obj, attribute)
        if not isinstance(value, _METHODS) and self.is_safe_attribute(obj, attribute, value):
            return value
        return super().getattr(obj, attribute)  # a method: ``str.format`` is wrapped, an unsafe one refused

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``left operator right``, unless ``*`` or ``**`` would give a result larger than any page needs."""
        if _too_large(operator, left, right):
            raise SecurityError(f"`{operator}` would give a result too large for a page")
        return super().call_binop(context, operator, left, right)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        with _compiling(name, filename):
            return super()._parse(source, name, filename)

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        with _compiling(name, filename):
            return super()._generate(source, name, filename, defer_init)


def _too_large(operator: str, left: object, right: object) -> bool:
    if operator == "**":
        return (
            isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right * abs(left).bit_length() > _MAX_POWER_BITS
        )
    sized, count = (left, right) if isinstance(right, int) else (right, left)
    return isinstance(sized, str | list | tuple) and isinstance(count, int) and len(sized) * count > _MAX_REPEAT


@contextlib.contextmanager
def _compiling(name: str | None, filename: str | None) -> Iterator[None]:
    """Turn a failure to compile a template (not a syntax error) into one, at the line jinja2 was at."""
    try:
        yield
    except (ValueError, OverflowError, RecursionError) as err:
        message = f"the template cannot be compiled: {type(err).__name__}: {err}"
        raise jinja2.TemplateSyntaxError(message, _compiled_line(err.__traceback__), name, filename) from None


def _compiled_line(tb: TracebackType | None) -> int:
    """Return the template line that jinja2's lexer, parser or code generator was at, innermost first (0: none)."""
    for frame, _ in reversed(list(traceback.walk_tb(tb))):
        found = frame.f_locals
        node = found.get("node")
        for line in (getattr(node, "lineno", None), found.get("lineno")):
            if isinstance(line, int) and line > 0:
                return line
    return 0


class _Folder(jinja2.FileSystemLoader):
    """Templates from a folder: one that is not UTF-8 is a syntax error at the line of its first bad byte."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        """Return the template's text, its file name and whether it is unchanged (jinja2's loader protocol)."""
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as err:
            line = err.object[: err.start].count(b"\n") + 1
            filename = os.path.normpath(os.path.join(self.searchpath[0], *split_template_path(template)))
            message = f"the template is not UTF-8 text (byte 0x{err.object[err.start]:02x})"
            raise jinja2.TemplateSyntaxError(message, line, template, filename) from None


@functools.cache
def environment(kind: Literal["html", "md"], templates: Path | None = None) -> ImmutableSandboxedEnvironment:
    """Return the environment for ``kind``, with ``templates`` (a folder) overriding the bundled ones."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("regdsl.render", "templates")]
    if templates is not None:
        loaders.insert(0, _Folder(str(templates)))
    env = _Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=kind == "html",
        finalize=_html_text if kind == "html" else None,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a build: no file checks per page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_text
    env.filters["md_cell"] = md_text  # (a table cell is a field like any other: one line)
    env.filters["md_code"] = md_code
    env.filters["md_prose"] = md_prose
    env.filters["md_lines"] = md_lines
    return env


class TemplateProblem(Exception):
    """A template that cannot be used, with its file and line in the message (exit 2)."""


_BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def _in_folder(filename: str, folder: str) -> bool:
    return os.path.abspath(filename).startswith(os.path.join(os.path.abspath(folder), ""))


def _template_line(tb: TracebackType | None, folders: tuple[str, ...]) -> tuple[str, int] | None:
    """Return the file and line of the innermost template frame of ``tb`` (jinja2 rewrites its frames so)."""
    found = None
    for frame, line in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if any(_in_folder(filename, folder) for folder in folders):
            found = (filename, line)
    return found


def compile_templates(templates: Path | None) -> None:
    """Compile every bundled template's name (or ``templates``' file of that name) in the environment of its kind.

    A build calls it before its workers start: they inherit the compiled templates, rather
    than each compile them again. A template that cannot be used is left to the page that
    uses it, which reports it (``render_template``) only if the check passes.
    """
    for name in sorted(os.listdir(_BUNDLED)):
        kind: Literal["html", "md"] = "md" if name.endswith(".md.j2") else "html"
        with contextlib.suppress(Exception):  # reported where the page is rendered, as without this
            environment(kind, templates).get_template(name)


def render_template(kind: Literal["html", "md"], templates: Path | None, name: str, **values: object) -> str:
    r"""Render the template ``name`` of ``kind``'s environment with ``values``.

    Raises ``TemplateProblem`` for a template that cannot be used: a syntax error, an
    undefined name, a forbidden access or a missing template anywhere, and any other failure
    raised in a template of ``templates`` (a failure in a bundled template is regdsl's own).
    A colon that starts a line of a Markdown page is written ``\:`` (``_MD_COMMAND``),
    whatever wrote it: a field, prose, or a template of ``templates``.
    """
    ours = os.fspath(templates) if templates is not None else None
    try:
        page = environment(kind, templates).get_template(name).render(**values)
        return _MD_COMMAND.sub(r"\1\\:", page) if kind == "md" else page
    except jinja2.TemplateSyntaxError as err:
        where = err.filename or err.name or name
        where = f"{where}:{err.lineno}" if err.lineno else where
        raise TemplateProblem(f"{where}: template syntax error: {err.message}") from None
    except Exception as err:
        located = _template_line(err.__traceback__, (_BUNDLED,) if ours is None else (ours, _BUNDLED))
        user_fault = located is not None and ours is not None and _in_folder(located[0], ours)
        if not isinstance(err, jinja2.TemplateError) and not user_fault:
            raise
        where = f"{located[0]}:{located[1]}" if located else name
        raise TemplateProblem(f"{where}: {_what(err)}") from None


def _what(err: Exception) -> str:
    if isinstance(err, SecurityError):
        return f"the template is not allowed this: {err}"
    if isinstance(err, jinja2.UndefinedError):
        return f"the template names something that is not there: {err}"
    if isinstance(err, jinja2.TemplateNotFound):
        return f"no template `{err.name}`"
    return f"the template failed: {type(err).__name__}: {err}"
