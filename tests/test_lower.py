"""Lowering semantics on the seed regimen: names, doses, relations, same-as, plan; lowering judges nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from regdsl.check.reference import explain_text
from regdsl.check.registry import SECTIONS
from regdsl.check.rules import registry
from regdsl.check.run import run_check
from regdsl.compile.library import check_paths
from regdsl.model import ir
from regdsl.model.vocabulary import Basis
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def seed() -> ir.Regimen:
    (regimen,) = check_paths([ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"]).regimens
    return regimen


def test_identity(seed: ir.Regimen) -> None:
    assert seed.id == "leu-all-bcell-rr-inotuzumab"
    assert seed.status is ir.Status.PUBLISHED
    assert [t.text for t in seed.meta.cancer] == ["Leukaemia", "Acute lymphoblastic leukaemia", "Precursor B-cell"]
    assert [f.name for f in seed.meta.footnotes] == ["reviewed", "s29"]


def test_cycle_one(seed: ir.Regimen) -> None:
    first = seed.cycles()[0]
    assert (first.heading, first.length_days, first.extend_to_days, first.count) == ("Cycle 1 - 21 days", 21, 28, 1)
    rows = [(a.medicine.display, a.dose.amount, a.dose.unit.term, a.days, a.off_label) for a in first.administrations]
    assert rows == [
        ("loratadine", Decimal(10), "mg", (1, 8, 15), True),
        ("paracetamol", Decimal(1000), "mg", (1, 8, 15), True),
        ("dexamethasone", Decimal(12), "mg", (1, 8, 15), True),
        ("inotuzumab ozogamicin", Decimal("0.8"), "mg/m²", (1,), False),
        ("inotuzumab ozogamicin", Decimal("0.5"), "mg/m²", (8, 15), False),
    ]
    dexa, ino8 = first.administrations[2], first.administrations[4]
    assert dexa.dose.flat
    assert dexa.route is not None
    assert dexa.route.code == "386358000"
    assert dexa.max_minutes == 15
    assert ino8.dose.basis is Basis.PER_M2
    assert ino8.shift_days == 2
    (rel,) = dexa.relations
    assert (rel.direction, rel.low, rel.high, rel.point, rel.anchor) == (
        "before",
        30,
        30,
        "start",
        "inotuzumab ozogamicin",
    )
    assert rel.qualifier == "or as per institutional practice"
    assert [(g.medicine.name, g.days) for g in first.gaps] == [("inotuzumab ozogamicin", 6)]
    assert [(o.medicine.name, o.minutes) for o in first.observations] == [("inotuzumab ozogamicin", 60)]


def test_same_as_replaces_lines_and_notes_it_restates(seed: ir.Regimen) -> None:
    first, later = seed.cycles()
    assert later.same_as == 1
    assert later.heading == "Cycles 2 to 3 - 28 days - Subsequent doses for patients who did not achieve CR or CRi"
    assert [a.medicine.display for a in later.administrations] == [a.medicine.display for a in first.administrations]
    assert not later.administrations[0].off_label
    assert later.administrations[1] is first.administrations[1]
    assert "insitutional" in (later.administrations[2].instructions or "")
    assert [n.text[:20] for n in later.notes] == ["Dosing is for patien", "Days of administrati"]
    assert later.observations == first.observations


def test_plan(seed: ir.Regimen) -> None:
    plan = seed.plan
    assert plan.links() == ("leu-all-bcell-rr-inotuzumab-cr",)
    (decision,) = plan.decisions
    assert [(b.action, b.target) for b in decision.branches] == [
        ("continue", "leu-all-bcell-rr-inotuzumab-cr"),
        ("next", None),
    ]
    assert [(lim.count, lim.counted_with) for lim in plan.limits] == [
        (2, ("leu-all-bcell-rr-inotuzumab-cr",)),
        (3, ("leu-all-bcell-rr-inotuzumab-cr",)),
        (6, ("leu-all-bcell-rr-inotuzumab-cr",)),
    ]
    (stop,) = plan.stops
    assert stop.within == 3


def test_support_factors_are_code_pairs_with_verbatim_text(seed: ir.Regimen) -> None:
    by_text = {f.factor_text: f for f in seed.support.factors}
    hyper = by_text["Hypersensitivity / Infusion related reaction risk"]
    assert hyper.factor is not None
    assert hyper.value is not None
    assert (hyper.factor.code, hyper.value.code, hyper.value.display) == (
        "421961002",
        "723509005",
        "High - routine premedication recommended",
    )
    sos = by_text["Sinusoidal obstruction syndrome prophylaxis"]
    assert (sos.factor, sos.value, sos.value_text) == (
        None,
        None,
        "Sinsuoidal obstruction prophylaxis may be considered",
    )


# The findings lowering made until they became rules (issue 9): lowering now only resolves.
JUDGEMENTS = [
    "SAF101",
    "SAF102",
    "STR001",
    "STR002",
    "STR009",
    "STR010",
    "STR012",
    "STR019",
    "STR020",
    "TIM001",
    "TIM002",
    "TIM003",
    "TIM007",
    "VOC003",
    "VOC005",
    "VOC006",
    "VOC007",
    "VOC008",
    "VOC010",
    "VOC016",
]


@pytest.mark.parametrize("code", JUDGEMENTS)
def test_a_judgement_is_a_rule_and_lowering_makes_none(code: str) -> None:
    """Each is a documented rule, found by the rules and never by lowering (``check_paths``)."""
    found = registry().find(code)
    assert found is not None
    assert registry().kind(found) == "a rule, checked on each regimen"
    assert all(f"\n{section}:\n" in explain_text(found) for section in SECTIONS)
    cases = [p for p in (ROOT / "tests" / "diagnostics" / code).glob("*.reg") if not p.name.startswith("pass-")]
    assert cases
    for case in cases:
        assert code not in {d.code.code for d in check_paths([case]).diagnostics}
        assert code in {d.code.code for d in run_check([case]).diagnostics}


def test_an_unknown_link_never_suggests_the_regimen_itself(tmp_path: Path) -> None:
    (tmp_path / "library.reg").write_text('library "L"\n', encoding="utf-8")
    regimen = tmp_path / "abc-regimen.reg"
    regimen.write_text(
        'regimen abc-regimen\n  name "A"\n  status draft\n\ncycle 1: 21 days\n  loratadine 10 mg oral days 1\n\n'
        "plan\n  after cycle 1:\n    if response is CR: continue with abc-regimem\n    otherwise: stop\n",
        encoding="utf-8",
    )
    (finding,) = [d for d in check_paths([regimen]).diagnostics if d.code.code == "BRA001"]
    assert finding.help == "link to the id of a regimen file under the library root"


_TITLED = """regimen fixture
  name "Fixture"
  status draft

