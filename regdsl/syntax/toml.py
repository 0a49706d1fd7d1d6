"""Where things are written in a TOML configuration: regdsl's table, a key, a value, an error.

TOML is not regdsl's grammar: Python's ``tomllib`` reads a configuration, and says neither
where a key or a value is written nor, but in its message, where an error is. ``TomlText``
finds them in the text, so that each finding about a configuration points at what it is about.
"""

from __future__ import annotations

import re

from regdsl.source import SourceFile

__all__ = ["TomlText", "mentions_regdsl"]

_AT = re.compile(r"\(at line (\d+), column (\d+)\)|\(at end of document\)")
_TOOL_HEADER = re.compile(r"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*\"?regdsl\"?[ \t]*[\].]", re.MULTILINE)
# In a pyproject.toml that is not valid TOML: a line that looks like regdsl's (a header, a key).
_TOOL_MENTION = re.compile(r"^[ \t]*(?:\[[ \t]*)?(?:tool[ \t]*\.[ \t]*)?[\"']?regdsl[\"']?[ \t]*[\].=]", re.MULTILINE)


def mentions_regdsl(text: str) -> bool:
    """Whether a text that is not valid TOML has a line that looks like regdsl's table or a key of it."""
    return _TOOL_MENTION.search(text) is not None


class TomlText:
    """A configuration's text, and where its table, keys, values and errors are written (offsets)."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.text = source.text

    def tool_table(self) -> int:
        """Return where ``[tool.regdsl]`` starts in a ``pyproject.toml`` (the start of the file if not written)."""
        header = _TOOL_HEADER.search(self.text)
        return header.start() if header else 0

    def key(self, key: str, start: int, otherwise: int) -> tuple[int, int]:
        """Return where ``key = `` (bare or quoted) is written after ``start``; else the line at ``otherwise``."""
        pattern = re.compile(r"(?<![\w\"'-])([\"']?)" + re.escape(key) + r"\1[ \t]*=")
        match = pattern.search(self.text, start)
        if match is None:
            line_end = self.text.find("\n", otherwise)
            return otherwise, line_end if line_end >= 0 else len(self.text)
        return match.start(), match.start() + len(match.group(0).rstrip("= \t"))

    def value(self, value: str, after: int) -> tuple[int, int]:
        """Return where the quoted ``value`` is written after ``after``; one character there when it is not."""
        for quote in ('"', "'"):
            at = self.text.find(f"{quote}{value}{quote}", after)
            if at >= 0:
                return at, at + len(value) + 2
        return after, after + 1

    def error(self, message: str) -> tuple[int, str]:
        """Return where ``tomllib``'s ``message`` puts an error (else the end), and what the error is."""
        match = _AT.search(message)
        offset = len(self.text)
        if match and match.group(1):
            line, column = int(match.group(1)), int(match.group(2))
            starts = self.source.index.starts
            offset = min(starts[line - 1] + column - 1, len(self.text)) if line <= len(starts) else len(self.text)
        return offset, _AT.sub("", message).strip()

    def deepest(self) -> int:
        """Return where arrays and tables nest deepest (counting brackets, which is enough to point at it)."""
        depth = deepest = at = 0
        for offset, char in enumerate(self.text):
            if char in "[{":
                depth += 1
                if depth > deepest:
                    deepest, at = depth, offset
            elif char in "]}":
                depth -= 1
        return at
