"""``regdsl lsp`` end to end: a real client over stdio drives the server on the seed regimen.

The seed (``regimens/leu-all-bcell-rr-inotuzumab.reg``) is copied with ``library.reg`` and the
regimen it hands over to into a temporary library; one server serves the module's tests, each
on its own document or restoring what it changed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from regdsl.diagnostics import Sink
from regdsl.source import SourceFile
from regdsl.syntax.layout import format_source
from tests.conftest import ROOT
from tests.lsp.client import Client

SEED = "leu-all-bcell-rr-inotuzumab.reg"
HANDOVER = "leu-all-bcell-rr-inotuzumab-cr.reg"
LIBRARY_FILES = (SEED, HANDOVER, "leu-all-bcell-rr-blinatumomab.reg", "library.reg")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("library")
    for name in LIBRARY_FILES:
        shutil.copy(ROOT / "regimens" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def client(library: Path) -> Iterator[Client]:
    started = Client(library)
    yield started
    assert started.close() == 0, "".join(started.errors)


def position(text: str, needle: str, shift: int = 0, nth: int = 0) -> dict[str, int]:
    """Return the LSP position (UTF-16) of the ``nth`` ``needle`` in ``text``, ``shift`` code points into it."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    offset += shift
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": len(text[start:offset].encode("utf-16-le")) // 2}


def open_doc(client: Client, path: Path, text: str | None = None) -> tuple[str, list[Any]]:
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8") if text is None else text
    mark = len(client.notifications)
    client.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "regdsl", "version": 1, "text": text}}
    )
    return uri, client.diagnostics(uri, 1, after=mark)


def change(client: Client, uri: str, version: int, text: str) -> list[Any]:
    """Replace the document's text (a full change) and return the findings published for ``version``."""
    mark = len(client.notifications)
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
    )
    return client.diagnostics(uri, version, after=mark)


def close_doc(client: Client, uri: str) -> None:
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def codes(found: list[Any]) -> list[str]:
    return [d["code"] for d in found]


def at(client: Client, method: str, uri: str, where: dict[str, int], **more: object) -> Any:
    return client.request(method, {"textDocument": {"uri": uri}, "position": where, **more})


def test_initialize_advertises_every_feature(client: Client) -> None:
    capabilities = client.initialized["capabilities"]
    for feature in (
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "completionProvider",
        "documentFormattingProvider",
        "codeActionProvider",
        "documentSymbolProvider",
    ):
        assert capabilities.get(feature) not in (None, False), feature  # true, or its options
    assert client.initialized["serverInfo"]["name"] == "regdsl"


def test_an_edit_brings_a_finding_and_its_fix_clears_it(client: Client, library: Path) -> None:
    path = library / SEED
    text = path.read_text(encoding="utf-8")
    uri, first = open_doc(client, path)
    assert "SAF101" not in codes(first)
    edited = text.replace("ino 0.8 mg/m2 IV day 1", "ino 0.80 mg/m2 IV day 1")
    found = change(client, uri, 2, edited)
    saf = [d for d in found if d["code"] == "SAF101"]
    assert len(saf) == 1
    start = position(edited, "0.80 mg/m2")
    assert saf[0]["range"] == {"start": start, "end": {**start, "character": start["character"] + 4}}
    assert saf[0]["severity"] == 1
    assert saf[0]["source"] == "regdsl"
    assert saf[0]["codeDescription"]["href"].endswith("/SAF101")
    assert saf[0]["data"] == {"name": "dose-trailing-zero"}
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": saf[0]["range"], "context": {"diagnostics": [saf[0]]}},
    )
    fix = next(a for a in actions if a["kind"] == "quickfix" and "write `0.8`" in a["title"])
    (edit,) = fix["edit"]["changes"][uri]
    assert edit == {"range": saf[0]["range"], "newText": "0.8"}
    mark = len(client.notifications)
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"range": edit["range"], "text": "0.8"}]},
    )
    assert codes(client.diagnostics(uri, 3, after=mark)) == codes(first)
    close_doc(client, uri)


