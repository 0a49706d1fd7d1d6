"""The two pictures of a regimen page, as views for the SVG templates.

A *cycle calendar* shows one cycle group: a row per administration line, a column per
day, a mark on each dose day, the solved shift windows and the cycle's possible
extension. A *day timeline* shows one dose day in minutes around its anchor infusion:
premedications' start windows, infusions, observation periods. Both are computed here in
full (every coordinate, text and class); the templates ``calendar.svg.j2`` and
``timeline.svg.j2`` only loop over the layers of a ``Picture``.

Each picture is accessible on its own: its ``title`` and ``desc`` say in words what the
drawing shows, every element has a CSS class (styled by the page) and presentation
attributes (legible without the stylesheet and in print), and nothing is told by colour
alone: anti-cancer doses are squares, supportive doses circles, as-needed items hollow
and dashed, windows hatched and outlined, and a legend names each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from regdsl.compile.days import TimedDay
from regdsl.compile.passes import Compiled
from regdsl.compile.schedule import doses_by_day, point_days, points_by_day, positions
from regdsl.compile.stn import PointId, PointKind, day_of
from regdsl.model import ir
from regdsl.model.doses import dose_text
from regdsl.model.medicines import Medicine
from regdsl.model.wording import DAY, infusion_text, over_text, range_text, short_minutes
from regdsl.render.view import days_words

__all__ = [
    "Bar",
    "Box",
    "Calendar",
    "CalendarRow",
    "Layer",
    "LegendItem",
    "Paint",
    "Pattern",
    "Picture",
    "Text",
    "Timeline",
    "TimelineRow",
    "calendar",
    "timelines",
]

# Text sizes (user units, one per CSS pixel at 100%): never below 11.
FONT = 12
SMALL = 11
CHAR = 7  # a generous estimate of one character's width at FONT, for layout
INK = "#1a1a1a"
# Start windows wider than this (relative to the anchor) are open-ended, not drawn to scale.
NEAR = 12 * 60


# -- the drawing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paint:
    """How a layer is drawn: its CSS classes and the presentation attributes used without CSS."""

    cls: str
    fill: str
    stroke: str = "none"
    dash: str = ""
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle (``rx`` rounds it: half its width makes a circle)."""

    x: float
    y: float
    width: float
    height: float
    rx: float = 0


@dataclass(frozen=True, slots=True)
class Text:
    """A line of text; ``anchor`` is its SVG ``text-anchor`` (start, middle or end)."""

    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True, slots=True)
class Layer:
    """One group of the drawing, all in one paint: lines (an SVG path), boxes and texts."""

    paint: Paint
    path: str = ""
    boxes: tuple[Box, ...] = ()
    texts: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True)
class Pattern:
    """A hatching pattern, ``id`` unique on the page; a paint's fill refers to it."""

    id: str
    angle: int
    colour: str

    @property
    def fill(self) -> str:
        """The fill value that uses this pattern."""
        return f"url(#{self.id})"


@dataclass(frozen=True, slots=True)
class LegendItem:
    """One entry of a legend: a swatch drawn like the thing it names, and its name."""

    paint: Paint
    swatch: Box
    text: Text


@dataclass(frozen=True, slots=True)
class Picture:
    """An SVG picture: size, title and description, hatchings, then layers drawn in order."""

    ident: str
    kind: str
    title: str
    desc: str
    width: float
    height: float
    patterns: tuple[Pattern, ...]
    layers: tuple[Layer, ...]

    @property
    def title_id(self) -> str:
        """The id of the ``<title>`` element."""
        return f"{self.ident}-title"

    @property
    def desc_id(self) -> str:
        """The id of the ``<desc>`` element."""
        return f"{self.ident}-desc"


