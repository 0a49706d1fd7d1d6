"""Nothing typed stops the server: random text and mutated bundled regimens through every feature.

In process, each draw goes through what a ``didChange`` runs (``analyse``) and what every
request runs, at offsets across the text; over stdio, a run of mutants is sent as edits and
the server must publish the findings of every version and still answer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regdsl.lsp import features
from regdsl.lsp.document import analyse
from regdsl.lsp.positions import range_of, units_of
from tests.conftest import ROOT
from tests.lsp.client import Client
from tests.test_fuzz import mutated

TYPED = st.lists(
    st.sampled_from([*'regimn cyl1:2 dasmgIV|#"()±.5\t\n', "µ", "😀", "e\u0301", "\u202e", "  ", "day ", "cycle "]),
    max_size=120,
).map("".join)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = tmp_path_factory.mktemp("fuzz")
    shutil.copy(ROOT / "regimens" / "library.reg", made / "library.reg")
    return made


def _exercise(path: Path, text: str) -> None:
    analysis = analyse(path, text)
    units = units_of(None)
    for diagnostic in analysis.diagnostics:
        range_of(diagnostic.span, analysis.source, units)
        features.suppression_edit(analysis, diagnostic)
    step = max(1, len(text) // 7)
    for offset in range(0, len(text) + 1, step):
        said = features.hover(analysis, offset)
        if said is not None:
            assert 0 <= said[1].start <= said[1].end <= len(text)
        features.definitions(analysis, offset, {})
        features.completions(analysis, offset)
    features.symbols(analysis)
    features.formatted(analysis)


@given(TYPED)
def test_random_text(folder: Path, text: str) -> None:
    _exercise(folder / "typed.reg", text)


@given(mutated())
def test_mutated_regimens(folder: Path, data: bytes) -> None:
    _exercise(folder / "mutant.reg", data.decode("utf-8", errors="replace"))


def test_edits_over_stdio_never_stop_the_server(folder: Path) -> None:
    texts = [data.decode("utf-8", errors="replace") for data in _mutants(12)]
    client = Client(folder)
    try:
        uri = (folder / "edited.reg").as_uri()
        client.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "regdsl", "version": 1, "text": ""}}
        )
        client.diagnostics(uri, 1)
        for version, text in enumerate(texts, start=2):
            mark = len(client.notifications)
            client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
            )
            client.diagnostics(uri, version, after=mark)
            client.request(
                "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 3, "character": 4}}
            )
        assert client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}}) is not None
    finally:
        assert client.close() == 0
    assert not [line for line in client.errors if "Traceback" in line]


def _mutants(count: int) -> list[bytes]:
    found: list[bytes] = []

    @given(mutated())
    def draw(data: bytes) -> None:
        if len(found) < count:
            found.append(data)

    draw()
    return found
