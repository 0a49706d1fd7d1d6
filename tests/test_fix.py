"""``regdsl check --fix``: mechanical fixes, attached to findings, that never change a dose.

The property: for every unit spelling the vocabulary knows (its error-prone forms too) and
every number form (trailing zeros, a naked point, a point at the end), the doses a file is
read as (amount and unit, in order) are the same after ``--fix`` as before, and what the
fixes were for is gone.
"""

from __future__ import annotations

import io
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regdsl.check.rewrite import planned_fixes
from regdsl.check.rules._shared import administrations
from regdsl.check.run import run_configured
from regdsl.cli.main import main
from regdsl.diagnostics import Fix
from regdsl.model.vocabulary import ERROR_PRONE_UNITS, UNITS
from regdsl.source import SourceFile
from regdsl.syntax.edits import apply_fixes
from tests.conftest import ROOT, check_golden

CASES = ROOT / "tests" / "fix"
HEAD = 'regimen doc-fix\n  name "DOC EXAMPLE - fixes"\n  status draft\n\ncycle 1: 21 days\n'
FIXABLE = {"SAF101", "SAF102", "VOC005", "SAF104", "SAF105", "VOC010"}
SPELLINGS = sorted({alias for unit in UNITS for alias in unit.aliases} | set(ERROR_PRONE_UNITS))
NUMBERS = ["10", "10.0", "2.50", ".5", ".50", "5.", "0.25", "100.000"]


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def _doses(path: Path) -> tuple[list[tuple[str, Decimal, str, str]], set[str]]:
    """Return the doses, volumes and caps a file is read as, in order, and the codes of its findings."""
    result = run_configured([path])
    doses = [
        (admin.medicine.name, quantity.amount, quantity.unit.term, quantity.unit.basis.value)
        for regimen in result.regimens
        for admin in administrations(regimen)
        for quantity in (admin.dose, admin.volume, admin.cap)
        if quantity is not None
    ]
    return doses, {d.code.code for d in result.diagnostics}


def _fixed_keeps_doses(tmp_path: Path, body: str) -> set[str]:
    """Fix a file of ``body``'s lines: assert its doses are read the same; return its findings' codes before."""
    path = tmp_path / "doc-fix.reg"
    path.write_text(HEAD + body, encoding="utf-8")
    before, codes = _doses(path)
    assert before, "the file is read as no dose"
    main(["check", "--fix", str(path)], out=io.StringIO())
    after, left = _doses(path)
    assert after == before
    assert not left & {"SAF101", "SAF102", "VOC005"}, path.read_text(encoding="utf-8")
    return codes


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_fixes_never_change_a_dose_whatever_the_unit_and_number_form(spelling: str, tmp_path: Path) -> None:
    body = "".join(f"  cARBOplatin {number} {spelling} IV day 1 over 60 min\n" for number in NUMBERS)
    assert {"SAF101", "SAF102"} <= _fixed_keeps_doses(tmp_path, body)


NUMBER = st.from_regex(r"\A(?:[0-9]{1,4}(?:\.[0-9]{0,3}0{0,3})?|\.[0-9]{1,3}0{0,2})\Z")


@given(st.lists(st.tuples(NUMBER, st.sampled_from(SPELLINGS)), min_size=1, max_size=4))
def test_fixes_never_change_drawn_doses(lines: list[tuple[str, str]]) -> None:
    body = "".join(
        f"  cARBOplatin {n} {u} IV day 1 over 60 min\n  cARBOplatin {n} mg/m2 IV day 8 max {n} mg\n" for n, u in lines
    )
    with tempfile.TemporaryDirectory() as folder:
        _fixed_keeps_doses(Path(folder), body)


def test_a_fix_that_would_change_a_number_or_a_unit_is_never_made() -> None:
    text = HEAD + "  loratadine 10.0 mg oral day 1\n"
    source = SourceFile("x.reg", text)
    start = text.index("10.0")
    span = source.span(start, start + 4)
    assert apply_fixes(source, [Fix(span, "100", "forged")]) is None
    unit = text.index("mg oral")
    assert apply_fixes(source, [Fix(source.span(unit, unit + 2), "g", "forged")]) is None
    assert apply_fixes(source, [Fix(span, '"', "breaks the line")]) is None
    assert apply_fixes(source, [Fix(span, "10", "the same value")]) == (text.replace("10.0", "10"), 1)