# -- what the pictures say -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarRow:
    """One administration line of a cycle calendar.

    ``windows`` holds ``(day, first, last)`` for each dose that may move: the calendar
    days its start may fall on in the solved timing network. ``spans`` holds ``(day,
    solid, last)`` for each dose that must run into a later day (a 46-hour infusion): it
    runs at least until day ``solid`` and may run until day ``last``.
    """

    medicine: str
    dose: str
    role: str
    prn: bool
    days: tuple[int, ...]
    windows: tuple[tuple[int, int, int], ...]
    text: str
    spans: tuple[tuple[int, int, int], ...] = ()  # (day, earliest end day, latest end day) of a dose running on


@dataclass(frozen=True, slots=True)
class Calendar(Picture):
    """The cycle calendar of one cycle group (the picture, and its rows in words).

    ``first_day`` and ``last_day`` are the first and last columns drawn (``last_day`` is
    the day the cycle may extend to, when it may).
    """

    cycle: int
    first_day: int
    last_day: int
    length_days: int
    extend_to_days: int | None
    rows: tuple[CalendarRow, ...]


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a timeline, in minutes from the anchor (None: open on that side).

    ``kind`` is ``window`` (when a start may fall), ``start`` (an exact start),
    ``infusion`` or ``observation``.
    """

    kind: str
    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One line of a day timeline: its label, its bars, and its role (anticancer, supportive, observation)."""

    label: str
    bars: tuple[Bar, ...]
    role: str


@dataclass(frozen=True, slots=True)
class Timeline(Picture):
    """The timeline of one or more dose days that look alike, in minutes from ``anchor``'s start."""

    cycle: int
    days: tuple[int, ...]
    anchor: str
    axis: tuple[int, int]
    rows: tuple[TimelineRow, ...]


# -- paints ----------------------------------------------------------------------------------

GRID = Paint("gridline", "none", "#c8c8c8")
LABELS = Paint("label", INK)
AXIS = Paint("label axis", INK, size=SMALL)


def _colour(role: str) -> str:
    return "#1f4e79" if role == "anticancer" else "#4f7a28"


def _dose_paint(role: str, prn: bool) -> tuple[Paint, float]:
    """Return a dose mark's paint, and its corner radius as a share of its size (0.5: a circle)."""
    colour = _colour(role)
    cls = f"dose dose-{role}"
    rx = 0.0 if role == "anticancer" else 0.5
    if prn:
        return Paint(f"{cls} prn", "#ffffff", colour, "2 2"), rx
    return Paint(cls, colour, colour), rx


def _patterns(ident: str) -> tuple[Pattern, Pattern]:
    return Pattern(f"{ident}-hatch", 45, "#b35900"), Pattern(f"{ident}-extend", -45, "#8c8c8c")


def _legend(entries: Iterable[tuple[Paint, float, str]], x0: float, y: float, right: float) -> tuple[Layer, ...]:
    """Lay out legend entries (paint, swatch corner share, text) left to right, wrapping at ``right``."""
    items: list[LegendItem] = []
    x = x0
    for paint, rx, text in entries:
        width = 16 + CHAR * len(text) + 16
        if x > x0 and x + width > right:
            x, y = x0, y + 20
        items.append(LegendItem(paint, Box(x, y, 12, 12, 12 * rx), Text(x + 16, y + 11, text)))
        x += width
    swatches = tuple(Layer(replace(item.paint, cls=f"{item.paint.cls} swatch"), boxes=(item.swatch,)) for item in items)
    texts = Layer(Paint("label legend", INK), texts=tuple(item.text for item in items))
    return (*swatches, texts) if items else ()


def _bottom(layers: Iterable[Layer]) -> float:
    """Return the lowest y any box or text of ``layers`` reaches."""
    ys = [b.y + b.height for layer in layers for b in layer.boxes] + [t.y + 4 for layer in layers for t in layer.texts]
    return max(ys, default=0)


# -- wording ---------------------------------------------------------------------------------


