"""``--profile core``: a regimen as a plain FHIR R4 ``PlanDefinition``, every fact in an element that computes.

Parts, cycle groups and lines are nested actions (a part follows the one before it, timed by
its start rule as a ``relatedAction``); a cycle group's ``timingTiming`` repeats ``count``
times over ``duration`` days; a line's action points to a contained ``ActivityDefinition``
(medicine, dose, route, frequency, cap, volume) and is timed by a ``timingTiming`` with the
days of the cycle (the core extension ``timing-daysOfCycle``) and the infusion's bounds
(``duration``, ``durationMax`` in minutes). A timing relation to another line is a
``relatedAction`` with its ``offsetRange`` in minutes, and what FHIR has no element for
(its qualifier, ``ending``, ``first``/``last``, ``then``) in regdsl extensions of it; a line
of a choice, a gate, a decision's branch and a stop rule carry an ``applicability``
condition whose expression is the condition as the language writes it (``text/x-regdsl``:
no FHIRPath can read a response or a risk group from a patient record the regimen knows
of), with the pages' words as its ``description``; decisions are actions with
``selectionBehavior`` ``exactly-one`` over their branches. What FHIR has no element for
is a regdsl extension (``EXTENSIONS``, each listed in docs/fhir.md): every relation as
written (one to an outside event too) and a part's start rule, a note as written, what a line
and its infusion say beyond timing and dosage, a part's heading, how ``same as``, ``use`` and
``without`` gave a cycle its lines, each reference's links, ids and dates; so an importer can
rebuild the regimen. Every text is also given as the pages word it (``textEquivalent``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import assert_never

from regdsl.compile.anchoring import Dose, Lines
from regdsl.compile.passes import Compiled
from regdsl.compile.phases import cond_text, number_text, titles
from regdsl.compile.stn import PointId, day_of
from regdsl.fhir.resources import (
    FIELDS,
    STATUS,
    Json,
    citations,
    coded,
    concept,
    cycle_repeat,
    dosage,
    identity,
    narrative,
    note_text,
    product,
    resource_id,
    timing_words,
)
from regdsl.fhir.resources import quantity as amount_of
from regdsl.model import ir
from regdsl.model.conditions import DEFAULT_RESPONSES
from regdsl.model.vocabulary import NZMT_SYSTEM, UCUM
from regdsl.render.context import RenderContext
from regdsl.render.view import CycleView, PageView, build_view
from regdsl.source import SourceFile

__all__ = [
    "ALIAS",
    "BAGS",
    "BLOCK",
    "BRANCH",
    "CHOICE",
    "CONTINUOUS",
    "COPIED_FROM",
    "COUNTED_WITH",
    "DAYS_OF_CYCLE",
    "DECISION",
    "EACH_DAY",
    "EMPTY_TITLE",
    "ENDING",
    "EXACT",
    "EXTEND",
    "FIELD",
    "FOCUS",
    "FOOTNOTE",
    "IDENTIFIER",
    "INFUSION_CONTINUOUS",
    "LABEL",
    "LANGUAGE",
    "NOTE",
    "OFF_LABEL",
    "PART_NUMBER",
    "PART_START",
    "POSITION",
    "PROSE",
    "PUMP",
    "QUALIFIER",
    "REFERENCE_ACCESSED",
    "REFERENCE_PMID",
    "REFERENCE_URL",
    "RELATION",
    "RELATIONSHIP",
    "RESPONSES",
    "ROLE",
    "S29",
    "SAME_AS",
    "SETTING",
    "SHIFT",
    "STARTING",
    "STATUS_WRITTEN",
    "SUPERSEDED_BY",
    "SUPPRESSION",
    "TITLE",
    "VIA",
    "WITHOUT",
    "WRITTEN",
    "heading_extensions",
    "line_extensions",
    "note_extension",
    "plan_definition",
    "references",
    "relation_extension",
    "relation_extensions",
    "source_text",
]

DAYS_OF_CYCLE = "http://hl7.org/fhir/StructureDefinition/timing-daysOfCycle"

# What a relation says that FHIR's relatedAction has no element for, each in an extension of the relatedAction.
EXTENSIONS = "https://regdsl.invalid/fhir/StructureDefinition/"
QUALIFIER = EXTENSIONS + "relation-qualifier"  # valueString: the words kept beside it (`"OR before bed"`)
ENDING = EXTENSIONS + "relation-ending"  # valueBoolean: `ending ...`, the line's end is timed, not its start
POSITION = EXTENSIONS + "relation-position"  # valueCode first | last: the anchor's first or last dose of the cycle
DECISION = EXTENSIONS + "decision-after"  # nested kind, first, last: after which cycles (or part) it is taken
COUNTED_WITH = EXTENSIONS + "limit-counted-with"  # valueString: a regimen whose cycles count towards the limit
CONTINUOUS = EXTENSIONS + "cycle-continuous"  # valueBoolean: `continuous treatment`, not an open-ended 1-day cycle
RESPONSES = EXTENSIONS + "regimen-responses"  # valueString: the response vocabulary its conditions name
VIA = EXTENSIONS + "relation-via"  # valueCode then | concurrently: how it was written, when not as a relation
# A relation as written, whatever it is timed from (a line, the day's chemotherapy, an outside event): nested parts.
RELATION = EXTENSIONS + "relation"  # on a line's action, each of its relations in order
PART_START = EXTENSIONS + "part-start"  # on a part's action: its start rule (also of a first part)
PART_NUMBER = EXTENSIONS + "part-number"  # valueInteger: a part's number as written
TITLE = EXTENSIONS + "title"  # valueString: a part's or a cycle group's title as written (its heading words it)
NOTE = EXTENSIONS + "note"  # nested label, medicine, line, text: a note as written, on its cycle's or support's action
STATUS_WRITTEN = EXTENSIONS + "regimen-status"  # valueCode: the status as written (absent: none written, draft)
ROLE = EXTENSIONS + "line-role"  # valueCode anticancer | supportive: the role as written (absent: implied)
EXACT = EXTENSIONS + "infusion-exact"  # valueBoolean: `over exactly ...`
PUMP = EXTENSIONS + "infusion-pump"  # valueBoolean: `by pump`
BAGS = EXTENSIONS + "infusion-bags"  # valueDuration (min): `bags every ...`
INFUSION_CONTINUOUS = EXTENSIONS + "infusion-continuous"  # valueBoolean: `days ... continuous`
EXTEND = EXTENSIONS + "infusion-extend-to"  # valueDuration (min): `, may extend to ...`
WRITTEN = EXTENSIONS + "line-medicine-as-written"  # valueString: the medicine's name as the line writes it
LABEL = EXTENSIONS + "line-label"  # valueString: the line's name (`fluorouracil (bolus)`), or an observation's or gap's
SHIFT = EXTENSIONS + "line-shift-days"  # valueInteger: `shift N days`, as written (the windows are solved)
OFF_LABEL = EXTENSIONS + "line-off-label"  # valueBoolean: `off-label`
S29 = EXTENSIONS + "line-section-29"  # valueBoolean: `s29`
STARTING = EXTENSIONS + "line-days-starting"  # valueBoolean: days written `starting day N`
EACH_DAY = EXTENSIONS + "clock-each-day"  # valueBoolean: a clock's `each day`: one series on every listed day
PROSE = EXTENSIONS + "prose"  # valueString: the prose written with it (a line's instructions, a gate's words)
FIELD = EXTENSIONS + "field"  # nested key, value: a heading's field no element carries (a part's: every one)
# A part's heading, which no element of an action holds (the regimen's are the PlanDefinition's own elements).
IDENTIFIER = EXTENSIONS + "identifier"  # valueIdentifier: each of a part's identifiers
FOCUS = EXTENSIONS + "focus"  # valueCodeableConcept: each level of a part's cancer classification
SETTING = EXTENSIONS + "setting"  # valueCodeableConcept: a part's setting
SUPERSEDED_BY = EXTENSIONS + "superseded-by"  # valueString: the id of the regimen that supersedes a part
FOOTNOTE = EXTENSIONS + "footnote"  # valueString: a footnote's name (`library.reg` defines it), on its artifact
# How a cycle's lines came to it; its lines are written out all the same, for every FHIR reader.
SAME_AS = EXTENSIONS + "cycle-same-as"  # valueInteger: `same as cycle N`
WITHOUT = EXTENSIONS + "cycle-without"  # nested medicine, line: each `without MEDICINE (LINE)`, in order
BLOCK = EXTENSIONS + "from-block"  # valueString: the block whose `use` gave a line or a note
COPIED_FROM = EXTENSIONS + "line-copied-from"  # valueString: the id of the cycle's action a copied line was written in
REFERENCE_URL = EXTENSIONS + "reference-url"  # valueString: each `url` of a reference, in order
REFERENCE_PMID = EXTENSIONS + "reference-pmid"  # valueString: each `pmid`
REFERENCE_ACCESSED = EXTENSIONS + "reference-accessed"  # valueString: each `accessed` date, as written
# A cycle's choice (`if COND:`, `by VARIABLE:`): its `id`, `kind` (valueCode if | by), `variable` (valueString, of a
# `by`), each `branch` (valueString, its condition as the language writes it), and `otherwise` (valueBoolean true).
CHOICE = EXTENSIONS + "cycle-choice"
# The branch a line is written in: `choice` (valueString, its id) and `branch` (valueInteger, from 0); a note's
# `note` extension holds the same two parts.
BRANCH = EXTENSIONS + "line-branch"
SUPPRESSION = EXTENSIONS + "line-suppression"  # valueString: `regdsl: ignore[RULE] -- reason`, written above the line
ALIAS = EXTENSIONS + "regimen-alias"  # `drug ALIAS = "NAME"`: `alias` and `medicine` (valueString)
EMPTY_TITLE = EXTENSIONS + "title-empty"  # valueBoolean: a cycle's `title ""` (no title, not the copied one)

# The heading's fields an element of the PlanDefinition carries (``identity``); any other is a ``field`` extension.
CARRIED = frozenset([*(key for key, _ in FIELDS), "author"])

# The media type of a condition written as a .reg file writes it (FHIR's expression language binding is extensible).
LANGUAGE = "text/x-regdsl"

# A relation (its direction, and the anchor's point it is timed from) as FHIR's ActionRelationshipType.
RELATIONSHIP = {
    ("before", "start"): "before-start",
    ("before", "end"): "before-start",
    ("after", "start"): "after-start",
    ("after", "end"): "after-end",
}


def _minutes(value: int) -> Json:
    return {"value": value, "unit": "min", "system": UCUM, "code": "min"}


def _offset(low: int | None, high: int | None) -> Json:
    out: Json = {}
    if low:
        out["low"] = _minutes(low)
    if high is not None:
        out["high"] = _minutes(high)
    return out


def _days(value: int) -> Json:
    return {"value": value, "unit": "d", "system": UCUM, "code": "d"}


_OPERATORS = {"lt": "under", "gt": "over", "ge": "at least", "le": "at most"}


def _listed(keyword: str, values: Sequence[ir.Written]) -> str:
    """``response is CR`` or ``response in (CR, CRi)``: one value with ``is``, more in a parenthesised list."""
    if len(values) == 1:
        return f"{keyword} is {values[0].text}"
    return f"{keyword} in (" + ", ".join(v.text for v in values) + ")"


def _operand(cond: ir.Cond, within: type[ir.Cond]) -> str:
    """Write an operand of ``and``, ``or`` or ``not``, in parentheses where the grammar needs them.

    An ``and`` in an ``or`` needs none; a compound in ``not``, an ``or`` in ``and`` and a nesting
    of the same operator (written in parentheses, or the text would flatten it) do.
    """
    text = source_text(cond)
    bare = isinstance(cond, ir.AndCond) and within is ir.OrCond
    return f"({text})" if isinstance(cond, ir.AndCond | ir.OrCond) and not bare else text


def source_text(cond: ir.Cond) -> str:
    """Write a condition as the language writes it (``response in (CR, CRi)``, ``CrCl at least 60 mL/min``).

    The text parses back, by the grammar's ``cond``, to the same condition.
    """
    match cond:
        case ir.ResponseIn(codes=codes):
            return _listed("response", codes)
        case ir.GroupIn(group=group, values=values):
            return _listed(group, values)
        case ir.MeasureTest(measure=measure, op="range", low=low, high=high, unit=unit):
            return f"{measure} {number_text(low)} to {number_text(high if high is not None else low)} {unit.text}"
        case ir.MeasureTest(measure=measure, op=op, low=low, unit=unit):
            return f"{measure} {_OPERATORS[op]} {number_text(low)} {unit.text}"
        case ir.Mrd(negative=negative):
            return "MRD negative" if negative else "MRD positive"
        case ir.Hsct():
            return "proceeding to HSCT"
        case ir.NotCond(operand=operand):
            return "not " + _operand(operand, ir.NotCond)
        case ir.AndCond(operands=ops):
            return " and ".join(_operand(op, ir.AndCond) for op in ops)
        case ir.OrCond(operands=ops):
            return " or ".join(_operand(op, ir.OrCond) for op in ops)
        case _:
            assert_never(cond)


def relation_extensions(rel: ir.Relation) -> list[Json]:
    """Return the extensions of a relation's ``relatedAction``: what it says beyond its type and offset."""
    out: list[Json] = []
    if rel.qualifier is not None:
        out.append({"url": QUALIFIER, "valueString": rel.qualifier})
    if rel.own_point == "end":
        out.append({"url": ENDING, "valueBoolean": True})
    if rel.position is not None:
        out.append({"url": POSITION, "valueCode": rel.position})
    if rel.via != "relation":
        out.append({"url": VIA, "valueCode": rel.via})
    return out


