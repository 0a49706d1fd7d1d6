"""Cumulative doses: what a regimen's plan can give of a medicine with a lifetime limit.

One computation for the rules (SAF301 to SAF303) and the pages (the totals under the cycle
tables), so the two never disagree: dose × days × cycles for each cycle group, counting no
more cycles than the largest `at most N cycles` of the plan. A dose per day (`mg/m2/day`)
counts its amount on each day it is given, however many times a day; a dose per hour or per
minute counts its rate over the line's longest duration (a day when none is written).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from regdsl.model import ir
from regdsl.model.medicines import LifetimeLimit, Medicine
from regdsl.model.vocabulary import INTERNATIONAL_UNIT, INTRAVENOUS, MG_PER_M2, UNIT, Unit, find_unit
from regdsl.source import Span

__all__ = ["LIFETIME_LIMITS", "Exposure", "LifetimeLimit", "exposures", "limit_of"]


LIFETIME_LIMITS: dict[str, LifetimeLimit] = {
    limit.medicine: limit
    for limit in (
        LifetimeLimit(
            "doxorubicin",
            MG_PER_M2,
            Decimal(450),
            "the conservative lifetime limit; the US prescribing information (Pfizer, doxorubicin "
            "hydrochloride) puts the risk of cardiomyopathy at 5 to 8% at 450 mg/m² and 6 to 20% at 500 mg/m²",
            Decimal(400),
            "the US prescribing information puts the risk of cardiomyopathy at 3 to 5% at 400 mg/m², and "
            "older labelling limited the total to 400 mg/m² after mediastinal radiotherapy or with other "
            "cardiotoxic medicines such as cyclophosphamide",
        ),
        LifetimeLimit(
            "epirubicin",
            MG_PER_M2,
            Decimal(900),
            "US prescribing information (Ellence, epirubicin): cumulative doses of 900 mg/m² should "
            "generally be avoided; heart failure risk 3.3% at 900 mg/m²",
        ),
        LifetimeLimit(
            "daunorubicin",
            MG_PER_M2,
            Decimal(550),
            "US prescribing information (daunorubicin hydrochloride, boxed warning): myocardial toxicity "
            "increases after a total of 400 to 550 mg/m² in adults",
            Decimal(400),
            "US prescribing information (daunorubicin hydrochloride, boxed warning): myocardial toxicity "
            "increases after a total of 400 to 550 mg/m² in adults",
        ),
        LifetimeLimit(
            "idarubicin",
            MG_PER_M2,
            Decimal(150),
            "the maximum recommended lifetime dose of intravenous idarubicin; heart failure in 5% of "
            "patients at 150 to 290 mg/m² (Anderlini et al., J Clin Oncol 1995)",
            routes=frozenset({INTRAVENOUS}),
        ),
        LifetimeLimit(
            "mitoxantrone",
            MG_PER_M2,
            Decimal(140),
            "US prescribing information (mitoxantrone, boxed warning): symptomatic heart failure in 2.6% "
            "of patients with cancer at up to 140 mg/m², the label's lifetime limit in multiple sclerosis",
        ),
        LifetimeLimit(
            "bleomycin",
            UNIT,
            Decimal(400),
            "US prescribing information (bleomycin): pulmonary toxicity is more common in patients over 70 "
            "and in those receiving over 400 units in total",
            # Bleomycin is labelled in units (USP) in the US and in international units (Ph. Eur.)
            # elsewhere: a dose written in international units is counted at 1,000 to the unit.
            other_unit=(
                INTERNATIONAL_UNIT,
                Decimal(1000),
                "bleomycin doses in international units are counted at 1,000 international units to the "
                "unit (USP): Amneal Biosciences, Dear Healthcare Professional letter on bleomycin 15,000 IU "
                "(FDA, 2016)",
            ),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Exposure:
    """What a regimen can give of one medicine over the plan's largest number of cycles.

    ``limit`` is the limit that applies (the library's `lifetime max`, else the package's);
    ``lines`` are each administration line's total and cycle count; ``groups`` each cycle
    group's amount in one cycle and the number of its cycles the plan allows; ``open_group``
    the first group whose cycles nothing bounds (then ``total`` counts the others only).
    """

    limit: LifetimeLimit
    total: Decimal
    lines: tuple[tuple[Span, Decimal, int], ...]
    groups: tuple[tuple[ir.CycleGroup, Decimal, int], ...]
    open_group: ir.CycleGroup | None
    cap: ir.Limit | None
    international: bool


def _cap(plan: ir.Plan) -> ir.Limit | None:
    """Return the largest `at most N cycles`: no patient has more cycles than that."""
    return max(plan.cycle_limits(), key=lambda lim: lim.count, default=None)


def _cycles(group: ir.CycleGroup, cap: ir.Limit | None) -> int | None:
    """How many cycles of ``group`` the plan allows; None when nothing bounds them."""
    last = None if group.open_ended else (group.last or group.first)
    if cap is not None:
        last = cap.count if last is None else min(last, cap.count)
    if last is None:
        return None
    return max(0, last - group.first + 1)


def _amount_unit(unit: Unit) -> Unit:
    """Return the unit one amount of ``unit`` is in: `mg/m²` for `mg/m²/day`, the unit itself for an amount."""
    return (find_unit(unit.amount) if unit.amount is not None else None) or unit


def _per_cycle(admin: ir.Administration, per_unit: Decimal) -> Decimal:
    """Return what one cycle of ``admin`` gives, in the limit's unit."""
    dose, unit = admin.dose.amount / per_unit, admin.dose.unit
    if unit.per_minutes == 1440:  # a dose per day: its amount on each day, however it is split
        return dose * len(admin.days)
    if unit.per_minutes is not None:  # a rate: over the longest the line may take each day
        minutes = admin.max_minutes if admin.max_minutes is not None else 1440
        return dose * minutes / unit.per_minutes * len(admin.days)
    per_day = admin.frequency.per_day if admin.frequency else 1
    return dose * len(admin.days) * per_day


