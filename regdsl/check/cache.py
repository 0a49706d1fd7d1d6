"""The results cache: each file's findings, kept by what they were made from, so a re-check reads them back.

An entry is keyed by a digest of everything a file's findings are made from: the regdsl
version and every file of the package (code, data, rules, the grammar), the versions of
Python and lark, the file's display path and bytes, its library (``library.reg``'s text and
the ids, statuses, names and paths of its regimens, which links and cross-file rules read)
and the configuration's ``words`` and ``jurisdiction``
(the only setting a file's own rules read: selections, severities, suppressions and
exclusions are applied to the findings after they are read back, so changing them re-uses
the cache). The library rules' findings are kept too, keyed by every file's key, so a
re-check of an unchanged library lowers nothing.

Entries are JSON (never pickle) in the ``results`` folder of the user's cache folder
(``regdsl.syntax.cachefiles``: the user's own, 0700, no links followed, written to a new
file and renamed). Each is validated as it is read: its header must name its key, and
every code, offset and field must be what a finding holds; an entry that is truncated,
corrupt, foreign or from another version is ignored and written again, never an error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import regdsl
from regdsl.check.rules import registry
from regdsl.check.suppress import Suppression
from regdsl.compile.library import Library, RegimenInfo
from regdsl.diagnostics import Diagnostic, Fix, Label, Severity
from regdsl.source import SourceFile, Span
from regdsl.syntax.cachefiles import open_cache_folder, read_cached, write_cached
from regdsl.syntax.parser import LARK_VERSION, grammar_text

__all__ = [
    "CachedFile",
    "Invalid",
    "JsonEntries",
    "LastRun",
    "ResultsCache",
    "cache_wanted",
    "file_key",
    "library_digest",
    "package_digest",
    "part_key",
    "run_key",
    "valid_count",
    "valid_text",
    "valid_texts",
]

_FORMAT = "regdsl-results 2"
_LIMIT = 64 << 20  # bytes: an entry holds a file's findings, a few KB
_FOLDER = "results"
_LEVELS = {level.value: level for level in Severity}


@functools.cache
def package_digest() -> str:
    """Return a digest of regdsl's version, every file of the package (and the grammar), Python's and lark's versions.

    Computed once per process.
    """
    versions = f"{regdsl.__version__}\n{sys.version}\n{LARK_VERSION}\n"
    digest = hashlib.sha256(versions.encode())
    package = Path(regdsl.__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(grammar_text().encode())
    return digest.hexdigest()


def library_digest(library: Library) -> str:
    """Return a digest of what a library gives its files' checks: its root, ``library.reg``, its regimens' headings."""
    infos = [[i.id, i.status, i.superseded_by, i.path, i.name] for i in library.infos.values()]
    text = library.source.text if library.source is not None else None
    return _digest([str(library.root), text, sorted(infos, key=lambda info: str(info))])


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def file_key(display: str, read: tuple[bytes, int], library: str, words: frozenset[str], jurisdiction: str) -> str:
    """Return the key of one file's findings (see the module): ``read`` its bytes and size, ``library`` its digest.

    ``words`` and ``jurisdiction`` are the configuration a file's own rules read.
    """
    content = hashlib.sha256(read[0]).hexdigest()
    return _digest([_FORMAT, package_digest(), display, content, read[1], library, sorted(words), jurisdiction])


def run_key(displays: Sequence[str], jurisdiction: str) -> str:
    """Return the key of the last run's entry over the files shown as ``displays``, in order."""
    return _digest([_FORMAT, "run", package_digest(), jurisdiction, *displays])


def part_key(keys: Sequence[str], checked: frozenset[str], jurisdiction: str) -> str:
    """Return the key of the library rules' findings over a part of a run: ``keys`` its files', ``checked`` all ids."""
    return _digest([_FORMAT, "part", jurisdiction, sorted(checked), *keys])


@dataclass(frozen=True, slots=True)
class CachedFile:
    """One file's results as the cache keeps them: its raw findings, suppressions, regimen id and links."""

    diagnostics: tuple[Diagnostic, ...]
    suppressions: tuple[Suppression, ...]
    regimen_id: str | None
    targets: tuple[str, ...]  # the regimen ids its links name


@dataclass(frozen=True, slots=True)
class LastRun:
    """What the last run over the same files kept: each file's entry whose key is unchanged, and the library's.

    ``library`` is the library rules' findings, when no file changed; ``parts`` each part's, by
    its key, read back only when asked for (``part``).
    """

    files: list[CachedFile | None]
    library: tuple[Diagnostic, ...] | None
    parts: Mapping[str, object]
    reader: _Reader

    def part(self, key: str) -> tuple[Diagnostic, ...] | None:
        """Return the findings of the part kept under ``key``, or None."""
        found = self.parts.get(key)
        if found is None:
            return None
        try:
            return self.reader.diagnostics(found)
        except Invalid:
            return None


class Invalid(Exception):
    """An entry that is not what the cache writes."""


def _span_data(span: Span) -> list[object]:
    return [span.path, span.start, span.end]


