"""``regdsl fmt``: the canonical layout of a source, made from the tokens its parse read.

The layout is the language reference's (docs/language.md, 2.2 and its examples): each
statement on its own line, indented two spaces per block; its words in the order written,
one space apart (none before ``,``, ``:``, ``)`` and ``]``, none after ``(``, ``[`` and a
day's minus sign); a comment after a statement two spaces after it; a comment on its own
line at the indentation of the block it stands in; one blank line between top-level
sections (a section of the same kind as the one above it, such as a second ``drug`` line or
``reference``, keeps the blank line above it or its absence as written),
no more than one anywhere, none at the start of a block or of the file; no spaces at the
end of a line, line feeds only, a final line break. Where the grammar takes two spellings
of one symbol, one is written (``-`` for ``−``, ``±`` for ``+/-``).

Nothing the compiler reads changes: every token keeps its text (numbers as written,
quoted text with its escapes, prose after ``|`` verbatim), no line moves, and each comment
stays with the line it covers (so a suppression still covers its line). A source with a
syntax error is not formatted.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from regdsl.diagnostics import Sink
from regdsl.model import ast
from regdsl.source import SourceFile, visible
from regdsl.syntax.parser import parse_tokens
from regdsl.syntax.transform import Tok

__all__ = ["INDENT", "changes", "format_source", "layout", "unified_diff"]

INDENT = "  "
TAB_WIDTH = 8  # as the parser counts a tab in indentation

_TIGHT_BEFORE = frozenset({"COMMA", "COLON", "RPAR", "RSQB"})
_TIGHT_AFTER = frozenset({"LPAR", "LSQB", "MINUS"})
_SPELLING = {"MINUS": "-", "PLUSMINUS": "±"}


@dataclass(frozen=True, slots=True)
class _Line:
    """One output line: ``kind`` is ``code``, ``comment`` or ``blank``; ``opens`` when a block follows."""

    kind: str
    depth: int = 0
    text: str = ""
    opens: bool = False
    head: str = ""  # a code line's first terminal: the kind of section a top-level line starts


def format_source(source: SourceFile, sink: Sink) -> str | None:
    """Return ``source`` in the canonical layout, or None when it has a syntax error (reported into ``sink``)."""
    module, tokens = parse_tokens(source, sink)
    if sink.has_errors:
        return None
    return layout(source, tokens, module.comments)


def changes(source: SourceFile, text: str) -> bool:
    """Whether ``text`` differs from what ``source`` holds."""
    return text != source.text


def unified_diff(source: SourceFile, text: str) -> str:
    """Return a unified diff from ``source`` to ``text``, every line escaped for a terminal (``visible``)."""
    name = visible(source.path)
    lines = difflib.unified_diff(_diff_lines(source.text), _diff_lines(text), name, name, lineterm="")
    return "".join(visible(line) + "\n" for line in lines)


def _diff_lines(text: str) -> list[str]:
    """Return the lines of ``text`` for a diff: carriage returns kept (and shown), a missing last line feed said."""
    lines = text.split("\n")
    if lines[-1]:
        lines.append("\\ No newline at end of file")
    else:
        lines.pop()
    return lines


def _word(token: Tok) -> str:
    """Return the canonical text of one token (its meaning unchanged: see the module docstring)."""
    kind, text = token[0], token[1]
    if kind in _SPELLING:
        return _SPELLING[kind]
    if kind == "PROSE":
        body = text[1:].rstrip("\r")
        if body == " ":
            return "|"
        return "|" + body if not body or body.startswith(" ") else "| " + body
    if kind == "LABEL":
        return text.rstrip()
    if kind == "FACTOR_LINE":  # ``name: value``: the builder strips the spaces around the colon
        colon = text.index(":")
        name, value = text[:colon].rstrip(), text[colon + 1 :].strip()
        return f"{name}: {value}" if value else f"{name}:"
    return text


def _joined(tokens: Sequence[Tok]) -> str:
    parts: list[str] = []
    previous = ""
    for token in tokens:
        if parts and token[0] not in _TIGHT_BEFORE and previous not in _TIGHT_AFTER:
            parts.append(" ")
        parts.append(_word(token))
        previous = token[0]
    return "".join(parts)


def _width(text: str) -> int:
    """Return the indentation of a line, as the parser measures it."""
    lead = text[: len(text) - len(text.lstrip(" \t"))]
    return lead.count(" ") + lead.count("\t") * TAB_WIDTH


def layout(source: SourceFile, tokens: Sequence[Tok], comments: Sequence[ast.Comment]) -> str:
    """Lay out a parsed source: ``tokens`` as the parser read them, ``comments`` as it kept them."""
    position = source.index.position
    by_line: dict[int, list[Tok]] = {}
    for token in tokens:
        by_line.setdefault(position(token[2])[0], []).append(token)
    notes = {comment.span.line: comment for comment in comments}
    count = len(source.index.starts)

    # The depth of each code line, and the indentation widths open after it.
    depth: dict[int, int] = {}
    open_after: dict[int, tuple[int, ...]] = {}
    widths: dict[int, int] = {}
    stack: tuple[int, ...] = (0,)
    for number in sorted(by_line):
        width = widths[number] = _width(source.line_text(number))
        if width > stack[-1]:
            stack = (*stack, width)
        while width < stack[-1]:
            stack = stack[:-1]
        depth[number] = len(stack) - 1
        open_after[number] = stack

    lines: list[_Line] = []
    before: tuple[int, ...] = (0,)  # the widths open after the last code line
    code = sorted(by_line)
    following = dict(itertools.pairwise(code))  # each code line's next, the last none
    for number in range(1, count + 1):
        comment = notes.get(number)
        if number in by_line:
            text = INDENT * depth[number] + _joined(by_line[number])
            if comment is not None:
                text += "  " + comment.text.rstrip()
            after = following.get(number, 0)
            opens = bool(after) and depth[after] > depth[number]
            lines.append(_Line("code", depth[number], text, opens=opens, head=by_line[number][0][0]))
            before = open_after[number]
        elif comment is not None:
            covered = comment.covers if comment.covers in by_line else 0
            levels = before
            if covered and widths[covered] > levels[-1]:
                levels = (*levels, widths[covered])
            column = _width(source.line_text(number))
            inner = max(i for i, width in enumerate(levels) if width <= column)
            level = max(inner, depth[covered] if covered else 0)
            lines.append(_Line("comment", level, INDENT * level + comment.text.rstrip()))
        else:
            lines.append(_Line("blank"))
    return "\n".join(line.text for line in _spaced(lines)) + "\n"


def _spaced(lines: list[_Line]) -> list[_Line]:
    """Set the blank lines: one between sections of two kinds, at most one anywhere, none opening a block."""
    out: list[_Line] = []
    last_top: _Line | None = None  # the last top-level code line written
    for line in lines:
        if line.kind == "blank":
            if out and out[-1].kind != "blank" and not (out[-1].kind == "code" and out[-1].opens):
                out.append(line)
            continue
        if line.kind == "code" and line.depth == 0 and last_top is not None:
            group = len(out)  # the comments written just above this line, at its level, stay with it
            while group and out[group - 1].kind == "comment" and out[group - 1].depth == 0:
                group -= 1
            if line.head != last_top.head and group and out[group - 1].kind != "blank":
                out.insert(group, _Line("blank"))
        out.append(line)
        if line.kind == "code" and line.depth == 0:
            last_top = line
    while out and out[-1].kind == "blank":
        out.pop()
    return out
