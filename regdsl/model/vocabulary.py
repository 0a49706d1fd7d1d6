"""The controlled vocabulary: units, routes, frequencies, factors and settings with codes.

Codes are SNOMED CT, as listed in the project's vocabulary brief (the terms of the New
Zealand SACT Regimen Library and the HL7 NZ Cancer Control Agency FHIR guide, whose dose unit
value set is ``sact-dose-unit``). A dose unit with no SNOMED CT concept in those sources is
coded in UCUM instead, never as a neighbouring concept: `units` (767525000 |Unit|, as SNOMED
International's authoring tools and the CH EMED unit concept map give it) and `international
units` (258997004 |international unit|) are different units, and so are their per-m² forms.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from regdsl.model.conditions import DEFAULT_RESPONSES

__all__ = [
    "CLOCK_CODES",
    "EMETOGENICITY",
    "ERROR_PRONE_UNITS",
    "FACTORS",
    "FACTOR_NAMES",
    "FREQUENCIES",
    "FREQUENCY_BY_PHRASE",
    "GTS_SYSTEM",
    "HIGH",
    "INTERNATIONAL_UNIT",
    "INTRAPERITONEAL",
    "INTRATHECAL",
    "INTRAVENOUS",
    "INTRA_ARTERIAL",
    "MEDIUM",
    "MG_PER_M2",
    "NZMT_SYSTEM",
    "ORAL",
    "RESPONSES",
    "ROUTES",
    "ROUTE_BY_ALIAS",
    "SETTINGS",
    "SNOMED",
    "SOLID_ORAL_UNITS",
    "SUBCUTANEOUS",
    "TIME_UNITS",
    "UCUM",
    "UNIT",
    "UNITS",
    "Basis",
    "Coding",
    "Factor",
    "FactorValue",
    "Frequency",
    "Route",
    "Unit",
    "find_factor",
    "find_unit",
    "suggest_unit",
    "unit_key",
]

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
GTS_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
NZMT_SYSTEM = "https://nzulm.org.nz/nzmt"

# The codes the rules and the timing network name, each written once, here: no other module of
# the package writes a code (tests/test_registry.py).
ORAL = "386359008"
INTRAVENOUS = "386358000"
SUBCUTANEOUS = "386362006"
INTRATHECAL = "406188003"
INTRA_ARTERIAL = "432977006"
INTRAPERITONEAL = "81633002"
MG_PER_M2 = "404216004"
UNIT = "767525000"
INTERNATIONAL_UNIT = "258997004"
EMETOGENICITY = "419219000"
HIGH = "75540009"
MEDIUM = "255508009"
# Tablets and capsules of every kind: given by mouth only.
SOLID_ORAL_UNITS = frozenset({"385055001", "420692007", "385061003", "385054002", "447079001"})


@dataclass(frozen=True, slots=True)
class Coding:
    """A code in a code system, with the display text it is shown with."""

    system: str
    code: str
    display: str


class Basis(enum.Enum):
    """What a dose is scaled by."""

    ABSOLUTE = "absolute"
    PER_M2 = "per m2"
    PER_KG = "per kg"
    AUC = "AUC"
    CONCENTRATION = "concentration"
    COUNT = "count"


@dataclass(frozen=True, slots=True)
class Unit:
    """A dose unit: its term, SNOMED code, basis and the spellings authors may use.

    A rate unit (`mg/m2/day`, `mL/hour`, `microgram/kg/min`) says how much is given per
    ``per_minutes`` minutes (1440 for a day, 60 for an hour, 1 for a minute); ``amount`` is
    the unit of the amount it gives (`mg/m²` for `mg/m²/day`), ``None`` for a unit that is
    itself an amount. ``absolute`` is what one dose comes to once body size is scaled out
    (`mg` for `mg/m²`, `mg/m²/day` and AUC): the unit a cap on the dose is written in, per
    the same time.
    """

    term: str
    code: str
    basis: Basis
    aliases: tuple[str, ...]
    display: str
    system: str = SNOMED
    per_minutes: int | None = None
    amount: str | None = None
    absolute: str = ""

    @property
    def coding(self) -> Coding:
        """The unit as a coding: SNOMED CT, or UCUM for a unit with no SNOMED CT concept in the sources."""
        return Coding(self.system, self.code, self.term)


def _u(
    code: str, term: str, basis: Basis, *aliases: str, display: str | None = None, system: str = SNOMED, of: str = ""
) -> Unit:
    return Unit(term, code, basis, aliases, display or term, system, absolute=of or term)


# The time a rate unit is per: its word as authors write it, its UCUM symbol, its minutes.
_PER = {"day": ("d", 1440), "hour": ("h", 60), "min": ("min", 1)}


def _rate(amount: Unit, per: str) -> Unit:
    """Return the rate unit "``amount`` per ``per``", coded in UCUM (no SNOMED CT concept in the sources).

    Its spellings are the amount's spellings with `/day`, `/hour` or `/min` after them; its
    UCUM code is the amount's with the time's symbol (`mg/m2/d`, `ug/kg/min`).
    """
    symbol, minutes = _PER[per]
    ucum = _UCUM_AMOUNTS[amount.term]
    return Unit(
        f"{amount.term}/{per}",
        f"{ucum}/{symbol}",
        amount.basis,
        tuple(f"{a}/{per}" for a in amount.aliases),
        f"{amount.display}/{per}",
        UCUM,
        per_minutes=minutes,
        amount=amount.display,
        absolute=amount.absolute,
    )


_AMOUNTS: tuple[Unit, ...] = (
    _u("258684004", "mg", Basis.ABSOLUTE, "mg"),
    _u("258682000", "g", Basis.ABSOLUTE, "g"),
    _u("258685003", "microgram", Basis.ABSOLUTE, "microgram", "micrograms", "mcg"),
    _u("258718000", "mmol", Basis.ABSOLUTE, "mmol"),
    _u("258773002", "mL", Basis.ABSOLUTE, "mL", "ml"),
    _u("118582008", "percent", Basis.CONCENTRATION, "%", display="%"),
    _u(UNIT, "unit", Basis.ABSOLUTE, "units", display="units"),
    _u(INTERNATIONAL_UNIT, "international unit", Basis.ABSOLUTE, "international units", display="international units"),
    _u("396186001", "million unit", Basis.ABSOLUTE, "million units", display="million units"),
    _u(
        "10*6.[iU]",
        "million international unit",
        Basis.ABSOLUTE,
        "million international units",
        display="million international units",
        system=UCUM,
    ),
    _u(MG_PER_M2, "mg/m²", Basis.PER_M2, "mg/m2", "mg/m²", of="mg"),
    _u("g/m2", "g/m²", Basis.PER_M2, "g/m2", "g/m²", system=UCUM, of="g"),
    _u(
        "ug/m2",
        "microgram/m²",
        Basis.PER_M2,
        "microgram/m2",
        "microgram/m²",
        "micrograms/m2",
        "micrograms/m²",
        "mcg/m2",
        "mcg/m²",
        system=UCUM,
        of="microgram",
    ),
    _u("mL/m2", "mL/m²", Basis.PER_M2, "mL/m2", "mL/m²", system=UCUM, of="mL"),
    _u("396163008", "mg/kg", Basis.PER_KG, "mg/kg", of="mg"),
    _u("258803005", "microgram/kg", Basis.PER_KG, "microgram/kg", "micrograms/kg", "mcg/kg", of="microgram"),
    _u("[arb'U]/m2", "unit/m²", Basis.PER_M2, "units/m2", "units/m²", display="units/m²", system=UCUM, of="unit"),
    _u(
        "414524001",
        "international unit/m²",
        Basis.PER_M2,
        "international units/m2",
        "international units/m²",
        display="international units/m²",
        of="international unit",
    ),
    _u(
        "414745006",
        "million unit/m²",
        Basis.PER_M2,
        "million units/m2",
        "million units/m²",
        display="million units/m²",
        of="million unit",
    ),
    _u("413573002", "AUC (area under the curve)", Basis.AUC, "AUC", display="AUC", of="mg"),
)
_COUNTS: tuple[Unit, ...] = (
    _u("385055001", "Tablet(s)", Basis.COUNT, "tablet", "tablets", display="tablet"),
    _u("420692007", "Capsule(s)", Basis.COUNT, "capsule", "capsules", display="capsule"),
    _u("385061003", "Modified-release oral tablet(s)", Basis.COUNT, "MR tablet", "MR tablets", display="MR tablet"),
    _u("385054002", "Modified release capsule(s)", Basis.COUNT, "MR capsule", "MR capsules", display="MR capsule"),
    _u(
        "447079001",
        "Orodispersible tablet(s)",
        Basis.COUNT,
        "orodispersible tablet",
        "orodispersible tablets",
        display="orodispersible tablet",
    ),
    _u("257260002", "Pack(s)", Basis.COUNT, "pack", "packs", display="pack"),
    # Drop and vial: SNOMED CT unit-of-presentation concepts, as public FHIR dose quantities and
    # the UK dm+d unit-dose units code them (404218003 |Drop|, 415818006 |Vial|).
    _u("404218003", "Drop", Basis.COUNT, "drop", "drops", display="drop"),
    _u("415818006", "Vial", Basis.COUNT, "vial", "vials", display="vial"),
    # Puff and sachet: no SNOMED CT code confirmed in the sources (one source each, or two
    # codes seen), so coded as UCUM annotations, which count without claiming a concept.
    _u("{puff}", "puff", Basis.COUNT, "puff", "puffs", system=UCUM),
    _u("{sachet}", "sachet", Basis.COUNT, "sachet", "sachets", system=UCUM),
)
# UCUM symbols of the amounts a rate unit is built on (UCUM: `ug` microgram, `[arb'U]` an
# arbitrary unit, `[iU]` an international unit, `d` day, `h` hour).
_UCUM_AMOUNTS = {
    "mg": "mg",
    "g": "g",
    "microgram": "ug",
    "mmol": "mmol",
    "mL": "mL",
    "unit": "[arb'U]",
    "international unit": "[iU]",
    "mg/m²": "mg/m2",
    "g/m²": "g/m2",
    "microgram/m²": "ug/m2",
    "mL/m²": "mL/m2",
    "mg/kg": "mg/kg",
    "microgram/kg": "ug/kg",
    "unit/m²": "[arb'U]/m2",
    "international unit/m²": "[iU]/m2",
}
_AMOUNT_BY_TERM = {u.term: u for u in _AMOUNTS}
# Doses per day or per hour (continuous infusions, daily doses split over the day) and the
# rates of pumps and drips, each with the absolute rate a cap on a scaled one is written in.
_RATES: tuple[tuple[str, str], ...] = (
    *((amount, "day") for amount in ("mg", "g", "microgram", "mmol", "unit", "international unit")),
    *((amount, "day") for amount in ("mg/m²", "g/m²", "microgram/m²", "unit/m²", "international unit/m²")),
    *((amount, "day") for amount in ("mg/kg", "microgram/kg")),
    *((amount, "hour") for amount in ("mg", "microgram", "mL", "mg/m²", "mL/m²", "mg/kg", "microgram/kg")),
    *((amount, "min") for amount in ("microgram", "microgram/kg")),
)
UNITS: tuple[Unit, ...] = (
    *_AMOUNTS,
    *_COUNTS,
    *(_rate(_AMOUNT_BY_TERM[amount], per) for amount, per in _RATES),
)

# Unit spellings refused as error-prone (ISMP list), with the same unit spelt out. `IU` is an
# international unit, not a unit: it is spelt out as such, never merged into `units`.
ERROR_PRONE_UNITS: dict[str, str] = {
    "µg": "microgram",
    "μg": "microgram",
    "ug": "microgram",
    "U": "units",
    "u": "units",
    "IU": "international units",
    "iu": "international units",
    "cc": "mL",
    "µg/kg": "microgram/kg",
    "μg/kg": "microgram/kg",
    "µg/m2": "microgram/m2",
    "μg/m2": "microgram/m2",
    "U/m2": "units/m2",
    "million U": "million units",
    "million IU": "million international units",
    "IU/m2": "international units/m2",
}
# The same error-prone forms in rate units: `µg/kg/min`, `IU/m2/day`, `U/day`.
_ERROR_PRONE_RATES = {
    "µg": "microgram",
    "μg": "microgram",
    "ug": "microgram",
    "U": "units",
    "IU": "international units",
}
ERROR_PRONE_UNITS |= {
    f"{written}{unit.aliases[0][len(instead) :]}": unit.aliases[0]
    for unit in UNITS
    if unit.per_minutes is not None
    for written, instead in _ERROR_PRONE_RATES.items()
    if unit.aliases[0].startswith(instead + "/")
}

_UNIT_BY_ALIAS = {alias: unit for unit in UNITS for alias in unit.aliases}


def find_unit(text: str) -> Unit | None:
    """Return the unit an author's spelling stands for (case-sensitive: `mg` is not `Mg`)."""
    return _UNIT_BY_ALIAS.get(text)


