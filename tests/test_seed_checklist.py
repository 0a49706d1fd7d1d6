"""Every non-blank line of the seed page maps to a fact of the model, or is layout (with a reason).

The seed is the NZ SACT Regimen Library page in ``shared/seed``; its transcription is
``regimens/leu-all-bcell-rr-inotuzumab.reg``. Each fact is rebuilt from the lowered
model the way the page writes it, so a line matches only if the model holds its fact.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from regdsl.compile.library import check_paths
from regdsl.model import ir
from tests.conftest import ROOT, shared

REGIMEN = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"
SITE_HEADER_END = "Systemic Anti-Cancer Therapy Regimen Library"

LAYOUT: dict[str, str] = {
    "Treatment Overview": "section heading",
    "Cycle length:": "field label; the length itself is checked on the next line",
    "Cycle details": "section heading",
    "Medication Dose Route Days Max Duration": "table header",
    "Full details": "section heading",
    "Medication Dose Route Max duration Details": "table header",
    "Instructions:": "field label before each administration's instructions",
    "Supportive Care Factors": "section heading",
    "Factor Value": "table header",
    "References": "section heading",
}


def _norm(line: str) -> str:
    line = line.replace("\u00a0", " ").strip()
    line = re.sub(r"^[•\-]\s*", "", line)
    return " ".join(line.split())


def _amount(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _dose(admin: ir.Administration) -> str:
    unit = admin.dose.unit.display + (" flat dosing" if admin.dose.flat else "")
    return f"{_amount(admin.dose.amount)} {unit}"


def _row(admin: ir.Administration, with_days: bool) -> str:
    parts = [admin.medicine.display + (" *" if admin.off_label else ""), _dose(admin)]
    parts.append(admin.route.term if admin.route else "")
    if with_days:
        parts.append(", ".join(str(d) for d in admin.days))
    if admin.max_minutes is not None:
        parts.append(f"{admin.max_minutes} minutes")
    return " ".join(p for p in parts if p)


def _prose_lines(text: str | None) -> set[str]:
    return {_norm(line) for line in (text or "").split("\n") if line.strip()}


def group_facts(group: ir.CycleGroup) -> set[str]:
    """Rebuild the lines the page shows under one cycle heading."""
    found = {group.heading, str(group.length_days)}
    for note in group.notes:
        if note.medicine is not None:
            found.add(f"{note.medicine.display}:")
        found |= _prose_lines(note.text)
    for admin in group.administrations:
        found |= {_row(admin, True), _row(admin, False)}
        found |= {f"Day: {d}" for d in admin.days}
        found |= _prose_lines(admin.instructions)
    return {_norm(f) for f in found}


def regimen_facts(regimen: ir.Regimen) -> set[str]:
    """Rebuild the lines the page shows outside the cycle sections."""
    found = {f"{regimen.meta.get('title')} ({regimen.name} )"}
    found |= _prose_lines(regimen.meta.overview)
    for factor in regimen.support.factors:
        found.add(f"{factor.factor_text}: {factor.value_text}")
    for note in regimen.support.notes:
        text = _norm(note.text)
        found.add(f"{note.label}: {text}" if note.label else text)
    found |= {_norm(ref.text) for ref in regimen.references}
    for footnote in regimen.meta.footnotes:
        found |= {_norm(f"{footnote.marker} {footnote.text}"), _norm(f"{footnote.marker}: {footnote.text}")}
    return {_norm(f) for f in found}


def scoped_lines(regimen: ir.Regimen) -> list[tuple[str, set[str]]]:
    """Pair each seed line with the facts in scope: the regimen's, and its cycle section's."""
    general = regimen_facts(regimen)
    headings = {_norm(g.heading): group_facts(g) for g in regimen.cycles()}
    scope: set[str] = set()
    paired = []
    for line in _seed_lines():
        key = _norm(line)
        if key in headings:
            scope = headings[key]
        elif key == "Supportive Care Factors":
            scope = set()
        paired.append((key, general | scope))
    return paired


def _seed_lines() -> list[str]:
    lines = shared("seed", "leu-all-inotuzumab-no-cr.txt").read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == SITE_HEADER_END)
    return [line for line in lines[start + 1 :] if line.strip()]


@pytest.fixture(scope="module")
def seed_regimen() -> ir.Regimen:
    result = check_paths([REGIMEN])
    assert not [d for d in result.diagnostics if d.level.value != "info"]
    (regimen,) = result.regimens
    return regimen


def test_every_seed_line_is_a_fact_in_its_section_or_layout(seed_regimen: ir.Regimen) -> None:
    missing = [key for key, facts in scoped_lines(seed_regimen) if key not in LAYOUT and key not in facts]
    assert not missing, "seed lines with no fact in the model:\n" + "\n".join(missing)
    assert len(_seed_lines()) == 152


def test_seed_typos_are_kept_verbatim(seed_regimen: ir.Regimen) -> None:
    text = "\n".join(sorted(set().union(*(facts for _, facts in scoped_lines(seed_regimen)))))
    assert "as per insitutional practice" in text
    assert "Sinsuoidal obstruction prophylaxis may be considered" in text
    assert "Subsequent cycles in this regimen is intended" in text


def test_every_layout_entry_is_used() -> None:
    assert set(LAYOUT) <= {_norm(line) for line in _seed_lines()}
