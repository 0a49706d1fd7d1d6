r"""Nothing hidden gets in, nothing hidden gets out (issue 8, items 14 to 16).

Sources may not hold control, bidirectional or invisible characters, raw or written as escapes
(``\u001b``, ``\u202e``, a lone ``\ud800``): each is a located finding. Every output (the
diagnostic formats, the pages, the site's catalogue, the command line's messages) escapes what
it shows, whatever a message, a label or a file name holds.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import sys
import unicodedata
import urllib.parse
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options as cmarkgfm_options
from hypothesis import given, settings
from hypothesis import strategies as st

from regdsl.check.rules import registry
from regdsl.cli.main import main
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.diagnostics.formats import FORMATS as DIAGNOSTIC_FORMATS
from regdsl.render.env import md_code
from regdsl.source import SourceFile, find_hidden, hidden_kind, visible

REGIMEN = 'regimen esc\n  name "{name}"\n  status draft\n\ncycle 1: 21 days\n  {drug} 10 mg oral day 1\n'
FORMATS = ["text", "concise", "json", "github", "sarif"]
HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def _findings(path: Path) -> tuple[int, list[dict[str, object]]]:
    code, text = _run("check", "--format", "json", str(path))
    return code, json.loads(text)


def _write(folder: Path, text: str, name: str = "esc.reg") -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    return path


# -- the class of hidden characters -------------------------------------------------------


def _default_ignorable_by_name(name: str) -> bool:
    """Whether ``name`` is that of a default-ignorable character that is no format character."""
    return (
        "VARIATION SELECTOR" in name  # U+180B-U+180D, U+180F, U+FE00-U+FE0F, U+E0100-U+E01EF
        or (name.startswith(("HANGUL", "HALFWIDTH HANGUL")) and name.endswith("FILLER"))
        or name in {"COMBINING GRAPHEME JOINER", "KHMER VOWEL INHERENT AQ", "KHMER VOWEL INHERENT AA"}
    )


def _noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def test_the_hidden_class_is_every_control_format_separator_surrogate_noncharacter_and_ignorable() -> None:
    named = 0
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        by_name = _default_ignorable_by_name(unicodedata.name(char, ""))
        named += by_name
        if category in HIDDEN_CATEGORIES or by_name or _noncharacter(code):
            assert hidden_kind(char) is not None, f"U+{code:04X} ({category}) is not hidden"
        elif hidden_kind(char) is not None:
            # Default-ignorable code points not yet assigned, and characters of a newer
            # Unicode than this Python's, are unassigned here.
            assert category == "Cn", f"U+{code:04X} ({category}) is hidden"
    assert named == 4 + 4 + 16 + 240 + 1 + 2  # fillers; Mongolian, BMP and supplementary selectors; CGJ; Khmer


# Default-ignorable code points that no version of Unicode has assigned yet (Unicode's
# DerivedCoreProperties.txt): a later Unicode may make any of them a format character.
UNASSIGNED_IGNORABLES = [0x2065, 0xFFF0, 0xFFF8, 0xE0000, 0xE0002, 0xE001F, 0xE0080, 0xE00FF, 0xE01F0, 0xE0FFF]


@pytest.mark.parametrize("code", UNASSIGNED_IGNORABLES)
def test_a_default_ignorable_code_point_not_yet_assigned_is_hidden(code: int) -> None:
    assert hidden_kind(chr(code)) == "invisible"
    assert [m.start() for m in find_hidden(f"a{chr(code)}", source=True)] == [1]


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("a\tb\nc\r\nd", []),
        ("a\rb", [1]),  # a carriage return that ends no line
        ("x\x00\x1b\x7f\x85", [1, 2, 3, 4]),
        ("1\u202e2\u2066\u200e\u200f\u061c", [1, 3, 4, 5, 6]),
        ("\u0915\u200d\u0937 \U0001f468\u200d\U0001f469", []),  # joiners a script and emoji need
        ("vin\u200dcristine \u200cx \u0915\u200d", [3, 13, 17]),  # joiners beside ASCII, or at an end
        ("\u3164\uffa0 \u115f\u1161 a\u034fb \u17b4", [0, 1, 3, 7, 10]),  # fillers, grapheme joiner, Khmer
        ("\ufffe\uffff \ufdd0\ufdef \U0001fffe\U0010ffff", [0, 1, 3, 4, 6, 7]),  # noncharacters
        ("\u2764\ufe0f \u8fbb\U000e0100 \u1820\u180b \u2122\ufe0f", []),  # selectors a character takes
        ("\U0001f468\u200d\u2764\ufe0f\u200d\U0001f468", []),  # ... within an emoji sequence too
        ("vincristine\ufe0f \ufe0e 1\ufe0f\u20e3 e\u0301\ufe0f", [11, 13, 16, 21]),  # after ASCII, a mark
        ("\u00e9\ufe00 \u2764\ufe0f\ufe0f \u200d\ufe0f \u3000\U000e0100", [1, 5, 7, 8, 11]),  # decomposable...
    ],
)
def test_a_source_may_hold_tabs_line_breaks_and_needed_joiners(text: str, refused: list[int]) -> None:
    assert [m.start() for m in find_hidden(text, source=True)] == refused


def test_decoded_text_may_not_hold_a_carriage_return() -> None:
    assert [m.start() for m in find_hidden("a\tb\nc\rd", source=False)] == [5]


def test_visible_writes_every_hidden_character_as_an_escape() -> None:
    shown = visible("a\x1b[2J\n\t\r\u202e12\ud800\udcff\U000e0001 \u0915\u200d\u0937 é")
    assert shown == "a\\u001b[2J\\n\\t\\r\\u202e12\\ud800\\xff\\U000e0001 \u0915\\u200d\u0937 é"
    shown = visible("\u3164\u034f\ufffe\U0010ffff\u2065\u2764\ufe0f")
    assert shown == "\\u3164\\u034f\\ufffe\\U0010ffff\\u2065\u2764\\ufe0f"


# -- escapes --------------------------------------------------------------------------------

REFUSED_ESCAPES = [
    *(f"\\u{code:04x}" for code in (0x00, 0x07, 0x08, 0x0B, 0x0D, 0x1B, 0x7F, 0x85, 0x9B)),
    *(f"\\u{code:04x}" for code in range(0x202A, 0x202F)),  # embeddings and overrides
    *(f"\\u{code:04x}" for code in range(0x2066, 0x206A)),  # isolates
    "\\u061c",
    "\\u200e",
    "\\u200F",  # upper-case hexadecimal digits too
    "\\u200b",
    "\\u200d",  # a joiner between two ASCII letters
    "\\u2028",
    "\\u2029",
    "\\ufeff",
    "\\u00ad",
    "\\u2060",
    "\\u2065",
    "\\u3164",  # fillers
    "\\u115f",
    "\\uffa0",
    "\\u034f",  # combining grapheme joiner
    "\\u17b5",
    "\\ufe0f",  # a variation selector after an ASCII letter
    "\\u180b",
    "\\ufffe",  # noncharacters
    "\\uffff",
    "\\ufdd0",
    "\\ufdef",
]
LONE_SURROGATES = ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\uDFFF"]


@pytest.mark.parametrize("escape", REFUSED_ESCAPES)
def test_an_escape_for_a_hidden_character_is_refused_at_the_escape(tmp_path: Path, escape: str) -> None:
    code, found = _findings(_write(tmp_path, REGIMEN.format(name=f"A{escape}B", drug="loratadine")))
    assert code == 1
    assert [(f["code"], f["line"], f["column"], f["end_column"]) for f in found] == [("SYN005", 2, 10, 16)]
    assert f"`{escape}`" in str(found[0]["message"])


@pytest.mark.parametrize("escape", LONE_SURROGATES)
def test_a_lone_surrogate_escape_is_refused_at_the_escape(tmp_path: Path, escape: str) -> None:
    code, found = _findings(_write(tmp_path, REGIMEN.format(name=f"A{escape}B", drug="loratadine")))
    assert code == 1
    assert [(f["code"], f["line"], f["column"], f["end_column"]) for f in found] == [("SYN006", 2, 10, 16)]


def test_two_high_halves_are_two_lone_surrogates(tmp_path: Path) -> None:
    _code, found = _findings(_write(tmp_path, REGIMEN.format(name="\\ud800\\ud800", drug="loratadine")))
    assert [(f["code"], f["column"]) for f in found] == [("SYN006", 9), ("SYN006", 15)]


@pytest.mark.parametrize(
    "name",
    [
        "line\\nbreak\\ttab\\u000a\\u0009",
        "no-break\\u00a0space, caf\\u00e9",
        "a pair: \\ud83d\\ude00",
        "joined: \\u0915\\u200d\\u0937, \\U0001f468 kept as written",
        "selected: \\u2764\\ufe0f, \\u8fbb\\udb40\\udd00",
    ],
)
def test_escapes_for_characters_text_may_hold_pass(tmp_path: Path, name: str) -> None:
    assert _findings(_write(tmp_path, REGIMEN.format(name=name, drug="loratadine"))) == (0, [])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("escape", ["\\ud800", "\\u001b", "\\u202e"])
def test_a_medicine_named_with_a_refused_escape_is_a_finding_in_every_format(
    tmp_path: Path, fmt: str, escape: str
) -> None:
    path = _write(tmp_path, REGIMEN.format(name="Esc", drug=f'"lora{escape}tadine"'))
    code, text = _run("check", "--format", fmt, str(path))
    assert code == 1
    assert ("SYN006" if escape == "\\ud800" else "SYN005") in text
    text.encode("utf-8")  # no surrogate reaches the output


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_decoded_line_break_adds_no_line_to_any_format(tmp_path: Path, fmt: str) -> None:
    drug = '"x\\n::error file=a.reg,line=1::fake\\n::add-mask::secret\\n0 errors, 0 warnings in 1 file"'
    code, text = _run("check", "--format", fmt, str(_write(tmp_path, REGIMEN.format(name="Esc", drug=drug))))
    assert code == 1
    assert not [line for line in text.splitlines() if line.startswith(("::add-mask", "0 errors", "::error file=a"))]
    if fmt in {"concise", "github"}:
        assert len(text.splitlines()) == 1  # the one finding: unknown-medicine


def test_a_library_medicine_named_with_a_lone_surrogate_is_a_finding(tmp_path: Path) -> None:
    _write(tmp_path, 'library "Lib"\n\nmedicine "x\\udc00y"\n  supportive\n', name="library.reg")
    path = _write(tmp_path, REGIMEN.format(name="Esc", drug="loratadine"))
    code, found = _findings(path)
    assert code == 1
    assert [(f["code"], Path(str(f["path"])).name, f["line"]) for f in found] == [("SYN006", "library.reg", 3)]


def test_what_the_check_refuses_the_build_does_not_crash_on(tmp_path: Path) -> None:
    source = tmp_path / "lib"
    source.mkdir()
    _write(source, REGIMEN.format(name="\\ud800", drug="loratadine"))
    code, _text = _run("build", str(source), "-o", str(tmp_path / "site"))
    assert code == 1
    assert not (tmp_path / "site").exists()


# -- characters in the source ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "code"),
    [
        ("\x1b", "SRC004"),
        ("\x85", "SRC004"),
        ("\x7f", "SRC004"),
        ("\r", "SRC004"),
        ("\u202e", "SRC005"),
        ("\u2067", "SRC005"),
        ("\u061c", "SRC005"),
        ("\u200f", "SRC005"),
        ("\u200b", "SRC005"),
        ("\u200d", "SRC005"),
        ("\u2028", "SRC005"),
        ("\ufeff", "SRC005"),
        ("\U000e0041", "SRC005"),
        ("\u3164", "SRC005"),
        ("\u034f", "SRC005"),
        ("\ufe0f", "SRC005"),
        ("\U000e0100", "SRC005"),
        ("\ufffe", "SRC005"),
        ("\U0010ffff", "SRC005"),
    ],
)
def test_a_hidden_character_in_the_source_is_refused_where_it_is(tmp_path: Path, char: str, code: str) -> None:
    status, found = _findings(_write(tmp_path, REGIMEN.format(name=f"A{char}B", drug="loratadine")))
    assert status == 1
    assert [(f["code"], f["line"], f["column"], f["end_column"]) for f in found] == [(code, 2, 10, 11)]


def test_crlf_line_ends_and_the_joiners_a_script_needs_pass(tmp_path: Path) -> None:
    text = REGIMEN.format(name="\u0915\u200d\u0937 \U0001f468\u200d\U0001f469", drug="loratadine")
    assert _findings(_write(tmp_path, text.replace("\n", "\r\n"))) == (0, [])


def test_every_invisible_character_is_reported_up_to_a_cap(tmp_path: Path) -> None:
    from regdsl.syntax.characters import MAX_HIDDEN

    lines = "".join(f"  # {'x' * n}\u202e\n" for n in range(MAX_HIDDEN + 5))
    _code, found = _findings(_write(tmp_path, REGIMEN.format(name="A", drug="loratadine") + lines))
    assert [(f["code"], f["line"], f["column"]) for f in found] == [("SRC005", 7 + n, 5 + n) for n in range(MAX_HIDDEN)]
    assert found[-1]["notes"] == ["5 more such characters follow, not shown"]


# -- every output format, whatever its fields hold ------------------------------------------

# Any character at all (surrogates too), with the dangerous ones drawn often.
_NASTY = (
    "\n\r\t\x00\x07\x1b\x85\x9b\u202e\u2066\u200b\u200d\u2028\ufeff\ud800\udcff\u3164\u034f\ufe0f\uffff:,%`<>&|\\\"' "
)
_TEXT = st.text(st.one_of(st.sampled_from(_NASTY), st.characters(exclude_categories=())), max_size=30)


@st.composite
def _diagnostics(draw: st.DrawFn) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    lines = draw(st.lists(_TEXT.map(lambda t: t.replace("\n", "")), min_size=1, max_size=3))
    files = [SourceFile(draw(_TEXT) or "x.reg", "\n".join(lines)) for _ in range(2)]
    codes = sorted(registry().codes.values(), key=lambda c: c.code)

    def label(source: SourceFile) -> Label:
        start = draw(st.integers(0, len(source.text)))
        return Label(source.span(start, start + draw(st.integers(0, 5))), draw(_TEXT))

    found = [
        Diagnostic(
            code=draw(st.sampled_from(codes)),
            message=draw(_TEXT),
            primary=label(files[0]),
            secondary=tuple(label(draw(st.sampled_from(files))) for _ in range(draw(st.integers(0, 2)))),
            notes=tuple(draw(st.lists(_TEXT, max_size=2))),
            help=draw(st.none() | _TEXT),
            severity=draw(st.none() | st.sampled_from(list(Severity))),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return found, {f.path: f for f in files}


def _plain(diag: Diagnostic) -> Diagnostic:
    """Return the same finding with every text it carries made harmless: the output's shape to expect."""
    return replace(
        diag,
        message="m",
        primary=replace(diag.primary, text="l" if diag.primary.text else ""),
        secondary=tuple(replace(lb, text="l" if lb.text else "") for lb in diag.secondary),
        notes=tuple("n" for _ in diag.notes),
        help="h" if diag.help else None,
    )


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    return []