# Spelled-out unit words and the symbol each stands for, so that a spelling is matched only to
# the very same unit (`milligrams` is `mg`), never to a neighbour of another magnitude.
_SPELLED = {
    "gram": "g",
    "milligram": "mg",
    "microgram": "mcg",
    "kilogram": "kg",
    "millilitre": "ml",
    "milliliter": "ml",
    "millimole": "mmol",
    "percent": "%",
    "minute": "min",
    "hour": "h",
    "hr": "h",
}


def unit_key(text: str) -> str:
    """Return what a unit spelling names, ignoring plurals, how ² is written, and the case of a whole word.

    Only a word written all in capitals (`MG`, `UNITS`) or capitalised (`Units`) is read in
    lower case: in any other spelling case is meaningful (`Mg` is mega, `mg` milli), and a
    single letter keeps its case. Two spellings with the same key are the same unit.
    """
    parts = []
    for word in text.replace("²", "2").replace("^2", "2").split("/"):
        if len(word) > 1 and (word.isupper() or (word[0] != "M" and word[0].isupper() and word[1:].islower())):
            word = word.lower()
        word = _SPELLED.get(word, word)
        if len(word) > 2 and word.endswith("s"):
            word = _SPELLED.get(word[:-1], word[:-1])
        parts.append(word)
    return "/".join(parts)


