"""Supportive care: antiemetic cover fit for each cycle's emetic risk, the declared risk, references one can find."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir
from regdsl.model.emesis import (
    COMBINATIONS,
    COVER_ROUTES,
    TIERS,
    Requirement,
    Risk,
    Tier,
    library_risk,
    rating,
    stated_risk,
)
from regdsl.model.medicines import identities
from regdsl.model.vocabulary import EMETOGENICITY, FACTORS
from regdsl.source import Span

__all__ = [
    "declared_above_medicines",
    "declared_below_medicines",
    "emetogenic_without_antiemetic",
    "reference_without_source",
]

# The label of a `support` note saying the regimen leaves its antiemetics to local policy.
LOCAL_POLICY_NOTE = "antiemetics"


@dataclass(frozen=True, slots=True)
class _Judged:
    """A line's emetic risk on its days: the tier its prophylaxis follows, and why."""

    line: ir.Administration
    risk: Risk
    tier: Tier
    prophylaxis: tuple[Requirement, ...]
    why: str  # `high emetic risk`, `high emetic risk with cyclophosphamide`
    source: str
    combined: bool = False  # raised by a combination given on its day


def _risk(line: ir.Administration) -> Risk | None:
    if line.prn:
        return None
    own = line.medicine.emetogenic
    unit = line.dose.unit
    return rating(
        identities(line.medicine),
        line.route.code if line.route else None,
        line.dose.amount,
        unit.amount or unit.term,
        line.dose.basis,
        library_risk(*own) if own else None,
    )


def _start_days(line: ir.Administration) -> tuple[int, ...]:
    """Return the days a dose of the line starts: each range's first day for a continuous infusion."""
    return tuple(r.first for r in line.day_ranges) if line.continuous and line.day_ranges else line.days


def _with(line: ir.Administration, other: ir.Administration) -> bool:
    """Whether ``other`` is given to every patient given ``line``: written for all, or in the same branch."""
    return other.guard is None or other.guard == line.guard


_Present = dict[ir.Guard | None, set[str]]


def _present(lines: Iterable[ir.Administration], routes: frozenset[str]) -> _Present:
    """Return the medicines (by identity) given by ``routes`` on a day, by the branch they are written in."""
    found: _Present = {}
    for line in lines:
        if line.route is not None and line.route.code in routes:
            found.setdefault(line.guard, set()).update(identities(line.medicine))
    return found


def _given_with(line: ir.Administration, present: _Present) -> set[str]:
    """Return the medicines given that day to every patient given ``line``."""
    return present.get(None, set()) | (present.get(line.guard, set()) if line.guard is not None else set())


def _combined(line: ir.Administration, risk: Risk, presents: Sequence[_Present]) -> _Judged:
    """Return the line's risk on a day, raised by a combination whose other medicines are given with it."""
    judged = _Judged(line, risk, risk.tier, risk.prophylaxis, risk.wording, risk.source)
    names = set(identities(line.medicine))
    for combo, present in zip(COMBINATIONS, presents, strict=True):
        if combo.tier.rank <= judged.tier.rank or line.route is None or line.route.code not in combo.routes:
            continue
        given = _given_with(line, present)
        if any(names & g for g in combo.groups) and all((names | given) & g for g in combo.groups):
            judged = _Judged(
                line,
                risk,
                combo.tier,
                combo.tier.prophylaxis,
                f"{combo.tier.name} emetic risk as {combo.wording}",
                combo.source,
                combined=True,
            )
    return judged


_FACTOR = next(f for f in FACTORS if f.code == EMETOGENICITY)


def _declared_tier(factor: ir.SupportFactor | None) -> Tier | None:
    """Return the tier an `Emetogenicity` value states (None: none, `Variable`, or a value outside the vocabulary)."""
    if factor is None or factor.value is None:
        return None
    code = factor.value.code
    return next((t for t in TIERS.values() if (v := _FACTOR.find_value(t.factor)) is not None and v.code == code), None)


def _emetic_factor(support: ir.Support) -> ir.SupportFactor | None:
    return next((f for f in support.factors if f.factor is not None and f.factor.code == EMETOGENICITY), None)


@dataclass(frozen=True, slots=True)
class _Scope:
    """The cycles one `Emetogenicity` factor speaks for, and whether antiemetics are left to local policy."""

    factor: ir.SupportFactor | None
    groups: tuple[ir.CycleGroup, ...]
    local_policy: bool


