"""What the words of a source name: medicines, blocks, footnotes and regimens, where each is defined and used.

A medicine is named by what it is, whatever it is called: ``ino``, an alias a ``drug`` line
defines, and ``inotuzumab ozogamicin`` are one medicine, as lowering resolved them
(``ir.Regimen.mentions``). A block, a footnote and a regimen are named by their names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from regdsl.model import ast, ir
from regdsl.model.medicines import MedicineTable
from regdsl.record import Record
from regdsl.source import Span

__all__ = ["Kind", "Name", "library_names", "nodes", "regimen_names"]

Kind = Literal["medicine", "block", "footnote", "regimen"]


@dataclass(frozen=True, slots=True)
class Name:
    """One word that names something: what kind of thing, which (``key``), where, and whether it defines it."""

    kind: Kind
    key: str
    span: Span
    defines: bool = False


def nodes(root: Record) -> Iterator[Record]:
    """Yield every node under ``root`` (``root`` first), depth first, without recursion."""
    pending: list[object] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, tuple) and not isinstance(item, Span):
            pending.extend(reversed(item))
        elif isinstance(item, Record):
            yield item
            pending.extend(reversed([getattr(item, name) for name in item.__dataclass_fields__]))


def _shared(node: Record) -> Iterator[Name]:
    """Yield the names any source writes: blocks used and defined, footnotes named and links to regimens."""
    if isinstance(node, ast.BlockDef):
        yield Name("block", node.name.text, node.name.span, defines=True)
    elif isinstance(node, ast.UseBlock):
        yield Name("block", node.name.text, node.name.span)
    elif isinstance(node, ast.FootnotesField):
        yield from (Name("footnote", word.text, word.span) for word in node.names)
    elif isinstance(node, ast.FootnoteDef):
        yield Name("footnote", node.name.text, node.name.span, defines=True)
    elif isinstance(node, ast.RegimenHeader):
        yield Name("regimen", node.id.text, node.id.span, defines=True)
    elif isinstance(node, ast.Branch) and node.action == "continue" and node.target is not None:
        yield Name("regimen", node.target.text, node.target.span)
    elif isinstance(node, ast.Limit):
        yield from (Name("regimen", word.text, word.span) for word in node.counted_with)


def regimen_names(module: ast.Module, regimen: ir.Regimen | None) -> list[Name]:
    """Return the names a regimen's source writes, its medicines as lowering resolved them, in the order written."""
    found = [name for node in nodes(module) for name in _shared(node)]
    if regimen is not None:
        aliases = {node.alias.span for node in module.items if isinstance(node, ast.DrugDecl)}
        path = module.span.path
        found.extend(
            Name("medicine", m.medicine.name, m.written.span, defines=m.written.span in aliases)
            for m in regimen.mentions
            if m.written.span.path == path
        )
    return sorted(found, key=lambda n: n.span.start)


def library_names(module: ast.Module, medicines: MedicineTable) -> list[Name]:
    """Return the names ``library.reg`` writes: each medicine's name and aliases, the blocks, the footnotes."""
    found: list[Name] = []
    for node in nodes(module):
        if isinstance(node, ast.MedicineDef):
            medicine = medicines.find(node.name.value)
            key = medicine.name if medicine is not None else node.name.value.casefold()
            found.append(Name("medicine", key, node.name.span, defines=True))
            found.extend(Name("medicine", key, word.span, defines=True) for word in node.aliases)
            for same in node.same_as:
                other = medicines.find(same.value)
                found.append(Name("medicine", other.name if other else same.value.casefold(), same.span))
        elif isinstance(node, ast.DrugRef):
            medicine = medicines.find(node.text)
            found.append(Name("medicine", medicine.name if medicine else node.text.casefold(), node.span))
        else:
            found.extend(_shared(node))
    return sorted(found, key=lambda n: n.span.start)
