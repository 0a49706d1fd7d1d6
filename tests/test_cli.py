"""The command line: formats, exit codes, explain and rules, internal errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from regdsl.check.rules import registry
from regdsl.cli.main import main
from tests.conftest import ROOT

TRAILING = ROOT / "tests" / "diagnostics" / "SAF101" / "trailing-zero.reg"
WARNING = ROOT / "tests" / "diagnostics" / "VOC010" / "named-two-ways.reg"


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_json_fields_follow_the_contract() -> None:
    code, text = _run("check", "--format", "json", str(TRAILING))
    assert code == 1
    (item,) = json.loads(text)
    assert list(item) == [
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "name",
        "severity",
        "message",
        "help",
        "labels",
        "notes",
        "fixes",
    ]
    assert (item["code"], item["name"], item["line"], item["column"]) == ("SAF101", "dose-trailing-zero", 6, 14)


@pytest.mark.parametrize("fmt", ["concise", "github", "sarif", "text"])
def test_every_format_names_the_code(fmt: str) -> None:
    code, text = _run("check", "--format", fmt, str(TRAILING))
    assert code == 1
    assert "SAF101" in text


def test_sarif_is_valid_sarif_2_1_0() -> None:
    _code, text = _run("check", "--format", "sarif", str(TRAILING))
    log = json.loads(text)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["SAF101"]
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (6, 14)


def test_warnings_pass_unless_strict() -> None:
    assert _run("check", str(WARNING))[0] == 0
    assert _run("check", "--strict", str(WARNING))[0] == 1


def test_explain_by_code_and_by_name() -> None:
    code, text = _run("explain", "SAF101")
    assert code == 0
    assert "trailing zero" in text
    assert _run("explain", "dose-trailing-zero")[1] == text


def test_explain_unknown_code_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("explain", "SAF1O1")[0] == 2
    assert "did you mean `SAF101`" in capsys.readouterr().err


def test_rules_lists_every_code() -> None:
    code, text = _run("rules")
    assert code == 0
    assert all(key in text for key in registry().codes)


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_internal_error_is_a_diagnostic_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("regdsl.check.run.run_check", boom)
    assert _run("check", str(TRAILING))[0] == 3
    err = capsys.readouterr().err
    assert "error[INT001]: internal error: RuntimeError: kaboom" in err
    assert "Traceback" not in err
    assert _run("--debug", "check", str(TRAILING))[0] == 3
    assert "Traceback" in capsys.readouterr().err


def test_python_dash_m_runs_from_another_folder(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "regdsl", "check", str(ROOT / "regimens")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_output_is_the_same_whatever_the_hash_seed_or_worker_count(tmp_path: Path) -> None:
    outputs = set()
    for seed, jobs in (("0", "1"), ("1", "2"), ("12345", "2"), ("random", "1")):
        proc = subprocess.run(
            [sys.executable, "-m", "regdsl", "check", "--format", "json", "--jobs", jobs, str(ROOT / "regimens")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
