"""``regdsl import``: the NZ library's CcaPlanDefinitions to .reg files, and every finding about the input.

The four regimens of ``shared/corpus/nz-fhir`` are imported, each compared with its golden
(``tests/fhir_import/NAME.reg``), laid out as ``regdsl fmt`` lays it out, checked with no
errors in a library with the bundled ``library.reg``, and walked by the fidelity check of
``tests/test_fidelity_fhir.py``: every leaf element of the source equal to the imported
model. Each code ``FHR001``-``FHR012`` has a JSON case under ``tests/fhir_import/cases/CODE/``
with its findings, code and line, in the ``.expect`` beside it (``FHR002``, a file over the
size limit, is made in the test); ``pass-minimal.json`` yields none.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import os
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regdsl.cli.main import main
from regdsl.compile.library import check_paths
from regdsl.diagnostics import Severity, Sink
from regdsl.diagnostics.codes import FHIR_IMPORT_CODES
from regdsl.fhir import ig, importer
from regdsl.fhir.importer import import_bytes, quoted, regimen_id
from regdsl.fhir.jsonpos import MAX_DEPTH, JsonError, Node, read_json
from regdsl.source import SourceFile
from regdsl.syntax.layout import format_source
from tests.conftest import ROOT, check_golden, shared
from tests.test_fidelity_fhir import CASES, check_regimen, check_relations, load

HERE = ROOT / "tests" / "fhir_import"
FIXTURES = HERE / "cases"
LIBRARY = ROOT / "regimens" / "library.reg"
# What the import names each regimen (its name's words), and the bundled hand transcription.
IMPORTED = {
    "52331000210102.json": "lung-nsclc-metastatic-alectinib",
    "52401000210103.json": "lung-nsclc-non-metastatic-alectinib",
    "52451000210102.json": "gu-pros-castration-resistant-metastatic-abiraterone-and-dexamethasone",
    "60071000210106.json": "gyn-end-adjuvant-cisplatin-chemoradiation-followed-by-carboplatin-and-paclitaxel",
}


def _import(name: str) -> importer.Imported:
    path = shared("corpus", "nz-fhir", name)
    return import_bytes(path.read_bytes(), str(path))


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a library of the four imported regimens, with the bundled library.reg (its `reviewed` footnote)."""
    folder = tmp_path_factory.mktemp("imported")
    shutil.copy(LIBRARY, folder / "library.reg")
    for name, ident in IMPORTED.items():
        result = _import(name)
        assert result.regimen_id == ident
        assert result.text is not None
        (folder / f"{ident}.reg").write_text(result.text, encoding="utf-8")
    return folder


# -- the four NZ regimens ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_an_nz_regimen_imports_as_its_golden(name: str, update_goldens: bool) -> None:
    result = _import(name)
    assert not result.has_errors, [d.message for d in result.diagnostics if d.level is Severity.ERROR]
    assert result.text is not None
    check_golden(HERE / f"{IMPORTED[name]}.reg", result.text, update_goldens)


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_an_import_is_in_canonical_layout(name: str) -> None:
    text = _import(name).text
    assert text is not None
    sink = Sink()
    assert format_source(SourceFile.from_text(text, "x.reg"), sink) == text
    assert not sink.items


def test_the_imported_regimens_check_without_errors(library: Path) -> None:
    result = check_paths([library])
    errors = [f"{d.span.path}:{d.span.line}: {d.message}" for d in result.diagnostics if d.level is Severity.ERROR]
    assert not errors
    assert sorted(r.id for r in result.regimens) == sorted(IMPORTED.values())


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_an_imported_regimen_holds_every_element_of_its_source(name: str, library: Path) -> None:
    """The fidelity walk of the hand transcriptions, on the imported regimen: every leaf equal to the model."""
    result = check_paths([library / f"{IMPORTED[name]}.reg"])
    (regimen,) = result.regimens
    log = check_regimen(load(name), regimen)
    assert log.checked
    check_relations(regimen)


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_an_import_differs_from_the_hand_transcription_only_in_its_id_and_comments(name: str) -> None:
    """What the importer cannot know: the id the library chose, and the transcriber's comments and suppressions."""
    text = _import(name).text
    assert text is not None
    hand = (ROOT / "regimens" / f"{CASES[name]}.reg").read_text(encoding="utf-8")

    def facts(source: str) -> list[str]:
        return [
            line
            for line in source.splitlines()
            if line.strip() and not line.lstrip().startswith("#") and not line.startswith("regimen ")
        ]

    assert facts(text) == facts(hand)


