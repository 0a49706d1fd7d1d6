"""Choices of lines (`if`, `by`): one timing network per scenario, and pages that say who each line is for."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from regdsl.check.run import run_check
from regdsl.compile import passes
from regdsl.compile import schedule as schedule_module
from regdsl.compile import stn as stn_module
from regdsl.compile.anchoring import Given, Lines
from regdsl.compile.passes import Compiled
from regdsl.compile.schedule import Series
from regdsl.compile.stn import PointId
from regdsl.model import ir, limits
from regdsl.model.wording import DAY
from regdsl.render.context import RenderContext
from regdsl.render.document import build_document
from regdsl.render.pages import render
from regdsl.render.pictures import timelines
from regdsl.source import Span
from tests.facts import bundled, compile_alone

LVEF = """\
regimen lvef
  name "Choices"
  status draft

cycle 1 and all further cycles: 21 days
  if LVEF under 50 %:
    DOXOrubicin 50 mg/m2 IV day 1 over exactly 48 hours
  otherwise:
    DOXOrubicin 50 mg/m2 IV day 1 over exactly 24 hours
  cyclophosphamide 750 mg/m2 IV day 1 over 60 min 36 to 40 hours after DOXOrubicin

plan
  stop if response is PD
  at most 6 cycles
"""


def _compiled(text: str) -> Compiled:
    compiled = compile_alone(text.encode())
    assert compiled is not None
    return compiled


def test_each_patient_is_timed_with_the_lines_of_their_branch() -> None:
    compiled = _compiled(LVEF)
    assert [s.text for s in compiled.scenarios] == [
        "patients with LVEF under 50 %",
        "patients without LVEF under 50 %",
    ]
    first = PointId(1, 0, 1)
    long, short = compiled.scenarios
    assert long.windows is not None
    assert short.windows is not None
    # the relation binds to the one DOXOrubicin each patient is given: 48 or 24 hours, then 36 to 40 hours
    assert long.windows.get(first.dose(1, 1)) is None
    assert long.windows.of(first.dose(2, 1)) == (2 * DAY + 36 * 60, DAY - 1 + 2 * DAY + 40 * 60)
    assert short.windows.get(first.dose(0, 1)) is None
    assert short.windows.of(first.dose(2, 1)) == (DAY + 36 * 60, DAY - 1 + DAY + 40 * 60)
    # pages show each line's window over the patients it is given to
    assert compiled.windows is not None
    assert compiled.windows.of(first.dose(2, 1)) == (DAY + 36 * 60, DAY - 1 + 2 * DAY + 40 * 60)
    assert compiled.windows.of(first.dose(0, 1)) == long.windows.of(first.dose(0, 1))


def test_a_conflict_names_the_patients_it_is_for(tmp_path: Path) -> None:
    path = tmp_path / "short.reg"
    path.write_text(
        "\n".join(
            [
                "regimen short",
                '  name "Choices"',
                "  status draft",
                "",
                "cycle 1: 2 days",
                "  if LVEF under 50 %:",
                "    DOXOrubicin 50 mg/m2 IV day 2 over exactly 48 hours",
                "  otherwise:",
                "    DOXOrubicin 50 mg/m2 IV day 2 over exactly 24 hours",
                "",
            ]
        ),
        encoding="utf-8",
    )
    (finding,) = [d for d in run_check([path]).diagnostics if d.code.code == "TIM004"]
    assert finding.notes == ("for patients with LVEF under 50 %",)


def test_a_regimen_without_choices_has_one_scenario() -> None:
    text = LVEF.replace("  if LVEF under 50 %:\n    DOXOrubicin 50 mg/m2 IV day 1 over exactly 48 hours\n", "")
    compiled = _compiled(text.replace("  otherwise:\n    DOXOrubicin", "  DOXOrubicin"))
    (only,) = compiled.scenarios
    assert only.text == "every patient"
    assert compiled.network is only.network
    assert compiled.regimen.cycles()[0].choices == ()


def test_pages_say_who_each_line_is_for() -> None:
    document = json.loads(json.dumps(build_document(_compiled(LVEF), RenderContext(source="lvef.reg"))))
    group = document["parts"][0]["cycles"][0]
    assert [a["for_patients"] for a in group["administrations"]] == [
        "for patients with LVEF under 50 %",
        "for patients without LVEF under 50 %",
        None,
    ]


def test_a_timed_day_draws_the_lines_of_the_patients_it_was_timed_for() -> None:
    # Both branches give DOXOrubicin on day 1, which the cyclophosphamide relation times: the day
    # is timed in the first patients' network, so its timeline draws their DOXOrubicin only (the
    # other branch's line has no point there; drawing it failed with an internal error).
    compiled = _compiled(LVEF)
    group = compiled.regimen.cycles()[0]
    (day1,) = timelines(compiled, group, ident="c1")
    labels = [row.label for row in day1.rows]
    assert [label for label in labels if label.startswith("DOXOrubicin")] == [
        next(label for label in labels if "exactly 2 days" in label)
    ]
    assert render("html", compiled, RenderContext(source="lvef.reg"))


def test_too_many_scenarios_are_refused(tmp_path: Path) -> None:
    lines = ["regimen many", '  name "Many"', "  status draft", "", "cycle 1 and all further cycles: 21 days"]
    for k in range(7):  # 2 ** 7 = 128 combinations of 7 independent choices
        lines += [f"  if LVEF at least {k + 1} %:", f"    DOXOrubicin {k + 20} mg/m2 IV day {k + 1} over 60 min"]
    lines += ["", "plan", "  stop if response is PD", "  at most 2 cycles", ""]
    path = tmp_path / "many.reg"
    path.write_text("\n".join(lines), encoding="utf-8")
    found = [(d.code.code, d.span.line) for d in run_check([path]).diagnostics if d.code.code != "SUP001"]
    assert found == [("STR022", 18)]


def test_the_scenarios_share_the_limits_of_one_network(monkeypatch: pytest.MonkeyPatch) -> None:
    one = compile_alone(LVEF.encode())
    assert one is not None
    biggest = max(s.network.size + len(s.network) for s in one.scenarios)
    # each scenario's network alone is within the limit, the two together are not
    monkeypatch.setattr(passes, "TIMING_SIZE", dataclasses.replace(limits.TIMING_SIZE, value=biggest + 1))
    refused = compile_alone(LVEF.encode())
    assert refused is not None
    assert [d.code.code for d in refused.diagnostics] == ["STR022"]
    assert refused.diagnostics[0].primary.span.line == 6  # the choice


def test_the_scenarios_share_what_does_not_depend_on_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line's doses are worked out once, and a group's lines once per set of them given, for every scenario."""
    text = LVEF.replace("over 60 min 36 to 40 hours after DOXOrubicin", "over 60 min 1 hour before chemotherapy")
    calls = {"schedule": 0, "lines": 0}
    real_schedule, real_lines = schedule_module.schedule, Lines

    def schedule(admin: ir.Administration) -> tuple[Series, ...]:
        calls["schedule"] += 1
        return real_schedule(admin)

    def lines(group: ir.CycleGroup, given: Given) -> Lines:
        calls["lines"] += 1
        return real_lines(group, given)

    monkeypatch.setattr("regdsl.compile.stn.schedule", schedule)
    monkeypatch.setattr("regdsl.compile.stn.Lines", lines)
    compiled = _compiled(text)
    assert len(compiled.scenarios) == 2  # each network built twice (timed from chemotherapy)
    assert calls == {"schedule": 3, "lines": 2}  # three lines; two sets of lines given


