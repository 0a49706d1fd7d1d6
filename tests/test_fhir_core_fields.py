"""``--profile core`` carries every field of the IR that reaches the compiled document or the pages.

``WHERE`` has a row for each field of each record of ``regdsl.model.ir``: a check that finds
the field's value in the core resource (in the element or the regdsl extension that carries
it), or the reason it is no fact of its own (where it was written, which only the rules
read; a fact another row checks). ``test_every_ir_field_has_a_row`` fails for a field added
to the IR without a row, so a new fact is exported (and checked here) or says why not;
``test_core_carries_every_ir_field`` walks every bundled regimen's IR beside its core
resource and runs each row's check on each object.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from regdsl.compile.library import check_paths
from regdsl.fhir import core
from regdsl.fhir.resources import FIELDS
from regdsl.model import ir
from regdsl.record import Record
from tests.test_fhir_export import REGIMENS, exported

Json = dict[str, Any]
Check = Callable[[Any, Json], bool]

# Why a field is no fact of its own.
SOURCE = "where or how it was written (a span, a word as written): read by the rules' findings only"
NAMED = "found again by its name in the medicine table (the medicine's, the anchor's)"


def _ext(node: Json, url: str) -> list[Json]:
    return [e for e in node.get("extension", []) if e["url"] == url]


def _value(extension: Json) -> object:
    (key,) = (k for k in extension if k.startswith("value"))
    return extension[key]


def _values(node: Json, url: str) -> list[object]:
    return [_value(e) for e in _ext(node, url)]


def _flag(node: Json, url: str) -> bool:
    return bool(_values(node, url))


def _parts(extension: Json) -> dict[str, object]:
    """A complex extension's parts by name (its nested regdsl extensions by their url)."""
    return {e["url"]: _value(e) for e in extension["extension"]}


def _minutes(value: object) -> int:
    assert isinstance(value, dict) and value["code"] == "min"
    return int(value["value"])


def _opt(value: object, default: object = None) -> object:
    return default if value is None else value


def _offset(rel: ir.Relation, parts: dict[str, object]) -> bool:
    offset = parts.get("offset", {})
    assert isinstance(offset, dict)
    found = {k: _minutes(v) for k, v in offset.items()}
    return found.get("low") == (rel.low or None) and found.get("high") == rel.high


def _line(node: Json) -> tuple[Json, Json]:
    return node["action"], node["definition"]


def _repeat(node: Json) -> Json:
    repeat: Json = node["action"]["timingTiming"].get("repeat", {})
    return repeat


def _dose(line: ir.Administration, node: Json) -> bool:
    _, definition = _line(node)
    dose = definition["dosage"][0]["doseAndRate"][0]["doseQuantity"]
    return (Decimal(str(dose["value"])), dose["code"], dose["unit"].endswith(" flat")) == (
        line.dose.amount,
        line.dose.unit.code,
        line.dose.flat,
    )


def _quantity(held: ir.Quantity | None, element: Json | None) -> bool:
    if held is None or element is None:
        return held is element
    return (Decimal(str(element["value"])), element["code"]) == (held.amount, held.unit.code)


def _duration(line: ir.Administration, node: Json) -> bool:
    repeat = _repeat(node)
    low = repeat.get("duration") if line.min_minutes is not None else None
    high = repeat.get("durationMax", repeat.get("duration")) if line.max_minutes is not None else None
    return (low, high) == (line.min_minutes, line.max_minutes)


def _clock(line: ir.Administration, node: Json) -> bool:
    if line.clock is None:
        return _repeat(node).get("periodUnit") != "min"
    repeat = _repeat(node)
    found = (repeat["period"], repeat["periodUnit"], repeat.get("count"), _flag(node["action"], core.EACH_DAY))
    return found == (line.clock.interval, "min", line.clock.count, line.clock.each_day)


def _days(line: ir.Administration, node: Json) -> bool:
    (days,) = node["action"]["timingTiming"]["extension"]
    return [d["valueInteger"] for d in days["extension"]] == list(line.days)


def _gate(gate: ir.Gate, node: Json) -> bool:
    return _values(node, core.PROSE) == ([gate.prose.text] if gate.prose else [])


def _heading(meta: ir.Meta, node: Json) -> bool:
    """A heading's fields: the regimen's in their elements or ``field`` extensions; a part's all in extensions."""
    found = [(str(p["key"]), str(p["value"])) for p in map(_parts, _ext(node, core.FIELD))]
    if "resourceType" in node:
        found += [(key, node[element]) for key, element in FIELDS if element in node]
        found += [("author", a["name"]) for a in node.get("author", [])]
    return sorted(found) == sorted(meta.fields)


def _part_or_regimen(node: Json, part: Callable[[Json], object], regimen: Callable[[Json], object]) -> object:
    return regimen(node) if "resourceType" in node else part(node)


def _identifiers(meta: ir.Meta, node: Json) -> bool:
    found = _part_or_regimen(node, lambda n: _values(n, core.IDENTIFIER), lambda n: n.get("identifier", []))
    return found == [{"system": system, "value": value} for system, value in meta.identifiers]