def test_the_findings_are_those_of_check(client: Client, library: Path) -> None:
    from regdsl.check.run import run_check

    path = library / SEED
    uri, found = open_doc(client, path)
    expected = run_check([path]).diagnostics
    assert codes(found) == [d.code.code for d in expected]
    assert [d["range"]["start"]["line"] + 1 for d in found] == [d.span.line for d in expected]
    labelled = [d for d in expected if d.secondary]
    with_related = [d for d in found if d.get("relatedInformation")]
    assert len(with_related) == len(labelled)
    close_doc(client, uri)


def test_hover(client: Client, library: Path) -> None:
    path = library / SEED
    text = path.read_text(encoding="utf-8")
    uri, _ = open_doc(client, path)
    medicine = at(client, "textDocument/hover", uri, position(text, "ino 0.8 mg/m2", 1))["contents"]["value"]
    assert "inotuzumab ozogamicin" in medicine
    assert "ATC L01FB01" in medicine
    assert "antibody-drug-conjugate" in medicine
    assert "usual dose IV: 0.3 to 1.8 mg/m²" in medicine
    dose = at(client, "textDocument/hover", uri, position(text, "0.5 mg/m2", 1))["contents"]["value"]
    assert dose.startswith("**inotuzumab ozogamicin 0.5 mg/m²**")
    relation = at(client, "textDocument/hover", uri, position(text, "30 to 60 min before ino", 3))
    said = relation["contents"]["value"]
    assert "30 to 60 minutes before inotuzumab ozogamicin" in said
    assert "the day 8 dose: the timing rules allow its start from day 6 23:00 to day 10 23:29" in said
    footnote = at(client, "textDocument/hover", uri, position(text, "reviewed, s29", 2))["contents"]["value"]
    assert footnote.startswith("**Footnote `reviewed`** (*)")
    link = at(client, "textDocument/hover", uri, position(text, "inotuzumab-cr\n", 2))["contents"]["value"]
    assert "**Regimen `leu-all-bcell-rr-inotuzumab-cr`**, draft" in link
    assert at(client, "textDocument/hover", uri, {"line": 0, "character": 3}) is None  # a plain comment
    close_doc(client, uri)


def test_hover_on_a_suppression_names_the_rule(client: Client, library: Path) -> None:
    path = library / SEED
    text = path.read_text(encoding="utf-8").replace(
        "  ino 0.8 mg/m2 IV day 1",
        "  # regdsl: ignore[dose-trailing-zero, TIM005] -- as written\n  ino 0.80 mg/m2 IV day 1",
    )
    uri, found = open_doc(client, path, text)
    assert "SAF101" not in codes(found)
    said = at(client, "textDocument/hover", uri, position(text, "trailing-zero", 2))["contents"]["value"]
    assert said.startswith("**SAF101** `dose-trailing-zero` (error):")
    said = at(client, "textDocument/hover", uri, position(text, "TIM005", 2))["contents"]["value"]
    assert said.startswith("**TIM005** `shift-window-narrowed`")
    close_doc(client, uri)


def test_definition_and_references(client: Client, library: Path) -> None:
    path = library / SEED
    text = path.read_text(encoding="utf-8")
    uri, _ = open_doc(client, path)
    (alias,) = at(client, "textDocument/definition", uri, position(text, "ino 0.8 mg/m2"))
    start = position(text, 'ino = "inotuzumab')
    assert alias == {"uri": uri, "range": {"start": start, "end": {**start, "character": start["character"] + 3}}}
    (footnote,) = at(client, "textDocument/definition", uri, position(text, "s29\n", 1))
    shared = (library / "library.reg").read_text(encoding="utf-8")
    assert footnote["uri"] == (library / "library.reg").as_uri()
    assert footnote["range"]["start"] == position(shared, 's29 "s29"')
    (link,) = at(client, "textDocument/definition", uri, position(text, "inotuzumab-cr\n", 2))
    handover = (library / HANDOVER).read_text(encoding="utf-8")
    assert link["uri"] == (library / HANDOVER).as_uri()
    assert link["range"]["start"] == position(handover, "leu-all-bcell-rr-inotuzumab-cr")

    found = at(client, "textDocument/references", uri, position(text, "ino 0.8"), context={"includeDeclaration": True})
    here = [r for r in found if r["uri"] == uri]
    # `drug ino = "inotuzumab ozogamicin"` and every `ino` of the file name one medicine
    assert len(here) == len(re.findall(r"\bino\b", text)) == 14
    assert any(r["uri"] == (library / HANDOVER).as_uri() for r in found)
    without = at(
        client, "textDocument/references", uri, position(text, "ino 0.8"), context={"includeDeclaration": False}
    )
    assert len(without) == len(found) - 2  # the alias here and in the regimen handed over to
    links = at(
        client,
        "textDocument/references",
        uri,
        position(text, "inotuzumab-cr\n", 2),
        context={"includeDeclaration": True},
    )
    assert len([r for r in links if r["uri"] == uri]) == 4
    assert any(r["uri"] == (library / HANDOVER).as_uri() for r in links)
    close_doc(client, uri)


