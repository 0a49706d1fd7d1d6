"""The output folder of a build: what a build may replace, and how it replaces it.

A build replaces its output folder ``OUT`` whole, so it refuses any ``OUT`` that holds
something it did not write: a folder without the marker, and a site that holds what the
build reads (its sources, their library root, the configuration, the templates) or the
current folder.

``OUT`` stays a plain folder, and there is a whole site at ``OUT`` at every instant. A build
holds a lock beside ``OUT`` (the file ``.OUT.regdsl-lock`` with an advisory ``flock``,
removed when the build ends; a second build into the same ``OUT`` exits at once), writes its
pages into a hidden folder beside it (``.OUT.regdsl-build-XXXXXXXX``) and, when that is
complete, swaps the two in one step: Linux's ``renameat2(RENAME_EXCHANGE)``. Where the system
or its file system cannot swap, the swap is two renames, the old site set aside as
``.OUT.regdsl-old-XXXXXXXX`` for the instant between them. A build that was killed leaves
these folders behind; the next build, holding the lock, puts an old site that was set aside
back if ``OUT`` is missing, and removes the rest.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

if sys.platform != "win32":
    import fcntl

__all__ = [
    "MARKER",
    "SiteError",
    "check_out",
    "check_page",
    "claim",
    "is_site",
    "refuse_overlap",
    "replace_file",
    "swap",
    "writing",
]

MARKER = ".regdsl-site"


class SiteError(Exception):
    """The output folder cannot be used: it is a file, a link, or a folder regdsl must not replace."""


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Turn a failure to write (a full disk, a read-only folder) into ``SiteError``, naming the folder."""
    try:
        yield
    except OSError as err:
        where = Path(os.fsdecode(err.filename)).parent if err.filename else Path.cwd()
        raise SiteError(f"cannot write in {where}: {err.strerror or err}") from err


def replace_file(target: Path, data: bytes) -> None:
    """Write ``data`` to the file ``target`` through a hidden file beside it: a failed write leaves the old one."""
    temp = sibling(target, "page")
    try:
        with writing():
            temp.write_bytes(data)
            os.replace(temp, target)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def check_page(target: Path, kept: Iterable[tuple[str, Path]]) -> None:
    """Refuse a file that ``render -o`` must not replace (raises ``SiteError``).

    A page replaces its file whole (``replace_file``), so ``target`` must not be a link, nor
    anything but a regular file (as root, a device such as ``/dev/null`` would be replaced),
    nor a regimen file, nor what the render reads: ``kept``, each with the words that say what
    it is (a file, or a folder such as the templates, which the page must not be in).
    """
    if target.is_symlink():
        raise SiteError(f"{target}: is a symbolic link; name the file itself")
    if target.exists() and not target.is_file():
        raise SiteError(f"{target}: is not a regular file; leave out -o to write the page to standard output")
    if target.suffix == ".reg":
        raise SiteError(f"{target}: is named as a regimen file; a page is written to its own file")
    real = target.resolve()
    for what, path in kept:
        found = path.resolve()
        if found == real or found in real.parents:
            raise SiteError(f"{target}: {'is' if found == real else 'is in'} {what}; write the page elsewhere")


def is_site(folder: Path) -> bool:
    """Whether ``folder`` is a site written by ``regdsl build`` (it holds the marker)."""
    return folder.is_dir() and (folder / MARKER).is_file()


def check_out(out: Path, kept: Iterable[tuple[str, Path]]) -> None:
    """Refuse an output folder that a build must not replace (raises ``SiteError``).

    ``kept`` names what the build reads, each with the words that say what it is: ``out``
    must not be, or hold, any of them.
    """
    if out.is_symlink():
        raise SiteError(f"{out}: is a symbolic link; name the folder itself")
    refuse_overlap(out, kept)
    if not out.exists():
        return
    if not out.is_dir():
        raise SiteError(f"{out}: exists and is not a folder")
    if not is_site(out) and any(out.iterdir()):
        raise SiteError(
            f"{out}: this folder is not empty and was not written by `regdsl build` (it has no {MARKER}); "
            "a build replaces its whole output folder, so choose a new or empty folder"
        )


