"""The prose word list and the near-miss search behind PRO001; CON001 on the seed regimen."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from regdsl.check.rules import prose
from regdsl.check.rules.prose import _edits, _words, is_word, known_terms, near_miss, word_list
from regdsl.check.run import run_check
from tests.conftest import ROOT, shared

WORDS = ROOT / "regdsl" / "check" / "data" / "words.txt"
SEED = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"


def _sections() -> list[list[str]]:
    """Return the word list's sections: the words after each ``# ==`` heading."""
    sections: list[list[str]] = []
    for line in WORDS.read_text(encoding="utf-8").splitlines():
        if line.startswith("# =="):
            sections.append([])
        elif not line.startswith("#"):
            sections[-1].append(line)
    return sections


def test_word_list_states_its_sources_and_licence() -> None:
    header = [line for line in WORDS.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    text = " ".join(header)
    assert "Compiled by the regdsl project; licence MIT" in text
    assert "New Zealand Formulary" in text
    assert "CTCAE" in text
    assert "pyspellchecker" in text


def test_word_list_sections_are_sorted_unique_and_lower_case() -> None:
    sections = _sections()
    assert len(sections) == 2
    for entries in sections:
        assert entries == sorted(set(entries))
        assert all(word and word == word.lower() and word.isalpha() for word in entries)


def test_word_list_holds_only_what_the_dictionary_lacks() -> None:
    listed = word_list()
    english, clinical = listed.english, listed.clinical
    redundant = sorted(word for word in clinical if word in english or word in known_terms())
    assert redundant == []
    assert len(clinical) < 500  # a supplement, not a second dictionary


def test_word_list_has_the_right_spellings_and_not_the_seed_typos() -> None:
    assert is_word("institutional")
    assert is_word("sinusoidal")
    assert not is_word("insitutional")
    assert not is_word("sinsuoidal")


def test_word_list_is_loaded_once() -> None:
    assert word_list() is word_list()


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("insitutional", "institutional"),
        ("sinsuoidal", "sinusoidal"),
        ("mornnig", "morning"),
        ("heaparin", "heparin"),
        ("hydartion", "hydration"),
        ("incompatable", "incompatible"),  # a vowel for a vowel beats a rarer consonant change
        ("neutropnia", "neutropenia"),  # the clinical supplement
        ("ondansteron", "ondansetron"),
    ],
)
def test_near_misses_suggest_the_word_meant(word: str, meant: str) -> None:
    assert near_miss(word) == meant


@pytest.mark.parametrize(
    "word",
    [
        # Real words are never misspellings of another real word (issue 11).
        "incompatible",
        "induced",
        "infused",
        "patent",
        "junction",
        "gastrectomy",
        "restaging",  # a prefix and a word
        "resectable",  # a word and an ending
        "unresectable",
        "cystoscopy",  # not a slip for `cystoscope`: the same stem, another vowel at the end
        # British spellings, as New Zealand writes them.
        "haematology",
        "oedema",
        "tumour",
        "organisation",
        "paediatric",
        "centre",
        "labelled",
        # Clinical words and names the tables know.
        "heparin",
        "cisplatin",  # the medicine table
        "intravenous",  # the vocabulary
        "infusions",
        "tolerated",
        "xylophonist",  # no word one edit away: unfamiliar, not a slip
    ],
)
def test_known_and_unfamiliar_words_are_not_flagged(word: str) -> None:
    assert near_miss(word) is None


@pytest.mark.parametrize(
    "word",
    [
        "uncompatible",  # one edit from `incompatible`: un- would become in-
        "unflamed",  # one edit from `inflamed`
        "antipartum",  # one edit from `antepartum` (before birth): anti- would be dropped
        "antinatal",  # one edit from `antenatal`
    ],
)
def test_no_suggestion_drops_or_changes_a_negating_prefix(word: str) -> None:
    suggestion = near_miss(word)
    assert suggestion is None or suggestion[:2] == word[:2]


@pytest.mark.parametrize(
    ("word", "meant"),
    [("icreases", "increases"), ("icompatible", "incompatible"), ("nonfatel", "nonfatal"), ("unsafly", "unsafely")],
)
def test_a_suggestion_may_complete_or_keep_a_prefix(word: str, meant: str) -> None:
    assert near_miss(word) == meant


def test_a_library_word_is_known_and_suggested() -> None:
    assert near_miss("whanganui") is None  # unfamiliar
    assert near_miss("whangnui", frozenset({"whanganui"})) == "whanganui"
    assert near_miss("whanganui", frozenset({"whanganui"})) is None


@pytest.mark.parametrize("word", ["abcdef", "insitutional", "a" * 40, "zqxwvutsrqponm" * 3])
def test_a_word_costs_lookups_linear_in_its_length(word: str) -> None:
    """An unknown word is looked up as its one-edit neighbours, never against the whole dictionary."""
    assert len(list(_edits(word))) <= 54 * len(word) + 25


def test_a_word_longer_than_every_word_is_never_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    """A word of 100,000 letters costs no search: no word is one edit from it (each neighbour would cost its length)."""
    longest = word_list().longest
    monkeypatch.setattr(prose, "_edits", lambda word: pytest.fail(f"searched a word of {len(word)} letters"))
    assert near_miss("q" * 100_000) is None
    assert near_miss("q" * (longest + 2)) is None