def test_definition_of_a_library_medicine(client: Client, library: Path) -> None:
    path = library / "leu-all-bcell-rr-blinatumomab.reg"
    text = path.read_text(encoding="utf-8")
    uri, _ = open_doc(client, path)
    (found,) = at(client, "textDocument/definition", uri, position(text, "blinatumomab 28"))
    shared = (library / "library.reg").read_text(encoding="utf-8")
    assert found["uri"] == (library / "library.reg").as_uri()
    assert found["range"]["start"] == position(shared, '"blinatumomab"')
    close_doc(client, uri)


def _labels(completion: Any) -> dict[str, int]:
    return {item["label"]: item["kind"] for item in completion["items"]}


def test_completion(client: Client, library: Path) -> None:
    path = library / SEED
    text = path.read_text(encoding="utf-8")
    uri, _ = open_doc(client, path)
    found = _labels(at(client, "textDocument/completion", uri, position(text, "  loratadine", 2)))
    assert found["cycle"] == 14  # keyword
    assert found["off-label"] == 14
    assert found["inotuzumab ozogamicin"] == 12  # value: a medicine
    assert found["blinatumomab"] == 12  # from library.reg
    assert found["ino"] == 12  # the file's own alias
    assert found["mg/m²"] == 11  # unit
    assert found["IV"] == 20  # route
    assert found["twice daily"] == 21  # frequency
    assert found["leu-all-bcell-rr-inotuzumab-cr"] == 18  # a regimen of the library
    links = _labels(at(client, "textDocument/completion", uri, position(text, "continue with ", 14)))
    assert set(links) == {"leu-all-bcell-rr-inotuzumab-cr", "leu-all-bcell-rr-blinatumomab"}
    close_doc(client, uri)


def test_formatting_is_fmt_and_refuses_a_syntax_error(client: Client, library: Path) -> None:
    messy = (ROOT / "tests" / "fmt" / "messy.reg").read_text(encoding="utf-8")
    path = library / "messy.reg"
    uri, _ = open_doc(client, path, messy)
    options = {"tabSize": 2, "insertSpaces": True}
    (edit,) = client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options})
    assert edit["newText"] == format_source(SourceFile(str(path), messy), Sink())
    assert edit["range"]["start"] == {"line": 0, "character": 0}
    broken = messy.replace("cycle 1 :", "cycle one :")
    assert "SYN" in "".join(codes(change(client, uri, 2, broken)))
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}) == []
    close_doc(client, uri)


def test_a_suppression_code_action(client: Client, library: Path) -> None:
    path = library / SEED
    text = path.read_text(encoding="utf-8")
    uri, found = open_doc(client, path)
    narrowed = next(d for d in found if d["code"] == "TIM005")
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": narrowed["range"], "context": {"diagnostics": [narrowed]}},
    )
    suppress = next(a for a in actions if a["title"].startswith("Suppress shift-window-narrowed"))
    (edit,) = suppress["edit"]["changes"][uri]
    assert edit["newText"] == "  # regdsl: ignore[shift-window-narrowed] -- REASON\n"
    line = edit["range"]["start"]["line"]
    lines = text.splitlines(keepends=True)
    lines.insert(line, edit["newText"].replace("REASON", "the window is as the source gives it"))
    assert "TIM005" not in codes(change(client, uri, 2, "".join(lines)))
    close_doc(client, uri)


def test_no_suppression_is_offered_for_a_never_event(client: Client, library: Path) -> None:
    text = (ROOT / "tests" / "lsp" / "never.reg").read_text(encoding="utf-8")
    uri, found = open_doc(client, library / "never.reg", text)
    never = [d for d in found if d["code"] == "SAF001"]
    assert never
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": never[0]["range"], "context": {"diagnostics": never}},
    )
    assert not [a for a in actions if a["title"].startswith("Suppress") and "SAF001" in str(a["diagnostics"])]
    close_doc(client, uri)


