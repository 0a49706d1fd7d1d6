"""Dose safety: Tall Man lettering, units and routes, caps and usual dose ranges.

Tall Man names written without their capitals, dose units that do not fit the route, AUC
doses of medicines not dosed by AUC, scaled as-needed doses, doses the data says must be
capped, and doses, caps and AUCs outside their usual ranges. Error-prone abbreviations are
in ``forms.py``, lifetime cumulative doses in ``cumulative.py``.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal

from regdsl.check.context import RuleContext
from regdsl.check.fixes import spelling_fix
from regdsl.check.registry import Rule, rule
from regdsl.check.rules._shared import administrations, by_route, is_tall_man, medicines_of
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model import ast, ir
from regdsl.model.doses import amount
from regdsl.model.dosing import DoseFacts, Family, UsualRange, facts, family, package_facts, refused_basis
from regdsl.model.medicines import DEFAULT_MEDICINES, MedicineTable
from regdsl.model.vocabulary import (
    INTRAVENOUS,
    ORAL,
    SOLID_ORAL_UNITS,
    UNITS,
    Basis,
    Unit,
)
from regdsl.source import Span

__all__ = [
    "CAP_UNITS",
    "auc_not_carboplatin",
    "auc_outside_usual_range",
    "cap_outside_usual_range",
    "cap_unit_mismatch",
    "dose_basis_not_used",
    "dose_outside_usual_range",
    "scaled_prn_dose",
    "tall_man_inconsistent",
    "unit_route_mismatch",
    "vincristine_no_cap",
    "weekly_days_too_close",
]

# --------------------------------------------------------------------------- SAF105

# A place a Tall Man name may be written: its text, and where each of its characters is.
_Written = tuple[str, Callable[[int, int], Span]]


def _heading_and_prose(regimen: ir.Regimen) -> Iterator[_Written]:
    """Yield the names and titles, qualifiers and prose lines of a regimen: where a name is prose, not a name."""
    for text in regimen.headings:
        yield text.value, text.at
    for admin in administrations(regimen):
        for relation in admin.relations:
            qualifier = relation.qualifier_text
            if qualifier is not None and qualifier.span.path == regimen.path:
                yield qualifier.value, qualifier.at
    for prose in regimen.prose:
        for number, line in enumerate(prose.lines):
            yield line, functools.partial(prose.at, number)


def _names(regimen: ir.Regimen) -> Iterator[_Written]:
    """Yield each place a medicine is named in the regimen's lines (its `drug` aliases aside), and each note label."""
    for mention in regimen.mentions:
        written = mention.written
        if isinstance(written, ast.DrugRef) and written.span.path == regimen.path:
            yield written.text, written.at
    for group in regimen.cycles():
        for note in group.notes:
            label = note.label_word
            if label is not None and label.span.path == regimen.path:
                yield label.text, label.at


