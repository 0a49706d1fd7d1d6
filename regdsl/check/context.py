"""What a rule sees: the compiled regimen and the library around it.

A rule never reads the source text: the regimen keeps where each word, text and prose line
was written (``regdsl.model.ir``), and a finding is located from that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from regdsl.compile.library import RegimenInfo
from regdsl.compile.passes import Compiled
from regdsl.compile.totals import DEFAULT
from regdsl.model import ir

__all__ = ["LibraryContext", "RuleContext"]


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a regimen rule may read."""

    compiled: Compiled
    infos: Mapping[str, RegimenInfo]
    words: frozenset[str] = frozenset()  # the library's own words (its medicines, its configured `words`)
    jurisdiction: str = DEFAULT  # the configured set of lifetime dose limits

    @property
    def regimen(self) -> ir.Regimen:
        """The lowered regimen."""
        return self.compiled.regimen


@dataclass(frozen=True, slots=True)
class LibraryContext:
    """Everything a library rule may read: every regimen lowered in this run, and the scanned rest."""

    regimens: Mapping[str, ir.Regimen]
    infos: Mapping[str, RegimenInfo]
    checked: frozenset[str]
    jurisdiction: str = DEFAULT  # the configured set of lifetime dose limits
