"""``regdsl graph``: the dependency graph, written by networkx's writers and read back by its readers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from regdsl.cli import main as cli
from regdsl.cli.main import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main
from regdsl.compile.library import check_paths, load_library
from regdsl.compile.links import links
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.compile.stn import OPEN
from regdsl.render.document import guard
from regdsl.render.graphfile import GRAPH_FORMATS
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
BUNDLED = sorted(p.name for p in REGIMENS.glob("*.reg") if p.name != "library.reg")
SEED = REGIMENS / "leu-all-bcell-rr-inotuzumab.reg"
TRAILING = ROOT / "tests" / "diagnostics" / "SAF101" / "trailing-zero.reg"


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def _written(path: Path, fmt: str, tmp_path: Path) -> nx.Graph[Any]:
    """Write the graph of ``path`` with ``regdsl graph`` and read it back with networkx's reader."""
    target = tmp_path / f"graph.{fmt}"
    code, printed = _run("graph", str(path), "--format", fmt, "-o", str(target))
    assert code == EXIT_OK
    assert printed == ""
    if fmt == "graphml":
        graph = nx.read_graphml(target, force_multigraph=True)
    else:
        graph = nx.node_link_graph(json.loads(target.read_text(encoding="utf-8")), edges="edges")
    assert isinstance(graph, nx.MultiDiGraph)
    return graph


def _compiled(path: Path) -> list[Compiled]:
    return [compile_regimen(r) for r in sorted(check_paths([path]).regimens, key=lambda r: r.id)]


