"""Turns lark's parse tree into the syntax nodes of ``regdsl.model.ast``.

Each method is named after, and quotes, the grammar rule it transforms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar, cast

from lark import Token, Transformer

from regdsl.model import ast
from regdsl.source import SourceFile, Span, find_hidden

__all__ = ["BadChar", "NestingTooDeep", "ToAst", "decode_string", "decode_text"]

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
# A pair of escapes for the two halves of a UTF-16 surrogate pair is one character.
_HEX = "[0-9a-fA-F]"
_ESCAPE = re.compile(rf"\\(?:u([dD][89abAB]{_HEX}{{2}})\\u([dD][c-fC-F]{_HEX}{{2}})|u({_HEX}{{4}})|(.))")
_REPLACEMENT = "\ufffd"


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


def _decode(body: str) -> tuple[str, list[tuple[int, int]]]:
    """Decode the escapes of ``body``, with each decoded character's ``[start, end)`` in ``body``."""
    out: list[str] = []
    where: list[tuple[int, int]] = []
    pos = 0
    for match in _ESCAPE.finditer(body):
        out.append(body[pos : match.start()])
        where.extend((i, i + 1) for i in range(pos, match.start()))
        char = _unescape(match)
        out.append(char)
        where.extend([match.span()] * len(char))
        pos = match.end()
    out.append(body[pos:])
    where.extend((i, i + 1) for i in range(pos, len(body)))
    return "".join(out), where


def decode_text(raw: str) -> tuple[str, tuple[BadChar, ...]]:
    r"""Decode a quoted STRING token: ``\n``, ``\t``, ``\"``, ``\\`` and ``\uXXXX``.

    Returns the text, in which every character that text may not hold (a control but the tab
    and line feed, an invisible or bidirectional character, a lone surrogate: see
    ``regdsl.source.find_hidden``) is replaced by U+FFFD, and those characters, located in
    the token.
    """
    body = raw[1:-1]
    if "\\" not in body:
        text, where = body, None
    else:
        text, where = _decode(body)
    found = list(find_hidden(text, source=False))
    if not found:
        return text, ()
    bad = []
    chars = list(text)
    for match in found:
        start, end = where[match.start()] if where else match.span()
        bad.append(BadChar(start=start + 1, end=end + 1, char=match.group()))
        chars[match.start()] = _REPLACEMENT
    return "".join(chars), tuple(bad)


def decode_string(raw: str) -> str:
    """Decode a quoted STRING token as ``decode_text`` does, without the characters it refused."""
    return decode_text(raw)[0]


Child = Any
_C = TypeVar("_C", ast.NotCond, ast.AndCond, ast.OrCond)