@given(_diagnostics())
def test_no_format_emits_a_hidden_character_or_a_line_break_inside_a_field(
    case: tuple[list[Diagnostic], dict[str, SourceFile]],
) -> None:
    diagnostics, sources = case
    for fmt, write in DIAGNOSTIC_FORMATS.items():
        text = write(diagnostics, sources)
        text.encode("utf-8")  # strict: no surrogate
        assert not [c for c in text if c != "\n" and hidden_kind(c)], fmt
        if fmt in {"json", "sarif"}:
            assert all(not hidden_kind(c) for s in _strings(json.loads(text)) for c in s), fmt
        else:  # line by line: the lines are those of the same findings holding harmless text
            assert text.count("\n") == write([_plain(d) for d in diagnostics], sources).count("\n"), fmt


@given(_diagnostics())
def test_machine_formats_keep_each_field_escaped_and_whole(
    case: tuple[list[Diagnostic], dict[str, SourceFile]],
) -> None:
    diagnostics, sources = case
    items = json.loads(DIAGNOSTIC_FORMATS["json"](diagnostics, sources))
    for diag, item in zip(diagnostics, items, strict=True):
        assert item["path"] == visible(diag.span.path)
        assert item["message"] == visible(diag.message)
        assert item["help"] == (visible(diag.help) if diag.help is not None else None)
        assert item["notes"] == [visible(n) for n in diag.notes]
        assert [lb["text"] for lb in item["labels"]] == [visible(lb.text) for lb in (diag.primary, *diag.secondary)]
    github = DIAGNOSTIC_FORMATS["github"](diagnostics, sources).splitlines()
    for diag, line in zip(diagnostics, github, strict=True):
        match = re.fullmatch(
            r"::(error|warning|notice) file=([^,:]*),line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=([^,:]*)::(.*)",
            line,
        )
        assert match, line
        assert urllib.parse.unquote(match.group(2)) == visible(diag.span.path)
        assert urllib.parse.unquote(match.group(3)) == f"regdsl::{diag.code.code}"
        # The message, each note and the help, each escaped on its own, one per line of the annotation.
        shown = [visible(diag.message), *(visible(f"note: {n}") for n in diag.notes)]
        shown += [visible(f"help: {diag.help}")] if diag.help else []
        assert [urllib.parse.unquote(part) for part in match.group(4).split("%0A")] == shown
    log = json.loads(DIAGNOSTIC_FORMATS["sarif"](diagnostics, sources))
    for diag, result in zip(diagnostics, log["runs"][0]["results"], strict=True):
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert re.fullmatch(r"[A-Za-z0-9._~/%-]*", uri), uri
        try:
            raw = diag.span.path.encode("utf-8", errors="surrogateescape")
        except UnicodeEncodeError:
            raw = visible(diag.span.path).encode("utf-8")
        assert urllib.parse.unquote_to_bytes(uri) == raw
        related = [loc["message"]["text"] for loc in result.get("relatedLocations", []) if "message" in loc]
        assert related == [visible(lb.text) for lb in diag.secondary if lb.text]
        assert result.get("properties", {}).get("notes", []) == [visible(n) for n in diag.notes]


