"""A bug never stops the server: a failed check is an INT001 finding and a log entry; a failed request, nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lsprotocol import types

from regdsl.lsp import features, server
from regdsl.lsp.server import RegdslServer
from tests.conftest import ROOT

SEED = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"


class _Recorded(RegdslServer):
    """A server in this process, initialized, that keeps what it would send."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[types.PublishDiagnosticsParams] = []
        self.logged: list[str] = []
        steps = self.protocol.lsp_initialize(types.InitializeParams(capabilities=types.ClientCapabilities()))
        for _ in steps:
            pass

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        self.published.append(params)

    def window_log_message(self, params: types.LogMessageParams) -> None:
        self.logged.append(params.message)


def _raising(error: Exception) -> Callable[..., None]:
    """Return a stand-in for a function of the server that fails with ``error``: a bug."""

    def broken(*args: object) -> None:
        raise error

    return broken


@pytest.fixture
def opened(tmp_path: Path) -> tuple[_Recorded, str]:
    ls = _Recorded()
    path = tmp_path / SEED.name
    uri = path.as_uri()
    item = types.TextDocumentItem(uri=uri, language_id="regdsl", version=1, text=SEED.read_text(encoding="utf-8"))
    ls.workspace.put_text_document(item)
    return ls, uri


def test_a_failed_check_is_an_internal_finding_and_the_next_check_works(
    opened: tuple[_Recorded, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ls, uri = opened
    monkeypatch.setattr(server, "analyse", _raising(RuntimeError("boom \x1b[31mred")))
    ls.check(uri)
    (found,) = ls.published[-1].diagnostics
    assert found.code == "INT001"
    assert found.message.startswith("internal error: RuntimeError: boom \\u001b[31mred\n")  # escaped
    assert "Traceback" in ls.logged[-1]
    monkeypatch.undo()
    ls.check(uri)
    assert "INT001" not in [d.code for d in ls.published[-1].diagnostics]
    assert ls.published[-1].diagnostics


def test_a_failed_request_answers_nothing_and_is_logged(
    opened: tuple[_Recorded, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ls, uri = opened
    monkeypatch.setattr(features, "hover", _raising(ValueError("a bug")))
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=30, character=3)
    )
    assert server._hover(ls, params) is None
    assert "_hover failed" in ls.logged[-1]
    assert "ValueError: a bug" in ls.logged[-1]
