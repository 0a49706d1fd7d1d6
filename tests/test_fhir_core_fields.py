"""``--profile core`` carries every field of the IR that reaches the compiled document or the pages.

``WHERE`` has a row for each field of each record of ``regdsl.model.ir``: a check that finds
the field's value in the core resource (in the element or the regdsl extension that carries
it), or the reason it is no fact of its own (where it was written, which only the rules read;
a part of a record another row checks). ``test_every_ir_field_has_a_row`` fails for a field
added to the IR without a row, so a new fact is exported (and checked here) or says why not;
``test_core_carries_every_ir_field`` walks every bundled regimen's IR beside its core
resource and runs each row's check on each object it pairs with its node. ``MISSING`` names
the facts core does not carry computably yet (docs/fhir.md, "Round trips").
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from regdsl.compile.library import check_paths
from regdsl.fhir import core
from regdsl.fhir.export import export_fhir
from regdsl.fhir.resources import FIELDS, citations, concept, resource_id
from regdsl.model import ir
from regdsl.model.conditions import DEFAULT_RESPONSES
from regdsl.record import Record
from tests.test_fhir_export import REGIMENS, exported

Json = dict[str, Any]
Check = Callable[[Any, Json], bool]

# Why a field is no fact of its own.
SOURCE = "where or how it was written (a span, a word as written): the rules' findings read it, no output does"
PARTS = "a record of its own: its rows check it, on the node it is paired with"
CONDITION = "the condition's expression (text/x-regdsl) writes it; test_fhir_export reads each back from its source"
NAMED = "the medicine the name finds in the medicine table (its line's product, its relation's anchor)"
# What core does not carry computably yet: only as the pages word it, or not at all. (None, now: a choice as such
# and the branch a note is written in are `cycle-choice` and the note's `choice` and `branch` parts.)
MISSING: dict[tuple[str, str], str] = {}


def _ext(node: Json, url: str) -> list[Json]:
    return [e for e in node.get("extension", []) if e["url"] == url]


def _value(extension: Json) -> Any:
    (key,) = (k for k in extension if k.startswith("value"))
    return extension[key]


def _values(node: Json, url: str) -> list[Any]:
    return [_value(e) for e in _ext(node, url)]


def _one(node: Json, url: str) -> Any:
    """Return the value of ``node``'s extension ``url``, None when it has none."""
    found = _values(node, url)
    assert len(found) <= 1, url
    return found[0] if found else None


def _parts(extension: Json) -> dict[str, Any]:
    """Return a complex extension's parts by name (its nested regdsl extensions by their url)."""
    return {e["url"]: _value(e) for e in extension["extension"]}


def _branch_named(guard: ir.Guard | None, parts: Json) -> bool:
    """Whether a note's parts name the choice (by its number in the cycle) and branch it is written in."""
    if guard is None:
        return "choice" not in parts and "branch" not in parts
    number = next(n for n, c in enumerate(parts["group"].choices, start=1) if c.key == guard.choice)
    return parts.get("choice") == f"c{number}" and parts.get("branch") == guard.branch


def _choice(extension: Json) -> Json:
    """Return a `cycle-choice`'s parts, its branches in order (each condition, None for `otherwise`)."""
    kept = [e.get("valueString") for e in extension["extension"] if e["url"] in {"branch", "otherwise"}]
    return _parts(extension) | {"branches": kept}


def _minutes(value: Any) -> int | None:
    if value is None:
        return None
    assert value["code"] == "min"
    return int(value["value"])


def _flag(value: bool, node: Json, url: str) -> bool:
    return bool(_one(node, url) == (True if value else None))


def _quantity(held: ir.Quantity | None, element: Json | None) -> bool:
    if held is None or element is None:
        return held is None and element is None
    return (Decimal(str(element["value"])), element["code"]) == (held.amount, held.unit.code)


def _repeat(node: Json) -> Json:
    repeat: Json = node["timingTiming"].get("repeat", {})
    return repeat


def _dosage(node: Json) -> Json:
    given: Json = node["definition"]["dosage"][0]
    return given


def _dose(line: ir.Administration, node: Json) -> bool:
    dose = _dosage(node)["doseAndRate"][0]["doseQuantity"]
    found = (Decimal(str(dose["value"])), dose["code"], dose["unit"].endswith(" flat"))
    return found == (line.dose.amount, line.dose.unit.code, line.dose.flat)


