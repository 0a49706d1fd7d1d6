"""The Lark LALR parser: built once, cached outside the package, errors as diagnostics.

Only this package imports lark. A syntax error does not stop the parse: the line at
fault (and the block indented under it) is blanked out, keeping every offset, and the
file is parsed again, so one run reports every broken line.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import cast

import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter

from regdsl.diagnostics import Code, Sink, codes
from regdsl.model import ast
from regdsl.model.limits import REPARSE
from regdsl.source import SourceFile, Span
from regdsl.syntax import expected
from regdsl.syntax.transform import NestingTooDeep, ToAst

__all__ = ["MAX_ERRORS", "MAX_NESTING", "build_parser", "grammar_text", "parse"]

MAX_ERRORS = 50
MAX_NESTING = 64


class _IndentMismatch(Exception):
    """A line returns to an indentation that no outer block has."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _RegIndenter(Indenter):
    """Lark's indenter, raising an error that knows where the bad line starts."""

    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []  # noqa: RUF012 - lark reads class attributes
    CLOSE_PAREN_types: list[str] = []  # noqa: RUF012
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token: Token) -> Iterator[Token]:
        """Yield the newline, then INDENT or DEDENT tokens for the next line."""
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
        if indent != self.indent_level[-1]:
            raise _IndentMismatch(token.end_pos if token.end_pos is not None else 0)


