"""Round trips through FHIR: import and export back, export and import back.

- Each of the four NZ files of ``shared/corpus/nz-fhir``, imported and exported with ``--profile cca``,
  holds every leaf the fidelity walk (``tests/test_fidelity_fhir.py``) checks of the original, with
  the same values, but the published files' defects.
- Every bundled regimen, exported with ``--profile cca`` and imported, has the facts the profile
  carries in elements (``cca_facts``) equal to the original's; the profile carries the rest as
  the pages' words (docs/fhir.md, "Round trips").
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from regdsl.check.run import run_check
from regdsl.compile.library import check_paths
from regdsl.diagnostics import Severity
from regdsl.fhir import ig
from regdsl.fhir.export import export_fhir
from regdsl.fhir.importer import import_bytes
from regdsl.fhir.resources import FIELDS, resource_id
from regdsl.model import ir
from tests import test_fidelity_fhir as fidelity
from tests.conftest import ROOT, shared
from tests.facts import bundled
from tests.test_fhir_export import assert_keeps_checked_facts

REGIMENS = ROOT / "regimens"
LIBRARY = REGIMENS / "library.reg"
BUNDLED = sorted(p.stem for p in REGIMENS.glob("*.reg") if p.name != "library.reg")


def _library(folder: Path, texts: dict[str, str]) -> Path:
    """Write ``texts`` (.reg sources by id) beside the bundled library.reg in ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(LIBRARY, folder / "library.reg")
    for ident, text in texts.items():
        (folder / f"{ident}.reg").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("source", sorted(fidelity.CASES))
def test_an_imported_nz_regimen_exports_every_checked_fact(source: str, tmp_path: Path) -> None:
    path = shared("corpus", "nz-fhir", source)
    imported = import_bytes(path.read_bytes(), str(path))
    assert imported.text is not None
    assert imported.regimen_id is not None
    folder = _library(tmp_path, {imported.regimen_id: imported.text})
    outcome, files = export_fhir([folder], "cca")
    assert files is not None, [d.message for d in outcome.diagnostics if d.level is Severity.ERROR]
    doc = json.loads(files[f"{imported.regimen_id}.json"], parse_float=Decimal)
    (regimen,) = check_paths([folder / f"{imported.regimen_id}.reg"]).regimens
    assert_keeps_checked_facts(doc, regimen, source)


@pytest.mark.parametrize("ident", ["a-" * 40, "gu_pros", "x" * 64, "a" * 65])
def test_a_regimen_id_that_is_no_fhir_id_gets_a_valid_distinct_one(ident: str) -> None:
    """A regimen id may be longer than FHIR's 64 characters (the imported abiraterone regimen's is) or hold `_`."""
    made = resource_id(ident)
    assert ig.FHIR_ID.fullmatch(made)
    assert made == ident if ig.FHIR_ID.fullmatch(ident) else made != resource_id(ident + "x")


def _quantity(quantity: ir.Quantity | None) -> tuple[Decimal, str] | None:
    return None if quantity is None else (quantity.amount, quantity.unit.code)


def _heading(meta: ir.Meta) -> list[Any]:
    """Return the heading's facts the profile carries (FIELDS, the code, identifiers, cancer, setting, overview).

    The regimen code travels as the `fields` section of `sact-additional-details`.
    """
    setting = meta.setting and (meta.setting.text, meta.setting.code)
    cancer = [(term.text, term.code) for term in meta.cancer]
    fields = [meta.get(key) for key in (*(key for key, _ in FIELDS), "code")]
    return [fields, meta.identifiers, cancer, setting, meta.overview]


def cca_facts(regimen: ir.Regimen) -> list[Any]:
    """Return the facts of ``regimen`` a ``CcaPlanDefinition`` carries in elements of its own, in order."""
    facts: list[Any] = [regimen.name, regimen.status, regimen.meta.superseded_by, *_heading(regimen.meta)]
    for part in regimen.parts:
        facts.append(("part", part.number, part.title or None, *_heading(part.meta)))
        facts += [("support", f.factor_text, f.value_text) for f in part.support.factors]
        facts += [("reference", r.text) for r in part.references]
        for group in part.cycles:
            facts.append(("cycles", group.first, group.last, group.open_ended, group.length_days))
            lines = [
                (
                    line.medicine.name,
                    line.dose.amount,
                    line.dose.unit.code,
                    line.dose.flat,
                    line.route.term if line.route else None,
                    line.frequency.term if line.frequency else None,
                    line.days,
                    line.max_minutes,
                    _quantity(line.volume),
                    _quantity(line.cap),
                    line.prn,
                    line.role,
                    line.off_label,
                    line.instructions,
                )
                for line in group.administrations
            ]
            facts.append(sorted(lines, key=repr))  # the export gives each line its own order set, by day
    facts += [("support", f.factor_text, f.value_text) for f in regimen.support.factors]
    facts += [("reference", r.text) for r in regimen.references]
    return facts


