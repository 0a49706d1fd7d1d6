"""The prose word list and the near-miss search behind PRO001; CON001 on the seed regimen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regdsl.check.rules.prose import distance, near_miss, word_list
from regdsl.check.run import run_check
from tests.conftest import ROOT

WORDS = ROOT / "regdsl" / "check" / "data" / "words.txt"
SEED = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"


def _entries() -> list[str]:
    return [line for line in WORDS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]


def test_word_list_states_its_source_and_licence() -> None:
    header = [line for line in WORDS.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    text = " ".join(header)
    assert "Source: compiled by the regdsl project" in text
    assert "Licence: MIT" in text


def test_word_list_is_sorted_unique_and_lower_case() -> None:
    entries = _entries()
    assert entries == sorted(set(entries))
    assert all(word and word == word.lower() and word.isalpha() for word in entries)


def test_word_list_has_the_right_spellings_and_not_the_seed_typos() -> None:
    words = word_list().words
    assert {"institutional", "sinusoidal"} <= words
    assert not {"insitutional", "sinsuoidal"} & words


def test_word_list_is_loaded_once() -> None:
    assert word_list() is word_list()


@pytest.mark.parametrize(
    ("word", "meant"),
    [("insitutional", "institutional"), ("sinsuoidal", "sinusoidal"), ("mornnig", "morning"), ("heaparin", "heparin")],
)
def test_near_misses_suggest_the_word_meant(word: str, meant: str) -> None:
    assert near_miss(word) == meant


@pytest.mark.parametrize(
    "word",
    [
        "institutional",
        "heparin",  # a medicine in the list, not in the medicine table
        "cisplatin",  # the medicine table
        "intravenous",  # the vocabulary
        "wellington",  # a place
        "medsafe",  # an agency
        "infusions",  # an inflection of a listed word
        "tolerated",
        "xylophonist",  # far from every listed word: unfamiliar, not a slip
    ],
)
def test_known_and_unfamiliar_words_are_not_flagged(word: str) -> None:
    assert near_miss(word) is None


def test_distance_counts_a_swap_as_one_edit() -> None:
    assert distance("insitutional", "institutional") == 1
    assert distance("sinsuoidal", "sinusoidal") == 1
    assert distance("abcd", "badc") == 2
    assert distance("morning", "evening") == 3  # over the limit: reported as limit + 1


def _reference(a: str, b: str) -> int:
    """Return the optimal string alignment distance from the whole table, with no cut-off."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        table[i][0] = i
    for j in range(len(b) + 1):
        table[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
    return table[len(a)][len(b)]


@given(st.text("abcde", max_size=8), st.text("abcde", max_size=8))
def test_distance_agrees_with_the_full_table_up_to_its_limit(a: str, b: str) -> None:
    assert distance(a, b) == min(_reference(a, b), 3)


def test_unknown_words_are_searched_quickly() -> None:
    words = [f"zq{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}xwvut" for i in range(400)]
    near_miss.cache_clear()
    started = time.perf_counter()
    for word in words:
        near_miss(word)
    assert time.perf_counter() - started < 2.0


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
