"""The wheel ships the grammar and works from another folder; the editable install does too."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("regdsl-*.whl")
    return built


def test_wheel_contains_the_grammar_typing_marker_and_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "regdsl/grammar/regdsl.lark" in names
    assert "regdsl/py.typed" in names
    assert "regdsl/check/data/words.txt" in names
    assert "regdsl/model/data/medicine_classes.json" in names
    packaged = zipfile.ZipFile(wheel).read("regdsl/grammar/regdsl.lark").decode("utf-8")
    assert packaged == (ROOT / "grammar" / "regdsl.lark").read_text(encoding="utf-8")


def test_wheel_in_a_fresh_venv_checks_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [str(env_dir / "bin" / "regdsl"), "check", str(ROOT / "regimens")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    where = subprocess.run(
        [str(python), "-c", "import regdsl, sys; print(regdsl.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(env_dir) in where


def test_editable_install_runs_from_another_folder(tmp_path: Path) -> None:
    where = subprocess.run(
        [sys.executable, "-c", "import regdsl; print(regdsl.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(ROOT)
    regdsl = Path(sys.executable).parent / "regdsl"
    proc = subprocess.run(
        [str(regdsl), "check", str(ROOT / "regimens")], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
