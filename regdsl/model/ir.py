"""The lowered regimen: names resolved to medicines, words to coded terms, days to numbers.

This is the model every later stage reads (graphs, checks, renderers, exports). Like
the syntax nodes, every node is frozen, slotted and carries the span it came from. It also
keeps what the rules judge of how a regimen is written: each amount, unit and route as
written, every place a medicine is named (``Mention``), every link, the clauses and fields
given again and set aside, every prose block and heading of the file, with their spans;
lowering itself judges none of it. Words, quoted texts and prose are kept as the parser
made them (``ast.Word``, ``ast.Text``, ``ast.Prose``), which know where each of their
characters was written: the rules locate what they find in them without reading the source
again, and lowering makes no object for them. Each is also given as plain text (``text``,
``instructions``, ``qualifier``...), as the pages read it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Literal, assert_never

from regdsl.model import ast
from regdsl.model.conditions import DEFAULT_RESPONSES, Measure, Values
from regdsl.model.medicines import Medicine
from regdsl.model.routes import route_label
from regdsl.model.vocabulary import Basis, Coding, Frequency, Route, Unit
from regdsl.record import Record, record
from regdsl.source import Span

__all__ = [
    "Administration",
    "AndCond",
    "Branch",
    "Choice",
    "ChoiceBranch",
    "Clock",
    "Cond",
    "CycleGroup",
    "DayRange",
    "Decision",
    "Dose",
    "Footnote",
    "Gate",
    "GroupIn",
    "Guard",
    "Hsct",
    "Limit",
    "MeasureTest",
    "Mention",
    "Meta",
    "MinGap",
    "Mrd",
    "NotCond",
    "Note",
    "Observation",
    "OrCond",
    "Part",
    "Plan",
    "PlanUnit",
    "Quantity",
    "Reference",
    "Regimen",
    "Relation",
    "ResponseIn",
    "StartRule",
    "Status",
    "StopRule",
    "Support",
    "SupportFactor",
    "Term",
    "Written",
    "given_together",
]


class Status(enum.Enum):
    """Where a regimen stands in its life."""

    DRAFT = "draft"
    PROVISIONAL = "provisional"
    PUBLISHED = "published"
    DISCONTINUED = "discontinued"
    SUPERSEDED = "superseded"


@record
class Written(Record):
    """A word or text exactly as written, and where: a response category, a link."""

    span: Span
    text: str


@record
class Mention(Record):
    """One place a medicine is named: the name as written there, and the medicine it names."""

    written: ast.DrugRef | ast.Word  # its span, its text (decoded, when quoted)
    medicine: Medicine


@record
class Term(Record):
    """A classification term as written, with its SNOMED CT code when known."""

    span: Span
    text: str
    code: str | None


@record
class Footnote(Record):
    """A footnote defined in ``library.reg``: its name, marker and text."""

    span: Span
    name: str
    marker: str
    text: str


@record
class Meta(Record):
    """Identity and classification of a regimen or of one of its parts."""

    span: Span
    fields: tuple[tuple[str, str], ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()
    cancer: tuple[Term, ...] = ()
    setting: Term | None = None
    status: Status | None = None
    superseded_by: str | None = None
    footnotes: tuple[Footnote, ...] = ()
    footnote_spans: tuple[Span, ...] = ()  # where each of ``footnotes`` is named in the heading
    overview_prose: ast.Prose | None = None
    # Each field given again (``start`` for a part's), set aside: its key, where, and where first given.
    repeated: tuple[tuple[str, Span, Span], ...] = ()
    status_span: Span | None = None  # the status word, when a status is given
    superseded_span: Span | None = None  # the id after `superseded by`, when given

    @property
    def overview(self) -> str | None:
        """The overview's prose as one text."""
        return self.overview_prose.text if self.overview_prose else None

    def get(self, key: str) -> str | None:
        """Return a text or date field (``name``, ``version``, ``date``...) if given."""
        return next((v for k, v in self.fields if k == key), None)


@record
class Quantity(Record):
    """An amount with a unit, such as the 1000 mL a dose is given in, and both as written."""

    span: Span
    amount: Decimal
    unit: Unit
    amount_word: ast.Word
    unit_word: ast.Word

    @property
    def text(self) -> str:
        """The amount as written."""
        return self.amount_word.text


