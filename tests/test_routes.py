"""Route safety data (``regdsl/model/data/routes.json``) and what the route rules make of it, however it is named."""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from regdsl.check.run import run_check
from regdsl.diagnostics import Severity
from regdsl.model.medicines import CLASSES, KNOWN, VINCA, make_medicine
from regdsl.model.routes import MEDICINE_ROUTES, Routes, fatal_intrathecal, intrathecal_allowed
from regdsl.model.vocabulary import ROUTE_BY_ALIAS

INTRATHECAL, INTRAVENOUS = ROUTE_BY_ALIAS["intrathecal"].code, ROUTE_BY_ALIAS["iv"].code


def _data() -> Any:
    return json.loads(resources.files("regdsl.model").joinpath("data", "routes.json").read_text("utf-8"))


def _facts(node: Any) -> list[dict[str, Any]]:
    """Every object of the file that states a fact: those with a ``source`` or ``routes``."""
    if isinstance(node, dict):
        own = [node] if {"source", "routes", "volume_ml"} & set(node) else []
        return own + [f for value in node.values() for f in _facts(value)]
    return [f for value in node for f in _facts(value)] if isinstance(node, list) else []


def test_every_fact_cites_its_source_and_names_what_regdsl_knows() -> None:
    data = _data()
    assert data["about"].strip()
    facts = _facts(data)
    assert len(facts) > 20
    assert all(fact.get("source", "").strip() for fact in facts)
    assert data["intrathecal"]["label_source"].strip()
    assert data["intrathecal"]["flat_source"].strip()
    known, classes = {k.name for k in KNOWN}, set(CLASSES)
    assert set(data["medicines"]) <= known
    assert set(data["intrathecal"]["medicines"]) <= known
    assert set(data["fatal_intrathecal"]["medicines"]) <= known
    for section in ("classes", "minibag", "separate_from_intrathecal"):
        entries = data[section].get("classes", data[section])
        assert set(entries) <= classes, section
    assert set(data["fatal_intrathecal"]["classes"]) <= classes
    for entry in (*data["medicines"].values(), *data["classes"].values()):
        assert all(route.lower() in ROUTE_BY_ALIAS for route in entry["routes"])


def test_the_data_decides_what_is_fatal_and_what_may_be_given_intrathecally() -> None:
    assert fatal_intrathecal(("bortezomib",), ()) is not None
    assert fatal_intrathecal(("house preparation",), (VINCA,)) is not None
    assert fatal_intrathecal(("methotrexate",), ()) is None
    assert intrathecal_allowed(("methotrexate",)) is not None
    # A product that is two medicines may be given intrathecally only if both may.
    assert intrathecal_allowed(("cytarabine", "daunorubicin")) is None
    assert make_medicine("Vyxeos", ("liposomal daunorubicin and cytarabine",)).intrathecal is False
    assert make_medicine("cytarabine liposomal").intrathecal is True
    assert MEDICINE_ROUTES["bortezomib"].codes == {INTRAVENOUS, ROUTE_BY_ALIAS["subcut"].code}


def test_a_library_can_add_a_fatal_mark_and_narrow_a_vinca_alkaloid_but_never_widen_it() -> None:
    vincristine = make_medicine("vincristine")
    assert vincristine.fatal_intrathecal is not None
    assert make_medicine("house vinca", same_as=[vincristine]).fatal_intrathecal is not None
    im = ROUTE_BY_ALIAS["im"].code
    widened = make_medicine("vincristine", routes=_routes(im, INTRAVENOUS))
    assert widened.routes == frozenset({INTRAVENOUS})
    assert make_medicine("vincristine", routes=_routes(im)).routes == frozenset({INTRAVENOUS})
    assert make_medicine("rasburicase", routes=_routes(INTRAVENOUS)).routes == frozenset({INTRAVENOUS})


def _routes(*codes: str) -> Routes:
    return Routes(frozenset(codes), "a library's entry")


# Names that are, to anyone reading them, a medicine fatal intrathecally: a vinca alkaloid
# or bortezomib, by generic name or brand, in any case, with a salt or a form, spaced or
# hyphenated, or with letters of other scripts that look the same.
_FATAL_NAMES = ["vincristine", "vinblastine", "vinorelbine", "vindesine", "vinflunine", "bortezomib"]
_FATAL_NAMES += ["Oncovin", "Marqibo", "Velban", "Navelbine", "Eldisine", "Javlor"]
_LOOK_ALIKE = {"i": "\u0456", "o": "\u043e", "e": "\u0435", "c": "\u0441", "a": "\u0430"}


@st.composite
def _spelling(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(_FATAL_NAMES))
    letters = []
    for ch in name:
        choice = draw(st.sampled_from(["same", "upper", "lower", "look-alike", "hyphen"]))
        if choice == "upper":
            letters.append(ch.upper())
        elif choice == "look-alike" and ch in _LOOK_ALIKE:
            letters.append(_LOOK_ALIKE[ch])
        elif choice == "hyphen" and letters:
            letters.append("-" + ch)
        else:
            letters.append(ch)
    suffix = draw(st.sampled_from(["", " sulfate", " sulphate", " liposomal", " 3.5 mg vial", " (house)"]))
    return "".join(letters) + suffix


@given(_spelling(), st.sampled_from(["intrathecal", "IT", "Intrathecal"]))
def test_any_spelling_of_a_fatal_medicine_by_the_intrathecal_route_is_an_unsilenceable_error(
    name: str, route: str
) -> None:
    text = (
        'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n'
        "  # regdsl: ignore[vinca-intrathecal, fatal-intrathecal, intrathecal-unknown-medicine] -- local practice\n"
        f'  "{name}" 1 mg {route} day 1\n'
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fixture.reg"
        path.write_text(text, encoding="utf-8")
        found = run_check([path], jobs=1).diagnostics
    fatal = [d for d in found if d.code.code in {"SAF001", "SAF004"} and d.span.line == 7]
    assert len(fatal) == 1, [(d.code.code, d.message) for d in found]
    assert fatal[0].level is Severity.ERROR
    assert not fatal[0].code.suppressible
    assert not any(d.code.code in {"SAF003", "SAF006"} for d in found)
