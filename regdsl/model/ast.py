"""Syntax nodes: the regimen as written, before names and terms are resolved.

Class names are the CamelCase forms of the grammar rules in ``grammar/regdsl.lark``.
Every node is frozen and slotted, carries its ``Span`` and holds its children in
tuples, so trees hash, compare and print the same way on every run.

Every word, number, unit, route and day is a ``Word``; quoted text (``Text``, and a quoted
medicine name) knows where each of its decoded characters was written, escapes included;
each prose line (``Prose``) knows where it starts, so each word in it has its span. Passes
and rules ask these nodes for positions (``at``) and never read the source text again.
"""

from __future__ import annotations

from typing import Literal

from regdsl.record import Record, record
from regdsl.source import Span

__all__ = [
    "META_TYPES",
    "Admin",
    "Anchor",
    "AndCond",
    "Block",
    "BlockDef",
    "Branch",
    "ByTest",
    "CancerField",
    "Cap",
    "CategoryDef",
    "Choice",
    "ChoiceBranch",
    "Clause",
    "Comment",
    "Cond",
    "Continuous",
    "Cycle",
    "CycleStmt",
    "DateField",
    "DayItem",
    "Days",
    "Decision",
    "Dose",
    "DrugDecl",
    "DrugRef",
    "EmetogenicRisk",
    "FactorLine",
    "Flag",
    "FootnoteDef",
    "FootnotesField",
    "Gap",
    "GroupIn",
    "Hsct",
    "IdentifierField",
    "Item",
    "LibraryHeader",
    "LifetimeMax",
    "Limit",
    "LineStmt",
    "MeasureDef",
    "MeasureTest",
    "MedicineDef",
    "Meta",
    "Module",
    "Mrd",
    "Node",
    "NotCond",
    "Note",
    "Observe",
    "OrCond",
    "Over",
    "Overview",
    "Part",
    "PartItem",
    "PhaseSel",
    "Plan",
    "Proceed",
    "Prose",
    "Reference",
    "RegimenHeader",
    "Relation",
    "RelationCore",
    "ResponseIn",
    "ResponsesField",
    "RouteFact",
    "SameAs",
    "SettingField",
    "StartRule",
    "StatusField",
    "StopRule",
    "Support",
    "Term",
    "Text",
    "TextField",
    "TitleStmt",
    "UseBlock",
    "ValuesDef",
    "Volume",
    "Without",
    "Word",
]


@record
class Node(Record):
    """Base of all syntax nodes."""

    span: Span


def _offset(origin: int, jumps: tuple[int, ...], at: int) -> int:
    """Return the source offset of character ``at`` of a decoded text that starts at ``origin``.

    ``jumps`` holds pairs (index, offset): from that character on, the text is written from
    that offset (after an escape, which is longer than the character it writes).
    """
    index, base = 0, origin
    for k in range(0, len(jumps), 2):
        if jumps[k] > at:
            break
        index, base = jumps[k], jumps[k + 1]
    return base + at - index


@record
class Word(Node):
    """One token as written: a name, number, unit, date or keyword."""

    text: str

    def at(self, start: int, end: int) -> Span:
        """Return the span of characters ``start`` to ``end`` of the word."""
        return self.span.part(self.span.start + start, self.span.start + end)


@record
class Text(Node):
    """Quoted text, decoded (escapes resolved); ``span`` includes the quotes.

    ``jumps`` says where the decoded characters were written when the text holds escapes.
    """

    value: str
    jumps: tuple[int, ...] = ()

    def at(self, start: int, end: int) -> Span:
        """Return the span of decoded characters ``start`` to ``end``, as written (an escape whole)."""
        origin = self.span.start + 1
        return self.span.part(_offset(origin, self.jumps, start), _offset(origin, self.jumps, end))


@record
class Prose(Node):
    """A block of ``|`` lines, kept verbatim; ``text`` joins them with newlines.

    ``starts`` holds the offset of each line's first character (after the ``|`` and the
    space after it): prose has no escapes, so character ``i`` of a line is at its start + ``i``.
    """

    lines: tuple[str, ...]
    starts: tuple[int, ...]

    @property
    def text(self) -> str:
        """The prose as one string."""
        return "\n".join(self.lines)

    def at(self, line: int, start: int, end: int) -> Span:
        """Return the span of characters ``start`` to ``end`` of line ``line`` (0-based)."""
        begin = self.starts[line]
        return self.span.part(begin + start, begin + end)


