"""The bundled library: clean with every rule, published whole, 35+ regimens over 8+ cancer types.

A regimen not transcribed from a reviewed source in ../shared is a draft that cites its sources (one at least
with its address); a transcription says so in its header comment, naming the file of ../shared it is from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from regdsl.check.run import run_configured
from regdsl.cli.main import EXIT_OK, main
from regdsl.model.ir import Regimen, Status
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
TRANSCRIBED = re.compile(r"\A(?:#[^\n]*\n)*?# Transcribed from (?:[^\n]|\n#)*?shared/(?:corpus/nz-fhir|seed)/\S+")
STYLE = re.compile(r"^[A-Z]{2,5}(?: [A-Z][A-Za-z0-9]*)* .* - \S")  # STREAM SUBTYPE Setting - medicines


@pytest.fixture(scope="module")
def library() -> list[Regimen]:
    result = run_configured([REGIMENS])
    errors = [d for d in result.diagnostics if d.level.value == "error"]
    assert errors == []
    return list(result.regimens)


def test_the_library_publishes_every_regimen(tmp_path: Path, library: list[Regimen]) -> None:
    site = tmp_path / "site"
    assert main(["build", str(REGIMENS), "-o", str(site)]) == EXIT_OK
    index = json.loads((site / "index.json").read_text(encoding="utf-8"))
    assert sorted(entry["id"] for entry in index) == sorted(r.id for r in library)
    assert len(index) >= 35
    cancer_types = {entry["cancer"][0] for entry in index}
    assert len(cancer_types) >= 8, cancer_types


def test_every_regimen_not_transcribed_is_a_draft_citing_its_sources(library: list[Regimen]) -> None:
    for regimen in library:
        source = (REGIMENS / f"{regimen.id}.reg").read_text(encoding="utf-8")
        if TRANSCRIBED.search(source):
            continue
        assert regimen.status is Status.DRAFT, regimen.id
        assert "reviewed" not in [f.name for f in regimen.meta.footnotes], regimen.id
        assert regimen.references, regimen.id
        assert any(url.startswith(("https://", "http://")) for r in regimen.references for url in r.urls), regimen.id


def test_every_name_is_in_the_library_style(library: list[Regimen]) -> None:
    for regimen in library:
        assert STYLE.match(regimen.meta.get("name") or ""), (regimen.id, regimen.meta.get("name"))
