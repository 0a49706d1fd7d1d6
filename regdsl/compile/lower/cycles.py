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
from typing import Literal, assert_never

from regdsl.compile.anchoring import names_line
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
    """Return what a note is about: its medicine (and line), else its label (a copied note with it is replaced)."""
    if note.medicine is None:
        return note.label or ""
    return note.medicine.name + (f" ({note.line.casefold()})" if note.line else "")


def line_key(admin: ir.Administration) -> tuple[str, str | None]:
    """Return which line an administration is, for `same as`: its medicine and its line name.

    A line of a `same as` cycle replaces the copied lines with its key that share a day with it:
    `fluorouracil (bolus)` replaces cycle 1's bolus, not its infusion.
    """
    return admin.medicine.name, admin.label.casefold() if admin.label else None


class _Body:
    """A cycle's lines as they are lowered: copied by `same as`, replaced, added, left out by `without`.

    Each statement has a number (``step``). An administration line takes the place of the first
    copied line of its medicine (line name and branch) it shares a day with, and every copied line
    it shares a day with goes, with all its days; copied lines are found by medicine and day, so
    each line is placed in time proportional to its days, not to the cycle. `without X` leaves out
    what of X was copied, and what of X a block used before it gave; never the cycle's own lines.
    """

    def __init__(self) -> None:
        self.step = 0
        self.started = False  # a line of the cycle's own came before
        self.same_as: int | None = None  # the cycle copied
        # Each slot: the lines placed there (with their step, and whether a block gave them), before its copied line.
        self.slots: list[list[tuple[int, ir.Administration, bool]]] = []
        self.copied: dict[int, ir.Administration] = {}  # slot: its copied line, while neither replaced nor left out
        self.gone: set[int] = set()  # the slots whose copied line `without` left out: nothing takes their place
        # line_key, then (branch, day): the slots of copied lines given then (a branch's line replaces its branch's)
        self.by_day: dict[tuple[str, str | None], dict[tuple[ir.Guard | None, int], set[int]]] = {}
        self.removed: dict[str, int] = {}  # medicine: the step of its last `without`
        self.removed_lines: dict[str, list[tuple[int, str]]] = {}  # medicine: each `without MED (LINE)`'s step, line
        self.slots_of: dict[str, set[int]] = {}  # medicine: the slots of its copied lines
        self.own_of: dict[str, list[ir.Administration]] = {}  # medicine: the lines placed of it
        self.overridden: set[str] = set()
        # Copied notes, observations and gaps have step 0, before every statement of the cycle.
        self._notes: list[tuple[int, ir.Note, bool, bool]] = []  # step, note, copied, `without` may remove it
        self._observations: list[tuple[int, ir.Observation]] = []
        self._gaps: list[tuple[int, ir.MinGap]] = []
        self.gates: list[ir.Gate] = []
        self.choices: list[ir.Choice] = []
        self.left_out: list[tuple[str, str | None]] = []  # each `without`, in order

    def copy(self, source: ir.CycleGroup) -> None:
        for admin in source.administrations:
            slot = len(self.slots)
            self.slots.append([])
            self.copied[slot] = admin
            self.slots_of.setdefault(admin.medicine.name, set()).add(slot)
            days = self.by_day.setdefault(line_key(admin), {})
            for day in admin.days:
                days.setdefault((admin.guard, day), set()).add(slot)
        self._notes.extend((0, note, True, True) for note in source.notes)
        self._observations.extend((0, o) for o in source.observations)
        self._gaps.extend((0, g) for g in source.gaps)
        self.gates.extend(source.gates)
        self.choices.extend(source.choices)

    def place(self, new: ir.Administration, *, block: bool) -> None:
        """Place a line written in the cycle, or by a block (``block``), replacing the copied lines it restates."""
        self.started = True
        self.own_of.setdefault(new.medicine.name, []).append(new)
        days = self.by_day.get(line_key(new), {})
        hit: set[int] = set()
        for day in new.days:
            hit.update(days.pop((new.guard, day), ()))
        hit.difference_update(self.gone)
        for slot in hit:
            self.copied.pop(slot, None)  # the whole copied line goes, its other days too (9.4)
        if hit:
            self.slots[min(hit)].append((self.step, new, block))
        else:
            self.slots.append([(self.step, new, block)])

    def note(self, note: ir.Note, *, override: bool, block: bool = False) -> None:
        self.started = True
        if override:
            self.overridden.add(_key(note))
        self._notes.append((self.step, note, False, block))

    def observe(self, observation: ir.Observation) -> None:
        self.started = True
        self._observations.append((self.step, observation))

    def gap(self, gap: ir.MinGap) -> None:
        self.started = True
        self._gaps.append((self.step, gap))

    def lines_of(self, medicine: Medicine) -> list[ir.Administration]:
        """Return the lines of ``medicine`` the cycle has so far, copied and placed."""
        slots = sorted(self.slots_of.get(medicine.name, ()))
        copied = [self.copied[slot] for slot in slots if slot in self.copied]
        return copied + self.own_of.get(medicine.name, [])

    def without(self, medicine: Medicine, line: str | None = None) -> None:
        """Leave out what of ``medicine`` (or of its lines named ``line``) was copied or came before from a block."""
        self.left_out.append((medicine.name, line))
        slots = self.slots_of.get(medicine.name, set())
        if line is not None:
            self.removed_lines.setdefault(medicine.name, []).append((self.step, line))
            slots = {s for s in slots if s in self.copied and names_line([self.copied[s]], line)}
        else:
            self.removed[medicine.name] = self.step
        for slot in slots:
            if self.copied.pop(slot, None) is not None:
                self.gone.add(slot)

    def kept(self, step: int, medicine: Medicine | None) -> bool:
        """Whether a copied or block line of ``medicine`` from ``step`` is kept: no `without` of it came after."""
        return medicine is None or step > self.removed.get(medicine.name, -1)

    def kept_line(self, step: int, admin: ir.Administration) -> bool:
        return self.kept(step, admin.medicine) and not any(
            later > step and names_line([admin], line)
            for later, line in self.removed_lines.get(admin.medicine.name, ())
        )

    def administrations(self) -> tuple[ir.Administration, ...]:
        found: list[ir.Administration] = []
        for slot, placed in enumerate(self.slots):
            found.extend(admin for step, admin, block in placed if not block or self.kept_line(step, admin))
            if slot in self.copied:
                found.append(self.copied[slot])
        return tuple(found)

    def notes(self) -> tuple[ir.Note, ...]:
        return tuple(
            note
            for step, note, copied, removable in self._notes
            if (not removable or self.kept(step, note.medicine)) and not (copied and _key(note) in self.overridden)
        )

    def observations(self) -> tuple[ir.Observation, ...]:
        return tuple(o for step, o in self._observations if step or self.kept(step, o.medicine))

    def gaps(self) -> tuple[ir.MinGap, ...]:
        return tuple(g for step, g in self._gaps if step or self.kept(step, g.medicine))


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


