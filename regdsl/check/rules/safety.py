"""Route safety: the errors that have killed patients, which no suppression can silence, and the routes data allows.

Every fact comes from ``regdsl/model/data/routes.json`` (read by ``regdsl.model.routes``),
through what ``regdsl.model.medicines`` decides a medicine is, whatever it is called: no rule
names a medicine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.check.rules._shared import administrations, by_route
from regdsl.compile.anchoring import names_line
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir
from regdsl.model.dosing import refused_basis
from regdsl.model.medicines import VINCA, Medicine, identities, known_of_class
from regdsl.model.routes import CLASS_ROUTES, FLAT_SOURCE, MINIBAG, SEPARATE, SYRINGE_WORDS
from regdsl.model.vocabulary import INTRATHECAL, INTRAVENOUS, ROUTES, Basis, find_unit

__all__ = [
    "fatal_intrathecal",
    "intrathecal_scaled",
    "intrathecal_unknown",
    "route_not_permitted",
    "vinca_intrathecal",
    "vinca_not_iv",
    "vinca_same_day_intrathecal",
    "vinca_syringe",
]

_SCALED = frozenset({Basis.PER_M2, Basis.PER_KG, Basis.AUC})
_MILLILITRE = find_unit("mL")
_SYRINGE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, SYRINGE_WORDS))) + r")\b", re.IGNORECASE)


def _is(medicine: Medicine, known: Iterable[str]) -> str:
    """Say which of ``known`` a medicine was recognised as, when its name does not say it: `Oncovin (vincristine)`."""
    others = [k for k in known if k not in medicine.name]
    return f"{medicine.display} ({', '.join(others)})" if others else medicine.display


def _vinca(medicine: Medicine) -> str:
    return _is(medicine, known_of_class(medicine, VINCA))


def _intrathecal(admin: ir.Administration) -> bool:
    return admin.route is not None and admin.route.code == INTRATHECAL


def _only(codes: Iterable[str]) -> tuple[str, str]:
    """Say the routes ``codes`` in words (`intravenously or by mouth`) and as written (`IV` or `oral`)."""
    routes = sorted((r for r in ROUTES if r.code in set(codes)), key=lambda r: r.code != INTRAVENOUS)
    return _or([by_route(r) for r in routes]), _or([f"`{r.aliases[0]}`" for r in routes])


def _or(words: list[str]) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else "".join(words)


@rule("SAF001", "vinca-intrathecal", Severity.ERROR, "a vinca alkaloid by the intrathecal route", suppressible=False)
def vinca_intrathecal(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find vinca alkaloids written for intrathecal use, whatever the medicine is called.

    What it does: flags a vinca alkaloid (vinCRIStine, vinBLAStine, vinORELBine, vindesine,
    vinflunine) with the intrathecal route. A medicine is a vinca alkaloid when any of its
    names contains a vinca alkaloid's name (`vincristine sulfate`, `VinCRIStine liposomal`),
    is a brand of one (`Oncovin`, `Marqibo`, `Velban`, `Navelbine`), or its `library.reg`
    entry says so (`class vinca-alkaloid`, `same as "vinCRIStine"`); an unknown medicine so
    named is checked too. No entry can declare it otherwise. The route data
    (`regdsl/model/data/routes.json`) marks the class fatal intrathecally, citing WHO Alert
    No. 115 (2007) and ISMP's Targeted Medication Safety Best Practice 1. This finding cannot
    be suppressed, ignored or downgraded.

    Why it matters: a vinca alkaloid given intrathecally is almost always fatal. It is the
    best-known never-event in chemotherapy; WHO and ISMP call for vinca alkaloids to be
    given only in a minibag by intravenous infusion.

    Example:
        vinCRIStine 1.4 mg/m2 intrathecal day 1

    Use instead: `vinCRIStine 1.4 mg/m2 IV day 1 over 10 min`, and a separate line for the
    medicine actually meant for the intrathecal route.
    """
    for admin in administrations(ctx.regimen):
        if admin.medicine.vinca and admin.medicine.fatal_intrathecal is not None and _intrathecal(admin):
            yield vinca_intrathecal.finding(
                admin.span,
                f"{_vinca(admin.medicine)} is a vinca alkaloid and must never be given intrathecally: it is fatal",
                label="intrathecal vinca alkaloid",
                help="vinca alkaloids are for intravenous use only; this cannot be suppressed",
            )


