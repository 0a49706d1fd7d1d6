"""The facts of a regimen that every output must carry, and the bundled regimens compiled.

The model gives the structure (which lines, which days, which medicine), and the fidelity
tests prove it equal to the sources in ``../shared`` (the seed page line by line, the FHIR
files leaf by leaf). The words a page must show are worked out here, independently of the
renderer: a dose, a unit and a route from the ``.reg`` source as written (their spans), days
and durations from the model's numbers, prose from the author's text, each by the small rules
of wording written out below, and no formatter of ``regdsl.render`` or ``regdsl.model.doses``.
So a wording bug in the renderer is a missing fact, not a fact that moved with it. Prose is
compared verbatim, one line at a time, with white space collapsed.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from regdsl.compile.library import FileUnit, Library, load_library, lower_file, scan_regimens
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.diagnostics import Severity
from regdsl.model import ir
from regdsl.render.context import LinkTarget, RenderContext
from regdsl.source import Span
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
BUNDLED = sorted(p.stem for p in REGIMENS.glob("*.reg") if p.name != "library.reg")

# How a page words a dose, by the unit the author wrote: ``{}`` is the amount as written. A
# unit missing here is not guessed: add the words its page must show.
DOSE_WORDS = {
    "mg": "{} mg",
    "g": "{} g",
    "microgram": "{} microgram",
    "mmol": "{} mmol",
    "mg/m2": "{} mg/m²",
    "mg/m²": "{} mg/m²",
    "mg/kg": "{} mg/kg",
    "units/m2": "{} units/m²",
    "drop": "{} drop",
    "international units/m2": "{} international units/m²",
    "mg/m2/day": "{} mg/m²/day",
    "g/m2": "{} g/m²",
    "g/m2/day": "{} g/m²/day",
    "micrograms/day": "{} microgram/day",
    "microgram/m2/day": "{} microgram/m²/day",
    "mL/m2/hour": "{} mL/m²/hour",
    "mL/hour": "{} mL/hour",
    "%": "{}%",
    "AUC": "AUC {}",
    "vial": "{} vial",
    "mg/day": "{} mg/day",
    "international units": "{} international units",
}
# How a page words a route, by the spelling the author wrote.
ROUTE_WORDS = {
    "oral": "oral administration",
    "PO": "oral administration",
    "IV": "intravenous",
    "intravenous": "intravenous",
    "SC": "subcutaneous injection",
    "subcut": "subcutaneous injection",
    "intraperitoneal": "intraperitoneal injection",
    "intravesical": "intravesical administration",
    "IM": "intramuscular injection",
    "ophthalmic": "ophthalmic route",
    "intrathecal": "intrathecal injection",
}
# How a page words an infusion time, by its minutes: minutes below two hours, then whole hours.
DURATION_WORDS = {
    2: "2 minutes",
    10: "10 minutes",
    15: "15 minutes",
    30: "30 minutes",
    60: "60 minutes",
    90: "90 minutes",
    120: "2 hours",
    180: "3 hours",
    240: "4 hours",
    1320: "22 hours",
    24 * 60: "1 day",
    46 * 60: "46 hours",
    48 * 60: "2 days",
    360: "6 hours",
}
# How a page words an infusion time given as a range (`over 2 to 6 hours`), by its minutes.
DURATION_RANGE_WORDS = {
    (20, 60): "20 to 60 minutes",
    (120, 360): "2 to 6 hours",
}
_AMOUNT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
_BULLET = re.compile(r"^[-*•] +")
_STRONG = re.compile(r"\*\*([^*\s](?:[^*]*[^*\s])?)\*\*")
_EM = re.compile(r"(?<![\w*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])")


def norm(text: str) -> str:
    """Collapse white space (and non-breaking spaces) to single spaces."""
    return " ".join(text.replace("\u00a0", " ").split())


@dataclass(frozen=True)
class Built:
    """A compiled regimen and the text of every file it was read from, by path."""

    compiled: Compiled
    sources: Mapping[str, str]

    def written(self, span: Span) -> str:
        """Return the source text of ``span``, as the author wrote it."""
        return self.sources[span.path][span.start : span.end]

    def after(self, span: Span) -> str:
        """Return the rest of the source line after ``span``."""
        return self.sources[span.path][span.end :].split("\n", 1)[0]


def _built(unit: FileUnit, library: Library) -> Built | None:
    if unit.regimen is None or _errors(unit):
        return None
    sources = {unit.source.path: unit.source.text}
    if library.source is not None:
        sources[library.source.path] = library.source.text
    return Built(compile_regimen(unit.regimen), sources)


def _errors(unit: FileUnit) -> list[str]:
    return [f"{d.span.line}: {d.code.code} {d.message}" for d in unit.diagnostics if d.level is Severity.ERROR]


@functools.cache
def bundled_built(regimen_id: str) -> Built:
    """Compile one bundled regimen (it must lower without errors), with its sources."""
    library = load_library(REGIMENS)
    unit = lower_file(REGIMENS / f"{regimen_id}.reg", library)
    built = _built(unit, library)
    assert built is not None, unit.diagnostics
    return built


def bundled(regimen_id: str) -> Compiled:
    """Compile one bundled regimen (it must lower without errors)."""
    return bundled_built(regimen_id).compiled


def check_alone(data: bytes, name: str = "alone.reg", *, siblings: bool = False) -> tuple[Built | None, list[str]]:
    """Check and compile one source, as ``name``, in a library of its own.

    The library holds the bundled ``library.reg`` and, with ``siblings``, every other bundled
    regimen, for links. Return the compiled regimen (None if it fails the check) and its errors.
    """
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for copy in REGIMENS.glob("*.reg") if siblings else [REGIMENS / "library.reg"]:
            (root / copy.name).write_bytes(copy.read_bytes())
        path = root / name
        path.write_bytes(data)
        library = load_library(root)
        unit = lower_file(path, library)
        return _built(unit, library), _errors(unit)


def compile_alone(data: bytes) -> Compiled | None:
    """Compile one source in a library of its own (the bundled ``library.reg``); None if it fails the check."""
    built, _errors = check_alone(data)
    return built.compiled if built else None


def site_context(regimen_id: str) -> RenderContext:
    """Return the context a site build gives a bundled regimen's page: every sibling linked."""
    links = {
        info.id: LinkTarget(id=info.id, name=bundled(info.id).regimen.name, status=info.status, href=f"{info.id}.html")
        for info in scan_regimens(REGIMENS).values()
    }
    return RenderContext(source=f"{regimen_id}.reg", links=links, index_href="../index.html")


