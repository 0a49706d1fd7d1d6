"""Reading a library: finding files and their root, decoding them, checking them together.

Only regular files are read: a FIFO, a device or a socket named ``*.reg`` is never opened
(files are opened without blocking, and checked again once open), and links to folders
are not followed (no loop, nothing outside the folder). A folder or file that cannot be
read is a ``PathError`` naming it: nothing under it vanishes silently from a check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gc
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from regdsl.compile.lower import LibraryDefs, lower_library, lower_regimen
from regdsl.diagnostics import Diagnostic, Label, Sink
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir
from regdsl.model.medicines import DEFAULT_MEDICINES, MedicineTable
from regdsl.source import SourceFile
from regdsl.syntax.characters import refuse_hidden
from regdsl.syntax.parser import parse, parse_heading

__all__ = [
    "LIBRARY_FILE",
    "MAX_BYTES",
    "CheckResult",
    "FileUnit",
    "HeadingMemo",
    "Library",
    "PathError",
    "RegimenInfo",
    "check_paths",
    "collect",
    "decode_utf8",
    "duplicate_ids",
    "find_root",
    "load_library",
    "lower_file",
    "rare_collections",
    "read_regular",
    "read_source",
    "refused_owner",
    "regimen_files",
    "scan_regimens",
    "source_of",
]

LIBRARY_FILE = "library.reg"
MAX_BYTES = 1 << 20
# What stat says of a link that leads nowhere (missing, or a loop): no file there, not an error.
_DANGLING = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})


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
    """Return the library root of ``path``: the nearest folder with ``library.reg``, else its own.

    Anything named ``library.reg`` counts (a FIFO, a folder, a dangling link): reading it then
    fails, naming it, rather than the library silently losing its definitions.
    """
    folder = path if path.is_dir() else path.parent
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / LIBRARY_FILE):
            return candidate
    return folder


def refused_owner(path: Path) -> str | None:
    """Return why the file at ``path`` (``library.reg``, a configuration) is not to be used, or None.

    Refused: a file anyone may write, and a file of another user (not root) in a folder
    anyone may write, such as the shared temporary folder, where anyone can plant one.
    """
    try:
        info = os.stat(path)
        folder = os.stat(path.parent)
    except OSError as err:
        raise _unreadable(path, err) from err
    if info.st_mode & stat.S_IWOTH:
        return f"this {path.name} is writable by every user"
    getuid = getattr(os, "geteuid", None)
    if getuid is None:  # no owners to compare (Windows)
        return None
    if info.st_uid not in {getuid(), 0} and folder.st_mode & stat.S_IWOTH:
        return f"this {path.name} belongs to another user, in a folder every user may write"
    return None


def _unreadable(path: object, err: OSError) -> PathError:
    return PathError(f"{path}: cannot be read ({err.strerror or err})")


def regimen_files(folder: Path, *, below: bool = True) -> list[tuple[Path, os.stat_result]]:
    """Return every regular ``*.reg`` file in ``folder`` (and, with ``below``, under it), sorted by path.

    Links to folders are not followed; a link to a file is. Raises ``PathError`` for a
    folder or file that cannot be read.
    """
    found: list[tuple[Path, os.stat_result]] = []
    pending = [os.fspath(folder)]
    while pending:  # a stack, not recursion: any depth of folders
        top = pending.pop()
        try:
            with os.scandir(top) as listing:
                entries = list(listing)
        except OSError as err:
            raise _unreadable(top, err) from err
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if below:
                        pending.append(entry.path)
                    continue
                if not entry.name.endswith(".reg"):
                    continue
                info = os.stat(entry.path)
            except OSError as err:
                if err.errno in _DANGLING:
                    continue
                raise _unreadable(entry.path, err) from err
            if stat.S_ISREG(info.st_mode):
                found.append((Path(entry.path), info))
    found.sort(key=lambda item: item[0])
    return found


def collect(paths: Sequence[Path]) -> list[Path]:
    """Expand folders to their regular ``*.reg`` files (see ``regimen_files``), in a stable order.

    A file named twice (``lib lib/x.reg``, ``lib/../lib/x.reg``, a link to it) is kept once, as first named.
    """
    files: dict[tuple[int, int], Path] = {}
    for path in paths:
        try:
            info = path.stat()
        except OSError as err:
            if err.errno in _DANGLING:
                raise PathError(f"{path}: no such file or folder") from err
            raise _unreadable(path, err) from err
        if stat.S_ISDIR(info.st_mode):
            found = regimen_files(path)
            if not found:
                raise PathError(f"{path}: no .reg files in this folder")
            for file, file_info in found:
                files.setdefault((file_info.st_dev, file_info.st_ino), file)
        elif stat.S_ISREG(info.st_mode):
            files.setdefault((info.st_dev, info.st_ino), path)
        else:
            raise PathError(f"{path}: not a file or folder")
    return list(files.values())


def read_regular(path: Path, limit: int) -> tuple[bytes, int]:
    """Return the first ``limit + 1`` bytes of the regular file ``path`` and its size.

    A FIFO, device or socket is never opened (nor waited on, should one take the file's
    place). Raises ``PathError`` naming a path that is not a regular file or cannot be read.
    """
    try:
        if stat.S_ISREG(os.stat(path).st_mode):
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
            with os.fdopen(descriptor, "rb") as handle:
                info = os.fstat(descriptor)
                if stat.S_ISREG(info.st_mode):
                    data = handle.read(limit + 1)
                    return data, max(info.st_size, len(data))
    except OSError as err:
        raise _unreadable(path, err) from err
    raise PathError(f"{path}: not a regular file")


def decode_utf8(data: bytes) -> tuple[str, tuple[int, int] | None]:
    """Decode UTF-8 text; where it is not, also the offset (in the text) and value of the first bad byte.

    Bytes that are not UTF-8 become U+FFFD in the text, so it can still be shown.
    """
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        prefix = data[: err.start].decode("utf-8")
        return prefix + data[err.start :].decode("utf-8", errors="replace"), (len(prefix), data[err.start])


def read_source(path: Path, sink: Sink, read: tuple[bytes, int] | None = None) -> tuple[SourceFile, bool]:
    """Read and decode a file; bad content becomes a located diagnostic, not an exception.

    Returns the source (for showing diagnostics) and whether it is fit to parse. ``read`` is
    what ``read_regular(path, MAX_BYTES)`` returned, when the caller has read the file already.
    """
    data, size = read if read is not None else read_regular(path, MAX_BYTES)
    text, invalid = _decoded(data, size)
    source = SourceFile(str(path), text)
    if size > MAX_BYTES:
        sink.report(
            c.FILE_TOO_LARGE,
            source.whole(),
            f"the file is {size:,} bytes; regimen files are limited to {MAX_BYTES:,} bytes",
            label="not read",
            help="check that this is a regimen file, or split it",
        )
        return source, False
    if invalid is not None:
        offset, byte = invalid
        sink.report(
            c.NOT_UTF8,
            source.span(offset, offset + 1),
            f"byte 0x{byte:02x} is not UTF-8 text",
            label="not UTF-8",
            help="save the file as UTF-8 text",
        )
        return source, False
    if not refuse_hidden(source, sink):
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


def source_of(path: Path, read: tuple[bytes, int]) -> SourceFile:
    """Return the source ``read_source`` makes of what ``read_regular`` read, without judging its text.

    For a file whose findings were kept (the results cache): they say what ``read_source`` found.
    """
    return SourceFile(str(path), _decoded(*read)[0])


def _decoded(data: bytes, size: int) -> tuple[str, tuple[int, int] | None]:
    """Return a file's text (none beyond the size limit) and where it is first not UTF-8, if it is not."""
    if size > MAX_BYTES:
        return "", None
    return decode_utf8(data.removeprefix(b"\xef\xbb\xbf"))


