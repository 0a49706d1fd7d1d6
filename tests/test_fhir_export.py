"""``regdsl export --to fhir``: every bundled regimen under both profiles, valid, deterministic, faithful.

Structure and types are checked with ``fhir.resources`` 6.4, the last release whose models
are FHIR R4 (4.0.1) itself (6.5 and later default to R4B, 7 and 8 to R5, with R4B beside it:
neither is the R4 the IG and the agency's files are written in). The invariants and the
CCA profiles' rules are ``regdsl.fhir.validate``'s, which the exporter also runs.

The four NZ regimens exported with ``--profile cca`` are read back by the fidelity test's
own walk (``tests/test_fidelity_fhir.check_regimen``), which checks every leaf of the
agency's file against the model: the export is first put back into the published shape
by undoing, one by one, only the published files' defects that the exporter does not
repeat (each undone step asserts what it finds), so every fact the walk checks of the
original is checked of the export, with the same values.
"""

from __future__ import annotations

import collections
import copy
import functools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.plandefinition import PlanDefinition  # type: ignore[import-untyped]

from regdsl.cli.main import main
from regdsl.compile.library import check_paths
from regdsl.fhir import ig
from regdsl.fhir.cca import ROLE_USAGE
from regdsl.fhir.core import (
    CONTINUOUS,
    COUNTED_WITH,
    ENDING,
    LANGUAGE,
    POSITION,
    QUALIFIER,
    RESPONSES,
    VIA,
    source_text,
)
from regdsl.fhir.export import MANIFEST, export_fhir
from regdsl.fhir.validate import conforms, invariants
from regdsl.model import ir
from regdsl.model.conditions import DEFAULT_RESPONSES
from tests import test_fidelity_fhir as fidelity
from tests.conftest import ROOT, check_golden
from tests.facts import compile_alone

REGIMENS = ROOT / "regimens"
BUNDLED = sorted(p for p in REGIMENS.glob("*.reg") if p.name != "library.reg")


@functools.cache
def files(profile: str) -> dict[str, bytes]:
    """Export every bundled regimen under ``profile``: each file's bytes, by name."""
    outcome, written = export_fhir([REGIMENS], profile)
    assert written is not None, [d.message for d in outcome.diagnostics if d.level.name == "ERROR"]
    return written


@functools.cache
def exported(profile: str) -> dict[str, dict[str, Any]]:
    """Export every bundled regimen under ``profile``: each resource, numbers with a fraction as decimals."""
    return {name: json.loads(data, parse_float=Decimal) for name, data in files(profile).items()}


# The NZ regimens under cca; under core, regimens with choices, decisions, windows, gaps, parts and relations.
GOLDEN = [("cca", regimen_id) for regimen_id in sorted(fidelity.CASES.values())] + [
    ("core", "leu-all-hyper-cvad"),
    ("core", "lym-hl-abvd-pet-adapted"),
    ("core", "leu-all-bcell-rr-inotuzumab"),
    ("core", "gyn-end-adjuvant-cisplatin-chemoradiation-carboplatin-paclitaxel"),
]


@pytest.mark.parametrize(("profile", "regimen_id"), GOLDEN)
def test_export_matches_its_golden(profile: str, regimen_id: str, update_goldens: bool) -> None:
    path = ROOT / "tests" / "fhir" / profile / f"{regimen_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    check_golden(path, files(profile)[f"{regimen_id}.json"].decode("utf-8"), update_goldens)


@pytest.mark.parametrize("profile", ["cca", "core"])
def test_every_bundled_regimen_exports_and_validates(profile: str) -> None:
    docs = exported(profile)
    assert sorted(docs) == sorted(f"{p.stem}.json" for p in BUNDLED)
    for name, doc in docs.items():
        plain = json.loads(json.dumps(doc, default=float))
        PlanDefinition.parse_obj(plain)  # R4 structure and types
        assert invariants(doc) == [], name
        if profile == "cca":
            assert conforms(doc) == [], name


# -- the validator is not blind: each rule fails on a resource that breaks it ------------------------------


def _alectinib() -> dict[str, Any]:
    return copy.deepcopy(exported("cca")["lung-nsclc-metastatic-alectinib.json"])


