"""The example regimens check clean, and lower to the model the docs describe."""

from __future__ import annotations

from regdsl.check.run import run_configured
from regdsl.compile.library import check_paths
from tests.conftest import ROOT


def test_examples_check_clean() -> None:
    result = run_configured([ROOT / "examples"])  # every rule, as `regdsl check examples` runs them
    assert [d for d in result.diagnostics if d.level.value != "info"] == []
    assert sorted(r.id for r in result.regimens) == ["example-minimal", "example-weekly-paclitaxel"]


def test_shared_block_and_same_as_expand() -> None:
    (regimen,) = check_paths([ROOT / "examples" / "shared-blocks" / "weekly-paclitaxel.reg"]).regimens
    first, rest = regimen.cycles()
    names = [a.medicine.display for a in first.administrations]
    assert names == ["dexamethasone", "loratadine", "famotidine", "PACLItaxel"]
    assert all(a.days == (1, 8, 15) for a in first.administrations)
    assert rest.administrations == first.administrations
    assert (rest.first, rest.last, rest.same_as, rest.count) == (2, 4, 1, 3)
    premed = first.administrations[0]
    assert [(r.direction, r.low, r.high, r.anchor) for r in premed.relations] == [("before", 60, 60, "paclitaxel")]
