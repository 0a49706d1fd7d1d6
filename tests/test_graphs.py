"""The compiled graphs: the timing network, its solution, and the phase graph."""

from __future__ import annotations

import networkx as nx
import pytest

from regdsl.compile.library import check_paths
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.compile.phases import END, START, STATES, describe_state, holds
from regdsl.compile.stn import PointId
from regdsl.model.wording import DAY
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def seed() -> Compiled:
    (regimen,) = check_paths([ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"]).regimens
    return compile_regimen(regimen)


def test_timing_network_is_a_networkx_graph_with_spans(seed: Compiled) -> None:
    graph = seed.network.graph
    assert isinstance(graph, nx.DiGraph)
    assert graph.number_of_nodes() == len(seed.network)
    first = PointId("p1.c1")
    assert seed.network.origin == first
    # cycles 1, 2 and 3 (cycle 1, then cycles 2 to 3): three cycle starts
    assert [n for n in seed.network.nodes if n.count(".") == 1] == ["p1.c1", "p1.c2", "p1.c3"]
    (length,) = seed.network.constraints(first, PointId("p1.c2"))
    assert (length.lower, length.upper, length.span.line) == (21 * DAY, 28 * DAY, 28)


def test_seed_is_consistent_and_its_day_8_dose_moves_one_day_early_at_most(seed: Compiled) -> None:
    assert seed.conflict is None
    assert seed.windows is not None
    early, late = seed.windows.of(PointId("p1.c1.a4.d8.start"))
    assert (early // DAY + 1, late // DAY + 1) == (7, 10)
    # loratadine moves with the dose it precedes: 30 to 60 minutes before it
    lor_early, lor_late = seed.windows.of(PointId("p1.c1.a0.d8.start"))
    assert (lor_early, lor_late) == (early - 60, late - 30)


def test_phase_graph_of_the_seed(seed: Compiled) -> None:
    graph = seed.phases.graph
    edges = {(u, v, d["transition"].kind) for u, v, d in graph.edges(data=True)}
    assert (START, "p1.g0", "sequence") in edges
    assert ("p1.g0", "regimen:leu-all-bcell-rr-inotuzumab-cr", "branch") in edges
    assert ("p1.g1", END, "otherwise") in edges
    assert seed.phases.unreachable() == []


def test_states_enumerate_every_patient() -> None:
    assert len(STATES) == 5 * 2 * 2
    assert describe_state(STATES[0]) == "response CR, MRD negative, proceeding to HSCT"


def test_conditions_evaluate_exactly(seed: Compiled) -> None:
    limit = seed.regimen.plan.limits[1]
    assert limit.cond is not None
    cr_mrd_neg_hsct = {"response": "CR", "mrd_negative": True, "hsct": True}
    pr_hsct = {"response": "PR", "mrd_negative": True, "hsct": True}
    assert not holds(limit.cond, cr_mrd_neg_hsct)
    assert holds(limit.cond, pr_hsct)
