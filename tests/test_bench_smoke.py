"""The parse-and-lower benchmark runs end to end at a tiny size and writes its report (no timings asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "bench" / "parse_lower.py"

SECTIONS = [
    "# Performance: parsing and lowering",
    "## How it was run",
    "## Results",
    "## Goals",
    "## Where the time of (a) goes",
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_tiny_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("--files", "10", "--reps", "2", "--cold-runs", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = out.read_text(encoding="utf-8")
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == SECTIONS
    for needle in (
        "- Command: `python bench/parse_lower.py --files 10 --reps 2 --cold-runs 2 --out ",
        "- Commit: ",
        "- CPU: ",
        "- Load average (1 min) when the run started: ",
        "lark ",
        "- Workload: 10 regimen files,",
        "medians of 2 repetitions",
        "medians of 2 fresh processes",
        "| (a) parse + lower: `check_paths([folder])` |",
        "| (b) bare Lark LALR parse: `build_parser().parse(text)` |",
        "| (c) ratio a / b |",
        "| (d) ratio cold start / floor |",
        "| parse: `regdsl.syntax.parser.parse` |",
        "| lowering: `lower_regimen` |",
        "| `check_paths` with the garbage collector off |",
    ):
        assert needle in report, needle
    assert re.search(r"The workload checks with 0 errors, ", report)
    goals = report.split("## Goals", 1)[1].split("##", 1)[0]
    assert len(re.findall(r"\| (yes|\*\*no\*\*) \|", goals)) == 2
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", report), "the report carries no dates"


def test_cold_start_can_be_skipped(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("--files", "6", "--reps", "1", "--skip-cold-start", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = out.read_text(encoding="utf-8")
    assert "| (d) floor:" not in report
    assert "| (d) cold start | not measured (`--skip-cold-start`) |" in report


def test_too_few_files_is_refused(tmp_path: Path) -> None:
    proc = _run("--files", "3", "--skip-cold-start", "--out", str(tmp_path / "perf.md"))
    assert proc.returncode != 0
    assert "--files must be at least" in proc.stderr
    assert not (tmp_path / "perf.md").exists()