class NestingTooDeep(Exception):
    """A condition nests deeper than the limit; ``offset`` is where the too-deep part starts."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class ToAst(Transformer[Token, ast.Module]):
    """Builds ``ast`` nodes bottom-up, while the LALR parser reduces (no parse tree is built).

    ``bind`` sets the file being parsed. Spans come from token offsets. Conditions deeper
    than ``max_nesting`` (parentheses and ``not`` count) raise ``NestingTooDeep``, so that
    later passes, which recurse over conditions, never meet a deep one. Quoted text holds
    U+FFFD for each character it may not hold, and ``refused`` keeps those, by offset, for
    the parser to report.
    """

    def __init__(self, max_nesting: int) -> None:
        super().__init__(visit_tokens=False)
        self.max_nesting = max_nesting
        self.source = SourceFile("<unbound>", "")
        self.comments: Callable[[], list[ast.Comment]] = list
        self.refused: dict[int, BadChar] = {}
        self._depth: dict[int, int] = {}

    def bind(self, source: SourceFile, comments: Callable[[], list[ast.Comment]]) -> None:
        """Parse ``source`` next; ``comments`` gives its comments once the file is read."""
        self.source = source
        self.comments = comments
        self.refused = {}
        self._depth = {}

    def _nest(self, node: _C, *inner: object) -> _C:
        depth = 1 + max((self._depth.get(id(x), 0) for x in inner), default=0)
        if depth > self.max_nesting:
            raise NestingTooDeep(node.span.start)
        self._depth[id(node)] = depth
        return node

    # -- helpers -----------------------------------------------------------------

    def _span(self, *parts: object) -> Span:
        start = end = -1
        for part in parts:
            if isinstance(part, Token):
                s, e = part.start_pos, part.end_pos
                if s is None or e is None:
                    continue
            elif isinstance(part, ast.Node):
                s, e = part.span.start, part.span.end
            elif isinstance(part, tuple | list):
                if not part:
                    continue
                inner = self._span(*part)
                s, e = inner.start, inner.end
            else:
                continue
            if start < 0 or s < start:
                start = s
            if e > end:
                end = e
        return self.source.span(max(start, 0), max(end, 0))

    def _token_span(self, token: Token) -> Span:
        # Tokens lie inside the text: their offsets need no clamping (the hot path).
        return Span(path=self.source.path, start=token.start_pos or 0, end=token.end_pos or 0, index=self.source.index)

    def _word(self, token: Token | None) -> ast.Word | None:
        if token is None:
            return None
        return ast.Word(span=self._token_span(token), text=str(token))

    def _w(self, token: Token) -> ast.Word:
        return ast.Word(span=self._token_span(token), text=str(token))

    def _decode(self, token: Token) -> str:
        text, bad = decode_text(str(token))
        start = token.start_pos or 0
        for found in bad:
            self.refused[start + found.start] = replace(found, start=start + found.start, end=start + found.end)
        return text

    def _text(self, token: Token) -> ast.Text:
        return ast.Text(span=self._token_span(token), value=self._decode(token))

    @staticmethod
    def _tokens(children: list[Child]) -> list[Token]:
        return [c for c in children if isinstance(c, Token)]

    @staticmethod
    def _nodes(children: list[Child], kind: type[ast.Node] | tuple[type, ...]) -> list[Any]:
        return [c for c in children if isinstance(c, kind)]

    # -- start ---------------------------------------------------------------------

    def start(self, children: list[Child]) -> ast.Module:
        """``start: _NL? _item*``."""
        items = tuple(c for c in children if isinstance(c, ast.Node))
        return ast.Module(
            span=self.source.span(0, len(self.source.text)),
            items=cast(tuple[ast.Item, ...], items),
            comments=tuple(self.comments()),
        )

    # -- identity ------------------------------------------------------------------

    def regimen(self, c: list[Child]) -> ast.RegimenHeader:
        """``regimen: REGIMEN NAME _NL [_INDENT _meta+ _DEDENT]``."""
        meta = tuple(x for x in c[2:] if isinstance(x, ast.Node))
        return ast.RegimenHeader(span=self._span(c[0], c[1]), id=self._w(c[1]), meta=cast(Any, meta))

    def library(self, c: list[Child]) -> ast.LibraryHeader:
        """``library: LIBRARY STRING _NL``."""
        return ast.LibraryHeader(span=self._span(*c), title=self._text(c[1]))

    def text_key(self, c: list[Child]) -> Token:
        """``text_key: NAME_KW | TITLE | ...``."""
        return cast(Token, c[0])

    date_key = text_key
    role_flag = text_key
    direction = text_key
    point = text_key
    time_unit = text_key
    days_kw = text_key

    def text_field(self, c: list[Child]) -> ast.TextField:
        """``text_field: text_key STRING _NL``."""
        return ast.TextField(span=self._span(*c), key=self._w(c[0]), value=self._text(c[1]))

    def date_field(self, c: list[Child]) -> ast.DateField:
        """``date_field: date_key DATE _NL``."""
        return ast.DateField(span=self._span(*c), key=self._w(c[0]), value=self._w(c[1]))

    def status_field(self, c: list[Child]) -> ast.StatusField:
        """``status_field: STATUS NAME [BY NAME] _NL``."""
        return ast.StatusField(span=self._span(*c), status=self._w(c[1]), by=self._word(c[3]))

    def term(self, c: list[Child]) -> ast.Term:
        """``term: STRING [LSQB NUMBER RSQB]``."""
        return ast.Term(span=self._span(*c), text=self._text(c[0]), code=self._word(c[2]))

    def cancer_field(self, c: list[Child]) -> ast.CancerField:
        """``cancer_field: CANCER term (GT term)* _NL``."""
        terms = tuple(self._nodes(c, ast.Term))
        return ast.CancerField(span=self._span(c[0], terms), terms=terms)

    def setting_field(self, c: list[Child]) -> ast.SettingField:
        """``setting_field: SETTING term _NL``."""
        return ast.SettingField(span=self._span(*c), term=c[1])

    def identifier_field(self, c: list[Child]) -> ast.IdentifierField:
        """``identifier_field: IDENTIFIER STRING STRING _NL``."""
        return ast.IdentifierField(span=self._span(*c), system=self._text(c[1]), value=self._text(c[2]))

    def footnotes_field(self, c: list[Child]) -> ast.FootnotesField:
        """``footnotes_field: FOOTNOTES NAME (COMMA NAME)* _NL``."""
        names = tuple(self._w(t) for t in c[1:] if isinstance(t, Token) and t.type == "NAME")
        return ast.FootnotesField(span=self._span(*c), names=names)

    def overview(self, c: list[Child]) -> ast.Overview:
        """``overview: OVERVIEW _NL _INDENT prose _DEDENT``."""
        return ast.Overview(span=self._span(c[0]), prose=c[1])

    def prose(self, c: list[Child]) -> ast.Prose:
        """``prose: (PROSE _NL)+``: the text after ``|`` and one space, kept verbatim."""
        lines = []
        for token in c:
            text = str(token)[1:].rstrip("\r")
            lines.append(text[1:] if text.startswith(" ") else text)
        return ast.Prose(span=self._span(*c), lines=tuple(lines))

    # -- definitions ---------------------------------------------------------------

    def drug_decl(self, c: list[Child]) -> ast.DrugDecl:
        """``drug_decl: DRUG NAME EQUAL STRING _NL``."""
        return ast.DrugDecl(span=self._span(*c), alias=self._w(c[1]), medicine=self._text(c[3]))

    def medicine_def(self, c: list[Child]) -> ast.MedicineDef:
        """``medicine_def: MEDICINE STRING _NL [_INDENT medicine_item+ _DEDENT]``."""
        items = [x for x in c[2:] if isinstance(x, tuple)]
        aliases = tuple(v for k, v in items if k == "alias")
        codes = tuple(v for k, v in items if k == "code")
        roles = [v for k, v in items if k == "role"]
        return ast.MedicineDef(
            span=self._span(c[0], c[1]),
            name=self._text(c[1]),
            aliases=aliases,
            codes=codes,
            role=roles[0] if roles else None,
            classes=tuple(v for k, v in items if k == "class"),
            same_as=tuple(v for k, v in items if k == "same"),
        )

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

    def footnote_def(self, c: list[Child]) -> ast.FootnoteDef:
        """``footnote_def: FOOTNOTE NAME STRING _NL _INDENT prose _DEDENT``."""
        return ast.FootnoteDef(span=self._span(c[0], c[2]), name=self._w(c[1]), marker=self._text(c[2]), prose=c[3])

    def block_def(self, c: list[Child]) -> ast.BlockDef:
        """``block_def: BLOCK NAME _NL _INDENT (admin | note)+ _DEDENT``."""
        items = tuple(self._nodes(c, (ast.Admin, ast.Note)))
        return ast.BlockDef(span=self._span(c[0], c[1]), name=self._w(c[1]), items=items)

    # -- parts ---------------------------------------------------------------------

    def part(self, c: list[Child]) -> ast.Part:
        """``part: PART NUMBER STRING _NL _INDENT (...)+ _DEDENT``."""
        items = tuple(x for x in c[3:] if isinstance(x, ast.Node))
        return ast.Part(
            span=self._span(c[0], c[2]), number=self._w(c[1]), title=self._text(c[2]), items=cast(Any, items)
        )

    def start_rule(self, c: list[Child]) -> ast.StartRule:
        """``start_rule: START relation_core _NL [_INDENT prose _DEDENT]``."""
        return ast.StartRule(span=self._span(c[0], c[1]), core=c[1], prose=c[2] if len(c) > 2 else None)

    # -- cycles --------------------------------------------------------------------

    def cycle(self, c: list[Child]) -> ast.Cycle:
        """``cycle: cycle_range COLON NUMBER days_kw [COMMA MAY EXTEND TO NUMBER days_kw] _NL ...``."""
        first, last, open_ended, range_tokens = c[0]
        length = c[2]
        extend = c[8] if len(c) > 8 else None
        body = tuple(x for x in c[10:] if isinstance(x, ast.Node))
        header = self._span(*range_tokens, *self._tokens(c[1:10]))
        return ast.Cycle(
            span=header,
            header=header,
            first=self._w(first),
            last=self._word(last),
            open_ended=open_ended,
            length=self._w(length),
            extend_to=self._word(extend),
            body=cast(Any, body),
        )

    def cycle_single(self, c: list[Child]) -> tuple[Token, None, bool, list[Token]]:
        """``cycle_range: CYCLE NUMBER``."""
        return (c[1], None, False, c)

    def cycle_span(self, c: list[Child]) -> tuple[Token, Token, bool, list[Token]]:
        """``cycle_range: CYCLES NUMBER TO NUMBER``."""
        return (c[1], c[3], False, c)

    def cycle_open(self, c: list[Child]) -> tuple[Token, None, bool, list[Token]]:
        """``cycle_range: CYCLE NUMBER AND ALL FURTHER CYCLES``."""
        return (c[1], None, True, c)

    def title_stmt(self, c: list[Child]) -> ast.TitleStmt:
        """``title_stmt: TITLE STRING _NL``."""
        return ast.TitleStmt(span=self._span(*c), text=self._text(c[1]))

    def same_as(self, c: list[Child]) -> ast.SameAs:
        """``same_as: SAME AS CYCLE NUMBER _NL``."""
        return ast.SameAs(span=self._span(*c), cycle=self._w(c[3]))

    def use_block(self, c: list[Child]) -> ast.UseBlock:
        """``use_block: USE NAME [days] _NL``."""
        return ast.UseBlock(span=self._span(*c), name=self._w(c[1]), days=c[2])

    def without(self, c: list[Child]) -> ast.Without:
        """``without: WITHOUT drug_ref _NL``."""
        return ast.Without(span=self._span(*c), drug=c[1])

    def observe(self, c: list[Child]) -> ast.Observe:
        """``observe: OBSERVE NUMBER time_unit AFTER drug_ref _NL``."""
        return ast.Observe(span=self._span(*c), amount=self._w(c[1]), unit=self._w(c[2]), drug=c[4])

    def gap(self, c: list[Child]) -> ast.Gap:
        """``gap: drug_ref DOSES AT LEAST NUMBER days_kw APART _NL``."""
        return ast.Gap(span=self._span(*c), drug=c[0], days=self._w(c[4]))

    def note(self, c: list[Child]) -> ast.Note:
        """``note: NOTE [LABEL] _NL _INDENT prose _DEDENT``."""
        label = None
        if c[1] is not None:
            raw = str(c[1])
            stripped = raw.rstrip()
            token = cast(Token, c[1])
            start = cast(int, token.start_pos)
            label = ast.Word(span=self.source.span(start, start + len(stripped)), text=stripped)
        return ast.Note(span=self._span(c[0], label), label=label, prose=c[2])

    # -- administrations -----------------------------------------------------------

    def admin(self, c: list[Child]) -> ast.Admin:
        """``admin: drug_ref dose [route] clause* _NL [_INDENT prose _DEDENT]``."""
        drug, dose, route = c[0], c[1], c[2]
        rest = c[3:]
        instructions = rest[-1] if rest and isinstance(rest[-1], ast.Prose) else None
        clauses = tuple(x for x in rest if isinstance(x, ast.Node) and not isinstance(x, ast.Prose))
        span = self._span(drug, dose, route, clauses)
        return ast.Admin(
            span=span,
            drug=drug,
            dose=dose,
            route=route,
            clauses=cast(Any, clauses),
            instructions=instructions,
        )

    def drug_ref(self, c: list[Child]) -> ast.DrugRef:
        """``drug_ref: NAME | STRING``."""
        token = cast(Token, c[0])
        if token.type == "STRING":
            return ast.DrugRef(span=self._span(token), text=self._decode(token), quoted=True)
        return ast.DrugRef(span=self._span(token), text=str(token), quoted=False)

    def dose(self, c: list[Child]) -> ast.Dose:
        """``dose: NUMBER UNIT [FLAT]``."""
        return ast.Dose(span=self._span(*c), amount=self._w(c[0]), unit=self._w(c[1]), flat=c[2] is not None)

    def route(self, c: list[Child]) -> ast.Word:
        """``route: NAME``."""
        return self._w(c[0])

    def _flag(self, kind: str, c: list[Child]) -> ast.Flag:
        token = c[0]
        return ast.Flag(span=self._span(*c), kind=cast(Any, kind), value=str(token))

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

    def volume(self, c: list[Child]) -> ast.Volume:
        """``clause: IN NUMBER UNIT``."""
        return ast.Volume(span=self._span(*c), amount=self._w(c[1]), unit=self._w(c[2]))

    def cap(self, c: list[Child]) -> ast.Cap:
        """``clause: MAX NUMBER UNIT``."""
        return ast.Cap(span=self._span(*c), amount=self._w(c[1]), unit=self._w(c[2]))

    def days(self, c: list[Child]) -> ast.Days:
        """``days: days_kw day_item (COMMA day_item)* [PLUSMINUS NUMBER days_kw]``."""
        items = tuple(self._nodes(c, ast.DayItem))
        shift = None
        for i, x in enumerate(c):
            if isinstance(x, Token) and x.type == "PLUSMINUS":
                shift = self._word(c[i + 1])
        return ast.Days(span=self._span(*c), items=items, shift=shift)

    def day_item(self, c: list[Child]) -> ast.DayItem:
        """``day_item: NUMBER [TO NUMBER]``."""
        return ast.DayItem(span=self._span(*c), first=self._w(c[0]), last=self._word(c[2]))

    def over(self, c: list[Child]) -> ast.Over:
        """``over: OVER [EXACTLY] NUMBER time_unit``."""
        return ast.Over(span=self._span(*c), amount=self._w(c[2]), unit=self._w(c[3]), exact=c[1] is not None)

    def relation(self, c: list[Child]) -> ast.Relation:
        """``relation: relation_core [STRING]``."""
        qualifier = self._text(c[1]) if c[1] is not None else None
        return ast.Relation(span=self._span(*c), core=c[0], qualifier=qualifier)

    def relation_core(self, c: list[Child]) -> ast.RelationCore:
        """``relation_core: [NUMBER [TO NUMBER] time_unit] direction [point OF] anchor``."""
        low, _to, high, unit, direction, point, _of, anchor = c
        return ast.RelationCore(
            span=self._span(*c),
            low=self._word(low),
            high=self._word(high),
            unit=self._word(unit),
            direction=cast(Literal["before", "after"], str(direction)),
            point=cast(Any, str(point)) if point is not None else None,
            anchor=anchor,
        )

    def anchor(self, c: list[Child]) -> ast.Anchor:
        """``anchor: drug_ref``."""
        ref = cast(ast.DrugRef, c[0])
        return ast.Anchor(span=ref.span, kind="drug", drug=ref, text=ref.text)

    def anchor_chemotherapy(self, c: list[Child]) -> ast.Anchor:
        """``anchor: CHEMOTHERAPY``."""
        return ast.Anchor(span=self._span(*c), kind="chemotherapy", drug=None, text=str(c[0]))

    def anchor_event(self, c: list[Child]) -> ast.Anchor:
        """``anchor: (SURGERY | RADIOTHERAPY)``."""
        return ast.Anchor(span=self._span(*c), kind="event", drug=None, text=str(c[0]))

    # -- supportive care and references --------------------------------------------

    def support(self, c: list[Child]) -> ast.Support:
        """``support: SUPPORT _NL _INDENT (FACTOR_LINE _NL | note)+ _DEDENT``."""
        items: list[ast.FactorLine | ast.Note] = []
        for x in c[1:]:
            if isinstance(x, ast.Note):
                items.append(x)
            elif isinstance(x, Token) and x.type == "FACTOR_LINE":
                items.append(self._factor_line(x))
        return ast.Support(span=self._span(c[0]), items=tuple(items))

    def _factor_line(self, token: Token) -> ast.FactorLine:
        raw = str(token)
        start = cast(int, token.start_pos)
        colon = raw.index(":")
        name = raw[:colon].rstrip()
        value_raw = raw[colon + 1 :]
        lead = len(value_raw) - len(value_raw.lstrip())
        value = value_raw.strip()
        v_start = start + colon + 1 + lead
        return ast.FactorLine(
            span=self.source.span(start, v_start + len(value)),
            factor=ast.Word(span=self.source.span(start, start + len(name)), text=name),
            value=ast.Word(span=self.source.span(v_start, v_start + len(value)), text=value),
        )

    def reference(self, c: list[Child]) -> ast.Reference:
        """``reference: REFERENCE STRING _NL [_INDENT ref_item+ _DEDENT]``."""
        items = [x for x in c[2:] if isinstance(x, tuple)]
        return ast.Reference(
            span=self._span(c[0], c[1]),
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
        items = tuple(x for x in c[1:] if isinstance(x, ast.Decision | ast.Limit | ast.StopRule))
        return ast.Plan(span=self._span(c[0]), items=items)

    def decision(self, c: list[Child]) -> ast.Decision:
        """``decision: AFTER phase_sel COLON _NL _INDENT branch+ _DEDENT``."""
        branches = tuple(self._nodes(c, ast.Branch))
        return ast.Decision(span=self._span(c[0], c[2]), when=c[1], branches=branches)

    def any_cycle(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: ANY CYCLE``."""
        return ast.PhaseSel(span=self._span(*c), kind="any", first=None, last=None)

    def after_cycle(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: CYCLE NUMBER``."""
        return ast.PhaseSel(span=self._span(*c), kind="cycle", first=self._w(c[1]), last=None)

    def after_cycles(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: CYCLES NUMBER TO NUMBER``."""
        return ast.PhaseSel(span=self._span(*c), kind="cycles", first=self._w(c[1]), last=self._w(c[3]))

    def after_part(self, c: list[Child]) -> ast.PhaseSel:
        """``phase_sel: PART NUMBER``."""
        return ast.PhaseSel(span=self._span(*c), kind="part", first=self._w(c[1]), last=None)

    def branch(self, c: list[Child]) -> ast.Branch:
        """``branch: IF cond COLON action _NL``."""
        action, target, tokens = c[3]
        return ast.Branch(span=self._span(c[0], c[2], *tokens), cond=c[1], action=action, target=target)

    def otherwise(self, c: list[Child]) -> ast.Branch:
        """``branch: OTHERWISE COLON action _NL``."""
        action, target, tokens = c[2]
        return ast.Branch(span=self._span(c[0], *tokens), cond=None, action=action, target=target)

    def continue_with(self, c: list[Child]) -> tuple[str, ast.Word, list[Token]]:
        """``action: CONTINUE WITH NAME``."""
        return ("continue", self._w(c[2]), c)

    def next_cycle(self, c: list[Child]) -> tuple[str, None, list[Token]]:
        """``action: NEXT CYCLE``."""
        return ("next", None, c)

    def go_cycle(self, c: list[Child]) -> tuple[str, ast.Word, list[Token]]:
        """``action: GO TO CYCLE NUMBER``."""
        return ("cycle", self._w(c[3]), c)

    def go_part(self, c: list[Child]) -> tuple[str, ast.Word, list[Token]]:
        """``action: GO TO PART NUMBER``."""
        return ("part", self._w(c[3]), c)

    def stop_action(self, c: list[Child]) -> tuple[str, None, list[Token]]:
        """``action: STOP``."""
        return ("stop", None, c)

    def limit(self, c: list[Child]) -> ast.Limit:
        """``limit: AT MOST NUMBER CYCLES [IF cond] [COUNTED WITH NAME (COMMA NAME)*] _NL``."""
        cond = c[5]
        names = tuple(self._w(t) for t in c[6:] if isinstance(t, Token) and t.type == "NAME")
        return ast.Limit(span=self._span(*self._tokens(c), cond), count=self._w(c[2]), cond=cond, counted_with=names)

    def stop_rule(self, c: list[Child]) -> ast.StopRule:
        """``stop_rule: STOP IF cond [WITHIN NUMBER CYCLES] _NL``."""
        return ast.StopRule(span=self._span(*self._tokens(c), c[2]), cond=c[2], within=self._word(c[4]))

    def or_cond(self, c: list[Child]) -> ast.OrCond:
        """``or_cond: and_cond (OR and_cond)*``."""
        ops = tuple(x for x in c if isinstance(x, ast.Node))
        return self._nest(ast.OrCond(span=self._span(ops), operands=cast(Any, ops)), *ops)

    def and_cond(self, c: list[Child]) -> ast.AndCond:
        """``and_cond: not_cond (AND not_cond)*``."""
        ops = tuple(x for x in c if isinstance(x, ast.Node))
        return self._nest(ast.AndCond(span=self._span(ops), operands=cast(Any, ops)), *ops)

    def not_(self, c: list[Child]) -> ast.NotCond:
        """``not_cond: NOT not_cond``."""
        return self._nest(ast.NotCond(span=self._span(*c), operand=c[1]), c[1])

    def atom(self, c: list[Child]) -> ast.Cond:
        """``atom: LPAR cond RPAR``: parentheses group, and count towards the nesting limit."""
        inner = cast(ast.Cond, c[1])
        depth = self._depth.get(id(inner), 0) + 1
        if depth > self.max_nesting:
            raise NestingTooDeep(cast(int, c[0].start_pos))
        self._depth[id(inner)] = depth
        return inner

    def response_in(self, c: list[Child]) -> ast.ResponseIn:
        """``atom: RESPONSE IN LPAR NAME (COMMA NAME)* RPAR``."""
        codes = tuple(self._w(t) for t in c if isinstance(t, Token) and t.type == "NAME")
        return ast.ResponseIn(span=self._span(*c), codes=codes)

    def response_is(self, c: list[Child]) -> ast.ResponseIn:
        """``atom: RESPONSE IS NAME``."""
        return ast.ResponseIn(span=self._span(*c), codes=(self._w(c[2]),))

    def mrd(self, c: list[Child]) -> ast.Mrd:
        """``atom: MRD (NEGATIVE | POSITIVE)``."""
        return ast.Mrd(span=self._span(*c), negative=str(c[1]) == "negative")

    def hsct(self, c: list[Child]) -> ast.Hsct:
        """``atom: PROCEEDING TO HSCT``."""
        return ast.Hsct(span=self._span(*c))
