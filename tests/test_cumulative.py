"""The lifetime limits and doxorubicin equivalents: data with sources, and totals along the plan's paths."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from regdsl.check.context import RuleContext
from regdsl.check.rules.cumulative import cumulative_over_limit
from regdsl.compile import totals
from regdsl.compile.library import check_paths
from regdsl.compile.totals import DEFAULT, EQUIVALENTS, FACTORS, JURISDICTIONS, equivalents, exposures
from regdsl.model import ir
from regdsl.model.vocabulary import find_unit
from regdsl.render.pages import render
from tests.facts import bundled, site_context


def _data() -> dict[str, object]:
    text = resources.files("regdsl.model").joinpath("data", "cumulative.json").read_text("utf-8")
    loaded: dict[str, object] = json.loads(text)
    return loaded


def _facts(value: object) -> list[dict[str, object]]:
    """Every object of the data that states a figure: a limit, a caution, another unit or a factor."""
    found: list[dict[str, object]] = []
    if isinstance(value, dict):
        if any(key in value for key in ("limit", "factor", "per")):
            found.append(value)
        for item in value.values():
            found.extend(_facts(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_facts(item))
    return found


def test_every_fact_cites_a_source() -> None:
    data = _data()
    assert str(data["about"]).strip()
    facts = _facts(data)
    assert len(facts) >= 12
    for fact in facts:
        assert str(fact.get("source", "")).strip(), fact
        if "caution" in fact:
            assert str(fact.get("caution_source", "")).strip(), fact


def test_units_are_the_vocabulary_s_and_every_anthracycline_limit_has_a_factor() -> None:
    for fact in _facts(_data()):
        if "unit" in fact:
            assert find_unit(str(fact["unit"])) is not None, fact
    limits = JURISDICTIONS[DEFAULT].limits
    assert {"doxorubicin", "daunorubicin", "epirubicin", "idarubicin", "mitoxantrone"} <= set(FACTORS)
    assert set(FACTORS) <= set(limits)
    assert JURISDICTIONS[DEFAULT].equivalents.limit == limits["doxorubicin"].limit


def test_a_hand_over_adds_the_worst_path_of_the_regimen_it_names() -> None:
    abvd = bundled("lym-hl-abvd-pet-adapted").regimen
    beacopp = bundled("lym-hl-escbeacopp-pet-guided").regimen
    alone = exposures(abvd)["doxorubicin"]
    assert alone.total == 300  # 25 mg/m2 on days 1 and 15 of cycles 1 to 6
    assert not alone.linked
    linked = exposures(abvd, linked={beacopp.id: beacopp})["doxorubicin"]
    assert linked.total == 100 + 6 * 35  # two cycles of ABVD, then six of escBEACOPP
    assert linked.linked == ((beacopp.id, Decimal(210)),)
    assert linked.handover is not None
    assert linked.handover.line == 35
    assert "then lym-hl-escbeacopp-pet-guided" in linked.path


def test_doxorubicin_equivalents_add_every_anthracycline_by_its_factor() -> None:
    cog = bundled("leu-all-paediatric-cog-hdmtx").regimen
    total = equivalents(cog)
    assert total is not None
    assert total.limit.medicine == EQUIVALENTS
    by_name = {medicine.name: (given, factor.factor) for medicine, given, factor in total.factors}
    assert by_name == {"daunorubicin": (Decimal(100), FACTORS["daunorubicin"].factor), "doxorubicin": (75, 1)}
    assert total.total == 100 * FACTORS["daunorubicin"].factor + 75
    assert EQUIVALENTS not in exposures(cog)


def test_the_configured_jurisdiction_chooses_the_limits_rules_and_pages_use(monkeypatch: pytest.MonkeyPatch) -> None:
    r_chop = bundled("lym-dlbcl-r-chop21")
    doxorubicin = JURISDICTIONS[DEFAULT].limits["doxorubicin"]
    stricter = dataclasses.replace(doxorubicin, limit=Decimal(350), caution=None, source="a test's own limit")
    limits = {**JURISDICTIONS[DEFAULT].limits, "doxorubicin": stricter}
    other = dataclasses.replace(JURISDICTIONS[DEFAULT], limits=limits)
    monkeypatch.setitem(JURISDICTIONS, "elsewhere", other)
    assert exposures(r_chop.regimen)["doxorubicin"].limit == doxorubicin
    assert exposures(r_chop.regimen, "elsewhere")["doxorubicin"].limit == stricter
    check = cumulative_over_limit.check
    assert check is not None
    found = [d.code.code for d in check(RuleContext(compiled=r_chop, infos={}, jurisdiction="elsewhere"))]
    assert found == ["SAF301"]  # 8 cycles of 50 mg/m2: 400 mg/m2
    assert not list(check(RuleContext(compiled=r_chop, infos={})))
    page = render("md", r_chop, dataclasses.replace(site_context("lym-dlbcl-r-chop21"), jurisdiction="elsewhere"))
    assert "Lifetime limit 350 mg/m²: a test's own limit." in page


def _lattice(folder: Path, count: int) -> dict[str, ir.Regimen]:
    """Write ``count`` regimens, each handing over to the next two (and the last back to the first)."""
    for k in range(count):
        after = [f"r{(k + 1) % count}", f"r{(k + 2) % count}"]
        text = (
            f'regimen r{k}\n  name "Fixture {k}"\n  status draft\n\n'
            "cycle 1: 21 days\n  DOXOrubicin 10 mg/m2 IV day 1 over 15 min\n\n"
            "plan\n  after cycle 1:\n"
            f"    if response in (CR, CRi): continue with {after[0]}\n"
            f"    if response is PR: continue with {after[1]}\n"
            "    otherwise: stop\n"
        )
        (folder / f"r{k}.reg").write_text(text, encoding="utf-8")
    return {r.id: r for r in check_paths(sorted(folder.glob("*.reg"))).regimens}


def test_hand_overs_count_each_regimen_once_per_path_in_work_linear_in_the_regimens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    walk = totals._Walker.walk

    def counted(
        self: totals._Walker,
        regimen: ir.Regimen,
        cap: int | None,
        path: frozenset[str],
        spent: Mapping[str, int] | None = None,
    ) -> totals._Walk:
        calls.append(regimen.id)
        return walk(self, regimen, cap, path, spent)

    monkeypatch.setattr(totals._Walker, "walk", counted)
    regimens = _lattice(tmp_path, 40)  # 2^39 paths through the hand-overs, and a loop back to r0
    found = exposures(regimens["r0"], linked=regimens)["doxorubicin"]
    assert found.total == 40 * 10  # every regimen once on the longest path, r0 not again
    assert len(calls) <= 3 * len(regimens)  # each regimen walked once, and looked up once by each of its two callers


_HANDING_OVER = """regimen first
  name "Fixture"
  status draft