_TWO_GROUPS = (
    LVEF.replace("cycle 1 and all further cycles: 21 days", "cycle 1: 21 days")
    + """\
cycle 2 and all further cycles: 21 days
  cyclophosphamide 750 mg/m2 IV day 1 over 60 min
  ondansetron 8 mg flat oral days 1 to 3 30 min before cyclophosphamide
"""
)


def test_a_cycle_no_choice_changes_is_built_once_for_every_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other scenarios replay it: cycles 2 and 3 (unrolled, open-ended) are built for the first scenario only."""
    built: list[int] = []
    real = stn_module._Builder._cycle

    def cycle(builder: stn_module._Builder, ident: PointId, start: int, group: ir.CycleGroup) -> None:
        built.append(ident.cycle)
        real(builder, ident, start, group)

    monkeypatch.setattr("regdsl.compile.stn._Builder._cycle", cycle)
    compiled = _compiled(_TWO_GROUPS)
    assert len(compiled.scenarios) == 2
    assert built == [1, 2, 3, 1]


@pytest.mark.parametrize("regimen_id", ["leu-all-hyper-cvad", "leu-aml-azacitidine-venetoclax", "two-groups"])
def test_a_replayed_network_is_the_network_built_alone(regimen_id: str) -> None:
    """Every scenario's network, its cycles replayed from other scenarios, is field for field the one built alone."""
    compiled = _compiled(_TWO_GROUPS) if regimen_id == "two-groups" else bundled(regimen_id)
    assert len(compiled.scenarios) > 1
    for scenario in compiled.scenarios:
        picked = dict(scenario.branches)

        def given(admin: ir.Administration, picked: dict[Span, int] = picked) -> bool:
            return admin.guard is None or picked.get(admin.guard.choice) == admin.guard.branch

        alone = stn_module.build_network(compiled.regimen, given)
        assert stn_module.find_conflict(alone) is None
        solved = stn_module.windows(alone)
        assert solved == scenario.windows
        assert alone == scenario.network  # the search steps included: the limits count the same work


