"""The language reference checks its own examples and names every keyword of the grammar.

``docs/language.md`` shows three kinds of fenced examples:

- ```` ```reg ````: a complete regimen file; it checks with no error and no warning.
- ```` ```reg-snippet ````: a fragment. The HTML comment ``<!-- wrap: KIND -->`` just before
  the fence says where it goes: ``cycle`` (indented under ``cycle 1: 28 days`` of a minimal
  regimen), ``regimen`` (indented under the ``regimen`` heading; ``name`` and ``status draft``
  are added when the fragment does not give them), ``file`` (at the top level of a minimal
  regimen) or ``library`` (added to ``library.reg``, beside a minimal regimen). Once wrapped, it
  checks like a ``reg`` example.
- ```` ```reg-error ````: a complete file whose first line is ``# expect: CODE[, CODE]``: the
  findings are exactly those codes, at least one of them an error or a warning.

Informational notes must be announced too: a ``# notes: CODE[, CODE]`` line in a ``reg`` or
``reg-snippet`` example lists exactly the notes it produces (none when the line is absent).

Each example is written into a fresh library folder holding a copy of ``regimens/library.reg``
(so the footnotes resolve) and, in a sub-folder, copies of the bundled regimens (so that
``continue with`` and ``counted with`` can name them). Only the example file is checked, twice:
by ``check_paths`` (read, parse, lower) and by ``run_check`` (all of that plus the rules, as
``regdsl check`` does).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from regdsl.check.run import run_check
from regdsl.compile.library import LIBRARY_FILE, check_paths
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model.ir import Status
from regdsl.model.vocabulary import ERROR_PRONE_UNITS, FREQUENCIES, RESPONSES, ROUTES, UNITS
from tests.conftest import ROOT

DOC = ROOT / "docs" / "language.md"
GRAMMAR = ROOT / "grammar" / "regdsl.lark"
REGIMENS = ROOT / "regimens"

HEADER = 'regimen doc-example\n  name "DOC EXAMPLE - a fragment of the language reference"\n  status draft\n'
WRAPS = ("cycle", "regimen", "file", "library")

_FENCE = re.compile(r"^```([A-Za-z0-9-]*)\s*$")
_WRAP = re.compile(r"^<!--\s*wrap:\s*(?P<kind>[a-z-]+)\s*-->\s*$")
_CODE = re.compile(r"\b[A-Z]{3}[0-9]{3}\b")
_EXPECT = re.compile(r"^\s*#\s*expect:(?P<codes>.*)$")
_NOTES = re.compile(r"^\s*#\s*notes:(?P<codes>.*)$")
# A terminal defined by string literals only: `NAME: "word"` or `NAME: "a" | "b"`.
_LITERAL_TERMINAL = re.compile(
    r'^(?P<name>[A-Z][A-Z0-9_]*)(?:\.[0-9]+)?\s*:\s*(?P<body>"[^"]*"(?:\s*\|\s*"[^"]*")*)\s*$'
)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True, slots=True)
class Example:
    """One fenced example of the reference: where it is, what kind, and its text."""

    heading: str
    index: int
    line: int
    kind: str
    wrap: str | None
    body: str

    @property
    def id(self) -> str:
        """The test id: the heading it is under, and its number under that heading."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{slug}-{self.index}"


def _examples() -> list[Example]:
    """Return every ``reg``, ``reg-snippet`` and ``reg-error`` block of the reference, in order."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    counts: dict[str, int] = {}
    heading = "top"
    wrap: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence is not None:
            end = i + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            kind = fence.group(1)
            if kind in {"reg", "reg-snippet", "reg-error"}:
                counts[heading] = counts.get(heading, 0) + 1
                body = "\n".join(lines[i + 1 : end]) + "\n"
                found.append(Example(heading, counts[heading], i + 1, kind, wrap, body))
            wrap = None
            i = end + 1
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        marker = _WRAP.match(line)
        if marker is not None:
            wrap = marker.group("kind")
        elif line.strip():
            wrap = None  # the wrap comment must come right before its block
        i += 1
    return found


EXAMPLES = _examples()


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def _sources(example: Example) -> tuple[str, str]:
    """Return the example file's text and the text to append to ``library.reg``."""
    if example.kind != "reg-snippet":
        assert example.wrap is None, f"line {example.line}: only a reg-snippet takes a wrap comment"
        return example.body, ""
    match example.wrap:
        case "cycle":
            return HEADER + "\ncycle 1: 28 days\n" + _indent(example.body), ""
        case "regimen":
            given = {line.split()[0] for line in example.body.splitlines() if line.strip()}
            extra = "" if "name" in given else '  name "DOC EXAMPLE - a fragment of the language reference"\n'
            extra += "" if "status" in given else "  status draft\n"
            return "regimen doc-example\n" + extra + _indent(example.body), ""
        case "file":
            return HEADER + "\n" + example.body, ""
        case "library":
            return HEADER, "\n" + example.body
        case _:
            pytest.fail(f"line {example.line}: a reg-snippet needs <!-- wrap: KIND --> before it, KIND one of {WRAPS}")


