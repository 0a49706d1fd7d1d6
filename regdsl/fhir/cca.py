"""``--profile cca``: a regimen as a ``CcaPlanDefinition`` of the HL7 NZ Cancer Control Agency IG.

The shape is the agency's published regimens', less their defects: a cycle is the plan's
action, each line of it an order set (``action.action``) with a day of ``sact-timing-of-days``
per dose day (the line's instructions verbatim, as a string) pointing to a contained
``CcaActivityDefinition`` (medicine, off-label, dose, route, frequency, infusion bound).
The profile allows one action: a regimen of several parts, or of several cycle groups,
has one action whose actions point to a contained ``CcaPlanDefinition`` each (a part, or a
cycle group), every one contained at the top level (dom-2) and referenced from the action
(dom-3). What the profile has no element for is said where the IG puts free text, in the
pages' words: a line's timing relations, shift windows, gaps and observations and who it is
for in the order set's ``sact-plan-instructions``; a cycle's extension, gates and notes in
the cycle's; the plan (decisions, limits, stop rules, the path through the phases), the
supportive-care notes and the other footnotes in ``sact-additional-details``; the role of
a line (supportive care) in its activity definition's ``usage``.
"""

from __future__ import annotations

from collections.abc import Sequence

from regdsl.compile.passes import Compiled
from regdsl.fhir import ig
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
    quantity,
    timing_words,
)
from regdsl.model import ir
from regdsl.model.vocabulary import NZMT_SYSTEM
from regdsl.render.context import RenderContext
from regdsl.render.view import CycleView, PageView, PartView, build_view

__all__ = ["ROLE_USAGE", "plan_definition"]

# What a line's activity definition says of its role, when the source states one.
ROLE_USAGE = {"supportive": "Supportive care", "anticancer": "Anticancer treatment"}

# The cycle facts the action's timing already carries (its length, count, or that it repeats).
_TIMED_FACTS = ("Cycle length: ", "Repeated until a stop rule applies")


def _words(lines: Sequence[str]) -> str:
    return "\n\n".join(lines)


def _instructions(lines: Sequence[str]) -> list[Json]:
    return [{"url": ig.PLAN_INSTRUCTIONS, "valueMarkdown": _words(lines)}] if lines else []


def _details(section: str, header: str, lines: Sequence[str]) -> list[Json]:
    if not lines:
        return []
    parts = [
        {"url": "sectionId", "valueString": section},
        {"url": "sectionHeader", "valueString": header},
        {"url": "sectionContent", "valueString": _words(lines)},
    ]
    return [{"url": ig.ADDITIONAL_DETAILS, "extension": parts}]


