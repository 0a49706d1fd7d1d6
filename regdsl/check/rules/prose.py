"""Prose rules: words in free text that are one or two keystrokes from a known word.

Prose is kept verbatim (typos included), so a misspelling found here is reported, never
corrected. Words are checked against ``regdsl/check/data/words.txt`` (a word list the
project ships), the medicine table and the controlled vocabulary. Citations are not
checked: they are titles as published.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model import ast, ir
from regdsl.model.medicines import DEFAULT_MEDICINES
from regdsl.model.vocabulary import FACTORS, FREQUENCIES, RESPONSES, ROUTES, SETTINGS, UNITS
from regdsl.source import Span

__all__ = [
    "MAX_DISTANCE",
    "MIN_LETTERS",
    "WordList",
    "distance",
    "known_terms",
    "near_miss",
    "prose_near_miss",
    "suppression_in_prose",
    "word_list",
]

MIN_LETTERS = 6
MAX_DISTANCE = 2
_CHUNK = re.compile(r"\S+")
_WORD = re.compile(r"[^\W\d_]+")
_URLISH = re.compile(r"://|^www\.|@|\.(?:com|org|nz|gov|pdf|html?)\b", re.IGNORECASE)
# Inflections a known word may carry: (suffix, what replaces it).
_SUFFIXES = (
    ("ies", "y"),
    ("ied", "y"),
    ("ing", ""),
    ("ing", "e"),
    ("es", ""),
    ("ed", ""),
    ("ed", "e"),
    ("ly", ""),
    ("er", ""),
    ("ers", ""),
    ("s", ""),
)


@dataclass(frozen=True, slots=True)
class WordList:
    """The shipped word list: the words, and by length each word with its letter mask (a cheap prefilter)."""

    words: frozenset[str]
    by_length: dict[int, tuple[tuple[int, str], ...]]


def _mask(word: str) -> int:
    bits = 0
    for char in word:
        bits |= 1 << (ord(char) % 61)
    return bits


@functools.cache
def word_list() -> WordList:
    """Load ``data/words.txt`` once: one lower-case word per line, ``#`` lines are its header."""
    text = resources.files("regdsl.check").joinpath("data", "words.txt").read_text(encoding="utf-8")
    words = frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    grouped: dict[int, list[tuple[int, str]]] = {}
    for word in sorted(words):
        grouped.setdefault(len(word), []).append((_mask(word), word))
    return WordList(words=words, by_length={n: tuple(items) for n, items in grouped.items()})


def _words_of(texts: Iterable[str]) -> set[str]:
    return {w.lower() for text in texts for w in _WORD.findall(text)}


@functools.cache
def known_terms() -> frozenset[str]:
    """Every word of the default medicine table and of the controlled vocabulary, in lower case."""
    texts: list[str] = []
    for med in DEFAULT_MEDICINES:
        texts += [med.name, med.display, *med.aliases]
    for unit in UNITS:
        texts += [unit.term, unit.display, *unit.aliases]
    for route in ROUTES:
        texts += [route.term, *route.aliases]
    for freq in FREQUENCIES:
        texts += [freq.term, freq.phrase]
    for factor in FACTORS:
        texts += [factor.term, *factor.aliases, *(t for v in factor.values for t in v.texts)]
    texts += [*SETTINGS, *RESPONSES, *RESPONSES.values()]
    return frozenset(_words_of(texts))


