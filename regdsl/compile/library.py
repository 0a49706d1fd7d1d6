"""Reading a library: finding files and their root, decoding them, checking them together."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from regdsl.compile.lower import LibraryDefs, lower_library, lower_regimen
from regdsl.diagnostics import Diagnostic, Label, Sink
from regdsl.diagnostics import codes as c
from regdsl.model import ir
from regdsl.model.medicines import DEFAULT_MEDICINES, MedicineTable
from regdsl.source import SourceFile
from regdsl.syntax.parser import parse

__all__ = ["LIBRARY_FILE", "MAX_BYTES", "CheckResult", "PathError", "check_paths", "find_root", "read_source"]

LIBRARY_FILE = "library.reg"
MAX_BYTES = 1 << 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REGIMEN_ID = re.compile(r"^regimen[ \t]+([A-Za-z0-9_-]+)", re.MULTILINE)


class PathError(Exception):
    """A path the user named cannot be used (missing, unreadable, no ``.reg`` inside)."""


@dataclass(slots=True)
class CheckResult:
    """Everything one check produced."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    regimens: list[ir.Regimen] = field(default_factory=list)
    files: int = 0


def find_root(path: Path) -> Path:
    """Return the library root of ``path``: the nearest folder with ``library.reg``, else its own."""
    folder = path if path.is_dir() else path.parent
    for candidate in (folder, *folder.parents):
        if (candidate / LIBRARY_FILE).is_file():
            return candidate
    return folder


def collect(paths: Sequence[Path]) -> list[Path]:
    """Expand folders to their ``*.reg`` files (recursively), in a stable order."""
    files: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.reg") if p.is_file())
            if not found:
                raise PathError(f"{path}: no .reg files in this folder")
            files.update(dict.fromkeys(found))
        elif path.is_file():
            files[path] = None
        elif path.exists():
            raise PathError(f"{path}: not a file or folder")
        else:
            raise PathError(f"{path}: no such file or folder")
    return list(files)


def read_source(path: Path, sink: Sink) -> tuple[SourceFile, bool]:
    """Read and decode a file; bad content becomes a located diagnostic, not an exception.

    Returns the source (for showing diagnostics) and whether it is fit to parse.
    """
    display = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            whole = SourceFile(display, "")
            sink.report(
                c.FILE_TOO_LARGE,
                whole.whole(),
                f"the file is {size:,} bytes; regimen files are limited to {MAX_BYTES:,} bytes",
                label="not read",
                help="check that this is a regimen file, or split it",
            )
            return whole, False
        data = path.read_bytes()
    except OSError as err:
        raise PathError(f"{path}: {err.strerror or err}") from err
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        prefix = data[: err.start].decode("utf-8")
        source = SourceFile(display, prefix + data[err.start :].decode("utf-8", errors="replace"))
        sink.report(
            c.NOT_UTF8,
            source.span(len(prefix), len(prefix) + 1),
            f"byte 0x{data[err.start]:02x} is not UTF-8 text",
            label="not UTF-8",
            help="save the file as UTF-8 text",
        )
        return source, False
    source = SourceFile(display, text)
    bad = _CONTROL.search(text)
    if bad:
        sink.report(
            c.BINARY_CONTENT,
            source.span(bad.start(), bad.start() + 1),
            f"the file holds a control character (U+{ord(bad.group()):04X})",
            label="control character",
            help="regimen files are plain text; is this the right file?",
        )
        return source, False
    if not text.strip():
        sink.report(
            c.EMPTY_FILE,
            source.whole(),
            "the file is empty",
            label="no regimen here",
            help="start the file with `regimen my-regimen-id`",
        )
        return source, False
    return source, True


def _regimen_ids(root: Path) -> frozenset[str]:
    ids: set[str] = set()
    for path in root.rglob("*.reg"):
        if path.name == LIBRARY_FILE:
            continue
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = handle.read(MAX_BYTES)
        except OSError:
            continue
        ids.update(_REGIMEN_ID.findall(head))
    return frozenset(ids)


def _load_library(root: Path, result: CheckResult, sink: Sink) -> LibraryDefs:
    base = MedicineTable(DEFAULT_MEDICINES)
    path = root / LIBRARY_FILE
    defs = LibraryDefs(medicines=base)
    if path.is_file():
        source, ok = read_source(path, sink)
        result.sources[source.path] = source
        if ok:
            defs = lower_library(parse(source, sink), base, sink)
    return LibraryDefs(
        medicines=defs.medicines, footnotes=defs.footnotes, blocks=defs.blocks, regimen_ids=_regimen_ids(root)
    )


def check_paths(paths: Iterable[Path]) -> CheckResult:
    """Parse and lower every ``.reg`` file under ``paths``; never raises on file content."""
    files = collect(list(paths))
    result = CheckResult()
    sink = Sink()
    libraries: dict[Path, LibraryDefs] = {}
    for path in files:
        root = find_root(path.resolve())
        if root not in libraries:
            libraries[root] = _load_library(root, result, sink)
        if path.name == LIBRARY_FILE:
            continue
        source, ok = read_source(path, sink)
        result.sources[source.path] = source
        if not ok:
            continue
        before = len(sink.items)
        module = parse(source, sink)
        regimen = lower_regimen(module, libraries[root], sink, partial=len(sink.items) > before)
        if regimen is not None:
            result.regimens.append(regimen)
    _duplicate_ids(result.regimens, sink)
    result.files = len(files)
    result.diagnostics = sink.sorted()
    return result


def _duplicate_ids(regimens: Sequence[ir.Regimen], sink: Sink) -> None:
    first: dict[str, ir.Regimen] = {}
    for regimen in regimens:
        if regimen.id in first:
            sink.report(
                c.DUPLICATE_REGIMEN,
                regimen.span,
                f"regimen id `{regimen.id}` is already used",
                label="second use",
                secondary=(Label(first[regimen.id].span, "first used here"),),
                help="give each regimen its own id",
            )
        else:
            first[regimen.id] = regimen
