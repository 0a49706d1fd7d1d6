"""``regdsl lsp``: the language server over stdio, on pygls.

Each open document is checked as the author types: an edit waits ``DEBOUNCE`` seconds for
the next, then the text is checked (``document.analyse``) and its findings published, with
the document's version. Saving a file, or a change the client reports in a watched file,
checks every open document again (a saved ``library.reg`` or sibling changes what the others
find). A request answers from the last check of the document's current text, checking it
first if an edit is still waiting.

Nothing a user types, and no bug, stops the server: a failed check is published as an
``INT001`` finding on the document and logged; a failed request is logged and answered
with nothing.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from regdsl import __version__
from regdsl.compile.library import PathError
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.diagnostics import codes as c
from regdsl.diagnostics.formats import rule_uri
from regdsl.lsp import features
from regdsl.lsp.document import Analysis, Libraries, analyse
from regdsl.lsp.positions import Units, offset_at, range_of, units_of, whole
from regdsl.source import SourceFile, Span, visible

__all__ = ["DEBOUNCE", "RegdslServer", "serve"]

# Seconds an edit waits for the next before the document is checked.
DEBOUNCE = 0.02
_A = TypeVar("_A")
_T = TypeVar("_T")

_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "medicine": types.CompletionItemKind.Value,
    "unit": types.CompletionItemKind.Unit,
    "route": types.CompletionItemKind.EnumMember,
    "frequency": types.CompletionItemKind.Constant,
    "regimen": types.CompletionItemKind.Reference,
}
_SYMBOLS = {
    "regimen": types.SymbolKind.Module,
    "library": types.SymbolKind.Package,
    "alias": types.SymbolKind.Variable,
    "medicine": types.SymbolKind.Constant,
    "footnote": types.SymbolKind.String,
    "block": types.SymbolKind.Function,
    "part": types.SymbolKind.Namespace,
    "cycle": types.SymbolKind.Class,
    "day": types.SymbolKind.Event,
    "line": types.SymbolKind.Field,
    "plan": types.SymbolKind.Object,
    "support": types.SymbolKind.Struct,
    "reference": types.SymbolKind.Key,
}
_UNNECESSARY = frozenset({c.UNUSED_SUPPRESSION.code})
_DEPRECATED = frozenset({"link-to-retired-regimen"})


def _path_of(uri: str) -> Path:
    """Return the file a document's URI names; a document that is no file (``untitled:``) is named in this folder."""
    found = to_fs_path(uri) if urlparse(uri).scheme == "file" else None
    if found:
        return Path(found)
    name = Path(unquote(urlparse(uri).path)).name or "untitled.reg"
    return Path.cwd() / name