def suggest_unit(text: str, spellings: Iterable[str]) -> str | None:
    """Return the one spelling in ``spellings`` of the very unit ``text`` names, if there is one.

    Used for every "did you mean" about a unit: a suggestion never changes a dose's magnitude,
    so only a spelling with the same ``unit_key`` qualifies, never a merely similar one.
    """
    key = unit_key(text)
    found = sorted({s for s in spellings if s != text and unit_key(s) == key})
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Route:
    """A route of administration.

    ``hierarchy`` says which SNOMED CT hierarchy its code is from: the New Zealand guide's
    routes are procedure concepts (386359008 |Administration of drug or medicament via oral
    route|); routes it does not list are coded with route of administration values (the
    descendants of 284009009, the hierarchy of the HL7 FHIR route-codes value set) until its
    value set names them.
    """

    term: str
    code: str
    aliases: tuple[str, ...]
    hierarchy: Literal["procedure", "route"] = "procedure"

    @property
    def coding(self) -> Coding:
        """The route as a SNOMED CT coding."""
        return Coding(SNOMED, self.code, self.term)


def _route(code: str, term: str, *aliases: str) -> Route:
    return Route(term, code, aliases, "route")


ROUTES: tuple[Route, ...] = (
    Route("oral administration", ORAL, ("oral", "PO")),
    Route("intravenous", INTRAVENOUS, ("IV", "intravenous")),
    Route("subcutaneous injection", SUBCUTANEOUS, ("subcut", "SC")),
    Route("intramuscular injection", "386356001", ("IM",)),
    Route("intrathecal injection", INTRATHECAL, ("intrathecal", "IT")),
    Route("intravesical administration", "431464005", ("intravesical",)),
    Route("topical administration", "431695009", ("topical",)),
    Route("intra-arterial injection", INTRA_ARTERIAL, ("intra-arterial",)),
    Route("intraperitoneal injection", INTRAPERITONEAL, ("intraperitoneal", "IP")),
    # Route of administration values, as public FHIR terminology lists them (the HL7 FHIR
    # route-codes value set and the SNOMED CT route listings of public implementation guides).
    _route("54485002", "ophthalmic route", "ophthalmic", "eye"),
    _route("447694001", "respiratory tract route", "inhaled", "inhalation"),
    _route("46713006", "nasal route", "nasal"),
    _route("37161004", "rectal route", "rectal", "PR"),
    _route("16857009", "vaginal route", "vaginal"),
    _route("45890007", "transdermal route", "transdermal"),
    _route("37839007", "sublingual route", "sublingual"),
    _route("54471007", "buccal route", "buccal"),
    _route("372464004", "intradermal route", "intradermal", "ID"),
    _route("372466002", "intralesional route", "intralesional"),
    _route("372469009", "intrapleural route", "intrapleural"),
    _route("418401004", "intravitreal route", "intravitreal"),
    _route("404820008", "epidural route", "epidural"),
    _route("12130007", "intra-articular route", "intra-articular"),
    _route("10547007", "otic route", "otic", "ear"),
)
ROUTE_BY_ALIAS: dict[str, Route] = {a.lower(): r for r in ROUTES for a in r.aliases}


