"""``regdsl import`` of the core form: a plain R4 ``PlanDefinition`` written by ``regdsl export --profile core``.

The core form carries every fact of a regimen in an element or a regdsl extension
(``fhir.core``), so the import reads it back as the language, never from the pages' words
(``textEquivalent``, ``description``, the narratives): the heading from the plan's elements
and its ``field``, ``regimen-*`` and ``footnote`` extensions, parts, cycle groups and lines
from the nested actions, each line's medicine, dose, route and frequency from its contained
``ActivityDefinition`` (read as the cca import reads them, ``fhir.reading``), its days from
``timing-daysOfCycle``, its relations from its ``relation`` extensions, a choice from the
cycle's ``cycle-choice`` and the ``line-branch`` of its lines and notes, ``same as`` from
``cycle-same-as`` (a line ``line-copied-from`` marks is the copy's), and the plan from its
decision, limit and stop actions. A condition is its ``text/x-regdsl`` expression, parsed
back by the grammar before it is written (``FHR015`` when it does not parse); a relation
that names no anchor the language has is ``FHR016``; a name written bare is checked first,
any other text quoted. The text is laid out by ``syntax.layout``, as the cca import's is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from regdsl.diagnostics import Sink
from regdsl.diagnostics import codes as C
from regdsl.fhir import core, reading
from regdsl.fhir.jsonpos import Node
from regdsl.fhir.reading import NAME, PLAN_ELEMENTS, Reader, cycle_heading, days_text, regimen_id
from regdsl.model import ast
from regdsl.model.medicines import MedicineTable
from regdsl.source import SourceFile, find_hidden
from regdsl.syntax.layout import format_source
from regdsl.syntax.parser import parse

__all__ = ["read_core"]

# What the import writes bare is first checked to be what the language reads there; every other text is quoted.
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*")  # a regimen's id, an alias, a line's name, a footnote
_STATUSES = frozenset(["draft", "provisional", "published", "discontinued"])
_EVENTS = frozenset(["surgery", "radiotherapy", "HSCT"])  # the outside events a relation may be timed from
_DIGITS, _DATE = re.compile(r"\d{1,12}"), re.compile(r"\d{4}-\d{2}-\d{2}")  # a PMID, an access date
_LABEL_TEXT = re.compile(r"[^\n\r\x00-\x1f\x7f]+")  # a note's label: one line
_FACTOR = re.compile(r"[^:\n]+: [^\n]+")  # a support factor's line
_SUPPRESSION = re.compile(r"regdsl: ?ignore\[[A-Za-z0-9, -]*\](?: -- [^\n\r\x00-\x1f\x7f]*)?")
# The extensions the import reads, and the elements of each kind of node it reads or leaves out by design (ids,
# narratives, the pages' words: textEquivalent, description, titles, the windows a line's actions solve).
_KNOWN_EXTENSIONS = frozenset(
    [core.DAYS_OF_CYCLE]
    + [
        v
        for k, v in vars(core).items()
        if k.isupper() and isinstance(v, str) and v.startswith(core.EXTENSIONS) and v != core.EXTENSIONS
    ]
)
_PLAN = PLAN_ELEMENTS | {"usage"}  # the overview
_PART = frozenset(
    ["extension", "id", "title", "textEquivalent", "documentation", "relatedAction", "selectionBehavior", "action"]
)
_CYCLE = frozenset(
    [
        "extension",
        "id",
        "prefix",
        "title",
        "textEquivalent",
        "condition",
        "relatedAction",
        "timingTiming",
        "selectionBehavior",
        "action",
    ]
)
_LINE = frozenset(
    [
        "extension",
        "id",
        "title",
        "description",
        "textEquivalent",
        "condition",
        "relatedAction",
        "action",
        "timingTiming",
        "definitionCanonical",
    ]
)
_ACTIVITY = frozenset(
    ["resourceType", "id", "text", "name", "status", "usage", "kind", "productCodeableConcept", "quantity", "dosage"]
)
_DOSAGE = frozenset(["text", "timing", "route", "doseAndRate", "asNeededBoolean", "maxDosePerAdministration"])
_UNITS = {"wk": "weeks", "mo": "months", "a": "years"}  # a limit's boundsDuration
_TEXT_FIELDS = ("name", "title", "subtitle", "description", "version", "url", "publisher", "copyright")
_DATE_KEYS = frozenset(["date", "approved", "last-reviewed"])
_HEADING_KEYS = frozenset([*_TEXT_FIELDS, "author", "code", "medicine-code-system", *_DATE_KEYS])
_DATE_FIELDS = (("date", "date"), ("approvalDate", "approved"), ("lastReviewDate", "last-reviewed"))


def read_core(root: Node, source: SourceFile, sink: Sink, medicines: MedicineTable) -> tuple[str, str] | None:
    """Read a core PlanDefinition into a regimen's id and its .reg text; None when nothing can be written.

    A product is the medicine of ``medicines`` (the target library's, then the built-in table) its
    display names, else its code.
    """
    return _CoreReader(source, sink, medicines).regimen(root)


@dataclass
class _Choice:
    """A cycle's choice, read from its ``cycle-choice`` extension."""

    kind: str
    variable: str | None
    branches: list[str | None]  # each branch's condition (None: otherwise)
    lines: dict[int, list[str]] = field(default_factory=dict)  # the statements of each branch
    placed: bool = False  # whether its block's place is written


class _Said:
    """The regdsl extensions of one element, by url: each read as the type it is written in, else not at all."""

    def __init__(self, node: Node) -> None:
        self.by_url: dict[str, list[Node]] = {}
        for item in node.elements("extension"):
            url = item.text("url")
            if url is not None:
                self.by_url.setdefault(url, []).append(item)

    def values(self, url: str, kind: str) -> list[Node]:
        """Return the ``value[kind]`` of each extension ``url`` that has one."""
        found = [item.child("value" + kind) for item in self.by_url.get(url, [])]
        return [value for value in found if value is not None]

    def text(self, url: str) -> str | None:
        found = [v.value for v in self.values(url, "String") if isinstance(v.value, str)]
        return found[0] if found else None

    def texts(self, url: str) -> list[str]:
        return [v.value for v in self.values(url, "String") if isinstance(v.value, str)]

    def code(self, url: str) -> str | None:
        found = [v.value for v in self.values(url, "Code") if isinstance(v.value, str)]
        return found[0] if found else None

    def flag(self, url: str) -> bool:
        return any(v.value is True for v in self.values(url, "Boolean"))

    def integer(self, url: str) -> int | None:
        found = [reading.whole(v, -reading.MOST) for v in self.values(url, "Integer")]
        return next((n for n in found if n is not None), None)

    def minutes(self, url: str) -> int | None:
        """Return a ``valueDuration`` in minutes (``code`` ``min``), else None."""
        for value in self.values(url, "Duration"):
            if value.text("code") == "min":
                return _minutes(value)
        return None

    def nested(self, url: str) -> list[tuple[Node, dict[str, Node]]]:
        """Return each complex extension ``url``: the extension, and its parts by name (the first of each)."""
        out = []
        for item in self.by_url.get(url, []):
            parts: dict[str, Node] = {}
            for sub in item.elements("extension"):
                name = sub.text("url")
                if name is not None and name not in parts:
                    parts[name] = sub
            out.append((item, parts))
        return out


def _part_text(parts: dict[str, Node], name: str) -> str | None:
    part = parts.get(name)
    return part.text("valueString") if part is not None else None


def _part_code(parts: dict[str, Node], name: str) -> str | None:
    part = parts.get(name)
    return part.text("valueCode") if part is not None else None


def _minutes(node: Node | None) -> int | None:
    if node is None:
        return None
    value = node.child("value")
    return reading.whole(value, 0) if value is not None else None


def _time(minutes: int) -> str:
    """Write minutes as a .reg file does: whole hours from 2 hours on, else minutes (`60 min`, `8 hours`)."""
    return f"{minutes // 60} hours" if minutes >= 120 and minutes % 60 == 0 else f"{minutes} min"


def _medicine_word(name: str) -> str:
    return name if NAME.fullmatch(name) else reading.quoted(name)


class _CoreReader(Reader):
    """Reads one core PlanDefinition into statements, reporting into ``sink``."""

    def __init__(self, source: SourceFile, sink: Sink, medicines: MedicineTable) -> None:
        super().__init__(source, sink)
        self.medicines = medicines
        self.by_code = {m.nzmt: m for m in medicines.medicines if m.nzmt is not None}

    def said(self, node: Node) -> _Said:
        """Return the extensions of ``node``, reporting (once) each extension the import does not know."""
        found = _Said(node)
        if node.start not in self.seen:
            self.seen.add(node.start)
            for url, items in found.by_url.items():
                if "/" in url and url not in _KNOWN_EXTENSIONS:  # a complex one's parts have relative urls
                    for item in items:
                        self.find(
                            C.FHR_NOT_READ,
                            item,
                            f"the extension {url[:100]} is not one the import reads; it is left out",
                        )
        return found

    # -- conditions ----------------------------------------------------------------------

    def condition(self, node: Node | None) -> str | None:
        """Return a condition's ``text/x-regdsl`` expression if the grammar parses it as one, else None (reported)."""
        expression = node.child("expression") if node is not None else None
        text = expression.text("expression") if expression is not None else None
        language = expression.text("language") if expression is not None else None
        where = expression or node
        if where is None:
            return None
        if text is None or language != core.LANGUAGE:
            self.find(C.FHR_CORE_CONDITION, where, f"the condition has no {core.LANGUAGE} expression; it is left out")
            return None
        if not _parses(text):
            self.find(
                C.FHR_CORE_CONDITION,
                where,
                f"the expression {text[:80]!r} is not a condition of the language; it is left out",
                help="write the condition as a .reg file writes it: `response in (CR, CRi)`, `CrCl under 30 mL/min`",
            )
            return None
        return text

    def conditions(self, action: Node) -> list[str] | None:
        """Return the action's applicability conditions; None if one cannot be read."""
        found = []
        for item in action.elements("condition"):
            text = self.condition(item)
            if text is None:
                return None
            found.append(text)
        return found

    def checked(self, node: Node, text: str | None, pattern: re.Pattern[str], what: str) -> str | None:
        """Return ``text`` if it is a ``what`` of the language (``pattern``), else None (reported, when given)."""
        if text is None:
            return None
        if _bare(text, pattern):
            return text
        self.lost(node, f"{what} {text[:60]!r} is not one of the language")
        return None

    # -- the regimen ---------------------------------------------------------------------

    def regimen(self, root: Node) -> tuple[str, str] | None:
        name = root.text("name") or root.text("title")
        ident = root.text("id")
        if ident is None or not _ID.fullmatch(ident):
            ident = regimen_id(name or "")
        self.write(0, "# Imported by regdsl import from a core PlanDefinition (regdsl export --profile core).")
        self.write(0, "")
        self.write(0, f"regimen {ident}")
        self.seen: set[int] = set()
        self.unread(root, _PLAN)
        said = self.said(root)
        self.names: dict[str, str] = {}  # by medicine name (lower case), the word its first line writes it with
        self.heading(root, said)
        self.contained = {
            item.text("id") or "": item
            for item in root.elements("contained")
            if item.text("resourceType") == "ActivityDefinition"
        }
        for item, parts in said.nested(core.ALIAS):
            alias = self.checked(item, _part_text(parts, "alias"), _ID, "the alias")
            medicine = _part_text(parts, "medicine")
            if alias is not None and medicine is not None:
                self.blank()
                self.write(0, f"drug {alias} = {reading.quoted(medicine)}")
        if root.child("action") is None:
            self.find(C.FHR_MISSING, root, "no action: the regimen has no cycles")
        for action in root.elements("action"):
            ident_of = action.text("id")
            if ident_of == "plan":
                self.plan(action)
            elif ident_of == "support":
                self.support(action, 0)
            elif self.said(action).integer(core.PART_NUMBER) is not None:
                self.part(action)
            else:
                self.cycle(action, 0)
        self.citations(root.elements("relatedArtifact"), 0)
        text = "\n".join(self.out) + "\n"
        sink = Sink()
        laid_out = format_source(SourceFile.from_text(text, ident + ".reg"), sink)
        if laid_out is None:  # a text the reader should not have written: each finding says where
            for diagnostic in sink.items:
                self.lost(root, f"the imported text does not parse ({diagnostic.message})")
            return None
        return ident, laid_out

    def heading(self, root: Node, said: _Said) -> None:
        for key in _TEXT_FIELDS:
            if (text := root.text(key)) is not None:
                self.write(1, f"{key} {reading.quoted(text)}")
        for item in root.elements("identifier"):
            system, value = item.text("system"), item.text("value")
            if system is not None and value is not None:
                self.write(1, f"identifier {reading.quoted(system)} {reading.quoted(value)}")
        authors = root.elements("author")
        if authors and (author := authors[0].text("name")) is not None:
            self.write(1, f"author {reading.quoted(author)}")
        for key, word in _DATE_FIELDS:
            if (text := root.text(key)) is not None:
                self.date(root.child(key) or root, word, text, 1)
        successor = next((a for a in root.elements("relatedArtifact") if a.text("type") == "successor"), None)
        self.status(root, said, successor.text("display") if successor is not None else None, 1)
        self.fields(said, 1)
        self.cancer(root, 1, focus="focus")
        for context in root.elements("useContext"):
            concept = context.child("valueCodeableConcept")
            code = context.child("code")
            if concept is not None and code is not None and code.text("code") == "workflow":
                text = concept.text("text")
                if text is not None:
                    self.write(1, f"setting {self.term(concept, text)}")
        responses = self.checked(root, said.text(core.RESPONSES), _ID, "the response vocabulary")
        if responses is not None:
            self.write(1, f"responses {responses}")
        names = []
        for item in root.elements("relatedArtifact"):
            if item.text("type") == "documentation":
                footnote = self.checked(item, self.said(item).text(core.FOOTNOTE), _ID, "the footnote")
                if footnote is not None:
                    names.append(footnote)
        if names:
            self.write(1, "footnotes " + ", ".join(names))
        if (overview := root.text("usage")) is not None:
            self.write(1, "overview")
            self.prose(2, overview.split("\n"), root.child("usage") or root)

    def status(self, node: Node, said: _Said, replaced: str | None, depth: int) -> None:
        """Write the status as written (``regimen-status``); none when none was written."""
        status = said.code(core.STATUS_WRITTEN)
        if status is None:
            return
        if status == "superseded":
            by = self.checked(node, replaced, _ID, "the superseding regimen")
            self.write(depth, f"status superseded by {by}" if by is not None else "status superseded")
        elif status in _STATUSES:
            self.write(depth, f"status {status}")
        else:
            self.lost(node, f"the status {status[:40]!r} is not one of the language")

    def date(self, node: Node, key: str, text: str, depth: int) -> None:
        if _DATE.fullmatch(text):
            self.write(depth, f"{key} {text}")
        else:
            self.lost(node, f"the {key} {text[:40]!r} is not a date")

    def fields(self, said: _Said, depth: int) -> None:
        """Write the heading fields of ``field`` extensions (a text field quoted, a date as written)."""
        for item, parts in said.nested(core.FIELD):
            key, value = _part_text(parts, "key"), _part_text(parts, "value")
            if value is None or key not in _HEADING_KEYS:
                self.lost(item, "the heading field has no key of the language's headings, or no value")
            elif key in _DATE_KEYS:
                self.date(item, key, value, depth)
            else:
                self.write(depth, f"{key} {reading.quoted(value)}")

    def term(self, concept: Node, text: str) -> str:
        codings = concept.elements("coding")
        code = codings[0].text("code") if codings else None
        return reading.quoted(text) + (f" [{code}]" if code and code.isdigit() else "")

    def concepts(self, said: _Said, url: str) -> list[str]:
        out = []
        for concept in said.values(url, "CodeableConcept"):
            if (text := concept.text("text")) is not None:
                out.append(self.term(concept, text))
        return out

    def citations(self, artifacts: list[Node], depth: int) -> None:
        """Write each citation as a reference: its text, and its every url, PubMed id and access date."""
        for item in artifacts:
            if item.text("type") != "citation":
                continue
            display = item.text("display")
            if display is None:
                self.lost(item, "the citation has no display text")
                continue
            said = self.said(item)
            if depth:
                self.blank()
            self.write(depth, f"reference {reading.quoted(display)}")
            urls = said.texts(core.REFERENCE_URL) or [u for u in [item.text("url")] if u is not None]
            for url in urls:
                self.write(depth + 1, f"url {reading.quoted(url)}")
            for pmid in said.texts(core.REFERENCE_PMID):
                if self.checked(item, pmid, _DIGITS, "the PMID") is not None:
                    self.write(depth + 1, f"pmid {pmid}")
            for when in said.texts(core.REFERENCE_ACCESSED):
                if self.checked(item, when, _DATE, "the access date") is not None:
                    self.write(depth + 1, f"accessed {when}")

    # -- parts, cycles and lines ---------------------------------------------------------

    def part(self, action: Node) -> None:
        self.unread(action, _PART)
        said = self.said(action)
        number = said.integer(core.PART_NUMBER)
        self.blank()
        self.write(0, f"part {number} {reading.quoted(said.text(core.TITLE) or '')}")
        self.status(action, said, said.text(core.SUPERSEDED_BY), 1)
        self.fields(said, 1)
        for value in said.values(core.IDENTIFIER, "Identifier"):
            system, code = value.text("system"), value.text("value")
            if system is not None and code is not None:
                self.write(1, f"identifier {reading.quoted(system)} {reading.quoted(code)}")
        levels = self.concepts(said, core.FOCUS)
        if levels:
            self.write(1, "cancer " + " > ".join(levels))
        for setting in self.concepts(said, core.SETTING):
            self.write(1, f"setting {setting}")
        footnotes = [self.checked(action, f, _ID, "the footnote") for f in said.texts(core.FOOTNOTE)]
        if footnotes and None not in footnotes:
            self.write(1, "footnotes " + ", ".join(f for f in footnotes if f))
        overview = said.text(core.PROSE)
        if overview is not None:
            self.write(1, "overview")
            self.prose(2, overview.split("\n"), action)
        for item, parts in said.nested(core.PART_START):
            words = self.relation_words(item, parts, {})
            if words is not None:
                self.write(1, f"start {words}")
                text = _part_text(parts, "text")
                if text is not None:
                    self.prose(2, text.split("\n"), item)
        for item in action.elements("action"):
            if (item.text("id") or "").endswith("-support"):
                self.support(item, 1)
            else:
                self.cycle(item, 1)
        self.citations(action.elements("documentation"), 1)

    def cycle(self, action: Node, depth: int) -> None:
        first_text = action.text("prefix")
        first = int(first_text) if first_text is not None and first_text.isdigit() and len(first_text) < 7 else None
        if first is None:
            self.lost(action, "the action is no cycle group: it has no prefix, the number of its first cycle")
            return
        timing = self.cycle_timing(action)
        if timing is None:
            return
        repeat, days, count = timing
        self.unread(action, _CYCLE)
        said = self.said(action)
        self.blank()
        start = len(self.out)  # where this cycle's statements begin: its choices are written among them
        self.continuous = said.flag(core.CONTINUOUS)
        if self.continuous:
            self.write(depth, "continuous treatment")
        else:
            extend_node = repeat.child("durationMax")
            extend = reading.whole(extend_node, 1) if extend_node is not None else None
            more = f", may extend to {extend} days" if extend is not None else ""
            self.write(depth, f"{cycle_heading(first, count)}: {days} days{more}")
        inner = depth + 1
        choices = self.choices(said)
        lines = [a for a in action.elements("action") if a.child("definitionCanonical") is not None]
        for line in lines:
            definition = self.definition(line)
            if definition is not None and (name := self.medicine(definition, self.said(line))) is not None:
                self.names.setdefault(name[0].lower(), name[1])
        title = "" if said.flag(core.EMPTY_TITLE) else said.text(core.TITLE)
        if title is not None:
            self.write(inner, f"title {reading.quoted(title)}")
        same_as = said.integer(core.SAME_AS)
        if same_as is not None:
            self.write(inner, f"same as cycle {same_as}")
        for item, parts in said.nested(core.WITHOUT):
            medicine = _part_text(parts, "medicine")
            named = self.checked(item, _part_text(parts, "line"), _ID, "the line's name")
            if medicine is not None:
                word = _medicine_word(self.names.get(medicine.lower(), medicine))
                self.write(inner, f"without {word}" + (f" ({named})" if named else ""))
        for gate in action.elements("condition"):
            cond = self.condition(gate)
            if cond is not None:
                self.write(inner, f"proceed if {cond}")
                prose = self.said(gate).text(core.PROSE)
                if prose is not None:
                    self.prose(inner + 1, prose.split("\n"), gate)
        # A line `same as` copied here is given by it, and so are the observations and gaps of copied lines.
        own = [line for line in lines if self.said(line).text(core.COPIED_FROM) is None]
        ids = {a.text("id"): a for a in own}
        every = {line.text("id") for line in lines}
        for line in own:
            self.place(inner, line, self.line(line), choices)
        for item, parts in said.nested(core.NOTE):
            self.place(inner, item, self.note(item, parts), choices)
        observed: set[str] = set()
        for item in action.elements("action"):
            which = (item.text("id") or "").rpartition("-o")[2]  # one observation, after each line of its medicine
            related = next(iter(item.elements("relatedAction")), None)
            copied = related is not None and related.text("actionId") in every and related.text("actionId") not in ids
            if item.child("timingDuration") is not None and which not in observed and not copied:
                observed.add(which)
                self.observation(inner, item, ids)
        gaps: list[str] = []
        for line in own:
            for gap in self.gaps(line):
                if gap not in gaps:  # one gap, timed on each line of its medicine
                    gaps.append(gap)
        self.emit(inner, gaps)
        self.flush(choices, start)

    def place(self, depth: int, node: Node, statements: list[str] | None, choices: dict[str, _Choice]) -> None:
        """Write a line's or note's statements, in the block of the branch it is written in, if any."""
        if statements is None:
            return
        branch = self.branch(node, choices)
        if branch is None:
            self.emit(depth, statements)
            return
        key, number = branch
        choice = choices[key]
        if not choice.placed:
            choice.placed = True
            self.out.append(f"\x00{depth} {key}")  # where the choice goes: written once all its lines are read
        choice.lines.setdefault(number, []).extend(statements)

    def emit(self, depth: int, statements: list[str]) -> None:
        for statement in statements:
            self.write(depth, statement)

    def choices(self, said: _Said) -> dict[str, _Choice]:
        found: dict[str, _Choice] = {}
        for item, _ in said.nested(core.CHOICE):
            ident = kind = variable = None
            branches: list[str | None] = []
            for sub in item.elements("extension"):
                url = sub.text("url")
                if url == "id":
                    ident = sub.text("valueString")
                elif url == "kind":
                    kind = sub.text("valueCode")
                elif url == "variable":
                    variable = sub.text("valueString")
                elif url == "branch":
                    cond = sub.text("valueString")
                    branches.append(cond if cond is not None and _parses(cond) else "")
                elif url == "otherwise":
                    branches.append(None)
            valid = kind in {"if", "by"} and (variable is None or _ID.fullmatch(variable)) and "" not in branches
            if ident is None or not valid or (kind == "by") != (variable is not None) or not branches:
                self.find(C.FHR_CORE_CONDITION, item, "the choice has no valid id, kind, variable or branches")
                continue
            found[ident] = _Choice(kind or "if", variable, branches)
        return found

    def branch(self, node: Node, choices: dict[str, _Choice]) -> tuple[str, int] | None:
        """Return the choice and branch a line (its ``line-branch``) or a note (its parts) is written in."""
        if node.text("url") == core.NOTE:
            holder = node
        else:
            items = self.said(node).by_url.get(core.BRANCH, [])
            if not items:
                return None
            holder = items[0]
        parts = {sub.text("url"): sub for sub in holder.elements("extension")}
        if "choice" not in parts:
            return None
        key = parts["choice"].text("valueString")
        index_node = parts["branch"].child("valueInteger") if "branch" in parts else None
        index = reading.whole(index_node, 0) if index_node is not None else None
        if key is not None and key in choices and index is not None and index < len(choices[key].branches):
            return key, index
        self.find(C.FHR_CORE_CONDITION, holder, "the branch is not one of the cycle's choices")
        return None

    def flush(self, choices: dict[str, _Choice], start: int) -> None:
        """Write each choice's block at its placeholder after ``start``: ``if COND:`` or ``by VARIABLE:``..."""
        out: list[str] = []
        for row in self.out[start:]:
            if not row.startswith("\x00"):
                out.append(row)
                continue
            depth_text, key = row[1:].split(" ", 1)
            choice = choices[key]
            pad = "  " * int(depth_text)
            if choice.kind == "by":
                out.append(f"{pad}by {choice.variable}:")
                pad += "  "
            for number, cond in enumerate(choice.branches):
                body = choice.lines.get(number, [])
                if not body:
                    continue
                if cond is None:
                    out.append(f"{pad}otherwise:")
                elif choice.kind == "if":
                    out.append(f"{pad}if {cond}:")
                else:
                    out.append(f"{pad}{_by_test(cond, choice.variable or '')}:")
                out += [f"{pad}  {statement}" for statement in body]
        self.out[start:] = out

    def note(self, item: Node, parts: dict[str, Node]) -> list[str] | None:
        """Return a note's statement and its prose, or None (reported) when it has no text."""
        text = _part_text(parts, "text")
        label = _part_text(parts, "label")
        if text is None or (label is not None and not _bare(label, _LABEL_TEXT)):
            self.lost(item, "the note has no text, or a label that is not one line")
            return None
        return [f"note {label}" if label else "note", *self.indented(text, item)]

    def indented(self, text: str, node: Node) -> list[str]:
        """Return prose lines one level in (what may not be in a source left out, reported)."""
        self.out, kept = [], self.out
        self.prose(1, text.split("\n"), node)
        lines, self.out = self.out, kept
        return lines

    def definition(self, action: Node) -> Node | None:
        target = action.text("definitionCanonical") or ""
        return self.contained.get(target.removeprefix("#"))

    def medicine(self, definition: Node, said: _Said) -> tuple[str, str] | None:
        """Return a line's medicine: its name, and the word the line writes it with (as written, else its name)."""
        concept = definition.child("productCodeableConcept")
        codings = concept.elements("coding") if concept is not None else []
        display = (codings[0].text("display") if codings else None) or (concept.text("text") if concept else None)
        code = codings[0].text("code") if codings else None
        if display is None or not display.strip() or "\n" in display:
            return None
        known = self.medicines.find(display) or (self.by_code.get(code) if code is not None else None)
        name = known.name if known is not None else display
        written = said.text(core.WRITTEN)
        return name, written if written is not None and "\n" not in written else name

    def line(self, action: Node) -> list[str] | None:
        """Return the line's statement, its suppressions above it and its prose below; None (reported) if unread."""
        definition = self.definition(action)
        if definition is None:
            self.lost(action, "the definition is not an ActivityDefinition the plan contains")
            return None
        self.unread(action, _LINE)
        self.unread(definition, _ACTIVITY)
        said = self.said(action)
        medicine = self.medicine(definition, said)
        dosage = next(iter(definition.elements("dosage")), None)
        if dosage is not None:
            self.unread(dosage, _DOSAGE)
        if medicine is None or dosage is None:
            self.lost(definition, "the activity names no product, or has no dosage")
            return None
        amount = self.dose(dosage)
        route = self.route(dosage)
        if amount is None or route is None:
            return None
        label = self.checked(action, said.text(core.LABEL), _ID, "the line's name")
        head = [_medicine_word(medicine[1]), *([f"({label})"] if label else []), *amount, route]
        frequency = self.frequency(dosage)
        if frequency:
            head.append(frequency)
        timing = action.child("timingTiming")
        repeat = timing.child("repeat") if timing is not None else None
        days = self.days(timing)
        if days is None:
            self.lost(action, "the line has no timing-daysOfCycle days")
            return None
        clock = self.clock(repeat, said)
        starting = clock is not None and said.flag(core.STARTING)
        if self.continuous:  # every day a treatment day: its lines have no days
            words = [clock] if clock is not None and not starting else []
        else:
            words = [f"{clock} starting day {days[0]}" if starting else days_text(days)]
        shift = said.integer(core.SHIFT)
        if shift is not None and 0 <= shift < 1000 and words:
            words[-1] += f" ± {shift} days"
        if clock is not None and not starting and not self.continuous:
            words.append(clock)
        if said.flag(core.INFUSION_CONTINUOUS):
            words.append("continuous")
        words += self.over(repeat, said) + self.amounts(definition, dosage)
        if said.flag(core.PUMP):
            words.append("by pump")
        bags = said.minutes(core.BAGS)
        if bags is not None:
            words.append(f"bags every {_time(bags)}")
        then, relations = self.relations(said)
        tail: list[str] = []
        as_needed = dosage.child("asNeededBoolean")
        if as_needed is not None and as_needed.value is True:
            tail.append("prn")
        role = said.code(core.ROLE)
        if role in {"anticancer", "supportive"}:
            tail.append(str(role))
        tail += [flag for flag, url in (("off-label", core.OFF_LABEL), ("s29", core.S29)) if said.flag(url)]
        statement = " ".join([*(["then"] if then else []), *head, *words, *relations, *tail])
        suppressions = [
            f"# {text}"
            for text in said.texts(core.SUPPRESSION)
            if self.checked(action, text, _SUPPRESSION, "the suppression") is not None
        ]
        instructions = said.text(core.PROSE)
        return [*suppressions, statement, *(self.indented(instructions, action) if instructions is not None else [])]

    def days(self, timing: Node | None) -> list[int] | None:
        if timing is None:
            return None
        days: list[int] = []
        for item in timing.elements("extension"):
            if item.text("url") != core.DAYS_OF_CYCLE:
                continue
            for part in item.elements("extension"):
                value = part.child("valueInteger")
                day = reading.whole(value, -999) if part.text("url") == "day" and value is not None else None
                if day is None:
                    self.lost(part, "the day is not a whole number")
                    return None
                days.append(day)
        return days or None

    def clock(self, repeat: Node | None, said: _Said) -> str | None:
        if repeat is None or repeat.text("periodUnit") != "min":
            return None
        period = repeat.child("period")
        minutes = reading.whole(period, 1) if period is not None else None
        if minutes is None:
            self.lost(repeat, "the clock's period is not a whole number of minutes")
            return None
        count_node = repeat.child("count")
        count = reading.whole(count_node, 1) if count_node is not None else None
        words = f"every {_time(minutes)}"
        if count is not None:
            words += f" for {count} doses" + (" each day" if said.flag(core.EACH_DAY) else "")
        return words

    def over(self, repeat: Node | None, said: _Said) -> list[str]:
        if repeat is None or repeat.text("durationUnit") != "min":
            return []
        low_node, high_node = repeat.child("duration"), repeat.child("durationMax")
        low = reading.whole(low_node, 1) if low_node is not None else None
        high = reading.whole(high_node, 1) if high_node is not None else None
        if low is None:
            self.lost(repeat, "the infusion time is not a whole number of minutes")
            return []
        extend = said.minutes(core.EXTEND)
        more = [f", may extend to {_time(extend)}"] if extend is not None else []
        if high is None:
            return ["over", *(["exactly"] if said.flag(core.EXACT) else []), _time(low), *more]
        if low % 60 == 0 and high % 60 == 0 and low >= 120:
            return ["over", str(low // 60), "to", str(high // 60), "hours", *more]
        return ["over", str(low), "to", str(high), "min", *more]

    def relations(self, said: _Said) -> tuple[bool, list[str]]:
        """Return whether the line follows the one above (``then``) and its relations' words, from ``relation``s."""
        then = False
        found: list[str] = []
        for item, parts in said.nested(core.RELATION):
            if self.said(item).code(core.VIA) == "then":
                then = True
                continue
            words = self.relation_words(item, parts, self.names)
            if words is not None:
                found.append(words)
        return then, found

    def relation_words(self, item: Node, parts: dict[str, Node], names: dict[str, str]) -> str | None:
        """Return a relation (a line's, a part's start) as the language writes it; None (reported) if unread."""
        kind = _part_code(parts, "anchorKind")
        anchor = _part_text(parts, "anchor")
        direction = _part_code(parts, "direction")
        point = _part_code(parts, "point")
        line = _part_text(parts, "line")
        if (
            kind not in {"drug", "chemotherapy", "event"}
            or anchor is None
            or "\n" in anchor
            or direction not in {"before", "after"}
            or point not in {"start", "end"}
            or (line is not None and not _ID.fullmatch(line))
            or (kind == "event" and anchor not in _EVENTS)
        ):
            self.find(C.FHR_CORE_RELATION, item, "the relation has no anchor, direction or point the language has")
            return None
        said = self.said(item)
        if kind == "chemotherapy":
            target = "chemotherapy"
        elif kind == "event":
            target = anchor
        else:
            target = _medicine_word(names.get(anchor.lower(), anchor)) + (f" ({line})" if line else "")
        if said.code(core.VIA) == "concurrently":
            return f"concurrently with {target}"
        offset = parts.get("offset")
        value = offset.child("valueRange") if offset is not None else None
        low = (_minutes(value.child("low")) if value is not None else None) or 0
        high = _minutes(value.child("high")) if value is not None else None
        words = ["ending"] if said.flag(core.ENDING) else []
        if high is None:
            words += [f"at least {_time(low)}"] if low else []
        elif low == high:
            words.append(_time(low))
        elif low == 0:
            words.append(f"within {_time(high)}")
        else:
            words.append(f"{low} to {high} min")
        words.append(direction)
        if point != ("start" if direction == "before" else "end"):
            words.append(f"{point} of")
        position = said.code(core.POSITION)
        if position in {"first", "last"}:
            words.append(str(position))
        words.append(target)
        qualifier = said.text(core.QUALIFIER)
        if qualifier is not None:
            words.append(reading.quoted(qualifier))
        return " ".join(words)

    def observation(self, depth: int, action: Node, ids: dict[str | None, Node]) -> None:
        related = next(iter(action.elements("relatedAction")), None)
        target = ids.get(related.text("actionId")) if related is not None else None
        minutes = _minutes(action.child("timingDuration"))
        definition = self.definition(target) if target is not None else None
        medicine = (
            self.medicine(definition, self.said(target)) if definition is not None and target is not None else None
        )
        if medicine is None or minutes is None:
            self.find(C.FHR_CORE_RELATION, action, "the observation is of no line of the cycle, or has no duration")
            return
        said = self.said(action)
        position = said.code(core.POSITION)
        line = self.checked(action, said.text(core.LABEL), _ID, "the line's name")
        words = ["observe", _time(minutes), "after", *([position] if position in {"first", "last"} else [])]
        words += [_medicine_word(medicine[1]), *([f"({line})"] if line else [])]
        self.write(depth, " ".join(str(w) for w in words))

    def gaps(self, line: Node) -> Iterator[str]:
        """Yield the line's minimum gaps: its ``relatedAction``s to itself, ``offsetRange.low`` in days."""
        for item in line.elements("relatedAction"):
            if item.text("actionId") != line.text("id"):
                continue
            offset = item.child("offsetRange")
            low = offset.child("low") if offset is not None else None
            days = reading.whole(value, 1) if low is not None and (value := low.child("value")) is not None else None
            definition = self.definition(line)
            medicine = self.medicine(definition, self.said(line)) if definition is not None else None
            if days is None or low is None or low.text("code") != "d" or medicine is None:
                self.find(C.FHR_CORE_RELATION, item, "the minimum gap has no offsetRange.low, a whole number of days")
                continue
            name = self.checked(item, self.said(item).text(core.LABEL), _ID, "the line's name")
            yield f"{_medicine_word(medicine[1])}{f' ({name})' if name else ''} doses at least {days} days apart"

    # -- support and the plan ------------------------------------------------------------

    def support(self, action: Node, depth: int) -> None:
        statements: list[str] = []
        for item in action.elements("action"):
            title = item.text("title") or ""
            if item.child("code") is not None and _bare(title, _FACTOR):
                statements.append(title)
            for note, parts in self.said(item).nested(core.NOTE):
                statements += self.note(note, parts) or []
        if statements:
            self.blank()
            self.write(depth, "support")
            self.emit(depth + 1, statements)

    def plan(self, action: Node) -> None:
        statements: list[str] = []
        for item in action.elements("action"):
            ident = item.text("id") or ""
            if item.text("selectionBehavior") == "exactly-one":
                statements += self.decision(item)
            elif ident.startswith("limit"):
                statements += self.limit(item)
            elif ident.startswith("stop"):
                cond = next(iter(self.conditions(item) or []), None)
                if cond is not None:
                    statements.append(f"stop if {cond}{self.within(item)}")
        if statements:
            self.blank()
            self.write(0, "plan")
            self.emit(1, statements)

    def decision(self, action: Node) -> list[str]:
        after = next((_after(parts) for _, parts in self.said(action).nested(core.DECISION)), None)
        if after is None:
            self.lost(action, "the decision has no decision-after extension saying what it follows")
            return []
        out = ["before treatment:" if after == "treatment" else f"after {after}:"]
        for branch in action.elements("action"):
            conds = self.conditions(branch)
            step = _step(branch.text("title") or "")
            if conds is None or step is None or len(conds) > 1:
                self.lost(branch, "the branch has no action of the language (next, stop, cycle N, part N, continue)")
                return []
            out.append(f"  if {conds[0]}: {step}" if conds else f"  otherwise: {step}")
        return out

    def limit(self, action: Node) -> list[str]:
        timing = action.child("timingTiming")
        repeat = timing.child("repeat") if timing is not None else None
        counted = self.said(action).texts(core.COUNTED_WITH)
        conds = self.conditions(action)
        bound = _bound(repeat)
        if bound is None or conds is None or not all(_ID.fullmatch(c) for c in counted):
            self.lost(action, "the limit has no countMax or boundsDuration, a whole number")
            return []
        words = f"at most {bound}" + (f" if {conds[0]}" if conds else "")
        return [words + (" counted with " + ", ".join(counted) if counted else "")]

    def within(self, action: Node) -> str:
        timing = action.child("timingTiming")
        repeat = timing.child("repeat") if timing is not None else None
        bound = _bound(repeat) if repeat is not None else None
        return f" within {bound}" if bound else ""


def _after(parts: dict[str, Node]) -> str | None:
    """Return what a decision follows (``decision-after``'s kind, first, last), as written after ``after``."""
    kind = _part_code(parts, "kind")
    first, last = (
        reading.whole(value, 1)
        if (node := parts.get(name)) is not None and (value := node.child("valueInteger"))
        else None
        for name in ("first", "last")
    )
    if kind == "any":
        return "any cycle"
    if kind in {"cycle", "part"} and first is not None:
        return f"{kind} {first}"
    if kind == "cycles" and first is not None and last is not None:
        return f"cycles {first} to {last}"
    return "treatment" if kind == "start" else None


def _bare(text: str, pattern: re.Pattern[str]) -> bool:
    """Whether ``text`` may be written unquoted where ``pattern`` is read: all of it, no tab, nothing hidden."""
    return pattern.fullmatch(text) is not None and "\t" not in text and not any(find_hidden(text, source=False))


def _bound(repeat: Node | None) -> str | None:
    if repeat is None:
        return None
    count = repeat.child("countMax")
    if count is not None:
        cycles = reading.whole(count, 1)
        return f"{cycles} cycles" if cycles is not None else None
    duration = repeat.child("boundsDuration")
    value = duration.child("value") if duration is not None else None
    amount = reading.whole(value, 1) if value is not None else None
    unit = _UNITS.get(duration.text("code") or "") if duration is not None else None
    return f"{amount} {unit}" if amount is not None and unit is not None else None


def _step(title: str) -> str | None:
    """Return a branch's action as the language writes it, from its title (``next``, ``cycle 3``, ...)."""
    words = title.split(" ")
    match words:
        case ["next"]:
            return "next cycle"
        case ["stop"]:
            return "stop"
        case ["cycle", number] | ["part", number] if number.isdigit():
            return f"go to {words[0]} {number}"
        case ["continue", target] if _ID.fullmatch(target):
            return f"continue with {target}"
    return None


def _by_test(cond: str, variable: str) -> str:
    """Return a ``by`` branch's test: its condition without the variable (``over 50 mL/min``, ``every-day``)."""
    rest = cond.removeprefix(variable + " ")
    if rest.startswith("is "):
        return rest.removeprefix("is ")
    if rest.startswith("in (") and rest.endswith(")"):
        return rest[4:-1]
    return rest


def _parses(cond: str) -> bool:
    """Whether the grammar reads ``cond`` as one condition, the whole text (a stop rule's, so nothing else)."""
    if "#" in cond or len(cond) > 2000 or any(ord(c) < 32 or ord(c) == 127 for c in cond):
        return False
    text = f"plan\n  stop if {cond}\n"
    sink = Sink()
    module = parse(SourceFile.from_text(text, "condition.reg"), sink)
    if sink.items or len(module.items) != 1:
        return False
    plan = module.items[0]
    if not isinstance(plan, ast.Plan) or len(plan.items) != 1:
        return False
    rule = plan.items[0]
    return isinstance(rule, ast.StopRule) and rule.within is None
