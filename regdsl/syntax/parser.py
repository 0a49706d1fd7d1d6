"""The LALR parser: lark's tables, driven here; built once, cached in the user's own cache folder.

Only this package imports lark. lark builds the grammar's LALR(1) tables and its
contextual lexer (one scanner per parser state); this module runs them itself, building
the syntax nodes as each rule is reduced (``transform.Builder``), making the indentation
tokens, and keeping each comment with its span and the line it covers. That costs about
half of what lark's own loop does, and it can stop and go back: every few lines it keeps
the parser's state, so that a syntax error is recovered from by blanking the line at
fault (and the block indented under it), keeping every offset, and parsing again from the
last state kept before it, not from the top of the file. One run reports every broken line.
"""

from __future__ import annotations

import functools
import hashlib
import io
import operator
import pickle
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, cast

import lark
from lark import Lark
from lark.grammar import Rule
from lark.indenter import Indenter
from lark.parsers.lalr_analysis import Shift

from regdsl.diagnostics import Code, Fix, Sink, codes
from regdsl.model import ast
from regdsl.model.limits import REPARSE
from regdsl.model.vocabulary import TIME_UNITS, suggest_unit, unit_key
from regdsl.source import LineIndex, SourceFile, Span, describe_hidden, hidden_kind
from regdsl.syntax import cachefiles, expected
from regdsl.syntax.transform import BadChar, Builder, HeadingRead, NestingTooDeep, Tok

__all__ = [
    "LARK_VERSION",
    "MAX_ERRORS",
    "MAX_NESTING",
    "build_parser",
    "grammar_text",
    "parse",
    "parse_heading",
    "parse_tokens",
]

LARK_VERSION: str = lark.__version__  # what the results cache is keyed by, read without importlib.metadata

MAX_ERRORS = 50
MAX_NESTING = 64
# The parser keeps its state every this many lines, to parse again from there after a syntax error.
KEEP_EVERY = 16


class _RegIndenter(Indenter):
    """Lark's indenter, for lark's own parse of the grammar (``build_parser().parse``)."""

    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []  # noqa: RUF012 - lark reads class attributes
    CLOSE_PAREN_types: list[str] = []  # noqa: RUF012
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


