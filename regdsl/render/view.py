"""The page view: a compiled regimen as the words and numbers its pages show.

Every page format reads this view (HTML and Markdown alike), so they say the same thing.
Templates only loop over it and branch on it; every text, every dose and every window
is worded here, once. Doses go through ``regdsl.model.doses`` (no trailing zeros, no
naked decimals, ``microgram`` not ``µg``); medicine names are the library's displays
(Tall Man lettering).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from regdsl import __version__
from regdsl.compile.anchoring import writable
from regdsl.compile.passes import Compiled
from regdsl.compile.phases import END, START, STOP, PhaseId, PhaseKind, cond_text, for_whom, titles
from regdsl.compile.schedule import doses_by_day
from regdsl.compile.stn import PointId, day_of
from regdsl.compile.totals import Exposure, equivalents, exposures
from regdsl.model import ir
from regdsl.model.doses import amount, dose_text, quantity_text
from regdsl.model.medicines import Medicine
from regdsl.model.wording import clock_text, gap_text, infusion_text, minutes_text, relation_text, shift_text
from regdsl.render.context import LinkTarget, RenderContext
from regdsl.render.prose import Block, parse_prose

__all__ = [
    "CycleRow",
    "CycleView",
    "DayRow",
    "DayView",
    "FactorRow",
    "FootnoteView",
    "Mark",
    "NoteView",
    "PageView",
    "PartView",
    "PlanView",
    "ReferenceView",
    "build_view",
    "day_runs",
    "days_text",
    "days_words",
]

# Characters left as they are in a link's address (RFC 3986 reserved and unreserved, and %).
_URL_SAFE = ":/?#[]@!$&'()*+,;=%-._~"

# Statuses whose pages carry a banner, and what it says.
_BANNERS = {
    ir.Status.DRAFT: "Draft: this regimen has not been reviewed for clinical use.",
    ir.Status.PROVISIONAL: "Provisional: this regimen is awaiting final review.",
    ir.Status.DISCONTINUED: "Discontinued: this regimen is no longer recommended.",
    ir.Status.SUPERSEDED: "Superseded: this regimen has been replaced.",
}


@dataclass(frozen=True, slots=True)
class Mark:
    """A footnote marker beside a medicine (``*``, ``s29``), with the footnote it refers to."""

    text: str
    title: str
    target: str | None


@dataclass(frozen=True, slots=True)
class NoteView:
    """A note: what it is about (a medicine, a factor, or nothing), and its prose."""

    label: str | None
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class CycleRow:
    """One line of the cycle details table."""

    medicine: str
    marks: tuple[Mark, ...]
    dose: str
    route: str
    days: str
    max_duration: str
    role: str
    details: tuple[str, ...]
    warning: str | None = None  # "FOR INTRATHECAL USE ONLY", a vinca alkaloid's label


# The days in a week, an average month and an average year (time caps are calendar units).
_DAYS_IN = {"weeks": Decimal(7), "months": Decimal("365.25") / 12, "years": Decimal("365.25")}


def _note_label(note: ir.Note, whom: str | None) -> str | None:
    """Say what a note is about: its medicine (and line: `fluorouracil (infusion)`), else its label; and for whom."""
    label = note.label if note.medicine is None else note.medicine.display + (f" ({note.line})" if note.line else "")
    return label if whom is None else f"{label or 'Note'} ({whom})"


@dataclass(frozen=True, slots=True)
class DayRow:
    """One medicine on one day, in full: its timing and its instructions."""

    medicine: str
    marks: tuple[Mark, ...]
    dose: str
    route: str
    max_duration: str
    role: str
    timing: tuple[str, ...]
    instructions: tuple[Block, ...]
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class DayView:
    """Days of a cycle that give the very same (lines, doses, timing, instructions), and what they give.

    ``day`` is the first of ``days``; ``title`` says them all ("Day 8", "Days 1 to 28", "Days
    2, 3 and 9"); ``anchor`` is the first day's id, ``anchors`` every day's.
    """

    day: int
    anchor: str
    rows: tuple[DayRow, ...]
    days: tuple[int, ...] = ()
    title: str = ""

    @property
    def anchors(self) -> tuple[str, ...]:
        """The page ids of the days after the first: each day keeps its own link target."""
        stem = self.anchor.rsplit("-d", 1)[0]
        return tuple(f"{stem}-d{d}" for d in self.days[1:])


@dataclass(frozen=True, slots=True)
class CycleView:
    """A cycle group: its heading, table, notes, days and pictures."""

    anchor: str
    heading: str
    facts: tuple[str, ...]
    rows: tuple[CycleRow, ...]
    notes: tuple[NoteView, ...]
    days: tuple[DayView, ...]
    group: ir.CycleGroup
    number: int


@dataclass(frozen=True, slots=True)
class FactorRow:
    """A supportive-care factor and its value, as written."""

    factor: str
    value: str


@dataclass(frozen=True, slots=True)
class SupportView:
    """Supportive-care factors and notes."""

    factors: tuple[FactorRow, ...]
    notes: tuple[NoteView, ...]

    @property
    def empty(self) -> bool:
        """Whether there is nothing to show."""
        return not self.factors and not self.notes


@dataclass(frozen=True, slots=True)
class ReferenceView:
    """A citation: its verbatim text, safe links, PubMed ids and access dates."""

    text: str
    links: tuple[tuple[str, str], ...]  # (address, the text as written)
    unsafe_links: tuple[str, ...]
    pmids: tuple[tuple[str, str], ...]
    accessed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PartView:
    """One part of a regimen (a regimen without parts has one, with no heading)."""

    anchor: str
    heading: str | None
    facts: tuple[str, ...]
    overview: tuple[Block, ...]
    cycles: tuple[CycleView, ...]
    support: SupportView
    references: tuple[ReferenceView, ...]


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One sentence of the plan: text, and the regimens it names, in the order they are said."""

    pieces: tuple[str | LinkTarget, ...]

    @property
    def text(self) -> str:
        """The sentence as plain text (a regimen by its name)."""
        return "".join(p if isinstance(p, str) else (p.name or p.id) for p in self.pieces)

    @property
    def links(self) -> tuple[LinkTarget, ...]:
        """The regimens the sentence names."""
        return tuple(p for p in self.pieces if isinstance(p, LinkTarget))


def _sentence(*pieces: str | LinkTarget | list[str | LinkTarget]) -> PlanLine:
    flat: list[str | LinkTarget] = []
    for piece in pieces:
        flat.extend(piece if isinstance(piece, list) else [piece])
    merged: list[str | LinkTarget] = []
    for piece in flat:  # adjacent texts become one
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        elif piece != "":
            merged.append(piece)
    return PlanLine(tuple(merged))


@dataclass(frozen=True, slots=True)
class PlanView:
    """The branch plan: the path through the phases, the decisions, limits and stop rules."""

    flow: tuple[PlanLine, ...]
    decisions: tuple[PlanLine, ...]
    limits: tuple[PlanLine, ...]
    stops: tuple[PlanLine, ...]


@dataclass(frozen=True, slots=True)
class FootnoteView:
    """A footnote at the foot of the page."""

    anchor: str
    marker: str
    text: str

    @property
    def lead(self) -> str:
        """The marker as the footnote starts: ``*``, or ``s29:`` for a marker that is a word."""
        return f"{self.marker}:" if self.marker[-1:].isalnum() else self.marker


@dataclass(frozen=True, slots=True)
class PageView:
    """Everything a regimen page shows."""

    id: str
    name: str
    title: str | None
    status: str
    banner: str | None
    superseded_by: LinkTarget | None
    cancer: tuple[str, ...]
    setting: str | None
    fields: tuple[tuple[str, str], ...]
    overview: tuple[Block, ...]
    parts: tuple[PartView, ...]
    support: SupportView
    references: tuple[ReferenceView, ...]
    plan: PlanView
    footnotes: tuple[FootnoteView, ...]
    source: str
    generator: str
    index_href: str | None
    conflict: str | None
    totals: tuple[str, ...] = ()  # each medicine with a lifetime limit: what the plan gives, and the limit


# -- wording ----------------------------------------------------------------------------


def day_runs(days: Iterable[int]) -> list[str]:
    """Group days for saying: ``["1", "8", "15"]``; runs of three or more as ``["1 to 28"]``."""
    ordered = sorted(set(days))
    parts: list[str] = []
    for _, run in itertools.groupby(enumerate(ordered), key=lambda pair: pair[1] - pair[0]):
        values = [day for _, day in run]
        if len(values) >= 3:
            parts.append(f"{values[0]} to {values[-1]}")
        else:
            parts.extend(str(v) for v in values)
    return parts


def days_words(days: Iterable[int]) -> str:
    """``day 1``, ``days 8 and 15``, ``days 1, 8 and 15``, ``days 1 to 28``, ``days 2 to 4 and 23 to 25``."""
    parts = day_runs(days)
    if len(parts) == 1 and " to " not in parts[0]:
        return f"day {parts[0]}"
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return f"days {joined}"


def days_text(days: Iterable[int]) -> str:
    """Say a list of days as the library does: ``1, 8, 15``; runs of three or more as ``1 to 28``."""
    return ", ".join(day_runs(days))


def _dose(admin: ir.Administration) -> str:
    text = dose_text(admin.dose, admin.cap)
    if admin.frequency is not None:
        text += f" {admin.frequency.phrase}"
    elif admin.clock is not None:
        text += f" {clock_text(admin.clock, minutes_text)}"
    if admin.prn:
        text += " as needed"
    return text


def _followed(group: ir.CycleGroup) -> dict[Medicine, list[str]]:
    """Word each medicine's minimum gaps and observations in ``group``, once for all its lines and days."""
    found: dict[Medicine, list[str]] = {}
    for gap in group.gaps:
        found.setdefault(gap.medicine, []).append(f"{gap_text(gap.days)} of {gap.medicine.display}")
    for obs in group.observations:
        found.setdefault(obs.medicine, []).append(
            f"observe for {minutes_text(obs.minutes)} after the end of the infusion"
        )
    return found


def _day_views(anchor: str, days: dict[int, list[DayRow]]) -> tuple[DayView, ...]:
    """One view for each set of days that give the same, in the order of their first day."""
    alike: dict[tuple[DayRow, ...], list[int]] = {}
    for day, rows in sorted(days.items()):
        alike.setdefault(tuple(rows), []).append(day)
    return tuple(
        DayView(same[0], f"{anchor}-d{same[0]}", rows, tuple(same), _capital(days_words(same)))
        for rows, same in alike.items()
    )


def _cycles_words(group: ir.CycleGroup) -> str:
    """``cycle 1``, ``cycles 2 to 6``, ``cycles 1 on`` (an open-ended group)."""
    if group.open_ended:
        return f"cycles {group.first} on"
    return f"cycles {group.first} to {group.last}" if group.last else f"cycle {group.first}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Builder:
    def __init__(self, compiled: Compiled, context: RenderContext) -> None:
        self.compiled = compiled
        self.regimen = compiled.regimen
        self.context = context
        self.displays = {a.medicine.name: a.medicine.display for g in self.regimen.cycles() for a in g.administrations}
        self.footnotes = {f.name: f for f in self.regimen.meta.footnotes}
        self.named = titles(self.regimen)  # conditions are said with the titles of their groups and measures

    # marks and footnotes

    def marks(self, admin: ir.Administration) -> tuple[Mark, ...]:
        found: list[Mark] = []
        if admin.off_label:
            note = self.footnotes.get("reviewed")
            if note is not None:
                found.append(Mark(note.marker, "off-label use: see the footnote", f"fn-{note.name}"))
            else:
                found.append(Mark("off-label", "an unapproved or off-label use", None))
        if admin.s29:
            note = self.footnotes.get("s29")
            if note is not None:
                found.append(Mark(note.marker, "section 29 of the Medicines Act: see the footnote", f"fn-{note.name}"))
            else:
                found.append(Mark("s29", "section 29 of the Medicines Act", None))
        return tuple(found)

    # cycles

    def relation(self, rel: ir.Relation) -> str:
        """Say a relation in the library's words, with its qualifier."""
        text = relation_text(rel, self.displays, minutes_text)
        return f"{text} ({rel.qualifier})" if rel.qualifier else text

    def window(self, prefix: PointId, index: int, day: int) -> tuple[int, int] | None:
        solved = self.compiled.windows
        window = solved.get(prefix.dose(index, day)) if solved is not None else None
        if window is None:
            return None
        early, late = window
        return day_of(early), day_of(late)

    def timing(
        self, group: ir.CycleGroup, prefix: PointId, index: int, day: int, followed: dict[Medicine, list[str]]
    ) -> tuple[str, ...]:
        """Word the timing of line ``index`` on ``day``; ``followed`` is ``_followed(group)``."""
        admin = group.administrations[index]
        lines = [self.relation(rel) for rel in admin.relations]
        if admin.shift_days:
            lines.append(f"day {day} can move {shift_text(admin.shift_days)}")
            window = self.window(prefix, index, day)
            if window is not None and window != (day - admin.shift_days, day + admin.shift_days):
                lines.append(f"with the other timing rules, day {day} can move to day {window[0]} to {window[1]}")
            elif window is not None:
                lines.append(f"feasible days: {window[0]} to {window[1]}")
        lines.extend(followed.get(admin.medicine, ()))
        return tuple(lines)

    def cycle_row(self, admin: ir.Administration, group: ir.CycleGroup) -> CycleRow:
        details: list[str] = []
        if (whom := for_whom(group, admin.guard, self.named)) is not None:
            details.append(whom)
        if admin.shift_days:
            details.append(f"days {days_text(admin.days)} can move {shift_text(admin.shift_days)}")
        if admin.volume is not None:
            details.append(f"in {quantity_text(admin.volume)}")
        return CycleRow(
            medicine=writable(admin),
            marks=self.marks(admin),
            dose=_dose(admin),
            route=admin.route.term if admin.route else "",
            days=("from " if admin.starting else "") + days_text(admin.days),
            max_duration=self.duration(admin),
            role=admin.role,
            details=tuple(details),
            warning=admin.warning_label,
        )

    @staticmethod
    def duration(admin: ir.Administration) -> str:
        return infusion_text(admin, minutes_text)

    def cycle(self, p: int, g: int, group: ir.CycleGroup) -> CycleView:
        prefix = PointId(p, g, group.first)
        anchor = f"p{p}-g{g}"
        facts = [f"Cycle length: {group.length_days} days"]
        if group.extend_to_days:
            facts.append(f"May be extended to {group.extend_to_days} days to allow recovery")
        if group.continuous:
            facts = ["Every day, until the plan stops it"]
        elif group.open_ended:
            facts.append("Repeated until a stop rule applies")
        elif (group.count or 1) > 1:
            facts.append(f"{group.count} cycles")
        if group.same_as is not None:
            facts.append(f"As cycle {group.same_as}, with the differences shown")
        for gate in group.gates:
            otherwise = f"; otherwise: {gate.prose.text}" if gate.prose else ""
            facts.append(f"Proceed if {cond_text(gate.cond, self.named)}{otherwise}")
        days: dict[int, list[DayRow]] = {}
        followed = _followed(group)
        for i, admin in enumerate(group.administrations):
            # What does not change from day to day is worded once per line.
            medicine, marks, dose = writable(admin), self.marks(admin), _dose(admin)
            route, duration = admin.route.term if admin.route else "", self.duration(admin)
            instructions = parse_prose(admin.instructions)
            if (whom := for_whom(group, admin.guard, self.named)) is not None:
                medicine = f"{medicine} ({whom})"
            for day in doses_by_day(admin):
                days.setdefault(day, []).append(
                    DayRow(
                        medicine=medicine,
                        marks=marks,
                        dose=dose,
                        route=route,
                        max_duration=duration,
                        role=admin.role,
                        timing=self.timing(group, prefix, i, day, followed),
                        instructions=instructions,
                        warning=admin.warning_label,
                    )
                )
        notes = tuple(
            NoteView(_note_label(n, for_whom(group, n.guard, self.named)), parse_prose(n.text)) for n in group.notes
        )
        return CycleView(
            anchor=anchor,
            heading=group.heading,
            facts=tuple(facts),
            rows=tuple(self.cycle_row(a, group) for a in group.administrations),
            notes=notes,
            days=_day_views(anchor, days),
            group=group,
            number=group.first,
        )

    # support, references, parts

    def support(self, support: ir.Support) -> SupportView:
        factors = tuple(FactorRow(factor=f.factor_text, value=f.value_text) for f in support.factors)
        return SupportView(factors, tuple(NoteView(n.label, parse_prose(n.text)) for n in support.notes))

    @staticmethod
    def reference(ref: ir.Reference) -> ReferenceView:
        web = [u for u in ref.urls if u.lower().startswith(("http://", "https://"))]
        return ReferenceView(
            text=ref.text,
            # Characters a URL may not hold raw (quotes, angle brackets, spaces) are percent-encoded.
            links=tuple((quote(u, safe=_URL_SAFE), u) for u in web),
            unsafe_links=tuple(u for u in ref.urls if u not in web),
            pmids=tuple((pmid, f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/") for pmid in ref.pmids),
            accessed=ref.accessed,
        )

    def part(self, p: int, part: ir.Part) -> PartView:
        heading = None
        if part.number is not None:
            heading = f"Part {part.number}" + (f": {part.title}" if part.title else "")
        facts = []
        if part.start is not None:
            facts.append("Start: " + (part.start.text or self.relation(part.start.relation)))
        return PartView(
            anchor=f"part-{p}",
            heading=heading,
            facts=tuple(facts),
            overview=parse_prose(part.meta.overview),
            cycles=tuple(self.cycle(p, g, group) for g, group in enumerate(part.cycles)),
            support=self.support(part.support),
            references=tuple(self.reference(r) for r in part.references),
        )

    # the plan

    def plan(self) -> PlanView:
        phases = self.compiled.phases
        flow: list[PlanLine] = []
        for node, phase in phases.phases.items():
            if node in (STOP, END):
                continue
            outgoing = [(v, t) for u, v, t in phases.transitions if u == node]
            if not outgoing:
                continue
            steps: list[str | LinkTarget] = []
            for target, transition in outgoing:
                where = self.phase_label(target)
                if steps:
                    steps.append("; ")
                if transition.kind == "repeat":
                    steps.append("repeats for each of its cycles")
                elif transition.guard is not None:
                    steps += [f"if {cond_text(transition.guard, self.named)}: ", *where]
                elif transition.kind == "otherwise":
                    steps += ["otherwise: ", *where]
                else:
                    steps += ["then ", *where]
            label = "Treatment starts" if node == START else phase.label[0].upper() + phase.label[1:]
            flow.append(_sentence(f"{label}: ", steps))
        plan = self.regimen.plan
        return PlanView(
            flow=tuple(flow),
            decisions=tuple(self.decision(d) for d in plan.decisions),
            limits=tuple(self.limit(lim) for lim in plan.limits),
            stops=tuple(
                _sentence(
                    f"Stop treatment if {cond_text(s.cond, self.named)}",
                    f" within {s.within} {s.within_unit}" if s.within is not None else "",
                )
                for s in plan.stops
            ),
        )

    def phase_label(self, node: PhaseId) -> list[str | LinkTarget]:
        if node == STOP:
            return ["stop treatment"]
        if node == END:
            return ["the regimen ends"]
        if node.kind is PhaseKind.REGIMEN:
            return ["continue with ", self.context.link(node.regimen)]
        return [self.compiled.phases.phase(node).label]

    def decision(self, decision: ir.Decision) -> PlanLine:
        match decision.kind:
            case "any":
                when = "After any cycle"
            case "cycle":
                when = f"After cycle {decision.first}"
            case "cycles":
                when = f"After cycles {decision.first} to {decision.last}"
            case "part":
                when = f"After part {decision.first}"
            case "start":
                when = "Before treatment"
        steps: list[str | LinkTarget] = [f"{when}: "]
        for n, branch in enumerate(decision.branches):
            guard = f"if {cond_text(branch.cond, self.named)}" if branch.cond is not None else "otherwise"
            steps.append(("; " if n else "") + f"{guard}: ")
            match branch.action:
                case "continue":
                    steps += ["continue with ", self.context.link(branch.target or "")]
                case "next":
                    steps.append("go on to the next cycle")
                case "cycle":
                    steps.append(f"go to cycle {branch.target}")
                case "part":
                    steps.append(f"go to part {branch.target}")
                case "stop":
                    steps.append("stop treatment")
        return _sentence(steps)

    def in_cycles(self, limit: ir.Limit) -> str:
        """Say a time cap in cycles, when every cycle has one length: " (about 35 cycles)" for 2 years of 21 days."""
        lengths = {g.length_days for g in self.regimen.cycles() if not g.continuous}
        if limit.unit == "cycles" or len(lengths) != 1:
            return ""
        cycles = round(Decimal(limit.count) * _DAYS_IN[limit.unit] / lengths.pop())
        return f" (about {cycles} cycle{'s' if cycles != 1 else ''})"

    def limit(self, limit: ir.Limit) -> PlanLine:
        pieces: list[str | LinkTarget] = [f"At most {limit.count} {limit.unit}{self.in_cycles(limit)}"]
        if limit.cond is not None:
            pieces.append(f" if {cond_text(limit.cond, self.named)}")
        for n, other in enumerate(limit.counted_with):
            pieces += [", counted together with " if n == 0 else ", ", self.context.link(other)]
        return _sentence(pieces)

    # the page

    def page(self) -> PageView:
        regimen = self.regimen
        meta = regimen.meta
        shown = {"name", "title"}
        fields = tuple((k.capitalize(), v) for k, v in meta.fields if k not in shown)
        fields += tuple((f"Identifier ({system})", value) for system, value in meta.identifiers)
        conflict = None
        if self.compiled.conflict is not None:
            conflict = "The timing rules of this regimen cannot all hold: run `regdsl check` on its source."
        return PageView(
            id=regimen.id,
            name=regimen.name,
            title=meta.get("title"),
            status=regimen.status.value,
            banner=_BANNERS.get(regimen.status),
            superseded_by=self.context.link(meta.superseded_by) if meta.superseded_by else None,
            cancer=tuple(t.text for t in meta.cancer),
            setting=meta.setting.text if meta.setting else None,
            fields=fields,
            overview=parse_prose(meta.overview),
            parts=tuple(self.part(p, part) for p, part in enumerate(regimen.parts, start=1)),
            support=self.support(regimen.support),
            references=tuple(self.reference(r) for r in regimen.references),
            plan=self.plan(),
            footnotes=tuple(FootnoteView(f"fn-{f.name}", f.marker, f.text) for f in meta.footnotes),
            source=self.context.source,
            generator=f"regdsl {__version__}",
            index_href=self.context.index_href,
            conflict=conflict,
            totals=(
                *(self.total(name, e) for name, e in exposures(regimen, self.context.jurisdiction).items()),
                *self.equivalents(equivalents(regimen, self.context.jurisdiction)),
            ),
        )

    def total(self, name: str, exposure: Exposure) -> str:
        """Say what the plan gives of a medicine with a lifetime limit, and the limit with its source."""
        limit = exposure.limit
        unit = limit.unit_text
        said = [f"{amount(one)} {unit} a cycle in {_cycles_words(group)}" for group, one, _count in exposure.groups]
        if exposure.open_group is not None:
            said.append(f"no total: the number of cycles from cycle {exposure.open_group.first} on is open")
        else:
            cycles = sum(count for _group, _one, count in exposure.groups)
            said.append(f"at most {amount(exposure.total)} {unit} over the plan's {cycles} cycles")
        text = f"{exposure.display}: {'; '.join(said)}. Lifetime limit {amount(limit.limit)} {unit}"
        text += f": {limit.source}."
        if exposure.international and limit.other_unit is not None:
            text += f" Doses in international units: {limit.other_unit[2]}."
        return text + " Doses given before this regimen add to the total."

    def equivalents(self, exposure: Exposure | None) -> tuple[str, ...]:
        """Say what the plan's anthracyclines come to in doxorubicin equivalents, each factor and the limit."""
        if exposure is None or not exposure.converts:
            return ()
        limit = exposure.limit
        parts = [
            f"{medicine.display} {amount(given)} mg/m² × {amount(factor.factor)}"
            for medicine, given, factor in exposure.factors
        ]
        if exposure.open_group is not None:
            said = f"no total: the number of cycles from cycle {exposure.open_group.first} on is open"
        else:
            said = f"at most {amount(exposure.total)} {limit.unit_text}"
        factors = " ".join(
            f"{factor.medicine} × {amount(factor.factor)}: {factor.source}." for _m, _g, factor in exposure.factors
        )
        return (
            f"Doxorubicin equivalents: {'; '.join(parts)}: {said}. Lifetime limit {amount(limit.limit)} "
            f"{limit.unit_text}: {limit.source}. Factors: {factors} Doses of any anthracycline given before this "
            "regimen add to the total.",
        )


def build_view(compiled: Compiled, context: RenderContext) -> PageView:
    """Build the view of a compiled regimen's page."""
    return _Builder(compiled, context).page()
