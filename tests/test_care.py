"""The care data (premedication, hydration, uroprotection, folate rescue, monitoring) and the rules that read it."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from regdsl.check.registry import Rule
from regdsl.check.rules import care
from regdsl.model.medicines import CLASSES, KNOWN
from regdsl.model.vocabulary import FACTORS
from tests.conftest import ROOT


def _data() -> Any:
    return json.loads(resources.files("regdsl.model").joinpath("data", "care.json").read_text("utf-8"))


def _entries(data: Any) -> list[dict[str, Any]]:
    return [data["premedication"], *data["premedication"]["required"], *data["companions"], *data["monitoring"]]


def test_every_fact_cites_its_source() -> None:
    data = _data()
    assert data["about"].strip()
    for entry in _entries(data):
        assert entry["source"].strip(), entry
        if entry.get("from"):
            assert entry["from"]["source"].strip(), entry


def test_every_medicine_class_and_factor_named_is_known() -> None:
    data = _data()
    known = {k.name for k in KNOWN}
    factors = {f.code: {v.code for v in f.values} for f in FACTORS}
    for entry in _entries(data):
        names = [entry.get("medicine"), *entry.get("medicines", ()), *entry.get("given", {}).get("medicines", ())]
        for name in filter(None, names):
            assert name in known or name == "sodium chloride", name
        for cls in [*entry.get("classes", ()), *entry.get("given", {}).get("classes", ())]:
            assert cls in CLASSES, cls
        if entry.get("factor"):
            assert set(entry["values"]) <= factors[entry["factor"]], entry
    premed = data["premedication"]
    assert premed["high"] in factors[premed["hypersensitivity_factor"]]


def test_every_companion_code_has_a_rule() -> None:
    codes = {rule.code.code for rule in vars(care).values() if isinstance(rule, Rule)}
    assert {c.code for c in care.CARE.companions} <= codes


def test_the_rules_name_no_medicine() -> None:
    """Which medicine needs what is data: the rules' code names no known medicine (docstrings aside)."""
    source = (ROOT / "regdsl" / "check" / "rules" / "care.py").read_text("utf-8")
    code = re.sub(r'"""(?:.|\n)*?"""', "", source)
    for known in KNOWN:
        assert not re.search(rf"\b{re.escape(known.name)}\b", code, re.IGNORECASE), known.name
