"""Fidelity of the FHIR transcriptions: every element of the NZ SACT regimens is in the model.

Each of the four regimens in ``shared/corpus/nz-fhir`` (HL7 FHIR R4 ``PlanDefinition``) was
transcribed by hand into a ``.reg`` file under ``regimens/``. This test lowers that file with the
project's own API and walks the JSON: every leaf element is either compared with the model field
it belongs to (a dose with the dose of that administration, a day's instructions with the line
given on that day, a support factor with the factor at the same position...), or it is pure
structure, listed in ``STRUCTURE`` with the reason it is implied. Only ``id``, ``meta`` and the
root ``text`` narrative are left out. A leaf no check reads fails the test, so nothing in the
source can be skipped silently, and a source that grows an element must grow a check.
"""

from __future__ import annotations

import copy
import datetime
import functools
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from regdsl.compile.library import check_paths
from regdsl.diagnostics import Severity
from regdsl.fhir import ig
from regdsl.model import ir
from regdsl.model.vocabulary import NZMT_SYSTEM, SNOMED, UCUM, Basis, Unit
from tests.conftest import ROOT, shared

REGIMENS = ROOT / "regimens"

# source file -> the regimen transcribed from it
CASES: dict[str, str] = {
    "52331000210102.json": "lung-nsclc-metastatic-alectinib",
    "52401000210103.json": "lung-nsclc-non-metastatic-alectinib",
    "52451000210102.json": "gu-pros-crpc-metastatic-abiraterone-dexamethasone",
    "60071000210106.json": "gyn-end-adjuvant-cisplatin-chemoradiation-carboplatin-paclitaxel",
}

# The extensions of the NZ library's files, as regdsl.fhir.ig names them.
SACT = ig.EXTENSION_BASE
SETTING = ig.SETTING
PLAN_INSTRUCTIONS = ig.PLAN_INSTRUCTIONS
DISCLAIMER = ig.DISCLAIMER
SUPPORT_FACTOR = ig.SUPPORT_FACTOR
CHILD_DETAILS = ig.CHILD_DETAILS
TIMING_OF_DAYS = ig.TIMING_OF_DAYS
OFF_LABEL = ig.OFF_LABEL
SUPPORTIVE = ig.SUPPORTIVE

# Minutes per UCUM-style unit of a rateRange bound, as the library writes them.
RATE_UNITS = {"Min": 1, "H": 60}


@dataclass(frozen=True)
class Implied:
    """A structural element: the values it may take (None: checked by the caller) and why it is implied."""

    values: frozenset[object] | None
    reason: str


STRUCTURE: dict[str, Implied] = {
    "resource-type": Implied(
        frozenset({"PlanDefinition", "ActivityDefinition"}),
        "the kind of resource: a regimen or a part is a PlanDefinition (ir.Regimen, ir.Part), "
        "an order set an ActivityDefinition (ir.Administration)",
    ),
    "plan-type-system": Implied(
        frozenset({"http://terminology.hl7.org/CodeSystem/plan-definition-type"}),
        "the code system of the plan type below",
    ),
    "plan-type-code": Implied(
        frozenset({"clinical-protocol"}),
        "every regimen is a clinical protocol: a .reg file describes nothing else",
    ),
    "extension-url": Implied(
        frozenset(
            {
                SETTING,
                PLAN_INSTRUCTIONS,
                DISCLAIMER,
                SUPPORT_FACTOR,
                CHILD_DETAILS,
                TIMING_OF_DAYS,
                OFF_LABEL,
                SUPPORTIVE,
            }
        ),
        "names the extension; its value is checked at the model place the name selects",
    ),
    "sub-extension-url": Implied(
        frozenset({"factor", "value", "day", "instructions"}),
        "names the part of a complex extension; its value is checked at its model place",
    ),
    "use-context-system": Implied(
        frozenset({"http://terminology.hl7.org/CodeSystem/usage-context-type"}),
        "the code system of the use-context kind below",
    ),
    "use-context-code": Implied(
        frozenset({"focus"}),
        "every useContext is a focus: one level of the cancer classification (Meta.cancer), checked there",
    ),
    "term-system": Implied(
        frozenset({SNOMED}),
        "cancer and setting codes (ir.Term.code) are SNOMED CT codes, as the vocabulary brief fixes",
    ),
    "selection-behavior": Implied(
        frozenset({"all"}),
        "every administration of a cycle, and every part of a regimen, is given: the model knows no other selection",
    ),
    "duration-unit": Implied(
        frozenset({"d"}),
        "cycle lengths are whole days (CycleGroup.length_days)",
    ),
    "rate-system": Implied(
        frozenset({UCUM}),
        "the system of the Min/H unit by which rateRange.high is converted to max_minutes",
    ),
    "citation-type": Implied(
        frozenset({"citation"}),
        "every related artifact is a citation: an ir.Reference",
    ),
    "orderset-name": Implied(
        None,
        "'Orderset_' + the ActivityDefinition's id with '_' for '-' (asserted): an identifier, not a fact",
    ),
    "definition-canonical": Implied(
        None,
        "'#' + the id of a contained definition (asserted): the test follows it and checks that definition",
    ),
    "activity-status": Implied(
        frozenset({"active"}),
        "an order set of a published regimen is active; asserted with the owning plan's status (`published`)",
    ),
    "part-description": Implied(
        frozenset({""}),
        "empty: a part's action says nothing beyond its title; the part's description is checked in its meta",
    ),
    "narrative-status": Implied(
        frozenset({"extensions"}),
        "the status of a part's generated narrative (below)",
    ),
    "narrative-div": Implied(
        None,
        "a part's generated XHTML narrative, rendered from the structured elements checked here, like the "
        "root narrative the test leaves out; its heading is compared with the part's title and subtitle",
    ),
}