def _when(low: int | None, high: int | None) -> str:
    """Say a start window relative to the anchor: ``30 to 60 min before``, ``at 0``, ``8 hours after``."""
    if low is None and high is None:
        return "at any time"
    if low is None:
        assert high is not None
        return f"at least {short_minutes(-high)} before" if high <= 0 else f"up to {short_minutes(high)} after"
    if high is None:
        return f"at least {short_minutes(low)} after" if low >= 0 else f"from {short_minutes(-low)} before"
    if low == high == 0:
        return "starts at 0"
    if high <= 0:
        return f"{range_text(-high, -low, short_minutes)} before"
    if low >= 0:
        return f"{range_text(low, high, short_minutes)} after"
    return f"{short_minutes(-low)} before to {short_minutes(high)} after"


def _signed(minutes: int) -> str:
    """Write a tick label: ``−60 min``, ``0``, ``+60 min`` (a true minus sign)."""
    if minutes == 0:
        return "0"
    return f"{'+' if minutes > 0 else '−'}{abs(minutes)} min"


def _route(admin: ir.Administration) -> str:
    return admin.route.aliases[0] if admin.route and admin.route.aliases else ""


def _label(admin: ir.Administration, route: str = "") -> str:
    """Say a line as a picture labels it: medicine, dose (with its cap), route, and its warning."""
    label = " ".join(filter(None, (admin.medicine.display, dose_text(admin.dose, admin.cap), route)))
    return f"{label} — {admin.warning_label}" if admin.warning_label else label


# -- where a group sits in the network ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Place:
    """A cycle group's part, its title prefix, and the start of its first cycle (the one drawn)."""

    part: str
    prefix: PointId

    def start(self, index: int, day: int) -> PointId:
        return self.prefix.dose(index, day)


def _place(compiled: Compiled, group: ir.CycleGroup) -> _Place:
    """Find ``group`` in the regimen, and the start of its first cycle."""
    for p, part in enumerate(compiled.regimen.parts, start=1):
        for g, candidate in enumerate(part.cycles):
            if candidate is group:
                label = f"Part {part.number}, " if part.number is not None else ""
                return _Place(label, PointId(p, g, group.first))
    raise ValueError("the cycle group is not one of the regimen's")


# -- the cycle calendar ------------------------------------------------------------------------

ROW = 24
COLUMN = 22  # a day's column up to 31 columns; narrower beyond
MARK = 14
DAILY_GRID = 92  # a line for every day up to this many columns; for every week beyond