def _use(low: Lowering, stmt: ast.UseBlock, body: _Body, header: Span, days: ast.Days | None, named: _Named) -> None:
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
    above: ir.Administration | None = None
    for item in block.items:
        if isinstance(item, ast.Admin):
            above = _admin(low, item, header, above, body, named, days, block=stmt.name.text)
        else:
            above = None
            note = replace(administrations.note(low, item), block=stmt.name.text)
            body.note(named.note(note), override=False, block=True)


# Each reference to a line by name written in a cycle: its medicine, the name and where it is written.
class _Named:
    """The references to a line by its name written in one cycle, checked once the cycle's lines are known."""

    def __init__(self) -> None:
        self.found: list[tuple[Medicine, str, Span]] = []

    def add(self, medicine: Medicine | None, line: ast.Word | None) -> None:
        if medicine is not None and line is not None:
            self.found.append((medicine, line.text, line.span))

    def note(self, note: ir.Note) -> ir.Note:
        if note.medicine is not None and note.line is not None and note.label_word is not None:
            self.found.append((note.medicine, note.line, note.label_word.span))
        return note

    def relations(self, admin: ir.Administration) -> ir.Administration:
        for rel in admin.relations:
            if rel.medicine is not None and rel.line is not None and rel.line_span is not None:
                self.found.append((rel.medicine, rel.line, rel.line_span))
        return admin

    def check(self, low: Lowering, lines: Sequence[ir.Administration]) -> None:
        """Report each name that names no line of its medicine among ``lines`` (`TIM008`)."""
        of: dict[Medicine, list[ir.Administration]] = {}
        for admin in lines:
            of.setdefault(admin.medicine, []).append(admin)
        for medicine, line, span in self.found:
            _check_name(low, medicine, line, span, of.get(medicine, []))


def _check_name(low: Lowering, medicine: Medicine, line: str, span: Span, lines: Sequence[ir.Administration]) -> None:
    """Report `TIM008` when ``line`` names none of ``lines`` (a medicine the cycle does not give is `TIM003`'s)."""
    if not lines or names_line(lines, line):
        return
    labels = sorted({a.label for a in lines if a.label})
    words = labels or sorted({a.route_word.text for a in lines if a.route_word})
    shown = ", ".join(f"`({w})`" for w in words)
    low.unknown(
        c.UNKNOWN_LINE_NAME,
        span,
        f"no line of {medicine.display} is named `({line})`" + (f"; its lines are {shown}" if shown else ""),
        label="no such line",
        word=line,
        candidates=words,
        otherwise=f"name the line, as in `{medicine.display} (bolus) ...`, or leave the name out",
    )