cycle 1: 21 days
  title "Induction"
  cISplatin 50 mg/m2 IV day 1 over 60 min

cycles 2 to 3: 21 days
  same as cycle 1

cycle 4: 21 days
  same as cycle 1
  title "Last cycle"

cycle 5: 21 days
  same as cycle 1
  title ""
"""


def test_same_as_copies_the_title_unless_the_cycle_gives_its_own(tmp_path: Path) -> None:
    path = tmp_path / "fixture.reg"
    path.write_text(_TITLED, encoding="utf-8")
    (regimen,) = check_paths([path]).regimens
    assert [g.heading for g in regimen.cycles()] == [
        "Cycle 1 - 21 days - Induction",
        "Cycles 2 to 3 - 21 days - Induction",
        "Cycle 4 - 21 days - Last cycle",
        "Cycle 5 - 21 days",
    ]


def _library_with(tmp_path: Path, entries: str, cycles: str) -> list[tuple[str, str, str]]:
    (tmp_path / "library.reg").write_text(f'library "test"\n\n{entries}', encoding="utf-8")
    regimen = f'regimen fixture\n  name "Fixture"\n  status draft\n\n{cycles}'
    (tmp_path / "fixture.reg").write_text(regimen, encoding="utf-8")
    found = run_check([tmp_path]).diagnostics
    return [(d.code.code, d.message, " | ".join(d.notes)) for d in found]


def test_a_library_lifetime_limit_replaces_the_package_limit_and_its_source(tmp_path: Path) -> None:
    entries = 'medicine "DOXOrubicin"\n  lifetime max 300 mg/m2 "the network\'s cardio-oncology policy"\n'
    # 60 mg/m2 x 6 cycles = 360 mg/m2: within the package's 450, beyond the library's 300.
    doxorubicin = "DOXOrubicin 60 mg/m2 IV day 1 over 15 min  # regdsl: ignore[SUP001] -- the limit is the point"
    cycles = f"cycles 1 to 6: 21 days\n  {doxorubicin}\n  note Monitoring\n    | LVEF first.\n"
    found = _library_with(tmp_path, entries, cycles)
    [(code, message, notes)] = found
    assert code == "SAF301"
    assert "lifetime limit of 300 mg/m²" in message
    assert "the network's cardio-oncology policy" in notes


def test_a_library_lifetime_limit_applies_to_a_medicine_the_package_has_none_for(tmp_path: Path) -> None:
    entries = 'medicine "mitoMYcin"\n  anticancer\n  lifetime max 50 mg/m2\n'
    found = _library_with(tmp_path, entries, "cycles 1 to 6: 42 days\n  mitoMYcin 10 mg/m2 IV day 1 over 15 min\n")
    assert [(code, message) for code, message, _ in found] == [
        ("SAF301", "the plan gives up to 60 mg/m² of mitoMYcin in total, more than the lifetime limit of 50 mg/m²")
    ]
    assert "which states no source" in found[0][2]
    assert "anthracycline" not in found[0][2]


def test_a_lifetime_limit_in_a_rate_unit_is_refused(tmp_path: Path) -> None:
    entries = 'medicine "mitoMYcin"\n  anticancer\n  lifetime max 50 mg/m2/day\n'
    found = _library_with(tmp_path, entries, "cycle 1: 42 days\n  mitoMYcin 10 mg/m2 IV day 1 over 15 min\n")
    assert [code for code, _, _ in found] == ["VOC001"]


def test_a_library_doxorubicin_equivalent_replaces_the_package_factor_and_is_given_once(tmp_path: Path) -> None:
    entries = (
        'medicine "DAUNOrubicin"\n  anticancer\n  doxorubicin equivalent 1 "the network\'s policy: as doxorubicin"\n'
        "  doxorubicin equivalent 0.5\n"
    )
    cycles = (
        "cycles 1 to 4: 21 days\n  DOXOrubicin 60 mg/m2 IV day 1 over 15 min\n"
        "cycles 5 to 7: 21 days\n  DAUNOrubicin 60 mg/m2 IV day 1 over 15 min\n"
    )
    # 240 mg/m2 of DOXOrubicin and 180 of DAUNOrubicin: 348 at the package's 0.6, 420 at the library's 1.
    found = _library_with(tmp_path, entries, cycles)
    # supportive care (SUP) is not what this tests
    assert sorted(code for code, _, _ in found if not code.startswith("SUP")) == ["SAF305", "VOC015"]
    [(_, message, notes)] = [item for item in found if item[0] == "SAF305"]
    assert "420 mg/m² of doxorubicin equivalents" in message
    assert "factor of daunorubicin: the network's policy: as doxorubicin" in notes


def test_a_brand_of_an_anthracycline_counts_towards_its_limit_with_the_generic(tmp_path: Path) -> None:
    entries = 'medicine "Adriamycin"\n  same as "DOXOrubicin"\n  anticancer\n'
    cycles = (
        "cycles 1 to 4: 21 days\n  Adriamycin 60 mg/m2 IV day 1 over 15 min\n"
        "cycles 5 to 8: 21 days\n  DOXOrubicin 60 mg/m2 IV day 1 over 15 min\n"
    )
    # 240 mg/m2 under each name: 480 mg/m2 of one medicine.
    found = [item for item in _library_with(tmp_path, entries, cycles) if not item[0].startswith("SUP")]
    assert [(code, message) for code, message, _ in found] == [
        ("SAF301", "the plan gives up to 480 mg/m² of Adriamycin in total, more than the lifetime limit of 450 mg/m²")
    ]


def _lines(tmp_path: Path, cycles: str) -> list[list[tuple[str, str, tuple[int, ...]]]]:
    """Return each cycle group's lines of a regimen of ``cycles``: medicine, dose and days."""
    path = tmp_path / "fixture.reg"
    path.write_text(f'regimen fixture\n  name "Fixture"\n  status draft\n\n{cycles}', encoding="utf-8")
    (regimen,) = check_paths([path]).regimens
    return [
        [(a.medicine.name, f"{a.dose.amount} {a.dose.unit.term}", a.days) for a in group.administrations]
        for group in regimen.cycles()
    ]


