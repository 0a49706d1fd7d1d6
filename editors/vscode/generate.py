"""Write ``syntaxes/regdsl.tmLanguage.json``, the TextMate grammar of regdsl, from ``grammar/regdsl.lark``.

The keywords are every word the Lark grammar names as a terminal, so a keyword added there is
highlighted once this script is run again; the numbers, units, names, quoted text and
frequencies are the Lark grammar's own patterns. What only the layout makes identifiable (the
medicine that starts an administration line, the route after its dose, a regimen's id) is
written here. Every pattern uses only what Oniguruma (VS Code) and Python's ``re`` read alike
(``tests/test_textmate.py`` checks it, and that the committed file is what this script writes).

Run from the repository, with the project installed::

    .venv/bin/python editors/vscode/generate.py          # rewrite the grammar
    .venv/bin/python editors/vscode/generate.py --check  # exit 1 if the committed file differs
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

from lark.lexer import PatternStr, TerminalDef

from regdsl.syntax.parser import build_parser

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "syntaxes" / "regdsl.tmLanguage.json"
SCOPE = "source.regdsl"

# The scope of each kind of keyword, by the Lark terminal's name; any other keyword is keyword.other.
DECLARATIONS = {
    "REGIMEN", "LIBRARY", "DRUG", "MEDICINE", "BLOCK", "FOOTNOTE", "PART", "CYCLE", "CYCLES", "PLAN",
    "SUPPORT", "REFERENCE", "NOTE", "OVERVIEW", "RESPONSES", "GROUP", "MEASURE", "CONTINUOUS", "TREATMENT",
}  # fmt: skip
CONTROL = {
    "IF", "OTHERWISE", "THEN", "CONTINUE", "WITH", "NEXT", "GO", "STOP", "PROCEED", "PROCEEDING",
    "COUNTED", "USE", "SAME", "AS", "WITHOUT", "OBSERVE", "AFTER", "BEFORE", "ANY", "BY",
}  # fmt: skip
FIELDS = {
    "NAME_KW", "TITLE", "SUBTITLE", "DESCRIPTION", "VERSION", "PUBLISHER", "AUTHOR", "COPYRIGHT", "URL",
    "CODE", "MEDICINE_CODE_SYSTEM", "DATE_KW", "APPROVED", "LAST_REVIEWED", "STATUS", "CANCER", "SETTING",
    "IDENTIFIER", "FOOTNOTES", "ACCESSED", "PMID", "ALIAS", "CLASS", "LIFETIME", "USUAL", "DOSE",
    "DOXORUBICIN_EQUIVALENT", "ROUTE", "FATAL", "EMETOGENIC", "RISK",
}  # fmt: skip
UNITS = {
    "MINUTES", "MINUTE", "MIN", "HOURS", "HOUR", "H", "DAY", "DAYS", "WEEK", "WEEKS",
    "MONTH", "MONTHS", "YEAR", "YEARS",
}  # fmt: skip
FLAGS = {"FLAT", "PRN", "SUPPORTIVE", "ANTICANCER", "OFF_LABEL", "S29", "PUMP", "BAGS"}
LOGICAL = {"AND", "OR", "NOT", "IS"}
KINDS = (
    ("keyword.other.declaration.regdsl", DECLARATIONS),
    ("keyword.control.regdsl", CONTROL),
    ("keyword.other.field.regdsl", FIELDS),
    ("keyword.other.unit.regdsl", UNITS),
    ("keyword.other.flag.regdsl", FLAGS),
    ("keyword.operator.logical.regdsl", LOGICAL),
)

# A word starts and ends where a Lark NAME would: not inside a longer name (`bep-5-day`, `cycles`).
BEFORE = "(?<![A-Za-z0-9_-])"
AFTER = "(?![A-Za-z0-9_]|-[A-Za-z0-9_])"
SPACE = "[ \\t]"
METACHARACTERS = set("\\.^$|?*+()[]{}")


@functools.cache
def terminals() -> tuple[TerminalDef, ...]:
    """Return the terminals of the Lark grammar."""
    return tuple(build_parser().terminals)


def keywords() -> dict[str, str]:
    """Return every keyword of the Lark grammar, by its terminal's name: the literal terminals that hold a letter."""
    return {
        t.name: t.pattern.value
        for t in terminals()
        if isinstance(t.pattern, PatternStr) and any(c.isalpha() for c in t.pattern.value)
    }


