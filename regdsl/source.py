"""Source files, positions and spans, and the characters text may hold: the leaf layer every other layer uses."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Literal

__all__ = ["Hidden", "LineIndex", "SourceFile", "Span", "describe_hidden", "find_hidden", "hidden_kind", "visible"]

# Characters that no source holds and no output shows raw: controls (Unicode category Cc: C0,
# DEL, C1), format characters (Cf: bidirectional controls, zero-width characters, the soft
# hyphen, tags...), the line and paragraph separators (Zl, Zp), surrogates (Cs), the
# noncharacters (U+FDD0-U+FDEF and the last two code points of every plane: U+FFFE, U+FFFF,
# U+1FFFE...) and every other default-ignorable code point (Unicode's
# Default_Ignorable_Code_Point: the Hangul fillers, the combining grapheme joiner, Khmer's two
# inherent vowels, the variation selectors, and the code points kept for format characters to
# come), as of Unicode 15.1 (tests/test_escaping.py checks the class against the running
# Python's Unicode data). Each can make text display other than it reads: a terminal obeys an
# escape sequence, a CI runner obeys a line of its own, "12" displays as "21", a medicine name
# holds a character no one sees and no table matches.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # and the tab, line feed and carriage return
_FORMATS = (
    "\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)  # and the joiners
_IGNORABLES = (  # the default-ignorable code points that are neither format characters nor selectors
    "\u034f\u115f\u1160\u17b4\u17b5\u2065\u3164\uffa0\ufff0-\ufff8"
    "\U000e0000\U000e0002-\U000e001f\U000e0080-\U000e00ff\U000e01f0-\U000e0fff"
)
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane | 0xFFFE)}{chr(plane | 0xFFFF)}" for plane in range(0, 0x110000, 1 << 16)
)
_JOINERS = "\u200c\u200d"
_SELECTORS = "\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef"  # variation selectors
_SURROGATES = "\ud800-\udfff"
_ALWAYS = f"{_CONTROLS}{_FORMATS}{_IGNORABLES}{_NONCHARACTERS}{_SURROGATES}"
_HIDDEN = re.compile(f"[\t\n\r{_ALWAYS}{_JOINERS}{_SELECTORS}]")
_SELECTOR = re.compile(f"[{_SELECTORS}]")
# The joiners (ZWNJ, ZWJ) are what Indic, Arabic and Persian script and emoji sequences need
# between two of their characters; beside an ASCII character, or at an end, they only hide.
_LONE_JOINER = f"(?<![^\x00-\x7f])[{_JOINERS}]|[{_JOINERS}](?![^\x00-\x7f])"
# A source may hold tabs and line breaks (a carriage return only before a line feed); text
# decoded from escapes may hold tabs and line feeds (`\t`, `\n`), never a carriage return.
# A variation selector is refused unless it follows a character it can vary (``_varies``).
_REFUSED = {
    "source": re.compile(f"[{_ALWAYS}{_SELECTORS}]|\r(?!\n)|{_LONE_JOINER}"),
    "text": re.compile(f"[\r{_ALWAYS}{_SELECTORS}]|{_LONE_JOINER}"),
}

Hidden = Literal["control", "bidi", "invisible", "surrogate"]
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def hidden_kind(char: str) -> Hidden | None:
    """Return what kind of hidden character ``char`` is, if it is one.

    A control, a bidirectional control, another invisible character, or a surrogate.
    """
    if not _HIDDEN.fullmatch(char):
        return None
    if "\ud800" <= char <= "\udfff":
        return "surrogate"
    if char <= "\x9f":
        return "control"
    return "bidi" if char in _BIDI else "invisible"


def describe_hidden(char: str) -> str:
    """Name a hidden character for a message, such as ``a bidirectional control (U+202E RIGHT-TO-LEFT OVERRIDE)``."""
    kind = hidden_kind(char)
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}{' ' + name if name else ''}"
    if kind == "surrogate":
        return f"half of a surrogate pair ({code})"
    if kind == "control":
        return f"a control character ({code})"
    if kind == "bidi":
        return f"a bidirectional control ({code})"
    if char in _JOINERS:
        return f"a zero-width joiner beside ASCII text ({code})"
    if _SELECTOR.fullmatch(char):
        return f"a variation selector after no character it can vary ({code})"
    if "\ufdd0" <= char <= "\ufdef" or ord(char) & 0xFFFE == 0xFFFE:
        return f"a noncharacter ({code})"
    return f"an invisible character ({code})"


# Every character ``_REFUSED`` may refuse: the controls, the carriage return and every character
# beyond ASCII. Far quicker to look for than the refused ones themselves, and rare in a regimen.
_CANDIDATES = re.compile("[^\t\n -~]")


def find_hidden(text: str, *, source: bool) -> Iterator[re.Match[str]]:
    """Yield each character that ``text`` may not hold, in order.

    ``source`` is the text of a file as read (tabs, line breaks and CRLF allowed); otherwise
    ``text`` was decoded from a quoted string's escapes (tabs and line feeds allowed). A
    variation selector is allowed only where it follows a character it can vary (see ``_varies``).
    """
    refused = _REFUSED["source" if source else "text"]
    for candidate in _CANDIDATES.finditer(text):
        found = refused.match(text, candidate.start())
        if found is None:
            continue
        start = found.start()
        if not (start and _SELECTOR.fullmatch(found.group()) and _varies(text[start - 1])):
            yield found


def _varies(char: str) -> bool:
    """Whether a variation selector may follow ``char``: an emoji, an ideograph, a Mongolian letter...

    Unicode's variation sequences start with a character that is no mark and has no canonical
    decomposition; an ASCII character is refused as well (a keycap or a slashed zero has no
    place in a regimen, and `vincristine` followed by a selector would name no medicine), and
    so is another hidden character (a second selector, a joiner).
    """
    return (
        char > "\x7f"
        and unicodedata.category(char)[0] in "LNPS"
        and not _HIDDEN.fullmatch(char)
        and unicodedata.is_normalized("NFD", char)
    )


_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by Python's surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    r"""Return ``text`` on one line with every hidden character written as an escape.

    Tabs and line breaks become ``\t``, ``\n`` and ``\r``; other controls, invisible characters
    and surrogates ``\u202e`` (``\U000e0001`` beyond U+FFFF); a byte of a file name that was not
    UTF-8 (which Python keeps as a surrogate) ``\xff``. Used for everything that reaches a
    terminal, a CI log or a file name.
    """
    return _HIDDEN.sub(_escape, text) if _HIDDEN.search(text) else text


class Span(tuple[str, int, int, "LineIndex"]):
    """A half-open range ``[start, end)`` of code points in one source file.

    Lines and columns are 1-based and count code points, as an editor shows them; they
    are worked out from the file's line index when asked for, not for every node. A span
    is a tuple (the path, the offsets and the index), the cheapest object Python makes, as
    the syntax tree holds one for every word; two spans are equal when their path and
    offsets are.
    """

    __slots__ = ()

    def __new__(cls, path: str, start: int, end: int, index: LineIndex) -> Span:
        """Make the span ``[start, end)`` of the file at ``path`` whose lines ``index`` holds."""
        return tuple.__new__(cls, (path, start, end, index))

    def __getnewargs__(self) -> tuple[str, int, int, LineIndex]:
        return self[0], self[1], self[2], self[3]

    @property
    def path(self) -> str:
        """The display path of the file."""
        return self[0]

    @property
    def start(self) -> int:
        """The offset of the first code point."""
        return self[1]

    @property
    def end(self) -> int:
        """The offset just past the last code point."""
        return self[2]

    @property
    def index(self) -> LineIndex:  # type: ignore[override]  # a span is no sequence to search
        """The file's line index."""
        return self[3]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return self[1] == other[1] and self[2] == other[2] and self[0] == other[0]

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((self[0], self[1], self[2]))

    def __repr__(self) -> str:
        return f"Span(path={self[0]!r}, start={self[1]}, end={self[2]})"

    @property
    def line(self) -> int:
        """The 1-based line of the start."""
        return self[3].position(self[1])[0]

    @property
    def column(self) -> int:
        """The 1-based column of the start."""
        return self[3].position(self[1])[1]

    @property
    def end_line(self) -> int:
        """The 1-based line of the end."""
        return self[3].position(self[2])[0]

    @property
    def end_column(self) -> int:
        """The 1-based column of the end."""
        return self[3].position(self[2])[1]

    def at_start(self) -> Span:
        """Return the empty span at the start of this one, for "expected something here"."""
        return tuple.__new__(Span, (self[0], self[1], self[1], self[3]))

    def at_end(self) -> Span:
        """Return the empty span at the end of this one."""
        return tuple.__new__(Span, (self[0], self[2], self[2], self[3]))

    def part(self, start: int, end: int) -> Span:
        """Return the span of the offsets ``[start, end)`` of the same file."""
        return tuple.__new__(Span, (self[0], start, end, self[3]))

    def to_dict(self) -> dict[str, object]:
        """Return the span as plain JSON data."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


@dataclass(frozen=True, slots=True)
class LineIndex:
    """Maps code-point offsets to (line, column) pairs by binary search."""

    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> LineIndex:
        """Index the line starts of ``text``."""
        # Each line starts one past the end of the line before it (counted without a Python loop).
        return cls(tuple(accumulate(map((1).__add__, map(len, text.split("\n")[:-1])), initial=0)))

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based line and column of ``offset``."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


@dataclass(frozen=True, slots=True)
class SourceFile:
    """The decoded text of one source, with its display path."""

    path: str
    text: str
    index: LineIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", LineIndex.of(self.text))

    @classmethod
    def from_text(cls, text: str, path: str | Path = "<input>") -> SourceFile:
        """Build a source from text already decoded."""
        return cls(str(path), text)

    def span(self, start: int, end: int) -> Span:
        """Return the span of offsets ``[start, end)``, clamped to the text."""
        size = len(self.text)
        start = max(0, min(start, size))
        end = max(start, min(end, size))
        return Span(self.path, start, end, self.index)

    def line_text(self, line: int) -> str:
        """Return line ``line`` (1-based) without its line break."""
        starts = self.index.starts
        if not 1 <= line <= len(starts):
            return ""
        begin = starts[line - 1]
        stop = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[begin:stop].rstrip("\r")

    def whole(self) -> Span:
        """Return a span covering the first character (or the empty file)."""
        return self.span(0, min(1, len(self.text)))