class _Writer:
    def __init__(self, compiled: Compiled, view: PageView) -> None:
        self.regimen = compiled.regimen
        self.view = view
        self.status = STATUS[self.regimen.status]
        self.contained: list[Json] = []

    # -- a plan definition's identity ---------------------------------------------------------------

    def definition(
        self, meta: ir.Meta, support: ir.Support, references: Sequence[ir.Reference], lines: Sequence[str]
    ) -> Json:
        """Return the identity, classification, extensions and citations of the regimen or of a part."""
        out: Json = {"resourceType": "PlanDefinition", "meta": {"profile": [ig.CCA_PLAN]}}
        title = meta.get("title") or meta.get("name") or self.regimen.name
        out["text"] = narrative(title, meta.get("subtitle"), lines, "extensions")
        ext: list[Json] = []
        if meta.setting is not None:
            ext.append({"url": ig.SETTING, "valueCodeableConcept": concept(meta.setting)})
        if meta.overview is not None:
            ext.append({"url": ig.PLAN_INSTRUCTIONS, "valueMarkdown": meta.overview})
        reviewed = [f for f in meta.footnotes if f.name == "reviewed"]
        if reviewed:
            ext.append({"url": ig.DISCLAIMER, "valueMarkdown": reviewed[0].text})
        for factor in support.factors:
            ext.append({"url": ig.SUPPORT_FACTOR, "extension": _factor(factor)})
        if meta.superseded_by:
            ext.append({"url": ig.REPLACED_BY, "valueReference": {"reference": f"PlanDefinition/{meta.superseded_by}"}})
        notes = [note_text(n) for n in support.notes]
        ext += _details("supportive-care", "Supportive care", notes)
        others = [f"{f.marker} {f.text}" for f in meta.footnotes if f.name != "reviewed"]
        ext += _details("footnotes", "Footnotes", others)
        known = {key for key, _ in FIELDS} | {"author", "medicine-code-system"}
        ext += _details("fields", "Details", [f"{k}: {v}" for k, v in meta.fields if k not in known])
        if ext:
            out["extension"] = ext
        out |= identity(meta, self.status)
        if self.regimen.status is ir.Status.PROVISIONAL:
            out["_status"] = {"extension": [{"url": ig.ADDITIONAL_STATUS, "valueCode": "review"}]}
        if references:
            out["relatedArtifact"] = citations(references)
        return out

    # -- cycles, order sets, activity definitions ----------------------------------------------------

    def activity(self, key: str, line: ir.Administration, system: str) -> str:
        """Contain the line's activity definition; return its id."""
        ident = key
        out: Json = {
            "resourceType": "ActivityDefinition",
            "id": ident,
            "meta": {"profile": [ig.CCA_ACTIVITY]},
            "text": narrative(line.medicine.display, None, [dosage(line, bound=True)["text"]], "extensions"),
            "extension": [{"url": ig.OFF_LABEL, "valueBoolean": line.off_label}],
            "name": "Orderset_" + ident.replace("-", "_"),
            "status": self.status,
        }
        if line.role_stated:
            out["usage"] = ROLE_USAGE[line.role]
        out["productCodeableConcept"] = product(line, system)
        if line.volume is not None:
            out["quantity"] = quantity(line.volume.amount, line.volume.unit)
        out["dosage"] = [dosage(line, bound=True)]
        self.contained.append(out)
        return ident

    def cycle(self, key: str, ordinal: int, view: CycleView, system: str) -> Json:
        group = view.group
        repeat = cycle_repeat(group)
        facts = [f for f in view.facts[1:] if not f.startswith(_TIMED_FACTS) and f != f"{group.count} cycles"]
        facts += [note_text(n) for n in group.notes]
        timing = timing_words(view)
        orders = []
        for i, line in enumerate(group.administrations):
            days = [{"url": "day", "valueInteger": day} for day in line.days]
            tod = []
            for day in days:
                parts = [day]
                if line.instructions is not None:
                    parts.append({"url": "instructions", "valueString": line.instructions})
                tod.append({"url": ig.TIMING_OF_DAYS, "extension": parts})
            row = view.rows[i]
            marks = row.marks[1:] if line.off_label else row.marks  # off-label is sact-off-label; s29 is not
            details = [d for d in row.details if not d.startswith("in ")]  # the volume is the quantity
            words = [m.title for m in marks] + details + timing.get(i, [])
            order: Json = {
                "id": f"{key}-l{i + 1}",
                "extension": _instructions(words) + tod,
                "definitionCanonical": "#" + self.activity(f"{key}-l{i + 1}", line, system),
            }
            orders.append(order)
        out: Json = {"id": key, "prefix": str(ordinal), "description": group.heading}
        if facts:
            out["extension"] = _instructions(facts)
        out |= {"timingTiming": {"repeat": repeat}, "selectionBehavior": "all", "action": orders}
        return out

    def cycles(self, key: str, part: ir.Part, view: PartView, system: str) -> list[Json]:
        """Return the one action of a plan of cycle groups: the cycle, or one pointing to each group's plan."""
        if len(view.cycles) == 1:
            return [self.cycle(f"{key}-g1", 1, view.cycles[0], system)]
        steps = []
        for g, cycle in enumerate(view.cycles, start=1):
            ident = f"{key}-g{g}"
            plan = {
                "resourceType": "PlanDefinition",
                "id": ident,
                "meta": {"profile": [ig.CCA_PLAN]},
                "text": narrative(cycle.heading, None, cycle.facts, "extensions"),
                "title": cycle.heading,
                "type": {"coding": [{"system": ig.PLAN_TYPE_SYSTEM, "code": "clinical-protocol"}]},
                "status": self.status,
                "action": [self.cycle(f"{ident}-c", g, cycle, system)],
            }
            self.contained.append(plan)
            steps.append({"title": cycle.heading, "definitionCanonical": "#" + ident})
        name = part.title or self.regimen.name
        return [{"title": name, "selectionBehavior": "all", "action": steps}]

    def build(self) -> Json:
        regimen = self.regimen
        system = regimen.meta.get("medicine-code-system") or NZMT_SYSTEM
        plan = [line.text for line in (*self.view.plan.flow, *self.view.plan.decisions)]
        plan += [line.text for line in (*self.view.plan.limits, *self.view.plan.stops)]
        root: Json = {"id": regimen.id}
        root |= self.definition(regimen.meta, regimen.support, regimen.references, ())
        root.setdefault("extension", []).extend(_details("plan", "Plan", plan))
        if not root["extension"]:
            del root["extension"]
        if regimen.parts and regimen.parts[0].number is None:
            ((part, view),) = zip(regimen.parts, self.view.parts, strict=True)
            action = self.cycles("p1", part, view, system)
        else:
            steps = []
            for part, view in zip(regimen.parts, self.view.parts, strict=True):
                ident = f"part-{part.number}"
                part_system = part.meta.get("medicine-code-system") or system
                sub: Json = {"id": ident} | self.definition(part.meta, part.support, part.references, view.facts)
                sub["action"] = self.cycles(ident, part, view, part_system)
                self.contained.append(sub)
                step: Json = {"title": view.heading or ident}
                if part.start is not None:
                    step["extension"] = _instructions([view.facts[0].removeprefix("Start: ")])
                step |= {"selectionBehavior": "all", "definitionCanonical": "#" + ident}
                steps.append(step)
            action = [{"title": regimen.name, "selectionBehavior": "all", "action": steps}]
        root["action"] = action
        ordered: Json = {"resourceType": "PlanDefinition", "id": regimen.id, "meta": root.pop("meta")}
        ordered["text"] = root.pop("text")
        if self.contained:
            ordered["contained"] = self.contained
        ordered |= {k: v for k, v in root.items() if k not in ordered}
        return ordered


def _factor(factor: ir.SupportFactor) -> list[Json]:
    parts = []
    for name, coding, text in (
        ("factor", factor.factor, factor.factor_text),
        ("value", factor.value, factor.value_text),
    ):
        parts.append({"url": name, "valueCodeableConcept": coded(coding, text)})
    return parts


def plan_definition(compiled: Compiled, context: RenderContext) -> Json:
    """Return the regimen as a ``CcaPlanDefinition`` (its parts, groups and activity definitions contained in it)."""
    return _Writer(compiled, build_view(compiled, context)).build()