def _codes(pattern: re.Pattern[str], text: str) -> set[str] | None:
    for line in text.splitlines():
        found = pattern.match(line)
        if found is not None:
            return set(_CODE.findall(found.group("codes")))
    return None


def _check(folder: Path, example: Example) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Write the example into a fresh library and check it: lowering only, then with the rules."""
    source, library_extra = _sources(example)
    bundled = folder / "bundled"
    bundled.mkdir(parents=True)
    for path in sorted(REGIMENS.glob("*.reg")):
        if path.name != LIBRARY_FILE:
            shutil.copyfile(path, bundled / path.name)
    library = (REGIMENS / LIBRARY_FILE).read_text(encoding="utf-8") + library_extra
    (folder / LIBRARY_FILE).write_text(library, encoding="utf-8")
    target = folder / "example.reg"
    target.write_text(source, encoding="utf-8")
    return check_paths([target]).diagnostics, run_check([target]).diagnostics


def _show(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(f"  {d.span.line}:{d.span.column} {d.code.code} {d.message}" for d in diagnostics) or "  none"


def test_the_reference_has_examples_of_each_kind() -> None:
    kinds = {e.kind for e in EXAMPLES}
    assert kinds == {"reg", "reg-snippet", "reg-error"}
    assert {e.wrap for e in EXAMPLES if e.kind == "reg-snippet"} == set(WRAPS)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_checks_as_the_reference_says(example: Example, tmp_path: Path) -> None:
    lowered, checked = _check(tmp_path / "library", example)
    where = f"docs/language.md line {example.line} ({example.kind})"
    codes = {d.code.code for d in checked}
    assert {d.code.code for d in lowered} <= codes, f"{where}: the rules lost a lowering finding"
    if example.kind == "reg-error":
        expected = _codes(_EXPECT, example.body)
        assert example.body.lstrip().startswith("# expect:"), f"{where}: start the block with `# expect: CODE`"
        assert expected, f"{where}: `# expect:` names no code"
        assert codes == expected, f"{where}: expected {sorted(expected)}, found:\n{_show(checked)}"
        assert any(d.level is not Severity.INFO for d in checked), f"{where}: only notes, no error or warning"
        return
    serious = [d for d in checked if d.level is not Severity.INFO]
    assert serious == [], f"{where}: the example should check clean, found:\n{_show(serious)}"
    notes = {d.code.code for d in checked if d.level is Severity.INFO}
    assert notes == (_codes(_NOTES, example.body) or set()), f"{where}: notes found:\n{_show(checked)}"


def _code_text() -> str:
    """Return the parts of the reference set as code: fenced blocks and inline code spans."""
    text = DOC.read_text(encoding="utf-8")
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return "\n".join([*fenced, *_INLINE_CODE.findall(text)])


def _literal_terminals() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in GRAMMAR.read_text(encoding="utf-8").splitlines():
        match = _LITERAL_TERMINAL.match(line.strip())
        if match is not None:
            found[match.group("name")] = re.findall(r'"([^"]*)"', match.group("body"))
    return found


def _mentions(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def test_the_grammar_has_keyword_terminals() -> None:
    terminals = _literal_terminals()
    assert {"REGIMEN", "CYCLE", "PLUSMINUS", "STAR", "MRD"} <= set(terminals)


def test_reference_mentions_every_keyword_of_the_grammar() -> None:
    code = _code_text()
    inline = set(_INLINE_CODE.findall(DOC.read_text(encoding="utf-8")))
    missing: list[str] = []
    for name, literals in sorted(_literal_terminals().items()):
        for literal in literals:
            word = literal[0].isalpha()
            if (word and not _mentions(literal, code)) or (not word and literal not in inline):
                missing.append(f"{name} {literal!r}")
    assert missing == [], "docs/language.md does not show these keywords as code: " + ", ".join(missing)


def test_reference_lists_the_vocabulary() -> None:
    code = _code_text()
    words = [
        *(alias for unit in UNITS for alias in unit.aliases),
        *(alias for route in ROUTES for alias in route.aliases),
        *(f.phrase for f in FREQUENCIES),
        *ERROR_PRONE_UNITS,
        *(s.value for s in Status),
        *RESPONSES,
    ]
    missing = [w for w in words if not _mentions(w, code)]
    assert missing == [], "docs/language.md does not show these terms as code: " + ", ".join(missing)