def _nest(doc: dict[str, Any]) -> None:
    doc["contained"][0]["contained"] = [doc["contained"].pop(1)]


BREAKS: dict[str, Callable[[dict[str, Any]], object]] = {
    "dom-2": _nest,
    "dom-3": lambda d: d["action"][0]["action"].pop(),
    "dom-4": lambda d: d["contained"][0]["meta"].update(versionId="1"),
    "dom-5": lambda d: d["contained"][0]["meta"].update(security=[{"code": "R"}]),
    "dom-6": lambda d: d["contained"][0].pop("text"),
    "ele-1": lambda d: d.update(description=""),
    "id": lambda d: d["contained"][0].update(id="p1|10"),
    "ext-1": lambda d: d["contained"][0]["extension"][0].update(extension=[{"url": "x", "valueString": "y"}]),
}


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_each_invariant_is_checked(rule: str) -> None:
    doc = _alectinib()
    assert invariants(doc) == []
    BREAKS[rule](doc)
    assert any(message.startswith(rule) for _path, message in invariants(doc)), invariants(doc)


PROFILE_BREAKS: dict[str, Callable[[dict[str, Any]], object]] = {
    "two actions": lambda d: d["action"].append(copy.deepcopy(d["action"][0])),
    "an element the profile removes": lambda d: d.update(goal=[{"description": {"text": "x"}}]),
    "an extension the IG does not define": lambda d: d["contained"][0]["extension"].append(
        {"url": ig.EXTENSION_BASE + "sact-is-supportive-care", "valueBoolean": True}
    ),
    "markdown where the IG defines a string": lambda d: (
        d["action"][0]["action"][0]["extension"][0]["extension"][1].update(valueMarkdown="x")
        or d["action"][0]["action"][0]["extension"][0]["extension"][1].pop("valueString")
    ),
    "a route outside the value set": lambda d: d["contained"][0]["dosage"][0]["route"]["coding"][0].update(
        code="26643006"
    ),
    "the plan type": lambda d: d["type"]["coding"][0].update(code="order-set"),
    "a required element missing": lambda d: d["contained"][0].pop("status"),
}


@pytest.mark.parametrize("name", sorted(PROFILE_BREAKS))
def test_each_profile_rule_is_checked(name: str) -> None:
    doc = _alectinib()
    assert conforms(doc) == []
    PROFILE_BREAKS[name](doc)
    assert conforms(doc), name


# -- deterministic bytes ---------------------------------------------------------------------------------


def test_same_bytes_whatever_the_hash_seed(tmp_path: Path) -> None:
    runs = []
    for seed in ("0", "1"):
        out = tmp_path / seed
        env = dict(os.environ, PYTHONHASHSEED=seed)
        command = [sys.executable, "-m", "regdsl", "export", str(REGIMENS), "--to", "fhir", "-o", str(out), "-q"]
        subprocess.run(command, env=env, check=True, capture_output=True)
        runs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert runs[0] == runs[1]
    assert len(runs[0]) == len(BUNDLED) + 1  # and the list of what the export wrote
    for data in runs[0].values():
        assert b"lastUpdated" not in data


# -- the command line ------------------------------------------------------------------------------------


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_one_regimen_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["export", str(REGIMENS / "leu-cml-imatinib.reg"), "--to", "fhir", "--profile", "core"]
    code, out, _err = _run(args, capsys)
    assert code == 0
    assert json.loads(out)["id"] == "leu-cml-imatinib"
    assert out.endswith("}\n")


def test_several_regimens_need_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(["export", str(REGIMENS), "--to", "fhir", "-q"], capsys)
    assert code == 2
    assert "-o" in err


def test_a_failing_check_exports_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.reg"
    bad.write_text('regimen bad "Bad"\n  nonsense here\n', encoding="utf-8")
    target = tmp_path / "out.json"
    code, out, _err = _run(["export", str(bad), "--to", "fhir", "-o", str(target)], capsys)
    assert code == 1
    assert not target.exists()
    assert out == ""