@record
class Comment(Node):
    """A ``#`` comment, kept for the formatter and for suppressions.

    ``covers`` is the line a suppression written in it covers: its own, after code; alone on
    its line, the next line that is not blank or a comment (its own when there is none).
    """

    text: str
    covers: int


# -- identity ------------------------------------------------------------------------


@record
class TextField(Node):
    """``name "..."``, ``title "..."``, ``version "..."`` and the other text fields."""

    key: Word
    value: Text


@record
class DateField(Node):
    """``date``, ``approved`` and ``last-reviewed`` with an ISO date."""

    key: Word
    value: Word


@record
class StatusField(Node):
    """``status published`` or ``status superseded by OTHER-ID``."""

    status: Word
    by: Word | None


@record
class Term(Node):
    """A classification term with an optional SNOMED CT code: ``"Prostate" [254900004]``."""

    text: Text
    code: Word | None


@record
class CancerField(Node):
    """``cancer TERM > TERM > ...``: cancer type, sub-type and sub-sub-type."""

    terms: tuple[Term, ...]


@record
class SettingField(Node):
    """``setting TERM``: the treatment setting."""

    term: Term


@record
class IdentifierField(Node):
    """``identifier "SYSTEM" "VALUE"``."""

    system: Text
    value: Text


@record
class FootnotesField(Node):
    """``footnotes reviewed, s29``: footnotes defined in ``library.reg``."""

    names: tuple[Word, ...]


@record
class Overview(Node):
    """``overview`` followed by a prose block."""

    prose: Prose


@record
class ResponsesField(Node):
    """``responses NAME``: the response vocabulary the regimen's conditions name."""

    name: Word


Meta = (
    TextField
    | DateField
    | StatusField
    | CancerField
    | SettingField
    | IdentifierField
    | FootnotesField
    | Overview
    | ResponsesField
)
META_TYPES = (
    TextField,
    DateField,
    StatusField,
    CancerField,
    SettingField,
    IdentifierField,
    FootnotesField,
    Overview,
    ResponsesField,
)


@record
class RegimenHeader(Node):
    """``regimen ID`` with its indented fields."""

    id: Word
    meta: tuple[Meta, ...]


@record
class LibraryHeader(Node):
    """``library "TITLE"``: marks ``library.reg``."""

    title: Text


# -- definitions ---------------------------------------------------------------------


@record
class DrugDecl(Node):
    """``drug ALIAS = "medicine name"``."""

    alias: Word
    medicine: Text


@record
class LifetimeMax(Node):
    """``lifetime max 550 mg/m2 "SOURCE"`` in a medicine entry: the library's lifetime dose limit."""

    amount: Word
    unit: Word
    source: Text | None


@record
class EmetogenicRisk(Node):
    """``emetogenic risk high "SOURCE"`` in a medicine entry: the library's emetic risk for the medicine."""

    tier: Word
    source: Text | None


@record
class UsualDose(Node):
    """``usual dose 0.4 to 2 mg/m2 IV "SOURCE"`` in a medicine entry: the library's usual range by basis and route."""

    low: Word
    high: Word | None
    unit: Word
    route: Word
    source: Text | None


@record
class RouteFact(Node):
    """``route IV "SOURCE"`` or ``fatal intrathecal "SOURCE"`` in a medicine entry: a route it is given by, or never."""

    route: Word
    source: Text | None


@record
class Equivalent(Node):
    """``doxorubicin equivalent 0.8 "SOURCE"`` in a medicine entry: the library's doxorubicin-equivalent factor."""

    factor: Word
    source: Text | None