_LONGER = _TWO_GROUPS.replace("cycle 2 and all further cycles: 21 days", "cycles 2 to 6: 21 days")


def test_windows_another_scenario_solved_alike_are_not_searched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cycles 5 and 6, and the cycles two either side of them, are built alike in both scenarios: solved once."""
    searches: list[tuple[int, int]] = []
    real = stn_module._Search.run

    def run(search: stn_module._Search, sources: Any, low: int, high: int) -> int | None:
        if search.arcs is search.net.arcs:  # the forward searches: the conflict's, and one for each shape solved
            searches.append((low, high))
        return real(search, sources, low, high)

    monkeypatch.setattr("regdsl.compile.stn._Search.run", run)
    compiled = _compiled(_LONGER)
    points = [len(s.network) for s in compiled.scenarios]
    assert points == [50, 50]  # cycles 3 and 4 have one shape: five shapes in each network
    whole = [k for k, (low, high) in enumerate(searches) if (low, high) == (0, 50)]
    assert whole == [0, 6]  # each scenario's conflict search, then its shapes: five, then three (cycles 1 to 3)
    assert len(searches) == 6 + 4


BANDS = """\
regimen bands
  name "Choices"
  status draft

cycle 1: 21 days
  by CrCl:
    over 50 mL/min:
      capecitabine 1250 mg/m2 oral twice daily days 1 to 14
    30 to 50 mL/min:
      capecitabine 950 mg/m2 oral twice daily days 1 to 14
    otherwise:
      note capecitabine
        | Contraindicated.
  dexamethasone 8 mg flat oral days 1 to 3
cycle 2: 21 days
  same as cycle 1
  dexamethasone 4 mg flat oral days 1 to 3
cycle 3: 21 days
  same as cycle 1
  without capecitabine
  by weight:
    at least 45 kg:
      capecitabine 1000 mg/m2 oral twice daily days 1 to 14
    under 45 kg:
      capecitabine 800 mg/m2 oral twice daily days 1 to 14
"""


def test_same_as_copies_a_choice_with_its_key() -> None:
    one, two, three = _compiled(BANDS).regimen.cycles()
    assert two.choices == one.choices
    doses = [(a.medicine.name, a.dose.text, a.guard) for a in two.administrations]
    assert doses == [
        ("capecitabine", "1250", ir.Guard(choice=one.choices[0].key, branch=0)),
        ("capecitabine", "950", ir.Guard(choice=one.choices[0].key, branch=1)),
        ("dexamethasone", "4", None),
    ]
    assert [a.dose.text for a in three.administrations if a.medicine.name == "capecitabine"] == ["1000", "800"]
    assert {a.guard.choice for a in three.administrations if a.guard is not None} == {three.choices[-1].key}


def test_pages_say_who_a_line_is_for_with_titles_the_json_with_names() -> None:
    text = LVEF.replace("if LVEF under 50 %:", "if LVEF under 50 % and cns is CNS3:")
    compiled = _compiled(text)
    context = RenderContext(source="lvef.reg")
    page = render("md", compiled, context)
    said = "left ventricular ejection fraction under 50 % and CNS status of acute lymphoblastic leukaemia is CNS3: "
    assert f"for patients with {said}" in page
    assert f"for patients other than those with {said}" in page
    document = json.dumps(build_document(compiled, context))
    assert "for patients with LVEF under 50 % and cns is CNS3" in document
    assert "for patients without LVEF under 50 % and cns is CNS3" in document
    single = render("md", _compiled(LVEF.replace("if LVEF under 50 %:", "if cns in (CNS1, CNS2):")), context)
    assert "for patients whose CNS status of acute lymphoblastic leukaemia is CNS1: no blasts" in single
    assert "for patients other than those whose CNS status of acute lymphoblastic leukaemia is CNS1: " in single