def _admin(
    low: Lowering,
    node: ast.Admin,
    header: Span,
    above: ir.Administration | None,
    body: _Body,
    named: _Named,
    days: ast.Days | None = None,
    guard: ir.Guard | None = None,
    *,
    block: str | None = None,
) -> ir.Administration | None:
    """Lower and place an administration line (of the block named ``block``); `then` times it from ``above``'s end."""
    lowered = administrations.admin(low, node, header, days)
    if lowered is None:
        return None
    if guard is not None:
        lowered = replace(lowered, guard=guard)
    if block is not None:
        lowered = replace(lowered, block=block)
    if node.then is not None:
        if above is None or above.prn:
            low.sink.report(
                c.THEN_WITHOUT_LINE,
                node.then.span,
                "`then` needs an administration line right above it, given at set times",
                label="nothing to follow",
                help="write the line this one follows right above it, or time it with `after`",
            )
        else:
            follows = ir.Relation(
                span=node.then.span,
                direction="after",
                low=0,
                high=0,
                point="end",
                anchor_kind="drug",
                anchor=above.medicine.name,
                qualifier_text=None,
                medicine=above.medicine,
                line=above.label,
                via="then",
            )
            lowered = replace(lowered, relations=(follows, *lowered.relations))
    body.place(named.relations(lowered), block=block is not None)
    return lowered


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
    named = _Named()
    title: ast.Text | None = None
    copied: ast.Text | None = None  # the title `same as` copies, unless the cycle gives its own
    same_as_span = None
    above: ir.Administration | None = None  # the administration line right above, for `then`
    for stmt in node.body:
        body.step += 1
        if not isinstance(stmt, ast.Admin):
            above = None
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
                _use(low, stmt, body, header, _every_day(low, stmt, stmt.days) if continuous else stmt.days, named)
            case ast.Admin() | ast.Note() | ast.Observe() | ast.Gap():
                above = _line(low, stmt, body, header, continuous, None, above, named)
            case ast.Choice():
                choice = _choice(low, stmt)
                body.choices.append(choice)
                for number, branch in enumerate(stmt.branches):
                    guard = ir.Guard(choice=choice.key, branch=number)
                    inner: ir.Administration | None = None  # `then` follows a line of its own branch
                    for entry in branch.body:
                        inner = _line(low, entry, body, header, continuous, guard, inner, named)
            case ast.Without(drug=d, line=line):
                med = low.medicine(d)
                if med is not None:
                    if line is not None:
                        _check_name(low, med, line.text, line.span, body.lines_of(med))
                    body.without(med, line.text if line else None)
            case ast.Proceed(cond=cond, prose=prose):
                body.gates.append(ir.Gate(span=stmt.span, cond=condition(low, cond), prose=prose))
            case _:
                assert_never(stmt)
    administrations_ = body.administrations()
    named.check(low, administrations_)
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
        administrations=administrations_,
        notes=body.notes(),
        observations=body.observations(),
        gaps=body.gaps(),
        continuous=continuous,
        gates=tuple(body.gates),
        choices=tuple(body.choices),
        left_out=tuple(body.left_out),
    )


def _position(word: ast.Word | None) -> Literal["first", "last"] | None:
    if word is None:
        return None
    return "first" if word.text == "first" else "last"


def _line(
    low: Lowering,
    stmt: ast.LineStmt,
    body: _Body,
    header: Span,
    continuous: bool,
    guard: ir.Guard | None,
    above: ir.Administration | None,
    named: _Named,
) -> ir.Administration | None:
    """Lower a line of a cycle (or of a branch of a choice, given to its patients only: ``guard``).

    Return the administration placed (what a `then` line right below follows), else None.
    """
    match stmt:
        case ast.Admin():
            given: ast.Admin = stmt
            every_day = None
            if continuous:
                days = next((x for x in stmt.clauses if isinstance(x, ast.Days)), None)
                every_day = _every_day(low, stmt, days)
                given = replace(stmt, clauses=tuple(x for x in stmt.clauses if not isinstance(x, ast.Days)))
            return _admin(low, given, header, above, body, named, every_day, guard)
        case ast.Note():
            note = named.note(administrations.note(low, stmt))
            body.note(note if guard is None else replace(note, guard=guard), override=body.same_as is not None)
        case ast.Observe(amount=a, unit=u, drug=d, line=line, position=position):  # guarded with its doses
            med, minutes = low.medicine(d), low.minutes(a, u)
            named.add(med, line)
            if med is not None and minutes is not None:
                body.observe(
                    ir.Observation(
                        span=stmt.span,
                        medicine=med,
                        minutes=minutes,
                        line=line.text if line else None,
                        position=_position(position),
                    )
                )
        case ast.Gap(drug=d, days=n, line=line):
            med, count = low.medicine(d), low.integer(n, "a gap", limits.DAYS)
            named.add(med, line)
            if med is not None and count is not None:
                body.gap(ir.MinGap(span=stmt.span, medicine=med, days=count, line=line.text if line else None))
        case _:
            assert_never(stmt)
    return None


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