@record
class MedicineDef(Node):
    """``medicine "NAME"`` in ``library.reg``: aliases, codes, role, classes, ``same as``, limits, routes, emesis."""

    name: Text
    aliases: tuple[Word, ...]
    codes: tuple[tuple[Text, Text], ...]
    role: Word | None
    classes: tuple[Word, ...] = ()
    same_as: tuple[Text, ...] = ()
    lifetime: tuple[LifetimeMax, ...] = ()
    usual: tuple[UsualDose, ...] = ()
    equivalent: tuple[Equivalent, ...] = ()
    routes: tuple[RouteFact, ...] = ()  # `route IV`: the routes it is given by (`route intrathecal` allows that)
    fatal: tuple[RouteFact, ...] = ()  # `fatal intrathecal`: a route it must never be given by
    emetogenic: tuple[EmetogenicRisk, ...] = ()


@record
class FootnoteDef(Node):
    """``footnote NAME "MARKER"`` with its prose."""

    name: Word
    marker: Text
    prose: Prose


# -- administrations -----------------------------------------------------------------


@record
class DrugRef(Node):
    """A medicine as named on a line: an alias, a name, or quoted text (decoded, as ``Text``)."""

    text: str
    quoted: bool
    jumps: tuple[int, ...] = ()

    def at(self, start: int, end: int) -> Span:
        """Return the span of characters ``start`` to ``end`` of the name, as written."""
        origin = self.span.start + 1 if self.quoted else self.span.start
        return self.span.part(_offset(origin, self.jumps, start), _offset(origin, self.jumps, end))


@record
class Dose(Node):
    """``0.8 mg/m2`` or ``1000 mg flat``."""

    amount: Word
    unit: Word
    flat: bool


@record
class DayItem(Node):
    """A day or a day range: ``8`` or ``1 to 28``."""

    first: Word
    last: Word | None


@record
class Days(Node):
    """``days 8, 15 ± 2 days``, or ``starting day 1`` (the first day of a series of doses)."""

    items: tuple[DayItem, ...]
    shift: Word | None
    starting: bool = False


@record
class Over(Node):
    """``over 60 min`` (a maximum), ``over exactly 15 min``, ``over 4 to 6 hours``, ``over at least 15 min``.

    ``amount`` is the first number written, ``high`` the second of a range; ``extend`` and its
    unit are ``, may extend to 6 hours``.
    """

    amount: Word
    unit: Word
    exact: bool
    at_least: bool = False
    high: Word | None = None
    extend: Word | None = None
    extend_unit: Word | None = None


@record
class Clock(Node):
    """``every 12 hours for 6 doses each day``: doses at a fixed interval, and how many."""

    amount: Word
    unit: Word
    count: Word | None
    each_day: bool


@record
class Bags(Node):
    """``bags every 96 hours``: the bags of a continuous infusion, changed at that interval."""

    amount: Word
    unit: Word


@record
class Anchor(Node):
    """What a relation is measured from: a drug, ``chemotherapy`` or an outside event."""

    kind: Literal["drug", "chemotherapy", "event"]
    drug: DrugRef | None
    text: str
    line: Word | None = None  # the line named in brackets: ``fluorouracil (bolus)``


@record
class RelationCore(Node):
    """``30 to 60 min before ino``, ``8 hours after end of chemotherapy``, ``after cisplatin``."""

    low: Word | None
    high: Word | None
    unit: Word | None
    direction: Literal["before", "after"]
    point: Literal["start", "end"] | None
    anchor: Anchor
    bound: Literal["exact", "at least", "within"] = "exact"  # how the amount bounds: `at least N`, `within N`
    ending: Word | None = None  # `ending ...`: timed from this line's end
    position: Word | None = None  # `first` or `last`: the anchor line's first or last dose of the cycle
    concurrently: bool = False  # `concurrently with B`


@record
class Relation(Node):
    """A timing relation with an optional free-text qualifier kept beside it."""

    core: RelationCore
    qualifier: Text | None


@record
class Flag(Node):
    """A one-word clause: frequency, ``prn``, role, ``off-label``, ``s29``, ``continuous`` or ``by pump``."""

    kind: Literal["frequency", "prn", "role", "off_label", "s29", "continuous", "pump"]
    value: str


@record
class Volume(Node):
    """``in 1000 mL``: the volume the dose is given in."""

    amount: Word
    unit: Word


@record
class Cap(Node):
    """``max 2 mg``: the most a scaled dose may come to."""

    amount: Word
    unit: Word


Clause = Days | Over | Clock | Bags | Relation | Flag | Volume | Cap


