"""Findings point at the characters written, and no module outside ``regdsl/syntax`` reads source text to find them.

The syntax tree keeps where every word, quoted text (escapes included) and prose line was
written, and the regimen keeps those for the rules. A finding inside an escaped string is
at the columns of the escape; a link is at the id written, not at a longer id that starts
with it. And no stage but the parser locates anything by searching the text: a scan of
``regdsl/`` refuses every way of doing so outside ``regdsl/syntax``.
"""

from __future__ import annotations

import ast as pyast
from pathlib import Path
from typing import get_args

import pytest

from regdsl.check.run import run_check
from regdsl.compile.library import scan_regimens
from regdsl.diagnostics import Sink
from regdsl.lsp.index import nodes
from regdsl.model import ast as syntax
from regdsl.source import SourceFile
from regdsl.syntax.parser import parse
from tests.conftest import ROOT

HEAD = 'regimen {id}\n  name "{name}"\n  status {status}\n\n'
CYCLE = "cycle 1: 21 days\n  cyclophosphamide 600 mg/m2 IV day 1 over 60 min\n"


def _found(folder: Path, code: str) -> list[tuple[str, int, int, int, str]]:
    """Return each finding ``code`` in ``folder``: its file, line, columns and the text it covers."""
    found = []
    for diag in run_check([folder], jobs=1).diagnostics:
        if diag.code.code != code:
            continue
        span = diag.span
        line = Path(span.path).read_text(encoding="utf-8").splitlines()[span.line - 1]
        found.append(
            (Path(span.path).name, span.line, span.column, span.end_column, line[span.column - 1 : span.end_column - 1])
        )
    return found


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    (folder / "library.reg").write_text('library "Test"\n', encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_misspelling_in_an_escaped_qualifier_is_at_its_own_columns(tmp_path: Path) -> None:
    text = (
        HEAD.format(id="x", name="X", status="draft")
        + CYCLE
        + '  ondansetron 8 mg oral day 1 30 min before cyclophosphamide "or as per \\"insitutional\\" practice"\n'
    )
    folder = _write(tmp_path / "lib", {"x.reg": text})
    assert _found(folder, "PRO001") == [("x.reg", 7, 75, 87, "insitutional")]


def test_a_tall_man_name_after_an_escape_or_written_with_one_is_found_where_written(tmp_path: Path) -> None:
    text = (
        'regimen x\n  name "after a break:\\ncisplatin"\n  subtitle "cis\\u0070latin"\n  status draft\n\n'
        "cycle 1: 21 days\n  cISplatin 75 mg/m2 IV day 1 over 60 min\n"
    )
    folder = _write(tmp_path / "lib", {"x.reg": text})
    assert _found(folder, "SAF105") == [
        ("x.reg", 2, 25, 34, "cisplatin"),
        ("x.reg", 3, 13, 27, "cis\\u0070latin"),
    ]


def test_a_link_to_a_retired_regimen_is_at_its_id_not_at_a_longer_one(tmp_path: Path) -> None:
    files = {
        "main.reg": HEAD.format(id="main", name="Main", status="draft")
        + "cycles 1 to 3: 21 days\n  loratadine 10 mg oral days 1\n\nplan\n"
        + "  at most 3 cycles counted with reg-a, reg-ab\n",
        "a.reg": HEAD.format(id="reg-a", name="A", status="discontinued") + CYCLE,
        "ab.reg": HEAD.format(id="reg-ab", name="AB", status="draft") + CYCLE,
    }
    folder = _write(tmp_path / "lib", files)
    assert _found(folder, "BRA006") == [("main.reg", 9, 33, 38, "reg-a")]


def test_a_siblings_status_is_its_headings_not_one_written_further_on(tmp_path: Path) -> None:
    files = {
        "main.reg": HEAD.format(id="main", name="Main", status="draft")
        + "cycles 1 to 3: 21 days\n  loratadine 10 mg oral days 1\n\nplan\n"
        + "  at most 3 cycles counted with other\n",
        # The heading states no status (a draft); the part's own heading says discontinued.
        "other.reg": 'regimen other\n  name "Other"\n\npart 1 "First"\n  status discontinued\n  '
        + CYCLE.replace("\n  ", "\n    "),
    }
    folder = _write(tmp_path / "lib", files)
    infos = scan_regimens(folder)
    assert (infos["other"].status, infos["other"].name) == (None, "Other")
    assert _found(folder, "BRA006") == []


def test_a_sibling_saved_with_a_byte_order_mark_is_known(tmp_path: Path) -> None:
    folder = _write(tmp_path / "lib", {})
    (folder / "other.reg").write_bytes(
        b"\xef\xbb\xbf" + (HEAD.format(id="other", name="Other", status="draft") + CYCLE).encode()
    )
    assert sorted(scan_regimens(folder)) == ["other"]


# A condition is the whole of what is written, parentheses included, however deep.
CONDITIONS = (
    "(response is CR)",
    "(response is CR or response is PR) and MRD negative",
    "MRD negative and (response is CR or (response is PR and not (MRD positive)))",
    "not (((response is CR)))",
    "((response is CR) or (response in (PR, SD)))",
    "(ANC at least 1.5 x10^9/L)",
)


def _conditions(module: syntax.Module) -> list[syntax.Node]:
    """Return every condition in ``module``, and every statement a condition ends."""
    kinds = (*get_args(syntax.Cond), syntax.Proceed, syntax.Limit, syntax.StopRule)
    return [node for node in nodes(module) if isinstance(node, syntax.Node) and isinstance(node, kinds)]


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("cond", CONDITIONS)
def test_a_condition_s_span_covers_its_parentheses_at_every_depth(cond: str) -> None:
    text = (
        HEAD.format(id="x", name="X", status="draft")
        + f"cycles 1 to 6: 21 days\n  proceed if {cond}\n  loratadine 10 mg oral days 1\n\n"
        + f"plan\n  at most 2 cycles if {cond}\n  stop if {cond}\n"
        + f"  after cycle 1:\n    if {cond}: stop\n    otherwise: next cycle\n"
    )
    sink = Sink()
    module = parse(SourceFile("x.reg", text), sink)
    assert sink.items == []
    found = [(type(n).__name__, text[n.span.start : n.span.end]) for n in _conditions(module)]
    assert len(found) > 4
    assert [f for f in found if not _balanced(f[1]) or f[1] != f[1].strip()] == []
    whole = [t for kind, t in found if kind in {"Proceed", "Limit", "StopRule"}]
    assert [t[t.index(" if ") + 4 :] for t in whole] == [cond] * 3
    assert found.count(("Proceed", f"proceed if {cond}")) == 1
    # the outermost condition of each of the four statements is the condition as written
    assert sum(t == cond for kind, t in found if kind not in {"Proceed", "Limit", "StopRule"}) == 4


def test_a_finding_on_a_parenthesised_condition_covers_its_closing_parenthesis(tmp_path: Path) -> None:
    never = "(ANC at least 1.5 x10^9/L and (ANC under 1 x10^9/L))"
    text = (
        HEAD.format(id="x", name="X", status="draft")
        + f"cycle 1 and all further cycles: 21 days\n  proceed if {never}\n  loratadine 10 mg oral days 1\n\n"
        + f"plan\n  stop if {never.replace('ANC', 'CrCl').replace('x10^9/L', 'mL/min')}\n"
    )
    folder = _write(tmp_path / "lib", {"x.reg": text})
    assert [(line, written[-2:]) for _, line, _, _, written in _found(folder, "BRA015")] == [(6, "))"), (10, "))")]


# --------------------------------------------------------------------------- the scan

PACKAGE = ROOT / "regdsl"
SYNTAX = PACKAGE / "syntax"
READS_TEXT = "reads a source's text"
READS_LINE = "reads a source line"
READS_STARTS = "reads the line index's offsets"
LINE_PATTERN = "makes a pattern over the lines of a text"
IMPORTS = "imports SourceFile"
# What a module outside regdsl/syntax may do of these, and why.
ALLOWED: dict[str, dict[str, str]] = {
    "source.py": {READS_STARTS: "the positions layer: a span's line and column come from the line index"},
    "diagnostics/formats.py": {
        READS_LINE: "shows the line a finding is on, under a caret: display, not locating",
        IMPORTS: "is given the sources to show",
    },
    "check/registry.py": {LINE_PATTERN: "reads the sections of rules' docstrings, not sources"},
    "check/reference.py": {LINE_PATTERN: "reads the sections of rules' docstrings, not sources"},
    "render/env.py": {LINE_PATTERN: "escapes the lines of Markdown it writes, not sources"},
    "compile/library.py": {IMPORTS: "reads files into sources and passes them to the parser"},
    "check/run.py": {IMPORTS: "keeps each file's source, for showing its findings"},
    "check/rewrite.py": {IMPORTS: "keeps the source of each file it rewrites or refuses, for diffs and findings"},
    "check/config.py": {IMPORTS: "keeps the configuration's text, for showing its findings"},
    "check/cache.py": {
        IMPORTS: "rebuilds a kept finding's spans on the sources it names",
        READS_TEXT: "hashes library.reg's text into the key, and refuses a kept offset beyond its file",
    },
    "render/site.py": {IMPORTS: "names the file a page comes from"},
    "render/graphfile.py": {IMPORTS: "is the product hook of a check, which is given each file's source"},
    "render/built.py": {
        IMPORTS: "keys a regimen's pages by the source they are made from",
        READS_TEXT: "hashes the regimen's and library.reg's text into the key of its pages, not locating",
    },
    "lsp/document.py": {IMPORTS: "keeps the source of each open document, for its findings' positions"},
    "lsp/features.py": {IMPORTS: "reads the library's other files into sources, for definitions and references"},
    "lsp/server.py": {IMPORTS: "keeps each document's source, for its findings' positions"},
    "lsp/positions.py": {
        IMPORTS: "converts a source's spans to the protocol's positions",
        READS_TEXT: "counts the UTF-16 (or UTF-8) code units of a line's text before a column: the protocol's "
        "positions, which only the text can say; and writes a suppression line into an edit",
        READS_LINE: "reads a line's text to count its code units and its indentation",
        READS_STARTS: "finds the offset of a protocol position's line",
    },
    "fhir/export.py": {IMPORTS: "is the product hook of a check, which is given each file's source"},
    "fhir/importer.py": {IMPORTS: "keeps a JSON file as a source, its findings at the offsets fhir/jsonpos.py read"},
    "fhir/reading.py": {IMPORTS: "the readers' base keeps the JSON file as a source, for findings at its offsets"},
    "fhir/core_import.py": {
        IMPORTS: "is given the JSON file as a source, for findings at its offsets; lays out and parses what it writes"
    },
}
_SOURCE_NAMES = ("source", "src")  # `source.text`, `ctx.source.text`, `unit.source.text`...


def _value_name(node: pyast.expr) -> str:
    """Return the last name of an expression: ``source`` of ``ctx.source``, ``x`` of ``x``."""
    if isinstance(node, pyast.Name):
        return node.id
    if isinstance(node, pyast.Attribute):
        return node.attr
    if isinstance(node, pyast.Call):
        return _value_name(node.func)
    return ""


def violations(tree: pyast.AST) -> list[tuple[int, str]]:
    """Return each place in ``tree`` that reads source text to locate something, with what it does."""
    found: list[tuple[int, str]] = []
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Attribute):
            owner = _value_name(node.value).lower()
            if node.attr == "text" and any(name in owner for name in _SOURCE_NAMES):
                found.append((node.lineno, READS_TEXT))
            elif node.attr == "line_text":
                found.append((node.lineno, READS_LINE))
            elif node.attr == "starts" and _value_name(node.value) == "index":
                found.append((node.lineno, READS_STARTS))
            elif node.attr in {"MULTILINE", "M"} and _value_name(node.value) == "re":
                found.append((node.lineno, LINE_PATTERN))
        elif (
            isinstance(node, pyast.ImportFrom)
            and node.module == "regdsl.source"
            and any(alias.name == "SourceFile" for alias in node.names)
        ):
            found.append((node.lineno, IMPORTS))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if SYNTAX not in p.parents)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_outside_the_syntax_layer_reads_source_text_to_locate_things(path: Path) -> None:
    name = path.relative_to(PACKAGE).as_posix()
    allowed = ALLOWED.get(name, {})
    found = [
        (line, what) for line, what in violations(pyast.parse(path.read_text(encoding="utf-8"))) if what not in allowed
    ]
    assert not found, f"{name}: " + "; ".join(f"line {line} {what}" for line, what in found)


def test_every_allowance_is_used_and_says_why() -> None:
    for name, allowed in ALLOWED.items():
        found = {what for _line, what in violations(pyast.parse((PACKAGE / name).read_text(encoding="utf-8")))}
        for what, why in allowed.items():
            assert what in found, f"{name} no longer {what}: drop the allowance"
            assert why


@pytest.mark.parametrize(
    "code",
    [
        "at = source.text.find(word, span.start)",
        "line = ctx.source.line_text(span.line)",
        "begin = source.index.starts[line - 1]",
        "match = PATTERN.search(unit.source.text)",
        "for m in re.finditer(PATTERN, self.source.text): pass",
        'HEADER = re.compile(r"^regimen (\\S+)", re.MULTILINE)',
        "from regdsl.source import SourceFile",
    ],
)
def test_the_scan_finds_each_way_of_reading_source_text(code: str) -> None:
    assert violations(pyast.parse(code))
