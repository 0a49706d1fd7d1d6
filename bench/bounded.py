"""Bounded-work benchmark: the adversarial shapes' check and build times, in ``docs/performance.md``.

Usage::

    python bench/bounded.py [--size BYTES] [--small] [--reps R] [--out PATH]

Each shape of ``tests/shapes.py`` (lines on one day, shared blocks used over and over, a
thousand cycle groups, long instructions compared word by word, prose of emphasis markers
that never close, bullets nested 300 deep, wide shift windows with gaps, plans of thousands
of branches, numbers no regimen has...) is written at ``--size`` bytes (default: the size
cap) into a library folder of its own, checked with ``run_check`` and, when it checks with no
error, built with ``build_site``. Times are medians of ``--reps`` runs, and are also given as
a ratio to a check of one bundled regimen (``tests/test_bounded.py`` holds every shape within
a budget of such checks). Only the section between ``<!-- bench:bounded -->`` and
``<!-- /bench:bounded -->`` is rewritten (see ``bench/benchlib.py``).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib import ROOT, load_average, machine_lines, median, ms, new_parser, positive, publish

sys.path.insert(0, str(ROOT))  # the shapes live with the test that bounds them

from regdsl.check.run import run_check
from regdsl.compile.library import MAX_BYTES
from regdsl.diagnostics import Severity
from regdsl.render.site import build_site
from tests.shapes import SHAPES, Shape

SECTION = "bounded"
SMALL_SIZE = 64 * 1024
FULL = MAX_BYTES - 4096  # the size cap, less room for the last line a shape adds
DEFAULT_REPS = 3
SMALL_REPS = 1
ONE = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"


@dataclass(frozen=True, slots=True)
class Measured:
    """One shape's figures."""

    shape: Shape
    size: int
    errors: tuple[str, ...]
    check: float
    build: float | None
    site: int | None


def _median(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def measure(shape: Shape, size: int, reps: int, tmp: Path) -> Measured:
    """Write ``shape`` at ``size`` bytes, time its check and (when it passes) its build."""
    folder = tmp / shape.name
    folder.mkdir()
    written = 0
    for name, text in shape.make(size).items():
        (folder / name).write_text(text, encoding="utf-8")
        written += len(text.encode("utf-8"))
    outcome = run_check([folder], jobs=1)
    # What a shape is refused with can depend on its size (a small one may pass a work limit).
    errors = tuple(sorted({d.code.code for d in outcome.diagnostics if d.level is Severity.ERROR}))
    check = _median(lambda: run_check([folder], jobs=1), reps)
    build = site = None
    if not errors:
        out = tmp / f"{shape.name}-site"

        def one_build() -> None:
            shutil.rmtree(out, ignore_errors=True)
            build_site([folder], out, jobs=1)

        build = _median(one_build, reps)
        site = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return Measured(shape, written, errors, check, build, site)


def render(command: str, size: int, reps: int, one: float, rows: Sequence[Measured], load: tuple[str, str]) -> str:
    """Return this script's section of the report (Markdown, without its markers)."""
    out = [
        "## Bounded work",
        "",
        "Written by `bench/bounded.py`. Re-run the command below to regenerate this section.",
        "",
        "### How it was run",
        "",
        *machine_lines(command, load),
        f"- Workload: the adversarial shapes of `tests/shapes.py`, each written at up to {size:,} bytes into a "
        "library folder of its own (the shapes that are a few lines are that size whatever the size asked for).",
        f"- Check: `run_check([folder], jobs=1)`; build: `build_site([folder], out, jobs=1)`, for the shapes that "
        f"check with no error. Medians of {reps} runs. The ratio is to a check of one bundled regimen "
        f"(`{ONE.relative_to(ROOT)}`): {ms(one)} here. `tests/test_bounded.py` holds every shape, at a quarter of "
        "the size cap, within 600 such checks.",
        "",
        "### Results",
        "",
        "| Shape | What it stresses | Bytes | Errors | Check | × one regimen | Build | Site bytes |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for m in rows:
        errors = ", ".join(f"`{e}`" for e in m.errors) or "none"
        build = ms(m.build) if m.build is not None else "not built (refused)"
        site = f"{m.site:,}" if m.site is not None else ""
        out.append(
            f"| `{m.shape.name}` | {m.shape.stresses} | {m.size:,} | {errors} | {ms(m.check)} "
            f"| {m.check / one:,.0f} | {build} | {site} |"
        )
    slowest = max(rows, key=lambda m: max(m.check, m.build or 0.0))
    out += [
        "",
        "### Goals",
        "",
        "| Goal | Target | Measured | Met |",
        "| --- | ---: | ---: | :---: |",
        f"| Every shape checks and builds in seconds (slowest: `{slowest.shape.name}`) | ≤ 10,000 ms "
        f"| {ms(max(slowest.check, slowest.build or 0.0))} "
        f"| {'yes' if max(slowest.check, slowest.build or 0.0) <= 10 else '**no**'} |",
    ]
    return "\n".join(out) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    ap, size = new_parser("bounded.py", __doc__)
    size.add_argument("--size", type=positive, default=FULL, help=f"bytes of each shape (default {FULL})")
    size.add_argument("--small", action="store_true", help=f"{SMALL_SIZE} bytes and {SMALL_REPS} run, for CI")
    ap.add_argument("--reps", type=positive, help=f"runs of each measurement (default {DEFAULT_REPS})")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its section of the report."""
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    size: int = SMALL_SIZE if args.small else args.size
    reps: int = args.reps or (SMALL_REPS if args.small else DEFAULT_REPS)
    command = shlex.join(["python", "bench/bounded.py", *given])
    load_start = load_average()
    run_check([ONE], jobs=1)  # warm: imports, the grammar, the library
    one = _median(lambda: run_check([ONE], jobs=1), max(5, reps))
    rows = []
    with tempfile.TemporaryDirectory(prefix="regdsl-bench-") as tmp:
        for shape in SHAPES:
            print(f"{shape.name}...", file=sys.stderr)
            rows.append(measure(shape, size, reps, Path(tmp)))
    section = render(command, size, reps, one, rows, (load_start, load_average()))
    return publish(args.out, SECTION, section)


if __name__ == "__main__":
    sys.exit(main())
