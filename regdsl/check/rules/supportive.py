"""Supportive care: antiemetics for emetogenic regimens, and references a reader can find."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model import ir
from regdsl.model.vocabulary import EMETOGENICITY, HIGH, MEDIUM

__all__ = ["ANTIEMETICS", "emetogenic_without_antiemetic", "reference_without_source"]


# Antiemetics for prophylaxis: 5-HT3 and NK1 antagonists, olanzapine, dexamethasone, and
# the dopamine antagonists and antihistamine used in lower-risk regimens.
ANTIEMETICS = frozenset(
    {
        "ondansetron",
        "granisetron",
        "palonosetron",
        "aprepitant",
        "fosaprepitant",
        "netupitant",
        "olanzapine",
        "dexamethasone",
        "metoclopramide",
        "prochlorperazine",
        "domperidone",
        "cyclizine",
    }
)


def _scheduled_antiemetic(groups: Sequence[ir.CycleGroup]) -> bool:
    return any(a.medicine.name in ANTIEMETICS and not a.prn for g in groups for a in g.administrations)


def _emetic_factor(support: ir.Support) -> ir.SupportFactor | None:
    return next(
        (
            f
            for f in support.factors
            if f.factor is not None and f.factor.code == EMETOGENICITY and f.value and f.value.code in {HIGH, MEDIUM}
        ),
        None,
    )


@rule(
    "SUP001",
    "emetogenic-without-antiemetic",
    Severity.WARNING,
    "a high or medium emetogenic regimen with no antiemetic",
)
def emetogenic_without_antiemetic(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimens of high or medium emetic risk that give no antiemetic.

    What it does: when the `Emetogenicity` factor of a regimen (or of a part) is High or
    Medium, looks for a scheduled antiemetic (ondansetron, granisetron, palonosetron,
    aprepitant, fosaprepitant, netupitant, olanzapine, dexamethasone, metoclopramide,
    prochlorperazine, domperidone or cycliZINE) in any cycle of that regimen (or part).
    As-needed (`prn`) lines are rescue medicines, not prophylaxis, and do not count.

    Why it matters: international antiemetic guidelines (MASCC/ESMO, ASCO) call for
    prophylaxis with every cycle of a high or moderately emetogenic regimen. A regimen
    that states the risk but lists no prophylaxis leaves each prescriber to remember it.

    Example:
        cycle 1: 21 days
          cISplatin 75 mg/m2 IV day 1 over 60 min

        support
          Emetogenicity: High

    Use instead: the prophylaxis on the regimen, such as `ondansetron 8 mg oral day 1 60
    min before chemotherapy`, `aprepitant 125 mg oral day 1 60 min before chemotherapy`
    and `dexamethasone 12 mg oral day 1 60 min before chemotherapy`.
    """
    regimen = ctx.regimen
    scopes: list[tuple[ir.Support, Sequence[ir.CycleGroup]]] = [(regimen.support, regimen.cycles())]
    scopes += [(part.support, part.cycles) for part in regimen.parts]
    for support, groups in scopes:
        factor = _emetic_factor(support)
        if factor is None or _scheduled_antiemetic(groups):
            continue
        yield emetogenic_without_antiemetic.finding(
            factor.span,
            f"the emetogenicity is {factor.value_text} but no cycle gives a scheduled antiemetic",
            label=f"Emetogenicity: {factor.value_text}",
            help="add the antiemetic prophylaxis to the cycles, or correct the emetogenicity",
        )


@rule("SUP002", "reference-without-source", Severity.WARNING, "a reference with no link, PMID or access date")
def reference_without_source(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find references a reader cannot trace.

    What it does: flags a `reference` with no `url`, no `pmid` and no `accessed` date.

    Why it matters: a reviewer checking a dose against its source needs to find the
    source: the edition of a data sheet, the trial report. A citation without a link or
    an identifier may describe several documents, or one that has since changed.

    Example:
        reference "Pfizer New Zealand Limited. Besponsa (inotuzumab ozogamicin) New Zealand Data Sheet."

    Use instead:
        reference "Pfizer New Zealand Limited. Besponsa (inotuzumab ozogamicin) New Zealand Data Sheet."
          url "https://www.medsafe.govt.nz/profs/Datasheet/b/besponsainj.pdf"
          accessed 2025-03-25
    """
    regimen = ctx.regimen
    for reference in (*regimen.references, *(r for part in regimen.parts for r in part.references)):
        if not reference.urls and not reference.pmids and not reference.accessed:
            yield reference_without_source.finding(
                reference.span,
                "this reference gives no link, PubMed id or access date, so a reader cannot be sure of the source",
                label="no `url`, `pmid` or `accessed`",
                help='add `url "..."`, `pmid N` or `accessed YYYY-MM-DD` under the reference',
            )
