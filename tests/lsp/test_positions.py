"""Positions in the client's code units: UTF-16 by default, UTF-8 or UTF-32 when negotiated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from regdsl.lsp.positions import offset_at, position_at, units_of
from regdsl.source import SourceFile

# An astral character (two UTF-16 units, four UTF-8 bytes), a combining mark (its own code
# point: one UTF-16 unit, two UTF-8 bytes) and a word after them.
LINE = "  | 😀 e\u0301 word"
TEXT = f"regimen x\n{LINE}\r\nlast"


@pytest.mark.parametrize(
    ("encoding", "character"),
    [
        (types.PositionEncodingKind.Utf16, len("  | ") + 2 + len(" e\u0301 ")),
        (types.PositionEncodingKind.Utf8, len("  | ") + 4 + len(b" e") + 2 + 1),
        (types.PositionEncodingKind.Utf32, len("  | 😀 e\u0301 ")),
        (None, len("  | ") + 2 + len(" e\u0301 ")),
    ],
)
def test_a_position_after_an_astral_character_and_a_combining_mark(encoding: str | None, character: int) -> None:
    source = SourceFile("x.reg", TEXT)
    units = units_of(encoding)
    offset = TEXT.index("word")
    assert position_at(source, offset, units) == types.Position(line=1, character=character)
    assert offset_at(source, types.Position(line=1, character=character), units) == offset


def test_a_position_inside_a_surrogate_pair_is_the_character() -> None:
    source = SourceFile("x.reg", TEXT)
    units = units_of(types.PositionEncodingKind.Utf16)
    emoji = TEXT.index("😀")
    assert offset_at(source, types.Position(line=1, character=len("  | ") + 1), units) == emoji


def test_positions_beyond_the_text_are_clamped() -> None:
    source = SourceFile("x.reg", TEXT)
    units = units_of(None)
    assert offset_at(source, types.Position(line=1, character=999), units) == TEXT.index("\r\nlast")
    assert offset_at(source, types.Position(line=9, character=0), units) == len(TEXT)
    assert position_at(source, len(TEXT) + 5, units) == types.Position(line=2, character=4)


@given(st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=40), st.integers(0, 60))
def test_offsets_and_positions_round_trip(text: str, wanted: int) -> None:
    source = SourceFile("x.reg", text)
    for encoding in (types.PositionEncodingKind.Utf16, types.PositionEncodingKind.Utf8, None):
        units = units_of(encoding)
        offset = min(wanted, len(text))
        assert offset_at(source, position_at(source, offset, units), units) == offset