def _nested(url: str, parts: Sequence[tuple[str, str, object]]) -> Json:
    """Return a complex extension: a part (its name, value type, value) for each given value."""
    return {"url": url, "extension": [{"url": name, kind: value} for name, kind, value in parts]}


def relation_extension(url: str, rel: ir.Relation, text: str | None = None) -> Json:
    """Return a relation as one extension, whatever it is timed from (an event, the part before, a line).

    Its parts: ``anchorKind`` (``drug``, ``chemotherapy``, ``event``), ``anchor`` (as written),
    ``direction``, ``point`` (the anchor's start or end), ``offset`` (a Range in minutes: the
    relatedAction's ``offsetRange``), ``line`` (the anchor's line, when named), ``text`` (a
    start rule's words), and the relatedAction's own extensions (qualifier, ending, position, via).
    """
    parts: list[tuple[str, str, object]] = [
        ("anchorKind", "valueCode", rel.anchor_kind),
        ("anchor", "valueString", rel.anchor),
        ("direction", "valueCode", rel.direction),
        ("point", "valueCode", rel.point),
    ]
    if rel.low or rel.high is not None:
        parts.append(("offset", "valueRange", _offset(rel.low, rel.high)))
    if rel.line is not None:
        parts.append(("line", "valueString", rel.line))
    if text is not None:
        parts.append(("text", "valueString", text))
    out = _nested(url, parts)
    out["extension"] += relation_extensions(rel)
    return out


