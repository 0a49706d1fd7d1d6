"""Doses by the clock, N times daily, signed days and durations: their windows in minutes.

Each regimen is written as a pharmacist writes it, compiled, and its doses' windows read from
the solved timing network (minutes after the cycle's start; day 1 is 0 to 1439).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from regdsl.check.run import run_check
from regdsl.compile.library import check_paths
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.compile.stn import PointId, PointKind
from regdsl.model.wording import DAY
from regdsl.render.pictures import calendar, timelines

HEAD = 'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n'
CYCLE = PointId(1, 0, 1)


def compiled(tmp_path: Path, *lines: str, head: str = HEAD) -> tuple[Compiled, list[str]]:
    """Compile one cycle of ``lines``; return it and the codes of what the check found."""
    path = tmp_path / "fixture.reg"
    path.write_text(head + "".join(f"  {line}\n" for line in lines), encoding="utf-8")
    checked = check_paths([path])
    codes = [d.code.code for d in checked.diagnostics]
    if not checked.regimens:
        pytest.fail(f"nothing lowered: {codes}")
    (regimen,) = checked.regimens
    return compile_regimen(regimen), codes


def doses(result: Compiled, line: int = 0) -> list[tuple[int, int, tuple[int, int]]]:
    """Each dose start of ``line``: (day, number, window), in time order."""
    assert result.windows is not None
    found = [
        (p.day, p.number, w)
        for p, w in result.windows.items()
        if p.kind is PointKind.DOSE and p.line == line and not p.end
    ]
    return sorted(found, key=lambda f: f[2])


def codes_of(tmp_path: Path, *lines: str) -> list[str]:
    """Return the codes of everything `regdsl check` finds in one cycle of ``lines`` but its antiemetic cover."""
    path = tmp_path / "fixture.reg"
    path.write_text(HEAD + "".join(f"  {line}\n" for line in lines), encoding="utf-8")
    return [d.code.code for d in run_check([path], jobs=1).diagnostics if d.code.code != "SUP001"]


def test_every_12_hours_for_6_doses_is_six_points_720_minutes_apart(tmp_path: Path) -> None:
    result, codes = compiled(tmp_path, "cyclophosphamide 300 mg/m2 IV every 12 hours for 6 doses starting day 1")
    assert codes == []
    found = doses(result)
    # nominal days 1, 1, 2, 2, 3, 3; the first dose anywhere in day 1, the others follow it
    assert [(day, number) for day, number, _w in found] == [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]
    assert [w for *_key, w in found] == [(k * 720, k * 720 + DAY - 1) for k in range(6)]
    net = result.network
    starts = [net.index[CYCLE.dose(0, day, number)] for day, number, _w in found]
    spacing = [(c.lower, c.upper) for u, v, c in net.edges if (u, v) in set(itertools.pairwise(starts))]
    assert spacing == [(720, 720)] * 5
    # the first dose of a day keeps its point name; the second is `.n1`
    assert [str(CYCLE.dose(0, 1)), str(CYCLE.dose(0, 1, 1, end=True))] == [
        "p1.g0.c1.a0.d1.start",
        "p1.g0.c1.a0.d1.n1.end",
    ]


def test_each_day_repeats_the_series_on_every_listed_day(tmp_path: Path) -> None:
    result, codes = compiled(
        tmp_path, "cytarabine 3 g/m2 IV days 1, 3, 5 every 12 hours for 2 doses each day over 3 hours"
    )
    assert codes == []
    found = doses(result)
    assert [(day, number) for day, number, _w in found] == [(1, 0), (1, 1), (3, 0), (3, 1), (5, 0), (5, 1)]
    for d in (1, 3, 5):
        first, second = [w for day, _n, w in found if day == d]
        assert first == ((d - 1) * DAY, d * DAY - 1)
        assert second == (first[0] + 720, first[1] + 720)


def test_every_4_hours_without_a_count_fills_its_days(tmp_path: Path) -> None:
    result, codes = compiled(tmp_path, "dexamethasone 2 mg oral every 4 hours days 1 to 7")
    assert codes == []
    found = doses(result)
    assert len(found) == 42  # 7 days of six doses
    # every dose lies in days 1 to 7, so the first falls in the first 4 hours of day 1
    assert found[0][2] == (0, 239)
    assert found[-1][2] == (41 * 240, 7 * DAY - 1)
    assert [day for day, _n, _w in found] == [d for d in range(1, 8) for _ in range(6)]


def test_twice_daily_is_two_ordered_points_on_each_day(tmp_path: Path) -> None:
    result, codes = compiled(tmp_path, "capecitabine 1250 mg/m2 oral twice daily days 1 to 14")
    assert codes == []
    found = doses(result)
    assert len(found) == 28
    net = result.network
    for day in range(1, 15):
        first, second = (net.index[CYCLE.dose(0, day, n)] for n in (0, 1))
        window = ((day - 1) * DAY, day * DAY - 1)
        # both in their day; the second at least a minute after the first, no spacing invented
        assert result.windows is not None
        assert result.windows.of(CYCLE.dose(0, day)) == (window[0], window[1] - 1)
        assert result.windows.of(CYCLE.dose(0, day, 1)) == (window[0] + 1, window[1])
        (order,) = [(c.lower, c.upper) for u, v, c in net.edges if (u, v) == (first, second)]
        assert order == (1, None)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("cyclophosphamide 300 mg/m2 IV days 1 to 3 every 12 hours for 6 doses", "TIM011"),
        ("cyclophosphamide 300 mg/m2 IV every 5 hours days 1 to 3", "TIM011"),
        ("cyclophosphamide 300 mg/m2 IV every 12 hours for 0 doses starting day 1", "STR006"),
        ("cyclophosphamide 300 mg/m2 IV every 12 hours for 6 doses starting days 1, 2", "STR016"),
        ("cyclophosphamide 300 mg/m2 IV starting day 1", "STR016"),
        ("cyclophosphamide 300 mg/m2 IV twice daily every 12 hours day 1", "STR016"),
        ("cyclophosphamide 300 mg/m2 IV every 12 hours for 2 doses each day starting day 1", "STR016"),
        ("cyclophosphamide 300 mg/m2 IV every 0 hours day 1", "STR006"),
    ],
)
def test_a_series_that_can_be_read_two_ways_is_refused(tmp_path: Path, line: str, code: str) -> None:
    assert codes_of(tmp_path, line + " over 2 hours") == [code]


def test_a_series_counts_each_dose_against_the_dose_limit(tmp_path: Path) -> None:
    line = "ondansetron 8 mg oral every 1 min for 30000 doses starting day 1"
    assert codes_of(tmp_path, line) == []
    assert codes_of(tmp_path, line, line.replace("day 1", "day 2")) == ["STR022"]


def test_a_series_past_the_cycles_last_day_is_named_as_such(tmp_path: Path) -> None:
    line = "cyclophosphamide 300 mg/m2 IV every 12 hours for 6 doses starting day {} over 2 hours"
    assert codes_of(tmp_path, line.format(19)) == []
    # the last dose counts as day 22 of a 21-day cycle: said so, beside the conflict it makes
    assert sorted(codes_of(tmp_path, line.format(20))) == ["TIM001", "TIM004"]


def test_signed_days_are_minutes_before_the_cycle_start(tmp_path: Path) -> None:
    result, codes = compiled(tmp_path, "dexamethasone 4 mg oral days -2, -1, 0 ± 1 day", "cISplatin 50 mg/m2 IV day 1")
    assert codes == []
    # day -1 is [-2880, -1441]: the day before day 0, two days before day 1 (each ± 1 day)
    assert [w for _d, _n, w in doses(result)] == [(-4 * DAY, -DAY - 1), (-3 * DAY, -1), (-2 * DAY, DAY - 1)]
    assert [d for d, _n, _w in doses(result)] == [-2, -1, 0]


def _lasts(result: Compiled, line: int = 0) -> tuple[int | None, int | None, str]:
    """Return the bounds, in minutes, of the first dose's end after its start, and their words."""
    net = result.network
    s, e = net.index[CYCLE.dose(line, 1)], net.index[CYCLE.dose(line, 1, end=True)]
    (bounds,) = [(c.lower, c.upper, c.what) for u, v, c in net.edges if (u, v) == (s, e)]
    return bounds


