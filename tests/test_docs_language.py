"""The language reference checks its own examples and names every keyword of the grammar.

Its examples (``reg``, ``reg-snippet`` and ``reg-error`` blocks) are read and checked, as those
of every document are, by ``tests/docs.py`` (``tests/test_docs.py`` runs them); here: that it
has examples of every kind, and that it shows every keyword and term of the vocabulary as code.
"""

from __future__ import annotations

import re

from regdsl.model.ir import Status
from regdsl.model.vocabulary import ERROR_PRONE_UNITS, FREQUENCIES, RESPONSES, ROUTES, UNITS
from tests.conftest import ROOT
from tests.docs import WRAPS, examples

DOC = ROOT / "docs" / "language.md"
GRAMMAR = ROOT / "grammar" / "regdsl.lark"

# A terminal defined by string literals only: `NAME: "word"` or `NAME: "a" | "b"`.
_LITERAL_TERMINAL = re.compile(
    r'^(?P<name>[A-Z][A-Z0-9_]*)(?:\.[0-9]+)?\s*:\s*(?P<body>"[^"]*"(?:\s*\|\s*"[^"]*")*)\s*$'
)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def test_the_reference_has_examples_of_each_kind() -> None:
    found = examples(DOC)
    assert {e.kind for e in found} == {"reg", "reg-snippet", "reg-error"}
    assert {e.wrap for e in found if e.kind == "reg-snippet"} == set(WRAPS)


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