def _scopes(regimen: ir.Regimen) -> list[_Scope]:
    """Each part's cycles with the factor in force for it (its own, else the regimen's)."""
    top = _emetic_factor(regimen.support)
    top_local = _local_policy(regimen.support)
    merged: dict[Span | None, _Scope] = {}
    for part in regimen.parts:
        factor = _emetic_factor(part.support) or top
        key = factor.span if factor else None
        local = top_local or _local_policy(part.support)
        before = merged.get(key)
        groups = (*(before.groups if before else ()), *part.cycles)
        merged[key] = _Scope(factor, groups, local and (before.local_policy if before else True))
    return list(merged.values())


def _local_policy(support: ir.Support) -> bool:
    return any(n.label_word is not None and n.label_word.text.casefold() == LOCAL_POLICY_NOTE for n in support.notes)


def _judged_days(group: ir.CycleGroup, stated: Risk | None = None) -> Iterator[tuple[int, list[_Judged]]]:
    """Yield each day's lines of an emetic risk, raised by the combinations given with them that day.

    ``stated`` is the declared risk, given to the anticancer lines of a scope none of whose
    medicines regdsl can rate.
    """
    by_day: dict[int, list[tuple[ir.Administration, Risk]]] = {}
    for line in group.administrations:
        risk = _risk(line) or (stated if line.role == "anticancer" and not line.prn else None)
        if risk is not None:
            for day in _start_days(line):
                by_day.setdefault(day, []).append((line, risk))
    for day in sorted(by_day):
        rated = by_day[day]
        presents = [_present((a for a, _ in rated), combo.routes) for combo in COMBINATIONS]
        yield day, [_combined(line, risk, presents) for line, risk in rated]


def _before(line: ir.Administration) -> bool:
    """Whether a line can be given before the chemotherapy: it is not timed only after something."""
    return not line.relations or any(r.direction == "before" for r in line.relations)


def _cover_by_day(group: ir.CycleGroup) -> dict[int, list[ir.Administration]]:
    """Return the lines that may be prophylaxis, by day: scheduled, systemic, not only after the chemotherapy."""
    found: dict[int, list[ir.Administration]] = {}
    for line in group.administrations:
        if not line.prn and line.route is not None and line.route.code in COVER_ROUTES and _before(line):
            for day in line.days:
                found.setdefault(day, []).append(line)
    return found


def _missing(judged: _Judged, cover: Sequence[ir.Administration]) -> tuple[Requirement, ...]:
    """Return what of the line's prophylaxis no line given with it that day fills."""
    line = judged.line
    given = [a for a in cover if a is not line and _with(line, a)]
    return tuple(
        n for n in judged.prophylaxis if not any(n.filled_by(a.medicine.classes, identities(a.medicine)) for a in given)
    )


def _days_text(days: Sequence[int]) -> str:
    return ("day " if len(days) == 1 else "days ") + ", ".join(str(d) for d in days)


def _strongest(judged: Sequence[_Judged]) -> list[_Judged]:
    """Return the lines whose prophylaxis is judged on a day: none given with a line of a stronger need.

    A line written for every patient is given with every line; a line of a branch, with the
    lines of its branch. Of equal needs the first is judged.
    """

    def need(j: _Judged) -> tuple[int, int]:
        return (j.tier.rank, len(j.prophylaxis))

    best: dict[ir.Guard | None, _Judged] = {}
    for j in judged:
        if j.line.guard not in best or need(j) > need(best[j.line.guard]):
            best[j.line.guard] = j
    kept = []
    for guard, j in best.items():
        common = best.get(None)
        if guard is None or common is None or need(j) > need(common):
            kept.append(j)
    return kept


