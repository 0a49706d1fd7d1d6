"""Route safety: the errors that have killed patients, which no suppression can silence."""

from __future__ import annotations

from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.check.rules._shared import administrations
from regdsl.diagnostics import Diagnostic, Severity

__all__ = ["intrathecal_unknown", "vinca_intrathecal", "vinca_not_iv"]

INTRATHECAL = "406188003"
INTRAVENOUS = "386358000"
# Vinca alkaloids that are given only intravenously (vinORELBine also has an oral form).
IV_ONLY_VINCAS = frozenset({"vincristine", "vinblastine"})


@rule("SAF001", "vinca-intrathecal", Severity.ERROR, "a vinca alkaloid by the intrathecal route", suppressible=False)
def vinca_intrathecal(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find vinca alkaloids written for intrathecal use.

    What it does: flags vinCRIStine, vinBLAStine, vinORELBine (any vinca alkaloid) with the
    intrathecal route. This finding cannot be suppressed.

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
                f"{admin.medicine.display} must never be given intrathecally: it is fatal",
                label="intrathecal vinca alkaloid",
                help="vinca alkaloids are for intravenous use only; this cannot be suppressed",
            )


@rule(
    "SAF002", "vinca-not-iv", Severity.ERROR, "vinCRIStine or vinBLAStine by a route other than IV", suppressible=False
)
def vinca_not_iv(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find vinCRIStine and vinBLAStine written for any route but intravenous.

    What it does: flags vinCRIStine and vinBLAStine with a route other than IV (the
    intrathecal route is SAF001's). This finding cannot be suppressed.

    Why it matters: these medicines are licensed only for intravenous use; any other route
    written on a regimen is an error that may reach a patient.

    Example:
        vinBLAStine 6 mg/m2 IM day 1

    Use instead: `vinBLAStine 6 mg/m2 IV day 1 over 10 min`.
    """
    for admin in administrations(ctx.regimen):
        route = admin.route
        if admin.medicine.name in IV_ONLY_VINCAS and route is not None and route.code not in {INTRAVENOUS, INTRATHECAL}:
            yield vinca_not_iv.finding(
                admin.span,
                f"{admin.medicine.display} is for intravenous use only, not {route.term}",
                label=f"{route.term}",
                help="write `IV`; this cannot be suppressed",
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
