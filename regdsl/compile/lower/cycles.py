"""Cycle groups: their headings, and their lines as `same as`, `use`, `without` and new lines make them.

A cycle's lines are lowered in order into a ``_Body``; the group keeps, for the rules, the
span of its `same as` line, and each line the heading of the group it was written for.
`continuous treatment` is an open-ended group of one-day cycles whose lines are given on day 1:
every day is a treatment day, so the timing network, the phase graph and every rule read it
as they read any open-ended group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import assert_never

from regdsl.compile.lower import administrations
from regdsl.compile.lower.plan import condition, unknown_measure
from regdsl.compile.lower.words import Lowering
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.limits import TooComplex
from regdsl.model.medicines import Medicine
from regdsl.source import Span

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
        # Medicine, then (branch, day): the slots of copied lines given then (a branch's line replaces its branch's).
        self.by_day: dict[str, dict[tuple[ir.Guard | None, int], set[int]]] = {}
        self.removed: dict[str, int] = {}  # medicine: the step of its last `without`
        self.overridden: set[str] = set()
        self._notes: list[tuple[int, ir.Note, bool]] = []  # step, note, copied
        self._observations: list[tuple[int, ir.Observation]] = []
        self._gaps: list[tuple[int, ir.MinGap]] = []
        self.gates: list[ir.Gate] = []
        self.choices: list[ir.Choice] = []

    def copy(self, source: ir.CycleGroup) -> None:
        for admin in source.administrations:
            slot = len(self.slots)
            self.slots.append([])
            self.copied[slot] = (admin, set(admin.days))
            days = self.by_day.setdefault(admin.medicine.name, {})
            for day in admin.days:
                days.setdefault((admin.guard, day), set()).add(slot)
        self._notes.extend((0, note, True) for note in source.notes)
        self._observations.extend((0, o) for o in source.observations)
        self._gaps.extend((0, g) for g in source.gaps)
        self.gates.extend(source.gates)
        self.choices.extend(source.choices)

    def place(self, new: ir.Administration) -> None:
        self.started = True
        days = self.by_day.get(new.medicine.name, {})
        hit: set[int] = set()
        for day in new.days:
            hit.update(days.pop((new.guard, day), ()))
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


def cycles(low: Lowering, nodes: Sequence[ast.Cycle | ast.Continuous]) -> tuple[ir.CycleGroup, ...]:
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
    _count_group(low, node.header)
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


def _count_group(low: Lowering, header: Span) -> None:
    """Count one more cycle group; beyond limits.CYCLE_GROUPS the regimen is too complex."""
    low.groups += 1
    if low.groups > limits.CYCLE_GROUPS.value:
        raise TooComplex(header, f"the regimen has more than {limits.CYCLE_GROUPS.value:,} cycle groups by this one")


def _every_day(low: Lowering, stmt: ast.Node, days: ast.Days | None) -> ast.Days:
    """Return day 1 of continuous treatment's one-day cycle, for a line written in it; report days it gives."""
    if days is not None:
        low.sink.report(
            c.CLAUSE_CONFLICT,
            days.span,
            "continuous treatment is given every day: it has no days",
            label="leave out the days",
            help="write the line without `days`; a schedule with days off is `cycle 1 and all further cycles`",
        )
    span = stmt.span
    return ast.Days(
        span=span, items=(ast.DayItem(span=span, first=ast.Word(span=span, text="1"), last=None),), shift=None
    )


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


def _use(low: Lowering, stmt: ast.UseBlock, body: _Body, header: Span, days: ast.Days | None) -> None:
    """Place the lines of the block `use` names, with the days it gives them (``days``)."""
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
            if (lowered := administrations.admin(low, item, header, days)) is not None:
                body.place(lowered)
        else:
            body.note(administrations.note(low, item), override=False)


