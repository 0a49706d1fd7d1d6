"""Clinician words for what the parser expected, and "did you mean" suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

__all__ = ["KEYWORD_TERMINALS", "close_match", "describe_expected"]

# Keyword terminals, by name, and the words they stand for (filled in by parser.py
# from the grammar itself, so the table cannot drift from it).
KEYWORD_TERMINALS: dict[str, str] = {}

_WORDS: dict[str, str] = {
    "NAME": "a name",
    "NUMBER": "a number",
    "DATE": "a date such as `2025-03-25`",
    "UNIT": "a unit such as `mg`, `mg/m2` or `microgram`",
    "STRING": 'quoted text such as "..."',
    "PROSE": "a prose line starting with `|`",
    "LABEL": "a label",
    "FACTOR_LINE": "a factor and its value, such as `Emetogenicity: Low`",
    "FREQUENCY": "a frequency such as `twice daily`",
    "CATEGORY": "a response or group value such as `CR` or `good`",
    "PLUSMINUS": "`±`",
    "COLON": "`:`",
    "COMMA": "`,`",
    "EQUAL": "`=`",
    "GT": "`>`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "STAR": "`*`",
    "_NL": "the end of the line",
    "_INDENT": "an indented block below this line",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
}

_TIME_UNITS = {"MINUTES", "MINUTE", "MIN", "HOURS", "HOUR", "H", "WEEKS", "WEEK"}

# Situations recognised by a terminal that only they accept, with the phrase to use.
_SITUATIONS: tuple[tuple[Collection[str], str], ...] = (
    (
        {"PRN"},
        "another clause (`days`, `over`, `before`, `after`, a frequency, `prn`, `off-label`) or the end of the line",
    ),
    ({"UNIT"}, "a unit such as `mg`, `mg/m2` or `microgram` after the dose"),
    ({"FLAT"}, "a route such as `oral` or `IV` after the dose"),
    ({"DOSES"}, "a dose such as `10 mg` after the medicine"),
    (_TIME_UNITS, "a time unit such as `min`, `hours` or `days`"),
    ({"PROSE"}, "a prose line starting with `|`"),
)


def _word(terminal: str) -> str:
    if terminal in KEYWORD_TERMINALS:
        return f"`{KEYWORD_TERMINALS[terminal]}`"
    return _WORDS.get(terminal, terminal.lower())


# Situations recognised by exactly the set of terminals the parser accepts there.
_EXACT: dict[frozenset[str], str] = {
    frozenset({"COLON", "AND"}): "`:` and the cycle length, as in `cycle 1: 21 days`",
    frozenset({"DAY", "DAYS"}): "`days` after the number, as in `21 days`",
}


def describe_expected(accepts: Iterable[str]) -> str:
    """Say in words what the parser would have accepted at an error."""
    names = set(accepts)
    if frozenset(names) in _EXACT:
        return _EXACT[frozenset(names)]
    for marker, phrase in _SITUATIONS:
        if names & set(marker):
            return phrase
    words = sorted({_word(n) for n in names if n not in {"_DEDENT", "$END"} or len(names) == 1})
    if not words:
        return "something else"
    if len(words) > 6:
        return "one of " + ", ".join(words[:6]) + " or another keyword"
    if len(words) == 1:
        return words[0]
    return "one of " + ", ".join(words[:-1]) + " or " + words[-1]


def close_match(word: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``word`` (difflib ratio at least 0.75), if any."""
    pool = sorted(set(candidates))
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[found[0]] if found else None
