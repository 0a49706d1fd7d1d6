"""An open document's unsaved text, checked through ``check.run``, and what its words name (in process)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from regdsl.check.run import run_check
from regdsl.lsp import features
from regdsl.lsp.document import Libraries, analyse
from regdsl.render.context import RenderContext
from regdsl.render.document import build_document
from tests.conftest import ROOT

SEED = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"
HANDOVER = "leu-all-bcell-rr-inotuzumab-cr.reg"
BLOCKS = """\
regimen doc-use-block
  name "DOC EXAMPLE - a premedication block written once"
  status draft

block paclitaxel-premeds
  dexamethasone 20 mg oral 60 min before PACLItaxel supportive
  loratadine 10 mg oral 60 min before PACLItaxel supportive

cycle 1: 21 days
  use paclitaxel-premeds days 1, 8, 15
  PACLItaxel 80 mg/m2 IV days 1, 8, 15 over 60 min
"""


def test_run_check_reads_the_unsaved_text_in_place_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.reg"
    shutil.copy(SEED, path)
    unsaved = SEED.read_text(encoding="utf-8").replace("ino 0.8 mg/m2", "ino 0.80 mg/m2").encode()
    saved = [d.code.code for d in run_check([path]).diagnostics]
    typed = [d.code.code for d in run_check([path], texts={path: unsaved}).diagnostics]
    assert "SAF101" not in saved
    assert "SAF101" in typed
    assert run_check([path], texts={path: unsaved}).sources[str(path)].text == unsaved.decode()


def test_an_unsaved_file_that_does_not_exist_yet_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "new.reg"
    found = run_check([path], texts={path: b"regimen new\n  status draft\n\ncycle 1: 21 days\n  loratadine 10 mg\n"})
    assert "VOC003" in [d.code.code for d in found.diagnostics]
    assert not path.exists()


def test_unsaved_texts_are_never_kept_in_the_results_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("REGDSL_NO_CACHE", raising=False)
    path = tmp_path / "lib" / "seed.reg"
    path.parent.mkdir()
    shutil.copy(SEED, path)
    unsaved = SEED.read_text(encoding="utf-8").replace("ino 0.8 mg/m2", "ino 0.80 mg/m2").encode()
    assert "SAF101" in [d.code.code for d in run_check([path], texts={path: unsaved}, cache=True).diagnostics]
    assert "SAF101" not in [d.code.code for d in run_check([path], cache=True).diagnostics]


def test_a_block_is_defined_and_used(tmp_path: Path) -> None:
    path = tmp_path / "blocks.reg"
    analysis = analyse(path, BLOCKS)
    use = BLOCKS.index("use paclitaxel-premeds") + len("use ")
    ((source, span),) = features.definitions(analysis, use, {})
    assert span.start == BLOCKS.index("paclitaxel-premeds")
    assert source.path == str(path)
    places = features.references(analysis, use, {}, declarations=True)
    assert [s.start for _source, s in places] == [BLOCKS.index("paclitaxel-premeds"), use]
    said = features.hover(analysis, use)
    assert said is not None
    assert said[0] == "**Block `paclitaxel-premeds`**: dexamethasone, loratadine"
    (symbol,) = features.symbols(analysis)
    assert [child.name for child in symbol.children] == ["block paclitaxel-premeds", "cycle 1"]


def test_references_of_a_medicine_whatever_it_is_called(tmp_path: Path) -> None:
    analysis = analyse(tmp_path / "seed.reg", SEED.read_text(encoding="utf-8"))
    text = analysis.text
    by_alias = features.references(analysis, text.index("ino 0.8"), {}, declarations=False)
    by_name = features.references(analysis, text.index("ino 0.5"), {}, declarations=False)
    assert by_alias == by_name
    assert len(by_alias) == 13  # every `ino` of the file but the `drug` line that defines it


def test_a_file_with_a_syntax_error_still_answers(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8").replace("cycle 1: 21 days", "cycle one: 21 days")
    analysis = analyse(tmp_path / "seed.reg", text)
    assert any(d.code.code.startswith("SYN") for d in analysis.diagnostics)
    assert features.formatted(analysis) is None
    assert features.hover(analysis, text.index('ino = "')) is not None  # the lines of `cycle one` are set aside
    assert features.completions(analysis, 0)


def test_a_configuration_that_ignores_a_rule_is_applied(tmp_path: Path) -> None:
    (tmp_path / "regdsl.toml").write_text('ignore = ["prose-near-miss"]\n', encoding="utf-8")
    path = tmp_path / "seed.reg"
    shutil.copy(SEED, path)
    found = [d.code.name for d in analyse(path, SEED.read_text(encoding="utf-8")).diagnostics]
    assert found
    assert "prose-near-miss" not in found


def test_a_bad_configuration_is_its_findings(tmp_path: Path) -> None:
    (tmp_path / "regdsl.toml").write_text("select = [\n", encoding="utf-8")
    path = tmp_path / "seed.reg"
    shutil.copy(SEED, path)
    analysis = analyse(path, SEED.read_text(encoding="utf-8"))
    assert analysis.diagnostics == []
    assert [d.code.code for found in analysis.elsewhere.values() for d in found] == ["CFG001"]
    assert list(analysis.elsewhere) == [tmp_path / "regdsl.toml"]


def test_a_kept_library_is_read_again_once_a_file_of_it_changes(tmp_path: Path) -> None:
    for name in ("library.reg", SEED.name):
        shutil.copy(ROOT / "regimens" / name, tmp_path / name)
    path, shared = tmp_path / SEED.name, tmp_path / "library.reg"
    text = SEED.read_text(encoding="utf-8")
    libraries = Libraries()
    first = analyse(path, text, libraries)
    assert analyse(path, text, libraries).library is first.library  # nothing changed: the library is kept
    assert "BRA001" in [d.code.code for d in first.diagnostics]  # the regimen handed over to is missing
    shutil.copy(ROOT / "regimens" / HANDOVER, tmp_path / HANDOVER)
    added = analyse(path, text, libraries)
    assert added.library is not first.library
    assert "BRA001" not in [d.code.code for d in added.diagnostics]
    shared.write_text(
        shared.read_text(encoding="utf-8").replace('footnote s29 "s29"', 'footnote s30 "s29"'), encoding="utf-8"
    )
    edited = analyse(path, text, libraries)
    assert [d for d in edited.diagnostics if "s29" in d.message and d not in added.diagnostics]


def test_a_dose_is_said_as_the_page_says_it() -> None:
    path = ROOT / "regimens" / "br-metastatic-capecitabine.reg"
    text = path.read_text(encoding="utf-8")
    said = features.hover(analyse(path, text), text.index("1250 mg/m2 oral") + 1)
    assert said is not None
    assert said[0].startswith("**capecitabine 1250 mg/m² twice daily**\n\nNo cap is written on this dose.")
    assert text[said[1].start : said[1].end] == "1250 mg/m2"


def test_references_pass_over_a_sibling_that_cannot_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import regdsl.compile.library as library_module

    for name in ("library.reg", SEED.name, HANDOVER, "leu-all-bcell-rr-blinatumomab.reg"):
        shutil.copy(ROOT / "regimens" / name, tmp_path / name)
    path = tmp_path / SEED.name
    analysis = analyse(path, SEED.read_text(encoding="utf-8"))
    real = library_module.read_regular
    refused = tmp_path / HANDOVER

    def read(at: Path, limit: int) -> tuple[bytes, int]:
        if at == refused:
            raise library_module.PathError(f"{at}: cannot be read (Permission denied)")
        return real(at, limit)

    monkeypatch.setattr(library_module, "read_regular", read)
    unsaved = {tmp_path / "leu-all-bcell-rr-blinatumomab.reg": "regimen lone\ud800\n"}  # a lone surrogate, unsaved
    places = features.references(analysis, analysis.text.index("ino 0.8"), unsaved, declarations=True)
    assert {source.path for source, _span in places} == {str(path)}


def test_a_window_before_day_1_is_said_on_the_days_the_pages_say() -> None:
    # A premedication an hour, and one two days, before the anticancer dose of day 1: windows
    # that start before the cycle, on day 0 and day -1 as the page and the JSON document say.
    text = BLOCKS.replace(
        "  use paclitaxel-premeds days 1, 8, 15\n",
        "  use paclitaxel-premeds days 1, 8, 15\n  ondansetron 8 mg oral day 1 2 days before PACLItaxel supportive\n",
    )
    path = ROOT / "regimens" / "doc-use-block.reg"
    analysis = analyse(path, text)
    compiled = analysis.compiled
    assert compiled is not None
    assert compiled.windows is not None
    dexamethasone = features.hover(analysis, text.index("60 min before") + 1)
    ondansetron = features.hover(analysis, text.index("2 days before") + 1)
    assert dexamethasone is not None
    assert ondansetron is not None
    assert "the day 1 dose: the timing rules allow its start from day 0 23:00 to day 1 22:59" in dexamethasone[0]
    assert "the day 1 dose: the timing rules allow its start from day -1 00:00 to day -1 23:59" in ondansetron[0]
    document = build_document(compiled, RenderContext(source="doc-use-block.reg"))
    lines = document["parts"][0]["cycles"][0]["administrations"]
    for line, said in ((lines[0], dexamethasone[0]), (lines[2], ondansetron[0])):
        first = line["windows"][0]
        assert f"start from day {first['earliest_day']} " in said
        assert f" to day {first['latest_day']} " in said
