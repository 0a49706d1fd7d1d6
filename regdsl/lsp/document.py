"""One open document: its unsaved text checked as ``regdsl check`` checks the file, and what its words name.

The findings are ``check.run``'s, on the text the editor holds in place of the file's
(``run_check(texts=...)``), with the file's library (``library.reg`` and its siblings'
headings, as saved) and the configuration nearest the file: the same as ``regdsl check FILE``
gives once the text is saved. ``library.reg`` itself is read from its unsaved text for its own
findings; the regimens of the library read it as saved. What navigation needs (the syntax
tree, the lowered regimen, the timing network) is made only when a request asks for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from regdsl.check.config import Config, Configs
from regdsl.check.run import Outcome, configure, library_root, run_check
from regdsl.compile.library import (
    LIBRARY_FILE,
    FileUnit,
    Library,
    load_library,
    lower_file,
    read_source,
    regimen_files,
)
from regdsl.compile.lower import lower_library
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.diagnostics import Diagnostic, Sink
from regdsl.lsp.index import Name, library_names, regimen_names
from regdsl.model.medicines import DEFAULT_MEDICINES, MedicineTable
from regdsl.source import SourceFile
from regdsl.syntax.parser import parse

__all__ = ["Analysis", "Libraries", "analyse", "as_read", "shown_path"]


def shown_path(display: str) -> Path:
    """Return the file a finding's display path names (relative paths are relative to the current folder)."""
    path = Path(display)
    return path if path.is_absolute() else Path.cwd() / path


@dataclass(slots=True)
class Analysis:
    """What is known of one version of an open document."""

    path: Path
    text: str
    source: SourceFile
    diagnostics: list[Diagnostic]  # its own findings, in order
    elsewhere: dict[Path, list[Diagnostic]]  # the findings of the other files the check read (library.reg, a config)
    sources: dict[str, SourceFile]
    library: Library | None
    _unit: FileUnit | None = field(default=None, repr=False)
    _compiled: Compiled | None = field(default=None, repr=False)
    _names: list[Name] | None = field(default=None, repr=False)

    @property
    def is_library(self) -> bool:
        """Whether the document is a library's ``library.reg``."""
        return self.path.name == LIBRARY_FILE

    @property
    def unit(self) -> FileUnit:
        """The document's text read, parsed and lowered with its library (made on first use)."""
        if self._unit is None:
            read = as_read(self.text)
            if self.library is None or self.is_library:
                sink = Sink()
                source, fit = read_source(self.path, sink, read)
                module = parse(source, sink) if fit else None
                self._unit = FileUnit(source, module, None, sink.items)
            else:
                self._unit = lower_file(self.path, self.library, read)
        return self._unit

    @property
    def compiled(self) -> Compiled | None:
        """The lowered regimen with its timing network solved (made on first use); None without a regimen."""
        if self._compiled is None and self.unit.regimen is not None:
            self._compiled = compile_regimen(self.unit.regimen)
        return self._compiled

    @property
    def medicines(self) -> MedicineTable | None:
        """The medicines the document's library knows (the package's and ``library.reg``'s)."""
        return self.library.defs.medicines if self.library is not None else None

    @property
    def names(self) -> list[Name]:
        """Every word of the document naming a medicine, block, footnote or regimen, in order (made on first use)."""
        if self._names is None:
            module, table = self.unit.module, self.medicines
            if module is None:
                self._names = []
            elif self.is_library:
                self._names = library_names(module, table) if table is not None else []
            else:
                self._names = regimen_names(module, self.unit.regimen)
        return self._names

    def name_at(self, offset: int) -> Name | None:
        """Return the name written at the code-point ``offset`` (touching its start or end), if any."""
        return next((n for n in self.names if n.span.start <= offset <= n.span.end), None)


def as_read(text: str) -> tuple[bytes, int]:
    """Return an editor's text as ``read_regular`` returns a file's bytes: its UTF-8 bytes and their size."""
    data = text.encode("utf-8", errors="surrogatepass")
    return data, len(data)


def _configuration(path: Path) -> Config | Configs | Outcome:
    """Return the configuration in force for ``path`` (the nearest above it; the defaults for a file not saved yet)."""
    return configure([path] if path.is_file() else [])


class Libraries:
    """The libraries read by earlier checks, each kept while none of its files changed.

    A library is read from ``library.reg`` and the headings of its regimens; it is used again
    only while every one of those files, and the list of them, is as it was when it was read:
    the same path, inode, size, mode, modification and change times.
    """

    def __init__(self) -> None:
        self.kept: dict[Path, tuple[_Stamp, Library]] = {}

    def unchanged(self, root: Path) -> dict[Path, Library]:
        """Return the library at ``root`` if one was kept and none of its files changed since (else nothing)."""
        kept = self.kept.get(root)
        return {root: kept[1]} if kept is not None and kept[0] == _stamp(root) else {}

    def keep(self, libraries: dict[Path, Library]) -> None:
        """Keep the libraries a check read, by root, with the stamp of their files."""
        for root, found in libraries.items():
            self.kept[root] = (_stamp(root), found)


_Stamp = tuple[tuple[str, int, int, int, int, int], ...]


def _stamp(root: Path) -> _Stamp:
    """Return what says whether a library's files changed: each one's path, inode, size, mode and times."""
    files = regimen_files(root, below=os.path.lexists(root / LIBRARY_FILE))
    return tuple(
        (str(path), info.st_ino, info.st_size, info.st_mode, info.st_mtime_ns, info.st_ctime_ns) for path, info in files
    )


def analyse(path: Path, text: str, libraries: Libraries | None = None) -> Analysis:
    """Check the unsaved ``text`` of the file at ``path``; raises ``PathError`` for a library that cannot be used.

    ``libraries`` keeps the libraries read, for the next check to use while they are unchanged.
    """
    source = SourceFile(str(path), text)
    config = _configuration(path)
    if isinstance(config, Outcome):  # a bad configuration: its findings, and nothing checked
        return _split(path, text, source, config, None)
    root = library_root(path, config)
    if path.name == LIBRARY_FILE:
        found = load_library(root)
        sink = Sink()
        read, fit = read_source(path, sink, as_read(text))
        if fit:
            lower_library(parse(read, sink), MedicineTable(DEFAULT_MEDICINES), sink)  # as load_library does
        outcome = Outcome(diagnostics=config.of(path).apply(sink.sorted()), sources={read.path: read}, files=1)
        return _split(path, text, read, outcome, found)
    known = libraries.unchanged(root) if libraries is not None else {}
    outcome = run_check([path], config=config, texts={path: as_read(text)[0]}, cache=True, libraries=known)
    if libraries is not None:
        libraries.keep(outcome.libraries)
    return _split(path, text, outcome.sources.get(str(path), source), outcome, outcome.libraries.get(root))


def _split(path: Path, text: str, source: SourceFile, outcome: Outcome, found: Library | None) -> Analysis:
    mine: list[Diagnostic] = []
    elsewhere: dict[Path, list[Diagnostic]] = {}
    for diagnostic in outcome.diagnostics:
        if diagnostic.span.path == source.path:
            mine.append(diagnostic)
        else:
            elsewhere.setdefault(shown_path(diagnostic.span.path), []).append(diagnostic)
    return Analysis(path, text, source, mine, elsewhere, outcome.sources, found)
