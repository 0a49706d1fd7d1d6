"""Bounded work: every adversarial shape checks within a generous multiple of a one-regimen check.

The budget is a ratio to the time this machine takes to check one bundled regimen, never an
absolute time, so a slow or busy machine moves both alike; it is generous (a file of a quarter
of the size cap is hundreds of regimens' worth of text), and catches what is not linear: a
quadratic stage takes minutes on these shapes. A shape that runs past twice its budget is
stopped, so a regression fails the test instead of hanging it. Each shape must also give
exactly what it promises: no error (then a site is built from it, within the same budget), or
the errors it is refused with.
"""

from __future__ import annotations

import signal
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from regdsl.check.run import run_check
from regdsl.diagnostics import Severity
from regdsl.diagnostics.formats import FORMATS
from regdsl.render.site import build_site
from tests.conftest import ROOT
from tests.shapes import SHAPES, Shape

SIZE = 256 * 1024  # bytes: a quarter of the size cap
RATIO = 600  # the budget: this many one-regimen checks
SHOWN = 32  # characters of findings a byte of the shape may give, at most (the most now: 16)
ONE = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"


class _Overrun(Exception):
    pass


@contextmanager
def _stopped_after(seconds: float) -> Iterator[None]:
    def overrun(_signum: int, _frame: FrameType | None) -> None:
        raise _Overrun

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def budget() -> float:
    run_check([ONE], jobs=1)  # warm: imports, the grammar, the library
    one = statistics.median(_timed(lambda: run_check([ONE], jobs=1)) for _ in range(5))
    return RATIO * one


def _write(shape: Shape, folder: Path) -> Path:
    folder.mkdir()
    for name, text in shape.make(SIZE).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_shape_checks_within_its_budget(shape: Shape, budget: float, tmp_path: Path) -> None:
    folder = _write(shape, tmp_path / "lib")
    try:
        with _stopped_after(2 * budget):
            start = time.perf_counter()
            outcome = run_check([folder], jobs=1)
            elapsed = time.perf_counter() - start
    except _Overrun:
        pytest.fail(f"{shape.name}: the check ran past {2 * budget:.1f} s ({2 * RATIO} one-regimen checks)")
    errors = sorted({d.code.code for d in outcome.diagnostics if d.level is Severity.ERROR})
    assert errors == sorted(shape.outcome), [d.message for d in outcome.diagnostics][:5]
    assert elapsed <= budget, f"{shape.name}: {elapsed:.2f} s, over {RATIO} one-regimen checks ({budget:.2f} s)"
    # What the terminal is given is bounded too: at most a few hundred characters a finding (a
    # finding that showed its whole line, for each finding of a long line, printed gigabytes),
    # and a few findings of one code a line (one for each of 50,000 days of a line printed 35 MB).
    with _stopped_after(2 * budget):
        shown = len(FORMATS["text"](outcome.diagnostics, outcome.sources))
    assert shown <= SHOWN * SIZE, f"{shape.name}: {shown:,} characters of findings from {SIZE:,} bytes"


@pytest.mark.parametrize("shape", [s for s in SHAPES if s.accepted], ids=lambda s: s.name)
def test_accepted_shape_builds_a_small_site_within_its_budget(shape: Shape, budget: float, tmp_path: Path) -> None:
    folder = _write(shape, tmp_path / "lib")
    out = tmp_path / "site"
    try:
        with _stopped_after(2 * budget):
            start = time.perf_counter()
            built = build_site([folder], out, jobs=1)
            elapsed = time.perf_counter() - start
    except _Overrun:
        pytest.fail(f"{shape.name}: the build ran past {2 * budget:.1f} s ({2 * RATIO} one-regimen checks)")
    assert not built.outcome.failed()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert size <= 64 * SIZE, f"{shape.name}: a site of {size:,} bytes from {SIZE:,} bytes of sources"
    assert elapsed <= budget, f"{shape.name}: {elapsed:.2f} s, over {RATIO} one-regimen checks ({budget:.2f} s)"
