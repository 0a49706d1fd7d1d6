"""What a site build wrote, kept so that a rebuild renders and writes only what changed.

For each regimen a build keeps a record in the ``pages`` folder of the user's cache folder
(``regdsl.check.cache.JsonEntries``: JSON, validated as it is read, never pickle), under the
key of everything its pages are made from (``page_key``): the regdsl version and package
(templates, stylesheets and data included), the ``--templates`` folder's files, the output
folder, the regimen file's path, shown path and text, its library's root and ``library.reg``,
and the configured jurisdiction. The record holds the regimen's index entry, what its pages
showed of other regimens (each one asked for: its name, status and address, or that it is
not in the library) and, for each page, the size, modification time and inode its file had
when the build left it. The site-wide files (the index, the catalogue, the search data) are
kept as one record under the key of the index entries they show.

A rebuild keeps a page only when its record is found, the regimens it showed are shown the
same now, and each of its files in the current site is still the file the build left there
(a regular file, same size, time and inode: a file changed by hand is rendered again). It
is linked into the new site (its time kept, so an ``rsync`` or a browser sees it unchanged),
or copied where links cannot be made. Anything refused is rendered again, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from regdsl.check.cache import Invalid, JsonEntries, package_digest, valid_count, valid_text, valid_texts
from regdsl.compile.library import Library
from regdsl.model import ir
from regdsl.render.context import LinkTarget, RenderContext
from regdsl.source import SourceFile

__all__ = [
    "IndexEntry",
    "PageRecord",
    "PageStore",
    "Placed",
    "folder_digest",
    "keep",
    "page_key",
    "placed",
    "site_key",
]

_FORMAT = "regdsl-pages 1"
_FOLDER = "pages"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One regimen in the index and the catalogue."""

    id: str
    name: str
    cancer: tuple[str, ...]
    setting: str | None
    status: str
    medicines: tuple[str, ...]
    outputs: Mapping[str, str]

    @property
    def href(self) -> str:
        """The address of its HTML page, relative to the site."""
        return self.outputs["html"]

    @property
    def status_label(self) -> str:
        """Its status as the index shows it (``Draft``)."""
        return self.status.capitalize()

    @property
    def flagged(self) -> bool:
        """Whether its status is worth a warning colour: anything but published."""
        return self.status != ir.Status.PUBLISHED.value

    def catalogue(self) -> dict[str, object]:
        """Its entry in ``index.json``."""
        return {
            "id": self.id,
            "name": self.name,
            "cancer": list(self.cancer),
            "setting": self.setting,
            "status": self.status,
            "outputs": dict(self.outputs),
        }

    def search(self) -> dict[str, object]:
        """Its entry in ``search-index.js``: the words the search box matches."""
        return {
            "id": self.id,
            "name": self.name,
            "cancer": list(self.cancer),
            "setting": self.setting or "",
            "medicines": list(self.medicines),
        }


@dataclass(frozen=True, slots=True)
class Placed:
    """A file as a build left it in the site: what tells that it is still that file."""

    size: int
    mtime: int  # nanoseconds
    inode: int


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One regimen's pages as a build made them: kept in the store, and what the index shows of it.

    ``asked`` is each other regimen its pages showed, by id, as they showed it (None: not in
    the library); ``files`` each page's file, by format; ``rendered`` whether this build
    rendered them, ``fresh`` whether it rendered or copied them (so its record is kept again).
    """

    key: str
    entry: IndexEntry
    asked: tuple[tuple[str, LinkTarget | None], ...]
    files: Mapping[str, Placed]
    rendered: bool = False
    fresh: bool = False


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def folder_digest(folder: Path | None) -> str:
    """Return a digest of every file under ``folder`` (the ``--templates`` folder), by path and bytes; "" for none."""
    if folder is None:
        return ""
    digest = hashlib.sha256(_FORMAT.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except OSError:  # unreadable: the render will say so, if it uses the file
            data = b"\0unreadable"
        digest.update(path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape") + b"\0" + data + b"\0")
    return digest.hexdigest()


def page_key(source: SourceFile, library: Library, context: RenderContext, out: Path, templates: str) -> str:
    """Return the key of one regimen's pages (see the module); ``templates`` is ``folder_digest`` of the templates."""
    text = library.source.text if library.source is not None else "\0none"
    made = (source.path, context.source, source.text, str(library.root), text, context.jurisdiction)
    digest = hashlib.sha256()
    for part in (_FORMAT, package_digest(), templates, str(out), *made):  # each with its length: no two read alike
        data = part.encode("utf-8", "surrogatepass")
        digest.update(b"%d:" % len(data) + data)
    return digest.hexdigest()


def site_key(entries: Sequence[IndexEntry], out: Path, templates: str) -> str:
    """Return the key of the site-wide files that show ``entries``."""
    shown = [[e.catalogue(), e.search()] for e in entries]
    return _digest([_FORMAT, "site", package_digest(), templates, str(out), shown])


def placed(path: Path) -> Placed:
    """Return what identifies the file at ``path`` (just written)."""
    info = os.stat(path, follow_symlinks=False)
    return Placed(size=info.st_size, mtime=info.st_mtime_ns, inode=info.st_ino)