@dataclass(frozen=True, slots=True)
class Frequency:
    """A dose frequency: how many times a day, every how many hours, or once a week.

    ``interval`` is the minutes between doses for one written as "every N hours" (the words
    of the NZ value set, and the codes a clock `every 12 hours` is given), else ``None``.
    """

    term: str
    code: str
    phrase: str
    gts: str | None
    per_day: int
    interval: int | None = None

    @property
    def codings(self) -> tuple[Coding, ...]:
        """SNOMED CT coding, and the HL7 GTS abbreviation where there is one."""
        snomed = Coding(SNOMED, self.code, self.term)
        return (snomed, Coding(GTS_SYSTEM, self.gts, self.term)) if self.gts else (snomed,)


FREQUENCIES: tuple[Frequency, ...] = (
    Frequency("Once per one time", "307486002", "once only", None, 1),
    Frequency("Once daily", "229797004", "once daily", "QD", 1),
    Frequency("Twice daily", "229799001", "twice daily", "BID", 2),
    Frequency("Three times daily", "229798009", "three times daily", "TID", 3),
    Frequency("Four times daily", "307439001", "four times daily", "QID", 4),
    Frequency("Five times daily", "307440004", "five times daily", None, 5),
    Frequency("Six times daily", "307441000", "six times daily", None, 6),
    Frequency("Seven times daily", "307442007", "seven times daily", None, 7),
    Frequency("Eight times daily", "307443002", "eight times daily", None, 8),
    Frequency("Every hour", "225768006", "every hour", None, 24, 60),
    Frequency("Every two hours", "225750008", "every two hours", None, 12, 120),
    Frequency("Every three hours", "225753005", "every three hours", None, 8, 180),
    Frequency("Every four hours", "225756002", "every four hours", None, 6, 240),
    # Once a week (225769003): one dose on each day listed, the days a week apart.
    Frequency("Once a week", "225769003", "once weekly", None, 1),
)
FREQUENCY_BY_PHRASE: dict[str, Frequency] = {f.phrase: f for f in FREQUENCIES}

