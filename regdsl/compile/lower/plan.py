"""The plan: decisions and their branches, cycle limits and stop rules, with conditions as IR.

Lowering resolves what the plan names (cycles, parts, linked regimens, the response vocabulary
and its categories, groups and their values) and reports what names nothing. Each decision point
(a decision, the cycle limits together, the stop rules together) is checked over every patient
state its conditions distinguish: beyond ``limits.CONDITION_STATES`` of them it is too complex.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import assert_never

from regdsl.compile.lower.words import Lowering
from regdsl.compile.phases import decision_points, space_size
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.conditions import DEFAULT_RESPONSES, Values, unit_key
from regdsl.model.limits import TooComplex

__all__ = ["bounded", "condition", "plan", "responses", "unknown_measure"]


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
                    lowered = tuple(_branch(low, b, groups, parts) for b in branches)
                    decisions.append(
                        ir.Decision(span=item.span, kind=when.kind, first=first, last=last, branches=lowered)
                    )
                case ast.Limit(count=count, cond=cond, counted_with=ids):
                    unit = _unit(low, item.unit, groups)
                    n = low.integer(count, f"a number of {unit}", limits.CYCLE_NUMBERS)
                    guard = condition(low, cond) if cond is not None else None
                    if n is not None:
                        for word in ids:
                            low.link(word)
                        caps.append(ir.Limit(span=item.span, count=n, cond=guard, counted_words=ids, unit=unit))
                case ast.StopRule(cond=cond, within=within):
                    guard = condition(low, cond)
                    unit = _unit(low, item.within_unit, groups)
                    cycles = low.integer(within, f"a number of {unit}", limits.CYCLE_NUMBERS) if within else None
                    stops.append(ir.StopRule(span=item.span, cond=guard, within=cycles, within_unit=unit))
                case _:
                    assert_never(item)
    return ir.Plan(decisions=tuple(decisions), limits=tuple(caps), stops=tuple(stops))


def responses(low: Lowering, name: ast.Word) -> Values:
    """Return the response vocabulary `responses NAME` names; report one that is none (the default then)."""
    found = low.defs.vocabularies.get(name.text)
    if found is not None:
        return found
    low.unknown(
        c.UNKNOWN_RESPONSE_VOCABULARY,
        name.span,
        f"no response vocabulary named `{name.text}`",
        label="not a response vocabulary",
        word=name.text,
        candidates=low.defs.vocabularies,
        otherwise="vocabularies: " + ", ".join(sorted(low.defs.vocabularies)),
    )
    return DEFAULT_RESPONSES


def bounded(regimen: ir.Regimen) -> None:
    """Refuse a regimen with a decision point whose conditions distinguish more patient states than are checked."""
    for span, conds in decision_points(regimen):
        if space_size(regimen, conds) > limits.CONDITION_STATES.value:
            raise TooComplex(
                span,
                f"these conditions combine into more than {limits.CONDITION_STATES.value:,} patient states "
                "to check: split them",
            )


_UNITS: dict[str, ir.PlanUnit] = {
    "cycles": "cycles",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}


def _unit(low: Lowering, word: ast.Word | None, groups: Sequence[ir.CycleGroup]) -> ir.PlanUnit:
    """Return what a limit or a stop rule counts in; report cycles counted where every group is continuous."""
    unit = _UNITS[word.text] if word is not None else "cycles"
    if word is not None and unit == "cycles" and groups and all(g.continuous for g in groups):
        low.sink.report(
            c.CLAUSE_CONFLICT,
            word.span,
            "continuous treatment has no cycles to count",
            label="count in weeks, months or years",
            help="write the time it lasts, such as `at most 2 years` or `within 12 months`",
        )
    return unit


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
    """Return a condition as IR; report a response category, a group or a group's value that is none."""
    match cond:
        case ast.ResponseIn(codes=codes):
            vocabulary = low.responses
            named = "" if vocabulary is DEFAULT_RESPONSES else f" in the `{vocabulary.name}` vocabulary"
            for code in codes:
                message = f"unknown response `{code.text}`{named}"
                _value(low, code, vocabulary, message, "not a response category", "responses" + named)
            return ir.ResponseIn(span=cond.span, codes=tuple(ir.Written(span=w.span, text=w.text) for w in codes))
        case ast.GroupIn(group=group, values=values):
            found = low.defs.groups.get(group.text)
            if found is None:
                unknown_measure(low, group)
            else:
                low.groups_named[group.text] = found
                for word in values:
                    _value(
                        low,
                        word,
                        found,
                        f"`{word.text}` is not a value of `{group.text}`",
                        f"not a value of {group.text}",
                        f"values of {group.text}",
                    )
            return ir.GroupIn(
                span=cond.span, group=group.text, values=tuple(ir.Written(span=w.span, text=w.text) for w in values)
            )
        case ast.MeasureTest(measure=measure, op=op, low=first, high=second, unit=unit):
            cuts = [_threshold(low, w) for w in (first, second) if w is not None]
            known = low.defs.measures.get(measure.text)
            if known is None:
                unknown_measure(low, measure)
            else:
                low.measures_named[measure.text] = known
                low.thresholds.setdefault(measure.text, []).extend(cuts)
                if unit_key(unit.text) != unit_key(known.unit):
                    low.sink.report(
                        c.MEASURE_UNIT,
                        unit.span,
                        f"{measure.text} is measured in {known.unit}, not {unit.text}",
                        label=f"write {measure.text} in {known.unit}",
                        help=f"convert the threshold to {known.unit}: a threshold in another unit is read wrongly",
                    )
            if op == "range" and len(cuts) == 2 and cuts[1] < cuts[0]:
                low.sink.report(
                    c.BAD_RANGE,
                    cond.span,
                    f"{first.text} to {second.text if second else ''} runs backwards",
                    label="the range ends before it starts",
                )
            return ir.MeasureTest(
                span=cond.span,
                measure=measure.text,
                op=op,
                low=cuts[0],
                high=cuts[1] if len(cuts) > 1 else None,
                unit=ir.Written(span=unit.span, text=unit.text),
            )
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


def _value(low: Lowering, word: ast.Word, values: Values, message: str, label: str, listed: str) -> None:
    """Report ``word`` unless it is one of ``values``, with the closest value or the list of them as help."""
    if any(word.text == name for name, _ in values.values):
        return
    low.unknown(
        c.UNKNOWN_RESPONSE,
        word.span,
        message,
        label=label,
        word=word.text,
        candidates=values.names(),
        otherwise=f"{listed}: " + ", ".join(values.names()),
    )


def unknown_measure(low: Lowering, word: ast.Word) -> None:
    """Report a name that is neither a measure nor a group, with the closest of them."""
    known = [*low.defs.measures, *low.defs.groups]
    low.unknown(
        c.UNKNOWN_MEASURE_OR_GROUP,
        word.span,
        f"no measure or group named `{word.text}`",
        label="not a measure or group",
        word=word.text,
        candidates=known,
        otherwise="measures and groups: " + ", ".join(sorted(known)) + "; define others in library.reg",
    )


def _threshold(low: Lowering, word: ast.Word) -> Fraction:
    """Return a threshold exactly as written (a decimal); 0 if it is none or beyond the limits (reported)."""
    value = low.amount(word)
    return Fraction(value) if value is not None else Fraction(0)
