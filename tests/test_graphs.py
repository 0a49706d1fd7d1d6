"""The compiled graphs: the timing network, its solution, and the phase graph."""

from __future__ import annotations

import pytest

from regdsl.compile.library import check_paths
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.compile.phases import END, START, STATES, STOP, PhaseId, PhaseKind, describe_state, holds
from regdsl.compile.stn import PointId, PointKind, build_network
from regdsl.model.wording import DAY
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def seed() -> Compiled:
    (regimen,) = check_paths([ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"]).regimens
    return compile_regimen(regimen)


def test_the_timing_network_names_its_points_by_structured_ids(seed: Compiled) -> None:
    net = seed.network
    first = PointId(1, 0, 1)
    assert net.nodes[net.roots[0]] == first
    # cycles 1, 2 and 3 (cycle 1, then cycles 2 to 3): three cycle starts, the second group's apart
    assert net.cycles == [first, PointId(1, 1, 2), PointId(1, 1, 3)]
    assert [str(c) for c in net.cycles] == ["p1.g0.c1", "p1.g1.c2", "p1.g1.c3"]
    assert [p for p in net.nodes if p.kind is PointKind.CYCLE] == net.cycles
    (length,) = [c for u, v, c in net.edges if (net.nodes[u], net.nodes[v]) == (first, PointId(1, 1, 2))]
    assert (length.lower, length.upper, length.span.line) == (21 * DAY, 28 * DAY, 28)
    # every cycle's points are numbered together, after its start
    for k, cycle in enumerate(net.cycles):
        members = net.nodes[net.first[k] : net.first[k + 1]]
        assert members[0] == cycle
        assert {p.cycle_start for p in members} == {cycle}
        assert all(net.cycle_of(net.index[p]) == k for p in members)


def test_point_ids_are_small_ordered_values_with_one_text_form() -> None:
    cycle = PointId(2, 1, 3)
    dose = cycle.dose(4, 8)
    assert str(dose) == "p2.g1.c3.a4.d8.start"
    assert str(dose.other_end) == "p2.g1.c3.a4.d8.end"
    assert str(cycle.chemotherapy(1, end=True)) == "p2.g1.c3.d1.chemo.end"
    assert str(cycle.observing(0, 4, 8)) == "p2.g1.c3.o0.a4.d8.start"
    assert dose.cycle_start == cycle
    assert dose.other_end.other_end == dose
    assert {dose: 1}[PointId(2, 1, 3, PointKind.DOSE, 8, 4)] == 1  # hashable, equal by value
    assert sorted([cycle.dose(0, 15), dose, cycle, PointId(1, 0, 9)]) == [
        PointId(1, 0, 9),
        cycle,
        dose,
        cycle.dose(0, 15),
    ]
    with pytest.raises(AttributeError):
        dose.day = 9  # type: ignore[misc]
    assert [str(p) for p in (START, PhaseId(PhaseKind.GROUP, 1, 0), PhaseId(PhaseKind.REGIMEN, regimen="x"))] == [
        "start",
        "p1.g0",
        "regimen:x",
    ]
    assert sorted([END, STOP, PhaseId(PhaseKind.REGIMEN, regimen="x"), PhaseId(PhaseKind.GROUP, 1, 10), START]) == [
        START,
        PhaseId(PhaseKind.GROUP, 1, 10),
        PhaseId(PhaseKind.REGIMEN, regimen="x"),
        STOP,
        END,
    ]


def test_a_point_of_another_cycle_is_refused(seed: Compiled) -> None:
    net = build_network(seed.regimen)
    with pytest.raises(ValueError, match="not of the last cycle started"):
        net.add_point(PointId(1, 0, 1).dose(0, 1), "a dose of the first cycle, after the last began")


def test_seed_is_consistent_and_its_day_8_dose_moves_one_day_early_at_most(seed: Compiled) -> None:
    assert seed.conflict is None
    assert seed.windows is not None
    cycle = PointId(1, 0, 1)
    early, late = seed.windows.of(cycle.dose(4, 8))
    assert (early // DAY + 1, late // DAY + 1) == (7, 10)
    # loratadine moves with the dose it precedes: 30 to 60 minutes before it
    lor_early, lor_late = seed.windows.of(cycle.dose(0, 8))
    assert (lor_early, lor_late) == (early - 60, late - 30)
    assert seed.windows.get(cycle.dose(0, 9)) is None  # no dose of loratadine on day 9


def test_phase_graph_of_the_seed(seed: Compiled) -> None:
    edges = {(str(u), str(v), t.kind) for u, v, t in seed.phases.transitions}
    assert ("start", "p1.g0", "sequence") in edges
    assert ("p1.g0", "regimen:leu-all-bcell-rr-inotuzumab-cr", "branch") in edges
    assert ("p1.g1", "end", "otherwise") in edges
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