# The SNOMED CT codes of "every N hours" beyond the NZ value set's four, as the US CMS
# quality-measure terminology (CQL library CumulativeMedicationDuration) lists them, keyed by
# the minutes between doses: a clock (`every 12 hours for 6 doses`) is coded by its interval,
# and one without a code is written in the JSON document as a FHIR Timing period only.
CLOCK_CODES: dict[int, Coding] = {
    **{f.interval: f.codings[0] for f in FREQUENCIES if f.interval is not None},
    360: Coding(SNOMED, "307468000", "Every six hours"),
    480: Coding(SNOMED, "307469008", "Every eight hours"),
    720: Coding(SNOMED, "307470009", "Every twelve hours"),
    1440: Coding(SNOMED, "396125000", "Every twenty four hours"),
    2160: Coding(SNOMED, "396126004", "Every thirty six hours"),
    2880: Coding(SNOMED, "396131002", "Every forty eight hours"),
    4320: Coding(SNOMED, "396143001", "Every seventy two hours"),
}


@dataclass(frozen=True, slots=True)
class FactorValue:
    """A coded value of a factor, with the texts the library shows for it."""

    code: str
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Factor:
    """A supportive-care factor and its coded values."""

    term: str
    code: str
    aliases: tuple[str, ...]
    values: tuple[FactorValue, ...]

    def find_value(self, text: str) -> FactorValue | None:
        """Return the coded value whose text (case-insensitive) matches ``text``."""
        key = _norm(text)
        return next((v for v in self.values if key in {_norm(t) for t in v.texts}), None)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


_HIGH, _MED, _LOW, _MIN = (
    FactorValue(HIGH, ("High",)),
    FactorValue(MEDIUM, ("Medium", "Moderate")),
    FactorValue("62482003", ("Low",)),
    FactorValue("255605001", ("Minimal",)),
)
_VARIABLE = FactorValue("255372005", ("Variable",))

