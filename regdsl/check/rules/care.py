"""Care a medicine needs beside it: premedication, hydration, uroprotection, folate rescue and monitoring.

What each medicine needs, and from what dose, is data (``regdsl/model/data/care.json``, each
fact with its source); nothing here names a medicine. A requirement is met by a line that gives
it (a medicine of the class or name the data says, on the medicine's days), by the supportive-care
factor that states it, or by prose near the medicine that states it in one of the data's words
(many regimens leave the details to institutional policy, and say so).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from regdsl.check.context import RuleContext
from regdsl.check.registry import Rule, rule
from regdsl.compile.schedule import doses_by_day
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model import ir
from regdsl.model.medicines import Medicine, identities
from regdsl.model.vocabulary import ROUTE_BY_ALIAS, Basis, find_unit

__all__ = [
    "CARE",
    "hydration_missing",
    "hypersensitivity_without_premedication",
    "monitoring_missing",
    "premedication_missing",
    "rescue_missing",
    "rescue_timing",
    "uroprotection_missing",
]

# What one unit of an amount's mass is in milligrams: the units a per-m2 threshold is compared in.
_MILLIGRAMS = {"mg": Decimal(1), "g": Decimal(1000), "microgram": Decimal("0.001")}


def _words(words: Iterable[str]) -> re.Pattern[str]:
    """Return a pattern finding any of ``words`` as whole words, in any case."""
    return re.compile(
        r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w-])",
        re.IGNORECASE,
    )


@dataclass(frozen=True, slots=True)
class Premedication:
    """Premedication one medicine needs: the classes to give before it, and whether only in its first cycles."""

    medicine: str
    classes: tuple[str, ...]
    first_cycle: bool
    source: str


@dataclass(frozen=True, slots=True)
class Threshold:
    """A dose per m2 per day from which a requirement holds, in milligrams, and its source."""

    milligrams: Decimal
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Companion:
    """What must be given on the days of a medicine (hydration, mesna) or after it (folate rescue)."""

    code: str
    what: str
    medicine: str
    threshold: Threshold | None
    medicines: frozenset[str]
    classes: frozenset[str]
    routes: frozenset[str] | None
    days_before: int
    after: bool
    latest_hours: int | None
    factor: str | None
    values: frozenset[str]
    words: re.Pattern[str]
    source: str


@dataclass(frozen=True, slots=True)
class Monitoring:
    """Monitoring the medicines of some classes or names need, the measures and words that state it."""

    what: str
    classes: frozenset[str]
    medicines: frozenset[str]
    measures: frozenset[str]
    words: re.Pattern[str]
    source: str


@dataclass(frozen=True, slots=True)
class Care:
    """Everything ``care.json`` holds."""

    premedication_classes: tuple[str, ...]
    premedication_words: re.Pattern[str]
    premedication_source: str
    hypersensitivity_factor: str
    high: str
    premedication: tuple[Premedication, ...]
    companions: tuple[Companion, ...]
    monitoring: tuple[Monitoring, ...]


def _threshold(entry: dict[str, str] | None) -> Threshold | None:
    if entry is None:
        return None
    unit = find_unit(entry["unit"])
    assert unit is not None, entry
    assert unit.basis is Basis.PER_M2, entry
    return Threshold(
        Decimal(entry["amount"]) * _MILLIGRAMS[unit.absolute], f"{entry['amount']} {unit.display}", entry["source"]
    )


def _load() -> Care:
    data = json.loads(resources.files("regdsl.model").joinpath("data", "care.json").read_text("utf-8"))
    premed = data["premedication"]
    return Care(
        premedication_classes=tuple(premed["classes"]),
        premedication_words=_words(premed["words"]),
        premedication_source=premed["source"],
        hypersensitivity_factor=premed["hypersensitivity_factor"],
        high=premed["high"],
        premedication=tuple(
            Premedication(e["medicine"], tuple(e["classes"]), bool(e.get("first_cycle")), e["source"])
            for e in premed["required"]
        ),
        companions=tuple(
            Companion(
                code=e["code"],
                what=e["what"],
                medicine=e["medicine"],
                threshold=_threshold(e.get("from")),
                medicines=frozenset(e["given"].get("medicines", ())),
                classes=frozenset(e["given"].get("classes", ())),
                routes=frozenset(ROUTE_BY_ALIAS[r.lower()].code for r in e["given"]["routes"])
                if "routes" in e["given"]
                else None,
                days_before=e.get("days_before", 0),
                after=bool(e.get("after")),
                latest_hours=e.get("latest_hours"),
                factor=e["factor"],
                values=frozenset(e["values"]),
                words=_words(e["words"]),
                source=e["source"],
            )
            for e in data["companions"]
        ),
        monitoring=tuple(
            Monitoring(
                what=e["what"],
                classes=frozenset(e.get("classes", ())),
                medicines=frozenset(e.get("medicines", ())),
                measures=frozenset(e["measures"]),
                words=_words(e["words"]),
                source=e["source"],
            )
            for e in data["monitoring"]
        ),
    )


CARE = _load()
# The medicines whose daily dose a requirement's threshold is compared with, and the classes premedication is of.
_DOSED = frozenset(c.medicine for c in CARE.companions if c.threshold is not None)
_PREMEDICATING = frozenset(CARE.premedication_classes) | {c for p in CARE.premedication for c in p.classes}


def _is(medicine: Medicine, names: Iterable[str] = (), classes: Iterable[str] = ()) -> bool:
    """Whether ``medicine`` is one of ``names`` (by its identities) or of one of ``classes``."""
    return not set(identities(medicine)).isdisjoint(names) or not medicine.classes.isdisjoint(classes)


def _class_words(classes: Iterable[str]) -> str:
    """Classes as a sentence writes them: `corticosteroid, H1 antihistamine`."""
    return ", ".join(re.sub(r"\bh(\d)\b", r"H\1", c.replace("-", " ")) for c in classes)


def _days_text(days: Sequence[int]) -> str:
    return f"day {days[0]}" if len(days) == 1 else "days " + ", ".join(str(d) for d in days)


class _Prose:
    """What a regimen writes about each medicine, gathered once: the texts and labels of notes on it."""

    def __init__(self, regimen: ir.Regimen) -> None:
        self._notes: dict[str, dict[int, str]] = {}
        for group in regimen.cycles():
            for note in group.notes:
                if note.medicine is not None:
                    for name in identities(note.medicine):
                        self._notes.setdefault(name, {})[note.span.start] = f"{note.label or ''}\n{note.text}"
        self._found: dict[tuple[str, re.Pattern[str]], bool] = {}

    def states(self, words: re.Pattern[str], admin: ir.Administration) -> bool:
        """Whether ``admin``'s instructions, or a note on its medicine in any cycle, use ``words``."""
        if admin.instructions and words.search(admin.instructions):
            return True
        for name in identities(admin.medicine):
            key = (name, words)
            if key not in self._found:
                self._found[key] = any(words.search(t) for t in self._notes.get(name, {}).values())
            if self._found[key]:
                return True
        return False


