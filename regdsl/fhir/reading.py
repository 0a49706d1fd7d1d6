"""What the two imports share: reading a dose, unit, route and frequency, writing statements, quoting text.

``regdsl import`` reads a CcaPlanDefinition (``importer``) or a core PlanDefinition
(``core_import``); both write the regimen as lines of a ``.reg`` source, report each finding at
its element of the JSON file (``jsonpos``), and read an ``ActivityDefinition``'s dosage the same
way. This module holds those common parts, so the two readers read them alike.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal

from regdsl.diagnostics import Sink
from regdsl.diagnostics import codes as C
from regdsl.diagnostics.model import Code
from regdsl.fhir.jsonpos import Node
from regdsl.model.vocabulary import FREQUENCIES, ROUTES, SNOMED, UNITS, Unit, find_unit
from regdsl.source import SourceFile, find_hidden

__all__ = [
    "MOST",
    "NAME",
    "PLAN_ELEMENTS",
    "Reader",
    "amount_text",
    "days_text",
    "quoted",
    "regimen_id",
    "whole",
]

MOST = 10**6  # the largest whole number read (days, cycles, minutes, amounts): far beyond any regimen's
PLACES = 6  # the most decimal places of an amount read
NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# The elements of a PlanDefinition both imports read (or leave out by design: its id, its narrative).
PLAN_ELEMENTS = frozenset(
    [
        "resourceType",
        "id",
        "text",
        "contained",
        "extension",
        "url",
        "identifier",
        "version",
        "name",
        "title",
        "subtitle",
        "type",
        "status",
        "date",
        "publisher",
        "description",
        "useContext",
        "copyright",
        "approvalDate",
        "lastReviewDate",
        "author",
        "relatedArtifact",
        "action",
    ]
)
_SUPPRESSION = re.compile(r"regdsl:\s*ignore", re.IGNORECASE)  # what a comment of the input's text may not say
_PMID = re.compile(r"PMID: (\d+)")
_ACCESSED = re.compile(r"\(Accessed (\d{1,2} \w+ \d{4})\)")


def regimen_id(name: str) -> str:
    """Return the id a regimen named ``name`` is given: its words in lower case, joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:128].strip("-") or "imported-regimen"


def quoted(text: str) -> str:
    """Return ``text`` as quoted text: what a source may not hold, and spaces other than the plain one, escaped."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    hidden = {i for m in find_hidden(body, source=True) for i in range(m.start(), m.end())}
    return (
        '"'
        + "".join(
            escape(c) if i in hidden or (c != " " and unicodedata.category(c) == "Zs") else c
            for i, c in enumerate(body)
        )
        + '"'
    )


def escape(char: str) -> str:
    """Return a character as the escape a quoted text writes it in (a surrogate pair beyond the BMP)."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def whole(node: Node, low: int) -> int | None:
    """Return a node's whole number from ``low`` to ``MOST``, else None (a boolean is not a number)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MOST:
        return None
    return value


def amount_text(node: Node | None) -> str | None:
    """Return a dose or volume as written, if it is a positive number of reasonable size (no ``1e99999``)."""
    value = node.value if node is not None else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or not 0 < value < MOST:
        return None
    if isinstance(value, int):
        return str(value)
    exponent = value.as_tuple().exponent
    return format(value, "f") if isinstance(exponent, int) and exponent >= -PLACES else None


def days_text(days: list[int]) -> str:
    """Write days as the language does: ``day 1``, ``days 1 to 28``, ``days 2 to 4, 23 to 25``, ``days 2, 3``."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        parts += [f"{run[0]} to {run[-1]}"] if len(run) > 2 else [str(d) for d in run]
    return ("day " if len(ordered) == 1 else "days ") + ", ".join(parts)


def cycle_heading(first: int, count: int | None) -> str:
    """Return a cycle group's heading: ``cycle N``, ``cycles N to M``, ``cycle N and all further cycles``."""
    if count is None:
        return f"cycle {first} and all further cycles"
    return f"cycle {first}" if count == 1 else f"cycles {first} to {first + count - 1}"