@record
class Dose(Quantity):
    """A dose: the amount exactly as a decimal, the unit, both as written, and whether it is marked `flat`."""

    flat: bool

    @property
    def basis(self) -> Basis:
        """What the dose is scaled by."""
        return self.unit.basis


@record
class Relation(Record):
    """A timing relation of an administration to an anchor.

    ``before``: start(anchor) - start(this) lies in [low, high] minutes.
    ``after``:  start(this) - point(anchor) lies in [low, high] minutes, where the point
    is the anchor's end unless written ``after start of``. A bound of None is open.
    """

    span: Span
    direction: Literal["before", "after"]
    low: int | None
    high: int | None
    point: Literal["start", "end"]
    anchor_kind: Literal["drug", "chemotherapy", "event"]
    anchor: str
    qualifier_text: ast.Text | None
    medicine: Medicine | None = None  # the anchor, when it is a medicine
    line: str | None = None  # the anchor's line, when named: `fluorouracil (bolus)`, `methotrexate (IT)`
    line_span: Span | None = None
    own_point: Literal["start", "end"] = "start"  # `ending ...`: this line's end is timed, not its start
    position: Literal["first", "last"] | None = None  # the anchor line's first or last dose of the cycle
    via: Literal["relation", "then", "concurrently"] = "relation"  # how it was written

    @property
    def qualifier(self) -> str | None:
        """The free text kept beside the relation, if any."""
        return self.qualifier_text.value if self.qualifier_text else None

    @property
    def measured(self) -> bool:
        """Whether it gives an amount of time (`30 min before`, `at least 6 hours before`, `then`).

        A measured relation is timed to the anchor's dose of its own day; one without an amount
        (`before PACLItaxel`) may be timed to the next day's (the night before) or the previous day's.
        """
        return self.high is not None or bool(self.low)


@record
class Clock(Record):
    """Doses by the clock: ``every 12 hours for 6 doses`` (also the legacy ``every two hours`` words)."""

    span: Span
    interval: int  # minutes between consecutive starts (720 for every 12 hours)
    count: int | None  # `for N doses`; None: as many as fill each day range
    each_day: bool  # `each day`: one series on every listed day


@record
class Administration(Record):
    """One medicine given on some days of a cycle, with everything said about it."""

    span: Span
    medicine: Medicine
    written: str
    dose: Dose
    route: Route | None
    frequency: Frequency | None
    days: tuple[int, ...]
    shift_days: int | None
    max_minutes: int | None
    exact_duration: bool
    prn: bool
    role: Literal["anticancer", "supportive"]
    role_stated: bool
    off_label: bool
    s29: bool
    volume: Quantity | None
    cap: Quantity | None
    relations: tuple[Relation, ...]
    instructions_prose: ast.Prose | None
    written_for: Span  # the heading of the cycle group it was written for (not one that copies it)
    route_word: ast.Word | None = None  # the route as written
    repeated: tuple[tuple[Span, Span], ...] = ()  # each clause given again, set aside, and where first given
    days_span: Span | None = None  # the `days` clause (of the line, or of its `use`)
    day_ranges: tuple[DayRange, ...] = ()
    label: str | None = None  # the line's name: `fluorouracil (bolus) ...`
    label_span: Span | None = None
    clock: Clock | None = None  # every dose at a fixed interval (also set for `every two hours`)
    # The duration's lower bound (`over at least 15 min`, `over 4 to 6 hours`; for `over exactly`, the
    # time) and `, may extend to 6 hours`; ``max_minutes`` stays the written upper bound (None for `at least`).
    min_minutes: int | None = None
    extend_minutes: int | None = None
    continuous: bool = False  # `days 1 to 7 continuous`: one infusion through each range of days
    pump: bool = False  # `by pump`: an ambulatory pump, disconnected at the dose's end
    bag_minutes: int | None = None  # `bags every 96 hours`: how often the bag is changed (shown, not timed)
    duration_words: tuple[ast.Word, ...] = ()  # the numbers of its `over` clause, as written (`1.5`, `4`, `6`)
    starting: bool = False  # the days were written `starting day N`: one series from that day
    guard: Guard | None = None  # the branch of a choice it is written in: given only to those patients
    block: str | None = None  # the block whose `use` gave it

    def exclusive_of(self, other: Administration) -> bool:
        """Whether no patient is given both lines: they are in different branches of one choice."""
        mine, theirs = self.guard, other.guard
        return mine is not None and theirs is not None and mine.choice == theirs.choice and mine.branch != theirs.branch

    @property
    def instructions(self) -> str | None:
        """The instructions' prose as one text."""
        return self.instructions_prose.text if self.instructions_prose else None

    @property
    def duration_stated(self) -> bool:
        """Whether the line says how long it takes (an `over` clause that could be read)."""
        return self.max_minutes is not None or self.min_minutes is not None

    @property
    def route_span(self) -> Span | None:
        """Where the route is written."""
        return self.route_word.span if self.route_word else None

    @property
    def warning_label(self) -> str | None:
        """The warning pages print on this line: its medicine's (a vinca alkaloid's) first, else its route's."""
        route = self.route.code if self.route else None
        return self.medicine.label(route) or route_label(route)