# -- file names, wherever they are shown ----------------------------------------------------

HOSTILE_NAMES = [
    "tick`<b>bold`.reg",
    "new\nline.reg",
    "x,y:z%41.reg",
    "sp ace.reg",
    "caf\u00e9 \u0915.reg",
    "bidi\u202e12.reg",
    os.fsdecode(b"\xff\xfe.reg"),  # not UTF-8: Python keeps the bytes as surrogates
    "tab\t.reg",
    "esc\x1b[2J.reg",
    "pipe|cell.reg",
]
GOOD = 'regimen r{n}\n  name "R{n}"\n  status draft\n\ncycle 1: 21 days\n  loratadine 10 mg oral day 1\n'
BAD = GOOD.replace("10 mg", "10 mgg")  # VOC001 at line 6


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    folder.mkdir()
    for n, name in enumerate(HOSTILE_NAMES):
        (folder / name).write_text(GOOD.format(n=n), encoding="utf-8")
    return folder


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=visible)
def test_every_format_shows_a_hostile_file_name_escaped(tmp_path: Path, fmt: str, name: str) -> None:
    path = tmp_path / name
    path.write_text(BAD.format(n=0), encoding="utf-8")
    code, text = _run("check", "--format", fmt, str(path))
    assert code == 1
    text.encode("utf-8")
    shown = visible(str(path))
    assert not [c for c in text if c != "\n" and hidden_kind(c)]
    if fmt == "text":
        assert f" --> {shown}:6:" in text
    elif fmt == "concise":
        assert text.startswith(f"{shown}:6:")
        assert text.count("\n") == 1
    elif fmt == "json":
        assert json.loads(text)[0]["path"] == shown
    elif fmt == "github":
        (line,) = text.splitlines()
        props = line.split("::")[1].split(" ", 1)[1].split(",")
        assert [p.split("=")[0] for p in props] == ["file", "line", "col", "endLine", "endColumn", "title"]
        assert urllib.parse.unquote(props[0].removeprefix("file=")) == shown
    else:
        uri = json.loads(text)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert re.fullmatch(r"[A-Za-z0-9._~/%-]*", uri)
        assert urllib.parse.unquote_to_bytes(uri) == os.fsencode(path)


