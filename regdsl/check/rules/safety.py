"""Route safety: the errors that have killed patients, which no suppression can silence."""

from __future__ import annotations

from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.check.rules._shared import administrations
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model.medicines import VINCA, Medicine, known_of_class
from regdsl.model.vocabulary import INTRATHECAL, INTRAVENOUS, ORAL

__all__ = ["intrathecal_unknown", "vinca_intrathecal", "vinca_not_iv"]


def _is(medicine: Medicine) -> str:
    """Say which vinca alkaloid a medicine was recognised as, when its name does not say it: `Oncovin (vincristine)`."""
    others = [k for k in known_of_class(medicine, VINCA) if k not in medicine.name]
    return f"{medicine.display} ({', '.join(others)})" if others else medicine.display


@rule("SAF001", "vinca-intrathecal", Severity.ERROR, "a vinca alkaloid by the intrathecal route", suppressible=False)
def vinca_intrathecal(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find vinca alkaloids written for intrathecal use, whatever the medicine is called.

    What it does: flags a vinca alkaloid (vinCRIStine, vinBLAStine, vinORELBine, vindesine,
    vinflunine) with the intrathecal route. A medicine is a vinca alkaloid when any of its
    names contains a vinca alkaloid's name (`vincristine sulfate`, `VinCRIStine liposomal`),
    is a brand of one (`Oncovin`, `Marqibo`, `Velban`, `Navelbine`), or its `library.reg`
    entry says so (`class vinca-alkaloid`, `same as "vinCRIStine"`); an unknown medicine so
    named is checked too. No entry can declare it otherwise. This finding cannot be
    suppressed, ignored or downgraded.

    Why it matters: a vinca alkaloid given intrathecally is almost always fatal. It is the
    best-known never-event in chemotherapy; WHO and ISMP call for vinca alkaloids to be
    given only in a minibag by intravenous infusion.

    Example:
        vinCRIStine 1.4 mg/m2 intrathecal day 1

    Use instead: `vinCRIStine 1.4 mg/m2 IV day 1 over 10 min`, and a separate line for the
    medicine actually meant for the intrathecal route.
    """
    for admin in administrations(ctx.regimen):
        if admin.medicine.vinca and admin.route is not None and admin.route.code == INTRATHECAL:
            yield vinca_intrathecal.finding(
                admin.span,
                f"{_is(admin.medicine)} is a vinca alkaloid and must never be given intrathecally: it is fatal",
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
    than intravenous, or, for vinORELBine, intravenous or oral (the intrathecal route is
    SAF001's). A vinca alkaloid whose identity is not known is taken to be intravenous
    only. This finding cannot be suppressed, ignored or downgraded.

    Why it matters: vinCRIStine, vinBLAStine, vindesine and vinflunine are licensed only for
    intravenous use, vinORELBine for intravenous and oral use; any other route written on
    a regimen is an error that may reach a patient.

    Example:
        vinBLAStine 6 mg/m2 IM day 1

    Use instead: `vinBLAStine 6 mg/m2 IV day 1 over 10 min`.
    """
    for admin in administrations(ctx.regimen):
        route, allowed = admin.route, admin.medicine.routes
        if not admin.medicine.vinca or route is None or route.code == INTRATHECAL:
            continue
        if route.code not in (allowed if allowed is not None else {INTRAVENOUS}):
            oral = allowed is not None and ORAL in allowed
            yield vinca_not_iv.finding(
                admin.span,
                f"{_is(admin.medicine)} is for intravenous{' or oral' if oral else ''} use only, not {route.term}",
                label=f"{route.term}",
                help=f"write `IV`{' or `oral`' if oral else ''}; this cannot be suppressed",
            )


@rule(
    "SAF003",
    "intrathecal-unknown-medicine",
    Severity.ERROR,
    "a medicine not known to be given intrathecally, by the intrathecal route",
)
def intrathecal_unknown(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find intrathecal use of a medicine the medicine table does not mark as intrathecal.

    What it does: flags the intrathecal route on any medicine other than those the
    medicine table knows to be given intrathecally (methotrexate, cytarabine and
    hydrocortisone).

    Why it matters: only a few medicines may enter the spinal fluid; a medicine given
    intrathecally by mistake can paralyse or kill.

    Example:
        cISplatin 50 mg/m2 intrathecal day 1

    Use instead: the intended route. If the intrathecal use is intended and confirmed,
    suppress the finding on that line with the reason.
    """
    for admin in administrations(ctx.regimen):
        route = admin.route
        if (
            route is not None
            and route.code == INTRATHECAL
            and not admin.medicine.intrathecal
            and not admin.medicine.vinca
        ):
            yield intrathecal_unknown.finding(
                admin.span,
                f"{admin.medicine.display} is not known to be given intrathecally",
                label="intrathecal",
                help="check the route; if this use is intended and confirmed, suppress this with the reason",
            )
