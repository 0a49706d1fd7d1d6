"""Dose units: each spelling names one unit with its own code, and no suggestion changes a magnitude.

The meaning of every spelling (its dimension and its scale) is written here independently
of the vocabulary, so that a unit merged into another, or a "did you mean" of another
magnitude, fails.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from regdsl.check.rules.dose import CAP_UNITS
from regdsl.check.run import run_configured
from regdsl.model.vocabulary import CLOCK_CODES, ERROR_PRONE_UNITS, TIME_UNITS, UNITS, Basis, find_unit, suggest_unit
from regdsl.render.context import RenderContext
from regdsl.render.document import build_document
from tests.facts import REGIMENS, compile_alone

MILLI, MICRO, MILLION = Decimal("0.001"), Decimal("0.000001"), Decimal(1000000)
_MASS, _AREA, _WEIGHT, _RATE = "mass", "per m2", "per kg", " per minute"
_DAY = Decimal(1440)

# What each spelling means: (dimension, scale).
MEANING: dict[str, tuple[str, Decimal]] = {
    **dict.fromkeys(["mg"], (_MASS, MILLI)),
    **dict.fromkeys(["g"], (_MASS, Decimal(1))),
    **dict.fromkeys(["microgram", "micrograms", "mcg"], (_MASS, MICRO)),
    **dict.fromkeys(["mmol"], ("amount of substance", MILLI)),
    **dict.fromkeys(["mL", "ml"], ("volume", MILLI)),
    **dict.fromkeys(["%"], ("fraction", Decimal("0.01"))),
    **dict.fromkeys(["units"], ("unit", Decimal(1))),
    **dict.fromkeys(["international units"], ("international unit", Decimal(1))),
    **dict.fromkeys(["million units"], ("unit", MILLION)),
    **dict.fromkeys(["million international units"], ("international unit", MILLION)),
    **dict.fromkeys(["mg/m2", "mg/m²"], (_MASS + " " + _AREA, MILLI)),
    **dict.fromkeys(["g/m2", "g/m²"], (_MASS + " " + _AREA, Decimal(1))),
    **dict.fromkeys(
        ["microgram/m2", "microgram/m²", "micrograms/m2", "micrograms/m²", "mcg/m2", "mcg/m²"],
        (_MASS + " " + _AREA, MICRO),
    ),
    **dict.fromkeys(["mL/m2", "mL/m²"], ("volume " + _AREA, MILLI)),
    **dict.fromkeys(["mg/kg"], (_MASS + " " + _WEIGHT, MILLI)),
    **dict.fromkeys(["microgram/kg", "micrograms/kg", "mcg/kg"], (_MASS + " " + _WEIGHT, MICRO)),
    **dict.fromkeys(["units/m2", "units/m²"], ("unit " + _AREA, Decimal(1))),
    **dict.fromkeys(["international units/m2", "international units/m²"], ("international unit " + _AREA, Decimal(1))),
    **dict.fromkeys(["million units/m2", "million units/m²"], ("unit " + _AREA, MILLION)),
    **dict.fromkeys(["AUC"], ("AUC", Decimal(1))),
    **dict.fromkeys(["tablet", "tablets"], ("tablet", Decimal(1))),
    **dict.fromkeys(["capsule", "capsules"], ("capsule", Decimal(1))),
    **dict.fromkeys(["MR tablet", "MR tablets"], ("modified-release tablet", Decimal(1))),
    **dict.fromkeys(["MR capsule", "MR capsules"], ("modified-release capsule", Decimal(1))),
    **dict.fromkeys(["orodispersible tablet", "orodispersible tablets"], ("orodispersible tablet", Decimal(1))),
    **dict.fromkeys(["pack", "packs"], ("pack", Decimal(1))),
    **dict.fromkeys(["drop", "drops"], ("drop", Decimal(1))),
    **dict.fromkeys(["vial", "vials"], ("vial", Decimal(1))),
    **dict.fromkeys(["puff", "puffs"], ("puff", Decimal(1))),
    **dict.fromkeys(["sachet", "sachets"], ("sachet", Decimal(1))),
    # Rates: the scale is per minute, so a dose per day is 1/1440 of the same dose per minute.
    **dict.fromkeys(["mg/day"], (_MASS + _RATE, MILLI / _DAY)),
    **dict.fromkeys(["g/day"], (_MASS + _RATE, 1 / _DAY)),
    **dict.fromkeys(["microgram/day", "micrograms/day", "mcg/day"], (_MASS + _RATE, MICRO / _DAY)),
    **dict.fromkeys(["mmol/day"], ("amount of substance" + _RATE, MILLI / _DAY)),
    **dict.fromkeys(["units/day"], ("unit" + _RATE, 1 / _DAY)),
    **dict.fromkeys(["international units/day"], ("international unit" + _RATE, 1 / _DAY)),
    **dict.fromkeys(["mg/m2/day", "mg/m²/day"], (_MASS + " " + _AREA + _RATE, MILLI / _DAY)),
    **dict.fromkeys(["g/m2/day", "g/m²/day"], (_MASS + " " + _AREA + _RATE, 1 / _DAY)),
    **dict.fromkeys(
        [
            "microgram/m2/day",
            "microgram/m²/day",
            "micrograms/m2/day",
            "micrograms/m²/day",
            "mcg/m2/day",
            "mcg/m²/day",
        ],
        (_MASS + " " + _AREA + _RATE, MICRO / _DAY),
    ),
    **dict.fromkeys(["units/m2/day", "units/m²/day"], ("unit " + _AREA + _RATE, 1 / _DAY)),
    **dict.fromkeys(
        ["international units/m2/day", "international units/m²/day"], ("international unit " + _AREA + _RATE, 1 / _DAY)
    ),
    **dict.fromkeys(["mg/kg/day"], (_MASS + " " + _WEIGHT + _RATE, MILLI / _DAY)),
    **dict.fromkeys(
        ["microgram/kg/day", "micrograms/kg/day", "mcg/kg/day"], (_MASS + " " + _WEIGHT + _RATE, MICRO / _DAY)
    ),
    **dict.fromkeys(["mg/hour"], (_MASS + _RATE, MILLI / 60)),
    **dict.fromkeys(["microgram/hour", "micrograms/hour", "mcg/hour"], (_MASS + _RATE, MICRO / 60)),
    **dict.fromkeys(["mL/hour", "ml/hour"], ("volume" + _RATE, MILLI / 60)),
    **dict.fromkeys(["mg/m2/hour", "mg/m²/hour"], (_MASS + " " + _AREA + _RATE, MILLI / 60)),
    **dict.fromkeys(["mL/m2/hour", "mL/m²/hour"], ("volume " + _AREA + _RATE, MILLI / 60)),
    **dict.fromkeys(["mg/kg/hour"], (_MASS + " " + _WEIGHT + _RATE, MILLI / 60)),
    **dict.fromkeys(
        ["microgram/kg/hour", "micrograms/kg/hour", "mcg/kg/hour"], (_MASS + " " + _WEIGHT + _RATE, MICRO / 60)
    ),
    **dict.fromkeys(["microgram/min", "micrograms/min", "mcg/min"], (_MASS + _RATE, MICRO)),
    **dict.fromkeys(["microgram/kg/min", "micrograms/kg/min", "mcg/kg/min"], (_MASS + " " + _WEIGHT + _RATE, MICRO)),
}
TIME_MEANING = {word: ("time", Decimal(minutes)) for word, minutes in TIME_UNITS.items()}
ERROR_PRONE_MEANING = {
    **dict.fromkeys(["µg", "μg", "ug"], (_MASS, MICRO)),
    **dict.fromkeys(["µg/kg", "μg/kg"], (_MASS + " " + _WEIGHT, MICRO)),
    **dict.fromkeys(["µg/m2", "μg/m2"], (_MASS + " " + _AREA, MICRO)),
    **dict.fromkeys(["U", "u"], ("unit", Decimal(1))),
    **dict.fromkeys(["IU", "iu"], ("international unit", Decimal(1))),
    "U/m2": ("unit " + _AREA, Decimal(1)),
    "IU/m2": ("international unit " + _AREA, Decimal(1)),
    "million U": ("unit", MILLION),
    "million IU": ("international unit", MILLION),
    "cc": ("volume", MILLI),
    **{
        f"{micro}{rest}": meaning
        for micro in ("µg", "μg", "ug")
        for rest, meaning in {
            "/day": (_MASS + _RATE, MICRO / _DAY),
            "/m2/day": (_MASS + " " + _AREA + _RATE, MICRO / _DAY),
            "/kg/day": (_MASS + " " + _WEIGHT + _RATE, MICRO / _DAY),
            "/hour": (_MASS + _RATE, MICRO / 60),
            "/kg/hour": (_MASS + " " + _WEIGHT + _RATE, MICRO / 60),
            "/min": (_MASS + _RATE, MICRO),
            "/kg/min": (_MASS + " " + _WEIGHT + _RATE, MICRO),
        }.items()
    },
    "U/day": ("unit" + _RATE, 1 / _DAY),
    "IU/day": ("international unit" + _RATE, 1 / _DAY),
    "U/m2/day": ("unit " + _AREA + _RATE, 1 / _DAY),
    "IU/m2/day": ("international unit " + _AREA + _RATE, 1 / _DAY),
}
SPELLINGS = [a for u in UNITS for a in u.aliases]
_CHARS = "abcdefghijklmnopqrstuvwxyzAGILMRU%/2² "


def _one_edit(word: str) -> set[str]:
    """Every word one edit from ``word``: a character deleted, inserted, replaced or swapped, or a case change."""
    found = {word.upper(), word.lower(), word.capitalize(), word + "s"}
    for i in range(len(word) + 1):
        found |= {word[:i] + ch + word[i:] for ch in _CHARS}
        if i < len(word):
            found.add(word[:i] + word[i + 1 :])
            found |= {word[:i] + ch + word[i + 1 :] for ch in _CHARS}
            found.add(word[:i] + word[i].swapcase() + word[i + 1 :])
        if i + 1 < len(word):
            found.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    found.discard(word)
    return found


def test_every_spelling_has_a_stated_meaning() -> None:
    assert sorted(MEANING) == sorted(SPELLINGS)
    assert sorted(ERROR_PRONE_MEANING) == sorted(ERROR_PRONE_UNITS)


def test_spellings_of_one_unit_mean_the_same_and_units_of_one_meaning_are_one_unit() -> None:
    for unit in UNITS:
        assert len({MEANING[a] for a in unit.aliases}) == 1, unit.term
    assert len({MEANING[u.aliases[0]] for u in UNITS}) == len(UNITS)
    assert len({(u.coding.system, u.coding.code) for u in UNITS}) == len(UNITS)


def test_units_and_international_units_are_different_units_with_their_own_codes() -> None:
    units, international = find_unit("units"), find_unit("international units")
    assert units is not None
    assert international is not None
    assert (units.coding.code, international.coding.code) == ("767525000", "258997004")
    per_m2, international_per_m2 = find_unit("units/m2"), find_unit("international units/m2")
    assert per_m2 is not None
    assert international_per_m2 is not None
    assert per_m2.coding.code != international_per_m2.coding.code
    assert international_per_m2.coding.code == "414524001"


def test_an_error_prone_spelling_is_spelt_out_as_the_same_unit() -> None:
    for written, instead in ERROR_PRONE_UNITS.items():
        assert find_unit(instead) is not None, instead
        assert MEANING[instead] == ERROR_PRONE_MEANING[written], written


@pytest.mark.parametrize(("candidates", "meaning"), [(SPELLINGS, MEANING), (list(TIME_UNITS), TIME_MEANING)])
def test_no_suggestion_for_a_unit_like_word_changes_its_magnitude_or_dimension(
    candidates: list[str], meaning: dict[str, tuple[str, Decimal]]
) -> None:
    """A word one edit from known spellings is suggested a unit only if every one of them means just that."""
    near: dict[str, set[str]] = {}
    for spelling in candidates:
        for word in _one_edit(spelling):
            near.setdefault(word, set()).add(spelling)
    suggested = 0
    for word, sources in sorted(near.items()):
        if word in candidates or word in ERROR_PRONE_UNITS:
            continue
        guess = suggest_unit(word, candidates)
        if guess is not None:
            suggested += 1
            assert {meaning[s] for s in sources} == {meaning[guess]}, (word, guess, sorted(sources))
    assert suggested > 10  # the safe suggestions (`mgs`, `MCG`, `Units`, `HOURS`) are still made


@pytest.mark.parametrize(
    ("word", "guess"),
    [
        *[("mgs", "mg"), ("milligrams", "mg"), ("grams", "g"), ("MCG", "mcg"), ("ML", "ml"), ("Units", "units")],
        *[("gm/m2", None), ("Mg", None), ("mG", None), ("G", None), ("mg/m", None), ("ugs", None)],
        *[("gram/m2", "g/m2"), ("unit", "units")],
    ],
)
def test_suggestions_name_the_same_unit_only(word: str, guess: str | None) -> None:
    assert suggest_unit(word, SPELLINGS) == guess


_REGIMEN = """regimen fixture
  name "Fixture"
  status draft

