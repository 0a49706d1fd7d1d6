"""Branching rules beyond their fixtures: exact guard sets, and loops found without listing them all."""

from __future__ import annotations

import time
from pathlib import Path

from regdsl.check.run import run_check
from regdsl.compile.phases import DEFAULT_SPACE, STATES


def test_no_condition_holds_for_every_patient() -> None:
    assert DEFAULT_SPACE.truth(None) == DEFAULT_SPACE.all() == frozenset(range(len(STATES)))


def test_a_dense_plan_is_checked_in_linear_time(tmp_path: Path) -> None:
    """Forty cycles that each may jump to any other: more simple loops than could ever be listed."""
    lines = ["regimen dense", '  name "Dense"', "  status draft", ""]
    for number in range(1, 41):
        lines += [f"cycle {number}: 21 days", "  loratadine 10 mg oral days 1", ""]
    lines += ["plan", "  after any cycle:"]
    responses = ["CR", "CRi", "PR", "SD", "PD"]
    for number in range(1, 41):
        lines.append(f"    if response is {responses[number % 5]} and MRD negative: go to cycle {number}")
    lines.append("    otherwise: stop")
    (tmp_path / "dense.reg").write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = run_check([tmp_path / "dense.reg"])
    assert time.perf_counter() - started < 5.0
    loops = [d.span.line for d in result.diagnostics if d.code.code == "BRA003"]
    assert loops == sorted(set(loops))  # each `go to cycle` branch once
    assert len(loops) == 40
