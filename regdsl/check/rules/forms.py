"""How amounts, units and words are written: the error-prone notation of the ISMP list, and misplaced units.

Each rule reads the amount and the unit as written, which the lowered regimen keeps beside
their values: a dose, the volume it is given in (`in 1000 mL`) and its cap (`max 2 mg`); the
notation rules also read every text an author writes in the file (prose, names and titles,
timing qualifiers, support values). What is error-prone, what it means, how it has been
misread and what to write instead is data (``model/data/error_prone.json``, read through
``model/notation.py``), each entry citing the ISMP List of Error-Prone Abbreviations,
Symbols, and Dose Designations. Conditions written in the language's own syntax
(`if ANC >= 1.5`) are not text, and citations are titles as published: neither is read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

from regdsl.check.context import RuleContext
from regdsl.check.fixes import number_fix, spelling_fix, unit_fix
from regdsl.check.registry import Rule, rule
from regdsl.check.rules._shared import administrations
from regdsl.diagnostics import Diagnostic, Fix, Severity
from regdsl.model import ast, ir
from regdsl.model.notation import ABBREVIATIONS, DESIGNATIONS, DOSE_UNITS, SYMBOLS, Abbreviation, Designation, Symbol
from regdsl.model.vocabulary import ERROR_PRONE_UNITS, ROUTE_BY_ALIAS, Basis
from regdsl.source import Span

__all__ = [
    "error_prone_abbreviation",
    "error_prone_symbol",
    "error_prone_unit",
    "large_number",
    "naked_decimal",
    "number_run_into_unit",
    "times_days",
    "trailing_zero",
    "unit_misused",
]

_TRAILING_ZERO = re.compile(r"\.\d*0$|\.$")
_SCALED = frozenset({Basis.PER_M2, Basis.PER_KG, Basis.AUC})


def _quantities(ctx: RuleContext) -> Iterator[ir.Quantity]:
    """Every amount written as a dose: each dose, its volume and its cap."""
    for admin in administrations(ctx.regimen):
        yield admin.dose
        if admin.volume is not None:
            yield admin.volume
        if admin.cap is not None:
            yield admin.cap


def _numbers(ctx: RuleContext) -> Iterator[ast.Word]:
    """Every number of a dose line as written: each dose, volume and cap, and the times of its `over` clause."""
    for quantity in _quantities(ctx):
        yield quantity.amount_word
    for admin in administrations(ctx.regimen):
        yield from admin.duration_words


# --------------------------------------------------------------------------- texts

# A text as written: its characters, and where each of them is.
_Written = tuple[str, Callable[[int, int], Span]]
_CHUNK = re.compile(r"\S+")
_LINK = re.compile(r"://|www\.|\w@\w", re.IGNORECASE)  # a link or an e-mail address, somewhere in a chunk


def _links(text: str) -> list[tuple[int, int]]:
    """Where the links and addresses of ``text`` are: each chunk between spaces that holds one (linear work)."""
    return [chunk.span() for chunk in _CHUNK.finditer(text) if _LINK.search(chunk.group())]


def _in_link(text: str) -> Callable[[int], bool]:
    """Return whether an offset of ``text`` is in one of its links or addresses (``_links``, found when first asked).

    Asked only where a pattern matches, which few texts hold: most texts are never split into chunks.
    """
    found: list[list[tuple[int, int]]] = []

    def inside(offset: int) -> bool:
        if not found:
            found.append(_links(text))
        return any(a <= offset < b for a, b in found[0])

    return inside


def _texts(regimen: ir.Regimen) -> Iterator[_Written]:
    """Every text written in the regimen's own file, once: prose lines, names and titles, qualifiers, support values."""
    seen: set[tuple[str, int]] = set()

    def mine(span: Span) -> bool:
        key = (span.path, span.start)
        if span.path != regimen.path or key in seen:
            return False  # a library's text is that file's; `same as` repeats lines
        seen.add(key)
        return True

    for prose in regimen.prose:
        if mine(prose.span):
            for number, line in enumerate(prose.lines):
                yield line, functools.partial(prose.at, number)
    for text in regimen.headings:
        if mine(text.span):
            yield text.value, text.at
    for admin in administrations(regimen):
        for relation in admin.relations:
            if relation.qualifier_text is not None and mine(relation.qualifier_text.span):
                yield relation.qualifier_text.value, relation.qualifier_text.at
    for support in (regimen.support, *(part.support for part in regimen.parts)):
        for factor in support.factors:
            if mine(factor.value_word.span):
                yield factor.value_word.text, factor.value_word.at