def _findings(code: str) -> list[tuple[int, str]]:
    result = run_check([SEED])
    return [(d.span.line, d.message) for d in result.diagnostics if d.code.code == code]


def test_seed_typos_are_flagged_where_written() -> None:
    found = _findings("PRO001")
    assert [line for line, _ in found] == [53, 54, 75]
    assert "`insitutional`" in found[0][1]
    assert "`Sinsuoidal`" in found[2][1]


def test_seed_differences_between_cycles_are_reported() -> None:
    found = dict(_findings("CON001"))
    assert "off-label in cycle 1, not here" in found[51]
    assert '"insitutional" here, "institutional" in cycle 1' in found[53]


def test_bundled_prose_is_otherwise_spelt_as_listed() -> None:
    result = run_check([ROOT / "regimens"])
    flagged = {(Path(d.span.path).name, d.span.line) for d in result.diagnostics if d.code.code == "PRO001"}
    assert flagged == {(SEED.name, 53), (SEED.name, 54), (SEED.name, 75)}


def test_emphasis_is_found_as_the_regular_expression_finds_it() -> None:
    import random
    import re

    from regdsl.render.prose import _emphasis

    pattern = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
    chance = random.Random(8)
    for _ in range(20_000):
        text = "".join(chance.choice("*a b\n_.*") for _ in range(chance.randint(0, 12)))
        expected = [
            (m.start(), m.end(), m.group(1) or m.group(2), "strong" if m.group(1) else "em")
            for m in pattern.finditer(text)
        ]
        assert list(_emphasis(text)) == expected, text


def test_bullets_nest_at_most_the_list_depth_and_keep_every_item() -> None:
    from regdsl.model.limits import LIST_DEPTH
    from regdsl.render.prose import Item, parse_prose

    text = "\n".join(f"{' ' * i}- item {i}" for i in range(300))
    (block,) = parse_prose(text)
    depth, items = 0, block.items
    seen: list[str] = []
    while items:
        depth += 1
        seen.extend(item.runs[0].text for item in items)
        items = tuple(child for item in items for child in item.children)
    assert depth == LIST_DEPTH.value
    assert seen == [f"item {i}" for i in range(300)]
    assert isinstance(block.items[0], Item)


_TAG = re.compile(r"<[^>]+>")
_CITATION = re.compile(r'<p class="regimen-reference">.*?</p>', re.DOTALL)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in {"relatedArtifact", "url", "system", "code", "reference"}:  # citations and identifiers
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str) and " " in value:
        yield value


def _flagged(text: str) -> list[tuple[str, str]]:
    return [
        (word, suggestion)
        for line in text.splitlines()
        for word, _ in _words(line)
        if (suggestion := near_miss(word.lower())) is not None
    ]


def test_real_regimen_prose_of_the_fhir_corpus_has_no_finding() -> None:
    """Real text (issue 11): the prose of the library's published FHIR regimens, citations left out, is spelt right."""
    found: list[tuple[str, str, str]] = []
    checked = 0
    for path in sorted(shared("corpus", "nz-fhir").glob("*.json")):
        for text in _strings(json.loads(path.read_text(encoding="utf-8"))):
            prose = html.unescape(_TAG.sub(" ", _CITATION.sub(" ", text)))
            checked += sum(1 for line in prose.splitlines() for _ in _words(line))
            found += [(path.name, word, suggestion) for word, suggestion in _flagged(prose)]
    assert checked > 4000  # words of six letters or more
    assert found == []


def test_the_seed_page_has_exactly_its_typos_flagged() -> None:
    text = shared("seed", "leu-all-inotuzumab-no-cr.txt").read_text(encoding="utf-8")
    assert sorted(_flagged(text)) == [("Sinsuoidal", "sinusoidal")] + [("insitutional", "institutional")] * 3


@pytest.mark.parametrize(
    ("line", "checked"),
    [
        ("See Attard and Tombal for the PORTEC trials.", ["trials"]),  # names and acronyms
        ("Sinsuoidal obstruction, as Attard showed.", ["Sinsuoidal", "obstruction", "showed"]),  # a first word
        ("- Mornnig doses; NSAIDs avoided", ["Mornnig", "avoided"]),
        ("gastro-oesophageal junction", ["oesophageal", "junction"]),  # a combining form before a hyphen
    ],
)
def test_names_acronyms_and_combining_forms_are_not_checked(line: str, checked: list[str]) -> None:
    assert [word for word, _ in _words(line)] == checked


def test_the_dictionary_is_read_only_when_a_word_is_looked_up(tmp_path: Path) -> None:
    regimen = tmp_path / "x.reg"
    regimen.write_text('regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n  paracetamol 1000 mg oral day 1\n')
    word_list.cache_clear()
    near_miss.cache_clear()
    run_check([regimen], jobs=1)
    assert word_list.cache_info().currsize == 0  # no prose: nothing read
    regimen.write_text(regimen.read_text() + "    | Take with breakfast.\n")
    run_check([regimen], jobs=1)
    assert word_list.cache_info().currsize == 1
