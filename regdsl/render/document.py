"""The regimen as JSON: every fact of the compiled regimen, coded, with its solved timing.

The document follows ``schema/regimen.schema.json`` (JSON Schema 2020-12, printed by
``regdsl schema``), whose ``schema_version`` it carries. Amounts are exact decimal
strings (``"0.8"``), never floats; times are whole minutes; every part, cycle group,
administration, note and reference says the source line it came from. Keys keep one
order and nothing depends on the time of the build, so the same source gives the same
bytes.
"""

from __future__ import annotations

import json
from typing import Any, assert_never

from regdsl import __version__
from regdsl.compile.passes import Compiled
from regdsl.compile.phases import cond_text, for_whom, number_text
from regdsl.compile.schedule import schedule
from regdsl.compile.stn import PointId, day_of
from regdsl.compile.totals import Exposure, equivalents, exposures
from regdsl.model import ir
from regdsl.model.doses import amount, dose_text
from regdsl.model.vocabulary import CLOCK_CODES, SNOMED, Coding
from regdsl.render.context import RenderContext

__all__ = ["SCHEMA_VERSION", "build_document", "guard", "inert_json", "render_json"]

SCHEMA_VERSION = "1.0"

Json = dict[str, Any]


def _coding(coding: Coding | None) -> Json | None:
    if coding is None:
        return None
    return {"system": coding.system, "code": coding.code, "display": coding.display}


def _term(term: ir.Term | None) -> Json | None:
    if term is None:
        return None
    return {"text": term.text, "system": SNOMED if term.code else None, "code": term.code, "line": term.span.line}


def _condition(cond: ir.Cond) -> Json:
    match cond:
        case ir.ResponseIn(codes=codes):
            return {"op": "response-in", "responses": [c.text for c in codes]}
        case ir.MeasureTest(measure=measure, op=op, low=first, high=second, unit=unit):
            return {
                "op": "measure",
                "measure": measure,
                "comparison": op,
                "low": number_text(first),
                "high": number_text(second) if second is not None else None,
                "unit": unit.text,
            }
        case ir.GroupIn(group=group, values=values):
            return {"op": "group-in", "group": group, "values": [v.text for v in values]}
        case ir.Mrd(negative=negative):
            return {"op": "mrd", "negative": negative}
        case ir.Hsct():
            return {"op": "hsct"}
        case ir.NotCond(operand=operand):
            return {"op": "not", "operands": [_condition(operand)]}
        case ir.AndCond(operands=ops):
            return {"op": "and", "operands": [_condition(op) for op in ops]}
        case ir.OrCond(operands=ops):
            return {"op": "or", "operands": [_condition(op) for op in ops]}
        case _:
            assert_never(cond)


def guard(cond: ir.Cond | None) -> Json | None:
    """Return a condition as the document writes it, its words and its tree (None for no condition)."""
    if cond is None:
        return None
    return {"text": cond_text(cond), "tree": _condition(cond)}


def _meta(meta: ir.Meta) -> Json:
    return {
        "fields": {key: value for key, value in meta.fields},
        "identifiers": [{"system": system, "value": value} for system, value in meta.identifiers],
        "overview": meta.overview,
    }


def _relation(rel: ir.Relation) -> Json:
    return {
        "direction": rel.direction,
        "low_minutes": rel.low,
        "high_minutes": rel.high,
        "point": rel.point,
        "anchor_kind": rel.anchor_kind,
        "anchor": rel.anchor,
        "qualifier": rel.qualifier,
        "line": rel.span.line,
    }


def _quantity(quantity: ir.Quantity | None) -> Json | None:
    if quantity is None:
        return None
    return {"amount": amount(quantity.amount), "unit": _coding(quantity.unit.coding), "display": quantity.unit.display}


def _note(note: ir.Note) -> Json:
    return {
        "label": note.label,
        "medicine": note.medicine.name if note.medicine else None,
        "text": note.text,
        "line": note.span.line,
    }


def _duration(admin: ir.Administration) -> Json:
    """Return what is written of the infusion: continuous, pump, bags, a lower bound, an extension."""
    found: Json = {}
    if admin.continuous:
        found["continuous"] = True
    if admin.pump:
        found["pump"] = True
    if admin.bag_minutes is not None:
        found["bag_minutes"] = admin.bag_minutes
    if admin.min_minutes is not None and not admin.exact_duration:
        found["min_minutes"] = admin.min_minutes
    if admin.extend_minutes is not None:
        found["extend_minutes"] = admin.extend_minutes
    return found


def _clock(admin: ir.Administration) -> Json:
    """Return the line's clock, when it has one (``every 12 hours for 6 doses``); nothing otherwise."""
    clock = admin.clock
    if clock is None:
        return {}
    return {
        "clock": {
            "interval_minutes": clock.interval,
            "count": clock.count,
            "each_day": clock.each_day,
            "starting": admin.starting,
            "codings": [_coding(CLOCK_CODES[clock.interval])] if clock.interval in CLOCK_CODES else [],
        }
    }