@record
class Admin(Node):
    """One administration line, with its instructions."""

    drug: DrugRef
    dose: Dose
    route: Word | None
    clauses: tuple[Clause, ...]
    instructions: Prose | None
    line: Word | None = None  # the line's name in brackets: ``fluorouracil (bolus) 400 mg/m2 ...``
    then: Word | None = None  # `then`: starts when the line above ends


@record
class Note(Node):
    """``note [LABEL]`` with prose; the label names a drug or a factor."""

    label: Word | None
    prose: Prose


@record
class CategoryDef(Node):
    """``VALUE "TITLE"``: one value of a response vocabulary or a group."""

    value: Word
    title: Text


@record
class ValuesDef(Node):
    """``responses NAME "TITLE"`` or ``group NAME "TITLE"`` in library.reg, with its values."""

    kind: Literal["responses", "group"]
    name: Word
    title: Text
    values: tuple[CategoryDef, ...]


@record
class MeasureDef(Node):
    """``measure NAME "TITLE" in UNIT`` in library.reg: a number a condition may compare, in its one unit."""

    name: Word
    title: Text
    unit: Word


@record
class BlockDef(Node):
    """``block NAME``: administrations and notes shared between cycles."""

    name: Word
    items: tuple[Admin | Note, ...]


# -- cycles --------------------------------------------------------------------------


@record
class TitleStmt(Node):
    """``title "..."`` inside a cycle."""

    text: Text


@record
class SameAs(Node):
    """``same as cycle N``: start from cycle N's content; later lines state differences."""

    cycle: Word


@record
class UseBlock(Node):
    """``use NAME [days ...]``."""

    name: Word
    days: Days | None


@record
class Without(Node):
    """``without DRUG`` or ``without DRUG (LINE)``: drop an inherited medicine, or one of its lines."""

    drug: DrugRef
    line: Word | None = None


@record
class Observe(Node):
    """``observe 60 min after ino``."""

    amount: Word
    unit: Word
    drug: DrugRef
    line: Word | None = None
    position: Word | None = None  # `observe 60 min after first X`


@record
class Gap(Node):
    """``ino doses at least 6 days apart``."""

    drug: DrugRef
    days: Word
    line: Word | None = None


LineStmt = Admin | Note | Observe | Gap


@record
class ByTest(Node):
    """A heading of a `by` block: a comparison of the block's measure, or values of its group."""

    op: Literal["lt", "gt", "ge", "le", "range"] | None  # None: values
    low: Word | None
    high: Word | None
    unit: Word | None
    values: tuple[Word, ...] = ()


@record
class ChoiceBranch(Node):
    """One branch of a choice: its condition (an `if`'s, a `by` heading, None for `otherwise`) and its lines."""

    test: Cond | ByTest | None
    body: tuple[LineStmt, ...]


@record
class Choice(Node):
    """``if COND:`` (with ``otherwise:``) or ``by VARIABLE:`` with its headings: lines given to some patients."""

    kind: Literal["if", "by"]
    variable: Word | None
    branches: tuple[ChoiceBranch, ...]


@record
class Proceed(Node):
    """``proceed if COND``: the cycle is given only to a patient who meets the condition, with what to do otherwise."""

    cond: Cond
    prose: Prose | None


CycleStmt = TitleStmt | SameAs | UseBlock | Admin | Note | Observe | Gap | Without | Proceed | Choice


@record
class Cycle(Node):
    """``cycle 1: 21 days``, ``cycles 2 to 3: 28 days``, ``cycle 1 and all further cycles: 28 days``."""

    first: Word
    last: Word | None
    open_ended: bool
    length: Word
    extend_to: Word | None
    body: tuple[CycleStmt, ...]
    header: Span


@record
class Continuous(Node):
    """``continuous treatment``: lines given every day, with no cycle, until the plan stops them."""

    body: tuple[CycleStmt, ...]


# -- supportive care and references --------------------------------------------------


@record
class FactorLine(Node):
    """``Emetogenicity: Low``: a factor and its value as written."""

    factor: Word
    value: Word


@record
class Support(Node):
    """The ``support`` section."""

    items: tuple[FactorLine | Note, ...]