def test_parts_under_one_group_action_import_as_parts_at_the_top() -> None:
    """The form `regdsl export --profile cca` writes a regimen in parts in: one action holding the part actions."""
    doc = json.loads(shared("corpus", "nz-fhir", "60071000210106.json").read_text(encoding="utf-8"))
    doc["action"] = [{"title": doc["title"], "selectionBehavior": "all", "action": doc["action"]}]
    grouped = import_bytes(json.dumps(doc).encode(), "60071000210106.json")
    assert grouped.text == _import("60071000210106.json").text


def test_a_profile_that_is_no_url_is_not_a_fault_of_the_import() -> None:
    """``meta.profile`` holding an array (found by the structural fuzz test below) reads as no profile named."""
    doc = json.loads(shared("corpus", "nz-fhir", "52331000210102.json").read_text(encoding="utf-8"))
    doc["meta"] = {"profile": [[], {"url": ig.CCA_PLAN}]}
    result = import_bytes(json.dumps(doc).encode(), "52331000210102.json")
    assert result.text == _import("52331000210102.json").text


def test_an_import_is_the_same_bytes_every_time() -> None:
    first = _import("60071000210106.json")
    again = _import("60071000210106.json")
    assert first.text == again.text
    assert first.diagnostics == again.diagnostics


def test_the_published_defects_are_reported_at_their_json_path() -> None:
    found = {(d.code.code, d.message.split(":")[0]) for d in _import("60071000210106.json").diagnostics}
    assert ("FHR005", "contained[0].contained") in found
    assert ("FHR005", "contained[1].contained") in found
    assert ("FHR006", "action[0].extension[0]") in found  # sact-child-regimen-extra-details
    assert ("FHR006", "contained[0].contained[0].extension[1]") in found  # sact-is-supportive-care
    assert ("FHR007", "contained[0].action[0].action[0].extension[0].extension[1].valueMarkdown") in found
    assert ("FHR011", "action[0].extension[0].valueMarkdown") in found
    single = {d.code.code for d in _import("52331000210102.json").diagnostics}
    assert single == set()


# -- a fixture per code --------------------------------------------------------------------------


def _cases() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.json"))


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_case_yields_exactly_its_findings(case: Path) -> None:
    result = import_bytes(case.read_bytes(), str(case))
    expected = sorted(tuple(row.split()) for row in case.with_suffix(".expect").read_text().splitlines() if row)
    found = sorted((d.code.code, str(d.span.line)) for d in result.diagnostics)
    assert found == expected
    assert case.parent.name in {code for code, _ in found}
    for d in result.diagnostics:
        assert d.span.path == str(case)
        assert d.message.split(":")[0]  # the JSON path, or "the resource"


def test_a_file_over_the_size_limit_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (FIXTURES / "pass-minimal.json").read_bytes()
    monkeypatch.setattr(importer, "MAX_BYTES", len(data) - 1)
    result = import_bytes(data, "big.json")
    assert [(d.code.code, d.span.line) for d in result.diagnostics] == [("FHR002", 1)]
    assert result.text is None
    told = import_bytes(data[:10], "big.json", size=len(data))  # only the start read, as the command reads
    assert f"the file is {len(data):,} bytes" in told.diagnostics[0].message


def test_the_passing_case_yields_nothing_and_checks() -> None:
    result = import_bytes((FIXTURES / "pass-minimal.json").read_bytes(), "pass-minimal.json")
    assert result.diagnostics == ()
    assert result.text is not None
    assert "alectinib 600 mg flat oral twice daily days 1, 2\n" in result.text