# -- reading the JSON, and recording what was read ---------------------------------------------


@dataclass
class Ledger:
    """Which leaf elements were compared with the model, and which were taken as structure."""

    checked: set[str] = field(default_factory=set)
    implied: dict[str, str] = field(default_factory=dict)


class J:
    """A JSON node that records every leaf the checks read, by its path."""

    __slots__ = ("log", "path", "raw")

    def __init__(self, raw: Any, path: str, log: Ledger) -> None:
        self.raw = raw
        self.path = path
        self.log = log

    def _child(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def __getitem__(self, key: str) -> J:
        assert isinstance(self.raw, dict), f"{self.path} is not an object"
        assert key in self.raw, f"{self.path} has no {key!r}"
        return J(self.raw[key], self._child(key), self.log)

    def get(self, key: str) -> J | None:
        assert isinstance(self.raw, dict), f"{self.path} is not an object"
        return self[key] if key in self.raw else None

    def __contains__(self, key: str) -> bool:
        return isinstance(self.raw, dict) and key in self.raw

    def __iter__(self) -> Iterator[J]:
        assert isinstance(self.raw, list), f"{self.path} is not a list"
        for i, item in enumerate(self.raw):
            yield J(item, f"{self.path}[{i}]", self.log)

    def __len__(self) -> int:
        assert isinstance(self.raw, list), f"{self.path} is not a list"
        return len(self.raw)

    def items(self) -> list[J]:
        """Return the list's elements."""
        return list(self)

    def one(self) -> J:
        """Return the only element of a list."""
        assert len(self) == 1, f"{self.path}: expected one element, found {len(self)}"
        return next(iter(self))

    def _leaf(self) -> Any:
        assert not isinstance(self.raw, dict | list), f"{self.path} is not a leaf"
        self.log.checked.add(self.path)
        return self.raw

    def text(self) -> str:
        """Return the string value, recorded as checked."""
        value = self._leaf()
        assert isinstance(value, str), f"{self.path}: {value!r} is not a string"
        return value

    def integer(self) -> int:
        """Return the integer value, recorded as checked."""
        value = self._leaf()
        assert not isinstance(value, bool), f"{self.path}: {value!r} is not an integer"
        assert isinstance(value, int), f"{self.path}: {value!r} is not an integer"
        return value

    def number(self) -> Decimal:
        """Return the numeric value exactly (fractions are parsed as decimals), recorded as checked."""
        value = self._leaf()
        assert not isinstance(value, bool), f"{self.path}: {value!r} is not a number"
        assert isinstance(value, int | Decimal), f"{self.path}: {value!r} is not a number"
        return Decimal(value)

    def flag(self) -> bool:
        """Return the boolean value, recorded as checked."""
        value = self._leaf()
        assert isinstance(value, bool), f"{self.path}: {value!r} is not a boolean"
        return value

    def implied(self, key: str) -> Any:
        """Record a structural leaf, asserting it has a value ``STRUCTURE[key]`` allows."""
        assert not isinstance(self.raw, dict | list), f"{self.path} is not a leaf"
        rule = STRUCTURE[key]
        if rule.values is not None:
            assert self.raw in rule.values, f"{self.path}: {self.raw!r} is not one of {sorted(map(str, rule.values))}"
        self.log.implied[self.path] = key
        return self.raw


def leaf_paths(node: Any, path: str = "") -> Iterator[str]:
    """Yield every leaf element of ``node`` except ``id`` and ``meta`` anywhere and the root ``text``."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            if key in {"id", "meta"} or (not path and key == "text"):
                continue
            yield from leaf_paths(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list) and node:
        for i, value in enumerate(node):
            yield from leaf_paths(value, f"{path}[{i}]")
    else:
        yield path


# -- small helpers -----------------------------------------------------------------------------


def collapse(text: str) -> str:
    """Collapse white space, as the language brief compares prose with the FHIR HTML."""
    return " ".join(text.split())


def html_text(fragment: str) -> str:
    """Return the text of an HTML fragment: tags dropped, entities decoded, white space collapsed."""
    return collapse(html.unescape(re.sub(r"<[^>]*>", " ", fragment)))


def extensions(node: J) -> dict[str, list[J]]:
    """Return the node's extensions by url (each url recorded as structure)."""
    found: dict[str, list[J]] = {}
    ext = node.get("extension")
    for item in ext or []:
        url = item["url"].implied("extension-url")
        found.setdefault(url, []).append(item)
    return found


def value_of(item: J) -> J:
    """Return the one ``value[x]`` of an extension."""
    assert isinstance(item.raw, dict)
    keys = [k for k in item.raw if k.startswith("value")]
    assert len(keys) == 1, f"{item.path}: expected one value[x], found {keys}"
    return item[keys[0]]


def parts_of(item: J) -> dict[str, J]:
    """Return the values of a complex extension's parts, by the part's url."""
    out: dict[str, J] = {}
    for sub in item["extension"]:
        out[sub["url"].implied("sub-extension-url")] = value_of(sub)
    return out


def unit_label(unit: Unit) -> str:
    """Return how the library labels a unit: its SNOMED CT term, except that a percentage is ``%``."""
    return unit.display if unit.basis is Basis.CONCENTRATION else unit.term


def duration_label(minutes: int) -> str:
    """Return how the library words an infusion time: ``60 minutes``, ``3 hours``."""
    return f"{minutes // 60} hours" if minutes > 60 and minutes % 60 == 0 else f"{minutes} minutes"


def accessed_dates(display: str) -> tuple[str, ...]:
    """Return the ISO dates of every ``(Accessed 02 December 2020)`` in a citation."""
    return tuple(
        datetime.datetime.strptime(when, "%d %B %Y").date().isoformat()
        for when in re.findall(r"\(Accessed (\d{1,2} \w+ \d{4})\)", display)
    )


@functools.cache
def lowered(regimen_id: str) -> ir.Regimen:
    """Lower ``regimens/<id>.reg``, which must check without errors or warnings."""
    result = check_paths([REGIMENS / f"{regimen_id}.reg"])
    serious = [d for d in result.diagnostics if d.level is not Severity.INFO]
    assert not serious, [f"{d.span.line}: {d.message}" for d in serious]
    (regimen,) = result.regimens
    assert regimen.id == regimen_id
    return regimen


def load(name: str) -> dict[str, Any]:
    """Read a source regimen, numbers with a fraction exactly as decimals."""
    data = json.loads(shared("corpus", "nz-fhir", name).read_text(encoding="utf-8"), parse_float=Decimal)
    assert isinstance(data, dict)
    return data


# -- the checks, one per kind of FHIR element --------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where a PlanDefinition's facts live in the model."""

    meta: ir.Meta
    support: ir.Support
    references: tuple[ir.Reference, ...]
    code_system: str


def check_definition(plan: J, scope: Scope, *, narrative: bool) -> None:
    """Check the identity, classification, extensions and citations of a regimen or part."""
    meta = scope.meta
    plan["resourceType"].implied("resource-type")
    assert plan["resourceType"].raw == "PlanDefinition"
    if narrative:
        text = plan["text"]
        text["status"].implied("narrative-status")
        div = text["div"].implied("narrative-div")
        heading = re.search(r'<h1 title="([^"]*)">(.*?)</h1>', div)
        assert heading is not None, f"{text.path}: no heading"
        assert html.unescape(heading[1]) == meta.get("subtitle")
        assert html.unescape(heading[2]) == meta.get("title")

    expected_keys: set[str] = set()
    for key in ("url", "version", "name", "title", "subtitle", "description", "publisher", "copyright"):
        if key in plan:
            assert meta.get(key) == plan[key].text(), key
            expected_keys.add(key)
    for key, field_name in (("date", "date"), ("approvalDate", "approved"), ("lastReviewDate", "last-reviewed")):
        if key in plan:
            assert meta.get(field_name) == plan[key].text(), key
            expected_keys.add(field_name)
    author = plan["author"].one()
    assert meta.get("author") == author["name"].text()
    expected_keys.add("author")
    extra = {k for k, _ in meta.fields} - expected_keys - {"medicine-code-system"}
    assert not extra, f"the model has fields the source does not: {extra}"

    assert plan["status"].text() == "active"
    assert meta.status is ir.Status.PUBLISHED

    assert meta.identifiers == tuple((i["system"].text(), i["value"].text()) for i in plan["identifier"])

    kind = plan["type"]["coding"].one()
    kind["system"].implied("plan-type-system")
    kind["code"].implied("plan-type-code")

    contexts = plan["useContext"].items()
    assert len(meta.cancer) == len(contexts)
    for term, context in zip(meta.cancer, contexts, strict=True):
        context["code"]["system"].implied("use-context-system")
        context["code"]["code"].implied("use-context-code")
        concept = context["valueCodeableConcept"]
        coding = concept["coding"].one()
        coding["system"].implied("term-system")
        assert term.code == coding["code"].text()
        assert term.text == concept["text"].text()

    ext = extensions(plan)
    assert set(ext) <= {SETTING, PLAN_INSTRUCTIONS, DISCLAIMER, SUPPORT_FACTOR}, sorted(ext)
    if SETTING in ext:
        (setting,) = ext[SETTING]
        concept = value_of(setting)
        coding = concept["coding"].one()
        coding["system"].implied("term-system")
        assert meta.setting is not None
        assert meta.setting.code == coding["code"].text()
        assert meta.setting.text == concept["text"].text()
    else:
        assert meta.setting is None
    if PLAN_INSTRUCTIONS in ext:
        (instructions,) = ext[PLAN_INSTRUCTIONS]
        assert meta.overview is not None
        assert collapse(meta.overview) == html_text(value_of(instructions).text())
    else:
        assert meta.overview is None
    (disclaimer,) = ext[DISCLAIMER]
    reviewed = [f for f in meta.footnotes if f.name == "reviewed"]
    assert [f.text for f in reviewed] == [value_of(disclaimer).text()]
    assert [f.name for f in meta.footnotes] == ["reviewed"]

    factors = ext.get(SUPPORT_FACTOR, [])
    assert len(scope.support.factors) == len(factors)
    assert scope.support.notes == ()
    for factor, item in zip(scope.support.factors, factors, strict=True):
        values = parts_of(item)
        assert set(values) == {"factor", "value"}
        for coding_node, concept in ((factor.factor, values["factor"]), (factor.value, values["value"])):
            coding = concept["coding"].one()
            assert coding_node is not None, f"{concept.path}: the model has no code here"
            assert coding_node.system == coding["system"].text()
            assert coding_node.code == coding["code"].text()
        assert factor.factor_text == values["factor"]["text"].text()
        assert factor.value_text == values["value"]["text"].text()

    artifacts = plan["relatedArtifact"].items()
    assert len(scope.references) == len(artifacts)
    for ref, art in zip(scope.references, artifacts, strict=True):
        art["type"].implied("citation-type")
        display = art["display"].text()
        assert ref.text == display
        assert ref.urls == ((art["url"].text(),) if "url" in art else ())
        assert ref.pmids == tuple(re.findall(r"PMID: (\d+)", display))
        assert ref.accessed == accessed_dates(display)


def contained_by_id(plan: J) -> dict[str, J]:
    """Return the plan's contained resources by id (``id`` itself is not an element the test checks)."""
    found = {}
    for item in plan.get("contained") or []:
        assert isinstance(item.raw, dict)
        found[str(item.raw["id"])] = item
    return found


def follow(action: J, contained: dict[str, J]) -> J:
    """Return the contained definition an action points to."""
    target = action["definitionCanonical"].implied("definition-canonical")
    assert isinstance(target, str), target
    assert target.startswith("#"), target
    assert target[1:] in contained, target
    return contained[target[1:]]


def check_cycles(plan: J, part: ir.Part, scope: Scope) -> None:
    """Check the plan's cycle actions against the part's cycle groups, order set by order set."""
    contained = contained_by_id(plan)
    actions = plan["action"].items()
    assert len(part.cycles) == len(actions)
    for ordinal, (group, action) in enumerate(zip(part.cycles, actions, strict=True), 1):
        assert int(action["prefix"].text()) == ordinal
        assert group.heading == action["description"].text()
        repeat = action["timingTiming"]["repeat"]
        assert group.length_days == repeat["duration"].integer()
        repeat["durationUnit"].implied("duration-unit")
        assert group.count == (repeat["count"].integer() if "count" in repeat else None)
        assert group.open_ended == ("count" not in repeat)
        assert group.extend_to_days is None
        assert group.notes == ()
        assert group.observations == ()
        assert group.gaps == ()
        action["selectionBehavior"].implied("selection-behavior")
        check_order_sets(action["action"].items(), group, contained, scope)


def check_order_sets(orders: list[J], group: ir.CycleGroup, contained: dict[str, J], scope: Scope) -> None:
    """Check that each order set is one or more lines of the cycle (one per distinct day instruction), in order."""
    remaining = list(group.administrations)
    for order in orders:
        definition = follow(order, contained)
        code = definition["productCodeableConcept"]["coding"].one()["code"].raw
        ext = extensions(order)
        assert set(ext) == {TIMING_OF_DAYS}, sorted(ext)
        days = [parts_of(item) for item in ext[TIMING_OF_DAYS]]
        wanted = [d["day"].integer() for d in days]
        assert len(set(wanted)) == len(wanted), f"{order.path}: a day twice"
        lines: list[ir.Administration] = []
        covered: set[int] = set()
        while covered != set(wanted):
            assert remaining, f"{order.path}: the cycle has no line for days {sorted(set(wanted) - covered)}"
            line = remaining.pop(0)
            assert line.medicine.nzmt == code, f"{order.path}: expected NZMT {code}, found {line.medicine.display}"
            assert set(line.days) <= set(wanted), line.days
            assert not set(line.days) & covered, line.days
            lines.append(line)
            covered |= set(line.days)
        for day in days:
            (line,) = [x for x in lines if day["day"].raw in x.days]
            assert line.instructions == day["instructions"].text()
            assert line.shift_days is None
        for line in lines:
            check_activity(definition, line, scope)
    assert not remaining, f"lines the source does not have: {[a.medicine.display for a in remaining]}"


def check_activity(definition: J, line: ir.Administration, scope: Scope) -> None:
    """Check an ActivityDefinition: medicine, dose, route, frequency, timing bounds and flags of one line."""
    definition["resourceType"].implied("resource-type")
    assert definition["resourceType"].raw == "ActivityDefinition"
    name = definition["name"].implied("orderset-name")
    assert isinstance(definition.raw, dict)
    assert name == "Orderset_" + str(definition.raw["id"]).replace("-", "_")
    definition["status"].implied("activity-status")
    assert scope.meta.status is ir.Status.PUBLISHED

    product = definition["productCodeableConcept"]
    coding = product["coding"].one()
    assert scope.code_system == coding["system"].text()
    assert line.medicine.nzmt == coding["code"].text()
    assert line.medicine.display == coding["display"].text()
    assert line.medicine.display == product["text"].text()

    ext = extensions(definition)
    assert set(ext) <= {OFF_LABEL, SUPPORTIVE}, sorted(ext)
    (off_label,) = ext[OFF_LABEL]
    assert line.off_label == value_of(off_label).flag()
    if SUPPORTIVE in ext:
        (supportive,) = ext[SUPPORTIVE]
        assert line.role_stated
        assert line.role == ("supportive" if value_of(supportive).flag() else "anticancer")
    else:
        assert not line.role_stated
    assert not line.s29

    quantity = definition.get("quantity")
    if quantity is None:
        assert line.volume is None
    else:
        assert line.volume is not None
        assert line.volume.amount == quantity["value"].number()
        assert unit_label(line.volume.unit) == quantity["unit"].text()
        assert line.volume.unit.coding.system == quantity["system"].text()
        assert line.volume.unit.code == quantity["code"].text()

    dosage = definition["dosage"].one()
    timing = dosage.get("timing")
    if timing is None:
        assert line.frequency is None
    else:
        assert line.frequency is not None
        known = {(c.system, c.code) for c in line.frequency.codings}
        for freq in timing["code"]["coding"]:
            assert (freq["system"].text(), freq["code"].text()) in known, freq.path
        assert line.frequency.term == timing["code"]["text"].text()
    assert line.prn == (dosage["asNeededBoolean"].flag() if "asNeededBoolean" in dosage else False)

    route = dosage["route"]
    route_coding = route["coding"].one()
    assert line.route is not None
    assert line.route.coding.system == route_coding["system"].text()
    assert line.route.code == route_coding["code"].text()
    assert line.route.term == route["text"].text()

    rate = dosage["doseAndRate"].one()
    dose = rate["doseQuantity"]
    assert line.dose.amount == dose["value"].number()
    assert unit_label(line.dose.unit) + (" flat" if line.dose.flat else "") == dose["unit"].text()
    assert line.dose.unit.coding.system == dose["system"].text()
    assert line.dose.unit.code == dose["code"].text()
    bound = rate.get("rateRange")
    if bound is None:
        assert line.max_minutes is None
    else:
        high = bound["high"]
        high["system"].implied("rate-system")
        assert line.max_minutes == high["value"].integer() * RATE_UNITS[high["unit"].text()]
        assert not line.exact_duration

    words = [line.dose.text, unit_label(line.dose.unit)]
    if line.dose.flat:
        words.append("flat")
    if line.frequency is not None:
        words.append(line.frequency.term)
    if line.max_minutes is not None:
        words += ["over", duration_label(line.max_minutes)]
    words += ["by", line.route.term]
    assert " ".join(words) == dosage["text"].text()


def check_plan(regimen: ir.Regimen) -> None:
    """Check the plan: the sources state none, so there is none but the meaning of an open heading.

    An open-ended regimen carries only the rule its heading means in the library ("Cycle 1
    (and all further cycles)": until disease progression), which the ``.reg`` file marks as
    not from the source; any other plan would be a fact the source lacks.
    """
    if not any(group.open_ended for group in regimen.cycles()):
        assert regimen.plan == ir.Plan()
        return
    assert (regimen.plan.decisions, regimen.plan.limits) == ((), ())
    (stop,) = regimen.plan.stops
    assert stop.within is None
    assert isinstance(stop.cond, ir.ResponseIn)
    assert [code.text for code in stop.cond.codes] == ["PD"]


def check_regimen(doc: dict[str, Any], regimen: ir.Regimen) -> Ledger:
    """Check every element of ``doc`` against ``regimen``; return what was checked and what implied."""
    log = Ledger()
    root = J(doc, "", log)
    system = regimen.meta.get("medicine-code-system") or NZMT_SYSTEM
    scope = Scope(meta=regimen.meta, support=regimen.support, references=regimen.references, code_system=system)
    check_definition(root, scope, narrative=False)
    actions = root["action"].items()
    if all("title" in a for a in actions):  # a regimen in parts
        contained = contained_by_id(root)
        assert [p.number for p in regimen.parts] == list(range(1, len(actions) + 1))
        for part, action in zip(regimen.parts, actions, strict=True):
            assert f"Part {part.number}: {part.title}" == action["title"].text()
            action["description"].implied("part-description")
            action["selectionBehavior"].implied("selection-behavior")
            ext = extensions(action)
            assert set(ext) == {CHILD_DETAILS}, sorted(ext)
            (details,) = ext[CHILD_DETAILS]
            assert part.start is not None
            assert part.start.text is not None
            assert collapse(part.start.text) == html_text(value_of(details).text())
            sub = follow(action, contained)
            part_scope = Scope(
                meta=part.meta,
                support=part.support,
                references=part.references,
                code_system=part.meta.get("medicine-code-system") or system,
            )
            check_definition(sub, part_scope, narrative=True)
            check_cycles(sub, part, part_scope)
    else:
        (part,) = regimen.parts
        assert part.number is None
        check_cycles(root, part, scope)
    check_plan(regimen)

    leaves = set(leaf_paths(doc))
    handled = log.checked | set(log.implied)
    unhandled = sorted(leaves - handled)
    assert not unhandled, f"elements no check reads: {unhandled}"
    assert handled <= leaves, sorted(handled - leaves)
    assert not log.checked & set(log.implied)
    return log


# -- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "regimen_id"), sorted(CASES.items()))
def test_every_element_is_in_the_model(source: str, regimen_id: str) -> None:
    log = check_regimen(load(source), lowered(regimen_id))
    assert log.checked
    assert set(log.implied.values()) <= set(STRUCTURE)


def test_every_structure_rule_is_used() -> None:
    used: set[str] = set()
    for source, regimen_id in CASES.items():
        used.update(check_regimen(load(source), lowered(regimen_id)).implied.values())
    assert used == set(STRUCTURE)


@pytest.mark.parametrize(("source", "regimen_id"), sorted(CASES.items()))
def test_each_file_cites_its_source(source: str, regimen_id: str) -> None:
    head = (REGIMENS / f"{regimen_id}.reg").read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("#")
    assert source in head


ALECTINIB = "52331000210102.json"
GYN = "60071000210106.json"
Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[str | int, ...], value: object) -> Mutation:
    """Return a change setting the element at ``path`` (new keys included) to ``value``."""

    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _swap_factors(doc: dict[str, Any]) -> None:
    ext = doc["extension"]
    i, j = (n for n, e in enumerate(ext) if e["url"] == SUPPORT_FACTOR)
    ext[i], ext[j] = ext[j], ext[i]


