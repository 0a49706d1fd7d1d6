"""The user's own cache folder: files regdsl builds once and reads again, safely.

A cache file lives in ``$REGDSL_CACHE_DIR``, else ``$XDG_CACHE_HOME/regdsl`` (made 0700). It
is read only when it and its folder are the user's and writable by no one else, never
through a link, and only when its header names the format, the key of what it was built
from and the hash of its payload; it is written whole to a new file and renamed into place.
A cache that is refused or damaged only means it is built again. What a cache holds is
data: the parser's tables (``parser.py``, unpickled with every class refused) and the
spelling rule's English words (``check/rules/prose.py``, plain text).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["header", "open_folder", "read", "write"]

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC if os.name == "posix" else 0


def _cache_folder() -> Path | None:
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
def open_folder() -> Iterator[int | None]:
    """Yield a descriptor of the cache folder (made 0700 if new), or None when it cannot be trusted."""
    folder = _cache_folder()
    descriptor = None
    if folder is not None and os.name == "posix":
        try:
            os.makedirs(folder.parent, mode=0o700, exist_ok=True)  # made 0700, as the XDG spec asks
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o700)
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _OPEN_FLAGS)
        except OSError:
            descriptor = None
    try:
        if descriptor is not None and _trusted(os.fstat(descriptor)):
            yield descriptor
        else:
            yield None
    finally:
        if descriptor is not None:
            os.close(descriptor)


def header(form: str, key: str, payload: bytes) -> bytes:
    """Return the header line of a cache file of the format ``form``, built from what ``key`` names."""
    return f"{form} {key} {hashlib.sha256(payload).hexdigest()}\n".encode()


def read(folder: int, name: str, form: str, key: str, limit: int) -> bytes | None:
    """Return the payload of the cache file ``name``, or None if it is missing, refused or damaged."""
    try:
        # Non-blocking: a FIFO opens at once, and is refused for not being a file.
        descriptor = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _OPEN_FLAGS, dir_fd=folder)
    except OSError:
        return None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > limit:
        os.close(descriptor)  # checked before it is wrapped: a folder cannot be read as a file
        return None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError:
            return None
    first, _, payload = data.partition(b"\n")
    return payload if first + b"\n" == header(form, key, payload) else None


def write(folder: int, name: str, form: str, key: str, payload: bytes) -> None:
    """Write a cache file to a new file in the cache folder and rename it over ``name``; failures pass."""
    temporary = f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o600, dir_fd=folder)
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(header(form, key, payload) + payload)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)  # replaces a link, never follows it
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