def test_every_import_code_has_a_case() -> None:
    covered = {p.parent.name for p in _cases()} | {"FHR002"}  # FHR002: made in the test above
    assert covered == {code.code for code in FHIR_IMPORT_CODES}
    for code in FHIR_IMPORT_CODES:
        for section in ("What it does:", "Why it matters:", "Example:", "Use instead:"):
            assert section in code.explanation, (code.code, section)


# -- every required element (FHR009) ------------------------------------------------------------------

_ADDITIONAL = ig.EXTENSION_BASE + "sact-additional-details"
# Each part of the profile an element is required in, broken: what it yields, by code and JSON path.
REQUIRED_BREAKS: dict[str, tuple[Callable[[dict[str, Any]], object], list[tuple[str, str]]]] = {
    "PlanDefinition.status": (lambda d: d.pop("status"), [("FHR009", "the resource")]),
    "PlanDefinition.action": (lambda d: d.pop("action"), [("FHR009", "the resource")]),
    "PlanDefinition.useContext.code": (
        lambda d: d.update(useContext=[{"valueCodeableConcept": {"text": "Lung"}}]),
        [("FHR009", "useContext[0]")],
    ),
    "PlanDefinition.action.action.relatedAction.actionId, .relationship": (
        lambda d: d["action"][0]["action"][0].update(relatedAction=[{"offsetDuration": {"value": 1}}]),
        [("FHR009", "action[0].action[0].relatedAction[0]")] * 2 + [("FHR013", "action[0].action[0].relatedAction")],
    ),
    "PlanDefinition.action.participant.type": (
        lambda d: d["action"][0].update(participant=[{"role": {"text": "nurse"}}]),
        [("FHR009", "action[0].participant[0]"), ("FHR013", "action[0].participant")],
    ),
    "ActivityDefinition.status, in each": (
        lambda d: (
            d["contained"].append(dict(d["contained"][0], id="again")) or [a.pop("status") for a in d["contained"]]
        ),
        [("FHR009", "contained[0]"), ("FHR009", "contained[1]")],
    ),
    "ActivityDefinition.participant.type": (
        lambda d: d["contained"][0].update(participant=[{"role": {"text": "nurse"}}]),
        [("FHR009", "contained[0].participant[0]"), ("FHR013", "contained[0].participant")],
    ),
    # The day cannot be read without it: a fact not imported, said once.
    "sact-timing-of-days: day": (
        lambda d: d["action"][0]["action"][0]["extension"][0]["extension"].pop(0),
        [("FHR012", "action[0].action[0].extension[0]")],
    ),
    "sact-support-factor: value": (
        lambda d: d["extension"][0]["extension"].pop(1),
        [("FHR012", "extension[0]")],
    ),
    "sact-additional-details: sectionId, sectionContent": (
        lambda d: d["extension"].append(
            {"url": _ADDITIONAL, "extension": [{"url": "sectionHeader", "valueString": "x"}]}
        ),
        [("FHR009", "extension[1]")] * 2,
    ),
    # CcaDosage requires nothing: a dosage of its dose alone is whole; one with no dose loses the line.
    "Dosage: nothing required": (
        lambda d: [d["contained"][0]["dosage"][0].pop(key) for key in ("text", "timing")],
        [],
    ),
    "Dosage: no dose": (
        lambda d: d["contained"][0]["dosage"][0].pop("doseAndRate"),
        [("FHR012", "contained[0].dosage[0]")],
    ),
}


def _broken(name: str) -> importer.Imported:
    doc = json.loads((FIXTURES / "pass-minimal.json").read_text(encoding="utf-8"))
    REQUIRED_BREAKS[name][0](doc)
    return import_bytes(json.dumps(doc, indent=1).encode(), "broken.json")


