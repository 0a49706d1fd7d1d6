"""The `support` and `reference` sections: supportive-care factors with their codes, and citations."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from regdsl.compile.lower.words import Lowering
from regdsl.model import ast, ir
from regdsl.model.vocabulary import SNOMED, Coding, find_factor

__all__ = ["reference", "support"]


def support(nodes: Iterable[ast.Support]) -> ir.Support:
    """Lower `support` sections: each factor coded where the vocabulary codes it, and the notes."""
    factors: list[ir.SupportFactor] = []
    notes: list[ir.Note] = []
    for node in nodes:
        for item in node.items:
            if isinstance(item, ast.Note):
                notes.append(ir.Note(span=item.span, label_word=item.label, medicine=None, prose=item.prose))
            else:
                factors.append(_factor(item))
    return ir.Support(factors=tuple(factors), notes=tuple(notes)) if factors or notes else _NO_SUPPORT


_NO_SUPPORT = ir.Support()  # records are immutable: one empty section serves every regimen


@functools.lru_cache(maxsize=4096)
def _coding(code: str, display: str) -> Coding:
    """Return the SNOMED CT coding of ``code`` shown as ``display``, one object for each (a library repeats them)."""
    return Coding(SNOMED, code, display)


def _factor(line: ast.FactorLine) -> ir.SupportFactor:
    """Return a factor and its value, coded when the vocabulary knows them (the rules note those it does not)."""
    name, value = line.factor.text, line.value.text
    factor = find_factor(name)
    found = factor.find_value(value) if factor else None
    return ir.SupportFactor(
        span=line.span,
        factor=_coding(factor.code, factor.term) if factor else None,
        value=_coding(found.code, value) if found else None,
        factor_word=line.factor,
        value_word=line.value,
    )


def reference(low: Lowering, node: ast.Reference) -> ir.Reference:
    """Lower a citation: its links as written, its PubMed ids and its access dates."""
    return ir.Reference(
        span=node.span,
        text=node.text.value,
        urls=tuple(low.url(u) for u in node.urls),
        pmids=tuple(p.text for p in node.pmids if low.whole(p, "a PubMed id")),
        accessed=tuple(d for d in (low.date(a) for a in node.accessed) if d is not None),
    )
