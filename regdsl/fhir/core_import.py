"""``regdsl import`` of the core form: a plain R4 ``PlanDefinition`` written by ``regdsl export --profile core``.

The core form carries every fact of a regimen in an element or a regdsl extension
(``fhir.core``), so the import reads it back as the language, never from the pages' words
(``textEquivalent``, ``description``): the heading from the plan's elements, parts, cycle
groups and lines from the nested actions, each line's medicine, dose, route and frequency
from its contained ``ActivityDefinition`` (read as the cca import reads them,
``fhir.reading``), its days from ``timing-daysOfCycle``, its timing relations from its
``relatedAction``s, a choice from the cycle's ``cycle-choice`` and the line's
``line-branch``, and the plan from its decision, limit and stop actions. A condition is
its ``text/x-regdsl`` expression, parsed back by the grammar before it is written
(``FHR015`` when it does not parse); a relation to an action the cycle does not hold is
``FHR016``. The text is laid out by ``syntax.layout``, as the cca import's is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from regdsl.diagnostics import Sink
from regdsl.diagnostics import codes as C
from regdsl.fhir import core
from regdsl.fhir.jsonpos import Node
from regdsl.fhir.reading import NAME, Reader, cycle_heading, days_text, find_medicine, quoted, regimen_id, whole
from regdsl.model import ast
from regdsl.model.vocabulary import NZMT_SYSTEM
from regdsl.source import SourceFile
from regdsl.syntax.layout import format_source
from regdsl.syntax.parser import parse

__all__ = ["read_core"]

_STATUS = {"active": "published", "draft": "draft", "retired": "discontinued", "unknown": "draft"}
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*")
_PART = re.compile(r"Part (\d+): (.*)", re.DOTALL)
_LABEL = re.compile(r"\(([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)\)$")
_ANCHOR = re.compile(r"(?P<name>[^()]+?)(?: \((?P<line>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)\))?")
_AFTER = re.compile(r"any cycle|cycle \d+|cycles \d+ to \d+|part \d+|treatment")
_FACTOR = re.compile(r"[^:\n]+: [^\n]+")
_SUPPRESSION = re.compile(r"regdsl: ?ignore\[[A-Za-z0-9, -]*\](?: -- [^\n\r\x00-\x1f\x7f]*)?")
_UNITS = {"wk": "weeks", "mo": "months", "a": "years"}
_TEXT_FIELDS = ("name", "title", "subtitle", "description", "version", "url", "publisher", "copyright")
_HEADING_KEYS = frozenset(
    [
        *_TEXT_FIELDS,
        "author",
        "code",
        "medicine-code-system",
        "date",
        "approved",
        "last-reviewed",
        "identifier",
        "overview",
    ]
)
_DATE_FIELDS = (("date", "date"), ("approvalDate", "approved"), ("lastReviewDate", "last-reviewed"))


def read_core(root: Node, source: SourceFile, sink: Sink) -> tuple[str, str] | None:
    """Read a core PlanDefinition into a regimen's id and its .reg text; None when nothing can be written."""
    return _CoreReader(source, sink).regimen(root)


@dataclass
class _Choice:
    """A cycle's choice, read from its ``cycle-choice`` extension."""

    kind: str
    variable: str | None
    branches: list[str | None]  # each branch's condition (None: otherwise)
    lines: dict[int, list[str]] = field(default_factory=dict)  # the statements of each branch


def _extensions(node: Node) -> dict[str, list[Node]]:
    found: dict[str, list[Node]] = {}
    for item in node.elements("extension"):
        url = item.text("url")
        if url is not None:
            found.setdefault(url, []).append(item)
    return found


def _value(ext: dict[str, list[Node]], url: str, kind: type) -> object | None:
    """Return the first value of the extension ``url`` if it is of ``kind`` (a bool is no int), else None."""
    for item in ext.get(url, []):
        assert isinstance(item.value, dict)
        for key, value in item.value.items():
            if key.startswith("value") and type(value.value) is kind:
                return value.value
    return None


def _parts(item: Node) -> list[tuple[str, Node]]:
    return [(sub.text("url") or "", sub) for sub in item.elements("extension")]