@pytest.fixture(scope="module")
def cca_reimported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ir.Regimen, list[str]]]:
    """Export every bundled regimen under cca and import each: by bundled id, the regimen and its check's errors."""
    _, files = export_fhir([REGIMENS], "cca")
    assert files is not None
    texts: dict[str, str] = {}
    names: dict[str, str] = {}
    for stem in BUNDLED:
        imported = import_bytes(files[f"{stem}.json"], f"{stem}.json")
        assert imported.text is not None, [d.message for d in imported.diagnostics]
        assert imported.regimen_id is not None
        assert not imported.has_errors, (stem, [d.message for d in imported.diagnostics if d.level is Severity.ERROR])
        texts[imported.regimen_id], names[stem] = imported.text, imported.regimen_id
    folder = _library(tmp_path_factory.mktemp("cca"), texts)
    checked = run_check([folder], jobs=1)
    by_path = {Path(r.path).name: r for r in checked.regimens}
    errors: dict[str, list[str]] = {}
    for d in checked.diagnostics:
        if d.level is Severity.ERROR:
            errors.setdefault(Path(d.span.path).name, []).append(d.code.code)
    return {
        stem: (by_path[f"{names[stem]}.reg"], sorted(set(errors.get(f"{names[stem]}.reg", [])))) for stem in BUNDLED
    }


# The round-tripped regimens whose check fails, each for a fact cca carries only in words.
CCA_TEXT_ONLY = {
    # the note on the line named `methotrexate (infusion)` (line names and notes are text): no rescue found
    "leu-all-hyper-cvad": ["SUP014"],
    # ondansetron `before chemotherapy` and `after chemotherapy` (relations are text): one dose given twice
    "lung-nsclc-metastatic-carboplatin-pemetrexed-pembrolizumab": ["STR014"],
    # `before methotrexate (loading)` and the rescue's note (line names are text): no line to time from
    "lym-pcnsl-r-hd-methotrexate-cytarabine": ["SUP014", "TIM007"],
    # `by len-schedule:` (a choice's branches are text): both schedules given to everyone
    "pcn-mm-lenalidomide-maintenance": ["STR014"],
}


@pytest.mark.parametrize("stem", BUNDLED)
def test_cca_export_and_import_keep_every_fact_the_profile_carries(
    stem: str, cca_reimported: dict[str, tuple[ir.Regimen, list[str]]]
) -> None:
    regimen, _ = cca_reimported[stem]
    assert cca_facts(regimen) == cca_facts(bundled(stem).regimen)


def test_cca_round_trip_checks_but_where_the_profile_has_only_words(
    cca_reimported: dict[str, tuple[ir.Regimen, list[str]]],
) -> None:
    assert {stem: errors for stem, (_, errors) in cca_reimported.items() if errors} == CCA_TEXT_ONLY


@pytest.mark.parametrize("status", ["provisional", "superseded by lung-nsclc-metastatic-alectinib"])
def test_a_status_no_bundled_regimen_has_comes_back_from_cca(status: str, tmp_path: Path) -> None:
    """`provisional` (`sact-additional-plan-status` review) and `superseded by ID` (`sact-replaced-by`) round-trip."""
    replacement = (REGIMENS / "lung-nsclc-metastatic-alectinib.reg").read_text(encoding="utf-8")
    text = (
        (REGIMENS / "leu-cml-imatinib.reg")
        .read_text(encoding="utf-8")
        .replace("  status draft\n", f"  status {status}\n")
    )
    folder = _library(tmp_path / "in", {"leu-cml-imatinib": text, "lung-nsclc-metastatic-alectinib": replacement})
    (original,) = check_paths([folder / "leu-cml-imatinib.reg"]).regimens
    _, files = export_fhir([folder], "cca")
    assert files is not None
    imported = import_bytes(files["leu-cml-imatinib.json"], "leu-cml-imatinib.json")
    assert imported.text is not None
    assert imported.regimen_id is not None
    back = _library(
        tmp_path / "out", {imported.regimen_id: imported.text, "lung-nsclc-metastatic-alectinib": replacement}
    )
    (regimen,) = check_paths([back / f"{imported.regimen_id}.reg"]).regimens
    assert (regimen.status, regimen.meta.superseded_by) == (original.status, original.meta.superseded_by)
    assert cca_facts(regimen) == cca_facts(original)