def _duration(line: ir.Administration, node: Json) -> bool:
    repeat = _repeat(node)
    low = repeat.get("duration") if line.min_minutes is not None else None
    high = repeat.get("durationMax", repeat.get("duration")) if line.max_minutes is not None else None
    return (low, high) == (line.min_minutes, line.max_minutes)


def _clock(line: ir.Administration, node: Json) -> bool:
    repeat = _repeat(node)
    if line.clock is None:
        return repeat.get("periodUnit") != "min" and _one(node, core.EACH_DAY) is None
    found = (repeat["period"], repeat["periodUnit"], repeat.get("count"), _one(node, core.EACH_DAY) or False)
    return found == (line.clock.interval, "min", line.clock.count, line.clock.each_day)


def _days(line: ir.Administration, node: Json) -> bool:
    (days,) = node["timingTiming"]["extension"]
    return [d["valueInteger"] for d in days["extension"]] == list(line.days)


def _coded(node: Json | None) -> list[str]:
    return sorted(c["code"] for c in (node or {}).get("coding", []))


def _is_regimen(node: Json) -> bool:
    return "resourceType" in node


def _heading(meta: ir.Meta, node: Json) -> bool:
    """Check a heading's fields: the regimen's in elements or ``field`` extensions, a part's all in extensions."""
    found = [(p["key"], p["value"]) for p in map(_parts, _ext(node, core.FIELD))]
    if _is_regimen(node):
        found += [(key, node[element]) for key, element in FIELDS if element in node]
        found += [("author", a["name"]) for a in node.get("author", [])]
    return sorted(found) == sorted(meta.fields)


def _identifiers(meta: ir.Meta, node: Json) -> bool:
    found = node.get("identifier", []) if _is_regimen(node) else _values(node, core.IDENTIFIER)
    return bool(found == [{"system": system, "value": value} for system, value in meta.identifiers])


def _context(node: Json, code: str, url: str) -> list[Any]:
    if not _is_regimen(node):
        return _values(node, url)
    return [c["valueCodeableConcept"] for c in node.get("useContext", []) if c["code"]["code"] == code]


def _footnotes(meta: ir.Meta, node: Json) -> bool:
    if not _is_regimen(node):
        return _values(node, core.FOOTNOTE) == [f.name for f in meta.footnotes]
    notes = [a for a in node.get("relatedArtifact", []) if a["type"] == "documentation"]
    return [(_values(a, core.FOOTNOTE), a["label"], a["display"]) for a in notes] == [
        ([f.name], f.marker, f.text) for f in meta.footnotes
    ]


def _superseded(meta: ir.Meta, node: Json) -> bool:
    wanted = [meta.superseded_by] if meta.superseded_by else []
    if not _is_regimen(node):
        return _values(node, core.SUPERSEDED_BY) == wanted
    return [a["display"] for a in node.get("relatedArtifact", []) if a["type"] == "successor"] == wanted


def _overview(meta: ir.Meta, node: Json) -> bool:
    return (node.get("usage") if _is_regimen(node) else _one(node, core.PROSE)) == meta.overview


def _observed(group: ir.CycleGroup, node: Json) -> bool:
    """Each observation is an action after the end of each line it observes, its first or last dose an extension."""
    found = sorted(
        (_minutes(a["timingDuration"]), str(_one(a, core.POSITION)), str(_one(a, core.LABEL)))
        for a in node["action"]
        if "timingDuration" in a
    )
    wanted = sorted(
        (o.minutes, str(o.position), str(o.line))
        for o in group.observations
        for line in group.administrations
        if o.medicine == line.medicine and (o.line is None or o.line == line.label)
    )
    return found == wanted


def _gaps(group: ir.CycleGroup, node: Json) -> bool:
    """Each gap is the relatedAction to itself of each line of its medicine (and line) it keeps apart."""
    found = {
        (a["id"], r["offsetRange"]["low"]["value"], _one(r, core.LABEL))
        for a in node["action"]
        for r in a.get("relatedAction", [])
        if r["actionId"] == a.get("id")
    }
    wanted = {
        (f"{node['id']}-l{i}", gap.days, gap.line)
        for gap in group.gaps
        for i, line in enumerate(group.administrations, start=1)
        if gap.medicine == line.medicine and (gap.line is None or gap.line == line.label)
    }
    return found == wanted


