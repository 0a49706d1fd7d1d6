"""Relations in minutes: named lines, `then`, `concurrently with`, open bounds, `ending`, first and last doses.

Each test writes a small regimen, compiles it, and reads the solved bounds between two
points of its timing network (``bounds_from``: the least and the most minutes from one point
to another over every schedule), or the lines lowering kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from regdsl.compile.library import check_paths
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.compile.stn import OPEN, Bounds, PointId, bounds_from
from regdsl.model import ir

HEAD = 'regimen fixture\n  name "Fixture"\n  status draft\n\n'
C1 = PointId(1, 0, 1)


def _compiled(tmp_path: Path, body: str) -> Compiled:
    path = tmp_path / "fixture.reg"
    path.write_text(HEAD + body, encoding="utf-8")
    (regimen,) = check_paths([path]).regimens
    compiled = compile_regimen(regimen)
    assert compiled.conflict is None
    return compiled


def _between(compiled: Compiled, a: PointId, b: PointId) -> Bounds:
    """Return the least and the most minutes from ``a`` to ``b`` (None: unbounded)."""
    return bounds_from(compiled.network, a, [b])[b]


def _start(line: int, day: int) -> PointId:
    return C1.dose(line, day)


def _end(line: int, day: int) -> PointId:
    return C1.dose(line, day, end=True)


FOLFOX = """cycle 1: 14 days
  oxaliplatin 85 mg/m2 IV day 1 over exactly 2 hours
  fluorouracil (bolus) 400 mg/m2 IV day 1 over exactly 15 min after oxaliplatin
  then fluorouracil (infusion) 2400 mg/m2 IV day 1 over exactly 46 hours
  ondansetron 8 mg oral day 1 8 hours after end of fluorouracil (bolus) supportive
  observe 30 min after fluorouracil (bolus)
"""


def test_a_named_line_is_the_anchor_and_then_starts_when_the_line_above_ends(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path, FOLFOX)
    bolus, infusion = compiled.regimen.cycles()[0].administrations[1:3]
    assert (bolus.label, infusion.label) == ("bolus", "infusion")
    assert _between(compiled, _end(1, 1), _start(2, 1)) == (0, 0)  # then: end = start
    assert _between(compiled, _end(1, 1), _start(3, 1)) == (480, 480)  # 8 hours after the bolus, not the pump
    assert _between(compiled, _start(1, 1), _start(3, 1)) == (495, 495)
    # the observation follows the bolus only
    assert C1.observing(0, 1, 1) in compiled.network.index
    assert C1.observing(0, 2, 1) not in compiled.network.index


def test_a_route_names_a_line_and_concurrently_starts_together(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 21 days
  methotrexate 1000 mg/m2 IV day 1 over exactly 24 hours
  methotrexate 12 mg flat intrathecal day 1
  hydrocortisone 15 mg flat intrathecal day 1 concurrently with methotrexate (IT)
  ondansetron 8 mg oral day 1 30 min before methotrexate (IV) supportive
""",
    )
    assert _between(compiled, _start(1, 1), _start(2, 1)) == (0, 0)
    assert _between(compiled, _start(3, 1), _start(0, 1)) == (30, 30)
    assert [a.relation.line for a in compiled.network.anchorings] == ["IT", "IV"]


def test_at_least_within_and_ending_bound_one_side_only(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 21 days
  dexamethasone 8 mg oral day 1 at least 6 hours before PACLItaxel supportive
  loratadine 10 mg oral day 1 within 30 min before PACLItaxel supportive
  "sodium chloride" 1000 mL IV day 1 over exactly 2 hours ending at least 60 min before cISplatin supportive
  PACLItaxel 175 mg/m2 IV day 1 over exactly 3 hours
  cISplatin 50 mg/m2 IV day 1 over exactly 60 min
""",
    )
    # no upper bound but the day's: dexamethasone on day 1, PACLItaxel by day 1's end
    assert _between(compiled, _start(0, 1), _start(3, 1)) == (360, 1439)
    assert _between(compiled, _start(1, 1), _start(3, 1)) == (0, 30)
    assert _between(compiled, _end(2, 1), _start(4, 1)) == (60, 1439 - 120)
    # a line bounded on one side keeps its day; one bounded on both is placed by its anchor
    window = compiled.windows.of(_start(0, 1)) if compiled.windows else None
    assert window == (0, 1439 - 360)


def test_first_and_last_dose_of_a_line(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 21 days
  cyclophosphamide 300 mg/m2 IV days 1 to 3 over exactly 3 hours
  mesna 600 mg/m2 IV day 1 1 hour before first cyclophosphamide supportive
  mesna 600 mg/m2 IV day 1 over exactly 24 hours ending 12 hours after end of last cyclophosphamide supportive
""",
    )
    assert _between(compiled, _start(1, 1), _start(0, 1)) == (60, 60)
    assert _between(compiled, _end(0, 3), _end(2, 1)) == (720, 720)