def note_extension(note: ir.Note) -> Json:
    """Return a note as written: its label, the medicine (its name) and line it belongs to, and its text."""
    parts: list[tuple[str, str, object]] = []
    if note.label is not None:
        parts.append(("label", "valueString", note.label))
    if note.medicine is not None:
        parts.append(("medicine", "valueString", note.medicine.name))
    if note.line is not None:
        parts.append(("line", "valueString", note.line))
    if note.block is not None:
        parts.append(("block", "valueString", note.block))
    return _nested(NOTE, [*parts, ("text", "valueString", note.text)])


def line_extensions(line: ir.Administration) -> list[Json]:
    """Return what a line says that its timing and dosage do not: a stated role, `exactly`, a pump, bags..."""
    out: list[Json] = []
    if line.written != line.medicine.name:
        out.append({"url": WRITTEN, "valueString": line.written})
    if line.label is not None:
        out.append({"url": LABEL, "valueString": line.label})
    if line.block is not None:
        out.append({"url": BLOCK, "valueString": line.block})
    if line.role_stated:
        out.append({"url": ROLE, "valueCode": line.role})
    if line.exact_duration:
        out.append({"url": EXACT, "valueBoolean": True})
    if line.extend_minutes is not None:
        out.append({"url": EXTEND, "valueDuration": _minutes(line.extend_minutes)})
    if line.continuous:
        out.append({"url": INFUSION_CONTINUOUS, "valueBoolean": True})
    if line.pump:
        out.append({"url": PUMP, "valueBoolean": True})
    if line.bag_minutes is not None:
        out.append({"url": BAGS, "valueDuration": _minutes(line.bag_minutes)})
    if line.shift_days is not None:
        out.append({"url": SHIFT, "valueInteger": line.shift_days})
    if line.starting:
        out.append({"url": STARTING, "valueBoolean": True})
    if line.clock is not None and line.clock.each_day:
        out.append({"url": EACH_DAY, "valueBoolean": True})
    flags = ((line.off_label, OFF_LABEL), (line.s29, S29))
    out += [{"url": url, "valueBoolean": True} for flag, url in flags if flag]
    if line.instructions is not None:
        out.append({"url": PROSE, "valueString": line.instructions})
    return out