def test_document_symbols(client: Client, library: Path) -> None:
    path = library / SEED
    uri, _ = open_doc(client, path)
    (regimen,) = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert regimen["name"] == "regimen leu-all-bcell-rr-inotuzumab"
    children = [c["name"] for c in regimen["children"]]
    assert children == ["ino", "cycle 1", "cycles 2 to 3", "plan", "support", "reference"]
    cycle = regimen["children"][1]
    assert [d["name"] for d in cycle["children"]] == ["day 1", "day 8", "day 15"]
    assert [line["name"] for line in cycle["children"][1]["children"]] == [
        "loratadine",
        "paracetamol",
        "dexamethasone",
        "ino",
    ]
    close_doc(client, uri)


def test_positions_count_utf16_code_units(client: Client, library: Path) -> None:
    """A line with an astral character (two UTF-16 units) and a combining mark (one) before the finding."""
    path = library / SEED
    text = path.read_text(encoding="utf-8").replace(
        "or as per insitutional practice.", "or as per 😀 e\u0301 insitutional practice."
    )
    uri, found = open_doc(client, path, text)
    spelling = [d for d in found if d["code"] == "PRO001" and "insitutional" in d["message"]]
    prose = next(d for d in spelling if d["range"]["start"] == position(text, "insitutional practice."))
    start = position(text, "insitutional practice.")
    assert prose["range"]["end"] == {**start, "character": start["character"] + len("insitutional")}
    before = text[text.rfind("\n", 0, text.index("insitutional practice.")) + 1 : text.index("insitutional practice.")]
    assert start["character"] == len(before) + 1  # the emoji is one code point and two UTF-16 units
    hover = at(client, "textDocument/hover", uri, {"line": start["line"], "character": 6})
    assert hover is None or "range" in hover
    close_doc(client, uri)


def test_a_saved_library_change_reaches_the_open_document(client: Client, library: Path) -> None:
    path = library / SEED
    shared = library / "library.reg"
    kept = shared.read_text(encoding="utf-8")
    uri, found = open_doc(client, path)
    assert not [d for d in found if "s29" in d["message"]]
    try:
        shared.write_text(kept.replace('footnote s29 "s29"', 'footnote s29-gone "s29"'), encoding="utf-8")
        mark = len(client.notifications)
        client.notify("textDocument/didSave", {"textDocument": {"uri": shared.as_uri()}})
        after = client.diagnostics(uri, 1, after=mark)
        assert any("s29" in d["message"] for d in after if d not in found)
    finally:
        shared.write_text(kept, encoding="utf-8")
        mark = len(client.notifications)
        client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": shared.as_uri(), "type": 2}]})
        assert codes(client.diagnostics(uri, 1, after=mark)) == codes(found)
    close_doc(client, uri)


def test_the_unsaved_library_is_checked_as_it_is_typed(client: Client, library: Path) -> None:
    shared = library / "library.reg"
    text = shared.read_text(encoding="utf-8")
    uri, found = open_doc(client, shared)
    assert found == []
    broken = text.replace(
        'medicine "aciclovir"\n  supportive', 'medicine "aciclovir"\n  supportive\n  class nonsense-class'
    )
    assert "VOC017" in codes(change(client, uri, 2, broken))
    close_doc(client, uri)


def test_a_file_outside_any_library(tmp_path: Path) -> None:
    lone = tmp_path / "alone.reg"
    text = (ROOT / "regimens" / SEED).read_text(encoding="utf-8")
    lone.write_text(text, encoding="utf-8")
    client = Client(tmp_path)
    try:
        uri, found = open_doc(client, lone)
        assert "BRA001" in codes(found)  # the regimen handed over to is not in this folder
        hover = at(client, "textDocument/hover", uri, position(text, "ino 0.8 mg/m2", 1))
        assert "inotuzumab ozogamicin" in hover["contents"]["value"]
        assert at(client, "textDocument/definition", uri, position(text, "s29\n", 1)) == []
    finally:
        assert client.close() == 0


def test_an_exit_without_shutdown_is_exit_1(tmp_path: Path) -> None:
    client = Client(tmp_path)
    client.notify("exit", None)
    assert client.close(shutdown=False) == 1