# -- the wording, written out ------------------------------------------------------------------


def _quantity_words(amount: str, unit: str) -> str:
    assert _AMOUNT.fullmatch(amount), f"{amount!r}: a page writes amounts without trailing or leading zeros"
    assert unit in DOSE_WORDS, f"the page wording of the unit {unit!r} is not written in tests/facts.py"
    return DOSE_WORDS[unit].format(amount)


def dose_words(built: Built, admin: ir.Administration) -> str:
    """Word a dose from its source: ``0.5 mg/m2`` as ``0.5 mg/m²``, ``1000 mg flat`` as ``1000 mg flat dosing``."""
    amount, unit = built.written(admin.dose.span).split(maxsplit=1)  # a unit may have spaces
    flat = unit.endswith(" flat")
    text = _quantity_words(amount, unit.removesuffix(" flat"))
    return f"{text} flat dosing" if flat else text


def cap_words(built: Built, admin: ir.Administration) -> str:
    """Word a dose cap from its source: ``max 2 mg`` as ``maximum 2 mg``; empty without one."""
    if admin.cap is None:
        return ""
    _max, amount, unit = built.written(admin.cap.span).split()
    return f"maximum {_quantity_words(amount, unit)}"


def route_words(built: Built, admin: ir.Administration) -> str:
    """Word a route from the word after the dose in the source: ``IV`` is ``intravenous``."""
    if admin.route is None:
        return ""
    word = built.after(admin.dose.span).split()[0]
    assert word in ROUTE_WORDS, f"the page wording of the route {word!r} is not written in tests/facts.py"
    return ROUTE_WORDS[word]