def test_a_relation_with_an_amount_binds_only_to_its_own_day(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 21 days
  cISplatin 50 mg/m2 IV days 1, 9 over 60 min
  ondansetron 8 mg oral days 1, 8 30 min before cISplatin supportive
  dexamethasone 20 mg oral day 8 before cISplatin supportive
""",
    )
    timed = {(str(a.dose), str(a.anchor)) for a in compiled.network.anchorings}
    assert timed == {
        ("p1.g0.c1.a1.d1.start", "p1.g0.c1.a0.d1.start"),
        ("p1.g0.c1.a2.d8.start", "p1.g0.c1.a0.d9.start"),  # no amount: the night before
    }
    assert compiled.windows is not None
    assert compiled.windows.of(_start(1, 8)) == (7 * 1440, 8 * 1440 - 1)  # stays on day 8, not moved to day 9


def test_an_ambiguous_anchor_is_not_timed(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 14 days
  ondansetron 8 mg oral day 1 30 min before fluorouracil supportive
  fluorouracil 400 mg/m2 IV day 1 over 15 min
  fluorouracil 2400 mg/m2 IV day 1 over exactly 46 hours
""",
    )
    assert compiled.network.anchorings == []


def test_named_lines_in_same_as_without_and_gaps(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 14 days
  fluorouracil (bolus) 400 mg/m2 IV days 1, 8 ± 3 days over exactly 15 min
  fluorouracil (infusion) 2400 mg/m2 IV days 1, 8 ± 3 days over exactly 46 hours
  fluorouracil (bolus) doses at least 6 days apart
  note fluorouracil (infusion)
    | Disconnect the pump when empty.
cycle 2: 14 days
  same as cycle 1
  fluorouracil (bolus) 300 mg/m2 IV days 1, 8 over exactly 15 min
cycle 3: 14 days
  same as cycle 1
  without fluorouracil (bolus)
""",
    )
    one, two, three = compiled.regimen.cycles()
    assert [(a.label, str(a.dose.amount)) for a in two.administrations] == [("bolus", "300"), ("infusion", "2400")]
    assert [a.label for a in three.administrations] == ["infusion"]
    assert [(n.medicine.name if n.medicine else None, n.line) for n in one.notes] == [("fluorouracil", "infusion")]
    assert _between(compiled, _start(0, 1), _start(0, 8))[0] == 6 * 1440
    assert _between(compiled, _start(1, 1), _start(1, 8))[0] == 1  # the gap is the bolus's alone


@pytest.mark.parametrize(
    ("relation", "said"),
    [
        ("at least 30 min before fluorouracil (bolus)", "at least 30 min before fluorouracil (bolus)"),
        ("ending 12 hours after end of last fluorouracil", "ending 12 hours after last fluorouracil"),
        ("concurrently with fluorouracil (bolus)", "concurrently with fluorouracil (bolus)"),
    ],
)
def test_relations_are_said_with_their_line_and_bounds(relation: str, said: str, tmp_path: Path) -> None:
    from regdsl.model.wording import relation_text

    compiled = _compiled(
        tmp_path,
        f"""cycle 1: 14 days
  fluorouracil (bolus) 400 mg/m2 IV day 1 over exactly 15 min
  ondansetron 8 mg IV day 1 over exactly 15 min {relation} supportive
""",
    )
    (rel,) = compiled.regimen.cycles()[0].administrations[1].relations
    assert isinstance(rel, ir.Relation)
    assert relation_text(rel, {"fluorouracil": "fluorouracil"}) == said
    assert OPEN > 0


def test_an_observation_after_the_first_dose_only(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 21 days
  riTUXimab 375 mg/m2 IV days 1, 8 over 4 hours
  observe 60 min after first riTUXimab
""",
    )
    observed = [str(p) for p in compiled.network.nodes if p.observation >= 0]
    assert observed == ["p1.g0.c1.o0.a0.d1.start", "p1.g0.c1.o0.a0.d1.end"]
    assert _between(compiled, _end(0, 1), C1.observing(0, 0, 1, end=True)) == (60, 60)