def _diagnostic_data(d: Diagnostic) -> dict[str, object]:
    return {
        "code": d.code.code,
        "message": d.message,
        "labels": [[*_span_data(lb.span), lb.text] for lb in (d.primary, *d.secondary)],
        "notes": list(d.notes),
        "help": d.help,
        "severity": d.severity.value if d.severity is not None else None,
        "fixes": [[*_span_data(f.span), f.replacement, f.description] for f in d.fixes],
    }


def valid_text(value: object) -> str:
    """Return ``value`` if it is a text, as an entry read back must hold; else raise ``Invalid``."""
    if not isinstance(value, str):
        raise Invalid
    return value


def valid_texts(value: object) -> tuple[str, ...]:
    """Return ``value``, a list of texts, as a tuple; else raise ``Invalid``."""
    if not isinstance(value, list):
        raise Invalid
    return tuple(valid_text(v) for v in value)


def valid_count(value: object) -> int:
    """Return ``value`` if it is a whole number, not negative (an offset, a size); else raise ``Invalid``."""
    if type(value) is not int or value < 0:
        raise Invalid
    return value


def _fields(value: object, keys: set[str]) -> Mapping[str, object]:
    if not isinstance(value, dict) or set(value) != keys:
        raise Invalid
    return value


def _info(row: object) -> RegimenInfo:
    if not isinstance(row, list) or len(row) != 5:
        raise Invalid
    regimen_id, status, superseded_by, path, name = row
    return RegimenInfo(
        id=valid_text(regimen_id),
        status=None if status is None else valid_text(status),
        superseded_by=None if superseded_by is None else valid_text(superseded_by),
        path=valid_text(path),
        name=None if name is None else valid_text(name),
    )


class _Reader:
    """Rebuilds findings from JSON, their spans on the sources they name (this file's, its library's)."""

    def __init__(self, sources: Mapping[str, SourceFile]) -> None:
        self.sources = sources

    def span(self, path: object, start: object, end: object) -> Span:
        source = self.sources.get(valid_text(path))
        low, high = valid_count(start), valid_count(end)
        if source is None or not low <= high <= len(source.text):
            raise Invalid
        return source.span(low, high)

    def label(self, value: object) -> Label:
        if not isinstance(value, list) or len(value) != 4:
            raise Invalid
        return Label(self.span(*value[:3]), valid_text(value[3]))

    def diagnostic(self, value: object) -> Diagnostic:
        item = _fields(value, {"code", "message", "labels", "notes", "help", "severity", "fixes"})
        code = registry().codes.get(valid_text(item["code"]))
        labels = item["labels"]
        severity = item["severity"]
        if code is None or not isinstance(labels, list) or not labels:
            raise Invalid
        if severity is not None and valid_text(severity) not in _LEVELS:
            raise Invalid
        primary, *secondary = (self.label(lb) for lb in labels)
        fixes = item["fixes"]
        if not isinstance(fixes, list):
            raise Invalid
        return Diagnostic(
            code=code,
            message=valid_text(item["message"]),
            primary=primary,
            secondary=tuple(secondary),
            notes=valid_texts(item["notes"]),
            help=None if item["help"] is None else valid_text(item["help"]),
            severity=None if severity is None else _LEVELS[valid_text(severity)],
            fixes=tuple(self.fix(f) for f in fixes),
        )

    def fix(self, value: object) -> Fix:
        if not isinstance(value, list) or len(value) != 5:
            raise Invalid
        return Fix(self.span(*value[:3]), valid_text(value[3]), valid_text(value[4]))

    def suppression(self, value: object) -> Suppression:
        item = _fields(value, {"span", "names", "reason", "line"})
        span = item["span"]
        if not isinstance(span, list) or len(span) != 3:
            raise Invalid
        reason = item["reason"]
        return Suppression(
            span=self.span(*span),
            names=valid_texts(item["names"]),
            reason=None if reason is None else valid_text(reason),
            line=valid_count(item["line"]),
        )

    def diagnostics(self, value: object) -> tuple[Diagnostic, ...]:
        if not isinstance(value, list):
            raise Invalid
        return tuple(self.diagnostic(d) for d in value)

    def file(self, value: object) -> CachedFile:
        item = _fields(value, {"diagnostics", "suppressions", "regimen", "targets"})
        suppressions = item["suppressions"]
        regimen = item["regimen"]
        if not isinstance(suppressions, list):
            raise Invalid
        return CachedFile(
            self.diagnostics(item["diagnostics"]),
            tuple(self.suppression(s) for s in suppressions),
            None if regimen is None else valid_text(regimen),
            valid_texts(item["targets"]),
        )


def _file_data(entry: CachedFile) -> dict[str, object]:
    return {
        "diagnostics": [_diagnostic_data(d) for d in entry.diagnostics],
        "suppressions": [
            {"span": _span_data(s.span), "names": list(s.names), "reason": s.reason, "line": s.line}
            for s in entry.suppressions
        ],
        "regimen": entry.regimen_id,
        "targets": list(entry.targets),
    }