FACTORS: tuple[Factor, ...] = (
    Factor(
        "Antifungal prophylaxis",
        "718526003",
        (),
        (
            FactorValue("897020005", ("Routine antifungal prophylaxis recommended", "recommended")),
            FactorValue("897021009", ("Routine antifungal prophylaxis not recommended", "not recommended")),
            _VARIABLE,
        ),
    ),
    Factor(
        "Antiviral prophylaxis",
        "427314002",
        ("Antiviral prophylaxis for herpes virus",),
        (
            FactorValue("897019004", ("Routine antiviral prophylaxis recommended", "recommended")),
            FactorValue("897022002", ("Routine antiviral prophylaxis not recommended", "not recommended")),
            _VARIABLE,
        ),
    ),
    Factor(
        "Diarrhoea risk",
        "128333008",
        (),
        (
            FactorValue("723509005", ("Anti-diarrhoeals are usually prescribed with this treatment", "High")),
            FactorValue("723505004", ("Anti-diarrhoeals are not usually prescribed with this treatment", "Low")),
            _VARIABLE,
        ),
    ),
    Factor("Emetogenicity", EMETOGENICITY, (), (_HIGH, _MED, _LOW, _MIN, _VARIABLE)),
    Factor(
        "Growth factor support",
        "81286007",
        ("G-CSF",),
        (
            FactorValue("54361000210104", ("Recommended for primary prophylaxis", "primary prophylaxis")),
            FactorValue("54371000210105", ("Recommended for secondary prophylaxis", "secondary prophylaxis")),
            _VARIABLE,
        ),
    ),
    Factor(
        "Hydration",
        "281800008",
        (),
        (
            FactorValue("54261000210107", ("Routine hydration recommended", "recommended")),
            FactorValue("54271000210101", ("Routine hydration not recommended", "not recommended")),
            _VARIABLE,
        ),
    ),
    Factor(
        "Hypersensitivity / Infusion related reaction risk",
        "421961002",
        ("Hypersensitivity", "Infusion related reaction risk"),
        (
            FactorValue("723509005", ("High - routine premedication recommended", "High")),
            FactorValue("723505004", ("Low - routine premedication recommended", "Low")),
            _VARIABLE,
        ),
    ),
    Factor(
        "Irradiated blood components",
        "772120006",
        (),
        (
            FactorValue("54301000210103", ("Irradiation of blood components is recommended", "recommended")),
            FactorValue("54311000210101", ("Irradiation of blood components is not recommended", "not recommended")),
            _VARIABLE,
        ),
    ),
    Factor(
        "Mesna uroprotection",
        "56661000210100",
        (),
        (
            FactorValue("54281000210104", ("Routine mesna uroprotection recommended", "recommended")),
            FactorValue("54291000210102", ("Routine mesna uroprotection not recommended", "not recommended")),
            _VARIABLE,
        ),
    ),
    Factor("Ocular toxicity risk", "441952005", (), (_HIGH, _MED, _LOW, _MIN, _VARIABLE)),
    Factor(
        "Pneumocystis jirovecii pneumonia (PJP) prophylaxis",
        "75549005",
        ("PJP prophylaxis",),
        (
            FactorValue("413555000", ("Routine antibiotic prophylaxis recommended", "recommended")),
            FactorValue("391159000", ("Routine antibiotic prophylaxis not recommended", "not recommended")),
            _VARIABLE,
        ),
    ),
)
_FACTOR_BY_NAME = {_norm(n): f for f in FACTORS for n in (f.term, *f.aliases)}


def find_factor(name: str) -> Factor | None:
    """Return the coded factor ``name`` stands for (case-insensitive), if any."""
    return _FACTOR_BY_NAME.get(_norm(name))


FACTOR_NAMES: tuple[str, ...] = tuple(sorted(n for f in FACTORS for n in (f.term, *f.aliases)))

SETTINGS: dict[str, str] = {
    "Adjuvant": "373846009",
    "Advanced": "258266006",
    "Consolidation": "816151001",
    "Definitive chemoradiation": "703423002",
    "Induction": "450827009",
    "Maintenance": "56671000210106",
    "Metastatic": "128462008",
    "Mobilisation": "879913000",
    "Neoadjuvant": "373847000",
    "NON-Metastatic": "372087000",
    "Conditioning protocol": "57241000210101",
    "Autologous": "58776007",
    "Allogeneic": "58390007",
}

# Minutes per time unit as written.
TIME_UNITS: dict[str, int] = {
    "min": 1,
    "minute": 1,
    "minutes": 1,
    "h": 60,
    "hour": 60,
    "hours": 60,
    "day": 1440,
    "days": 1440,
    "week": 10080,
    "weeks": 10080,
}

# Response categories a condition may name without a `responses` vocabulary (``conditions.VOCABULARIES``).
RESPONSES: dict[str, str] = dict(DEFAULT_RESPONSES.values)
