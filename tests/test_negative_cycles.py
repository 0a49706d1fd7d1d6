"""The hand-written conflict search against networkx's, on thousands of random timing networks.

Each network is built as ``build_network`` builds one: cycles numbered together, every point
bounded from its cycle start, cycles of a part linked, parts joined by "after"; then random
constraints within a cycle and between neighbouring cycles, of any sign, some one-sided. The
search (``find_conflict``) must find a conflict exactly when networkx finds a negative cycle;
a conflict it reports must be a cycle of real arcs whose weight is negative, and without one
its schedule must keep every constraint. Windows and day bounds, solved over a cycle and its
neighbours, must be networkx's shortest paths over the same points. Seeded: the same networks
every run, bounded in CI.
"""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from regdsl.compile.stn import OPEN, Constraint, PointId, TimingNetwork, bounds_from, find_conflict, windows
from regdsl.source import SourceFile

NETWORKS = 3000
SPAN = SourceFile("random.reg", "x").whole()


def _network(rng: random.Random) -> TimingNetwork:
    net = TimingNetwork(span=SPAN)
    part = 1
    previous: int | None = None
    for k in range(rng.randint(1, 6)):
        if k and rng.random() < 0.2:
            part += 1
        start = net.add_point(PointId(part, k, k + 1), f"cycle {k + 1}")
        if previous is None or net.nodes[previous].part != part:
            net.roots.append(start)
        if previous is not None:
            lower = rng.randint(0, 30)
            upper = None if net.nodes[previous].part != part else lower + rng.randint(0, 10)
            net.constrain(previous, start, Constraint(lower, upper, SPAN, "cycle length"))
        doses = []
        for i in range(rng.randint(0, 10)):
            doses.append(net.add_point(PointId(part, k, k + 1).dose(i, 1), f"dose {i}"))
            low = rng.randint(-5, 40)
            net.constrain(start, doses[-1], Constraint(rng.choice([None, low]), low + rng.randint(0, 25), SPAN, "day"))
        if rng.random() < 0.3:  # a chain of gaps, as "doses at least N days apart" makes: many passes
            for a, b in itertools.pairwise(doses):
                net.constrain(a, b, Constraint(rng.randint(0, 3), None, SPAN, "gap"))
        previous = start
    _random_constraints(net, rng)
    net.shapes.extend((k,) for k in range(len(net.cycles)))  # every cycle its own shape
    return net


def _random_constraints(net: TimingNetwork, rng: random.Random) -> None:
    for _ in range(rng.randint(0, len(net.nodes))):
        u = rng.randrange(len(net.nodes))
        low, high = net.around(net.cycle_of(u))
        v = rng.randrange(low, high)
        lower = rng.randint(-60, 10)
        upper = lower + rng.randint(-2, 120)  # now and then below the lower bound: a conflict of its own
        bounds = rng.choice([(lower, upper), (lower, None), (None, upper)])
        net.constrain(u, v, Constraint(*bounds, SPAN, f"constraint {u} {v}"))


def _distance_graph(net: TimingNetwork) -> nx.MultiDiGraph[int]:
    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph()
    graph.add_nodes_from(range(len(net.nodes)))
    graph.add_weighted_edges_from((u, v, w) for u, out in enumerate(net.arcs) for v, w in out)
    return graph


def _lightest(net: TimingNetwork) -> nx.DiGraph[int]:
    """Return the distance graph with the lightest of parallel arcs (what shortest paths use)."""
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_nodes_from(range(len(net.nodes)))
    for u, out in enumerate(net.arcs):
        for v, w in out:
            if not graph.has_edge(u, v) or graph[u][v]["weight"] > w:
                graph.add_edge(u, v, weight=w)
    return graph


def _check_conflict(net: TimingNetwork) -> bool:
    """Compare one network's search with networkx; return whether it conflicts."""
    conflict = find_conflict(net)
    assert (conflict is not None) == nx.negative_edge_cycle(_distance_graph(net))
    if conflict is None:
        potential = net.potential
        assert potential is not None
        for u, out in enumerate(net.arcs):  # a schedule: every constraint holds
            assert all(potential[v] <= potential[u] + w for v, w in out)
        return False
    assert conflict.allowed - conflict.needed < 0  # the cycle's weight
    points = [net.index[p] for p in conflict.points]
    weight = 0
    for u, v in zip(points, points[1:] + points[:1], strict=True):
        arcs = [w for head, w in net.arcs[u] if head == v]
        assert arcs, f"no arc {u} -> {v}"  # every edge of the cycle is one of the network's
        weight += min(arcs)
    assert weight < 0
    constraints = {id(c) for _u, _v, c in net.edges}
    assert all(id(c) in constraints for c in conflict.constraints)
    return True


def _check_solution(net: TimingNetwork) -> None:
    """Windows and bounds are networkx's shortest paths over a cycle and its neighbours."""
    solved = windows(net)
    graph = _lightest(net)
    for k, start in enumerate(net.cycles):
        low, high = net.around(k)
        local = graph.subgraph(range(low, high))
        later = nx.single_source_bellman_ford_path_length(local, net.index[start])
        earlier = nx.single_source_bellman_ford_path_length(local.reverse(copy=False), net.index[start])
        members = net.nodes[net.first[k] : net.first[k + 1]]
        bounds = bounds_from(net, start, members)
        for point in members:
            i = net.index[point]
            assert solved.of(point) == (-earlier.get(i, OPEN), later.get(i, OPEN))
            assert bounds[point] == (-earlier[i] if i in earlier else None, later.get(i))


@pytest.mark.parametrize("seed", range(3))
def test_the_conflict_search_agrees_with_networkx(seed: int) -> None:
    rng = random.Random(seed)
    conflicts = 0
    for _ in range(NETWORKS // 3):
        net = _network(rng)
        if _check_conflict(net):
            conflicts += 1
        else:
            _check_solution(net)
    assert 0.1 < conflicts / (NETWORKS // 3) < 0.9  # both kinds of network are tried, many times