_DEXA_CYCLE_1 = """cycle 1: 21 days
  dexamethasone 4 mg oral days 1 to 5 supportive
  cycloPHOSPHamide 750 mg/m2 IV day 1 over 60 min
"""


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # A line that shares some days with the copied line replaces all of it (9.4).
        ("  dexamethasone 8 mg oral days 3 to 5 supportive\n", [("dexamethasone", "8 mg", (3, 4, 5))]),
        # Two lines that restate it take its place together, in the order written.
        (
            "  dexamethasone 8 mg oral day 3 supportive\n  dexamethasone 4 mg oral days 1, 2 supportive\n",
            [("dexamethasone", "8 mg", (3,)), ("dexamethasone", "4 mg", (1, 2))],
        ),
        # A line that shares no day with it is added; the copied line keeps all its days.
        (
            "  dexamethasone 8 mg oral days 8 to 9 supportive\n",
            [("dexamethasone", "4 mg", (1, 2, 3, 4, 5)), ("dexamethasone", "8 mg", (8, 9))],
        ),
    ],
)
def test_a_line_of_a_same_as_cycle_replaces_the_whole_copied_line(
    lines: str, expected: list[tuple[str, str, tuple[int, ...]]], tmp_path: Path
) -> None:
    _, second = _lines(tmp_path, f"{_DEXA_CYCLE_1}\ncycle 2: 21 days\n  same as cycle 1\n{lines}")
    assert [line for line in second if line[0] == "dexamethasone"] == expected
    assert ("cyclophosphamide", "750 mg/m²", (1,)) in second