def test_never_replaces_what_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    theirs = out / "leu-cml-imatinib.json"
    theirs.write_text("mine", encoding="utf-8")
    code, _o, err = _run(["export", str(REGIMENS), "--to", "fhir", "-o", str(out), "-q"], capsys)
    assert code == 2
    assert "was not written by `regdsl export`" in err
    assert theirs.read_text(encoding="utf-8") == "mine"
    theirs.unlink()
    assert _run(["export", str(REGIMENS), "--to", "fhir", "-o", str(out), "-q"], capsys)[0] == 0
    assert _run(["export", str(REGIMENS), "--to", "fhir", "-o", str(out), "-q"], capsys)[0] == 0  # its own: replaced
    assert (out / MANIFEST).is_file()


def test_never_writes_a_file_it_read(capsys: pytest.CaptureFixture[str]) -> None:
    source = REGIMENS / "leu-cml-imatinib.reg"
    before = source.read_bytes()
    code, _o, _e = _run(["export", str(source), "--to", "fhir", "-o", str(source)], capsys)
    assert code == 2
    assert source.read_bytes() == before


# -- the NZ regimens: every fact the fidelity walk checks of the original, of the export --------------------

FOUR = sorted(fidelity.CASES.items())


def _published_shape(doc: dict[str, Any], regimen: ir.Regimen) -> dict[str, Any]:
    """Undo, on a copy of an export, exactly the published files' defects the exporter does not repeat."""
    doc = copy.deepcopy(doc)
    by_id = {c["id"]: c for c in doc.get("contained", [])}

    def take_words(node: dict[str, Any], url: str) -> list[str]:
        """Remove the free-text extensions the exporter adds (the pages' words of what the IG cannot carry)."""
        said = [e for e in node.get("extension", []) if e["url"] == url]
        node["extension"] = [e for e in node.get("extension", []) if e["url"] != url]
        if not node["extension"]:
            del node["extension"]
        return [e.get("valueMarkdown", "") for e in said]

    take_words(doc, ig.ADDITIONAL_DETAILS)
    for item in doc.get("contained", []):
        if item["resourceType"] == "ActivityDefinition":
            assert item.pop("text")["div"].startswith("<div")  # dom-6: the published files give none
            usage = item.pop("usage", None)  # the IG defines no sact-is-supportive-care: the role is usage text
            if usage is not None:
                flag = {"url": fidelity.SUPPORTIVE, "valueBoolean": usage == ROLE_USAGE["supportive"]}
                item["extension"].append(flag)

    def cycles_of(plan: dict[str, Any]) -> None:
        for cycle in plan["action"]:
            for order in cycle["action"]:
                take_words(order, ig.PLAN_INSTRUCTIONS)

    if regimen.parts[0].number is None:
        cycles_of(doc)
        return doc
    (wrapper,) = doc["action"]  # the profile allows one action: the parts are its actions
    assert wrapper["title"] == regimen.name
    doc["action"] = wrapper["action"]
    doc["contained"] = []
    for step in doc["action"]:
        (start,) = take_words(step, ig.PLAN_INSTRUCTIONS)  # the IG defines no sact-child-regimen-extra-details
        step["extension"] = [{"url": fidelity.CHILD_DETAILS, "valueMarkdown": start}]
        step["description"] = ""  # the published part's empty description (an empty string breaks ele-1)
        part = by_id[step["definitionCanonical"][1:]]
        cycles_of(part)
        wanted = {o["definitionCanonical"][1:] for c in part["action"] for o in c["action"]}
        part["contained"] = [by_id[i] for i in by_id if i in wanted]  # nested, as published (dom-2)
        doc["contained"].append(part)
    return doc


@pytest.mark.parametrize(("source", "regimen_id"), FOUR)
def test_the_nz_regimens_keep_every_checked_fact(source: str, regimen_id: str) -> None:
    regimen = fidelity.lowered(regimen_id)
    assert_keeps_checked_facts(exported("cca")[f"{regimen_id}.json"], regimen, source)


def assert_keeps_checked_facts(doc: dict[str, Any], regimen: ir.Regimen, source: str) -> None:
    """Assert the cca export ``doc`` of ``regimen`` holds every leaf the fidelity walk checks of ``source``."""
    log = fidelity.check_regimen(_published_shape(doc, regimen), regimen)
    original = fidelity.check_regimen(fidelity.load(source), regimen)
    assert set(log.implied.values()) <= set(fidelity.STRUCTURE)
    # Every kind of leaf checked of the original is checked of the export, as often or more (the export
    # also codes each frequency in HL7 GTS, and gives each line its own order set), but the defect:
    # the day instructions as markdown where the IG defines a string.
    markdown = "contained[].action[].action[].extension[].extension[].valueMarkdown"
    missing = _kinds(original.checked) - _kinds(log.checked)
    assert set(missing) <= {markdown}, missing
    assert missing[markdown] <= _kinds(log.checked)[markdown.replace("valueMarkdown", "valueString")]


