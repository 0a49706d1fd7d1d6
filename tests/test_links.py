"""The library's link graph and the analyses run on it: hand-over loops and the groups that share cycle limits."""

from __future__ import annotations

from pathlib import Path

from regdsl.compile.library import check_paths, load_library
from regdsl.compile.links import handover_loops, joined, library_graph, limit_groups
from regdsl.model import ir
from tests.conftest import ROOT

HEAD = 'regimen {id}\n  name "Fixture {id}"\n  status draft\n\ncycles 1 to 6: 21 days\n  loratadine 10 mg oral days 1\n'


def _library(tmp_path: Path, plans: dict[str, str]) -> tuple[dict[str, ir.Regimen], Path]:
    for key, plan in plans.items():
        (tmp_path / f"{key}.reg").write_text(
            HEAD.format(id=key) + ("\nplan\n" + plan if plan else ""), encoding="utf-8"
        )
    found = check_paths([tmp_path])
    return {r.id: r for r in found.regimens}, tmp_path


def test_the_bundled_library_as_a_graph() -> None:
    regimens = {r.id: r for r in check_paths([ROOT / "regimens"]).regimens}
    graph = library_graph(regimens, load_library(ROOT / "regimens").infos)
    assert sorted(graph) == sorted(regimens)
    ino, cr = "leu-all-bcell-rr-inotuzumab", "leu-all-bcell-rr-inotuzumab-cr"
    pair = [(u, v, d) for u, v, d in graph.edges(data=True) if {u, v} <= {ino, cr}]  # the library's other links
    kinds = sorted((u, v, d["kind"]) for u, v, d in pair)
    assert kinds == [(ino, cr, "continue")] + [(ino, cr, "counted")] * 3 + [(cr, ino, "counted")] * 3
    handover = next(d for u, v, d in pair if d["kind"] == "continue")
    assert handover == {"kind": "continue", "path": regimens[ino].path, "line": 62, "guard": "response is CR or CRi"}
    assert graph.nodes[cr] == {
        "lowered": True,
        "in_library": True,
        "name": regimens[cr].name,
        "status": "draft",
        "path": regimens[cr].path,
    }
    assert handover_loops(graph) == []
    assert limit_groups(graph) == [[ino, cr]]


def test_a_loop_is_found_through_its_least_regimen(tmp_path: Path) -> None:
    # a -> b -> c -> b and c -> a: a depth-first search from a first closes b -> c -> b, not through a
    go = "  after any cycle:\n    if response is {0}: continue with {1}\n    otherwise: next cycle\n"
    regimens, root = _library(
        tmp_path,
        {
            "a": go.format("CR", "b"),
            "b": go.format("CR", "c"),
            "c": "  after any cycle:\n    if response is CR: continue with b\n"
            "    if response is PR: continue with a\n    otherwise: next cycle\n",
            "d": go.format("CR", "d"),
            "e": "",
        },
    )
    assert joined(regimens)
    loops = handover_loops(library_graph(regimens, load_library(root).infos))
    assert loops == [["a", "b", "c"], ["d"]]


def test_groups_that_share_limits_follow_the_links_both_ways(tmp_path: Path) -> None:
    regimens, root = _library(
        tmp_path,
        {
            "a": "  at most 6 cycles counted with b\n",
            "b": "",
            "c": "  at most 6 cycles counted with b, x\n",
            "d": "  at most 6 cycles counted with e\n",
            "e": "",
            "f": "  at most 6 cycles counted with f\n",
        },
    )
    graph = library_graph(regimens, load_library(root).infos)
    assert limit_groups(graph) == [["a", "b", "c", "x"], ["d", "e"]]  # x: named, not in the library
    assert graph.nodes["x"] == {"lowered": False, "in_library": False}


def test_no_link_between_the_regimens_of_a_run_means_no_graph(tmp_path: Path) -> None:
    regimens, _root = _library(tmp_path, {"a": "  at most 6 cycles counted with elsewhere\n", "b": ""})
    assert not joined(regimens)
