"""Prose rules: words in free text that are one keystroke from a real word and are not words.

Prose is kept verbatim (typos included), so a misspelling found here is reported, never
corrected. The words known are an English dictionary (the word-frequency list of the
``pyspellchecker`` package, read once, the first time the rule looks a word up, and kept
ranked as plain text in the user's cache folder, so that later runs read it in a few
milliseconds), British
spellings of its words, ``regdsl/check/data/words.txt`` (clinical words it lacks, each
section citing its source), the medicine table, the controlled vocabulary, and a library's
own words (its ``library.reg`` medicines and the ``words`` of its configuration).
Citations are not checked: they are titles as published.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import importlib.util
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.model import ast, ir
from regdsl.model.medicines import DEFAULT_MEDICINES, Medicine
from regdsl.model.vocabulary import FACTORS, FREQUENCIES, RESPONSES, ROUTES, SETTINGS, UNITS
from regdsl.source import Span
from regdsl.syntax import cachefiles

__all__ = [
    "MIN_LETTERS",
    "WordList",
    "is_word",
    "known_terms",
    "medicine_words",
    "near_miss",
    "prose_near_miss",
    "suppression_in_prose",
    "word_list",
    "words_of",
]

MIN_LETTERS = 6
_SHORTEST = 4  # the shortest word a check looks up: a stem (`-able`), a word after a prefix
_CHUNK = re.compile(r"\S+")
_WORD = re.compile(r"[^\W\d_]+")
_URLISH = re.compile(r"://|^www\.|@|\.(?:com|org|nz|gov|pdf|html?)\b", re.IGNORECASE)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# What a capitalised word that starts a sentence (not a name) comes after: an end of sentence, a bullet.
_SENTENCE_START = (".", "!", "?", ":", ";", "(", "-", "*", "•", '"')
_VOWELS = frozenset("aeiouy")
# Endings a word may carry: (suffix, what replaces it).
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
    ("able", ""),
    ("able", "e"),
)
# British spellings and their American forms (the English dictionary is mostly American):
# haem/oedema/oesophagus, tumour, organise/organisation, analyse, centre/litre, labelled, programme.
_BRITISH = (
    (re.compile(r"ae"), "e"),
    (re.compile(r"oe"), "e"),
    (re.compile(r"our"), "or"),
    (re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"tre(s?)$"), r"ter\1"),
    (re.compile(r"ll(ed|ing|ation)$"), r"l\1"),
    (re.compile(r"ogue(s?)$"), r"og\1"),
    (re.compile(r"mme(s?)$"), r"m\1"),
)
# Prefixes that negate or reverse what follows (in-/im-/il-/ir- are one prefix): a
# suggestion never drops or swaps one a word has (`incompatable` is never "corrected" to
# `compatible`); it may complete one (`icompatible`, did you mean `incompatible`?).
# Prefixes that make words of words (and of clinical words): `re-staging`, `post-hydration`.
_PREFIXES = (
    *("re", "pre", "post", "co", "non", "un", "sub", "over", "under", "anti", "de", "multi", "inter", "intra"),
    *("peri", "neo", "hyper", "hypo", "semi", "pseudo", "micro", "auto", "chemo", "immuno", "radio", "cardio"),
)
_NEGATIONS = (("in", "im", "il", "ir"), ("un",), ("non",), ("anti",))


@dataclass(frozen=True, slots=True)
class WordList:
    """The words PRO001 knows: English words (``ranked`` by how often they are used), and the clinical supplement."""

    english: frozenset[str]
    ranked: tuple[str, ...]  # the English words, the most used first (ties alphabetical)
    clinical: frozenset[str]
    longest: int  # letters in the longest word of either: a word two more is one edit from none


# The English words as the package ships them (a gzipped JSON of word counts, about 100 ms to
# read) are kept, ranked, as plain text in the user's cache folder (``cachefiles``), keyed by
# the hash of the package's file: read again in a few milliseconds, and built again whenever
# the package changes or the cache is refused.
_WORDS_FORMAT = "regdsl-words-cache 1"
_WORDS_LIMIT = 8 << 20  # bytes; the words are about 1.3 MB


def _ranked(packed: bytes) -> tuple[str, ...]:
    """Return the words of letters only, in lower case, of ``_SHORTEST`` letters or more, the most used first."""
    counts: dict[str, int] = json.loads(gzip.decompress(packed))
    kept = [(-n, w) for w, n in counts.items() if len(w) >= _SHORTEST and w.isalpha() and w.islower()]
    return tuple(word for _n, word in sorted(kept))


def _dictionary_file() -> Path:
    """Return the English word counts of the ``pyspellchecker`` package, found without importing it (~15 ms)."""
    spec = importlib.util.find_spec("spellchecker")
    folders = spec.submodule_search_locations if spec is not None else None
    if not folders:
        raise ModuleNotFoundError("the pyspellchecker package, which PRO001 reads, is not installed")
    return Path(next(iter(folders)), "resources", "en.json.gz")


def _english() -> tuple[str, ...]:
    """Return the English words, ranked: from the user's cache when it holds them for this package, else built."""
    packed = _dictionary_file().read_bytes()
    key = hashlib.sha256(b"%d\n%s" % (_SHORTEST, packed)).hexdigest()
    name = f"words-{key[:16]}.cache"
    with cachefiles.open_cache_folder() as folder:
        payload = cachefiles.read_framed(folder, name, _WORDS_FORMAT, key, _WORDS_LIMIT) if folder is not None else None
        if payload is not None:
            with contextlib.suppress(UnicodeDecodeError):
                return tuple(payload.decode("utf-8").split("\n"))
        ranked = _ranked(packed)
        if folder is not None:
            cachefiles.write_framed(folder, name, _WORDS_FORMAT, key, "\n".join(ranked).encode("utf-8"))
        return ranked