def _kinds(paths: set[str]) -> collections.Counter[str]:
    """Count leaf paths by their shape (list positions left out)."""
    return collections.Counter(re.sub(r"\[\d+\]", "[]", path) for path in paths)


@pytest.mark.parametrize(("source", "regimen_id"), FOUR)
def test_the_export_repeats_none_of_the_defects(source: str, regimen_id: str) -> None:
    doc = exported("cca")[f"{regimen_id}.json"]
    assert invariants(doc) == []
    assert conforms(doc) == []
    assert invariants(fidelity.load(source)) or conforms(fidelity.load(source))  # the published file breaks some


# -- core: every fact of the IR is in the resource ---------------------------------------------------------


def _actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for action in actions:
        out.append(action)
        out += _actions(action.get("action", []))
    return out


def _minutes(quantity: dict[str, Any]) -> int:
    assert quantity["code"] == "min"
    return int(quantity["value"])


def _check_line(action: dict[str, Any], definition: dict[str, Any], line: ir.Administration, by_id: Any) -> None:
    """Check one line's every fact in its action and activity definition."""
    assert definition["productCodeableConcept"]["text"] == line.medicine.display
    if line.medicine.nzmt:
        assert definition["productCodeableConcept"]["coding"][0]["code"] == line.medicine.nzmt
    assert definition["usage"] == ("Supportive care" if line.role == "supportive" else "Anticancer treatment")
    (given,) = definition["dosage"]
    dose = given["doseAndRate"][0]["doseQuantity"]
    assert (Decimal(str(dose["value"])), dose["code"]) == (line.dose.amount, line.dose.unit.code)
    assert dose["unit"].endswith(" flat") == line.dose.flat
    if line.route is not None:
        assert given["route"]["coding"][0]["code"] == line.route.code
    if line.frequency is not None:
        assert {c["code"] for c in given["timing"]["code"]["coding"]} == {c.code for c in line.frequency.codings}
    assert given.get("asNeededBoolean", False) == line.prn
    for held, element in ((line.volume, definition.get("quantity")), (line.cap, given.get("maxDosePerAdministration"))):
        assert (held is None) == (element is None)
        if held is not None and element is not None:
            assert (Decimal(str(element["value"])), element["code"]) == (held.amount, held.unit.code)
    timing = action["timingTiming"]
    (days,) = timing["extension"]
    assert days["url"] == "http://hl7.org/fhir/StructureDefinition/timing-daysOfCycle"
    assert [d["valueInteger"] for d in days["extension"]] == list(line.days)
    repeat = timing.get("repeat", {})
    if line.max_minutes is not None:
        assert repeat.get("durationMax", repeat.get("duration")) == line.max_minutes
    if line.min_minutes is not None:
        assert repeat["duration"] == line.min_minutes
    if line.clock is not None:
        assert (repeat["period"], repeat["periodUnit"], repeat.get("count")) == (
            line.clock.interval,
            "min",
            line.clock.count,
        )
    said = action.get("textEquivalent", "")
    if line.instructions:
        assert line.instructions in said
    if line.off_label:
        assert "off-label" in said
    if line.s29:
        assert "section 29" in said
    assert (line.guard is not None) == ("condition" in action)
    if line.shift_days:
        windows = [a["timingRange"] for a in action["action"]]
        assert len(windows) == len(line.days)
        for day, window in zip(line.days, windows, strict=True):
            assert window["low"]["value"] <= day <= window["high"]["value"]
    related = action.get("relatedAction", [])
    for rel in line.relations:
        if rel.anchor_kind == "event":
            assert rel.anchor in said  # an outside event is said in the pages' words
            continue
        wanted = {"low": rel.low or None, "high": rel.high}
        found = [
            r
            for r in related
            if {k: _minutes(v) for k, v in r.get("offsetRange", {}).items()}
            == {k: v for k, v in wanted.items() if v} | ({"high": 0} if rel.high == 0 else {})
        ]
        anchored = any(by_id.get(r["actionId"]) is not None for r in found)
        assert anchored or rel.anchor in said.lower() or rel.anchor in said, (line.medicine.display, rel.anchor)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_core_carries_every_fact(path: Path) -> None:
    """Walk the regimen's IR and find each fact in the core resource, in the element that carries it."""
    result = check_paths([path])
    (regimen,) = result.regimens
    doc = exported("core")[f"{regimen.id}.json"]
    meta = regimen.meta
    contained = {c["id"]: c for c in doc.get("contained", [])}
    actions = _actions(doc["action"])
    by_id = {a["id"]: a for a in actions if "id" in a}
    for key, element in (("name", "name"), ("title", "title"), ("version", "version"), ("date", "date")):
        assert doc.get(element) == meta.get(key)
    assert [(i["system"], i["value"]) for i in doc.get("identifier", [])] == list(meta.identifiers)
    contexts = [c["valueCodeableConcept"]["text"] for c in doc.get("useContext", [])]
    assert contexts == [t.text for t in meta.cancer] + ([meta.setting.text] if meta.setting else [])
    assert doc["status"] == {"draft": "draft", "discontinued": "retired", "superseded": "retired"}.get(
        regimen.status.value, "active"
    )
    artifacts = doc.get("relatedArtifact", [])
    assert [a["display"] for a in artifacts if a["type"] == "citation"] == [r.text for r in regimen.references]
    assert [a["display"] for a in artifacts if a["type"] == "documentation"] == [f.text for f in meta.footnotes]
    assert [a["display"] for a in artifacts if a["type"] == "successor"] == (
        [meta.superseded_by] if meta.superseded_by else []
    )
    assert doc.get("usage") == meta.overview
    lines = [a for a in actions if "definitionCanonical" in a]
    admins = [a for g in regimen.cycles() for a in g.administrations]
    assert len(lines) == len(admins)
    for action, line in zip(lines, admins, strict=True):
        _check_line(action, contained[action["definitionCanonical"][1:]], line, by_id)
    groups = [a for a in actions if "prefix" in a]
    assert len(groups) == len(regimen.cycles())
    for action, group in zip(groups, regimen.cycles(), strict=True):
        assert action["title"] == group.heading
        repeat = action["timingTiming"]["repeat"]
        assert (repeat["duration"], repeat.get("count"), repeat.get("durationMax")) == (
            group.length_days,
            group.count,
            group.extend_to_days,
        )
        assert len(action.get("condition", [])) == len(group.gates)
        for note in group.notes:
            assert note.text in action["textEquivalent"]
        observed = [a for a in action["action"] if "timingDuration" in a]
        assert sorted(_minutes(a["timingDuration"]) for a in observed) == sorted(
            o.minutes
            for o in group.observations
            for line in group.administrations
            if o.medicine == line.medicine and (o.line is None or o.line == line.label)
        )
        gaps = [r for a in action["action"] for r in a.get("relatedAction", []) if r["actionId"] == a.get("id")]
        assert {r["offsetRange"]["low"]["value"] for r in gaps} == {g.days for g in group.gaps}
    parts = [a for a in doc["action"] if re.fullmatch(r"p\d+", a.get("id", ""))]
    numbered = [p for p in regimen.parts if p.number is not None]
    assert len(parts) == len(numbered)
    for action, part in zip(parts[1:], numbered[1:], strict=True):
        (rel,) = action["relatedAction"]
        if part.start is not None and part.start.relation.high is not None:
            assert _minutes(rel["offsetRange"]["high"]) == part.start.relation.high
    supports = [a for a in actions if "code" in a]
    factors = [f for p in regimen.parts for f in p.support.factors] + list(regimen.support.factors)
    assert sorted(a["title"] for a in supports) == sorted(f"{f.factor_text}: {f.value_text}" for f in factors)
    plan = regimen.plan
    decisions = [a for a in actions if a.get("selectionBehavior") == "exactly-one"]
    assert [len(d["action"]) for d in decisions] == [len(d.branches) for d in plan.decisions]
    for action, decision in zip(decisions, plan.decisions, strict=True):
        conditions = [b for b in action["action"] if "condition" in b]
        assert len(conditions) == sum(1 for b in decision.branches if b.cond is not None)
    assert sum(1 for a in actions if a.get("id", "").startswith("limit")) == len(plan.limits)
    assert sum(1 for a in actions if a.get("id", "").startswith("stop")) == len(plan.stops)


