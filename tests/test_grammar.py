"""The grammar builds with lark's strict checks, and ships where the package finds it."""

from __future__ import annotations

from typing import Any

import pytest

from regdsl.diagnostics import Sink
from regdsl.model import ast
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
    from regdsl.syntax.transform import decode_text

    def decode_string(raw: str) -> str:
        return decode_text(raw)[0]

    assert decode_string('"plain"') == "plain"
    assert decode_string(r'"1.\tPeters"') == "1.\tPeters"
    assert decode_string(r'"Non small\u00a0cell"') == "Non small\u00a0cell"
    assert decode_string(r'"say \"hi\" \\ done"') == 'say "hi" \\ done'
    assert decode_string(r'"unknown \q kept"') == "unknown \\q kept"


def test_comments_know_the_line_they_cover() -> None:
    text = (
        "regimen x  # after code: its own line\n"  # 1
        "  # alone: the next line of code\n"  # 2
        "\n"  # 3
        "  # and another, above the same line\n"  # 4
        '  name "X"\n'  # 5
        "  status draft\n"  # 6
        "# at the end: its own line\n"  # 7
    )
    module = parser.parse(SourceFile("x.reg", text), Sink())
    assert [(c.span.line, c.covers) for c in module.comments] == [(1, 1), (2, 5), (4, 5), (7, 7)]


def test_a_comment_above_a_line_blanked_for_a_syntax_error_covers_that_line() -> None:
    text = 'regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n  # about the next line\n  over over\n'
    sink = Sink()
    module = parser.parse(SourceFile("x.reg", text), sink)
    assert [d.code.code for d in sink.items] == ["SYN001"]
    assert [(c.span.line, c.covers) for c in module.comments] == [(6, 7)]


def test_prose_and_quoted_text_know_where_each_character_was_written() -> None:
    text = (
        "regimen x\n"
        '  name "a \\"quoted\\" caf\\u00e9 name"\n'
        "  overview\n"
        "    | First line.\n"
        "    |Second, close to its bar.\n"
    )
    source = SourceFile("x.reg", text)
    module = parser.parse(source, Sink())
    header = module.items[0]
    assert isinstance(header, ast.RegimenHeader)
    name = header.meta[0]
    assert isinstance(name, ast.TextField)
    value = name.value.value
    assert value == 'a "quoted" café name'
    for word in ("quoted", "café", "name"):
        at = value.index(word)
        span = name.value.at(at, at + len(word))
        written = text[span.start : span.end]
        assert written == {"quoted": "quoted", "café": "caf\\u00e9", "name": "name"}[word]
    overview = header.meta[1]
    assert isinstance(overview, ast.Overview)
    prose = overview.prose
    assert prose.lines == ("First line.", "Second, close to its bar.")
    for number, line in enumerate(prose.lines):
        span = prose.at(number, 0, len(line))
        assert text[span.start : span.end] == line
        assert span.line == 4 + number
    assert module.prose == (prose,)
    assert module.headings == (name.value,)


def test_a_long_file_reports_its_first_fifty_syntax_errors_and_is_read_about_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = "".join(f"  ondansetron {i % 90 + 1} mg oral day {i % 21 + 1}\n" for i in range(8000))
    bad = "".join(f"  ondansetron 8 mg oral day 1 over over {i}\n" for i in range(60))
    text = 'regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n' + good + bad
    runs: list[parser._Run] = []
    real = parser._Run.__init__

    def kept(self: parser._Run, *args: Any) -> None:
        real(self, *args)
        runs.append(self)

    monkeypatch.setattr(parser._Run, "__init__", kept)
    sink = Sink()
    parser.parse(SourceFile("x.reg", text), sink)
    assert len(text) > 250_000
    assert [d.code.code for d in sink.items] == ["SYN001"] * parser.MAX_ERRORS
    assert [d.span.line for d in sink.items] == list(range(8006, 8006 + parser.MAX_ERRORS))
    (run,) = runs
    assert run.read < 1.5 * len(text)  # each error parses again from a few lines before it, not from the top


def test_a_heading_is_read_up_to_its_name_and_status_and_no_further() -> None:
    text = 'regimen x\n  name "X"\n  status superseded by y\n  title "T"\n\ncycle 1: 21 days\n  broken broken broken\n'
    heading = parser.parse_heading(SourceFile("x.reg", text))
    assert heading is not None
    assert heading.id.text == "x"
    assert [type(field).__name__ for field in heading.meta] == ["TextField", "StatusField"]


def test_a_heading_is_the_regimens_not_a_part_written_before_it() -> None:
    text = (
        'part 1 "First"\n  name "Part"\n  status discontinued\n  cycle 1: 21 days\n    loratadine 10 mg oral days 1\n'
        'regimen x\n  name "X"\n  status draft\n'
    )
    heading = parser.parse_heading(SourceFile("x.reg", text))
    assert heading is not None
    fields = {type(f).__name__: f for f in heading.meta}
    status, name = fields["StatusField"], fields["TextField"]
    assert isinstance(status, ast.StatusField)
    assert isinstance(name, ast.TextField)
    assert (heading.id.text, status.status.text, name.value.value) == ("x", "draft", "X")


def test_a_heading_without_a_status_is_read_to_the_end_of_its_block() -> None:
    text = 'regimen x\n  name "X"\n  title "T"\n\ncycle 1: 21 days\n  loratadine 10 mg oral days 1\n'
    heading = parser.parse_heading(SourceFile("x.reg", text))
    assert heading is not None
    assert len(heading.meta) == 2
