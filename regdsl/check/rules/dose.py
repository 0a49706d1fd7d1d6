"""Dose safety: abbreviations, Tall Man lettering, units and routes, caps and lifetime doses.

Error-prone abbreviations (ISMP), Tall Man names written without their capitals, dose
units that do not fit the route, AUC doses of medicines other than carboplatin, scaled
as-needed doses, vinCRIStine without a maximum, and lifetime cumulative dose limits.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from regdsl.check.context import RuleContext
from regdsl.check.fixes import spelling_fix
from regdsl.check.registry import Rule, rule
from regdsl.check.rules._shared import administrations, by_route, is_tall_man, medicines_of
from regdsl.compile.totals import LIFETIME_LIMITS, Exposure, LifetimeLimit, exposures
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ast, ir
from regdsl.model.doses import amount
from regdsl.model.vocabulary import (
    INTRAVENOUS,
    MG_PER_M2,
    ORAL,
    SOLID_ORAL_UNITS,
    SUBCUTANEOUS,
    UNITS,
    Basis,
    Unit,
)
from regdsl.source import Span

__all__ = [
    "CAP_UNITS",
    "LIFETIME_LIMITS",
    "LifetimeLimit",
    "auc_not_carboplatin",
    "cap_unit_mismatch",
    "cumulative_near_limit",
    "cumulative_over_limit",
    "cumulative_unbounded",
    "error_prone_abbreviation",
    "scaled_prn_dose",
    "tall_man_inconsistent",
    "unit_route_mismatch",
    "vincristine_no_cap",
    "weekly_days_too_close",
]

# --------------------------------------------------------------------------- SAF104


@dataclass(frozen=True, slots=True)
class _Abbreviation:
    pattern: re.Pattern[str]
    instead: str
    why: str


# After a word or sentence: not followed by a letter, nor by a full stop and a letter
# (`q.d.s.` is not `q.d.`).
_END = r"(?!\w)(?!\.\w)"
_START = r"(?<![\w.])"

# The ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations: the entries
# a regimen's prose may hold. Unit abbreviations count only right after a number.
ABBREVIATIONS: tuple[_Abbreviation, ...] = (
    _Abbreviation(
        re.compile(r"\d\s*(?P<abbr>U|u)(?!\w)"), "`units`", "it has been read as 0 or 4, giving tenfold overdoses"
    ),
    _Abbreviation(re.compile(r"\d\s*(?P<abbr>IU)(?!\w)"), "`units`", "it has been read as IV or as 10"),
    _Abbreviation(
        re.compile(r"\d\s*(?P<abbr>[µμ]g|ug)(?!\w)"),
        "`microgram`",
        "it has been read as mg, a thousandfold overdose",
    ),
    _Abbreviation(re.compile(r"\d\s*(?P<abbr>[cC]{2})(?!\w)"), "`mL`", "it has been read as U (units)"),
    _Abbreviation(
        re.compile(_START + r"(?P<abbr>[qQ]\.?[dD]\.?)" + _END),
        "`once daily`",
        "it has been read as qid, four times daily",
    ),
    _Abbreviation(
        re.compile(_START + r"(?P<abbr>[qQ]\.?[oO]\.?[dD]\.?)" + _END),
        "`every other day`",
        "it has been read as qd (daily) or qid (four times daily)",
    ),
    _Abbreviation(
        re.compile(_START + r"(?P<abbr>hs|HS|h\.s\.)(?!-)" + _END),
        "`at bedtime` or `half-strength`",
        "it stands for both half-strength and bedtime",
    ),
    _Abbreviation(
        re.compile(_START + r"(?P<abbr>TIW|tiw|t\.i\.w\.)" + _END),
        "`three times a week`",
        "it has been read as three times a day or twice a week",
    ),
    _Abbreviation(
        re.compile(_START + r"(?P<abbr>SQ|[sS]ub[ -]?[qQ]|SUB[ -]?Q)" + _END),
        "`subcut`",
        "SQ has been read as SL (sublingual), and the q of sub q as every",
    ),
    _Abbreviation(
        re.compile(r"(?<![\w/])(?P<abbr>[dD]/[cC])(?![\w/])"),
        "`discharge` or `discontinue`",
        "it stands for both discharge and discontinue, and medicines have been stopped by mistake",
    ),
)


@rule("SAF104", "error-prone-abbreviation", Severity.WARNING, "an error-prone abbreviation in prose or as a route")
def error_prone_abbreviation(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find abbreviations that ISMP lists as error-prone.

    What it does: reads the prose of a regimen (instructions, notes, overviews) for the
    abbreviations on the ISMP List of Error-Prone Abbreviations: `U`, `IU`, `µg`, `ug`
    and `cc` right after a number; `qd`, `q.d.`, `qod`, `hs`, `HS`, `TIW`, `SQ`,
    `sub q` and `D/C` anywhere. It also flags `SC` written as the route of an
    administration. Units written this way on a dose line are VOC005's.

    Why it matters: each of these has been misread and has harmed patients. `U` read as a
    zero turns 10 U into 100 units; `qd` read as `qid` gives four doses a day instead of
    one; `SC` read as `SL` sends an injection under the tongue.

    Example:
        cycle 1: 21 days
          filgrastim 300 microgram SC days 3 to 7
            | Inject qd until neutrophil recovery.

    Use instead: `filgrastim 300 microgram subcut days 3 to 7` and "Inject ONCE daily
    until neutrophil recovery."
    """
    regimen = ctx.regimen
    for prose in regimen.prose:
        for number, line in enumerate(prose.lines):
            for abbreviation in ABBREVIATIONS:
                for match in abbreviation.pattern.finditer(line):
                    start, end = match.span("abbr")
                    if line[start:end].count(".") == 1 and line[end - 1] == ".":
                        end -= 1  # `qd.` ends a sentence
                    written = line[start:end]
                    yield error_prone_abbreviation.finding(
                        prose.at(number, start, end),
                        f"`{written}` is an error-prone abbreviation: {abbreviation.why}",
                        label=f"write {abbreviation.instead}",
                        help=f"write {abbreviation.instead} in full (ISMP List of Error-Prone Abbreviations)",
                    )
    for admin in administrations(regimen):
        route = admin.route_word
        if admin.route is None or admin.route.code != SUBCUTANEOUS or route is None or route.text.lower() != "sc":
            continue
        if route.span.path == regimen.path:
            yield error_prone_abbreviation.finding(
                route.span,
                "`SC` is an error-prone way to write the subcutaneous route: it has been read as SL (sublingual)",
                label="write `subcut`",
                help="write `subcut` (ISMP List of Error-Prone Abbreviations)",
                fixes=spelling_fix(route.span, "subcut"),
            )


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
    medicines apart (cISplatin and cARBOplatin, vinCRIStine and vinBLAStine). A regimen
    that writes them both ways teaches readers to skip the capitals.

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
CARBOPLATIN = "carboplatin"
VINCRISTINE = "vincristine"


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


