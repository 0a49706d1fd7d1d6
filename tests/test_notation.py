"""The error-prone notation data (ISMP) and the rules that read it: every entry cited, every form found."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from regdsl.check.run import run_check
from regdsl.model.notation import ABBREVIATIONS, DESIGNATIONS, ISMP_LIST, SYMBOLS, Abbreviation, Designation, Symbol
from tests.conftest import ROOT

DATA = ROOT / "regdsl" / "model" / "data" / "error_prone.json"
HEADING = 'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n  ondansetron 8 mg oral days 1 to 3\n'


def test_every_fact_cites_its_entry_of_the_ismp_list() -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert data["about"].strip()
    assert "ISMP" in ISMP_LIST
    assert "2021" in ISMP_LIST
    entries = [*data["abbreviations"], *data["symbols"], *data["designations"], data["dose_units"]]
    for entry in entries:
        assert entry["source"].strip(), entry
    facts: list[Abbreviation | Symbol | Designation] = [*ABBREVIATIONS, *SYMBOLS, *DESIGNATIONS.values()]
    for fact in facts:
        assert "ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations (2021)" in fact.source, fact
        assert fact.misread.strip()
        assert fact.instead.strip()


def test_the_rules_read_every_dose_designation_of_the_data() -> None:
    assert set(DESIGNATIONS) == {"trailing-zero", "naked-decimal", "run-together", "large-number", "times-days"}


def _findings(tmp_path: Path, prose: str) -> list[tuple[str, int, int]]:
    path = tmp_path / "fixture.reg"
    path.write_text(HEADING + f"    | {prose}\n", encoding="utf-8")
    outcome = run_check([path], jobs=1)
    return [(d.code.code, d.span.column, d.span.end_column) for d in outcome.diagnostics]


def _column(prose: str, part: str) -> int:
    return len("    | ") + prose.index(part) + 1


@pytest.mark.parametrize(
    "form", [form for entry in ABBREVIATIONS for form in entry.written], ids=lambda form: form.replace(" ", "_")
)
def test_every_abbreviation_of_the_data_is_found_at_its_own_span(form: str, tmp_path: Path) -> None:
    entry = next(entry for entry in ABBREVIATIONS if form in entry.written)
    prose = f"Give 5 {form} then rest." if entry.after_number else f"Then {form} as said."
    start = _column(prose, form)
    assert _findings(tmp_path, prose) == [("SAF104", start, start + len(form))]


@pytest.mark.parametrize("symbol", [entry.symbol for entry in SYMBOLS])
def test_every_symbol_of_the_data_is_found_at_its_own_span(symbol: str, tmp_path: Path) -> None:
    where = next(entry.where for entry in SYMBOLS if entry.symbol == symbol)
    prose = {
        "before-number": f"Delay if the count is {symbol} 1.5 today.",
        "alone": f"Give 8 mg {symbol} 4 mg today.",
        "between-doses": f"Give 25 units{symbol}10 units today.",
    }[where]
    start = _column(prose, symbol)
    assert _findings(tmp_path, prose) == [("SAF106", start, start + 1)]


@pytest.mark.parametrize(
    ("prose", "code", "part"),
    [
        ("Give 1.0 mg now.", "SAF101", "1.0"),
        ("Give .5 mg now.", "SAF102", ".5"),
        ("Give 10mg now.", "SAF107", "mg"),
        ("Give 100000 units now.", "SAF108", "100000"),
        ("Give 4 mg twice daily x3d now.", "SAF109", "x3d"),
    ],
)
def test_every_dose_designation_is_found_at_its_own_span(prose: str, code: str, part: str, tmp_path: Path) -> None:
    start = _column(prose, part)
    assert _findings(tmp_path, prose) == [(code, start, start + len(part))]


@pytest.mark.parametrize(
    "prose",
    [
        "Check hs-CRP; write to nurse@example.org or see https://example.org/IT/qd.",
        "FOR INTRATHECAL USE ONLY. DO NOT GIVE IT BY ANY OTHER ROUTE.",
        "HER2+ and CD20+ disease; up to 3+ protein; doses may move +/- 2 days; R&D.",
        "Keep the clearance above 60 mL/min/1.73 m2; 75 mg/m2; day 1 -> day 8; SNOMED 42030000.",
        "Version 2.0 of the leaflet; ANC at least 0.5 x10^9/L; it takes 24h; a 5HT3 antagonist.",
    ],
)
def test_real_prose_that_only_looks_error_prone_is_not_flagged(prose: str, tmp_path: Path) -> None:
    assert _findings(tmp_path, prose) == []


def test_one_span_is_never_reported_under_two_codes(tmp_path: Path) -> None:
    found = _findings(tmp_path, "Give .50mg @ 8 am, MTX 1.0 µg IT, 200000units x3d, > .5 mg/m2.")
    spans = [(start, end) for _code, start, end in found]
    assert len(found) >= 9
    assert len(spans) == len(set(spans)), found


def _scan_seconds(text: str) -> float:
    from regdsl.check.rules import forms

    patterns = [
        *(p for _e, p in forms._ABBREVIATION_PATTERNS),
        *(p for _e, p in forms._SYMBOL_PATTERNS),
        forms._PROSE_TRAILING_ZERO,
        forms._PROSE_NAKED_DECIMAL,
        forms._RUN_TOGETHER,
        forms._LARGE_NUMBER,
        forms._TIMES_DAYS,
    ]
    start = time.perf_counter()
    forms._links(text)
    forms._shouted(text)
    for pattern in patterns:
        for _match in pattern.finditer(text):
            pass
    return time.perf_counter() - start


@pytest.mark.parametrize("unit", ["q", "1", "1.", "1,", "x1", "a@", "@", "> ", "1 mg/", "0", "IT ", "www."])
def test_reading_a_text_is_linear_in_its_length(unit: str) -> None:
    # Ten times the text takes about ten times as long: a quadratic scan would take a hundred.
    small, large = unit * 10_000, unit * 100_000
    best_small = min(_scan_seconds(small) for _ in range(5))  # the best of five: the least disturbed
    best_large = min(_scan_seconds(large) for _ in range(5))
    assert best_large < 40 * best_small