@pytest.mark.parametrize("name", sorted(REQUIRED_BREAKS))
def test_every_required_element_missing_is_found_once_at_its_parent(name: str) -> None:
    result = _broken(name)
    found = sorted((d.code.code, d.message.split(":")[0]) for d in result.diagnostics)
    assert found == sorted(REQUIRED_BREAKS[name][1])
    assert result.text is not None
    for d in result.diagnostics:
        if d.code.code == "FHR009":
            assert "the required element" in d.message
            assert "1..1" in d.message  # the rule, as the guide writes it


def test_a_status_that_is_no_code_is_not_a_missing_one() -> None:
    doc = json.loads((FIXTURES / "pass-minimal.json").read_text(encoding="utf-8"))
    doc["status"] = 5
    result = import_bytes(json.dumps(doc).encode(), "status.json")
    assert [(d.code.code, d.message) for d in result.diagnostics] == [
        ("FHR008", "status: the status is not a code; imported as draft")
    ]


def test_the_required_elements_are_the_guides_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a list of the import's own: an element the data requires is found, with no code naming it."""
    plain = ig.profile(ig.CCA_DOSAGE)
    stricter = dataclasses.replace(plain, elements={**plain.elements, "Dosage.patientInstruction": (1, "1")})
    given = ig.profile
    monkeypatch.setattr(ig, "profile", lambda url: stricter if url == ig.CCA_DOSAGE else given(url))
    result = import_bytes((FIXTURES / "pass-minimal.json").read_bytes(), "pass-minimal.json")
    assert [(d.code.code, d.message.split(":")[0]) for d in result.diagnostics] == [
        ("FHR009", "contained[0].dosage[0]")
    ]
    assert "'patientInstruction'" in result.diagnostics[0].message


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_the_published_files_lack_no_required_element(name: str) -> None:
    """Checked against the guide's snapshots: every element they require is there in the NZ library's files."""
    assert [d.message for d in _import(name).diagnostics if d.code.code == "FHR009"] == []


# -- timing in instructions ----------------------------------------------------------------------


def _plan(instructions: str, *, days: tuple[int, ...] = (1,)) -> str:
    """Return a regimen of loratadine on ``days`` with ``instructions``, and inotuzumab ozogamicin on day 1."""
    sact = ig.EXTENSION_BASE

    def definition(ident: str, code: str, display: str, route: str) -> dict[str, object]:
        return {
            "resourceType": "ActivityDefinition",
            "id": ident,
            "extension": [{"url": sact + "sact-off-label", "valueBoolean": False}],
            "status": "active",
            "productCodeableConcept": {
                "coding": [{"system": "https://nzulm.org.nz/nzmt", "code": code, "display": display}]
            },
            "dosage": [
                {
                    "route": {"coding": [{"system": "http://snomed.info/sct", "code": route}]},
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": 10,
                                "unit": "mg",
                                "system": "http://snomed.info/sct",
                                "code": "258684004",
                            }
                        }
                    ],
                }
            ],
        }

    def day(n: int, text: str) -> dict[str, object]:
        return {
            "url": sact + "sact-timing-of-days",
            "extension": [{"url": "day", "valueInteger": n}, {"url": "instructions", "valueString": text}],
        }

    doc = {
        "resourceType": "PlanDefinition",
        "name": "DOC TIMING",
        "status": "draft",
        "contained": [
            definition("pre", "10056971000116105", "loratadine", "386359008"),
            definition("ino", "", "inotuzumab ozogamicin", "386358000"),
        ],
        "action": [
            {
                "timingTiming": {"repeat": {"duration": 21, "count": 1}},
                "action": [
                    {"extension": [day(d, instructions) for d in days], "definitionCanonical": "#pre"},
                    {"extension": [day(1, "")], "definitionCanonical": "#ino"},
                ],
            }
        ],
    }
    return json.dumps(doc, indent=1)


def _line(instructions: str, *, days: tuple[int, ...] = (1,)) -> tuple[str, set[str]]:
    result = import_bytes(_plan(instructions, days=days).encode(), "t.json")
    assert result.text is not None
    (line,) = [x for x in result.text.splitlines() if x.strip().startswith("loratadine")]
    return line.strip(), {d.code.code for d in result.diagnostics}