@functools.cache
def word_list() -> WordList:
    """Load the dictionaries once, when PRO001 first runs.

    English: the word-frequency list of the ``pyspellchecker`` package (MIT; built from
    OpenSubtitles and cleaned by its maintainers), words of letters only. Clinical:
    ``data/words.txt``, one lower-case word per line (``#`` lines are comments).
    """
    ranked = _english()
    text = resources.files("regdsl.check").joinpath("data", "words.txt").read_text(encoding="utf-8")
    clinical = frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )
    longest = max(max(map(len, ranked), default=0), max(map(len, clinical), default=0))
    return WordList(english=frozenset(ranked), ranked=ranked, clinical=clinical, longest=longest)


@functools.cache
def _english_rank() -> dict[str, int]:
    """Each English word's rank (0: the most used), built only when a suggestion is ranked."""
    return {word: rank for rank, word in enumerate(word_list().ranked)}


def words_of(texts: Iterable[str]) -> frozenset[str]:
    """Return the words of ``texts``, in lower case."""
    return frozenset(w.lower() for text in texts for w in _WORD.findall(text))


@functools.cache
def known_terms() -> frozenset[str]:
    """Every word of the default medicine table and of the controlled vocabulary (SNOMED CT terms), in lower case."""
    texts: list[str] = medicine_words(DEFAULT_MEDICINES)
    for unit in UNITS:
        texts += [unit.term, unit.display, *unit.aliases]
    for route in ROUTES:
        texts += [route.term, *route.aliases]
    for freq in FREQUENCIES:
        texts += [freq.term, freq.phrase]
    for factor in FACTORS:
        texts += [factor.term, *factor.aliases, *(t for v in factor.values for t in v.texts)]
    texts += [*SETTINGS, *RESPONSES, *RESPONSES.values()]
    return words_of(texts)


def medicine_words(medicines: Iterable[Medicine]) -> list[str]:
    """Return the names, displays and aliases of ``medicines``."""
    return [text for med in medicines for text in (med.name, med.display, *med.aliases)]


def _inflected(word: str, known: Callable[[str], bool]) -> bool:
    """Whether ``word`` is a known word with a regular ending (``-s``, ``-ed``, ``-ing``...), or its singular."""
    if known(word + "s") or known(word + "es"):
        return True  # the singular of a listed plural
    for suffix, stem_end in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + stem_end
            if known(stem) or (
                suffix in {"ed", "ing", "er", "ers"} and len(stem) > 3 and stem[-1] == stem[-2] and known(stem[:-1])
            ):
                return True
    return False


