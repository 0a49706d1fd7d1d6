"""A process that checks again and again (the language server, ``serve``) sees what changed between runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from regdsl.check.run import run_check
from tests.conftest import ROOT

REGIMEN = "leu-aml-azacitidine-venetoclax.reg"


def _codes(folder: Path) -> list[str]:
    return [d.code.code for d in run_check([folder], jobs=1).diagnostics]


def _library(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    folder.mkdir()
    for name in ("library.reg", REGIMEN):
        shutil.copy(ROOT / "regimens" / name, folder / name)
    return folder


def test_an_edited_library_file_is_read_again(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    before = _codes(folder)
    definitions = folder / "library.reg"
    text = definitions.read_text(encoding="utf-8")
    entry = 'medicine "azacitidine"\n  anticancer\n\n'
    assert entry in text
    definitions.write_text(text.replace(entry, ""), encoding="utf-8")
    after = _codes(folder)
    assert after != before
    assert any(code.startswith("VOC") for code in set(after) - set(before))
    definitions.write_text(text, encoding="utf-8")
    assert _codes(folder) == before


def test_a_regimen_added_or_removed_between_runs_is_seen(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    linking = folder / "linking.reg"
    source = (ROOT / "tests" / "diagnostics" / "BRA010" / "pass-bounded-by-its-limits.reg").read_text(encoding="utf-8")
    linking.write_text(source.replace("continue with bra010-pass-self", "continue with later-one"), encoding="utf-8")
    assert "BRA001" in _codes(folder)
    later = source.replace("bra010-pass-self", "later-one")
    (folder / "later.reg").write_text(later, encoding="utf-8")
    assert "BRA001" not in _codes(folder)
    (folder / "later.reg").unlink()
    assert "BRA001" in _codes(folder)