def _gfm(markdown: str) -> str:
    """Render Markdown as GitHub does (raw HTML let through, to see any that gets in)."""
    rendered: str = cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm_options.CMARK_OPT_UNSAFE)
    return rendered


def _escaped(text: str) -> str:
    """Escape text as cmark writes it in HTML."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def test_pages_show_a_hostile_file_name_escaped_as_their_provenance(hostile: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert _run("build", str(hostile), "-o", str(site))[0] == 0
    for n, name in enumerate(HOSTILE_NAMES):
        shown = visible(name)
        page = site / "regimens" / f"r{n}"
        markdown = page.with_suffix(".md").read_text(encoding="utf-8")
        html_of_markdown = _gfm(markdown)
        assert "<b>" not in html_of_markdown
        code = f"<code>{_escaped(shown)}</code>"
        # The provenance row of the table, and the closing line.
        assert f"<td>Source</td>\n<td>{code}</td>" in html_of_markdown, name
        assert f"from {code}.</p>" in html_of_markdown, name
        assert markdown.count("\n") == (site / "regimens" / "r3.md").read_text(encoding="utf-8").count("\n")
        page_html = page.with_suffix(".html").read_text(encoding="utf-8")
        assert f"from <code>{html.escape(shown)}</code>" in page_html
        document = page.with_suffix(".json").read_text(encoding="utf-8")
        assert "<" not in document
        assert json.loads(document)["source"]["path"] == shown
        for text in (markdown, page_html, document):
            assert not [c for c in text if c not in "\n\t" and hidden_kind(c)], name


@given(st.text(st.one_of(st.sampled_from("` |\\<&*_\n"), st.characters(exclude_categories=())), max_size=20))
def test_a_markdown_code_span_shows_any_text_as_it_is(text: str) -> None:
    shown = _escaped(visible(text))
    if not shown:
        return
    table = _gfm(f"| a | b |\n|---|---|\n| x | {md_code(text, cell=True)} |\n")
    assert f"<td>x</td>\n<td><code>{shown}</code></td>\n</tr>" in table
    assert _gfm(f"from {md_code(text)}.") == f"<p>from <code>{shown}</code>.</p>\n"


def test_the_catalogue_and_the_search_script_are_inert(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    name = "</script><script>alert(1)</script> & <b>"
    (folder / "r.reg").write_text(GOOD.format(n=0).replace('"R0"', json.dumps(name)), encoding="utf-8")
    site = tmp_path / "site"
    assert _run("build", str(folder), "-o", str(site))[0] == 0
    catalogue = (site / "index.json").read_text(encoding="utf-8")
    script = (site / "search-index.js").read_text(encoding="utf-8")
    for text in (catalogue, script):
        assert not {"<", ">", "&"} & set(text)
    assert json.loads(catalogue)[0]["name"] == name
    assert json.loads(script.removeprefix("window.REGDSL_SEARCH = ").removesuffix(";\n"))[0]["name"] == name


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=visible)
def test_command_line_messages_show_a_hostile_path_escaped(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / name
    assert _run("check", str(missing))[0] == 2
    err = capsys.readouterr().err
    assert err == f"regdsl: error: {visible(str(missing))}: no such file or folder\n"
    assert _run("build", str(tmp_path), "-o", str(tmp_path / name / "site"))[0] == 2
    assert not [c for c in capsys.readouterr().err if c != "\n" and hidden_kind(c)]


def test_a_build_summary_shows_the_output_folder_escaped(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "out\x1b]0;x\x07"
    code, text = _run("build", str(hostile), "-o", str(out))
    assert code == 0
    assert f"into {visible(str(out))}/ (" in text
    assert "\x1b" not in text


def test_an_internal_error_shows_its_message_escaped(
    monkeypatch: pytest.MonkeyPatch, hostile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bad\x1b[2J\nerror[INT001]: fake")

    monkeypatch.setattr("regdsl.check.run.run_check", boom)
    assert _run("check", str(hostile))[0] == 3
    first = capsys.readouterr().err.splitlines()[0]
    assert first == "error[INT001]: internal error: RuntimeError: bad\\u001b[2J\\nerror[INT001]: fake"


_BROKEN_FIELDS = """regimen nl
  name "Name{b}::error::name"
  title "Title{b}# heading"
  status draft
  cancer "Cancer{b}- bullet"
  setting "Metastatic{b}> quote"