@rule("SAF105", "tall-man-inconsistent", Severity.WARNING, "a Tall Man medicine name written in other letters")
def tall_man_inconsistent(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find Tall Man medicine names written without their Tall Man capitals.

    What it does: for every medicine whose display name uses Tall Man lettering
    (`cISplatin`, `DOXOrubicin`, `vinCRIStine`), finds the name written in other
    letters (`cisplatin`, `Doxorubicin`) on administration lines and their timing
    anchors, note labels, `observe`, `doses apart` and `without` lines, names and titles,
    and prose. Citations are left as published.

    Why it matters: Tall Man capitals mark the part of a name that tells look-alike
    medicines apart (cISplatin and cARBOplatin, vinCRIStine and vinBLAStine: ISMP List of
    Look-Alike Drug Names with Recommended Tall Man Letters, and the FDA's Name Differentiation
    Project). A regimen that writes them both ways teaches readers to skip the capitals.

    Example:
        cycle 1: 21 days
          cisplatin 75 mg/m2 IV day 1 over 60 min
            | Ensure patient has passed urine before cisplatin.

    Use instead: `cISplatin 75 mg/m2 IV day 1 over 60 min`, and "before cISplatin".
    """
    regimen = ctx.regimen
    displays = {med.display.lower(): med.display for med in medicines_of(regimen).values() if is_tall_man(med.display)}
    if not displays:
        return
    # One pattern for every Tall Man name, longest first, so each text is read once.
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(d) for d in sorted(displays, key=lambda d: (-len(d), d))) + r")(?!\w)",
        re.IGNORECASE,
    )

    def scan(texts: Iterator[_Written]) -> Iterator[tuple[str, Span, str]]:
        for text, at in texts:
            for match in pattern.finditer(text):
                yield displays[match.group().lower()], at(match.start(), match.end()), match.group()

    # Medicine names where lines name them. When the first is in Tall Man letters, VOC010
    # reports every other spelling: say it once.
    named = sorted(set(scan(_names(regimen))), key=lambda item: (item[1].start, item[0]))
    first: dict[str, str] = {}
    for display, _span, written in named:
        first.setdefault(display, written)
    found = {*scan(_heading_and_prose(regimen)), *(item for item in named if first[item[0]] != item[0])}
    for display, span, written in sorted(found, key=lambda item: (item[1].start, item[0])):
        if written == display:
            continue
        yield tall_man_inconsistent.finding(
            span,
            f"{display} is written `{written}` here, without its Tall Man capitals",
            label=f"write `{display}`",
            help=f"write `{display}` everywhere: the capitals tell look-alike medicine names apart",
            fixes=spelling_fix(span, display),
        )


# --------------------------------------------------------------------------- SAF201 - SAF204

# Units for solid forms taken by mouth: tablets, capsules, modified-release and orodispersible forms.


@rule("SAF201", "unit-route-mismatch", Severity.ERROR, "a dose unit that cannot be given by its route")
def unit_route_mismatch(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find doses whose unit does not fit the route.

    What it does: flags tablets, capsules, modified-release and orodispersible forms
    given by any route but oral, and AUC doses given by any route but intravenous. A
    dose in mL or % by mouth (an oral liquid, a mouthwash) is fine.

    Why it matters: a tablet written for intravenous use is a transcription error; the
    medicine, the route or the unit is wrong, and whichever it is reaches the pharmacy
    as written. An AUC dose is a target exposure calculated for intravenous carboplatin.

    Example:
        cycle 1: 21 days
          dexamethasone 2 tablet IV days 1 to 3

    Use instead: `dexamethasone 2 tablet oral days 1 to 3`, or the dose in mg for the
    injection: `dexamethasone 8 mg IV days 1 to 3 over 15 min`.
    """
    for admin in administrations(ctx.regimen):
        route, unit = admin.route, admin.dose.unit
        if route is None:
            continue
        if unit.code in SOLID_ORAL_UNITS and route.code != ORAL:
            yield unit_route_mismatch.finding(
                admin.span,
                f"{admin.medicine.display} is written in {unit.display}s but given {by_route(route)}: "
                f"{unit.display}s are taken by mouth",
                label=f"{unit.display} {by_route(route)}",
                help="write `oral`, or give the dose of the injectable form in mg",
            )
        elif unit.basis is Basis.AUC and route.code != INTRAVENOUS:
            yield unit_route_mismatch.finding(
                admin.span,
                f"{admin.medicine.display} is dosed by AUC but given {by_route(route)}: "
                "an AUC dose is calculated for intravenous use",
                label=f"AUC dose {by_route(route)}",
                help="write `IV`, or the dose in mg for another route",
            )


def _displays(names: Iterable[str]) -> str:
    """Return the medicines ``names`` as pages show them (Tall Man where the default table has it), joined with "or"."""
    shown = sorted({(found.display if (found := _TABLE.find(n)) else n) for n in names}, key=str.lower)
    return " or ".join(shown) if shown else "no medicine"


_TABLE = MedicineTable(DEFAULT_MEDICINES)


def _auc_medicines(regimen: ir.Regimen) -> list[str]:
    """Return the medicines the data (and the regimen's library) doses by an AUC target."""
    package = [name for name, found in package_facts().items() if found.auc]
    own = [m.display for m in medicines_of(regimen).values() if any(r.unit.basis is Basis.AUC for r in m.usual)]
    return [*package, *own]


@rule("SAF202", "auc-not-carboplatin", Severity.ERROR, "an AUC dose for a medicine never dosed by AUC")
def auc_not_carboplatin(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find AUC doses of medicines that are never dosed by an AUC target.

    What it does: flags any administration dosed by AUC (area under the curve) unless the
    medicine has a usual AUC range in regdsl's dose data (`regdsl/model/data/doses.json`:
    cARBOplatin) or in its library's `usual dose` lines (5.2).

    Why it matters: an AUC dose is turned into milligrams by the Calvert formula from the
    patient's kidney function, which holds for carboplatin only. AUC written for cISplatin
    (a look-alike name) has no meaning, and a pharmacist may calculate it anyway.

    Example:
        cycle 1: 21 days
          cISplatin 5 AUC IV day 1 over 60 min

    Use instead: `cARBOplatin 5 AUC IV day 1 over 60 min`, or `cISplatin 75 mg/m2 IV day
    1 over 60 min`.
    """
    dosed: list[str] | None = None
    for admin in administrations(ctx.regimen):
        if admin.dose.unit.basis is not Basis.AUC or facts(admin.medicine).auc:
            continue
        dosed = dosed if dosed is not None else _auc_medicines(ctx.regimen)
        names = _displays(dosed)
        yield auc_not_carboplatin.finding(
            admin.dose.span,
            f"{admin.medicine.display} is dosed by AUC, which is used for {names} only",
            label="AUC dose",
            help=f"check the medicine ({names}?) or write the dose in mg/m2 or mg",
        )


@rule("SAF203", "scaled-prn-dose", Severity.WARNING, "an as-needed dose scaled by body size")
def scaled_prn_dose(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find as-needed (`prn`) doses written per m² or per kg.

    What it does: flags an administration marked `prn` whose dose is scaled by body
    surface area (mg/m², units/m²) or weight (mg/kg, microgram/kg).

    Why it matters: an as-needed dose is given on the ward when a symptom appears, often
    by a nurse without a pharmacist's calculation. A scaled dose then has to be worked
    out at the bedside, where calculation errors happen; scaled doses are for scheduled,
    checked administrations.

    Example:
        cycle 1: 21 days
          metoclopramide 0.15 mg/kg oral three times daily days 1 to 5 prn

    Use instead: the flat dose, `metoclopramide 10 mg oral three times daily days 1 to 5
    prn`.
    """
    for admin in administrations(ctx.regimen):
        basis = admin.dose.unit.basis
        if admin.prn and basis in {Basis.PER_M2, Basis.PER_KG}:
            by = "body surface area" if basis is Basis.PER_M2 else "weight"
            yield scaled_prn_dose.finding(
                admin.dose.span,
                f"{admin.medicine.display} is given as needed but its dose is scaled by {by}",
                label=f"{admin.dose.unit.display} as needed",
                help="write the flat dose to give when needed, or remove `prn` if the dose is scheduled",
            )


@rule("SAF204", "vincristine-no-cap", Severity.WARNING, "a scaled dose its source always caps, with no maximum")
def vincristine_no_cap(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find scaled doses written without the maximum their sources always give them.

    What it does: flags a dose with no `max` clause when regdsl's dose data says the
    medicine's doses of that unit and route are always capped: intravenous vinCRIStine per
    m² (at 2 mg), blinatumomab per m² per day (at 9 or 28 micrograms a day). The data is
    `regdsl/model/data/doses.json` (`caps` with `required`), each cap with its source. (A
    vinca alkaloid by any route but intravenous is already an error that cannot be
    suppressed: SAF001, SAF002.)

    Why it matters: vinCRIStine's neurotoxicity limits the single dose; regimens such as
    R-CHOP cap 1.4 mg/m² at 2 mg. Without the cap on the regimen, a patient with a large
    body surface area receives more than the protocol intends.

    Example:
        cycle 1: 21 days
          vinCRIStine 1.4 mg/m2 IV day 1 over 10 min

    Use instead: `vinCRIStine 1.4 mg/m2 IV day 1 over 10 min max 2 mg`, or the cap the
    protocol sets.
    """
    for admin in administrations(ctx.regimen):
        written = _written(admin)
        if written is None or admin.cap is not None:
            continue
        route, kind, _ = written
        cap = next((r for r in facts(admin.medicine).caps(route) if r.required and r.on_family == kind), None)
        if cap is None:
            continue
        example = f"`max {cap.text}`" if cap.low == cap.high else f"a cap of {cap.text}"
        yield vincristine_no_cap.finding(
            admin.span,
            f"{admin.medicine.display} {amount(admin.dose.amount)} {admin.dose.unit.display} has no maximum dose",
            label="no `max` dose",
            notes=(f"source: {cap.source}",),
            help=f"state the cap, such as {example}, or the cap the protocol sets",
        )


# --------------------------------------------------------------------------- SAF205 - SAF208


def _written(admin: ir.Administration) -> tuple[str, Family, Decimal] | None:
    """Return a dose's route (its code), unit family and amount in the family's own unit; None when it has no route."""
    found = family(admin.dose.unit)
    if admin.route is None or found is None:
        return None
    return admin.route.code, found[0], admin.dose.amount * found[1]


def _one_a_day(admin: ir.Administration) -> bool:
    """Whether a line gives one dose on each of its days (no clock, no frequency of more than once a day)."""
    frequency = admin.frequency
    return not admin.continuous and admin.clock is None and (frequency is None or frequency.per_day <= 1)


def _usual(admin: ir.Administration, found: DoseFacts, route: str, kind: Family) -> tuple[UsualRange, ...]:
    """Return the ranges a dose is compared with: of its family, or a dose's for a day's dose given as one."""
    ranges = found.doses(route)
    same = tuple(r for r in ranges if r.family == kind)
    if same or not kind.per_day or not _one_a_day(admin):
        return same
    return tuple(r for r in ranges if r.family == kind.as_dose())


_DAY = 1440


def _comparisons(
    admin: ir.Administration, found: DoseFacts, route: str, kind: Family, base: Decimal
) -> list[tuple[Decimal, tuple[UsualRange, ...]]]:
    """Return the amounts a dose is compared with, each with its ranges.

    First its amount and its own ranges; then, for one dose over more than a day, what it
    gives a day and the medicine's ranges per day (`4000 mg/m2 over 96 hours` is 1000 mg/m²
    a day).
    """
    found_ranges = [(base, _usual(admin, found, route, kind))]
    minutes = admin.max_minutes
    if kind.per_minutes is None and minutes is not None and minutes > _DAY:
        per_day = Family(kind.amount, kind.basis, _DAY)
        daily = tuple(r for r in found.doses(route) if r.family == per_day)
        found_ranges.append((base * _DAY / minutes, daily))
    return [(value, ranges) for value, ranges in found_ranges if ranges]


def _side(base: Decimal, ranges: Sequence[UsualRange]) -> str | None:
    """Return where ``base`` (in its family's own unit) lies when outside every range: above, below or outside."""
    sides = frozenset(r.compare(base) for r in ranges)
    if 0 in sides:
        return None
    return {frozenset({1}): "above", frozenset({-1}): "below"}.get(sides, "outside")


def _range_finding(
    which: Rule, admin: ir.Administration, span: Span, what: str, ranges: Sequence[UsualRange], side: str, cap: bool
) -> Diagnostic:
    """Return ``which``'s finding on ``what``, ``side`` the ``ranges``, with their sources."""
    route = admin.route
    assert route is not None
    usual = ("the usual cap of " if cap else "the usual ") + " or ".join(r.text for r in ranges)
    checked = "the cap" if cap else "the dose"
    return which.finding(
        span,
        f"{what} is {side} {usual} {by_route(route)}",
        label=f"{side} {usual}",
        notes=tuple(f"source: {r.source}" for r in ranges),
        help=f"check {checked} against the regimen's source: a slip of a decimal point or of a unit gives "
        "ten or a thousand times the intended amount",
    )


def _doses_outside(which: Rule, regimen: ir.Regimen, *, auc: bool) -> Iterator[Diagnostic]:
    """Yield ``which``'s findings on the doses outside their usual ranges: AUC targets (``auc``) or the others."""
    for admin in administrations(regimen):
        written = _written(admin)
        if written is None or (admin.dose.unit.basis is Basis.AUC) is not auc:
            continue
        route, kind, base = written
        found = facts(admin.medicine)
        if refused_basis(admin.medicine, route, admin.dose.unit) is not None:
            continue  # SAF208's
        compared = _comparisons(admin, found, route, kind, base)
        sides = [_side(value, ranges) for value, ranges in compared]
        if not compared or None in sides:
            continue
        dose = admin.dose
        what = f"{admin.medicine.display} " + (
            f"AUC {amount(dose.amount)}" if auc else f"{amount(dose.amount)} {dose.unit.display}"
        )
        side = sides[0]
        assert side is not None
        yield _range_finding(which, admin, dose.span, what, compared[0][1], side, cap=False)


@rule(
    "SAF205",
    "dose-outside-usual-range",
    Severity.ERROR,
    "a dose outside its medicine's usual range for its unit and route",
)
def dose_outside_usual_range(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find doses above the highest or below the lowest dose established regimens give.

    What it does: compares each dose with the usual range of its medicine, unit and route
    in regdsl's dose data (`regdsl/model/data/doses.json`, each range with its source: a
    product data sheet or prescribing information, a trial paper, a national protocol), or
    in its library's `usual dose` lines. A dose is compared in its unit family: `g/m2` and
    `mg/m2` are one family, `mg/m2` and `mg/kg` two. A dose in a dose unit (`mg/m2`) is
    one dose's amount, whatever its frequency (capecitabine 1250 mg/m2 twice daily is a
    dose of 1250 mg/m²); a dose per day (`mg/m2/day`) is compared with the medicine's range
    per day, or, when the data has none and the line gives one dose a day (no `twice
    daily`, no clock, not `continuous`), with its range per dose; one dose over more than a
    day (`4000 mg/m2 over 96 hours`) passes within its range per dose or, as an amount a
    day, within the range per day. A medicine, unit or route the data has no range for is
    not judged. The finding's note gives the range's source. AUC doses are SAF207's; caps
    SAF206's; a unit the route never takes SAF208's.

    Why it matters: a misplaced decimal point or a slip between units turns a dose into ten
    or a thousand times what was meant: vinCRIStine 14 mg/m² instead of 1.4 mg/m² is a
    fatal dose. The usual range catches what a reviewing pharmacist would catch.

    Example:
        cycle 1: 21 days
          vinCRIStine 14 mg/m2 IV day 1 over 10 min max 2 mg

    Use instead: `vinCRIStine 1.4 mg/m2 IV day 1 over 10 min max 2 mg`, the dose of the
    regimen's source; a library that uses another range writes `usual dose` in the
    medicine's entry, with its source.
    """
    yield from _doses_outside(dose_outside_usual_range, ctx.regimen, auc=False)


@rule("SAF206", "cap-outside-usual-range", Severity.ERROR, "a dose cap outside the usual caps of its medicine")
def cap_outside_usual_range(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find dose caps (`max`) above or below the caps established regimens give.

    What it does: compares each `max` with the usual caps of its medicine, dose unit and
    route in regdsl's dose data (`caps` in `regdsl/model/data/doses.json`, with sources):
    vinCRIStine per m² is capped at 2 mg, mitomycin per m² at 20 mg, blinatumomab per m²
    per day at 9 to 28 micrograms a day (the Blincyto prescribing information, section 2.2);
    the finding's note gives each cap's source. A cap in another unit than its dose comes
    to is VOC020's; a medicine with no cap data is not judged.

    Why it matters: a cap is the last guard against an overdose in a patient with a large
    body surface area. `max 20 mg` on vinCRIStine guards nothing: a patient of 2 m² would
    be given 2.8 mg, beyond the 2 mg every protocol stops at.

    Example:
        cycle 1: 21 days
          vinCRIStine 1.4 mg/m2 IV day 1 over 10 min max 20 mg

    Use instead: `max 2 mg`.
    """
    for admin in administrations(ctx.regimen):
        written = _written(admin)
        cap = admin.cap
        if written is None or cap is None:
            continue
        route, kind, _ = written
        capped = family(cap.unit)
        unit = admin.dose.unit
        if capped is None or (cap.unit.absolute, cap.unit.per_minutes) != (unit.absolute, unit.per_minutes):
            continue  # VOC020's
        ranges = [r for r in facts(admin.medicine).caps(route) if r.on_family == kind and r.family == capped[0]]
        side = _side(cap.amount * capped[1], ranges) if ranges else None
        if side is None:
            continue
        what = (
            f"the cap of {amount(cap.amount)} {cap.unit.display} on {admin.medicine.display} "
            f"{amount(admin.dose.amount)} {unit.display}"
        )
        yield _range_finding(cap_outside_usual_range, admin, cap.span, what, ranges, side, cap=True)


@rule("SAF207", "auc-outside-usual-range", Severity.ERROR, "an AUC target outside its medicine's usual range")
def auc_outside_usual_range(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find AUC targets above or below those established regimens give.

    What it does: compares each AUC dose with its medicine's usual AUC range in regdsl's
    dose data (cARBOplatin: AUC 1.5 to 7.5 intravenously, in `regdsl/model/data/doses.json`,
    from the Paraplatin prescribing information's Calvert dosing, the Irish NCCP regimens of
    weekly AUC 1.5 with radiotherapy and AUC 5 to 7.5 with PACLItaxel, weekly AUC 2 in CROSS,
    PMID 22646630, and single-dose AUC 7 in MRC TE19, PMID 16039331)
    or its library's `usual dose` lines; the finding's note gives the source. A medicine with
    no AUC range is not judged here; an AUC dose of a medicine never dosed by AUC is SAF202's.

    Why it matters: the AUC is turned into milligrams by the Calvert formula, dose = AUC ×
    (GFR + 25): AUC 50 written for AUC 5 gives ten times the dose, and the pharmacist's
    calculation carries the slip faithfully.

    Example:
        cycle 1: 21 days
          cARBOplatin 50 AUC IV day 1 over 60 min

    Use instead: `cARBOplatin 5 AUC IV day 1 over 60 min`.
    """
    yield from _doses_outside(auc_outside_usual_range, ctx.regimen, auc=True)


@rule("SAF208", "dose-basis-not-used", Severity.ERROR, "a dose unit its medicine is never dosed in by its route")
def dose_basis_not_used(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find doses scaled in a way their medicine is never dosed by their route.

    What it does: flags a dose whose unit is not one regdsl's dose data says the medicine
    is dosed in by its route (`bases` in `regdsl/model/data/doses.json`): intrathecal
    methotrexate, cytarabine and hydrocortisone are flat doses in mg, never per m² or per
    kg (the methotrexate prescribing information's intrathecal doses by age; Bleyer, Cancer
    Treat Rep 1977;61:1419-25). The finding gives the usual flat dose when the data has
    one; a medicine and route the data says nothing of is not judged.

    Why it matters: the volume of the fluid round the brain and spinal cord reaches its
    adult size by about the age of three and does not grow with body size, so intrathecal
    doses are fixed, banded by age. A dose per m² intrathecally is a slip of a line meant
    for the vein: cytarabine 3000 mg/m² intrathecally is a fatal dose.

    Example:
        cycle 1: 21 days
          methotrexate 12 mg/m2 intrathecal day 1

    Use instead: `methotrexate 12 mg flat intrathecal day 1`, the flat dose for the
    patient's age.
    """
    for admin in administrations(ctx.regimen):
        written = _written(admin)
        if written is None:
            continue
        route, _, _ = written
        assert admin.route is not None
        only = refused_basis(admin.medicine, route, admin.dose.unit)
        if only is None:
            continue
        found = facts(admin.medicine)
        units = " or ".join(f"`{u}`" for u in only.units)
        usual = [r for r in found.doses(route) if r.family in only.families]
        beside = f" (usually {' or '.join(r.text for r in usual)})" if usual else ""
        yield dose_basis_not_used.finding(
            admin.dose.span,
            f"{admin.medicine.display} is never dosed in {admin.dose.unit.display} {by_route(admin.route)}, "
            f"only in {units}{beside}",
            label=f"{admin.dose.unit.display} {by_route(admin.route)}",
            notes=(f"source: {only.source}", *(f"source: {r.source}" for r in usual)),
            help=f"write the dose in {units}, as the regimen's source gives it for this route",
        )


# --------------------------------------------------------------------------- VOC020

# The unit a cap on a scaled dose is written in: its absolute amount, per the same time
# (`mg` for `mg/m2` and AUC, `mg/day` for `mg/m2/day`). Every scaled unit has one (tests/test_units.py).
CAP_UNITS: dict[tuple[str, int | None], Unit] = {
    (u.absolute, u.per_minutes): u for u in UNITS if u.basis is Basis.ABSOLUTE
}


@rule("VOC020", "cap-unit-mismatch", Severity.ERROR, "a cap not in the dose's amount unit per the same time")
def cap_unit_mismatch(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find caps written in another unit than the one their dose comes to.

    What it does: flags a `max` whose unit is not the dose's own unit with body size scaled
    out, per the same time: `mg/m2` is capped in `mg`, `mg/m2/day` in `mg/day`,
    `microgram/kg/min` in `microgram/min`, `AUC` in `mg`. (A cap on an unscaled dose, or a
    cap in a scaled unit, is STR020.)

    Why it matters: a cap in another unit cannot be compared with the dose without a
    conversion nobody wrote down. A daily infusion capped in mg is read as a cap on the whole
    course or on an hour; a cap in `g` on a dose in mg is a thousandfold error away.

    Example:
        cycle 1: 28 days
          fluorouracil 1000 mg/m2/day IV days 1 to 4 max 2 mg

    Use instead: `max 2000 mg/day`, a cap per day on a dose per day.
    """
    for admin in administrations(ctx.regimen):
        unit, cap = admin.dose.unit, admin.cap
        if cap is None or cap.unit.basis is not Basis.ABSOLUTE or unit.basis in {Basis.ABSOLUTE, Basis.COUNT}:
            continue  # not a cap on a scaled dose: STR020's
        if (cap.unit.absolute, cap.unit.per_minutes) == (unit.absolute, unit.per_minutes):
            continue
        comes_to = CAP_UNITS.get((unit.absolute, unit.per_minutes))
        if comes_to is None:
            continue  # a concentration (`%`) comes to no amount: a cap on it is STR020's
        wanted = comes_to.display
        yield cap_unit_mismatch.finding(
            cap.span,
            f"a cap on {admin.dose.text} {unit.display} is written in {wanted}, not {cap.unit.display}",
            label=f"write the cap in {wanted}",
            help=f"{unit.display} comes to {wanted} once scaled by body size: "
            "write the cap in that unit, with the number the source gives",
        )


# --------------------------------------------------------------------------- VOC022

WEEKLY = "once weekly"


@rule("VOC022", "weekly-days-too-close", Severity.ERROR, "`once weekly` on days less than a week apart")
def weekly_days_too_close(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find `once weekly` lines whose days are closer than a week.

    What it does: flags a line written `once weekly` with two of its days less than 7 days
    apart, such as `once weekly days 1 to 28`.

    Why it matters: each listed day is a dose. `once weekly days 1 to 28` reads as four
    weekly doses but gives one every day, 28 in all: a sevenfold overdose for a weekly
    medicine such as methotrexate.

    Example:
        cycle 1: 28 days
          methotrexate 15 mg flat oral once weekly days 1 to 28

    Use instead: the weekly days themselves, `once weekly days 1, 8, 15, 22`.
    """
    for admin in administrations(ctx.regimen):
        if admin.frequency is None or admin.frequency.phrase != WEEKLY:
            continue
        days = sorted(admin.days)
        close = next(((a, b) for a, b in itertools.pairwise(days) if b - a < 7), None)
        if close is None:
            continue
        yield weekly_days_too_close.finding(
            admin.days_span or admin.span,
            f"`once weekly` gives one dose on each day listed, and days {close[0]} and {close[1]} "
            f"are {close[1] - close[0]} day{'s' if close[1] - close[0] != 1 else ''} apart: "
            f"{len(days)} doses in the cycle",
            label=f"{len(days)} doses, not weekly",
            help="list the weekly days themselves, such as `days 1, 8, 15, 22`",
        )
