"""Governance rules: what a regimen's status allows it to claim."""

from __future__ import annotations

from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir

__all__ = ["REVIEWED_FOOTNOTE", "reviewed_on_draft"]

REVIEWED_FOOTNOTE = "reviewed"


@rule("GOV001", "reviewed-footnote-on-draft", Severity.ERROR, "a draft regimen claims specialist review")
def reviewed_on_draft(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find draft regimens that carry the "reviewed by specialists" footnote.

    What it does: flags the `reviewed` footnote on a regimen (or a part of one) whose
    status is `draft`.

    Why it matters: the footnote tells prescribers that specialists reviewed the doses and
    schedule against best practice (the NZ SACT Regimen Library's footnote on its reviewed
    regimens, srl.org.nz). A draft has not been reviewed; the claim would make an unchecked
    regimen look safe to use.

    Example:
        regimen my-regimen
          status draft
          footnotes reviewed

    Use instead: leave the footnote off until the regimen is reviewed and published.
    """
    regimen = ctx.regimen
    if regimen.status is not ir.Status.DRAFT:
        return
    for meta in (regimen.meta, *(part.meta for part in regimen.parts)):
        for footnote, where in zip(meta.footnotes, meta.footnote_spans, strict=True):
            if footnote.name == REVIEWED_FOOTNOTE:
                status = regimen.meta.status_span
                yield reviewed_on_draft.finding(
                    where,
                    "a draft regimen carries the footnote saying specialists reviewed it",
                    label="remove `reviewed`",
                    help="remove `reviewed` from `footnotes` until the regimen is reviewed and published",
                    secondary=(Label(status, "status draft"),) if status is not None else (),
                )
