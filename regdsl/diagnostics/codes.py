"""The codes found before any rule runs: reading, parsing, lowering, configuration, suppressions.

Codes are a prefix and three digits. ``SRC`` is about the file itself, ``SYN`` about
syntax, ``VOC`` about vocabulary (medicines, units, routes, factors), ``STR`` about
structure, ``TIM`` about days and times, ``BRA`` about branching and links, ``SAF``
about dose forms that have harmed patients, ``CFG`` about the configuration file
(``regdsl.toml`` or ``[tool.regdsl]``), ``IGN`` about suppression comments, ``INT`` about
the compiler itself, ``FHR`` about a FHIR file read by ``regdsl import``.

Every code, these and the rules' (``regdsl.check.registry``), is made by ``define``, which
refuses a malformed one, and gathered by ``index``, which refuses two with one code or name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from regdsl.diagnostics.model import Code, Severity

__all__ = ["CODES", "CodeError", "define", "index"]

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO

_CODE = re.compile(r"[A-Z]{3}[0-9]{3}")
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# A file that cannot be read or parsed was not checked at all: that is never silenced.
_NEVER_SILENCED = ("SRC", "SYN", "INT")


class CodeError(ValueError):
    """A code that cannot be registered: malformed, undocumented, or a twin of another."""


def define(
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    explanation: str,
    *,
    suppressible: bool = True,
    many: str = "",
) -> Code:
    """Return the code ``code`` named ``name``; raises ``CodeError`` if either is malformed or a text is empty.

    ``many`` says what many of its findings are, when a line has more than a few of them
    ("days outside the cycle"; ``regdsl.check.run.MOST_PER_LINE``).
    """
    if not _CODE.fullmatch(code):
        raise CodeError(f"code {code!r} is not three capitals and three digits, such as SAF101")
    if not _NAME.fullmatch(name):
        raise CodeError(f"{code}: name {name!r} is not kebab-case, such as dose-trailing-zero")
    if not summary.strip() or not explanation.strip():
        raise CodeError(f"{code} {name}: a code has a summary and an explanation")
    return Code(
        code=code,
        name=name,
        severity=severity,
        summary=summary,
        explanation=explanation,
        suppressible=suppressible and not code.startswith(_NEVER_SILENCED),
        many=many,
    )


def index(codes: Iterable[Code]) -> dict[str, Code]:
    """Return ``codes`` by code, in code order; raises ``CodeError`` for a code or a name given twice."""
    by_code: dict[str, Code] = {}
    names: dict[str, str] = {}
    for entry in codes:
        if entry.code in by_code:
            raise CodeError(f"code {entry.code} is registered twice")
        if entry.name in names:
            raise CodeError(f"name {entry.name!r} is registered twice, by {names[entry.name]} and {entry.code}")
        by_code[entry.code] = entry
        names[entry.name] = entry.code
    return {key: by_code[key] for key in sorted(by_code)}


# -- the file itself ---------------------------------------------------------------
NOT_UTF8 = define(
    "SRC001",
    "not-utf8",
    E,
    "the file is not UTF-8 text",
    "Regimen files are UTF-8 text. A byte sequence that is not UTF-8 usually means the "
    "file was saved by a word processor or is not a regimen file at all.",
)
EMPTY_FILE = define(
    "SRC002",
    "empty-file",
    E,
    "the file holds no regimen",
    "A `.reg` file must hold a regimen (or, for `library.reg`, library definitions).",
)
FILE_TOO_LARGE = define(
    "SRC003",
    "file-too-large",
    E,
    "the file is larger than the size cap",
    "Regimen files are small; the compiler refuses a file over its size cap rather than "
    "spending minutes on it. Split the file or check that it is a regimen file.",
)
BINARY_CONTENT = define(
    "SRC004",
    "binary-content",
    E,
    "the file holds control characters",
    "A NUL byte or another control character (C0 but the tab and line breaks, DEL, C1, a carriage "
    "return that does not end a line) means the file is binary or damaged; shown on a terminal, "
    "a control character can also rewrite what the terminal shows.",
)
INVISIBLE_CHARACTER = define(
    "SRC005",
    "invisible-character",
    E,
    "the file holds a bidirectional control or another invisible character",
    "A bidirectional control (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) makes text "
    'display in an order other than the one it is read in: a dose of "12" can show as "21" '
    "(a Trojan Source attack). Zero-width and other invisible format characters (U+200B, the "
    "soft hyphen, U+FEFF inside the file, tags) and the line and paragraph separators hide inside "
    "words, so that a medicine name no longer matches the table. The zero-width joiners (U+200C, "
    "U+200D) are allowed between two characters of the scripts and emoji that need them, never "
    "beside ASCII text. Every one is reported where it is; delete it.",
)

# -- syntax ------------------------------------------------------------------------
SYNTAX_ERROR = define(
    "SYN001",
    "syntax-error",
    E,
    "the line cannot be read",
    "The line does not follow the regimen language. The message says what was expected "
    "at the caret; docs/language.md shows every construct with an example.",
)
UNTERMINATED_TEXT = define(
    "SYN002",
    "unterminated-text",
    E,
    "quoted text has no closing quote",
    'Quoted text starts and ends with `"` on the same line. Use a prose block '
    "(lines starting with `|`) for longer text.",
)
BAD_INDENT = define(
    "SYN003",
    "bad-indentation",
    E,
    "indentation does not match an outer block",
    "Lines inside a block are indented more than the line that opens it, and a line that "
    "closes a block returns to the indentation of an earlier line.",
)
TOO_DEEP = define(
    "SYN004",
    "nesting-too-deep",
    E,
    "a condition is nested too deeply",
    "Conditions may nest parentheses and `not` up to a fixed depth; deeper nesting is "
    "unreadable for a reviewer and almost always a mistake.",
)

REFUSED_ESCAPE = define(
    "SYN005",
    "refused-escape",
    E,
    "an escape writes a control, bidirectional or invisible character",
    "Quoted text may hold a tab (`\\t`) and a line break (`\\n`), but no other control character "
    "(an escape such as `\\u001b` would reach terminals and CI logs, which obey it), no "
    "bidirectional control (`\\u202e` makes text display in another order than it is read) and no "
    "invisible character (`\\u200b`); the finding is at the escape.",
)
LONE_SURROGATE = define(
    "SYN006",
    "lone-surrogate",
    E,
    "an escape writes half of a surrogate pair",
    "`\\ud800` to `\\udfff` are the halves of UTF-16 surrogate pairs, not characters: no text "
    "can hold one alone. Write the character itself (regimen files are UTF-8), or both halves "
    "one after the other (`\\ud83d\\ude00`).",
)
WORDS_RUN_TOGETHER = define(
    "SYN007",
    "words-run-together",
    E,
    "a keyword runs into the word after it",
    "Words of the language are separated by a space: `status draft`, `day 1`, `days 1 to 5`. "
    "Where no other word may stand, `statusdraft` or `day1` can still be read as two words, but a "
    "reviewer, an editor's highlighting and a search for `day 1` read it as one, and a word "
    "run into a number is how `1` is lost or doubled. Write the space; `regdsl check --fix` "
    "writes it.",
)

# -- vocabulary --------------------------------------------------------------------
UNKNOWN_UNIT = define(
    "VOC001",
    "unknown-unit",
    E,
    "a dose unit is not in the vocabulary",
    "Dose units come from the controlled vocabulary (mg, g, microgram, mmol, mL, %, units, "
    "mg/m2, mg/kg, AUC, tablet, capsule...), each with its SNOMED CT code.",
)
UNKNOWN_ROUTE = define(
    "VOC002",
    "unknown-route",
    E,
    "a route is not in the vocabulary",
    "Routes come from the controlled vocabulary: oral, IV, subcut, IM, intrathecal, "
    "intravesical, topical, intra-arterial, intraperitoneal.",
)
UNKNOWN_MEDICINE = define(
    "VOC004",
    "unknown-medicine",
    E,
    "a medicine is not in the medicine table",
    "Medicines are named as in the medicine table (the package defaults, extended by the "
    "library's `library.reg`) or through a `drug` alias declared in the regimen.",
)
UNKNOWN_RESPONSE = define(
    "VOC009",
    "unknown-response",
    E,
    "a response category, or a group's value, is unknown",
    "Responses are those of the regimen's response vocabulary: without `responses` in the heading, "
    "CR, CRi, PR, SD, PD (and MRD for minimal residual disease); with `responses imwg`, the IMWG "
    "categories, and so on. A group's values are those it declares (`toxicity`: acceptable, "
    "unacceptable).",
)
UNKNOWN_MEASURE_OR_GROUP = define(
    "VOC014",
    "unknown-measure-or-group",
    E,
    "a condition names a measure or group that is not defined",
    "A condition such as `toxicity is unacceptable` or `cns is CNS3` names a group of the package "
    "(toxicity, radiotherapy, cns, deauville) or one defined with `group` in `library.reg`.",
)
UNKNOWN_STATUS = define(
    "VOC011",
    "unknown-status",
    E,
    "a regimen status is unknown",
    "Statuses are draft, provisional, published, discontinued and superseded (with `by`).",
)
UNKNOWN_FOOTNOTE = define(
    "VOC012",
    "unknown-footnote",
    E,
    "a footnote is not defined",
    "Footnotes are defined once in the library's `library.reg` and referenced by name.",
)
UNKNOWN_BLOCK = define(
    "VOC013",
    "unknown-block",
    E,
    "a shared block is not defined",
    "`use NAME` takes a `block NAME` defined in the same file or in `library.reg`.",
)
DUPLICATE_DEFINITION = define(
    "VOC015",
    "duplicate-definition",
    E,
    "a name is defined twice",
    "Each drug alias, block, medicine and footnote name is defined once.",
)
UNKNOWN_RESPONSE_VOCABULARY = define(
    "VOC019",
    "unknown-response-vocabulary",
    E,
    "`responses NAME` names no response vocabulary",
    "`responses NAME` in the heading names a vocabulary of the package (default, imwg, "
    "eln-aml-2022, eln-cml-2020, iwcll, recist) or one defined with `responses` in `library.reg`.",
)
MEASURE_UNIT = define(
    "VOC018",
    "measure-unit",
    E,
    "a threshold is not in its measure's unit",
    "A measure is compared in its one unit (creatinine in micromol/L, CrCl in mL/min, ANC and "
    "platelets in x10^9/L, weight in kg, age in years): a threshold written in another unit, "
    "or read in the wrong one, has caused ten-fold errors (micromol/L against mg/dL).",
)
UNKNOWN_MEDICINE_CLASS = define(
    "VOC017",
    "unknown-medicine-class",
    E,
    "a medicine's `class` is not a class regdsl knows",
    "`class NAME` under a `medicine` in `library.reg` says what the medicine is, so that the "
    "safety rules of that class apply to it (`class vinca-alkaloid`). A class regdsl does not "
    "know would apply no rule at all, so it is refused.",
)

# -- structure ---------------------------------------------------------------------
NOT_ONE_REGIMEN = define(
    "STR003",
    "not-one-regimen",
    E,
    "a file holds no regimen or several",
    "Each `.reg` file holds exactly one regimen, except `library.reg`, which holds none.",
)
DUPLICATE_REGIMEN = define(
    "STR004",
    "duplicate-regimen-id",
    E,
    "two files use one regimen id",
    "Regimen ids are unique in a library: links between regimens name them, and each id names "
    "its pages. Ids that differ only in case (`Dup-ID`, `dup-id`) are one file on a case-insensitive "
    "file system. Two regimens with one id would publish to one page, one dose or the other, so "
    "this cannot be suppressed, ignored or downgraded.",
    suppressible=False,
)
UNKNOWN_CYCLE = define(
    "STR005",
    "unknown-cycle",
    E,
    "a cycle or part referred to does not exist",
    "`same as cycle N`, `after cycle N` and `go to cycle N` name a cycle of this regimen.",
)
UNKNOWN_LINE_NAME = define(
    "TIM008",
    "unknown-line-name",
    E,
    "a line name in brackets names no line of the medicine",
    "`fluorouracil (bolus)` names the line written `fluorouracil (bolus) ...` in the same cycle, or a line of "
    "fluorouracil given by that route (`methotrexate (IT)`). Write a name one of the medicine's lines has.",
)
THEN_WITHOUT_LINE = define(
    "TIM010",
    "then-without-line",
    E,
    "`then` with no administration line right above it",
    "`then X ...` starts X when the line written right above it ends: that line must be an administration "
    "(not as needed) of the same block.",
)
BAD_NUMBER = define(
    "STR006",
    "not-a-whole-number",
    E,
    "a whole number was expected",
    "Days, cycle numbers and cycle lengths are whole numbers.",
)
BAD_RANGE = define("STR007", "empty-range", E, "a range ends before it starts", "In `A to B`, B is at least A.")
CLAUSE_CONFLICT = define(
    "STR016",
    "clause-conflict",
    E,
    "clauses or statements that cannot hold together",
    "Some clauses exclude each other. On an administration line: a clock (`every 12 hours`) and a "
    "frequency (`twice daily`), `starting` with more than one day or with `each day`, `exactly` with "
    "a range or an extension, `continuous` through several days with `over`, `bags` without an "
    "infusion, a pump on a route other than intravenous; the line is read without the second of "
    "them. `continuous treatment` is given every day, so its lines have no `days` and it copies no "
    "cycle (`same as`); a plan whose only treatment is continuous counts its limits in weeks, "
    "months or years, not in cycles.",
)
MISPLACED = define(
    "STR008",
    "misplaced-statement",
    E,
    "a statement is not allowed here",
    "Library definitions (`medicine`, `footnote`) belong in `library.reg`; regimen sections belong in regimen files.",
)

BAD_DATE = define(
    "STR011",
    "invalid-date",
    E,
    "a date is not a real calendar date",
    "Dates are written as `YYYY-MM-DD` and must exist (no 2025-02-30).",
)
CLOCK_COUNT_AMBIGUOUS = define(
    "TIM011",
    "clock-count-ambiguous",
    E,
    "a series of doses can be read two ways",
    "`every 12 hours for 6 doses` on several days could be 6 doses in all or 6 on each day: three "
    "times the dose. Write `starting day 1` (one series from that day) or `each day` (a series on "
    "every listed day). A series without a count fills its days, so its interval must divide them.",
)

# A value or a regimen beyond the compiler's limits was not checked in full: never silenced.
BEYOND_LIMIT = define(
    "STR021",
    "number-beyond-limit",
    E,
    "a number is larger than any regimen needs",
    "Cycle numbers, days, times, amounts and counts have limits far beyond any real regimen "
    "(docs/language.md, section 14.6, lists each with its reason). A number beyond its limit is "
    "almost always a typing slip (a missing unit, digits run together), and the compiler refuses it "
    "rather than spending minutes and gigabytes on it.",
    suppressible=False,
)
TOO_COMPLEX = define(
    "STR022",
    "too-complex-to-check",
    E,
    "a regimen expands to more than the compiler checks",
    "A regimen whose cycles, doses, timing constraints or plan expand beyond the work limits of "
    "docs/language.md (section 14.6) is not checked in full, so it cannot pass: a real regimen is "
    "thousands of times smaller. Split it into regimens, or write its cycles as fewer lines.",
    suppressible=False,
)

# -- branching and links -------------------------------------------------------------
UNKNOWN_LINK = define(
    "BRA001",
    "unknown-regimen-link",
    E,
    "a link names a regimen not in the library",
    "`continue with ID` and `counted with ID` name a regimen file of the same library "
    "(every `*.reg` under the library root).",
)

# -- configuration -------------------------------------------------------------------
CONFIG_SYNTAX = define(
    "CFG001",
    "config-syntax-error",
    E,
    "the configuration file is not valid TOML",
    "What it does: reports a `regdsl.toml` or `pyproject.toml` that cannot be read as TOML: a "
    "syntax error, bytes that are not UTF-8, a byte-order mark, arrays or tables nested too deeply, "
    "or a file over 1 MiB. Nothing is checked until it is fixed (exit code 2).\n\n"
    "Why it matters: a configuration that cannot be read would silently select the wrong rules.\n\n"
    'Example: `select = ["SAF"`\n\n'
    'Use instead: `select = ["SAF"]`',
    suppressible=False,
)
CONFIG_UNKNOWN_KEY = define(
    "CFG002",
    "unknown-config-key",
    E,
    "the configuration has a key regdsl does not know",
    "What it does: reports a key other than `select`, `ignore`, `severity`, `root` and `exclude`.\n\n"
    "Why it matters: a misspelt key (`ignores`) is otherwise ignored, and the rules it meant to "
    "change are not changed.\n\n"
    'Example: `ignores = ["PRO001"]`\n\n'
    'Use instead: `ignore = ["PRO001"]`',
    suppressible=False,
)
CONFIG_WRONG_TYPE = define(
    "CFG003",
    "config-wrong-type",
    E,
    "a configuration value has the wrong type",
    "What it does: reports a value of the wrong kind: `select`, `ignore` and `exclude` take lists "
    "of strings, `severity` a table of rule = level, `root` a string.\n\n"
    "Why it matters: regdsl will not guess what a value of the wrong kind meant.\n\n"
    'Example: `ignore = "PRO001"`\n\n'
    'Use instead: `ignore = ["PRO001"]`',
    suppressible=False,
)
CONFIG_UNKNOWN_RULE = define(
    "CFG004",
    "unknown-rule-in-config",
    E,
    "the configuration names no known rule",
    "What it does: reports a rule in `select`, `ignore` or `severity` that is not a code "
    "(`SAF101`), a rule name (`dose-trailing-zero`) or a code prefix (`SAF`) of a known rule.\n\n"
    "Why it matters: a misspelt rule is silently not selected, or not ignored.\n\n"
    'Example: `ignore = ["dose-traling-zero"]`\n\n'
    "Use instead: a code or name from `regdsl rules`.",
    suppressible=False,
)
CONFIG_BAD_SEVERITY = define(
    "CFG005",
    "bad-severity-in-config",
    E,
    "a configured severity is not error, warning or info",
    "What it does: reports a level in `severity` other than `error`, `warning` and `info`.\n\n"
    "Why it matters: the level decides whether `regdsl check` fails; it must be one regdsl knows.\n\n"
    'Example: `severity = { "prose-near-miss" = "low" }`\n\n'
    'Use instead: `severity = { "prose-near-miss" = "info" }`',
    suppressible=False,
)
CONFIG_UNSUPPRESSIBLE = define(
    "CFG006",
    "unsuppressible-in-config",
    E,
    "the configuration ignores or downgrades a rule that cannot be silenced",
    "What it does: reports `ignore` or `severity` naming a rule whose findings cannot be "
    "silenced, such as `vinca-intrathecal` (SAF001). A prefix such as `SAF` ignores only the "
    "rules that can be silenced.\n\n"
    "Why it matters: these findings are errors that have killed patients; no configuration can "
    "hide them or let a check pass with them.\n\n"
    'Example: `ignore = ["vinca-intrathecal"]`\n\n'
    "Use instead: correct the regimen.",
    suppressible=False,
)
CONFIG_BAD_ROOT = define(
    "CFG007",
    "config-root-not-found",
    E,
    "the configured library root is not a folder",
    "What it does: reports a `root` that does not name a folder (relative to the configuration "
    "file).\n\n"
    "Why it matters: the root is where `library.reg` and the linked regimens are found; a wrong "
    "root makes every link look broken.\n\n"
    'Example: `root = "regimnes"`\n\n'
    'Use instead: `root = "regimens"`',
    suppressible=False,
)

CONFIG_ROOT_OUTSIDE = define(
    "CFG008",
    "config-root-outside",
    E,
    "the configured library root is outside the configuration's folder",
    "What it does: reports a `root` that leads out of the folder holding the configuration file "
    "(`..`, an absolute path, a link to elsewhere).\n\n"
    "Why it matters: every `*.reg` file under the root is read to resolve links; a root such as "
    "`../../..` would read the whole file system, and regimens that are not the library's would "
    "answer its links.\n\n"
    'Example: `root = "../../.."`\n\n'
    'Use instead: `root = "regimens"`, or move the configuration to the library\'s folder.',
    suppressible=False,
)

# -- suppressions -------------------------------------------------------------------
SUPPRESSION_NO_REASON = define(
    "IGN001",
    "suppression-without-reason",
    W,
    "a suppression gives no reason",
    "What it does: flags `# regdsl: ignore[rule]` with no `-- reason` after it. The finding is "
    "not suppressed.\n\nWhy it matters: a reviewer must see why a warning about a patient's "
    "treatment was silenced.\n\nExample: `# regdsl: ignore[dose-trailing-zero]`\n\n"
    "Use instead: `# regdsl: ignore[dose-trailing-zero] -- as printed in the protocol`",
)
UNUSED_SUPPRESSION = define(
    "IGN002",
    "unused-suppression",
    W,
    "a suppression silences nothing",
    "What it does: flags a `# regdsl: ignore[...]` comment whose rules find nothing on its line.\n\n"
    "Why it matters: a stale suppression would silence a real finding added later.\n\n"
    "Example: `loratadine 10 mg oral days 1  # regdsl: ignore[dose-trailing-zero] -- x`\n\n"
    "Use instead: remove the comment.",
)
UNSUPPRESSIBLE = define(
    "IGN003",
    "unsuppressible-finding",
    E,
    "a suppression names a finding that cannot be silenced",
    "What it does: flags a suppression of a finding so grave that no reason can excuse it, such as "
    "a vinca alkaloid given intrathecally.\n\nWhy it matters: these errors have killed patients.\n\n"
    "Example: `# regdsl: ignore[vinca-intrathecal] -- local practice`\n\n"
    "Use instead: correct the regimen.",
)
UNKNOWN_SUPPRESSION = define(
    "IGN004",
    "unknown-rule-suppressed",
    E,
    "a suppression names no known rule",
    "What it does: flags a suppression naming a code or rule that does not exist.\n\n"
    "Why it matters: a misspelt suppression silences nothing and hides the intent.\n\n"
    "Example: `# regdsl: ignore[dose-traling-zero] -- x`\n\n"
    "Use instead: a name from `regdsl rules`.",
)

# -- importing FHIR (`regdsl import`) -----------------------------------------------
# Found in a JSON file, located at the element (the JSON path is in the message).
FHR_NOT_JSON = define(
    "FHR001",
    "fhir-not-json",
    E,
    "the file is not JSON",
    "What it does: flags an input of `regdsl import` that is not UTF-8 JSON, at the first fault.\n\n"
    "Why it matters: nothing can be read from it, so nothing is imported.\n\n"
    'Example: `{"resourceType": "PlanDefinition",}` (a comma before `}`)\n\n'
    "Use instead: the JSON file as the library publishes it.",
)
FHR_TOO_LARGE = define(
    "FHR002",
    "fhir-too-large",
    E,
    "the file is larger than an import reads",
    "What it does: refuses a JSON file over the size limit of `regdsl import` (8 MiB), before reading it.\n\n"
    "Why it matters: the import is bounded; a regimen's PlanDefinition is a few hundred kilobytes.\n\n"
    "Example: a 50 MB export of a whole library in one file\n\n"
    "Use instead: one file per regimen.",
)
FHR_TOO_DEEP = define(
    "FHR003",
    "fhir-too-deep",
    E,
    "the JSON is nested too deeply",
    "What it does: refuses JSON nested more than 64 levels, where the nesting passes the limit.\n\n"
    "Why it matters: a FHIR resource nests about a dozen levels; reading without a limit could "
    "exhaust the stack.\n\n"
    "Example: `[[[[...]]]]` a thousand levels deep\n\n"
    "Use instead: the resource as FHIR defines it.",
)
FHR_NOT_PLAN = define(
    "FHR004",
    "fhir-not-plan-definition",
    E,
    "the JSON is not a PlanDefinition",
    "What it does: flags JSON whose `resourceType` is not `PlanDefinition` (a regimen of the "
    "CcaPlanDefinition profile).\n\n"
    "Why it matters: only a regimen can become a .reg file.\n\n"
    'Example: `{"resourceType": "Patient"}`\n\n'
    "Use instead: the regimen's PlanDefinition.",
)
FHR_NESTED_CONTAINED = define(
    "FHR005",
    "fhir-nested-contained",
    W,
    "a contained resource contains resources (dom-2)",
    "What it does: flags `contained` inside a contained resource, which FHIR's invariant dom-2 "
    "forbids; the import still reads it (the NZ library's regimens in parts hold each part's "
    "activity definitions so).\n\n"
    "Why it matters: a FHIR validator rejects the file; `regdsl export` writes every contained "
    "resource at the top.\n\n"
    "Example: `contained[0].contained[0]`\n\n"
    "Use instead: every resource in the root's `contained`, referred to by `#id`.",
)
FHR_UNKNOWN_EXTENSION = define(
    "FHR006",
    "fhir-unknown-extension",
    W,
    "an extension the implementation guide does not define",
    "What it does: flags an extension whose url is not one the HL7 NZ Cancer Control Agency "
    "guide defines. The import reads the ones whose meaning the NZ library's regimens show "
    "(`sact-is-supportive-care`, `sact-child-regimen-extra-details`) and leaves out others.\n\n"
    "Why it matters: a validator of the profile cannot check it, and another reader may not know it.\n\n"
    "Example: `http://hl7.org.nz/fhir/StructureDefinition/sact-is-supportive-care`\n\n"
    "Use instead: an extension the guide defines, or an element of FHIR itself.",
)
FHR_MARKDOWN_FOR_STRING = define(
    "FHR007",
    "fhir-markdown-for-string",
    W,
    "a markdown value where the extension allows a string",
    "What it does: flags `valueMarkdown` in an extension whose value the guide types as a "
    "string (the day's `instructions` of `sact-timing-of-days`); the text is read as written.\n\n"
    "Why it matters: the resource does not conform to the extension's definition.\n\n"
    'Example: `{"url": "instructions", "valueMarkdown": "ONCE daily."}`\n\n'
    'Use instead: `{"url": "instructions", "valueString": "ONCE daily."}`',
)
FHR_UNKNOWN_CODE = define(
    "FHR008",
    "fhir-unknown-code",
    W,
    "a code or code system the import does not know",
    "What it does: flags a coding whose system or code is not the one regdsl's vocabulary has "
    "for that element (a support factor, a setting, a cancer level); the text is imported and "
    "the vocabulary's code is the one exported.\n\n"
    "Why it matters: the code may be mistyped, or from a code system a reader cannot resolve.\n\n"
    'Example: `{"system": "http://snomed.info/sct", "code": "999"}` for Emetogenicity\n\n'
    "Use instead: the SNOMED CT code of the guide's value set.",
)
FHR_MISSING = define(
    "FHR009",
    "fhir-missing-element",
    W,
    "an element the profile requires is missing",
    "What it does: flags an element the guide requires that is absent, at its parent's JSON path, "
    "once where it is missing: every element a profile's snapshot gives a minimum of 1 (a plan's "
    "or an activity definition's `status`, a use context's `code`, a related action's `actionId`) "
    "and each required part of the guide's extensions (`regdsl/fhir/data/cca.json`), where the "
    "regimen can be imported without it (without a `sact-timing-of-days` `day` it cannot: that is "
    "`FHR012`); and a plan with no `name` or `title`, or an extension with no url or value.\n\n"
    "Why it matters: the resource does not conform to CcaPlanDefinition.\n\n"
    "Example: a PlanDefinition with no `status`\n\n"
    "Use instead: the element, as the profile defines it.",
)
FHR_TIMING_AS_TEXT = define(
    "FHR010",
    "fhir-timing-left-as-text",
    N,
    "an instruction's timing stays as text",
    "What it does: notes instruction text that reads like a timing (`two hours after food`, "
    "`prior to chemotherapy` with no dose to time it to) but is not one of the phrasings the "
    "import turns into a timing relation, or names no medicine of the cycle. The text is kept "
    "as the line's instructions.\n\n"
    "Why it matters: the timing network does not place that dose; a reviewer may write the relation.\n\n"
    "Example: `Take each dose on an empty stomach - one hour before OR two hours after food.`\n\n"
    "Use instead: a relation on the line where one is meant: `60 min before PACLItaxel`.",
)
FHR_START_READ_AS_BOUND = define(
    "FHR011",
    "fhir-start-read-as-bound",
    N,
    "a part's start window is read as its upper bound",
    'What it does: notes that a part\'s start text "within 4 to 6 weeks of surgery" is imported '
    "as `start 0 to 6 weeks after surgery`: no later than the upper bound. The words are kept "
    "under the start line.\n\n"
    "Why it matters: the lower bound (4 weeks) is advice the language has no field for; a "
    "reviewer confirms the reading.\n\n"
    "Example: `Commence within 4 to 6 weeks of surgery`\n\n"
    "Use instead: nothing to change, once the reading is confirmed.",
)
FHR_NOT_IMPORTED = define(
    "FHR012",
    "fhir-fact-not-imported",
    E,
    "a fact of the regimen could not be imported",
    "What it does: flags an element the regimen needs that cannot be read: a medicine whose "
    "product code the medicine table (the target library's, then the built-in) does not know, or "
    "whose display names one medicine and code another, a route, unit or frequency code outside "
    "the vocabulary, a definition an action points to that is not there, a dose with no value. "
    "The rest is imported, and the finding says what is missing.\n\n"
    "Why it matters: a regimen without that fact is not the published one.\n\n"
    'Example: `"route": {"coding": [{"system": "http://snomed.info/sct", "code": "0"}]}`\n\n'
    "Use instead: a code of the guide's value sets, or add the medicine to `library.reg`.",
)
FHR_NOT_READ = define(
    "FHR013",
    "fhir-element-not-read",
    W,
    "an element the import does not read",
    "What it does: flags an element of a PlanDefinition, one of its actions, an ActivityDefinition "
    "or its dosage that `regdsl import` does not read (docs/fhir.md lists what it reads); it is "
    "left out of the .reg file.\n\n"
    "Why it matters: what it says is not in the imported regimen.\n\n"
    'Example: `"patientInstruction": "with water"` in a dosage\n\n'
    "Use instead: the element the profile gives that fact (the day's instructions of "
    "`sact-timing-of-days`), or write the fact in the .reg file.",
)
FHR_CORE_NOT_READ = define(
    "FHR014",
    "fhir-core-not-imported",
    E,
    "a plain R4 PlanDefinition of the core form, which the import does not read",
    "What it does: flags a PlanDefinition that is not of the CcaPlanDefinition profile and times "
    "its actions with the core extension `timing-daysOfCycle`, the form `regdsl export --profile "
    "core` writes (relations, windows, branches and decisions as actions). The import reads the "
    "CcaPlanDefinition form only; nothing is imported.\n\n"
    "Why it matters: read as a CcaPlanDefinition, the core form's timing, branches and decisions "
    "would be lost from the .reg file without a word.\n\n"
    'Example: `"timingTiming": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/'
    'timing-daysOfCycle", ...}]}` in a PlanDefinition with no CcaPlanDefinition profile\n\n'
    "Use instead: the regimen's .reg source, or its `regdsl export --profile cca` file.",
)
FHIR_IMPORT_CODES = (
    FHR_NOT_JSON,
    FHR_TOO_LARGE,
    FHR_TOO_DEEP,
    FHR_NOT_PLAN,
    FHR_NESTED_CONTAINED,
    FHR_UNKNOWN_EXTENSION,
    FHR_MARKDOWN_FOR_STRING,
    FHR_UNKNOWN_CODE,
    FHR_MISSING,
    FHR_TIMING_AS_TEXT,
    FHR_START_READ_AS_BOUND,
    FHR_NOT_IMPORTED,
    FHR_NOT_READ,
    FHR_CORE_NOT_READ,
)

# -- the compiler itself -------------------------------------------------------------
INTERNAL = define(
    "INT001",
    "internal-error",
    E,
    "the compiler failed",
    "This is a bug in regdsl, not in the regimen. Run again with `--debug` and report it.",
)

# Every code above, by code.
CODES: dict[str, Code] = index(
    (
        NOT_UTF8,
        EMPTY_FILE,
        FILE_TOO_LARGE,
        BINARY_CONTENT,
        INVISIBLE_CHARACTER,
        SYNTAX_ERROR,
        UNTERMINATED_TEXT,
        BAD_INDENT,
        TOO_DEEP,
        REFUSED_ESCAPE,
        LONE_SURROGATE,
        WORDS_RUN_TOGETHER,
        UNKNOWN_UNIT,
        UNKNOWN_ROUTE,
        UNKNOWN_MEDICINE,
        UNKNOWN_RESPONSE,
        UNKNOWN_MEASURE_OR_GROUP,
        UNKNOWN_RESPONSE_VOCABULARY,
        MEASURE_UNIT,
        UNKNOWN_STATUS,
        UNKNOWN_FOOTNOTE,
        UNKNOWN_BLOCK,
        DUPLICATE_DEFINITION,
        UNKNOWN_MEDICINE_CLASS,
        NOT_ONE_REGIMEN,
        DUPLICATE_REGIMEN,
        UNKNOWN_CYCLE,
        UNKNOWN_LINE_NAME,
        THEN_WITHOUT_LINE,
        BAD_NUMBER,
        BAD_RANGE,
        MISPLACED,
        CLAUSE_CONFLICT,
        BAD_DATE,
        CLOCK_COUNT_AMBIGUOUS,
        BEYOND_LIMIT,
        TOO_COMPLEX,
        UNKNOWN_LINK,
        CONFIG_SYNTAX,
        CONFIG_UNKNOWN_KEY,
        CONFIG_WRONG_TYPE,
        CONFIG_UNKNOWN_RULE,
        CONFIG_BAD_SEVERITY,
        CONFIG_UNSUPPRESSIBLE,
        CONFIG_BAD_ROOT,
        CONFIG_ROOT_OUTSIDE,
        SUPPRESSION_NO_REASON,
        UNUSED_SUPPRESSION,
        UNSUPPRESSIBLE,
        UNKNOWN_SUPPRESSION,
        *FHIR_IMPORT_CODES,
        INTERNAL,
    )
)
