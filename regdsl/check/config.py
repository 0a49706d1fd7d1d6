"""Configuration: rule selection and severities, the library root, excluded paths."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from regdsl.diagnostics import Diagnostic, Severity
from regdsl.diagnostics.codes import by_code_or_name

__all__ = ["Config"]


@dataclass(frozen=True, slots=True)
class Config:
    """What ``[tool.regdsl]`` (or ``regdsl.toml``) says; the defaults select every rule."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    root: Path | None = None
    exclude: tuple[str, ...] = ()
    path: Path | None = None

    def excluded(self, path: Path) -> bool:
        """Whether ``path`` matches an ``exclude`` pattern (relative to the configuration's folder)."""
        if not self.exclude:
            return False
        base = self.path.parent if self.path else Path.cwd()
        try:
            rel = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        return any(
            fnmatch.fnmatch(rel, pattern) or rel.startswith(pattern.rstrip("/") + "/") for pattern in self.exclude
        )

    def apply(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """Drop unselected or ignored findings and apply severity overrides (never to unsuppressible ones)."""
        kept = []
        for diag in diagnostics:
            code = diag.code
            keys = {code.code, code.name}
            if code.suppressible:
                if self.select is not None and not keys & self.select and not _prefix(code.code, self.select):
                    continue
                if keys & self.ignore or _prefix(code.code, self.ignore):
                    continue
                level = self.severity.get(code.code)
                if level is not None:
                    diag = replace(diag, severity=level)
            kept.append(diag)
        return kept


def _prefix(code: str, keys: Iterable[str]) -> bool:
    """``SAF`` selects every ``SAF`` code; ``SAF1`` every ``SAF1xx``."""
    return any(code.startswith(k) and k.isalnum() and k.upper() == k and len(k) < len(code) for k in keys)


def normalise(keys: Sequence[str]) -> tuple[frozenset[str], list[str]]:
    """Map rule names and codes to codes; return them and the keys that name nothing."""
    found: set[str] = set()
    unknown: list[str] = []
    for key in keys:
        code = by_code_or_name(key)
        if code is not None:
            found.add(code.code)
        elif key.isalnum() and key.upper() == key and 1 <= len(key) <= 5:
            found.add(key)
        else:
            unknown.append(key)
    return frozenset(found), unknown
