"""``regdsl import``: a CcaPlanDefinition (HL7 FHIR R4 JSON) to a ``.reg`` file in canonical layout.

The JSON is read by ``jsonpos``, which keeps where each element is written, so that every
finding about the input (``FHR001``-``FHR012``) is located at its element, with its JSON path
in the message. The regimen is written as statements of the language, clinical text verbatim
(HTML fragments as prose lines, a paragraph a line), and laid out by ``syntax.layout``, the
layout of ``regdsl fmt``: an import is ``fmt --check`` clean by construction. A defect of the
input (nested ``contained``, an extension the guide does not define, ``valueMarkdown`` where a
string is defined) is a warning and the facts are read all the same; a fact that cannot be
read (an unknown medicine, route, unit or frequency code) is an error, and the rest is written.

Timing written in an instruction becomes a timing relation (docs/language.md section 8) when
it is one of a closed set of phrasings and names ``chemotherapy`` or a medicine of the cycle:
"ONE hour prior to chemotherapy", "30 to 60 minutes prior to inotuzumab ozogamicin",
"EIGHT hours after chemotherapy OR before bed", "prior to cISplatin infusion". Anything else
that reads like a timing stays as the instructions, with a note (``FHR010``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import html
import os
import re
import stat
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from regdsl.compile.library import LIBRARY_FILE, find_root, load_library
from regdsl.diagnostics import Diagnostic, Sink
from regdsl.diagnostics import codes as C
from regdsl.diagnostics.model import Code, Severity
from regdsl.fhir import ig
from regdsl.fhir.cca import ROLE_USAGE
from regdsl.fhir.core import DAYS_OF_CYCLE
from regdsl.fhir.jsonpos import JsonError, Node, read_json
from regdsl.fhir.validate import missing
from regdsl.model.medicines import DEFAULT_MEDICINES, Medicine, MedicineTable
from regdsl.model.vocabulary import (
    FREQUENCIES,
    NZMT_SYSTEM,
    ROUTES,
    SETTINGS,
    SNOMED,
    UNITS,
    Unit,
    find_factor,
    find_unit,
)
from regdsl.source import SourceFile, find_hidden
from regdsl.syntax.layout import format_source

__all__ = [
    "BUILT_IN",
    "MAX_BYTES",
    "Imported",
    "Medicines",
    "TargetError",
    "import_bytes",
    "library_medicines",
    "regimen_id",
    "write_regimen",
]

BUILT_IN = MedicineTable(DEFAULT_MEDICINES)  # the built-in medicine table, a library's table without library.reg
MAX_BYTES = 8 << 20  # the NZ library's largest regimen is 250 kB
_MINUTES = {"min": 1, "h": 60, "hour": 60, "d": 1440}  # UCUM units of rateRange.high (and the NZ library's Min, H)
_STATUS = {"active": "published", "draft": "draft", "retired": "discontinued", "unknown": "draft"}
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
    )
}
_NUM = r"(?:\d+|" + "|".join(_NUMBER_WORDS) + r")"
# "30 to 60 minutes prior to X", "ONE hour prior to X", "EIGHT hours after X"
_TIMED = re.compile(
    rf"\b(?P<low>{_NUM})(?: to (?P<high>{_NUM}))? (?P<unit>minutes?|mins?|hours?) (?P<dir>prior to|before|after) ",
    re.IGNORECASE,
)
# "prior to cISplatin infusion", "After cISplatin infusion", "the night prior to PACLItaxel infusion"
_UNTIMED = re.compile(r"(?:^|(?<=[\s,]))(?P<dir>prior to|after) (?=\S+(?: \S+)? infusion\b)", re.IGNORECASE)
_START = re.compile(
    r"\bwithin (?:(?P<low>\d+) to )?(?P<high>\d+) (?P<unit>weeks|days) "
    r"(?P<link>after completion of|of|after) (?P<anchor>surgery|radiation therapy|radiotherapy)\b",
    re.IGNORECASE,
)
_PART_TITLE = re.compile(r"Part (\d+)(?::|$)")
_TAG = re.compile(r"<[A-Za-z/][^>]*>")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MOST = 10**6  # the largest whole number read (days, cycles, minutes, amounts): far beyond any regimen's
_PLACES = 6  # the most decimal places of an amount read
_NO_LINK = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_PMID = re.compile(r"PMID: (\d+)")
_ACCESSED = re.compile(r"\(Accessed (\d{1,2} \w+ \d{4})\)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The elements read (or left out by design: ids, meta, narratives, the generated dosage text) of each kind of node.
_PLAN_ELEMENTS = frozenset(
    [
        "resourceType",
        "id",
        "meta",
        "text",
        "contained",
        "extension",
        "url",
        "identifier",
        "version",
        "name",
        "title",
        "subtitle",
        "type",
        "status",
        "date",
        "publisher",
        "description",
        "useContext",
        "copyright",
        "approvalDate",
        "lastReviewDate",
        "author",
        "relatedArtifact",
        "action",
    ]
)
_PART_ELEMENTS = frozenset(["id", "extension", "title", "description", "selectionBehavior", "definitionCanonical"])
_CYCLE_ELEMENTS = frozenset(["id", "prefix", "description", "timingTiming", "selectionBehavior", "action"])
_GROUPS_ELEMENTS = frozenset(["title", "selectionBehavior", "action"])
_GROUP_ELEMENTS = frozenset(["title", "definitionCanonical"])
_ORDER_ELEMENTS = frozenset(["id", "extension", "definitionCanonical"])
_ACTIVITY_ELEMENTS = frozenset(
    [
        "resourceType",
        "id",
        "meta",
        "text",
        "extension",
        "name",
        "status",
        "productCodeableConcept",
        "usage",
        "quantity",
        "dosage",
    ]
)
_DOSAGE_ELEMENTS = frozenset(["text", "timing", "route", "doseAndRate", "asNeededBoolean", "maxDosePerAdministration"])
_ROLES = {usage: role for role, usage in ROLE_USAGE.items()}
_HEADING_TEXT = ("name", "title", "subtitle", "description", "version")


@dataclass(frozen=True, slots=True)
class Imported:
    """What one file imports to: the source read, the regimen's id and text (None if none), the findings."""

    source: SourceFile
    regimen_id: str | None
    text: str | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        """Whether a finding is an error (a fact was not imported, or nothing was)."""
        return any(d.level is Severity.ERROR for d in self.diagnostics)