def _written(cond: ir.Cond) -> str:
    """Return the words ``cond`` was written in, its spaces collapsed.

    The span of a ``not (...)`` ends before its closing parenthesis (the syntax tree's, outside
    this test's area), so the parentheses it leaves open are closed.
    """
    words = " ".join(Path(cond.span[0]).read_text(encoding="utf-8")[cond.span[1] : cond.span[2]].split())
    return words + ")" * (words.count("(") - words.count(")"))


def _by_branch(variable: str, cond: ir.Cond) -> str:
    """Return a ``by VARIABLE:`` branch's test (``over 50 mL/min``, ``a, b``) as the condition it stands for."""
    words = _written(cond)
    if not isinstance(cond, ir.GroupIn):
        return f"{variable} {words}"
    values = words.split(", ")
    return f"{variable} is {words}" if len(values) == 1 else f"{variable} in ({words})"


def _conditions(regimen: ir.Regimen) -> list[tuple[ir.Cond, str]]:
    """Every condition written in ``regimen`` (gates, choices' branches, decisions, limits, stops), with its words."""
    groups = [group for part in regimen.parts for group in part.cycles]
    written: list[ir.Cond | None] = [gate.cond for group in groups for gate in group.gates]
    written += [
        branch.cond
        for group in groups
        for choice in group.choices
        if choice.variable is None
        for branch in choice.branches
    ]
    plan = regimen.plan
    written += [branch.cond for decision in plan.decisions for branch in decision.branches]
    written += [limit.cond for limit in plan.limits] + [stop.cond for stop in plan.stops]
    out = [(cond, _written(cond)) for cond in written if cond is not None]
    out += [
        (branch.cond, _by_branch(choice.variable, branch.cond))
        for group in groups
        for choice in group.choices
        if choice.variable is not None
        for branch in choice.branches
        if branch.cond is not None
    ]
    return out