def calendar(compiled: Compiled, group: ir.CycleGroup, *, ident: str) -> Calendar:
    """Draw the cycle calendar of ``group``, from its first cycle.

    Shift windows are the solved ones (``compiled.windows``): the calendar days each
    movable dose may really start on, which other constraints may make narrower than
    written. When the timing conflicts (no windows), the days are drawn without windows.

    Args:
        compiled: the compiled regimen.
        group: one of its cycle groups.
        ident: an id prefix unique on the page (the picture's element ids start with it).

    Returns:
        The calendar's view.

    """
    place = _place(compiled, group)
    hatch, extend = _patterns(ident)
    admins = group.administrations
    all_days = [d for a in admins for d in doses_by_day(a)]
    first_day = min([1, *all_days])
    last_day = max([group.length_days, group.extend_to_days or 0, *all_days])
    columns = last_day - first_day + 1
    col = COLUMN if columns <= 31 else 12
    labels = [
        _label(a) + (f" {a.frequency.phrase}" if a.frequency else "") + (" (as needed)" if a.prn else "")
        for a in admins
    ]
    left = max(120, CHAR * max((len(t) for t in labels), default=0) + 16)
    extension = group.extend_to_days if group.extend_to_days and group.extend_to_days > group.length_days else None
    top = (16 if extension else 0) + 20
    right = left + columns * col
    bottom = top + ROW * len(admins)
    size = min(MARK, col - 4)

    def x_of(day: int) -> float:
        return left + (min(max(day, first_day), last_day) - first_day) * col

    rows: list[CalendarRow] = []
    marks: list[Layer] = []
    shaded: list[Box] = []
    running: dict[str, tuple[list[Box], list[Box]]] = {}  # by role: the solid and the hatched parts
    for i, (admin, label) in enumerate(zip(admins, labels, strict=True)):
        y = top + i * ROW
        paint, rx = _dose_paint(admin.role, admin.prn)
        boxes = tuple(box for d, n in points_by_day(admin).items() for box in _day_marks(x_of(d), y, col, size, rx, n))
        marks.append(Layer(paint, boxes=boxes))
        moves = tuple(_moves(compiled, place, i, admin))
        shaded.extend(Box(x_of(lo), y + 3, x_of(hi) - x_of(lo) + col, ROW - 6) for _day, lo, hi in moves)
        spans = tuple(_spans(compiled, place, i, admin))
        solid, hatched = running.setdefault(admin.role, ([], []))
        for day, until, latest in spans:  # from the middle of the start day to the middle of the end days
            middle = y + ROW / 2 - 3
            solid.append(Box(x_of(day) + col / 2, middle, x_of(until) - x_of(day), 6))
            if latest > until:
                hatched.append(Box(x_of(until) + col / 2, middle, x_of(latest) - x_of(until), 6))
        rows.append(_calendar_row(admin, label, moves, spans))

    window_paint = Paint("shift window", hatch.fill, "#b35900", "4 2")
    extension_paint = Paint("extension", extend.fill)
    every = 1 if columns <= DAILY_GRID else 7  # a long cycle is ruled by the week
    grid = " ".join(
        [f"M{x_of(d)} {top}V{bottom}" for d in range(first_day, last_day + 1) if (d - first_day) % every == 0]
        + [f"M{right} {top}V{bottom}"]
        + [f"M{left} {top + i * ROW}H{right}" for i in range(len(admins) + 1)]
    )
    step = 1 if columns <= 31 else 7
    ticks = [d for d in range(first_day, last_day + 1) if d % step == 0 or d in (first_day, last_day)]
    if step > 1:  # keep the last label clear of the multiple of 7 just before it
        ticks = [d for d in ticks if d == last_day or last_day - d >= 3]
    layers: list[Layer] = []
    if extension:
        layers.append(
            Layer(
                extension_paint,
                boxes=(Box(x_of(group.length_days + 1), top, right - x_of(group.length_days + 1), bottom - top),),
            )
        )
    span_paints = {role: _span_paints(role) for role in running}
    layers += [
        Layer(GRID, path=grid),
        Layer(window_paint, boxes=tuple(shaded)),
        *(
            Layer(paint, boxes=tuple(found))
            for role, parts in running.items()
            for paint, found in zip(span_paints[role], parts, strict=True)
            if found
        ),
        *marks,
        Layer(LABELS, texts=tuple(Text(8, top + i * ROW + 16, label) for i, label in enumerate(labels))),
        Layer(
            AXIS,
            texts=(Text(8, top - 6, "Day"), *(Text(x_of(d) + col / 2, top - 6, str(d), "middle") for d in ticks)),
        ),
    ]
    if extension:
        layers.append(
            Layer(Paint("label extension", INK), texts=(Text(right, 12, f"may extend to day {extension}", "end"),))
        )
    entries = _calendar_legend(admins, window_paint if shaded else None, extension_paint if extension else None)
    for role, (solid, hatched) in running.items():
        if solid:
            entries.append((span_paints[role][0], 0, "infusion running"))
        if hatched:
            entries.append((span_paints[role][1], 0, "may still be running"))
    width = right + 8
    legend = _legend(entries, 8, bottom + 12, width)
    layers += legend
    title = f"Cycle calendar: {place.part}{group.heading}"
    return Calendar(
        ident=ident,
        kind="calendar",
        title=title,
        desc=_calendar_desc(title, group, extension, rows, windows=compiled.windows is not None),
        width=width,
        height=max(_bottom(legend), bottom) + 8,
        patterns=(hatch, extend),
        layers=tuple(layers),
        cycle=group.first,
        first_day=first_day,
        last_day=last_day,
        length_days=group.length_days,
        extend_to_days=extension,
        rows=tuple(rows),
    )