def _uri_of(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


class RegdslServer(LanguageServer):
    """The server: the documents' last checks, and the edits waiting to be checked."""

    def __init__(self) -> None:
        super().__init__("regdsl", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.analyses: dict[str, tuple[int | None, Analysis]] = {}
        self.waiting: dict[str, asyncio.TimerHandle] = {}
        self.elsewhere: dict[str, set[str]] = {}  # the other files each document's last check published findings for
        self.shut_down = False  # whether the client asked the server to shut down
        self.libraries = Libraries()

    @property
    def units(self) -> Units:
        """The code units the client counts positions in."""
        return units_of(self.workspace.position_encoding)

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """Write ``message`` to the client's log."""
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def texts(self) -> dict[Path, str]:
        """Return the unsaved text of every open document, by its file."""
        return {_path_of(uri): doc.source for uri, doc in self.workspace.text_documents.items()}

    # checking

    def schedule(self, uri: str) -> None:
        """Check ``uri`` once no edit has come for ``DEBOUNCE`` seconds."""
        pending = self.waiting.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self.waiting[uri] = asyncio.get_running_loop().call_later(DEBOUNCE, self.check, uri)

    def check(self, uri: str) -> Analysis | None:
        """Check the open document ``uri`` now and publish its findings; return the analysis (None: not open)."""
        pending = self.waiting.pop(uri, None)
        if pending is not None:
            pending.cancel()
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return None
        path, text = _path_of(uri), doc.source
        try:
            analysis = analyse(path, text, self.libraries)
        except PathError as err:
            self.log(f"regdsl: {err}", types.MessageType.Warning)
            analysis = Analysis(path, text, SourceFile(str(path), text), [], {}, {}, None)
        except Exception as err:  # a bug: said on the document, and the server goes on
            self.log("regdsl: internal error\n" + traceback.format_exc(), types.MessageType.Error)
            analysis = Analysis(path, text, SourceFile(str(path), text), [_internal(path, text, err)], {}, {}, None)
        self.analyses[uri] = (doc.version, analysis)
        try:
            self.publish(uri, doc.version, analysis)
        except Exception:  # a bug in the conversion: logged, and the server goes on
            self.log("regdsl: the findings could not be sent\n" + traceback.format_exc(), types.MessageType.Error)
        return analysis

    def publish(self, uri: str, version: int | None, analysis: Analysis) -> None:
        """Publish a document's findings, and those of the other files its check read that are not open."""
        units = self.units
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[self.diagnostic(d, analysis, units) for d in analysis.diagnostics],
            )
        )
        opened = set(self.workspace.text_documents)
        others = {_uri_of(path): found for path, found in analysis.elsewhere.items()}
        for other in sorted(self.elsewhere.pop(uri, set()) - set(others) - opened):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=other, diagnostics=[]))
        self.elsewhere[uri] = set(others)
        for other, found in others.items():
            if other not in opened:  # an open document's own check owns its findings
                diagnostics = [self.diagnostic(d, analysis, units) for d in found]
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=other, diagnostics=diagnostics)
                )

    def recheck_all(self) -> None:
        """Check every open document again (a saved file may change what the others find)."""
        for uri in list(self.workspace.text_documents):
            self.check(uri)

    def current(self, uri: str) -> Analysis | None:
        """Return the analysis of the document's current text, checking it first if it is out of date."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return None
        kept = self.analyses.get(uri)
        if kept is not None and kept[0] == doc.version and uri not in self.waiting:
            return kept[1]
        return self.check(uri)

    # conversions

    def diagnostic(self, found: Diagnostic, analysis: Analysis, units: Units) -> types.Diagnostic:
        """Return a finding as the protocol has it: range, severity, code and its page, labels, tags."""
        code = found.code
        message = found.message
        if found.help:
            message += f"\nhelp: {found.help}"
        message += "".join(f"\nnote: {note}" for note in found.notes)
        tags = []
        if code.code in _UNNECESSARY:
            tags.append(types.DiagnosticTag.Unnecessary)
        if code.name in _DEPRECATED:
            tags.append(types.DiagnosticTag.Deprecated)
        related = [
            types.DiagnosticRelatedInformation(
                location=self.location(label.span, analysis), message=label.text or code.summary
            )
            for label in found.secondary
        ]
        return types.Diagnostic(
            range=self.location(found.span, analysis, units).range,
            severity=_SEVERITIES[found.level],
            code=code.code,
            code_description=types.CodeDescription(href=rule_uri(code.code)),
            source="regdsl",
            message=message,
            tags=tags or None,
            related_information=related or None,
            data={"name": code.name},
        )

    def location(self, span: Span, analysis: Analysis, units: Units | None = None) -> types.Location:
        """Return the protocol's location of ``span``, a span of the document or of a file its check read."""
        source = analysis.sources.get(span.path)
        if span.path == analysis.source.path:
            source = analysis.source
        if source is None:
            path = Path(span.path)
            text = self.texts().get(path)
            source = SourceFile(span.path, text) if text is not None else None
        uri = _uri_of(analysis.path if span.path == analysis.source.path else _resolved(span.path))
        if source is None:  # not read: lines and code points are the best there is
            start = types.Position(line=span.line - 1, character=span.column - 1)
            end = types.Position(line=span.end_line - 1, character=span.end_column - 1)
            return types.Location(uri=uri, range=types.Range(start=start, end=end))
        return types.Location(uri=uri, range=range_of(span, source, units or self.units))

    def found(self, place: tuple[SourceFile, Span]) -> types.Location:
        """Return the protocol's location of a span of ``place``'s source."""
        source, span = place
        return types.Location(uri=_uri_of(_resolved(source.path)), range=range_of(span, source, self.units))


def _resolved(display: str) -> Path:
    path = Path(display)
    return path if path.is_absolute() else Path.cwd() / path


def _internal(path: Path, text: str, err: Exception) -> Diagnostic:
    source = SourceFile(str(path), text)
    return Diagnostic(
        code=c.INTERNAL,
        message=f"internal error: {type(err).__name__}: {visible(str(err))}",
        primary=Label(source.whole(), "while checking this file"),
        help="this is a bug in regdsl; the server's log holds the traceback: please report it",
    )


def _guarded(handler: Callable[[RegdslServer, _A], _T | None]) -> Callable[[RegdslServer, _A], _T | None]:
    """Answer a request with nothing when it fails, logging why: a failed request never stops the server."""

    @functools.wraps(handler)
    def guarded(ls: RegdslServer, params: _A) -> _T | None:
        try:
            return handler(ls, params)
        except Exception:
            ls.log(f"regdsl: {handler.__name__} failed\n" + traceback.format_exc(), types.MessageType.Error)
            return None

    return guarded


server = RegdslServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@_guarded
def _did_open(ls: RegdslServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@_guarded
def _did_change(ls: RegdslServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@_guarded
def _did_save(ls: RegdslServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.recheck_all()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@_guarded
def _did_change_files(ls: RegdslServer, params: types.DidChangeWatchedFilesParams) -> None:
    ls.recheck_all()


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@_guarded
def _did_close(ls: RegdslServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    pending = ls.waiting.pop(uri, None)
    if pending is not None:
        pending.cancel()
    ls.analyses.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _at(ls: RegdslServer, uri: str, position: types.Position) -> tuple[Analysis, int] | None:
    analysis = ls.current(uri)
    if analysis is None:
        return None
    return analysis, offset_at(analysis.source, position, ls.units)


@server.feature(types.TEXT_DOCUMENT_HOVER)
@_guarded
def _hover(ls: RegdslServer, params: types.HoverParams) -> types.Hover | None:
    found = _at(ls, params.text_document.uri, params.position)
    said = features.hover(*found) if found is not None else None
    if found is None or said is None:
        return None
    text, span = said
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=range_of(span, found[0].source, ls.units),
    )


# Where a name at an offset is defined or used: ``features.definitions`` or ``features.references``.
_Finder = Callable[[Analysis, int, Mapping[Path, str]], list[tuple[SourceFile, Span]]]


def _locations(ls: RegdslServer, uri: str, position: types.Position, find: _Finder) -> list[types.Location]:
    found = _at(ls, uri, position)
    return [] if found is None else [ls.found(place) for place in find(*found, ls.texts())]


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@_guarded
def _definition(ls: RegdslServer, params: types.DefinitionParams) -> list[types.Location] | None:
    return _locations(ls, params.text_document.uri, params.position, features.definitions)


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@_guarded
def _references(ls: RegdslServer, params: types.ReferenceParams) -> list[types.Location] | None:
    declarations = params.context.include_declaration
    return _locations(
        ls,
        params.text_document.uri,
        params.position,
        lambda analysis, offset, texts: features.references(analysis, offset, texts, declarations=declarations),
    )


@server.feature(types.TEXT_DOCUMENT_COMPLETION)
@_guarded
def _completion(ls: RegdslServer, params: types.CompletionParams) -> types.CompletionList | None:
    found = _at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    items = [
        types.CompletionItem(label=item.label, kind=_KINDS[item.kind], detail=item.detail or item.kind)
        for item in features.completions(*found)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@_guarded
def _formatting(ls: RegdslServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    analysis = ls.current(params.text_document.uri)
    text = features.formatted(analysis) if analysis is not None else None
    if analysis is None or text is None or text == analysis.text:  # the editor's text
        return []  # nothing to change, or a syntax error: `regdsl fmt` leaves it as written too
    source = analysis.source
    everything = range_of(whole(source), source, ls.units)
    return [types.TextEdit(range=everything, new_text=text)]


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll]),
)
@_guarded
def _code_action(ls: RegdslServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    from regdsl.syntax.edits import apply_fixes

    uri = params.text_document.uri
    analysis = ls.current(uri)
    if analysis is None:
        return []
    source, units = analysis.source, ls.units
    start, end = offset_at(source, params.range.start, units), offset_at(source, params.range.end, units)
    actions: list[types.CodeAction] = []
    for found in analysis.diagnostics:
        if found.span.end < start or found.span.start > end:
            continue
        shown = [ls.diagnostic(found, analysis, units)]
        for fix in found.fixes:
            if apply_fixes(source, [fix]) is None:  # as `check --fix`: only an edit that keeps every dose
                continue
            edit = types.TextEdit(range=range_of(fix.span, source, units), new_text=fix.replacement)
            actions.append(
                types.CodeAction(
                    title=f"{fix.description} ({found.code.name})",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=shown,
                    is_preferred=True,
                    edit=types.WorkspaceEdit(changes={uri: [edit]}),
                )
            )
        suppression = features.suppression_edit(analysis, found)
        if suppression is not None:
            at, comment = suppression
            place = range_of(source.span(at, at), source, units)
            actions.append(
                types.CodeAction(
                    title=f"Suppress {found.code.name} on this line (write the reason)",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=shown,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=place, new_text=comment)]}),
                )
            )
    made = apply_fixes(source, [fix for d in analysis.diagnostics for fix in d.fixes])
    if made is not None:
        everything = range_of(whole(source), source, units)
        actions.append(
            types.CodeAction(
                title=f"Fix all mechanical findings ({made[1]})",
                kind=types.CodeActionKind.SourceFixAll,
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=everything, new_text=made[0])]}),
            )
        )
    return actions


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_guarded
def _symbols(ls: RegdslServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
    analysis = ls.current(params.text_document.uri)
    if analysis is None:
        return []
    units = ls.units

    def converted(symbol: features.Symbol) -> types.DocumentSymbol:
        return types.DocumentSymbol(
            name=symbol.name,
            detail=symbol.detail or None,
            kind=_SYMBOLS[symbol.kind],
            range=range_of(symbol.span, analysis.source, units),
            selection_range=range_of(symbol.selection, analysis.source, units),
            children=[converted(child) for child in symbol.children] or None,
        )

    return [converted(symbol) for symbol in features.symbols(analysis)]


@server.feature(types.SHUTDOWN)
def _shutdown(ls: RegdslServer, params: None) -> None:
    ls.shut_down = True


def serve() -> int:
    """Serve one client over standard input and output until it asks the server to exit.

    The protocol has standard output to itself: the server writes to a copy of it, and what
    anything else would print there goes to standard error. Returns 0 when the client asked
    the server to shut down before it exited (or closed its input), else 1, as the protocol says.
    """
    sys.stdout.flush()
    with os.fdopen(os.dup(sys.stdin.fileno()), "rb") as reader, os.fdopen(os.dup(sys.stdout.fileno()), "wb") as writer:
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        server.start_io(reader, writer)
    return 0 if server.shut_down else 1