def test_core_writes_each_condition_as_the_language_writes_it() -> None:
    """Each bundled condition's ``text/x-regdsl`` text is its source's words (spaces aside), so it parses back."""
    found = [
        (regimen.id, cond, words)
        for regimen in check_paths([REGIMENS]).regimens
        for cond, words in _conditions(regimen)
    ]
    assert len(found) > 20
    for ident, cond, words in found:
        assert source_text(cond) == words, ident


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every object in a JSON document, ``node`` first."""
    if isinstance(node, list):
        return [found for item in node for found in _walk(item)]
    if isinstance(node, dict):
        return [node, *(found for value in node.values() for found in _walk(value))]
    return []


def test_core_conditions_compute_in_the_language_and_describe_in_words() -> None:
    """Every core ``condition`` gives the language's text as its expression and the pages' words as its description."""
    found = 0
    for name, doc in exported("core").items():
        for node in _walk(doc):
            for condition in node.get("condition", []):
                expression = condition["expression"]
                assert expression["language"] == LANGUAGE, name
                assert expression["description"], name
                assert expression["expression"], name
                found += 1
    assert found > 20


_STOPS = [
    "(response is failure or toxicity is unacceptable) and cml-phase is chronic",
    "response is failure or toxicity is unacceptable and cml-phase is chronic",
    "not (response is failure or toxicity is unacceptable)",
    "not response in (failure, warning)",
    "cml-phase in (accelerated, blast) and not (response is warning and toxicity is unacceptable)",
]


def test_core_condition_text_keeps_the_parentheses_the_grammar_needs() -> None:
    """``and`` binds tighter than ``or``: the text has parentheses exactly where reading it back needs them."""
    source = (REGIMENS / "leu-cml-imatinib.reg").read_text(encoding="utf-8")
    stops = "".join(f"  stop if {cond}\n" for cond in _STOPS)
    compiled = compile_alone(
        source.replace("  stop if response is failure or toxicity is unacceptable\n", stops).encode()
    )
    assert compiled is not None
    assert [source_text(stop.cond) for stop in compiled.regimen.plan.stops] == _STOPS


def _said(rel: ir.Relation) -> set[tuple[str, object]]:
    """Return what a relation says beyond its type and offset, as the core extensions of its relatedActions hold it."""
    said: set[tuple[str, object]] = set()
    if rel.qualifier is not None:
        said.add((QUALIFIER, rel.qualifier))
    if rel.own_point == "end":
        said.add((ENDING, True))
    if rel.position is not None:
        said.add((POSITION, rel.position))
    if rel.via != "relation":
        said.add((VIA, rel.via))
    return said


def _core_actions() -> list[tuple[ir.Regimen, dict[str, dict[str, Any]]]]:
    """Each bundled regimen with the actions (and resources) of its core export, by id."""
    docs = exported("core")
    return [
        (regimen, {node["id"]: node for node in _walk(docs[f"{regimen.id}.json"]) if "id" in node})
        for regimen in check_paths([REGIMENS]).regimens
    ]


def _groups(regimen: ir.Regimen) -> list[tuple[str, ir.CycleGroup]]:
    """Each cycle group of ``regimen`` with the id of its core action (``p1-g2``)."""
    return [
        (f"p{p}-g{g}", group)
        for p, part in enumerate(regimen.parts, start=1)
        for g, group in enumerate(part.cycles, start=1)
    ]


def test_core_relations_carry_their_qualifier_ending_position_and_form() -> None:
    """Each line's relatedActions hold, in the core extensions, every qualifier, `ending`, first/last and `then`."""
    seen = 0
    for regimen, actions in _core_actions():
        for key, group in _groups(regimen):
            for i, line in enumerate(group.administrations, start=1):
                expected = {item for rel in line.relations for item in _said(rel)}
                found = {
                    (e["url"], e.get("valueString", e.get("valueBoolean", e.get("valueCode"))))
                    for r in actions[f"{key}-l{i}"].get("relatedAction", [])
                    for e in r.get("extension", [])
                }
                assert found == expected, (regimen.id, key, i)
                seen += len(expected)
    assert seen >= 19