CHEMO = """cycle 1: 21 days
  aprepitant 125 mg oral day 1 60 min before chemotherapy supportive
  cARBOplatin 5 AUC IV day 1 over exactly 60 min {order}
  PACLItaxel 175 mg/m2 IV day 1 over exactly 3 hours
  ondansetron 8 mg oral day 1 8 hours after chemotherapy supportive
"""


def test_chemotherapy_starts_with_the_line_the_constraints_force_first_not_the_first_listed(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path, CHEMO.format(order="after PACLItaxel"))
    assert compiled.network.unfixed == {}
    assert _between(compiled, _start(0, 1), _start(2, 1)) == (60, 60)  # PACLItaxel, listed second, starts first
    assert _between(compiled, _start(0, 1), _start(1, 1)) == (240, 1439 + 60)
    assert _between(compiled, _end(1, 1), _start(3, 1)) == (480, 480)  # after the last to end: cARBOplatin


def test_chemotherapy_with_no_order_fixed_is_no_later_than_each_start(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path, CHEMO.format(order=""))
    start = C1.chemotherapy(1)
    assert compiled.network.unfixed == {start: (1, 2), start.other_end: (1, 2)}
    # 60 minutes before whichever starts first: before each, by at least 60
    assert _between(compiled, _start(0, 1), _start(1, 1))[0] == 60
    assert _between(compiled, _start(0, 1), _start(2, 1))[0] == 60
    # and no earlier than the earliest either could start: the day's start, less the hour
    assert compiled.windows is not None
    assert compiled.windows.of(_start(0, 1)) == (-60, 1439 - 60)


def test_a_line_timed_from_chemotherapy_is_not_part_of_it(tmp_path: Path) -> None:
    compiled = _compiled(
        tmp_path,
        """cycle 1: 21 days
  riTUXimab 375 mg/m2 IV day 1 over exactly 4 hours 30 min before chemotherapy
  cyclophosphamide 750 mg/m2 IV day 1 over exactly 60 min
""",
    )
    assert _between(compiled, _start(0, 1), _start(1, 1)) == (30, 30)


def test_the_page_names_each_line(tmp_path: Path) -> None:
    from regdsl.render.context import RenderContext
    from regdsl.render.markdown import render_markdown

    page = render_markdown(_compiled(tmp_path, FOLFOX), RenderContext(source="fixture.reg"))
    assert "fluorouracil (bolus)" in page
    assert "fluorouracil (infusion)" in page
    assert "8 hours after fluorouracil (bolus)" in page


def test_a_bare_after_is_drawn_as_a_mark_not_a_window_across_the_day(tmp_path: Path) -> None:
    from regdsl.render.pictures import Bar, timelines

    compiled = _compiled(
        tmp_path,
        """cycle 1: 21 days
  dexamethasone 20 mg oral day 1 30 min before PACLItaxel supportive
  PACLItaxel 175 mg/m2 IV day 1 over exactly 3 hours
  cARBOplatin 5 AUC IV day 1 over 60 min after PACLItaxel
""",
    )
    (day,) = timelines(compiled, compiled.regimen.cycles()[0], ident="t")
    rows = {row.label: row.bars for row in day.rows}
    label = "cARBOplatin AUC 5 IV: after PACLItaxel ends (earliest: 3 hours after; no later time is given), over 60 min"
    assert rows[label] == (Bar("after", 180, 180),)
    assert _between(compiled, _end(1, 1), _start(2, 1)) == (0, 1439 - 180)  # the timing is unchanged: its day