def lark_pattern(name: str) -> str:
    """Return the regular expression of the Lark terminal ``name`` as one group, its groups made non-capturing."""
    value = next(t.pattern.to_regexp() for t in terminals() if t.name == name)
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(value):
        char = value[i]
        if char == "\\":
            out.append(value[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(" and value[i + 1 : i + 2] != "?":
            char = "(?:"
        out.append({"\n": "\\n", "\t": "\\t"}.get(char, char))
        i += 1
    return "(?:" + "".join(out) + ")"


def literal(text: str) -> str:
    """Return a pattern matching ``text`` as written."""
    return "".join("\\" + c if c in METACHARACTERS else c for c in text)


def alternatives(words: list[str]) -> str:
    """Return one group matching any of ``words``, the longest first."""
    return "(?:" + "|".join(literal(w) for w in sorted(words, key=lambda w: (-len(w), w))) + ")"


def grammar() -> dict[str, object]:
    """Return the TextMate grammar as a JSON value."""
    found = keywords()
    every = alternatives(list(found.values()))
    not_unit = alternatives([w for n, w in found.items() if n not in UNITS])
    name = lark_pattern("NAME")
    category = lark_pattern("CATEGORY")
    category_scope = "constant.other.category.regdsl"
    string = lark_pattern("STRING")
    number = lark_pattern("NUMBER")
    minus = lark_pattern("MINUS")
    unit = f"(?:{lark_pattern('COUNT_UNIT')}|{lark_pattern('UNIT')})"
    word_end = "(?![A-Za-z0-9_%µμ²/]|-[A-Za-z0-9_])"  # where a unit's word ends
    frequency = lark_pattern("FREQUENCY")
    drug = f"(?!{every}{AFTER})(?:({name})|({string}))"
    medicine = "entity.name.function.medicine.regdsl"
    quoted_medicine = "string.quoted.double.medicine.regdsl"
    regimen_id = "entity.name.type.regimen.regdsl"
    declaration, control, field = (scope for scope, _ in KINDS[:3])
    others = [word for kind, word in found.items() if not any(kind in kinds for _, kinds in KINDS)]
    scope_of = {word: scope for scope, kinds in KINDS for kind, word in found.items() if kind in kinds}

    def at_line_start(words: str, rest: str) -> str:
        return f"^{SPACE}*({words}){AFTER}{rest}"

    def captures(*names: str) -> dict[str, dict[str, str]]:
        return {str(i): {"name": n} for i, n in enumerate(names, start=1) if n}

    def keyword_then_name(word: str, scope: str, listed: bool = False) -> dict[str, object]:
        named = f"{name}(?:{SPACE}*,{SPACE}*{name})*" if listed else name
        return {
            "match": at_line_start(word, f"{SPACE}+({named})"),
            "captures": captures(scope_of[word], scope),
        }

    repository: dict[str, object] = {
        "comment": {
            "patterns": [
                {
                    "name": "comment.line.number-sign.suppression.regdsl",
                    "match": f"(#){SPACE}*(regdsl:{SPACE}*ignore)(\\[)([^\\]\\n]*)(\\])([^\\n]*)",
                    "captures": captures(
                        "punctuation.definition.comment.regdsl",
                        "keyword.other.suppression.regdsl",
                        "punctuation.section.brackets.begin.regdsl",
                        "constant.other.rule.regdsl",
                        "punctuation.section.brackets.end.regdsl",
                    ),
                },
                {
                    "name": "comment.line.number-sign.regdsl",
                    "match": "(#)[^\\n]*",
                    "captures": captures("punctuation.definition.comment.regdsl"),
                },
            ]
        },
        "prose": {
            "name": "string.unquoted.prose.regdsl",
            "match": "(\\|)[^\\n]*",
            "captures": captures("punctuation.definition.prose.regdsl"),
        },
        "string": {
            "name": "string.quoted.double.regdsl",
            "begin": '"',
            "end": '"|$',
            "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.regdsl"}},
            "endCaptures": {"0": {"name": "punctuation.definition.string.end.regdsl"}},
            "patterns": [{"name": "constant.character.escape.regdsl", "match": "\\\\."}],
        },
        "support": {
            "comment": "A `support` block: its lines are `Factor: text` up to the next line indented no deeper.",
            "name": "meta.block.support.regdsl",
            "begin": f"^({SPACE}*)(support){AFTER}",
            "beginCaptures": captures("", declaration),
            "end": f"^(?!{SPACE}*(?:#|$))(?!\\1{SPACE}+[^ \\t\\n])",
            "patterns": [
                {"include": "#comment"},
                {"include": "#prose"},
                {"include": "#note"},
                {
                    "match": f'^{SPACE}*([A-Za-z][^\\n#":]*)(:)',
                    "captures": captures("variable.other.property.factor.regdsl", "punctuation.separator.regdsl"),
                },
            ],
        },
        "note": {
            "match": at_line_start("note", f"(?:{SPACE}+([^ \\t\\n#|][^\\n#]*))?"),
            "captures": captures(declaration, "entity.name.section.note.regdsl"),
        },
        "heading": {
            "comment": "A cycle, part or continuous treatment heading, up to a comment.",
            "name": "entity.name.section.regdsl",
            "begin": f"^{SPACE}*(?=(?:cycles?|part){SPACE}+[0-9.]|continuous{SPACE}+treatment{AFTER})",
            "end": "(?=#)|$",
            "patterns": [
                {"include": "#string"},
                {"include": "#dose"},
                {"include": "#keyword"},
                {"include": "#name"},
                {"include": "#punctuation"},
            ],
        },
        "statement": {
            "comment": "Lines whose first words say what the names after them are.",
            "patterns": [
                keyword_then_name("regimen", regimen_id),
                *(keyword_then_name(word, "entity.name.function.block.regdsl") for word in ("block", "use")),
                keyword_then_name("footnote", "entity.name.label.footnote.regdsl"),
                keyword_then_name("footnotes", "entity.name.label.footnote.regdsl", listed=True),
                *(keyword_then_name(word, medicine) for word in ("drug", "alias")),
                *(keyword_then_name(word, "support.constant.route.regdsl") for word in ("route", "fatal")),
                {
                    "match": at_line_start("status", f"{SPACE}+({name})(?:{SPACE}+(by){AFTER}{SPACE}+({name}))?"),
                    "captures": captures(field, "constant.language.status.regdsl", control, regimen_id),
                },
                {
                    "match": at_line_start("medicine", f"{SPACE}+({string})"),
                    "captures": captures(declaration, quoted_medicine),
                },
                {
                    "match": at_line_start(
                        "measure", f"{SPACE}+({name}){SPACE}+({string}){SPACE}+(in){AFTER}{SPACE}*({unit})"
                    ),
                    "captures": captures(
                        declaration,
                        "entity.name.type.measure.regdsl",
                        "string.quoted.double.regdsl",
                        "keyword.other.regdsl",
                        "keyword.other.unit.regdsl",
                    ),
                },
                *(
                    keyword_then_name(word, "entity.name.type.vocabulary.regdsl")
                    for word in ("responses", "group", "measure")
                ),
                {
                    "match": at_line_start("without", f"{SPACE}+{drug}"),
                    "captures": captures(control, medicine, quoted_medicine),
                },
                {
                    "comment": "A value of a response vocabulary or a group, and its title.",
                    "match": f'^{SPACE}*(?!{every}{AFTER})({category})(?={SPACE}+")',
                    "captures": captures(category_scope),
                },
                {
                    "comment": "An administration: the medicine, its line's name, then the dose.",
                    "match": (
                        f"^{SPACE}*(?:(then){AFTER}{SPACE}+)?{drug}"
                        f"(?:{SPACE}*(\\(){SPACE}*({name}){SPACE}*(\\)))?(?={SPACE}+[0-9.])"
                    ),
                    "captures": captures(
                        control,
                        medicine,
                        quoted_medicine,
                        "punctuation.section.parens.begin.regdsl",
                        "variable.parameter.line.regdsl",
                        "punctuation.section.parens.end.regdsl",
                    ),
                },
            ],
        },
        "category": {
            "comment": "The categories a condition names: `response is CR`, `Deauville in (4, 5)`.",
            "patterns": [
                {
                    "match": f"{BEFORE}(is){AFTER}{SPACE}+({category})",
                    "captures": captures("keyword.operator.logical.regdsl", category_scope),
                },
                {
                    "begin": f"{BEFORE}(in){AFTER}{SPACE}*(\\()",
                    "beginCaptures": captures("keyword.other.regdsl", "punctuation.section.parens.begin.regdsl"),
                    "end": "(\\))|(?=#)|$",
                    "endCaptures": captures("punctuation.section.parens.end.regdsl"),
                    "patterns": [
                        {"name": category_scope, "match": f"(?<![A-Za-z0-9.*+-]){category}"},
                        {"include": "#punctuation"},
                    ],
                },
            ],
        },
        "link": {
            "match": f"{BEFORE}(continue|counted){SPACE}+(with){SPACE}+({name}(?:{SPACE}*,{SPACE}*{name})*)",
            "captures": captures(control, control, regimen_id),
        },
        "frequency": {
            "name": "constant.language.frequency.regdsl",
            "match": f"{BEFORE}{frequency}{AFTER}",
        },
        "days": {
            "comment": "A list of days: no dose, so a frequency after it is no unit (`day 1 once only`).",
            "begin": f"{BEFORE}(days?){AFTER}(?={SPACE}*{minus}?{SPACE}*[0-9.])",
            "beginCaptures": captures(scope_of["days"]),
            "end": f"(?!{SPACE}*(?:[0-9.,]|{minus}|to{AFTER}))",
            "patterns": [
                {"name": "constant.numeric.regdsl", "match": number},
                {"include": "#keyword"},
                {"include": "#punctuation"},
            ],
        },
        "date": {"name": "constant.numeric.date.regdsl", "match": f"(?<![A-Za-z0-9_]){lark_pattern('DATE')}(?![0-9])"},
        "dose": {
            "comment": "A number, and after it its unit, `flat` and the route, when they are written.",
            "match": (
                f"(?<![A-Za-z0-9_])({number})"
                f"(?:{SPACE}*(?!{not_unit}{word_end})({unit})"
                f"(?:{SPACE}+(flat){AFTER})?"
                f"(?:{SPACE}+(?!(?:{every}|{frequency}){AFTER})({name}))?)?"
            ),
            "captures": captures(
                "constant.numeric.regdsl",
                "keyword.other.unit.regdsl",
                "keyword.other.flag.regdsl",
                "support.constant.route.regdsl",
            ),
        },
        "keyword": {
            "patterns": [
                *(
                    {"name": scope, "match": f"{BEFORE}{alternatives([found[n] for n in names if n in found])}{AFTER}"}
                    for scope, names in KINDS
                ),
                {"name": "keyword.other.regdsl", "match": f"{BEFORE}{alternatives(others)}{AFTER}"},
            ]
        },
        "name": {"match": name},
        "punctuation": {
            "patterns": [
                {
                    "name": "keyword.operator.regdsl",
                    "match": f"{lark_pattern('PLUSMINUS')}|[=>*]|{minus}",
                },
                {"name": "punctuation.separator.regdsl", "match": "[,:]"},
                {"name": "punctuation.section.regdsl", "match": "[()\\[\\]]"},
            ]
        },
    }
    order = [
        "comment", "prose", "string", "support", "note", "heading", "statement", "category", "link",
        "frequency", "date", "days", "dose", "keyword", "name", "punctuation",
    ]  # fmt: skip
    return {
        "name": "regdsl",
        "scopeName": SCOPE,
        "fileTypes": ["reg"],
        "comment": "Generated by editors/vscode/generate.py from grammar/regdsl.lark: do not edit by hand.",
        "patterns": [{"include": f"#{key}"} for key in order],
        "repository": repository,
    }


def text() -> str:
    """Return the grammar file's text, as it is committed."""
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Write the grammar, or with ``--check`` say whether the committed file is what this script writes."""
    if argv == ["--check"]:
        if OUTPUT.read_text(encoding="utf-8") != text():
            print(f"{OUTPUT} is out of date: run editors/vscode/generate.py", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: generate.py [--check]", file=sys.stderr)
        return 2
    OUTPUT.write_text(text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
