"""Lowering: syntax nodes to the resolved regimen model.

Resolves medicine names (aliases, the medicine table), units, routes, frequencies and
supportive-care factors to coded terms; expands day ranges, ``same as`` and shared
blocks; and reports, at its source line, everything it cannot resolve. It never raises
on user input: what cannot be lowered is reported and left out.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Literal, assert_never

from regdsl.diagnostics import Code, Label, Sink
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.limits import AMOUNT_LIMIT, Limit, TooComplex
from regdsl.model.medicines import CLASSES, Medicine, MedicineTable, make_medicine
from regdsl.model.vocabulary import (
    ERROR_PRONE_UNITS,
    FACTOR_NAMES,
    FREQUENCY_BY_PHRASE,
    RESPONSES,
    ROUTE_BY_ALIAS,
    ROUTES,
    SETTINGS,
    SNOMED,
    TIME_UNITS,
    UNITS,
    Basis,
    Coding,
    Unit,
    find_factor,
    find_unit,
    suggest_unit,
)
from regdsl.source import Span
from regdsl.syntax.expected import close_match

__all__ = ["LibraryDefs", "lower_library", "lower_regimen"]

_ID_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# An id names files: short enough for every file system, and no device name Windows reserves.
_MAX_ID_LENGTH = 128
_RESERVED_ID = re.compile(r"con|prn|aux|nul|com[0-9]|lpt[0-9]", re.IGNORECASE)
# Words that start a line inside a cycle: a misspelt one is read as a medicine's name.
_LINE_KEYWORDS = ("observe", "note", "title", "same", "use", "without")
_TRAILING_ZERO = re.compile(r"\.\d*0$|\.$")
# The lines of an ambiguous anchor labelled in its finding (TIM007): one finding per relation
# labelling every line would be quadratic in a day of many lines.
_CANDIDATES_SHOWN = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryDefs:
    """What a library shares with its regimens: medicines, footnotes, blocks, regimen ids."""

    medicines: MedicineTable
    footnotes: dict[str, ir.Footnote] = field(default_factory=dict)
    blocks: dict[str, ast.BlockDef] = field(default_factory=dict)
    regimen_ids: frozenset[str] | None = None


def _shown(text: str) -> str:
    """Return a number as a message shows it: whole when short, else its first digits and its length."""
    return text if len(text) <= 16 else f"{text[:8]}… ({len(text)} characters)"


def _point(span: Span) -> Span:
    """Return an empty span at the end of ``span``, for "expected something here"."""
    return replace(span, start=span.end)


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


class _Lowerer:
    def __init__(self, sink: Sink, defs: LibraryDefs) -> None:
        self.sink = sink
        self.defs = defs
        self.aliases: dict[str, Medicine] = {}
        self.blocks: dict[str, ast.BlockDef] = dict(defs.blocks)
        self.spellings: dict[str, tuple[str, Span]] = {}
        self.doses = 0  # the doses written so far, counted against limits.DOSES
        self.groups = 0

    def count(self, span: Span, doses: int) -> None:
        """Count ``doses`` more doses written at ``span``; beyond limits.DOSES the regimen is too complex."""
        self.doses += doses
        if self.doses > limits.DOSES.value:
            raise TooComplex(
                span,
                f"the regimen holds more than {limits.DOSES.value:,} doses by this line (each day of each "
                "line of each cycle group, once more for each relation)",
            )

    # -- small resolvers ---------------------------------------------------------

    def unknown(
        self,
        code: Code,
        span: Span,
        message: str,
        *,
        label: str,
        word: str,
        candidates: Iterable[str],
        otherwise: str | None = None,
        guess: str | None = None,
    ) -> None:
        """Report a name that resolves to nothing, with ``guess`` or the closest known one as the help."""
        guess = guess or close_match(word, candidates)
        self.sink.report(code, span, message, label=label, help=f"did you mean `{guess}`?" if guess else otherwise)

    def whole(self, word: ast.Word, what: str) -> bool:
        """Whether ``word`` is a whole number; reported when it is not."""
        if word.text.isdigit():
            return True
        self.sink.report(
            c.BAD_NUMBER,
            word.span,
            f"{what} must be a whole number, not `{_shown(word.text)}`",
            label="a whole number is needed here",
        )
        return False

    def integer(self, word: ast.Word, what: str, limit: Limit) -> int | None:
        """Read a whole number no larger than ``limit``; report it otherwise."""
        if not self.whole(word, what):
            return None
        if len(word.text.lstrip("0")) > len(str(limit.value)) or int(word.text) > limit.value:
            self.beyond(word.span, f"{what} of {_shown(word.text)}", limit)
            return None
        return int(word.text)

    def beyond(self, span: Span, what: str, limit: Limit) -> None:
        """Report a value beyond its limit (the limits module), with the limit's reason."""
        self.sink.report(
            c.BEYOND_LIMIT,
            span,
            f"{what} is beyond the limit of {limit.value:,} {limit.unit}",
            label=f"at most {limit.value:,}",
            help=f"check the number: the limit is {limit.value:,} {limit.unit} ({limit.reason})",
        )

    def decimal(self, word: ast.Word) -> Decimal | None:
        try:
            return Decimal(word.text if not word.text.startswith(".") else "0" + word.text)
        except InvalidOperation:  # the grammar only lets digits through; kept for safety
            self.sink.report(c.BAD_NUMBER, word.span, f"`{_shown(word.text)}` is not a number")
            return None

    def amount(self, word: ast.Word, value: Decimal | None) -> Decimal | None:
        """Return ``value`` unless it is beyond the amount limits (reported)."""
        if value is None:
            return None
        places = len(word.text.partition(".")[2].rstrip("0"))
        if value > AMOUNT_LIMIT:
            self.beyond(word.span, f"the amount {_shown(word.text)}", limits.AMOUNTS)
            return None
        if places > limits.DECIMALS.value:
            self.beyond(word.span, f"the amount {_shown(word.text)}, with {places} decimal places,", limits.DECIMALS)
            return None
        return value

    def dose_number(self, word: ast.Word) -> Decimal | None:
        text = word.text
        if text.startswith("."):
            self.sink.report(
                c.NAKED_DECIMAL,
                word.span,
                "dose written without a leading zero",
                label=f"write `0{text}`",
                help="a naked decimal point can be missed, giving a tenfold overdose",
            )
        elif _TRAILING_ZERO.search(text):
            fixed = text.rstrip("0").rstrip(".") or "0"
            self.sink.report(
                c.TRAILING_ZERO,
                word.span,
                "dose written with a trailing zero",
                label=f"write `{fixed}`",
                help="a trailing zero can be misread as a tenfold dose",
            )
        return self.amount(word, self.decimal(word))

    def unit(self, word: ast.Word) -> Unit | None:
        text = word.text
        if text in ERROR_PRONE_UNITS:
            instead = ERROR_PRONE_UNITS[text]
            self.sink.report(
                c.ERROR_PRONE_UNIT,
                word.span,
                f"`{text}` is an error-prone way to write a unit",
                label=f"write `{instead}`",
                help=f"write `{instead}`: `{text}` has been misread, causing overdoses",
            )
            return find_unit(instead)
        found = find_unit(text)
        if found is not None:
            return found
        if text.lower() in ROUTE_BY_ALIAS:
            self.sink.report(
                c.UNKNOWN_UNIT,
                word.span,
                f"the dose has no unit: `{text}` is a route",
                label="expected a unit such as `mg` here",
                help="write the unit after the amount, then the route: `10 mg oral`",
            )
            return None
        self.unknown(
            c.UNKNOWN_UNIT,
            word.span,
            f"unknown unit `{text}`",
            label="not a known unit",
            word=text,
            candidates=(),  # never the closest-looking unit: it may be another magnitude
            guess=suggest_unit(text, (a for u in UNITS for a in u.aliases)),
            otherwise="units are mg, g, microgram, mmol, mL, %, units, international units, mg/m2, g/m2, mg/kg, "
            "AUC, tablet...",
        )
        return None

    def medicine(self, ref: ast.DrugRef, *, quiet: bool = False) -> Medicine | None:
        found = self.aliases.get(ref.text) if not ref.quoted else None
        if found is None:
            found = self.defs.medicines.find(ref.text)
        if found is None:
            if quiet:
                return None
            named = make_medicine(ref.text)
            keyword = None if ref.quoted else close_match(ref.text, _LINE_KEYWORDS)
            guess = keyword or close_match(ref.text, [*self.defs.medicines.names(), *self.aliases])
            self.sink.report(
                c.UNKNOWN_MEDICINE,
                ref.span,
                f"unknown medicine `{ref.text}`",
                label="not in the medicine table",
                help=f"did you mean {'the keyword ' if keyword else ''}`{guess}`?"
                if guess
                else 'add it to the library\'s `library.reg`, or declare `drug ALIAS = "NAME"`',
            )
            # An unknown name that names a known medicine (a vinca alkaloid's stem or brand) is
            # still checked as that medicine, so that no spelling escapes the route rules.
            return named if named.classes else None
        if not quiet:
            first = self.spellings.setdefault(found.name, (ref.text, ref.span))
            if first[0] != ref.text:
                self.sink.report(
                    c.NAMED_TWO_WAYS,
                    ref.span,
                    f"{found.display} is written `{ref.text}` here but `{first[0]}` before",
                    label="second spelling",
                    secondary=(Label(first[1], "first written here"),),
                    help=f"write `{first[0]}` everywhere in this regimen",
                )
        return found

    def check_dose_parts(
        self, node: ast.Admin, unit: Unit, volume: ir.Quantity | None, cap: ir.Quantity | None
    ) -> None:
        """Check that a volume is in mL, a cap is absolute on a scaled dose, and `flat` marks an absolute one."""
        scaled = unit.basis in {Basis.PER_M2, Basis.PER_KG, Basis.AUC}
        if node.dose.flat and unit.basis is not Basis.ABSOLUTE:
            self.sink.report(
                c.BAD_UNIT_USE,
                node.dose.span,
                f"`flat` means a dose not scaled by body size, but {unit.display} is not a flat amount",
                label="remove `flat`",
            )
        if volume is not None and volume.unit.term != "mL":
            self.sink.report(
                c.BAD_UNIT_USE, volume.span, f"a volume is given in mL, not {volume.unit.display}", label="write mL"
            )
        if cap is not None and (cap.unit.basis is not Basis.ABSOLUTE or not scaled):
            self.sink.report(
                c.BAD_UNIT_USE,
                cap.span,
                "`max` caps a dose scaled by body size with an absolute amount, such as `max 2 mg`"
                if scaled
                else f"`max` caps only a scaled dose; {node.dose.amount.text} {unit.display} is already absolute",
                label="not a valid cap",
            )

    def quantity(self, span: Span, amount: ast.Word, unit: ast.Word, *, dose: bool = False) -> ir.Quantity | None:
        value = self.dose_number(amount) if dose else self.amount(amount, self.decimal(amount))
        found = self.unit(unit)
        if value is None or found is None:
            return None
        return ir.Quantity(span=span, amount=value, unit=found)

    def minutes(self, amount: ast.Word, unit: ast.Word) -> int | None:
        value = self.decimal(amount)
        if value is None:
            return None
        total = value * TIME_UNITS[unit.text]
        if total != total.to_integral_value():
            self.sink.report(
                c.BAD_NUMBER,
                amount.span,
                "a time must come to whole minutes",
                label=f"{amount.text} {unit.text} is not a whole number of minutes",
            )
            return None
        if total > limits.MINUTES.value:
            self.beyond(amount.span, f"a time of {_shown(amount.text)} {unit.text}", limits.MINUTES)
            return None
        return int(total)

    def date(self, word: ast.Word) -> str | None:
        try:
            datetime.date.fromisoformat(word.text)
        except ValueError:
            self.sink.report(c.BAD_DATE, word.span, f"`{word.text}` is not a calendar date", label="no such date")
            return None
        return word.text

    def url(self, text: ast.Text) -> str:
        scheme = text.value.split(":", 1)[0].lower() if ":" in text.value else ""
        if scheme not in {"http", "https"}:
            self.sink.report(
                c.BAD_URL,
                text.span,
                "a link must start with `http://` or `https://`",
                label="not an http(s) link",
                help="links to anything else are shown as plain text",
            )
        return text.value

    # -- identity ----------------------------------------------------------------

    def meta(self, span: Span, fields: Iterable[ast.Meta]) -> ir.Meta:
        texts: list[tuple[str, str]] = []
        identifiers: list[tuple[str, str]] = []
        cancer: tuple[ir.Term, ...] = ()
        setting: ir.Term | None = None
        status: ir.Status | None = None
        superseded_by: str | None = None
        footnotes: list[ir.Footnote] = []
        overview: str | None = None
        seen: dict[str, Span] = {}

        def once(key: str, where: Span) -> bool:
            if key in seen:
                self.sink.report(
                    c.DUPLICATE_FIELD,
                    where,
                    f"`{key}` is given twice",
                    label="second time",
                    secondary=(Label(seen[key], "first given here"),),
                )
                return False
            seen[key] = where
            return True

        for f in fields:
            match f:
                case ast.TextField(key=key, value=value):
                    if once(key.text, f.span):
                        if key.text in {"url"}:
                            self.url(value)
                        texts.append((key.text, value.value))
                case ast.DateField(key=key, value=value):
                    if once(key.text, f.span) and (checked := self.date(value)) is not None:
                        texts.append((key.text, checked))
                case ast.StatusField(status=word, by=by):
                    if once("status", f.span):
                        status, superseded_by = self.status(word, by)
                case ast.CancerField(terms=terms):
                    if once("cancer", f.span):
                        cancer = tuple(self.term(t) for t in terms)
                case ast.SettingField(term=term):
                    if once("setting", f.span):
                        setting = self.term(term, SETTINGS)
                case ast.IdentifierField(system=system, value=value):
                    identifiers.append((system.value, value.value))
                case ast.FootnotesField(names=names):
                    if once("footnotes", f.span):
                        footnotes.extend(
                            self.footnote(n) for n in names if n.text in self.defs.footnotes or self.footnote_missing(n)
                        )
                case ast.Overview(prose=prose):
                    if once("overview", f.span):
                        overview = prose.text
                case _:
                    assert_never(f)
        return ir.Meta(
            span=span,
            fields=tuple(texts),
            identifiers=tuple(identifiers),
            cancer=cancer,
            setting=setting,
            status=status,
            superseded_by=superseded_by,
            footnotes=tuple(footnotes),
            overview=overview,
        )

    def footnote(self, name: ast.Word) -> ir.Footnote:
        return self.defs.footnotes[name.text]

    def footnote_missing(self, name: ast.Word) -> bool:
        self.unknown(
            c.UNKNOWN_FOOTNOTE,
            name.span,
            f"no footnote named `{name.text}`",
            label="not defined in library.reg",
            word=name.text,
            candidates=self.defs.footnotes,
            otherwise="define it in the library's `library.reg`",
        )
        return False

    def status(self, word: ast.Word, by: ast.Word | None) -> tuple[ir.Status | None, str | None]:
        try:
            status = ir.Status(word.text)
        except ValueError:
            self.unknown(
                c.UNKNOWN_STATUS,
                word.span,
                f"unknown status `{word.text}`",
                label="not a status",
                word=word.text,
                candidates=[s.value for s in ir.Status],
                otherwise="statuses: draft, provisional, published, discontinued, superseded by ID",
            )
            return None, None
        if status is ir.Status.SUPERSEDED and by is None:
            self.sink.report(
                c.MISSING_FIELD,
                word.span,
                "`superseded` names the regimen that replaces it",
                label="write `status superseded by NEW-ID`",
            )
        elif status is not ir.Status.SUPERSEDED and by is not None:
            self.sink.report(
                c.MISPLACED,
                by.span,
                f"only a superseded regimen names a replacement, not a {status.value} one",
                label="remove `by ...`, or write `status superseded by ...`",
            )
        if by is None:
            return status, None
        return status, self.link(by) if status is ir.Status.SUPERSEDED else by.text  # resolved like a link

    def term(self, term: ast.Term, known: dict[str, str] | None = None) -> ir.Term:
        code = term.code.text if term.code else None
        if code is None and known is not None:
            lowered = {k.lower(): v for k, v in known.items()}
            code = lowered.get(term.text.value.lower())
            if code is None:
                self.unknown(
                    c.UNCODED_SETTING,
                    term.span,
                    f'setting "{term.text.value}" has no SNOMED CT code',
                    label="kept as text",
                    word=term.text.value,
                    candidates=known,
                    otherwise='give its code as `setting "..." [CODE]` if it has one',
                )
        return ir.Term(span=term.span, text=term.text.value, code=code)

    # -- administrations -----------------------------------------------------------

    def days(self, days: ast.Days, length: int | None) -> tuple[tuple[int, ...], int | None]:
        found: list[int] = []
        for item in days.items:
            first = self.integer(item.first, "a day", limits.DAYS)
            last = self.integer(item.last, "a day", limits.DAYS) if item.last else first
            if first is None or last is None:
                continue
            self.count(item.span, max(0, last - first + 1))
            if last < first:
                self.sink.report(
                    c.BAD_RANGE,
                    item.span,
                    f"days {first} to {last} run backwards",
                    label="the range ends before it starts",
                )
                continue
            if length is not None and last > length:
                bad = next(d for d in range(first, last + 1) if d > length)
                self.sink.report(
                    c.DAY_OUTSIDE_CYCLE,
                    item.span,
                    f"day {bad} is outside this {length}-day cycle",
                    label=f"the cycle has days 1 to {length}",
                    help="check the day, or the cycle length in the cycle's heading",
                )
            found.extend(range(first, last + 1))
        shift = self.integer(days.shift, "a shift", limits.DAYS) if days.shift else None
        return tuple(sorted(set(found))), shift

    def relation(self, rel: ast.RelationCore, qualifier: str | None) -> ir.Relation | None:
        low = high = None
        if rel.low is not None and rel.unit is not None:
            low = self.minutes(rel.low, rel.unit)
            high = self.minutes(rel.high, rel.unit) if rel.high else low
            if low is None or high is None:
                return None
            if high < low:
                self.sink.report(
                    c.BAD_RANGE,
                    rel.span,
                    f"{rel.low.text} to {rel.high.text if rel.high else ''} runs backwards",
                    label="the range ends before it starts",
                )
                return None
        else:
            low = 0
        anchor = rel.anchor
        if anchor.kind == "drug" and anchor.drug is not None:
            med = self.medicine(anchor.drug)
            if med is None:
                return None
            name = med.name
        else:
            name = anchor.text
        point: Literal["start", "end"] = rel.point or ("start" if rel.direction == "before" else "end")
        return ir.Relation(
            span=rel.span,
            direction=rel.direction,
            low=low,
            high=high,
            point=point,
            anchor_kind=anchor.kind,
            anchor=name,
            qualifier=qualifier,
        )

    def admin(
        self, node: ast.Admin, length: int | None, default_days: ast.Days | None = None
    ) -> ir.Administration | None:
        med = self.medicine(node.drug)
        if med is None and not node.drug.quoted and close_match(node.drug.text, _LINE_KEYWORDS):
            return None  # a misspelt statement keyword: the rest of the line is not a dose
        amount = self.dose_number(node.dose.amount)
        unit = self.unit(node.dose.unit)
        route = None
        if node.route is None and node.dose.unit.text.lower() not in ROUTE_BY_ALIAS:
            self.sink.report(
                c.MISSING_ROUTE,
                _point(node.dose.span),
                "expected a route such as `oral` or `IV` after the dose",
                label="route missing here",
                help="every administration states its route",
            )
        elif node.route is not None:
            route = ROUTE_BY_ALIAS.get(node.route.text.lower())
            if route is None:
                self.unknown(
                    c.UNKNOWN_ROUTE,
                    node.route.span,
                    f"unknown route `{node.route.text}`",
                    label="not a known route",
                    word=node.route.text,
                    candidates=[a for r in ROUTES for a in r.aliases],
                    otherwise="routes are oral, IV, subcut, IM, intrathecal, intravesical, topical...",
                )
        days: tuple[int, ...] = ()
        shift = max_minutes = None
        exact = prn = off_label = s29 = role_stated = False
        role: Literal["anticancer", "supportive"] = "anticancer" if med and med.anticancer else "supportive"
        frequency = None
        volume = cap = None
        relations: list[ir.Relation] = []
        seen: dict[str, Span] = {}
        days_node = default_days
        for clause in node.clauses:
            kind = type(clause).__name__ if not isinstance(clause, ast.Flag) else clause.kind
            if kind != "Relation":
                if kind in seen:
                    self.sink.report(
                        c.DUPLICATE_CLAUSE,
                        clause.span,
                        "this is said twice on one line",
                        label="second time",
                        secondary=(Label(seen[kind], "first here"),),
                    )
                    continue
                seen[kind] = clause.span
            match clause:
                case ast.Days():
                    days_node = clause
                case ast.Over(amount=a, unit=u, exact=ex):
                    max_minutes = self.minutes(a, u)
                    exact = ex
                case ast.Flag(kind="frequency", value=v):
                    frequency = FREQUENCY_BY_PHRASE[v]
                case ast.Flag(kind="prn"):
                    prn = True
                case ast.Flag(kind="role", value=v):
                    role = "anticancer" if v == "anticancer" else "supportive"
                    role_stated = True
                case ast.Flag(kind="off_label"):
                    off_label = True
                case ast.Flag(kind="s29"):
                    s29 = True
                case ast.Flag():
                    raise AssertionError(clause.kind)
                case ast.Volume(amount=a, unit=u):
                    volume = self.quantity(clause.span, a, u, dose=True)
                case ast.Cap(amount=a, unit=u):
                    cap = self.quantity(clause.span, a, u, dose=True)
                case ast.Relation(core=core, qualifier=q):
                    lowered = self.relation(core, q.value if q else None)
                    if lowered is not None:
                        relations.append(lowered)
                case _:
                    assert_never(clause)
        if days_node is None:
            self.sink.report(
                c.MISSING_DAYS,
                node.span,
                "this administration does not say on which days",
                label="no `days` clause",
                help="add the days, such as `days 1, 8, 15`",
            )
        else:
            days, shift = self.days(days_node, length)
        self.count(node.span, len(days) * len(relations))
        if med is None or amount is None or unit is None:
            return None
        self.check_dose_parts(node, unit, volume, cap)
        dose = ir.Dose(span=node.dose.span, amount=amount, text=node.dose.amount.text, unit=unit, flat=node.dose.flat)
        return ir.Administration(
            span=node.span,
            medicine=med,
            written=node.drug.text,
            dose=dose,
            route=route,
            frequency=frequency,
            days=days,
            shift_days=shift,
            max_minutes=max_minutes,
            exact_duration=exact,
            prn=prn,
            role=role,
            role_stated=role_stated,
            off_label=off_label,
            s29=s29,
            volume=volume,
            cap=cap,
            relations=tuple(relations),
            instructions=node.instructions.text if node.instructions else None,
        )

    def note(self, node: ast.Note) -> ir.Note:
        med = None
        if node.label is not None:
            med = self.medicine(ast.DrugRef(span=node.label.span, text=node.label.text, quoted=False), quiet=True)
            if med is not None:
                self.medicine(ast.DrugRef(span=node.label.span, text=node.label.text, quoted=False))
        return ir.Note(
            span=node.span, label=node.label.text if node.label else None, medicine=med, text=node.prose.text
        )

    # -- cycles ------------------------------------------------------------------

    def cycles(self, nodes: Sequence[ast.Cycle]) -> tuple[ir.CycleGroup, ...]:
        groups: list[ir.CycleGroup] = []
        for node in nodes:
            group = self.cycle(node, groups)
            if group is not None:
                groups.append(group)
        return tuple(groups)

    def cycle(self, node: ast.Cycle, earlier: Sequence[ir.CycleGroup]) -> ir.CycleGroup | None:
        first = self.integer(node.first, "a cycle number", limits.CYCLE_NUMBERS)
        last = self.integer(node.last, "a cycle number", limits.CYCLE_NUMBERS) if node.last else None
        length = self.integer(node.length, "a cycle length", limits.DAYS)
        extend = self.integer(node.extend_to, "a cycle length", limits.DAYS) if node.extend_to else None
        if first is None or length is None or (node.last and last is None):
            return None
        self.groups += 1
        if self.groups > limits.CYCLE_GROUPS.value:
            raise TooComplex(
                node.header, f"the regimen has more than {limits.CYCLE_GROUPS.value:,} cycle groups by this one"
            )
        for value, word in ((first, node.first), (length, node.length)):
            if value < 1:
                self.sink.report(
                    c.BAD_RANGE, word.span, "cycle numbers and lengths start at 1", label="must be 1 or more"
                )
                return None
        if last is not None and last < first:
            self.sink.report(
                c.BAD_RANGE,
                node.header,
                f"cycles {first} to {last} run backwards",
                label="the range ends before it starts",
            )
            last = first
        if extend is not None and extend <= length:
            self.sink.report(
                c.BAD_RANGE,
                node.extend_to.span if node.extend_to else node.header,
                f"the cycle may only be extended beyond its {length} days",
                label=f"must be more than {length}",
            )
            extend = None
        body = _Body()
        title = None
        same_as = None
        for stmt in node.body:
            body.step += 1
            match stmt:
                case ast.TitleStmt(text=text):
                    title = text.value
                case ast.SameAs(cycle=word):
                    if same_as is not None or body.started:
                        self.sink.report(
                            c.MISPLACED,
                            stmt.span,
                            "`same as` must be the first line of a cycle, and come once",
                            label="move this line to the top of the cycle",
                            help="the lines after `same as` state how this cycle differs",
                        )
                        continue
                    number = self.integer(word, "a cycle number", limits.CYCLE_NUMBERS)
                    if number is None:
                        continue
                    source = next((g for g in earlier if g.covers(number)), None)
                    if source is None:
                        self.sink.report(
                            c.UNKNOWN_CYCLE,
                            word.span,
                            f"there is no earlier cycle {word.text}",
                            label="no such cycle before this one",
                        )
                        continue
                    same_as = number
                    self.count(stmt.span, sum(len(a.days) * (1 + len(a.relations)) for a in source.administrations))
                    body.copy(source)
                    for admin in source.administrations:
                        late = [d for d in admin.days if d > length]
                        if late:
                            self.sink.report(
                                c.DAY_OUTSIDE_CYCLE,
                                stmt.span,
                                f"cycle {number}'s {admin.medicine.display} on day {late[0]} is "
                                f"outside this {length}-day cycle",
                                label="inherited from here",
                            )
                case ast.UseBlock(name=name, days=days):
                    block = self.blocks.get(name.text)
                    if block is None:
                        self.unknown(
                            c.UNKNOWN_BLOCK,
                            name.span,
                            f"no block named `{name.text}`",
                            label="not defined",
                            word=name.text,
                            candidates=self.blocks,
                        )
                        continue
                    for item in block.items:
                        if isinstance(item, ast.Admin):
                            if (lowered := self.admin(item, length, days)) is not None:
                                body.place(lowered)
                        else:
                            body.note(self.note(item), override=False)
                case ast.Admin():
                    if (lowered := self.admin(stmt, length)) is not None:
                        body.place(lowered)
                case ast.Note():
                    body.note(self.note(stmt), override=same_as is not None)
                case ast.Observe(amount=a, unit=u, drug=d):
                    med, minutes = self.medicine(d), self.minutes(a, u)
                    if med is not None and minutes is not None:
                        body.observe(ir.Observation(span=stmt.span, medicine=med, minutes=minutes))
                case ast.Gap(drug=d, days=n):
                    med, count = self.medicine(d), self.integer(n, "a gap", limits.DAYS)
                    if med is not None and count is not None:
                        body.gap(ir.MinGap(span=stmt.span, medicine=med, days=count))
                case ast.Without(drug=d):
                    med = self.medicine(d)
                    if med is not None:
                        body.without(med)
                case _:
                    assert_never(stmt)
        group = ir.CycleGroup(
            span=node.header,
            first=first,
            last=last,
            open_ended=node.open_ended,
            length_days=length,
            extend_to_days=extend,
            title=title,
            same_as=same_as,
            administrations=body.administrations(),
            notes=body.notes(),
            observations=body.observations(),
            gaps=body.gaps(),
        )
        self.check_anchors(group)
        return group

    def check_anchors(self, group: ir.CycleGroup) -> None:
        """Every relation's anchor is given on the day (or, for premedication, the day after)."""
        given: dict[str, set[int]] = {}
        lines: dict[tuple[str, int], list[ir.Administration]] = {}
        chemo: set[int] = set()
        for admin in group.administrations:
            if admin.prn:
                continue
            given.setdefault(admin.medicine.name, set()).update(admin.days)
            for day in admin.days:
                lines.setdefault((admin.medicine.name, day), []).append(admin)
            if admin.role == "anticancer":
                chemo.update(admin.days)
        anchored: list[ir.Observation | ir.MinGap] = [*group.observations, *group.gaps]
        for item in anchored:
            if item.medicine.name not in given:
                self.sink.report(
                    c.RELATION_UNKNOWN_DRUG,
                    item.span,
                    f"{item.medicine.display} is not given in this cycle",
                    label="nothing to measure from",
                )
        for admin in group.administrations:
            for rel in admin.relations:
                if rel.anchor_kind == "event":
                    continue
                days = chemo if rel.anchor_kind == "chemotherapy" else given.get(rel.anchor)
                label = "chemotherapy" if rel.anchor_kind == "chemotherapy" else self._display(rel.anchor)
                if days is None:
                    self.sink.report(
                        c.RELATION_UNKNOWN_DRUG,
                        rel.span,
                        f"{label} is not given in this cycle",
                        label="nothing to measure from",
                    )
                    continue
                step = 1 if rel.direction == "before" else -1
                if rel.anchor_kind == "drug":
                    self.ambiguous_anchor(admin, rel, lines, label, step)
                for day in admin.days:
                    if day not in days and day + step not in days:
                        self.sink.report(
                            c.RELATION_NOT_THAT_DAY,
                            rel.span,
                            f"{label} is not given on day {day}, when {admin.medicine.display} is",
                            label=f"no {label} on day {day}",
                            secondary=(Label(admin.span, f"{admin.medicine.display} on day {day}"),),
                            help="list only the days the anchor is given, or anchor to another medicine",
                        )
                        break

    def ambiguous_anchor(
        self,
        admin: ir.Administration,
        rel: ir.Relation,
        lines: dict[tuple[str, int], list[ir.Administration]],
        label: str,
        step: int,
    ) -> None:
        """Report a relation whose anchor is given on two lines of a day it is measured on (once per relation)."""
        for day in admin.days:
            anchor_day = day if (rel.anchor, day) in lines else day + step
            candidates = lines.get((rel.anchor, anchor_day), [])
            if len(candidates) > 1:
                shown = candidates[:_CANDIDATES_SHOWN]
                more = len(candidates) - len(shown)
                self.sink.report(
                    c.AMBIGUOUS_ANCHOR,
                    rel.span,
                    f"{label} is given on {len(candidates)} lines on day {anchor_day}: "
                    "this relation does not say which one it is timed from",
                    label="which dose?",
                    secondary=tuple(Label(a.span, f"{label} on day {anchor_day}") for a in shown),
                    notes=(f"{more:,} more line{'s give' if more > 1 else ' gives'} {label} on day {anchor_day}",)
                    if more
                    else (),
                    help="time this line from something given once that day, such as another medicine or "
                    "`chemotherapy`",
                )
                return

    def _display(self, name: str) -> str:
        med = self.defs.medicines.find(name)
        return med.display if med else name

    # -- supportive care and references ----------------------------------------------

    def support(self, nodes: Iterable[ast.Support]) -> ir.Support:
        factors: list[ir.SupportFactor] = []
        notes: list[ir.Note] = []
        for node in nodes:
            for item in node.items:
                if isinstance(item, ast.Note):
                    notes.append(
                        ir.Note(
                            span=item.span,
                            label=item.label.text if item.label else None,
                            medicine=None,
                            text=item.prose.text,
                        )
                    )
                    continue
                factors.append(self.factor(item))
        return ir.Support(factors=tuple(factors), notes=tuple(notes))

    def factor(self, line: ast.FactorLine) -> ir.SupportFactor:
        name, value = line.factor.text, line.value.text
        factor = find_factor(name)
        if factor is None:
            self.unknown(
                c.UNCODED_FACTOR,
                line.factor.span,
                f'"{name}" is not a coded factor',
                label="kept as text",
                word=name,
                candidates=FACTOR_NAMES,
            )
            return ir.SupportFactor(span=line.span, factor=None, factor_text=name, value=None, value_text=value)
        found = factor.find_value(value)
        if found is None:
            self.sink.report(
                c.UNCODED_FACTOR_VALUE,
                line.value.span,
                f'"{value}" is not a coded value of {factor.term}',
                label="kept as text",
                help="coded values: " + "; ".join(v.texts[0] for v in factor.values),
            )
        return ir.SupportFactor(
            span=line.span,
            factor=Coding(SNOMED, factor.code, factor.term),
            factor_text=name,
            value=Coding(SNOMED, found.code, value) if found else None,
            value_text=value,
        )

    def reference(self, node: ast.Reference) -> ir.Reference:
        return ir.Reference(
            span=node.span,
            text=node.text.value,
            urls=tuple(self.url(u) for u in node.urls),
            pmids=tuple(p.text for p in node.pmids if self.whole(p, "a PubMed id")),
            accessed=tuple(d for d in (self.date(a) for a in node.accessed) if d is not None),
        )

    # -- the plan ----------------------------------------------------------------

    def plan(self, nodes: Iterable[ast.Plan], parts: Sequence[ir.Part]) -> ir.Plan:
        decisions: list[ir.Decision] = []
        caps: list[ir.Limit] = []
        stops: list[ir.StopRule] = []
        groups = [g for p in parts for g in p.cycles]
        for node in nodes:
            for item in node.items:
                match item:
                    case ast.Decision(when=when, branches=branches):
                        first = self.integer(when.first, "a cycle number", limits.CYCLE_NUMBERS) if when.first else None
                        last = self.integer(when.last, "a cycle number", limits.CYCLE_NUMBERS) if when.last else None
                        if when.kind == "part":
                            self.part_exists(when.first, parts)
                        else:
                            for number, word in ((first, when.first), (last, when.last)):
                                self.cycle_exists(number, word, groups)
                        decisions.append(
                            ir.Decision(
                                span=item.span,
                                kind=when.kind,
                                first=first,
                                last=last,
                                branches=tuple(self.branch(b, groups, parts) for b in branches),
                            )
                        )
                    case ast.Limit(count=count, cond=cond, counted_with=ids):
                        n = self.integer(count, "a number of cycles", limits.CYCLE_NUMBERS)
                        if cond is not None:
                            self.condition(cond)
                        if n is not None:
                            caps.append(
                                ir.Limit(
                                    span=item.span, count=n, cond=cond, counted_with=tuple(self.link(i) for i in ids)
                                )
                            )
                    case ast.StopRule(cond=cond, within=within):
                        self.condition(cond)
                        stops.append(
                            ir.StopRule(
                                span=item.span,
                                cond=cond,
                                within=self.integer(within, "a number of cycles", limits.CYCLE_NUMBERS)
                                if within
                                else None,
                            )
                        )
                    case _:
                        assert_never(item)
        return ir.Plan(decisions=tuple(decisions), limits=tuple(caps), stops=tuple(stops))

    def cycle_exists(self, number: int | None, word: ast.Word | None, groups: Sequence[ir.CycleGroup]) -> None:
        if number is not None and word is not None and not any(g.covers(number) for g in groups):
            self.sink.report(c.UNKNOWN_CYCLE, word.span, f"this regimen has no cycle {number}", label="no such cycle")

    def part_exists(self, word: ast.Word | None, parts: Sequence[ir.Part]) -> None:
        if word is not None and not any(str(p.number) == word.text for p in parts):
            self.sink.report(c.UNKNOWN_CYCLE, word.span, f"this regimen has no part {word.text}", label="no such part")

    def branch(self, node: ast.Branch, groups: Sequence[ir.CycleGroup], parts: Sequence[ir.Part]) -> ir.Branch:
        if node.cond is not None:
            self.condition(node.cond)
        target = node.target.text if node.target else None
        if node.action == "continue" and node.target is not None:
            target = self.link(node.target)
        elif node.action == "cycle" and node.target is not None:
            number = self.integer(node.target, "a cycle number", limits.CYCLE_NUMBERS)
            self.cycle_exists(number, node.target, groups)
            target = str(number) if number is not None else None
        elif node.action == "part":
            self.part_exists(node.target, parts)
        return ir.Branch(span=node.span, cond=node.cond, action=node.action, target=target)

    def link(self, word: ast.Word) -> str:
        ids = self.defs.regimen_ids
        if ids is not None and word.text not in ids:
            self.unknown(
                c.UNKNOWN_LINK,
                word.span,
                f"no regimen `{word.text}` in this library",
                label="no such regimen",
                word=word.text,
                candidates=ids,
                otherwise="link to the id of a regimen file under the library root",
            )
        return word.text

    def condition(self, cond: ast.Cond) -> None:
        match cond:
            case ast.ResponseIn(codes=codes):
                for code in codes:
                    if code.text not in RESPONSES:
                        self.unknown(
                            c.UNKNOWN_RESPONSE,
                            code.span,
                            f"unknown response `{code.text}`",
                            label="not a response category",
                            word=code.text,
                            candidates=RESPONSES,
                            otherwise="responses: CR, CRi, PR, SD, PD",
                        )
            case ast.Mrd() | ast.Hsct():
                pass
            case ast.NotCond(operand=operand):
                self.condition(operand)
            case ast.AndCond(operands=ops) | ast.OrCond(operands=ops):
                for op in ops:
                    self.condition(op)
            case _:
                assert_never(cond)

    # -- parts and the whole regimen -------------------------------------------------

    def part(self, node: ast.Part) -> ir.Part:
        metas = [i for i in node.items if isinstance(i, ast.META_TYPES)]
        starts = [i for i in node.items if isinstance(i, ast.StartRule)]
        start = None
        for rule in starts[1:]:
            self.sink.report(c.DUPLICATE_FIELD, rule.span, "`start` is given twice", label="second time")
        if starts:
            rel = self.relation(starts[0].core, None)
            if rel is not None:
                start = ir.StartRule(
                    span=starts[0].span, relation=rel, text=starts[0].prose.text if starts[0].prose else None
                )
        return ir.Part(
            span=node.span,
            number=self.integer(node.number, "a part number", limits.PART_NUMBERS),
            title=node.title.value,
            meta=self.meta(node.span, metas),
            start=start,
            cycles=self.cycles([i for i in node.items if isinstance(i, ast.Cycle)]),
            support=self.support(i for i in node.items if isinstance(i, ast.Support)),
            references=tuple(self.reference(i) for i in node.items if isinstance(i, ast.Reference)),
        )