cycle 1: 21 days
  {line}
"""


def _check(tmp_path: Path, line: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    (tmp_path / "library.reg").write_bytes((REGIMENS / "library.reg").read_bytes())
    (tmp_path / "fixture.reg").write_text(_REGIMEN.format(line=line), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return [(d.code.code, d.help) for d in run_configured([Path("fixture.reg")]).diagnostics]


def test_grams_per_m2_is_a_unit_and_no_suggestion_turns_it_into_mg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = _check(tmp_path, "cyclophosphamide 1 g/m2 IV day 1 over 60 min", monkeypatch)
    assert [code for code, _ in found if code != "SUP001"] == []  # antiemetic cover is not the point
    found = _check(tmp_path, "cyclophosphamide 1 gm/m2 IV day 1 over 60 min", monkeypatch)
    assert [code for code, _ in found] == ["VOC001"]
    assert "did you mean" not in (found[0][1] or "")


@pytest.mark.parametrize(
    ("line", "code", "amount"),
    [
        ("bleomycin 30 units IV day 1 over 10 min", "767525000", "30"),
        ("bleomycin 30000 international units IV day 1 over 10 min", "258997004", "30000"),
    ],
)
def test_the_json_document_codes_units_as_written(line: str, code: str, amount: str) -> None:
    dose = _administration(line)["dose"]
    assert (dose["amount"], dose["unit"]["code"]) == (amount, code)


def _administration(line: str) -> dict[str, Any]:
    compiled = compile_alone(_REGIMEN.format(line=line).encode())
    assert compiled is not None
    document = json.loads(json.dumps(build_document(compiled, RenderContext(source="fixture.reg"))))
    admin: dict[str, Any] = document["parts"][0]["cycles"][0]["administrations"][0]
    return admin


# Each written as a regimen writes it, with the code the JSON document must give (SNOMED CT
# route of administration values and units of presentation; UCUM for rates), independently of
# the vocabulary's table.
@pytest.mark.parametrize(
    ("line", "unit", "route", "hierarchy", "per_minutes"),
    [
        (
            "dexamethasone 1 drop ophthalmic days 1 to 7 four times daily",
            ("sct", "404218003"),
            "54485002",
            "route",
            None,
        ),
        ("dexamethasone 1 drop eye days 1 to 7", ("sct", "404218003"), "54485002", "route", None),
        ("mesna 1 vial IV day 1 over 15 min", ("sct", "415818006"), "386358000", "procedure", None),
        ("dexamethasone 2 puffs inhaled day 1", ("unitsofmeasure", "{puff}"), "447694001", "route", None),
        ("dexamethasone 4 mg nasal day 1", ("sct", "258684004"), "46713006", "route", None),
        ("dexamethasone 4 mg PR day 1", ("sct", "258684004"), "37161004", "route", None),
        ("mesna 4 mg intrapleural day 1", ("sct", "258684004"), "372469009", "route", None),
        (
            "cytarabine 100 mg/m2/day IV days 1 to 7 over 24 hours",
            ("unitsofmeasure", "mg/m2/d"),
            "386358000",
            "procedure",
            1440,
        ),
        ("filgrastim 2 micrograms/kg/min IV day 1", ("unitsofmeasure", "ug/kg/min"), "386358000", "procedure", 1),
        (
            '"sodium chloride" 125 mL/hour IV day 1 over 24 hours',
            ("unitsofmeasure", "mL/h"),
            "386358000",
            "procedure",
            60,
        ),
        ("mesna 1 mmol IV day 1", ("sct", "258718000"), "386358000", "procedure", None),
        ("cISplatin 20 mg/m2 intravesical day 1", ("sct", "404216004"), "431464005", "procedure", None),
        ("cISplatin 20 mg/m2 intraperitoneal day 1", ("sct", "404216004"), "81633002", "procedure", None),
    ],
)
def test_the_json_document_codes_new_units_and_routes(
    line: str, unit: tuple[str, str], route: str, hierarchy: str, per_minutes: int | None
) -> None:
    admin = _administration(line)
    assert unit[0] in admin["dose"]["unit"]["system"]
    assert admin["dose"]["unit"]["code"] == unit[1]
    assert (admin["route"]["code"], admin["route_hierarchy"]) == (route, hierarchy)
    assert admin["dose"]["per_minutes"] == per_minutes


@pytest.mark.parametrize(
    ("words", "code"), [("once weekly", "225769003"), ("twice daily", "229799001"), ("every four hours", "225756002")]
)
def test_frequencies_are_coded(words: str, code: str) -> None:
    admin = _administration(f"dexamethasone 4 mg oral days 1, 8, 15 {words}")
    assert admin["frequency"]["codings"][0]["code"] == code


def test_clock_intervals_have_their_snomed_codes() -> None:
    assert {minutes: c.code for minutes, c in CLOCK_CODES.items() if minutes in {360, 480, 720, 1440}} == {
        360: "307468000",
        480: "307469008",
        720: "307470009",
        1440: "396125000",
    }
    assert CLOCK_CODES[240].code == "225756002"  # the NZ value set's "every four hours"
    assert 300 not in CLOCK_CODES  # every 5 hours: no code, never a neighbour's


def test_every_scaled_unit_has_the_absolute_unit_its_cap_is_written_in() -> None:
    for unit in UNITS:
        if unit.basis in {Basis.PER_M2, Basis.PER_KG, Basis.AUC}:
            cap = CAP_UNITS[unit.absolute, unit.per_minutes]
            assert (cap.basis, cap.per_minutes) == (Basis.ABSOLUTE, unit.per_minutes), unit.term


def test_rate_units_say_the_time_they_are_per_and_their_amount() -> None:
    for written, (minutes, amount) in {
        "mg/m2/day": (1440, "mg/m²"),
        "micrograms/kg/min": (1, "microgram/kg"),
        "mL/hour": (60, "mL"),
        "micrograms/day": (1440, "microgram"),
        "mg/m2": (None, None),
    }.items():
        unit = find_unit(written)
        assert unit is not None, written
        assert (unit.per_minutes, unit.amount) == (minutes, amount), written


@pytest.mark.parametrize("unit", sorted({u.display for u in UNITS}))
def test_a_cap_on_a_dose_of_any_unit_and_a_dose_capped_in_any_unit_is_a_finding_never_a_crash(
    unit: str, tmp_path: Path
) -> None:
    # A lookup by unit once crashed on `1 % ... max 2 mg` (a concentration has no amount to cap).
    lines = [
        f'  "sodium chloride" 1 {unit} IV day 1 over 60 min max 2 mg',
        f"  ondansetron 1 mg/m2 IV day 1 max 2 {unit}",
    ]
    for number, line in enumerate(lines):
        path = tmp_path / f"cap{number}.reg"
        path.write_text(
            f'regimen cap{number}\n  name "Cap"\n  status draft\n\ncycle 1: 21 days\n{line}\n', encoding="utf-8"
        )
        found = run_configured([path]).diagnostics
        assert not [d for d in found if d.code.code.startswith("INT")], line
