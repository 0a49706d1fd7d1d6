"""The benchmark scripts run end to end at a tiny size and write their sections (no timings asserted)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.shapes import SHAPES

BENCH = ROOT / "bench"
NAMES = ("parse_lower", "timing", "library_check")
# The library benches take at least one copy of each bundled regimen; the library grows.
BUNDLED = sum(1 for path in (ROOT / "regimens").glob("*.reg") if path.name != "library.reg")
FEW, SOME = str(BUNDLED), str(BUNDLED + 2)

PARSE_LOWER_HEADINGS = [
    "## Parsing and lowering",
    "### How it was run",
    "### Results",
    "### Goals",
    "### Where the time of (a) goes",
]
TIMING_HEADINGS = [
    "## Timing networks",
    "### How it was run",
    "### The synthetic cycles",
    "### Results: consistent networks",
    "### Growth",
    "### Inconsistent networks: finding the planted conflict",
    "### Goals",
]
BUILD_HEADINGS = [
    "## Static site build",
    "### How it was run",
    "### Results",
    "### Goals",
    "### One page, by format",
]
LIBRARY_CHECK_HEADINGS = [
    "## Whole-library check",
    "### How it was run",
    "### Results",
    "### Goals",
    "### Where the time goes",
]


def _run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _sections(report: str) -> dict[str, str]:
    found = re.findall(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->", report, re.DOTALL)
    names = [name for name, _body in found]
    assert len(names) == len(set(names)), names
    return dict(found)


def _headings(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith("#")]


def _machine(body: str, command: str) -> None:
    for needle in (f"- Command: `{command}", "- Commit: ", "- CPU: ", "- Load average (1 min) when the run started: "):
        assert needle in body, needle
    assert "lark " in body
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", body), "the report carries no dates"


def _goals(body: str) -> str:
    return body.split("### Goals", 1)[1].split("###", 1)[0]


def test_parse_lower_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("parse_lower", "--files", SOME, "--reps", "2", "--cold-runs", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Performance\n")
    body = _sections(report)["parse_lower"]
    assert _headings(body) == PARSE_LOWER_HEADINGS
    _machine(body, f"python bench/parse_lower.py --files {SOME} --reps 2 --cold-runs 2 --out ")
    for needle in (
        f"- Workload: {SOME} regimen files,",
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
        assert needle in body, needle
    assert re.search(r"The workload checks with 0 errors, ", body)
    assert len(re.findall(r"\| (yes|\*\*no\*\*) \|", _goals(body))) == 2


def test_parse_lower_cold_start_can_be_skipped(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("parse_lower", "--files", FEW, "--reps", "1", "--skip-cold-start", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = out.read_text(encoding="utf-8")
    assert "| (d) floor:" not in report
    assert "| (d) cold start | not measured (`--skip-cold-start`) |" in report


def test_parse_lower_too_few_files_is_refused(tmp_path: Path) -> None:
    proc = _run("parse_lower", "--files", "3", "--skip-cold-start", "--out", str(tmp_path / "perf.md"))
    assert proc.returncode != 0
    assert "--files must be at least" in proc.stderr
    assert not (tmp_path / "perf.md").exists()


def test_timing_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("timing", "--sizes", "100,300", "--reps", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    body = _sections(out.read_text(encoding="utf-8"))["timing"]
    headings = _headings(body)
    assert headings[: len(TIMING_HEADINGS)] == TIMING_HEADINGS
    assert headings[len(TIMING_HEADINGS)].startswith("### Where the time goes at ")
    _machine(body, "python bench/timing.py --sizes 100,300 --reps 1 --out ")
    results = body.split("### Results: consistent networks", 1)[1].split("###", 1)[0]
    assert len(re.findall(r"^\| (100|300) \| [\d,]+ \|", results, re.MULTILINE)) == 2
    growth = body.split("### Growth", 1)[1].split("###", 1)[0]
    for needle in ("| build |", "| search (consistent) |", "| windows |", "| search finding a conflict |"):
        assert growth.count(needle) == 2, needle
    conflicts = body.split("### Inconsistent networks", 1)[1].split("###", 1)[0]
    assert conflicts.count("`8 hours after PACLItaxel`") == 2
    goals = _goals(body)
    assert "| not measured (largest size " in goals  # 100,000 points are not reached
    assert len(re.findall(r"\| (yes|\*\*no\*\*) \|", goals)) == 4  # growth of the four measures


def test_library_check_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("library_check", "--files", FEW, "--reps", "1", "--cli-runs", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    body = _sections(out.read_text(encoding="utf-8"))["library_check"]
    assert _headings(body) == LIBRARY_CHECK_HEADINGS
    _machine(body, f"python bench/library_check.py --files {FEW} --reps 1 --cli-runs 1 --out ")
    for needle in (
        f"- Workload: {FEW} regimen files,",
        "- The check finds 0 errors, ",
        "| `run_check`, jobs=1 |",
        "| `run_check`, jobs=2 |",
        "check --no-cache --jobs 2 FOLDER` |",
        "| parse and lower (per file, summed) |",
        "| graphs and timing (per file, summed) |",
        "| rules (per file, summed) |",
        "| library rules |",
    ):
        assert needle in body, needle
    assert f"| not measured ({FEW} files) |" in _goals(body)


def test_build_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("build", "--small", "--reps", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    body = _sections(out.read_text(encoding="utf-8"))["build"]
    assert _headings(body) == BUILD_HEADINGS
    _machine(body, "python bench/build.py --small --reps 1 --out ")
    for needle in (
        "- Workload: 50 regimen files,",
        "- The site: 50 regimens, 150 pages",
        "| `build_site`, jobs=1 |",
        "| `build_site`, jobs=2 |",
        "| check only: `run_check`, jobs=2 |",
        "| `build_site`, jobs=2, cache: filling an empty cache |",
        "| `build_site`, jobs=2, cache: warm, nothing changed |",
        "| `build_site`, jobs=2, cache: one file changed (1 regimen rendered) |",
        "| html |",
        "| md |",
        "| json |",
    ):
        assert needle in body, needle
    assert "| not measured (50 files) |" in _goals(body)


def test_each_script_rewrites_only_its_own_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    out.write_text("# Performance: an old report with no sections\n", encoding="utf-8")
    runs = {
        "timing": ["--sizes", "100", "--reps", "1"],
        "parse_lower": ["--files", FEW, "--reps", "1", "--skip-cold-start"],
        "library_check": ["--files", FEW, "--reps", "1", "--skip-cli"],
    }
    for name, args in runs.items():
        proc = _run(name, *args, "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    report = out.read_text(encoding="utf-8")
    assert "an old report" not in report
    assert report.count("\n# ") + report.startswith("# ") == 1  # one shared header
    before = _sections(report)
    assert list(before) == list(NAMES)  # in the report's order, whatever order they ran in
    proc = _run("timing", "--sizes", "100", "--reps", "1", "--budget", "30", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    after = _sections(out.read_text(encoding="utf-8"))
    assert list(after) == list(NAMES)
    assert after["parse_lower"] == before["parse_lower"]
    assert after["library_check"] == before["library_check"]
    assert "--budget 30" in after["timing"]


BOUNDED_HEADINGS = ["## Bounded work", "### How it was run", "### Results", "### Goals"]


def test_bounded_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("bounded", "--size", "4096", "--reps", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    body = _sections(out.read_text(encoding="utf-8"))["bounded"]
    assert _headings(body) == BOUNDED_HEADINGS
    _machine(body, "python bench/bounded.py --size 4096 --reps 1 --out ")
    results = body.split("### Results", 1)[1].split("###", 1)[0]
    assert len(re.findall(r"^\| `[a-z0-9-]+` \|", results, re.MULTILINE)) == len(SHAPES)
    assert len(re.findall(r"\| (yes|\*\*no\*\*) \|", _goals(body))) == 1


def test_timing_regimens_of_more_cycles_than_a_cycle_number_may_count_lower_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    timing = importlib.import_module("timing")
    from regdsl.compile.library import load_library
    from regdsl.model.limits import CYCLE_NUMBERS

    library = load_library(tmp_path)
    groups = [(timing.TEMPLATES[-1], CYCLE_NUMBERS.value - 1), (timing.TEMPLATES[0], 2)]
    text = timing.regimen_text("bench-parts", groups, conflict=False)
    regimen = timing.lower_text(tmp_path, library, "bench-parts", text)  # refuses any error
    assert [len(p.cycles) for p in regimen.parts] == [1, 2]
    assert sum(g.count or 1 for g in regimen.cycles()) == CYCLE_NUMBERS.value + 2


def test_cache_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("cache", "--files", FEW, "--reps", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    body = _sections(out.read_text(encoding="utf-8"))["cache"]
    assert _headings(body) == ["## Results cache", "### How it was run", "### Results", "### Goals"]
    _machine(body, f"python bench/cache.py --files {FEW} --reps 1 --out ")
    for needle in (
        "| cold cache |",
        "| warm cache, nothing changed |",
        "| warm cache, one file changed (",
        "| bare Lark LALR parse of the same texts, one process |",
    ):
        assert needle in body, needle
    assert f"| not measured ({FEW} files) |" in _goals(body)


def test_lsp_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    proc = _run("lsp", "--edits", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    body = _sections(out.read_text(encoding="utf-8"))["lsp"]
    assert _headings(body) == ["## Language server", "### How it was run", "### Results", "### Goals"]
    _machine(body, "python bench/lsp.py --edits 3 --out ")
    for needle in (
        "| edit to findings, median of 3 |",
        "| edit to findings, 90th percentile |",
        "| server memory, the seed open |",
        "| server memory, all ",
    ):
        assert needle in body, needle
    assert len(re.findall(r"\| (yes|\*\*no\*\*) \|", _goals(body))) == 1


@pytest.mark.parametrize("name", ["library_check", "parse_lower"])
def test_a_command_line_row_checks_cold_with_no_results_cache(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rows time what a check does; with the results cache every run after the first would read it back.
    cache = tmp_path / "cache"
    monkeypatch.setenv("REGDSL_CACHE_DIR", str(cache))
    monkeypatch.delenv("REGDSL_NO_CACHE", raising=False)  # as a bench is run
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module(name)
    if name == "library_check":
        folder = tmp_path / "lib"
        folder.mkdir()
        for file in ("library.reg", "crc-adjuvant-mfolfox6.reg"):
            (folder / file).write_bytes((ROOT / "regimens" / file).read_bytes())
        bench.measure_cli(folder, 1)
    else:
        bench.measure_cold_start(1)
    assert cache.is_dir()  # the grammar is cached there
    assert sorted(p.name for p in (cache / "results").rglob("*")) == []
