"""The rules' documentation, from the registry: ``regdsl explain`` and ``docs/rules.md``.

A rule's docstring is its documentation: a summary line, then the sections *What it
does*, *Why it matters*, *Example* and *Use instead*. Indented lines in a section are
regimen text, shown as code.
"""

from __future__ import annotations

import re

from regdsl.check.registry import SECTIONS
from regdsl.check.rules import registry
from regdsl.diagnostics import Code

__all__ = ["DOC_COMMAND", "explain_text", "rules_markdown", "split_sections"]

DOC_COMMAND = "regdsl rules --markdown > docs/rules.md"
_SECTION = re.compile(r"^(" + "|".join(re.escape(s) for s in SECTIONS) + r"):[ \t]*", re.MULTILINE)


def split_sections(explanation: str) -> tuple[str, list[tuple[str, str]]]:
    """Split documentation into its introduction and its (section, body) pairs, in order."""
    found = list(_SECTION.finditer(explanation))
    if not found:
        return explanation.strip(), []
    intro = explanation[: found[0].start()].strip()
    sections = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(explanation)
        sections.append((match.group(1), explanation[match.end() : end].strip("\n").rstrip()))
    return intro, sections


def _suppressible(code: Code) -> str:
    return "can be suppressed" if code.suppressible else "cannot be suppressed, ignored or downgraded"


def explain_text(code: Code) -> str:
    """Return what ``regdsl explain`` prints: the heading, the summary, then each section."""
    lines = [f"{code.code} {code.name}: {code.severity.value}, {_suppressible(code)}", code.summary, ""]
    lines.append(f"This is {registry().kind(code)}.")
    intro, sections = split_sections(code.explanation)
    if intro:
        lines += ["", intro]
    for name, body in sections:
        lines += ["", f"{name}:"]
        lines += [f"  {line}" if line.strip() else "" for line in body.split("\n")]
    return "\n".join(lines) + "\n"


def _markdown_body(body: str) -> list[str]:
    """Render a section body: indented lines become a fenced block of regimen text."""
    out: list[str] = []
    code: list[str] = []

    def flush() -> None:
        while code and not code[-1].strip():
            code.pop()
        if code:
            out.extend(["", "```reg", *code, "```", ""])
            code.clear()

    for line in body.split("\n"):
        if line.startswith("    ") or (code and not line.strip()):
            code.append(line[4:])
            continue
        flush()
        out.append(line)
    flush()
    while out and not out[-1].strip():
        out.pop()
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown() -> str:
    """Return ``docs/rules.md``: a table of every code, then each code's documentation."""
    codes = list(registry().codes.values())
    out = [
        "# Rules and diagnostic codes",
        "",
        f"<!-- Generated from the rule registry by `{DOC_COMMAND}`; do not edit by hand."
        " tests/test_rules_doc.py checks that it is current. -->",
        "",
        "Every finding `regdsl check` can make, with its code, name and default severity.",
        "`regdsl explain CODE` prints the same documentation. A finding that can be suppressed",
        "is silenced on its line by `# regdsl: ignore[name] -- reason`, and selected, ignored or",
        "given another severity in the configuration (`regdsl.toml`, or `[tool.regdsl]` in",
        "`pyproject.toml`); the others cannot be silenced at all.",
        "",
        "| Code | Name | Severity | Suppressible | Summary |",
        "|---|---|---|---|---|",
    ]
    for code in codes:
        anchor = f"{code.code}-{code.name}".lower()
        out.append(
            f"| [{code.code}](#{anchor}) | `{code.name}` | {code.severity.value} | "
            f"{'yes' if code.suppressible else 'no'} | {_cell(code.summary)} |"
        )
    for code in codes:
        out += ["", f"## {code.code} {code.name}", ""]
        out.append(f"**{code.severity.value}** · {_suppressible(code)} · {registry().kind(code)}")
        out += ["", f"*{code.summary}*"]
        intro, sections = split_sections(code.explanation)
        if intro:
            out += ["", intro]
        for name, body in sections:
            rendered = _markdown_body(body)
            first = rendered[0] if rendered and rendered[0].strip() else ""
            out += ["", f"**{name}:** {first}".rstrip()]
            out += rendered[1:] if first else rendered
    return "\n".join(out) + "\n"