@record
class Reference(Node):
    """``reference "CITATION"`` with ``url``, ``pmid`` and ``accessed`` lines."""

    text: Text
    urls: tuple[Text, ...]
    pmids: tuple[Word, ...]
    accessed: tuple[Word, ...]


# -- parts ---------------------------------------------------------------------------


@record
class StartRule(Node):
    """``start within 3 weeks after radiotherapy`` with the source's wording as prose."""

    core: RelationCore
    prose: Prose | None


PartItem = Meta | StartRule | Cycle | Continuous | Support | Reference


@record
class Part(Node):
    """``part N "TITLE"``: one of the ordered parts of a regimen."""

    number: Word
    title: Text
    items: tuple[PartItem, ...]


# -- the plan ------------------------------------------------------------------------


@record
class ResponseIn(Node):
    """``response in (CR, CRi)`` or ``response is PR``."""

    codes: tuple[Word, ...]


@record
class GroupIn(Node):
    """``NAME is VALUE`` or ``NAME in (VALUE, ...)``: a group's value is one of those listed."""

    group: Word
    values: tuple[Word, ...]


@record
class MeasureTest(Node):
    """``CrCl 30 to 50 mL/min``, ``ANC at least 1.5 x10^9/L``: a measure compared with one or two thresholds."""

    measure: Word
    op: Literal["lt", "gt", "ge", "le", "range"]
    low: Word
    high: Word | None
    unit: Word


@record
class Mrd(Node):
    """``MRD negative`` or ``MRD positive``."""

    negative: bool


@record
class Hsct(Node):
    """``proceeding to HSCT``."""


@record
class NotCond(Node):
    """``not COND``."""

    operand: Cond


@record
class AndCond(Node):
    """``COND and COND ...``."""

    operands: tuple[Cond, ...]


@record
class OrCond(Node):
    """``COND or COND ...``."""

    operands: tuple[Cond, ...]


Cond = ResponseIn | GroupIn | MeasureTest | Mrd | Hsct | NotCond | AndCond | OrCond


@record
class PhaseSel(Node):
    """Where a decision is taken: ``any cycle``, ``cycle 1``, ``cycles 2 to 3``, ``part 1``, before treatment."""

    kind: Literal["any", "cycle", "cycles", "part", "start"]
    first: Word | None
    last: Word | None


@record
class Branch(Node):
    """``if COND: ACTION`` (``cond`` is None for ``otherwise``)."""

    cond: Cond | None
    action: Literal["continue", "next", "cycle", "part", "stop"]
    target: Word | None


@record
class Decision(Node):
    """``after SEL:`` with its branches."""

    when: PhaseSel
    branches: tuple[Branch, ...]


@record
class Limit(Node):
    """``at most N cycles [if COND] [counted with ID, ...]`` (or ``at most N weeks``, ``months``, ``years``)."""

    count: Word
    cond: Cond | None
    counted_with: tuple[Word, ...]
    unit: Word | None = None  # `cycles`, or a unit of time


@record
class StopRule(Node):
    """``stop if COND [within N cycles]`` (or ``within N weeks``, ``months``, ``years``)."""

    cond: Cond
    within: Word | None
    within_unit: Word | None = None  # `cycles`, or a unit of time


@record
class Plan(Node):
    """The ``plan`` section: decisions, cycle limits and stop rules."""

    items: tuple[Decision | Limit | StopRule, ...]


Block = Support | Reference | Cycle
Item = (
    RegimenHeader
    | LibraryHeader
    | DrugDecl
    | BlockDef
    | MedicineDef
    | FootnoteDef
    | ValuesDef
    | MeasureDef
    | Cycle
    | Continuous
    | Support
    | Reference
    | Part
    | Plan
)


@record
class Module(Node):
    """A whole source file: its items and its comments.

    ``prose`` holds every prose block of the file and ``headings`` every name and title
    (``name``, ``title``, ``subtitle`` and ``description`` fields, cycle titles), in order,
    wherever they stand: the rules that read how a file is written read them all.
    """

    items: tuple[Item, ...]
    comments: tuple[Comment, ...]
    prose: tuple[Prose, ...] = ()
    headings: tuple[Text, ...] = ()