def distance(a: str, b: str, limit: int = MAX_DISTANCE) -> int:
    """Return the Damerau-Levenshtein (optimal string alignment) distance, or ``limit + 1`` when over it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        lowest = i
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
            lowest = min(lowest, value)
        if lowest > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[len(b)], limit + 1)


def _inflected(word: str, known: frozenset[str]) -> bool:
    if word + "s" in known or word + "es" in known:
        return True  # the singular of a listed plural
    for suffix, stem_end in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + stem_end
            if stem in known or (
                suffix in {"ed", "ing", "er", "ers"} and len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in known
            ):
                return True
    return False


@functools.lru_cache(maxsize=4096)
def near_miss(word: str) -> str | None:
    """Return the listed word that ``word`` (lower case) looks like a misspelling of, if any.

    A word that is listed, a known term, or a listed word with a regular ending (``-s``,
    ``-ed``, ``-ing``...) is not a misspelling; nor is a word within no two edits of any
    listed word (an unfamiliar word, not a slip of the keyboard).
    """
    listed = word_list()
    if word in listed.words or word in known_terms() or _inflected(word, listed.words):
        return None
    mask = _mask(word)
    best: tuple[int, int, int, str] | None = None
    for length in range(len(word) - MAX_DISTANCE, len(word) + MAX_DISTANCE + 1):
        for other_mask, other in listed.by_length.get(length, ()):
            # Each letter one word has and the other lacks costs at least one edit.
            if (mask & ~other_mask).bit_count() > MAX_DISTANCE or (other_mask & ~mask).bit_count() > MAX_DISTANCE:
                continue
            found = distance(word, other)
            if found <= MAX_DISTANCE:
                key = (found, other[0] != word[0], abs(len(other) - len(word)), other)
                if best is None or key < best:
                    best = key
    return best[3] if best else None


# A line of prose as written: its text, and where each of its characters is.
_Line = tuple[str, Callable[[int, int], Span]]


def _prose_lines(prose: ast.Prose) -> Iterator[_Line]:
    for number, line in enumerate(prose.lines):
        yield line, functools.partial(prose.at, number)


def _text_lines(text: ast.Text) -> Iterator[_Line]:
    r"""Yield the lines of quoted text (a `\n` escape breaks one), each located through the text's escapes."""
    begin = 0
    for line in text.value.split("\n"):
        yield line, functools.partial(_shifted, text.at, begin)
        begin += len(line) + 1


def _shifted(at: Callable[[int, int], Span], by: int, start: int, end: int) -> Span:
    return at(by + start, by + end)


def _admin_prose(admin: ir.Administration) -> Iterator[_Line]:
    if admin.instructions_prose:
        yield from _prose_lines(admin.instructions_prose)
    for relation in admin.relations:
        if relation.qualifier_text:
            yield from _text_lines(relation.qualifier_text)


def _support_prose(support: ir.Support) -> Iterator[_Line]:
    for factor in support.factors:
        yield factor.value_word.text, factor.value_word.at
    for note in support.notes:
        yield from _prose_lines(note.prose)


def _prose(regimen: ir.Regimen) -> Iterator[_Line]:
    """Every line of prose once (``same as`` repeats lines in later cycles), references excluded."""
    seen: set[tuple[str, int]] = set()

    def once(span: Span) -> bool:
        key = (span.path, span.start)
        if key in seen:
            return False
        seen.add(key)
        return True

    if regimen.meta.overview_prose:
        yield from _prose_lines(regimen.meta.overview_prose)
    for part in regimen.parts:
        if part.meta.overview_prose and part.meta is not regimen.meta and once(part.meta.span):
            yield from _prose_lines(part.meta.overview_prose)
        if part.start is not None and part.start.prose:
            yield from _prose_lines(part.start.prose)
        for group in part.cycles:
            for admin in group.administrations:
                if once(admin.span):
                    yield from _admin_prose(admin)
            for note in group.notes:
                if once(note.span):
                    yield from _prose_lines(note.prose)
        yield from _support_prose(part.support)
    yield from _support_prose(regimen.support)


def _words(line: str) -> Iterator[tuple[str, int]]:
    """Yield the words of a line worth checking, with their offsets: letters only, not in links or codes."""
    for chunk in _CHUNK.finditer(line):
        if _URLISH.search(chunk.group()):
            continue
        text = chunk.group()
        for match in _WORD.finditer(text):
            word, start, end = match.group(), match.start(), match.end()
            if len(word) < MIN_LETTERS or not word.isalpha():
                continue
            if (start > 0 and text[start - 1].isdigit()) or (end < len(text) and text[end].isdigit()):
                continue
            yield word, chunk.start() + start