def _moves(compiled: Compiled, place: _Place, index: int, admin: ir.Administration) -> Iterator[tuple[int, int, int]]:
    """Each movable dose's ``(day, first, last)``: the calendar days its start may really fall on."""
    if not admin.shift_days or admin.prn or compiled.windows is None:
        return
    for day in admin.days:
        window = compiled.windows.get(place.start(index, day))
        if window is None:
            continue
        early, late = window
        first, last = day_of(early), day_of(late)
        if (first, last) != (day, day):
            yield day, first, last


MARKS_A_DAY = 3  # a dose given up to this many times a day has a mark for each; more, one mark


def _day_marks(x: float, y: float, col: float, size: float, rx: float, per_day: int) -> Iterator[Box]:
    """Yield the marks of one dose day: one per dose (two for twice daily), side by side in its column."""
    count = per_day if 1 < per_day <= MARKS_A_DAY else 1
    gap = 2
    width = size if count == 1 else min(size, (col - 4 - gap * (count - 1)) / count)
    left = x + (col - count * width - gap * (count - 1)) / 2
    for k in range(count):
        yield Box(round(left + k * (width + gap), 1), y + (ROW - size) / 2, round(width, 1), size, width * rx)


def _spans(compiled: Compiled, place: _Place, index: int, admin: ir.Administration) -> Iterator[tuple[int, int, int]]:
    """Each dose that must run into a later day: ``(day, earliest end day, latest end day)``.

    A dose whose earliest end falls on a later day than its earliest start (a 46-hour
    pump, a continuous infusion over days) is drawn across its days; one that only may
    run past midnight (an infusion started late in the day) is not.
    """
    if admin.prn or compiled.windows is None:
        return
    for day in point_days(admin):
        start = place.start(index, day)
        starts, ends = compiled.windows.get(start), compiled.windows.get(start.other_end)
        if starts is None or ends is None:
            continue
        if day_of(ends[0]) > day_of(starts[0]):
            yield day, day_of(ends[0]), day_of(ends[1])


def _span_paints(role: str) -> tuple[Paint, Paint]:
    """Return the paints of a dose running across days: solid to its earliest end, dashed to its latest."""
    colour = _colour(role)
    return Paint(f"running dose-{role}", colour, colour), Paint(
        f"running may-run dose-{role}", "#ffffff", colour, "3 2"
    )


def _calendar_row(
    admin: ir.Administration,
    label: str,
    moves: tuple[tuple[int, int, int], ...],
    spans: tuple[tuple[int, int, int], ...],
) -> CalendarRow:
    name = admin.medicine.display
    text = f"{label}: {days_words(admin.days)}"
    text += "".join(f"; {name} day {day} dose: day {lo} to day {hi}" for day, lo, hi in moves)
    text += "".join(
        f"; the day {day} dose runs until day {until}" + (f" and may run until day {late}" if late > until else "")
        for day, until, late in spans
    )
    return CalendarRow(
        medicine=name,
        dose=dose_text(admin.dose, admin.cap),
        role=admin.role,
        prn=admin.prn,
        days=admin.days,
        windows=moves,
        text=text + ".",
        spans=spans,
    )


def _calendar_legend(
    admins: tuple[ir.Administration, ...], window: Paint | None, extension: Paint | None
) -> list[tuple[Paint, float, str]]:
    entries: list[tuple[Paint, float, str]] = []
    for role, prn, text in (
        ("anticancer", False, "anti-cancer dose"),
        ("supportive", False, "supportive dose"),
        ("anticancer", True, "anti-cancer, as needed"),
        ("supportive", True, "supportive, as needed"),
    ):
        if any(a.role == role and a.prn == prn for a in admins):
            paint, rx = _dose_paint(role, prn)
            entries.append((paint, rx, text))
    if window:
        entries.append((window, 0, "days a dose may move to"))
    if extension:
        entries.append((extension, 0, "days the cycle may extend to"))
    return entries


