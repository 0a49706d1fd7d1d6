"""The one registry: built from the declared rule modules, refusing malformed, undocumented or twin codes."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

import regdsl.check.rules as rules_package
from regdsl.check.registry import Rule, build_registry, rule, rules_of
from regdsl.check.rules import RULE_MODULES, registry
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.diagnostics import codes as codes_module
from regdsl.diagnostics.codes import CODES, CodeError, define
from tests.conftest import ROOT

DOC = """Find something.

What it does: flags it.

Why it matters: it harms.

Example: `it`

Use instead: `not it`
"""


def _check(_ctx: object) -> Iterator[Diagnostic]:
    yield from ()


def _made(code: str = "TST001", name: str = "a-test-rule", doc: str | None = DOC) -> Rule:
    _check.__doc__ = doc
    return rule(code, name, Severity.WARNING, "a test rule")(_check)


def _module(*rules: Rule) -> ModuleType:
    module = ModuleType(__name__)  # the rules' functions are this module's
    for number, made in enumerate(rules):
        setattr(module, f"rule_{number}", made)
    return module


@pytest.mark.parametrize("code", ["SAF1010", "saf101", "SAF10", "SAF-01", "S4F101", ""])
def test_a_malformed_code_is_refused(code: str) -> None:
    with pytest.raises(CodeError, match="three capitals"):
        _made(code=code)


@pytest.mark.parametrize("name", ["Trailing-Zero", "trailing_zero", "trailing zero", "-zero", "zero-", ""])
def test_a_malformed_name_is_refused(name: str) -> None:
    with pytest.raises(CodeError, match="kebab-case"):
        _made(name=name)


@pytest.mark.parametrize(
    "doc",
    [
        None,
        "Find something.",
        DOC.replace("Why it matters:", "Why:"),
        DOC.replace("Example:", "Examples:"),
        DOC.replace("Use instead: `not it`\n", ""),
        # every section, but out of order
        "Find.\n\nWhy it matters: a.\n\nWhat it does: b.\n\nExample: c\n\nUse instead: d\n",
    ],
)
def test_a_rule_without_its_documented_sections_is_refused(doc: str | None) -> None:
    with pytest.raises(CodeError, match="sections"):
        _made(doc=doc)


def test_a_code_without_a_summary_or_explanation_is_refused() -> None:
    with pytest.raises(CodeError, match="summary"):
        define("TST001", "a-test", Severity.ERROR, " ", "explained")
    with pytest.raises(CodeError, match="summary"):
        define("TST001", "a-test", Severity.ERROR, "a summary", "")


def test_a_code_registered_twice_is_refused() -> None:
    with pytest.raises(CodeError, match="TST001 is registered twice"):
        build_registry([_module(_made(), _made(name="another-test-rule"))], ())
    with pytest.raises(CodeError, match="SAF001 is registered twice"):
        build_registry([*RULE_MODULES, _module(_made(code="SAF001"))], CODES.values())
    with pytest.raises(CodeError, match="SYN001 is registered twice"):
        build_registry([_module(_made(code="SYN001"))], CODES.values())


def test_a_name_registered_twice_is_refused() -> None:
    with pytest.raises(CodeError, match="'a-test-rule' is registered twice, by TST001 and TST002"):
        build_registry([_module(_made(), _made(code="TST002"))], ())
    with pytest.raises(CodeError, match="'syntax-error' is registered twice"):
        build_registry([_module(_made(name="syntax-error"))], CODES.values())


def test_validation_holds_under_python_optimisations() -> None:
    """Under ``python -O`` asserts are gone: the registry still refuses a twin code."""
    script = (
        "from regdsl.diagnostics.codes import CODES, CodeError, index\n"
        "try:\n    index([*CODES.values(), CODES['SYN001']])\nexcept CodeError:\n    print('refused')\n"
    )
    done = subprocess.run([sys.executable, "-O", "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout == "refused\n"


def test_the_registry_holds_every_code_and_rule_once() -> None:
    built = registry()
    assert built is registry()  # built once
    found = [r for module in RULE_MODULES for r in rules_of(module)]
    assert sorted(r.code.code for r in (*built.rules, *built.library_rules)) == sorted(r.code.code for r in found)
    assert set(built.codes) == set(CODES) | {r.code.code for r in found}
    assert list(built.codes) == sorted(built.codes)


def test_every_rule_module_of_the_package_is_declared() -> None:
    folder = ROOT / "regdsl" / "check" / "rules"
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert {m.__name__.rsplit(".", 1)[1] for m in RULE_MODULES} == modules
    assert all(rules_of(m) for m in RULE_MODULES), "a declared module defines no rule"
    assert rules_package.RULE_MODULES is RULE_MODULES


def test_every_code_defined_before_the_rules_is_gathered() -> None:
    defined = [v for v in vars(codes_module).values() if isinstance(v, type(CODES["SYN001"]))]
    assert {c.code for c in defined} == set(CODES)


def test_no_module_imports_for_a_side_effect() -> None:
    """No ``import x  # noqa: F401`` anywhere in the package: nothing registers by being imported."""
    for path in sorted((ROOT / "regdsl").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "noqa: F401" not in text, path
        for node in ast.walk(ast.parse(text)):
            assert not (isinstance(node, ast.Assert) and path.parent.name in {"diagnostics", "check"}), path


def _digit_literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string constant that is a SNOMED CT-like identifier (6 to 18 digits), but ``nzmt=`` arguments."""
    allowed = {id(k.value) for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg == "nzmt"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in allowed:
            continue
        text = node.value
        if isinstance(text, str) and text.isdigit() and 6 <= len(text) <= 18:
            yield node.lineno, text


def test_vocabulary_codes_are_written_only_in_the_vocabulary() -> None:
    """A route, unit or factor code is named by its constant in ``model/vocabulary.py``, never written again."""
    vocabulary = ROOT / "regdsl" / "model" / "vocabulary.py"
    assert len(list(_digit_literals(ast.parse(vocabulary.read_text(encoding="utf-8"))))) > 50
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in sorted((ROOT / "regdsl").rglob("*.py"))
        if path != vocabulary
        for line, text in _digit_literals(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []
