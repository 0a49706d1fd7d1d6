"""The VS Code extension's TextMate grammar (``editors/vscode``) against the Lark grammar.

The grammar is written by ``editors/vscode/generate.py`` from ``grammar/regdsl.lark``; the
committed file must be what it writes. ``tests/textmate.py`` tokenises with it as VS Code
does, with Python's ``re``, so every pattern must read the same under Oniguruma and ``re``:
only constructs both read alike are allowed, and where the system has Oniguruma
(``tests/oniguruma.py``) both engines search every line of the sources with every pattern.
Each bundled regimen, each diagnostic fixture and generated regimens are tokenised and
compared with what the parser's lexer read: every keyword has a keyword scope, every number a
numeric one, every unit a unit one, every comment a comment one, each administration's medicine
and route and each regimen's id their own; no text outside a comment, quoted text or prose is
scoped as one, and no unit, number or keyword scope falls where the lexer read none.
"""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from lark.lexer import PatternStr

from regdsl.diagnostics import Sink
from regdsl.model import ast
from regdsl.model.vocabulary import FREQUENCIES
from regdsl.source import SourceFile, Span
from regdsl.syntax.parser import build_parser, parse_tokens
from tests import oniguruma
from tests.conftest import ROOT
from tests.test_fuzz import kept_valid, mutated
from tests.test_render_properties import regimen
from tests.textmate import Scopes, Tokeniser

EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR_FILE = EXTENSION / "syntaxes" / "regdsl.tmLanguage.json"
BUNDLED = sorted((ROOT / "regimens").glob("*.reg"))
FIXTURES = sorted((ROOT / "tests" / "diagnostics").rglob("*.reg"))
SOURCES = BUNDLED + FIXTURES
# Lark terminals read as one unit of measure (a time or a length of treatment is a keyword too).
UNIT_TERMINALS = {"UNIT", "COUNT_UNIT"}
OPERATORS = {"GT", "EQUAL", "STAR", "PLUSMINUS", "MINUS"}  # keyword.operator
NUMBER = re.compile("[0-9]+")
_WORD = re.compile("[A-Za-z0-9_]")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regdsl_vscode_generate", EXTENSION / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def grammar() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(GRAMMAR_FILE.read_text(encoding="utf-8"))
    return loaded


@cache
def keywords() -> dict[str, str]:
    """Every keyword of ``grammar/regdsl.lark``: each terminal written as a literal word, by its name."""
    return {
        t.name: t.pattern.value
        for t in build_parser().terminals
        if isinstance(t.pattern, PatternStr) and re.search("[A-Za-z]", t.pattern.value)
    }


def tokenise(text: str) -> tuple[list[Scopes], int]:
    """Return the scopes of every character of ``text`` and how often the loop guard was needed."""
    tokeniser = Tokeniser(grammar())
    return tokeniser.scopes(text), tokeniser.guarded


def innermost(scopes: Scopes) -> str:
    return scopes[-1]


def _kind(scopes: Scopes, prefix: str) -> bool:
    return any(s.startswith(prefix) for s in scopes)


# ---------------------------------------------------------------- the file and its patterns


def test_the_committed_grammar_is_what_the_script_writes() -> None:
    assert GRAMMAR_FILE.read_text(encoding="utf-8") == _generator().text(), "run editors/vscode/generate.py"


def test_the_script_checks_the_committed_grammar_and_refuses_other_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _generator().main(["--check"]) == 0
    assert _generator().main(["--write"]) == 2
    assert "usage: generate.py [--check]" in capsys.readouterr().err


def test_every_keyword_of_the_lark_grammar_is_a_keyword_alone_on_a_line() -> None:
    assert len(keywords()) > 100
    missing = []
    for word in keywords().values():
        scoped, _ = tokenise(f"  {word}\n")
        if not all(innermost(s).startswith("keyword.") for s in scoped[2 : 2 + len(word)]):
            missing.append((word, scoped[2]))
    assert missing == []