def _calendar_desc(
    title: str, group: ir.CycleGroup, extension: int | None, rows: list[CalendarRow], *, windows: bool
) -> str:
    said = [f"{title}. One row per medicine, one column per day of the cycle (days 1 to {group.length_days})."]
    if extension:
        said.append(f"The cycle may extend to day {extension}.")
    if not windows:
        said.append("The days doses may move to are not shown: the timing constraints conflict.")
    said.extend(row.text for row in rows)
    return " ".join(said)


# -- the day timeline --------------------------------------------------------------------------

TIMELINE_WIDTH = 640
MARGIN = 36
LINE = 40
STEPS = (15, 30, 60, 120, 180, 240, 360, 480, 720)
HEADING = 24  # the day's heading, visible text above the rows ("Cycle 1, day 8")


@dataclass(frozen=True, slots=True)
class _Dose:
    """A dose of an administration line on one day: the line's index, the day, and its start point."""

    index: int
    day: int
    admin: ir.Administration
    number: int = 0  # its number among the line's doses of the day
    position: str = ""  # in a series of several: `dose 2 of 6`


@dataclass(frozen=True, slots=True)
class _Day:
    """What one day's timeline shows: its anchor in words and its rows, in minutes from the anchor."""

    anchor_text: str
    rows: tuple[TimelineRow, ...]


def timelines(compiled: Compiled, group: ir.CycleGroup, *, ident: str) -> tuple[Timeline, ...]:
    """Draw the day timelines of ``group``'s first cycle.

    One timeline for each day the compiled regimen times on its own (``compiled.days``: days
    with premedications, anchored to a medicine or to chemotherapy, observations or
    anti-cancer infusions of stated duration); days that would look alike share one
    timeline. Every bar is what the solved timing network allows relative to the anchor's
    start, as compiled. A regimen whose timing conflicts has no timelines (nothing can be solved).

    Args:
        compiled: the compiled regimen.
        group: one of its cycle groups.
        ident: an id prefix unique on the page; each timeline's id is ``{ident}-day{N}``.

    Returns:
        The timelines, in day order.

    """
    place = _place(compiled, group)
    by_day: dict[int, list[_Dose]] = {}
    for i, admin in enumerate(group.administrations):
        if not admin.prn:
            series = positions(admin)
            for day, count in points_by_day(admin).items():
                by_day.setdefault(day, []).extend(
                    _Dose(i, day, admin, n, series.get((day, n), "")) for n in range(count)
                )
    watched: dict[Medicine, list[tuple[int, ir.Observation]]] = {}  # each medicine's observations
    for o, obs in enumerate(group.observations):
        watched.setdefault(obs.medicine, []).append((o, obs))
    shown: dict[_Day, list[int]] = {}
    for timed in compiled.days.get(place.prefix, ()):
        shown.setdefault(_day(group, place, by_day, watched, timed), []).append(timed.day)
    return tuple(_timeline(view, days, place, group.first, ident) for view, days in shown.items())


def _day(
    group: ir.CycleGroup,
    place: _Place,
    by_day: dict[int, list[_Dose]],
    watched: dict[Medicine, list[tuple[int, ir.Observation]]],
    timed: TimedDay,
) -> _Day:
    """Build a day's rows around its anchor, with the bounds the compiled regimen holds."""
    day, anchor = timed.day, timed.anchor
    admins = group.administrations
    doses = [d for near in (day - 1, day, day + 1) for d in by_day.get(near, ())]  # premedications: a day either side
    anchored = [(_Dose(a.dose.line, a.dose.day, admins[a.dose.line]), a.relation) for a in timed.timed]
    premeds = {(d.index, d.day) for d, _ in anchored}
    anchor_text = "chemotherapy" if anchor.kind is PointKind.CHEMOTHERAPY else admins[anchor.line].medicine.display
    named = {rel.anchor for _, rel in anchored}
    shown = [
        d
        for d in doses
        if (d.index, d.day) in premeds
        or (
            d.day == day
            and (
                d.admin.role == "anticancer"
                or place.start(d.index, day) == anchor
                or d.admin.medicine.name in named
                or (d.admin.duration_stated and _route(d.admin) != "oral")
            )
        )
    ]
    rows: list[TimelineRow] = []
    qualifiers = {(d.index, d.day): rel.qualifier for d, rel in anchored if rel.qualifier}
    for dose in sorted(shown, key=lambda d: (d.day, d.index, d.number)):
        rows.append(_dose_row(timed, place, dose, qualifiers.get((dose.index, dose.day))))
        if dose.day == day:
            rows.extend(_observation_row(timed, place, dose, o, obs) for o, obs in watched.get(dose.admin.medicine, ()))
    return _Day(anchor_text, tuple(rows))