def test_the_command_line_offers_every_graph_format() -> None:
    assert cli._GRAPH_FORMATS == GRAPH_FORMATS


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
@pytest.mark.parametrize("name", [*BUNDLED, "the library"])
def test_the_graph_loads_back_with_every_point_constraint_phase_and_link(
    name: str, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    path = REGIMENS if name == "the library" else REGIMENS / name
    graph = _written(path.relative_to(ROOT), fmt, tmp_path)
    compiled = _compiled(path.relative_to(ROOT))
    regimens = {c.regimen.id: c.regimen for c in compiled}
    infos = load_library(REGIMENS).infos  # the library's regimens, each a node, checked or not
    written = [link for r in regimens.values() for link in links(r)]
    library_nodes = {*regimens, *(link.target for link in written), *infos}
    layers: dict[str, int] = {}
    for _node, data in graph.nodes(data=True):
        layers[data["layer"]] = layers.get(data["layer"], 0) + 1
    assert layers == {
        "regimen": len(library_nodes),
        "timing": sum(len(c.network) for c in compiled),
        "phase": sum(len(c.phases.phases) for c in compiled),
    }
    edges: dict[str, int] = {}
    for _u, _v, data in graph.edges(data=True):
        edges[data["layer"]] = edges.get(data["layer"], 0) + 1
    expected = {
        "regimen": len(written),
        "timing": sum(len(c.network.edges) for c in compiled),
        "phase": sum(len(c.phases.transitions) for c in compiled),
    }
    assert edges == {layer: count for layer, count in expected.items() if count}
    for c in compiled:
        _the_regimen_is_all_there(graph, c)
    for _node, data in graph.nodes(data=True):
        assert all(isinstance(value, str | int | bool) for value in data.values())
    for _u, _v, data in graph.edges(data=True):
        assert all(isinstance(value, str | int | bool) for value in data.values())


def _the_regimen_is_all_there(graph: nx.Graph[Any], compiled: Compiled) -> None:
    regimen, net, solved = compiled.regimen, compiled.network, compiled.windows
    assert solved is not None
    assert graph.nodes[regimen.id]["name"] == regimen.name
    for number, point in enumerate(net.nodes):
        node = graph.nodes[f"{regimen.id}/timing/{point}"]
        assert (node["point"], node["kind"], node["part"], node["cycle"]) == (
            str(point),
            point.kind.name.lower(),
            point.part,
            point.cycle,
        )
        assert node["label"] == net.labels[number]
        early, late = solved.earliest[number], solved.latest[number]
        assert node.get("earliest", -OPEN) == early
        assert node.get("latest", OPEN) == late
    for u, v, constraint in net.edges:
        between = graph.get_edge_data(f"{regimen.id}/timing/{net.nodes[u]}", f"{regimen.id}/timing/{net.nodes[v]}")
        found = [
            e
            for e in between.values()
            if (e["what"], e["line"], e.get("lower"), e.get("upper"))
            == (constraint.what, constraint.span.line, constraint.lower, constraint.upper)
        ]
        assert found
    for before, after, transition in compiled.phases.transitions:
        between = graph.get_edge_data(f"{regimen.id}/phase/{before}", f"{regimen.id}/phase/{after}")
        kinds = {e["kind"] for e in between.values()}
        assert transition.kind in kinds
        words = guard(transition.guard)
        if words is not None:
            assert any(
                e.get("guard") == words["text"] and json.loads(e["guard_tree"]) == words["tree"]
                for e in between.values()
            )


def test_the_library_graph_marks_the_groups_its_analyses_find(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    graph = _written(REGIMENS.relative_to(ROOT), "graphml", tmp_path)
    ino, cr = "leu-all-bcell-rr-inotuzumab", "leu-all-bcell-rr-inotuzumab-cr"
    assert graph.nodes[ino]["limit_group"] == graph.nodes[cr]["limit_group"] == ino
    assert "handover_loop" not in graph.nodes[ino]
    (handover,) = [e for e in graph.get_edge_data(ino, cr).values() if e["kind"] == "continue"]
    assert handover == {
        "layer": "regimen",
        "kind": "continue",
        "path": "regimens/leu-all-bcell-rr-inotuzumab.reg",
        "line": 62,
        "guard": "response is CR or CRi",
    }
    assert graph.graph["generator"].startswith("regdsl ")


def test_the_same_sources_give_the_same_bytes_whatever_the_hash_seed_or_workers(tmp_path: Path) -> None:
    runs = set()
    for seed, jobs in (("0", "1"), ("1", "2"), ("31337", "2")):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        for fmt in GRAPH_FORMATS:
            out = tmp_path / f"{seed}.{fmt}"
            command = [
                sys.executable,
                "-m",
                "regdsl",
                "graph",
                "regimens",
                "--jobs",
                jobs,
                "--format",
                fmt,
                "-o",
                str(out),
            ]
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            runs.add((fmt, out.read_bytes()))
    assert len(runs) == len(GRAPH_FORMATS)


def test_the_graph_is_printed_without_an_output_file() -> None:
    code, printed = _run("graph", str(SEED), "--format", "json")
    assert code == EXIT_OK
    graph = nx.node_link_graph(json.loads(printed), edges="edges")
    assert "leu-all-bcell-rr-inotuzumab/timing/p1.g0.c1" in graph
    code, printed = _run("graph", str(SEED))
    assert code == EXIT_OK
    assert printed.startswith("<?xml version='1.0' encoding='utf-8'?>\n<graphml ")


def test_errors_in_the_sources_exit_1_and_write_no_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "graph.graphml"
    target.write_text("the previous graph", encoding="utf-8")
    code, printed = _run("graph", str(TRAILING), "-o", str(target))
    assert code == EXIT_ERRORS
    assert printed == ""
    assert target.read_text(encoding="utf-8") == "the previous graph"
    assert "error[SAF101]" in capsys.readouterr().err
    code, printed = _run("graph", str(TRAILING))
    assert (code, printed) == (EXIT_ERRORS, "")


def test_warnings_fail_the_graph_under_strict(tmp_path: Path) -> None:
    code, printed = _run("graph", str(SEED), "--strict")  # its TIM005 warning
    assert (code, printed) == (EXIT_ERRORS, "")


@pytest.mark.parametrize(
    "args",
    [
        ["graph", "no-such-folder"],
        ["graph", str(SEED), "--format", "dot"],
        ["graph", str(SEED), "-o", "no/such/folder/graph.graphml"],
        ["graph", str(SEED), "-o", "."],
        ["graph", str(SEED), "--config", "no-such.toml"],
        ["graph"],
    ],
)
def test_usage_problems_exit_2(args: list[str]) -> None:
    try:
        code, _ = _run(*args)
    except SystemExit as stopped:  # argparse's own refusals
        code = int(stopped.code or 0)
    assert code == EXIT_USAGE


def test_file_names_are_escaped_in_the_graph(tmp_path: Path) -> None:
    folder = tmp_path / "lib\u202eweird"
    folder.mkdir()
    source = SEED.read_text(encoding="utf-8").replace("continue with leu-all-bcell-rr-inotuzumab-cr", "stop")
    source = "\n".join(line for line in source.split("\n") if "counted with" not in line) + "\n"
    (folder / "a\nb.reg").write_text(source, encoding="utf-8")
    (folder / "library.reg").write_bytes((REGIMENS / "library.reg").read_bytes())
    target = tmp_path / "graph.graphml"
    code, _ = _run("graph", str(folder), "-o", str(target))
    assert code == EXIT_OK
    text = target.read_text(encoding="utf-8")
    assert "\u202e" not in text
    assert "a\nb" not in text
    graph = nx.read_graphml(target, force_multigraph=True)
    paths = {str(data["path"]) for _node, data in graph.nodes(data=True) if "path" in data}
    assert len(paths) == 1
    assert paths.pop().endswith("lib\\u202eweird/a\\nb.reg")
