"""How amounts and units are written: forms misread as tenfold doses, error-prone units, misplaced units.

Each rule reads the amount and the unit as written, which the lowered regimen keeps beside
their values: a dose, the volume it is given in (`in 1000 mL`) and its cap (`max 2 mg`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.fixes import amount_fix, unit_fix
from regdsl.check.registry import rule
from regdsl.check.rules._shared import administrations
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model import ir
from regdsl.model.vocabulary import ERROR_PRONE_UNITS, Basis

__all__ = ["error_prone_unit", "naked_decimal", "trailing_zero", "unit_misused"]

_TRAILING_ZERO = re.compile(r"\.\d*0$|\.$")
_SCALED = frozenset({Basis.PER_M2, Basis.PER_KG, Basis.AUC})


def _quantities(ctx: RuleContext) -> Iterator[ir.Quantity]:
    """Every amount written as a dose: each dose, its volume and its cap."""
    for admin in administrations(ctx.regimen):
        yield admin.dose
        if admin.volume is not None:
            yield admin.volume
        if admin.cap is not None:
            yield admin.cap


@rule("SAF101", "dose-trailing-zero", Severity.ERROR, "dose written with a trailing zero")
def trailing_zero(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find amounts written with a zero, or a point, after the last significant digit.

    What it does: flags a dose, a volume or a cap whose amount ends in a zero after the
    decimal point (`1.0`, `2.50`) or in the point itself (`5.`).

    Why it matters: `1.0 mg` is misread as `10 mg`, a tenfold overdose, when the point is
    missed (ISMP list of error-prone abbreviations, symbols and dose designations).

    Example:
        loratadine 10.0 mg oral days 1

    Use instead: `loratadine 10 mg oral days 1`: the amount without the trailing zero.
    """
    for quantity in _quantities(ctx):
        text = quantity.text
        if not text.startswith(".") and _TRAILING_ZERO.search(text):
            yield trailing_zero.finding(
                quantity.amount_word.span,
                "dose written with a trailing zero",
                label=f"write `{text.rstrip('0').rstrip('.') or '0'}`",
                help="a trailing zero can be misread as a tenfold dose",
                fixes=amount_fix(quantity),
            )


@rule("SAF102", "dose-naked-decimal", Severity.ERROR, "dose written without a leading zero")
def naked_decimal(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find amounts written with no zero before the decimal point.

    What it does: flags a dose, a volume or a cap whose amount starts with the decimal
    point (`.5`).

    Why it matters: `.5 mg` is misread as `5 mg`, a tenfold overdose, when the point is
    missed (ISMP list of error-prone abbreviations, symbols and dose designations).

    Example:
        dexamethasone .5 mg oral days 1

    Use instead: `dexamethasone 0.5 mg oral days 1`.
    """
    for quantity in _quantities(ctx):
        if quantity.text.startswith("."):
            yield naked_decimal.finding(
                quantity.amount_word.span,
                "dose written without a leading zero",
                label=f"write `0{quantity.text}`",
                help="a naked decimal point can be missed, giving a tenfold overdose",
                fixes=amount_fix(quantity),
            )


@rule("VOC005", "error-prone-unit", Severity.ERROR, "a unit is written in an error-prone form")
def error_prone_unit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find units written in a form that has been misread.

    What it does: flags a unit of a dose, a volume or a cap written as `µg`, `ug`, `U`,
    `IU` or another form of the ISMP list; the unit is read as the one meant.

    Why it matters: `µg` is misread as `mg` (a thousandfold overdose) and `U` or `IU` as a
    zero or a four (ISMP list of error-prone abbreviations).

    Example:
        vinCRIStine 1400 µg IV days 1 over 10 min

    Use instead: the unit spelt out: `microgram`, `units`, `international units`.
    """
    for quantity in _quantities(ctx):
        text = quantity.unit_word.text
        instead = ERROR_PRONE_UNITS.get(text)
        if instead is not None:
            yield error_prone_unit.finding(
                quantity.unit_word.span,
                f"`{text}` is an error-prone way to write a unit",
                label=f"write `{instead}`",
                help=f"write `{instead}`: `{text}` has been misread, causing overdoses",
                fixes=unit_fix(quantity, instead),
            )


@rule("STR020", "unit-misused", Severity.ERROR, "a unit does not fit where it is written")
def unit_misused(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find `flat`, volumes and caps whose units do not fit them.

    What it does: flags `flat` on a dose scaled by body size (mg/m2, mg/kg, AUC), a volume
    (`in 1000 mL`) in another unit than mL, and a cap (`max 2 mg`) that is not an absolute
    amount on a scaled dose (a cap on an absolute dose, or a cap in mg/m2).

    Why it matters: `flat` says the dose is not scaled by body size; on mg/m2 it contradicts
    the unit, and a reader cannot tell which was meant. A cap limits what a scaled dose comes
    to, so it is an absolute amount, and only a scaled dose has one.

    Example:
        cISplatin 75 mg/m2 flat IV days 1 over 60 min

    Use instead: `cISplatin 75 mg/m2 IV days 1 over 60 min`, or a flat dose in mg.
    """
    for admin in administrations(ctx.regimen):
        unit, volume, cap = admin.dose.unit, admin.volume, admin.cap
        scaled = unit.basis in _SCALED
        if admin.dose.flat and unit.basis is not Basis.ABSOLUTE:
            yield unit_misused.finding(
                admin.dose.span,
                f"`flat` means a dose not scaled by body size, but {unit.display} is not a flat amount",
                label="remove `flat`",
            )
        if volume is not None and volume.unit.term != "mL":
            yield unit_misused.finding(
                volume.span, f"a volume is given in mL, not {volume.unit.display}", label="write mL"
            )
        if cap is not None and (cap.unit.basis is not Basis.ABSOLUTE or not scaled):
            yield unit_misused.finding(
                cap.span,
                "`max` caps a dose scaled by body size with an absolute amount, such as `max 2 mg`"
                if scaled
                else f"`max` caps only a scaled dose; {admin.dose.text} {unit.display} is already absolute",
                label="not a valid cap",
            )
