"""Builds the syntax nodes of ``regdsl.model.ast`` as the parser reduces each grammar rule.

Each method is named after, and quotes, the grammar rule it builds. It is given the rule's
children as lark would give a transformer: the tokens lark keeps (``Tok``: the terminal's
name, its text and its offsets), the nodes already built, ``None`` for each optional part
left out (``[...]``), and the children of inlined rules (``_rule``) in their place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple, cast

from regdsl.model import ast
from regdsl.source import LineIndex, SourceFile, Span, find_hidden

__all__ = ["HEADING_KEYS", "BadChar", "Builder", "HeadingRead", "NestingTooDeep", "Tok", "decode_text"]

# A token as the parser gives it: the terminal's name, the text and its offsets [start, end).
Tok = tuple[str, str, int, int]

# The fields whose text is a heading (shown to clinicians as a name or title).
HEADING_KEYS = frozenset({"name", "title", "subtitle", "description"})

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
# A pair of escapes for the two halves of a UTF-16 surrogate pair is one character.
_HEX = "[0-9a-fA-F]"
_ESCAPE = re.compile(rf"\\(?:u([dD][89abAB]{_HEX}{{2}})\\u([dD][c-fC-F]{_HEX}{{2}})|u({_HEX}{{4}})|(.))")
# What an ASCII text may not hold (see ``regdsl.source.find_hidden``): tested first, as it is cheap.
_ASCII_REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_REPLACEMENT = "\ufffd"
_span = tuple.__new__  # a Span from its four parts, without a call through ``Span.__new__``


@dataclass(frozen=True, slots=True)
class BadChar:
    """A character quoted text may not hold, at ``[start, end)`` of its token: an escape, or itself."""

    start: int
    end: int
    char: str


def _unescape(match: re.Match[str]) -> str:
    high, low, code, other = match.groups()
    if high:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)
    if code:
        return chr(int(code, 16))
    return _ESCAPES.get(other, "\\" + other)


def _decode(body: str) -> tuple[str, list[int]]:
    """Decode the escapes of ``body``; with the jumps (index, offset in ``body``) after each escape."""
    out: list[str] = []
    jumps: list[int] = []
    pos = length = 0
    for match in _ESCAPE.finditer(body):
        start, end = match.span()
        out.append(body[pos:start])
        char = _unescape(match)
        out.append(char)
        length += start - pos + len(char)
        if len(char) != end - start:
            jumps += (length, end)
        pos = end
    out.append(body[pos:])
    return "".join(out), jumps


def decode_text(raw: str, start: int = 0) -> tuple[str, tuple[int, ...], tuple[BadChar, ...]]:
    r"""Decode a quoted STRING token written at offset ``start``: ``\n``, ``\t``, ``\"``, ``\\``, ``\uXXXX``.

    Returns the text, its jumps (see ``ast.Text``: where its characters were written, as
    offsets from ``start``) and the characters that text may not hold (a control but the tab
    and line feed, an invisible or bidirectional character, a lone surrogate: see
    ``regdsl.source.find_hidden``), each replaced by U+FFFD in the text and located in the token.
    """
    body = raw[1:-1]
    jumps: tuple[int, ...] = ()
    if "\\" in body:
        text, relative = _decode(body)
        jumps = tuple(v + start + 1 if k % 2 else v for k, v in enumerate(relative))
    else:
        text = body
    if text.isascii() and _ASCII_REFUSED.search(text) is None:
        return text, jumps, ()
    found = list(find_hidden(text, source=False))
    if not found:
        return text, jumps, ()
    bad = []
    chars = list(text)
    for match in found:
        at = match.start()
        bad.append(
            BadChar(
                start=ast._offset(start + 1, jumps, at) - start,
                end=ast._offset(start + 1, jumps, at + 1) - start,
                char=match.group(),
            )
        )
        chars[at] = _REPLACEMENT
    return "".join(chars), jumps, tuple(bad)


Child = Any


class Comparison(NamedTuple):
    """``under 45 kg``, ``30 to 50 mL/min``: what a comparison says, and where it starts."""

    op: Literal["lt", "gt", "ge", "le", "range"]
    low: Tok
    high: Tok | None
    unit: Tok
    start: int


class HeadingRead(Exception):
    """The heading of a file is built, and only the heading was asked for."""

    def __init__(self, heading: ast.RegimenHeader) -> None:
        super().__init__(heading.id.text)
        self.heading = heading


class NestingTooDeep(Exception):
    """A condition nests deeper than the limit; ``offset`` is where the too-deep part starts."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class Builder:
    """Builds ``ast`` nodes bottom-up, while the LALR parser reduces (no parse tree is built).

    ``bind`` sets the file being parsed. Spans come from token offsets. Conditions deeper
    than ``max_nesting`` (parentheses and ``not`` count) raise ``NestingTooDeep``, so that
    later passes, which recurse over conditions, never meet a deep one. Quoted text holds
    U+FFFD for each character it may not hold, and ``refused`` keeps those, by offset, for
    the parser to report. ``comments``, ``blocks`` (of prose) and ``headings`` gather what the module
    lists; the parser cuts them back when it parses part of a file again.
    """

    def __init__(self, max_nesting: int) -> None:
        self.max_nesting = max_nesting
        self.bind(SourceFile("<unbound>", ""))

    def bind(self, source: SourceFile, *, heading: Callable[[], tuple[Tok, Tok] | None] | None = None) -> None:
        """Build the nodes of ``source`` next; with ``heading``, only its `regimen` heading.

        ``heading`` says which `regimen` heading's block the parser is in, if any (its keyword
        and id): once its first `name` and `status` fields are read, or its block ends, the
        builder raises ``HeadingRead``.
        """
        self.heading = heading
        self.read: dict[str, ast.Meta] = {}  # the heading's first `name` and `status`, as read
        self.source = source
        self.path = source.path
        self.index: LineIndex = source.index
        self.refused: dict[int, BadChar] = {}
        self.comments: list[ast.Comment] = []
        self.blocks: list[ast.Prose] = []
        self.headings: list[ast.Text] = []
        # The depth of each condition built, by id, with the condition (so that an id is never reused).
        self._depth: dict[int, tuple[int, object]] = {}

    def methods(self) -> dict[str, Callable[[list[Child]], object]]:
        """Return the builder of each grammar rule, by the rule's name (or its alias)."""
        return {
            name: getattr(self, name)
            for name in dir(type(self))
            if not name.startswith("_") and name not in {"bind", "methods", "comment"} and callable(getattr(self, name))
        }

    def _nest(self, node: ast.Cond, inner: tuple[object, ...]) -> ast.Cond:
        depth = 1 + max((self._depth.get(id(x), (0, None))[0] for x in inner), default=0)
        if depth > self.max_nesting:
            raise NestingTooDeep(node.span.start)
        self._depth[id(node)] = (depth, node)
        return node

    # -- helpers -----------------------------------------------------------------

    def _sp(self, start: int, end: int) -> Span:
        return _span(Span, (self.path, start, end, self.index))

    def _w(self, t: Tok) -> ast.Word:
        return ast.Word(span=_span(Span, (self.path, t[2], t[3], self.index)), text=t[1])

    def _word(self, t: Tok | None) -> ast.Word | None:
        return None if t is None else self._w(t)

    def _text(self, t: Tok) -> ast.Text:
        value, jumps = self._decode(t)
        return ast.Text(span=_span(Span, (self.path, t[2], t[3], self.index)), value=value, jumps=jumps)

    def _decode(self, t: Tok) -> tuple[str, tuple[int, ...]]:
        start = t[2]
        text, jumps, bad = decode_text(t[1], start)
        for found in bad:
            self.refused[start + found.start] = replace(found, start=start + found.start, end=start + found.end)
        return text, jumps

    @staticmethod
    def _end(*parts: Tok | ast.Node | None) -> int:
        """The end of the last of ``parts`` that is there."""
        for part in reversed(parts):
            if part is None:
                continue
            return part[3] if isinstance(part, tuple) else part.span.end
        return 0

    def comment(self, start: int, text: str, covers: int) -> None:
        """Keep a comment the parser found at ``start``, covering line ``covers``."""
        self.comments.append(ast.Comment(span=self._sp(start, start + len(text)), text=text, covers=covers))

    # -- start ---------------------------------------------------------------------

    def start(self, c: list[Child]) -> ast.Module:
        """``start: _NL? _item*``."""
        return ast.Module(
            span=self._sp(0, len(self.source.text)),
            items=tuple(x for x in c if x is not None),
            comments=tuple(self.comments),
            prose=tuple(self.blocks),
            headings=tuple(self.headings),
        )

    # -- identity ------------------------------------------------------------------

    def regimen(self, c: list[Child]) -> ast.RegimenHeader:
        """``regimen: REGIMEN NAME _NL [_INDENT _meta+ _DEDENT]``."""
        meta = tuple(x for x in c[2:] if x is not None)
        node = ast.RegimenHeader(span=self._sp(c[0][2], c[1][3]), id=self._w(c[1]), meta=cast(Any, meta))
        if self.heading is not None:
            raise HeadingRead(node)
        return node

    def _read(self, key: str, field: ast.Meta) -> None:
        """In a heading-only parse, keep the heading's first `name` and `status`; once both are read, stop."""
        opened = self.heading() if self.heading is not None and key not in self.read else None
        if opened is None:
            return
        self.read[key] = field
        if len(self.read) == 2:
            keyword, name = opened
            span = self._sp(keyword[2], name[3])
            raise HeadingRead(ast.RegimenHeader(span=span, id=self._w(name), meta=tuple(self.read.values())))

    def library(self, c: list[Child]) -> ast.LibraryHeader:
        """``library: LIBRARY STRING _NL``."""
        return ast.LibraryHeader(span=self._sp(c[0][2], c[1][3]), title=self._text(c[1]))

    def text_key(self, c: list[Child]) -> Tok:
        """``text_key: NAME_KW | TITLE | ...``."""
        return cast(Tok, c[0])

    date_key = text_key
    measure_unit = text_key
    long_unit = text_key
    role_flag = text_key
    direction = text_key
    point = text_key
    position = text_key
    time_unit = text_key
    days_kw = text_key

    def text_field(self, c: list[Child]) -> ast.TextField:
        """``text_field: text_key STRING _NL``."""
        key, value = self._w(c[0]), self._text(c[1])
        if key.text in HEADING_KEYS:
            self.headings.append(value)
        node = ast.TextField(span=self._sp(c[0][2], c[1][3]), key=key, value=value)
        if key.text == "name":
            self._read("name", node)
        return node

    def date_field(self, c: list[Child]) -> ast.DateField:
        """``date_field: date_key DATE _NL``."""
        return ast.DateField(span=self._sp(c[0][2], c[1][3]), key=self._w(c[0]), value=self._w(c[1]))

    def status_field(self, c: list[Child]) -> ast.StatusField:
        """``status_field: STATUS NAME [BY NAME] _NL``."""
        node = ast.StatusField(span=self._sp(c[0][2], self._end(*c)), status=self._w(c[1]), by=self._word(c[3]))
        self._read("status", node)
        return node

    def term(self, c: list[Child]) -> ast.Term:
        """``term: STRING [LSQB NUMBER RSQB]``."""
        return ast.Term(span=self._sp(c[0][2], self._end(*c)), text=self._text(c[0]), code=self._word(c[2]))

    def cancer_field(self, c: list[Child]) -> ast.CancerField:
        """``cancer_field: CANCER term (GT term)* _NL``."""
        terms = tuple(x for x in c if isinstance(x, ast.Term))
        return ast.CancerField(span=self._sp(c[0][2], terms[-1].span.end), terms=terms)

    def setting_field(self, c: list[Child]) -> ast.SettingField:
        """``setting_field: SETTING term _NL``."""
        return ast.SettingField(span=self._sp(c[0][2], c[1].span.end), term=c[1])

    def identifier_field(self, c: list[Child]) -> ast.IdentifierField:
        """``identifier_field: IDENTIFIER STRING STRING _NL``."""
        return ast.IdentifierField(span=self._sp(c[0][2], c[2][3]), system=self._text(c[1]), value=self._text(c[2]))

    def footnotes_field(self, c: list[Child]) -> ast.FootnotesField:
        """``footnotes_field: FOOTNOTES NAME (COMMA NAME)* _NL``."""
        names = tuple(self._w(t) for t in c[1:] if t[0] == "NAME")
        return ast.FootnotesField(span=self._sp(c[0][2], c[-1][3]), names=names)

    def overview(self, c: list[Child]) -> ast.Overview:
        """``overview: OVERVIEW _NL _INDENT prose _DEDENT``."""
        return ast.Overview(span=self._sp(c[0][2], c[0][3]), prose=c[1])

    def responses_field(self, c: list[Child]) -> ast.ResponsesField:
        """``responses_field: RESPONSES NAME _NL``."""
        return ast.ResponsesField(span=self._sp(c[0][2], c[1][3]), name=self._w(c[1]))

    def prose(self, c: list[Child]) -> ast.Prose:
        """``prose: (PROSE _NL)+``: the text after ``|`` and one space, kept verbatim."""
        lines = []
        starts = []
        for _type, value, begin, _stop in c:
            text = value[1:].rstrip("\r")
            if text.startswith(" "):
                lines.append(text[1:])
                starts.append(begin + 2)
            else:
                lines.append(text)
                starts.append(begin + 1)
        node = ast.Prose(span=self._sp(c[0][2], c[-1][3]), lines=tuple(lines), starts=tuple(starts))
        self.blocks.append(node)
        return node

    # -- definitions ---------------------------------------------------------------

    def drug_decl(self, c: list[Child]) -> ast.DrugDecl:
        """``drug_decl: DRUG NAME EQUAL STRING _NL``."""
        return ast.DrugDecl(span=self._sp(c[0][2], c[3][3]), alias=self._w(c[1]), medicine=self._text(c[3]))

    def medicine_def(self, c: list[Child]) -> ast.MedicineDef:
        """``medicine_def: MEDICINE STRING _NL [_INDENT medicine_item+ _DEDENT]``."""
        items = [x for x in c[2:] if x is not None]
        aliases = tuple(v for k, v in items if k == "alias")
        codes = tuple(v for k, v in items if k == "code")
        roles = [v for k, v in items if k == "role"]
        return ast.MedicineDef(
            span=self._sp(c[0][2], c[1][3]),
            name=self._text(c[1]),
            aliases=aliases,
            codes=codes,
            role=roles[0] if roles else None,
            classes=tuple(v for k, v in items if k == "class"),
            same_as=tuple(v for k, v in items if k == "same"),
            lifetime=tuple(v for k, v in items if k == "lifetime"),
            usual=tuple(v for k, v in items if k == "usual"),
            equivalent=tuple(v for k, v in items if k == "equivalent"),
            routes=tuple(v for k, v in items if k == "route"),
            fatal=tuple(v for k, v in items if k == "fatal"),
            emetogenic=tuple(v for k, v in items if k == "emetogenic"),
        )

    def responses_def(self, c: list[Child]) -> ast.ValuesDef:
        """``responses_def: RESPONSES NAME STRING _NL _INDENT category_def+ _DEDENT``."""
        return self._values_def("responses", c)

    def group_def(self, c: list[Child]) -> ast.ValuesDef:
        """``group_def: GROUP NAME STRING _NL _INDENT category_def+ _DEDENT``."""
        return self._values_def("group", c)

    def _values_def(self, kind: Literal["responses", "group"], c: list[Child]) -> ast.ValuesDef:
        title = self._text(c[2])
        self.headings.append(title)
        return ast.ValuesDef(
            span=self._sp(c[0][2], c[2][3]), kind=kind, name=self._w(c[1]), title=title, values=tuple(c[3:])
        )

    def measure_def(self, c: list[Child]) -> ast.MeasureDef:
        """``measure_def: MEASURE NAME STRING IN measure_unit _NL``."""
        title = self._text(c[2])
        self.headings.append(title)
        return ast.MeasureDef(span=self._sp(c[0][2], c[4][3]), name=self._w(c[1]), title=title, unit=self._w(c[4]))

    def category_def(self, c: list[Child]) -> ast.CategoryDef:
        """``category_def: CATEGORY STRING _NL``."""
        title = self._text(c[1])
        self.headings.append(title)
        return ast.CategoryDef(span=self._sp(c[0][2], c[1][3]), value=self._w(c[0]), title=title)

    def medicine_alias(self, c: list[Child]) -> tuple[str, ast.Word]:
        """``medicine_item: ALIAS NAME _NL``."""
        return ("alias", self._w(c[1]))

    def medicine_code(self, c: list[Child]) -> tuple[str, tuple[ast.Text, ast.Text]]:
        """``medicine_item: CODE STRING STRING _NL``."""
        return ("code", (self._text(c[1]), self._text(c[2])))

    def medicine_role(self, c: list[Child]) -> tuple[str, ast.Word]:
        """``medicine_item: role_flag _NL``."""
        return ("role", self._w(c[0]))

    def medicine_class(self, c: list[Child]) -> tuple[str, ast.Word]:
        """``medicine_item: CLASS NAME _NL``."""
        return ("class", self._w(c[1]))

    def medicine_same(self, c: list[Child]) -> tuple[str, ast.Text]:
        """``medicine_item: SAME AS STRING _NL``."""
        return ("same", self._text(c[2]))

    def medicine_lifetime(self, c: list[Child]) -> tuple[str, ast.LifetimeMax]:
        """``medicine_item: LIFETIME MAX NUMBER UNIT [STRING] _NL``."""
        source = self._text(c[4]) if c[4] is not None else None
        end = c[4][3] if c[4] is not None else c[3][3]
        return (
            "lifetime",
            ast.LifetimeMax(span=self._sp(c[0][2], end), amount=self._w(c[2]), unit=self._w(c[3]), source=source),
        )

    def medicine_emetogenic(self, c: list[Child]) -> tuple[str, ast.EmetogenicRisk]:
        """``medicine_item: EMETOGENIC RISK (HIGH | MODERATE | LOW | MINIMAL) [STRING] _NL``."""
        source = self._text(c[3]) if c[3] is not None else None
        end = c[3][3] if c[3] is not None else c[2][3]
        return ("emetogenic", ast.EmetogenicRisk(span=self._sp(c[0][2], end), tier=self._w(c[2]), source=source))

    def medicine_usual(self, c: list[Child]) -> tuple[str, ast.UsualDose]:
        """``medicine_item: USUAL DOSE NUMBER [TO NUMBER] UNIT NAME [STRING] _NL``."""
        source = self._text(c[7]) if c[7] is not None else None
        end = c[7][3] if c[7] is not None else c[6][3]
        high = self._w(c[4]) if c[4] is not None else None
        return (
            "usual",
            ast.UsualDose(
                span=self._sp(c[0][2], end),
                low=self._w(c[2]),
                high=high,
                unit=self._w(c[5]),
                route=self._w(c[6]),
                source=source,
            ),
        )

    def medicine_equivalent(self, c: list[Child]) -> tuple[str, ast.Equivalent]:
        """``medicine_item: DOXORUBICIN_EQUIVALENT NUMBER [STRING] _NL``."""
        source = self._text(c[2]) if c[2] is not None else None
        end = c[2][3] if c[2] is not None else c[1][3]
        return "equivalent", ast.Equivalent(span=self._sp(c[0][2], end), factor=self._w(c[1]), source=source)

    def medicine_route(self, c: list[Child]) -> tuple[str, ast.RouteFact]:
        """``medicine_item: ROUTE NAME [STRING] _NL``."""
        return ("route", self._route_fact(c))

    def medicine_fatal(self, c: list[Child]) -> tuple[str, ast.RouteFact]:
        """``medicine_item: FATAL NAME [STRING] _NL``."""
        return ("fatal", self._route_fact(c))

    def _route_fact(self, c: list[Child]) -> ast.RouteFact:
        source = self._text(c[2]) if c[2] is not None else None
        end = c[2][3] if c[2] is not None else c[1][3]
        return ast.RouteFact(span=self._sp(c[0][2], end), route=self._w(c[1]), source=source)

    def footnote_def(self, c: list[Child]) -> ast.FootnoteDef:
        """``footnote_def: FOOTNOTE NAME STRING _NL _INDENT prose _DEDENT``."""
        return ast.FootnoteDef(span=self._sp(c[0][2], c[2][3]), name=self._w(c[1]), marker=self._text(c[2]), prose=c[3])

    def block_def(self, c: list[Child]) -> ast.BlockDef:
        """``block_def: BLOCK NAME _NL _INDENT (admin | note)+ _DEDENT``."""
        return ast.BlockDef(span=self._sp(c[0][2], c[1][3]), name=self._w(c[1]), items=tuple(c[2:]))

    # -- parts ---------------------------------------------------------------------

    def part(self, c: list[Child]) -> ast.Part:
        """``part: PART NUMBER STRING _NL _INDENT (...)+ _DEDENT``."""
        return ast.Part(
            span=self._sp(c[0][2], c[2][3]), number=self._w(c[1]), title=self._text(c[2]), items=tuple(c[3:])
        )

    def start_rule(self, c: list[Child]) -> ast.StartRule:
        """``start_rule: START relation_core _NL [_INDENT prose _DEDENT]``."""
        return ast.StartRule(span=self._sp(c[0][2], c[1].span.end), core=c[1], prose=c[2])

    # -- cycles --------------------------------------------------------------------

    def cycle(self, c: list[Child]) -> ast.Cycle:
        """``cycle: cycle_range COLON NUMBER days_kw [COMMA MAY EXTEND TO NUMBER days_kw] _NL ...``."""
        first, last, open_ended, begin = c[0]
        header = self._sp(begin, (c[9] or c[3])[3])
        return ast.Cycle(
            span=header,
            header=header,
            first=self._w(first),
            last=self._word(last),
            open_ended=open_ended,
            length=self._w(c[2]),
            extend_to=self._word(c[8]),
            body=tuple(x for x in c[10:] if x is not None),
        )

    def continuous(self, c: list[Child]) -> ast.Continuous:
        """``continuous: CONTINUOUS TREATMENT _NL _INDENT _cycle_stmt+ _DEDENT``."""
        return ast.Continuous(span=self._sp(c[0][2], c[1][3]), body=tuple(x for x in c[2:] if x is not None))

    def cycle_single(self, c: list[Child]) -> tuple[Tok, None, bool, int]:
        """``cycle_range: CYCLE NUMBER``."""
        return (c[1], None, False, c[0][2])

    def cycle_span(self, c: list[Child]) -> tuple[Tok, Tok, bool, int]:
        """``cycle_range: CYCLES NUMBER TO NUMBER``."""
        return (c[1], c[3], False, c[0][2])

    def cycle_open(self, c: list[Child]) -> tuple[Tok, None, bool, int]:
        """``cycle_range: CYCLE NUMBER AND ALL FURTHER CYCLES``."""
        return (c[1], None, True, c[0][2])

    def title_stmt(self, c: list[Child]) -> ast.TitleStmt:
        """``title_stmt: TITLE STRING _NL``."""
        text = self._text(c[1])
        self.headings.append(text)
        return ast.TitleStmt(span=self._sp(c[0][2], c[1][3]), text=text)

    def same_as(self, c: list[Child]) -> ast.SameAs:
        """``same_as: SAME AS CYCLE NUMBER _NL``."""
        return ast.SameAs(span=self._sp(c[0][2], c[3][3]), cycle=self._w(c[3]))

    def use_block(self, c: list[Child]) -> ast.UseBlock:
        """``use_block: USE NAME [days] _NL``."""
        return ast.UseBlock(span=self._sp(c[0][2], self._end(*c)), name=self._w(c[1]), days=c[2])

    def without(self, c: list[Child]) -> ast.Without:
        """``without: WITHOUT drug_ref [line_name] _NL``."""
        drug, line = c[1], c[2]
        return ast.Without(span=self._sp(c[0][2], (line or drug).span.end), drug=drug, line=line)

    def observe(self, c: list[Child]) -> ast.Observe:
        """``observe: OBSERVE NUMBER time_unit AFTER [position] drug_ref [line_name] _NL``."""
        drug, line = c[5], c[6]
        return ast.Observe(
            span=self._sp(c[0][2], (line or drug).span.end),
            amount=self._w(c[1]),
            unit=self._w(c[2]),
            drug=drug,
            line=line,
            position=self._word(c[4]),
        )

    def gap(self, c: list[Child]) -> ast.Gap:
        """``gap: drug_ref [line_name] DOSES AT LEAST NUMBER days_kw APART _NL``."""
        return ast.Gap(span=self._sp(c[0].span.start, c[7][3]), drug=c[0], days=self._w(c[5]), line=c[1])

    def if_choice(self, c: list[Child]) -> ast.Choice:
        """``if_choice: IF cond COLON _NL _INDENT _line_stmt+ _DEDENT [otherwise_block]``."""
        cond, other = c[1], c[-1]
        lines = tuple(x for x in c[3:-1] if x is not None)
        first = ast.ChoiceBranch(span=self._sp(c[0][2], c[2][3]), test=cond, body=lines)
        branches = (first,) if other is None else (first, other)
        return ast.Choice(span=first.span, kind="if", variable=None, branches=branches)

    def by_choice(self, c: list[Child]) -> ast.Choice:
        """``by_choice: BY NAME COLON _NL _INDENT by_branch+ [otherwise_block] _DEDENT``."""
        branches = tuple(x for x in c[3:] if x is not None)
        return ast.Choice(span=self._sp(c[0][2], c[2][3]), kind="by", variable=self._w(c[1]), branches=branches)

    def by_branch(self, c: list[Child]) -> ast.ChoiceBranch:
        """``by_branch: by_test COLON _NL _INDENT _line_stmt+ _DEDENT``."""
        test = c[0]
        return ast.ChoiceBranch(span=self._sp(test.span.start, c[1][3]), test=test, body=tuple(c[2:]))

    def by_test(self, c: list[Child]) -> ast.ByTest:
        """``by_test: comparison | NAME (COMMA NAME)*``."""
        if isinstance(c[0], Comparison):
            op, low, high, unit, start = c[0]
            return ast.ByTest(
                span=self._sp(start, unit[3]), op=op, low=self._w(low), high=self._word(high), unit=self._w(unit)
            )
        values = tuple(self._w(t) for t in c if t[0] == "NAME")
        return ast.ByTest(span=self._sp(c[0][2], c[-1][3]), op=None, low=None, high=None, unit=None, values=values)

    def otherwise_block(self, c: list[Child]) -> ast.ChoiceBranch:
        """``otherwise_block: OTHERWISE COLON _NL _INDENT _line_stmt+ _DEDENT``."""
        return ast.ChoiceBranch(span=self._sp(c[0][2], c[1][3]), test=None, body=tuple(c[2:]))

    def proceed(self, c: list[Child]) -> ast.Proceed:
        """``proceed: PROCEED IF cond _NL [_INDENT prose _DEDENT]``."""
        return ast.Proceed(span=self._sp(c[0][2], c[2].span.end), cond=c[2], prose=c[3])

    def note(self, c: list[Child]) -> ast.Note:
        """``note: NOTE [LABEL] _NL _INDENT prose _DEDENT``."""
        label = None
        if c[1] is not None:
            _type, raw, start, _end = c[1]
            stripped = raw.rstrip()
            label = ast.Word(span=self._sp(start, start + len(stripped)), text=stripped)
        end = label.span.end if label else c[0][3]
        return ast.Note(span=self._sp(c[0][2], end), label=label, prose=c[2])

    # -- administrations -----------------------------------------------------------

    def admin(self, c: list[Child]) -> ast.Admin:
        """``admin: [THEN] drug_ref [line_name] dose [route] clause* _NL [_INDENT prose _DEDENT]``."""
        then, drug, line, dose, route = c[0], c[1], c[2], c[3], c[4]
        rest = [x for x in c[5:] if x is not None]
        instructions = rest.pop() if rest and isinstance(rest[-1], ast.Prose) else None
        clauses = tuple(rest)
        last = clauses[-1] if clauses else route or dose
        return ast.Admin(
            span=self._sp(drug.span.start, last.span.end),
            drug=drug,
            dose=dose,
            route=route,
            clauses=cast(Any, clauses),
            instructions=instructions,
            line=line,
            then=self._word(then),
        )

    def line_name(self, c: list[Child]) -> ast.Word:
        """``line_name: LPAR NAME RPAR``: the name without its brackets, its span with them."""
        return ast.Word(span=self._sp(c[0][2], c[2][3]), text=c[1][1])

    def drug_ref(self, c: list[Child]) -> ast.DrugRef:
        """``drug_ref: NAME | STRING``."""
        t = c[0]
        span = _span(Span, (self.path, t[2], t[3], self.index))
        if t[0] == "STRING":
            text, jumps = self._decode(t)
            return ast.DrugRef(span=span, text=text, quoted=True, jumps=jumps)
        return ast.DrugRef(span=span, text=t[1], quoted=False)

    def dose(self, c: list[Child]) -> ast.Dose:
        """``dose: NUMBER UNIT [FLAT]``."""
        return ast.Dose(
            span=self._sp(c[0][2], self._end(*c)), amount=self._w(c[0]), unit=self._w(c[1]), flat=c[2] is not None
        )

    def route(self, c: list[Child]) -> ast.Word:
        """``route: NAME``."""
        return self._w(c[0])

    def _flag(self, kind: str, c: list[Child]) -> ast.Flag:
        t = c[0]
        return ast.Flag(span=self._sp(t[2], t[3]), kind=cast(Any, kind), value=t[1])

    def frequency(self, c: list[Child]) -> ast.Flag:
        """``clause: FREQUENCY``."""
        return self._flag("frequency", c)

    def prn(self, c: list[Child]) -> ast.Flag:
        """``clause: PRN``."""
        return self._flag("prn", c)

    def role(self, c: list[Child]) -> ast.Flag:
        """``clause: role_flag``."""
        return self._flag("role", c)

    def off_label(self, c: list[Child]) -> ast.Flag:
        """``clause: (OFF_LABEL | STAR)``."""
        return self._flag("off_label", c)

    def s29(self, c: list[Child]) -> ast.Flag:
        """``clause: S29``."""
        return self._flag("s29", c)

    def continuous_flag(self, c: list[Child]) -> ast.Flag:
        """``clause: CONTINUOUS``."""
        return self._flag("continuous", c)

    def pump(self, c: list[Child]) -> ast.Flag:
        """``clause: BY PUMP``."""
        return ast.Flag(span=self._sp(c[0][2], c[1][3]), kind="pump", value="by pump")

    def bags(self, c: list[Child]) -> ast.Bags:
        """``clause: BAGS EVERY NUMBER time_unit``."""
        return ast.Bags(span=self._sp(c[0][2], c[3][3]), amount=self._w(c[2]), unit=self._w(c[3]))

    def volume(self, c: list[Child]) -> ast.Volume:
        """``clause: IN NUMBER UNIT``."""
        return ast.Volume(span=self._sp(c[0][2], c[2][3]), amount=self._w(c[1]), unit=self._w(c[2]))

    def cap(self, c: list[Child]) -> ast.Cap:
        """``clause: MAX NUMBER UNIT``."""
        return ast.Cap(span=self._sp(c[0][2], c[2][3]), amount=self._w(c[1]), unit=self._w(c[2]))

    def days(self, c: list[Child]) -> ast.Days:
        """``days: (days_kw | STARTING days_kw) day_item (COMMA day_item)* [PLUSMINUS NUMBER days_kw]``."""
        items = tuple(x for x in c[1:-3] if isinstance(x, ast.DayItem))
        starting = c[0][0] == "STARTING"
        return ast.Days(span=self._sp(c[0][2], self._end(*c)), items=items, shift=self._word(c[-2]), starting=starting)

    def day_item(self, c: list[Child]) -> ast.DayItem:
        """``day_item: day_number [TO day_number]``."""
        first = c[0]
        if c[2] is None:
            return ast.DayItem(span=first.span, first=first, last=None)
        return ast.DayItem(span=self._sp(first.span.start, c[2].span.end), first=first, last=c[2])

    def day_number(self, c: list[Child]) -> ast.Word:
        """``day_number: [MINUS] NUMBER``: a day, signed (``-7``; ``−`` is written as ``-``)."""
        number = c[1]
        if c[0] is None:
            return self._w(number)
        return ast.Word(span=self._sp(c[0][2], number[3]), text="-" + number[1])

    def clock(self, c: list[Child]) -> ast.Clock:
        """``clock: EVERY NUMBER time_unit [FOR NUMBER DOSES [EACH DAY]]``."""
        every, amount, unit, _for, count, _doses, each, _day = c
        return ast.Clock(
            span=self._sp(every[2], self._end(*c)),
            amount=self._w(amount),
            unit=self._w(unit),
            count=self._word(count),
            each_day=each is not None,
        )

    def over(self, c: list[Child]) -> ast.Over:
        """``over: OVER [EXACTLY | AT LEAST] NUMBER [TO NUMBER] time_unit [COMMA MAY EXTEND TO NUMBER time_unit]``."""
        # The optional parts are left out or given by their words (`[EXACTLY | AT LEAST]` makes one
        # or two placeholders): read them in order.
        words: list[Tok] = [x for x in c if x is not None]
        kinds = [w[0] for w in words]
        numbers = [w for w in words if w[0] == "NUMBER"]
        # a unit follows each amount: the one after the last number before a comma, and the last
        comma = kinds.index("COMMA") if "COMMA" in kinds else len(words)
        extend = "EXTEND" in kinds
        return ast.Over(
            span=self._sp(words[0][2], words[-1][3]),
            amount=self._w(numbers[0]),
            unit=self._w(words[comma - 1]),
            exact="EXACTLY" in kinds[:2],
            at_least="AT" in kinds[:2],
            high=self._w(numbers[1]) if "TO" in kinds[:comma] else None,
            extend=self._w(numbers[-1]) if extend else None,
            extend_unit=self._w(words[-1]) if extend else None,
        )

    def relation(self, c: list[Child]) -> ast.Relation:
        """``relation: relation_core [STRING]``."""
        core = c[0]
        if c[1] is None:
            return ast.Relation(span=core.span, core=core, qualifier=None)
        return ast.Relation(span=self._sp(core.span.start, c[1][3]), core=core, qualifier=self._text(c[1]))

    def relation_core(self, c: list[Child]) -> ast.RelationCore:
        """``relation_core: [ENDING] [amount] direction [point OF] [position] anchor | CONCURRENTLY WITH anchor``."""
        if len(c) == 3:  # concurrently with B: starts with B
            anchor = c[2]
            return ast.RelationCore(
                span=self._sp(c[0][2], anchor.span.end),
                low=None,
                high=None,
                unit=None,
                direction="after",
                point="start",
                anchor=anchor,
                concurrently=True,
            )
        ending, amount, direction, point, _of, position, anchor = c
        low, high, unit, bound, begin = amount if amount is not None else (None, None, None, "exact", direction[2])
        return ast.RelationCore(
            span=self._sp(ending[2] if ending else begin, anchor.span.end),
            low=self._word(low),
            high=self._word(high),
            unit=self._word(unit),
            direction=cast(Literal["before", "after"], direction[1]),
            point=cast(Any, point[1]) if point is not None else None,
            anchor=anchor,
            bound=cast(Literal["exact", "at least", "within"], bound),
            ending=self._word(ending),
            position=self._word(position),
        )

    def amount(self, c: list[Child]) -> tuple[Tok, Tok | None, Tok, Literal["exact", "at least", "within"], int]:
        """``amount: NUMBER [TO NUMBER] time_unit | AT LEAST NUMBER time_unit | WITHIN NUMBER time_unit``.

        Returns the low and high numbers, the unit, how they bound, and where the amount starts.
        """
        if len(c) == 4 and c[0][0] == "NUMBER":
            return c[0], c[2], c[3], "exact", c[0][2]
        if len(c) == 4:
            return c[2], None, c[3], "at least", c[0][2]
        return c[1], None, c[2], "within", c[0][2]

    def anchor(self, c: list[Child]) -> ast.Anchor:
        """``anchor: drug_ref [line_name]``."""
        ref, line = cast(ast.DrugRef, c[0]), c[1]
        return ast.Anchor(
            span=self._sp(ref.span.start, (line or ref).span.end), kind="drug", drug=ref, text=ref.text, line=line
        )

    def anchor_chemotherapy(self, c: list[Child]) -> ast.Anchor:
        """``anchor: CHEMOTHERAPY``."""
        t = c[0]
        return ast.Anchor(span=self._sp(t[2], t[3]), kind="chemotherapy", drug=None, text=t[1])

    def anchor_event(self, c: list[Child]) -> ast.Anchor:
        """``anchor: (SURGERY | RADIOTHERAPY | HSCT)``."""
        t = c[0]
        return ast.Anchor(span=self._sp(t[2], t[3]), kind="event", drug=None, text=t[1])

    # -- supportive care and references --------------------------------------------

    def support(self, c: list[Child]) -> ast.Support:
        """``support: SUPPORT _NL _INDENT (FACTOR_LINE _NL | note)+ _DEDENT``."""
        items = tuple(x if isinstance(x, ast.Note) else self._factor_line(x) for x in c[1:])
        return ast.Support(span=self._sp(c[0][2], c[0][3]), items=items)

    def _factor_line(self, t: Tok) -> ast.FactorLine:
        _type, raw, start, _end = t
        colon = raw.index(":")
        name = raw[:colon].rstrip()
        value_raw = raw[colon + 1 :]
        lead = len(value_raw) - len(value_raw.lstrip())
        value = value_raw.strip()
        v_start = start + colon + 1 + lead
        return ast.FactorLine(
            span=self._sp(start, v_start + len(value)),
            factor=ast.Word(span=self._sp(start, start + len(name)), text=name),
            value=ast.Word(span=self._sp(v_start, v_start + len(value)), text=value),
        )

    def reference(self, c: list[Child]) -> ast.Reference:
        """``reference: REFERENCE STRING _NL [_INDENT ref_item+ _DEDENT]``."""
        items = [x for x in c[2:] if x is not None]
        return ast.Reference(
            span=self._sp(c[0][2], c[1][3]),
            text=self._text(c[1]),
            urls=tuple(v for k, v in items if k == "url"),
            pmids=tuple(v for k, v in items if k == "pmid"),
            accessed=tuple(v for k, v in items if k == "accessed"),
        )

    def ref_url(self, c: list[Child]) -> tuple[str, ast.Text]:
        """``ref_item: URL STRING _NL``."""
        return ("url", self._text(c[1]))

    def ref_pmid(self, c: list[Child]) -> tuple[str, ast.Word]:
        """``ref_item: PMID NUMBER _NL``."""
        return ("pmid", self._w(c[1]))

    def ref_accessed(self, c: list[Child]) -> tuple[str, ast.Word]:
        """``ref_item: ACCESSED DATE _NL``."""
        return ("accessed", self._w(c[1]))

    # -- the plan ------------------------------------------------------------------

    def plan(self, c: list[Child]) -> ast.Plan:
        """``plan: PLAN _NL _INDENT _plan_stmt+ _DEDENT``."""
        return ast.Plan(span=self._sp(c[0][2], c[0][3]), items=tuple(c[1:]))

    def decision(self, c: list[Child]) -> ast.Decision:
        """``decision: AFTER phase_sel COLON _NL _INDENT branch+ _DEDENT``."""
        return ast.Decision(span=self._sp(c[0][2], c[2][3]), when=c[1], branches=tuple(c[3:]))

    def start_decision(self, c: list[Child]) -> ast.Decision:
        """``decision: BEFORE TREATMENT COLON _NL _INDENT branch+ _DEDENT``."""
        when = ast.PhaseSel(span=self._sp(c[0][2], c[1][3]), kind="start", first=None, last=None)
        return ast.Decision(span=self._sp(c[0][2], c[2][3]), when=when, branches=tuple(c[3:]))

    def any_cycle(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: ANY CYCLE``."""
        return ast.PhaseSel(span=self._sp(c[0][2], c[1][3]), kind="any", first=None, last=None)

    def after_cycle(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: CYCLE NUMBER``."""
        return ast.PhaseSel(span=self._sp(c[0][2], c[1][3]), kind="cycle", first=self._w(c[1]), last=None)

    def after_cycles(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: CYCLES NUMBER TO NUMBER``."""
        return ast.PhaseSel(span=self._sp(c[0][2], c[3][3]), kind="cycles", first=self._w(c[1]), last=self._w(c[3]))

    def after_part(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: PART NUMBER``."""
        return ast.PhaseSel(span=self._sp(c[0][2], c[1][3]), kind="part", first=self._w(c[1]), last=None)

    def branch(self, c: list[Child]) -> ast.Branch:
        """``branch: IF cond COLON action _NL``."""
        action, target, end = c[3]
        return ast.Branch(span=self._sp(c[0][2], end), cond=c[1], action=action, target=target)

    def otherwise(self, c: list[Child]) -> ast.Branch:
        """``branch: OTHERWISE COLON action _NL``."""
        action, target, end = c[2]
        return ast.Branch(span=self._sp(c[0][2], end), cond=None, action=action, target=target)

    def continue_with(self, c: list[Child]) -> tuple[str, ast.Word, int]:
        """``action: CONTINUE WITH NAME``."""
        return ("continue", self._w(c[2]), c[2][3])

    def next_cycle(self, c: list[Child]) -> tuple[str, None, int]:
        """``action: NEXT CYCLE``."""
        return ("next", None, c[1][3])

    def go_cycle(self, c: list[Child]) -> tuple[str, ast.Word, int]:
        """``action: GO TO CYCLE NUMBER``."""
        return ("cycle", self._w(c[3]), c[3][3])

    def go_part(self, c: list[Child]) -> tuple[str, ast.Word, int]:
        """``action: GO TO PART NUMBER``."""
        return ("part", self._w(c[3]), c[3][3])

    def stop_action(self, c: list[Child]) -> tuple[str, None, int]:
        """``action: STOP``."""
        return ("stop", None, c[0][3])

    def limit(self, c: list[Child]) -> ast.Limit:
        """``limit: AT MOST NUMBER (CYCLES | long_unit) [IF cond] [COUNTED WITH NAME (COMMA NAME)*] _NL``."""
        cond = c[5]
        names = tuple(self._w(t) for t in c[6:] if t is not None and t[0] == "NAME")
        end = names[-1].span.end if names else cond.span.end if cond is not None else c[3][3]
        return ast.Limit(
            span=self._sp(c[0][2], end), count=self._w(c[2]), cond=cond, counted_with=names, unit=self._w(c[3])
        )

    def stop_rule(self, c: list[Child]) -> ast.StopRule:
        """``stop_rule: STOP IF cond [WITHIN NUMBER (CYCLES | long_unit)] _NL``."""
        end = c[5][3] if c[5] is not None else c[2].span.end
        return ast.StopRule(
            span=self._sp(c[0][2], end), cond=c[2], within=self._word(c[4]), within_unit=self._word(c[5])
        )

    def or_cond(self, c: list[Child]) -> ast.Cond:
        """``or_cond: and_cond (OR and_cond)*``."""
        ops = tuple(c[::2])
        return self._nest(ast.OrCond(span=self._sp(ops[0].span.start, ops[-1].span.end), operands=ops), ops)

    def and_cond(self, c: list[Child]) -> ast.Cond:
        """``and_cond: not_cond (AND not_cond)*``."""
        ops = tuple(c[::2])
        return self._nest(ast.AndCond(span=self._sp(ops[0].span.start, ops[-1].span.end), operands=ops), ops)

    def not_(self, c: list[Child]) -> ast.Cond:
        """``not_cond: NOT not_cond``."""
        return self._nest(ast.NotCond(span=self._sp(c[0][2], c[1].span.end), operand=c[1]), (c[1],))

    def atom(self, c: list[Child]) -> ast.Cond:
        """``atom: LPAR cond RPAR``: parentheses group, and count towards the nesting limit.

        The condition is the one inside, its span widened to the parentheses: what is written.
        """
        inner = cast(ast.Cond, c[1])
        depth = self._depth.get(id(inner), (0, None))[0] + 1
        if depth > self.max_nesting:
            raise NestingTooDeep(c[0][2])
        grouped = replace(inner, span=self._sp(c[0][2], c[2][3]))
        self._depth[id(grouped)] = (depth, grouped)
        return grouped

    def category(self, c: list[Child]) -> Tok:
        """``category: CATEGORY``."""
        return cast(Tok, c[0])

    def _categories(self, c: list[Child]) -> tuple[ast.Word, ...]:
        return tuple(self._w(t) for t in c if t[0] == "CATEGORY")

    def response_in(self, c: list[Child]) -> ast.ResponseIn:
        """``atom: RESPONSE IN LPAR category (COMMA category)* RPAR``."""
        return ast.ResponseIn(span=self._sp(c[0][2], c[-1][3]), codes=self._categories(c))

    def response_is(self, c: list[Child]) -> ast.ResponseIn:
        """``atom: RESPONSE IS category``."""
        return ast.ResponseIn(span=self._sp(c[0][2], c[2][3]), codes=self._categories(c))

    def comparison(self, c: list[Child]) -> Comparison:
        """``comparison: UNDER NUMBER measure_unit | OVER ... | AT LEAST ... | AT MOST ... | NUMBER TO NUMBER ...``."""
        first = c[0]
        match first[0]:
            case "UNDER":
                return Comparison("lt", c[1], None, c[2], first[2])
            case "OVER":
                return Comparison("gt", c[1], None, c[2], first[2])
            case "AT":
                return Comparison("ge" if c[1][0] == "LEAST" else "le", c[2], None, c[3], first[2])
            case _:
                return Comparison("range", c[0], c[2], c[3], first[2])

    def measure(self, c: list[Child]) -> ast.MeasureTest:
        """``atom: NAME comparison``."""
        op, low, high, unit, _start = c[1]
        return ast.MeasureTest(
            span=self._sp(c[0][2], unit[3]),
            measure=self._w(c[0]),
            op=op,
            low=self._w(low),
            high=self._word(high),
            unit=self._w(unit),
        )

    def group_in(self, c: list[Child]) -> ast.GroupIn:
        """``atom: NAME IN LPAR category (COMMA category)* RPAR``."""
        return ast.GroupIn(span=self._sp(c[0][2], c[-1][3]), group=self._w(c[0]), values=self._categories(c))

    def group_is(self, c: list[Child]) -> ast.GroupIn:
        """``atom: NAME IS category``."""
        return ast.GroupIn(span=self._sp(c[0][2], c[2][3]), group=self._w(c[0]), values=self._categories(c))

    def mrd(self, c: list[Child]) -> ast.Mrd:
        """``atom: MRD (NEGATIVE | POSITIVE)``."""
        return ast.Mrd(span=self._sp(c[0][2], c[1][3]), negative=c[1][1] == "negative")

    def hsct(self, c: list[Child]) -> ast.Hsct:
        """``atom: PROCEEDING TO HSCT``."""
        return ast.Hsct(span=self._sp(c[0][2], c[2][3]))