def test_overlapping_fixes_wait_and_the_same_fix_twice_is_made_once() -> None:
    text = HEAD + "  loratadine 10.0 mg oral day 1\n"
    source = SourceFile("x.reg", text)
    start = text.index("10.0")
    whole, again = Fix(source.span(start, start + 4), "10", "a"), Fix(source.span(start, start + 4), "10", "b")
    inner = Fix(source.span(start + 2, start + 4), "0", "c")
    assert apply_fixes(source, [whole, again, inner]) == (text.replace("10.0", "10"), 1)


def test_findings_carry_their_fixes_in_json(tmp_path: Path) -> None:
    path = tmp_path / "doc-fix.reg"
    path.write_text(HEAD + "  loratadine 10.0 mg oral day 1\n", encoding="utf-8")
    code, out = _run("check", "--format", "json", str(path))
    assert code == 1
    (item,) = json.loads(out)
    assert item["fixes"] == [
        {
            "path": str(path),
            "line": 6,
            "column": 14,
            "end_line": 6,
            "end_column": 18,
            "replacement": "10",
            "description": "write `10`",
        }
    ]


@pytest.mark.parametrize("case", sorted(CASES.glob("*.reg")), ids=lambda p: p.stem)
def test_fix_diff_golden(case: Path, update_goldens: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    before = case.read_bytes()
    code, out = _run("check", "--fix", "--diff", str(case.relative_to(ROOT)))
    assert code == 1
    assert case.read_bytes() == before, "--diff writes nothing"
    check_golden(case.with_suffix(".diff"), out, update_goldens)


def test_fix_rewrites_the_file_and_reports_what_remains(tmp_path: Path) -> None:
    path = tmp_path / "doc-fix.reg"
    original = (CASES / "mixed.reg").read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    code, out = _run("check", "--fix", str(path))
    fixed = path.read_text(encoding="utf-8")
    assert "10.0" not in fixed
    assert "µg" not in fixed
    assert " SC " not in fixed
    assert "cISplatin 75" in fixed
    assert "# regdsl: ignore[dose-naked-decimal]" in fixed
    assert ".25 mg" in fixed, "a suppressed finding is not fixed"
    assert out.startswith("fixed ")
    assert "VOC003" in out, "what has no fix is reported"
    assert code == 1
    assert not {c for c in _doses(path)[1]} & FIXABLE


def test_fix_exits_0_when_everything_is_fixed(tmp_path: Path) -> None:
    path = tmp_path / "doc-fix.reg"
    path.write_text(HEAD + "  loratadine 10.0 mg oral day 1\n", encoding="utf-8")
    assert _run("check", "--fix", str(path)) == (0, "fixed 1 finding in 1 file\n0 errors, 0 warnings in 1 file\n")
    assert _run("check", "--fix", "--diff", str(path))[0] == 0


def test_fix_writes_the_space_between_words_run_together(tmp_path: Path) -> None:
    path = tmp_path / "doc-fix.reg"
    path.write_text(HEAD.replace("status draft", "statusdraft") + "  loratadine 10 mg oral day1\n", encoding="utf-8")
    assert _run("check", "--fix", str(path)) == (0, "fixed 2 findings in 1 file\n0 errors, 0 warnings in 1 file\n")
    assert path.read_text(encoding="utf-8") == HEAD + "  loratadine 10 mg oral day 1\n"


def test_fix_diff_without_fix_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "doc-fix.reg"
    path.write_text(HEAD + "  loratadine 10.0 mg oral day 1\n", encoding="utf-8")
    assert _run("check", "--diff", str(path))[0] == 2


def test_fix_never_writes_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    text = HEAD + "  loratadine 10.0 mg oral day 1\n"
    target.write_text(text, encoding="utf-8")
    (tmp_path / "doc-fix.reg").symlink_to(target)
    assert _run("check", "--fix", str(tmp_path / "doc-fix.reg"))[0] == 2
    assert target.read_text(encoding="utf-8") == text


def test_planned_fixes_of_no_findings_is_nothing() -> None:
    assert planned_fixes([], {}) == []