@pytest.mark.parametrize(
    ("over", "bounds", "words"),
    [
        ("over 60 min", (0, 60), "over 1 hour"),
        ("over exactly 46 hours", (2760, 2760), "over exactly 1 day 22 hours"),
        ("over 4 to 6 hours", (240, 360), "over 4 to 6 hours"),
        ("over at least 15 min", (15, None), "over at least 15 min"),
        ("over 2 hours, may extend to 6 hours", (0, 360), "over 2 hours, may extend to 6 hours"),
        ("", (0, DAY - 1), "an infusion within the day"),
    ],
)
def test_each_duration_means_its_minutes(tmp_path: Path, over: str, bounds: tuple[int, int | None], words: str) -> None:
    result, codes = compiled(tmp_path, f"ondansetron 8 mg IV day 1 {over}".rstrip())
    assert codes == []
    assert _lasts(result) == (*bounds, words)


def test_at_least_is_still_bounded_by_the_cycles_end(tmp_path: Path) -> None:
    result, _codes = compiled(tmp_path, "ondansetron 8 mg IV day 21 over at least 15 min")
    assert result.windows is not None
    # the dose starts on day 21 and ends by the end of the cycle's last day, at least 15 min later
    assert result.windows.of(CYCLE.dose(0, 21, end=True)) == (20 * DAY + 15, 21 * DAY)


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ("over exactly 4 to 6 hours", "STR016"),
        ("over exactly 2 hours, may extend to 6 hours", "STR016"),
        ("over at least 4 to 6 hours", "STR016"),
        ("over 2 hours, may extend to 2 hours", "STR016"),
        ("over 6 to 4 hours", "STR007"),
    ],
)
def test_a_duration_that_says_two_things_is_refused(tmp_path: Path, over: str, code: str) -> None:
    assert sorted(codes_of(tmp_path, f"oxaliplatin 85 mg/m2 IV day 1 {over}")) == sorted([code, "CMP001"])


