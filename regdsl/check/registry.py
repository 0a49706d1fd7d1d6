"""Rules and the one registry of every code: ``@rule`` makes a rule, ``build_registry`` gathers them.

A rule's docstring is its documentation, with the sections *What it does*, *Why it
matters*, *Example* and *Use instead*; ``regdsl explain`` prints it and ``docs/rules.md``
is generated from it. ``@rule`` only makes the rule: nothing is registered by importing a
module. ``build_registry`` gathers the rules of a declared list of modules (see
``regdsl.check.rules.RULE_MODULES``) with the codes found before any rule runs
(``regdsl.diagnostics.codes.CODES``), and refuses, with ``CodeError``, a malformed or
undocumented rule and two codes with one code or name.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from regdsl.diagnostics import Code, Diagnostic, Fix, Label, Severity
from regdsl.diagnostics.codes import CodeError, define, index
from regdsl.source import Span
from regdsl.syntax.expected import close_match

if TYPE_CHECKING:
    from regdsl.check.context import LibraryContext, RuleContext

__all__ = ["SECTIONS", "Registry", "Rule", "build_registry", "library_rule", "rule"]

SECTIONS = ("What it does", "Why it matters", "Example", "Use instead")
_SECTION = re.compile(r"^(" + "|".join(re.escape(s) for s in SECTIONS) + r"):", re.MULTILINE)

Check = Callable[["RuleContext"], Iterable[Diagnostic]]
LibraryCheck = Callable[["LibraryContext"], Iterable[Diagnostic]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A check and its code: per regimen (``check``) or across the regimens of a library (``library_check``)."""

    code: Code
    check: Check | None = None
    library_check: LibraryCheck | None = None

    def finding(
        self,
        span: Span,
        message: str,
        *,
        label: str = "",
        help: str | None = None,
        notes: tuple[str, ...] = (),
        secondary: tuple[Label, ...] = (),
        fixes: tuple[Fix, ...] = (),
    ) -> Diagnostic:
        """Build a diagnostic of this rule (``fixes``: the mechanical edits that resolve it, if certain)."""
        return Diagnostic(
            code=self.code,
            message=message,
            primary=Label(span, label),
            secondary=secondary,
            notes=notes,
            help=help,
            fixes=fixes,
        )


def _documented(
    code: str, name: str, severity: Severity, summary: str, doc: str | None, suppressible: bool, many: str = ""
) -> Code:
    """Return a rule's code; raises ``CodeError`` unless its docstring has every section, in order."""
    explanation = inspect.cleandoc(doc or "")
    found = _SECTION.findall(explanation)
    if found != list(SECTIONS):
        raise CodeError(f"{code} {name}: the docstring has the sections {found}, not {list(SECTIONS)}")
    return define(code, name, severity, summary, explanation, suppressible=suppressible, many=many)


def rule(
    code: str, name: str, severity: Severity, summary: str, *, suppressible: bool = True, many: str = ""
) -> Callable[[Check], Rule]:
    """Make the decorated function the per-regimen check of ``code`` (``many``: see ``define``)."""

    def make(check: Check) -> Rule:
        return Rule(code=_documented(code, name, severity, summary, check.__doc__, suppressible, many), check=check)

    return make


def library_rule(code: str, name: str, severity: Severity, summary: str) -> Callable[[LibraryCheck], Rule]:
    """Make the decorated function a check across the regimens of a library."""

    def make(check: LibraryCheck) -> Rule:
        return Rule(code=_documented(code, name, severity, summary, check.__doc__, True), library_check=check)

    return make


@dataclass(frozen=True, slots=True)
class Registry:
    """Every code regdsl can report, in code order, and the rules that report theirs."""

    codes: Mapping[str, Code]
    rules: tuple[Rule, ...]
    library_rules: tuple[Rule, ...]

    def find(self, key: str) -> Code | None:
        """Find a code by its code (``SYN001``) or its name (``syntax-error``)."""
        key = key.strip()
        return self.codes.get(key.upper()) or next((c for c in self.codes.values() if c.name == key), None)

    def suggest(self, key: str) -> str | None:
        """Return the code or name closest to ``key``, for "did you mean"."""
        return close_match(key, [*self.codes, *(c.name for c in self.codes.values())])

    def kind(self, code: Code) -> str:
        """Say when a code is found: by a regimen rule, a library rule, or before any rule runs."""
        if any(r.code is code for r in self.rules):
            return "a rule, checked on each regimen"
        if any(r.code is code for r in self.library_rules):
            return "a library rule, checked across the regimens of one run"
        if code.code.startswith("CFG"):
            return "found in the configuration file"
        if code.code.startswith("IGN"):
            return "found in suppression comments"
        if code.code == "INT001":
            return "an internal error of the compiler"
        return "found while reading, parsing and lowering a file"


def rules_of(module: ModuleType) -> list[Rule]:
    """Return the rules a module defines (not those it imports), in the order it defines them."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, Rule)
        and getattr(value.check or value.library_check, "__module__", None) == module.__name__
    ]


def build_registry(modules: Iterable[ModuleType], found_before: Iterable[Code]) -> Registry:
    """Gather the rules of ``modules`` with the codes ``found_before`` them, in code order.

    Raises ``CodeError`` for two codes with one code or one name.
    """
    found = sorted((r for m in modules for r in rules_of(m)), key=lambda r: r.code.code)
    codes = index([*found_before, *(r.code for r in found)])
    return Registry(
        codes=codes,
        rules=tuple(r for r in found if r.check is not None),
        library_rules=tuple(r for r in found if r.library_check is not None),
    )
