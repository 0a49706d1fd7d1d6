"""Response vocabularies and groups: the package's facts with their sources, and exact checks over their states."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from regdsl.check.run import run_check
from regdsl.compile.phases import Space, cells, describe_state
from regdsl.model import limits
from regdsl.model.conditions import GROUPS, MEASURES, VOCABULARIES


def test_every_package_vocabulary_and_group_cites_its_source() -> None:
    for values in (*VOCABULARIES.values(), *GROUPS.values()):
        assert values.source, values.name
        assert values.title, values.name
        assert values.values, values.name
        assert all(title for _, title in values.values), values.name
        assert len(set(values.names())) == len(values.values), values.name


def test_the_default_vocabulary_keeps_the_five_responses() -> None:
    assert VOCABULARIES["default"].names() == ("CR", "CRi", "PR", "SD", "PD")


def test_a_space_has_one_state_per_combination_of_what_is_named() -> None:
    space = Space(VOCABULARIES["imwg"].names(), (GROUPS["toxicity"], GROUPS["cns"]))
    assert len(space.states) == 7 * 2 * 2 * 2 * 3
    assert (
        describe_state(space.states[0])
        == "response CR, MRD negative, proceeding to HSCT, toxicity acceptable, cns CNS1"
    )


def _library(tmp: Path, groups: int, plan: str) -> Path:
    lines = ['library "Many groups"', ""]
    for k in range(groups):
        lines += [f'group g{k} "group {k}"', '  yes "yes"', '  no "no"', ""]
    (tmp / "library.reg").write_text("\n".join(lines), encoding="utf-8")
    regimen = tmp / "many.reg"
    conds = " or ".join(f"g{k} is yes" for k in range(groups))
    regimen.write_text(
        "\n".join(
            [
                "regimen many",
                '  name "Many groups"',
                "  status draft",
                "",
                "cycle 1 and all further cycles: 21 days",
                "  loratadine 10 mg oral days 1",
                "",
                "plan",
                plan.format(conds=conds),
                "",
            ]
        ),
        encoding="utf-8",
    )
    return regimen


def test_a_decision_with_too_many_states_is_refused_before_they_are_listed(tmp_path: Path) -> None:
    # 20 states of response, MRD and HSCT, times 2 ** 13 values: beyond the limit, refused at once.
    assert limits.CONDITION_STATES.value < 20 * 2**13
    regimen = _library(tmp_path, 13, "  stop if {conds}")
    found = [(d.code.code, d.span.line) for d in run_check([regimen]).diagnostics]
    assert found == [("STR022", 9)]


def test_a_decision_within_the_limit_is_checked_exactly(tmp_path: Path) -> None:
    regimen = _library(tmp_path, 12, "  after cycle 1:\n    if {conds}: stop")
    diagnostics = run_check([regimen]).diagnostics
    assert [(d.code.code, d.span.line) for d in diagnostics] == [("BRA003", 5), ("BRA004", 9)]
    # the only patients left out say no to every group
    assert "g0 no, g1 no" in diagnostics[1].message
    assert "g11 no" in diagnostics[1].message


def test_a_measure_is_cut_into_cells_at_the_regimens_thresholds() -> None:
    found = cells(MEASURES["CrCl"], [Fraction(50), Fraction(30), Fraction(50)])
    assert [c.value for c in found] == [29, 30, 40, 50, 51]
    assert [c.text for c in found] == [
        "CrCl under 30 mL/min",
        "CrCl exactly 30 mL/min",
        "CrCl between 30 and 50 mL/min",
        "CrCl exactly 50 mL/min",
        "CrCl over 50 mL/min",
    ]


def test_bands_that_leave_a_gap_name_a_patient_in_it(tmp_path: Path) -> None:
    regimen = tmp_path / "bands.reg"
    regimen.write_text(
        "\n".join(
            [
                "regimen bands",
                '  name "Bands"',
                "  status draft",
                "",
                "cycles 1 to 2: 21 days",
                "  loratadine 10 mg oral days 1",
                "",
                "plan",
                "  after cycle 1:",
                "    if CrCl 51 to 80 mL/min: next cycle",
                "    if CrCl 30 to 50 mL/min or CrCl over 80 mL/min: next cycle",
                "    if CrCl under 30 mL/min: stop",
                "",
            ]
        ),
        encoding="utf-8",
    )
    (finding,) = run_check([regimen]).diagnostics
    assert finding.code.code == "BRA004"
    assert finding.message.endswith("CrCl between 50 and 51 mL/min")
