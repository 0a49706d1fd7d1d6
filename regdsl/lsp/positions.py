"""Positions as the client counts them: lines from 0, characters in the negotiated code units.

regdsl counts code points (``source.Span``); the Language Server Protocol counts UTF-16
code units unless the client and server agree on UTF-8 or UTF-32. A character beyond the
Basic Multilingual Plane is two UTF-16 units, a combining mark one of its own: both are
counted here from the line's text, never guessed from the column.
"""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

from regdsl.source import SourceFile, Span

__all__ = ["Units", "before_on_line", "inserted_line", "offset_at", "position_at", "range_of", "units_of", "whole"]

# How many code units of the client's encoding a text takes.
Units = Callable[[str], int]

_WIDTHS: dict[str, Callable[[str], int]] = {
    types.PositionEncodingKind.Utf8: lambda char: len(char.encode("utf-8")),
    types.PositionEncodingKind.Utf16: lambda char: 2 if ord(char) > 0xFFFF else 1,
    types.PositionEncodingKind.Utf32: lambda char: 1,
}


def units_of(encoding: str | None) -> Units:
    """Return the counter of code units for a negotiated position encoding (UTF-16 when none was)."""
    width = _WIDTHS.get(encoding or types.PositionEncodingKind.Utf16, _WIDTHS[types.PositionEncodingKind.Utf16])
    if encoding == types.PositionEncodingKind.Utf32:
        return len
    return lambda text: sum(map(width, text))


def position_at(source: SourceFile, offset: int, units: Units) -> types.Position:
    """Return the client's position of the code-point ``offset`` of ``source``."""
    offset = max(0, min(offset, len(source.text)))
    line, column = source.index.position(offset)
    start = source.index.starts[line - 1]
    return types.Position(line=line - 1, character=units(source.text[start : start + column - 1]))


def range_of(span: Span, source: SourceFile, units: Units) -> types.Range:
    """Return the client's range of ``span`` (a span of ``source``)."""
    return types.Range(start=position_at(source, span.start, units), end=position_at(source, span.end, units))


def offset_at(source: SourceFile, position: types.Position, units: Units) -> int:
    """Return the code-point offset of the client's ``position`` in ``source``, clamped to its line and the text.

    A position inside a character (half of a surrogate pair) is the offset of that character.
    """
    starts = source.index.starts
    if position.line >= len(starts):
        return len(source.text)
    start = starts[position.line]
    line = source.line_text(position.line + 1)
    counted = 0
    for number, char in enumerate(line):
        counted += units(char)
        if counted > position.character:
            return start + number
    return start + len(line)


def whole(source: SourceFile) -> Span:
    """Return the span of the whole of ``source`` (what an edit replacing the document replaces)."""
    return source.span(0, len(source.text))


def before_on_line(source: SourceFile, offset: int) -> str:
    """Return what is written on the line of ``offset`` before it (what completion is asked after)."""
    start = source.index.starts[source.index.position(offset)[0] - 1]
    return source.text[start:offset]


def inserted_line(source: SourceFile, line: int, text: str) -> tuple[int, str, SourceFile]:
    """Return where a new line goes above ``line``, its text (``text`` at that line's indentation), and the result."""
    start = source.index.starts[line - 1]
    written = source.line_text(line)
    new = written[: len(written) - len(written.lstrip(" \t"))] + text + "\n"
    return start, new, SourceFile(source.path, source.text[:start] + new + source.text[start:])