def _regimen_terms(regimen: ir.Regimen) -> frozenset[str]:
    texts: list[str] = [alias for pair in regimen.aliases for alias in pair]
    for group in regimen.cycles():
        for admin in group.administrations:
            texts += [admin.written, admin.medicine.name, admin.medicine.display, *admin.medicine.aliases]
        for note in group.notes:
            if note.medicine is not None:
                texts += [note.medicine.name, *note.medicine.aliases]
    return frozenset(_words_of(texts))


@rule("PRO001", "prose-near-miss", Severity.WARNING, "a word in prose looks like a misspelling")
def prose_near_miss(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find words in prose that look like misspellings of a known word.

    What it does: reads the regimen's prose (instructions, notes, overviews, start rules,
    timing qualifiers and supportive-care factor values; not citations, which are titles as
    published) and flags each word of six letters or more that is not a known word but is
    within two edits (a letter added, dropped, changed, or two letters swapped) of one.
    Known words are the project's word list (`regdsl/check/data/words.txt`), the medicine
    table and the controlled vocabulary.

    Why it matters: a misspelt word in an instruction is copied into every chart, label
    and patient leaflet made from the regimen, and a misspelt medicine name can be read as
    another medicine. Prose is kept exactly as written, so the compiler reports the slip
    rather than correcting it.

    Example:
        dexamethasone 12 mg flat IV days 1, 8, 15 over 15 min off-label
          | 30 minutes prior to inotuzumab ozogamicin, or as per insitutional practice.

    Use instead: the correct spelling (`institutional`), or, when the published source
    spells it so and it must be kept verbatim, a suppression that says so:
    `# regdsl: ignore[prose-near-miss] -- verbatim from the source`.
    """
    regimen = ctx.regimen
    own = _regimen_terms(regimen)
    for line, located in _prose(regimen):
        for word, at in _words(line):
            lower = word.lower()
            if lower in own:
                continue
            suggestion = near_miss(lower)
            if suggestion is None:
                continue
            span = located(at, at + len(word))
            if span.path != regimen.path:
                continue  # prose from library.reg is that file's, not this regimen's
            yield prose_near_miss.finding(
                span,
                f"`{word}` looks like a misspelling of `{suggestion}`",
                label=f"did you mean `{suggestion}`?",
                help="correct the spelling; if the source spells it so, keep it and suppress this with that reason",
            )


_SUPPRESSION = re.compile(r"regdsl:\s*ignore\[")


@rule("IGN005", "suppression-in-prose", Severity.WARNING, "a suppression written inside prose, where it is text")
def suppression_in_prose(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find suppression comments written inside prose, where they silence nothing and are published.

    What it does: flags `regdsl: ignore[` in a line of prose (a `|` line of instructions, a
    note, an overview or a start rule) or in a quoted timing qualifier. There a `#` is text,
    not a comment.

    Why it matters: the author meant to silence a finding, but the suppression is prose: it
    silences nothing, and it is printed on the regimen's page, in every chart made from it.

    Example:
        note ino
          | As per insitutional practice. # regdsl: ignore[prose-near-miss] -- verbatim

    Use instead: the suppression on a line of its own above the `|` line; it covers the
    next line that is not blank or a comment:
    `# regdsl: ignore[prose-near-miss] -- verbatim from the source` then the `|` line.
    """
    regimen = ctx.regimen
    for line, located in _prose(regimen):
        for match in _SUPPRESSION.finditer(line):
            start = line.rfind("#", 0, match.start())
            start = start if start >= 0 and not line[start + 1 : match.start()].strip() else match.start()
            span = located(start, len(line))
            if span.path != regimen.path:
                continue  # prose from library.reg is that file's, not this regimen's
            yield suppression_in_prose.finding(
                span,
                "this suppression is prose: it silences nothing and will be published on the page",
                label="part of the text",
                help="put the suppression on its own line above the `|` line: there it covers that line",
            )