def heading_extensions(meta: ir.Meta, *, part: bool) -> list[Json]:
    """Return what a heading says that no element carries: of a part's, everything; of the regimen's, the rest.

    The regimen's status as written (FHIR's status says less); its fields that no element
    holds as ``field`` extensions (a part's every field), and a part's identifiers, cancer,
    setting, `superseded by`, footnotes and overview.
    """
    out: list[Json] = [{"url": STATUS_WRITTEN, "valueCode": meta.status.value}] if meta.status is not None else []
    out += [
        _nested(FIELD, [("key", "valueString", key), ("value", "valueString", value)])
        for key, value in meta.fields
        if part or key not in CARRIED
    ]
    if not part:
        return out
    out += [{"url": IDENTIFIER, "valueIdentifier": {"system": system, "value": v}} for system, v in meta.identifiers]
    out += [{"url": FOCUS, "valueCodeableConcept": concept(term)} for term in meta.cancer]
    if meta.setting is not None:
        out.append({"url": SETTING, "valueCodeableConcept": concept(meta.setting)})
    if meta.superseded_by is not None:
        out.append({"url": SUPERSEDED_BY, "valueString": meta.superseded_by})
    out += [{"url": FOOTNOTE, "valueString": footnote.name} for footnote in meta.footnotes]
    if meta.overview is not None:
        out.append({"url": PROSE, "valueString": meta.overview})
    return out


def references(refs: Sequence[ir.Reference]) -> list[Json]:
    """Return the citations, each with its every url, PubMed id and access date in extensions."""
    out = []
    for ref, item in zip(refs, citations(refs), strict=True):
        said = [
            *({"url": REFERENCE_URL, "valueString": url} for url in ref.urls),
            *({"url": REFERENCE_PMID, "valueString": pmid} for pmid in ref.pmids),
            *({"url": REFERENCE_ACCESSED, "valueString": date} for date in ref.accessed),
        ]
        out.append(({"extension": said} if said else {}) | item)
    return out