def _left_out(group: ir.CycleGroup, node: Json) -> bool:
    found = [(p["medicine"], p.get("line")) for p in map(_parts, _ext(node, core.WITHOUT))]
    return found == list(group.left_out)


def _offset(rel: ir.Relation, node: Json) -> tuple[int | None, int | None]:
    offset = node.get("offset", {})
    return _minutes(offset.get("low")), _minutes(offset.get("high"))


def _within(count: int | None, unit: ir.PlanUnit, node: Json) -> bool:
    repeat = node.get("timingTiming", {}).get("repeat", {})
    if count is None:
        return not repeat
    if unit == "cycles":
        return bool(repeat == {"countMax": count})
    return bool((repeat["boundsDuration"]["value"], repeat["boundsDuration"]["unit"]) == (count, unit))


WHERE: dict[str, dict[str, Check | str]] = {
    "Regimen": {
        "span": SOURCE,
        "id": lambda r, n: n["id"] == resource_id(r.id),
        "path": "the file it was read from, no fact of the regimen",
        "meta": PARTS,
        "parts": PARTS,
        "support": PARTS,
        "references": PARTS,
        "plan": PARTS,
        "aliases": "library.reg's other names of medicines: a line's name as written is its line-medicine-as-written",
        "id_span": SOURCE,
        "partial": lambda r, n: not r.partial,  # a file with syntax errors is never exported
        "mentions": SOURCE,
        "links": SOURCE,
        "prose": SOURCE,
        "headings": SOURCE,
        "responses": lambda r, n: (
            _values(n, core.RESPONSES) == ([] if r.responses == DEFAULT_RESPONSES else [r.responses.name])
        ),
        "groups": "the definitions (package, library.reg) of the groups the conditions name",
        "measures": "the definitions (package, library.reg) of the measures the conditions name",
        "thresholds": "worked out from the conditions, which their expressions write",
    },
    "Meta": {
        "span": SOURCE,
        "fields": _heading,
        "identifiers": _identifiers,
        "cancer": lambda m, n: _context(n, "focus", core.FOCUS) == [concept(t) for t in m.cancer],
        "setting": lambda m, n: _context(n, "workflow", core.SETTING) == ([concept(m.setting)] if m.setting else []),
        "status": lambda m, n: _one(n, core.STATUS_WRITTEN) == (m.status.value if m.status else None),
        "superseded_by": _superseded,
        "footnotes": _footnotes,
        "footnote_spans": SOURCE,
        "overview_prose": _overview,
        "repeated": SOURCE,
        "status_span": SOURCE,
        "superseded_span": SOURCE,
    },
    "Footnote": {"span": SOURCE, "name": PARTS, "marker": PARTS, "text": PARTS},  # Meta.footnotes
    "Term": {"span": SOURCE, "text": PARTS, "code": PARTS},  # Meta.cancer, Meta.setting
    "Written": {"span": SOURCE, "text": CONDITION},
    "Mention": {"written": SOURCE, "medicine": NAMED},
    "Reference": {
        "span": SOURCE,
        "text": lambda r, n: n["display"] == r.text and n.get("url") == citations([r])[0].get("url"),
        "urls": lambda r, n: _values(n, core.REFERENCE_URL) == list(r.urls),
        "pmids": lambda r, n: _values(n, core.REFERENCE_PMID) == list(r.pmids),
        "accessed": lambda r, n: _values(n, core.REFERENCE_ACCESSED) == list(r.accessed),
    },
    "Part": {
        "span": SOURCE,
        "number": lambda p, n: _one(n, core.PART_NUMBER) == p.number,
        "title": lambda p, n: _one(n, core.TITLE) == (p.title or None),
        "meta": PARTS,
        "start": lambda p, n: (p.start is None) == (not _ext(n, core.PART_START)),
        "cycles": PARTS,
        "support": PARTS,
        "references": PARTS,
    },
    "StartRule": {"span": SOURCE, "relation": PARTS, "prose": lambda s, n: n.get("text") == s.text},
    "Relation": {
        "span": SOURCE,
        "direction": lambda r, n: n["direction"] == r.direction,
        "low": lambda r, n: _offset(r, n)[0] == (r.low or None),
        "high": lambda r, n: _offset(r, n)[1] == r.high,
        "point": lambda r, n: n["point"] == r.point,
        "anchor_kind": lambda r, n: n["anchorKind"] == r.anchor_kind,
        "anchor": lambda r, n: n["anchor"] == r.anchor,
        "qualifier_text": lambda r, n: n.get(core.QUALIFIER) == r.qualifier,
        "medicine": NAMED,
        "line": lambda r, n: n.get("line") == r.line,
        "line_span": SOURCE,
        "own_point": lambda r, n: n.get(core.ENDING, False) == (r.own_point == "end"),
        "position": lambda r, n: n.get(core.POSITION) == r.position,
        "via": lambda r, n: n.get(core.VIA, "relation") == r.via,
    },
    "CycleGroup": {
        "span": SOURCE,
        "first": lambda g, n: n["prefix"] == str(g.first),
        "last": lambda g, n: g.count is None or g.first + _repeat(n)["count"] - 1 == (g.last or g.first),
        "open_ended": lambda g, n: ("count" not in _repeat(n)) == g.open_ended,
        "length_days": lambda g, n: _repeat(n)["duration"] == g.length_days,
        "extend_to_days": lambda g, n: _repeat(n).get("durationMax") == g.extend_to_days,
        "title_text": lambda g, n: (_one(n, core.TITLE) or ("" if _one(n, core.EMPTY_TITLE) else None)) == g.title,
        "same_as": lambda g, n: _one(n, core.SAME_AS) == g.same_as,
        "same_as_span": SOURCE,
        "administrations": PARTS,
        "notes": PARTS,
        "observations": _observed,
        "gaps": _gaps,
        "continuous": lambda g, n: _flag(g.continuous, n, core.CONTINUOUS),
        "gates": PARTS,
        "choices": PARTS,  # each a `cycle-choice`
        "left_out": _left_out,
    },
    "Observation": {"span": SOURCE, "medicine": PARTS, "minutes": PARTS, "line": PARTS, "position": PARTS},
    "MinGap": {"span": SOURCE, "medicine": PARTS, "days": PARTS, "line": PARTS},  # CycleGroup.gaps
    "Gate": {
        "span": SOURCE,
        "cond": lambda g, n: n["expression"]["expression"] == core.source_text(g.cond),
        "prose": lambda g, n: _one(n, core.PROSE) == (g.prose.text if g.prose else None),
    },
    "Note": {
        "span": SOURCE,
        "label_word": lambda o, n: n.get("label") == o.label,
        "medicine": lambda o, n: n.get("medicine") == (o.medicine.name if o.medicine else None),
        "prose": lambda o, n: n["text"] == o.text,
        "line": lambda o, n: n.get("line") == o.line,
        "guard": lambda o, n: _branch_named(o.guard, n),
        "block": lambda o, n: n.get("block") == o.block,
    },
    "Administration": {
        "span": SOURCE,
        "medicine": lambda a, n: n["definition"]["productCodeableConcept"]["text"] == a.medicine.display,
        "written": lambda a, n: (_one(n, core.WRITTEN) or a.medicine.name) == a.written,
        "dose": _dose,
        "route": lambda a, n: _coded(_dosage(n).get("route")) == ([a.route.code] if a.route else []),
        "frequency": lambda a, n: (
            _coded(_dosage(n).get("timing", {}).get("code"))
            == sorted(c.code for c in (a.frequency.codings if a.frequency else ()))
        ),
        "days": _days,
        "shift_days": lambda a, n: _one(n, core.SHIFT) == a.shift_days,
        "max_minutes": _duration,
        "exact_duration": lambda a, n: _flag(a.exact_duration, n, core.EXACT),
        "prn": lambda a, n: _dosage(n).get("asNeededBoolean", False) == a.prn,
        "role": lambda a, n: (
            n["definition"]["usage"] == ("Supportive care" if a.role == "supportive" else "Anticancer treatment")
        ),
        "role_stated": lambda a, n: _one(n, core.ROLE) == (a.role if a.role_stated else None),
        "off_label": lambda a, n: _flag(a.off_label, n, core.OFF_LABEL),
        "s29": lambda a, n: _flag(a.s29, n, core.S29),
        "volume": lambda a, n: _quantity(a.volume, n["definition"].get("quantity")),
        "cap": lambda a, n: _quantity(a.cap, _dosage(n).get("maxDosePerAdministration")),
        "relations": PARTS,
        "instructions_prose": lambda a, n: _one(n, core.PROSE) == a.instructions,
        "written_for": lambda a, n: (_one(n, core.COPIED_FROM) is None) == (a.written_for == n["group"].span),
        "route_word": SOURCE,
        "repeated": SOURCE,
        "days_span": SOURCE,
        "day_ranges": "the days as written in ranges: timing-daysOfCycle lists every day they hold (days)",
        "label": lambda a, n: _one(n, core.LABEL) == a.label,
        "label_span": SOURCE,
        "clock": _clock,
        "min_minutes": _duration,
        "extend_minutes": lambda a, n: _minutes(_one(n, core.EXTEND)) == a.extend_minutes,
        "continuous": lambda a, n: _flag(a.continuous, n, core.INFUSION_CONTINUOUS),
        "pump": lambda a, n: _flag(a.pump, n, core.PUMP),
        "bag_minutes": lambda a, n: _minutes(_one(n, core.BAGS)) == a.bag_minutes,
        "duration_words": SOURCE,
        "starting": lambda a, n: _flag(a.starting, n, core.STARTING),
        "guard": lambda a, n: (a.guard is None) == ("condition" not in n),
        "block": lambda a, n: _one(n, core.BLOCK) == a.block,
    },
    "Clock": {"span": SOURCE, "interval": PARTS, "count": PARTS, "each_day": PARTS},  # Administration.clock
    "Quantity": {"span": SOURCE, "amount": PARTS, "unit": PARTS, "amount_word": SOURCE, "unit_word": SOURCE},
    "Dose": {"span": SOURCE, "amount": PARTS, "unit": PARTS, "amount_word": SOURCE, "unit_word": SOURCE, "flat": PARTS},
    "DayRange": {"span": SOURCE, "first": PARTS, "last": PARTS},  # Administration.day_ranges
    "Support": {"factors": PARTS, "notes": PARTS},
    "SupportFactor": {
        "span": SOURCE,
        "factor": lambda f, n: _coded(n["code"][0]) == ([f.factor.code] if f.factor else []),
        "value": lambda f, n: _coded(n["code"][1]) == ([f.value.code] if f.value else []),
        "factor_word": lambda f, n: n["code"][0]["text"] == f.factor_text,
        "value_word": lambda f, n: n["code"][1]["text"] == f.value_text,
    },
    "Choice": {
        "span": SOURCE,
        "key": SOURCE,
        "branches": lambda c, n: n["branches"] == [core.source_text(b.cond) if b.cond else None for b in c.branches],
        "kind": lambda c, n: n["kind"] == c.kind,
        "variable": lambda c, n: n.get("variable") == c.variable,
    },
    "ChoiceBranch": {"span": SOURCE, "cond": "the condition of each line of the branch (Administration.guard)"},
    "Guard": {"choice": SOURCE, "branch": "the condition of the branch (Administration.guard)"},
    "Plan": {"decisions": PARTS, "limits": PARTS, "stops": PARTS},
    "Decision": {
        "span": SOURCE,
        "kind": lambda d, n: _parts(_ext(n, core.DECISION)[0])["kind"] == d.kind,
        "first": lambda d, n: _parts(_ext(n, core.DECISION)[0]).get("first") == d.first,
        "last": lambda d, n: _parts(_ext(n, core.DECISION)[0]).get("last") == d.last,
        "branches": PARTS,
    },
    "Branch": {
        "span": SOURCE,
        "cond": lambda b, n: (
            n.get("condition", [{}])[0].get("expression", {}).get("expression")
            == (core.source_text(b.cond) if b.cond else None)
        ),
        "action": lambda b, n: n["title"].split(" ")[0] == b.action,
        "target": lambda b, n: n["title"] == b.action + (f" {b.target}" if b.target else ""),
        "target_span": SOURCE,
    },
    "Limit": {
        "span": SOURCE,
        "count": lambda lim, n: _within(lim.count, lim.unit, n),
        "cond": lambda lim, n: ("condition" in n) == (lim.cond is not None),
        "counted_words": lambda lim, n: _values(n, core.COUNTED_WITH) == list(lim.counted_with),
        "unit": lambda lim, n: _within(lim.count, lim.unit, n),
    },
    "StopRule": {
        "span": SOURCE,
        "cond": lambda s, n: n["condition"][0]["expression"]["expression"] == core.source_text(s.cond),
        "within": lambda s, n: _within(s.within, s.within_unit, n),
        "within_unit": lambda s, n: _within(s.within, s.within_unit, n),
    },
    **{
        name: dict.fromkeys((f.name for f in dataclasses.fields(getattr(ir, name))), CONDITION)
        for name in ("ResponseIn", "GroupIn", "MeasureTest", "Mrd", "Hsct", "NotCond", "AndCond", "OrCond")
    },
}