class _Texts:
    """Texts care may be stated in, each pattern searched once: a group's notes, or what is around its part."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = tuple(texts)
        self._found: dict[re.Pattern[str], bool] = {}

    def states(self, words: re.Pattern[str]) -> bool:
        """Whether any of the texts uses ``words``."""
        if words not in self._found:
            self._found[words] = any(words.search(t) for t in self._texts)
        return self._found[words]


@dataclass(frozen=True, slots=True)
class _Scope:
    """A cycle group with what is written around it: its notes, the supports and overviews of its part and regimen."""

    group: ir.CycleGroup
    supports: tuple[ir.Support, ...]
    own: _Texts  # the group's notes
    around: _Texts  # the notes of the supports and the overviews of its part and regimen
    prose: _Prose

    def factors(self) -> Iterator[ir.SupportFactor]:
        """Yield the supportive-care factors around the group."""
        for support in self.supports:
            yield from support.factors

    def states(self, words: re.Pattern[str]) -> bool:
        """Whether the notes near the group, or the overviews around it, use ``words``.

        Factors are not read: a factor states a requirement by its code, not its words (the
        hypersensitivity factor's "routine premedication recommended" asks for premedication,
        and gives none).
        """
        return self.own.states(words) or self.around.states(words)


def _note_texts(notes: Iterable[ir.Note]) -> list[str]:
    return [f"{n.label or ''}\n{n.text}" for n in notes]


def _scopes(regimen: ir.Regimen) -> Iterator[_Scope]:
    prose = _Prose(regimen)
    for part in regimen.parts:
        metas = (part.meta, regimen.meta) if part.number is not None else (regimen.meta,)
        supports = (part.support, regimen.support) if part.number is not None else (regimen.support,)
        around = _Texts(
            [*_note_texts(n for s in supports for n in s.notes), *(m.overview for m in metas if m.overview)]
        )
        for group in part.cycles:
            yield _Scope(group, supports, _Texts(_note_texts(group.notes)), around, prose)


def _given(admin: ir.Administration) -> bool:
    """Whether a line is scheduled (not as needed)."""
    return not admin.prn


def _follows(other: ir.Administration, medicine: Medicine, direction: str) -> bool:
    """Whether ``other`` is timed ``direction`` (`before`, `after`) a dose of ``medicine``."""
    names = identities(medicine)
    return any(r.direction == direction and r.medicine is not None and _is(r.medicine, names) for r in other.relations)


class _Lines:
    """The scheduled lines of one cycle group, indexed by class and by day: each question asked of them is a look-up.

    Only what the data asks about is indexed: the classes of premedication, and the daily doses
    of the medicines a companion requirement has a threshold for.
    """

    def __init__(self, group: ir.CycleGroup) -> None:
        self.lines = [a for a in group.administrations if _given(a)]
        self._names: dict[str, list[int]] = {}  # each identity's lines, by position
        self._classes: dict[str, list[int]] = {}  # each class's lines, by position
        self._by_class: dict[str, dict[int, list[ir.Administration]]] = {}  # premedication classes, by day
        self._doses: dict[tuple[str, int], Decimal] = {}  # lines given to every patient: mg/m2 by medicine and day
        self._chosen: dict[tuple[str, int], list[tuple[ir.Administration, Decimal]]] = {}  # lines of a branch
        for position, line in enumerate(self.lines):
            names = identities(line.medicine)
            for name in names:
                self._names.setdefault(name, []).append(position)
            for cls in line.medicine.classes:
                self._classes.setdefault(cls, []).append(position)
            for cls in line.medicine.classes & _PREMEDICATING:
                by_day = self._by_class.setdefault(cls, {})
                for day in line.days:
                    by_day.setdefault(day, []).append(line)
            dosed = [n for n in names if n in _DOSED]
            amounts = _milligrams_per_m2(line) if dosed else {}
            for name in dosed:
                for day, amount in amounts.items():
                    if line.guard is None:
                        self._doses[name, day] = self._doses.get((name, day), Decimal(0)) + amount
                    else:
                        self._chosen.setdefault((name, day), []).append((line, amount))

    def of(self, names: Iterable[str] = (), classes: Iterable[str] = ()) -> list[ir.Administration]:
        """Return the lines of a medicine that is one of ``names`` or of one of ``classes``, in order."""
        found = {i for n in names for i in self._names.get(n, ())} | {
            i for c in classes for i in self._classes.get(c, ())
        }
        return [self.lines[i] for i in sorted(found)]

    def premedicated(self, admin: ir.Administration, day: int, cls: str) -> bool:
        """Whether a line of ``cls`` is given before ``admin``'s dose on ``day`` (that day or the day before)."""
        by_day = self._by_class.get(cls, {})
        return any(
            other is not admin and not other.exclusive_of(admin) and not _follows(other, admin.medicine, "after")
            for d in (day - 1, day)
            for other in by_day.get(d, ())
        )

    def day_dose(self, admin: ir.Administration, day: int) -> Decimal:
        """Return the mg/m2 of ``admin``'s medicine a patient given ``admin`` is given on ``day``, over every line."""
        name = identities(admin.medicine)[0]
        chosen = (amount for o, amount in self._chosen.get((name, day), ()) if not o.exclusive_of(admin))
        return self._doses.get((name, day), Decimal(0)) + sum(chosen, Decimal(0))