def _under(node: object, keys: set[str]) -> Iterator[tuple[str, str]]:
    """Yield every text under one of ``keys`` in ``node``, with its key."""
    if isinstance(node, Mapping):
        for k, value in node.items():
            if k in keys and isinstance(value, str):
                yield k, value
            else:
                yield from _under(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _under(item, keys)


# Escapes both read alike: of a character that is not a letter or digit, and \t, \n.
_ESCAPE = re.compile(r"\\(?:[^A-Za-z0-9]|[tn])")
_QUANTIFIER = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_GROUPS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")


def unportable(pattern: str, *, end: bool = False) -> list[str]:
    r"""Return what in ``pattern`` Oniguruma and Python's ``re`` may read otherwise (nothing: portable).

    Refused: escapes of letters and digits but \t and \n (\d, \w, \s and \b are Unicode in one
    and may be ASCII in the other, \h and \x differ, \A, \Z and \G anchor otherwise), but a
    backreference \1 to \9 in an ``end`` (which TextMate fills in from the ``begin``); groups other
    than plain, non-capturing and lookaround ones (named groups, inline flags, atomic groups are
    written otherwise or not read by one); possessive quantifiers; POSIX brackets, sets inside sets
    and set intersection; a brace that is not a quantifier.
    """
    found = []
    i = 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        rest = pattern[i:]
        if char == "\\":
            escape = rest[:2]
            if not _ESCAPE.fullmatch(escape) and not (end and re.fullmatch(r"\\[1-9]", escape) and not in_class):
                found.append(f"escape {escape}")
            i += 2
            continue
        if in_class:
            if rest.startswith("[") or rest.startswith("&&"):
                found.append(f"set inside a set at {i}")
            if char == "]" and pattern[i - 1 : i] != "[" and pattern[i - 2 : i] != "[^":
                in_class = False
        elif char == "[":
            in_class = True
            if rest.startswith("[:") or rest.startswith("[^:"):
                found.append(f"what reads as a POSIX bracket at {i}")
        elif char == "(" and rest.startswith("(?") and not rest.startswith(_GROUPS):
            found.append(f"group {rest[:4]}")
        elif char in "*+?}" and rest[1:2] == "+":
            found.append(f"possessive quantifier at {i}")
        elif char == "{" and not _QUANTIFIER.match(rest):
            found.append(f"brace at {i}")
        i += 1
    return found


def test_every_pattern_compiles_under_re_and_reads_alike_under_oniguruma() -> None:
    patterns = list(_under(grammar(), {"match", "begin", "end"}))
    assert len(patterns) > 30
    for key, pattern in patterns:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # re warns of what it will read otherwise (nested sets)
            re.compile(re.sub(r"\\[1-9]", "", pattern) if key == "end" else pattern)
        assert unportable(pattern, end=key == "end") == [], (key, pattern)


def _engines_disagree(pattern: str, lines: list[str]) -> list[str]:
    """Return where Oniguruma and ``re`` match ``pattern`` otherwise, searching each line as VS Code does."""
    ours, theirs = re.compile(pattern), oniguruma.Regex(pattern)
    found = []
    for line in lines:
        pos = 0
        while pos <= len(line):
            match = ours.search(line, pos)
            spans = [match.span(i) for i in range(ours.groups + 1)] if match else None
            if theirs.search(line, pos) != spans:
                found.append(f"{pattern!r} on {line!r} from {pos}: re {spans}, Oniguruma {theirs.search(line, pos)}")
                break
            if match is None:
                break
            pos = max(match.end(), match.start() + 1)
    return found


def test_oniguruma_matches_every_pattern_as_re_does_on_every_line_of_the_sources() -> None:
    if oniguruma.library() is None:
        pytest.skip("Oniguruma (libonig) is not installed")
    lines = sorted({line + "\n" for path in SOURCES for line in _text(path).split("\n")})
    lines += ["  Emetogenicity: High\n", "support\n", "\n", "   \n", "  # c\n"]
    problems = []
    for _, pattern in _under(grammar(), {"match", "begin", "end"}):
        # an end's backreference is filled in with what the begin matched: here, an indentation
        for filled in {pattern.replace("\\1", re.escape(indent)) for indent in ("", "  ", "\t")}:
            problems += _engines_disagree(filled, lines)
    assert problems == []


def test_the_engine_comparison_finds_a_pattern_they_read_otherwise() -> None:
    if oniguruma.library() is None:
        pytest.skip("Oniguruma (libonig) is not installed")
    assert _engines_disagree(r"a\Z", ["a\n"]) != []  # \Z: before a final line break in one only
    assert _engines_disagree("[a-z]+", ["day 1\n"]) == []


@pytest.mark.parametrize(
    "pattern",
    [
        *(r"\d+", r"\w", r"\s*", r"\bday\b", r"\h", r"\x41", r"\Z", r"\1", r"(?<name>x)", r"(?P<n>x)"),
        *(r"(?i)day", r"(?>ab)", r"a++", r"[[:alpha:]]", r"[a-z&&[^x]]", r"[a[b]]", r"a{", r"\uffff"),
    ],
)
def test_the_portability_check_refuses_what_the_engines_read_otherwise(pattern: str) -> None:
    assert unportable(pattern) != []


@pytest.mark.parametrize("pattern", [r"[\]\n#]", r"(?<![A-Za-z0-9_-])x(?=\+)", r"[0-9]{4}-[0-9]{2,}", r"[^\]]", r"\\."])
def test_the_portability_check_allows_what_both_read_alike(pattern: str) -> None:
    assert unportable(pattern) == []


def test_backreferences_are_allowed_only_in_an_end() -> None:
    assert unportable(r"^(?!\1[ \t]+)", end=True) == []
    assert unportable(r"^(?!\1[ \t]+)") != []


# ---------------------------------------------------------------- the tokeniser itself


def test_the_tokeniser_guards_against_a_rule_that_matches_nothing_for_ever() -> None:
    looping = {
        "scopeName": "source.t",
        "patterns": [{"begin": "(?=x)", "end": "(?=x)", "name": "a"}, {"match": "(?=y)", "name": "b"}],
    }
    tokeniser = Tokeniser(looping)
    assert len(tokeniser.scopes("xy\nx")) == 4
    assert tokeniser.guarded > 0


def test_the_tokeniser_reads_captures_includes_and_backreferences() -> None:
    toy = {
        "scopeName": "source.t",
        "patterns": [{"include": "#block"}, {"include": "#word"}],
        "repository": {
            "word": {"match": "(a)(b)?", "name": "w", "captures": {"2": {"name": "b"}}},
            "block": {"begin": "^( *)<", "end": "^(?!\\1 )", "name": "k", "patterns": [{"include": "$self"}]},
        },
    }
    scoped = Tokeniser(toy).scopes(" <ab\n  a\n a")
    assert scoped[2] == ("source.t", "k", "w")
    assert scoped[3] == ("source.t", "k", "w", "b")
    assert scoped[7] == ("source.t", "k", "w")  # the block goes on while lines are indented deeper
    assert scoped[10] == ("source.t", "w")  # and ends at one that is not


# ---------------------------------------------------------------- against the lexer


def _nodes(node: object) -> Iterator[ast.Node]:
    if isinstance(node, ast.Node):
        yield node
        for name in node.__dataclass_fields__:
            yield from _nodes(getattr(node, name))
    elif isinstance(node, tuple):
        for item in node:
            yield from _nodes(item)


def _chars(span: Span) -> range:
    return range(span.start, span.end)


def disagreements(text: str) -> list[str]:
    """Return where the TextMate grammar's scopes of ``text`` disagree with what the parser read.

    ``text`` must parse with no syntax error (after one, the lexer read some lines twice).
    """
    sink = Sink()
    module, tokens = parse_tokens(SourceFile("case.reg", text), sink)
    assert not sink.items, [d.message for d in sink.items]
    scoped, guarded = tokenise(text)
    problems = [f"the loop guard was needed {guarded} times"] if guarded else []
    words = set(keywords().values())

    def expect(chars: range, what: str, test: Any) -> None:
        wrong = [i for i in chars if not test(scoped[i])]
        if wrong:
            problems.append(f"{what} {text[chars.start : chars.stop]!r} at {chars.start}: {scoped[wrong[0]]}")

    allowed: dict[str, set[int]] = {"comment.": set(), "string.": set(), "keyword.": set(), "constant.numeric": set()}
    glued_end = -1  # where a keyword glued to the word after it ends
    for kind, word, start, end in tokens:
        chars = range(start, end)
        if start == glued_end or (kind in keywords() and _glued(text, start, end)):
            glued_end = end
            allowed["keyword."].update(chars)
            allowed["constant.numeric"].update(chars)
            continue
        if kind in keywords():
            expect(chars, "keyword", lambda s: innermost(s).startswith("keyword."))
        if kind in {"NUMBER", "DATE"}:
            expect(chars, "number", lambda s: innermost(s).startswith("constant.numeric"))
        if kind == "FREQUENCY":
            expect(chars, "frequency", lambda s: innermost(s).startswith("constant.language.frequency"))
        if kind in {"NUMBER", "DATE"} or (kind == "CATEGORY" and NUMBER.fullmatch(word)):  # Deauville 4
            allowed["constant.numeric"].update(chars)
        if kind in UNIT_TERMINALS:
            expect(chars, "unit", lambda s: innermost(s).startswith("keyword.other.unit"))
        if kind in {"STRING", "PROSE"}:
            expect(chars, "text", lambda s: _kind(s, "string."))
            allowed["string."].update(chars)
        if kind in keywords() or kind in UNIT_TERMINALS | OPERATORS or word in words:
            allowed["keyword."].update(chars)
    for comment in module.comments:
        expect(_chars(comment.span), "comment", lambda s: _kind(s, "comment."))
        allowed["comment."].update(_chars(comment.span))
        allowed["keyword."].update(_chars(comment.span))  # a suppression's own words
    for node in _nodes(module):
        if isinstance(node, ast.Admin):
            # A "medicine" spelled as a keyword (`day 8 mg ...`: no medicine's name, VOC004) is
            # read by the highlighter as that keyword, a gap docs/editors.md names.
            if text[node.drug.span.start : node.drug.span.end] not in words:
                expect(_chars(node.drug.span), "medicine", lambda s: ".medicine." in innermost(s))
            if node.route is not None:
                expect(_chars(node.route.span), "route", lambda s: innermost(s).startswith("support.constant.route"))
        elif isinstance(node, ast.RegimenHeader):
            expect(_chars(node.id.span), "regimen id", lambda s: innermost(s).startswith("entity.name.type.regimen"))
    for i, scopes in enumerate(scoped):
        for prefix, where in allowed.items():
            test = _kind(scopes, prefix) if prefix in {"comment.", "string."} else innermost(scopes).startswith(prefix)
            if test and i not in where and not text[i].isspace():
                problems.append(f"{prefix} scope at {i} ({text[max(0, i - 10) : i + 10]!r}) where the lexer read none")
                break
    return problems


def _glued(text: str, start: int, end: int) -> bool:
    """Whether the lexer read a keyword glued to a word beside it, one word to a reader (`statusdraft`, `day1`).

    The lexer reads a keyword where no name may stand even when a word goes on after it (and
    then the word after it); highlighting does not split the word.
    """
    return any(
        _WORD.match(text, i) is not None and _WORD.match(text, i + 1) is not None
        for i in (start - 1, end - 1)
        if 0 <= i < len(text) - 1
    )


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _parses(text: str) -> bool:
    sink = Sink()
    parse_tokens(SourceFile("case.reg", text), sink)
    return not sink.items


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_a_source_is_tokenised_as_the_lexer_reads_it(path: Path) -> None:
    text = _text(path)
    if _parses(text):
        assert disagreements(text) == []
    else:  # a fixture of a syntax error: it is tokenised all the same, with no loop
        scoped, guarded = tokenise(text)
        assert (len(scoped), guarded) == (len(text), 0)


def test_the_bundled_regimens_all_parse_so_all_are_compared() -> None:
    assert BUNDLED
    assert all(_parses(_text(p)) for p in BUNDLED)


@pytest.mark.parametrize(
    "line",
    [
        "  dexamethasone 8 mg oral days 1 to 3 every 12 hours for 2 doses each day supportive",
        '  "foliNIc acid" 400 mg/m2 IV day 1 over 2 hours concurrently with oxaliplatin in 250 mL',
        "  then fluorouracil (infusion) 2400 mg/m2 IV day 1 over exactly 46 hours by pump",
        "  mesna 5 million international units SC day -1 ± 1 day once daily",
        "  filgrastim 5 mg flat SC every hour day 1",
    ],
)
def test_an_administration_line_is_tokenised_as_the_lexer_reads_it(line: str) -> None:
    text = f'regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n{line}\n'
    assert disagreements(text) == []


@pytest.mark.parametrize(
    "before",
    [
        "days 1 to 3",
        "days 1, 8",
        "day -1",
        "starting day 8",
        "day 1 ± 1 day",
        "day 1 over 2 hours",
        "day 1 in 250 mL",
        "day 1 max 2 mg",
        "day 1 every 12 hours for 2 doses each day",
        "day 1 2 hours before ondansetron",
    ],
)
def test_every_frequency_written_after_the_days_or_a_clause_is_tokenised_as_the_lexer_reads_it(before: str) -> None:
    # After a day's number or a clause's unit the lexer reads a frequency, never a unit or a route.
    phrases = [f.phrase for f in FREQUENCIES]
    assert all(re.fullmatch(_generator().lark_pattern("FREQUENCY"), p) for p in phrases)
    for phrase in phrases:
        line = f"  dexamethasone 8 mg oral {before} {phrase}"
        text = f'regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n{line}\n'
        assert disagreements(text) == [], phrase


@given(regimen())
def test_a_generated_regimen_is_tokenised_as_the_lexer_reads_it(text: str) -> None:
    assert disagreements(text) == []


@given(kept_valid())
def test_a_regimen_changed_in_valid_ways_is_tokenised_as_the_lexer_reads_it(mutant: tuple[str, bytes]) -> None:
    text = mutant[1].decode("utf-8")
    if _parses(text):
        assert disagreements(text) == []


@given(mutated())
def test_a_broken_regimen_is_tokenised_with_no_error_and_no_loop(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    if _parses(text):  # lines swapped or duplicated may still parse
        assert disagreements(text) == []
    else:
        scoped, guarded = tokenise(text)
        assert (len(scoped), guarded) == (len(text), 0)


# ---------------------------------------------------------------- the extension's files


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_extension_manifest_names_files_that_exist_and_the_grammar_s_scope() -> None:
    manifest = _json(EXTENSION / "package.json")
    assert manifest["name"] == "regdsl"
    assert manifest["engines"]["vscode"].startswith("^")
    assert (EXTENSION / manifest["main"]).is_file()
    assert "vscode-languageclient" in manifest["dependencies"]
    assert "onLanguage:regdsl" in manifest["activationEvents"]
    contributes = manifest["contributes"]
    [language] = contributes["languages"]
    assert (language["id"], language["extensions"]) == ("regdsl", [".reg"])
    assert isinstance(_json(EXTENSION / language["configuration"]), dict)
    [textmate] = contributes["grammars"]
    assert textmate["language"] == "regdsl"
    assert (EXTENSION / textmate["path"]).resolve() == GRAMMAR_FILE
    assert textmate["scopeName"] == grammar()["scopeName"] == "source.regdsl"
    settings = contributes["configuration"]["properties"]
    assert settings["regdsl.server.path"]["type"] == "string"
    assert settings["regdsl.server.args"]["type"] == "array"
    assert settings["regdsl.server.args"]["items"]["type"] == "string"


def test_the_extension_reads_the_settings_it_declares_and_starts_the_language_server() -> None:
    script = (EXTENSION / "extension.js").read_text(encoding="utf-8")
    declared = _json(EXTENSION / "package.json")["contributes"]["configuration"]["properties"]
    read = {f"regdsl.{key}" for key in re.findall(r"\.get\(\s*['\"]([A-Za-z.]+)['\"]", script)}
    assert read == set(declared)
    assert "require('vscode-languageclient/node')" in script
    assert "'lsp'" in script


def test_the_language_configuration_comments_with_a_number_sign_and_pairs_quotes() -> None:
    configuration = _json(EXTENSION / "language-configuration.json")
    assert configuration["comments"] == {"lineComment": "#"}
    assert ('"', '"') in {(pair["open"], pair["close"]) for pair in configuration["autoClosingPairs"]}
    rules = configuration["indentationRules"]
    opens = re.compile(rules["increaseIndentPattern"])
    assert opens.search("cycles 1 to 4: 21 days")
    assert opens.search("  if response is CR:  # c")
    assert not opens.search("  oxaliplatin 85 mg/m2 IV day 1")
    assert not opens.search("  | Note: with food.")
    assert re.compile(rules["decreaseIndentPattern"]).search("  otherwise:")


def test_the_generated_scopes_are_standard_and_end_in_the_language() -> None:
    roots = (
        "comment.",
        "constant.",
        "entity.",
        "keyword.",
        "meta.",
        "punctuation.",
        "string.",
        "support.",
        "variable.",
    )
    rules = {"patterns": grammar()["patterns"], "repository": grammar()["repository"]}
    names = [name for _, name in _under(rules, {"name", "contentName"})]
    assert len(names) > 40
    assert [n for n in names if not (n.startswith(roots) and n.endswith(".regdsl"))] == []


def test_a_record_walk_reaches_the_administrations() -> None:
    text = _text(ROOT / "regimens" / "crc-adjuvant-mfolfox6.reg")
    module, _ = parse_tokens(SourceFile("case.reg", text), Sink())
    assert sum(isinstance(n, ast.Admin) for n in _nodes(module)) == 10


def test_the_script_sorts_only_keywords_the_lark_grammar_has() -> None:
    sorted_kinds = {kind for _, kinds in _generator().KINDS for kind in kinds}
    assert sorted_kinds - set(keywords()) == set()