def import_bytes(data: bytes, path: str, *, size: int | None = None, medicines: MedicineTable = BUILT_IN) -> Imported:
    """Import the JSON file ``path`` holding ``data`` (of ``size`` bytes, when only its start was read).

    Products are resolved against ``medicines``: the table of the library the regimen is written
    into (``library_medicines``), the built-in one by default. Never raises on the content.
    """
    sink = Sink()
    size = max(size or 0, len(data))
    if size > MAX_BYTES:
        source = SourceFile.from_text("", path)
        sink.report(
            C.FHR_TOO_LARGE,
            source.span(0, 0),
            f"the file is {size:,} bytes; an import reads at most {MAX_BYTES:,}",
        )
        return Imported(source, None, None, tuple(sink.sorted()))
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        valid = data[: err.start].decode("utf-8")
        source = SourceFile.from_text(valid, path)
        sink.report(C.FHR_NOT_JSON, source.span(len(valid), len(valid)), "the file is not UTF-8 text")
        return Imported(source, None, None, tuple(sink.sorted()))
    source = SourceFile.from_text(text, path)
    try:
        root = read_json(text)
    except JsonError as err:
        span = source.span(err.offset, min(err.offset + 1, len(text)))
        sink.report(C.FHR_TOO_DEEP if err.deep else C.FHR_NOT_JSON, span, err.message)
        return Imported(source, None, None, tuple(sink.sorted()))
    reader = _Reader(source, sink, medicines)
    regimen = reader.regimen(root)
    return Imported(source, regimen[0] if regimen else None, regimen[1] if regimen else None, tuple(sink.sorted()))


@dataclass(frozen=True, slots=True)
class Medicines:
    """The medicine table an import resolves products against, and what reading the library found."""

    table: MedicineTable
    finding: Diagnostic | None  # a library.reg with errors: its first, said once; the table is the built-in one
    source: SourceFile | None  # the library.reg read, to show the finding


def library_medicines(folder: Path) -> Medicines:
    """Return the medicines of the library a ``.reg`` file written into ``folder`` belongs to.

    The library is the one ``regdsl check`` would find for that file (the nearest ``library.reg``
    at or above ``folder``, which need not exist yet), read by ``load_library``: its table is its
    own medicines and then the built-in ones. A library.reg with errors is not fatal: its first
    error is the finding, and the table the built-in one. Raises ``PathError`` for a library.reg
    that check refuses too (another user's, or not a regular file).
    """
    root = find_root(folder.resolve())
    if not os.path.lexists(root / LIBRARY_FILE):  # no library: the folder's own files use the built-in table
        return Medicines(BUILT_IN, None, None)
    library = load_library(root)
    errors = sorted((d for d in library.diagnostics if d.level is Severity.ERROR), key=lambda d: d.sort_key())
    if not errors:
        return Medicines(library.defs.medicines, None, library.source)
    note = "the import resolves medicines against the built-in medicine table only, until library.reg is fixed"
    return Medicines(BUILT_IN, dataclasses.replace(errors[0], notes=(*errors[0].notes, note)), library.source)


class TargetError(Exception):
    """A .reg file an import must not write: it exists (without ``force``), it is a link, or it was read."""


