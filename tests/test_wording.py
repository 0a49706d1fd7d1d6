"""Times and relations in words: one module says them for the timing network, the rules and the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from regdsl.compile.library import check_paths
from regdsl.compile.passes import compile_regimen
from regdsl.model import ir
from regdsl.model.wording import (
    DAY,
    duration,
    gap_text,
    minutes_text,
    range_text,
    relation_text,
    shift_text,
    short_minutes,
)
from regdsl.render.context import RenderContext
from regdsl.render.view import build_view
from regdsl.source import SourceFile

SPAN = SourceFile("x.reg", "x").whole()


def _relation(
    low: int | None,
    high: int | None,
    direction: Literal["before", "after"] = "before",
    point: Literal["start", "end"] | None = None,
    kind: Literal["drug", "chemotherapy", "event"] = "drug",
) -> ir.Relation:
    return ir.Relation(
        span=SPAN,
        direction=direction,
        low=low,
        high=high,
        point=point or ("start" if direction == "before" else "end"),
        anchor_kind=kind,
        anchor="paclitaxel" if kind == "drug" else "chemotherapy",
        qualifier_text=None,
    )


def test_duration_words() -> None:
    assert [duration(m) for m in (0, 45, 60, 1500, 3 * DAY, -90)] == [
        "0 min",
        "45 min",
        "1 hour",
        "1 day 1 hour",
        "3 days",
        "-1 hour 30 min",
    ]
    assert [short_minutes(m) for m in (45, 119, 120, 1439)] == ["45 min", "119 min", "2 hours", "23 hours 59 min"]
    assert [minutes_text(m) for m in (1, 15, 60, 180, DAY, 2 * DAY)] == [
        "1 minute",
        "15 minutes",
        "60 minutes",
        "3 hours",
        "1 day",
        "2 days",
    ]


@pytest.mark.parametrize(
    ("low", "high", "compact", "library"),
    [
        (30, 60, "30 min to 1 hour", "30 to 60 minutes"),
        (0, 15, "0 to 15 min", "0 to 15 minutes"),
        (30, 30, "30 min", "30 minutes"),
        (120, 180, "2 to 3 hours", "2 to 3 hours"),
        # a unit is said once only when each end is one number and that unit
        (150, 210, "2 hours 30 min to 3 hours 30 min", "150 to 210 minutes"),
        (DAY, 2 * DAY, "1 day to 2 days", "1 day to 2 days"),
    ],
)
def test_a_range_says_its_unit_once_when_both_ends_share_it(low: int, high: int, compact: str, library: str) -> None:
    assert range_text(low, high) == compact
    assert range_text(low, high, minutes_text) == library


def test_one_day_is_singular_in_shift_windows_and_gaps() -> None:
    assert [shift_text(1), shift_text(2)] == ["± 1 day", "± 2 days"]
    assert [gap_text(1), gap_text(6)] == ["at least 1 day between doses", "at least 6 days between doses"]


@pytest.mark.parametrize(
    ("rel", "compact", "library"),
    [
        (_relation(30, 60), "30 min to 1 hour before PAC", "30 to 60 minutes before PAC"),
        (_relation(0, None), "before PAC", "before PAC"),
        (_relation(15, 15, point="end"), "15 min before the end of PAC", "15 minutes before the end of PAC"),
        (_relation(10, 10, "after", "start"), "10 min after the start of PAC", "10 minutes after the start of PAC"),
        (_relation(480, 480, "after", kind="chemotherapy"), "8 hours after chemotherapy", "8 hours after chemotherapy"),
        (_relation(360, None, "after"), "at least 6 hours after PAC", "at least 6 hours after PAC"),
    ],
)
def test_a_relation_is_worded_one_way_in_each_register(rel: ir.Relation, compact: str, library: str) -> None:
    displays = {"paclitaxel": "PAC"}
    assert relation_text(rel, displays) == compact
    assert relation_text(rel, displays, minutes_text) == library


ONE_DAY = """regimen example-one-day
  name "EXAMPLE - a one-day shift window and gap"
  status draft

cycle 1 and all further cycles: 21 days
  PACLItaxel 80 mg/m2 IV day 1 over 60 min
  PACLItaxel 80 mg/m2 IV day 8 ± 1 day over 60 min
  PACLItaxel doses at least 1 day apart

plan
  stop if response is PD
"""


def test_pages_say_a_one_day_shift_window_and_gap_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "one-day.reg"
    path.write_text(ONE_DAY, encoding="utf-8")
    (regimen,) = check_paths([path]).regimens
    view = build_view(compile_regimen(regimen), RenderContext(source="one-day.reg"))
    (cycle,) = view.parts[0].cycles
    assert cycle.rows[1].details == ("days 8 can move ± 1 day",)
    day8 = next(day for day in cycle.days if day.day == 8)
    assert day8.rows[0].timing[0] == "day 8 can move ± 1 day"
    assert day8.rows[0].timing[-1] == "at least 1 day between doses of PACLItaxel"
