"""Structure rules: cycle numbering that overlaps or skips, and administrations written twice."""

from __future__ import annotations

from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir
from regdsl.model.doses import amount
from regdsl.model.limits import CYCLE_NUMBERS

__all__ = ["cycle_numbering_gap", "duplicate_administration", "overlapping_cycles"]


def _cycles_text(first: int, last: int | None) -> str:
    """`cycle 2`, `cycles 2 to 3`, `cycles 5 onwards`."""
    if last is None:
        return f"cycles {first} onwards"
    if first == last:
        return f"cycle {first}"
    return f"cycles {first} to {last}"


def _last(group: ir.CycleGroup) -> int | None:
    return None if group.open_ended else (group.last or group.first)


def _part_name(part: ir.Part) -> str:
    return f" of part {part.number}" if part.number is not None else ""


@rule("STR013", "overlapping-cycles", Severity.ERROR, "two cycle groups describe the same cycle")
def overlapping_cycles(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find cycle groups whose cycle numbers overlap.

    What it does: within each part, flags a cycle group that covers a cycle number an
    earlier group already covers (`cycles 1 to 3`, then `cycle 2`; or `cycle 1 and all
    further cycles`, then `cycle 4`).

    Why it matters: the regimen then says two things about one cycle, and which one a
    reader, a prescribing system or a renderer uses is an accident of order. The doses of
    the other are silently not given, or given twice.

    Example:
        cycles 1 to 3: 21 days
          PACLItaxel 175 mg/m2 IV day 1 over 3 hours
        cycle 2: 21 days
          PACLItaxel 135 mg/m2 IV day 1 over 3 hours

    Use instead: groups that do not overlap: `cycle 1`, `cycle 2`, `cycle 3`, each with
    its dose.
    """
    for part in ctx.regimen.parts:
        covers = _FirstCover(CYCLE_NUMBERS.value)
        for later_index, later in enumerate(part.cycles):
            top = min(_last(later) or CYCLE_NUMBERS.value, CYCLE_NUMBERS.value)
            found = covers.first(later.first, top)
            covers.paint(later.first, top, later_index)
            if found is None:
                continue
            earlier = part.cycles[found]
            low = max(earlier.first, later.first)
            ends = [e for e in (_last(earlier), _last(later)) if e is not None]
            high = min(ends) if ends else None
            what = _cycles_text(low, high)
            yield overlapping_cycles.finding(
                later.span,
                f"{what}{_part_name(part)} {'is' if low == high else 'are'} described twice",
                label=f"also {what}",
                secondary=(Label(earlier.span, f"{what} first described here"),),
                help="number the cycle groups so that each cycle belongs to one group",
            )


class _FirstCover:
    """The first group to cover each cycle number 1..size, and the first of those over a range.

    A minimum segment tree over the cycle numbers; each number is painted once (the next
    unpainted number is found by path halving), so a part's groups take n log n in all.
    """

    def __init__(self, size: int) -> None:
        self.size = size + 1
        self.tree: list[int | None] = [None] * (2 * self.size)
        self.unpainted = list(range(self.size + 1))

    def first(self, low: int, high: int) -> int | None:
        """Return the first group covering some cycle number in ``low..high``, if any."""
        found: int | None = None
        lo, hi = low + self.size, high + self.size + 1
        while lo < hi:
            for node in ((lo,) if lo & 1 else ()) + ((hi - 1,) if hi & 1 else ()):
                value = self.tree[node]
                if value is not None and (found is None or value < found):
                    found = value
            lo, hi = (lo + 1) // 2, hi // 2
        return found

    def _next(self, number: int) -> int:
        while self.unpainted[number] != number:
            self.unpainted[number] = self.unpainted[self.unpainted[number]]
            number = self.unpainted[number]
        return number

    def paint(self, low: int, high: int, group: int) -> None:
        """Record ``group`` as the first to cover the numbers of ``low..high`` not covered yet."""
        number = self._next(low)
        while number <= high:
            node = number + self.size
            self.tree[node] = group
            node //= 2
            while node and (self.tree[node] is None or group < (self.tree[node] or 0)):
                self.tree[node] = group
                node //= 2
            self.unpainted[number] = number + 1
            number = self._next(number + 1)


@rule("STR015", "cycle-numbering-gap", Severity.WARNING, "cycle numbers skip a cycle")
def cycle_numbering_gap(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find cycle numbers that skip one or more cycles.

    What it does: within each part, sorts the cycle groups by their first cycle and flags
    a group that starts after a gap: the first group not starting at cycle 1, or a group
    that does not follow straight on from the one before (`cycles 1 to 3`, then
    `cycle 5`).

    Why it matters: a cycle the regimen does not describe has no doses: a patient reaching
    cycle 4 has nothing to be prescribed, or is prescribed from memory.

    Example:
        cycles 1 to 3: 21 days
          DOCEtaxel 75 mg/m2 IV day 1 over 60 min
        cycle 5: 21 days
          DOCEtaxel 60 mg/m2 IV day 1 over 60 min

    Use instead: `cycles 1 to 4`, then `cycle 5`; or number the groups without a gap.
    """
    for part in ctx.regimen.parts:
        expected = 1
        for group in sorted(part.cycles, key=lambda g: (g.first, g.span.start)):
            if group.first > expected:
                missing = _cycles_text(expected, group.first - 1)
                verb = "is" if expected == group.first - 1 else "are"
                why = (
                    f"the cycles jump from {expected - 1} to {group.first}"
                    if expected > 1
                    else f"the first cycle group starts at cycle {group.first}"
                )
                yield cycle_numbering_gap.finding(
                    group.span,
                    f"{missing}{_part_name(part)} {verb} not described: {why}",
                    label=f"starts at cycle {group.first}",
                    help=f"describe {missing}, or renumber the cycle groups",
                )
            last = _last(group)
            if last is None:
                break
            expected = max(expected, last + 1)


def _days_text(days: list[int]) -> str:
    """`day 2`, `days 2 and 3`, `days 2, 3 and 4`, `days 2 to 9`."""
    if len(days) == 1:
        return f"day {days[0]}"
    if len(days) > 3 and days == list(range(days[0], days[-1] + 1)):
        return f"days {days[0]} to {days[-1]}"
    return "days " + ", ".join(str(d) for d in days[:-1]) + f" and {days[-1]}"


def _same_dose_key(admin: ir.Administration) -> tuple[object, ...]:
    """Everything that makes two lines the same dose, apart from their days."""
    return (
        admin.medicine.name,
        admin.dose.amount,
        admin.dose.unit.code,
        admin.route.code if admin.route else None,
        admin.frequency.code if admin.frequency else None,
        admin.prn,
        admin.max_minutes,
        admin.exact_duration,
        admin.min_minutes,
        admin.extend_minutes,
        (admin.volume.amount, admin.volume.unit.code) if admin.volume else None,
        tuple((r.direction, r.low, r.high, r.point, r.anchor_kind, r.anchor) for r in admin.relations),
        admin.instructions,
    )


@rule("STR014", "duplicate-administration", Severity.ERROR, "one dose written twice for the same day")
def duplicate_administration(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find the same administration written twice for the same day of a cycle.

    What it does: within a cycle group, flags two lines of the same medicine, dose, unit
    and route (and the same frequency, timing, duration and instructions) whose days
    overlap. Lines for different days (olanzapine 5 mg on day 1, and on days 2 to 4 with
    other instructions) are not duplicates; nor are two doses on one day timed
    differently (ondansetron 60 min before and 8 hours after chemotherapy), or with
    different instructions (a morning and an evening dose).

    Why it matters: a copied line whose days were not changed doubles the dose on the
    days both lines cover.

    Example:
        cycle 1: 28 days
          dexamethasone 8 mg oral days 1 to 3
          dexamethasone 8 mg oral days 2 to 4

    Use instead: one line, `dexamethasone 8 mg oral days 1 to 4`, or `twice daily` if two
    doses a day are meant.
    """
    reported: set[tuple[str, int, str, int]] = set()
    for group in ctx.regimen.cycles():
        admins = group.administrations
        # Same dose, then day: the first two lines (of different spans) given that day. The first
        # earlier line sharing a day with a later one is among them: no pair of lines is compared.
        seen: dict[tuple[object, ...], dict[int, list[int]]] = {}
        for j, later in enumerate(admins):
            by_day = seen.setdefault(_same_dose_key(later), {})
            candidates = sorted({i for day in later.days for i in by_day.get(day, ())})
            for day in later.days:
                first = by_day.setdefault(day, [])
                if len(first) < 2 and all(admins[i].span != later.span for i in first):
                    first.append(j)
            for i in candidates:
                earlier = admins[i]
                days = sorted(set(earlier.days) & set(later.days))
                pair = (earlier.span.path, earlier.span.start, later.span.path, later.span.start)
                if pair in reported or earlier.span == later.span or earlier.exclusive_of(later):
                    continue
                reported.add(pair)
                shown = _days_text(days)
                dose = f"{later.medicine.display} {amount(later.dose.amount)} {later.dose.unit.display}"
                yield duplicate_administration.finding(
                    later.span,
                    f"{dose} is written twice for {shown}: the patient would receive it twice",
                    label="second line for the same days",
                    secondary=(Label(earlier.span, "first line"),),
                    help="remove one line or correct its days; write `twice daily` if two doses a day are meant",
                )
                break
