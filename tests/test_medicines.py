"""What a medicine is, whatever it is called: the medicine knowledge file and how names are recognised."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from regdsl.check.rules._shared import administrations
from regdsl.check.run import run_configured
from regdsl.model.medicines import (
    CLASSES,
    DEFAULT_MEDICINES,
    KNOWN,
    VINCA,
    MedicineTable,
    identities,
    make_medicine,
)
from regdsl.model.vocabulary import ROUTE_BY_ALIAS

INTRAVENOUS, ORAL = ROUTE_BY_ALIAS["iv"].code, ROUTE_BY_ALIAS["oral"].code


def _data() -> Any:
    return json.loads(resources.files("regdsl.model").joinpath("data", "medicine_classes.json").read_text("utf-8"))


def test_every_fact_cites_its_source() -> None:
    data = _data()
    for name, cls in data["classes"].items():
        assert cls["sources"], name
        assert all(source.strip() for source in cls["sources"]), name
        # a class by ATC groups cites the ATC index for each group
        assert all(any(code in source for source in cls["sources"]) for code in cls.get("atc", ())), name
    for entry in data["medicines"]:
        assert bool(entry["classes"]) == bool(entry.get("class_source", "").strip()), entry["name"]
        assert ("routes" in entry) == bool(entry.get("routes_source", "").strip()), entry["name"]
        assert all(brand["source"].strip() for brand in entry.get("brands", ())), entry["name"]
        assert set(entry["classes"]) <= set(data["classes"]), entry["name"]
    assert len({entry["name"] for entry in data["medicines"]}) == len(data["medicines"])


def test_a_class_by_atc_group_holds_every_medicine_of_the_group() -> None:
    by_name = {k.name: k for k in KNOWN}
    assert by_name["doxorubicin"].atc == "L01DB01"
    for cls in CLASSES.values():
        for known in KNOWN:
            if known.atc is not None and known.atc.startswith(cls.atc):
                assert cls.name in known.classes, (cls.name, known.name)
    assert {k.name for k in KNOWN if "anthracycline" in k.classes} >= {
        "doxorubicin",
        "daunorubicin",
        "epirubicin",
        "idarubicin",
        "mitoxantrone",
    }
    assert "nk1-antagonist" in by_name["fosaprepitant"].classes
    assert {"monoclonal-antibody", "immune-checkpoint-inhibitor"} <= by_name["ipilimumab"].classes


@pytest.mark.parametrize(
    ("display", "aliases", "expected"),
    [
        ("Abraxane", ("nab-paclitaxel",), ("nab-paclitaxel",)),
        ("PACLItaxel", (), ("paclitaxel",)),
        ("methylprednisolone", (), ("methylprednisolone",)),
        ("foliNIc acid", ("leucovorin",), ("calcium folinate",)),
        ("pegFILGRASTIM", (), ("pegfilgrastim",)),
        ("Caelyx", (), ("pegylated liposomal doxorubicin",)),
        ("DOXOrubicin hydrochloride", (), ("doxorubicin",)),
        ("house preparation", (), ("house preparation",)),
    ],
)
def test_facts_are_kept_under_what_a_medicine_most_specifically_is(
    display: str, aliases: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert identities(make_medicine(display, aliases)) == expected


def test_every_medicine_of_the_default_table_and_the_bundled_library_is_known() -> None:
    known = {k.name for k in KNOWN}
    unknown = [m.display for m in DEFAULT_MEDICINES if m.anticancer and not set(identities(m)) <= known]
    assert unknown == []
    regimens = run_configured([Path(__file__).parent.parent / "regimens"]).regimens
    used = {a.medicine for r in regimens for a in administrations(r) if a.medicine.anticancer}
    assert sorted(m.display for m in used if not set(identities(m)) <= known) == ["BCG"]


def test_the_vinca_alkaloids_and_their_routes() -> None:
    vincas = {k.name: k.routes for k in KNOWN if VINCA in k.classes}
    assert vincas == {
        "vincristine": frozenset({INTRAVENOUS}),
        "vinblastine": frozenset({INTRAVENOUS}),
        "vinorelbine": frozenset({INTRAVENOUS, ORAL}),
        "vindesine": frozenset({INTRAVENOUS}),
        "vinflunine": frozenset({INTRAVENOUS}),
    }
    assert CLASSES[VINCA].routes == frozenset({INTRAVENOUS})


def test_the_default_table_decides_by_the_same_knowledge() -> None:
    table = MedicineTable(DEFAULT_MEDICINES)
    for name in ("vinCRIStine", "vinBLAStine", "vinORELBine"):
        medicine = table.find(name)
        assert medicine is not None
        assert medicine.vinca
    assert not any(m.vinca for m in DEFAULT_MEDICINES if not m.name.startswith("vin"))


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("vincristine sulfate", "vincristine"),
        ("VinCRIStine-sulphate", "vincristine"),
        ("vin-cris-tine", "vincristine"),
        ("VINCRISTINE LIPOSOMAL", "vincristine"),
        ("Oncovin", "vincristine"),
        ("Marqibo 5 mg/31 mL", "vincristine"),
        ("vinblastine sulphate", "vinblastine"),
        ("Velbe", "vinblastine"),
        ("Navelbine oral", "vinorelbine"),
        ("vindesine", "vindesine"),
        ("Javlor", "vinflunine"),
        # Spelt with characters that display as the name: full-width letters, accents, letters
        # of other scripts that look the same (Cyrillic і, ѕ, е, О, І; Greek ν), a ligature.
        ("\uff56\uff49\uff4e\uff43\uff52\uff49\uff53\uff54\uff49\uff4e\uff45", "vincristine"),
        ("vincrist\u00edne", "vincristine"),
        ("vincri\u0301stine", "vincristine"),
        ("v\u0456ncristine", "vincristine"),
        ("VINCR\u0406STINE", "vincristine"),
        ("\u041encovin", "vincristine"),
        ("\u03bdincristine", "vincristine"),
        ("vinbla\u0455tine", "vinblastine"),
        ("V\u0435lbe", "vinblastine"),
        ("VINBLA\u0405TINE", "vinblastine"),
        ("vinore\u04cfbine", "vinorelbine"),
        ("vin\ufb02unine", "vinflunine"),
    ],
)
def test_a_name_that_contains_a_vinca_alkaloid_or_its_brand_is_that_medicine(name: str, known: str) -> None:
    medicine = make_medicine(name)
    assert medicine.vinca
    assert medicine.known == (known,)


def test_declarations_only_add_to_what_a_medicine_is() -> None:
    dexamethasone = MedicineTable(DEFAULT_MEDICINES).find("dexamethasone")
    assert dexamethasone is not None
    declared_otherwise = make_medicine("vinblastine sulphate", same_as=[dexamethasone])
    assert declared_otherwise.vinca
    assert declared_otherwise.routes == frozenset({INTRAVENOUS})
    by_class = make_medicine("house preparation", classes=[VINCA])
    assert by_class.vinca
    assert by_class.routes == frozenset({INTRAVENOUS})
    vinorelbine = make_medicine("vinorelbine")
    assert make_medicine("brand", same_as=[vinorelbine]).routes == frozenset({INTRAVENOUS, ORAL})
    assert make_medicine("vinorelbine", same_as=[make_medicine("vincristine")]).routes == frozenset({INTRAVENOUS})
    assert not make_medicine("dexamethasone").vinca
