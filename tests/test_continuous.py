"""Continuous treatment: an open-ended one-day cycle in the timing network and the phase graph; time caps."""

from __future__ import annotations

from pathlib import Path

from regdsl.check.run import run_check
from regdsl.compile.passes import Compiled
from regdsl.compile.stn import PointId
from regdsl.model.wording import DAY
from regdsl.render.context import RenderContext
from regdsl.render.pages import render
from tests.facts import compile_alone

CML = """\
regimen cml
  name "Continuous treatment"
  status draft
  responses eln-cml-2020

continuous treatment
  capecitabine 400 mg flat oral once daily
  dexamethasone 4 mg flat oral once daily 30 min before capecitabine

plan
  stop if response is failure or toxicity is unacceptable
"""


def _compiled(text: str) -> Compiled:
    compiled = compile_alone(text.encode())
    assert compiled is not None
    return compiled


def test_every_day_is_a_one_day_cycle_open_to_the_next() -> None:
    compiled = _compiled(CML)
    (group,) = compiled.regimen.cycles()
    assert (group.continuous, group.open_ended, group.first, group.length_days) == (True, True, 1, 1)
    assert [a.days for a in group.administrations] == [(1,), (1,)]
    net = compiled.network
    first, second = PointId(1, 0, 1), PointId(1, 0, 2)
    assert net.cycles == [first, second]
    (length,) = [c for u, v, c in net.edges if (net.nodes[u], net.nodes[v]) == (first, second)]
    assert (length.lower, length.upper) == (DAY, DAY)
    assert compiled.windows is not None
    # capecitabine is given within each day; dexamethasone 30 min before it, which may be the evening before
    for day in (first, second):
        assert compiled.windows.of(day.dose(0, 1)) == (0, DAY - 1)
        assert compiled.windows.of(day.dose(1, 1)) == (-30, DAY - 1 - 30)


def test_continuous_treatment_repeats_until_the_plan_stops_it(tmp_path: Path) -> None:
    path = tmp_path / "cml.reg"
    path.write_text(CML.replace("  stop if response is failure or toxicity is unacceptable\n", "  at most 2 years\n"))
    assert [d.code.code for d in run_check([path]).diagnostics] == []
    path.write_text(CML.replace("\nplan\n  stop if response is failure or toxicity is unacceptable\n", ""))
    assert [(d.code.code, d.span.line) for d in run_check([path]).diagnostics] == [("BRA003", 6)]


def test_a_time_cap_is_no_number_of_cycles() -> None:
    text = CML.replace("continuous treatment\n", "cycle 1 and all further cycles: 21 days\n").replace(
        "once daily\n", "once daily days 1 to 14\n"
    )
    compiled = _compiled(text.replace("  stop if", "  at most 2 years\n  stop if"))
    (limit,) = compiled.regimen.plan.limits
    assert (limit.count, limit.unit) == (2, "years")
    assert compiled.regimen.plan.cycle_limits() == ()


def test_a_page_gives_a_time_cap_in_cycles_too() -> None:
    text = CML.replace("continuous treatment\n", "cycle 1 and all further cycles: 21 days\n").replace(
        "once daily\n", "once daily days 1 to 14\n"
    )
    compiled = _compiled(text.replace("  stop if", "  at most 2 years\n  stop if"))
    page = render("md", compiled, RenderContext(source="cml.reg"))
    assert "At most 2 years (about 35 cycles)" in page  # 730.5 days of 21-day cycles
    continuous = render(
        "md", _compiled(CML.replace("  stop if", "  at most 2 years\n  stop if")), RenderContext(source="cml.reg")
    )
    assert "At most 2 years\n" in continuous
    assert "Continuous treatment - every day" in continuous
