"""Shared test set-up: goldens, the CI Hypothesis profile, and "a skip fails in CI"."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
# ``../shared``: the design documents and the sources the transcriptions are checked against,
# beside the clone (or where REGDSL_SHARED says). Reach it only through ``shared()``.
SHARED = Path(os.environ.get("REGDSL_SHARED") or ROOT.parent / "shared")

# The results cache of ``regdsl check`` is off unless a test turns it on (tests/test_cache.py):
# a test that changes a rule in this process must see it run, not a finding kept before.
os.environ.setdefault("REGDSL_NO_CACHE", "1")

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.register_profile("fuzz", deadline=None, max_examples=4000)
settings.load_profile(os.environ.get("REGDSL_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--update-goldens``."""
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files from current output")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Turn the caches on, in a folder of the test's own (``REGDSL_CACHE_DIR``)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("REGDSL_CACHE_DIR", str(folder))
    monkeypatch.delenv("REGDSL_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """Whether goldens are to be rewritten rather than compared."""
    return bool(request.config.getoption("--update-goldens"))


def shared(*parts: str) -> Path:
    """Return the path ``parts`` under ``../shared``, skipping what needs it when it is absent.

    In a test or a fixture the test is skipped; at import (a module-level read, a parametrize
    list built from the files) the whole module is. Under CI=true either skip fails the run.
    """
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"needs {path}, which is absent: clone the shared documents and corpus as ../shared "
            "beside the repository (or set REGDSL_SHARED to where they are)",
            allow_module_level=True,
        )
    return path


def _fail_skip_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    """Under CI=true a skipped test is a failed test: nothing may be silently left out."""
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, None, None]:
    """Under CI=true a module skipped as it is collected fails the run too."""
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())  # type: ignore[attr-defined]


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare ``actual`` with the golden file at ``path`` byte for byte (or rewrite it)."""
    if update or not path.exists():
        if not update:
            pytest.fail(f"golden {path.relative_to(ROOT)} is missing; run pytest --update-goldens")
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.relative_to(ROOT)} differs; review and run pytest --update-goldens"
