"""Oniguruma, the regular-expression library VS Code's TextMate engine uses, through ctypes.

VS Code compiles a grammar's patterns with ``ONIG_OPTION_CAPTURE_GROUP``, UTF-8 and the default
syntax, and searches from a position to the end of the line; ``search`` does the same here, so
that a test can compare what Oniguruma and Python's ``re`` match. ``library()`` is None when the
system has no Oniguruma (``libonig``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

ONIG_OPTION_NONE = 0
ONIG_OPTION_CAPTURE_GROUP = 256
ONIG_NORMAL = 0
ONIG_MISMATCH = -1


class _Region(ctypes.Structure):
    _fields_ = [
        ("allocated", ctypes.c_int),
        ("num_regs", ctypes.c_int),
        ("beg", ctypes.POINTER(ctypes.c_int)),
        ("end", ctypes.POINTER(ctypes.c_int)),
        ("history_root", ctypes.c_void_p),
    ]


@functools.cache
def library() -> ctypes.CDLL | None:
    """Return Oniguruma, initialised for UTF-8, or None when it is not installed."""
    name = ctypes.util.find_library("onig") or "libonig.so.5"
    try:
        onig = ctypes.CDLL(name)
    except OSError:
        return None
    onig.onig_new.restype = ctypes.c_int
    onig.onig_new.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_void_p]
    onig.onig_new.argtypes += [ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    onig.onig_search.restype = ctypes.c_int
    onig.onig_search.argtypes = [ctypes.c_void_p, *[ctypes.c_void_p] * 4, ctypes.POINTER(_Region), ctypes.c_uint]
    onig.onig_region_new.restype = ctypes.POINTER(_Region)
    onig.onig_region_free.argtypes = [ctypes.POINTER(_Region), ctypes.c_int]
    onig.onig_free.argtypes = [ctypes.c_void_p]
    encodings = (ctypes.c_void_p * 1)(_address(onig, "OnigEncodingUTF8"))
    onig.onig_initialize(encodings, 1)
    return onig


def _address(onig: ctypes.CDLL, symbol: str) -> int:
    return ctypes.addressof(ctypes.c_char.in_dll(onig, symbol))


class Regex:
    """One pattern compiled by Oniguruma as VS Code compiles it."""

    def __init__(self, pattern: str) -> None:
        onig = library()
        assert onig is not None
        self._onig = onig
        self.handle = ctypes.c_void_p()
        source = pattern.encode("utf-8")
        self._source = ctypes.create_string_buffer(source, len(source) + 1)  # kept while the regex lives
        begin = ctypes.addressof(self._source)
        syntax = ctypes.c_void_p.in_dll(onig, "OnigDefaultSyntax").value
        error = (ctypes.c_void_p * 3)()
        code = onig.onig_new(
            ctypes.byref(self.handle),
            begin,
            begin + len(source),
            ONIG_OPTION_CAPTURE_GROUP,
            _address(onig, "OnigEncodingUTF8"),
            syntax,
            error,
        )
        if code != ONIG_NORMAL:
            raise ValueError(f"Oniguruma refuses {pattern!r} (error {code})")

    def search(self, text: str, pos: int) -> list[tuple[int, int]] | None:
        """Return the spans (in characters) of the match from ``pos`` and its groups, or None."""
        data = text.encode("utf-8")
        buffer = ctypes.create_string_buffer(data, len(data))
        base = ctypes.addressof(buffer)
        start = len(text[:pos].encode("utf-8"))
        region = self._onig.onig_region_new()
        try:
            found = self._onig.onig_search(
                self.handle, base, base + len(data), base + start, base + len(data), region, ONIG_OPTION_NONE
            )
            if found == ONIG_MISMATCH:
                return None
            if found < 0:
                raise ValueError(f"Oniguruma failed to search (error {found})")
            chars = _characters(data)
            regs = region.contents
            return [
                (chars[regs.beg[i]], chars[regs.end[i]]) if regs.beg[i] >= 0 else (-1, -1) for i in range(regs.num_regs)
            ]
        finally:
            self._onig.onig_region_free(region, 1)

    def __del__(self) -> None:
        if self.handle.value:
            self._onig.onig_free(self.handle)


def _characters(data: bytes) -> dict[int, int]:
    """Map each byte offset that starts a character (and the end) to its character offset."""
    out: dict[int, int] = {}
    count = 0
    for offset, byte in enumerate(data):
        if byte & 0xC0 != 0x80:
            out[offset] = count
            count += 1
    out[len(data)] = count
    return out
