"""The rule registry: ``@rule`` registers a typed check function under a code and a name.

A rule's docstring is its documentation, with the sections *What it does*, *Why it
matters*, *Example* and *Use instead*; ``regdsl explain`` prints it and ``docs/rules.md``
is generated from it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from regdsl.diagnostics import Code, Diagnostic, Label, Severity
from regdsl.diagnostics.codes import REGISTRY
from regdsl.source import Span

if TYPE_CHECKING:
    from regdsl.check.context import LibraryContext, RuleContext

__all__ = ["LIBRARY_RULES", "RULES", "SECTIONS", "Rule", "iter_rules", "library_rule", "rule"]

SECTIONS = ("What it does", "Why it matters", "Example", "Use instead")

Check = Callable[["RuleContext"], Iterable[Diagnostic]]
LibraryCheck = Callable[["LibraryContext"], Iterable[Diagnostic]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered check: its code and the function that finds it (per regimen, or per library)."""

    code: Code
    check: Check | None = None
    library_check: LibraryCheck | None = None
    aliases: tuple[str, ...] = field(default=())

    def finding(
        self,
        span: Span,
        message: str,
        *,
        label: str = "",
        help: str | None = None,
        notes: tuple[str, ...] = (),
        secondary: tuple[Label, ...] = (),
    ) -> Diagnostic:
        """Build a diagnostic of this rule."""
        return Diagnostic(
            code=self.code, message=message, primary=Label(span, label), secondary=secondary, notes=notes, help=help
        )


RULES: dict[str, Rule] = {}
LIBRARY_RULES: dict[str, Rule] = {}


def _code(code: str, name: str, severity: Severity, summary: str, doc: str | None, suppressible: bool) -> Code:
    if code in REGISTRY:
        raise ValueError(f"code {code} is registered twice")
    entry = Code(
        code=code,
        name=name,
        severity=severity,
        summary=summary,
        explanation=inspect.cleandoc(doc or ""),
        suppressible=suppressible,
    )
    REGISTRY[code] = entry
    return entry


def rule(
    code: str, name: str, severity: Severity, summary: str, *, suppressible: bool = True, aliases: tuple[str, ...] = ()
) -> Callable[[Check], Rule]:
    """Register the decorated function as the per-regimen check for ``code``."""

    def register(check: Check) -> Rule:
        entry = _code(code, name, severity, summary, check.__doc__, suppressible)
        RULES[code] = found = Rule(code=entry, check=check, aliases=aliases)
        return found

    return register


def library_rule(code: str, name: str, severity: Severity, summary: str) -> Callable[[LibraryCheck], Rule]:
    """Register the decorated function as a check across the regimens of a library."""

    def register(check: LibraryCheck) -> Rule:
        entry = _code(code, name, severity, summary, check.__doc__, True)
        LIBRARY_RULES[code] = found = Rule(code=entry, library_check=check)
        return found

    return register


def iter_rules() -> Iterator[Rule]:
    """Iterate over every rule, per regimen and per library, in code order."""
    every = {**RULES, **LIBRARY_RULES}
    for key in sorted(every):
        yield every[key]
