"""The output folder of a build: what a build may replace, and how it replaces it.

A build replaces its output folder ``OUT`` whole, so it refuses any ``OUT`` that holds
something it did not write: a folder without the marker, and a site that holds what the
build reads (its sources, their library root, the configuration, the templates) or the
current folder. Pages are written into a hidden folder beside ``OUT``, which is swapped in
only when it is complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["MARKER", "SiteError", "check_out", "is_site", "refuse_overlap", "sibling", "swap"]

MARKER = ".regdsl-site"


class SiteError(Exception):
    """The output folder cannot be used: it is a file, a link, or a folder regdsl must not replace."""


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


def sibling(out: Path, kind: str) -> Path:
    """Return a fresh hidden name beside ``out`` (same folder, so a rename is atomic)."""
    while True:
        candidate = out.parent / f".{out.name}.regdsl-{kind}-{secrets.token_hex(4)}"
        if not candidate.exists():
            return candidate


def swap(new: Path, out: Path) -> None:
    """Put the folder ``new`` in the place of ``out``: the old one aside, the new one in, the old one away."""
    if not out.exists():
        new.rename(out)
        return
    old = sibling(out, "old")
    out.rename(old)
    try:
        new.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old)
