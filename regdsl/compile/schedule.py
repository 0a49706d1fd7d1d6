"""A line's doses: each dose's day, its number within the day, its window and the spacing of a series.

The one place that knows what a line's days, frequency and clock mean as doses (the language
docs, "Dosing by the clock", and ``docs/timing.md``). Every dose is its own pair of points in
the timing network; a dose is named by its *nominal day* (the day it counts as given on: the
day it would fall on if the first dose of its series were at 00:00) and its *number* among the
line's doses of that day, from 0, so that the first dose of each day keeps the name it always
had (``p1.g0.c1.a4.d8.start``).

- one dose a day (no frequency, ``once daily``, ``once only``): a dose on each day, in its day;
- ``N times daily``: N doses on each day, each in its day, in order (no spacing is invented);
- ``every H for K doses`` from one day (``starting day d``, or one day written): one series of K
  doses, the first in day d, each H after the one before;
- ``every H for K doses each day``: that series on each listed day;
- ``every H`` without a count: on each range of days a to b, as many doses as fill the range,
  (b - a + 1) * 1440 / H, H apart, every one of them inside the range;
- ``days a to b continuous``: one infusion through each range of days, starting in day a and
  lasting exactly (b - a + 1) * 1440 minutes (so it ends on day b + 1 at the time it started);
  on one day, it lasts as its `over` says, or is open-ended (its relations or its cycle's end
  end it).

Days are in minutes from the cycle's start: day d is ``[(d - 1) * 1440, d * 1440 - 1]``, for
every integer d (day 0 and day -1 come before day 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from regdsl.model import ir
from regdsl.model.wording import DAY, duration

__all__ = [
    "Dose",
    "Series",
    "day_window",
    "dose_count",
    "doses_by_day",
    "point_days",
    "points_by_day",
    "positions",
    "runs",
    "schedule",
]


@dataclass(frozen=True, slots=True)
class Dose:
    """One dose of a line: its nominal day and number, and its bounds from the cycle start.

    ``earliest``/``latest`` bound the dose's start after its cycle's start, in minutes, before
    any shift window; None is no bound on that side (the dose is placed by its series).
    """

    day: int
    number: int
    earliest: int | None
    latest: int | None


@dataclass(frozen=True, slots=True)
class Series:
    """Doses one after the other: each consecutive pair of starts is ``spacing`` apart.

    A bound of ``spacing`` that is None is open; a ``spacing`` of None joins the doses by nothing
    (the days of a line given once a day: each is placed by its own day).
    """

    doses: tuple[Dose, ...]
    spacing: tuple[int, int | None] | None
    what: str  # the spacing in words, for the timing network's labels
    # How long each dose lasts, when the series says (a continuous infusion), and that in words;
    # None: as the line's duration says.
    lasts: tuple[int, int | None] | None = None
    lasts_what: str = ""


def day_window(day: int) -> tuple[int, int]:
    """Return the minutes of ``day`` after its cycle's start: ``[(day - 1) * 1440, day * 1440 - 1]``."""
    return (day - 1) * DAY, day * DAY - 1


def runs(days: tuple[int, ...]) -> list[tuple[int, int]]:
    """Return sorted ``days`` as runs of consecutive days, first and last: ``1, 2, 3, 8`` is ``(1, 3), (8, 8)``."""
    ranges: list[tuple[int, int]] = []
    for day in days:
        if ranges and ranges[-1][1] == day - 1:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


class _Numbers:
    """Numbers the doses of each nominal day in the order they are made."""

    def __init__(self) -> None:
        self.next: dict[int, int] = {}

    def dose(self, day: int, earliest: int | None, latest: int | None) -> Dose:
        number = self.next.get(day, 0)
        self.next[day] = number + 1
        return Dose(day=day, number=number, earliest=earliest, latest=latest)


