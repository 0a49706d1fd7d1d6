"""Rewriting sources in place: ``regdsl fmt`` and ``regdsl check --fix``.

``format_paths`` lays out files (``syntax.layout``); ``planned_fixes`` makes the fixes the
findings of a check carry (``syntax.edits``), file by file.

A source is rewritten only when its text changes, atomically: the new text is written to a
new file beside it (same mode, and owner where the system lets it), then renamed over it, so
a failure (a full disk) leaves the file as it was. A link is never written through: a path
that is a symbolic link is refused, naming it, as is anything but a regular file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from regdsl.compile.library import PathError, collect, read_source
from regdsl.diagnostics import Diagnostic, Fix, Sink
from regdsl.source import SourceFile
from regdsl.syntax.edits import apply_fixes
from regdsl.syntax.layout import changes, format_source, unified_diff

__all__ = ["Formatted", "Rewrite", "diff_text", "format_paths", "planned_fixes", "rewrite_file"]

_NO_LINK = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A source and the text it would be rewritten to."""

    path: Path
    source: SourceFile
    text: str
    edits: int = 0  # how many fixes the text makes (0: a new layout)


@dataclass(slots=True)
class Formatted:
    """What formatting some paths found: the files that would change, and the findings of those refused."""

    rewrites: list[Rewrite] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    files: int = 0


def format_paths(paths: Sequence[Path]) -> Formatted:
    """Format every ``*.reg`` file of ``paths`` (as ``check`` finds them), writing nothing.

    A file that cannot be read as a source, or has a syntax error, is left as it is: its
    findings are returned. Raises ``PathError`` for a path that cannot be used (exit 2).
    """
    found = Formatted()
    for path in collect(paths):
        sink = Sink()
        source, fit = read_source(path, sink)
        text = format_source(source, sink) if fit else None
        found.files += 1
        if text is None:
            found.diagnostics.extend(sink.sorted())
            found.sources[source.path] = source
        elif changes(source, text):
            found.rewrites.append(Rewrite(path, source, text))
    return found


def planned_fixes(diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile]) -> list[Rewrite]:
    """Return each file the fixes of ``diagnostics`` change, with its text once they are made (by path)."""
    by_path: dict[str, list[Fix]] = {}
    for diagnostic in diagnostics:
        for fix in diagnostic.fixes:
            by_path.setdefault(fix.span.path, []).append(fix)
    rewrites = []
    for path in sorted(by_path):
        source = sources.get(path)
        made = apply_fixes(source, by_path[path]) if source is not None else None
        if source is not None and made is not None:
            rewrites.append(Rewrite(Path(path), source, made[0], made[1]))
    return rewrites


def diff_text(rewrite: Rewrite) -> str:
    """Return a unified diff of ``rewrite``, every line escaped for a terminal."""
    return unified_diff(rewrite.source, rewrite.text)


def rewrite_file(path: Path, text: str) -> None:
    """Replace the regular file ``path`` by ``text`` (UTF-8), atomically; raises ``PathError`` if it cannot."""
    try:
        info = os.lstat(path)
    except OSError as err:
        raise PathError(f"{path}: cannot be rewritten ({err.strerror or err})") from err
    if stat.S_ISLNK(info.st_mode):
        raise PathError(f"{path}: is a symbolic link; name the file it links to, which is rewritten in place")
    if not stat.S_ISREG(info.st_mode):
        raise PathError(f"{path}: not a regular file")
    temp = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_LINK, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(descriptor)
            with contextlib.suppress(OSError, AttributeError):  # another owner: only root may give a file away
                os.fchown(descriptor, info.st_uid, info.st_gid)
            os.fchmod(descriptor, stat.S_IMODE(info.st_mode))
        os.replace(temp, path)
    except OSError as err:
        raise PathError(f"{path}: cannot be rewritten ({err.strerror or err}); it is left as it was") from err
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