def grammar_text() -> str:
    """Return the grammar: from the wheel (``regdsl/grammar``) or the source tree."""
    packaged = resources.files("regdsl").joinpath("grammar", "regdsl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "regdsl.lark").read_text(encoding="utf-8")


# The grammar cache. Lark's own cache unpickles a file at a path it opens itself, before
# checking its hash; regdsl manages the file instead, in the user's own cache folder
# (``cachefiles``), and reads it with an unpickler that refuses every class and function, so
# no cache can run code. A cache that is refused or damaged only means the parser is built
# from the grammar again.
_CACHE_FORMAT = "regdsl-grammar-cache 1"
_CACHE_LIMIT = 16 << 20  # bytes; the cache is about 100 KB
_cache_header = functools.partial(cachefiles.header, _CACHE_FORMAT)


class _DataOnly(pickle.Unpickler):
    """Unpickles plain data only: every class or function a pickle names is refused."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError(f"the grammar cache names {module}.{name}: refused")


def _load_cached(folder: int, name: str, key: str, runtime: dict[str, object]) -> Lark | None:
    """Return the parser saved in the cache file ``name``, or None if it is missing, refused or damaged."""
    payload = cachefiles.read_framed(folder, name, _CACHE_FORMAT, key, _CACHE_LIMIT)
    if payload is None:
        return None
    try:
        saved = _DataOnly(io.BytesIO(payload)).load()
        # What ``Lark.load`` does, given the runtime objects as lark's own cache gives them.
        return Lark.__new__(Lark)._load(saved, **runtime)
    except Exception:  # a cache that checks out but does not load (another lark): build instead
        return None


def _save_cached(folder: int, name: str, key: str, built: Lark, runtime: dict[str, object]) -> None:
    """Write the parser to the cache file ``name``; failures pass."""
    buffer = io.BytesIO()
    built.save(buffer, exclude_options=tuple(runtime))  # the objects regdsl runs with are given at load
    cachefiles.write_framed(folder, name, _CACHE_FORMAT, key, buffer.getvalue())


# The parsers this process has read or built, by their grammar's key: one read of the cache each.
_built: dict[str, Lark] = {}


def build_parser(*, strict: bool = False, cache: bool = True) -> Lark:
    """Build the LALR parser from the grammar (``strict`` fails on any conflict), or read it from the cache.

    With ``cache``, the parser is kept for the rest of the process, by its grammar's key: a
    changed grammar file is read again, as a key of its own. Without, it is built afresh.
    """
    grammar = grammar_text()
    # What lark is given again when it loads a saved parser: the objects this process runs with.
    runtime: dict[str, object] = {"postlex": _RegIndenter(), "propagate_positions": False}
    if not cache:
        return _compile(grammar, strict, runtime)
    key = hashlib.sha256(f"{LARK_VERSION}\n{sys.version_info[:2]}\n{strict}\n{grammar}".encode()).hexdigest()
    found = _built.get(key)
    if found is None:
        found = _built[key] = _read_or_build(grammar, key, strict, runtime)
    return found


def _read_or_build(grammar: str, key: str, strict: bool, runtime: dict[str, object]) -> Lark:
    """Return the parser of ``grammar`` from the cache file of ``key``, else build it and save it there."""
    name = f"grammar-{key[:16]}.cache"
    with cachefiles.open_cache_folder() as folder:
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


# --------------------------------------------------------------------------- the tables


class _Chain(tuple[Any, ...]):
    """The children of an inlined rule (``_rule``, and lark's ``__rule_plus_N`` for ``+`` and ``*``).

    A chain is a linked list, last child first: ``(earlier, child)``, and ``()`` when empty.
    A left-recursive rule (``a+`` is ``x: a | x a``) links its new children to the chain it
    is given, never copying it, and no chain is ever changed: a state the parser kept stays
    true whatever it parses after.
    """

    __slots__ = ()


_EMPTY = _Chain()
_link = tuple.__new__


def _items(chain: _Chain) -> list[Any]:
    """Return the children a chain holds, in order."""
    items = []
    while chain:
        chain, item = chain
        items.append(item)
    items.reverse()
    return items


class GrammarError(Exception):
    """The grammar has a rule that ``transform.Builder`` does not build."""


# A rule as the parser reduces it: how many values it takes, what it makes of them, what it is.
_Reduce = tuple[int, Callable[[list[Any]], object], str]
# An action: (-1, state, "") shifts to ``state``; a ``_Reduce`` reduces by a rule.
_Action = tuple[int, Any, str]


def _spread(value: object) -> tuple[Any, ...] | list[Any]:
    """Return the children ``value`` stands for in its parent: a chain's, or the value itself."""
    return _items(value) if type(value) is _Chain else (value,)


def _reducer(rule: Rule, methods: dict[str, Callable[[list[Any]], object]]) -> Callable[[list[Any]], object]:
    """Return what reduces ``rule``: its builder, given the children lark would give a transformer.

    As lark's own tree builder does: tokens whose name starts with ``_`` are left out, each
    optional part left out (``[...]``) is a ``None``, the children of an inlined rule stand
    in its place, and a ``?rule`` of one child is that child. The reducer is written for the
    rule, as Python, once: it is called for every node of every file.
    """
    expansion = rule.expansion
    marks = rule.options.empty_indices
    runs = [len(ones) for ones in "".join("1" if m else "0" for m in marks).split("0")] if marks else []
    runs = runs or [0] * (len(expansion) + 1)
    children: list[str] = []  # each child, as a Python expression over the values ``c``
    kept: list[int] = []  # the values kept
    pending = 0
    for i, symbol in enumerate(expansion):
        pending += runs[i]
        if not (symbol.is_term and getattr(symbol, "filter_out", False)):
            children += ["None"] * pending
            inlined = not symbol.is_term and symbol.name.startswith("_")
            children.append(f"*_spread(c[{i}])" if inlined else f"c[{i}]")
            kept.append(i)
            pending = 0
    children += ["None"] * (pending + runs[len(expansion)])
    name = rule.alias or rule.origin.name
    names: dict[str, object] = {"_spread": _spread, "_Chain": _Chain, "_EMPTY": _EMPTY, "_link": _link}
    if name.startswith("_"):
        if len(children) == 1 and kept:  # one child: it stands for itself, a value or a chain
            return operator.itemgetter(kept[0])
        body = _chain_code(children, left=bool(expansion) and expansion[0] == rule.origin)
    else:
        build = methods.get(name)
        single = bool(rule.options.expand1 and not rule.alias)
        if build is None and not single:
            raise GrammarError(f"no builder for the grammar rule `{name}`")
        names["build"] = build
        plain = children == [f"c[{i}]" for i in range(len(expansion))]
        if plain and build is not None and not single:
            return build  # the rule's values are its children
        made = "c" if plain else f"[{', '.join(children)}]"
        if not single:
            body = f"    return build({made})"
        else:
            body = f"    f = {made}\n    return f[0] if len(f) == 1 else build(f)"
    exec(f"def reduce(c):\n{body}\n", names)
    return cast(Callable[[list[Any]], object], names["reduce"])


def _chain_code(children: list[str], *, left: bool) -> str:
    """Return the body of an inlined rule's reducer: it links its children to a chain."""
    lines = ["    chain = _EMPTY"]
    if left:  # x: x a ...: link to the chain x made (a first x of one child is that child)
        lines = ["    chain = c[0] if type(c[0]) is _Chain else _link(_Chain, (_EMPTY, c[0]))"]
        children = children[1:]
    for child in children:
        if child.startswith("*"):
            lines.append(f"    for item in {child[1:]}:\n        chain = _link(_Chain, (chain, item))")
        else:
            lines.append(f"    chain = _link(_Chain, (chain, {child}))")
    return "\n".join([*lines, "    return chain"])


@dataclass(frozen=True, slots=True)
class _Scanner:
    """What the contextual lexer reads in one parser state: its terminals' pattern, keywords, names."""

    match: Callable[[str, int], re.Match[str] | None]
    keywords: dict[str, Callable[[str], str | None]]  # a terminal that may be a keyword: its keyword, if any
    allowed: frozenset[str]


def _scanner(basic: Any) -> _Scanner:
    """Make a ``_Scanner`` of one of lark's basic lexers (compiling its pattern)."""
    patterns = basic.scanner._mres
    if len(patterns) == 1:
        match = patterns[0].match
    else:  # a lexer of more terminals than Python's `re` allows groups in one pattern

        def match(text: str, pos: int) -> re.Match[str] | None:
            return next((m for m in (p.match(text, pos) for p in patterns) if m is not None), None)

    keywords = {kind: callback.scanner.fullmatch for kind, callback in basic.callback.items()}
    return _Scanner(match, keywords, frozenset(basic.scanner.allowed_types - basic.ignore_types))


class _Lazy(dict[int, Any]):
    """A table filled in as the parser meets each state (most files meet few of them)."""

    def __init__(self, make: Callable[[int], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, state: int) -> Any:
        made = self[state] = self.make(state)
        return made


class _Grammar:
    """The grammar's LALR tables and contextual lexer, as the driver reads them, and its builders."""

    def __init__(self, parser: Lark, builder: Builder) -> None:
        frontend = parser.parser
        table = frontend.parser.parser.parse_table
        contextual = frontend.lexer.lexer
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        self.ignore = frozenset(parser.lexer_conf.ignore)
        methods = builder.methods()
        rules: dict[Rule, _Reduce] = {}

        def reduce_by(rule: Rule) -> _Reduce:
            if rule not in rules:
                rules[rule] = (len(rule.expansion), _reducer(rule, methods), rule.origin.name)
            return rules[rule]

        def actions(state: int) -> dict[str, _Action]:
            return {
                symbol: (-1, arg, "") if action is Shift else reduce_by(arg)
                for symbol, (action, arg) in table.states[state].items()
            }

        self.actions: dict[int, dict[str, _Action]] = _Lazy(actions)
        self.lexers: dict[int, _Scanner] = _Lazy(lambda state: _scanner(contextual.lexers[state]))
        # The keywords that end in a letter or digit: one run into the next word is two words glued.
        self.words = frozenset(
            t.name for t in parser.terminals if t.pattern.type == "str" and t.pattern.value[-1:].isalnum()
        )
        self._root_lexer = contextual.root_lexer

    @functools.cached_property
    def root(self) -> _Scanner:
        """The scanner of every terminal, which says what a token that does not belong where it is was."""
        return _scanner(self._root_lexer)

    def accepts(self, states: list[int]) -> set[str]:
        """Return the terminals that would move the parser on from ``states`` (lark's ``accepts``)."""
        found = set()
        for terminal in self.actions[states[-1]]:
            if not terminal.isupper():
                continue
            stack = list(states)
            while True:
                action = self.actions[stack[-1]].get(terminal)
                if action is None:
                    break
                size, _shift, origin = action
                if size < 0:
                    found.add(terminal)
                    break
                if size:
                    del stack[-size:]
                stack.append(self.actions[stack[-1]][origin][1])
        return found


_BUILDER = Builder(MAX_NESTING)


@functools.cache
def _grammar() -> _Grammar:
    parser = build_parser()
    expected.KEYWORD_TERMINALS.update(
        {t.name: t.pattern.value for t in parser.terminals if t.pattern.type == "str" and t.name.isupper()}
    )
    return _Grammar(parser, _BUILDER)


# --------------------------------------------------------------------------- the driver


@dataclass(frozen=True, slots=True)
class _Found:
    """A token the parser met: its terminal, its text and where."""

    type: str
    text: str
    start: int
    end: int


class _Failure(Exception):
    """A parse stopped at a syntax error."""


class _Unexpected(_Failure):
    """A token the grammar does not allow where it is; ``expected`` and ``accepts`` as lark says them."""

    def __init__(self, token: _Found, expected: set[str], accepts: Callable[[], set[str]]) -> None:
        super().__init__(token.type)
        self.token = token
        self.expected = expected
        self.accepts = accepts


class _BadCharacter(_Failure):
    """Text no terminal matches at ``offset``; ``allowed`` are the terminals that could have come."""

    def __init__(self, offset: int, allowed: frozenset[str]) -> None:
        super().__init__(offset)
        self.offset = offset
        self.allowed = allowed


class _IndentMismatch(_Failure):
    """A line returns to an indentation that no outer block has; ``offset`` is where the line starts."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _TooDeep(_Failure):
    """A condition nests too deeply at ``offset``."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class _Kept:
    """The parser's state before the end of a line: where, its stacks, the indentation, what was gathered."""

    offset: int
    states: tuple[int, ...]
    values: tuple[Any, ...]
    indent: tuple[int, ...]
    gathered: tuple[int, int, int]  # how many comments, prose blocks and headings the builder had


_INDENTS: dict[str, int] = {}  # the indentation each end-of-line token sets, by its text


class _Run:
    """One parse of one file: the text as it is now (with lines blanked), the parser's state, kept states."""

    def __init__(self, grammar: _Grammar, builder: Builder, source: SourceFile) -> None:
        self.tokens: list[Tok] | None = None  # every token read, kept when a caller asks (``parse_tokens``)
        self.grammar = grammar
        self.builder = builder
        self.source = source
        self.work = source.text if source.text.endswith("\n") else source.text + "\n"
        self.index = source.index
        self.blanked = False  # lines were blanked: a comment may stand above a line that is blank now
        self.read = 0  # characters read in all, by every attempt
        self.kept: list[_Kept] = [_Kept(0, (grammar.start,), (), (0,), (0, 0, 0))]
        self.glued: dict[int, int] = {}  # where a keyword that runs into the next word starts, and its end
        self._resume(self.kept[0])

    def _resume(self, kept: _Kept) -> None:
        self.pos = kept.offset
        self.states = list(kept.states)
        self.values = list(kept.values)
        self.indent = kept.indent
        gathered = self.builder
        del gathered.comments[kept.gathered[0] :], gathered.blocks[kept.gathered[1] :]
        del gathered.headings[kept.gathered[2] :]

    def again_before(self, line: int, work: str) -> bool:
        """Parse ``work`` next (the text with more lines blanked) from the last state kept before ``line``.

        Returns False when that would read more than ``limits.REPARSE`` characters in all.
        """
        begin = self.index.starts[line - 1] if line <= len(self.index.starts) else len(work)
        while len(self.kept) > 1 and self.kept[-1].offset >= begin:
            self.kept.pop()
        kept = self.kept[-1]
        if self.read + len(work) - kept.offset > REPARSE.value:
            return False
        self.work = work
        self.blanked = True
        self._resume(kept)
        return True

    def run(self) -> ast.Module:
        """Parse from the current state to the end; raises a ``_Failure`` at a syntax error.

        Each token is fed to the LALR tables here, in one loop, as lark's parser would: the
        indentation tokens after the end of a line, as lark's ``Indenter`` makes them, and at
        the end of the file the blocks still open and ``$END``, until the file's rule is reduced.
        """
        actions, lexers, ignore = self.grammar.actions, self.grammar.lexers, self.grammar.ignore
        words, glued = self.grammar.words, self.glued
        work, pos, states, values = self.work, self.pos, self.states, self.values
        kept_tokens = self.tokens
        size_of = len(work)
        start = end = last = pos  # ``last``: where the last token read starts (lark's end tokens are put there)
        lines = 0
        token: Tok | None = None
        try:
            while True:
                mismatch = False
                if pos < size_of:
                    lexer = lexers[states[-1]]
                    match = lexer.match(work, pos)
                    if match is None:
                        self._bad(work, pos, lexer, states)
                    kind = match.lastgroup or ""
                    end = match.end()
                    if kind in ignore:
                        pos = end
                        continue
                    text = match.group()
                    keyword = lexer.keywords.get(kind)
                    if keyword is not None:
                        kind = keyword(text) or kind
                    last = pos
                    if kind == "_NL":
                        lines += 1
                        if lines % KEEP_EVERY == 0 and pos > self.kept[-1].offset:
                            self._keep(pos, states, values)
                        if "#" in text:
                            self._comments(text, pos, end)
                        pending, mismatch = self._line_break(text)
                        token = None
                    else:
                        if kind in words and end < size_of and (work[end].isalnum() or work[end] == "_"):
                            glued[pos] = end
                        pending = (kind,)
                        token = (kind, text, pos, end)
                        if kept_tokens is not None:
                            kept_tokens.append(token)
                else:
                    pending = (*("_DEDENT",) * (len(self.indent) - 1), "$END")
                    self.indent = (0,)
                    token = None
                for kind in pending:
                    while True:
                        action = actions[states[-1]].get(kind)
                        if action is None:
                            raise self._unexpected(kind, token, last, end, states)
                        size, arg, origin = action
                        if size < 0:
                            states.append(arg)
                            values.append(token)
                            break
                        if size:
                            children = values[-size:]
                            del states[-size:], values[-size:]
                        else:
                            children = []
                        value = arg(children)
                        if origin == "start":  # reduced only at the end: the whole file
                            return cast(ast.Module, value)
                        states.append(actions[states[-1]][origin][1])
                        values.append(value)
                if mismatch:
                    raise _IndentMismatch(end)
                if pos >= size_of:
                    raise self._unexpected("$END", None, last, end, states)
                pos = end
        except NestingTooDeep as err:
            raise _TooDeep(err.offset) from None
        finally:
            self.read += pos - start

    def _keep(self, pos: int, states: list[int], values: list[Any]) -> None:
        """Keep the parser's state before the end of the line at ``pos``, to parse again from there."""
        builder = self.builder
        gathered = (len(builder.comments), len(builder.blocks), len(builder.headings))
        self.kept.append(_Kept(pos, tuple(states), tuple(values), self.indent, gathered))

    def _unexpected(self, kind: str, token: Tok | None, start: int, end: int, states: list[int]) -> _Unexpected:
        """Say that ``kind`` cannot come where the parser is (a token made for a line end is put at it)."""
        found = _Found(kind, token[1], token[2], token[3]) if token is not None else _Found(kind, "", start, end)
        expected = {s for s in self.grammar.actions[states[-1]] if s.isupper()}
        return _Unexpected(found, expected, functools.partial(self.grammar.accepts, list(states)))

    def _line_break(self, text: str) -> tuple[tuple[str, ...], bool]:
        """Return the tokens the end of a line makes, as lark's ``Indenter`` does, and whether its indent is wrong.

        ``_NL``, then ``_INDENT`` when the next line is indented further, or a ``_DEDENT`` for
        each block it closes; wrong when it returns to an indentation no open block has.
        """
        indent = _INDENTS.get(text)
        if indent is None:
            spaces = text[text.rfind("\n") + 1 :]
            indent = spaces.count(" ") + spaces.count("\t") * _RegIndenter.tab_len
            if len(_INDENTS) < 4096:  # the ends of lines a file holds are few: most are "\n" and spaces
                _INDENTS[text] = indent
        levels = self.indent
        if indent > levels[-1]:
            self.indent = (*levels, indent)
            return ("_NL", "_INDENT"), False
        if indent == levels[-1]:
            return ("_NL",), False
        kept = levels
        while indent < kept[-1]:
            kept = kept[:-1]
        self.indent = kept
        return ("_NL", *("_DEDENT",) * (len(levels) - len(kept))), indent != kept[-1]

    def _bad(self, work: str, pos: int, lexer: _Scanner, states: list[int]) -> NoReturn:
        """Raise for text the state's terminals do not match: a token of another state, or none at all."""
        match = self.grammar.root.match(work, pos)
        if match is None:
            raise _BadCharacter(pos, lexer.allowed)
        kind, text = match.lastgroup or "", match.group()
        keyword = self.grammar.root.keywords.get(kind)
        if keyword is not None:
            kind = keyword(text) or kind
        stack = list(states)
        raise _Unexpected(
            _Found(kind, text, pos, match.end()), set(lexer.allowed), functools.partial(self.grammar.accepts, stack)
        )

    def _comments(self, text: str, start: int, end: int) -> None:
        """Keep each comment of an end-of-line token, with the line it covers."""
        found: list[tuple[int, str]] = []
        pos = text.find("#")
        while pos != -1:
            stop = text.find("\n", pos)
            stop = len(text) if stop == -1 else stop
            found.append((start + pos, text[pos:stop].rstrip("\r")))
            pos = text.find("#", stop)
        position = self.index.position
        last_line = position(end)[0] if end < len(self.work) else None  # the line the token ends on
        # Lines inside the token that were blanked held text: a comment above them covers the first.
        written = self._blanked_lines(position(start)[0] + 1, last_line) if self.blanked else []
        covered = last_line
        covers: list[int] = []
        for offset, _comment in reversed(found):
            line = position(offset)[0]
            while written and written[-1] > line:
                covered = written.pop()
            alone = "\n" in text[: offset - start] or not self.work[self.work.rfind("\n", 0, start) + 1 : start].strip()
            covers.append(covered if alone and covered is not None else line)
        for (offset, comment), line in zip(found, reversed(covers), strict=True):
            self.builder.comment(offset, comment, line)

    def _blanked_lines(self, first: int, stop: int | None) -> list[int]:
        """Return the lines from ``first`` up to ``stop`` that hold text in the file as written (not comments)."""
        original = self.source
        last = stop if stop is not None else len(original.index.starts) + 1
        return [
            number
            for number in range(first, last)
            if (line := original.line_text(number).strip()) and not line.startswith("#")
        ]


def _blank(work: str, index: LineIndex, first_line: int) -> tuple[str, bool]:
    """Blank ``first_line`` and the lines indented under it, keeping every offset."""
    starts = index.starts

    def line_at(number: int) -> str:
        begin = starts[number - 1]
        stop = starts[number] - 1 if number < len(starts) else len(work)
        return work[begin:stop]

    if not 1 <= first_line <= len(starts) or not line_at(first_line).strip():
        return work, False
    head = line_at(first_line)
    indent = len(head) - len(head.lstrip())
    stop = first_line + 1
    while stop <= len(starts):
        line = line_at(stop)
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        stop += 1
    begin = starts[first_line - 1]
    end = starts[stop - 1] - 1 if stop <= len(starts) else len(work)
    region = work[begin:end]
    return work[:begin] + "\n".join(" " * len(part) for part in region.split("\n")) + work[end:], True


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

    def report(self, failure: _Failure, work: str) -> int:
        """Report ``failure``; return the line to blank."""
        if isinstance(failure, _Unexpected):
            return self.token_error(failure, work)
        if isinstance(failure, _BadCharacter):
            return self.char_error_at(failure.offset, failure.allowed)
        if isinstance(failure, _IndentMismatch):
            return self.indent_error(failure, work)
        assert isinstance(failure, _TooDeep)
        return self.depth_error(failure.offset)

    def token_error(self, err: _Unexpected, work: str) -> int:
        token = err.token
        accepts = err.accepts() or err.expected
        kind = token.type
        if kind == "_INDENT":
            start = _first_content(work, token.end)
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
            line = self.source.index.position(token.start)[0] if kind != "$END" else self.last_line(work)
            if kind != "_NL" and self.reported:
                return line  # a block left empty by an earlier error: not a new finding
            end = _line_end(self.source, line)
            span = self.source.span(end, end)
            what = expected.describe_expected(accepts)
            self._report(
                codes.SYNTAX_ERROR, span, f"the line ends too early: expected {what}", label="expected more here"
            )
            return line
        start = token.start
        word = token.text
        if word.startswith('"') and (len(word) == 1 or not word.rstrip().endswith('"')):
            return self.char_error_at(start)
        span = self.source.span(start, token.end or start + 1)
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

    def char_error_at(self, start: int, allowed: frozenset[str] | None = None) -> int:
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

    def glued(self, found: dict[int, int], work: str) -> None:
        """Report each keyword run into the word after it (``found``: its start and end), with the space as a fix."""
        for start, end in sorted(found.items()):
            if work[start:end] != self.source.text[start:end]:
                continue  # read on a line blanked since: not the text as written
            after = re.match(r"\w+", work[end:])
            stop = end + (after.end() if after else 0)
            keyword, rest = work[start:end], work[end:stop]
            span = self.source.span(start, stop)
            self.sink.report(
                codes.WORDS_RUN_TOGETHER,
                span,
                f"`{keyword}` runs into `{rest}`: read as `{keyword} {rest}`",
                label="two words",
                help=f"write a space between them: `{keyword} {rest}`",
                fixes=(Fix(self.source.span(end, end), " ", "write a space between the words"),),
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
    """Parse ``source``, reporting every syntax error into ``sink``; never raises on input.

    After a syntax error the line at fault (and its block) is blanked and the parse goes on
    from the last state kept before it, up to ``MAX_ERRORS`` errors, reading at most
    ``limits.REPARSE`` characters in all (the first parse always reads the whole file).
    """
    return _parse(source, sink, None)


def parse_tokens(source: SourceFile, sink: Sink) -> tuple[ast.Module, list[Tok]]:
    """Parse ``source`` as ``parse`` does, also returning every token the parser read, in order.

    The tokens (terminal, text, start, end) are those of the whole file only when ``sink``
    holds no syntax error: after one, the parse went back and read some lines again.
    """
    tokens: list[Tok] = []
    return _parse(source, sink, tokens), tokens


def _parse(source: SourceFile, sink: Sink, tokens: list[Tok] | None) -> ast.Module:
    builder = _BUILDER
    builder.bind(source)
    run = _Run(_grammar(), builder, source)
    run.tokens = tokens
    reporter = _Reporter(source, sink)
    module = None
    while True:
        try:
            module = run.run()
        except _Failure as failure:
            line = reporter.report(failure, run.work)
        else:
            break
        if reporter.reported >= MAX_ERRORS:
            break
        work, progressed = _blank(run.work, source.index, line)
        if not progressed or not run.again_before(line, work):
            break
    reporter.refused(builder.refused)
    reporter.glued(run.glued, run.work)
    if module is None:
        return ast.Module(span=source.span(0, len(source.text)), items=(), comments=())
    return module


def parse_heading(source: SourceFile) -> ast.RegimenHeader | None:
    """Return the `regimen` heading of ``source``, parsing it no further than the heading's end.

    What a library knows of its regimens without checking them (their ids, statuses and
    names) comes from their headings, read by the grammar and the builder ``parse`` uses,
    which stop when the heading's block ends, or sooner: once its first `name` and `status`
    are read, as nothing after them changes what they say (the heading returned then holds
    those two fields). A file with a syntax error before that is parsed whole, recovering as
    ``parse`` does (its findings are the check's, not kept here). Returns None when the file
    has no heading.
    """
    builder = _BUILDER
    run = _Run(_grammar(), builder, source)

    def opened() -> tuple[Tok, Tok] | None:
        """Return the `regimen` keyword and id whose block is being read, if any."""
        values = run.values
        for i in range(len(values) - 1):
            kept = values[i]
            if type(kept) is tuple and kept[0] == "REGIMEN":
                return cast(tuple[Tok, Tok], (kept, values[i + 1]))
        return None

    builder.bind(source, heading=opened)
    try:
        module = run.run()
    except HeadingRead as read:
        return read.heading
    except _Failure:
        module = parse(source, Sink())
    return next((item for item in module.items if isinstance(item, ast.RegimenHeader)), None)