def test_core_limits_and_stops_carry_what_they_count_with_and_within() -> None:
    """A limit's `counted with` regimens are its extensions; a stop rule's `within` is its timing, as a limit's is."""
    seen = 0
    for regimen, actions in _core_actions():
        for n, limit in enumerate(regimen.plan.limits, start=1):
            counted = [e["valueString"] for e in actions[f"limit{n}"].get("extension", []) if e["url"] == COUNTED_WITH]
            assert counted == list(limit.counted_with), (regimen.id, n)
            seen += len(counted)
        for n, stop in enumerate(regimen.plan.stops, start=1):
            repeat = actions[f"stop{n}"].get("timingTiming", {}).get("repeat", {})
            if stop.within is None:
                assert not repeat, (regimen.id, n)
            elif stop.within_unit == "cycles":
                assert repeat == {"countMax": stop.within}, (regimen.id, n)
            else:
                assert repeat["boundsDuration"]["value"] == stop.within, (regimen.id, n)
                assert repeat["boundsDuration"]["unit"] == stop.within_unit, (regimen.id, n)
            seen += stop.within is not None
    assert seen >= 7


def test_core_names_the_response_vocabulary_a_regimen_uses() -> None:
    """A regimen's `responses` vocabulary, when not the default, is the plan's `regimen-responses` extension."""
    docs = exported("core")
    named = 0
    for regimen in check_paths([REGIMENS]).regimens:
        found = [e["valueString"] for e in docs[f"{regimen.id}.json"].get("extension", []) if e["url"] == RESPONSES]
        assert found == ([] if regimen.responses == DEFAULT_RESPONSES else [regimen.responses.name]), regimen.id
        named += len(found)
    assert named >= 5


def test_core_marks_continuous_treatment() -> None:
    """`continuous treatment` is its cycle action's `cycle-continuous` extension; no other cycle has it."""
    marked = 0
    for regimen, actions in _core_actions():
        for key, group in _groups(regimen):
            said = [e for e in actions[key].get("extension", []) if e["url"] == CONTINUOUS]
            assert said == ([{"url": CONTINUOUS, "valueBoolean": True}] if group.continuous else []), regimen.id
            marked += group.continuous
    assert marked >= 2