def _named(line: str | None) -> Json:
    """Return the extension that names the line an observation or a gap is written for, when it names one."""
    return {"extension": [{"url": LABEL, "valueString": line}]} if line is not None else {}


def _within(count: int, unit: ir.PlanUnit) -> Json:
    """Return the timing of ``count`` cycles (``countMax``) or weeks, months or years (``boundsDuration``)."""
    if unit == "cycles":
        return {"repeat": {"countMax": count}}
    code = {"weeks": "wk", "months": "mo", "years": "a"}[unit]
    return {"repeat": {"boundsDuration": {"value": count, "unit": unit, "system": UCUM, "code": code}}}


def _condition(words: str, source: str) -> Json:
    """Return an ``applicability`` condition: the language's text of it computes, the pages' words describe it."""
    return {"kind": "applicability", "expression": {"description": words, "language": LANGUAGE, "expression": source}}


def _choice(number: int, choice: ir.Choice) -> Json:
    """Return a cycle's choice as its extension: what the conditions of its lines alone cannot tell apart."""
    parts: list[tuple[str, str, object]] = [("id", "valueString", f"c{number}"), ("kind", "valueCode", choice.kind)]
    if choice.variable is not None:
        parts.append(("variable", "valueString", choice.variable))
    for branch in choice.branches:
        if branch.cond is None:
            parts.append(("otherwise", "valueBoolean", True))
        else:
            parts.append(("branch", "valueString", source_text(branch.cond)))
    return _nested(CHOICE, parts)


def _branch(group: ir.CycleGroup, guard: ir.Guard) -> list[Json]:
    """Return the parts that name a guard's choice (by its number in the cycle) and branch."""
    number = next(n for n, c in enumerate(group.choices, start=1) if c.key == guard.choice)
    return [{"url": "choice", "valueString": f"c{number}"}, {"url": "branch", "valueInteger": guard.branch}]


_SUPPRESSION = re.compile(r"\s*#\s*(regdsl:\s*ignore\[[^\]\n]*\][^\n]*)")


def _suppressions(source: SourceFile | None) -> dict[int, list[str]]:
    """Return, by line number, the suppression comments written right above it (each without its ``#``)."""
    found: dict[int, list[str]] = {}
    kept: list[str] = []
    for number, text in enumerate(source.text.split("\n") if source else [], start=1):
        match = _SUPPRESSION.fullmatch(text)
        if match:
            kept.append(match[1].rstrip())
        elif kept and text.strip():
            found[number] = kept
            kept = []
    return found


