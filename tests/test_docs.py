"""Every example of the documentation is run against the real tool and says what it does.

The examples are read by ``tests/docs.py``, which says what each kind of block promises: a
``reg`` box checks clean, a ``reg-error`` box gives exactly the codes it names, a ``console``
box's commands print exactly what it shows (a golden), run in order in the document's folder
with the files the document shows; every ``regdsl`` command shown anywhere is one the tool
accepts. ``docs/cli.md`` names every command, option, output format and exit code of the tool.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from regdsl.check.config import KEYS
from regdsl.cli.main import _build_parser
from regdsl.diagnostics.formats import FORMATS
from tests.conftest import ROOT
from tests.docs import (
    DOCS,
    Block,
    blocks,
    example_library,
    example_problems,
    examples,
    refused,
    regdsl_invocations,
    session_problems,
    shown,
    shows_output,
)

CLI = ROOT / "docs" / "cli.md"
TUTORIAL = ROOT / "docs" / "tutorial.md"
README = ROOT / "README.md"
ON_THEIR_OWN = [e for doc in DOCS for e in examples(doc) if e.file is None]
WALKED = [doc for doc in DOCS if any(b.kind == "console" or b.file is not None for b in blocks(doc))]
SHOWN_COMMANDS = [(b, line, args) for doc in DOCS for b in blocks(doc) for line, args in regdsl_invocations(b)]
# Documents whose output examples are not yet goldens, with why; each must still hold one, so
# that the exception goes once the document is put right.
NOT_YET_GOLDEN = {
    ROOT / "docs" / "language.md": "16.1 and 16.3 show output in text blocks; others are editing it for issue 10",
}
_LINK = re.compile(r"\]\((?!https?://|mailto:)(?P<path>[^)#\s]*)(?:#(?P<anchor>[^)\s]*))?\)")


@pytest.mark.parametrize("example", ON_THEIR_OWN, ids=[e.id for e in ON_THEIR_OWN])
def test_example_checks_as_the_document_says(example: Block, tmp_path: Path) -> None:
    assert example_problems(example, example_library(tmp_path / "library", example)) == []


def test_the_documents_a_reader_follows_are_walked() -> None:
    assert {TUTORIAL, CLI, README} <= set(WALKED)


@pytest.mark.parametrize("doc", WALKED, ids=[shown(d) for d in WALKED])
def test_a_reader_who_follows_the_document_sees_what_it_shows(doc: Path, tmp_path: Path, update_goldens: bool) -> None:
    problems = session_problems(doc, tmp_path / "reader", update=update_goldens)
    assert problems == [], "\n\n".join(problems)


@pytest.mark.parametrize(
    ("block", "line", "arguments"), SHOWN_COMMANDS, ids=[f"{b.id}:{line}" for b, line, _ in SHOWN_COMMANDS]
)
def test_every_regdsl_command_shown_is_one_regdsl_accepts(block: Block, line: str, arguments: list[str]) -> None:
    assert refused(arguments) is None, f"{block.where}: `{line}`: {refused(arguments)}"


def test_output_shown_in_the_documents_is_a_golden() -> None:
    unchecked = {doc: [b.where for b in blocks(doc) if shows_output(b)] for doc in DOCS}
    assert [w for doc, found in unchecked.items() if doc not in NOT_YET_GOLDEN for w in found] == [], (
        "show what regdsl prints in a console block, after its command, so that it is checked"
    )
    assert [shown(doc) for doc in NOT_YET_GOLDEN if not unchecked.get(doc)] == [], "remove it from NOT_YET_GOLDEN"


def _anchors(doc: Path) -> set[str]:
    """Return the anchors GitHub makes for the headings of ``doc`` (outside fenced blocks)."""
    found: set[str] = set()
    fenced = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        fenced ^= line.startswith("```")
        if not fenced and re.match(r"#{1,6} ", line):
            title = line.lstrip("#").strip().replace("`", "").lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_every_relative_link_of_the_documents_leads_to_a_file_and_heading() -> None:
    broken = []
    for doc in DOCS:
        for link in _LINK.finditer(doc.read_text(encoding="utf-8")):
            target = doc.parent / link.group("path") if link.group("path") else doc
            anchor = link.group("anchor")
            if not target.exists() or (anchor and target.suffix == ".md" and anchor not in _anchors(target)):
                broken.append(f"{shown(doc)}: {link.group(0)}")
    assert broken == []


def test_the_readme_leads_to_the_tutorial_and_the_command_line_reference() -> None:
    text = README.read_text(encoding="utf-8")
    assert "](docs/tutorial.md)" in text
    assert "](docs/cli.md)" in text


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (subparsers,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [option for action in parser._actions for option in action.option_strings]


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    """Return the values that the options and arguments of ``parser`` choose from (``--to html``)."""
    chosen = [a for a in parser._actions if a.choices and not isinstance(a, argparse._SubParsersAction)]
    return [str(choice) for action in chosen for choice in action.choices or ()]


def _words_in_code(text: str) -> set[str]:
    """Return the words of the inline code spans of ``text``: `-o OUT` gives -o and OUT."""
    prose = re.sub(r"^```.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)  # fenced blocks are not inline code
    return {word for span in re.findall(r"`([^`]+)`", prose) for word in re.split(r"[\s,]+", span) if word}


def test_the_command_line_reference_names_every_command_option_and_format() -> None:
    text = CLI.read_text(encoding="utf-8")
    parser = _build_parser()
    missing = [f"option {o}" for o in _options(parser) if o not in _words_in_code(text)]
    for name, command in _commands(parser).items():
        heading = f"## `regdsl {name}`"
        if heading not in text.splitlines():
            missing.append(f"a section {heading}")
        section = text.split(f"\n{heading}\n", 1)[-1].split("\n## ", 1)[0]
        missing += [f"{name} {o}" for o in _options(command) if o not in _words_in_code(section)]
        missing += [f"{name} {c}" for c in _choices(command) if c not in _words_in_code(text)]
    missing += [f"format {f}" for f in FORMATS if f"`{f}`" not in text]
    missing += [f"configuration key {k}" for k in KEYS if f"`{k}`" not in text]
    missing += [f"exit code {c}" for c in ("0", "1", "2", "3") if f"| `{c}` |" not in text]
    missing += [f"variable {v}" for v in ("REGDSL_CACHE_DIR", "XDG_CACHE_HOME", "CI") if f"`{v}`" not in text]
    assert missing == [], "docs/cli.md does not document: " + ", ".join(missing)


def test_a_document_that_shows_other_output_than_the_tool_prints_fails(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- file: a.reg -->\n```reg-error\n# expect: SRC002\n```\n\n"
        "```console\n$ regdsl --version\nregdsl 0.0.0\n$ echo hello\n```\n",
        encoding="utf-8",
    )
    problems = session_problems(doc, tmp_path / "reader")
    assert len(problems) == 3, problems
    assert "expected ['SRC002']" in problems[0]  # a file of only a comment is not empty: STR003
    assert "`regdsl --version` printed" in problems[1]
    assert "--- printed\nhello\n" in problems[2]


def test_updating_the_goldens_writes_what_the_commands_print(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("Text.\n\n```console\n$ echo one\nzero\n$ printf 'two\\nthree\\n'\n```\n\nMore.\n", encoding="utf-8")
    assert session_problems(doc, tmp_path / "first", update=True) == []
    assert doc.read_text(encoding="utf-8") == (
        "Text.\n\n```console\n$ echo one\none\n$ printf 'two\\nthree\\n'\ntwo\nthree\n```\n\nMore.\n"
    )
    assert session_problems(doc, tmp_path / "again") == []
