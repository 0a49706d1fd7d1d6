"""The one way regdsl writes a dose: the renderer and the safety rules both use it.

Error-prone forms are never produced: no trailing zero (`1.0`), no naked decimal (`.5`
is written `0.5`), no exponent, `microgram` never `µg`, `units` never `U`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from regdsl.model.vocabulary import Basis

if TYPE_CHECKING:
    from regdsl.model.ir import Dose, Quantity

__all__ = ["amount", "dose_text", "quantity_text"]


def amount(value: Decimal) -> str:
    """Write a decimal as a clinician does: `480`, `1.5`, `0.5`; never `4.8E+2`, `1.50` or `.5`."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.startswith("."):
        text = "0" + text
    return text


def quantity_text(quantity: Quantity) -> str:
    """Write an amount with its unit: `1000 mL`."""
    return f"{amount(quantity.amount)} {quantity.unit.display}"


def dose_text(dose: Dose, cap: Quantity | None = None) -> str:
    """Write a dose as a page shows it: `0.8 mg/m²`, `1000 mg flat dosing`, `AUC 5`, `0.9%`.

    A dose with a cap is never written without it: `1.4 mg/m² (maximum 2 mg)`.
    """
    if dose.basis is Basis.AUC:
        text = f"AUC {amount(dose.amount)}"
    elif dose.basis is Basis.CONCENTRATION:
        text = f"{amount(dose.amount)}%"
    else:
        text = f"{amount(dose.amount)} {dose.unit.display}"
    if dose.flat:
        text += " flat dosing"
    return f"{text} (maximum {quantity_text(cap)})" if cap is not None else text