class JsonEntries:
    """JSON entries of one format in a subfolder of the user's cache folder (none if it is untrusted).

    Each entry is a file named by its key, whose first line names the format and the key; an
    entry whose header is not that, or that is not JSON, is refused (``read`` raises ``Invalid``).
    What an entry holds its reader validates. The results cache, and ``regdsl build``'s record of
    the pages it wrote (``regdsl.render.built``), are kept so.
    """

    def __init__(self, folder: str, form: str) -> None:
        self._stack = contextlib.ExitStack()
        self._folder: int | None = None
        self._name = folder
        self._form = form

    def __enter__(self) -> Self:
        self._folder = self._stack.enter_context(open_cache_folder(self._name))
        return self

    def __exit__(self, *exc: object) -> None:
        self._folder = None
        self._stack.close()

    def read(self, key: str) -> object:
        """Return the value kept under ``key``; raises ``Invalid`` if there is none or it is refused."""
        if self._folder is None:
            raise Invalid
        data = read_cached(self._folder, f"{key}.json", _LIMIT)
        header = f"{self._form} {key}\n".encode()
        if data is None or not data.startswith(header):
            raise Invalid
        try:
            return json.loads(data[len(header) :])
        except (ValueError, RecursionError) as err:  # not JSON, not UTF-8, nested too deeply
            raise Invalid from err

    def write(self, key: str, value: object) -> None:
        """Keep ``value`` (JSON) under ``key``; a failure to write passes."""
        if self._folder is not None:
            data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
            write_cached(self._folder, f"{key}.json", f"{self._form} {key}\n".encode() + data)


class ResultsCache(JsonEntries):
    """The results cache of one run: reads and writes entries in the user's cache folder (none if it is untrusted)."""

    def __init__(self) -> None:
        super().__init__(_FOLDER, _FORMAT)

    def load_file(self, key: str, sources: Mapping[str, SourceFile]) -> CachedFile | None:
        """Return the entry of one file, its spans on ``sources``; None if there is none or it is refused."""
        try:
            return _Reader(sources).file(self.read(key))
        except Invalid:
            return None

    def save_file(self, key: str, entry: CachedFile) -> None:
        """Keep one file's entry."""
        self.write(key, _file_data(entry))

    def load_run(self, key: str, keys: Sequence[str], sources: Mapping[str, SourceFile]) -> LastRun | None:
        """Return what the last run over the same files kept under ``key``; None if there is none or it is refused.

        ``keys`` are the files' keys now: a file's entry is read back only where its key is the
        one kept, and the library rules' findings only when every key is.
        """
        try:
            item = _fields(self.read(key), {"keys", "files", "library", "parts"})
            kept, files, parts = valid_texts(item["keys"]), item["files"], item["parts"]
            if not isinstance(files, list) or len(files) != len(kept) or len(kept) != len(keys):
                raise Invalid
            if not isinstance(parts, list) or not all(isinstance(p, list) and len(p) == 2 for p in parts):
                raise Invalid
            reader = _Reader(sources)
            entries = [reader.file(f) if old == new else None for old, new, f in zip(kept, keys, files, strict=True)]
            library = reader.diagnostics(item["library"]) if list(kept) == list(keys) else None
            return LastRun(entries, library, {valid_text(k): found for k, found in parts}, reader)
        except Invalid:
            return None

    def save_run(
        self,
        key: str,
        keys: Sequence[str],
        files: Sequence[CachedFile],
        library: Sequence[Diagnostic],
        parts: Mapping[str, Sequence[Diagnostic]],
    ) -> None:
        """Keep every file's key and entry, the library rules' findings and each part's under ``key``."""
        self.write(
            key,
            {
                "keys": list(keys),
                "files": [_file_data(f) for f in files],
                "library": [_diagnostic_data(d) for d in library],
                "parts": [[k, [_diagnostic_data(d) for d in found]] for k, found in parts.items()],
            },
        )

    def load_headings(self, key: str) -> dict[str, RegimenInfo | None] | None:
        """Return the headings of a library's last scan kept under ``key``, by file digest (``HeadingMemo``)."""
        try:
            rows = self.read(_digest([_FORMAT, "headings", package_digest(), key]))
            if not isinstance(rows, list):
                raise Invalid
            found: dict[str, RegimenInfo | None] = {}
            for row in rows:
                if not isinstance(row, list) or len(row) != 2:
                    raise Invalid
                found[valid_text(row[0])] = None if row[1] is None else _info(row[1])
            return found
        except Invalid:
            return None

    def save_headings(self, key: str, found: Mapping[str, RegimenInfo | None]) -> None:
        """Keep the headings of a library's scan under ``key``, by file digest."""
        rows = [
            [digest, None if i is None else [i.id, i.status, i.superseded_by, i.path, i.name]]
            for digest, i in found.items()
        ]
        self.write(_digest([_FORMAT, "headings", package_digest(), key]), rows)


def cache_wanted(asked: bool) -> bool:
    """Whether a run uses the cache: asked for (``--no-cache`` not given) and ``REGDSL_NO_CACHE`` not set."""
    return asked and not os.environ.get("REGDSL_NO_CACHE")