def test_a_continuous_infusion_through_days_lasts_those_days(tmp_path: Path) -> None:
    result, codes = compiled(tmp_path, "cytarabine 100 mg/m2/day IV days 1 to 7 continuous")
    assert codes == []
    assert result.windows is not None
    (dose,) = doses(result)
    assert dose == (1, 0, (0, DAY - 1))
    # 7 days of 1440 minutes: it ends on day 8 at the time it started
    assert _lasts(result) == (7 * DAY, 7 * DAY, "continuous through days 1 to 7")
    assert result.windows.of(CYCLE.dose(0, 1, end=True)) == (7 * DAY, 8 * DAY - 1)


def test_two_ranges_continuous_are_two_infusions(tmp_path: Path) -> None:
    head = HEAD.replace("21 days", "42 days")
    result, codes = compiled(tmp_path, "fluorouracil 1000 mg/m2/day IV days 1 to 4, 29 to 32 continuous", head=head)
    assert codes == []
    assert [(d, n, w) for d, n, w in doses(result)] == [(1, 0, (0, DAY - 1)), (29, 0, (28 * DAY, 29 * DAY - 1))]
    assert result.windows is not None
    assert result.windows.of(CYCLE.dose(0, 29, end=True)) == (32 * DAY, 33 * DAY - 1)


def test_one_day_continuous_is_ended_by_its_cycle(tmp_path: Path) -> None:
    result, codes = compiled(tmp_path, "mesna 1200 mg/m2 IV day 1 continuous")
    assert codes == []
    assert _lasts(result) == (0, None, "continuous; its end is not fixed")
    assert result.windows is not None
    assert result.windows.of(CYCLE.dose(0, 1, end=True)) == (0, 21 * DAY)


def test_a_pump_is_disconnected_at_the_end_of_its_exact_time(tmp_path: Path) -> None:
    result, codes = compiled(
        tmp_path, "fluorouracil 2400 mg/m2 IV day 1 over exactly 46 hours by pump bags every 24 hours"
    )
    assert codes == []
    assert _lasts(result)[:2] == (2760, 2760)
    net = result.network
    assert net.labels[net.index[CYCLE.dose(0, 1, end=True)]] == "fluorouracil on day 1 of cycle 1: pump disconnected"
    (admin,) = result.regimen.parts[0].cycles[0].administrations
    assert (admin.pump, admin.bag_minutes, admin.continuous) == (True, 1440, False)