cycle 1: 21 days
  title "Cycle title{b}::warning::t"
  cyclophosphamide 600 mg/m2 IV day 1 over 60 min
  ondansetron 8 mg oral day 1 30 min before cyclophosphamide "as tolerated{b}1. numbered"

plan
  stop if response is PD

reference "Reference{b}| a | b |"
  url "https://example.org"
"""


def test_a_line_break_in_a_field_keeps_its_markdown_construct_whole(tmp_path: Path) -> None:
    # A name or title is one line of its page: a heading, a list item, a cell. A line break in it
    # (`\n`) is shown as one, inside the construct: it never ends the heading and starts a line
    # of its own (a heading, a quote, or a CI runner's command when the page is printed).
    pages = {}
    for kind, brk in (("plain", " "), ("broken", "\\n")):
        source = _write(tmp_path, _BROKEN_FIELDS.format(b=brk), f"{kind}.reg")
        code, pages[kind] = _run("render", str(source), "--to", "md")
        assert code == 0
    assert pages["broken"].count("\n") == pages["plain"].count("\n")
    assert not [line for line in pages["broken"].splitlines() if line.startswith("::")]
    assert _gfm(pages["broken"]).count("<h1>") == 1


# -- a page printed in a CI log -------------------------------------------------------------

# Text for every field of a page, drawn from what makes Markdown, or a CI runner, read a line
# as something else: `::` (a GitHub Actions workflow command at the start of a line, after
# spaces), line breaks, indentation, and the characters Markdown reads as markup.
_PIECES = [":", "::", "::error::x", "::add-mask::y", " ", "    ", "\t", "\n", "\n::", "\n  ::", "#", "-", "*"]
_PIECES += ["_", "`", "|", "<", "&", "[", "]", "\\", "1.", ">", "=", "+", "~", "a", "é", "http://x.org"]
_FIELD_TEXT = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map("".join).filter(lambda s: s.strip())

_EVERY_FIELD = """regimen fields
  name "{s}"
  title "{s}"
  subtitle "{s}"
  description "{s}"
  version "{s}"
  publisher "{s}"
  author "{s}"
  copyright "{s}"
  status draft
  cancer "{s}" > "{s}"
  setting "{s}"
  footnotes hostile
  overview
{prose}