def _american(word: str) -> set[str]:
    """Return the American forms of a British spelling: each change alone, and all of them together."""
    forms = {pattern.sub(to, word) for pattern, to in _BRITISH}
    together = word
    for pattern, to in _BRITISH:
        together = pattern.sub(to, together)
    return (forms | {together}) - {word}


def _clinical(extra: frozenset[str]) -> Callable[[str], bool]:
    """Whether a word is clinical: the supplement, the medicine table, the vocabulary, or one of ``extra``."""
    listed, terms = word_list().clinical, known_terms()
    return lambda word: word in listed or word in terms or word in extra


def is_word(word: str, extra: frozenset[str] = frozenset()) -> bool:
    """Whether ``word`` (lower case) is a real word.

    Real words are English (British or American spelling), clinical, one of ``extra``, any
    of them with a regular ending, or with a productive prefix (``restaging``, ``premedicated``).
    """
    if _listed(word, extra):
        return True
    return any(
        word.startswith(prefix) and len(word) - len(prefix) >= 4 and _listed(word[len(prefix) :], extra)
        for prefix in _PREFIXES
    )


def _listed(word: str, extra: frozenset[str]) -> bool:
    english = word_list().english
    clinical = _clinical(extra)

    def known(candidate: str) -> bool:
        return candidate in english or clinical(candidate)

    return known(word) or _inflected(word, known) or any(form in english for form in _american(word))


def _edits(word: str) -> Iterator[tuple[str, bool]]:
    """Yield every string one edit from ``word`` that keeps its first letter, and whether it is a likely slip.

    An edit drops, adds or changes a letter, or swaps two neighbours. Likely slips: a swap,
    a vowel for a vowel, a letter doubled or undoubled.
    """
    letters = sorted(set(_LETTERS) | set(word))
    for i in range(1, len(word) + 1):
        head, tail = word[:i], word[i:]
        for c in letters:
            yield head + c + tail, c == word[i - 1] or (bool(tail) and c == tail[0])
        if tail:
            yield head + tail[1:], tail[0] == word[i - 1] or (len(tail) > 1 and tail[0] == tail[1])
            if len(tail) > 1:
                yield head + tail[1] + tail[0] + tail[2:], True
            for c in letters:
                if c != tail[0]:
                    yield head + c + tail[1:], c in _VOWELS and tail[0] in _VOWELS


def _negation(word: str) -> int:
    return next((n for n, group in enumerate(_NEGATIONS) if word.startswith(group)), -1)


def _variant(word: str, other: str) -> bool:
    """Whether ``other`` is another form of ``word``, not what a slip made of it.

    Other forms: its British or American spelling, or the same stem with another vowel at
    the end (`cystoscopy`, the procedure, and `cystoscope`, the instrument).
    """
    if word in _american(other) or other in _american(word):
        return True
    return len(word) == len(other) and word[:-1] == other[:-1] and {word[-1], other[-1]} <= _VOWELS


@functools.lru_cache(maxsize=4096)
def near_miss(word: str, extra: frozenset[str] = frozenset()) -> str | None:
    """Return the word that ``word`` (lower case) looks like a misspelling of, if any.

    A real word is never a misspelling (see ``is_word``), so a suggestion never turns one
    word into another. A word that is not one edit from a known word is unfamiliar (a name,
    a term), not a slip of the keyboard, and is not flagged. A suggestion never drops or
    changes a negating prefix the word has (`_NEGATIONS`), nor is another form of the word
    (`_variant`). Likely slips come first (a swap, a vowel for a vowel, a doubled letter),
    then clinical words and ``extra``, then the English word used most often, then the
    first in alphabetical order.
    """
    if len(word) > word_list().longest + 1 and all(len(other) + 1 < len(word) for other in extra):
        return None  # longer than any word by two letters or more: one edit from none (and bounded work)
    if is_word(word, extra):
        return None
    english = word_list().english
    clinical = _clinical(extra)
    ranked: list[tuple[int, int, int, str]] = []
    negation = _negation(word)
    for other, likely in _edits(word):
        if clinical(other):
            key = (0 if likely else 1, 0, 0, other)
        elif other in english:
            key = (0 if likely else 1, 1, _english_rank()[other], other)
        else:
            continue
        if negation in (-1, _negation(other)) and not _variant(word, other):
            ranked.append(key)
    return min(ranked)[3] if ranked else None


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
            if word.endswith(("o", "O")) and text[end : end + 1] == "-":
                continue  # a combining form (`gastro-oesophageal`, `chemo-immunotherapy`), not a word
            if _named(word, line, chunk.start() + start):
                continue
            yield word, chunk.start() + start