def refuse_overlap(out: Path, kept: Iterable[tuple[str, Path]]) -> None:
    """Raise ``SiteError`` if ``out`` is, or holds, one of the ``kept`` paths (links followed)."""
    real = out.resolve()
    for what, path in kept:
        found = path.resolve()
        if found == real or real in found.parents:
            shown = "" if found == real else f" ({os.fspath(path)})"
            raise SiteError(
                f"{out}: {'is' if found == real else 'holds'} {what}{shown}; "
                "a build replaces its output folder whole, so choose an output folder outside it"
            )


def _hidden(out: Path, kind: str) -> str:
    return f".{out.name}.regdsl-{kind}"


def sibling(out: Path, kind: str) -> Path:
    """Return a fresh hidden name beside ``out`` (same folder, so a rename is atomic)."""
    while True:
        candidate = out.parent / f"{_hidden(out, kind)}-{secrets.token_hex(4)}"
        if not candidate.exists():
            return candidate


@contextlib.contextmanager
def claim(out: Path) -> Iterator[Path]:
    """Lock ``out``, clear what interrupted builds left, and yield a new empty folder to build in.

    The folder is removed on the way out unless ``swap`` put it in place. Raises ``SiteError``
    if another build holds the lock.
    """
    with writing():
        out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        with writing():
            _recover(out)
            building = sibling(out, "build")
            building.mkdir()
        try:
            yield building
        finally:
            shutil.rmtree(building, ignore_errors=True)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold the lock file beside ``out`` (an exclusive ``flock``), or raise ``SiteError`` if a build holds it.

    The holder removes the file before letting go, so a build that opened it just then may
    lock a file that is no longer there: it holds the lock only if the name still leads to
    the file it locked. (Windows has no advisory locks: builds there are not kept apart.)
    """
    if sys.platform == "win32":
        yield
        return
    name = out.parent / _hidden(out, "lock")
    while True:
        with writing():
            fd = os.open(name, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SiteError(f"{out}: another `regdsl build` is writing this site; wait for it to finish") from None
        if _names(name, fd):
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):  # a lock file left behind is harmless
            os.unlink(name)  # while still holding it
        os.close(fd)


def _names(name: Path, fd: int) -> bool:
    """Whether ``name`` leads to the open file ``fd``."""
    try:
        named = os.stat(name, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _recover(out: Path) -> None:
    """Put back an old site that an interrupted swap set aside, and remove every other leftover."""
    leftover = re.compile(re.escape(_hidden(out, "")) + r"(build|old)-[0-9a-f]{8}")
    found = sorted(p for p in out.parent.iterdir() if leftover.fullmatch(p.name) and p.is_dir() and not p.is_symlink())
    if not out.exists() and not out.is_symlink():
        old = [p for p in found if p.name.startswith(_hidden(out, "old")) and is_site(p)]
        if old:
            old[0].rename(out)
            found.remove(old[0])
    for path in found:
        shutil.rmtree(path)


def swap(new: Path, out: Path) -> None:
    """Put the folder ``new`` in the place of ``out``, and remove the old one."""
    with writing():
        _swap(new, out)


def _swap(new: Path, out: Path) -> None:
    if not out.exists():
        new.rename(out)
        return
    if _exchange(new, out):
        shutil.rmtree(new)  # now the old site
        return
    old = sibling(out, "old")
    out.rename(old)
    try:
        new.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_Renameat2 = Callable[[int, bytes, int, bytes, int], int]


@functools.cache
def _renameat2() -> _Renameat2 | None:
    """Return the C library's ``renameat2`` (Linux, glibc 2.28 or later), or None."""
    if sys.platform != "linux":
        return None
    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if function is None:
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    found: _Renameat2 = function
    return found


def _exchange(new: Path, out: Path) -> bool:
    """Swap the two folders in one step; False, having done nothing, where that cannot be done."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(out), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # the kernel or the file system cannot
        return False
    raise OSError(code, os.strerror(code), os.fspath(out))
