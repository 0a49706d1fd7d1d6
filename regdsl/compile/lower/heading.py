"""The heading of a regimen or a part: its fields, status, classification terms and footnotes.

The first of each field is the one in force; one given again is set aside with its span and
the first's (the rules judge it, and the fields missing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from regdsl.compile.lower.words import Lowering
from regdsl.diagnostics import codes as c
from regdsl.model import ast, ir
from regdsl.model.vocabulary import SETTINGS
from regdsl.source import Span

__all__ = ["meta", "status"]


def meta(low: Lowering, span: Span, fields: Iterable[ast.Meta], given: Iterable[tuple[str, Span]] = ()) -> ir.Meta:
    """Lower the fields of a heading; ``given`` are further fields already lowered (a part's `start`)."""
    texts: list[tuple[str, str]] = []
    identifiers: list[tuple[str, str]] = []
    cancer: tuple[ir.Term, ...] = ()
    setting: ir.Term | None = None
    status_found: ir.Status | None = None
    status_span: Span | None = None
    superseded_by: str | None = None
    by: ast.Word | None = None
    footnotes: list[ir.Footnote] = []
    footnote_spans: list[Span] = []
    overview: ast.Prose | None = None
    repeated: list[tuple[str, Span, Span]] = []
    seen: dict[str, Span] = {}

    def first(key: str, where: Span) -> bool:
        earlier = seen.setdefault(key, where)
        if earlier is not where:
            repeated.append((key, where, earlier))  # the first is in force; the rules judge the second
        return earlier is where

    for name, where in given:
        first(name, where)

    for f in fields:
        match f:
            case ast.TextField(key=key, value=value):
                if first(key.text, f.span):
                    texts.append((key.text, low.url(value) if key.text == "url" else value.value))
            case ast.DateField(key=key, value=value):
                if first(key.text, f.span) and (checked := low.date(value)) is not None:
                    texts.append((key.text, checked))
            case ast.StatusField(status=word, by=written_by):
                if first("status", f.span):
                    status_found, superseded_by = status(low, word, written_by)
                    status_span = word.span
                    by = written_by
            case ast.CancerField(terms=terms):
                if first("cancer", f.span):
                    cancer = tuple(_term(t) for t in terms)
            case ast.SettingField(term=term):
                if first("setting", f.span):
                    setting = _term(term, SETTINGS)
            case ast.IdentifierField(system=system, value=value):
                identifiers.append((system.value, value.value))
            case ast.FootnotesField(names=names):
                if first("footnotes", f.span):
                    known = [n for n in names if _footnote_known(low, n)]
                    footnotes.extend(low.defs.footnotes[n.text] for n in known)
                    footnote_spans.extend(n.span for n in known)
            case ast.Overview(prose=prose):
                if first("overview", f.span):
                    overview = prose
            case ast.ResponsesField():
                first("responses", f.span)  # resolved by the regimen (``plan.responses``): a part inherits it
            case _:
                assert_never(f)
    return ir.Meta(
        span=span,
        fields=tuple(texts),
        identifiers=tuple(identifiers),
        cancer=cancer,
        setting=setting,
        status=status_found,
        superseded_by=superseded_by,
        footnotes=tuple(footnotes),
        footnote_spans=tuple(footnote_spans),
        overview_prose=overview,
        repeated=tuple(repeated),
        status_span=status_span,
        superseded_span=by.span if by is not None and superseded_by is not None else None,
    )


def _footnote_known(low: Lowering, name: ast.Word) -> bool:
    if name.text in low.defs.footnotes:
        return True
    low.unknown(
        c.UNKNOWN_FOOTNOTE,
        name.span,
        f"no footnote named `{name.text}`",
        label="not defined in library.reg",
        word=name.text,
        candidates=low.defs.footnotes,
        otherwise="define it in the library's `library.reg`",
    )
    return False


def status(low: Lowering, word: ast.Word, by: ast.Word | None) -> tuple[ir.Status | None, str | None]:
    """Return the status ``word`` names and the regimen that supersedes it; report an unknown one."""
    try:
        found = ir.Status(word.text)
    except ValueError:
        low.unknown(
            c.UNKNOWN_STATUS,
            word.span,
            f"unknown status `{word.text}`",
            label="not a status",
            word=word.text,
            candidates=[s.value for s in ir.Status],
            otherwise="statuses: draft, provisional, published, discontinued, superseded by ID",
        )
        return None, None
    if found is not ir.Status.SUPERSEDED and by is not None:
        low.sink.report(
            c.MISPLACED,
            by.span,
            f"only a superseded regimen names a replacement, not a {found.value} one",
            label="remove `by ...`, or write `status superseded by ...`",
        )
    if by is None:
        return found, None
    return found, low.link(by) if found is ir.Status.SUPERSEDED else by.text  # resolved like a link


def _term(term: ast.Term, known: dict[str, str] | None = None) -> ir.Term:
    """Return a term with its code: written, else the known one of its text (a setting's), else none."""
    code = term.code.text if term.code else None
    if code is None and known is not None:
        code = next((v for k, v in known.items() if k.lower() == term.text.value.lower()), None)
    return ir.Term(span=term.span, text=term.text.value, code=code)