@record
class DayRange(Record):
    """A day or a range of days as written: ``8`` or ``1 to 28``."""

    span: Span
    first: int
    last: int


@record
class Note(Record):
    """A note about a medicine, a factor, a cycle or a part."""

    span: Span
    label_word: ast.Word | None
    medicine: Medicine | None
    prose: ast.Prose
    line: str | None = None  # `note fluorouracil (infusion)`: one line of the medicine
    guard: Guard | None = None  # the branch of a choice it is written in
    block: str | None = None  # the block whose `use` gave it

    @property
    def label(self) -> str | None:
        """The label as written: a medicine or a factor."""
        return self.label_word.text if self.label_word else None

    @property
    def text(self) -> str:
        """The note's prose as one text."""
        return self.prose.text


@record
class Observation(Record):
    """An observation period after the end of an administration."""

    span: Span
    medicine: Medicine
    minutes: int
    line: str | None = None  # the observed line, when named
    position: Literal["first", "last"] | None = None  # after the line's first or last dose of the cycle only


@record
class MinGap(Record):
    """A minimum number of days between consecutive doses of a medicine."""

    span: Span
    medicine: Medicine
    days: int
    line: str | None = None  # the line whose doses keep the gap, when named


@record
class CycleGroup(Record):
    """Cycles ``first`` to ``last`` (or open-ended), all alike."""

    span: Span
    first: int
    last: int | None
    open_ended: bool
    length_days: int
    extend_to_days: int | None
    title_text: ast.Text | None
    same_as: int | None
    same_as_span: Span | None
    administrations: tuple[Administration, ...]
    notes: tuple[Note, ...]
    observations: tuple[Observation, ...]
    gaps: tuple[MinGap, ...]
    continuous: bool = False  # `continuous treatment`: an open-ended one-day cycle, every day a treatment day
    gates: tuple[Gate, ...] = ()  # `proceed if`: who is given each cycle
    choices: tuple[Choice, ...] = ()  # `if` and `by` blocks: lines given to some patients
    # Each `without MEDICINE` or `without MEDICINE (LINE)`, in order: the medicine's name and the line, if named.
    left_out: tuple[tuple[str, str | None], ...] = ()

    @property
    def title(self) -> str | None:
        """The group's title, if it has one."""
        return self.title_text.value if self.title_text else None

    @property
    def count(self) -> int | None:
        """How many cycles the group holds; None when open-ended."""
        if self.open_ended:
            return None
        return (self.last or self.first) - self.first + 1

    @property
    def heading(self) -> str:
        """The heading the library's pages use, such as ``Cycles 2 to 3 - 28 days``."""
        if self.continuous:
            heading = "Continuous treatment - every day"
            return f"{heading} - {self.title}" if self.title else heading
        if self.open_ended:
            label = f"Cycle {self.first} (and all further cycles)"
        elif self.last is not None and self.last != self.first:
            label = f"Cycles {self.first} to {self.last}"
        else:
            label = f"Cycle {self.first}"
        heading = f"{label} - {self.length_days} days"
        return f"{heading} - {self.title}" if self.title else heading

    def covers(self, cycle: int) -> bool:
        """Whether cycle number ``cycle`` belongs to this group."""
        if self.open_ended:
            return cycle >= self.first
        return self.first <= cycle <= (self.last or self.first)


