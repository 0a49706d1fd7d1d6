"""Layer contract: who may import whom, and what the check path must not load.

Every module of the package belongs to a layer, and may import only its own layer and the
layers below it. Every way a module can name another counts, wherever it is written (at the
top, inside a function, under ``try``):

- ``import a.b`` and ``import a.b as c``;
- ``from a import b``, where ``b`` is the submodule ``a.b`` when there is one, else a name of ``a``;
- relative imports, ``from . import x`` and ``from ..x import y``, resolved against the module;
- ``importlib.import_module("a.b")`` (also relative, with ``package=``), ``importlib.__import__``,
  ``__import__("a")`` and ``builtins.__import__``, under any name they were imported as; a name
  that is computed rather than written cannot be checked, so it is refused, and so are code run
  from text (``exec``, ``eval``, ``compile``), an importer fetched with ``getattr`` and
  ``sys.modules``.

Imports under ``if TYPE_CHECKING:`` count too: they do not run, but a lower layer that names a
higher layer's types depends on its design all the same, and could not be read, tested or
moved without it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "regdsl"
# Each layer may import only itself and the layers after it. ``regdsl`` is the package's own
# ``__init__`` (the version), which every import of a submodule loads: it may import nothing.
ORDER = (
    "__main__",
    "cli",
    "lsp",
    "fhir",
    "render",
    "check",
    "compile",
    "syntax",
    "model",
    "diagnostics",
    "source",
    "record",
    "regdsl",
)
# Libraries only one layer may import.
OWNERS = {"lark": "syntax", "jinja2": "render", "markupsafe": "render", "pygls": "lsp", "lsprotocol": "lsp"}
IMPORTERS = {"import_module", "__import__"}


@dataclass(frozen=True)
class Package:
    """A package on disk: its folder, its import name and the modules it holds."""

    folder: Path
    name: str

    def modules(self) -> dict[str, Path]:
        """Return every module of the package by its dotted name (a package by its ``__init__``)."""
        found: dict[str, Path] = {}
        for path in sorted(self.folder.rglob("*.py")):
            parts = path.relative_to(self.folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((self.name, *parts))] = path
        return found

    def layer(self, module: str) -> str | None:
        """Return the layer of one of the package's modules, or None for a module of another package."""
        parts = module.split(".")
        if parts[0] != self.name:
            return None
        return parts[1] if len(parts) > 1 else self.name


def _relative(package: str, name: str, level: int) -> str | None:
    """Resolve ``level`` leading dots and ``name`` against ``package``; None beyond its top."""
    parts = package.split(".")
    if level > len(parts):
        return None
    base = ".".join(parts[: len(parts) - level + 1])
    return f"{base}.{name}" if name else base


