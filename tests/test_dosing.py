"""The dose data (regdsl/model/data/doses.json) and the rules that read it, SAF202 and SAF204 to SAF208.

Every fact has a source; every range reads in the language's own units and routes; a dose at
each bound of each range passes and one just beyond fails; every anticancer line of the bundled
library has a range to be compared with; a library's `usual dose` replaces the package's.
"""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regdsl.check.rules._shared import administrations
from regdsl.check.run import run_check
from regdsl.compile.library import check_paths
from regdsl.model.dosing import UsualRange, facts, family, package_facts, parse_range
from regdsl.model.medicines import DEFAULT_MEDICINES, MedicineTable
from regdsl.model.vocabulary import ROUTE_BY_ALIAS, find_unit
from tests.conftest import ROOT

DATA: dict[str, Any] = json.loads(resources.files("regdsl.model").joinpath("data", "doses.json").read_text("utf-8"))
_TABLE = MedicineTable(DEFAULT_MEDICINES)
# Bundled anticancer lines with no range to compare: a count of vials is not an amount.
NOT_AN_AMOUNT = {("bcg", "vial")}


def _facts_of_data() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, kind, entry)
        for name, medicine in DATA["medicines"].items()
        for kind in ("doses", "caps", "bases")
        for entry in medicine.get(kind, ())
    ]


def test_the_data_file_says_what_it_holds_and_who_reads_it() -> None:
    assert "dosing.py" in DATA["about"]
    assert DATA["medicines"], "no medicine"


@pytest.mark.parametrize(("name", "kind", "entry"), _facts_of_data())
def test_every_fact_cites_a_source_and_reads_in_the_language_s_units_and_routes(
    name: str, kind: str, entry: dict[str, Any]
) -> None:
    assert name == name.lower(), "keyed by the generic name in lower case"
    assert entry["source"].strip(), f"{name}: a {kind} entry without a source"
    assert entry["route"].lower() in ROUTE_BY_ALIAS, entry["route"]
    units = entry["units"] if kind == "bases" else [entry["unit"], *([entry["on"]] if "on" in entry else [])]
    for text in units:
        unit = find_unit(text)
        assert unit is not None, text
        assert family(unit) is not None, text
    if kind != "bases":
        low, high = parse_range(entry["dose" if kind == "doses" else "cap"])
        assert 0 < low <= high


def test_one_range_per_medicine_unit_and_route() -> None:
    """Two ranges of one medicine, unit and route would say the same thing twice, or contradict each other."""
    for name, found in package_facts().items():
        keys = [(r.kind, r.family, r.route, r.on) for r in found.ranges]
        assert len(keys) == len(set(keys)), name


@pytest.mark.parametrize("text", ["0", "2 to 1", "-1", "1 to", "NaN", "Infinity", "one"])
def test_a_malformed_range_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a range"):
        parse_range(text)


def test_every_anticancer_line_of_the_bundled_library_has_a_range_for_its_unit_and_route() -> None:
    missing = set()
    for regimen in check_paths([ROOT / "regimens"]).regimens:
        for admin in administrations(regimen):
            found = family(admin.dose.unit)
            if admin.role != "anticancer" or admin.route is None or found is None:
                continue
            kinds = {found[0], found[0].as_dose()}
            if not any(r.family in kinds for r in facts(admin.medicine).doses(admin.route.code)):
                missing.add((admin.medicine.name, admin.dose.unit.display))
    assert missing == NOT_AN_AMOUNT


def test_every_anticancer_medicine_of_the_default_table_has_dose_data() -> None:
    assert [m.display for m in DEFAULT_MEDICINES if m.anticancer and not facts(m).ranges] == []


# --------------------------------------------------------------------------- the bounds


def _ranges() -> list[UsualRange]:
    seen: dict[int, UsualRange] = {}
    for found in package_facts().values():
        for r in found.ranges:
            seen.setdefault(id(r), r)
    return sorted(seen.values(), key=lambda r: (r.medicine, r.kind, r.route, r.unit.term, r.on or r.family))


def _line(r: UsualRange, value: Decimal) -> str:
    name, amount_, route = f'"{r.medicine}"', f"{value.normalize():f}", r.route_text
    if r.on is not None:
        return f"{name} 1 {r.on.aliases[0]} {route} day 1 max {amount_} {r.unit.aliases[0]}"
    return f"{name} {amount_} {r.unit.aliases[0]} {route} day 1"


def _check_lines(tmp_path: Path, lines: list[str]) -> dict[int, set[str]]:
    """Check one regimen of ``lines`` (each a line of cycle 1) in a library of every medicine of the data."""
    medicines = "".join(
        f'medicine "{name}"\n  anticancer\n\n' for name in sorted(DATA["medicines"]) if _TABLE.find(name) is None
    )
    (tmp_path / "library.reg").write_text(f'library "test"\n\n{medicines}', encoding="utf-8")
    body = "".join(f"  {line}\n" for line in lines)
    (tmp_path / "fixture.reg").write_text(
        f'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 28 days\n{body}', encoding="utf-8"
    )
    found: dict[int, set[str]] = {}
    for d in run_check([tmp_path]).diagnostics:
        found.setdefault(d.primary.span.line - 5, set()).add(d.code.code)
    return found


