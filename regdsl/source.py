"""Source files, positions and spans: the leaf layer every other layer uses."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LineIndex", "SourceFile", "Span"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A half-open range ``[start, end)`` of code points in one source file.

    Lines and columns are 1-based and count code points, as an editor shows them; they
    are worked out from the file's line index when asked for, not for every node.
    """

    path: str
    start: int
    end: int
    index: LineIndex = field(compare=False, repr=False)

    @property
    def line(self) -> int:
        """The 1-based line of the start."""
        return self.index.position(self.start)[0]

    @property
    def column(self) -> int:
        """The 1-based column of the start."""
        return self.index.position(self.start)[1]

    @property
    def end_line(self) -> int:
        """The 1-based line of the end."""
        return self.index.position(self.end)[0]

    @property
    def end_column(self) -> int:
        """The 1-based column of the end."""
        return self.index.position(self.end)[1]

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
        starts = [0]
        pos = text.find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        return cls(tuple(starts))

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
        return Span(path=self.path, start=start, end=end, index=self.index)

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