def _minutes(node: Node | None) -> int | None:
    if node is None:
        return None
    value = node.child("value")
    return whole(value, 0) if value is not None else None


def _time(minutes: int) -> str:
    """Write minutes as a .reg file does: whole hours from 2 hours on, else minutes (`60 min`, `8 hours`)."""
    return f"{minutes // 60} hours" if minutes >= 120 and minutes % 60 == 0 else f"{minutes} min"


def _medicine_word(name: str) -> str:
    return name if NAME.fullmatch(name) else quoted(name)


class _CoreReader(Reader):
    """Reads one core PlanDefinition into statements, reporting into ``sink``."""

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

    # -- the regimen ---------------------------------------------------------------------

    def regimen(self, root: Node) -> tuple[str, str] | None:
        name = root.text("name") or root.text("title")
        ident = root.text("id")
        if ident is None or not _ID.fullmatch(ident):
            ident = regimen_id(name or "")
        self.write(0, "# Imported by regdsl import from a core PlanDefinition (regdsl export --profile core).")
        self.write(0, "")
        self.write(0, f"regimen {ident}")
        self.heading(root)
        self.contained = {
            item.text("id") or "": item
            for item in root.elements("contained")
            if item.text("resourceType") == "ActivityDefinition"
        }
        self.aliases(root)
        if root.child("action") is None:
            self.find(C.FHR_MISSING, root, "no action: the regimen has no cycles")
        for action in root.elements("action"):
            ident_of = action.text("id")
            if ident_of == "plan":
                self.plan(action)
            elif ident_of == "support":
                self.support(action, 0)
            elif _PART.match(action.text("title") or "") and action.child("timingTiming") is None:
                self.part(action)
            else:
                self.cycle(action, 0)
        self.citations(root)
        text = "\n".join(self.out) + "\n"
        sink = Sink()
        laid_out = format_source(SourceFile.from_text(text, ident + ".reg"), sink)
        if laid_out is None:  # a text the reader should not have written: each finding says where
            for diagnostic in sink.items:
                self.lost(root, f"the imported text does not parse ({diagnostic.message})")
            return None
        return ident, laid_out

    def heading(self, root: Node) -> None:
        for key in _TEXT_FIELDS:
            if (text := root.text(key)) is not None:
                self.write(1, f"{key} {quoted(text)}")
        for item in root.elements("identifier"):
            system, value = item.text("system"), item.text("value")
            if system is not None and value is not None:
                self.write(1, f"identifier {quoted(system)} {quoted(value)}")
        self.fields(root, 1)
        authors = root.elements("author")
        if authors and (author := authors[0].text("name")) is not None:
            self.write(1, f"author {quoted(author)}")
        status = root.text("status")
        successor = next((a for a in root.elements("relatedArtifact") if a.text("type") == "successor"), None)
        replaced = successor.text("display") if successor is not None else None
        if replaced is not None and _ID.fullmatch(replaced):
            self.write(1, f"status superseded by {replaced}")
        elif status in _STATUS:
            self.write(1, f"status {_STATUS[status]}")
        else:
            self.find(C.FHR_MISSING, root.child("status") or root, "no FHIR status: the regimen is imported as a draft")
            self.write(1, "status draft")
        for key, word in _DATE_FIELDS:
            if (text := root.text(key)) is not None:
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                    self.write(1, f"{word} {text}")
                else:
                    self.lost(root.child(key) or root, f"{key} {text[:40]!r} is not a date")
        self.cancer(root, 1, focus="focus")
        for context in root.elements("useContext"):
            concept = context.child("valueCodeableConcept")
            code = context.child("code")
            if concept is not None and code is not None and code.text("code") == "workflow":
                text = concept.text("text")
                if text is not None:
                    self.write(1, f"setting {self.term(concept, text)}")
        systems = {c.text("system") for item in self.products(root) for c in item.elements("coding")} - {None}
        if len(systems) == 1 and (system := next(iter(systems))) != NZMT_SYSTEM and system is not None:
            self.write(1, f"medicine-code-system {quoted(system)}")
        responses = _value(_extensions(root), core.RESPONSES, str)
        if isinstance(responses, str) and _ID.fullmatch(responses):
            self.write(1, f"responses {responses}")
        names = []
        for item in root.elements("relatedArtifact"):
            if item.text("type") == "documentation":
                footnote = _value(_extensions(item), core.FOOTNOTE, str)
                if isinstance(footnote, str) and _ID.fullmatch(footnote):
                    names.append(footnote)
                else:
                    self.lost(item, "the footnote has no footnote-name extension, a name")
        if names:
            self.write(1, "footnotes " + ", ".join(names))
        if (overview := root.text("usage")) is not None:
            self.write(1, "overview")
            self.prose(2, overview.split("\n"), root.child("usage") or root)

    def aliases(self, root: Node) -> None:
        """Write each ``drug ALIAS = "NAME"`` of the plan's ``regimen-alias`` extensions."""
        for item in _extensions(root).get(core.ALIAS, []):
            parts = dict(_parts(item))
            alias = parts["alias"].text("valueString") if "alias" in parts else None
            name = parts["medicine"].text("valueString") if "medicine" in parts else None
            if alias is None or name is None or not _ID.fullmatch(alias):
                self.lost(item, "the alias has no name of the language, or no medicine")
                continue
            self.blank()
            self.write(0, f"drug {alias} = {quoted(name)}")

    def fields(self, node: Node, depth: int) -> None:
        """Write the heading fields of the plan or part's ``heading-field`` extensions."""
        for item in _extensions(node).get(core.FIELD, []):
            parts = dict(_parts(item))
            key = parts["key"].text("valueCode") if "key" in parts else None
            value = parts["value"].text("valueString") if "value" in parts else None
            if value is None or key not in _HEADING_KEYS:
                self.lost(item, "the heading field has no key of the language's headings, or no value")
            elif key == "overview":
                self.write(depth, "overview")
                self.prose(depth + 1, value.split("\n"), item)
            elif key == "identifier" and "|" in value:
                system, _, code = value.partition("|")
                self.write(depth, f"identifier {quoted(system)} {quoted(code)}")
            elif key in {"date", "approved", "last-reviewed"}:
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    self.write(depth, f"{key} {value}")
                else:
                    self.lost(item, f"the {key} {value[:40]!r} is not a date")
            elif key != "identifier":
                self.write(depth, f"{key} {quoted(value)}")

    def term(self, concept: Node, text: str) -> str:
        codings = concept.elements("coding")
        code = codings[0].text("code") if codings else None
        return quoted(text) + (f" [{code}]" if code and code.isdigit() else "")

    def products(self, root: Node) -> Iterator[Node]:
        for item in root.elements("contained"):
            concept = item.child("productCodeableConcept")
            if concept is not None:
                yield concept

    def citations(self, root: Node) -> None:
        for item in root.elements("relatedArtifact"):
            if item.text("type") != "citation":
                continue
            display = item.text("display")
            if display is None:
                self.lost(item, "the citation has no display text")
                continue
            self.write(0, f"reference {quoted(display)}")
            if (url := item.text("url")) is not None:
                self.write(1, f"url {quoted(url)}")

    # -- parts, cycles and lines ---------------------------------------------------------

    def part(self, action: Node) -> None:
        match = _PART.match(action.text("title") or "")
        assert match is not None
        self.blank()
        self.write(0, f"part {match[1]} {quoted(match[2])}")
        self.fields(action, 1)
        for item in action.elements("action"):
            if (item.text("id") or "").endswith("-support"):
                self.support(item, 1)
            else:
                self.cycle(item, 1)

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
        ext = _extensions(action)
        self.blank()
        if _value(ext, core.CONTINUOUS, bool) is True:
            self.write(depth, "continuous treatment")
        else:
            heading = cycle_heading(first, count)
            extend_node = repeat.child("durationMax")
            extend = whole(extend_node, 1) if extend_node is not None else None
            more = f", may extend to {extend} days" if extend is not None else ""
            self.write(depth, f"{heading}: {days} days{more}")
        title = _value(ext, core.TITLE, str)
        if isinstance(title, str):
            self.write(depth + 1, f"title {quoted(title)}")
        for gate in action.elements("condition"):
            cond = self.condition(gate)
            if cond is not None:
                self.write(depth + 1, f"proceed if {cond}")
                prose = _value(_extensions(gate), core.GATE_TEXT, str)
                if isinstance(prose, str):
                    self.prose(depth + 2, prose.split("\n"), gate)
        choices = self.choices(ext)
        lines = [a for a in action.elements("action") if a.child("definitionCanonical") is not None]
        ids = {a.text("id"): a for a in lines}
        written: set[str] = set()
        for line in lines:
            statements = self.line(line, ids)
            if statements is None:
                continue
            branch = self.branch(line, choices)
            if branch is None:
                self.emit(depth + 1, statements)
                continue
            key, number = branch
            choice = choices[key]
            if key not in written:
                written.add(key)
                self.choice_block(depth + 1, key)
            choice.lines.setdefault(number, []).extend(statements)
        observed: set[str] = set()
        for item in action.elements("action"):
            which = (item.text("id") or "").rpartition("-o")[2]  # one observation, after each line of its medicine
            if item.child("timingDuration") is not None and which not in observed:
                observed.add(which)
                self.observation(depth + 1, item, ids)
        gaps: list[str] = []
        for line in lines:
            for gap in self.gaps(line):
                if gap not in gaps:  # one gap, timed on each line of its medicine
                    gaps.append(gap)
        self.emit(depth + 1, gaps)
        self.flush(choices)

    def gaps(self, line: Node) -> Iterator[str]:
        """Yield the line's minimum gaps: its ``relatedAction``s to itself, ``offsetRange.low`` in days."""
        for item in line.elements("relatedAction"):
            if item.text("actionId") != line.text("id"):
                continue
            offset = item.child("offsetRange")
            low = offset.child("low") if offset is not None else None
            days = whole(value, 1) if low is not None and (value := low.child("value")) is not None else None
            ext = _extensions(line)
            definition = self.contained.get((line.text("definitionCanonical") or "").removeprefix("#"))
            name = self.medicine(definition, ext) if definition is not None else None
            if days is None or low is None or low.text("code") != "d" or name is None:
                self.find(C.FHR_CORE_RELATION, item, "the minimum gap has no offsetRange.low, a whole number of days")
                continue
            yield f"{_medicine_word(name)} doses at least {days} days apart"

    def emit(self, depth: int, statements: list[str]) -> None:
        for statement in statements:
            self.write(depth, statement)

    def choices(self, ext: dict[str, list[Node]]) -> dict[str, _Choice]:
        found: dict[str, _Choice] = {}
        for item in ext.get(core.CHOICE, []):
            parts = _parts(item)
            kind = next((p.text("valueCode") for url, p in parts if url == "kind"), None)
            variable = next((p.text("valueString") for url, p in parts if url == "variable"), None)
            branches: list[str | None] = []
            for url, part in parts:
                if url == "branch":
                    cond = part.text("valueString")
                    branches.append(cond if cond is not None and _parses(cond) else "")
                elif url == "otherwise":
                    branches.append(None)
            ident = next((p.text("valueString") for url, p in parts if url == "id"), None)
            valid = kind in {"if", "by"} and (variable is None or _ID.fullmatch(variable)) and "" not in branches
            if ident is None or not valid or (kind == "by") != (variable is not None) or not branches:
                self.find(C.FHR_CORE_CONDITION, item, "the choice has no valid id, kind, variable or branches")
                continue
            found[ident] = _Choice(kind or "if", variable, branches)
        return found

    def branch(self, line: Node, choices: dict[str, _Choice]) -> tuple[str, int] | None:
        for item in _extensions(line).get(core.BRANCH, []):
            parts = dict(_parts(item))
            key = parts["choice"].text("valueString") if "choice" in parts else None
            number = parts["branch"].child("valueInteger") if "branch" in parts else None
            index = whole(number, 0) if number is not None else None
            if key in choices and index is not None and index < len(choices[key].branches):
                return key, index
            self.find(C.FHR_CORE_CONDITION, item, "the line's branch is not one of the cycle's choices")
        return None

    def choice_block(self, depth: int, key: str) -> None:
        """Write a placeholder where the choice goes: its branches are written once all its lines are read."""
        self.out.append(f"\x00{depth} {key}")

    def flush(self, choices: dict[str, _Choice]) -> None:
        """Write each choice's block at its placeholder: ``if COND:`` or ``by VARIABLE:`` and its branches."""
        out: list[str] = []
        for row in self.out:
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
        self.out = out

    def line(self, action: Node, ids: dict[str | None, Node]) -> list[str] | None:
        """Return the line's statement and its prose (indented one level more), or None (reported)."""
        target = action.text("definitionCanonical") or ""
        definition = self.contained.get(target.removeprefix("#"))
        if definition is None:
            self.lost(action, f"the definition {target[:40]!r} is not an ActivityDefinition the plan contains")
            return None
        ext = _extensions(action)
        medicine = self.medicine(definition, ext)
        dosage = next(iter(definition.elements("dosage")), None)
        if medicine is None or dosage is None:
            if dosage is None:
                self.lost(definition, "the activity has no dosage")
            return None
        amount = self.dose(dosage)
        route = self.route(dosage)
        if amount is None or route is None:
            return None
        words = []
        label = _LABEL.search(action.text("title") or "")
        head = [_medicine_word(medicine), *([f"({label[1]})"] if label else []), *amount, route]
        frequency = self.frequency(dosage)
        if frequency:
            head.append(frequency)
        timing = action.child("timingTiming")
        repeat = timing.child("repeat") if timing is not None else None
        days = self.days(timing)
        if days is None:
            self.lost(action, "the line has no timing-daysOfCycle days")
            return None
        clock = self.clock(repeat, ext)
        if clock is not None and _value(ext, core.LINE["starting"], bool) is True:
            words += [clock, "starting day " + str(days[0])]
        else:
            words.append(days_text(days))
            if clock is not None:
                words.append(clock)
        shift = _value(ext, core.LINE["shift"], int)
        if isinstance(shift, int) and 0 < shift < 1000:
            words[-1 if clock is None else 0] += f" ± {shift} days"
        words += self.over(repeat, ext) + self.amounts(definition, dosage)
        then, relations = self.relations(action, ids)
        tail: list[str] = []
        as_needed = dosage.child("asNeededBoolean")
        if as_needed is not None and as_needed.value is True:
            tail.append("prn")
        usage = definition.text("usage")
        known = find_medicine(medicine, None)
        default = "anticancer" if known is not None and known.anticancer else "supportive"
        role = {"Supportive care": "supportive", "Anticancer treatment": "anticancer"}.get(usage or "")
        if role is not None and role != default:
            tail.append(role)
        for flag in ("off-label", "s29"):
            if _value(ext, core.LINE[flag], bool) is True:
                tail.append(flag)
        statement = " ".join([*(["then"] if then else []), *head, *words, *relations, *tail])
        out = [f"# {c}" for c in self.suppressions(action)] + [statement]
        instructions = _value(ext, core.LINE["instructions"], str)
        if isinstance(instructions, str):
            self.out, kept = [], self.out
            self.prose(1, instructions.split("\n"), action)
            out += self.out
            self.out = kept
        return out

    def suppressions(self, action: Node) -> list[str]:
        """Return the line's suppressions (``regdsl: ignore[RULE] -- reason``), each a comment of one line."""
        found = []
        for item in _extensions(action).get(core.LINE["suppression"], []):
            text = item.text("valueString")
            if text is not None and _SUPPRESSION.fullmatch(text):
                found.append(text)
            else:
                self.lost(item, "the suppression is not one comment line `regdsl: ignore[RULE] -- reason`")
        return found

    def medicine(self, definition: Node, ext: dict[str, list[Node]]) -> str | None:
        written = _value(ext, core.WRITTEN, str)
        concept = definition.child("productCodeableConcept")
        codings = concept.elements("coding") if concept is not None else []
        display = (codings[0].text("display") if codings else None) or (concept.text("text") if concept else None)
        name = written if isinstance(written, str) else display
        if name is None or not name.strip() or "\n" in name:
            self.lost(definition, "the activity names no product")
            return None
        return name

    def days(self, timing: Node | None) -> list[int] | None:
        if timing is None:
            return None
        days: list[int] = []
        for item in _extensions(timing).get(core.DAYS_OF_CYCLE, []):
            for url, part in _parts(item):
                value = part.child("valueInteger")
                day = whole(value, -999) if url == "day" and value is not None else None
                if day is None:
                    self.lost(part, "the day is not a whole number")
                    return None
                days.append(day)
        return days or None

    def clock(self, repeat: Node | None, ext: dict[str, list[Node]]) -> str | None:
        if repeat is None or repeat.text("periodUnit") != "min":
            return None
        period = repeat.child("period")
        minutes = whole(period, 1) if period is not None else None
        if minutes is None:
            self.lost(repeat, "the clock's period is not a whole number of minutes")
            return None
        count_node = repeat.child("count")
        count = whole(count_node, 1) if count_node is not None else None
        words = f"every {_time(minutes)}"
        if count is not None:
            words += f" for {count} doses"
            if _value(ext, core.LINE["each-day"], bool) is True:
                words += " each day"
        return words

    def extend(self, ext: dict[str, list[Node]]) -> list[str]:
        minutes = _value(ext, core.LINE["extend"], int)
        return [f", may extend to {_time(minutes)}"] if isinstance(minutes, int) and 0 < minutes < 10**6 else []

    def over(self, repeat: Node | None, ext: dict[str, list[Node]]) -> list[str]:
        if repeat is None or repeat.text("durationUnit") != "min":
            return []
        low_node, high_node = repeat.child("duration"), repeat.child("durationMax")
        low = whole(low_node, 1) if low_node is not None else None
        high = whole(high_node, 1) if high_node is not None else None
        if low is None:
            self.lost(repeat, "the infusion time is not a whole number of minutes")
            return []
        if high is None:
            return ["over", _time(low), *self.extend(ext)]
        if low % 60 == 0 and high % 60 == 0 and low >= 120:
            return ["over", str(low // 60), "to", str(high // 60), "hours", *self.extend(ext)]
        return ["over", str(low), "to", str(high), "min", *self.extend(ext)]

    def relations(self, action: Node, ids: dict[str | None, Node]) -> tuple[bool, list[str]]:
        """Return whether the line follows the one above (``then``) and its relations' words."""
        then = False
        found: list[str] = []
        seen: list[tuple[object, ...]] = []
        for item in action.elements("relatedAction"):
            target = item.text("actionId")
            offset = item.child("offsetRange")
            if target == action.text("id"):
                continue  # a minimum gap: read with the cycle's gaps
            if target not in ids:
                self.find(C.FHR_CORE_RELATION, item, f"the related action {target!r} is not a line of the cycle")
                continue
            ext = _extensions(item)
            anchor = _value(ext, core.ANCHOR, str)
            low = _minutes(offset.child("low")) if offset is not None else None
            high = _minutes(offset.child("high")) if offset is not None else None
            key = (anchor, item.text("relationship"), low, high, item.child("extension") is not None)
            if key in seen:
                continue  # the same relation, to another line it is timed from
            seen.append(key)
            via = _value(ext, core.VIA, str)
            if via == "then":
                then = True
                continue
            words = self.relation(item, anchor, low or 0, high, ext, via)
            if words is not None:
                found.append(words)
        return then, found

    def relation(
        self, item: Node, anchor: object, low: int, high: int | None, ext: dict[str, list[Node]], via: object
    ) -> str | None:
        match = _ANCHOR.fullmatch(anchor) if isinstance(anchor, str) else None
        relationship = item.text("relationship")
        if match is None or relationship not in {"before-start", "after-start", "after-end"}:
            self.find(
                C.FHR_CORE_RELATION, item, "the relation has no relation-anchor or relationship it can be read by"
            )
            return None
        name = match["name"]
        target = "chemotherapy" if name == "chemotherapy" else _medicine_word(name)
        if match["line"]:
            target += f" ({match['line']})"
        if via == "concurrently":
            return f"concurrently with {target}"
        words = []
        if _value(ext, core.ENDING, bool) is True:
            words.append("ending")
        if high is None:
            words += [f"at least {_time(low)}"] if low else []
        elif low == high:
            words.append(_time(low))
        elif low == 0:
            words.append(f"within {_time(high)}")
        else:
            words.append(f"{low} to {high} min")
        words.append("before" if relationship == "before-start" else "after")
        if relationship == "after-start":
            words.append("start of")
        position = _value(ext, core.POSITION, str)
        if position in {"first", "last"}:
            words.append(str(position))
        words.append(target)
        qualifier = _value(ext, core.QUALIFIER, str)
        if isinstance(qualifier, str):
            words.append(quoted(qualifier))
        return " ".join(words)

    def observation(self, depth: int, action: Node, ids: dict[str | None, Node]) -> None:
        related = next(iter(action.elements("relatedAction")), None)
        target = ids.get(related.text("actionId")) if related is not None else None
        minutes = _minutes(action.child("timingDuration"))
        if target is None or minutes is None or related is None:
            self.find(C.FHR_CORE_RELATION, action, "the observation is of no line of the cycle, or has no duration")
            return
        definition = self.contained.get((target.text("definitionCanonical") or "").removeprefix("#"))
        name = self.medicine(definition, _extensions(target)) if definition is not None else None
        if name is not None:
            self.write(depth, f"observe {_time(minutes)} after {_medicine_word(name)}")

    # -- support and the plan ------------------------------------------------------------

    def support(self, action: Node, depth: int) -> None:
        factors = []
        for item in action.elements("action"):
            title = item.text("title") or ""
            if item.child("code") is not None and _FACTOR.fullmatch(title):
                factors.append(title)
        if factors:
            self.blank()
            self.write(depth, "support")
            for factor in factors:
                self.write(depth + 1, factor)

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
                    statements.append(f"  stop if {cond}{self.within(item)}")
        if statements:
            self.blank()
            self.write(0, "plan")
            for statement in statements:
                self.write(0, statement)

    def decision(self, action: Node) -> list[str]:
        after = _value(_extensions(action), core.AFTER, str)
        if not isinstance(after, str) or not _AFTER.fullmatch(after):
            self.lost(action, "the decision has no decision-after extension saying what it follows")
            return []
        out = ["  before treatment:" if after == "treatment" else f"  after {after}:"]
        for branch in action.elements("action"):
            conds = self.conditions(branch)
            step = _step(branch.text("title") or "")
            if conds is None or step is None or len(conds) > 1:
                self.lost(branch, "the branch has no action of the language (next, stop, cycle N, part N, continue)")
                return []
            out.append(f"    if {conds[0]}: {step}" if conds else f"    otherwise: {step}")
        return out

    def limit(self, action: Node) -> list[str]:
        timing = action.child("timingTiming")
        repeat = timing.child("repeat") if timing is not None else None
        counted = [
            str(v) for v in (_value({"x": [e]}, "x", str) for e in action.elements("extension")) if isinstance(v, str)
        ]
        conds = self.conditions(action)
        bound = _bound(repeat)
        if bound is None or conds is None or not all(_ID.fullmatch(c) for c in counted):
            self.lost(action, "the limit has no countMax or boundsDuration, a whole number")
            return []
        words = f"  at most {bound}" + (f" if {conds[0]}" if conds else "")
        return [words + (" counted with " + ", ".join(counted) if counted else "")]

    def within(self, action: Node) -> str:
        timing = action.child("timingTiming")
        repeat = timing.child("repeat") if timing is not None else None
        bound = _bound(repeat) if repeat is not None else None
        return f" within {bound}" if bound else ""


def _bound(repeat: Node | None) -> str | None:
    if repeat is None:
        return None
    count = repeat.child("countMax")
    if count is not None:
        cycles = whole(count, 1)
        return f"{cycles} cycles" if cycles is not None else None
    duration = repeat.child("boundsDuration")
    value = duration.child("value") if duration is not None else None
    amount = whole(value, 1) if value is not None else None
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
    if "\n" in cond or "#" in cond or len(cond) > 2000:
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