def _records() -> list[type[Record]]:
    """Every record class of the IR."""
    found = [getattr(ir, name) for name in ir.__all__]
    return [cls for cls in found if isinstance(cls, type) and issubclass(cls, Record)]


def test_every_ir_field_has_a_row() -> None:
    """Each field of each IR record has a row: where core carries it, or why it is no fact of its own."""
    fields = {(cls.__name__, f.name) for cls in _records() for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    rows = {(name, field) for name, row in WHERE.items() for field in row}
    assert fields - rows == set(), "export each new IR field in core, and give it a row here"
    assert rows - fields == set(), "a row for a field the IR no longer has"
    assert {key for key in rows if WHERE[key[0]][key[1]] in MISSING.values()} == set(MISSING)


def _nodes(node: Json) -> dict[str, Json]:
    """Every action under ``node`` by its id, in the resource's order."""
    out: dict[str, Json] = {}
    for action in node.get("action", []):
        out[action.get("id", "")] = action
        out |= _nodes(action)
    return out


def _support(support: ir.Support, node: Json | None) -> Iterator[tuple[object, Json]]:
    actions = node["action"] if node else []
    factors = [a for a in actions if "code" in a]
    notes = [a for a in actions if "code" not in a]
    yield from zip(support.factors, factors, strict=True)
    yield from ((note, _parts(n["extension"][0])) for note, n in zip(support.notes, notes, strict=True))


def _citations(refs: tuple[ir.Reference, ...], artifacts: list[Json]) -> Iterator[tuple[object, Json]]:
    return zip(refs, [a for a in artifacts if a["type"] == "citation"], strict=True)


def _relations(node: Json, url: str) -> list[Json]:
    """Return each relation extension's parts (its nested relatedAction extensions by their url)."""
    return [_parts(e) for e in _ext(node, url)]


def _pairs(regimen: ir.Regimen, doc: Json) -> Iterator[tuple[object, Json]]:
    """Each record of ``regimen`` with the node of the core resource that carries it."""
    nodes = _nodes(doc)
    contained = {c["id"]: c for c in doc.get("contained", [])}
    yield regimen, doc
    yield regimen.meta, doc
    yield from _citations(regimen.references, doc.get("relatedArtifact", []))
    yield from _support(regimen.support, nodes.get("support"))
    for p, part in enumerate(regimen.parts, start=1):
        if part.number is None:  # the regimen's own heading, support and references: a part has none of its own
            yield part.meta, {}
            yield from _citations(part.references, [])
            yield from _support(part.support, None)
        else:
            node = nodes[f"p{p}"]
            yield part, node
            yield part.meta, node
            yield from _citations(part.references, node.get("documentation", []))
            yield from _support(part.support, nodes.get(f"p{p}-support"))
            if part.start is not None:
                (start,) = _relations(node, core.PART_START)
                yield part.start, start
                yield part.start.relation, start
        for g, group in enumerate(part.cycles, start=1):
            node = nodes[f"p{p}-g{g}"]
            yield group, node
            notes = (_parts(e) | {"group": group} for e in _ext(node, core.NOTE))
            yield from zip(group.notes, notes, strict=True)
            yield from zip(group.choices, map(_choice, _ext(node, core.CHOICE)), strict=True)
            yield from zip(group.gates, node.get("condition", []), strict=True)
            lines = [a for a in node["action"] if "definitionCanonical" in a]
            for line, action in zip(group.administrations, lines, strict=True):
                definition = contained[action["definitionCanonical"][1:]]
                yield line, action | {"definition": definition, "group": group}
                yield from zip(line.relations, _relations(action, core.RELATION), strict=True)
    plan = regimen.plan
    yield from zip(plan.limits, [n for i, n in nodes.items() if i.startswith("limit")], strict=True)
    yield from zip(plan.stops, [n for i, n in nodes.items() if i.startswith("stop")], strict=True)
    decisions = [n for i, n in nodes.items() if i.startswith("d") and "-" not in i]
    for decision, node in zip(plan.decisions, decisions, strict=True):
        yield decision, node
        yield from zip(decision.branches, node["action"], strict=True)


@functools.cache
def _regimens() -> tuple[ir.Regimen, ...]:
    return tuple(check_paths([REGIMENS]).regimens)


def _checked(regimen: ir.Regimen, doc: Json, name: str) -> list[object]:
    """Run every check of ``name``'s row on each of its records in ``regimen``; return the records checked."""
    checks = {field: check for field, check in WHERE[name].items() if callable(check)}
    seen = []
    for record, node in _pairs(regimen, doc):
        if type(record).__name__ == name:
            failed = [field for field, check in checks.items() if not check(record, node)]
            assert not failed, (regimen.id, name, failed)
            seen.append(record)
    return seen


@pytest.mark.parametrize("name", sorted(WHERE))
def test_core_carries_every_ir_field(name: str) -> None:
    """Each record's every field with a check is found, with its value, where its row says."""
    docs = exported("core")
    seen = [r for regimen in _regimens() for r in _checked(regimen, docs[f"{resource_id(regimen.id)}.json"], name)]
    assert seen or not any(callable(check) for check in WHERE[name].values()), f"no bundled {name} to check"


# What no bundled regimen writes, written into one: bags, `s29`, a line timed from an outside event, a block's
# note, an observation and a gap of a named line.
_EDITS = (
    ("over exactly 46 hours by pump", "over exactly 46 hours by pump bags every 24 hours"),
    ("three times daily day 1 prn supportive", "three times daily day 1 prn supportive s29"),
    ("days 2, 3 supportive\n", "days 2, 3 supportive 2 hours before radiotherapy\n"),
    ("    | ONCE daily in the morning with food.\n", "    | ONCE daily in the morning with food.\n  use extras\n"),
    ("cycles 1 to 12: 14 days\n", "block extras\n  note loperamide\n    | Keep hydrated.\n\ncycles 1 to 12: 14 days\n"),
    ("  note Dose modification\n", "  observe 30 min after fluorouracil (bolus)\n  note Dose modification\n"),
    ("  note Dose modification\n", "  fluorouracil (infusion) doses at least 7 days apart\n  note Dose modification\n"),
)


def test_core_carries_what_no_bundled_regimen_writes(tmp_path: Path) -> None:
    """Bags, `s29`, a relation to an outside event and a note a block gives are found where their rows say."""
    source = (REGIMENS / "crc-adjuvant-mfolfox6.reg").read_text(encoding="utf-8")
    for old, new in _EDITS:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    (tmp_path / "library.reg").write_bytes((REGIMENS / "library.reg").read_bytes())
    (tmp_path / "mfolfox6.reg").write_text(source, encoding="utf-8")
    outcome, written = export_fhir([tmp_path], "core")
    assert written is not None, [d.message for d in outcome.diagnostics]
    (regimen,) = check_paths([tmp_path]).regimens
    doc = json.loads(written[f"{regimen.id}.json"], parse_float=Decimal)
    lines = [a for a in _checked(regimen, doc, "Administration") if isinstance(a, ir.Administration)]
    assert [a.bag_minutes for a in lines if a.bag_minutes] == [1440]
    assert sum(a.s29 for a in lines) == 1
    relations = [r for r in _checked(regimen, doc, "Relation") if isinstance(r, ir.Relation)]
    assert [(r.anchor_kind, r.anchor, r.low) for r in relations if r.anchor_kind == "event"] == [
        ("event", "radiotherapy", 120)
    ]
    notes = [n for n in _checked(regimen, doc, "Note") if isinstance(n, ir.Note)]
    assert [n.block for n in notes if n.block] == ["extras"]
    (group,) = _checked(regimen, doc, "CycleGroup")
    assert isinstance(group, ir.CycleGroup)
    assert [(o.line, g.line) for o, g in zip(group.observations, group.gaps, strict=True)] == [("bolus", "infusion")]


def test_docs_list_every_core_extension() -> None:
    """docs/fhir.md's core table has a row for each extension core writes, and none it does not."""
    urls = {value for name, value in vars(core).items() if name.isupper() and isinstance(value, str)}
    written = {
        url.removeprefix(core.EXTENSIONS) for url in urls if url.startswith(core.EXTENSIONS) and url != core.EXTENSIONS
    }
    text = (REGIMENS.parent / "docs" / "fhir.md").read_text(encoding="utf-8")
    table = text[text.index("| extension (after the base) |") :].split("\n\n")[0]
    rows = {name for line in table.splitlines()[2:] for name in re.findall(r"`([a-z0-9-]+)`", line.split("|")[1])}
    assert rows == written