def test_a_named_line_replaces_the_whole_copied_line_of_its_name_only(tmp_path: Path) -> None:
    _, second = _lines(
        tmp_path,
        """cycle 1: 14 days
  fluorouracil (bolus) 400 mg/m2 IV days 1, 8 over exactly 15 min
  fluorouracil (infusion) 2400 mg/m2 IV days 1, 8 over exactly 46 hours

cycle 2: 14 days
  same as cycle 1
  fluorouracil (bolus) 300 mg/m2 IV day 8 over exactly 15 min
""",
    )
    assert second == [("fluorouracil", "300 mg/m²", (8,)), ("fluorouracil", "2400 mg/m²", (1, 8))]


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [
        # `without` removes copied lines, not the cycle's own lines, before it or after it (9.5).
        (
            "  same as cycle 1\n  without dexamethasone\n  dexamethasone 8 mg oral days 3 to 5 supportive\n",
            [("cyclophosphamide", "750 mg/m²", (1,)), ("dexamethasone", "8 mg", (3, 4, 5))],
        ),
        (
            "  dexamethasone 8 mg oral days 3 to 5 supportive\n  without dexamethasone\n",
            [("dexamethasone", "8 mg", (3, 4, 5))],
        ),
        (
            "  same as cycle 1\n  dexamethasone 8 mg oral days 3 to 5 supportive\n  without dexamethasone\n",
            [("dexamethasone", "8 mg", (3, 4, 5)), ("cyclophosphamide", "750 mg/m²", (1,))],
        ),
        (
            "  dexamethasone 8 mg oral days 3 to 5 supportive\n  without dexamethasone\n"
            "  dexamethasone 4 mg oral days 6 to 7 supportive\n  without dexamethasone\n",
            [("dexamethasone", "8 mg", (3, 4, 5)), ("dexamethasone", "4 mg", (6, 7))],
        ),
        # It removes a block's lines used above it.
        (
            "  use premeds days 1\n  without dexamethasone\n  cycloPHOSPHamide 750 mg/m2 IV day 1 over 60 min\n",
            [("ondansetron", "8 mg", (1,)), ("cyclophosphamide", "750 mg/m²", (1,))],
        ),
    ],
)
def test_without_removes_copied_and_block_lines_only(
    cycle: str, expected: list[tuple[str, str, tuple[int, ...]]], tmp_path: Path
) -> None:
    block = "block premeds\n  dexamethasone 8 mg oral supportive\n  ondansetron 8 mg oral supportive\n\n"
    *_, last = _lines(tmp_path, f"{block}{_DEXA_CYCLE_1}\ncycle 2: 21 days\n{cycle}")
    assert last == expected