def _add(
    totals: dict[str, Decimal],
    groups: dict[str, dict[int, tuple[ir.CycleGroup, Decimal, int]]],
    group: ir.CycleGroup,
    name: str,
    one: Decimal,
    count: int,
) -> None:
    """Add what one cycle of ``group`` gives of medicine ``name`` (``one``), given ``count`` times."""
    totals[name] = totals.get(name, Decimal(0)) + one * count
    before = groups.setdefault(name, {}).get(id(group))
    groups[name][id(group)] = (group, one + (before[1] if before else 0), count)


def limit_of(medicine: Medicine) -> LifetimeLimit | None:
    """Return the lifetime limit that applies to ``medicine``: its library's, else the package's."""
    return medicine.lifetime or LIFETIME_LIMITS.get(medicine.name)


def exposures(regimen: ir.Regimen) -> dict[str, Exposure]:
    """Return what the plan can give of each medicine with a lifetime limit, by medicine name."""
    cap = _cap(regimen.plan)
    totals: dict[str, Decimal] = {}
    lines: dict[str, dict[tuple[str, int], tuple[Span, Decimal, int]]] = {}
    groups: dict[str, dict[int, tuple[ir.CycleGroup, Decimal, int]]] = {}
    open_groups: dict[str, ir.CycleGroup] = {}
    limits: dict[str, LifetimeLimit] = {}
    international: set[str] = set()
    for group in regimen.cycles():
        # A choice's lines count by its largest branch: a patient is given one branch.
        branches: dict[tuple[str, Span], dict[int, Decimal]] = {}
        counts: dict[str, int] = {}
        for admin in group.administrations:
            limit = limit_of(admin.medicine)
            if limit is None or admin.prn:
                continue
            code = _amount_unit(admin.dose.unit).code
            per_unit = Decimal(1)
            if limit.other_unit is not None and code == limit.other_unit[0]:
                per_unit = limit.other_unit[1]
            elif code != limit.unit:
                continue
            if limit.routes is not None and (admin.route is None or admin.route.code not in limit.routes):
                continue
            name = admin.medicine.name
            limits[name] = limit
            count = _cycles(group, cap)
            if count is None:
                open_groups.setdefault(name, group)
                continue
            if per_unit != 1:
                international.add(name)
            one = _per_cycle(admin, per_unit)
            given = one * count
            key = (admin.span.path, admin.span.start)
            old = lines.setdefault(name, {}).get(key)
            lines[name][key] = (admin.span, given + (old[1] if old else 0), count + (old[2] if old else 0))
            if admin.guard is not None:
                branch = branches.setdefault((name, admin.guard.choice), {})
                branch[admin.guard.branch] = branch.get(admin.guard.branch, Decimal(0)) + one
                counts[name] = count
                continue
            _add(totals, groups, group, name, one, count)
        for (name, _choice), by_branch in branches.items():
            _add(totals, groups, group, name, max(by_branch.values()), counts[name])
    names = sorted(set(totals) | set(open_groups))
    return {
        name: Exposure(
            limit=limits[name],
            total=totals.get(name, Decimal(0)),
            lines=tuple(sorted(lines.get(name, {}).values(), key=lambda item: item[0].start)),
            groups=tuple(groups.get(name, {}).values()),
            open_group=open_groups.get(name),
            cap=cap,
            international=name in international,
        )
        for name in names
    }
