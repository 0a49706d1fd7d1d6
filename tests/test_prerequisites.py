"""Tests that need ``../shared`` or Debian's chromium skip, with the reason, when it is absent.

A fresh clone with neither passes the README's test command, the skips reported; under CI=true
every such skip fails the run. ``../shared`` is reached only through ``tests.conftest.shared``,
which skips the test that asks (or, asked at import, its whole module).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

TESTS = ROOT / "tests"
BROWSER = TESTS / "browser"


def _python_files() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """Return the ids of the string constants that are docstrings (or other bare strings)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def _ways_around_shared(path: Path) -> list[str]:
    """Return the places in a test file that spell a path to ``../shared`` instead of calling ``shared()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            value = node.value
            if value == "shared" or "../shared" in value or value.startswith("shared/"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {value!r}")
        elif isinstance(node, ast.Name) and node.id == "SHARED":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: SHARED")
        elif isinstance(node, ast.Attribute) and node.attr == "parent" and ast.unparse(node.value) == "ROOT":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: ROOT.parent")
    return found


def _needs_shared(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = (n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "tests.conftest")
    return any(alias.name == "shared" for node in imported for alias in node.names)


def _pytest(targets: list[Path], tmp_path: Path, *options: str, ci: bool) -> tuple[int, str]:
    """Run pytest on ``targets`` with no ``../shared`` and no chromium on PATH; return its code and output."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["REGDSL_SHARED"] = str(tmp_path / "no-shared")
    env["PATH"] = str(tmp_path / "bin-without-chromium")
    (tmp_path / "bin-without-chromium").mkdir(exist_ok=True)
    if ci:
        env["CI"] = "true"
    args = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *options, *map(str, targets)]
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def _count(output: str, *outcomes: str) -> int:
    """Return how many tests the summary line counts under any of ``outcomes``."""
    summary = output.strip().splitlines()[-1]
    return sum(int(n) for n, outcome in re.findall(r"(\d+) (\w+)", summary) if outcome in outcomes)


def test_no_test_reaches_shared_but_through_the_helper() -> None:
    # The helper's own file, and this one, which spells what it looks for.
    own = {TESTS / "conftest.py", Path(__file__)}
    found = [place for path in _python_files() if path not in own for place in _ways_around_shared(path)]
    assert not found, "use tests.conftest.shared(...), which skips when ../shared is absent:\n" + "\n".join(found)


def test_without_shared_or_chromium_the_tests_that_need_them_skip_and_fail_under_ci(tmp_path: Path) -> None:
    targets = [p for p in _python_files() if _needs_shared(p)]
    assert {p.name for p in targets} >= {"test_fidelity_fhir.py", "test_seed_checklist.py"}
    code, out = _pytest([*targets, BROWSER], tmp_path, ci=False)
    assert code == 0, out
    skipped = _count(out, "skipped")
    reasons = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert skipped, out
    assert reasons, out
    for line in reasons:
        assert "no-shared" in line or "chromium, which is not on PATH" in line, line
    assert any("no-shared" in line for line in reasons), out
    assert any("chromium" in line for line in reasons), out

    code, out = _pytest([*targets, BROWSER], tmp_path, ci=True)
    assert code == 1, out
    # A skip in a fixture fails at set-up: an error rather than a failure.
    assert _count(out, "failed", "error", "errors") == skipped, out
    assert _count(out, "skipped") == 0, out
    assert "skipped under CI=true" in out


SYNTHETIC = {
    "test_read_at_import.py": 'from tests.conftest import shared\nTEXT = shared("seed", "x.txt").read_text()\n\n\n'
    "def test_read() -> None:\n    assert TEXT\n",
    "test_parametrized_from_shared.py": "import pytest\n\nfrom tests.conftest import shared\n\n\n"
    '@pytest.mark.parametrize("path", sorted(shared("corpus").glob("*.json")))\n'
    "def test_each(path: object) -> None:\n    assert path\n",
    "test_read_in_a_test.py": "from tests.conftest import shared\n\n\n"
    'def test_read() -> None:\n    assert shared("seed", "x.txt").read_text()\n\n\n'
    "def test_other() -> None:\n    assert True\n",
}


def test_shared_skips_at_import_at_collection_and_in_a_test_and_fails_under_ci(tmp_path: Path) -> None:
    folder = tmp_path / "synthetic"
    folder.mkdir()
    for name, text in SYNTHETIC.items():
        (folder / name).write_text(text, encoding="utf-8")
    # The project's conftest as a plugin: its skip helper and its CI hooks, for files outside tests/.
    options = ("-p", "tests.conftest", "--rootdir", str(folder), "--continue-on-collection-errors")
    code, out = _pytest([folder], tmp_path, *options, ci=False)
    assert code == 0, out
    assert (_count(out, "passed"), _count(out, "skipped")) == (1, 3), out
    reasons = re.findall(r"^SKIPPED \[(\d+)\] .*no-shared", out, flags=re.MULTILINE)
    assert sum(map(int, reasons)) == 3, out

    code, out = _pytest([folder], tmp_path, *options, ci=True)
    assert code != 0, out
    assert out.count("skipped under CI=true") == 3, out
    assert (_count(out, "passed"), _count(out, "skipped")) == (1, 0), out
