"""Cycle groups: their headings, and their lines as `same as`, `use`, `without` and new lines make them.

A cycle's lines are lowered in order into a ``_Body``; the group keeps, for the rules, the
span of its `same as` line, and each line the heading of the group it was written for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import assert_never

from regdsl.compile.lower import administrations
from regdsl.compile.lower.words import Lowering
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.limits import TooComplex
from regdsl.model.medicines import Medicine

__all__ = ["cycles"]


def _key(note: ir.Note) -> str:
    """Return what a note is about: its medicine, else its label (a `same as` cycle's note replaces those)."""
    return note.medicine.name if note.medicine else (note.label or "")


class _Body:
    """A cycle's lines as they are lowered: copied by `same as`, replaced, added, left out by `without`.

    Each statement has a number (``step``); `without X` leaves out what of X came before it. An
    administration line takes the place of the first copied line of its medicine it shares a day
    with, and the copied lines it shares days with lose those days; copied lines are found by
    medicine and day, so each line is placed in time proportional to its days, not to the cycle.
    """

    def __init__(self) -> None:
        self.step = 0
        self.started = False  # a line of the cycle's own came before
        self.same_as: int | None = None  # the cycle copied
        # Each slot: the cycle's own lines placed there (with their step), before the slot's copied line.
        self.slots: list[list[tuple[int, ir.Administration]]] = []
        self.copied: dict[int, tuple[ir.Administration, set[int]]] = {}  # slot: the copied line, the days it keeps
        self.by_day: dict[str, dict[int, set[int]]] = {}  # medicine, day: the slots of copied lines given then
        self.removed: dict[str, int] = {}  # medicine: the step of its last `without`
        self.overridden: set[str] = set()
        self._notes: list[tuple[int, ir.Note, bool]] = []  # step, note, copied
        self._observations: list[tuple[int, ir.Observation]] = []
        self._gaps: list[tuple[int, ir.MinGap]] = []

    def copy(self, source: ir.CycleGroup) -> None:
        for admin in source.administrations:
            slot = len(self.slots)
            self.slots.append([])
            self.copied[slot] = (admin, set(admin.days))
            days = self.by_day.setdefault(admin.medicine.name, {})
            for day in admin.days:
                days.setdefault(day, set()).add(slot)
        self._notes.extend((0, note, True) for note in source.notes)
        self._observations.extend((0, o) for o in source.observations)
        self._gaps.extend((0, g) for g in source.gaps)

    def place(self, new: ir.Administration) -> None:
        self.started = True
        days = self.by_day.get(new.medicine.name, {})
        hit: set[int] = set()
        for day in new.days:
            hit.update(days.pop(day, ()))
        for slot in hit:
            keep = self.copied[slot][1]
            keep.difference_update(new.days)
            if not keep:
                del self.copied[slot]
        if hit:
            self.slots[min(hit)].append((self.step, new))
        else:
            self.slots.append([(self.step, new)])

    def note(self, note: ir.Note, *, override: bool) -> None:
        self.started = True
        if override:
            self.overridden.add(_key(note))
        self._notes.append((self.step, note, False))

    def observe(self, observation: ir.Observation) -> None:
        self.started = True
        self._observations.append((self.step, observation))

    def gap(self, gap: ir.MinGap) -> None:
        self.started = True
        self._gaps.append((self.step, gap))

    def without(self, medicine: Medicine) -> None:
        self.removed[medicine.name] = self.step
        for slots in self.by_day.pop(medicine.name, {}).values():
            for slot in slots:
                self.copied.pop(slot, None)

    def kept(self, step: int, medicine: Medicine | None) -> bool:
        return medicine is None or step > self.removed.get(medicine.name, -1)

    def administrations(self) -> tuple[ir.Administration, ...]:
        found: list[ir.Administration] = []
        for slot, own in enumerate(self.slots):
            found.extend(admin for step, admin in own if self.kept(step, admin.medicine))
            if slot in self.copied:
                old, keep = self.copied[slot]
                found.append(
                    old if len(keep) == len(old.days) else replace(old, days=tuple(d for d in old.days if d in keep))
                )
        return tuple(found)

    def notes(self) -> tuple[ir.Note, ...]:
        return tuple(
            note
            for step, note, copied in self._notes
            if self.kept(step, note.medicine) and not (copied and _key(note) in self.overridden)
        )

    def observations(self) -> tuple[ir.Observation, ...]:
        return tuple(o for step, o in self._observations if self.kept(step, o.medicine))

    def gaps(self) -> tuple[ir.MinGap, ...]:
        return tuple(g for step, g in self._gaps if self.kept(step, g.medicine))


def cycles(low: Lowering, nodes: Sequence[ast.Cycle]) -> tuple[ir.CycleGroup, ...]:
    """Lower the cycle groups of a part (or of a regimen without parts), in order."""
    groups: list[ir.CycleGroup] = []
    for node in nodes:
        group = _cycle(low, node, groups)
        if group is not None:
            groups.append(group)
    return tuple(groups)


def _heading(low: Lowering, node: ast.Cycle) -> tuple[int, int | None, int, int | None] | None:
    """Return a group's first and last cycle, its length and what it may be extended to; None if unusable."""
    first = low.integer(node.first, "a cycle number", limits.CYCLE_NUMBERS)
    last = low.integer(node.last, "a cycle number", limits.CYCLE_NUMBERS) if node.last else None
    length = low.integer(node.length, "a cycle length", limits.DAYS)
    extend = low.integer(node.extend_to, "a cycle length", limits.DAYS) if node.extend_to else None
    if first is None or length is None or (node.last and last is None):
        return None
    low.groups += 1
    if low.groups > limits.CYCLE_GROUPS.value:
        raise TooComplex(
            node.header, f"the regimen has more than {limits.CYCLE_GROUPS.value:,} cycle groups by this one"
        )
    for value, word in ((first, node.first), (length, node.length)):
        if value < 1:
            low.sink.report(c.BAD_RANGE, word.span, "cycle numbers and lengths start at 1", label="must be 1 or more")
            return None
    if last is not None and last < first:
        low.sink.report(
            c.BAD_RANGE, node.header, f"cycles {first} to {last} run backwards", label="the range ends before it starts"
        )
        last = first
    if extend is not None and extend <= length:
        low.sink.report(
            c.BAD_RANGE,
            node.extend_to.span if node.extend_to else node.header,
            f"the cycle may only be extended beyond its {length} days",
            label=f"must be more than {length}",
        )
        extend = None
    return first, last, length, extend


def _same_as(low: Lowering, stmt: ast.SameAs, body: _Body, earlier: Sequence[ir.CycleGroup]) -> ir.CycleGroup | None:
    """Copy the earlier cycle `same as` names into ``body``; return its group, None if it cannot be."""
    if body.same_as is not None or body.started:
        low.sink.report(
            c.MISPLACED,
            stmt.span,
            "`same as` must be the first line of a cycle, and come once",
            label="move this line to the top of the cycle",
            help="the lines after `same as` state how this cycle differs",
        )
        return None
    number = low.integer(stmt.cycle, "a cycle number", limits.CYCLE_NUMBERS)
    if number is None:
        return None
    source = next((g for g in earlier if g.covers(number)), None)
    if source is None:
        low.sink.report(
            c.UNKNOWN_CYCLE,
            stmt.cycle.span,
            f"there is no earlier cycle {stmt.cycle.text}",
            label="no such cycle before this one",
        )
        return None
    low.count(stmt.span, sum(len(a.days) * (1 + len(a.relations)) for a in source.administrations))
    body.copy(source)
    body.same_as = number
    return source


def _use(low: Lowering, stmt: ast.UseBlock, body: _Body, header: ast.Cycle) -> None:
    """Place the lines of the block `use` names, with the days it gives them."""
    block = low.blocks.get(stmt.name.text)
    if block is None:
        low.unknown(
            c.UNKNOWN_BLOCK,
            stmt.name.span,
            f"no block named `{stmt.name.text}`",
            label="not defined",
            word=stmt.name.text,
            candidates=low.blocks,
        )
        return
    for item in block.items:
        if isinstance(item, ast.Admin):
            if (lowered := administrations.admin(low, item, header.header, stmt.days)) is not None:
                body.place(lowered)
        else:
            body.note(administrations.note(low, item), override=False)


def _cycle(low: Lowering, node: ast.Cycle, earlier: Sequence[ir.CycleGroup]) -> ir.CycleGroup | None:
    heading = _heading(low, node)
    if heading is None:
        return None
    first, last, length, extend = heading
    body = _Body()
    title: ast.Text | None = None
    copied: ast.Text | None = None  # the title `same as` copies, unless the cycle gives its own
    same_as_span = None
    for stmt in node.body:
        body.step += 1
        match stmt:
            case ast.TitleStmt(text=text):
                title = text
            case ast.SameAs():
                source = _same_as(low, stmt, body, earlier)
                if source is not None:
                    copied, same_as_span = source.title_text, stmt.span
            case ast.UseBlock():
                _use(low, stmt, body, node)
            case ast.Admin():
                if (lowered := administrations.admin(low, stmt, node.header)) is not None:
                    body.place(lowered)
            case ast.Note():
                body.note(administrations.note(low, stmt), override=body.same_as is not None)
            case ast.Observe(amount=a, unit=u, drug=d):
                med, minutes = low.medicine(d), low.minutes(a, u)
                if med is not None and minutes is not None:
                    body.observe(ir.Observation(span=stmt.span, medicine=med, minutes=minutes))
            case ast.Gap(drug=d, days=n):
                med, count = low.medicine(d), low.integer(n, "a gap", limits.DAYS)
                if med is not None and count is not None:
                    body.gap(ir.MinGap(span=stmt.span, medicine=med, days=count))
            case ast.Without(drug=d):
                med = low.medicine(d)
                if med is not None:
                    body.without(med)
            case _:
                assert_never(stmt)
    return ir.CycleGroup(
        span=node.header,
        first=first,
        last=last,
        open_ended=node.open_ended,
        length_days=length,
        extend_to_days=extend,
        title_text=title if title is not None else copied,
        same_as=body.same_as,
        same_as_span=same_as_span,
        administrations=body.administrations(),
        notes=body.notes(),
        observations=body.observations(),
        gaps=body.gaps(),
    )
