"""Configuration: rule selection and severities, the library root, excluded paths.

The configuration is the ``[tool.regdsl]`` table of a ``pyproject.toml`` or the top level of
a ``regdsl.toml``, found for each checked file by walking up from its folder, as ruff does:
the nearest wins, and ``regdsl.toml`` beats ``pyproject.toml`` in the same folder (a
``pyproject.toml`` without ``[tool.regdsl]`` is passed over). Keys:

- ``select``, ``ignore``: lists of codes (``SAF101``), rule names (``dose-trailing-zero``) or
  code prefixes (``SAF``, ``SAF1``);
- ``extend-select``: rules checked as well as those ``select`` names (which ``--select`` replaces);
- ``per-file-ignores``: a table of glob pattern (relative to the configuration file, as
  ``exclude``) = the rules to leave out in the files it matches;
- ``severity``: a table of code or name = ``"error"``, ``"warning"`` or ``"info"``;
- ``root``: the library root, relative to the configuration file (inside its folder);
- ``exclude``: glob patterns of paths not to check, relative to the configuration file;
- ``words``: words of the library's prose that the spelling rule (PRO001) should know:
  names, places, local terms (any case; a word of letters, such as ``"Whanganui"``);
- ``jurisdiction``: the set of lifetime dose limits the cumulative-dose rules (SAF301 to
  SAF306) and the pages use, by its name in ``model/data/cumulative.json`` (``"default"``).

Findings that cannot be suppressed cannot be ignored or downgraded either: naming one is
itself a finding. A bad configuration is reported as located findings in the file, and
nothing is checked (``regdsl check`` exits 2).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from regdsl.check.rules import registry
from regdsl.compile.library import MAX_BYTES, PathError, decode_utf8, read_regular, refused_owner
from regdsl.compile.totals import DEFAULT, JURISDICTIONS
from regdsl.diagnostics import Code, Diagnostic, Label, Severity
from regdsl.diagnostics import codes as c
from regdsl.source import SourceFile
from regdsl.syntax.expected import close_match
from regdsl.syntax.toml import TomlText, mentions_regdsl

__all__ = [
    "CONFIG_FILE",
    "KEYS",
    "PYPROJECT",
    "Config",
    "ConfigError",
    "Configs",
    "LoadedConfig",
    "discover_config",
    "find_config",
    "load_config",
    "resolve_keys",
]

CONFIG_FILE = "regdsl.toml"
PYPROJECT = "pyproject.toml"
KEYS = ("select", "extend-select", "ignore", "per-file-ignores", "severity", "root", "exclude", "words", "jurisdiction")
LEVELS = {level.value: level for level in Severity}
_BOM = b"\xef\xbb\xbf"
_LIST_EXAMPLES = {
    "exclude": 'write it as a list, such as `exclude = ["drafts/*"]`',
    "words": 'write it as a list, such as `words = ["Whanganui", "Waikato"]`',
}


class ConfigError(Exception):
    """A rule selection given on the command line names nothing, or a rule that cannot be silenced."""


@dataclass(frozen=True, slots=True)
class Config:
    """What ``[tool.regdsl]`` (or ``regdsl.toml``) says; the defaults select every rule."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    root: Path | None = None
    exclude: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()
    jurisdiction: str = DEFAULT  # the lifetime limits used: a set of ``model/data/cumulative.json``
    path: Path | None = None
    extend_select: frozenset[str] = frozenset()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()

    def of(self, path: Path) -> Config:
        """Return the configuration in force for ``path``: this one (``Configs`` finds one per file)."""
        return self

    def _relative(self, path: Path) -> str:
        base = self.path.parent if self.path else Path.cwd()
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def excluded(self, path: Path) -> bool:
        """Whether ``path`` matches an ``exclude`` pattern (relative to the configuration's folder)."""
        if not self.exclude:
            return False
        rel = self._relative(path)
        return any(_matches(rel, pattern) for pattern in self.exclude)

    def _ignored_in(self) -> Callable[[str], frozenset[str]]:
        """Return what ``per-file-ignores`` leaves out of the file at a display path (each path resolved once)."""

        @functools.cache
        def ignored(display: str) -> frozenset[str]:
            rel = self._relative(Path(display))
            return frozenset(key for pattern, keys in self.per_file_ignores if _matches(rel, pattern) for key in keys)

        return ignored

    def apply(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """Drop unselected or ignored findings and apply severity overrides (never to unsuppressible ones)."""
        kept = []
        ignored_in = self._ignored_in()
        for diag in diagnostics:
            code = diag.code
            keys = {code.code, code.name}
            if code.suppressible:
                selected = self.select is None or keys & self.select or _prefix(code.code, self.select)
                if not selected and not keys & self.extend_select and not _prefix(code.code, self.extend_select):
                    continue
                ignore = self.ignore | ignored_in(diag.span.path) if self.per_file_ignores else self.ignore
                if keys & ignore or _prefix(code.code, ignore):
                    continue
                level = self.severity.get(code.code)
                if level is not None:
                    diag = replace(diag, severity=level)
            kept.append(diag)
        return kept

    def overridden(
        self,
        *,
        select: Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
        extend_select: Sequence[str] | None = None,
    ) -> Config:
        """Return this configuration with ``select`` and ``ignore`` replaced (the command line's options).

        ``extend_select`` adds to the configuration's ``extend-select``. Raises ``ConfigError``
        for a name that is no rule, or an ignored rule that cannot be silenced.
        """
        config = self
        if select is not None:
            config = replace(config, select=_option("--select", select, ignoring=False))
        if ignore is not None:
            config = replace(config, ignore=_option("--ignore", ignore, ignoring=True))
        if extend_select is not None:
            extended = config.extend_select | _option("--extend-select", extend_select, ignoring=False)
            config = replace(config, extend_select=extended)
        return config


def _option(option: str, keys: Sequence[str], *, ignoring: bool) -> frozenset[str]:
    """Resolve a command-line option's rules; raises ``ConfigError`` naming the option for a bad one."""
    found, problems = resolve_keys(keys, ignoring=ignoring)
    if problems:
        raise ConfigError(f"{option}: " + "; ".join(message for _, message, _ in problems))
    return found


@dataclass(frozen=True, slots=True)
class Configs:
    """The configuration of each checked file: the nearest above its folder, as ruff finds it.

    ``first`` is the configuration of the command's first path (what it must never replace,
    and what a file of no known folder is checked under).
    """

    first: Config
    by_folder: Mapping[Path, Config]  # resolved folders of the checked files

    @property
    def path(self) -> Path | None:
        """The first path's configuration file."""
        return self.first.path

    @property
    def jurisdiction(self) -> str:
        """The lifetime limits the library rules (across files) use: the first path's configuration's."""
        return self.first.jurisdiction

    @property
    def paths(self) -> list[Path]:
        """Every configuration file in force, in order."""
        found = {c.path for c in (self.first, *self.by_folder.values()) if c.path is not None}
        return sorted(found)

    def of(self, path: Path) -> Config:
        """Return the configuration in force for ``path``."""
        return self.by_folder.get(path.resolve().parent, self.first)


def _matches(rel: str, pattern: str) -> bool:
    """Whether the relative path ``rel`` matches a glob of ``exclude`` or ``per-file-ignores`` (or lies under it)."""
    return fnmatch.fnmatch(rel, pattern) or rel.startswith(pattern.rstrip("/") + "/")


def _prefix(code: str, keys: Iterable[str]) -> bool:
    """``SAF`` selects every ``SAF`` code; ``SAF1`` every ``SAF1xx``."""
    return any(code.startswith(k) and k.isalnum() and k.upper() == k and len(k) < len(code) for k in keys)


def _is_prefix(key: str) -> bool:
    return (
        key.isalnum() and key.upper() == key and 1 <= len(key) <= 5 and any(k.startswith(key) for k in registry().codes)
    )


def _level_guess(text: object) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    lower = text.lower()
    return next((name for name in LEVELS if name.startswith(lower) or lower == name), None) or close_match(
        lower, list(LEVELS)
    )


def _suggest(key: str) -> str:
    guess = registry().suggest(key)
    return f"did you mean `{guess}`?" if guess else "`regdsl rules` lists them"


def resolve_keys(keys: Sequence[str], *, ignoring: bool) -> tuple[frozenset[str], list[tuple[str, str, Code]]]:
    """Map rule names, codes and prefixes to codes and prefixes.

    Returns them and the problems: (the key, what is wrong, the code of the finding).
    Ignoring a rule that cannot be silenced, by its code or name, is a problem; a prefix
    covering one ignores only the rules that can be silenced.
    """
    found: set[str] = set()
    problems: list[tuple[str, str, Code]] = []
    for key in keys:
        code = registry().find(key)
        if code is not None:
            if ignoring and not code.suppressible:
                problems.append(
                    (
                        key,
                        f"`{code.name}` ({code.code}) cannot be ignored: correct the regimen instead",
                        c.CONFIG_UNSUPPRESSIBLE,
                    )
                )
                continue
            found.add(code.code)
        elif _is_prefix(key):
            found.add(key)
        else:
            problems.append((key, f"no rule or code `{key}`: {_suggest(key)}", c.CONFIG_UNKNOWN_RULE))
    return frozenset(found), problems


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A configuration as read: its settings, the findings about it, and its text (for showing them)."""

    config: Config
    diagnostics: tuple[Diagnostic, ...] = ()
    source: SourceFile | None = None


def _has_tool_table(path: Path) -> bool:
    """Whether a ``pyproject.toml`` configures regdsl: it has ``tool.regdsl``, however it is written."""
    text = read_regular(path, MAX_BYTES)[0].decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        tool = tomllib.loads(text).get("tool")
    except (tomllib.TOMLDecodeError, RecursionError):  # not TOML: regdsl's if it looks so, to report why
        return mentions_regdsl(text)
    return isinstance(tool, dict) and "regdsl" in tool


def find_config(start: Path) -> Path | None:
    """Return the nearest configuration file at or above ``start`` (a file's folder, or a folder).

    Anything named ``regdsl.toml`` or ``pyproject.toml`` counts (a FIFO, a folder, a dangling
    link): reading it then fails, naming it, rather than its settings silently not applying.
    """
    here = start.resolve()
    folder = here if here.is_dir() else here.parent
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_FILE
        if os.path.lexists(own):
            return own
        project = candidate / PYPROJECT
        if os.path.lexists(project) and _has_tool_table(project):
            return project
    return None


def discover_config(paths: Sequence[Path]) -> LoadedConfig:
    """Find and load the configuration of the first checked path (the defaults if there is none)."""
    if not paths:
        return LoadedConfig(Config())
    found = find_config(paths[0])
    return load_config(found) if found is not None else LoadedConfig(Config())


def _display(path: Path) -> str:
    """Show a configuration file as the regimen files are shown: relative to here when below it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.fspath(path) if path.is_absolute() else resolved.as_posix()


class _Reader:
    """Validates a configuration table and locates each problem in the file's text."""

    def __init__(self, source: SourceFile, written: TomlText, base: int) -> None:
        self.source = source
        self.written = written
        self.base = base
        self.found: list[Diagnostic] = []

    def key_at(self, key: str, start: int | None = None) -> tuple[int, int]:
        """Find ``key = `` (bare or quoted) after ``start``; the table's header when it is not written."""
        return self.written.key(key, self.base if start is None else start, self.base)

    def value_at(self, value: str, after: int) -> tuple[int, int]:
        """Find the quoted ``value`` after offset ``after``; the key when it is not found."""
        return self.written.value(value, after)

    def report(self, code: Code, where: tuple[int, int], message: str, label: str, help: str | None) -> None:
        span = self.source.span(*where)
        self.found.append(Diagnostic(code=code, message=message, primary=Label(span, label), help=help))

    def strings(self, key: str, value: object) -> list[str] | None:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [str(v) for v in value]
        self.report(
            c.CONFIG_WRONG_TYPE,
            self.key_at(key),
            f"`{key}` takes a list of strings",
            "not a list of strings",
            _LIST_EXAMPLES.get(key, f'write it as a list, such as `{key} = ["SAF", "dose-trailing-zero"]`'),
        )
        return None

    def rules(self, key: str, value: object, *, ignoring: bool) -> frozenset[str] | None:
        names = self.strings(key, value)
        if names is None:
            return None
        found, problems = resolve_keys(names, ignoring=ignoring)
        after = self.key_at(key)[0]
        for name, message, code in problems:
            self.report(
                code,
                self.value_at(name, after),
                message,
                "cannot be ignored" if code is c.CONFIG_UNSUPPRESSIBLE else "unknown",
                None,
            )
        return found

    def per_file_ignores(self, value: object) -> tuple[tuple[str, frozenset[str]], ...]:
        key = "per-file-ignores"
        if not isinstance(value, dict):
            self.report(
                c.CONFIG_WRONG_TYPE,
                self.key_at(key),
                f"`{key}` takes a table of glob pattern = list of rules",
                "not a table",
                'write it as `per-file-ignores = { "drafts/*" = ["SUP002"] }`',
            )
            return ()
        after = self.key_at(key)[0]
        found = []
        for pattern, names in value.items():
            where = self.key_at(pattern, after)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                self.report(
                    c.CONFIG_WRONG_TYPE,
                    where,
                    f"the rules of `{pattern}` in `{key}` take a list of strings",
                    "not a list of strings",
                    f'write it as `"{pattern}" = ["SUP002", "prose-near-miss"]`',
                )
                continue
            keys, problems = resolve_keys([str(n) for n in names], ignoring=True)
            for name, message, code in problems:
                label = "cannot be ignored" if code is c.CONFIG_UNSUPPRESSIBLE else "unknown"
                self.report(code, self.value_at(name, where[1]), message, label, None)
            found.append((pattern, keys))
        return tuple(found)

    def severities(self, value: object) -> dict[str, Severity]:
        if not isinstance(value, dict):
            self.report(
                c.CONFIG_WRONG_TYPE,
                self.key_at("severity"),
                "`severity` takes a table of rule = level",
                "not a table",
                'write it as `severity = { "dose-trailing-zero" = "warning" }`',
            )
            return {}
        after = self.key_at("severity")[0]
        levels: dict[str, Severity] = {}
        for name, level_text in value.items():
            where = self.key_at(name, after)
            level = LEVELS.get(level_text) if isinstance(level_text, str) else None
            if level is None:
                if isinstance(level_text, str):
                    where = self.value_at(level_text, where[1])
                shown = level_text if isinstance(level_text, str) else repr(level_text)
                guess = _level_guess(level_text)
                self.report(
                    c.CONFIG_BAD_SEVERITY,
                    where,
                    f"`{shown}` is not a severity: use `error`, `warning` or `info`",
                    "bad level",
                    f"did you mean `{guess}`?" if guess else None,
                )
                continue
            code = registry().find(name)
            targets: list[Code]
            if code is not None:
                if not code.suppressible and level is not code.severity:
                    self.report(
                        c.CONFIG_UNSUPPRESSIBLE,
                        where,
                        f"`{code.name}` ({code.code}) is always an {code.severity.value}: it cannot be changed",
                        "cannot be changed",
                        "correct the regimen instead",
                    )
                    continue
                targets = [code]
            elif _is_prefix(name):
                targets = [k for key, k in registry().codes.items() if key.startswith(name) and k.suppressible]
            else:
                self.report(
                    c.CONFIG_UNKNOWN_RULE, where, f"no rule or code `{name}`: {_suggest(name)}", "unknown", None
                )
                continue
            for target in targets:
                levels[target.code] = level
        return levels

    def jurisdiction(self, value: object) -> str:
        """Return the jurisdiction ``value`` names, reporting a value that names none of the data's."""
        if isinstance(value, str) and value in JURISDICTIONS:
            return value
        known = ", ".join(f"`{name}`" for name in sorted(JURISDICTIONS))
        where = self.key_at("jurisdiction")
        if isinstance(value, str):
            where = self.value_at(value, where[1])
        guess = close_match(value, sorted(JURISDICTIONS)) if isinstance(value, str) else None
        self.report(
            c.CONFIG_WRONG_TYPE,
            where,
            f"`jurisdiction` takes the name of a set of lifetime limits regdsl has: {known}",
            "no such set of limits",
            f"did you mean `{guess}`?" if guess else f'such as `jurisdiction = "{DEFAULT}"`',
        )
        return DEFAULT

    def root(self, value: object, folder: Path) -> Path | None:
        if not isinstance(value, str):
            self.report(
                c.CONFIG_WRONG_TYPE,
                self.key_at("root"),
                "`root` takes a string",
                "not a string",
                'such as `root = "regimens"`',
            )
            return None
        where = self.value_at(value, self.key_at("root")[0])
        try:
            root = (folder / value).resolve()
        except (OSError, ValueError):  # a loop of links, a NUL
            root = None
        base = folder.resolve()
        if root is not None and root != base and base not in root.parents:
            self.report(
                c.CONFIG_ROOT_OUTSIDE,
                where,
                f"the library root `{value}` is outside the folder of this configuration",
                "outside this folder",
                "give a folder inside the one that holds this file, or move the configuration to the library's folder",
            )
            return None
        if root is None or not _is_folder(root):
            self.report(
                c.CONFIG_BAD_ROOT,
                where,
                f"the library root `{value}` is not a folder",
                "no such folder",
                "give the library's folder, relative to this file",
            )
            return None
        return root


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long for the file system
        return False


def load_config(path: Path) -> LoadedConfig:
    """Read and check one configuration file; ``[tool.regdsl]`` when it is a ``pyproject.toml``.

    Raises ``PathError`` for a file that cannot be read, and for one that another user could
    have written (``refused_owner``); what it holds is reported as findings.
    """
    refusal = refused_owner(path)
    if refusal is not None:
        raise PathError(f"{path}: {refusal}; move it, or make it yours and writable only by you")
    source, unreadable = _decoded(path)
    if unreadable is not None:
        return LoadedConfig(Config(path=path), (unreadable,), source)
    written = TomlText(source)
    try:
        document = tomllib.loads(written.text)
    except tomllib.TOMLDecodeError as err:
        return LoadedConfig(Config(path=path), (_syntax_error(source, written, err),), source)
    except RecursionError:  # tomllib reads nested arrays and tables by recursion
        return LoadedConfig(Config(path=path), (_too_deep(source, written),), source)
    table: object = document
    base = 0
    if path.name == PYPROJECT:
        tool = document.get("tool", {})
        table = tool.get("regdsl", {}) if isinstance(tool, dict) else {}
        base = written.tool_table()
    reader = _Reader(source, written, base)
    if not isinstance(table, dict):
        reader.report(
            c.CONFIG_WRONG_TYPE, reader.key_at("regdsl"), "`tool.regdsl` must be a table", "not a table", None
        )
        return LoadedConfig(Config(path=path), tuple(reader.found), source)
    config = _read(reader, table, path)
    return LoadedConfig(config, tuple(reader.found), source)


def _read(reader: _Reader, table: Mapping[str, object], path: Path) -> Config:
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = {}
    root: Path | None = None
    exclude: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()
    jurisdiction = DEFAULT
    extend_select: frozenset[str] = frozenset()
    per_file: tuple[tuple[str, frozenset[str]], ...] = ()
    for key, value in table.items():
        match key:
            case "select":
                select = reader.rules(key, value, ignoring=False)
            case "extend-select":
                extend_select = reader.rules(key, value, ignoring=False) or frozenset()
            case "per-file-ignores":
                per_file = reader.per_file_ignores(value)
            case "ignore":
                ignore = reader.rules(key, value, ignoring=True) or frozenset()
            case "severity":
                severity = reader.severities(value)
            case "root":
                root = reader.root(value, path.parent)
            case "exclude":
                exclude = tuple(reader.strings(key, value) or ())
            case "words":
                words = frozenset(reader.strings(key, value) or ())
            case "jurisdiction":
                jurisdiction = reader.jurisdiction(value)
            case _:
                guess = close_match(key, KEYS)
                reader.report(
                    c.CONFIG_UNKNOWN_KEY,
                    reader.key_at(key),
                    f"regdsl has no setting `{key}`",
                    "unknown key",
                    f"did you mean `{guess}`?" if guess else "settings: " + ", ".join(f"`{k}`" for k in KEYS),
                )
    return Config(
        select=select,
        ignore=ignore,
        severity=severity,
        root=root,
        exclude=exclude,
        words=words,
        jurisdiction=jurisdiction,
        path=path,
        extend_select=extend_select,
        per_file_ignores=per_file,
    )


def _syntax_error(source: SourceFile, written: TomlText, err: tomllib.TOMLDecodeError) -> Diagnostic:
    offset, what = written.error(str(err))
    return _not_toml(
        source,
        offset,
        offset + 1,
        f"the configuration is not valid TOML: {what[:1].lower()}{what[1:]}",
        "here",
        "see https://toml.io for the syntax; nothing is checked until this is fixed",
    )


def _not_toml(source: SourceFile, start: int, end: int, message: str, label: str, help: str) -> Diagnostic:
    return Diagnostic(code=c.CONFIG_SYNTAX, message=message, primary=Label(source.span(start, end), label), help=help)


def _decoded(path: Path) -> tuple[SourceFile, Diagnostic | None]:
    """Return the configuration's text, and why it cannot be read as TOML before parsing (size, BOM, bytes)."""
    data, size = read_regular(path, MAX_BYTES)
    display = _display(path)
    if size > MAX_BYTES:
        source = SourceFile(display, "")
        return source, _not_toml(
            source,
            0,
            0,
            f"the configuration is {size:,} bytes; a configuration is limited to {MAX_BYTES:,} bytes",
            "not read",
            "check that this is the configuration file",
        )
    bom = data.startswith(_BOM)
    text, bad = decode_utf8(data.removeprefix(_BOM))
    source = SourceFile(display, text)
    if bom:
        return source, _not_toml(
            source,
            0,
            min(1, len(text)),
            "the configuration starts with a byte-order mark (U+FEFF), which TOML does not allow",
            "byte-order mark before this",
            "save the file as UTF-8 without a byte-order mark",
        )
    if bad is not None:
        offset, byte = bad
        return source, _not_toml(
            source,
            offset,
            offset + 1,
            f"byte 0x{byte:02x} is not UTF-8 text; a configuration is UTF-8",
            "not UTF-8",
            "save the file as UTF-8 text",
        )
    return source, None


def _too_deep(source: SourceFile, written: TomlText) -> Diagnostic:
    """Report arrays and tables nested too deeply, where they nest deepest."""
    at = written.deepest()
    return _not_toml(
        source,
        at,
        at + 1,
        "the configuration nests arrays or tables too deeply to be read",
        "nested too deeply",
        "a configuration needs lists of strings and one level of tables",
    )