def _any_of(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _gap_message(judged: _Judged, gaps: dict[str, tuple[Requirement, list[int]]]) -> str:
    """Word what a line lacks: `without A or B on day 1; without C on day 8`."""
    by_days: dict[tuple[int, ...], list[str]] = {}
    for need, days in gaps.values():
        by_days.setdefault(tuple(days), []).append(need.wording)
    parts = [f"without {_any_of(words)} on {_days_text(days)}" for days, words in by_days.items()]
    return f"{judged.line.medicine.display} ({judged.why}) is given " + "; ".join(parts)


@rule(
    "SUP001",
    "emetogenic-without-antiemetic",
    Severity.WARNING,
    "an emetogenic medicine without the antiemetic prophylaxis its risk needs, on its day",
)
def emetogenic_without_antiemetic(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find emetogenic medicines given without the prophylaxis their emetic risk needs.

    What it does: rates every line of every cycle by its medicine, route and dose from the
    MASCC/ESMO 2016 and ASCO 2020 antiemetic guidelines' tables (regdsl's data, each fact with
    its source; a library may give its own with `emetogenic risk`), raised where a combination
    given the same day raises it (an anthracycline with cyclophosphamide: high); when none of
    the medicines can be rated, the declared `Emetogenicity` stands in for them. On each day a
    rated medicine starts, it looks for the prophylaxis its tier needs, given that day and not
    only after it: high, an NK1 receptor antagonist (or olanzapine), a 5-HT3 receptor
    antagonist and dexamethasone; moderate, a 5-HT3 receptor antagonist and dexamethasone (with
    an NK1 receptor antagonist for cARBOplatin AUC 4 or more); low and minimal, none (a single
    antiemetic may be considered for low). Each cycle group and each branch of a choice is
    judged on its own: a line only some patients are given covers only them. As-needed (`prn`)
    lines are rescue medicines and never count, nor do eye drops and other local routes; a
    dexamethasone premedication counts as the corticosteroid, and only as that. A `note
    Antiemetics` under `support`, in the source's words, says the regimen leaves its
    antiemetics to local policy: its cycles are not judged, and the page shows the note.

    Why it matters: the guidelines (MASCC/ESMO: Roila F et al.,
    Ann Oncol 2016;27(suppl 5):v119-v133; ASCO: Hesketh PJ et al., J Clin Oncol
    2020;38:2782-2797, PMID 32658626) call for prophylaxis before every cycle of an
    emetogenic medicine, matched to its risk; nausea and vomiting that prophylaxis would have prevented
    are among the effects patients fear most, and a regimen that lists too little leaves each
    prescriber to remember the rest.

    Example:
        cycle 1: 21 days
          dexamethasone 12 mg oral day 1 60 min before chemotherapy
          cISplatin 75 mg/m2 IV day 1 over 60 min

    Use instead: the whole prophylaxis on the medicine's day, such as `aprepitant 125 mg oral
    day 1 60 min before chemotherapy`, `ondansetron 8 mg oral day 1 60 min before
    chemotherapy` and `dexamethasone 12 mg oral day 1 60 min before chemotherapy`.
    """
    seen: set[tuple[Span, str]] = set()
    for scope in _scopes(ctx.regimen):
        if scope.local_policy:
            continue
        declared = _declared_tier(scope.factor)
        unrated = not any(_risk(a) for g in scope.groups for a in g.administrations)
        stated = stated_risk(declared) if declared is not None and unrated else None
        for group in scope.groups:
            cover = _cover_by_day(group)
            lines: dict[tuple[Span, str], tuple[_Judged, dict[str, tuple[Requirement, list[int]]]]] = {}
            for day, judged_lines in _judged_days(group, stated):
                for judged in _strongest(judged_lines):
                    for need in _missing(judged, cover.get(day, [])):
                        _, gaps = lines.setdefault((judged.line.span, judged.why), (judged, {}))
                        gaps.setdefault(need.key, (need, []))[1].append(day)
            for judged, gaps in lines.values():
                message = _gap_message(judged, gaps)
                if (judged.line.span, message) in seen:
                    continue
                seen.add((judged.line.span, message))
                yield emetogenic_without_antiemetic.finding(
                    judged.line.span,
                    message,
                    label=judged.why,
                    help=_HELP,
                    notes=(f"source: {judged.source}",),
                )


_HELP = (
    "schedule the prophylaxis before it on its day (a `prn` line is rescue, not prophylaxis); if the regimen's "
    "source leaves antiemetics to local policy, say so in `note Antiemetics` under `support`"
)


def _ceiling(judged: _Judged) -> Tier:
    """Return the highest tier a line's risk may be: a combination's, or the top of a two-tier category."""
    return judged.tier if judged.combined else judged.risk.top


def _highest(groups: Sequence[ir.CycleGroup]) -> tuple[_Judged | None, _Judged | None, bool]:
    """Return the lines of highest risk (by floor, by ceiling) and whether every anticancer line is rated."""
    low: _Judged | None = None
    top: _Judged | None = None
    for group in groups:
        for _, judged_lines in _judged_days(group):
            for judged in judged_lines:
                if low is None or judged.tier.rank > low.tier.rank:
                    low = judged
                if top is None or _ceiling(judged).rank > _ceiling(top).rank:
                    top = judged
    rated = all(_risk(a) is not None for g in groups for a in g.administrations if a.role == "anticancer" and not a.prn)
    return low, top, rated


def _declared_scopes(regimen: ir.Regimen) -> Iterator[tuple[ir.SupportFactor, Tier, _Scope]]:
    for scope in _scopes(regimen):
        declared = _declared_tier(scope.factor)
        if scope.factor is not None and declared is not None:
            yield scope.factor, declared, scope


@rule(
    "SUP003",
    "emetogenicity-below-medicines",
    Severity.WARNING,
    "the declared emetogenicity is lower than its medicines' emetic risk",
)
def declared_below_medicines(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find an `Emetogenicity` lower than the emetic risk of the medicines it speaks for.

    What it does: compares the declared `Emetogenicity` of the regimen (or of a part) with the
    highest emetic risk of its cycles' medicines, routes and doses, as the MASCC/ESMO 2016 and
    ASCO 2020 antiemetic guidelines rate them (raised where an anthracycline and
    cyclophosphamide are given on one day), and flags a declared value below it. `Variable`,
    and a value outside the vocabulary, are never compared.

    Why it matters: pages, order sets and prescribers take the antiemetic prophylaxis from the
    declared risk; a cISplatin regimen declared Low is given too little. The ratings are those
    of the guidelines' tables (MASCC/ESMO: Roila F et al.,
    Ann Oncol 2016;27(suppl 5):v119-v133; ASCO: Hesketh PJ et al., J Clin Oncol
    2020;38:2782-2797, PMID 32658626).

    Example:
        cycle 1: 21 days
          cISplatin 75 mg/m2 IV day 1 over 60 min

        support
          Emetogenicity: Low

    Use instead: the risk of its most emetogenic medicine, `Emetogenicity: High`.
    """
    for factor, declared, scope in _declared_scopes(ctx.regimen):
        low, _, _ = _highest(scope.groups)
        if low is None or low.tier.rank <= declared.rank:
            continue
        line = low.line
        yield declared_below_medicines.finding(
            factor.span,
            f"the emetogenicity is declared {factor.value_text}, but {line.medicine.display} is of {low.why}",
            label=f"Emetogenicity: {factor.value_text}",
            secondary=(Label(line.span, low.why),),
            help=f"declare `Emetogenicity: {low.tier.factor}` and give its prophylaxis",
            notes=(f"source: {low.source}",),
        )


@rule(
    "SUP004",
    "emetogenicity-above-medicines",
    Severity.WARNING,
    "the declared emetogenicity is two or more tiers above every medicine's emetic risk",
)
def declared_above_medicines(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find an `Emetogenicity` far above the emetic risk of every medicine it speaks for.

    What it does: when every anticancer line of the regimen (or part) has an emetic risk in
    regdsl's data, flags a declared `Emetogenicity` two or more tiers above the highest of
    them (High for medicines of low or minimal risk, Medium for minimal). A value one tier
    above is left alone: the guidelines rate single medicines, and a combination or a
    multi-day schedule may raise the risk a tier. `Variable` is never compared.

    Why it matters: a declared risk far above the medicines' is likely a copying slip (the
    factor of another regimen), and it asks for prophylaxis, such as an NK1 receptor antagonist
    and days of dexamethasone, that the patient does not need. The ratings are those of the
    guidelines' tables (MASCC/ESMO: Roila F et al.,
    Ann Oncol 2016;27(suppl 5):v119-v133; ASCO: Hesketh PJ et al., J Clin Oncol
    2020;38:2782-2797, PMID 32658626).

    Example:
        cycle 1: 21 days
          PACLItaxel 80 mg/m2 IV days 1, 8, 15 over 60 min

        support
          Emetogenicity: High

    Use instead: the risk of its most emetogenic medicine, `Emetogenicity: Low`.
    """
    for factor, declared, scope in _declared_scopes(ctx.regimen):
        _, top, rated = _highest(scope.groups)
        if top is None or not rated:
            continue
        ceiling = _ceiling(top)
        if declared.rank - ceiling.rank < 2:
            continue
        line = top.line
        yield declared_above_medicines.finding(
            factor.span,
            f"the emetogenicity is declared {factor.value_text}, but its most emetogenic medicine, "
            f"{line.medicine.display}, is of {top.why}",
            label=f"Emetogenicity: {factor.value_text}",
            secondary=(Label(line.span, top.why),),
            help=f"declare the medicines' risk (`Emetogenicity: {ceiling.factor}`), or say in a `note Emetogenicity` "
            "why the regimen is more emetogenic than its medicines",
            notes=(f"source: {top.source}",),
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