def _matches(ctx: RuleContext, pattern: re.Pattern[str]) -> Iterator[tuple[str, Span]]:
    """Yield each match of ``pattern`` in the regimen's texts (not in a link or an address), and its form's span."""
    for text, at in _texts(ctx.regimen):
        in_link = _in_link(text)
        for match in pattern.finditer(text):
            start, end = match.span("form")
            if not in_link(start):
                yield match.group(), at(start, end)


def _alternatives(forms: tuple[str, ...]) -> str:
    return "|".join(re.escape(form) for form in sorted(forms, key=lambda f: (-len(f), f)))


_NUMBER_END = r"(?![\d.,]\d)"  # a number's last digit: not followed by more of the number
_UNIT = r"(?P<unit>" + _alternatives(DOSE_UNITS) + r")(?![^\W\d_])"
_BEFORE_UNIT = _NUMBER_END + r"(?=\s*" + _UNIT.replace("(?P<unit>", "(?:") + ")"


def _designation(
    rule_: Rule, name: str, span: Span, written: str, label: str, fixes: tuple[Fix, ...] = ()
) -> Diagnostic:
    """Report the dose designation ``name`` at ``span``, in ISMP's words."""
    entry: Designation = DESIGNATIONS[name]
    return rule_.finding(
        span,
        f"`{written}` is written in an error-prone way: {entry.misread}",
        label=label,
        help=f"write {entry.instead} (ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations)",
        fixes=fixes,
    )


# --------------------------------------------------------------------------- SAF101, SAF102

_PROSE_TRAILING_ZERO = re.compile(r"(?<![\w.,])(?P<form>\d+\.\d*0)" + _BEFORE_UNIT)
_PROSE_NAKED_DECIMAL = re.compile(r"(?<![\w.,])(?P<form>\.\d+)" + _NUMBER_END)


def _write_without_zero(text: str) -> str:
    return f"write `{text.rstrip('0').rstrip('.') or '0'}`"


