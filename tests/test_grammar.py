"""The grammar builds with lark's strict checks, and ships where the package finds it."""

from __future__ import annotations

from regdsl.diagnostics import Sink
from regdsl.source import SourceFile
from regdsl.syntax import parser
from regdsl.syntax.expected import close_match, describe_expected
from tests.conftest import ROOT


def test_grammar_builds_strict_without_conflicts() -> None:
    built = parser.build_parser(strict=True, cache=False)
    assert built.options.parser == "lalr"


def test_grammar_is_read_from_the_repository_in_an_editable_install() -> None:
    assert parser.grammar_text() == (ROOT / "grammar" / "regdsl.lark").read_text(encoding="utf-8")


def test_every_keyword_is_named_by_its_word_in_error_messages() -> None:
    parser.parse(SourceFile("x.reg", "regimen x\n"), Sink())  # fills the keyword table
    for terminal in parser.build_parser().terminals:
        if terminal.pattern.type == "str" and terminal.name.isupper():
            described = describe_expected([terminal.name])
            assert f"`{terminal.pattern.value}`" in described or " such as " in described, terminal.name


def test_comments_are_kept_with_their_spans() -> None:
    source = SourceFile("x.reg", 'regimen x  # the id\n  name "X"\n  # a note\n  status draft\n')
    module = parser.parse(source, Sink())
    assert [(c.text, c.span.line, c.span.column) for c in module.comments] == [
        ("# the id", 1, 12),
        ("# a note", 3, 3),
    ]


def test_close_match_prefers_case_fixes_then_near_misses() -> None:
    assert close_match("cisplatin", ["cISplatin", "cARBOplatin"]) == "cISplatin"
    assert close_match("cycel", ["cycle", "cycles"]) == "cycle"
    assert close_match("zzz", ["cycle"]) is None


def test_quoted_text_escapes() -> None:
    from regdsl.syntax.transform import decode_string

    assert decode_string('"plain"') == "plain"
    assert decode_string(r'"1.\tPeters"') == "1.\tPeters"
    assert decode_string(r'"Non small\u00a0cell"') == "Non small\u00a0cell"
    assert decode_string(r'"say \"hi\" \\ done"') == 'say "hi" \\ done'
    assert decode_string(r'"unknown \q kept"') == "unknown \\q kept"
