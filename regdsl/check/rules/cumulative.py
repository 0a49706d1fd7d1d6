"""Lifetime cumulative doses: each medicine's total, the doxorubicin-equivalent total, through hand-overs.

Every total is ``regdsl.compile.totals``' (the pages show the same): the worst path the
plan allows, each cycle group counting the cycles its limits leave. The limits, factors and
sources are the package's data (``model/data/cumulative.json``), or the library's own
`lifetime max`.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from regdsl.check.context import LibraryContext, RuleContext
from regdsl.check.registry import Rule, library_rule, rule
from regdsl.compile.totals import EQUIVALENTS, FACTORS, Exposure, equivalents, exposures
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir
from regdsl.model.doses import amount
from regdsl.model.vocabulary import MG_PER_M2

__all__ = [
    "cumulative_near_limit",
    "cumulative_over_limit",
    "cumulative_through_handover",
    "cumulative_unbounded",
    "equivalents_near_limit",
    "equivalents_over_limit",
]


def _line_labels(exposure: Exposure) -> list[Label]:
    """Label each line on the path with what it gives (for doxorubicin equivalents, its own dose too)."""
    unit = exposure.limit.unit_text
    labels = []
    for span, given, count, own in exposure.lines:
        cycles = f"over {count} cycle{'s' if count != 1 else ''}"
        if exposure.factors and own != given:
            labels.append(
                Label(span, f"{amount(own)} {unit} {cycles} ({amount(given)} {unit} in doxorubicin equivalents)")
            )
        else:
            labels.append(Label(span, f"{amount(given)} {unit} {cycles}"))
    return labels


def _labels(exposure: Exposure) -> tuple[Label, tuple[Label, ...]]:
    primary, *rest = _line_labels(exposure)
    if exposure.cap is not None:
        rest.append(Label(exposure.cap.span, f"at most {exposure.cap.count} cycles"))
    return primary, tuple(rest)


def _notes(exposure: Exposure, source: str) -> tuple[str, ...]:
    """Say where the limit comes from, the factors and the path used, and what the total leaves out."""
    limit = exposure.limit
    notes = [source]
    if exposure.factors:
        notes.append(
            "doxorubicin equivalents: "
            + "; ".join(
                f"{medicine.display} {amount(given)} mg/m² × {amount(factor.factor)} = "
                f"{amount(given * factor.factor)} mg/m²"
                for medicine, given, factor in exposure.factors
            )
        )
        notes.extend(f"factor of {factor.medicine}: {factor.source}" for _m, _g, factor in exposure.factors)
    if exposure.path:
        notes.append(f"the worst path the plan allows: {'; '.join(exposure.path)}")
    if exposure.international and limit.other_unit is not None:
        notes.append(limit.other_unit[2])
    if limit.unit == MG_PER_M2 and (exposure.factors or limit.medicine in FACTORS):  # an anthracycline
        notes.append("doses given before this regimen, of this or another anthracycline, add to the lifetime total")
    else:
        notes.append("doses given before this regimen add to the lifetime total")
    return tuple(notes)


def _total_finding(which: Rule, exposure: Exposure, beyond: str, source: str, help: str) -> Diagnostic:
    """Build a finding about a plan's total dose of ``name``: the figure, what it passes, its source."""
    limit = exposure.limit
    primary, secondary = _labels(exposure)
    return which.finding(
        primary.span,
        f"the plan gives up to {amount(exposure.total)} {limit.unit_text} of {exposure.display} in total, {beyond}",
        label=primary.text,
        secondary=secondary,
        notes=_notes(exposure, source),
        help=help,
    )


def _over_finding(which: Rule, exposure: Exposure) -> Diagnostic:
    """Say that the total of ``name`` passes its lifetime limit."""
    limit = exposure.limit
    beyond = f"more than the lifetime limit of {amount(limit.limit)} {limit.unit_text}"
    return _total_finding(which, exposure, beyond, f"limit: {limit.source}", _REDUCE)


def _near_finding(which: Rule, exposure: Exposure) -> Diagnostic:
    """Say that the total of ``name`` passes the lower figure where the risk rises."""
    limit = exposure.limit
    beyond = f"more than {amount(limit.caution or Decimal(0))} {limit.unit_text}, where the risk of heart damage rises"
    source = f"threshold: {limit.caution_source or limit.source}"
    return _total_finding(which, exposure, beyond, source, _STATE)