class _Writer:
    def __init__(self, compiled: Compiled, view: PageView, source: SourceFile | None) -> None:
        self.compiled = compiled
        self.suppressions = _suppressions(source)
        self.regimen = compiled.regimen
        self.view = view
        self.named = titles(self.regimen)
        self.status = STATUS[self.regimen.status]
        self.contained: list[Json] = []
        # Each cycle group's action id, by where its heading is written (what a copied line was written for).
        self.keys = {
            group.span: f"p{p}-g{g}"
            for p, part in enumerate(self.regimen.parts, start=1)
            for g, group in enumerate(part.cycles, start=1)
        }

    def activity(self, ident: str, line: ir.Administration, system: str) -> str:
        given = dosage(line, bound=False)
        out: Json = {
            "resourceType": "ActivityDefinition",
            "id": ident,
            "text": narrative(line.medicine.display, None, [given["text"]], "generated"),
            "name": "Line_" + ident.replace("-", "_"),
            "status": self.status,
            "usage": "Supportive care" if line.role == "supportive" else "Anticancer treatment",
            "kind": "MedicationRequest",
            "productCodeableConcept": product(line, system),
        }
        if line.volume is not None:
            out["quantity"] = amount_of(line.volume.amount, line.volume.unit)
        out["dosage"] = [given]
        self.contained.append(out)
        return ident

    def condition(self, cond: ir.Cond) -> Json:
        return _condition(cond_text(cond, self.named), source_text(cond))

    def gate(self, gate: ir.Gate) -> Json:
        """Return a gate's condition, with the words written for those it does not admit."""
        out = self.condition(gate.cond)
        return {"extension": [{"url": PROSE, "valueString": gate.prose.text}]} | out if gate.prose else out

    @staticmethod
    def observed(obs: ir.Observation) -> Json:
        """Return the extensions of an observation's action: the observed line's name and dose, when written."""
        said = _named(obs.line).get("extension", [])
        if obs.position is not None:
            said.append({"url": POSITION, "valueCode": obs.position})
        return {"extension": said} if said else {}

    @staticmethod
    def note(group: ir.CycleGroup, note: ir.Note) -> Json:
        """Return a cycle's note as written, with the branch of a choice it is written in."""
        out = note_extension(note)
        if note.guard is not None:
            out["extension"] += _branch(group, note.guard)
        return out

    def branch_condition(self, group: ir.CycleGroup, guard: ir.Guard) -> Json:
        """Return the condition of a choice's branch; an ``otherwise`` branch's is that no other branch holds."""
        choice = next(c for c in group.choices if c.key == guard.choice)
        cond = choice.branches[guard.branch].cond
        if cond is not None:
            return self.condition(cond)
        others = [b.cond for b in choice.branches if b.cond is not None]
        words = "not (" + " or ".join(cond_text(c, self.named) for c in others) + ")"
        return _condition(words, "not (" + " or ".join(_operand(c, ir.OrCond) for c in others) + ")")

    def line(self, key: str, i: int, line: ir.Administration, cycle: CycleView, words: Sequence[str]) -> Json:
        group = cycle.group
        repeat: Json = {}
        if line.max_minutes is not None or line.min_minutes is not None:
            repeat["duration"] = line.min_minutes if line.min_minutes is not None else line.max_minutes
            if line.max_minutes is not None and line.max_minutes != repeat["duration"]:
                repeat["durationMax"] = line.max_minutes
            repeat["durationUnit"] = "min"
        if line.frequency is not None:
            repeat["frequency"] = line.frequency.per_day
            repeat["period"] = 1
            repeat["periodUnit"] = "d"
        if line.clock is not None:
            repeat["period"] = line.clock.interval
            repeat["periodUnit"] = "min"
            repeat["frequency"] = 1
            if line.clock.count is not None:
                repeat["count"] = line.clock.count
        timing: Json = {
            "extension": [{"url": DAYS_OF_CYCLE, "extension": [{"url": "day", "valueInteger": d} for d in line.days]}]
        }
        if repeat:
            timing["repeat"] = repeat
        out: Json = {
            "id": f"{key}-l{i + 1}",
            "title": cycle.rows[i].medicine,
            "description": dosage(line, bound=False)["text"],
        }
        said = [*(m.title for m in cycle.rows[i].marks), *cycle.rows[i].details, *words]
        if line.instructions is not None:
            said.append(line.instructions)
        if said:
            out["textEquivalent"] = "\n\n".join(said)
        extensions = line_extensions(line) + [relation_extension(RELATION, rel) for rel in line.relations]
        if line.written_for != group.span:
            extensions.append({"url": COPIED_FROM, "valueString": self.keys[line.written_for]})
        if line.guard is not None:
            extensions.append({"url": BRANCH, "extension": _branch(group, line.guard)})
        extensions += [{"url": SUPPRESSION, "valueString": c} for c in self.suppressions.get(line.span.line, [])]
        if extensions:
            out = {"extension": extensions} | out
        if line.guard is not None:
            out["condition"] = [self.branch_condition(group, line.guard)]
        related = [item for rel in line.relations for item in self.related(key, i, rel, group)]
        related += [
            _named(gap.line)
            | {"actionId": out["id"], "relationship": "after-start", "offsetRange": {"low": _days(gap.days)}}
            for gap in group.gaps
            if gap.medicine == line.medicine and (gap.line is None or gap.line == line.label)
        ]
        if related:
            out["relatedAction"] = related
        windows = self.windows(cycle, i, line)
        if windows:
            out["action"] = windows
        out["timingTiming"] = timing
        return out

    def related(self, key: str, index: int, rel: ir.Relation, group: ir.CycleGroup) -> list[Json]:
        """Return the relation as relatedActions to each line it is timed from (a medicine, the day's chemotherapy).

        A medicine's line is found as the timing network finds it (``anchoring.Lines``), on each
        of the line's days; the day's chemotherapy is every anticancer line given that day.
        """
        line = group.administrations[index]
        found: dict[int, None] = {}
        for day in line.days:
            if rel.anchor_kind == "drug":
                dose = self.lines.anchor(rel, index, day)
                found.update(dict.fromkeys((dose.line,) if isinstance(dose, Dose) else dose.lines if dose else ()))
            elif rel.anchor_kind == "chemotherapy":
                found.update(dict.fromkeys(j for j in self.chemotherapy.get(day, ()) if j != index))
        anchors = sorted(
            found
        )  # an outside event (surgery, radiotherapy) is no action: the `relation` extension says it
        extensions = relation_extensions(rel)
        out = []
        for j in anchors:
            item: Json = {"extension": extensions} if extensions else {}
            item |= {"actionId": f"{key}-l{j + 1}", "relationship": RELATIONSHIP[(rel.direction, rel.point)]}
            if rel.low or rel.high is not None:
                item["offsetRange"] = _offset(rel.low, rel.high)
            out.append(item)
        return out

    def windows(self, cycle: CycleView, index: int, line: ir.Administration) -> list[Json]:
        """Return, for a line that may move, an action per dose day timed by the days it may fall on (its window)."""
        if not line.shift_days:
            return []
        solved = self.compiled.windows
        part, group = (int(word[1:]) for word in cycle.anchor.split("-"))  # the page's anchor: p1-g0
        prefix = PointId(part, group, cycle.group.first)
        out = []
        for day in line.days:
            window = solved.get(prefix.dose(index, day)) if solved is not None else None
            early, late = (
                (day_of(window[0]), day_of(window[1])) if window else (day - line.shift_days, day + line.shift_days)
            )
            out.append(
                {
                    "title": f"Day {day}",
                    "timingRange": {"low": _days(early), "high": _days(late)},
                }
            )
        return out

    def cycle(self, key: str, cycle: CycleView, system: str) -> Json:
        group = cycle.group
        self.lines = Lines(group)
        self.chemotherapy: dict[int, list[int]] = {}
        for j, other in enumerate(group.administrations):
            if other.role == "anticancer":
                for day in other.days:
                    self.chemotherapy.setdefault(day, []).append(j)
        repeat = cycle_repeat(group)
        if group.extend_to_days:
            repeat["durationMax"] = group.extend_to_days
        words = timing_words(cycle)
        lines = []
        for i, line in enumerate(group.administrations):
            action = self.line(key, i, line, cycle, words.get(i, []))
            action["definitionCanonical"] = "#" + self.activity(f"{key}-l{i + 1}", line, system)
            lines.append(action)
            for n, obs in enumerate(group.observations, start=1):
                if obs.medicine == line.medicine and (obs.line is None or obs.line == line.label):
                    lines.append(
                        {
                            **self.observed(obs),
                            "id": f"{action['id']}-o{n}",
                            "title": f"Observe after {line.medicine.display}",
                            "relatedAction": [{"actionId": action["id"], "relationship": "after-end"}],
                            "timingDuration": _minutes(obs.minutes),
                        }
                    )
        said = [{"url": CONTINUOUS, "valueBoolean": True}] if group.continuous else []
        if group.same_as is not None:
            said.append({"url": SAME_AS, "valueInteger": group.same_as})
        for medicine, name in group.left_out:
            said.append(
                _nested(
                    WITHOUT, [("medicine", "valueString", medicine), *([("line", "valueString", name)] if name else [])]
                )
            )
        if group.title:
            said.append({"url": TITLE, "valueString": group.title})
        elif group.title_text is not None:  # `title ""`, which FHIR has no string for (ele-1)
            said.append({"url": EMPTY_TITLE, "valueBoolean": True})
        said += [self.note(group, n) for n in group.notes]
        said += [_choice(n, choice) for n, choice in enumerate(group.choices, start=1)]
        out: Json = {"extension": said} if said else {}
        out |= {"id": key, "prefix": str(group.first), "title": cycle.heading}
        notes = [note_text(n) for n in group.notes]
        out["textEquivalent"] = "\n\n".join([*cycle.facts, *notes])
        if group.gates:
            out["condition"] = [self.gate(g) for g in group.gates]
        out |= {"timingTiming": {"repeat": repeat}, "selectionBehavior": "all", "action": lines}
        return out

    def plan(self) -> list[Json]:
        plan = self.regimen.plan
        view = self.view.plan
        actions: list[Json] = []
        for n, (decision, said) in enumerate(zip(plan.decisions, view.decisions, strict=True), start=1):
            branches = []
            for b, branch in enumerate(decision.branches, start=1):
                step: Json = {
                    "id": f"d{n}-b{b}",
                    "title": branch.action + (f" {branch.target}" if branch.target else ""),
                }
                if branch.cond is not None:
                    step["condition"] = [self.condition(branch.cond)]
                branches.append(step)
            after: list[tuple[str, str, object]] = [("kind", "valueCode", decision.kind)]
            after += [
                (name, "valueInteger", v)
                for name, v in (("first", decision.first), ("last", decision.last))
                if v is not None
            ]
            actions.append(
                {
                    "extension": [_nested(DECISION, after)],
                    "id": f"d{n}",
                    "title": said.text.split(":")[0],
                    "textEquivalent": said.text,
                    "selectionBehavior": "exactly-one",
                    "action": branches,
                }
            )
        for n, (limit, said) in enumerate(zip(plan.limits, view.limits, strict=True), start=1):
            item: Json = {
                "id": f"limit{n}",
                "title": f"At most {limit.count} {limit.unit}",
                "textEquivalent": said.text,
            }
            if limit.cond is not None:
                item["condition"] = [self.condition(limit.cond)]
            if limit.counted_with:
                item["extension"] = [{"url": COUNTED_WITH, "valueString": ident} for ident in limit.counted_with]
            item["timingTiming"] = _within(limit.count, limit.unit)
            actions.append(item)
        for n, (stop, said) in enumerate(zip(plan.stops, view.stops, strict=True), start=1):
            rule: Json = {
                "id": f"stop{n}",
                "title": "Stop treatment",
                "textEquivalent": said.text,
                "condition": [self.condition(stop.cond)],
            }
            if stop.within is not None:
                rule["timingTiming"] = _within(stop.within, stop.within_unit)
            actions.append(rule)
        if view.flow:
            actions.append(
                {
                    "id": "flow",
                    "title": "The path through the regimen",
                    "textEquivalent": "\n\n".join(line.text for line in view.flow),
                }
            )
        return [{"id": "plan", "title": "Plan", "selectionBehavior": "all", "action": actions}] if actions else []

    def support(self, key: str, support: ir.Support) -> list[Json]:
        actions = []
        for n, factor in enumerate(support.factors, start=1):
            codes = [coded(factor.factor, factor.factor_text), coded(factor.value, factor.value_text)]
            actions.append({"id": f"{key}-f{n}", "title": f"{factor.factor_text}: {factor.value_text}", "code": codes})
        for n, note in enumerate(support.notes, start=1):
            actions.append(
                {
                    "extension": [note_extension(note)],
                    "id": f"{key}-n{n}",
                    "title": "Supportive care note",
                    "textEquivalent": note_text(note),
                }
            )
        return [{"id": key, "title": "Supportive care", "action": actions}] if actions else []

    def build(self) -> Json:
        regimen = self.regimen
        meta = regimen.meta
        system = meta.get("medicine-code-system") or NZMT_SYSTEM
        actions: list[Json] = []
        previous: str | None = None
        for p, (part, view) in enumerate(zip(regimen.parts, self.view.parts, strict=True), start=1):
            part_system = part.meta.get("medicine-code-system") or system
            cycles = [self.cycle(f"p{p}-g{g}", c, part_system) for g, c in enumerate(view.cycles, start=1)]
            for before, after in itertools.pairwise(cycles):
                after["relatedAction"] = [{"actionId": before["id"], "relationship": "after-end"}]
            if part.number is None:
                actions += cycles
                continue
            said = [{"url": PART_NUMBER, "valueInteger": part.number}]
            if part.title:  # a part's title is empty when not given
                said.append({"url": TITLE, "valueString": part.title})
            said += heading_extensions(part.meta, part=True)
            if part.start is not None:
                said.append(relation_extension(PART_START, part.start.relation, part.start.text))
            step: Json = {
                "extension": said,
                "id": f"p{p}",
                "title": view.heading,
                "textEquivalent": "\n\n".join(view.facts) or view.heading,
            }
            if part.references:
                step["documentation"] = references(part.references)
            if previous is not None:
                rel: Json = {"actionId": previous, "relationship": "after-end"}
                if part.start is not None and (part.start.relation.low or part.start.relation.high is not None):
                    rel["offsetRange"] = _offset(part.start.relation.low, part.start.relation.high)
                step["relatedAction"] = [rel]
            step |= {"selectionBehavior": "all", "action": cycles + self.support(f"p{p}-support", part.support)}
            actions.append(step)
            previous = f"p{p}"
        actions += self.support("support", regimen.support) + self.plan()
        out: Json = {"resourceType": "PlanDefinition", "id": resource_id(regimen.id)}
        lines = [f"{f.marker} {f.text}" for f in meta.footnotes]
        out["text"] = narrative(meta.get("title") or regimen.name, meta.get("subtitle"), lines, "generated")
        said = heading_extensions(meta, part=False)
        for alias, name in regimen.aliases:
            said.append(_nested(ALIAS, [("alias", "valueString", alias), ("medicine", "valueString", name)]))
        if regimen.responses.name != DEFAULT_RESPONSES.name:
            said.append({"url": RESPONSES, "valueString": regimen.responses.name})
        if said:
            out["extension"] = said
        if self.contained:
            out["contained"] = self.contained
        out |= identity(meta, self.status)
        if meta.overview is not None:
            out["usage"] = meta.overview
        if meta.setting is not None:
            setting = {
                "code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type", "code": "workflow"},
                "valueCodeableConcept": concept(meta.setting),
            }
            out["useContext"] = [*out.get("useContext", []), setting]
        artifacts = references(regimen.references)
        artifacts += [
            {"extension": [{"url": FOOTNOTE, "valueString": f.name}], "type": "documentation"}
            | {"label": f.marker, "display": f.text}
            for f in meta.footnotes
        ]
        if meta.superseded_by:
            artifacts.append(
                {
                    "type": "successor",
                    "display": meta.superseded_by,
                    "resource": f"PlanDefinition/{resource_id(meta.superseded_by)}",
                }
            )
        if artifacts:
            out["relatedArtifact"] = artifacts
        out["action"] = actions
        return out


def plan_definition(compiled: Compiled, context: RenderContext, source: SourceFile | None = None) -> Json:
    """Return the regimen as a plain FHIR R4 ``PlanDefinition`` (its activity definitions contained in it).

    ``source``, the regimen's file, gives each line the suppressions written above it.
    """
    return _Writer(compiled, build_view(compiled, context), source).build()
