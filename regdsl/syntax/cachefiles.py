"""The user's own cache folder, and files in it that no one else could have written.

The folder is ``$REGDSL_CACHE_DIR``, else ``$XDG_CACHE_HOME/regdsl`` (``~/.cache/regdsl``),
made 0700. A folder or file is used only when it is the user's and writable by no one else;
a file is opened without following a link, refused unless it is a regular file under a size
limit, and written whole to a new file that is renamed into place. A framed file starts with a
header naming its format, the key of what it was built from and the hash of its payload, and is
read only when all three match. Every failure only means there is no cache: a caller builds
what it wanted and carries on. Nothing here unpickles or runs what a file holds; what a caller
reads it validates. The parser's tables (``parser.py``, unpickled with every class refused), the
spelling rule's English words (``check/rules/prose.py``, plain text) and the results cache
(``check/cache.py``, JSON) live here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["cache_folder", "header", "open_cache_folder", "read_cached", "read_framed", "write_cached", "write_framed"]

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC if os.name == "posix" else 0


def cache_folder() -> Path | None:
    """Return the per-user cache folder: ``$REGDSL_CACHE_DIR``, else the XDG cache's ``regdsl``."""
    named = os.environ.get("REGDSL_CACHE_DIR")
    if named:
        return Path(named)
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec: absolute only
    except RuntimeError:  # no home folder to be found
        return None
    return base / "regdsl"


def _trusted(info: os.stat_result) -> bool:
    """Whether a cache file or folder is the user's own and writable by no one else."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@contextlib.contextmanager
def open_cache_folder(*below: str) -> Iterator[int | None]:
    """Yield a descriptor of the cache folder (or its subfolder ``below``), made 0700 if new; None if untrusted.

    Each folder on the way, from the cache folder down, is opened without following a link
    and must be trusted.
    """
    folder = cache_folder()
    descriptor = None
    if folder is not None and os.name == "posix":
        try:
            os.makedirs(folder.parent, mode=0o700, exist_ok=True)  # made 0700, as the XDG spec asks
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o700)
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _OPEN_FLAGS)
            for name in below:
                if not _trusted(os.fstat(descriptor)):
                    break
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=descriptor)
                inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | _OPEN_FLAGS, dir_fd=descriptor)
                os.close(descriptor)
                descriptor = inner
        except OSError:
            if descriptor is not None:
                os.close(descriptor)
            descriptor = None
    try:
        if descriptor is not None and _trusted(os.fstat(descriptor)):
            yield descriptor
        else:
            yield None
    finally:
        if descriptor is not None:
            os.close(descriptor)


def read_cached(folder: int, name: str, limit: int) -> bytes | None:
    """Return the bytes of the cache file ``name`` in ``folder``; None if missing, refused, unreadable or too big."""
    try:
        # Non-blocking: a FIFO opens at once, and is refused for not being a file.
        descriptor = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _OPEN_FLAGS, dir_fd=folder)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > limit:
            return None  # checked before it is read: a folder cannot be read as a file
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return b"".join(chunks) if size <= limit else None


def write_cached(folder: int, name: str, data: bytes) -> None:
    """Write ``data`` to a new file in ``folder`` and rename it over ``name``; failures pass."""
    temporary = f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o600, dir_fd=folder)
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)  # replaces a link, never follows it
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)


def header(form: str, key: str, payload: bytes) -> bytes:
    """Return the header line of a framed cache file of the format ``form``, built from what ``key`` names."""
    return f"{form} {key} {hashlib.sha256(payload).hexdigest()}\n".encode()


def read_framed(folder: int, name: str, form: str, key: str, limit: int) -> bytes | None:
    """Return the payload of the framed cache file ``name``, or None if it is missing, refused or damaged."""
    data = read_cached(folder, name, limit)
    if data is None:
        return None
    first, _, payload = data.partition(b"\n")
    return payload if first + b"\n" == header(form, key, payload) else None


def write_framed(folder: int, name: str, form: str, key: str, payload: bytes) -> None:
    """Write a framed cache file: its header, then ``payload``; failures pass."""
    write_cached(folder, name, header(form, key, payload) + payload)
