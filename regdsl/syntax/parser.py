"""The Lark LALR parser: built once, cached in the user's own cache folder, errors as diagnostics.

Only this package imports lark. A syntax error does not stop the parse: the line at
fault (and the block indented under it) is blanked out, keeping every offset, and the
file is parsed again, so one run reports every broken line.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import pickle
import stat
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import NoReturn, cast

import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter

from regdsl.diagnostics import Code, Sink, codes
from regdsl.model import ast
from regdsl.model.limits import REPARSE
from regdsl.model.vocabulary import TIME_UNITS, suggest_unit, unit_key
from regdsl.source import SourceFile, Span, describe_hidden, hidden_kind
from regdsl.syntax import expected
from regdsl.syntax.transform import BadChar, NestingTooDeep, ToAst

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


# The grammar cache. Lark's own cache unpickles a file at a path it opens itself, before
# checking its hash; regdsl manages the file instead: in the user's own cache folder, opened
# without following links, used only when it and its folder are the user's and writable by
# no one else, written whole to a new file and renamed into place, and read by an
# unpickler that refuses every class and function, so no cache can run code. A cache
# that is refused or damaged only means the parser is built from the grammar again.
_CACHE_FORMAT = "regdsl-grammar-cache 1"
_CACHE_LIMIT = 16 << 20  # bytes; the cache is about 100 KB
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC if os.name == "posix" else 0


def _cache_folder() -> Path | None:
    """Return the per-user cache folder: ``$REGDSL_CACHE_DIR``, else the XDG cache's ``regdsl``."""
    named = os.environ.get("REGDSL_CACHE_DIR")
    if named:
        return Path(named)
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec: absolute only
    except RuntimeError:  # no home folder to be found
        return None
    return base / "regdsl"


def _trusted(info: os.stat_result) -> bool:
    """Whether a cache file or folder is the user's own and writable by no one else."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@contextlib.contextmanager
def _open_cache_folder() -> Iterator[int | None]:
    """Yield a descriptor of the cache folder (made 0700 if new), or None when it cannot be trusted."""
    folder = _cache_folder()
    descriptor = None
    if folder is not None and os.name == "posix":
        try:
            os.makedirs(folder.parent, mode=0o700, exist_ok=True)  # made 0700, as the XDG spec asks
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o700)
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _OPEN_FLAGS)
        except OSError:
            descriptor = None
    try:
        if descriptor is not None and _trusted(os.fstat(descriptor)):
            yield descriptor
        else:
            yield None
    finally:
        if descriptor is not None:
            os.close(descriptor)


class _DataOnly(pickle.Unpickler):
    """Unpickles plain data only: every class or function a pickle names is refused."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError(f"the grammar cache names {module}.{name}: refused")


def _cache_header(key: str, payload: bytes) -> bytes:
    return f"{_CACHE_FORMAT} {key} {hashlib.sha256(payload).hexdigest()}\n".encode()


def _load_cached(folder: int, name: str, key: str, runtime: dict[str, object]) -> Lark | None:
    """Return the parser saved in the cache file ``name``, or None if it is missing, refused or damaged."""
    try:
        # Non-blocking: a FIFO opens at once, and is refused for not being a file.
        descriptor = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _OPEN_FLAGS, dir_fd=folder)
    except OSError:
        return None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > _CACHE_LIMIT:
        os.close(descriptor)  # checked before it is wrapped: a folder cannot be read as a file
        return None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            data = handle.read(_CACHE_LIMIT + 1)
        except OSError:
            return None
    header, _, payload = data.partition(b"\n")
    if header + b"\n" != _cache_header(key, payload):
        return None
    try:
        saved = _DataOnly(io.BytesIO(payload)).load()
        # What ``Lark.load`` does, given the runtime objects as lark's own cache gives them.
        return Lark.__new__(Lark)._load(saved, **runtime)
    except Exception:  # a cache that checks out but does not load (another lark): build instead
        return None


