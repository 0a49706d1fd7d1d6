"""docs/rules.md is generated from the rule registry and current; explain prints each rule's sections."""

from __future__ import annotations

import io

import pytest

from regdsl.check.reference import DOC_COMMAND, explain_text, rules_markdown, split_sections
from regdsl.check.registry import SECTIONS
from regdsl.check.rules import registry
from regdsl.cli.main import main
from tests.conftest import ROOT

DOC = ROOT / "docs" / "rules.md"


def test_the_committed_rules_doc_is_current(update_goldens: bool) -> None:
    current = rules_markdown()
    if update_goldens:
        DOC.write_text(current, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == current, f"docs/rules.md is stale: run `{DOC_COMMAND}`"


def test_rules_markdown_prints_the_doc() -> None:
    out = io.StringIO()
    assert main(["rules", "--markdown"], out=out) == 0
    assert out.getvalue() == rules_markdown()


def test_the_doc_has_every_code_with_its_name_severity_and_suppressibility() -> None:
    text = rules_markdown()
    for code in registry().codes.values():
        row = f"| `{code.name}` | {code.severity.value} | {'yes' if code.suppressible else 'no'} |"
        assert row in text, code.code
        assert f"\n## {code.code} {code.name}\n" in text


def test_every_rule_documents_every_section_in_order() -> None:
    for rule in (*registry().rules, *registry().library_rules):
        intro, sections = split_sections(rule.code.explanation)
        assert intro, rule.code.code
        assert [name for name, _ in sections] == list(SECTIONS), rule.code.code
        assert all(body.strip() for _, body in sections), rule.code.code


@pytest.mark.parametrize("key", ["BRA003", "prose-near-miss", "SAF001"])
def test_explain_prints_the_documentation_with_its_sections(key: str) -> None:
    out = io.StringIO()
    assert main(["explain", key], out=out) == 0
    text = out.getvalue()
    for section in SECTIONS:
        assert f"\n{section}:\n" in text
    code = registry().find(key)
    assert code is not None
    assert text == explain_text(code)
    assert text.startswith(f"{code.code} {code.name}: {code.severity.value}, ")


def test_explain_says_when_a_finding_cannot_be_silenced() -> None:
    assert "cannot be suppressed" in explain_text(registry().codes["SAF001"])
    assert "can be suppressed" in explain_text(registry().codes["BRA005"])