cycles 1 to 4: 21 days
  DOXOrubicin 60 mg/m2 IV day 1 over 15 min

plan
  after cycle 4:
    if response in (CR, CRi): continue with second
    otherwise: stop
"""
_TAKING_OVER = """regimen second
  name "Fixture (after a response)"
  status draft

cycles 1 to 4: 21 days
  DOXOrubicin 60 mg/m2 IV day 1 over 15 min
{plan}"""


@pytest.mark.parametrize(
    ("plan", "total"),
    [
        ("", 480),  # no limit: four cycles of each
        ("\nplan\n  at most 6 cycles counted with first\n", 360),  # the limit of the regimen taken over counts both
        ("\nplan\n  at most 6 cycles\n", 480),  # its own cycles only
    ],
)
def test_a_limit_counted_with_the_regimen_before_leaves_only_the_cycles_it_did_not_use(
    tmp_path: Path, plan: str, total: int
) -> None:
    (tmp_path / "first.reg").write_text(_HANDING_OVER, encoding="utf-8")
    (tmp_path / "second.reg").write_text(_TAKING_OVER.format(plan=plan), encoding="utf-8")
    regimens = {r.id: r for r in check_paths(sorted(tmp_path.glob("*.reg"))).regimens}
    assert exposures(regimens["first"], linked=regimens)["doxorubicin"].total == total