def _save_cached(folder: int, name: str, key: str, built: Lark, runtime: dict[str, object]) -> None:
    """Write the parser to a new file in the cache folder and rename it over ``name``; failures pass."""
    buffer = io.BytesIO()
    built.save(buffer, exclude_options=tuple(runtime))  # the objects regdsl runs with are given at load
    payload = buffer.getvalue()
    temporary = f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o600, dir_fd=folder)
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_cache_header(key, payload) + payload)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)  # replaces a link, never follows it
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)


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
    """Build the LALR parser from the grammar (``strict`` fails on any conflict), or read it from the cache.

    With ``transform`` the parser builds syntax nodes as it reduces, instead of a tree.
    """
    grammar = grammar_text()
    # What lark is given again when it loads a saved parser: the objects this process runs with.
    runtime: dict[str, object] = {
        "postlex": _RegIndenter(),
        "propagate_positions": False,
        "lexer_callbacks": {"_NL": _COMMENTS},
        "transformer": _TRANSFORMER if transform else None,
    }
    if not cache:
        return _compile(grammar, strict, runtime)
    key = hashlib.sha256(f"{lark.__version__}\n{sys.version_info[:2]}\n{strict}\n{grammar}".encode()).hexdigest()
    name = f"grammar-{key[:16]}.cache"
    with _open_cache_folder() as folder:
        loaded = _load_cached(folder, name, key, runtime) if folder is not None else None
        if loaded is not None:
            return loaded
        built = _compile(grammar, strict, runtime)
        if folder is not None:
            _save_cached(folder, name, key, built, runtime)
        return built


def _compile(grammar: str, strict: bool, runtime: dict[str, object]) -> Lark:
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=True,
        strict=strict,
        **runtime,
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
        if suggestion in TIME_UNITS and unit_key(suggestion) != unit_key(word):
            suggestion = suggest_unit(word, (k for k in keywords if k in TIME_UNITS))  # never another magnitude
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

    def refused(self, found: dict[int, BadChar]) -> None:
        """Report each character that quoted text may not hold, at its escape."""
        for offset in sorted(found):
            bad = found[offset]
            span = self.source.span(bad.start, bad.end)
            written = self.source.text[bad.start : bad.end]
            what = describe_hidden(bad.char)
            kind = hidden_kind(bad.char)
            if kind == "surrogate":
                self._report(
                    codes.LONE_SURROGATE,
                    span,
                    f"`{written}` is half of a surrogate pair, not a character",
                    label="half a surrogate pair",
                    help="write the character itself, or the escapes of both its halves one after the other",
                )
                continue
            self._report(
                codes.REFUSED_ESCAPE,
                span,
                f"`{written}` is {what}, which quoted text may not hold",
                label="control character" if kind == "control" else "invisible character",
                help=_REFUSED_HELP[kind or "invisible"],
            )

    def last_line(self, work: str) -> int:
        stripped = work.rstrip()
        return self.source.index.position(max(0, len(stripped) - 1))[0]

    def _report(self, code: Code, span: Span, message: str, *, label: str, help: str | None = None) -> None:
        self.reported += 1
        self.sink.report(code, span, message, label=label, help=help)


_REFUSED_HELP = {
    "control": "write `\\n` for a line break or `\\t` for a tab; no other control character belongs in a regimen",
    "bidi": "a bidirectional control can make text display in another order than it is read; delete it",
    "invisible": "delete it: no one can see it, and a word that holds it matches nothing",
}


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
    module = None
    # Each attempt parses the whole file again: a long file gets fewer of them, so that the
    # attempts together read at most limits.REPARSE characters (the first always runs).
    attempts = max(1, min(MAX_ERRORS + 1, REPARSE.value // max(1, len(work))))
    for _attempt in range(attempts):
        _COMMENTS.found = []
        try:
            module = cast(ast.Module, parser.parse(work))
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
            break
        work, progressed = _blank(work, line)
        if not progressed:
            break
    reporter.refused(_TRANSFORMER.refused)
    if module is None:
        return ast.Module(span=source.span(0, len(source.text)), items=(), comments=())
    return module