class Reader:
    """Reads one PlanDefinition into the lines of a .reg source, reporting into ``sink``."""

    def __init__(self, source: SourceFile, sink: Sink) -> None:
        self.source = source
        self.sink = sink
        self.out: list[str] = []

    # -- findings ------------------------------------------------------------------------

    def find(self, code: Code, node: Node, message: str, *, help: str | None = None) -> None:
        """Report ``code`` at ``node``, its JSON path at the start of the message."""
        where = node.path or "the resource"
        self.sink.report(code, self.source.span(node.start, node.end), f"{where}: {message}", help=help)

    def unread(self, node: Node, known: frozenset[str]) -> None:
        """Report each member of ``node`` the import does not read."""
        if isinstance(node.value, dict):
            for key, member in node.value.items():
                if key not in known:
                    self.find(
                        C.FHR_NOT_READ, member, f"the element {key!r} is not one the import reads; it is left out"
                    )

    def lost(self, node: Node, what: str) -> None:
        """Report a fact that cannot be imported (``FHR012``)."""
        self.find(C.FHR_NOT_IMPORTED, node, f"{what}; it is not imported")

    def blank(self) -> None:
        """Write a blank line."""
        self.out.append("")

    def write(self, depth: int, text: str) -> None:
        """Write a statement indented ``depth`` levels."""
        self.out.append("  " * depth + text)

    def prose(self, depth: int, lines: list[str], node: Node, *, lead: str = "|") -> None:
        """Write prose lines (comments, with ``lead`` ``#``), leaving out and reporting what a source may not hold.

        A comment never says what a suppression says: text of the input is never a suppression.
        """
        for line in lines:
            if any(True for _ in find_hidden(line, source=False)):
                self.lost(node, "the text holds a control or invisible character a .reg file may not")
                continue
            if lead == "#" and _SUPPRESSION.search(line):
                self.lost(
                    node, "the text would be a suppression comment (`regdsl: ignore[...]`), which data never writes"
                )
                continue
            self.write(depth, f"{lead} {line}" if line else lead)

    def check_code(self, concept: Node, expected: str | None, what: str) -> None:
        """Report each coding of ``concept`` that is not the vocabulary's SNOMED CT ``expected``."""
        codings = concept.elements("coding")
        for coding in codings:
            if coding.text("system") != SNOMED or (expected is not None and coding.text("code") != expected):
                self.find(
                    C.FHR_UNKNOWN_CODE,
                    coding,
                    f"the code {coding.text('system')}|{coding.text('code')} of {what} is not the vocabulary's "
                    f"({SNOMED}|{expected}); the vocabulary's is exported",
                )

    def cancer(self, plan: Node, depth: int, *, focus: str | None = None) -> None:
        """Write the ``cancer`` levels of the plan's ``useContext``s (those of the code ``focus``, when given)."""
        levels: list[str] = []
        for context in plan.elements("useContext"):
            kind = context.child("code")
            if focus is not None and (kind is None or kind.text("code") != focus):
                continue
            concept = context.child("valueCodeableConcept")
            if concept is None or (text := concept.text("text")) is None:
                continue
            codings = concept.elements("coding")
            code = codings[0].text("code") if codings else None
            levels.append(quoted(text) + (f" [{code}]" if code and code.isdigit() else ""))
        if levels:
            self.write(depth, "cancer " + " > ".join(levels))

    def cycle_timing(self, action: Node) -> tuple[Node, int, int | None] | None:
        """Return a cycle action's ``timingTiming.repeat``, its length in days and count; None (reported) if none."""
        timing = action.child("timingTiming")
        repeat = timing.child("repeat") if timing is not None else None
        length = repeat.child("duration") if repeat is not None else None
        days = whole(length, 1) if length is not None else None
        if repeat is None or days is None:
            self.lost(action, "the cycle has no timingTiming.repeat.duration, a whole number of days")
            return None
        count_node = repeat.child("count")
        count = whole(count_node, 1) if count_node is not None else None
        if count_node is not None and count is None:
            self.lost(count_node, "the cycle count is not a whole number of at least 1")
            return None
        return repeat, days, count

    def dose(self, dosage: Node) -> list[str] | None:
        """Return the dose's words (``600 mg flat``), or None (reported) if it cannot be read."""
        rates = dosage.elements("doseAndRate")
        quantity = rates[0].child("doseQuantity") if rates else None
        amount = amount_text(quantity.child("value")) if quantity is not None else None
        if quantity is None or amount is None:
            self.lost(dosage, "the dose has no doseQuantity.value, a positive number")
            return None
        label = quantity.text("unit") or ""
        flat = label.endswith(" flat")
        unit = self.unit(quantity, label.removesuffix(" flat"))
        if unit is None:
            return None
        return [amount, unit.aliases[0], *(["flat"] if flat else [])]

    def unit(self, quantity: Node, label: str) -> Unit | None:
        """Return the unit of a quantity, by its label or code, or None (reported)."""
        code = quantity.text("code")
        unit = find_unit(label)
        if unit is None or (code is not None and unit.code != code):
            unit = next((u for u in UNITS if u.code == code), None)
        if unit is None:
            self.lost(quantity, f"the unit {label!r} (code {code}) is not one of the vocabulary's")
        return unit

    def route(self, dosage: Node) -> str | None:
        """Return the route's word, by its SNOMED CT code (or the dosage's words), or None (reported)."""
        route = dosage.child("route")
        codings = route.elements("coding") if route is not None else []
        code = codings[0].text("code") if codings else None
        found = next((r for r in ROUTES if r.code == code), None)
        if found is None and not codings:  # a route the guide's value set lacks: `regdsl export` words it only
            said = dosage.text("text") or ""
            found = next((r for r in ROUTES if said.endswith(f" by {r.term}")), None)
        if found is None:
            self.lost(route or dosage, f"the route (code {code}) is not one of the vocabulary's")
            return None
        return found.aliases[0]

    def frequency(self, dosage: Node) -> str | None:
        """Return the frequency's phrase, by its SNOMED CT code (or the dosage's words), or None."""
        timing = dosage.child("timing")
        code = timing.child("code") if timing is not None else None
        if code is None:  # a frequency the guide's value set lacks: `regdsl export` words it only
            said = dosage.text("text") or ""
            worded = [f for f in FREQUENCIES if re.search(rf" {re.escape(f.term)}(?: over | by |$)", said)]
            return max(worded, key=lambda f: len(f.term)).phrase if worded else None
        codings = code.elements("coding")
        for coding in codings:
            if coding.text("system") == SNOMED:
                found = next((f for f in FREQUENCIES if f.code == coding.text("code")), None)
                if found is not None:
                    return found.phrase
        self.lost(code, f"the frequency {code.text('text')!r} is not one of the vocabulary's")
        return None

    def amounts(self, definition: Node, dosage: Node) -> list[str]:
        """Return an activity's volume (``in V mL``) and cap (``max N UNIT``) as words, each when given."""
        words: list[str] = []
        quantity = definition.child("quantity")
        if quantity is not None:
            words += self.volume(quantity)
        cap = dosage.child("maxDosePerAdministration")
        if cap is not None:
            words += self.measure(cap, "max", "the cap")
        return words

    def volume(self, quantity: Node) -> list[str]:
        """Return the volume as ``in V UNIT``."""
        return self.measure(quantity, "in", "the volume")

    def measure(self, quantity: Node, word: str, what: str) -> list[str]:
        """Return a quantity as the words ``WORD AMOUNT UNIT`` (a volume's ``in``, a cap's ``max``)."""
        amount = amount_text(quantity.child("value"))
        unit = self.unit(quantity, quantity.text("unit") or "")
        if amount is None:
            self.lost(quantity, f"{what} has no value, a positive number")
        if amount is None or unit is None:
            return []
        return [word, amount, unit.aliases[0]]

    def references(self, plan: Node, depth: int) -> None:
        """Write the plan's citations as references, with their url, PMIDs and access dates."""
        for number, item in enumerate(plan.elements("relatedArtifact")):
            if depth and not number:
                self.blank()
            display = item.text("display")
            if display is None:
                self.lost(item, "the related artifact has no display text")
                continue
            self.write(depth, f"reference {quoted(display)}")
            if (url := item.text("url")) is not None:
                self.write(depth + 1, f"url {quoted(url)}")
            for pmid in _PMID.findall(display):
                self.write(depth + 1, f"pmid {pmid}")
            for when in _ACCESSED.findall(display):
                try:
                    day = datetime.datetime.strptime(when, "%d %B %Y").date()
                except ValueError:
                    continue
                self.write(depth + 1, f"accessed {day.isoformat()}")