def _named(word: str, line: str, at: int) -> bool:
    """Whether ``word`` (at ``at`` in ``line``) is a name or an acronym, not a word to check.

    A name or an acronym is in capitals (`PORTEC`, `CRPCs`), or capitalised within a sentence
    (`Attard`): not first on the line, nor after an end of sentence or a bullet.
    """
    if word.isupper() or (word[-1] == "s" and word[:-1].isupper()):
        return True  # an acronym, or its plural
    if not word[0].isupper() or not word[1:].islower():
        return False
    before = at - 1
    while before >= 0 and line[before].isspace():  # back over the spaces to the word before: linear in the line
        before -= 1
    return before >= 0 and line[before] not in _SENTENCE_START


def _regimen_terms(regimen: ir.Regimen) -> frozenset[str]:
    texts: list[str] = [alias for pair in regimen.aliases for alias in pair]
    for group in regimen.cycles():
        for admin in group.administrations:
            texts += [admin.written, admin.medicine.name, admin.medicine.display, *admin.medicine.aliases]
        for note in group.notes:
            if note.medicine is not None:
                texts += [note.medicine.name, *note.medicine.aliases]
    return words_of(texts)


@rule("PRO001", "prose-near-miss", Severity.WARNING, "a word in prose looks like a misspelling")
def prose_near_miss(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find words in prose that are not words and are one slip of the keyboard from one.

    What it does: reads the regimen's prose (instructions, notes, overviews, start rules,
    timing qualifiers and supportive-care factor values; not citations, which are titles as
    published) and flags each word of six letters or more that is no known word but is one
    edit (a letter added, dropped or changed, or two neighbours swapped, after the first
    letter) from one. Known words: an English dictionary (the word-frequency list of the
    `pyspellchecker` package, MIT licence, built from OpenSubtitles), with British spellings
    (`haematology`, `tumour`, `organise`), regular endings (`-ed`, `-able`) and prefixes
    (`re-`, `pre-`, `un-`); the clinical words it lacks (`regdsl/check/data/words.txt`:
    medicine names as in the New Zealand Formulary, terms as in CTCAE v5.0 and SNOMED CT);
    the medicine table, built-in and `library.reg`; the controlled vocabulary (SNOMED CT
    terms); and the library's `words` (its `regdsl.toml` or `[tool.regdsl]`). A real word
    is never flagged, so a suggestion never turns one word into another (`incompatible` is
    not "corrected" to `compatible`), and no suggestion drops or changes a negating prefix
    the word has (in-, im-, il-, ir-, un-, non-, anti-: `antinatal` is not "corrected" to
    `antenatal`). Names and acronyms (a capitalised word
    within a sentence, a word in capitals) and combining forms before a hyphen
    (`gastro-`) are not checked. Measured on real text (the prose of the NZ SACT Regimen
    Library's FHIR regimens, its regimen page, and regimens written for this library),
    it reports the source's own typos and nothing else.

    Why it matters: a misspelt word in an instruction is copied into every chart, label
    and patient leaflet made from the regimen, and a misspelt medicine name can be read as
    another medicine. Prose is kept exactly as written, so the compiler reports the slip
    rather than correcting it; and a finding that is wrong more often than right teaches
    authors to ignore every finding.

    Example:
        dexamethasone 12 mg flat IV days 1, 8, 15 over 15 min off-label
          | 30 minutes prior to inotuzumab ozogamicin, or as per insitutional practice.

    Use instead: the correct spelling (`institutional`); for a name or local term the
    library uses, its configuration's `words` (`words = ["Pharmac", "Tauranga"]`); or, when the
    published source spells it so and it must be kept verbatim, a suppression that says so:
    `# regdsl: ignore[prose-near-miss] -- verbatim from the source`.
    """
    regimen = ctx.regimen
    own = _regimen_terms(regimen) | ctx.words
    for line, located in _prose(regimen):
        for word, at in _words(line):
            suggestion = near_miss(word.lower(), own)
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