@dataclass(frozen=True, slots=True)
class RegimenInfo:
    """What a regimen's siblings know of it without checking it: id, status, path and name."""

    id: str
    status: str | None
    superseded_by: str | None
    path: str
    name: str | None = None


class HeadingMemo(Protocol):
    """Where the last scan of a library's headings may be kept: each file's heading, by its path's and bytes' digest."""

    def load_headings(self, key: str) -> dict[str, RegimenInfo | None] | None:
        """Return what the last scan kept under ``key`` found, by file digest (None: no regimen); None if nothing."""

    def save_headings(self, key: str, found: Mapping[str, RegimenInfo | None]) -> None:
        """Keep what the scan found under ``key``, by file digest."""


def scan_regimens(
    root: Path,
    *,
    below: bool = True,
    memo: HeadingMemo | None = None,
    reads: dict[Path, tuple[bytes, int]] | None = None,
) -> dict[str, RegimenInfo]:
    """Read the id, status and name of every regimen in ``root`` (and under it, with ``below``) from its heading.

    Each file's heading is parsed by the grammar, and nothing after it (``parse_heading``),
    unless ``memo`` kept what the last scan of the library found for the same path and bytes:
    so when one file changed, only its heading is parsed again. ``reads`` is given what
    ``read_regular`` read of each file, by path. Raises ``PathError`` for a folder or file
    under ``root`` that cannot be read.
    """
    files = []
    for path, _info in regimen_files(root, below=below):
        if path.name != LIBRARY_FILE:
            read = read_regular(path, MAX_BYTES)
            if reads is not None:
                reads[path] = read
            data = read[0][:MAX_BYTES].removeprefix(b"\xef\xbb\xbf")
            digest = hashlib.sha256(os.fsencode(path) + b"\0" + hashlib.sha256(data).digest()).hexdigest()
            files.append((path, data, digest))
    key = f"{root}\0{below}"
    kept = (memo.load_headings(key) if memo is not None else None) or {}
    found = {digest: kept[digest] if digest in kept else _heading(path, data) for path, data, digest in files}
    if memo is not None and found != kept:
        memo.save_headings(key, found)
    infos: dict[str, RegimenInfo] = {}
    for _path, _data, digest in files:
        info = found[digest]
        if info is not None:
            infos.setdefault(info.id, info)
    return infos