@rule("SAF202", "auc-not-carboplatin", Severity.ERROR, "an AUC dose for a medicine other than carboplatin")
def auc_not_carboplatin(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find AUC doses of medicines other than cARBOplatin.

    What it does: flags any administration dosed by AUC (area under the curve) unless the
    medicine is cARBOplatin.

    Why it matters: an AUC dose is turned into milligrams by the Calvert formula from the
    patient's kidney function, which holds for carboplatin only. AUC written for cISplatin
    (a look-alike name) has no meaning, and a pharmacist may calculate it anyway.

    Example:
        cycle 1: 21 days
          cISplatin 5 AUC IV day 1 over 60 min

    Use instead: `cARBOplatin 5 AUC IV day 1 over 60 min`, or `cISplatin 75 mg/m2 IV day
    1 over 60 min`.
    """
    for admin in administrations(ctx.regimen):
        if admin.dose.unit.basis is Basis.AUC and admin.medicine.name != CARBOPLATIN:
            yield auc_not_carboplatin.finding(
                admin.dose.span,
                f"{admin.medicine.display} is dosed by AUC, which is used for cARBOplatin only",
                label="AUC dose",
                help="check the medicine (cARBOplatin?) or write the dose in mg/m2 or mg",
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


@rule("SAF204", "vincristine-no-cap", Severity.WARNING, "a per-m² vinCRIStine dose with no maximum")
def vincristine_no_cap(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find vinCRIStine doses per m² without a maximum dose.

    What it does: flags intravenous vinCRIStine dosed per m² with no `max` clause. (Any
    other route is already an error that cannot be suppressed: SAF001, SAF002.)

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
        if (
            VINCRISTINE in admin.medicine.known
            and admin.route is not None
            and admin.route.code == INTRAVENOUS
            and admin.dose.unit.basis is Basis.PER_M2
            and admin.cap is None
        ):
            yield vincristine_no_cap.finding(
                admin.span,
                f"{admin.medicine.display} {amount(admin.dose.amount)} {admin.dose.unit.display} has no maximum dose",
                label="no `max` dose",
                help="state the cap, such as `max 2 mg`, or the cap the protocol sets",
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
        wanted = CAP_UNITS[unit.absolute, unit.per_minutes].display
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


# --------------------------------------------------------------------------- SAF301 - SAF303


def _display(regimen: ir.Regimen, name: str) -> str:
    return next(a.medicine.display for g in regimen.cycles() for a in g.administrations if a.medicine.name == name)


def _labels(exposure: Exposure, limit: LifetimeLimit) -> tuple[Label, tuple[Label, ...]]:
    unit = limit.unit_text
    labels = [
        Label(span, f"{amount(given)} {unit} over {count} cycle{'s' if count != 1 else ''}")
        for span, given, count in exposure.lines
    ]
    primary, *rest = labels
    if exposure.cap is not None:
        rest.append(Label(exposure.cap.span, f"at most {exposure.cap.count} cycles"))
    return primary, tuple(rest)


def _total_finding(
    which: Rule, regimen: ir.Regimen, name: str, exposure: Exposure, beyond: str, source: str, help: str
) -> Diagnostic:
    """Build a finding about a plan's total dose of ``name``: the figure, what it passes, its source."""
    limit = exposure.limit
    primary, secondary = _labels(exposure, limit)
    return which.finding(
        primary.span,
        f"the plan gives up to {amount(exposure.total)} {limit.unit_text} of {_display(regimen, name)} "
        f"in total, {beyond}",
        label=primary.text,
        secondary=secondary,
        notes=_notes(name, exposure, limit, source),
        help=help,
    )


def _notes(name: str, exposure: Exposure, limit: LifetimeLimit, source: str) -> tuple[str, ...]:
    notes = [source]
    if exposure.international and limit.other_unit is not None:
        notes.append(limit.other_unit[2])
    package = LIFETIME_LIMITS.get(name)
    if package is not None and package.unit == MG_PER_M2:  # the package's mg/m² limits are anthracyclines'
        notes.append("doses given before this regimen, of this or another anthracycline, add to the lifetime total")
    else:
        notes.append("doses given before this regimen add to the lifetime total")
    return tuple(notes)


@rule("SAF301", "cumulative-dose-over-limit", Severity.ERROR, "a plan's total dose passes a lifetime limit")
def cumulative_over_limit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find regimens whose full course passes a medicine's lifetime cumulative dose limit.

    What it does: for DOXOrubicin, EPIrubicin, DAUNOrubicin, IDArubicin (intravenous) and
    mitoXANTRONE in mg/m², and bleomycin in units, adds up the dose the plan allows:
    dose × days × cycles for each cycle group, counting no more cycles than the largest
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
    | bleomycin | 400 units | US prescribing information: lung toxicity more common over 400 units |

    A `lifetime max` in the medicine's entry in `library.reg` replaces the limit and its
    source, and gives one to a medicine the table above does not list.

    Bleomycin written in `international units` is counted at 1,000 international units
    to the unit (15,000 international units = 15 units); `units` are never read as
    international units. Doses in other units (a flat mg anthracycline dose, bleomycin
    per m²) cannot be compared and are left out.

    Why it matters: anthracycline heart damage and bleomycin lung fibrosis rise with the
    lifetime dose and do not recover. A regimen whose own cycles pass the limit will
    harm the patients who complete it, before any earlier treatment is counted.

    Example:
        cycles 1 to 8: 21 days
          DOXOrubicin 60 mg/m2 IV day 1 over 15 min

    Use instead: a plan that stays within the limit, such as `cycles 1 to 6` (360 mg/m²),
    with the limit and the cardiac monitoring stated in a note.
    """
    for name, exposure in exposures(ctx.regimen).items():
        limit = exposure.limit
        if exposure.open_group is not None or exposure.total <= limit.limit:
            continue
        yield _total_finding(
            cumulative_over_limit,
            ctx.regimen,
            name,
            exposure,
            f"more than the lifetime limit of {amount(limit.limit)} {limit.unit_text}",
            f"limit: {limit.source}",
            "reduce the dose or the number of cycles, or add `at most N cycles` to the plan",
        )


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
    for name, exposure in exposures(ctx.regimen).items():
        limit = exposure.limit
        caution = limit.caution
        if caution is None or exposure.open_group is not None or not caution < exposure.total <= limit.limit:
            continue
        yield _total_finding(
            cumulative_near_limit,
            ctx.regimen,
            name,
            exposure,
            f"more than {amount(caution)} {limit.unit_text}, where the risk of heart damage rises",
            f"threshold: {limit.caution_source or limit.source}",
            "state the cumulative dose and the cardiac monitoring in a note, or reduce the number of cycles",
        )


@rule(
    "SAF303",
    "cumulative-dose-unbounded",
    Severity.WARNING,
    "a medicine with a lifetime limit in cycles the plan does not bound",
)
def cumulative_unbounded(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find medicines with a lifetime dose limit given in cycles that never end.

    What it does: flags DOXOrubicin, EPIrubicin, DAUNOrubicin, IDArubicin, mitoXANTRONE
    and bleomycin (the medicines of SAF301) in an open-ended cycle group (`cycle 1 and
    all further cycles`) when the plan has no `at most N cycles`.

    Why it matters: the total dose of such a regimen cannot be bounded; without a stated
    limit it will be given until the patient reaches, and passes, the lifetime dose.

    Example:
        cycle 1 and all further cycles: 21 days
          EPIrubicin 90 mg/m2 IV day 1 over 15 min

    Use instead: add `at most 8 cycles` (720 mg/m²) to the plan, or a fixed number of
    cycles.
    """
    for name, exposure in exposures(ctx.regimen).items():
        group = exposure.open_group
        if group is None:
            continue
        limit = exposure.limit
        display, unit = _display(ctx.regimen, name), limit.unit_text
        yield cumulative_unbounded.finding(
            group.span,
            f"{display} is given in cycles with no end and the plan sets no cycle limit, so its total "
            f"dose cannot be kept within the lifetime limit of {amount(limit.limit)} {unit}",
            label="open-ended cycles",
            notes=(f"limit: {limit.source}",),
            help="add `at most N cycles` to the plan, keeping the total within the limit",
        )