@record
class SupportFactor(Record):
    """A supportive-care factor and its value: codes where known, text as written."""

    span: Span
    factor: Coding | None
    value: Coding | None
    factor_word: ast.Word
    value_word: ast.Word

    @property
    def factor_text(self) -> str:
        """The factor as written."""
        return self.factor_word.text

    @property
    def value_text(self) -> str:
        """The value as written."""
        return self.value_word.text


@record
class Support(Record):
    """Supportive-care factors and notes."""

    factors: tuple[SupportFactor, ...] = ()
    notes: tuple[Note, ...] = ()


@record
class Reference(Record):
    """A citation, verbatim, with its links, PubMed ids and access dates."""

    span: Span
    text: str
    urls: tuple[str, ...]
    pmids: tuple[str, ...]
    accessed: tuple[str, ...]


@record
class StartRule(Record):
    """When a part starts relative to an outside event or the previous part."""

    span: Span
    relation: Relation
    prose: ast.Prose | None

    @property
    def text(self) -> str | None:
        """The source's wording of the rule, as one text."""
        return self.prose.text if self.prose else None


def given_together(admins: Sequence[Administration]) -> bool:
    """Whether some patient is given two of ``admins``: not each in its own branch of one choice (linear)."""
    unguarded = 0
    branches: dict[Span, dict[int, int]] = {}
    for admin in admins:
        if admin.guard is None:
            unguarded += 1
        else:
            counts = branches.setdefault(admin.guard.choice, {})
            counts[admin.guard.branch] = counts.get(admin.guard.branch, 0) + 1
    if unguarded > 1 or (unguarded and branches) or len(branches) > 1:
        return True
    return any(n > 1 for counts in branches.values() for n in counts.values())


@record
class Part(Record):
    """One part of a regimen (a regimen without parts has one, numbered None)."""

    span: Span
    number: int | None
    title: str | None
    meta: Meta
    start: StartRule | None
    cycles: tuple[CycleGroup, ...]
    support: Support
    references: tuple[Reference, ...]


@record
class ResponseIn(Record):
    """``response in (CR, CRi)`` or ``response is PR``: each category as written."""

    span: Span
    codes: tuple[Written, ...]


@record
class GroupIn(Record):
    """``toxicity is unacceptable`` or ``igcccg in (intermediate, poor)``: each value as written."""

    span: Span
    group: str
    values: tuple[Written, ...]


@record
class MeasureTest(Record):
    """``CrCl 30 to 50 mL/min``: a measure compared with its thresholds, exact as written (``range`` is closed)."""

    span: Span
    measure: str
    op: Literal["lt", "gt", "ge", "le", "range"]
    low: Fraction
    high: Fraction | None  # for "range"
    unit: Written

    def holds(self, value: Fraction) -> bool:
        """Whether the comparison holds for ``value``."""
        match self.op:
            case "lt":
                return value < self.low
            case "gt":
                return value > self.low
            case "ge":
                return value >= self.low
            case "le":
                return value <= self.low
            case "range":
                return self.low <= value <= (self.high if self.high is not None else self.low)
            case _:
                assert_never(self.op)


@record
class ChoiceBranch(Record):
    """One branch of a choice of lines: who it is for (None: `otherwise`, everyone the others leave)."""

    span: Span
    cond: Cond | None


@record
class Choice(Record):
    """``if COND:`` or ``by VARIABLE:`` in a cycle: lines given only to the patients of a branch.

    ``key`` is where it was first written (kept by `same as`), so a patient's branch is one
    choice wherever the cycle is copied. A lone ``if`` has one branch: its lines, or none.
    """

    span: Span
    key: Span
    kind: Literal["if", "by"]
    variable: str | None
    branches: tuple[ChoiceBranch, ...]


@record
class Guard(Record):
    """The branch of a choice a line is written in: the choice's key and the branch's number."""

    choice: Span
    branch: int


@record
class Gate(Record):
    """``proceed if COND``: who is given the cycle; the prose says what to do for the others."""

    span: Span
    cond: Cond
    prose: ast.Prose | None


@record
class Mrd(Record):
    """``MRD negative`` or ``MRD positive``."""

    span: Span
    negative: bool


@record
class Hsct(Record):
    """``proceeding to HSCT``."""

    span: Span


@record
class NotCond(Record):
    """``not COND``."""

    span: Span
    operand: Cond