@rule(
    "SAF002",
    "vinca-not-iv",
    Severity.ERROR,
    "a vinca alkaloid by a route it is not given by (IV; vinORELBine also oral)",
    suppressible=False,
)
def vinca_not_iv(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find vinca alkaloids written for a route they are not given by, whatever they are called.

    What it does: flags a vinca alkaloid (recognised as SAF001 does) with a route other
    than those the route data gives it (`regdsl/model/data/routes.json`, from the product
    data sheets: intravenous, and for vinORELBine intravenous or oral); the intrathecal route
    is SAF001's. A vinca alkaloid whose identity is not known is taken to be intravenous
    only, and a library's `route` lines can narrow a vinca alkaloid's routes but never widen
    them. This finding cannot be suppressed, ignored or downgraded.

    Why it matters: vinCRIStine, vinBLAStine, vindesine and vinflunine are licensed only for
    intravenous use, vinORELBine for intravenous and oral use; any other route written on
    a regimen is an error that may reach a patient.

    Example:
        vinBLAStine 6 mg/m2 IM day 1

    Use instead: `vinBLAStine 6 mg/m2 IV day 1 over 10 min`.
    """
    for admin in administrations(ctx.regimen):
        route = admin.route
        if not admin.medicine.vinca or route is None or route.code == INTRATHECAL:
            continue
        allowed = admin.medicine.routes or CLASS_ROUTES[VINCA].codes
        if route.code not in allowed:
            words, written = _only(allowed)
            yield vinca_not_iv.finding(
                admin.span,
                f"{_vinca(admin.medicine)} is a vinca alkaloid given only {words}, not {by_route(route)}",
                label=f"{route.term}",
                help=f"write {written}; this cannot be suppressed",
                notes=(f"source: {admin.medicine.routes_source or CLASS_ROUTES[VINCA].source}",),
            )


@rule(
    "SAF003",
    "intrathecal-unknown-medicine",
    Severity.ERROR,
    "a medicine not known to be given intrathecally, by the intrathecal route",
)
def intrathecal_unknown(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find intrathecal use of a medicine the route data does not allow intrathecally.

    What it does: flags the intrathecal route on any medicine other than those the route
    data (`regdsl/model/data/routes.json`) allows there: methotrexate and cytarabine
    (their product data sheets: the preservative-free injection; liposomal cytarabine is
    for intrathecal use only) and hydrocortisone (triple intrathecal therapy: IMSN Global
    Targeted Medication Safety Best Practice 2; the NZ SACT Regimen Library), or those a
    library's `library.reg` entry says `intrathecal`. A medicine that is fatal
    intrathecally is SAF001's or SAF004's, which cannot be silenced.

    Why it matters: only a few medicines may enter the spinal fluid; a medicine given
    intrathecally by mistake can paralyse or kill.

    Example:
        cISplatin 50 mg/m2 intrathecal day 1

    Use instead: the intended route. If the intrathecal use is intended and confirmed,
    say so in the library (`intrathecal` in its `medicine` entry), or suppress the finding
    on that line with the reason.
    """
    for admin in administrations(ctx.regimen):
        medicine = admin.medicine
        if _intrathecal(admin) and not medicine.intrathecal and medicine.fatal_intrathecal is None:
            yield intrathecal_unknown.finding(
                admin.span,
                f"{medicine.display} is not known to be given intrathecally",
                label="intrathecal",
                help="check the route; if this use is intended and confirmed, give `route intrathecal` in the "
                "medicine's library entry, with its source, or suppress this with the reason",
            )


@rule(
    "SAF004",
    "fatal-intrathecal",
    Severity.ERROR,
    "a medicine that is fatal intrathecally (not a vinca alkaloid), by the intrathecal route",
    suppressible=False,
)
def fatal_intrathecal(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find a medicine that is fatal if given intrathecally, written for the intrathecal route.

    What it does: flags the intrathecal route on a medicine that the route data
    (`regdsl/model/data/routes.json`) or the library (`fatal intrathecally` in its
    `library.reg` entry) marks fatal intrathecally, other than a vinca alkaloid (SAF001):
    bortezomib, whose prescribing information contraindicates intrathecal use after fatal
    events, under any name, salt or brand that makes it bortezomib (`same as "bortezomib"`).
    A library can add this mark, never take it away. This finding cannot be suppressed,
    ignored or downgraded.

    Why it matters: like the vinca alkaloids, these medicines have killed patients who were
    given them into the spinal fluid by mistake, often at a lumbar puncture meant for
    intrathecal methotrexate or cytarabine.

    Example:
        bortezomib 1.3 mg/m2 intrathecal day 1

    Use instead: the route the medicine is given by (`bortezomib 1.3 mg/m2 subcut day 1`),
    and a separate line for the medicine actually meant for the intrathecal route.
    """
    for admin in administrations(ctx.regimen):
        fatal = admin.medicine.fatal_intrathecal
        if fatal is not None and not admin.medicine.vinca and _intrathecal(admin):
            yield fatal_intrathecal.finding(
                admin.span,
                f"{_is(admin.medicine, identities(admin.medicine))} must never be given intrathecally: it is fatal",
                label="intrathecal",
                help="give it by the route its data sheet gives; this cannot be suppressed",
                notes=(f"source: {fatal.source}",),
            )


@rule("SAF005", "route-not-permitted", Severity.ERROR, "a medicine by a route it is not given by")
def route_not_permitted(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find a medicine written for a route outside the routes it is given by.

    What it does: flags a route that is not among the medicine's routes in the route data
    (`regdsl/model/data/routes.json`: each medicine's routes from its product data sheet,
    with established routes outside it, such as intraperitoneal cISplatin and PACLItaxel in
    GOG-172, each with its source), or among those its `library.reg` entry gives (`route`
    lines, which replace the package's). A medicine the data says nothing of is not
    checked. The intrathecal route is SAF001, SAF003 and SAF004's, a vinca alkaloid's other
    routes SAF002's.

    Why it matters: a route a medicine is not made for is a prescribing error that reaches
    the patient: DAUNOrubicin given intramuscularly destroys tissue, a platinum given
    subcutaneously is no treatment at all.

    Example:
        DAUNOrubicin 60 mg/m2 IM days 1 to 3

    Use instead: `DAUNOrubicin 60 mg/m2 IV days 1 to 3 over 30 min`. If the library uses the
    medicine by another route on purpose, give that route in its `medicine` entry
    (`route IV`, `route intravesical`), with the source.
    """
    for admin in administrations(ctx.regimen):
        route, allowed = admin.route, admin.medicine.routes
        if route is None or allowed is None or admin.medicine.vinca or route.code == INTRATHECAL:
            continue
        if route.code not in allowed:
            words, written = _only(allowed)
            yield route_not_permitted.finding(
                admin.route_span or admin.span,
                f"{admin.medicine.display} is given only {words}, not {by_route(route)}",
                label="not a route it is given by",
                help=f"write {written}, or give the library's route in its `medicine` entry",
                notes=(f"source: {admin.medicine.routes_source}",) if admin.medicine.routes_source else (),
            )


@rule(
    "SAF006",
    "intrathecal-dose-scaled",
    Severity.ERROR,
    "an intrathecal dose scaled by body size (mg/m2, mg/kg), not a flat dose",
)
def intrathecal_scaled(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find an intrathecal dose written per m² or per kg (or as an AUC) instead of a flat dose.

    What it does: flags an intrathecal line whose dose is scaled by body surface area or
    weight, or is a carboplatin-style AUC. Intrathecal doses are flat doses (`12 mg`), chosen
    by age where the protocol says so (methotrexate's prescribing information gives them by
    age, as the volume of spinal fluid follows age, not body surface area; liposomal
    cytarabine is 50 mg), as the route data cites (`regdsl/model/data/routes.json`). A
    medicine that must never be given intrathecally is SAF001's or SAF004's alone, one not
    allowed there SAF003's; a medicine whose dose data gives its intrathecal doses (methotrexate,
    cytarabine, hydrocortisone) SAF208's, which says the usual flat dose. The dose ranges
    themselves are the dose rules' (SAF2xx).

    Why it matters: a dose per m² or per kg multiplies by the patient's size a dose that
    must not grow with it: `12 mg/m2` intrathecal methotrexate is over 20 mg in an adult,
    a neurotoxic overdose into the spinal fluid.

    Example:
        methotrexate 12 mg/m2 intrathecal day 1

    Use instead: `methotrexate 12 mg flat intrathecal day 1`, or the age bands of the
    protocol, one line per band.
    """
    for admin in administrations(ctx.regimen):
        medicine = admin.medicine
        if (
            _intrathecal(admin)
            and admin.dose.basis in _SCALED
            and medicine.intrathecal
            and not medicine.fatal_intrathecal
            and refused_basis(medicine, INTRATHECAL, admin.dose.unit) is None  # SAF208 says it, with the usual dose
        ):
            yield intrathecal_scaled.finding(
                admin.dose.unit_word.span,
                f"an intrathecal dose is a flat dose, not {admin.dose.unit.display}",
                label="scaled by body size",
                help="write the flat dose in mg (by age if the protocol gives age bands)",
                notes=(f"source: {FLAT_SOURCE}",),
            )


def _syringe(admin: ir.Administration) -> Label | None:
    """Return where a line says its dose is in a syringe: a volume under its class's minibag, or the word."""
    bags = [MINIBAG[c] for c in sorted(admin.medicine.classes) if c in MINIBAG]
    if not bags:
        return None
    volume = admin.volume
    if volume is not None and _MILLILITRE is not None and volume.unit.code == _MILLILITRE.code:
        least = max(b.volume_ml for b in bags)
        if volume.amount < least:
            return Label(volume.span, f"under {least} mL: a syringe, not a minibag")
    prose = admin.instructions_prose
    for number, line in enumerate(prose.lines if prose else ()):
        found = _SYRINGE.search(line)
        if prose is not None and found is not None:
            return Label(prose.at(number, found.start(), found.end()), "a syringe, not a minibag")
    return None


@rule("SAF007", "vinca-syringe", Severity.WARNING, "a vinca alkaloid in a syringe rather than a minibag")
def vinca_syringe(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find a vinca alkaloid given from a syringe: a volume too small for a minibag, or instructions saying syringe.

    What it does: flags an intravenous line of a medicine whose class the route data
    (`regdsl/model/data/routes.json`) says is given only in a minibag (the vinca alkaloids,
    50 mL for adults and adolescents: NPSA Rapid Response Report NPSA/2008/RRR004; ISMP
    Targeted Medication Safety Best Practice 1) when its volume (`in 20 mL`) is under the
    minibag's, or its instructions say it is drawn up in a syringe. A line with no volume is
    not judged.

    Why it matters: every fatal intrathecal vinca alkaloid has been given from a syringe,
    which looks like the syringes of intrathecal chemotherapy and fits a spinal needle; a
    minibag cannot be connected to one.

    Example:
        vinCRIStine 1.4 mg/m2 IV day 1 over 10 min max 2 mg in 20 mL

    Use instead: `vinCRIStine 1.4 mg/m2 IV day 1 over 10 min max 2 mg in 50 mL`, a minibag.
    Paediatric units that give vinca alkaloids by syringe (the NPSA report does not ask them
    to use minibags) suppress this with the reason.
    """
    for admin in administrations(ctx.regimen):
        if admin.route is None or admin.route.code != INTRAVENOUS:
            continue
        where = _syringe(admin)
        if where is not None:
            bag = next(MINIBAG[c] for c in sorted(admin.medicine.classes) if c in MINIBAG)
            yield vinca_syringe.finding(
                where.span,
                f"{_vinca(admin.medicine)} is given in a minibag of {bag.volume_ml} mL or more, never in a syringe",
                label=where.text,
                help=f"write `in {bag.volume_ml} mL` (a minibag) and no syringe in the instructions",
                notes=(f"source: {bag.source}",),
            )


def _separated(line: ir.Administration, other: ir.Administration, group: ir.CycleGroup) -> bool:
    """Whether ``line`` is timed before or after ``other`` by a relation naming it (not `then`, `concurrently`)."""
    for relation in line.relations:
        if relation.via != "relation" or relation.medicine is None:
            continue
        if relation.medicine.name != other.medicine.name:
            continue
        lines = [a for a in group.administrations if a.medicine.name == other.medicine.name and not a.prn]
        if any(lines[k] is other for k in names_line(lines, relation.line)):
            return True
    return False


@rule(
    "SAF008",
    "vinca-same-day-intrathecal",
    Severity.WARNING,
    "an intravenous vinca alkaloid and intrathecal chemotherapy on the same day, not kept apart",
)
def vinca_same_day_intrathecal(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find an intravenous vinca alkaloid given on a day of intrathecal chemotherapy, with nothing keeping them apart.

    What it does: flags an intravenous line of a medicine whose class the route data
    (`regdsl/model/data/routes.json`) says must be kept apart from intrathecal chemotherapy
    (the vinca alkaloids) when an intrathecal line of the same cycle gives a dose on one of
    its days to the same patients (lines in different branches of a choice are never given
    together), and neither line is timed before or after the other by a relation naming it
    (`4 hours after vinCRIStine` on the intrathecal line, `before methotrexate (intrathecal)` on the
    vinca alkaloid's: section 8; `then` and `concurrently` do not keep them apart). The
    finding labels both lines; a `same as` cycle that repeats them is reported once.

    Why it matters: intravenous vinCRIStine given on the day of a lumbar puncture is how
    most fatal intrathecal vinca alkaloids happened: both reach the bedside together, both
    in syringes. UK national guidance (HSC 2008/001) gives intrathecal chemotherapy at a
    designated time and place, never alongside intravenous chemotherapy.

    Example:
        vinCRIStine 1.4 mg/m2 IV day 1 over 10 min max 2 mg
        methotrexate 12 mg flat intrathecal day 1

    Use instead: time them apart, `methotrexate 12 mg flat intrathecal day 1 at least 4
    hours after vinCRIStine`, or move one of them to another day if the protocol allows.
    """
    seen: set[tuple[str, int, str, int]] = set()
    for group in ctx.regimen.cycles():
        lines = [a for a in group.administrations if not a.prn]
        spinal = [a for a in lines if _intrathecal(a)]
        if not spinal:
            continue
        for vinca in lines:
            route = vinca.route
            kept = [c for c in sorted(vinca.medicine.classes) if c in SEPARATE]
            if not kept or route is None or route.code != INTRAVENOUS:
                continue
            days = set(vinca.days)
            for other in spinal:
                key = (vinca.span.path, vinca.span.start, other.span.path, other.span.start)
                common = sorted(days.intersection(other.days))
                if key in seen or not common or vinca.exclusive_of(other):
                    continue
                if _separated(other, vinca, group) or _separated(vinca, other, group):
                    continue
                seen.add(key)
                day = ("days " if len(common) > 1 else "day ") + ", ".join(str(d) for d in common)
                yield vinca_same_day_intrathecal.finding(
                    vinca.span,
                    f"{_vinca(vinca.medicine)} is given intravenously on {day}, the day of intrathecal "
                    f"{other.medicine.display}: keep them apart",
                    label="intravenous vinca alkaloid",
                    secondary=(Label(other.span, "intrathecal on the same day"),),
                    help=f"time one after the other, such as `at least 4 hours after {vinca.medicine.display}` "
                    "on the intrathecal line, so they are given at different times and places",
                    notes=(f"source: {SEPARATE[kept[0]].source}",),
                )
