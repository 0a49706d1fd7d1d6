"""A JSON reader that keeps where each value is written, for findings at a JSON element.

``read_json`` parses RFC 8259 JSON into ``Node``s: each holds its value (objects as dicts of
nodes, arrays as lists of nodes, numbers exactly: ``int`` or ``Decimal``), its path in
FHIRPath-like form (``contained[2].contained[0]``) and the code-point offsets where it is
written. The work is bounded: one pass over the text, nesting at most ``MAX_DEPTH`` levels
(the reader recurses once per level, so a deeper file is refused before it can exhaust the
stack). A malformed text raises ``JsonError`` with the offset of the fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["MAX_DEPTH", "JsonError", "Node", "read_json"]

MAX_DEPTH = 64  # FHIR resources nest about 12 levels; the .reg front end refuses conditions past 64 too

Value = dict[str, "Node"] | list["Node"] | str | int | Decimal | bool | None


class JsonError(ValueError):
    """Text that is not JSON, or JSON nested too deeply: ``offset`` is where, ``deep`` tells which."""

    def __init__(self, message: str, offset: int, *, deep: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.deep = deep


@dataclass(frozen=True, slots=True)
class Node:
    """A JSON value, its path and its offsets (an object member: from its key to the end of its value)."""

    value: Value
    path: str
    start: int
    end: int

    def child(self, key: str) -> Node | None:
        """Return the member ``key`` of an object, else None."""
        return self.value.get(key) if isinstance(self.value, dict) else None

    def items(self) -> list[Node]:
        """Return the elements of an array ([] for anything else)."""
        return self.value if isinstance(self.value, list) else []

    def elements(self, key: str) -> list[Node]:
        """Return the elements of the array member ``key`` ([] when there is none)."""
        node = self.child(key)
        return node.items() if node is not None else []

    def text(self, key: str) -> str | None:
        """Return the string member ``key``, else None."""
        node = self.child(key)
        return node.value if node is not None and isinstance(node.value, str) else None


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]*')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = {"true": True, "false": False, "null": None}


def read_json(text: str) -> Node:
    """Parse ``text``; raises ``JsonError`` for malformed or too deeply nested JSON."""
    reader = _Reader(text)
    node = reader.value("", 0)
    reader.skip()
    if reader.at < len(text):
        raise JsonError("unexpected text after the JSON value", reader.at)
    return node


class _Reader:
    __slots__ = ("at", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def skip(self) -> None:
        match = _WS.match(self.text, self.at)
        assert match is not None  # the pattern matches the empty string
        self.at = match.end()

    def value(self, path: str, depth: int) -> Node:
        self.skip()
        start = self.at
        char = self.text[start : start + 1]
        if char in {"{", "["}:
            if depth >= MAX_DEPTH:
                raise JsonError(f"the JSON is nested more than {MAX_DEPTH} levels deep", start, deep=True)
            value: Value = self.members(path, depth) if char == "{" else self.elements(path, depth)
        elif char == '"':
            value = self.string()
        elif number := _NUMBER.match(self.text, start):
            self.at = number.end()
            value = Decimal(number[0]) if number[1] or number[2] else int(number[0])
        else:
            for word, literal in _LITERALS.items():
                if self.text.startswith(word, start):
                    self.at = start + len(word)
                    return Node(literal, path, start, self.at)
            found = f"{char!r}" if char else "the end of the file"
            raise JsonError(f"expected a JSON value, found {found}", start)
        return Node(value, path, start, self.at)

    def expect(self, char: str, what: str) -> None:
        self.skip()
        if not self.text.startswith(char, self.at):
            found = repr(self.text[self.at]) if self.at < len(self.text) else "the end of the file"
            raise JsonError(f"expected {what}, found {found}", self.at)
        self.at += 1

    def members(self, path: str, depth: int) -> dict[str, Node]:
        self.at += 1
        found: dict[str, Node] = {}
        self.skip()
        if self.text.startswith("}", self.at):
            self.at += 1
            return found
        while True:
            self.skip()
            key_at = self.at
            if not self.text.startswith('"', key_at):
                raise JsonError("expected a member name in double quotes", key_at)
            key = self.string()
            if key in found:
                raise JsonError(f"the member {key!r} is given twice", key_at)
            self.expect(":", "':' after a member name")
            inner = self.value(f"{path}.{key}" if path else key, depth + 1)
            found[key] = Node(inner.value, inner.path, key_at, inner.end)
            self.expect("}" if self.closing("}") else ",", "',' or '}'")
            if self.text[self.at - 1] == "}":
                return found

    def elements(self, path: str, depth: int) -> list[Node]:
        self.at += 1
        found: list[Node] = []
        self.skip()
        if self.text.startswith("]", self.at):
            self.at += 1
            return found
        while True:
            found.append(self.value(f"{path}[{len(found)}]", depth + 1))
            self.expect("]" if self.closing("]") else ",", "',' or ']'")
            if self.text[self.at - 1] == "]":
                return found

    def closing(self, char: str) -> bool:
        self.skip()
        return self.text.startswith(char, self.at)

    def string(self) -> str:
        start = self.at
        self.at += 1
        parts: list[str] = []
        while True:
            run = _STRING_RUN.match(self.text, self.at)
            assert run is not None
            parts.append(run[0])
            self.at = run.end()
            char = self.text[self.at : self.at + 1]
            if char == '"':
                self.at += 1
                return "".join(parts)
            if char != "\\":
                where = "the end of the file" if not char else "a control character"
                raise JsonError(f"the string that starts here is not closed before {where}", start)
            parts.append(self.escape())

    def escape(self) -> str:
        at = self.at
        code = self.text[at + 1 : at + 2]
        if code in _ESCAPES:
            self.at += 2
            return _ESCAPES[code]
        if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", self.text[at + 2 : at + 6]):
            self.at += 6
            unit = int(self.text[at + 2 : at + 6], 16)
            low = self.text[self.at : self.at + 6]
            if 0xD800 <= unit < 0xDC00 and re.fullmatch(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", low):
                self.at += 6
                return chr(0x10000 + ((unit - 0xD800) << 10) + (int(low[2:], 16) - 0xDC00))
            if 0xD800 <= unit < 0xE000:
                raise JsonError("a lone surrogate escape is not a character", at)
            return chr(unit)
        raise JsonError("not a JSON escape", at)
