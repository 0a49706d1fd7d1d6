"""The plan: decisions and their branches, cycle limits and stop rules, with conditions as IR.

Lowering resolves what the plan names (cycles, parts, linked regimens, response categories)
and reports what names nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import assert_never

from regdsl.compile.lower.words import Lowering
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.vocabulary import RESPONSES

__all__ = ["condition", "plan"]


def plan(low: Lowering, nodes: Iterable[ast.Plan], parts: Sequence[ir.Part]) -> ir.Plan:
    """Lower the `plan` sections of a regimen whose parts are ``parts``."""
    decisions: list[ir.Decision] = []
    caps: list[ir.Limit] = []
    stops: list[ir.StopRule] = []
    groups = [g for p in parts for g in p.cycles]
    for node in nodes:
        for item in node.items:
            match item:
                case ast.Decision(when=when, branches=branches):
                    first = low.integer(when.first, "a cycle number", limits.CYCLE_NUMBERS) if when.first else None
                    last = low.integer(when.last, "a cycle number", limits.CYCLE_NUMBERS) if when.last else None
                    if when.kind == "part":
                        _part_exists(low, when.first, parts)
                    else:
                        for number, word in ((first, when.first), (last, when.last)):
                            _cycle_exists(low, number, word, groups)
                    decisions.append(
                        ir.Decision(
                            span=item.span,
                            kind=when.kind,
                            first=first,
                            last=last,
                            branches=tuple(_branch(low, b, groups, parts) for b in branches),
                        )
                    )
                case ast.Limit(count=count, cond=cond, counted_with=ids):
                    n = low.integer(count, "a number of cycles", limits.CYCLE_NUMBERS)
                    guard = condition(low, cond) if cond is not None else None
                    if n is not None:
                        for word in ids:
                            low.link(word)
                        caps.append(ir.Limit(span=item.span, count=n, cond=guard, counted_words=ids))
                case ast.StopRule(cond=cond, within=within):
                    guard = condition(low, cond)
                    cycles = low.integer(within, "a number of cycles", limits.CYCLE_NUMBERS) if within else None
                    stops.append(ir.StopRule(span=item.span, cond=guard, within=cycles))
                case _:
                    assert_never(item)
    return ir.Plan(decisions=tuple(decisions), limits=tuple(caps), stops=tuple(stops))


def _cycle_exists(low: Lowering, number: int | None, word: ast.Word | None, groups: Sequence[ir.CycleGroup]) -> None:
    if number is not None and word is not None and not any(g.covers(number) for g in groups):
        low.sink.report(c.UNKNOWN_CYCLE, word.span, f"this regimen has no cycle {number}", label="no such cycle")


def _part_exists(low: Lowering, word: ast.Word | None, parts: Sequence[ir.Part]) -> None:
    if word is not None and not any(str(p.number) == word.text for p in parts):
        low.sink.report(c.UNKNOWN_CYCLE, word.span, f"this regimen has no part {word.text}", label="no such part")


def _branch(low: Lowering, node: ast.Branch, groups: Sequence[ir.CycleGroup], parts: Sequence[ir.Part]) -> ir.Branch:
    guard = condition(low, node.cond) if node.cond is not None else None
    target = node.target.text if node.target else None
    if node.action == "continue" and node.target is not None:
        target = low.link(node.target)
    elif node.action == "cycle" and node.target is not None:
        number = low.integer(node.target, "a cycle number", limits.CYCLE_NUMBERS)
        _cycle_exists(low, number, node.target, groups)
        target = str(number) if number is not None else None
    elif node.action == "part":
        _part_exists(low, node.target, parts)
    return ir.Branch(
        span=node.span,
        cond=guard,
        action=node.action,
        target=target,
        target_span=node.target.span if node.target else None,
    )


def condition(low: Lowering, cond: ast.Cond) -> ir.Cond:
    """Return a condition as IR; report a response category that is none."""
    match cond:
        case ast.ResponseIn(codes=codes):
            for code in codes:
                if code.text not in RESPONSES:
                    low.unknown(
                        c.UNKNOWN_RESPONSE,
                        code.span,
                        f"unknown response `{code.text}`",
                        label="not a response category",
                        word=code.text,
                        candidates=RESPONSES,
                        otherwise="responses: CR, CRi, PR, SD, PD",
                    )
            return ir.ResponseIn(span=cond.span, codes=tuple(ir.Written(span=w.span, text=w.text) for w in codes))
        case ast.Mrd(negative=negative):
            return ir.Mrd(span=cond.span, negative=negative)
        case ast.Hsct():
            return ir.Hsct(span=cond.span)
        case ast.NotCond(operand=operand):
            return ir.NotCond(span=cond.span, operand=condition(low, operand))
        case ast.AndCond(operands=ops):
            return ir.AndCond(span=cond.span, operands=tuple(condition(low, op) for op in ops))
        case ast.OrCond(operands=ops):
            return ir.OrCond(span=cond.span, operands=tuple(condition(low, op) for op in ops))
        case _:
            assert_never(cond)