@pytest.mark.parametrize(
    ("instructions", "relation"),
    [
        ("30 to 60 minutes prior to inotuzumab ozogamicin.", '30 to 60 min before "inotuzumab ozogamicin"'),
        ("ONE hour prior to chemotherapy.", "60 min before chemotherapy"),
        ("TWO hours prior to inotuzumab ozogamicin infusion.", '2 hours before "inotuzumab ozogamicin"'),
        ("15 minutes after inotuzumab ozogamicin.", '15 min after "inotuzumab ozogamicin"'),
        ("EIGHT hours after chemotherapy OR before bed.", '8 hours after chemotherapy "OR before bed"'),
        ("In 100 mL, prior to inotuzumab ozogamicin infusion.", 'before "inotuzumab ozogamicin"'),
        ("After inotuzumab ozogamicin infusion.", 'after "inotuzumab ozogamicin"'),
    ],
)
def test_a_timing_phrase_becomes_a_relation(instructions: str, relation: str) -> None:
    line, codes = _line(instructions)
    assert line == f"loratadine 10 mg oral day 1 {relation}"
    assert codes == set()


@pytest.mark.parametrize(
    ("instructions", "days"),
    [
        ("Take two hours after food.", (1,)),  # not a medicine
        ("ONE hour prior to paclitaxel.", (1,)),  # not a medicine of the cycle
        ("30 minutes prior to inotuzumab ozogamicin.", (1, 8)),  # timed to a day it is not given
        ("ONE hour prior to chemotherapy and 8 hours after chemotherapy.", (1,)),  # two timings
    ],
)
def test_a_timing_that_is_not_unambiguous_stays_as_text_with_a_note(instructions: str, days: tuple[int, ...]) -> None:
    line, codes = _line(instructions, days=days)
    assert " before " not in line
    assert " after " not in line
    assert codes == {"FHR010"}


def test_an_unknown_medicine_is_a_fact_not_imported_and_the_rest_is_written() -> None:
    text = (
        _plan("ONE hour prior to chemotherapy.")
        .replace('"loratadine"', '"loratadyne"')
        .replace("10056971000116105", "1")
    )
    result = import_bytes(text.encode(), "t.json")
    assert result.has_errors
    assert [d.code.code for d in result.diagnostics] == ["FHR012"]
    assert "loratadyne" in result.diagnostics[0].message
    assert result.text is not None
    assert '"inotuzumab ozogamicin" 10 mg IV day 1' in result.text


# -- quoting and ids -----------------------------------------------------------------------------