class _Writer:
    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled

    def windows(self, prefix: PointId, index: int, admin: ir.Administration) -> list[Json]:
        solved = self.compiled.windows
        found: list[Json] = []
        if solved is None or admin.prn:
            return found
        for dose in (dose for series in schedule(admin) for dose in series.doses):
            start = prefix.dose(index, dose.day, dose.number)
            window = solved.get(start)
            if window is None:
                continue
            early, late = window
            end_early, end_late = solved.of(start.other_end)
            found.append(
                {"day": dose.day}
                | ({"number": dose.number} if dose.number else {})
                | {
                    "start_earliest_minutes": early,
                    "start_latest_minutes": late,
                    "end_earliest_minutes": end_early,
                    "end_latest_minutes": end_late,
                    "earliest_day": day_of(early),
                    "latest_day": day_of(late),
                }
            )
        return found

    def administration(self, prefix: PointId, index: int, admin: ir.Administration, group: ir.CycleGroup) -> Json:
        medicine = admin.medicine
        return {
            "medicine": {
                "name": medicine.name,
                "display": medicine.display,
                "nzmt": medicine.nzmt,
                "anticancer": medicine.anticancer,
            },
            "written": admin.written,
            "dose": {
                "amount": amount(admin.dose.amount),
                "written": admin.dose.text,
                "unit": _coding(admin.dose.unit.coding),
                "unit_display": admin.dose.unit.display,
                "basis": admin.dose.basis.value,
                "flat": admin.dose.flat,
                "display": dose_text(admin.dose, admin.cap),
                "per_minutes": admin.dose.unit.per_minutes,
            },
            "route": _coding(admin.route.coding) if admin.route else None,
            "route_hierarchy": admin.route.hierarchy if admin.route else None,
            "warning_label": admin.warning_label,
            "frequency": (
                {"phrase": admin.frequency.phrase, "per_day": admin.frequency.per_day}
                | {"codings": [_coding(c) for c in admin.frequency.codings]}
                if admin.frequency
                else None
            ),
            "days": list(admin.days),
            **_clock(admin),
            "shift_days": admin.shift_days,
            "max_minutes": admin.max_minutes,
            "exact_duration": admin.exact_duration,
            **_duration(admin),
            "as_needed": admin.prn,
            "role": admin.role,
            "role_stated": admin.role_stated,
            "off_label": admin.off_label,
            "s29": admin.s29,
            "volume": _quantity(admin.volume),
            "max_dose": _quantity(admin.cap),
            "relations": [_relation(r) for r in admin.relations],
            "instructions": admin.instructions,
            "for_patients": for_whom(group, admin.guard),
            "windows": self.windows(prefix, index, admin),
            "line": admin.span.line,
        }

    def group(self, p: int, g: int, group: ir.CycleGroup) -> Json:
        prefix = PointId(p, g, group.first)
        return {
            "heading": group.heading,
            "first": group.first,
            "last": group.last,
            "open_ended": group.open_ended,
            "continuous": group.continuous,
            "gates": [
                {"when": guard(gate.cond), "text": gate.prose.text if gate.prose else None, "line": gate.span.line}
                for gate in group.gates
            ],
            "count": group.count,
            "length_days": group.length_days,
            "extend_to_days": group.extend_to_days,
            "title": group.title,
            "same_as": group.same_as,
            "administrations": [self.administration(prefix, i, a, group) for i, a in enumerate(group.administrations)],
            "notes": [_note(n) for n in group.notes],
            "observations": [
                {"medicine": o.medicine.name, "minutes": o.minutes, "line": o.span.line} for o in group.observations
            ],
            "min_gaps": [{"medicine": g.medicine.name, "days": g.days, "line": g.span.line} for g in group.gaps],
            "line": group.span.line,
        }

    def part(self, p: int, part: ir.Part) -> Json:
        return {
            "number": part.number,
            "title": part.title,
            **_meta(part.meta),
            "start": (
                {"relation": _relation(part.start.relation), "text": part.start.text, "line": part.start.span.line}
                if part.start
                else None
            ),
            "cycles": [self.group(p, g, group) for g, group in enumerate(part.cycles)],
            "support": _support(part.support),
            "references": [_reference(r) for r in part.references],
            "line": part.span.line,
        }

    def plan(self) -> Json:
        plan = self.compiled.regimen.plan
        phases = self.compiled.phases
        return {
            "decisions": [
                {
                    "after": d.kind,
                    "first": d.first,
                    "last": d.last,
                    "branches": [
                        {"when": guard(b.cond), "action": b.action, "target": b.target, "line": b.span.line}
                        for b in d.branches
                    ],
                    "line": d.span.line,
                }
                for d in plan.decisions
            ],
            "limits": [
                {
                    "count": lim.count,
                    "unit": lim.unit,
                    "when": guard(lim.cond),
                    "counted_with": list(lim.counted_with),
                    "line": lim.span.line,
                }
                for lim in plan.limits
            ],
            "stops": [
                {"when": guard(s.cond), "within": s.within, "within_unit": s.within_unit, "line": s.span.line}
                for s in plan.stops
            ],
            "phases": [
                {
                    "id": str(node),
                    "label": phase.label,
                    "transitions": [
                        {"to": str(v), "kind": t.kind, "when": guard(t.guard)}
                        for u, v, t in phases.transitions
                        if u == node
                    ],
                }
                for node, phase in phases.phases.items()
            ],
        }

    def timing(self) -> Json:
        conflict = self.compiled.conflict
        return {
            "consistent": conflict is None,
            "conflict": (
                {
                    "needed_minutes": conflict.needed,
                    "allowed_minutes": conflict.allowed,
                    "constraints": [{"what": c.what, "line": c.span.line} for c in conflict.constraints],
                }
                if conflict
                else None
            ),
            "points": len(self.compiled.network),
        }


