"""Words to values: numbers, amounts, times, dates, units and medicine names, and what a regimen shares.

``Lowering`` holds what lowering one regimen file gathers as it goes (its aliases and blocks,
every medicine named, every link written, the doses counted against the limits) and resolves
single words, reporting each that resolves to nothing: a number that is not one or is beyond
its limit, a date that does not exist, an unknown unit or medicine.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from regdsl.diagnostics import Code, Sink
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir, limits
from regdsl.model.conditions import DEFAULT_RESPONSES, GROUPS, MEASURES, VOCABULARIES, Measure, Values
from regdsl.model.limits import AMOUNT_LIMIT, Limit, TooComplex
from regdsl.model.medicines import Medicine, MedicineTable, make_medicine
from regdsl.model.vocabulary import (
    ERROR_PRONE_UNITS,
    FREQUENCIES,
    ROUTE_BY_ALIAS,
    ROUTES,
    TIME_UNITS,
    UNITS,
    Frequency,
    Route,
    Unit,
    find_unit,
    suggest_unit,
)
from regdsl.source import Span
from regdsl.syntax.expected import close_match

__all__ = ["LINE_KEYWORDS", "LibraryDefs", "Lowering", "route_named", "shown"]

# Words that start a line inside a cycle: a misspelt one is read as a medicine's name.
LINE_KEYWORDS = ("observe", "note", "title", "same", "use", "without")


_SOME_ROUTES = "oral, IV, subcut, IM, intrathecal, intravesical, topical"


# Each word of a frequency and each frequency's abbreviation (`BID`), with the first frequency it
# belongs to (reversed, so that the first one is kept): one written where the route stands is a
# frequency, not a misspelt route (`every` is a keyword, never read as a route).
_FREQUENCY_BY_WORD: dict[str, Frequency] = {
    word: frequency
    for frequency in reversed(FREQUENCIES)
    for word in (*frequency.phrase.split(), *([frequency.gts.lower()] if frequency.gts else []))
}


def route_named(sink: Sink, word: ast.Word, dose: ast.Dose | None = None) -> Route | None:
    """Return the route ``word`` names, in any case; reported (with the closest route) when it names none.

    A word of a frequency is reported as one, the route as missing, with ``dose``'s line as it
    would be written with a route.
    """
    found = ROUTE_BY_ALIAS.get(word.text.lower())
    frequency = _FREQUENCY_BY_WORD.get(word.text.lower()) if found is None else None
    if frequency is not None:
        written = f"{dose.amount.text} {dose.unit.text}{' flat' if dose.flat else ''} " if dose is not None else ""
        sink.report(
            c.UNKNOWN_ROUTE,
            word.span,
            f"`{word.text}` is a frequency, not a route: the route is missing",
            label="a frequency where the route stands",
            help=f"write the route after the dose, then the frequency in words: `{written}oral {frequency.phrase}`",
        )
    elif found is None:
        guess = close_match(word.text, [a for r in ROUTES for a in r.aliases])
        sink.report(
            c.UNKNOWN_ROUTE,
            word.span,
            f"unknown route `{word.text}`",
            label="not a known route",
            help=f"did you mean `{guess}`?" if guess else f"routes are {_SOME_ROUTES}...",
        )
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryDefs:
    """What a library shares with its regimens: medicines, footnotes, blocks, vocabularies, groups, regimen ids."""

    medicines: MedicineTable
    footnotes: dict[str, ir.Footnote] = field(default_factory=dict)
    blocks: dict[str, ast.BlockDef] = field(default_factory=dict)
    vocabularies: dict[str, Values] = field(default_factory=lambda: dict(VOCABULARIES))
    groups: dict[str, Values] = field(default_factory=lambda: dict(GROUPS))
    measures: dict[str, Measure] = field(default_factory=lambda: dict(MEASURES))
    regimen_ids: frozenset[str] | None = None


def shown(text: str) -> str:
    """Return a number as a message shows it: whole when short, else its first digits and its length."""
    return text if len(text) <= 16 else f"{text[:8]}… ({len(text)} characters)"


class Lowering:
    """One regimen file as it is lowered: what it gathers, and the resolvers of single words."""

    def __init__(self, sink: Sink, defs: LibraryDefs, regimen_id: str = "") -> None:
        self.sink = sink
        self.defs = defs
        self.regimen_id = regimen_id
        self.aliases: dict[str, Medicine] = {}
        self.blocks: dict[str, ast.BlockDef] = dict(defs.blocks)
        self.mentions: list[ir.Mention] = []
        self.links: list[ir.Written] = []
        self.doses = 0  # the doses written so far, counted against limits.DOSES
        self.responses: Values = DEFAULT_RESPONSES  # the response vocabulary the conditions name
        self.groups_named: dict[str, Values] = {}  # every group a condition names, by name
        self.measures_named: dict[str, Measure] = {}  # every measure a condition names, by name
        self.thresholds: dict[str, list[Fraction]] = {}  # every threshold each measure is compared with
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

    # -- numbers -----------------------------------------------------------------------

    def whole(self, word: ast.Word, what: str) -> bool:
        """Whether ``word`` is a whole number; reported when it is not."""
        if word.text.isdigit():
            return True
        self.sink.report(
            c.BAD_NUMBER,
            word.span,
            f"{what} must be a whole number, not `{shown(word.text)}`",
            label="a whole number is needed here",
        )
        return False

    def integer(self, word: ast.Word, what: str, limit: Limit) -> int | None:
        """Read a whole number no larger than ``limit``; report it otherwise."""
        if not self.whole(word, what):
            return None
        if len(word.text.lstrip("0")) > len(str(limit.value)) or int(word.text) > limit.value:
            self.beyond(word.span, f"{what} of {shown(word.text)}", limit)
            return None
        return int(word.text)

    def day(self, word: ast.Word) -> int | None:
        """Read a day, signed (day -7 is a week before day 1), no further from day 0 than limits.DAYS."""
        digits = word.text.removeprefix("-")
        value = self.integer(replace(word, text=digits), "a day", limits.DAYS)
        return -value if value is not None and digits != word.text else value

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
        """Read a decimal number (``.5`` is 0.5)."""
        try:
            return Decimal(word.text if not word.text.startswith(".") else "0" + word.text)
        except InvalidOperation:  # the grammar only lets digits through; kept for safety
            self.sink.report(c.BAD_NUMBER, word.span, f"`{shown(word.text)}` is not a number")
            return None

    def amount(self, word: ast.Word) -> Decimal | None:
        """Return the amount ``word`` says unless it is beyond the amount limits (reported)."""
        value = self.decimal(word)
        if value is None:
            return None
        places = len(word.text.partition(".")[2].rstrip("0"))
        if value > AMOUNT_LIMIT:
            self.beyond(word.span, f"the amount {shown(word.text)}", limits.AMOUNTS)
            return None
        if places > limits.DECIMALS.value:
            self.beyond(word.span, f"the amount {shown(word.text)}, with {places} decimal places,", limits.DECIMALS)
            return None
        return value

    def minutes(self, amount: ast.Word, unit: ast.Word) -> int | None:
        """Read a time as whole minutes, within its limit; report it otherwise."""
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
            self.beyond(amount.span, f"a time of {shown(amount.text)} {unit.text}", limits.MINUTES)
            return None
        return int(total)

    def date(self, word: ast.Word) -> str | None:
        """Return an ISO date that exists; report one that does not."""
        try:
            datetime.date.fromisoformat(word.text)
        except ValueError:
            self.sink.report(c.BAD_DATE, word.span, f"`{word.text}` is not a calendar date", label="no such date")
            return None
        return word.text

    def url(self, text: ast.Text) -> str:
        """Keep a link as written; the rules judge its scheme."""
        self.links.append(ir.Written(span=text.span, text=text.value))
        return text.value

    # -- units and quantities ------------------------------------------------------------

    def unit(self, word: ast.Word) -> Unit | None:
        """Return the unit a word names (an error-prone form names its unit too); report one that names none."""
        text = word.text
        found = find_unit(ERROR_PRONE_UNITS.get(text, text))  # an error-prone form is judged by the rules
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

    def quantity(self, span: Span, amount: ast.Word, unit: ast.Word) -> ir.Quantity | None:
        """Return an amount and its unit, both as written; None if either cannot be resolved."""
        value, found = self.amount(amount), self.unit(unit)
        if value is None or found is None:
            return None
        return ir.Quantity(span=span, amount=value, unit=found, amount_word=amount, unit_word=unit)

    # -- medicines -------------------------------------------------------------------------

    def find(self, ref: ast.DrugRef) -> Medicine | None:
        """Return the medicine ``ref`` names (an alias, unless quoted, or the table's), or None."""
        found = self.aliases.get(ref.text) if not ref.quoted else None
        return found or self.defs.medicines.find(ref.text)

    def medicine(self, ref: ast.DrugRef) -> Medicine | None:
        """Return the medicine ``ref`` names, kept as a mention; report a name that names none."""
        found = self.find(ref)
        if found is not None:
            self.mentions.append(ir.Mention(written=ref, medicine=found))
            return found
        named = make_medicine(ref.text)
        keyword = None if ref.quoted else close_match(ref.text, LINE_KEYWORDS)
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

    def link(self, word: ast.Word) -> str:
        """Return the regimen id ``word`` links to; report one the library does not hold."""
        ids = self.defs.regimen_ids
        if ids is not None and word.text not in ids:
            self.unknown(
                c.UNKNOWN_LINK,
                word.span,
                f"no regimen `{word.text}` in this library",
                label="no such regimen",
                word=word.text,
                candidates=ids - {self.regimen_id},  # never the regimen itself
                otherwise="link to the id of a regimen file under the library root",
            )
        return word.text