def grammar_text() -> str:
    """Return the grammar: from the wheel (``regdsl/grammar``) or the source tree."""
    packaged = resources.files("regdsl").joinpath("grammar", "regdsl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "regdsl.lark").read_text(encoding="utf-8")


def _cache_path(grammar: str) -> str | None:
    base = os.environ.get("REGDSL_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    folder = Path(base) / "regdsl" if base else Path(tempfile.gettempdir()) / "regdsl-cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    digest = hashlib.sha256(f"{lark.__version__}\n{grammar}".encode()).hexdigest()[:16]
    return str(folder / f"grammar-{digest}.lark.cache")


class _Comments:
    """Collects ``#`` comments from newline tokens while lexing one file."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def __call__(self, token: Token) -> Token:
        value = str(token)
        if "#" in value and token.start_pos is not None:
            pos = value.find("#")
            while pos != -1:
                end = value.find("\n", pos)
                end = len(value) if end == -1 else end
                self.found.append((token.start_pos + pos, value[pos:end].rstrip("\r")))
                pos = value.find("#", end)
        return token


_COMMENTS = _Comments()


_TRANSFORMER = ToAst(MAX_NESTING)


def build_parser(*, strict: bool = False, cache: bool = True, transform: bool = False) -> Lark:
    """Build the LALR parser from the grammar (``strict`` fails on any conflict).

    With ``transform`` the parser builds syntax nodes as it reduces, instead of a tree.
    """
    grammar = grammar_text()
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        postlex=_RegIndenter(),
        propagate_positions=False,
        maybe_placeholders=True,
        strict=strict,
        cache=_cache_path(grammar) if cache else False,
        lexer_callbacks={"_NL": _COMMENTS},
        transformer=_TRANSFORMER if transform else None,
    )


@functools.cache
def _parser() -> Lark:
    parser = build_parser(transform=True)
    expected.KEYWORD_TERMINALS.update(
        {t.name: t.pattern.value for t in parser.terminals if t.pattern.type == "str" and t.name.isupper()}
    )
    return parser


def _blank(text: str, first_line: int) -> tuple[str, bool]:
    """Blank ``first_line`` and the lines indented under it, keeping every offset."""
    lines = text.split("\n")
    idx = first_line - 1
    if not 0 <= idx < len(lines) or not lines[idx].strip():
        return text, False
    indent = len(lines[idx]) - len(lines[idx].lstrip())
    stop = idx + 1
    while stop < len(lines):
        line = lines[stop]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        stop += 1
    for i in range(idx, stop):
        lines[i] = " " * len(lines[i])
    return "\n".join(lines), True


def _line_end(source: SourceFile, line: int) -> int:
    starts = source.index.starts
    return starts[line] - 1 if line < len(starts) else len(source.text)


def _first_content(text: str, offset: int) -> int:
    while offset < len(text) and text[offset] in " \t\r\n":
        offset += 1
    return offset


class _Reporter:
    """Turns one parse failure into a diagnostic and the line to blank."""

    def __init__(self, source: SourceFile, sink: Sink) -> None:
        self.source = source
        self.sink = sink
        self.reported = 0

    def token_error(self, err: UnexpectedToken, work: str) -> int:
        token = err.token
        accepts = set(err.accepts or err.expected)
        kind = token.type
        if kind == "_INDENT":
            start = _first_content(work, token.end_pos or 0)
            line = self.source.index.position(start)[0]
            span = self.source.span(start, _line_end(self.source, line))
            self._report(
                codes.BAD_INDENT,
                span,
                "this line is indented, but the line above does not open a block",
                label="unexpected indentation",
                help="indent only lines that belong to the line above them",
            )
            return line
        if kind in {"_NL", "_DEDENT", "$END"}:
            line = token.line if isinstance(token.line, int) and kind != "$END" else self.last_line(work)
            if kind != "_NL" and self.reported:
                return line  # a block left empty by an earlier error: not a new finding
            end = _line_end(self.source, line)
            span = self.source.span(end, end)
            what = expected.describe_expected(accepts)
            self._report(
                codes.SYNTAX_ERROR, span, f"the line ends too early: expected {what}", label="expected more here"
            )
            return line
        start = token.start_pos or 0
        word = str(token)
        if word.startswith('"') and (len(word) == 1 or not word.rstrip().endswith('"')):
            return self.char_error_at(start)
        span = self.source.span(start, token.end_pos or start + 1)
        what = expected.describe_expected(accepts)
        keywords = [expected.KEYWORD_TERMINALS[a] for a in accepts if a in expected.KEYWORD_TERMINALS]
        suggestion = expected.close_match(word, keywords) if keywords else None
        help_text = f"did you mean `{suggestion}`?" if suggestion else None
        self._report(
            codes.SYNTAX_ERROR,
            span,
            f"unexpected `{_shorten(word)}`: expected {what}",
            label=f"expected {what}",
            help=help_text,
        )
        return span.line

    def char_error(self, err: UnexpectedCharacters) -> int:
        return self.char_error_at(cast(int, err.pos_in_stream), err.allowed)

    def char_error_at(self, start: int, allowed: set[str] | None = None) -> int:
        char = self.source.text[start] if start < len(self.source.text) else ""
        if char == '"':
            span = self.source.span(start, _line_end(self.source, self.source.index.position(start)[0]))
            self._report(
                codes.UNTERMINATED_TEXT,
                span,
                "quoted text is not closed on this line",
                label='this text has no closing `"`',
                help='close the text with `"`, or use a prose block of `|` lines',
            )
            return span.line
        span = self.source.span(start, start + 1)
        what = expected.describe_expected(allowed or ())
        self._report(
            codes.SYNTAX_ERROR, span, f"unexpected `{_shorten(char)}`: expected {what}", label=f"expected {what}"
        )
        return span.line

    def indent_error(self, err: _IndentMismatch, work: str) -> int:
        start = _first_content(work, err.offset)
        line = self.source.index.position(start)[0]
        span = self.source.span(start, _line_end(self.source, line))
        self._report(
            codes.BAD_INDENT,
            span,
            "this line's indentation matches no outer block",
            label="unexpected indentation",
            help="line it up with the block it belongs to",
        )
        return line

    def depth_error(self, offset: int) -> int:
        line = self.source.index.position(offset)[0]
        span = self.source.span(offset, _line_end(self.source, line))
        self._report(
            codes.TOO_DEEP,
            span,
            f"this condition is nested more than {MAX_NESTING} levels deep",
            label="nested too deeply",
            help="split the condition, or remove redundant parentheses and `not`",
        )
        return line

    def last_line(self, work: str) -> int:
        stripped = work.rstrip()
        return self.source.index.position(max(0, len(stripped) - 1))[0]

    def _report(self, code: Code, span: Span, message: str, *, label: str, help: str | None = None) -> None:
        self.reported += 1
        self.sink.report(code, span, message, label=label, help=help)


def _shorten(word: str) -> str:
    word = word.replace("\n", " ")
    return word if len(word) <= 40 else word[:37] + "..."


def parse(source: SourceFile, sink: Sink) -> ast.Module:
    """Parse ``source``, reporting every syntax error into ``sink``; never raises on input."""
    parser = _parser()
    reporter = _Reporter(source, sink)
    work = source.text if source.text.endswith("\n") else source.text + "\n"

    def comments() -> list[ast.Comment]:
        return [ast.Comment(span=source.span(pos, pos + len(text)), text=text) for pos, text in _COMMENTS.found]

    _TRANSFORMER.bind(source, comments)
    # Each attempt parses the whole file again: a long file gets fewer of them, so that the
    # attempts together read at most limits.REPARSE characters (the first always runs).
    attempts = max(1, min(MAX_ERRORS + 1, REPARSE.value // max(1, len(work))))
    for _attempt in range(attempts):
        _COMMENTS.found = []
        try:
            module = parser.parse(work)
        except UnexpectedToken as err:
            line = reporter.token_error(err, work)
        except UnexpectedCharacters as err:
            line = reporter.char_error(err)
        except UnexpectedInput as err:  # UnexpectedEOF: only with other parser modes
            line = err.line if err.line >= 1 else reporter.last_line(work)
        except _IndentMismatch as err:
            line = reporter.indent_error(err, work)
        except NestingTooDeep as err:
            line = reporter.depth_error(err.offset)
        else:
            return cast(ast.Module, module)
        work, progressed = _blank(work, line)
        if not progressed:
            break
    return ast.Module(span=source.span(0, len(source.text)), items=(), comments=())