def imports(module: str, path: Path, known: set[str]) -> Iterator[tuple[int, str | None]]:
    """Yield ``(line, module imported)`` for every import in the file; None for one that cannot be resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    importlib_names, builtins_names, importer_names = {"importlib"}, {"builtins"}, {"__import__"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "importlib":
                    importlib_names.add(alias.asname or alias.name)
                elif alias.name == "builtins":
                    builtins_names.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module in {"importlib", "builtins"}:
            importer_names.update(a.asname or a.name for a in node.names if a.name in IMPORTERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _relative(package, node.module or "", node.level) if node.level else node.module
            if base is None:
                yield node.lineno, None
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield node.lineno, submodule if submodule in known else base
        elif isinstance(node, ast.Call) and _is_importer(node.func, importlib_names, builtins_names, importer_names):
            yield node.lineno, _dynamic_target(node, package)
        elif isinstance(node, ast.Call | ast.Attribute) and _unchecked(node):
            yield node.lineno, None


def _is_importer(func: ast.expr, importlib_names: set[str], builtins_names: set[str], names: set[str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id in names
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = func.value.id
        return (owner in importlib_names and func.attr in IMPORTERS) or (
            owner in builtins_names and func.attr == "__import__"
        )
    return False


def _unchecked(node: ast.Call | ast.Attribute) -> bool:
    """Whether ``node`` reaches code or modules that no import names.

    These are ``exec``, ``eval``, ``compile``, an importer fetched with ``getattr`` and ``sys.modules``.
    """
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in {"exec", "eval", "compile"}:
            return True
        named = node.args[1] if node.func.id == "getattr" and len(node.args) > 1 else None
        return isinstance(named, ast.Constant) and named.value in IMPORTERS
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _dynamic_target(call: ast.Call, package: str) -> str | None:
    """Return the module ``import_module``/``__import__`` is asked for, when it is written as a literal."""
    name = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    text = name.value
    level = len(text) - len(text.lstrip("."))
    if not level:
        return text
    anchor = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "package"), None)
    if isinstance(anchor, ast.Name) and anchor.id == "__package__":
        return _relative(package, text[level:], level)
    if isinstance(anchor, ast.Constant) and isinstance(anchor.value, str):
        return _relative(anchor.value, text[level:], level)
    return None


def violations(package: Package, order: tuple[str, ...] = ORDER, owners: dict[str, str] = OWNERS) -> list[str]:
    """Return every import of ``package`` that breaks the layer order, and every module in no layer."""
    modules = package.modules()
    found: list[str] = []
    for module, path in modules.items():
        where = str(path.relative_to(package.folder.parent))
        own = package.layer(module)
        if own not in order:
            found.append(f"{where}: {module} is in no layer")
            continue
        for line, target in imports(module, path, set(modules)):
            if target is None:
                found.append(f"{where}:{line}: an import whose module cannot be resolved (computed or beyond the top)")
                continue
            owner = owners.get(target.split(".")[0])
            if owner is not None and owner != own:
                found.append(f"{where}:{line}: {own} imports {target}: only {owner} may")
            layer = package.layer(target)
            if layer is None:
                continue
            if layer not in order:
                found.append(f"{where}:{line}: {own} imports {target}, which is in no layer")
            elif order.index(layer) < order.index(own):
                found.append(f"{where}:{line}: {own} imports {target} ({layer}), a higher layer")
    return found


# ``exec`` of code that regdsl writes itself, from its own records' fields and its own grammar's
# rules (identifiers and slot names only, never text from a source or a user), to make the
# constructors and reducers of the hot path; one such call per file, and no other.
GENERATED_CODE = {"regdsl/record.py": "exec(source, names)", "regdsl/syntax/parser.py": 'exec(f"def reduce(c):'}


def _generated(finding: str) -> bool:
    """Whether ``finding`` is the one ``exec`` of generated code its file is allowed."""
    where, _, rest = finding.partition(":")
    line = rest.split(":", 1)[0]
    if where not in GENERATED_CODE or not line.isdigit():
        return False
    text = (PACKAGE.parent / where).read_text(encoding="utf-8").splitlines()[int(line) - 1]
    return text.strip().startswith(GENERATED_CODE[where])


def test_imports_respect_the_layer_order() -> None:
    found = [f for f in violations(Package(PACKAGE, "regdsl")) if not _generated(f)]
    assert not found, "imports that break the layer order:\n" + "\n".join(found)


def test_code_is_generated_only_where_allowed() -> None:
    # Each allowed file has exactly its one exec: a second, or one moved elsewhere, is a finding above.
    for where, start in GENERATED_CODE.items():
        lines = (PACKAGE.parent / where).read_text(encoding="utf-8").splitlines()
        assert sum(1 for text in lines if "exec(" in text) == 1, where
        assert any(text.strip().startswith(start) for text in lines), where


def test_every_module_of_the_package_is_in_a_layer() -> None:
    package = Package(PACKAGE, "regdsl")
    assert {package.layer(m) for m in package.modules()} == set(ORDER)


# -- the checker itself, on small synthetic packages --------------------------------------------

LOW, HIGH = "pkg/low/mod.py", "pkg/high/mod.py"
SYNTHETIC_ORDER = ("high", "low", "pkg")
SYNTHETIC_OWNERS = {"lark": "high"}
# One violation each: the file it is planted in, and its text.
PLANTED: dict[str, tuple[str, str]] = {
    "import a.b": (LOW, "import pkg.high.mod\n"),
    "import a.b as c": (LOW, "import pkg.high.mod as m\n"),
    "from a import b (a module)": (LOW, "from pkg import high\n"),
    "from a.b import name": (LOW, "from pkg.high.mod import VALUE\n"),
    "from . import x (in a package's __init__)": ("pkg/__init__.py", "from . import low\n"),
    "from .. import x": (LOW, "from .. import high\n"),
    "from ..x import y": (LOW, "from ..high import mod\n"),
    "from ..x.y import name": (LOW, "from ..high.mod import VALUE\n"),
    "relative beyond the top": (LOW, "from ... import other\n"),
    "inside a function": (LOW, "def f() -> None:\n    from pkg.high import mod\n"),
    "under TYPE_CHECKING": (
        LOW,
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.high.mod import VALUE\n",
    ),
    "importlib.import_module": (LOW, 'import importlib\nimportlib.import_module("pkg.high.mod")\n'),
    "importlib.import_module, relative": (
        LOW,
        'import importlib\nimportlib.import_module("..high.mod", package=__package__)\n',
    ),
    "importlib.import_module, relative to a literal package": (
        LOW,
        'import importlib\nimportlib.import_module(".mod", "pkg.high")\n',
    ),
    "import_module imported under another name": (LOW, 'from importlib import import_module as im\nim("pkg.high")\n'),
    "importlib imported under another name": (LOW, 'import importlib as il\nil.import_module("pkg.high")\n'),
    "importlib.__import__": (LOW, 'import importlib\nimportlib.__import__("pkg.high.mod")\n'),
    "__import__": (LOW, '__import__("pkg.high.mod")\n'),
    "builtins.__import__": (LOW, 'import builtins\nbuiltins.__import__("pkg.high")\n'),
    "a computed name": (LOW, 'import importlib\nNAME = "pkg.high"\nimportlib.import_module(NAME)\n'),
    # Code run from text, and modules reached by other ways than an import, cannot be checked either.
    "exec": (LOW, 'exec("import pkg.high.mod")\n'),
    "eval": (LOW, "eval(\"__import__('pkg.high')\")\n"),
    "compile": (LOW, 'compile("import pkg.high", "x", "exec")\n'),
    "an importer fetched by getattr": (LOW, 'getattr(__builtins__, "__import__")("pkg.high")\n'),
    "sys.modules": (LOW, 'import sys\nmod = sys.modules["pkg.high.mod"]\n'),
    "a library another layer owns": (LOW, "import lark\n"),
    "a library another layer owns, dynamically": (LOW, '__import__("lark")\n'),
    "a library another layer owns, from-import": (LOW, "from lark import Lark\n"),
    "a module in no layer": ("pkg/stray.py", "VALUE = 1\n"),
    "the package root importing a layer": ("pkg/__init__.py", "import pkg.low.mod\n"),
}
# What each layer may do: none of these is a violation.
ALLOWED = {
    LOW: (
        "import os\nimport importlib\nfrom importlib import resources\nfrom . import other\nfrom .other import VALUE\n"
        'from pkg import low\nimport pkg\nimportlib.import_module("pkg.low.other")\n__import__("json")\n'
    ),
    HIGH: 'import lark\nfrom ..low import mod\nfrom pkg.low.mod import VALUE\n__import__("pkg.low")\n',
}


def _synthetic(root: Path, planted: dict[str, str]) -> Package:
    files = {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/other.py": "VALUE = 1\n",
        LOW: "VALUE = 1\n",
        "pkg/high/__init__.py": "",
        HIGH: "VALUE = 2\n",
    }
    for name, text in planted.items():
        files[name] = files.get(name, "") + text
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return Package(root / "pkg", "pkg")


def test_the_checker_passes_a_package_that_keeps_its_layers(tmp_path: Path) -> None:
    assert violations(_synthetic(tmp_path, ALLOWED), SYNTHETIC_ORDER, SYNTHETIC_OWNERS) == []


@pytest.mark.parametrize("form", sorted(PLANTED))
def test_the_checker_finds_a_planted_violation(form: str, tmp_path: Path) -> None:
    file, text = PLANTED[form]
    found = violations(_synthetic(tmp_path, {file: text}), SYNTHETIC_ORDER, SYNTHETIC_OWNERS)
    assert len(found) == 1, found
    assert found[0].startswith(f"{file}:"), found


def _loaded_by_check(path: Path) -> list[str]:
    """Check ``path`` in a new process; return the renderers' and networkx's modules it loaded."""
    code = (
        "import sys, io; from regdsl.cli.main import main; "
        f"main(['check', {str(path)!r}], out=io.StringIO()); "
        "print(sorted({m.split('.')[0] if m.startswith('networkx') else m for m in sys.modules "
        "if m.startswith(('jinja2', 'regdsl.render', 'markupsafe', 'networkx'))}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = ast.literal_eval(proc.stdout.strip())
    return loaded


@pytest.mark.parametrize("regimen", sorted(p.name for p in (ROOT / "regimens").glob("*.reg")))
def test_the_check_of_one_regimen_loads_no_renderer_and_no_networkx(regimen: str) -> None:
    assert _loaded_by_check(ROOT / "regimens" / regimen) == []


def test_the_check_of_a_library_loads_no_renderer_and_networkx_for_its_links_alone() -> None:
    # The bundled library links leu-all-bcell-rr-inotuzumab to its CR regimen: the library rules
    # read the link graph, in networkx.
    assert _loaded_by_check(ROOT / "regimens") == ["networkx"]