def _contexts(node: Json, code: str, url: str) -> list[object]:
    return _part_or_regimen(
        node,
        lambda n: _values(n, url),
        lambda n: [c["valueCodeableConcept"] for c in n.get("useContext", []) if c["code"]["code"] == code],
    )  # type: ignore[return-value]


def _terms(terms: tuple[ir.Term, ...], found: list[object]) -> bool:
    return found == [({"coding": [{"system": core.SNOMED, "code": t.code}]} if t.code else {}) | {"text": t.text} for t in terms]


def _footnotes(meta: ir.Meta, node: Json) -> bool:
    names = [f.name for f in meta.footnotes]
    if "resourceType" not in node:
        return _values(node, core.FOOTNOTE) == names
    notes = [a for a in node.get("relatedArtifact", []) if a["type"] == "documentation"]
    return [(_values(a, core.FOOTNOTE), a["label"], a["display"]) for a in notes] == [
        ([f.name], f.marker, f.text) for f in meta.footnotes
    ]


def _overview(meta: ir.Meta, node: Json) -> bool:
    found = _part_or_regimen(node, lambda n: (_values(n, core.PROSE) or [None])[0], lambda n: n.get("usage"))
    return found == meta.overview


def _superseded(meta: ir.Meta, node: Json) -> bool:
    if "resourceType" not in node:
        return _values(node, core.SUPERSEDED_BY) == ([meta.superseded_by] if meta.superseded_by else [])
    successors = [a["display"] for a in node.get("relatedArtifact", []) if a["type"] == "successor"]
    return successors == ([meta.superseded_by] if meta.superseded_by else [])


def _observations(group: ir.CycleGroup, node: Json) -> bool:
    """Each observation is an action after the end of each line it observes, its first/last dose as an extension."""
    found = sorted(
        (_minutes(a["timingDuration"]), str(_values(a, core.POSITION))) for a in node["action"] if "timingDuration" in a
    )
    wanted = sorted(
        (o.minutes, str([o.position] if o.position else []))
        for o in group.observations
        for line in group.administrations
        if o.medicine == line.medicine and (o.line is None or o.line == line.label)
    )
    return found == wanted


def _gaps(group: ir.CycleGroup, node: Json) -> bool:
    found = {(a["id"], r["offsetRange"]["low"]["value"]) for a in node["action"] for r in a.get("relatedAction", []) if r["actionId"] == a.get("id")}
    wanted = {
        (f"{node['id']}-l{i}", gap.days)
        for gap in group.gaps
        for i, line in enumerate(group.administrations, start=1)
        if gap.medicine == line.medicine and (gap.line is None or gap.line == line.label)
    }
    return found == wanted


# Each field of each IR record: where the core resource has it (a check), or why it is no fact of its own.
WHERE: dict[str, dict[str, Check | str]] = {
    "Regimen": {
        "span": SOURCE,
        "id": lambda r, n: n["id"] == core.resource_id(r.id),
        "path": "the file it was read from: a build's, no fact of the regimen",
        "meta": "its own rows (Meta), on the PlanDefinition",
        "parts": lambda r, n: len([p for p in r.parts if p.number is not None]) == len(_ext_parts(n)),
        "support": lambda r, n: _support(r.support, _by_id(n).get("support")),
        "references": lambda r, n: len(r.references) == sum(a["type"] == "citation" for a in n.get("relatedArtifact", [])),
        "plan": "its own rows (Decision, Limit, StopRule), the plan's actions",
        "aliases": "the library's names of medicines, in library.reg: the lines name the medicine as written",
        "id_span": SOURCE,
        "partial": "true only for a file with syntax errors, which is never exported",
        "mentions": SOURCE,
        "links": SOURCE,
        "prose": SOURCE,
        "headings": SOURCE,
        "responses": lambda r, n: _values(n, core.RESPONSES) == ([] if r.responses == core.DEFAULT_RESPONSES else [r.responses.name]),
        "groups": "the groups' definitions, in the package or library.reg: each condition names its group",
        "measures": "the measures' definitions, in the package or library.reg: each condition names its measure",
        "thresholds": "worked out from the conditions, which the conditions' expressions carry",
    },
    "Meta": {
        "span": SOURCE,
        "fields": _heading,
        "identifiers": _identifiers,
        "cancer": lambda m, n: _terms(m.cancer, _contexts(n, "focus", core.FOCUS)),
        "setting": lambda m, n: _terms(() if m.setting is None else (m.setting,), _contexts(n, "workflow", core.SETTING)),
        "status": lambda m, n: _values(n, core.STATUS_WRITTEN) == ([m.status.value] if m.status else []),
        "superseded_by": _superseded,
        "footnotes": _footnotes,
        "footnote_spans": SOURCE,
        "overview_prose": _overview,
        "repeated": SOURCE,
        "status_span": SOURCE,
        "superseded_span": SOURCE,
    },
}