part 1 "{s}"
  title "{s}"
  overview
{prose}
  cycle 1: 21 days
    title "{s}"
    cyclophosphamide 600 mg/m2 IV day 1 over 60 min
{prose4}
    ondansetron 8 mg oral day 1 30 min before cyclophosphamide "{s}"
    "{s}" 10 mg oral day 1
    note {label}
{prose4}
  support
    Emetogenicity: {factor}
    note
{prose4}
  reference "{s}"
    url "https://example.org/{s}"

plan
  after any cycle:
    if response is PD: continue with other
    otherwise: next cycle
  stop if response is PD
"""
_OTHER = """regimen other
  name "{s}"
  status draft

cycle 1: 21 days
  cyclophosphamide 600 mg/m2 IV day 1 over 60 min
"""
_LIBRARY = """library "{s}"

footnote hostile "{s}"
{prose}

medicine "{s}"
  supportive
  lifetime max 50 mg "{s}"
  route oral "{s}"
  fatal intrathecal "{s}"
"""


def _quoted(text: str) -> str:
    """Write ``text`` as the inside of a quoted string of the language."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def _every_field(folder: Path, text: str) -> Path:
    """Write a regimen, the regimen it links to, and a library's medicine and footnote: ``text`` in every field."""

    def prose(indent: str) -> str:
        return "\n".join(f"{indent}| {line}" for line in text.split("\n"))

    label = " ".join(text.replace("#", "").replace("|", "").split()) or "x"
    factor = " ".join(text.replace("#", "").split()) or "x"
    _write(folder, _LIBRARY.format(s=_quoted(text), prose=prose("  ")), "library.reg")
    _write(folder, _OTHER.format(s=_quoted(text)), "other.reg")
    return _write(
        folder,
        _EVERY_FIELD.format(s=_quoted(text), prose=prose("    "), prose4=prose("      "), label=label, factor=factor),
    )


