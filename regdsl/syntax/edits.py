"""Applying fixes to a source's text: ``regdsl check --fix``.

Each fix replaces the text of one span. Fixes are applied in the order of the text; one that
overlaps a fix already taken waits for the next round (the check runs again after a round),
and the same edit asked for twice is made once. The text the fixes make is used only when it
parses, with every number of the file the same value as before and every unit the same unit:
whatever a rule asks, a fix never changes a dose.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from regdsl.diagnostics import Fix, Severity, Sink, codes
from regdsl.model.vocabulary import ERROR_PRONE_UNITS, find_unit, unit_key
from regdsl.source import SourceFile
from regdsl.syntax.parser import parse_tokens

__all__ = ["apply_fixes"]


def apply_fixes(source: SourceFile, fixes: Iterable[Fix]) -> tuple[str, int] | None:
    """Return the text of ``source`` with ``fixes`` made, and how many were; None if none can be made safely."""
    size = len(source.text)
    wanted = sorted({(f.span.start, f.span.end, f.replacement) for f in fixes if f.span.path == source.path})
    taken: list[tuple[int, int, str]] = []
    for start, end, replacement in wanted:
        if 0 <= start <= end <= size and (not taken or start >= taken[-1][1]):
            taken.append((start, end, replacement))
    if not taken:
        return None
    parts: list[str] = []
    position = 0
    for start, end, replacement in taken:
        parts += [source.text[position:start], replacement]
        position = end
    parts.append(source.text[position:])
    text = "".join(parts)
    after = _quantities(SourceFile(source.path, text))
    if after is None or after != _quantities(source):
        return None
    return text, len(taken)


def _quantities(source: SourceFile) -> list[tuple[str, object]] | None:
    """Return every number's value and every unit's identity in ``source``, in order; None if it does not parse.

    Words run together (``SYN007``) parse whole, each read as two: their fix is one of these edits.
    """
    sink = Sink()
    _module, tokens = parse_tokens(source, sink)
    if any(d.level is Severity.ERROR and d.code is not codes.WORDS_RUN_TOGETHER for d in sink.items):
        return None
    found: list[tuple[str, object]] = []
    for kind, text, _start, _end in tokens:
        if kind == "NUMBER":  # the grammar's numbers are decimals: `5.`, `.5`, `1.0`
            found.append((kind, Decimal(text)))
        elif kind in {"UNIT", "COUNT_UNIT"}:
            unit = find_unit(ERROR_PRONE_UNITS.get(text, text))  # as lowering reads it: `µg` is microgram
            found.append((kind, unit.term if unit is not None else unit_key(text)))
    return found