def test_quoted_text_escapes_what_a_source_may_not_hold() -> None:
    assert quoted('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert quoted("non\u00a0breaking") == '"non\\u00a0breaking"'
    assert quoted("tab\there\nline") == '"tab\\there\\nline"'
    assert quoted("bidi\u202e") == '"bidi\\u202e"'


def test_a_regimen_id_is_its_names_words() -> None:
    assert regimen_id("LUNG NSCLC NON-Metastatic - alectinib") == "lung-nsclc-non-metastatic-alectinib"
    assert regimen_id("!!!") == "imported-regimen"


# -- the JSON reader -----------------------------------------------------------------------------


def _plain(node: Node) -> object:
    """Return the value a node holds, as ``json.loads`` gives it."""
    if isinstance(node.value, dict):
        return {k: _plain(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [_plain(v) for v in node.value]
    return node.value


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_the_reader_reads_what_json_reads(name: str) -> None:
    text = shared("corpus", "nz-fhir", name).read_text(encoding="utf-8")
    assert _plain(read_json(text)) == json.loads(text, parse_float=Decimal)


def test_the_reader_locates_each_member_and_element() -> None:
    text = '{\n  "a": [1, {"b": "x"}]\n}'
    root = read_json(text)
    a = root.child("a")
    assert a is not None
    assert (a.path, text[a.start : a.end]) == ("a", '"a": [1, {"b": "x"}]')
    b = a.items()[1].child("b")
    assert b is not None
    assert (b.path, text[b.start : b.end]) == ("a[1].b", '"b": "x"')


@pytest.mark.parametrize(
    "text",
    ["", "{", '{"a": 1,}', '{"a" 1}', "[1 2]", '"\\x"', '"\\ud800"', "01", "1 2", '{"a": 1, "a": 2}', '"a\nb"'],
)
def test_malformed_json_is_a_located_error(text: str) -> None:
    with pytest.raises(JsonError) as err:
        read_json(text)
    assert 0 <= err.value.offset <= len(text)


def test_bytes_that_are_not_utf8_are_located_at_the_first_bad_byte() -> None:
    result = import_bytes(b'{\n  "name": "caf\xe9"\n}\n', "latin1.json")
    assert [(d.code.code, d.span.line, d.span.column) for d in result.diagnostics] == [("FHR001", 2, 15)]
    assert result.text is None


def test_nesting_is_bounded() -> None:
    assert read_json("[" * MAX_DEPTH + "]" * MAX_DEPTH).path == ""
    with pytest.raises(JsonError) as err:
        read_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert err.value.deep
    assert err.value.offset == MAX_DEPTH


@given(st.text(max_size=200))
def test_any_text_imports_or_is_a_finding(text: str) -> None:
    result = import_bytes(text.encode("utf-8", errors="surrogatepass"), "fuzz.json")
    assert result.text is not None or result.diagnostics


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=20,
    )
)
def test_any_json_value_reads_as_json_reads_it(value: object) -> None:
    text = json.dumps(value)
    assert _plain(read_json(text)) == json.loads(text)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.decimals(allow_nan=False) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=10,
)