def _drop_reference_url(doc: dict[str, Any]) -> None:
    del doc["relatedArtifact"][0]["url"]


def _drop_supportive(doc: dict[str, Any]) -> None:
    olanzapine = doc["contained"][0]["contained"][0]
    olanzapine["extension"] = [e for e in olanzapine["extension"] if e["url"] != SUPPORTIVE]


def _swap_olanzapine_days(doc: dict[str, Any]) -> None:
    days = doc["contained"][0]["action"][0]["action"][0]["extension"]
    first, second = days[0]["extension"][1], days[1]["extension"][1]
    assert first["valueMarkdown"] != second["valueMarkdown"]
    first["valueMarkdown"], second["valueMarkdown"] = second["valueMarkdown"], first["valueMarkdown"]


# One change each to a source; the check must then fail (so it is neither vacuous nor blind to a move).
MUTATIONS: dict[str, tuple[str, Mutation]] = {
    "unknown element": (ALECTINIB, _set(("contained", 0, "dosage", 0, "patientInstruction"), "with water")),
    "unknown extension": (ALECTINIB, _set(("contained", 2, "extension", 0, "url"), SACT + "sact-new")),
    "dose value": (ALECTINIB, _set(("contained", 0, "dosage", 0, "doseAndRate", 0, "doseQuantity", "value"), 601)),
    "dose unit": (ALECTINIB, _set(("contained", 0, "dosage", 0, "doseAndRate", 0, "doseQuantity", "unit"), "mg")),
    "day instructions": (
        ALECTINIB,
        _set(("action", 0, "action", 2, "extension", 0, "extension", 1, "valueString"), "When required."),
    ),
    "day moved": (ALECTINIB, _set(("action", 0, "action", 2, "extension", 0, "extension", 0, "valueInteger"), 2)),
    "factors swapped": (ALECTINIB, _swap_factors),
    "reference url dropped": (ALECTINIB, _drop_reference_url),
    "cycle length": (ALECTINIB, _set(("action", 0, "timingTiming", "repeat", "duration"), 21)),
    "cycle count": (ALECTINIB, _set(("action", 0, "timingTiming", "repeat", "count"), 6)),
    "part start": (GYN, _set(("action", 0, "extension", 0, "valueMarkdown"), "<p>Commence within 6 weeks.</p>")),
    "part version": (GYN, _set(("contained", 0, "version"), "0.0.6")),
    "part overview": (GYN, _set(("contained", 1, "extension", 0, "valueMarkdown"), "<p>Commence.</p>")),
    "part narrative": (GYN, _set(("contained", 1, "text", "div"), '<div><h1 title="x">y</h1></div>')),
    "as needed": (GYN, _set(("contained", 0, "contained", 10, "dosage", 0, "asNeededBoolean"), False)),
    "GTS code": (
        GYN,
        _set(("contained", 1, "contained", 11, "dosage", 0, "timing", "code", "coding", 1, "code"), "BID"),
    ),
    "off-label": (GYN, _set(("contained", 0, "contained", 7, "extension", 0, "valueBoolean"), False)),
    "supportive": (GYN, _drop_supportive),
    "volume": (GYN, _set(("contained", 0, "contained", 8, "quantity", "value"), 500)),
    "infusion time": (
        GYN,
        _set(("contained", 1, "contained", 8, "dosage", 0, "doseAndRate", 0, "rateRange", "high", "unit"), "Min"),
    ),
    "olanzapine instructions swapped between days": (GYN, _swap_olanzapine_days),
    "medicine code system": (
        GYN,
        _set(("contained", 0, "contained", 0, "productCodeableConcept", "coding", 0, "system"), NZMT_SYSTEM),
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_changed_source_fails(name: str) -> None:
    """The check is not vacuous: an element it does not know, or a value moved or changed, fails it."""
    source, mutate = MUTATIONS[name]
    doc = copy.deepcopy(load(source))
    mutate(doc)
    assert doc != load(source)
    with pytest.raises(AssertionError):
        check_regimen(doc, lowered(CASES[source]))


# Timing relations written where the instruction text states one, and what they must mean:
# (instruction text, direction, low, high in minutes, anchor kind, anchor, qualifier).
RELATIONS: list[tuple[str, str, int, int | None, str, str, str | None]] = [
    ("ONE hour prior to chemotherapy", "before", 60, 60, "chemotherapy", "chemotherapy", None),
    ("ONE hour prior to PACLItaxel infusion", "before", 60, 60, "drug", "paclitaxel", None),
    (
        "EIGHT hours after chemotherapy OR before bed",
        "after",
        480,
        480,
        "chemotherapy",
        "chemotherapy",
        "OR before bed",
    ),
    ("prior to cISplatin infusion", "before", 0, None, "drug", "cisplatin", None),
    ("After cISplatin infusion", "after", 0, None, "drug", "cisplatin", None),
    ("Take the night prior to PACLItaxel infusion", "before", 0, None, "drug", "paclitaxel", None),
]


@pytest.mark.parametrize("regimen_id", sorted(CASES.values()))
def test_timing_relations_follow_the_instructions(regimen_id: str) -> None:
    check_relations(lowered(regimen_id))


def check_relations(regimen: ir.Regimen) -> None:
    """Check that each line has the relations ``RELATIONS`` says its instruction text states, and no others."""
    for line in (a for g in regimen.cycles() for a in g.administrations):
        text = line.instructions or ""
        expected = [(d, lo, hi, kind, anchor, q) for phrase, d, lo, hi, kind, anchor, q in RELATIONS if phrase in text]
        found = [(r.direction, r.low, r.high, r.anchor_kind, r.anchor, r.qualifier) for r in line.relations]
        assert found == expected, f"{line.medicine.display} days {line.days}: {text!r}"
        if "night prior" in text:
            assert line.days == (0,)


def test_parts_start_as_their_instructions_say() -> None:
    regimen = lowered(CASES["60071000210106.json"])
    starts = [p.start for p in regimen.parts]
    assert all(s is not None for s in starts)
    found = [
        (s.relation.direction, s.relation.low, s.relation.high, s.relation.anchor, s.relation.point)
        for s in starts
        if s
    ]
    week = 7 * 24 * 60
    # "within 4 to 6 weeks of surgery": no later than 6 weeks; "within 3 weeks after completion of radiation".
    assert found == [("after", 0, 6 * week, "surgery", "end"), ("after", 0, 3 * week, "radiotherapy", "end")]