def _series(numbers: _Numbers, first: int, count: int, interval: int, *, fill_to: int | None = None) -> Series:
    """Return ``count`` doses ``interval`` apart from day ``first``: the first in it, or all up to day ``fill_to``."""
    doses = []
    for k in range(count):
        earliest = latest = None
        if k == 0:
            earliest, latest = day_window(first)
            if fill_to is not None:
                latest = None
        if k == count - 1 and fill_to is not None:
            latest = day_window(fill_to)[1]
        doses.append(numbers.dose(first + k * interval // DAY, earliest, latest))
    return Series(doses=tuple(doses), spacing=(interval, interval), what=f"every {duration(interval)}")


def _continuous(admin: ir.Administration, dose: Dose, last: int) -> Series:
    """One continuous infusion from ``dose``'s day through day ``last``."""
    if last > dose.day:
        minutes = (last - dose.day + 1) * DAY
        lasts: tuple[int, int | None] | None = (minutes, minutes)
        what = f"continuous through days {dose.day} to {last}"
    elif admin.duration_stated:
        lasts, what = None, ""
    else:
        lasts, what = (0, None), "continuous; its end is not fixed"
    return Series(doses=(dose,), spacing=(1, None), what="", lasts=lasts, lasts_what=what)


def schedule(admin: ir.Administration) -> tuple[Series, ...]:
    """Return the doses of ``admin`` in one cycle, as series (a dose given alone is a series of one)."""
    numbers = _Numbers()
    clock = admin.clock
    if admin.continuous:
        return tuple(
            _continuous(admin, numbers.dose(first, *day_window(first)), last) for first, last in runs(admin.days)
        )
    if clock is None:
        per_day = admin.frequency.per_day if admin.frequency is not None else 1
        if per_day == 1:  # one series of unjoined doses, not a series a day
            return (Series(doses=tuple(Dose(day, 0, *day_window(day)) for day in admin.days), spacing=None, what=""),)
        return tuple(
            Series(
                doses=tuple(numbers.dose(day, *day_window(day)) for _ in range(per_day)),
                spacing=(1, None),
                what="the doses of the day in order",
            )
            for day in admin.days
        )
    if clock.count is not None:
        firsts = admin.days if clock.each_day else admin.days[:1]
        return tuple(_series(numbers, day, clock.count, clock.interval) for day in firsts)
    return tuple(
        _series(numbers, first, (last - first + 1) * DAY // clock.interval, clock.interval, fill_to=last)
        for first, last in runs(admin.days)
    )


def dose_count(admin: ir.Administration) -> int:
    """Return how many doses ``admin`` gives in one cycle (without building them)."""
    clock = admin.clock
    if admin.continuous:
        return len(runs(admin.days))
    if clock is None:
        return len(admin.days) * (admin.frequency.per_day if admin.frequency is not None else 1)
    if clock.count is not None:
        return clock.count * (len(admin.days) if clock.each_day else min(len(admin.days), 1))
    return sum((last - first + 1) * DAY // clock.interval for first, last in runs(admin.days))


def doses_by_day(admin: ir.Administration) -> dict[int, int]:
    """Return how many doses ``admin`` gives on each day they count as given on, in day order.

    A continuous infusion counts as given on every day it runs through.
    """
    if admin.continuous:
        return dict.fromkeys(admin.days, 1)
    found: dict[int, int] = {}
    for series in schedule(admin):
        for dose in series.doses:
            found[dose.day] = found.get(dose.day, 0) + 1
    return dict(sorted(found.items()))


def points_by_day(admin: ir.Administration) -> dict[int, int]:
    """Return how many doses of ``admin`` are named by each day, in day order (numbers 0 to N - 1).

    As ``doses_by_day``, but a continuous infusion is named by its first day only.
    """
    if not admin.continuous:
        return doses_by_day(admin)
    return {first: 1 for first, _last in runs(admin.days)}


def point_days(admin: ir.Administration) -> list[int]:
    """Return the days ``admin`` has a first dose on (``PointId.dose(line, day)`` names it), in order."""
    return list(points_by_day(admin))


def positions(admin: ir.Administration) -> dict[tuple[int, int], str]:
    """Return each dose of a series of several, by its day and number, as ``dose 2 of 6``."""
    found: dict[tuple[int, int], str] = {}
    for series in schedule(admin):
        if series.spacing is not None and len(series.doses) > 1:
            for k, dose in enumerate(series.doses, start=1):
                found[(dose.day, dose.number)] = f"dose {k} of {len(series.doses)}"
    return found
