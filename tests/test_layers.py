"""Layer contract: who may import whom, and what the check path must not load."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "regdsl"
# Each layer may import only the layers listed after it (house style 3.1).
ORDER = ["cli", "render", "check", "compile", "syntax", "model", "diagnostics", "source"]


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "regdsl" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ORDER else None


def _imports(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


FILES = sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES)
def test_imports_respect_the_layer_order(path: str) -> None:
    own = _layer(path.removesuffix(".py").replace("/", "."))
    for module in _imports(path):
        if module.split(".")[0] == "lark":
            assert own == "syntax", f"{path} imports lark: only regdsl.syntax may"
        target = _layer(module)
        if own and target and target != own:
            assert ORDER.index(target) > ORDER.index(own), f"{path} ({own}) imports {module} ({target})"


def test_check_does_not_load_jinja_renderers_or_networkx() -> None:
    code = (
        "import sys, io; from regdsl.cli.main import main; "
        f"main(['check', {str(ROOT / 'regimens')!r}], out=io.StringIO()); "
        "print(sorted(m for m in sys.modules if m.startswith(('jinja2', 'regdsl.render', 'markupsafe', 'networkx'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
