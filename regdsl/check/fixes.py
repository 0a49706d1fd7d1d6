"""The mechanical fixes rules attach to their findings: each certain to keep what the line means.

A fix rewrites one word: an amount in its one safe form (`1.0` to `1`, `.5` to `0.5`, the
value unchanged, as ``model.doses.amount`` writes every dose), a unit in its spelt-out form
only when both spellings name the very same unit (`µg` to `microgram`), a route in its
unambiguous spelling of the same route (`SC` to `subcut`), a medicine's name in its Tall Man
letters, or a second spelling of a medicine in the spelling the regimen used first. None
changes a dose's value: ``tests/test_fix.py`` proves it for every unit and number form.
"""

from __future__ import annotations

from decimal import Decimal

from regdsl.diagnostics import Fix
from regdsl.model import ast, ir
from regdsl.model.doses import amount
from regdsl.model.vocabulary import find_unit
from regdsl.source import Span

__all__ = ["amount_fix", "name_fix", "number_fix", "spelling_fix", "unit_fix"]


def amount_fix(quantity: ir.Quantity) -> tuple[Fix, ...]:
    """Write an amount as ``model.doses.amount`` does: the same decimal, without a trailing zero or naked point."""
    written = amount(quantity.amount)
    if written == quantity.text:
        return ()
    return (Fix(quantity.amount_word.span, written, f"write `{written}`"),)


def number_fix(word: ast.Word) -> tuple[Fix, ...]:
    """Write a number of a dose line (a dose, a volume, a cap, an `over` time) in its one safe form, the same value."""
    written = amount(Decimal(word.text))
    if written == word.text:
        return ()
    return (Fix(word.span, written, f"write `{written}`"),)


def unit_fix(quantity: ir.Quantity, instead: str) -> tuple[Fix, ...]:
    """Write a quantity's unit as ``instead``, only when that spelling names the unit the quantity is read in."""
    if find_unit(instead) is not quantity.unit:
        return ()
    return (Fix(quantity.unit_word.span, instead, f"write `{instead}`"),)


def spelling_fix(span: Span, written: str) -> tuple[Fix, ...]:
    """Write a word at ``span`` as ``written`` (the same word: a Tall Man name's capitals, a route's full form)."""
    return (Fix(span, written, f"write `{written}`"),)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def name_fix(written: ast.DrugRef | ast.Word, first: ast.DrugRef | ast.Word) -> tuple[Fix, ...]:
    """Name a medicine where ``written`` names it as ``first`` did (an alias, a name, quoted text), as written there."""
    if not isinstance(written, ast.DrugRef):
        return ()
    name = _quoted(first.text) if isinstance(first, ast.DrugRef) and first.quoted else first.text
    return (Fix(written.span, name, f"write `{name}`"),)