def keep(files: Mapping[str, Placed], paths: Mapping[str, str], out: Path, building: Path) -> dict[str, Placed] | None:
    """Put each of ``files`` (by name, at its path in ``paths``) from the site ``out`` into ``building``.

    Returns the files as placed in ``building`` (linked: the same; copied: new), or None,
    having placed nothing that stays, if any is no longer the file the build left.
    """
    old, new = os.fspath(out), os.fspath(building)
    for name, was in files.items():
        try:
            info = os.stat(f"{old}/{paths[name]}", follow_symlinks=False)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or (info.st_size, info.st_mtime_ns, info.st_ino) != (
            was.size,
            was.mtime,
            was.inode,
        ):
            return None
    now: dict[str, Placed] = {}
    try:
        for name, was in files.items():
            source, target = f"{old}/{paths[name]}", f"{new}/{paths[name]}"
            try:
                os.link(source, target, follow_symlinks=False)
                now[name] = was
            except OSError:  # a file system without links: a copy, its time kept
                shutil.copy2(source, target, follow_symlinks=False)
                now[name] = placed(Path(target))
    except OSError:
        for name in files:
            with contextlib.suppress(OSError):
                os.unlink(f"{new}/{paths[name]}")
        return None
    return now


# --------------------------------------------------------------------------- reading and writing records


def _optional(value: object) -> str | None:
    return None if value is None else valid_text(value)


def _files(value: object, names: Iterable[str]) -> dict[str, Placed]:
    if not isinstance(value, dict) or set(value) != set(names):
        raise Invalid
    found = {}
    for name, row in value.items():
        if not isinstance(row, list) or len(row) != 3:
            raise Invalid
        found[name] = Placed(size=valid_count(row[0]), mtime=valid_count(row[1]), inode=valid_count(row[2]))
    return found


def _files_data(files: Mapping[str, Placed]) -> dict[str, list[int]]:
    return {name: [p.size, p.mtime, p.inode] for name, p in files.items()}


def _target(value: object) -> tuple[str, LinkTarget | None]:
    if not isinstance(value, list) or len(value) not in (1, 4):
        raise Invalid
    regimen_id = valid_text(value[0])
    if len(value) == 1:
        return regimen_id, None
    name, status, href = (_optional(v) for v in value[1:])
    return regimen_id, LinkTarget(id=regimen_id, name=name, status=status, href=href)


def _target_data(regimen_id: str, target: LinkTarget | None) -> list[str | None]:
    return [regimen_id] if target is None else [regimen_id, target.name, target.status, target.href]


def _page_data(record: PageRecord) -> dict[str, object]:
    e = record.entry
    entry: dict[str, object] = {"id": e.id, "name": e.name, "cancer": list(e.cancer), "setting": e.setting}
    entry.update(status=e.status, medicines=list(e.medicines))
    asked = [_target_data(regimen_id, target) for regimen_id, target in record.asked]
    return {"entry": entry, "asked": asked, "files": _files_data(record.files)}


def _run_key(out: Path, templates: str) -> str:
    return _digest([_FORMAT, "run", package_digest(), str(out), templates])


class PageStore(JsonEntries):
    """The records of the pages and site-wide files that builds wrote, in the user's cache folder."""

    def __init__(self) -> None:
        super().__init__(_FOLDER, _FORMAT)
        self._recalled: dict[str, object] = {}

    def recall(self, out: Path, templates: str) -> None:
        """Read at once every record the last build into ``out`` kept (``remember``), to spare a read per page."""
        try:
            found = self.read(_run_key(out, templates))
        except Invalid:
            return
        if isinstance(found, dict):
            self._recalled = found

    def remember(self, out: Path, templates: str, records: Sequence[PageRecord]) -> None:
        """Keep every record of a build into ``out`` as one entry, unless it is what was recalled."""
        if set(self._recalled) != {r.key for r in records} or any(r.fresh for r in records):
            self.write(_run_key(out, templates), {r.key: _page_data(r) for r in records})

    def load_page(self, key: str, regimen_id: str, outputs: Mapping[str, str]) -> PageRecord | None:
        """Return the record of the pages of ``regimen_id`` kept under ``key`` (``outputs``: each page's path)."""
        try:
            item = self._recalled[key] if key in self._recalled else self.read(key)
            if not isinstance(item, dict) or set(item) != {"entry", "asked", "files"}:
                raise Invalid
            entry = item["entry"]
            asked = item["asked"]
            if not isinstance(entry, dict) or set(entry) != {"id", "name", "cancer", "setting", "status", "medicines"}:
                raise Invalid
            if valid_text(entry["id"]) != regimen_id or not isinstance(asked, list):
                raise Invalid
            index = IndexEntry(
                id=regimen_id,
                name=valid_text(entry["name"]),
                cancer=valid_texts(entry["cancer"]),
                setting=_optional(entry["setting"]),
                status=valid_text(entry["status"]),
                medicines=valid_texts(entry["medicines"]),
                outputs=dict(outputs),
            )
            return PageRecord(
                key=key,
                entry=index,
                asked=tuple(_target(a) for a in asked),
                files=_files(item["files"], outputs),
            )
        except Invalid:
            return None

    def save_page(self, record: PageRecord) -> None:
        """Keep the record of one regimen's pages."""
        self.write(record.key, _page_data(record))

    def load_site(self, key: str, names: Iterable[str]) -> dict[str, Placed] | None:
        """Return the site-wide files, by name, kept under ``key``; None if there is no such record."""
        try:
            return _files(self.read(key), names)
        except Invalid:
            return None

    def save_site(self, key: str, files: Mapping[str, Placed]) -> None:
        """Keep the record of the site-wide files."""
        self.write(key, _files_data(files))