def _misplaced(sink: Sink, node: ast.Node, what: str, where: str, help: str) -> None:
    sink.report(c.MISPLACED, node.span, f"{what} is not allowed in {where}", label="not allowed here", help=help)


_LIBRARY_HELP = "library definitions go in `library.reg`; regimen sections in regimen files"


def _check_file_name(regimen_id: ast.Word, sink: Sink) -> None:
    """Report an id that cannot name the regimen's pages on some file system."""
    if len(regimen_id.text) > _MAX_ID_LENGTH:
        problem = f"is {len(regimen_id.text)} characters long; ids are at most {_MAX_ID_LENGTH}"
        choose = "a shorter id"
    elif _RESERVED_ID.fullmatch(regimen_id.text):
        problem = "is a device name that Windows reserves, so no page can be named after it"
        choose = "an id"
    else:
        return
    sink.report(
        c.ID_NOT_A_FILE_NAME,
        regimen_id.span,
        f"regimen id `{regimen_id.text[:40]}{'...' if len(regimen_id.text) > 40 else ''}` {problem}",
        label="the pages are named after the id",
        help=f"choose {choose} that says what the regimen is, such as `leu-all-bcell-rr-inotuzumab`",
    )


def lower_regimen(module: ast.Module, defs: LibraryDefs, sink: Sink, *, partial: bool = False) -> ir.Regimen | None:
    """Lower one regimen file; report what cannot be resolved; None if there is no regimen.

    ``partial`` says that syntax errors removed lines from ``module``: findings about
    missing fields would then only repeat those errors, and are not made.
    """
    low = _Lowerer(sink, defs)
    headers = [i for i in module.items if isinstance(i, ast.RegimenHeader)]
    if len(headers) != 1:
        span = headers[1].span if len(headers) > 1 else module.span
        if len(headers) > 1 or not partial:
            sink.report(
                c.NOT_ONE_REGIMEN,
                span if len(headers) > 1 else _first_line(span),
                "a regimen file holds exactly one `regimen ID` heading"
                if len(headers) > 1
                else "this file has no `regimen ID` heading",
                label="second regimen" if len(headers) > 1 else "expected `regimen ID` here",
                help="start the file with `regimen my-regimen-id`",
            )
        if not headers:
            return None
    header = headers[0]
    if not _ID_RE.fullmatch(header.id.text):
        sink.report(
            c.BAD_REGIMEN_ID,
            header.id.span,
            f"regimen id `{header.id.text}` is not a lower-case slug",
            label="use lower-case letters, digits and hyphens",
        )
    _check_file_name(header.id, sink)
    for item in module.items:
        if isinstance(item, ast.DrugDecl):
            ref = ast.DrugRef(span=item.medicine.span, text=item.medicine.value, quoted=True)
            med = low.medicine(ref, quiet=True) or low.medicine(ref)
            if item.alias.text in low.aliases:
                sink.report(
                    c.DUPLICATE_DEFINITION,
                    item.alias.span,
                    f"`{item.alias.text}` is declared twice",
                    label="second declaration",
                )
            elif med is not None:
                low.aliases[item.alias.text] = med
                low.spellings[med.name] = (item.alias.text, item.alias.span)
        elif isinstance(item, ast.BlockDef):
            if item.name.text in low.blocks and item.name.text not in defs.blocks:
                sink.report(
                    c.DUPLICATE_DEFINITION,
                    item.name.span,
                    f"block `{item.name.text}` is defined twice",
                    label="second definition",
                )
            low.blocks[item.name.text] = item
        elif isinstance(item, ast.LibraryHeader | ast.MedicineDef | ast.FootnoteDef):
            _misplaced(sink, item, "a library definition", "a regimen file", _LIBRARY_HELP)
    meta = low.meta(header.span, header.meta)
    if not partial and meta.status is None and not any(isinstance(m, ast.StatusField) for m in header.meta):
        sink.report(
            c.MISSING_FIELD,
            header.span,
            "the regimen has no `status`",
            label="add `status draft`",
            help="a regimen not transcribed from a published source is `status draft`",
        )
    if not partial and meta.get("name") is None:
        sink.report(c.MISSING_FIELD, header.span, "the regimen has no `name`", label='add `name "..."`')
    part_nodes = [i for i in module.items if isinstance(i, ast.Part)]
    top_cycles = [i for i in module.items if isinstance(i, ast.Cycle)]
    if part_nodes and top_cycles:
        for cyc in top_cycles:
            _misplaced(
                sink, cyc, "a cycle outside its part", "a regimen with parts", "indent the cycle under its `part`"
            )
    try:
        parts = (
            tuple(low.part(p) for p in part_nodes)
            if part_nodes
            else (
                ir.Part(
                    span=header.span,
                    number=None,
                    title=None,
                    meta=ir.Meta(span=header.span),
                    start=None,
                    cycles=low.cycles(top_cycles),
                    support=ir.Support(),
                    references=(),
                ),
            )
        )
    except TooComplex as err:
        sink.report(
            c.TOO_COMPLEX,
            err.span,
            err.message,
            label="too complex to check",
            help=err.help,
        )
        return None
    return ir.Regimen(
        span=header.span,
        id=header.id.text,
        path=header.span.path,
        meta=meta,
        parts=parts,
        support=low.support(i for i in module.items if isinstance(i, ast.Support)),
        references=tuple(low.reference(i) for i in module.items if isinstance(i, ast.Reference)),
        plan=low.plan((i for i in module.items if isinstance(i, ast.Plan)), parts),
        aliases=tuple(sorted((k, v.name) for k, v in low.aliases.items())),
    )


