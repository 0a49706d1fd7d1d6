"""Completeness: what the ASCO/ONS chemotherapy administration safety standards ask a regimen to state.

The standards (Neuss MN et al., 2016 Updated American Society of Clinical Oncology/Oncology
Nursing Society Chemotherapy Administration Safety Standards, J Oncol Pract 2016;12(12):
1262-1271) ask that a treatment plan state the diagnosis and the goal of treatment, that
regimens be based on cited evidence, that orders include the supportive care the regimen
needs, and that infusions state their duration. The fields are checked on regimens that
are `published` or `provisional`: a draft is written in steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import Rule, rule
from regdsl.check.rules._shared import administrations, by_route, has_parts
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir
from regdsl.model.vocabulary import EMETOGENICITY, INTRA_ARTERIAL, INTRAPERITONEAL, INTRAVENOUS

__all__ = [
    "infusion_without_duration",
    "missing_cancer_type",
    "missing_emetogenicity",
    "missing_reference",
    "missing_setting",
]

INFUSED_ROUTES = frozenset({INTRAVENOUS, INTRA_ARTERIAL, INTRAPERITONEAL})
CHECKED_STATUSES = frozenset({ir.Status.PUBLISHED, ir.Status.PROVISIONAL})


@rule("CMP001", "infusion-without-duration", Severity.WARNING, "an infused anti-cancer medicine with no duration")
def infusion_without_duration(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find infused anti-cancer medicines whose infusion time is not stated.

    What it does: flags an anti-cancer administration by the intravenous, intra-arterial
    or intraperitoneal route with no `over` duration (as-needed lines are left out).

    Why it matters: the ASCO/ONS chemotherapy administration safety standards ask that
    orders state how each medicine is given, including the duration of an infusion.
    Given too fast, many anti-cancer medicines cause infusion reactions or other
    toxicity; given too slowly, some lose effect or stability.

    Example:
        cycle 1: 21 days
          DOCEtaxel 75 mg/m2 IV day 1

    Use instead: `DOCEtaxel 75 mg/m2 IV day 1 over 60 min`.
    """
    for admin in administrations(ctx.regimen):
        route = admin.route
        if (
            admin.role == "anticancer"
            and not admin.prn
            and route is not None
            and route.code in INFUSED_ROUTES
            and not (admin.duration_stated or admin.continuous)
        ):
            yield infusion_without_duration.finding(
                admin.span,
                f"{admin.medicine.display} is given {by_route(route)} but the line does not say over how long",
                label="no `over` duration",
                help="add the infusion time, such as `over 60 min`, or `over 5 min` for a slow push",
            )


def _missing(
    ctx: RuleContext,
    code: Rule,
    message: str,
    label: str,
    add: str,
    present: Callable[[ir.Meta, ir.Part | None], bool],
) -> Iterator[Diagnostic]:
    """Report a field a published or provisional regimen lacks (on itself and, with parts, on some part)."""
    regimen = ctx.regimen
    if regimen.status not in CHECKED_STATUSES or present(regimen.meta, None):
        return
    secondary: tuple[Label, ...] = ()
    if has_parts(regimen):
        lacking = [part for part in regimen.parts if not present(part.meta, part)]
        if not lacking:
            return
        secondary = tuple(Label(part.span, f"part {part.number} has none either") for part in lacking)
        add = f"{add}, on the regimen or on every part"
    yield code.finding(
        regimen.span,
        message,
        label=f"{regimen.status.value} regimen {label}",
        secondary=secondary,
        help=add,
        notes=("the ASCO/ONS chemotherapy administration safety standards ask every regimen in use to state it",),
    )


@rule("CMP002", "missing-cancer-type", Severity.WARNING, "a regimen in use names no cancer type")
def missing_cancer_type(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find published or provisional regimens that do not say which cancer they treat.

    What it does: flags a `published` or `provisional` regimen with no `cancer` field, on
    the regimen or (for a regimen in parts) on every part.

    Why it matters: the ASCO/ONS standards ask that the treatment plan state the
    diagnosis; a prescriber choosing between similar regimens (adjuvant breast,
    metastatic breast) chooses by it.

    Example:
        regimen breast-adjuvant-ac
          name "BREAST Adjuvant - DOXOrubicin and cyclophosphamide"
          status published
          setting "Adjuvant"

    Use instead: add `cancer "Breast"` (the cancer type, then any sub-types after `>`).
    """
    yield from _missing(
        ctx,
        missing_cancer_type,
        "the regimen does not say which cancer it treats",
        "without a cancer type",
        'add `cancer "..."` (sub-types after `>`)',
        lambda meta, _part: bool(meta.cancer),
    )


@rule("CMP003", "missing-setting", Severity.WARNING, "a regimen in use names no treatment setting")
def missing_setting(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find published or provisional regimens that do not state the treatment setting.

    What it does: flags a `published` or `provisional` regimen with no `setting` field, on
    the regimen or (for a regimen in parts) on every part.

    Why it matters: the same medicines are given differently with curative and palliative
    intent (adjuvant, metastatic); the ASCO/ONS standards ask that the plan state the goal
    of treatment.

    Example:
        regimen breast-ac
          name "BREAST - DOXOrubicin and cyclophosphamide"
          status published
          cancer "Breast"

    Use instead: add `setting "Adjuvant"`.
    """
    yield from _missing(
        ctx,
        missing_setting,
        "the regimen does not state its treatment setting",
        "without a setting",
        'add `setting "..."`, such as `setting "Adjuvant"`',
        lambda meta, _part: meta.setting is not None,
    )


@rule("CMP004", "missing-reference", Severity.WARNING, "a regimen in use cites no reference")
def missing_reference(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find published or provisional regimens that cite no reference.

    What it does: flags a `published` or `provisional` regimen with no `reference`, on the
    regimen or (for a regimen in parts) on every part.

    Why it matters: the ASCO/ONS standards ask that regimens be based on published
    evidence, cited so that doses and schedules can be checked against their source.

    Example:
        regimen lung-nsclc-metastatic-alectinib
          name "LUNG NSCLC Metastatic - alectinib"
          status published

    Use instead: add a `reference "..."` with its `url`, `pmid` or `accessed` date.
    """
    yield from _missing(
        ctx,
        missing_reference,
        "the regimen cites no reference",
        "without a reference",
        'add `reference "..."` with its `url`, `pmid` or `accessed` date',
        lambda _meta, part: bool(part.references) if part is not None else bool(ctx.regimen.references),
    )


def _emetogenicity(support: ir.Support) -> bool:
    return any(f.factor is not None and f.factor.code == EMETOGENICITY for f in support.factors)


@rule("CMP005", "missing-emetogenicity", Severity.WARNING, "a regimen in use states no emetic risk")
def missing_emetogenicity(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find published or provisional regimens that do not state their emetic risk.

    What it does: flags a `published` or `provisional` regimen with no `Emetogenicity`
    supportive-care factor, on the regimen or (for a regimen in parts) on every part.

    Why it matters: the emetic risk decides the antiemetic prophylaxis; the ASCO/ONS
    standards ask that orders include the supportive care the regimen needs.

    Example:
        support
          Hydration: Routine hydration recommended

    Use instead: add `Emetogenicity: High` (or Medium, Low, Minimal) to `support`.
    """
    yield from _missing(
        ctx,
        missing_emetogenicity,
        "the regimen does not state its emetogenicity",
        "without an emetogenicity",
        "add `Emetogenicity: High` (or Medium, Low, Minimal) under `support`",
        lambda _meta, part: _emetogenicity(part.support) if part is not None else _emetogenicity(ctx.regimen.support),
    )
