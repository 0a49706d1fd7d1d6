"""The facts of a regimen that every output must carry, and the bundled regimens compiled.

Facts are rebuilt from the lowered model, which the fidelity tests prove equal to the
sources in ``../shared`` (the seed page line by line, the FHIR files leaf by leaf): so a
fact found in an output is a fact of the source. Prose is compared verbatim, one line
(paragraph or bullet item) at a time, with white space collapsed.
"""

from __future__ import annotations

import functools
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from regdsl.compile.library import load_library, lower_file, scan_regimens
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.diagnostics import Severity
from regdsl.model import ir
from regdsl.model.doses import dose_text
from regdsl.render.context import LinkTarget, RenderContext
from regdsl.render.prose import Block, Item, parse_prose
from regdsl.render.view import days_text, minutes_text
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
BUNDLED = sorted(p.stem for p in REGIMENS.glob("*.reg") if p.name != "library.reg")


def norm(text: str) -> str:
    """Collapse white space (and non-breaking spaces) to single spaces."""
    return " ".join(text.replace("\u00a0", " ").split())


@functools.cache
def bundled(regimen_id: str) -> Compiled:
    """Compile one bundled regimen (it must lower without errors)."""
    unit = lower_file(REGIMENS / f"{regimen_id}.reg", load_library(REGIMENS))
    assert unit.regimen is not None, unit.diagnostics
    return compile_regimen(unit.regimen)


def compile_alone(data: bytes) -> Compiled | None:
    """Compile one source in a library of its own (the bundled ``library.reg``); None if it fails the check."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "library.reg").write_bytes((REGIMENS / "library.reg").read_bytes())
        path = root / "alone.reg"
        path.write_bytes(data)
        unit = lower_file(path, load_library(root))
    if unit.regimen is None or any(d.level is Severity.ERROR for d in unit.diagnostics):
        return None
    return compile_regimen(unit.regimen)


def site_context(regimen_id: str) -> RenderContext:
    """Return the context a site build gives a bundled regimen's page: every sibling linked."""
    links = {
        info.id: LinkTarget(id=info.id, name=bundled(info.id).regimen.name, status=info.status, href=f"{info.id}.html")
        for info in scan_regimens(REGIMENS).values()
    }
    return RenderContext(source=f"{regimen_id}.reg", links=links, index_href="../index.html")


def plain(blocks: tuple[Block, ...]) -> list[str]:
    """Return the text of prose blocks without markup: a line per paragraph or bullet item."""
    lines: list[str] = []

    def walk(items: tuple[Item, ...]) -> None:
        for item in items:
            lines.append("".join(r.text for r in item.runs))
            walk(item.children)

    for block in blocks:
        if block.kind == "paragraph":
            lines.append("".join(r.text for r in block.runs))
        else:
            walk(block.items)
    return lines


@dataclass
class Facts:
    """Texts an output must contain, and table rows whose cells must stay together."""

    texts: list[str] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def prose(self, text: str | None) -> None:
        self.texts.extend(norm(line) for line in plain(parse_prose(text)) if line.strip())


def facts(regimen: ir.Regimen) -> Facts:
    """Every fact of ``regimen`` that a page shows."""
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
                duration = minutes_text(admin.max_minutes) if admin.max_minutes is not None else ""
                route = admin.route.term if admin.route else ""
                cap = f"maximum {admin.cap.amount} {admin.cap.unit.display}" if admin.cap else ""
                found.rows.append(
                    (admin.medicine.display, dose_text(admin.dose), cap, route, days_text(admin.days), duration)
                )
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
        found.texts.append(f"At most {limit.count} cycles")
    found.texts = [norm(t) for t in found.texts if t.strip()]
    return found


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