def _dose_row(timed: TimedDay, place: _Place, dose: _Dose, qualifier: str | None) -> TimelineRow:
    admin = dose.admin
    start = place.prefix.dose(dose.index, dose.day, dose.number)
    low, high = timed.starts[start]
    end = timed.latest[start.other_end]
    bars = [Bar("start", low, low) if low is not None and low == high else Bar("window", low, high)]
    if low is not None and high is not None and end is not None and high - low <= NEAR and high < end:
        # An infusion running on past the picture (a 46-hour pump) is drawn to its right edge.
        bars.append(Bar("infusion", high, end if end <= high + NEAR else None))
    label = f"{_label(admin, _route(admin))}" + (f", {dose.position}" if dose.position else "")
    label += f": {_when(low, high)}"
    if admin.duration_stated and not (admin.continuous or admin.pump):
        label += f", over {over_text(admin, short_minutes)}"
    elif admin.duration_stated or admin.continuous:
        label += f", {infusion_text(admin, short_minutes)}"
    if qualifier:
        label += f" ({qualifier})"
    return TimelineRow(label, tuple(bars), admin.role)


def _observation_row(timed: TimedDay, place: _Place, dose: _Dose, o: int, obs: ir.Observation) -> TimelineRow:
    """Draw an observation from the infusion's end at its latest (the infusion taking its full time)."""
    point = place.prefix.observing(o, dose.index, dose.day, dose.number)
    start, end = timed.latest[point], timed.latest[point.other_end]
    label = f"observation: {short_minutes(obs.minutes)} after the end of {obs.medicine.display}"
    return TimelineRow(label, (Bar("observation", start, end),), "observation")


