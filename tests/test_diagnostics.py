"""One fixture folder per diagnostic code: each case yields exactly its code at its lines.

A case is ``tests/diagnostics/CODE/NAME.reg`` (or a folder ``NAME/`` checked as one
library, under the configuration its ``regdsl.toml`` or ``pyproject.toml`` gives, as
``regdsl check`` would). Expected findings are ``# expect: CODE`` comments on their lines
of the ``.reg`` and ``.toml`` files (``# label: CODE`` marks further lines the finding must
label, and no others), or a ``NAME.expect`` file of ``CODE LINE`` rows. A case named
``pass-*`` is a passing fixture: it must yield nothing at all. The rendered text output is
the golden ``NAME.out`` beside the case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from regdsl.check.registry import SECTIONS
from regdsl.check.rules import registry
from regdsl.check.run import run_configured
from regdsl.diagnostics.formats import FORMATS
from tests.conftest import ROOT, check_golden

FIXTURES = ROOT / "tests" / "diagnostics"
_LABEL = re.compile(r"#\s*label:\s*([A-Z]{3}\d{3})")
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]{3}\d{3}(?:\s*,\s*[A-Z]{3}\d{3})*)")
# Codes that no source file can produce: shown by the CLI, tested in test_cli.py.
NOT_FROM_SOURCES = {"INT001"}
# A file over the size cap is generated in test_bad_input.py rather than committed.
GENERATED = {"SRC003"}
# Found in a JSON file by `regdsl import`: each has its JSON case in tests/fhir_import/cases (test_fhir_import.py).
FROM_JSON = "FHR"


def _cases() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*") if p.suffix == ".reg" or p.is_dir())


def _files(case: Path) -> list[Path]:
    return sorted([*case.glob("*.reg"), *case.glob("*.toml")]) if case.is_dir() else [case]


def _expected(case: Path) -> set[tuple[str, str, int]]:
    files = _files(case)
    found: set[tuple[str, str, int]] = set()
    for file in files:
        rel = str(file.relative_to(ROOT))
        text = file.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.split("\n"), start=1):
            match = _EXPECT.search(line)
            if match:
                found.update((rel, code.strip(), number) for code in match.group(1).split(","))
        sidecar = file.with_suffix(".expect")
        if sidecar.exists():
            for row in sidecar.read_text().split("\n"):
                if row.strip():
                    code, number_text = row.split()
                    found.add((rel, code, int(number_text)))
    return found


def _labelled(case: Path) -> set[tuple[str, str, int]]:
    """Lines marked ``# label: CODE``: the finding must label exactly these (and its primary line)."""
    found: set[tuple[str, str, int]] = set()
    for file in _files(case):
        rel = str(file.relative_to(ROOT))
        for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").split("\n"), start=1):
            match = _LABEL.search(line)
            if match:
                found.add((rel, match.group(1), number))
    return found


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_yields_exactly_its_code(case: Path, monkeypatch: pytest.MonkeyPatch, update_goldens: bool) -> None:
    monkeypatch.chdir(ROOT)
    result = run_configured([case.relative_to(ROOT)])
    actual = {(d.span.path, d.code.code, d.span.line) for d in result.diagnostics}
    expected = _expected(case)
    if case.name.startswith("pass-"):
        assert not expected, "a passing case states no finding"
    else:
        assert expected, "the case states no expected finding"
        assert case.parent.name in {code for _, code, _ in expected}
    assert actual == expected
    labelled = _labelled(case)
    if labelled:
        lines = {
            (label.span.path, d.code.code, label.span.line)
            for d in result.diagnostics
            for label in (d.primary, *d.secondary)
        }
        primaries = {(path, code, line) for path, code, line in expected if code in {c for _, c, _ in labelled}}
        assert lines == labelled | primaries
    rendered = FORMATS["text"](result.diagnostics, result.sources)
    golden = case / "expected.out" if case.is_dir() else case.with_suffix(".out")
    check_golden(golden, rendered, update_goldens)


def _failing(case: Path) -> bool:
    return (case.is_dir() or case.suffix == ".reg") and not case.name.startswith("pass-")


def test_every_code_has_a_fixture() -> None:
    covered = {p.name for p in FIXTURES.iterdir() if p.is_dir() and any(c for c in p.iterdir() if _failing(c))}
    missing = {c for c in registry().codes if not c.startswith(FROM_JSON)} - covered - NOT_FROM_SOURCES - GENERATED
    assert not missing, f"codes without a failing fixture: {sorted(missing)}"


def test_every_finding_about_content_has_a_passing_fixture() -> None:
    # A file that cannot be read or parsed, and a bad configuration, have no "passing" form.
    exempt = ("SRC", "SYN", "INT", "CFG", FROM_JSON)
    for code in registry().codes:
        if not code.startswith(exempt):
            assert list((FIXTURES / code).glob("pass-*")), f"{code} has no passing fixture"


def test_every_rule_has_a_passing_fixture_and_documented_sections() -> None:
    for rule in (*registry().rules, *registry().library_rules):
        folder = FIXTURES / rule.code.code
        assert list(folder.glob("pass-*.reg")), f"{rule.code.code} has no passing fixture"
        for section in SECTIONS:
            assert f"{section}:" in rule.code.explanation, f"{rule.code.code} docs lack '{section}'"


def test_codes_and_names_are_unique_and_well_formed() -> None:
    names = [c.name for c in registry().codes.values()]
    assert len(names) == len(set(names))
    for key, code in registry().codes.items():
        assert key == code.code
        assert re.fullmatch(r"[A-Z]{3}\d{3}", code.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code.name)
        assert code.summary
        assert code.explanation


def test_findings_of_one_code_on_one_line_beyond_a_few_are_counted_in_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    from regdsl.check.run import MOST_PER_LINE

    monkeypatch.chdir(ROOT)
    result = run_configured([FIXTURES.relative_to(ROOT) / "TIM001" / "many-days-outside.reg"])
    found = [(d.span.line, d.message, d.notes) for d in result.diagnostics if d.code.code == "TIM001"]
    assert MOST_PER_LINE == 5
    assert found == [
        (7, "day 22 is outside this 21-day cycle", ()),
        (7, "day 23 is outside this 21-day cycle", ()),  # a range is one finding, at its first day outside
        (7, "day 31 is outside this 21-day cycle", ()),
        (7, "day 32 is outside this 21-day cycle", ("and 2 more days outside the cycle on this line",)),
        *((8, f"day {day} is outside this 21-day cycle", ()) for day in range(22, 27)),  # five: all shown
    ]