def _over(exposure: Exposure) -> bool:
    return exposure.open_group is None and exposure.total > exposure.limit.limit


def _near(exposure: Exposure) -> bool:
    caution = exposure.limit.caution
    return caution is not None and exposure.open_group is None and caution < exposure.total <= exposure.limit.limit


_REDUCE = "reduce the dose or the number of cycles, or add `at most N cycles` to the plan"
_STATE = "state the cumulative dose and the cardiac monitoring in a note, or reduce the number of cycles"


@rule("SAF301", "cumulative-dose-over-limit", Severity.ERROR, "a plan's total dose passes a lifetime limit")
def cumulative_over_limit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimens whose full course passes a medicine's lifetime cumulative dose limit.

    What it does: for each medicine with a lifetime limit in the package's data
    (`cumulative.json`: DOXOrubicin, EPIrubicin, DAUNOrubicin, IDArubicin intravenous,
    mitoXANTRONE and carmustine in mg/m², bleomycin in units) or a library's `lifetime max`, adds up
    the dose of the worst path the plan allows: dose × days × cycles for each cycle group
    on the path (the decisions' branches are followed; a group a decision leads back to is
    counted with all its cycles), counting no more cycles than the largest
    `at most N cycles` of the plan (a dose per day, `mg/m2/day`, counts its amount on each
    day given; a rate per hour, its rate over the line's longest duration). It compares the
    total with the lifetime limit:

    | medicine | limit | source |
    |---|---|---|
    | DOXOrubicin | 450 mg/m² | conservative limit; US prescribing information: cardiomyopathy 5-8% at 450 mg/m² |
    | EPIrubicin | 900 mg/m² | US prescribing information (Ellence): 900 mg/m² should generally be avoided |
    | DAUNOrubicin | 550 mg/m² | US prescribing information (boxed warning): toxicity rises after 400-550 mg/m² |
    | IDArubicin (IV) | 150 mg/m² | maximum recommended lifetime dose; Anderlini et al., J Clin Oncol 1995 |
    | mitoXANTRONE | 140 mg/m² | US prescribing information (boxed warning): heart failure 2.6% up to 140 mg/m² |
    | carmustine | 1,400 mg/m² | US prescribing information (BiCNU): lung toxicity risk significantly higher beyond it |
    | bleomycin | 400 units | US prescribing information: lung toxicity more common over 400 units |

    A `lifetime max` in the medicine's entry in `library.reg` replaces the limit and its
    source, and gives one to a medicine the table above does not list.

    Bleomycin written in `international units` is counted at 1,000 international units
    to the unit (15,000 international units = 15 units); `units` are never read as
    international units. Doses in other units (a flat mg anthracycline dose, bleomycin
    per m²) cannot be compared and are left out.

    Why it matters: anthracycline heart damage and bleomycin and carmustine lung fibrosis rise
    with the lifetime dose and do not recover. A regimen whose own cycles pass the limit will
    harm the patients who complete it, before any earlier treatment is counted.

    Example:
        cycles 1 to 8: 21 days
          DOXOrubicin 60 mg/m2 IV day 1 over 15 min

    Use instead: a plan that stays within the limit, such as `cycles 1 to 6` (360 mg/m²),
    with the limit and the cardiac monitoring stated in a note.
    """
    for exposure in exposures(ctx.regimen, ctx.jurisdiction).values():
        if _over(exposure):
            yield _over_finding(cumulative_over_limit, exposure)


@rule(
    "SAF302",
    "cumulative-dose-near-limit",
    Severity.WARNING,
    "a plan's total dose passes the level where the label says the risk rises",
)
def cumulative_near_limit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimens whose full course passes the lower figure of a lifetime dose limit.

    What it does: computes the total as SAF301 does and flags it when it stays within the
    lifetime limit but passes the lower figure the label gives: DOXOrubicin 400 mg/m²
    (the US prescribing information: cardiomyopathy 3 to 5% at 400 mg/m²; older labelling
    limited the total to 400 mg/m² after mediastinal radiotherapy or with other
    cardiotoxic medicines) and DAUNOrubicin 400 mg/m² (the boxed warning: toxicity rises
    after 400 to 550 mg/m² in adults).

    Why it matters: such a regimen is safe only for patients without risk factors and
    without earlier anthracycline; prescribers must know to check.

    Example:
        cycles 1 to 7: 21 days
          DOXOrubicin 60 mg/m2 IV day 1 over 15 min

    Use instead: fewer cycles, or a note that states the cumulative dose, the patients
    the regimen is not for and the cardiac monitoring required.
    """
    for exposure in exposures(ctx.regimen, ctx.jurisdiction).values():
        if _near(exposure):
            yield _near_finding(cumulative_near_limit, exposure)


@rule(
    "SAF303",
    "cumulative-dose-unbounded",
    Severity.WARNING,
    "a medicine with a lifetime limit in cycles the plan does not bound",
)
def cumulative_unbounded(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find medicines with a lifetime dose limit given in cycles that never end.

    What it does: flags each medicine with a lifetime limit (those of SAF301) in an
    open-ended cycle group (`cycle 1 and all further cycles`) that a path of the plan
    reaches, when the plan has no `at most N cycles`.

    Why it matters: the total dose of such a regimen cannot be bounded; without a stated
    limit it will be given until the patient reaches, and passes, the lifetime dose.

    Example:
        cycle 1 and all further cycles: 21 days
          EPIrubicin 90 mg/m2 IV day 1 over 15 min

    Use instead: add `at most 8 cycles` (720 mg/m²) to the plan, or a fixed number of
    cycles.
    """
    for exposure in exposures(ctx.regimen, ctx.jurisdiction).values():
        group = exposure.open_group
        if group is None:
            continue
        limit = exposure.limit
        display, unit = exposure.display, limit.unit_text
        yield cumulative_unbounded.finding(
            group.span,
            f"{display} is given in cycles with no end and the plan sets no cycle limit, so its total "
            f"dose cannot be kept within the lifetime limit of {amount(limit.limit)} {unit}",
            label="open-ended cycles",
            notes=(f"limit: {limit.source}",),
            help="add `at most N cycles` to the plan, keeping the total within the limit",
        )


def _combined(exposure: Exposure | None) -> Exposure | None:
    """Return the doxorubicin-equivalent total if it adds up two medicines or more (one is judged by its own limit)."""
    return exposure if exposure is not None and len(exposure.factors) > 1 else None


@rule(
    "SAF304",
    "anthracyclines-over-limit",
    Severity.ERROR,
    "a plan's anthracyclines together pass the doxorubicin-equivalent lifetime limit",
)
def equivalents_over_limit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimens whose anthracyclines, converted to doxorubicin equivalents, pass the lifetime limit.

    What it does: when the worst path of the plan gives more than one anthracycline or
    anthracenedione in mg/m², converts each medicine's total (computed as SAF301 does) to
    doxorubicin equivalents and adds them up: DOXOrubicin × 1, DAUNOrubicin × 0.6 and
    EPIrubicin × 0.8 (Feijen et al., JAMA Oncol 2019, PMID 30703192, Table 3),
    IDArubicin × 5 (the Children's Oncology Group's factor, which that study kept) and
    mitoXANTRONE × 10.5 (Feijen et al., Table 3; recommended by the International Late
    Effects of Childhood Cancer Guideline Harmonization Group). The total is compared with
    DOXOrubicin's lifetime limit, 450 mg/m² (the US prescribing information counts earlier
    anthracyclines and anthracenediones among the risk factors). The factors and the limit
    are the package's data (`cumulative.json`). Each medicine keeps its own limit (SAF301).

    Why it matters: heart damage adds up across anthracyclines: a regimen can keep each
    medicine within its own limit and still give more than the heart tolerates.

    Example:
        part 1 "Induction"
          cycles 1 to 4: 21 days
            DOXOrubicin 60 mg/m2 IV day 1 over 15 min
        part 2 "Consolidation"
          cycles 1 to 4: 28 days
            IDArubicin 12 mg/m2 IV day 1 over 15 min

    Use instead: fewer cycles of one of them, keeping the doxorubicin-equivalent total
    (here 240 + 48 × 5 = 480 mg/m²) within 450 mg/m².
    """
    exposure = _combined(equivalents(ctx.regimen, ctx.jurisdiction))
    if exposure is not None and _over(exposure):
        yield _over_finding(equivalents_over_limit, exposure)


@rule(
    "SAF305",
    "anthracyclines-near-limit",
    Severity.WARNING,
    "a plan's anthracyclines together pass the doxorubicin-equivalent level where the risk rises",
)
def equivalents_near_limit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimens whose anthracyclines together pass 400 mg/m² of doxorubicin equivalents.

    What it does: computes the doxorubicin-equivalent total as SAF304 does and flags it
    when it stays within 450 mg/m² but passes 400 mg/m², where the US prescribing
    information (doxorubicin hydrochloride) says the risk of heart failure rises rapidly.

    Why it matters: such a regimen is safe only for patients without cardiac risk factors
    and without earlier anthracycline; prescribers must know to check.

    Example:
        part 1 "Induction"
          cycles 1 to 5: 21 days
            DOXOrubicin 60 mg/m2 IV day 1 over 15 min
        part 2 "Consolidation"
          cycles 1 to 2: 21 days
            EPIrubicin 75 mg/m2 IV day 1 over 15 min

    Use instead: fewer cycles, or a note that states the doxorubicin-equivalent total
    (here 300 + 150 × 0.8 = 420 mg/m²), the patients the regimen is not for and the
    cardiac monitoring required.
    """
    exposure = _combined(equivalents(ctx.regimen, ctx.jurisdiction))
    if exposure is not None and _near(exposure):
        yield _near_finding(equivalents_near_limit, exposure)


def _through(ctx: LibraryContext, regimen: ir.Regimen) -> Iterator[Exposure]:
    """Yield each total that passes its limit only with the regimens ``regimen`` hands over to."""
    where, others = ctx.jurisdiction, ctx.regimens
    alone = {**exposures(regimen, where), EQUIVALENTS: equivalents(regimen, where)}
    linked = {**exposures(regimen, where, others), EQUIVALENTS: equivalents(regimen, where, others)}
    for name, exposure in linked.items():
        before = alone.get(name)
        if exposure is None or not exposure.linked or not _over(exposure):
            continue
        if name == EQUIVALENTS and _combined(exposure) is None:
            continue  # one medicine: its own total is judged
        if before is not None and _over(before) and (name != EQUIVALENTS or _combined(before) is not None):
            continue  # SAF301 or SAF304 says so of the regimen alone
        yield exposure


@library_rule(
    "SAF306",
    "cumulative-dose-with-handover",
    Severity.ERROR,
    "a plan's total dose passes a lifetime limit with the regimens it hands over to",
)
def cumulative_through_handover(ctx: LibraryContext) -> Iterator[Diagnostic]:
    """Find regimens whose course, with the regimens they hand patients over to, passes a lifetime limit.

    What it does: computes each total as SAF301 and SAF304 do, following each
    `continue with ID` into the regimen it names (when that regimen is checked in the same
    run) and adding the worst path of that regimen, and of the regimens it hands over to in
    turn. A cycle limit the regimens share (`at most 6 cycles counted with ID`) leaves the
    next regimen only the cycles the first did not use. Each regimen counts once on a path:
    a loop of hand-overs adds nothing the second time round. It flags the hand-over, labels
    the lines that give the medicine in every regimen on the path, and names the path.

    Why it matters: a patient handed over carries the dose already given into the next
    regimen; each page alone stays within the limit while the patient passes it. The limits
    are SAF301's, each with its source in `regdsl/model/data/cumulative.json` (the US
    prescribing information of each anthracycline and of bleomycin and carmustine).

    Example:
        # induction.reg: DOXOrubicin 60 mg/m2 in cycles 1 to 4, then
        if response in (CR, CRi): continue with consolidation
        # consolidation.reg: DOXOrubicin 60 mg/m2 in cycles 1 to 4 (480 mg/m² in all)

    Use instead: fewer cycles in one of the regimens, or a cycle limit shared by both:
        at most 6 cycles counted with consolidation
    """
    for key in sorted(ctx.checked):
        regimen = ctx.regimens.get(key)
        if regimen is None:
            continue
        for exposure in _through(ctx, regimen):
            limit = exposure.limit
            span = exposure.handover or regimen.id_span
            handed = ", ".join(f"{other} {amount(given)} {limit.unit_text}" for other, given, *_ in exposure.linked)
            yield cumulative_through_handover.finding(
                span,
                f"with the regimens it hands over to, the plan gives up to {amount(exposure.total)} "
                f"{limit.unit_text} of {exposure.display}, more than the lifetime limit of "
                f"{amount(limit.limit)} {limit.unit_text} ({handed} of it after the hand-over)",
                label="hands over",
                secondary=tuple(_line_labels(exposure)),
                notes=_notes(exposure, f"limit: {limit.source}"),
                help="give fewer cycles before or after the hand-over, or share a cycle limit "
                "(`at most N cycles counted with ID`) that keeps the total within the limit",
            )