@pytest.mark.parametrize(
    "line",
    [
        "cytarabine 100 mg/m2/day IV days 1 to 7 continuous over 24 hours",
        "cytarabine 100 mg/m2/day IV days 1 to 7 continuous twice daily",
        "cytarabine 100 mg/m2 oral day 1 over 24 hours by pump",
        "cytarabine 100 mg/m2 IV day 1 bags every 24 hours",
    ],
)
def test_an_infusion_that_says_two_things_is_refused(tmp_path: Path, line: str) -> None:
    assert "STR016" in codes_of(tmp_path, line)


def test_the_calendar_draws_each_dose_and_a_bar_through_a_continuous_infusion(tmp_path: Path) -> None:
    result, codes = compiled(
        tmp_path,
        "cytarabine 100 mg/m2/day IV days 1 to 7 continuous",
        "cyclophosphamide 300 mg/m2 IV every 12 hours for 6 doses starting day 1 over 2 hours",
        "dexamethasone 4 mg oral twice daily days -1 to 2",
    )
    assert codes == []
    cal = calendar(result, result.regimen.parts[0].cycles[0], ident="c")
    # the rows' marks come first, then the legend's
    cytarabine, cyclophosphamide, dexamethasone = [
        layer.boxes for layer in cal.layers if layer.paint.cls.startswith("dose")
    ][:3]
    assert cal.first_day == -1
    column = dexamethasone[2].x - dexamethasone[0].x
    # one mark on its first day, and a bar from day 1 to day 8, when it ends (10080 minutes later)
    assert len(cytarabine) == 1
    (bar,) = [box for layer in cal.layers if layer.paint.cls == "running dose-anticancer" for box in layer.boxes]
    assert bar.width == pytest.approx(7 * column)
    # two marks on each of days 1, 2 and 3 for the series; two a day on days -1 to 2
    assert len(cyclophosphamide) == 6
    assert [round((box.x - dexamethasone[0].x) / column, 1) for box in dexamethasone[::2]] == [0, 1, 2, 3]


def test_a_day_timeline_has_a_row_for_each_dose_of_a_series(tmp_path: Path) -> None:
    result, codes = compiled(
        tmp_path, "cyclophosphamide 300 mg/m2 IV every 12 hours for 4 doses starting day 1 over 2 hours"
    )
    assert codes == []
    drawn = timelines(result, result.regimen.parts[0].cycles[0], ident="t")
    assert [[row.label for row in t.rows] for t in drawn] == [
        [
            "cyclophosphamide 300 mg/m² IV, dose 1 of 4: starts at 0, over 2 hours",
            "cyclophosphamide 300 mg/m² IV, dose 2 of 4: 12 hours after, over 2 hours",
        ],
        [
            "cyclophosphamide 300 mg/m² IV, dose 3 of 4: starts at 0, over 2 hours",
            "cyclophosphamide 300 mg/m² IV, dose 4 of 4: 12 hours after, over 2 hours",
        ],
    ]


def test_the_old_every_two_hours_words_are_a_series_that_fills_the_day(tmp_path: Path) -> None:
    result, codes = compiled(tmp_path, "dexamethasone 2 mg oral every two hours day 3")
    assert codes == []
    found = doses(result)
    assert len(found) == 12
    assert (found[0][2], found[-1][2]) == ((2 * DAY, 2 * DAY + 119), (2 * DAY + 11 * 120, 3 * DAY - 1))
    (admin,) = result.regimen.parts[0].cycles[0].administrations
    assert admin.frequency is not None
    assert admin.frequency.code == "225750008"  # still coded as written


def test_a_relation_is_checked_against_the_days_the_network_times_it_on(tmp_path: Path) -> None:
    series = "cyclophosphamide 300 mg/m2 IV every 12 hours for 4 doses starting day 1 over 2 hours"
    # the series' third dose counts as given on day 2: a premedication on day 2 is timed to it
    assert codes_of(tmp_path, series, "ondansetron 8 mg oral days 1, 2 30 min before cyclophosphamide") == []
    # a continuous infusion is timed from its start: a relation to its third day has nothing to
    # measure from, and is said so rather than left out of the timing network
    infusion = "cytarabine 100 mg/m2/day IV days 1 to 7 continuous"
    assert codes_of(tmp_path, infusion, "ondansetron 8 mg oral day 3 30 min before cytarabine") == ["TIM002"]
    assert codes_of(tmp_path, infusion, "ondansetron 8 mg oral day 1 30 min before cytarabine") == []