def _axis(rows: tuple[TimelineRow, ...]) -> tuple[int, int, int]:
    """Return the axis range and tick step, in at most 8 steps.

    The range holds 0 and every bar, except that a bar wider than ``NEAR`` (or open) counts
    by its end nearer 0 only: it is drawn cut off at the axis.
    """
    values = {0}
    cut = set()  # the sides bars are cut off on, which get one more step to show it
    for row in rows:
        for bar in row.bars:
            if bar.start is not None and bar.end is not None and bar.end - bar.start <= NEAR:
                values.update((bar.start, bar.end))
                continue
            near = min((v for v in (bar.start, bar.end) if v is not None), key=abs, default=0)
            values.add(near)
            cut.add(-1 if near == bar.end else 1)
    low, high = min(values), max(values)
    if low == high:
        high = low + 60
    step = next((s for s in STEPS if (high - low) / s <= 8), None) or -(-(high - low) // (8 * DAY)) * DAY
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    return low - step * (-1 in cut), high + step * (1 in cut), step


def _bar_paints(hatch: Pattern) -> dict[tuple[str, str], tuple[Paint, str]]:
    """Each bar's paint by (kind, role), in drawing order, with its legend text."""
    return {
        ("window", "supportive"): (Paint("window premed", hatch.fill, "#555555"), "when it may start"),
        ("window", "anticancer"): (Paint("window dose-anticancer", hatch.fill, "#1f4e79"), "when it may start"),
        ("infusion", "supportive"): (
            Paint("infusion premed dose-supportive", "#4f7a28", "#4f7a28"),
            "supportive infusion",
        ),
        ("infusion", "anticancer"): (Paint("infusion dose-anticancer", "#1f4e79", "#1f4e79"), "anti-cancer infusion"),
        ("observation", "observation"): (Paint("observation", "#fff4d6", "#8a6d00", "3 2"), "observation"),
        ("start", "supportive"): (Paint("mark premed", INK), "exact start"),
        ("start", "anticancer"): (Paint("mark dose-anticancer", INK), "exact start"),
    }


def _timeline(view: _Day, days: list[int], place: _Place, cycle: int, ident: str) -> Timeline:
    ident = f"{ident}-day{days[0]}"
    hatch, _ = _patterns(ident)
    low, high, step = _axis(view.rows)
    width = max(TIMELINE_WIDTH, max((CHAR * len(r.label) + 2 * MARGIN for r in view.rows), default=0))
    scale = (width - 2 * MARGIN) / (high - low)

    def x_of(minutes: int | None, default: int) -> float:
        value = default if minutes is None else min(max(minutes, low), high)
        return round(MARGIN + (value - low) * scale, 1)

    paints = _bar_paints(hatch)
    boxes: dict[tuple[str, str], list[Box]] = {key: [] for key in paints}
    texts: list[Text] = []
    top = 8 + HEADING  # below the day's heading
    for r, row in enumerate(view.rows):
        y = top + r * LINE
        texts.append(Text(MARGIN, y + 12, row.label))
        for bar in row.bars:
            x0, x1 = x_of(bar.start, low), x_of(bar.end, high)
            if bar.kind == "start":
                boxes[bar.kind, row.role].append(Box(x0 - 2, y + 16, 4, 18))
            else:
                boxes[bar.kind, row.role].append(Box(x0, y + 18, max(x1 - x0, 2), 14))
    axis_y = top + len(view.rows) * LINE + 4
    ticks = range(low, high + 1, step)
    grid = " ".join(f"M{x_of(t, t)} {top}V{axis_y}" for t in ticks) + f" M{MARGIN} {axis_y}H{width - MARGIN}"
    zero = x_of(0, 0)
    day_text = f"{place.part}Cycle {cycle}, {days_words(days)}"
    layers = [
        Layer(Paint("label heading", INK, size=FONT + 2), texts=(Text(MARGIN, 8 + FONT + 2, day_text),)),
        Layer(GRID, path=grid),
        Layer(Paint("gridline zero", "none", "#555555", "4 3"), path=f"M{zero} {top - 4}V{axis_y}"),
        *(Layer(paints[key][0], boxes=tuple(found)) for key, found in boxes.items() if found),
        Layer(LABELS, texts=tuple(texts)),
        Layer(
            AXIS,
            texts=(
                *(Text(x_of(t, t), axis_y + 16, _signed(t), "middle") for t in ticks),
                Text(MARGIN, axis_y + 34, f"0 = the start of {view.anchor_text}; minutes before (−) and after (+)"),
            ),
        ),
    ]
    named: dict[str, Paint] = {}
    for key, found in boxes.items():
        if found:
            named.setdefault(paints[key][1], paints[key][0])
    entries = [(paint, 0.0, text) for text, paint in named.items()]
    legend = _legend(entries, MARGIN, axis_y + 48, width)
    layers += legend
    title = f"Day timeline: {day_text}"
    desc = " ".join(
        [f"{title}. Minutes from the start of {view.anchor_text} (0), from {_signed(low)} to {_signed(high)}."]
        + [f"{row.label}{_observed(row)}." for row in view.rows]
    )
    return Timeline(
        ident=ident,
        kind="timeline",
        title=title,
        desc=desc,
        width=width,
        height=_bottom(legend) + 8,
        patterns=(hatch,),
        layers=tuple(layers),
        cycle=cycle,
        days=tuple(days),
        anchor=view.anchor_text,
        axis=(low, high),
        rows=view.rows,
    )


def _observed(row: TimelineRow) -> str:
    """For an observation: when it runs if the infusion takes its full time."""
    (bar, *_) = row.bars
    if bar.kind != "observation" or bar.start is None or bar.end is None:
        return ""
    return f", from {_signed(bar.start)} to {_signed(bar.end)} when the infusion takes its full time"