@rule("SAF101", "dose-trailing-zero", Severity.ERROR, "dose written with a trailing zero")
def trailing_zero(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find amounts written with a zero, or a point, after the last significant digit.

    What it does: flags a dose, a volume, a cap or the time of an `over` clause whose
    number ends in a zero after the decimal point (`1.0`, `2.50`) or in the point itself
    (`5.`), and a dose written in text (prose, names, qualifiers, support values): a number
    with a trailing zero before a dose unit (`give 1.0 mg`).

    Why it matters: `1.0 mg` is misread as `10 mg`, a tenfold overdose, when the point is
    missed (ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations, 2021:
    dose designations; The Joint Commission "Do Not Use" list).

    Example:
        loratadine 10.0 mg oral days 1

    Use instead: `loratadine 10 mg oral days 1`: the amount without the trailing zero.
    """
    for word in _numbers(ctx):
        text = word.text
        if not text.startswith(".") and _TRAILING_ZERO.search(text):
            yield _designation(
                trailing_zero, "trailing-zero", word.span, text, _write_without_zero(text), number_fix(word)
            )
    for written, span in _matches(ctx, _PROSE_TRAILING_ZERO):
        yield _designation(trailing_zero, "trailing-zero", span, written, _write_without_zero(written))


@rule("SAF102", "dose-naked-decimal", Severity.ERROR, "dose written without a leading zero")
def naked_decimal(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find amounts written with no zero before the decimal point.

    What it does: flags a dose, a volume, a cap or the time of an `over` clause whose number
    starts with the decimal point (`.5`), and any number so written in text (prose, names, qualifiers, support
    values: `give .5 mg`, `ANC below .5`).

    Why it matters: `.5 mg` is misread as `5 mg`, a tenfold overdose, when the point is
    missed (ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations, 2021:
    dose designations; The Joint Commission "Do Not Use" list).

    Example:
        dexamethasone .5 mg oral days 1

    Use instead: `dexamethasone 0.5 mg oral days 1`.
    """
    for word in _numbers(ctx):
        if word.text.startswith("."):
            yield _designation(
                naked_decimal, "naked-decimal", word.span, word.text, f"write `0{word.text}`", number_fix(word)
            )
    for written, span in _matches(ctx, _PROSE_NAKED_DECIMAL):
        yield _designation(naked_decimal, "naked-decimal", span, written, f"write `0{written}`")


# --------------------------------------------------------------------------- SAF104


def _abbreviation_pattern(entry: Abbreviation) -> re.Pattern[str]:
    """Match ``entry`` as a whole word (not part of another, nor of `q.d.s.`); a unit only after a number."""
    forms = "|".join(
        re.escape(form) + (r"(?![\w-])" if form.islower() else r"(?!\w)")  # `hs-CRP` is not `hs`; `IT-MTX` is `IT`
        for form in sorted(entry.written, key=lambda f: (-len(f), f))
    )
    before = r"(?<=\d)\s*" if entry.after_number else r"(?<![\w.])"
    return re.compile(before + r"(?P<form>" + forms + r")(?!\.\w)")


_ABBREVIATION_PATTERNS = tuple((entry, _abbreviation_pattern(entry)) for entry in ABBREVIATIONS)
_ROUTE_ABBREVIATIONS = {form: entry for entry in ABBREVIATIONS if entry.route for form in entry.written}


def _shouted(line: str) -> bool:
    """Whether a line is written all in capitals (`DO NOT GIVE IT INTRATHECALLY`), where `IT` is a word."""
    return not any(c.islower() for c in line) and len(re.findall(r"[^\W\d_]{2,}", line)) >= 3


def _abbreviation_finding(span: Span, written: str, entry: Abbreviation, fixes: tuple[Fix, ...] = ()) -> Diagnostic:
    return error_prone_abbreviation.finding(
        span,
        f"`{written}` ({entry.meaning}) is an error-prone abbreviation: {entry.misread}",
        label=f"write {entry.instead}",
        help=f"write {entry.instead} (ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations)",
        fixes=fixes,
    )


def _route_fix(route: ast.Word) -> tuple[Fix, ...]:
    """Write an abbreviated route as the first spelling of the same route that is not error-prone (`SC`: `subcut`)."""
    meant = ROUTE_BY_ALIAS.get(route.text.lower())
    if meant is None:
        return ()
    spelt = next((a for a in meant.aliases if a not in _ROUTE_ABBREVIATIONS), None)
    return spelling_fix(route.span, spelt) if spelt is not None else ()


@rule("SAF104", "error-prone-abbreviation", Severity.WARNING, "an error-prone abbreviation in text or as a route")
def error_prone_abbreviation(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find abbreviations that ISMP lists as error-prone.

    What it does: reads every text of a regimen (instructions, notes, overviews, names and
    titles, timing qualifiers, support values) for the abbreviations of the ISMP List of
    Error-Prone Abbreviations, Symbols, and Dose Designations that a regimen may hold:
    units right after a number (`U`, `IU`, `µg`, `ug`, `cc`, `ml`), routes (`IT`, `SC`,
    `SQ`, `sub q`, `IJ`), frequencies (`qd`, `q.d.`, `qod`, `q1d`, `qhs`, `qn`, `hs`, `HS`,
    `TIW`, `BIW`), `D/C`, and abbreviated medicine names (`MTX`, `AZT`, `ARA A`, `TAC`,
    `MSO4`, `MgSO4`, `HCl`, `TXA`, `APAP`). It also flags a route abbreviation written as the
    route of a dose line (`IT`, `SC`). Units written this way on a dose line are VOC005's.
    A line written all in capitals is a label or a warning, where `IT` is a word.

    Why it matters: each of these has been misread and has harmed patients (ISMP List of
    Error-Prone Abbreviations, Symbols, and Dose Designations, 2021). `U` read as a zero
    turns 10 U into 100 units; `qd` read as `qid` gives four doses a day instead of one;
    `IT` has been read as intratracheal and `SC` as `SL`; `MTX` has been read as
    mitoxantrone.

    Example:
        cycle 1: 21 days
          methotrexate 12 mg flat IT day 1
            | Give MTX qd if the CSF is positive.

    Use instead: `methotrexate 12 mg flat intrathecal day 1` and "Give methotrexate daily if
    the CSF is positive."
    """
    regimen = ctx.regimen
    for text, at in _texts(regimen):
        shouted = _shouted(text)
        in_link = _in_link(text)
        for entry, pattern in _ABBREVIATION_PATTERNS:
            for match in pattern.finditer(text):
                start, end = match.span("form")
                written = match.group("form")
                if in_link(start) or (shouted and written.isupper() and written.isalpha()):
                    continue
                if written.count(".") == 1 and written.endswith("."):
                    end, written = end - 1, written[:-1]  # `qd.` ends a sentence
                yield _abbreviation_finding(at(start, end), written, entry)
    for admin in administrations(regimen):
        route = admin.route_word
        if route is None or route.span.path != regimen.path:
            continue
        route_entry = _ROUTE_ABBREVIATIONS.get(route.text)
        if route_entry is not None:
            yield _abbreviation_finding(route.span, route.text, route_entry, _route_fix(route))


# --------------------------------------------------------------------------- SAF106


def _symbol_pattern(entry: Symbol) -> re.Pattern[str]:
    symbol = re.escape(entry.symbol)
    if entry.where == "before-number":  # `> 1.5`, `<=60`; not an arrow (`->`, `<-`)
        return re.compile(r"(?<![-=<>])(?P<form>" + symbol + r")(?![-<>])=?\s*[\d.]")
    if entry.where == "alone":  # `10 mg @ 8 am`, `A & B`; not `HER2+`, `R&D`, `+ve`, `+/-` (plus or minus), an address
        return re.compile(r"(?<![\w" + symbol + r"])(?P<form>" + symbol + r")(?![^\W\d_]|/-|" + symbol + r")")
    return re.compile(r"\d\s*" + _UNIT + r"\s*(?P<form>" + symbol + r")\s*\.?\d")  # `25 units/10 units`


_SYMBOL_PATTERNS = tuple((entry, _symbol_pattern(entry)) for entry in SYMBOLS)


@rule("SAF106", "error-prone-symbol", Severity.WARNING, "an error-prone symbol in text")
def error_prone_symbol(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find symbols that ISMP lists as error-prone, written in text.

    What it does: reads every text of a regimen (instructions, notes, overviews, names and
    titles, timing qualifiers, support values) for the symbols of the ISMP List of
    Error-Prone Abbreviations, Symbols, and Dose Designations: `>` and `<` before a number
    (`ANC > 1.5`), `@`, `&` and `+` standing alone (`10 mg @ 8 am`; not `HER2+`, `R&D` or an
    e-mail address), and a slash between two doses (`25 units/10 units`; `mg/m2` is a unit).
    Conditions written in the language (`proceed if ANC >= 1.5`) are not text.

    Why it matters: `>` and `<` have been read as their opposites, `@` and `&` as the number
    2, `+` as the number 4, and a slash between doses as the number 1, so that 25 units/10
    units became 25 units and 110 units (ISMP List of Error-Prone Abbreviations, Symbols, and
    Dose Designations, 2021: symbols).

    Example:
        note
          | Give 8 mg @ 8 am if the ANC is > 1.5.

    Use instead: "Give 8 mg at 8 am if the ANC is more than 1.5."
    """
    for entry, pattern in _SYMBOL_PATTERNS:
        for _written, span in _matches(ctx, pattern):
            yield error_prone_symbol.finding(
                span,
                f"`{entry.symbol}` ({entry.meaning}) is an error-prone symbol: {entry.misread}",
                label=f"write {entry.instead}",
                help=f"write {entry.instead} (ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations)",
            )


# --------------------------------------------------------------------------- SAF107 - SAF109

_RUN_TOGETHER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*" + _UNIT.replace("(?P<unit>", "(?P<form>"))
_LARGE_NUMBER = re.compile(
    r"(?<![\w.,])(?P<form>\d{" + str(DESIGNATIONS["large-number"].digits) + r",})" + _BEFORE_UNIT
)
_TIMES_DAYS = re.compile(r"(?<!\w)(?P<form>[x×]\s?\d+\s?d)(?!\w)")


@rule("SAF107", "number-run-into-unit", Severity.WARNING, "a dose's number and unit written with no space")
def number_run_into_unit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find doses in text whose number runs into the unit.

    What it does: reads every text of a regimen (instructions, notes, overviews, names and
    titles, timing qualifiers, support values) for a number written against a dose unit
    with no space between them (`10mg`, `2mL`, `5000units`), and a dose line's own dose so
    written (`ondansetron 8mg oral`), and points at the unit.

    Why it matters: the m of `10mg` has been read as one or two zeros, so 10mg became 100 mg
    (ISMP List of Error-Prone Abbreviations, Symbols, and Dose Designations, 2021: dose
    designations, numerical dose and unit of measure run together).

    Example:
        note
          | Reduce to 50mg if the creatinine clearance falls.

    Use instead: "Reduce to 50 mg if the creatinine clearance falls."
    """
    for quantity in _quantities(ctx):
        unit = quantity.unit_word
        if unit.span.start == quantity.amount_word.span.end and unit.span.path == ctx.regimen.path:
            written = quantity.text + unit.text
            yield _designation(number_run_into_unit, "run-together", unit.span, written, "put a space before the unit")
    for written, span in _matches(ctx, _RUN_TOGETHER):
        yield _designation(number_run_into_unit, "run-together", span, written, "put a space before the unit")


@rule("SAF108", "large-number-ungrouped", Severity.WARNING, "a large dose written without grouped digits")
def large_number(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find large doses in text written as a run of digits.

    What it does: reads every text of a regimen (instructions, notes, overviews, names and
    titles, timing qualifiers, support values) for a dose of five digits or more written
    without grouping (`100000 units`, `1000000 units`). The language's own dose lines write
    large doses with their unit (`1 million units`) and are not read here.

    Why it matters: 100000 has been read as 10,000 or 1,000,000 and 1000000 as 100,000: a
    tenfold error either way (ISMP List of Error-Prone Abbreviations, Symbols, and Dose
    Designations, 2021: dose designations, large doses without properly placed commas).

    Example:
        note
          | Flush the line with 100000 units of heparin.

    Use instead: "100,000 units" or "100 thousand units", "1 million units".
    """
    for written, span in _matches(ctx, _LARGE_NUMBER):
        yield _designation(large_number, "large-number", span, written, "group the digits, or use words")


@rule("SAF109", "times-days-abbreviation", Severity.WARNING, "`x3d` written for a number of days")
def times_days(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find durations written as `x3d`.

    What it does: reads every text of a regimen (instructions, notes, overviews, names and
    titles, timing qualifiers, support values) for a number of days written `x3d`, `x 5d`
    or `×3d`.

    Why it matters: `x3d` has been read as three doses rather than three days (ISMP List of
    Error-Prone Abbreviations, Symbols, and Dose Designations, 2021: abbreviations for
    frequency and instructions for use).

    Example:
        note
          | Dexamethasone 8 mg twice daily x3d after each cycle.

    Use instead: "for three days" (or "on days 2 to 4" in the dose line's own days).
    """
    for written, span in _matches(ctx, _TIMES_DAYS):
        entry = DESIGNATIONS["times-days"]
        yield times_days.finding(
            span,
            f"`{written}` is an error-prone way to write a number of days: {entry.misread}",
            label="write `for N days`",
            help=f"write the days in words, as `{entry.instead}` (ISMP List of Error-Prone Abbreviations, "
            "Symbols, and Dose Designations)",
        )


@rule("VOC005", "error-prone-unit", Severity.ERROR, "a unit is written in an error-prone form")
def error_prone_unit(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find units written in a form that has been misread.

    What it does: flags a unit of a dose, a volume or a cap written as `µg`, `ug`, `U`,
    `IU` or another form of the ISMP list; the unit is read as the one meant.

    Why it matters: `µg` is misread as `mg` (a thousandfold overdose) and `U` or `IU` as a
    zero or a four (ISMP list of error-prone abbreviations).

    Example:
        vinCRIStine 1400 µg IV days 1 over 10 min

    Use instead: the unit spelt out: `microgram`, `units`, `international units`.
    """
    for quantity in _quantities(ctx):
        text = quantity.unit_word.text
        instead = ERROR_PRONE_UNITS.get(text)
        if instead is not None:
            yield error_prone_unit.finding(
                quantity.unit_word.span,
                f"`{text}` is an error-prone way to write a unit",
                label=f"write `{instead}`",
                help=f"write `{instead}`: `{text}` has been misread, causing overdoses",
                fixes=unit_fix(quantity, instead),
            )


@rule("STR020", "unit-misused", Severity.ERROR, "a unit does not fit where it is written")
def unit_misused(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find `flat`, volumes and caps whose units do not fit them.

    What it does: flags `flat` on a dose scaled by body size (mg/m2, mg/kg, AUC), a volume
    (`in 1000 mL`) in another unit than mL, and a cap (`max 2 mg`) that is not an absolute
    amount on a scaled dose (a cap on an absolute dose, or a cap in mg/m2).

    Why it matters: `flat` says the dose is not scaled by body size; on mg/m2 it contradicts
    the unit, and a reader cannot tell which was meant. A cap limits what a scaled dose comes
    to, so it is an absolute amount, and only a scaled dose has one.

    Example:
        cISplatin 75 mg/m2 flat IV days 1 over 60 min

    Use instead: `cISplatin 75 mg/m2 IV days 1 over 60 min`, or a flat dose in mg.
    """
    for admin in administrations(ctx.regimen):
        unit, volume, cap = admin.dose.unit, admin.volume, admin.cap
        scaled = unit.basis in _SCALED
        if admin.dose.flat and unit.basis is not Basis.ABSOLUTE:
            yield unit_misused.finding(
                admin.dose.span,
                f"`flat` means a dose not scaled by body size, but {unit.display} is not a flat amount",
                label="remove `flat`",
            )
        if volume is not None and volume.unit.term != "mL":
            yield unit_misused.finding(
                volume.span, f"a volume is given in mL, not {volume.unit.display}", label="write mL"
            )
        if cap is not None and (cap.unit.basis is not Basis.ABSOLUTE or not scaled):
            yield unit_misused.finding(
                cap.span,
                "`max` caps a dose scaled by body size with an absolute amount, such as `max 2 mg`"
                if scaled
                else f"`max` caps only a scaled dose; {admin.dose.text} {unit.display} is already absolute",
                label="not a valid cap",
            )
