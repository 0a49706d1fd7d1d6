"""``regdsl graph``: the dependency graph of a library as one file, GraphML or node-link JSON.

The file is written by networkx's own writers (``write_graphml_lxml``, which writes as it
goes, and ``node_link_data``), so that Gephi, yEd, Cytoscape and networkx itself read it. It
holds one directed multigraph with three layers, told apart by each node's and edge's ``layer``:

- ``regimen``: the library's link graph (``regdsl.compile.links``): a node per regimen, keyed
  by its id, and an edge per ``continue with``, ``counted with`` and ``superseded by``;
- ``timing``: each regimen's timing network, a node per time point (keyed ``ID/timing/POINT``,
  ``POINT`` its id such as ``p1.g0.c1.a4.d8.start``) with its solved window, and an edge
  ``u -> v`` per constraint ``lower <= v - u <= upper`` (minutes) with the line that made it;
- ``phase``: each regimen's phase graph, a node per phase (keyed ``ID/phase/PHASE``) and an
  edge per transition, with its guard in words (``guard``) and as a tree (``guard_tree``, the
  JSON of the regimen document's ``when.tree``).

Every attribute is a string, a whole number or a truth value; one that does not apply (an
unbounded side, a window open on one side, a phase with no line) is left out. Paths have
their hidden characters escaped; in GraphML, a text's line break before a colon is written
``&#10;``, so that no line of the file printed in a CI log is a GitHub Actions command.
Nodes and edges keep one order (regimens by id, then as compiled), so the same sources give
the same bytes. The check comes first, as ``regdsl check`` does it: a library with errors
gets no graph.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from regdsl import __version__
from regdsl.check.config import Config
from regdsl.check.run import Outcome, configure, library_root, run_check
from regdsl.compile.library import Library, RegimenInfo, load_library
from regdsl.compile.links import handover_loops, library_graph, limit_groups
from regdsl.compile.passes import Compiled
from regdsl.compile.phases import PhaseKind
from regdsl.compile.stn import OPEN, PointKind
from regdsl.render.document import guard
from regdsl.source import SourceFile

__all__ = ["GRAPH_FORMATS", "regimen_graph", "write_graph"]

GRAPH_FORMATS = ("graphml", "json")
# A line break that a colon follows (after any spaces) is in a text: the writer's own line
# breaks come before a tag.
_COMMAND = re.compile(r"\n(?=[^\S\n]*:)")

Attributes = dict[str, str | int | bool]


def regimen_graph(compiled: Compiled) -> nx.MultiDiGraph[str]:
    """Return the timing network and the phase graph of one compiled regimen, as the file holds them."""
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    _timing(graph, compiled)
    _phases(graph, compiled)
    return graph


def _timing(graph: nx.MultiDiGraph[str], compiled: Compiled) -> None:
    regimen, net, solved = compiled.regimen, compiled.network, compiled.windows
    keys = [f"{regimen.id}/timing/{point}" for point in net.nodes]
    for number, (key, point) in enumerate(zip(keys, net.nodes, strict=True)):
        group = regimen.parts[point.part - 1].cycles[point.group]
        node: Attributes = {
            "layer": "timing",
            "regimen": regimen.id,
            "point": str(point),
            "kind": point.kind.name.lower(),
            "part": point.part,
            "group": point.group,
            "cycle": point.cycle,
            "label": net.labels[number],
        }
        if point.kind is PointKind.CYCLE:
            node["line"] = group.span.line
        else:
            node |= {"day": point.day, "end": point.end}
        if point.kind is PointKind.DOSE:
            node |= {"administration": point.line, "line": group.administrations[point.line].span.line}
        elif point.kind is PointKind.OBSERVATION:
            observation = group.observations[point.observation]
            node |= {"administration": point.line, "observation": point.observation, "line": observation.span.line}
        elif point.kind is PointKind.CHEMOTHERAPY:
            node["line"] = group.span.line
        if solved is not None:
            early, late = solved.earliest[number], solved.latest[number]
            node |= {"earliest": early} if early != -OPEN else {}
            node |= {"latest": late} if late != OPEN else {}
        graph.add_node(key, **node)
    for u, v, constraint in net.edges:
        edge: Attributes = {"layer": "timing", "what": constraint.what, "line": constraint.span.line}
        edge |= {"lower": constraint.lower} if constraint.lower is not None else {}
        edge |= {"upper": constraint.upper} if constraint.upper is not None else {}
        graph.add_edge(keys[u], keys[v], **edge)


def _phases(graph: nx.MultiDiGraph[str], compiled: Compiled) -> None:
    regimen, phases = compiled.regimen, compiled.phases
    for phase_id, phase in phases.phases.items():
        node: Attributes = {
            "layer": "phase",
            "regimen": regimen.id,
            "phase": str(phase_id),
            "kind": phase_id.kind.name.lower(),
            "label": phase.label,
        }
        if phase.span is not None:
            node["line"] = phase.span.line
        if phase.group is not None:
            node |= {"first": phase.group.first, "open_ended": phase.group.open_ended}
            node |= {"last": phase.group.last} if phase.group.last is not None else {}
        if phase_id.kind is PhaseKind.REGIMEN:
            node["target"] = phase_id.regimen
        graph.add_node(f"{regimen.id}/phase/{phase_id}", **node)
    for u, v, transition in phases.transitions:
        edge: Attributes = {"layer": "phase", "kind": transition.kind}
        if transition.span is not None:
            edge["line"] = transition.span.line
        words = guard(transition.guard)
        if words is not None:
            edge |= {"guard": words["text"], "guard_tree": json.dumps(words["tree"], separators=(",", ":"))}
        graph.add_edge(f"{regimen.id}/phase/{u}", f"{regimen.id}/phase/{v}", **edge)


@dataclass(frozen=True, slots=True)
class _RegimenGraph:
    """The product hook of ``write_graph``: one regimen's layers, made in the worker that checked it."""

    def __call__(self, compiled: Compiled, source: SourceFile, library: Library, config: Config) -> object:
        return regimen_graph(compiled)


