"""Relations, line names and `chemotherapy` in choices of lines and in lines of several doses a day.

A relation is timed to the anchor its own patients are given: lines in other branches of a
choice are never its anchor, so they make it neither ambiguous (TIM007) nor repeated (TIM009),
and `chemotherapy` is the first anti-cancer line of each scenario's own day (TIM006 per scenario).
A named line given several times a day is timed by its first dose of each day, and observed
after each of its doses.
"""

from __future__ import annotations

from pathlib import Path

from regdsl.check.run import run_check
from regdsl.compile.passes import Compiled
from regdsl.compile.stn import PointId, bounds_from
from tests.facts import compile_alone

HEAD = 'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n'
C1 = PointId(1, 0, 1)


def _codes(tmp_path: Path, body: str) -> list[tuple[str, int]]:
    path = tmp_path / "fixture.reg"
    path.write_text(HEAD + body, encoding="utf-8")
    # SUP001 (antiemetic cover) is not what these cycles test.
    return [(d.code.code, d.span.line) for d in run_check([path]).diagnostics if d.code.code != "SUP001"]


def _compiled(body: str) -> Compiled:
    compiled = compile_alone((HEAD + body).encode())
    assert compiled is not None
    assert compiled.conflict is None
    return compiled


BRANCHED = """\
  if LVEF under 50 %:
    cARBOplatin (infusion) 5 AUC IV day 1 over 60 min
  otherwise:
    cARBOplatin (infusion) 6 AUC IV day 1 over 30 min
  ondansetron 8 mg oral day 1 30 min before cARBOplatin (infusion) supportive
  observe 30 min after cARBOplatin
"""


def test_lines_of_other_branches_are_neither_ambiguous_nor_repeated(tmp_path: Path) -> None:
    assert _codes(tmp_path, BRANCHED) == []
    compiled = _compiled(BRANCHED)
    for scenario, line in zip(compiled.scenarios, (0, 1), strict=True):
        bounds = bounds_from(scenario.network, C1.dose(2, 1), [C1.dose(line, 1)])
        assert bounds[C1.dose(line, 1)] == (30, 30)  # timed to the one cARBOplatin its patients are given


def test_lines_of_one_branch_are_still_ambiguous_and_repeated(tmp_path: Path) -> None:
    body = BRANCHED.replace("  otherwise:\n", "")  # both lines now in the `if`
    assert sorted(_codes(tmp_path, body)) == [("TIM007", 9), ("TIM007", 10), ("TIM009", 8)]


def test_then_in_a_branch_follows_the_line_above_in_its_branch(tmp_path: Path) -> None:
    body = """\
  PACLItaxel 175 mg/m2 IV day 1 over exactly 3 hours
  if LVEF under 50 %:
    then cARBOplatin 5 AUC IV day 1 over 60 min
  otherwise:
    DOXOrubicin 50 mg/m2 IV day 1 over exactly 60 min
    then cARBOplatin 6 AUC IV day 1 over 30 min
  note Premedication
    | Premedication as per the local protocol.
"""
    assert _codes(tmp_path, body) == [("TIM010", 8)]  # the first line of a branch follows no line
    compiled = _compiled(body.replace("    then cARBOplatin 5", "    cARBOplatin 5"))
    other = compiled.scenarios[1].network
    assert bounds_from(other, C1.dose(2, 1, end=True), [C1.dose(3, 1)])[C1.dose(3, 1)] == (0, 0)


PER_SCENARIO = """\
  aprepitant 125 mg oral day 1 60 min before chemotherapy supportive
  if LVEF under 50 %:
    cARBOplatin 5 AUC IV day 1 over 60 min
  otherwise:
    PACLItaxel 175 mg/m2 IV day 1 over 3 hours
    cARBOplatin 5 AUC IV day 1 over 60 min after PACLItaxel
  note Premedication
    | Premedication as per the local protocol.
"""


def test_chemotherapy_is_the_first_line_of_each_scenarios_own_day(tmp_path: Path) -> None:
    assert _codes(tmp_path, PER_SCENARIO) == []  # fixed in each scenario, though not over all lines
    compiled = _compiled(PER_SCENARIO)
    for scenario, first in zip(compiled.scenarios, (1, 2), strict=True):
        assert not scenario.network.unfixed
        bounds = bounds_from(scenario.network, C1.dose(0, 1), [C1.dose(first, 1)])
        assert bounds[C1.dose(first, 1)] == (60, 60)


def test_an_order_not_fixed_in_any_scenario_is_reported(tmp_path: Path) -> None:
    body = PER_SCENARIO.replace(" after PACLItaxel", "")  # fixed for the first patients, not for the others
    assert _codes(tmp_path, body) == [("TIM006", 6)]


def test_a_line_of_another_branch_is_not_an_anchor(tmp_path: Path) -> None:
    body = """\
  cARBOplatin 5 AUC IV day 1 over 60 min
  if LVEF under 50 %:
    ondansetron 8 mg oral day 1 30 min before cARBOplatin supportive
    dexamethasone 8 mg flat oral day 1 30 min before DOXOrubicin supportive
  otherwise:
    DOXOrubicin 50 mg/m2 IV day 1 over exactly 60 min
    cARBOplatin 6 AUC IV day 1 over 30 min
"""
    # the first branch's patients are given the first cARBOplatin only, and no DOXOrubicin
    assert _codes(tmp_path, body) == [("TIM002", 9)]


SERIES = """\
  cytarabine (high) 3 g/m2 IV days 1, 3 every 12 hours for 2 doses each day over 3 hours
  cytarabine (low) 100 mg/m2 IV day 2 over 60 min
  ondansetron 8 mg oral days 1, 3 30 min before cytarabine (high) supportive
  observe 30 min after cytarabine (high)
  observe 15 min after last cytarabine
"""


def test_a_named_line_of_several_doses_a_day_is_timed_dose_by_dose(tmp_path: Path) -> None:
    assert _codes(tmp_path, SERIES) == []
    compiled = _compiled(SERIES)
    (only,) = compiled.scenarios
    index = only.network.index
    # the relation times the named line's first dose of each day it is given on
    bounds = bounds_from(only.network, C1.dose(2, 3), [C1.dose(0, 3)])
    assert bounds[C1.dose(0, 3)] == (30, 30)
    # an observation of the named line follows each of its doses, none of the other line's
    assert {C1.observing(0, 0, day, n) for day in (1, 3) for n in (0, 1)} <= set(index)
    assert C1.observing(0, 1, 2) not in index
    # `last cytarabine` is the last day either line is given: the named line's two doses of day 3
    assert [p for p in index if p.kind.name == "OBSERVATION" and p.observation == 1 and not p.end] == [
        C1.observing(1, 0, 3, 0),
        C1.observing(1, 0, 3, 1),
    ]
