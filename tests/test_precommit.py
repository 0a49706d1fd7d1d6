"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by pre-commit itself in a temporary repository.

The test needs no network: a hook installed from a repository (``language: python``) is
pip-installed into an environment of its own, which needs the package index, so here each
hook of the manifest is run as a ``repo: local`` hook with the same entry, files and
settings, on the regdsl this test runs (``language: unsupported``, the command found on PATH).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # pre-commit's own dependency

from tests.conftest import ROOT

MANIFEST = ROOT / ".pre-commit-hooks.yaml"
CLEAN = ROOT / "regimens" / "crc-adjuvant-mfolfox6.reg"
TRAILING = ROOT / "tests" / "diagnostics" / "SAF101" / "trailing-zero.reg"


def _hooks() -> dict[str, dict[str, object]]:
    return {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}


def test_the_manifest_defines_both_hooks_on_regimen_files() -> None:
    hooks = _hooks()
    assert sorted(hooks) == ["regdsl-check", "regdsl-fmt"]
    assert hooks["regdsl-check"]["entry"] == "regdsl check"
    assert hooks["regdsl-fmt"]["entry"] == "regdsl fmt"
    for hook in hooks.values():
        assert hook["language"] == "python"  # installed from the repository by pip
        assert hook["files"] == r"\.reg$"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _repository(tmp_path: Path, hook_id: str) -> tuple[Path, dict[str, str]]:
    """Make a git repository whose configuration runs the manifest's hook ``hook_id`` as a local hook."""
    repo = tmp_path / "library"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "test@example.invalid")
    _git(repo, "config", "user.name", "test")
    hook = {**_hooks()[hook_id], "language": "unsupported"}  # the regdsl on PATH, not one pip installs
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]}), encoding="utf-8"
    )
    (repo / "notes.txt").write_text("not a regimen: the hook leaves it alone\n", encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "REGDSL_CACHE_DIR": str(tmp_path / "regdsl-cache"),
    }
    return repo, env


def _run(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    _git(repo, "add", "-A")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_check_hook_passes_a_clean_regimen_and_fails_an_error(tmp_path: Path) -> None:
    repo, env = _repository(tmp_path, "regdsl-check")
    shutil.copy(CLEAN, repo / CLEAN.name)
    shutil.copy(ROOT / "regimens" / "library.reg", repo / "library.reg")
    passed = _run(repo, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "regdsl check" in passed.stdout
    assert "Passed" in passed.stdout

    shutil.copy(TRAILING, repo / TRAILING.name)
    failed = _run(repo, env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert "error[SAF101]" in failed.stdout  # the findings, as regdsl check prints them
    assert f"{TRAILING.name}:6:14" in failed.stdout


def test_the_check_hook_skips_a_commit_without_regimen_files(tmp_path: Path) -> None:
    repo, env = _repository(tmp_path, "regdsl-check")
    result = _run(repo, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)Skipped" in result.stdout


def test_the_fmt_hook_rewrites_a_file_and_fails_then_passes(tmp_path: Path) -> None:
    repo, env = _repository(tmp_path, "regdsl-fmt")
    target = repo / CLEAN.name
    shutil.copy(CLEAN, target)
    target.write_text(target.read_text(encoding="utf-8").replace("\n", "   \n", 1), encoding="utf-8")  # trailing blanks
    changed = _run(repo, env)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "files were modified by this hook" in changed.stdout
    assert target.read_bytes() == CLEAN.read_bytes()
    again = _run(repo, env)
    assert again.returncode == 0, again.stdout + again.stderr


EXAMPLES = ROOT / "examples" / "ci"


def _workflow_commands() -> list[list[str]]:
    """Return the ``regdsl`` commands the example workflow runs, as argument lists (redirections cut off)."""
    workflow = yaml.safe_load((EXAMPLES / "regdsl.yml").read_text(encoding="utf-8"))
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            line = step.get("run", "").split(">")[0].split("#")[0].split()
            if line[:1] == ["regdsl"]:
                commands.append(line[1:])
    return commands


def test_the_example_workflow_uploads_sarif_and_annotates() -> None:
    commands = _workflow_commands()
    formats = {tuple(c) for c in commands if c[0] == "check"}
    assert ("check", "--format", "github", "regimens/") in formats
    assert ("check", "--format", "sarif", "regimens/") in formats
    text = (EXAMPLES / "regdsl.yml").read_text(encoding="utf-8")
    assert "github/codeql-action/upload-sarif" in text
    assert "security-events: write" in text


def test_the_example_workflow_runs_commands_regdsl_has(capsys: pytest.CaptureFixture[str]) -> None:
    from regdsl.cli.main import _build_parser

    for command in _workflow_commands():
        if command[0] != "fmt":  # below, once `regdsl fmt` is merged
            _build_parser().parse_args(command)  # a usage error exits 2
    assert capsys.readouterr().err == ""


def test_the_example_workflow_checks_the_layout() -> None:
    from regdsl.cli.main import _build_parser

    (fmt,) = [c for c in _workflow_commands() if c[0] == "fmt"]
    _build_parser().parse_args(fmt)


def test_the_example_pre_commit_configuration_names_the_manifest_hooks() -> None:
    config = yaml.safe_load((EXAMPLES / "pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo,) = config["repos"]
    assert [hook["id"] for hook in repo["hooks"]] == ["regdsl-fmt", "regdsl-check"]
    assert set(_hooks()) == {hook["id"] for hook in repo["hooks"]}
