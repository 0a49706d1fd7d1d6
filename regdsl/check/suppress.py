"""Suppression comments: ``# regdsl: ignore[rule-name, CODE] -- reason``.

A suppression at the end of a line covers findings that start on that line; one alone on
its line covers the next line that is not blank or a comment (the parser says which: see
``ast.Comment.covers``). A suppression without a reason does not apply; one that silences
nothing, names an unknown rule, or names a finding that cannot be silenced is itself a finding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from regdsl.check.rules import registry
from regdsl.diagnostics import Code, Diagnostic, Label
from regdsl.diagnostics import codes as c
from regdsl.model import ast
from regdsl.source import Span

__all__ = ["Suppression", "apply_suppressions", "find_suppressions"]

_PATTERN = re.compile(r"#\s*regdsl:\s*ignore\[(?P<names>[^\]]*)\](?P<rest>.*)$")
_REASON = re.compile(r"^\s*--\s*(?P<reason>\S.*)$")


@dataclass(frozen=True, slots=True)
class Suppression:
    """One suppression comment: what it names, why, and the line it covers."""

    span: Span
    names: tuple[str, ...]
    reason: str | None
    line: int


def find_suppressions(comments: Sequence[ast.Comment]) -> list[Suppression]:
    """Read the suppression comments of a file."""
    found = []
    for comment in comments:
        match = _PATTERN.search(comment.text)
        if match is None:
            continue
        names = tuple(n.strip() for n in match.group("names").split(",") if n.strip())
        reason = _REASON.match(match.group("rest"))
        found.append(
            Suppression(
                span=comment.span,
                names=names,
                reason=reason.group("reason").strip() if reason else None,
                line=comment.covers,
            )
        )
    return found


def apply_suppressions(diagnostics: Sequence[Diagnostic], suppressions: Sequence[Suppression]) -> list[Diagnostic]:
    """Drop the findings that valid suppressions cover; add findings about the suppressions."""
    kept = list(diagnostics)
    added: list[Diagnostic] = []
    for sup in suppressions:
        if sup.reason is None:
            added.append(
                _finding(
                    c.SUPPRESSION_NO_REASON,
                    sup,
                    "this suppression gives no reason, so it does not apply",
                    "add `-- why this finding does not apply`",
                )
            )
            continue
        used = False
        for name in sup.names:
            code = registry().find(name)
            if code is None:
                guess = registry().suggest(name)
                added.append(
                    _finding(
                        c.UNKNOWN_SUPPRESSION,
                        sup,
                        f"no rule or code `{name}`",
                        f"did you mean `{guess}`?" if guess else "`regdsl rules` lists them",
                    )
                )
                continue
            hits = [d for d in kept if d.code.code == code.code and d.span.line == sup.line]
            if hits and not code.suppressible:
                added.append(
                    _finding(
                        c.UNSUPPRESSIBLE,
                        sup,
                        f"`{code.name}` ({code.code}) cannot be suppressed",
                        "correct the regimen instead",
                        secondary=hits[0].primary,
                    )
                )
                used = True
                continue
            if hits:
                used = True
                kept = [d for d in kept if d not in hits]
        if not used and all(registry().find(n) is not None for n in sup.names):
            added.append(
                _finding(c.UNUSED_SUPPRESSION, sup, "this suppression silences nothing on its line", "remove it")
            )
    return kept + added


def _finding(code: Code, sup: Suppression, message: str, help: str, secondary: Label | None = None) -> Diagnostic:
    return Diagnostic(
        code=code,
        message=message,
        primary=Label(sup.span, ""),
        help=help,
        secondary=(Label(secondary.span, "the finding"),) if secondary else (),
    )