def _first_groups(regimen: ir.Regimen) -> dict[str, ir.CycleGroup]:
    """Return the first cycle group (in the file's order) giving each medicine, by name."""
    found: dict[str, ir.CycleGroup] = {}
    for group in regimen.cycles():
        for admin in group.administrations:
            found.setdefault(admin.medicine.name, group)
    return found


@rule(
    "SUP010",
    "premedication-missing",
    Severity.WARNING,
    "a medicine that needs premedication given without it",
)
def premedication_missing(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find medicines given without the premedication their data sheets require before each dose.

    What it does: for each medicine that needs premedication against hypersensitivity or
    infusion reactions (PACLItaxel: a corticosteroid, an H1 antihistamine and an H2 antagonist;
    DOCEtaxel: a corticosteroid; riTUXimab: paracetamol and an antihistamine; obinutuzumab:
    paracetamol, and in its first cycle a corticosteroid and an antihistamine too), looks on
    each of its days for a scheduled line of each class, on that day or the day before and not
    timed after it. The line of the medicine is labelled, naming the classes missing. A cycle
    whose notes, its part's or regimen's support notes or overview, the medicine's instructions
    or a note on the medicine say how premedication is given ("pre-medications as per the local
    protocol") is taken to give it.

    Why it matters: the premedication is part of the dose. PACLItaxel's boxed warning reports
    fatal anaphylaxis; every patient is premedicated. A regimen that leaves it out leaves each
    prescriber to remember it. The medicines and classes are data, each with its source:
    Taxol (paclitaxel) and Taxotere (docetaxel) US prescribing information, Rituxan
    (rituximab) section 2.1, Gazyva (obinutuzumab) section 2.2 (regdsl/model/data/care.json).

    Example:
        cycle 1: 21 days
          dexamethasone 20 mg oral day 1 60 min before PACLItaxel supportive
          PACLItaxel 175 mg/m2 IV day 1 over 3 hours

    Use instead:
        cycle 1: 21 days
          dexamethasone 20 mg oral day 1 60 min before PACLItaxel supportive
          loratadine 10 mg oral day 1 60 min before PACLItaxel supportive
          famotidine 20 mg oral day 1 60 min before PACLItaxel supportive
          PACLItaxel 175 mg/m2 IV day 1 over 3 hours
    """
    regimen = ctx.regimen
    first = _first_groups(regimen)
    seen: set[tuple[int, str]] = set()
    for scope in _scopes(regimen):
        group = scope.group
        if scope.states(CARE.premedication_words):
            continue
        lines = _Lines(group)
        for admin in lines.of({p.medicine for p in CARE.premedication}):
            needs = [
                p
                for p in CARE.premedication
                if _is(admin.medicine, (p.medicine,)) and (not p.first_cycle or first.get(admin.medicine.name) is group)
            ]
            missing: dict[str, list[int]] = {}
            for need in needs:
                for cls in need.classes:
                    for day in admin.days:
                        if not lines.premedicated(admin, day, cls):
                            missing.setdefault(cls, []).append(day)
            if not missing or scope.prose.states(CARE.premedication_words, admin):
                continue
            key = (admin.span.start, ",".join(sorted(missing)))
            if key in seen:
                continue
            seen.add(key)
            days = sorted({d for found in missing.values() for d in found})
            yield premedication_missing.finding(
                admin.span,
                f"{admin.medicine.display} needs premedication before each dose, but {group.heading} gives no "
                f"{_class_words(missing)} before it on {_days_text(days)}",
                label=f"no {_class_words(missing)} before {admin.medicine.display}",
                help="schedule the premedication before the medicine on its days (or say in a note how it is given)",
                notes=tuple(dict.fromkeys(n.source for n in needs)),
            )


@rule(
    "SUP011",
    "risk-without-premedication",
    Severity.WARNING,
    "a high hypersensitivity risk declared with no premedication",
)
def hypersensitivity_without_premedication(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find a declared high hypersensitivity risk that no line answers.

    What it does: when the regimen (or a part) declares `Hypersensitivity / Infusion related
    reaction risk: High - routine premedication recommended`, looks in its cycles for a
    scheduled premedication: a corticosteroid, an H1 antihistamine, an H2 antagonist or an
    analgesic (as-needed lines do not count), or a note saying how premedication is given.
    The factor line is labelled.

    Why it matters: the factor is the regimen's own statement that every patient is to be
    premedicated (the NZ SACT Regimen Library's factor, SNOMED CT 421961002); a regimen that
    states it and gives nothing contradicts itself, and the page shows a risk with no answer.

    Example:
        cycle 1: 21 days
          PACLItaxel 175 mg/m2 IV day 1 over 3 hours

        support
          Hypersensitivity / Infusion related reaction risk: High - routine premedication recommended

    Use instead: the premedication on the cycles, such as `dexamethasone 20 mg oral day 1 60
    min before PACLItaxel`, `loratadine 10 mg oral day 1 60 min before PACLItaxel` and
    `famotidine 20 mg oral day 1 60 min before PACLItaxel`.
    """
    regimen = ctx.regimen
    scopes: list[tuple[ir.Support, ir.Meta, Sequence[ir.CycleGroup]]] = [
        (regimen.support, regimen.meta, regimen.cycles())
    ]
    scopes += [(part.support, part.meta, part.cycles) for part in regimen.parts]
    for support, meta, groups in scopes:
        overviews = tuple(m.overview for m in (meta, regimen.meta) if m.overview)
        for factor in support.factors:
            if factor.factor is None or factor.factor.code != CARE.hypersensitivity_factor:
                continue
            if factor.value is None or factor.value.code != CARE.high:
                continue
            given = any(
                _given(a) and not a.medicine.classes.isdisjoint(CARE.premedication_classes)
                for g in groups
                for a in g.administrations
            )
            texts = [*_note_texts(support.notes), *overviews, *_note_texts(n for g in groups for n in g.notes)]
            stated = any(CARE.premedication_words.search(t) for t in texts)
            if given or stated:
                continue
            yield hypersensitivity_without_premedication.finding(
                factor.span,
                f"the hypersensitivity risk is {factor.value_text}, but no cycle gives a premedication",
                label=f"{factor.factor_text}: {factor.value_text}",
                help=f"schedule the premedication ({_class_words(CARE.premedication_classes)}) before the medicine, "
                "or correct the factor",
                notes=(CARE.premedication_source,),
            )


def _milligrams_per_m2(admin: ir.Administration) -> dict[int, Decimal]:
    """Return what ``admin`` gives on each of its days, in mg/m2 (none: not by body surface in mass, or a rate)."""
    unit = admin.dose.unit
    scale = _MILLIGRAMS.get(unit.absolute)
    if unit.basis is not Basis.PER_M2 or scale is None or unit.per_minutes not in (None, 1440):
        return {}
    if unit.per_minutes == 1440:
        return dict.fromkeys(admin.days, admin.dose.amount * scale)
    return {day: admin.dose.amount * scale * count for day, count in doses_by_day(admin).items()}


def _by_route(companion: Companion, other: ir.Administration) -> bool:
    """Whether ``other`` is given by a route the companion may be given by."""
    return companion.routes is None or (other.route is not None and other.route.code in companion.routes)


def _needing(companion: Companion, lines: _Lines) -> Iterator[tuple[ir.Administration, list[int]]]:
    """Yield each line of the companion's medicine in the group, with the days its dose reaches the threshold."""
    for admin in lines.of((companion.medicine,)):
        threshold = companion.threshold
        days = [d for d in admin.days if threshold is None or lines.day_dose(admin, d) >= threshold.milligrams]
        if days:
            yield admin, days


class _Cover:
    """The days a group gives a companion on: those of lines every patient is given, and the lines of a branch."""

    def __init__(self, companion: Companion, lines: _Lines) -> None:
        providers = [o for o in lines.of(companion.medicines, companion.classes) if _by_route(companion, o)]
        self.providers = providers
        self._days = sorted({d for o in providers if o.guard is None for d in o.days})
        self._chosen = [o for o in providers if o.guard is not None]

    def days(self, admin: ir.Administration) -> list[int]:
        """Return the days, in order, a patient given ``admin`` is given the companion on."""
        extra = {d for o in self._chosen if not o.exclusive_of(admin) for d in o.days}
        return sorted({*self._days, *extra}) if extra else self._days


def _first_from(days: Sequence[int], day: int, until: int | None) -> int | None:
    """Return the first of the sorted ``days`` from ``day`` on, before ``until`` (None: none)."""
    i = bisect.bisect_left(days, day)
    return days[i] if i < len(days) and (until is None or days[i] < until) else None


def _next(days: Sequence[int], day: int) -> int | None:
    """Return the first of the sorted ``days`` after ``day`` (None: none)."""
    i = bisect.bisect_right(days, day)
    return days[i] if i < len(days) else None


def _declared(companion: Companion, scope: _Scope, admin: ir.Administration) -> bool:
    """Whether the factor or the prose near the line states the companion."""
    factor = any(
        f.factor is not None
        and f.factor.code == companion.factor
        and f.value is not None
        and f.value.code in companion.values
        for f in scope.factors()
    )
    return factor or scope.states(companion.words) or scope.prose.states(companion.words, admin)


def _missing(companion: Companion, cover: _Cover, admin: ir.Administration, days: list[int]) -> list[int]:
    """Return the days of ``days`` on which ``admin`` is given without the companion."""
    given = cover.days(admin)
    own = sorted(admin.days)
    if companion.after:
        return [d for d in days if _first_from(given, d, _next(own, d)) is None]
    return [d for d in days if _first_from(given, d - companion.days_before, d + 1) is None]


def _companion_findings(check: Rule, ctx: RuleContext) -> Iterator[Diagnostic]:
    """Yield the lines of a medicine whose days lack what ``check``'s companions say must be given on them."""
    seen: set[int] = set()
    for scope in _scopes(ctx.regimen):
        lines = _Lines(scope.group)
        reported: set[str] = set()  # one finding per medicine and cycle group, at its first line
        for companion in (c for c in CARE.companions if c.code == check.code.code):
            cover = _Cover(companion, lines)
            for admin, days in _needing(companion, lines):
                if admin.span.start in seen or admin.medicine.name in reported or _declared(companion, scope, admin):
                    continue
                missing = _missing(companion, cover, admin, days)
                if not missing:
                    continue
                seen.add(admin.span.start)
                reported.add(admin.medicine.name)
                dose = f" at {companion.threshold.text} a day or more" if companion.threshold else ""
                notes = (companion.source, *((companion.threshold.source,) if companion.threshold else ()))
                yield check.finding(
                    admin.span,
                    f"{admin.medicine.display}{dose} needs {companion.what}, but {scope.group.heading} gives none "
                    f"{'after' if companion.after else 'on'} {_days_text(missing)}",
                    label=f"no {companion.what} {'after' if companion.after else 'with'} {admin.medicine.display}",
                    help=f"schedule the {companion.what} with the medicine (or state it in a note"
                    f"{' or its supportive-care factor' if companion.factor else ''})",
                    notes=notes,
                )


@rule("SUP012", "hydration-missing", Severity.WARNING, "a medicine given without the hydration it needs")
def hydration_missing(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find cISplatin given without hydration.

    What it does: for each line of a medicine the data says needs hydration (cISplatin, at any
    dose), looks on each of its days, or the day before, for intravenous sodium chloride; a
    `Hydration: Routine hydration recommended` factor, or a note, instruction or overview that speaks of
    hydration, states it too. The medicine's line is labelled.

    Why it matters: hydration before and after every dose is how cISplatin nephrotoxicity is
    prevented (cisplatin prescribing information, US label sections 2 and 5.1; New Zealand data
    sheets section 4.2; regdsl/model/data/care.json). Left off the regimen, it is left to memory.

    Example:
        cycle 1: 21 days
          cISplatin 75 mg/m2 IV day 1 over 60 min

    Use instead:
        cycle 1: 21 days
          "sodium chloride" 0.9 % IV day 1 over 60 min in 1000 mL before cISplatin supportive
          cISplatin 75 mg/m2 IV day 1 over 60 min
          "sodium chloride" 0.9 % IV day 1 over 60 min in 1000 mL after cISplatin supportive
    """
    return _companion_findings(hydration_missing, ctx)


@rule("SUP013", "uroprotection-missing", Severity.WARNING, "a medicine given without the uroprotection it needs")
def uroprotection_missing(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find ifosfamide and high-dose cyclophosphamide given without mesna.

    What it does: for each line of ifosfamide (any dose) or cyclophosphamide at 1500 mg/m2 a day
    or more (the lines of one day added up), looks on each of its days for a scheduled
    uroprotectant (mesna); a `Mesna uroprotection: Routine mesna uroprotection recommended`
    factor, or a note, instruction or overview on mesna, states it too. The medicine's line is
    labelled.

    Why it matters: acrolein, a metabolite of both, causes haemorrhagic cystitis; mesna given
    with each dose prevents it (Ifex prescribing information, sections 2 and 5.2; ASCO 2008
    guideline on chemotherapy protectants, Hensley et al., J Clin Oncol 2009, PMID 19018081;
    regdsl/model/data/care.json).

    Example:
        cycle 1: 21 days
          ifosfamide 1800 mg/m2 IV days 1 to 5 over 60 min

    Use instead:
        cycle 1: 21 days
          mesna 360 mg/m2 IV days 1 to 5 15 min before ifosfamide supportive
          ifosfamide 1800 mg/m2 IV days 1 to 5 over 60 min
          mesna 360 mg/m2 IV days 1 to 5 4 hours after ifosfamide supportive
    """
    return _companion_findings(uroprotection_missing, ctx)


@rule("SUP014", "rescue-missing", Severity.ERROR, "a high dose given without the folate rescue it needs")
def rescue_missing(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find high-dose methotrexate given without folate (leucovorin) rescue.

    What it does: for each line of methotrexate at 500 mg/m2 a day or more (the lines of one
    day added up), looks for a scheduled folate rescue (calcium folinate, leucovorin) starting
    on or after that day; a note, instruction or overview naming leucovorin, folinic acid or
    calcium folinate states it too. The methotrexate line is labelled.

    Why it matters: high-dose methotrexate without rescue is lethal for every patient; the rescue
    starts 24 to 36 hours after the start of the infusion (Howard et al., Oncologist 2016,
    PMID 27496039; Cohen and Wolff, Pediatr Blood Cancer 2014, PMID 24038885;
    regdsl/model/data/care.json).

    Example:
        cycle 1: 21 days
          methotrexate 3 g/m2 IV day 1 over 3 hours

    Use instead:
        cycle 1: 21 days
          methotrexate 3 g/m2 IV day 1 over 3 hours
          "calcium folinate" 15 mg IV day 2 after methotrexate supportive
    """
    return _companion_findings(rescue_missing, ctx)


@rule(
    "SUP015",
    "rescue-timing",
    Severity.WARNING,
    "a folate rescue that may start before its medicine, or too late after it",
)
def rescue_timing(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find folate rescue timed before high-dose methotrexate, or later than the window after it.

    What it does: for each scheduled folate rescue (calcium folinate, leucovorin) in a cycle
    with methotrexate at 500 mg/m2 a day or more, labels the rescue line when it is timed
    before the methotrexate, is given on the day of the methotrexate without being timed after
    it, or starts on a day too late for the window: more than 36 hours after the start of the
    methotrexate on any reading of the days.

    Why it matters: given before or with the methotrexate, folinate rescues the tumour as well
    and the treatment fails; started later than 36 hours after the start of the infusion,
    severe toxicity rises (Cohen and Wolff, Pediatr Blood Cancer 2014, PMID 24038885; Howard et
    al., Oncologist 2016, PMID 27496039; regdsl/model/data/care.json).

    Example:
        cycle 1: 21 days
          "calcium folinate" 15 mg IV day 1 supportive
          methotrexate 3 g/m2 IV day 1 over 3 hours

    Use instead:
        cycle 1: 21 days
          methotrexate 3 g/m2 IV day 1 over 3 hours
          "calcium folinate" 15 mg IV day 2 after methotrexate supportive
    """
    seen: set[int] = set()
    for scope in _scopes(ctx.regimen):
        lines = _Lines(scope.group)
        for companion in (c for c in CARE.companions if c.code == rescue_missing.code.code):
            needing = list(_needing(companion, lines))
            for rescue in _Cover(companion, lines).providers:
                found = [(a, days) for a, days in needing if not rescue.exclusive_of(a)]
                if rescue.span.start in seen or not found:
                    continue
                medicine = found[0][0].medicine
                problem = _rescue_problem(companion, rescue, medicine, sorted({d for _, days in found for d in days}))
                if problem is None:
                    continue
                seen.add(rescue.span.start)
                yield rescue_timing.finding(
                    rescue.span,
                    f"this {companion.what} {problem}",
                    label=f"{rescue.medicine.display} {problem}",
                    help=f"start the {companion.what} after the {medicine.display} and within "
                    f"{companion.latest_hours} hours of its start: `after {medicine.display}` next day",
                    notes=(companion.source,),
                )


def _rescue_problem(companion: Companion, rescue: ir.Administration, medicine: Medicine, days: list[int]) -> str | None:
    """Return what is wrong with the timing of ``rescue`` after the doses of ``medicine`` on ``days``, if anything."""
    name = medicine.display
    given = sorted(rescue.days)
    if _follows(rescue, medicine, "before") or (given and given[-1] < days[0]):
        return f"starts before {name}"
    for day in days:
        first = _first_from(given, day, _next(days, day))
        if first is None:
            continue
        if first == day and not _follows(rescue, medicine, "after"):
            return f"is given on the day of {name} (day {day}) without being timed after it, so it may start before it"
        if companion.latest_hours is not None and (first - day - 1) * 24 > companion.latest_hours:
            return f"starts on day {first}, more than {companion.latest_hours} hours after the {name} of day {day}"
    return None


@rule("SUP016", "monitoring-missing", Severity.WARNING, "a medicine given without the monitoring it requires")
def monitoring_missing(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find medicines whose required monitoring the regimen never mentions.

    What it does: for each requirement of the data (left ventricular ejection fraction with
    anthracyclines, trastuzumab and pERTUZumab; lung function with bleomycin; hepatitis B
    screening before anti-CD20 antibodies), looks for it in the regimen: a condition on its
    measure (`proceed if LVEF at least 50 %`, `if LVEF under 50 %:`), or prose anywhere in
    the file (a `note Monitoring` in `support`, an overview, an instruction) or a supportive-care
    factor that names it. The first line of the medicine is labelled.

    Why it matters: the monitoring is what catches the toxicity before it is irreversible:
    cardiomyopathy with anthracyclines and anti-HER2 antibodies, pulmonary fibrosis with
    bleomycin, fatal hepatitis B reactivation with anti-CD20 antibodies (the boxed warnings and
    sections of their US prescribing information; ESC 2022 cardio-oncology guidelines, PMID
    36017568; regdsl/model/data/care.json).

    Example:
        cycles 1 to 4: 21 days
          DOXOrubicin 60 mg/m2 IV day 1 over 15 min

    Use instead:
        cycles 1 to 4: 21 days
          DOXOrubicin 60 mg/m2 IV day 1 over 15 min

        support
          note Monitoring
            | LVEF (echocardiogram or MUGA) before the first cycle, and as clinically indicated.
    """
    regimen = ctx.regimen
    texts = [p.text for p in regimen.prose]
    for support in (regimen.support, *(part.support for part in regimen.parts)):
        texts += [f"{f.factor_text}: {f.value_text}" for f in support.factors]
        texts += [n.label or "" for n in support.notes]
    measured = {name for name, _ in regimen.thresholds}
    first: dict[int, ir.Administration] = {}  # each requirement's first line
    known: dict[str, tuple[int, ...]] = {}  # the requirements of each medicine, by name
    for group in regimen.cycles():
        for line in group.administrations:
            if not _given(line):
                continue
            if line.medicine.name not in known:
                known[line.medicine.name] = tuple(
                    i for i, need in enumerate(CARE.monitoring) if _is(line.medicine, need.medicines, need.classes)
                )
            for i in known[line.medicine.name]:
                first.setdefault(i, line)
    for i, need in enumerate(CARE.monitoring):
        admin = first.get(i)
        if admin is None or not measured.isdisjoint(need.measures) or any(need.words.search(t) for t in texts):
            continue
        yield monitoring_missing.finding(
            admin.span,
            f"{admin.medicine.display} needs {need.what}, which the regimen does not mention",
            label=f"{admin.medicine.display} needs {need.what}",
            help=f"say when {need.what} is checked, in a `note Monitoring` under `support`",
            notes=(need.source,),
        )