def _slots(node: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Return the path of every element of a JSON value."""
    found: list[tuple[object, ...]] = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _slots(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _slots(value, (*path, i))
    return found


@given(st.data())
def test_any_element_of_a_regimen_replaced_by_anything_imports_or_is_a_finding(data: st.DataObject) -> None:
    """Wherever a real regimen holds something unexpected, the import reports it; it never fails."""
    doc = json.loads(shared("corpus", "nz-fhir", "60071000210106.json").read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(1, 3))):
        slots = _slots(doc)
        where = data.draw(st.sampled_from(slots))
        node = doc
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = data.draw(_JSON)
    result = import_bytes(json.dumps(doc, default=str).encode(), "fuzz.json")
    if result.text is not None:
        sink = Sink()
        assert format_source(SourceFile.from_text(result.text, "fuzz.reg"), sink) == result.text
    else:
        assert result.has_errors


# -- the command line ----------------------------------------------------------------------------


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_one_file_without_o_is_written_to_standard_output() -> None:
    path = shared("corpus", "nz-fhir", "52331000210102.json")
    code, out = _run("import", str(path))
    assert code == 0
    assert out == _import("52331000210102.json").text


def test_o_writes_a_file_per_regimen_and_refuses_to_replace_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(shared("corpus", "nz-fhir", name)) for name in sorted(IMPORTED)]
    assert _run("import", *files, "-o", str(tmp_path / "out"))[0] == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{i}.reg" for i in IMPORTED.values())
    target = tmp_path / "out" / f"{IMPORTED['52331000210102.json']}.reg"
    target.write_text("kept\n")
    capsys.readouterr()
    assert _run("import", files[0], "-o", str(tmp_path / "out"))[0] == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert target.read_text() == "kept\n"
    assert _run("import", files[0], "-o", str(tmp_path / "out"), "--force")[0] == 0
    assert target.read_text() == _import("52331000210102.json").text


def test_an_import_never_replaces_a_file_it_reads_or_a_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "lung-nsclc-metastatic-alectinib.reg"  # JSON, named as its own output would be
    source.write_bytes(shared("corpus", "nz-fhir", "52331000210102.json").read_bytes())
    assert _run("import", str(source), "-o", str(tmp_path), "--force")[0] == 2
    assert "a file this import reads" in capsys.readouterr().err
    assert source.read_bytes() == shared("corpus", "nz-fhir", "52331000210102.json").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / "lung-nsclc-metastatic-alectinib.reg").symlink_to(tmp_path / "elsewhere")
    assert _run("import", str(source), "-o", str(out), "--force")[0] == 2
    assert not (tmp_path / "elsewhere").exists()


def test_usage_and_bad_input_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = str(FIXTURES / "pass-minimal.json")
    assert _run("import", one, one)[0] == 2  # two files, no -o
    assert _run("import", str(tmp_path / "missing.json"))[0] == 2
    assert _run("import", str(tmp_path))[0] == 2  # a folder
    capsys.readouterr()
    code, out = _run("import", str(FIXTURES / "FHR001" / "trailing-comma.json"))
    assert (code, out) == (1, "")
    err = capsys.readouterr().err
    assert "error[FHR001]" in err
    assert "Traceback" not in err
    assert _run("import", str(FIXTURES / "FHR006" / "undefined-extension.json"))[0] == 0  # a warning
    assert _run("import", "--strict", str(FIXTURES / "FHR006" / "undefined-extension.json"))[0] == 1
    capsys.readouterr()
    code, _ = _run("import", "--format", "json", str(FIXTURES / "FHR012" / "route-code.json"))
    assert code == 1
    (finding,) = json.loads(capsys.readouterr().err)
    assert (finding["code"], finding["line"]) == ("FHR012", 40)


def test_a_failed_write_leaves_nothing_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full disk (simulated: the file system refuses the new file) is a path problem, and no half file is left."""
    real_open = os.open

    def full(path: str, flags: int, *args: int, **kwargs: int | None) -> int:
        if str(path).endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", full)
    assert _run("import", str(FIXTURES / "pass-minimal.json"), "-o", str(tmp_path))[0] == 2
    assert os.strerror(errno.ENOSPC) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# -- the medicines of the library the import writes into ----------------------------------------------

TARGET_LIBRARY = """library "target"

medicine "zanubrutinib"
  alias zanu
  code "https://nzulm.org.nz/nzmt" "46490541000116199"
  anticancer

medicine "sodium bicarbonate"
  supportive
"""


def _product(display: str, code: str | None) -> bytes:
    """Return the passing case with its one product named ``display`` and coded ``code`` (no code: text only)."""
    doc = json.loads((FIXTURES / "pass-minimal.json").read_text(encoding="utf-8"))
    concept = doc["contained"][0]["productCodeableConcept"]
    if code is None:
        concept.pop("coding")
    else:
        concept["coding"][0].update(display=display, code=code)
    concept["text"] = display
    return json.dumps(doc).encode()


def _target(folder: Path, text: str = TARGET_LIBRARY) -> importer.Medicines:
    (folder / "library.reg").write_text(text, encoding="utf-8")
    return importer.library_medicines(folder)


def _imported_line(result: importer.Imported) -> str | None:
    assert result.text is not None
    return next((x.strip() for x in result.text.splitlines() if " 600 mg flat " in x), None)


@pytest.mark.parametrize(
    ("display", "code", "line"),
    [
        ("BRUKINSA", "46490541000116199", "zanubrutinib"),  # by code, written as the library spells it
        ("Zanubrutinib", "46490541000116199", "zanubrutinib"),  # by display and code
        ("ZANU", None, "zanu"),  # by an alias, written as the library spells it
        ("Sodium Bicarbonate", None, '"sodium bicarbonate"'),  # a library medicine with no code, by its name
        ("ALECTINIB", "46490541000116100", "alectinib"),  # the built-in table after the library's
    ],
)
def test_a_product_is_the_target_librarys_medicine(tmp_path: Path, display: str, code: str | None, line: str) -> None:
    medicines = _target(tmp_path)
    assert medicines.finding is None
    result = import_bytes(_product(display, code), "p.json", medicines=medicines.table)
    assert result.diagnostics == ()
    assert _imported_line(result) == f"{line} 600 mg flat oral twice daily days 1, 2"


def test_a_library_medicine_without_its_library_is_not_imported() -> None:
    result = import_bytes(_product("BRUKINSA", "46490541000116199"), "p.json")
    assert [d.code.code for d in result.diagnostics] == ["FHR012"]
    assert _imported_line(result) is None


@pytest.mark.parametrize(
    ("display", "code", "named"),
    [
        ("alectinib", "46490541000116199", "zanubrutinib"),  # the display names a built-in, the code the library's
        ("cISplatin", "10147121000116104", "cARBOplatin"),  # both built-in
        ("zanu", "46490541000116100", "alectinib"),  # the display an alias of the library's, the code a built-in
    ],
)
def test_a_display_naming_one_medicine_and_a_code_another_is_not_imported(
    tmp_path: Path, display: str, code: str, named: str
) -> None:
    """A product the display and the code disagree on is neither medicine: the line is a fact not imported."""
    result = import_bytes(_product(display, code), "p.json", medicines=_target(tmp_path).table)
    assert [d.code.code for d in result.diagnostics] == ["FHR012"]
    assert display in result.diagnostics[0].message
    assert named in result.diagnostics[0].message
    assert _imported_line(result) is None


def test_a_broken_library_is_said_once_in_library_reg_and_the_built_in_table_is_used(tmp_path: Path) -> None:
    medicines = _target(tmp_path, TARGET_LIBRARY + "\nmedicine\n  ???\n")
    assert medicines.finding is not None
    assert medicines.finding.span.path.endswith("library.reg")
    assert medicines.finding.level is Severity.ERROR
    assert any("built-in medicine table" in note for note in medicines.finding.notes)
    assert medicines.source is not None
    built_in = import_bytes(_product("ALECTINIB", "46490541000116100"), "p.json", medicines=medicines.table)
    assert built_in.diagnostics == ()
    by_code = import_bytes(_product("BRUKINSA", "46490541000116199"), "p.json", medicines=medicines.table)
    assert [d.code.code for d in by_code.diagnostics] == ["FHR012"]


def test_no_library_is_the_built_in_table(tmp_path: Path) -> None:
    medicines = importer.library_medicines(tmp_path / "new" / "folder")
    assert (medicines.finding, medicines.source) == (None, None)
    assert medicines.table.find("alectinib") is not None
    assert medicines.table.find("zanubrutinib") is None


def test_the_command_resolves_products_against_the_library_of_o(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "library.reg").write_text(TARGET_LIBRARY, encoding="utf-8")
    source = tmp_path / "p.json"
    source.write_bytes(_product("BRUKINSA", "46490541000116199"))
    out = library / "imported"  # made by the import, below the library's root
    assert _run("import", str(source), "-o", str(out))[0] == 0
    (written,) = out.iterdir()
    assert "  zanubrutinib 600 mg flat oral twice daily days 1, 2\n" in written.read_text(encoding="utf-8")
    assert check_paths([written]).diagnostics == []
    monkeypatch.chdir(library)  # without -o: the current folder's library
    code, text = _run("import", str(source))
    assert code == 0
    assert "  zanubrutinib 600 mg flat" in text
    monkeypatch.chdir(tmp_path)  # no library here: the built-in table
    capsys.readouterr()
    assert _run("import", str(source))[0] == 1
    assert "error[FHR012]" in capsys.readouterr().err
    (library / "library.reg").write_text(TARGET_LIBRARY + "\nmedicine\n", encoding="utf-8")
    code, _ = _run("import", str(source), "-o", str(out), "--force")
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("library.reg:") == 1
    assert "error[FHR012]" in err


def test_a_library_reg_that_check_refuses_stops_the_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One any user may write decides the medicines of every regimen below it: refused, as check refuses it (exit 2)."""
    library = tmp_path / "library.reg"
    library.write_text(TARGET_LIBRARY, encoding="utf-8")
    library.chmod(0o666)
    assert _run("import", str(FIXTURES / "pass-minimal.json"), "-o", str(tmp_path / "out"))[0] == 2
    assert "writable by every user" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