def days_words(days: Iterable[int]) -> str:
    """Word a cycle's days: ``1, 8, 15``; three or more days in a row as one range, ``1 to 28``."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    words = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{run[0]} to {run[-1]}")
        else:
            words += [str(day) for day in run]
    return ", ".join(words)


def duration_words(minutes: int | None, *, exact: bool, least: int | None = None) -> str:
    """Word an infusion time, from the tables of wordings: ``exactly`` before it if it is exact."""
    if minutes is None:
        return ""
    if least is not None and not exact:
        assert (least, minutes) in DURATION_RANGE_WORDS, f"the page wording of {least} to {minutes} minutes is missing"
        return DURATION_RANGE_WORDS[least, minutes]
    assert minutes in DURATION_WORDS, f"the page wording of {minutes} minutes is not written in tests/facts.py"
    return f"exactly {DURATION_WORDS[minutes]}" if exact else DURATION_WORDS[minutes]


def prose_lines(text: str | None) -> list[str]:
    """Return the lines of prose a reader sees: list markers and emphasis markers taken away."""
    lines = []
    for line in (text or "").splitlines():
        bare = _BULLET.sub("", line.strip(), count=1)
        bare = _EM.sub(r"\1", _STRONG.sub(r"\1", bare))
        if bare.strip():
            lines.append(norm(bare))
    return lines


# -- the facts ---------------------------------------------------------------------------------


class Row(NamedTuple):
    """An administration as its table row shows it, cell by cell, in order (an empty cell is not looked for)."""

    medicine: str
    dose: str
    cap: str
    route: str
    days: str
    duration: str


def row(built: Built, admin: ir.Administration) -> Row:
    """Return the row of ``admin``, each cell worded here."""
    return Row(
        medicine=admin.medicine.display,
        dose=dose_words(built, admin),
        cap=cap_words(built, admin),
        route=route_words(built, admin),
        days=days_words(admin.days),
        duration=duration_words(admin.max_minutes, exact=admin.exact_duration, least=admin.min_minutes),
    )


@dataclass
class Facts:
    """Texts an output must contain, and table rows whose cells must stay together."""

    texts: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def prose(self, text: str | None) -> None:
        self.texts.extend(prose_lines(text))


def facts(built: Built) -> Facts:
    """Every fact of a regimen that a page shows."""
    regimen = built.compiled.regimen
    found = Facts()
    meta = regimen.meta
    found.texts += [regimen.name, regimen.id, regimen.status.value]
    found.texts += [v for k, v in meta.fields] + [t.text for t in meta.cancer]
    if meta.setting:
        found.texts.append(meta.setting.text)
    found.prose(meta.overview)
    for footnote in meta.footnotes:
        found.texts += [footnote.marker, footnote.text]
    supports = [regimen.support] + [p.support for p in regimen.parts]
    references = list(regimen.references) + [r for p in regimen.parts for r in p.references]
    for part in regimen.parts:
        if part.title:
            found.texts.append(part.title)
        found.prose(part.meta.overview)
        if part.start is not None and part.start.text:
            found.texts.append(part.start.text)
        for group in part.cycles:
            found.texts.append(group.heading)
            for group_note in group.notes:
                found.prose(group_note.text)
            for admin in group.administrations:
                found.rows.append(row(built, admin))
                found.prose(admin.instructions)
                found.texts += [rel.qualifier for rel in admin.relations if rel.qualifier]
    for support in supports:
        for factor in support.factors:
            found.texts += [factor.factor_text, factor.value_text]
        for note in support.notes:
            if note.label:
                found.texts.append(note.label)
            found.prose(note.text)
    for ref in references:
        found.texts += [ref.text, *ref.urls, *ref.pmids, *ref.accessed]
    for limit in regimen.plan.limits:
        found.texts.append(f"At most {limit.count} {limit.unit}")
    found.texts = [norm(t) for t in found.texts if t.strip()]
    return found


def bundled_facts(regimen_id: str) -> Facts:
    """Every fact of a bundled regimen that its page shows."""
    return facts(bundled_built(regimen_id))


_MD_ESCAPE = re.compile(r"\\([\\`*_\[\]|~#>+=\-.)])")


def markdown_text(markdown: str) -> str:
    """Return the text a reader sees in a Markdown page: escapes and emphasis taken away, cells spaced."""
    # Table pipes and emphasis marks are markup; escaped ones are the text's own.
    cells = re.sub(r"(?<!\\)\*", "", re.sub(r"(?<!\\)\|", " ", markdown.replace("<br>", " ")))
    text = _MD_ESCAPE.sub(r"\1", cells.replace("&lt;", "<").replace("&amp;", "&"))
    return norm(text)


def missing(facts_: Facts, text: str, rows: list[str]) -> list[str]:
    """Return the facts absent from ``text``, and the rows no single row of ``rows`` holds in order."""
    lost = [t for t in facts_.texts if t not in text]
    for row in facts_.rows:
        cells = [norm(c) for c in row if c]
        if not any(_in_order(cells, candidate) for candidate in rows):
            lost.append(" | ".join(cells))
    return lost


def _in_order(cells: list[str], row: str) -> bool:
    at = 0
    for cell in cells:
        found = row.find(cell, at)
        if found < 0:
            return False
        at = found + len(cell)
    return True