@settings(max_examples=max(10, settings().max_examples // 4))  # five commands an example
@given(text=_FIELD_TEXT)
def test_no_line_of_a_page_or_a_graph_is_a_ci_command_and_the_escapes_show_nothing(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Printed to a CI log (`regdsl render X --to md`, `--to html`, `regdsl graph`), a line that
    # starts with `::` would be obeyed by a GitHub Actions runner. In Markdown such a line start
    # is written `\:`, shown as `:`; in HTML and GraphML a text's line break is `&#10;` (and a
    # colon that starts a text in HTML `&#58;`): each page shows what it would unescaped.
    import regdsl.render.env as env

    folder = tmp_path_factory.mktemp("ci")
    path = _every_field(folder, text)
    shown = {fmt: _run("render", str(path), "--to", fmt) for fmt in ("md", "html")}
    shown["graph"] = _run("graph", str(folder))
    for fmt, (code, out) in shown.items():
        assert code == 0, out
        assert not [line for line in out.splitlines() if line.lstrip().startswith("::")], fmt
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(env, "_MD_COMMAND", re.compile("(?!)()"))  # (never matches: no `\:` written)
        patch.setattr(env, "_html_text", lambda value: value)  # (autoescaping alone)
        env.environment.cache_clear()  # (an environment holds its ``finalize``)
        try:
            unescaped = {fmt: _run("render", str(path), "--to", fmt)[1] for fmt in ("md", "html")}
        finally:
            env.environment.cache_clear()
    assert _gfm(shown["md"][1]) == _gfm(unescaped["md"])
    assert html.unescape(shown["html"][1]) == html.unescape(unescaped["html"])
    texts = [node.text for node in ElementTree.fromstring(shown["graph"][1].encode()).iter()]
    assert text in texts  # the regimen's name, line breaks and all