def _support(support: ir.Support) -> Json:
    return {
        "factors": [
            {
                "factor": _coding(f.factor),
                "factor_text": f.factor_text,
                "value": _coding(f.value),
                "value_text": f.value_text,
                "line": f.span.line,
            }
            for f in support.factors
        ],
        "notes": [_note(n) for n in support.notes],
    }


def _reference(ref: ir.Reference) -> Json:
    return {
        "text": ref.text,
        "urls": list(ref.urls),
        "pmids": list(ref.pmids),
        "accessed": list(ref.accessed),
        "line": ref.span.line,
    }


def build_document(compiled: Compiled, context: RenderContext) -> Json:
    """Build the JSON document of a compiled regimen."""
    regimen = compiled.regimen
    meta = regimen.meta
    writer = _Writer(compiled)
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "regdsl", "version": __version__},
        "source": {"path": context.source, "line": regimen.span.line},
        "id": regimen.id,
        "name": regimen.name,
        "title": meta.get("title"),
        "version": meta.get("version"),
        "status": regimen.status.value,
        "status_stated": meta.status is not None,
        "superseded_by": meta.superseded_by,
        **_meta(meta),
        "cancer": [_term(t) for t in meta.cancer],
        "setting": _term(meta.setting),
        "footnotes": [{"name": f.name, "marker": f.marker, "text": f.text} for f in meta.footnotes],
        "aliases": {alias: name for alias, name in regimen.aliases},
        "responses": {
            "name": regimen.responses.name,
            "title": regimen.responses.title,
            "categories": [{"code": code, "title": title} for code, title in regimen.responses.values],
            "source": regimen.responses.source,
        },
        "parts": [writer.part(p, part) for p, part in enumerate(regimen.parts, start=1)],
        "support": _support(regimen.support),
        "references": [_reference(r) for r in regimen.references],
        "plan": writer.plan(),
        "timing": writer.timing(),
        "cumulative_doses": [_cumulative(name, e) for name, e in exposures(regimen, context.jurisdiction).items()],
        **_equivalents(equivalents(regimen, context.jurisdiction)),
    }


def _cumulative(name: str, exposure: Exposure) -> Json:
    """Say what the plan gives of a medicine with a lifetime limit: per cycle group, in all, and the limit."""
    limit = exposure.limit
    return {
        "medicine": name,
        "unit": limit.unit_text,
        "groups": [
            {"heading": group.heading, "per_cycle": amount(one), "cycles": count}
            for group, one, count in exposure.groups
        ],
        "total": None if exposure.open_group is not None else amount(exposure.total),
        "lifetime_limit": amount(limit.limit),
        "source": limit.source,
    }


def _equivalents(exposure: Exposure | None) -> dict[str, Json]:
    """Say what the plan's anthracyclines come to in doxorubicin equivalents, when that says more than each total."""
    if exposure is None or not exposure.converts:
        return {}
    limit = exposure.limit
    return {
        "doxorubicin_equivalents": {
            "unit": limit.unit_text,
            "medicines": [
                {
                    "medicine": medicine.name,
                    "total": amount(given),
                    "factor": amount(factor.factor),
                    "source": factor.source,
                }
                for medicine, given, factor in exposure.factors
            ],
            "total": None if exposure.open_group is not None else amount(exposure.total),
            "lifetime_limit": amount(limit.limit),
            "source": limit.source,
        }
    }


def inert_json(value: object, *, indent: int | None = None, sort_keys: bool = False, ascii: bool = False) -> str:
    """Write JSON data as text with ``<``, ``>`` and ``&`` as Unicode escapes: no markup appears in it.

    Markup characters only occur inside strings: escaped, the text is inert if a browser reads
    it as HTML. With ``ascii`` every other character beyond ASCII is an escape too. A final
    newline ends it.
    """
    # Compact: only without indentation does the json module use its C encoder (five times faster).
    separators = (",", ":") if indent is None else None
    text = json.dumps(value, ensure_ascii=ascii, indent=indent, sort_keys=sort_keys, separators=separators)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def render_json(compiled: Compiled, context: RenderContext) -> str:
    """Render a compiled regimen as its JSON document (compact, one line, ``inert_json``)."""
    return inert_json(build_document(compiled, context))
