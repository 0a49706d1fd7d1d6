"""The emetic risk data (data/emetogenicity.json) and how a dose is rated from it."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from regdsl.check.run import run_configured
from regdsl.model.emesis import COMBINATIONS, TIERS, Risk, rating
from regdsl.model.medicines import CLASSES, KNOWN
from regdsl.model.vocabulary import FACTORS, ROUTE_BY_ALIAS, Basis

IV, ORAL, IT, SC = (ROUTE_BY_ALIAS[a].code for a in ("iv", "oral", "it", "sc"))


def _data() -> Any:
    return json.loads(resources.files("regdsl.model").joinpath("data", "emetogenicity.json").read_text("utf-8"))


def test_every_fact_cites_its_source() -> None:
    data = _data()
    assert data["about"].strip()
    facts = [
        *data["tiers"].values(),
        *data["requirements"].values(),
        *data["combinations"],
        data["cover"],
        data["oral"],
        *(entry for entries in data["medicines"].values() for entry in entries),
    ]
    assert all(fact["source"].strip() for fact in facts)


def test_every_class_tier_and_medicine_it_names_is_known() -> None:
    data = _data()
    known = {k.name for k in KNOWN}
    for need in data["requirements"].values():
        assert set(need["classes"]) <= set(CLASSES), need
        assert set(need.get("medicines", ())) <= known, need
    for combo in data["combinations"]:
        assert {m for group in combo["all"] for m in group} <= known
    emetogenicity = next(f for f in FACTORS if f.term == "Emetogenicity")
    assert all(emetogenicity.find_value(t["factor"]) is not None for t in data["tiers"].values())
    assert sorted(t.rank for t in TIERS.values()) == [0, 1, 2, 3]
    assert all(name == name.lower() for name in data["medicines"])


def _rate(name: str, route: str, amount: str, unit: str, basis: Basis = Basis.PER_M2) -> Risk | None:
    return rating((name,), route, Decimal(amount), unit, basis)


@pytest.mark.parametrize(
    ("name", "route", "amount", "unit", "tier"),
    [
        ("cyclophosphamide", IV, "1499", "mg/m²", "moderate"),
        ("cyclophosphamide", IV, "1500", "mg/m²", "high"),
        ("cyclophosphamide", IV, "1.5", "g/m²", "high"),
        ("cytarabine", IV, "1000", "mg/m²", "low"),
        ("cytarabine", IV, "1001", "mg/m²", "moderate"),
        ("cytarabine", IV, "3", "g/m²", "moderate"),
        ("cytarabine", SC, "75", "mg/m²", "low"),
        ("cisplatin", IV, "75", "mg/m²", "high"),
    ],
)
def test_a_dose_is_rated_by_its_medicine_route_and_amount(
    name: str, route: str, amount: str, unit: str, tier: str
) -> None:
    found = _rate(name, route, amount, unit)
    assert found is not None
    assert found.tier.name == tier


def test_carboplatin_from_auc_4_needs_an_nk1_antagonist_and_below_it_does_not() -> None:
    high = _rate("carboplatin", IV, "4", "AUC (area under the curve)", Basis.AUC)
    low = _rate("carboplatin", IV, "2", "AUC (area under the curve)", Basis.AUC)
    assert high is not None
    assert low is not None
    assert high.tier.name == low.tier.name == "moderate"
    assert [n.key for n in high.prophylaxis] == ["nk1", "5ht3", "corticosteroid"]
    assert [n.key for n in low.prophylaxis] == ["5ht3", "corticosteroid"]


def test_a_route_the_tables_do_not_rate_is_not_rated() -> None:
    assert _rate("methotrexate", IT, "12", "mg", Basis.ABSOLUTE) is None
    assert _rate("an unknown medicine", IV, "1", "mg", Basis.ABSOLUTE) is None


def test_an_oral_category_is_a_range_that_asks_for_no_lines() -> None:
    found = _rate("imatinib", ORAL, "400", "mg", Basis.ABSOLUTE)
    assert found is not None
    assert (found.tier.name, found.top.name, found.prophylaxis) == ("moderate", "high", ())


def test_the_anthracycline_cyclophosphamide_combination_is_high() -> None:
    (combo,) = COMBINATIONS
    assert combo.tier.name == "high"
    assert "doxorubicin" in combo.groups[0]
    assert "cyclophosphamide" in combo.groups[1]


def _check(tmp_path: Path, cycle: str, support: str = "") -> list[str]:
    body = f'regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n{cycle}\n'
    if support:
        body += f"\nsupport\n{support}\n"
    (tmp_path / "x.reg").write_text(body, encoding="utf-8")
    return [f"{d.code.code}:{d.span.line}" for d in run_configured([tmp_path / "x.reg"]).diagnostics]


def test_a_guarded_antiemetic_covers_its_branch(tmp_path: Path) -> None:
    cycle = (
        "  if LVEF under 50 %:\n"
        "    ondansetron 8 mg oral day 1 60 min before chemotherapy\n"
        "    dexamethasone 8 mg oral day 1 60 min before chemotherapy\n"
        "    oxaliplatin 85 mg/m2 IV day 1 over 2 hours"
    )
    assert _check(tmp_path, cycle) == []


def test_a_day_without_cover_is_named_among_days_with_it(tmp_path: Path) -> None:
    cycle = (
        "  ondansetron 8 mg oral day 1 60 min before chemotherapy\n"
        "  dexamethasone 8 mg oral day 1 60 min before chemotherapy\n"
        "  oxaliplatin 85 mg/m2 IV days 1, 8 over 2 hours"
    )
    (tmp_path / "x.reg").write_text(f'regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n{cycle}\n', "utf-8")
    (finding,) = run_configured([tmp_path / "x.reg"]).diagnostics
    assert (finding.code.code, finding.span.line) == ("SUP001", 8)
    assert finding.message.endswith("on day 8")


def test_a_declared_emetogenicity_stands_in_for_medicines_regdsl_cannot_rate(tmp_path: Path) -> None:
    (tmp_path / "library.reg").write_text('medicine "lurbinectedin"\n  anticancer\n', encoding="utf-8")
    line = "  lurbinectedin 3.2 mg/m2 IV day 1 over 60 min"
    assert _check(tmp_path, line, "  Emetogenicity: High") == ["SUP001:6"]
    assert _check(tmp_path, line, "  Emetogenicity: Low") == []
    assert _check(tmp_path, line) == []