_CODE = {"dose": "SAF205", "cap": "SAF206"}


def _code(r: UsualRange) -> str:
    return "SAF207" if r.unit.term.startswith("AUC") and r.kind == "dose" else _CODE[r.kind]


_PLACES = Decimal("0.0001")


@settings(max_examples=8)
@given(
    inside=st.decimals(min_value=0, max_value=1, places=3),
    beyond=st.decimals(min_value=Decimal("0.001"), max_value=100, places=3),
)
def test_a_dose_at_or_within_the_bounds_passes_and_one_just_beyond_fails(
    tmp_path_factory: pytest.TempPathFactory, inside: Decimal, beyond: Decimal
) -> None:
    ranges = _ranges()
    cases: list[tuple[UsualRange, Decimal, bool]] = []
    for r in ranges:
        within = r.low + (r.high - r.low) * inside
        cases += [(r, r.low, False), (r, r.high, False), (r, within, False)]
        above = (r.high * (1 + beyond)).quantize(_PLACES, ROUND_CEILING)
        below = (r.low / (1 + beyond)).quantize(_PLACES, ROUND_FLOOR)
        cases += [(r, above, True), (r, below, True)]
    found = _check_lines(tmp_path_factory.mktemp("bounds"), [_line(r, value) for r, value, _ in cases])
    for number, (r, value, outside) in enumerate(cases, start=1):
        codes = found.get(number, set())
        assert (_code(r) in codes) is outside, (r.medicine, r.kind, r.unit.term, r.route_text, value, codes)


def test_every_range_is_exercised_by_the_bounds_property() -> None:
    assert len(_ranges()) >= 60


# --------------------------------------------------------------------------- what the rules say


def test_a_finding_quotes_the_dose_as_written_and_never_another_magnitude(tmp_path: Path) -> None:
    lines = [
        "vinCRIStine 14 mg/m2 IV day 1 max 2 mg",
        "cARBOplatin 50 AUC IV day 1",
        "methotrexate 12 mg/m2 intrathecal day 1",
    ]
    (tmp_path / "fixture.reg").write_text(
        'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n' + "".join(f"  {x}\n" for x in lines),
        encoding="utf-8",
    )
    found = {d.code.code: d for d in run_check([tmp_path]).diagnostics if d.code.code.startswith("SAF20")}
    assert found["SAF205"].message.startswith("vinCRIStine 14 mg/m² is above the usual 0.4 to 2 mg/m²")
    assert found["SAF207"].message.startswith("cARBOplatin AUC 50 is above the usual AUC 1.5 to 7.5")
    assert found["SAF208"].message.startswith("methotrexate is never dosed in mg/m² by intrathecal injection")
    for d in found.values():
        assert all("1.4" not in (d.help or "") and "source:" in n for n in d.notes), d.code.code


def _library_codes(tmp_path: Path, entries: str, line: str) -> list[tuple[str, str]]:
    (tmp_path / "library.reg").write_text(f'library "test"\n\n{entries}', encoding="utf-8")
    (tmp_path / "fixture.reg").write_text(
        f'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n  {line}\n', encoding="utf-8"
    )
    return [
        (d.code.code, d.message) for d in run_check([tmp_path]).diagnostics if d.code.code[:3] in {"SAF", "STR", "VOC"}
    ]


def test_a_library_range_replaces_the_package_s_for_its_unit_and_route_only(tmp_path: Path) -> None:
    entries = 'medicine "cARBOplatin"\n  usual dose 4 to 6 AUC IV "the network\'s policy"\n'
    assert _library_codes(tmp_path, entries, "cARBOplatin 2 AUC IV day 1 over 60 min") == [
        ("SAF207", "cARBOplatin AUC 2 is below the usual AUC 4 to 6 intravenously")
    ]


def test_a_library_auc_range_makes_a_medicine_one_dosed_by_auc(tmp_path: Path) -> None:
    entries = 'medicine "house platinum"\n  anticancer\n  usual dose 4 to 6 AUC IV "its data sheet"\n'
    assert _library_codes(tmp_path, entries, '"house platinum" 5 AUC IV day 1 over 60 min') == []
    bare = 'medicine "house platinum"\n  anticancer\n'
    (tmp_path / "bare").mkdir()
    line = '"house platinum" 5 AUC IV day 1 over 60 min'
    assert [c for c, _ in _library_codes(tmp_path / "bare", bare, line)] == ["SAF202"]


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ("usual dose 2 to 1 mg/m2 IV", "STR007"),
        ("usual dose 1 to 2 tablets oral", "VOC001"),
        ("usual dose 1 to 2 mg/m2 IVV", "VOC002"),
        ('usual dose 1 to 2 mg/m2 IV "a"\n  usual dose 1 to 3 mg/m2 IV "b"', "VOC015"),
    ],
)
def test_a_malformed_library_range_is_a_located_finding(tmp_path: Path, item: str, code: str) -> None:
    entries = f'medicine "house medicine"\n  anticancer\n  {item}\n'
    assert code in [c for c, _ in _library_codes(tmp_path, entries, '"house medicine" 1 mg IV day 1 over 10 min')]
