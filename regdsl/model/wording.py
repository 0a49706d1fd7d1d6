"""Times and timing relations in words, written once for every output that says them.

Two registers share one set of phrases:

- the compact one of diagnostics and pictures (``duration``): ``7 days``, ``1 day 2 hours``,
  ``45 min``; the timing network's constraints and the day timelines say times so;
- the library's, on pages (``minutes_text``): ``15 minutes``, ``60 minutes``, ``3 hours``,
  ``1 day``, as the regimen library's own pages write them.

A range, a shift window, a minimum gap and a timing relation are worded here in either
register (``range_text``, ``shift_text``, ``gap_text``, ``relation_text``), so the timing
network's labels, the rules and the pages never word one thing two ways.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from regdsl.model import ir

__all__ = [
    "DAY",
    "Say",
    "clock_text",
    "day_count",
    "duration",
    "gap_text",
    "infusion_text",
    "minutes_text",
    "over_text",
    "range_text",
    "relation_text",
    "shift_text",
    "short_minutes",
]

DAY = 1440  # minutes

# How a register says a number of minutes.
Say = Callable[[int], str]


def day_count(days: int) -> str:
    """Say a number of days: ``1 day``, ``6 days``."""
    return f"{days} day" if days == 1 else f"{days} days"


def duration(minutes: int) -> str:
    """Say minutes as days, hours and minutes (the compact register): ``7 days``, ``1 day 2 hours``, ``45 min``."""
    if minutes == 0:
        return "0 min"
    sign = "-" if minutes < 0 else ""
    days, rest = divmod(abs(minutes), DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(day_count(days))
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours != 1 else ""))
    if mins:
        parts.append(f"{mins} min")
    return sign + " ".join(parts)


def short_minutes(minutes: int) -> str:
    """Say minutes as minutes under two hours, else compactly: ``45 min``, ``90 min``, ``8 hours``."""
    return f"{minutes} min" if minutes < 120 else duration(minutes)


def minutes_text(minutes: int) -> str:
    """Say minutes as the library does: ``15 minutes``, ``60 minutes``, ``3 hours``, ``1 day``."""
    if minutes and minutes % DAY == 0:
        return day_count(minutes // DAY)
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes // 60} hours"
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def range_text(low: int, high: int, say: Say = duration) -> str:
    """Say a range of minutes: ``30 to 60 minutes`` (one unit said once), ``30 min to 1 hour``, or one time."""
    if low == high:
        return say(low)
    first, last = say(low), say(high)
    a, b = first.split(" "), last.split(" ")
    if len(a) == len(b) == 2 and a[1] == b[1]:  # "30 to 60 minutes", not "30 minutes to 60 minutes"
        return f"{a[0]} to {last}"
    return f"{first} to {last}"


def clock_text(clock: ir.Clock, say: Say = duration) -> str:
    """Say a clock: ``every 12 hours for 6 doses``, ``every 12 hours for 2 doses each day``, ``every 4 hours``."""
    text = f"every {say(clock.interval)}"
    if clock.count is not None:
        text += f" for {clock.count} dose" + ("s" if clock.count != 1 else "")
        if clock.each_day:
            text += " each day"
    return text


def over_text(admin: ir.Administration, say: Say = duration) -> str:
    """Say a line's duration: ``60 min``, ``exactly 46 hours``, ``4 to 6 hours``, ``at least 15 min``.

    An extension follows: ``2 hours, may extend to 6 hours``. Empty when the line gives none.
    """
    low, high = admin.min_minutes, admin.max_minutes
    if high is None:
        text = f"at least {say(low)}" if low is not None else ""
    elif admin.exact_duration:
        text = f"exactly {say(high)}"
    elif low is not None:
        text = range_text(low, high, say)
    else:
        text = say(high)
    if admin.extend_minutes is not None:
        text += f", may extend to {say(admin.extend_minutes)}"
    return text


def infusion_text(admin: ir.Administration, say: Say = duration) -> str:
    """Say how long a line's doses take, continuous and pump included: ``continuous``, ``exactly 46 hours, by pump``.

    A continuous infusion through a range of days takes those days (the days say them); on one
    day without a duration its end is not fixed. Bags are said with their interval.
    """
    over = over_text(admin, say)
    parts = []
    if admin.continuous:
        several = len(admin.days) > 1
        parts.append("continuous" if over or several else "continuous; its end is not fixed")
    if over:
        parts.append(over)
    if admin.pump:
        parts.append("by pump")
    if admin.bag_minutes is not None:
        parts.append(f"bags changed every {say(admin.bag_minutes)}")
    return ", ".join(parts)


def shift_text(days: int) -> str:
    """Say a shift window: ``± 2 days``, ``± 1 day``."""
    return f"± {day_count(days)}"


def gap_text(days: int) -> str:
    """Say a minimum gap between doses: ``at least 6 days between doses``."""
    return f"at least {day_count(days)} between doses"


def relation_text(rel: ir.Relation, displays: Mapping[str, str], say: Say = duration) -> str:
    """Say a timing relation: ``30 to 60 min before PACLItaxel``, ``8 hours after the end of chemotherapy``.

    ``displays`` gives a medicine's display name by its name; ``say`` is the register's way
    of saying minutes. The qualifier written beside a relation is not part of it.
    """
    anchor = "chemotherapy" if rel.anchor_kind == "chemotherapy" else displays.get(rel.anchor, rel.anchor)
    low = rel.low or 0
    if rel.high is not None:
        amount = range_text(low, rel.high, say) + " "
    elif low:
        amount = f"at least {say(low)} "
    else:
        amount = ""
    point = ""
    if rel.direction == "before" and rel.point == "end":
        point = "the end of "
    elif rel.direction == "after" and rel.point == "start":
        point = "the start of "
    return f"{amount}{rel.direction} {point}{anchor}"