def _library(outcome: Outcome, infos: dict[str, RegimenInfo]) -> nx.MultiDiGraph[str]:
    """Return the link graph of the checked regimens, with the groups its analyses find on each node."""
    regimens = {r.id: r for r in outcome.regimens}
    graph = library_graph(regimens, infos)
    for node in graph:
        graph.nodes[node]["layer"] = "regimen"
    for _u, _v, data in graph.edges(data=True):
        data["layer"] = "regimen"
    for group in limit_groups(graph):
        for member in group:
            graph.nodes[member]["limit_group"] = group[0]
    for loop in handover_loops(graph):
        for member in loop:
            graph.nodes[member]["handover_loop"] = loop[0]
    return graph


def write_graph(
    sources: Sequence[Path],
    fmt: str,
    *,
    strict: bool = False,
    jobs: int | None = None,
    config_file: Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
) -> tuple[Outcome, bytes | None]:
    """Check ``sources`` as ``regdsl check`` does; return the outcome and, if it passed, the graph file's bytes.

    Raises what ``run_configured`` raises for unusable paths or options.
    """
    config = configure(sources, config_file=config_file, select=select, ignore=ignore, extend_select=extend_select)
    if isinstance(config, Outcome):
        return config, None
    outcome = run_check(sources, jobs=jobs, config=config, product=_RegimenGraph())
    if outcome.failed(strict=strict):
        return outcome, None
    roots = sorted({library_root(Path(r.path), config) for r in outcome.regimens})
    infos = {key: info for root in roots for key, info in load_library(root).infos.items()}
    graph = _library(outcome, infos)
    graph.graph["generator"] = f"regdsl {__version__}"
    for regimen in sorted(outcome.regimens, key=lambda r: r.id):
        part = outcome.products.pop(regimen.path, None)  # each part given up once added: one copy at a time
        if not isinstance(part, nx.MultiDiGraph):  # a passed check has every regimen's graph (Outcome.products)
            raise RuntimeError(f"{regimen.path}: the check passed but its graph was not made")
        graph.add_nodes_from(part.nodes(data=True))
        graph.add_edges_from(part.edges(data=True))
    return outcome, _serialised(graph, fmt)


def _serialised(graph: nx.MultiDiGraph[str], fmt: str) -> bytes:
    """Write ``graph`` as ``fmt``; the graph is emptied as it is written (a large library: one copy at a time)."""
    buffer = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml_lxml(graph, buffer)  # lxml's incremental writer: no tree of the whole file in memory
    elif fmt == "json":
        data = nx.node_link_data(graph, edges="edges")
        graph.clear()  # node_link_data copied every attribute: the graph is no longer needed
        encoder = json.JSONEncoder(indent=2, ensure_ascii=False, sort_keys=True)
        for chunk in encoder.iterencode(data):
            buffer.write(chunk.encode("utf-8"))
        buffer.write(b"\n")
    else:
        raise ValueError(f"unknown graph format {fmt!r}")
    graph.clear()
    if fmt == "graphml":
        return _COMMAND.sub("&#10;", buffer.getvalue().decode("utf-8")).encode("utf-8")
    return buffer.getvalue()