def _heading(path: Path, data: bytes) -> RegimenInfo | None:
    """Return what a regimen file's heading says of it (None when it has none)."""
    header = parse_heading(SourceFile(str(path), data.decode("utf-8", errors="replace")))
    if header is None:
        return None
    status = next((f for f in header.meta if isinstance(f, ast.StatusField)), None)
    name = next((f.value.value for f in header.meta if isinstance(f, ast.TextField) and f.key.text == "name"), None)
    return RegimenInfo(
        id=header.id.text,
        status=status.status.text if status else None,
        superseded_by=status.by.text if status and status.by else None,
        path=str(path),
        name=name,
    )


@dataclass(frozen=True, slots=True)
class Library:
    """A library root: its shared definitions, its regimens' ids and statuses, and library.reg's findings."""

    root: Path
    defs: LibraryDefs
    infos: dict[str, RegimenInfo]
    source: SourceFile | None
    diagnostics: tuple[Diagnostic, ...]


def load_library(
    root: Path, memo: HeadingMemo | None = None, reads: dict[Path, tuple[bytes, int]] | None = None
) -> Library:
    """Read ``library.reg`` (if any) and scan the regimen ids of the library at ``root``.

    A library is the folder that holds ``library.reg`` and every folder below it. A folder
    without one is a library of its own ``.reg`` files only: a file checked in a folder of
    unrelated files (a download folder, the shared temporary folder) never makes regdsl
    read every file below it. ``memo`` and ``reads`` are the scan's (``scan_regimens``).

    Raises ``PathError`` for a ``library.reg`` that another user could have written (see
    ``refused_owner``): it would supply the medicines and blocks of every regimen below it;
    and for one that is not a regular file.
    """
    sink = Sink()
    base = MedicineTable(DEFAULT_MEDICINES)
    path = root / LIBRARY_FILE
    defs = LibraryDefs(medicines=base)
    source = None
    present = os.path.lexists(path)
    if present:
        refusal = refused_owner(path)
        if refusal is not None:
            raise PathError(f"{path}: {refusal}; move it, or make it yours and writable only by you")
        # Shown as the user would name it: relative to the current folder when it lies below it.
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        source, ok = read_source(shown, sink)
        if ok:
            defs = lower_library(parse(source, sink), base, sink)
    infos = scan_regimens(root, below=present, memo=memo, reads=reads)
    defs = dataclasses.replace(defs, regimen_ids=frozenset(infos))
    return Library(root=root, defs=defs, infos=infos, source=source, diagnostics=tuple(sink.items))


