"""How much work a check does: each fact is solved once, counted in calls, never timed.

A regimen with choices of lines has a timing network per scenario, but each cycle's timed
days are its first scenario's: they are solved once, not once per scenario. A day's doses
and their ends are bounded from one anchor by one forward and one backward search.
"""

from __future__ import annotations

import pytest

import regdsl.compile.days as days_mod
import regdsl.compile.stn as stn
from regdsl.check.rules import forms
from regdsl.check.run import run_check
from regdsl.compile.library import check_paths
from regdsl.compile.passes import compile_regimen
from tests.conftest import ROOT

# 24 scenarios (choices of lines) and 32 timed days
HYPER_CVAD = ROOT / "regimens" / "leu-all-hyper-cvad.reg"
SEED = ROOT / "regimens" / "leu-all-bcell-rr-inotuzumab.reg"


def test_each_timed_day_is_solved_once_with_two_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    (regimen,) = check_paths([HYPER_CVAD]).regimens
    counts = {"days": 0, "searches": 0}
    real_day, real_init = days_mod._day, stn._Nearest.__init__
    inside = [False]

    def day(*args: object, **kwargs: object) -> days_mod.TimedDay:
        counts["days"] += 1
        inside[0] = True
        try:
            return real_day(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            inside[0] = False

    def init(self: stn._Nearest, *args: object) -> None:
        counts["searches"] += inside[0]
        real_init(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(days_mod, "_day", day)
    monkeypatch.setattr(stn._Nearest, "__init__", init)
    compiled = compile_regimen(regimen)
    timed = sum(len(found) for found in compiled.days.values())
    assert len(compiled.scenarios) > 1
    assert timed > 1
    assert counts["days"] == timed
    assert counts["searches"] <= 2 * timed


def test_resumed_searches_give_the_bounds_of_fresh_ones() -> None:
    (regimen,) = check_paths([HYPER_CVAD]).regimens
    compiled = compile_regimen(regimen)
    net = compiled.scenarios[0].network
    searches = stn.Searches()
    for found in compiled.days.values():
        for day in found:
            if day.anchor not in net.index or not all(p in net.index for p in day.starts):
                continue
            for point, bounds in day.starts.items():
                assert stn.bounds_from(net, day.anchor, [point], searches=searches)[point] == bounds
                assert stn.bounds_from(net, day.anchor, [point])[point] == bounds


def test_texts_are_split_into_chunks_only_where_a_form_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The notation rules look for links and addresses only in a text where a pattern matched, not in every text."""
    split: list[str] = []
    real = forms._links

    def links(text: str) -> list[tuple[int, int]]:
        split.append(text)
        return real(text)

    monkeypatch.setattr(forms, "_links", links)
    (regimen,) = check_paths([SEED]).regimens
    texts = list(forms._texts(regimen))
    run_check([SEED], jobs=1)
    assert len(texts) > 20
    assert split == []  # no text of the seed holds a form the notation rules look for


def test_a_lines_doses_are_scheduled_once_per_network_not_per_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a timing network schedules each line's doses once, however many cycles repeat it."""
    (regimen,) = check_paths([SEED]).regimens
    scheduled: list[int] = []
    real = stn.schedule  # type: ignore[attr-defined]

    def counted(admin: object) -> object:
        scheduled.append(id(admin))
        return real(admin)  # type: ignore[arg-type]

    monkeypatch.setattr(stn, "schedule", counted)
    net = stn.build_network(regimen)
    assert len(net.cycles) > len({id(g) for g in regimen.cycles()})  # cycles repeat their group's lines
    assert len(scheduled) == len(set(scheduled))
