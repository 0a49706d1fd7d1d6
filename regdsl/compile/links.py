"""The library's link graph: its regimens, and the links between them, as a networkx graph.

A link is written in a regimen's plan or heading: ``continue with ID`` (a decision hands the
patient over), ``counted with ID`` (a cycle limit counts the other regimen's cycles too) and
``status superseded by ID``. The graph (``library_graph``) has a node for every regimen the
run lowered, every regimen of its libraries and every regimen a link names; an edge per
link, with its kind and where it was written. Every attribute is a string, a whole number
or a truth value, so that the graph can be written as GraphML.

The analyses that are graph problems by nature are solved here, on that graph, by
networkx: the hand-overs that form a loop (``handover_loops``) and the regimens that share
a cycle limit (``limit_groups``). networkx is imported only when a graph is built: the
library rules build one only when a link joins two regimens of the run (``joined``), so the
check of one regimen never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from regdsl.compile.library import RegimenInfo
from regdsl.compile.phases import cond_text
from regdsl.model import ir
from regdsl.source import Span, visible

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Link", "handover_loops", "joined", "library_graph", "limit_groups", "links"]

LinkKind = Literal["continue", "counted", "superseded"]


@dataclass(frozen=True, slots=True)
class Link:
    """One link: from which regimen to which, of what kind, where (None: the heading's status), and its guard."""

    source: str
    target: str
    kind: LinkKind
    span: Span | None
    guard: str | None = None
    count: int | None = None


def links(regimen: ir.Regimen) -> Iterator[Link]:
    """Every link a regimen writes, in the order written: hand-overs, shared limits, then its successor."""
    for decision in regimen.plan.decisions:
        for branch in decision.branches:
            if branch.action == "continue" and branch.target:
                guard = cond_text(branch.cond) if branch.cond is not None else None
                yield Link(regimen.id, branch.target, "continue", branch.span, guard)
    for limit in regimen.plan.limits:
        guard = cond_text(limit.cond) if limit.cond is not None else None
        for target in dict.fromkeys(limit.counted_with):
            yield Link(regimen.id, target, "counted", limit.span, guard, limit.count)
    if regimen.meta.superseded_by:
        yield Link(regimen.id, regimen.meta.superseded_by, "superseded", None)


def joined(regimens: Mapping[str, ir.Regimen]) -> bool:
    """Whether a link joins two regimens of ``regimens`` (or one to itself): only then is there a graph to analyse."""
    return any(link.target in regimens for regimen in regimens.values() for link in links(regimen))


def library_graph(regimens: Mapping[str, ir.Regimen], infos: Mapping[str, RegimenInfo]) -> nx.MultiDiGraph[str]:
    """Return the link graph of ``regimens`` (those lowered) in a library whose quick scan is ``infos``.

    Nodes are regimen ids, in order, with ``name``, ``status`` and ``path`` (as known: lowered,
    else scanned; a path's hidden characters escaped), ``lowered`` and ``in_library``. Edges
    go from the regimen that writes a link to the one it names, in the order written (the
    regimens by id), with ``kind``, ``line`` and ``path`` (where it was written; a status has
    no line of its own), and a hand-over's or limit's ``guard`` and a limit's ``count``.
    """
    import networkx as nx

    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    written = [link for key in sorted(regimens) for link in links(regimens[key])]
    for key in sorted({*regimens, *infos, *(link.target for link in written)}):
        regimen, info = regimens.get(key), infos.get(key)
        attributes: dict[str, str | bool] = {"lowered": regimen is not None, "in_library": info is not None}
        if regimen is not None:
            attributes |= {"name": regimen.name, "status": regimen.status.value, "path": visible(regimen.path)}
        elif info is not None:
            attributes |= {"name": info.name or key, "path": visible(info.path)}
            attributes |= {"status": info.status} if info.status else {}
        graph.add_node(key, **attributes)
    for link in written:
        graph.add_edge(link.source, link.target, **_attributes(link, regimens[link.source]))
    return graph


def _attributes(link: Link, regimen: ir.Regimen) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {"kind": link.kind, "path": visible(regimen.path)}
    if link.span is not None:
        attributes["line"] = link.span.line
    if link.guard is not None:
        attributes["guard"] = link.guard
    if link.count is not None:
        attributes["count"] = link.count
    return attributes


def _of_kind(graph: nx.MultiDiGraph[str], kind: LinkKind) -> Iterable[tuple[str, str]]:
    return ((u, v) for u, v, data in graph.edges(data=True) if data["kind"] == kind)


def handover_loops(graph: nx.MultiDiGraph[str]) -> list[list[str]]:
    """Return each loop of hand-overs (``continue with``): one cycle through each strongly connected group.

    A cycle is the list of regimens round it, from the group's least id (a regimen that
    continues with itself is a loop of one); loops are ordered by that id. The groups are
    found in linear time, never by listing every cycle.
    """
    import networkx as nx

    handovers: nx.DiGraph[str] = nx.DiGraph()
    handovers.add_nodes_from(graph)
    handovers.add_edges_from(_of_kind(graph, "continue"))
    found: list[list[str]] = []
    for members in nx.strongly_connected_components(handovers):
        first = min(members)
        if handovers.has_edge(first, first):
            found.append([first])
        elif len(members) > 1:  # round the group from its least id, by the shortest way back from its least successor
            inside = handovers.subgraph(members)
            after = min(inside.successors(first))
            found.append([first, *nx.shortest_path(inside, after, first)[:-1]])
    return sorted(found)


def limit_groups(graph: nx.MultiDiGraph[str]) -> list[list[str]]:
    """Return the groups of regimens that share cycle limits: the connected groups of ``counted with`` links.

    Each group is sorted, and the groups are ordered by their first id; a regimen that shares
    no limit is in no group.
    """
    import networkx as nx

    counted: nx.Graph[str] = nx.Graph()
    counted.add_edges_from((u, v) for u, v in _of_kind(graph, "counted") if u != v)
    return sorted(sorted(group) for group in nx.connected_components(counted))