@dataclass(slots=True)
class FileUnit:
    """One regimen file after reading, parsing and lowering."""

    source: SourceFile
    module: ast.Module | None
    regimen: ir.Regimen | None
    diagnostics: list[Diagnostic]


def lower_file(path: Path, library: Library, read: tuple[bytes, int] | None = None) -> FileUnit:
    """Read (unless ``read`` holds its bytes, as ``read_source`` takes them), parse and lower one regimen file.

    Never raises on its content.
    """
    sink = Sink()
    source, ok = read_source(path, sink, read)
    if not ok:
        return FileUnit(source, None, None, sink.items)
    module = parse(source, sink)
    regimen = lower_regimen(module, library.defs, sink, partial=bool(sink.items))
    return FileUnit(source, module, regimen, sink.items)


@contextlib.contextmanager
def rare_collections() -> Iterator[None]:
    """Collect garbage rarely while checking.

    A check builds many small objects, which it keeps, and few reference cycles: at Python's
    usual thresholds the collector walks them all again and again, and costs a third of
    parsing and lowering a library.
    """
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def check_paths(paths: Iterable[Path]) -> CheckResult:
    """Parse and lower every ``.reg`` file under ``paths`` (no rules); never raises on file content."""
    with rare_collections():
        return _check_paths(paths)


def _check_paths(paths: Iterable[Path]) -> CheckResult:
    files = collect(list(paths))
    result = CheckResult()
    sink = Sink()
    libraries: dict[Path, Library] = {}
    roots: dict[Path, Path] = {}  # the root of each folder's files (a link to a file finds its own)
    for path in files:
        root = find_root(path.resolve()) if path.is_symlink() else roots.get(path.parent)
        if root is None:
            root = roots[path.parent] = find_root(path.resolve())
        if root not in libraries:
            library = libraries[root] = load_library(root)
            sink.items.extend(library.diagnostics)
            if library.source is not None:
                result.sources[library.source.path] = library.source
        if path.name == LIBRARY_FILE:
            continue
        unit = lower_file(path, libraries[root])
        result.sources[unit.source.path] = unit.source
        sink.items.extend(unit.diagnostics)
        if unit.regimen is not None:
            result.regimens.append(unit.regimen)
    duplicate_ids(result.regimens, sink)
    result.files = len(files)
    result.diagnostics = sink.sorted()
    return result


def duplicate_ids(regimens: Sequence[ir.Regimen], sink: Sink) -> None:
    """Report a regimen id used by two files, or two ids that differ only in case (one page either way)."""
    first: dict[str, ir.Regimen] = {}
    for regimen in regimens:
        earlier = first.setdefault(regimen.id.casefold(), regimen)
        if earlier is regimen:
            continue
        same = earlier.id == regimen.id
        sink.report(
            c.DUPLICATE_REGIMEN,
            regimen.span,
            f"regimen id `{regimen.id}` is already used"
            if same
            else f"regimen id `{regimen.id}` differs from `{earlier.id}` only in case, so both would publish one page",
            label="second use",
            secondary=(Label(earlier.span, "first used here"),),
            help="give each regimen its own id",
        )
