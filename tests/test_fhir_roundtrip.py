"""Round trips through FHIR: import and export back, export and import back.

- Each of the four NZ files of ``shared/corpus/nz-fhir``, imported and exported with ``--profile cca``,
  holds every leaf the fidelity walk (``tests/test_fidelity_fhir.py``) checks of the original, with
  the same values, but the published files' defects.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from regdsl.compile.library import check_paths
from regdsl.diagnostics import Severity
from regdsl.fhir import ig
from regdsl.fhir.export import export_fhir
from regdsl.fhir.importer import import_bytes
from regdsl.fhir.resources import resource_id
from tests import test_fidelity_fhir as fidelity
from tests.conftest import ROOT, shared
from tests.test_fhir_export import assert_keeps_checked_facts

LIBRARY = ROOT / "regimens" / "library.reg"


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