@record
class AndCond(Record):
    """``COND and COND ...``."""

    span: Span
    operands: tuple[Cond, ...]


@record
class OrCond(Record):
    """``COND or COND ...``."""

    span: Span
    operands: tuple[Cond, ...]


Cond = ResponseIn | GroupIn | MeasureTest | Mrd | Hsct | NotCond | AndCond | OrCond

# What a plan counts in: cycles, or (for a time cap) weeks, months or years, calendar units with no value in minutes.
PlanUnit = Literal["cycles", "weeks", "months", "years"]


@record
class Branch(Record):
    """One guarded transition at a decision point (``cond`` None: otherwise)."""

    span: Span
    cond: Cond | None
    action: Literal["continue", "next", "cycle", "part", "stop"]
    target: str | None  # the regimen id, cycle or part number
    target_span: Span | None = None  # where the target is written


@record
class Decision(Record):
    """A decision point: after which cycles, and its branches in order."""

    span: Span
    kind: Literal["any", "cycle", "cycles", "part", "start"]  # "start": before treatment
    first: int | None
    last: int | None
    branches: tuple[Branch, ...]


@record
class Limit(Record):
    """At most ``count`` cycles, when ``cond`` holds, counted with linked regimens."""

    span: Span
    count: int
    cond: Cond | None
    counted_words: tuple[ast.Word, ...]
    unit: PlanUnit = "cycles"  # a time cap counts weeks, months or years from the start of the regimen

    @property
    def counted_with(self) -> tuple[str, ...]:
        """The regimens whose cycles count towards the limit."""
        return tuple(word.text for word in self.counted_words)


@record
class StopRule(Record):
    """Stop treatment when ``cond`` holds (within ``within`` cycles)."""

    span: Span
    cond: Cond
    within: int | None
    within_unit: PlanUnit = "cycles"


@record
class Plan(Record):
    """Decisions, cycle limits and stop rules."""

    decisions: tuple[Decision, ...] = ()
    limits: tuple[Limit, ...] = ()
    stops: tuple[StopRule, ...] = ()

    def cycle_limits(self) -> tuple[Limit, ...]:
        """Return the limits that count cycles (not time caps: weeks, months and years are no number of cycles)."""
        return tuple(limit for limit in self.limits if limit.unit == "cycles")

    def links(self) -> tuple[str, ...]:
        """Every regimen id the plan links to, in order of appearance."""
        seen: dict[str, None] = {}
        for decision in self.decisions:
            for branch in decision.branches:
                if branch.action == "continue" and branch.target:
                    seen[branch.target] = None
        for limit in self.limits:
            seen.update(dict.fromkeys(limit.counted_with))
        return tuple(seen)


@record
class Regimen(Record):
    """A whole regimen, lowered."""

    span: Span
    id: str
    path: str
    meta: Meta
    parts: tuple[Part, ...]
    support: Support
    references: tuple[Reference, ...]
    plan: Plan
    aliases: tuple[tuple[str, str], ...]
    id_span: Span
    partial: bool  # syntax errors removed lines: missing fields are not judged
    mentions: tuple[Mention, ...]  # every place a medicine is named, in the order lowered (aliases first)
    links: tuple[Written, ...]  # every `url` written, of the regimen, its parts and their references
    prose: tuple[ast.Prose, ...] = ()  # every prose block written in the file, wherever it stands
    headings: tuple[ast.Text, ...] = ()  # every name and title written in the file (see ``ast.Module``)
    responses: Values = DEFAULT_RESPONSES  # the response vocabulary its conditions name
    groups: tuple[Values, ...] = ()  # every group its conditions name, as defined (package or library)
    measures: tuple[Measure, ...] = ()  # every measure its conditions name, as defined
    # Each measure's thresholds, everywhere the regimen compares it: they cut its values into the cells checked.
    thresholds: tuple[tuple[str, tuple[Fraction, ...]], ...] = ()

    @property
    def status(self) -> Status:
        """The regimen's status (draft when not stated; lowering reports the omission)."""
        return self.meta.status or Status.DRAFT

    @property
    def name(self) -> str:
        """The clinical name."""
        return self.meta.get("name") or self.id

    def cycles(self) -> tuple[CycleGroup, ...]:
        """Every cycle group of every part, in order."""
        return tuple(c for part in self.parts for c in part.cycles)