def write_regimen(folder: Path, imported: Imported, *, force: bool, read: Collection[Path]) -> Path:
    """Write ``imported`` as ``folder/ID.reg``; raises ``TargetError`` for a file it must not replace.

    The folder is made if missing. A file already there is replaced only with ``force``, and
    never when it is a link, not a regular file, or one of the files the import ``read``; the
    text is written to a new file beside it and renamed into place, so a failed write leaves
    what was there.
    """
    assert imported.regimen_id is not None
    assert imported.text is not None
    target = folder / f"{imported.regimen_id}.reg"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if any(target.resolve() == path.resolve() for path in read):
            raise TargetError(f"{target}: is a file this import reads; it is not replaced")
        info = os.lstat(target) if os.path.lexists(target) else None
        if info is not None and (stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode)):
            raise TargetError(f"{target}: is a link or not a regular file; it is not replaced")
        if info is not None and not force:
            raise TargetError(f"{target}: exists; give --force to replace it")
        temp = target.with_name(f".{target.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_LINK, 0o644)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(imported.text.encode("utf-8"))
            os.replace(temp, target)
        finally:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
    except OSError as err:
        raise TargetError(f"{target}: cannot be written ({err.strerror or err})") from err
    return target


def regimen_id(name: str) -> str:
    """Return the id a regimen named ``name`` is given: its words in lower case, joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:128].strip("-") or "imported-regimen"


def quoted(text: str) -> str:
    """Return ``text`` as quoted text: what a source may not hold, and spaces other than the plain one, escaped."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    hidden = {i for m in find_hidden(body, source=True) for i in range(m.start(), m.end())}
    return (
        '"'
        + "".join(
            _escape(c) if i in hidden or (c != " " and unicodedata.category(c) == "Zs") else c
            for i, c in enumerate(body)
        )
        + '"'
    )


def _escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _overview(fragment: str) -> list[str]:
    """Return an overview's lines: an HTML fragment's paragraphs, or plain text (as `regdsl export` writes it)."""
    if _TAG.search(fragment):
        return _spaced(html_paragraphs(fragment))
    return _LINE_BREAK.split(fragment)


def html_paragraphs(fragment: str) -> list[str]:
    """Return an HTML fragment's text as paragraphs: tags dropped, entities decoded, spaces collapsed."""
    marked = re.sub(r"(?i)</p\s*>|<br\s*/?>|</li\s*>", "\x00", fragment)
    text = html.unescape(re.sub(r"<[^>]*>", " ", marked))
    return [" ".join(part.split()) for part in text.split("\x00") if part.strip()]


@dataclass
class _Line:
    """One administration line being written: its words, days and instructions."""

    medicine: str
    words: list[str]
    tail: list[str]
    days: list[int]
    instructions: str
    node: Node


@dataclass(frozen=True, slots=True)
class _Definition:
    """An ActivityDefinition, read: the line's words before its days, after them, and its medicine."""

    medicine: str
    head: list[str]
    middle: list[str]
    tail: list[str]
    anticancer: bool


class _Reader:
    """Reads one PlanDefinition into statements, reporting into ``sink``."""

    def __init__(self, source: SourceFile, sink: Sink, medicines: MedicineTable) -> None:
        self.source = source
        self.sink = sink
        self.out: list[str] = []
        self.medicines = medicines
        # The required elements the input lacks, by their parent's path and name: each is reported once,
        # where the reader meets it (with what it does without it), else after the regimen is read.
        self.missing: dict[tuple[str, str], str] = {}
        # By product code; a library's own medicine (after the built-in ones in the table) wins.
        self.by_code = {m.nzmt: m for m in medicines.medicines if m.nzmt is not None}

    # -- findings ------------------------------------------------------------------------

    def find(self, code: Code, node: Node, message: str, *, help: str | None = None) -> None:
        where = node.path or "the resource"
        self.sink.report(code, self.source.span(node.start, node.end), f"{where}: {message}", help=help)

    def unread(self, node: Node, known: frozenset[str]) -> None:
        """Report each member of ``node`` the import does not read."""
        if isinstance(node.value, dict):
            for key, member in node.value.items():
                if key not in known:
                    self.find(
                        C.FHR_NOT_READ, member, f"the element {key!r} is not one the import reads; it is left out"
                    )

    def lost(self, node: Node, what: str, *, lacking: Collection[str] = ()) -> None:
        """Report a fact not imported; ``lacking``: the required elements of ``node`` whose absence this says."""
        for name in lacking:
            self.missing.pop((node.path, name), None)
        self.find(C.FHR_NOT_IMPORTED, node, f"{what}; it is not imported")

    def absent(self, node: Node, name: str, then: str) -> None:
        """Report the required element ``name`` missing from ``node``, and what the import does without it."""
        rule = self.missing.pop((node.path, name), None)
        if rule is not None:
            self.find(C.FHR_MISSING, node, f"the required element {name!r} is missing ({rule}): {then}")

    def blank(self) -> None:
        self.out.append("")

    def write(self, depth: int, text: str) -> None:
        self.out.append("  " * depth + text)

    def prose(self, depth: int, lines: list[str], node: Node) -> None:
        for line in lines:
            if any(True for _ in find_hidden(line, source=False)):
                self.lost(node, "the text holds a control or invisible character a .reg file may not")
                continue
            self.write(depth, f"| {line}" if line else "|")

    # -- the regimen ---------------------------------------------------------------------

    def regimen(self, root: Node) -> tuple[str, str] | None:
        if not isinstance(root.value, dict) or root.text("resourceType") != "PlanDefinition":
            kind = root.text("resourceType")
            self.find(
                C.FHR_NOT_PLAN,
                root,
                f"the resource is {kind!r}, not a PlanDefinition" if kind else "not a FHIR resource",
            )
            return None
        core = _core_form(root)
        if core is not None:
            self.find(
                C.FHR_CORE_NOT_READ,
                core,
                "the plan is of the core form (`regdsl export --profile core`), not a CcaPlanDefinition; "
                "the import reads CcaPlanDefinitions only, and nothing is imported",
                help="import the regimen's `regdsl export --profile cca` file, or keep its .reg source",
            )
            return None
        index: dict[str, Node] = {}
        plain = _plain(root, index)
        assert isinstance(plain, dict)  # a PlanDefinition, above
        self.missing = {(parent, name): rule for parent, name, rule in missing(plain)}
        name = root.text("name") or root.text("title")
        if name is None:
            self.find(C.FHR_MISSING, root, "no name or title: the regimen is given the id imported-regimen")
        ident = regimen_id(name or "")
        title = quoted(root.text("title") or name or "")
        self.write(
            0, f"# Imported by regdsl import from {quoted(Path(self.source.path).name)} (HL7 FHIR R4 PlanDefinition):"
        )
        self.write(0, f"# {title}. Clinical text is kept verbatim.")
        self.write(0, "")
        self.write(0, f"regimen {ident}")
        systems = {c.text("system") for c in self.products(root)} - {None}
        self.heading(root, 1, medicine_system=next(iter(systems)) if len(systems) == 1 else None)
        parts = _parts(root)
        if root.child("action") is None:
            self.absent(root, "action", "the regimen has no cycles")
        contained = self.contained(root)
        if parts:
            open_ended = any([self.part(action, number, contained) for number, action in enumerate(parts, 1)])
        else:
            open_ended = self.cycles(root, 0, contained)
        if open_ended:  # after every part: a part's support and references are the part's
            self.open_ended_plan()
        self.support(root, 0)
        self.references(root, 0)
        for (parent, element), rule in self.missing.items():
            self.find(C.FHR_MISSING, index.get(parent, root), f"the required element {element!r} is missing ({rule})")
        text = "\n".join(self.out) + "\n"
        sink = Sink()
        laid_out = format_source(SourceFile.from_text(text, ident + ".reg"), sink)
        if laid_out is None:  # a bug of the importer's: the findings say where
            for diagnostic in sink.items:
                self.lost(root, f"the imported text does not parse ({diagnostic.message})")
            return None
        return ident, laid_out

    def products(self, plan: Node) -> Iterator[Node]:
        for item in plan.elements("contained"):
            concept = item.child("productCodeableConcept")
            if concept is not None:
                yield from concept.elements("coding")
            yield from self.products(item)

    def contained(self, plan: Node) -> dict[str, Node]:
        found: dict[str, Node] = {}
        for item in plan.elements("contained"):
            ident = item.text("id")
            if ident is not None:
                found[ident] = item
            if item.child("contained") is not None:
                nested = item.child("contained")
                assert nested is not None
                self.find(
                    C.FHR_NESTED_CONTAINED,
                    nested,
                    "a contained resource contains resources, which FHIR forbids (dom-2); they are read",
                    help="contain every resource in the root resource's `contained`",
                )
        return found

    def extensions(self, node: Node) -> dict[str, list[Node]]:
        found: dict[str, list[Node]] = {}
        for item in node.elements("extension"):
            url = item.text("url")
            if url is None:
                self.find(C.FHR_MISSING, item, "an extension with no url is left out")
                continue
            if ig.extension(url) is None:
                known = url in {ig.SUPPORTIVE, ig.CHILD_DETAILS}
                self.find(
                    C.FHR_UNKNOWN_EXTENSION,
                    item,
                    f"the extension {url} is not defined by the implementation guide"
                    + ("; it is read" if known else "; it is left out"),
                )
            found.setdefault(url, []).append(item)
        return found

    def value(self, ext: Node, *, expected: str, within: str = "") -> Node | None:
        """Return the ``value[x]`` of an extension, reporting a markdown value where the guide types a string."""
        assert isinstance(ext.value, dict)
        keys = [k for k in ext.value if k.startswith("value")]
        if not keys:
            self.find(C.FHR_MISSING, ext, "the extension has no value")
            return None
        key = keys[0]
        if key == "valueMarkdown" and expected == "valueString":
            self.find(
                C.FHR_MARKDOWN_FOR_STRING,
                ext.value[key],
                f"valueMarkdown where the extension {within} is defined as a string; the text is read as written",
                help="write `valueString`",
            )
        return ext.value[key]

    def heading(self, plan: Node, depth: int, *, medicine_system: str | None) -> None:
        self.unread(plan, _PLAN_ELEMENTS)
        for key in _HEADING_TEXT:
            if (text := plan.text(key)) is not None:
                self.write(depth, f"{key} {quoted(text)}")
        status, node = plan.text("status"), plan.child("status")
        if node is None:
            self.absent(plan, "status", "imported as a draft")
        elif status not in _STATUS:
            shown = f"{status!r} is not a FHIR publication status" if status is not None else "is not a code"
            self.find(C.FHR_UNKNOWN_CODE, node, f"the status {shown}; imported as draft")
        self.write(depth, f"status {_STATUS.get(status or 'draft', 'draft')}")
        for key, word in (("date", "date"), ("approvalDate", "approved"), ("lastReviewDate", "last-reviewed")):
            if (text := plan.text(key)) is not None:
                if _DATE.match(text):
                    self.write(depth, f"{word} {text[:10]}")
                else:
                    node = plan.child(key)
                    assert node is not None
                    self.lost(node, f"{key} {text!r} is not a date")
        if (text := plan.text("url")) is not None:
            self.write(depth, f"url {quoted(text)}")
        for item in plan.elements("identifier"):
            system, value = item.text("system"), item.text("value")
            if system is not None and value is not None:
                self.write(depth, f"identifier {quoted(system)} {quoted(value)}")
        if (text := plan.text("publisher")) is not None:
            self.write(depth, f"publisher {quoted(text)}")
        authors = plan.elements("author")
        if authors and (author := authors[0].text("name")) is not None:
            self.write(depth, f"author {quoted(author)}")
        if (text := plan.text("copyright")) is not None:
            self.write(depth, f"copyright {quoted(text)}")
        self.cancer(plan, depth)
        ext = self.extensions(plan)
        for item in ext.get(ig.SETTING, []):
            concept = self.value(item, expected="valueCodeableConcept")
            if concept is not None and (text := concept.text("text")) is not None:
                self.check_code(concept, SETTINGS.get(text), f"the setting {text!r}")
                self.write(depth, f"setting {quoted(text)}")
        if medicine_system is not None and medicine_system != NZMT_SYSTEM:
            self.write(depth, f"medicine-code-system {quoted(medicine_system)}")
        if ig.DISCLAIMER in ext:
            self.write(depth, "footnotes reviewed")
        for item in ext.get(ig.PLAN_INSTRUCTIONS, []):
            fragment = self.value(item, expected="valueMarkdown")
            if fragment is not None and isinstance(fragment.value, str):
                self.write(depth, "overview")
                self.prose(depth + 1, _overview(fragment.value), fragment)

    def check_code(self, concept: Node, expected: str | None, what: str) -> None:
        codings = concept.elements("coding")
        for coding in codings:
            if coding.text("system") != SNOMED or (expected is not None and coding.text("code") != expected):
                self.find(
                    C.FHR_UNKNOWN_CODE,
                    coding,
                    f"the code {coding.text('system')}|{coding.text('code')} of {what} is not the vocabulary's "
                    f"({SNOMED}|{expected}); the vocabulary's is exported",
                )

    def cancer(self, plan: Node, depth: int) -> None:
        levels: list[str] = []
        for context in plan.elements("useContext"):
            concept = context.child("valueCodeableConcept")
            if concept is None or (text := concept.text("text")) is None:
                continue
            codings = concept.elements("coding")
            code = codings[0].text("code") if codings else None
            levels.append(quoted(text) + (f" [{code}]" if code and code.isdigit() else ""))
        if levels:
            self.write(depth, "cancer " + " > ".join(levels))

    # -- parts and cycles ----------------------------------------------------------------

    def part(self, action: Node, number: int, contained: dict[str, Node]) -> bool:
        """Write a part; return whether one of its cycles is open-ended."""
        title = re.sub(rf"^Part {number}(?:: |$)", "", action.text("title") or "")
        if number > 1:
            self.blank()
        self.write(0, f"part {number} {quoted(title)}")
        self.unread(action, _PART_ELEMENTS)
        plan = self.follow(action, contained)
        if plan is None:
            return False
        self.heading(plan, 1, medicine_system=None)
        ext = self.extensions(action)
        for item in ext.get(ig.CHILD_DETAILS, []) + ext.get(ig.PLAN_INSTRUCTIONS, []):
            fragment = self.value(item, expected="valueMarkdown")
            if fragment is not None and isinstance(fragment.value, str):
                self.start(fragment)
        self.blank()
        open_ended = self.cycles(plan, 1, {**contained, **self.contained(plan)})
        self.support(plan, 1)
        self.references(plan, 1)
        return open_ended

    def start(self, fragment: Node) -> None:
        assert isinstance(fragment.value, str)
        paragraphs = html_paragraphs(fragment.value)
        text = " ".join(paragraphs)
        match = _START.search(text)
        if match is None:
            self.find(
                C.FHR_TIMING_AS_TEXT, fragment, "the part's start is not a phrasing the import reads; kept as a comment"
            )
            for line in paragraphs:
                self.write(1, f"# start: {line}")
            return
        if match["low"]:
            self.write(
                1, f"# {quoted(match[0])} is read as: no later than {match['high']} {match['unit'].lower()} after it."
            )
            self.find(
                C.FHR_START_READ_AS_BOUND,
                fragment,
                f"{match[0]!r} is imported as no later than {match['high']} {match['unit'].lower()}",
            )
        anchor = "surgery" if match["anchor"].lower() == "surgery" else "radiotherapy"
        end = "end of " if "completion" in match["link"].lower() else ""
        self.write(1, f"start 0 to {match['high']} {match['unit'].lower()} after {end}{anchor}")
        self.prose(2, paragraphs, fragment)

    def follow(self, action: Node, contained: dict[str, Node]) -> Node | None:
        target = action.text("definitionCanonical")
        if target is None or not target.startswith("#") or target[1:] not in contained:
            self.lost(action, f"the definition {target!r} is not a resource the plan contains")
            return None
        return contained[target[1:]]

    def cycles(self, plan: Node, depth: int, contained: dict[str, Node]) -> bool:
        """Write the plan's cycle actions; return whether one is open-ended."""
        first = 1
        open_ended = False
        for action in self.cycle_actions(plan, contained):
            self.unread(action, _CYCLE_ELEMENTS)
            repeat = action.child("timingTiming")
            repeat = repeat.child("repeat") if repeat is not None else None
            length = repeat.child("duration") if repeat is not None else None
            days = _whole(length, 1) if length is not None else None
            if repeat is None or days is None:
                self.lost(action, "the cycle has no timingTiming.repeat.duration, a whole number of days")
                continue
            count_node = repeat.child("count")
            count = _whole(count_node, 1) if count_node is not None else None
            if count_node is not None and count is None:
                self.lost(count_node, "the cycle count is not a whole number of at least 1")
                continue
            if count is None:
                heading, open_ended = f"cycle {first} and all further cycles", True
            elif count == 1:
                heading = f"cycle {first}"
            else:
                heading = f"cycles {first} to {first + count - 1}"
            first += count or 1
            self.write(depth, f"{heading}: {days} days")
            self.order_sets(action, depth + 1, contained)
        return open_ended

    def cycle_actions(self, plan: Node, contained: dict[str, Node]) -> Iterator[Node]:
        """Yield the plan's cycle actions, those of a plan per cycle group (as `regdsl export` writes them) included."""
        for action in plan.elements("action"):
            steps = action.elements("action")
            targets = [contained.get((s.text("definitionCanonical") or "").removeprefix("#")) for s in steps]
            if action.child("timingTiming") is not None or not steps or None in targets:
                yield action
                continue
            if any(t is not None and t.text("resourceType") != "PlanDefinition" for t in targets):
                yield action
                continue
            self.unread(action, _GROUPS_ELEMENTS)
            for step, target in zip(steps, targets, strict=True):
                self.unread(step, _GROUP_ELEMENTS)
                assert target is not None
                yield from target.elements("action")

    def open_ended_plan(self) -> None:
        self.write(0, "plan")
        self.write(1, '# Not in the source, which states no stop rule: this is what "Cycle 1 (and all further')
        self.write(1, '# cycles)" means in the library (treatment continues until disease progression), so the')
        self.write(1, "# plan is bounded.")
        self.write(1, "stop if response is PD")

    def order_sets(self, cycle: Node, depth: int, contained: dict[str, Node]) -> None:
        lines: list[_Line] = []
        definitions: dict[int, _Definition] = {}
        for order in cycle.elements("action"):
            self.unread(order, _ORDER_ELEMENTS)
            target = self.follow(order, contained)
            definition = self.definition(target) if target is not None else None
            if definition is None:
                continue
            by_text: dict[str, _Line] = {}
            for day_ext in self.extensions(order).get(ig.TIMING_OF_DAYS, []):
                day, text, where = self.day(day_ext)
                if day is None:
                    continue
                line = by_text.get(text)
                if line is None:
                    line = _Line(definition.medicine, [*definition.head], [*definition.tail], [], text, where)
                    line.words.append("\x00")  # where the days go
                    line.words += definition.middle
                    by_text[text] = line
                    lines.append(line)
                    definitions[id(line)] = definition
                line.days.append(day)
        given: dict[str, set[int]] = {}
        chemo: set[int] = set()
        for line in lines:
            given.setdefault(line.medicine.lower(), set()).update(line.days)
            if definitions[id(line)].anticancer:
                chemo.update(line.days)
        for line in lines:
            relation = self.relation(line, given, chemo)
            words = [_days(line.days) if w == "\x00" else w for w in line.words]
            self.write(depth, " ".join([*words, *relation, *line.tail]))
            self.prose(depth + 1, _LINE_BREAK.split(line.instructions) if line.instructions else [], line.node)

    def day(self, ext: Node) -> tuple[int | None, str, Node]:
        """Return a day of ``sact-timing-of-days``, its instructions and where they are written."""
        day: int | None = None
        text = ""
        where = ext
        for sub in ext.elements("extension"):
            url = sub.text("url")
            if url == "day":
                value = self.value(sub, expected="valueInteger")
                if value is not None:
                    day = _whole(value, -_MOST)
            elif url == "instructions":
                value = self.value(sub, expected="valueString", within="sact-timing-of-days.instructions")
                if value is not None and isinstance(value.value, str):
                    text, where = value.value, value
        if day is None:
            self.lost(ext, "the day has no whole-number day", lacking=("day",))
        return day, text, where

    def definition(self, node: Node) -> _Definition | None:
        self.unread(node, _ACTIVITY_ELEMENTS)
        concept = node.child("productCodeableConcept")
        codings = concept.elements("coding") if concept is not None else []
        if concept is None or not (codings or concept.text("text")):
            self.lost(node, "the order set names no product")
            return None
        coding = codings[0] if codings else concept  # a medicine with no NZMT code is named by its text alone
        code, display = coding.text("code"), coding.text("display") or concept.text("text") or ""
        product = self.medicine(coding, display, code)
        if product is None:
            return None
        name, medicine = product
        dosage = next(iter(node.elements("dosage")), None)
        if dosage is None:
            self.lost(node, f"{display} has no dosage")
            return None
        self.unread(dosage, _DOSAGE_ELEMENTS)
        amount = self.dose(dosage)
        route = self.route(dosage)
        if amount is None or route is None:
            return None
        head = [name if _NAME.fullmatch(name) else quoted(name), *amount, route]
        frequency = self.frequency(dosage)
        if frequency:
            head.append(frequency)
        middle = self.duration(dosage)
        quantity = node.child("quantity")
        if quantity is not None:
            middle += self.volume(quantity)
        cap = dosage.child("maxDosePerAdministration")
        if cap is not None:
            middle += self.measure(cap, "max", "the cap")
        tail: list[str] = []
        as_needed = dosage.child("asNeededBoolean")
        if as_needed is not None and as_needed.value is True:
            tail.append("prn")
        ext = self.extensions(node)
        anticancer = medicine.anticancer if medicine is not None else False
        role = _ROLES.get(node.text("usage") or "")
        if role is not None:  # the role as `regdsl export` writes it (the guide defines no extension for it)
            tail.append(role)
            anticancer = role == "anticancer"
        for item in ext.get(ig.SUPPORTIVE, []):
            value = self.value(item, expected="valueBoolean")
            if value is not None and isinstance(value.value, bool):
                tail.append("supportive" if value.value else "anticancer")
                anticancer = not value.value
        for item in ext.get(ig.OFF_LABEL, []):
            value = self.value(item, expected="valueBoolean")
            if value is not None and value.value is True:
                tail.append("off-label")
        return _Definition(name, head, middle, tail, anticancer)

    def medicine(self, coding: Node, display: str, code: str | None) -> tuple[str, Medicine | None] | None:
        """Return the name to write for a product and its medicine; None (reported) when it is not imported.

        The medicine is the one of the table (the target library's, then the built-in) its display
        names (a name or an alias, with no code or the medicine's own), else the one its code
        names, written as the table spells it. A display that names one medicine and a code that
        names another is neither. A product with no code that the table lacks is written as its
        display: a medicine the library has yet to define, which the check reports.
        """
        named = self.medicines.find(display) if display else None
        coded = self.by_code.get(code) if code is not None else None
        if named is not None and coded is not None and named.name != coded.name:
            self.lost(
                coding,
                f"the product's display {display!r} names {named.display} and its code {code} names "
                f"{coded.display}: which medicine is meant is not known",
            )
            return None
        if code is not None and named is not None and named.nzmt not in {None, code}:
            named = None
        medicine = named or coded
        if medicine is not None:
            return _spelling(medicine, display), medicine
        if code is not None or not display:
            self.lost(coding, f"the medicine table has no medicine {display!r} with product code {code}")
            return None
        return display, None

    def dose(self, dosage: Node) -> list[str] | None:
        rates = dosage.elements("doseAndRate")
        quantity = rates[0].child("doseQuantity") if rates else None
        amount = _quantity(quantity.child("value")) if quantity is not None else None
        if quantity is None or amount is None:
            self.lost(dosage, "the dose has no doseQuantity.value, a positive number")
            return None
        label = quantity.text("unit") or ""
        flat = label.endswith(" flat")
        unit = self.unit(quantity, label.removesuffix(" flat"))
        if unit is None:
            return None
        return [amount, unit.aliases[0], *(["flat"] if flat else [])]

    def unit(self, quantity: Node, label: str) -> Unit | None:
        code = quantity.text("code")
        unit = find_unit(label)
        if unit is None or (code is not None and unit.code != code):
            unit = next((u for u in UNITS if u.code == code), None)
        if unit is None:
            self.lost(quantity, f"the unit {label!r} (code {code}) is not one of the vocabulary's")
        return unit

    def route(self, dosage: Node) -> str | None:
        route = dosage.child("route")
        codings = route.elements("coding") if route is not None else []
        code = codings[0].text("code") if codings else None
        found = next((r for r in ROUTES if r.code == code), None)
        if found is None and not codings:  # a route the guide's value set lacks: `regdsl export` words it only
            said = dosage.text("text") or ""
            found = next((r for r in ROUTES if said.endswith(f" by {r.term}")), None)
        if found is None:
            self.lost(route or dosage, f"the route (code {code}) is not one of the vocabulary's")
            return None
        return found.aliases[0]

    def frequency(self, dosage: Node) -> str | None:
        timing = dosage.child("timing")
        code = timing.child("code") if timing is not None else None
        if code is None:  # a frequency the guide's value set lacks: `regdsl export` words it only
            said = dosage.text("text") or ""
            worded = [f for f in FREQUENCIES if re.search(rf" {re.escape(f.term)}(?: over | by |$)", said)]
            return max(worded, key=lambda f: len(f.term)).phrase if worded else None
        codings = code.elements("coding")
        for coding in codings:
            if coding.text("system") == SNOMED:
                found = next((f for f in FREQUENCIES if f.code == coding.text("code")), None)
                if found is not None:
                    return found.phrase
        self.lost(code, f"the frequency {code.text('text')!r} is not one of the vocabulary's")
        return None

    def duration(self, dosage: Node) -> list[str]:
        rates = dosage.elements("doseAndRate")
        rate = rates[0].child("rateRange") if rates else None
        high = rate.child("high") if rate is not None else None
        if high is None:
            return []
        value, unit = high.child("value"), (high.text("unit") or high.text("code") or "").lower()
        amount = _whole(value, 1) if value is not None else None
        if amount is None or unit not in _MINUTES:
            self.lost(high, "the infusion time is not a whole number of minutes or hours")
            return []
        minutes = amount * _MINUTES[unit]
        if minutes > 60 and minutes % 60 == 0:
            return ["over", str(minutes // 60), "hours"]
        return ["over", str(minutes), "min"]

    def volume(self, quantity: Node) -> list[str]:
        return self.measure(quantity, "in", "the volume")

    def measure(self, quantity: Node, word: str, what: str) -> list[str]:
        """Return a quantity as the words ``WORD AMOUNT UNIT`` (a volume's ``in``, a cap's ``max``)."""
        amount = _quantity(quantity.child("value"))
        unit = self.unit(quantity, quantity.text("unit") or "")
        if amount is None:
            self.lost(quantity, f"{what} has no value, a positive number")
        if amount is None or unit is None:
            return []
        return [word, amount, unit.aliases[0]]

    # -- support and references ----------------------------------------------------------

    def support(self, plan: Node, depth: int) -> None:
        factors: list[str] = []
        for item in self.extensions(plan).get(ig.SUPPORT_FACTOR, []):
            parts = {sub.text("url"): sub for sub in item.elements("extension")}
            concepts = {k: self.value(v, expected="valueCodeableConcept") for k, v in parts.items() if k}
            factor, value = concepts.get("factor"), concepts.get("value")
            factor_text = factor.text("text") if factor is not None else None
            value_text = value.text("text") if value is not None else None
            if factor is None or value is None or factor_text is None or value_text is None:
                self.lost(item, "the support factor has no factor or value text", lacking=("factor", "value"))
                continue
            known = find_factor(factor_text)
            self.check_code(factor, known.code if known else None, f"the factor {factor_text!r}")
            coded = known.find_value(value_text) if known else None
            self.check_code(value, coded.code if coded else None, f"the value {value_text!r}")
            factors.append(f"{factor_text}: {value_text}")
        if factors:
            if depth:
                self.blank()
            self.write(depth, "support")
            for factor_line in factors:
                self.write(depth + 1, factor_line)

    def references(self, plan: Node, depth: int) -> None:
        for number, item in enumerate(plan.elements("relatedArtifact")):
            if depth and not number:
                self.blank()
            display = item.text("display")
            if display is None:
                self.lost(item, "the related artifact has no display text")
                continue
            self.write(depth, f"reference {quoted(display)}")
            if (url := item.text("url")) is not None:
                self.write(depth + 1, f"url {quoted(url)}")
            for pmid in _PMID.findall(display):
                self.write(depth + 1, f"pmid {pmid}")
            for when in _ACCESSED.findall(display):
                try:
                    day = datetime.datetime.strptime(when, "%d %B %Y").date()
                except ValueError:
                    continue
                self.write(depth + 1, f"accessed {day.isoformat()}")

    # -- timing in instructions ----------------------------------------------------------

    def relation(self, line: _Line, given: dict[str, set[int]], chemo: set[int]) -> list[str]:
        """Return the relation the line's instructions state, as words; [] if none (noted if it reads like one)."""
        text = line.instructions
        anchors = sorted((m for m in given if m != line.medicine.lower()), key=len, reverse=True)
        found: list[list[str]] = []
        unread: list[str] = []
        for match, timed in _phrases(text):
            rest = text[match.end() :]
            anchor = next((a for a in ("chemotherapy", *anchors) if rest.lower().startswith(a)), None)
            words = _time_words(match) if timed else []
            if anchor is None:
                unread.append(match[0].strip() + " " + rest.split(".")[0])
                continue
            on = chemo if anchor == "chemotherapy" else given[anchor]
            if timed and not set(line.days) <= on:
                unread.append(match[0] + anchor)
                continue
            written = text[match.end() : match.end() + len(anchor)]
            direction = "after" if match["dir"].lower() == "after" else "before"
            after = rest[len(anchor) :].removeprefix(" infusion")
            qualifier = re.match(r" (OR [^.]*)", after)
            found.append(
                [
                    *words,
                    direction,
                    written if _NAME.fullmatch(written) else quoted(written),
                    *([quoted(qualifier[1])] if qualifier else []),
                ]
            )
        if len(found) == 1:
            return found[0]
        if found or unread:
            reason = "two timings" if len(found) > 1 else "no medicine of the cycle on the line's days"
            self.find(
                C.FHR_TIMING_AS_TEXT,
                line.node,
                f"the timing in {text.splitlines()[0][:80]!r} stays as the instructions ({reason})",
            )
        return []


def _core_form(root: Node) -> Node | None:
    """Return the first action timed by the core days-of-cycle extension, in a plan not of the cca profile."""
    meta = root.child("meta")
    if meta is not None and ig.CCA_PLAN in {p.value for p in meta.elements("profile") if isinstance(p.value, str)}:
        return None
    waiting = collections.deque(root.elements("action"))
    while waiting:
        action = waiting.popleft()
        timing = action.child("timingTiming")
        if timing is not None and any(e.text("url") == DAYS_OF_CYCLE for e in timing.elements("extension")):
            return action
        waiting.extend(action.elements("action"))
    return None


def _parts(root: Node) -> list[Node]:
    """Return the part actions of a regimen in parts: titled actions, at the top or under one titled group action."""
    actions = root.elements("action")
    if len(actions) == 1 and actions[0].child("definitionCanonical") is None and actions[0].child("title"):
        inner = actions[0].elements("action")
        if inner and all(_PART_TITLE.match(a.text("title") or "") for a in inner):
            return inner  # the form `regdsl export --profile cca` writes: the parts under the regimen's action
    return [a for a in actions if _PART_TITLE.match(a.text("title") or "")]


def _phrases(text: str) -> Iterator[tuple[re.Match[str], bool]]:
    for match in _TIMED.finditer(text):
        yield match, True
    for match in _UNTIMED.finditer(text):
        if not any(m.start() <= match.start() < m.end() for m in _TIMED.finditer(text)):
            yield match, False


def _time_words(match: re.Match[str]) -> list[str]:
    low = _NUMBER_WORDS.get(match["low"].lower())
    low_n = low if low is not None else int(match["low"])
    high_word = match["high"]
    high_n = None if high_word is None else _NUMBER_WORDS.get(high_word.lower())
    if high_word is not None and high_n is None:
        high_n = int(high_word)
    if match["unit"].lower().startswith("h"):
        if low_n == 1 and high_n is None:
            return ["60", "min"]
        return [str(low_n), *(["to", str(high_n)] if high_n is not None else []), "hours"]
    return [str(low_n), *(["to", str(high_n)] if high_n is not None else []), "min"]


def _plain(node: Node, index: dict[str, Node]) -> object:
    """Return the value ``node`` holds as ``json.loads`` gives it, putting each node in ``index`` by its path."""
    index[node.path] = node
    if isinstance(node.value, dict):
        return {key: _plain(member, index) for key, member in node.value.items()}
    if isinstance(node.value, list):
        return [_plain(item, index) for item in node.value]
    return node.value


def _spelling(medicine: Medicine, display: str) -> str:
    """Return the name of ``medicine`` as its table spells it: the alias ``display`` is, else its display form."""
    return next((a for a in medicine.aliases if a.lower() == display.lower()), medicine.display)


def _whole(node: Node, low: int) -> int | None:
    """Return a node's whole number from ``low`` to ``_MOST``, else None (a boolean is not a number)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= _MOST:
        return None
    return value


def _quantity(node: Node | None) -> str | None:
    """Return a dose or volume as written, if it is a positive number of reasonable size (no ``1e99999``)."""
    value = node.value if node is not None else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or not 0 < value < _MOST:
        return None
    if isinstance(value, int):
        return str(value)
    exponent = value.as_tuple().exponent
    return format(value, "f") if isinstance(exponent, int) and exponent >= -_PLACES else None


def _days(days: list[int]) -> str:
    """Write days as the language does: ``day 1``, ``days 1 to 28``, ``days 2 to 4, 23 to 25``, ``days 2, 3``."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        parts += [f"{run[0]} to {run[-1]}"] if len(run) > 2 else [str(d) for d in run]
    return ("day " if len(ordered) == 1 else "days ") + ", ".join(parts)


def _spaced(paragraphs: list[str]) -> list[str]:
    """Return paragraphs as prose lines, a blank line between two."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += [""] if lines else []
        lines.append(paragraph)
    return lines