def _cycle(low: Lowering, node: ast.Cycle | ast.Continuous, earlier: Sequence[ir.CycleGroup]) -> ir.CycleGroup | None:
    continuous = isinstance(node, ast.Continuous)
    if isinstance(node, ast.Continuous):
        _count_group(low, node.span)
        header, open_ended = node.span, True
        first, last, length, extend = 1, None, 1, None
    else:
        heading = _heading(low, node)
        if heading is None:
            return None
        header, open_ended = node.header, node.open_ended
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
            case ast.SameAs() if continuous:
                low.sink.report(
                    c.CLAUSE_CONFLICT,
                    stmt.span,
                    "continuous treatment has no cycles to copy",
                    label="not a cycle",
                    help="write the lines of continuous treatment themselves",
                )
            case ast.SameAs():
                source = _same_as(low, stmt, body, earlier)
                if source is not None:
                    copied, same_as_span = source.title_text, stmt.span
            case ast.UseBlock():
                _use(low, stmt, body, header, _every_day(low, stmt, stmt.days) if continuous else stmt.days)
            case ast.Admin() | ast.Note() | ast.Observe() | ast.Gap():
                _line(low, stmt, body, header, continuous, None)
            case ast.Choice():
                choice = _choice(low, stmt)
                body.choices.append(choice)
                for number, branch in enumerate(stmt.branches):
                    for line in branch.body:
                        _line(low, line, body, header, continuous, ir.Guard(choice=choice.key, branch=number))
            case ast.Without(drug=d):
                med = low.medicine(d)
                if med is not None:
                    body.without(med)
            case ast.Proceed(cond=cond, prose=prose):
                body.gates.append(ir.Gate(span=stmt.span, cond=condition(low, cond), prose=prose))
            case _:
                assert_never(stmt)
    return ir.CycleGroup(
        span=header,
        first=first,
        last=last,
        open_ended=open_ended,
        length_days=length,
        extend_to_days=extend,
        title_text=title if title is not None else copied,
        same_as=body.same_as,
        same_as_span=same_as_span,
        administrations=body.administrations(),
        notes=body.notes(),
        observations=body.observations(),
        gaps=body.gaps(),
        continuous=continuous,
        gates=tuple(body.gates),
        choices=tuple(body.choices),
    )


def _line(
    low: Lowering, stmt: ast.LineStmt, body: _Body, header: Span, continuous: bool, guard: ir.Guard | None
) -> None:
    """Lower a line of a cycle (or of a branch of a choice, given to its patients only: ``guard``)."""
    match stmt:
        case ast.Admin():
            given: ast.Admin = stmt
            every_day = None
            if continuous:
                days = next((x for x in stmt.clauses if isinstance(x, ast.Days)), None)
                every_day = _every_day(low, stmt, days)
                given = replace(stmt, clauses=tuple(x for x in stmt.clauses if not isinstance(x, ast.Days)))
            if (lowered := administrations.admin(low, given, header, every_day)) is not None:
                body.place(lowered if guard is None else replace(lowered, guard=guard))
        case ast.Note():
            note = administrations.note(low, stmt)
            body.note(note if guard is None else replace(note, guard=guard), override=body.same_as is not None)
        case ast.Observe(amount=a, unit=u, drug=d):  # it follows its medicine's doses: guarded with them
            med, minutes = low.medicine(d), low.minutes(a, u)
            if med is not None and minutes is not None:
                body.observe(ir.Observation(span=stmt.span, medicine=med, minutes=minutes))
        case ast.Gap(drug=d, days=n):
            med, count = low.medicine(d), low.integer(n, "a gap", limits.DAYS)
            if med is not None and count is not None:
                body.gap(ir.MinGap(span=stmt.span, medicine=med, days=count))
        case _:
            assert_never(stmt)


def _choice(low: Lowering, node: ast.Choice) -> ir.Choice:
    """Lower an `if` or `by` block's conditions (a `by` heading is a test of the block's measure or group)."""
    conds: list[ir.Cond | None] = []
    variable = node.variable
    if variable is not None and variable.text not in low.defs.measures and variable.text not in low.defs.groups:
        unknown_measure(low, variable)
        variable = None  # reported once: its headings are not judged
    for branch in node.branches:
        test = branch.test
        if isinstance(test, ast.ByTest):
            conds.append(_heading_test(low, variable, test))
        else:
            conds.append(condition(low, test) if test is not None else None)
    branches = tuple(ir.ChoiceBranch(span=b.span, cond=cond) for b, cond in zip(node.branches, conds, strict=True))
    name = node.variable.text if node.variable else None
    return ir.Choice(span=node.span, key=node.span, kind=node.kind, variable=name, branches=branches)


def _heading_test(low: Lowering, variable: ast.Word | None, test: ast.ByTest) -> ir.Cond | None:
    """Return a `by` heading as the condition it states of the block's measure or group; None if it cannot be."""
    if variable is None:
        return None
    measure = variable.text in low.defs.measures
    if measure != (test.op is not None):
        low.sink.report(
            c.CLAUSE_CONFLICT,
            test.span,
            f"`{variable.text}` is a {'measure' if measure else 'group'}: its headings are "
            + ("comparisons, such as `under 45 kg`" if measure else "its values, such as `good` or `CNS1, CNS2`"),
            label="not a heading of this block",
            help="write a comparison for a measure, values for a group",
        )
        return None
    if test.op is not None and test.low is not None and test.unit is not None:
        cond: ast.Cond = ast.MeasureTest(
            span=test.span, measure=variable, op=test.op, low=test.low, high=test.high, unit=test.unit
        )
    else:
        cond = ast.GroupIn(span=test.span, group=variable, values=test.values)
    return condition(low, cond)