def _first_line(span: Span) -> Span:
    return replace(span, end=span.start)


def _known_class(word: ast.Word, sink: Sink) -> bool:
    """Whether ``class NAME`` names a class regdsl knows; reports it when not."""
    if word.text in CLASSES:
        return True
    guess = close_match(word.text, CLASSES)
    sink.report(
        c.UNKNOWN_MEDICINE_CLASS,
        word.span,
        f"no medicine class `{word.text}`",
        label="not a known class",
        help=f"did you mean `{guess}`?" if guess else "classes: " + ", ".join(sorted(CLASSES)),
    )
    return False


def _same_as(text: ast.Text, base: MedicineTable, earlier: Sequence[Medicine], sink: Sink) -> Medicine:
    """Return the medicine ``same as "NAME"`` names: in the default table or earlier in ``library.reg``."""
    found = base.find(text.value) or next((m for m in earlier if text.value.lower() in m.spellings()), None)
    if found is None:
        sink.report(
            c.UNKNOWN_MEDICINE,
            text.span,
            f'`same as` names a medicine not in the medicine table: "{text.value}"',
            label="not in the medicine table",
            help="name a medicine of the default table, or one defined above it in library.reg",
        )
        return make_medicine(text.value)  # what its name alone says it is still applies
    return found


def lower_library(module: ast.Module, base: MedicineTable, sink: Sink) -> LibraryDefs:
    """Lower ``library.reg``: medicines, footnotes and shared blocks."""
    medicines: list[Medicine] = []
    footnotes: dict[str, ir.Footnote] = {}
    blocks: dict[str, ast.BlockDef] = {}
    names: dict[str, Span] = {}
    for item in module.items:
        match item:
            case ast.LibraryHeader():
                pass
            case ast.MedicineDef(name=name, aliases=aliases, codes=codes, role=role):
                key = name.value.lower()
                if key in names:
                    sink.report(
                        c.DUPLICATE_DEFINITION,
                        name.span,
                        f'medicine "{name.value}" is defined twice',
                        label="second definition",
                    )
                    continue
                names[key] = name.span
                default = base.find(name.value)
                nzmt = next(
                    (code.value for system, code in codes if "nzmt" in system.value or "nzulm" in system.value),
                    default.nzmt if default else None,
                )
                known = [*([default] if default else []), *(_same_as(t, base, medicines, sink) for t in item.same_as)]
                medicines.append(
                    make_medicine(
                        name.value,
                        tuple(a.text for a in aliases) + (default.aliases if default else ()),
                        nzmt=nzmt,
                        anticancer=(role.text == "anticancer") if role else any(m.anticancer for m in known),
                        intrathecal=any(m.intrathecal for m in known),
                        classes=[w.text for w in item.classes if _known_class(w, sink)],
                        same_as=known,
                    )
                )
            case ast.FootnoteDef(name=name, marker=marker, prose=prose):
                if name.text in footnotes:
                    sink.report(
                        c.DUPLICATE_DEFINITION,
                        name.span,
                        f"footnote `{name.text}` is defined twice",
                        label="second definition",
                    )
                    continue
                footnotes[name.text] = ir.Footnote(span=item.span, name=name.text, marker=marker.value, text=prose.text)
            case ast.BlockDef(name=name):
                if name.text in blocks:
                    sink.report(
                        c.DUPLICATE_DEFINITION,
                        name.span,
                        f"block `{name.text}` is defined twice",
                        label="second definition",
                    )
                    continue
                blocks[name.text] = item
            case (
                ast.RegimenHeader()
                | ast.DrugDecl()
                | ast.Cycle()
                | ast.Support()
                | ast.Reference()
                | ast.Part()
                | ast.Plan()
            ):
                _misplaced(sink, item, "a regimen section", "library.reg", _LIBRARY_HELP)
            case _:
                assert_never(item)
    return LibraryDefs(medicines=base.extended(tuple(medicines)), footnotes=footnotes, blocks=blocks)
