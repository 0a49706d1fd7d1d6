"""How emetogenic a medicine is, and the antiemetic prophylaxis each risk needs.

The facts are in ``data/emetogenicity.json``, each with its source (the MASCC/ESMO 2016 and
ASCO 2020 antiemetic guidelines' tables): a medicine's risk by route and, where the
guidelines split it, by dose (cyclophosphamide 1500 mg/m², cytarabine 1000 mg/m²,
carboplatin AUC 4); the combinations that raise it (an anthracycline with cyclophosphamide);
and each tier's prophylaxis as classes of medicines (`nk1-antagonist`, `5ht3-antagonist`,
`corticosteroid`, `dopamine-antagonist`), so no medicine name is written in code. A library
gives its own risk for a medicine with ``emetogenic risk high "SOURCE"`` (docs/language.md 5.2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from regdsl.model.vocabulary import ROUTE_BY_ALIAS, Basis

__all__ = [
    "COMBINATIONS",
    "COVER_ROUTES",
    "TIERS",
    "Combination",
    "DoseBound",
    "Requirement",
    "Risk",
    "Tier",
    "library_risk",
    "rating",
    "stated_risk",
]

# Amount units per m², by the term the vocabulary gives them, in mg.
_MG_PER_M2 = {"mg/m²": Decimal(1), "g/m²": Decimal(1000), "microgram/m²": Decimal("0.001")}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One part of a tier's prophylaxis: any medicine of ``classes`` (or one of ``medicines``) fills it."""

    key: str
    classes: frozenset[str]
    medicines: frozenset[str]
    wording: str
    source: str

    def filled_by(self, classes: Iterable[str], names: Iterable[str]) -> bool:
        """Whether a medicine of these classes and identities fills it."""
        return bool(self.classes & set(classes)) or bool(self.medicines & set(names))


@dataclass(frozen=True, slots=True)
class Tier:
    """An emetic risk tier: its name, rank (minimal 0 to high 3), factor value and prophylaxis."""

    name: str
    rank: int
    factor: str  # the `Emetogenicity` value that states it (`High`, `Medium`, `Low`, `Minimal`)
    prophylaxis: tuple[Requirement, ...]
    source: str


@dataclass(frozen=True, slots=True)
class DoseBound:
    """A dose threshold of a risk: ``at least`` or ``above`` an amount, in mg/m² or as an AUC."""

    unit: str  # "mg/m2" or "AUC"
    amount: Decimal
    inclusive: bool

    def holds(self, amount: Decimal, unit_term: str, basis: Basis) -> bool | None:
        """Whether a dose meets it (None: the dose is in a unit it cannot be compared with)."""
        if self.unit == "AUC":
            value = amount if basis is Basis.AUC else None
        else:
            scale = _MG_PER_M2.get(unit_term)
            value = amount * scale if scale is not None else None
        if value is None:
            return None
        return value >= self.amount if self.inclusive else value > self.amount


@dataclass(frozen=True, slots=True)
class Risk:
    """A medicine's emetic risk for some routes (None: any) and doses, with its prophylaxis and source.

    ``top`` is the highest tier of a two-tier category (the oral tables' "minimal or low"),
    ``prophylaxis`` what its lines need on their days (the tier's, unless the source says more).
    """

    tier: Tier
    top: Tier
    routes: frozenset[str] | None
    dose: DoseBound | None
    prophylaxis: tuple[Requirement, ...]
    source: str
    stated: bool = False  # the regimen's declared emetogenicity, standing in for medicines regdsl cannot rate

    @property
    def wording(self) -> str:
        """The risk in words: `high emetic risk`, `minimal or low emetic risk`, `declared High emetogenicity`."""
        if self.stated:
            return f"declared {self.tier.factor} emetogenicity"
        return f"{self.tier.name if self.top is self.tier else f'{self.tier.name} or {self.top.name}'} emetic risk"


@dataclass(frozen=True, slots=True)
class Combination:
    """Medicines that together raise the risk when given on one day: one of each group."""

    groups: tuple[frozenset[str], ...]
    routes: frozenset[str]
    tier: Tier
    wording: str
    source: str


def _routes(aliases: Iterable[str]) -> frozenset[str]:
    return frozenset(ROUTE_BY_ALIAS[a.lower()].code for a in aliases)


def _bound(entry: Mapping[str, Any]) -> DoseBound | None:
    dose = entry.get("dose")
    if dose is None:
        return None
    inclusive = "at least" in dose
    return DoseBound(dose["unit"], Decimal(str(dose["at least" if inclusive else "above"])), inclusive)


def _load() -> tuple[dict[str, Tier], dict[str, tuple[Risk, ...]], tuple[Combination, ...], frozenset[str]]:
    data = json.loads(resources.files("regdsl.model").joinpath("data", "emetogenicity.json").read_text("utf-8"))
    needs = {
        key: Requirement(
            key=key,
            classes=frozenset(entry["classes"]),
            medicines=frozenset(entry.get("medicines", ())),
            wording=entry["wording"],
            source=entry["source"],
        )
        for key, entry in data["requirements"].items()
    }
    tiers = {
        name: Tier(name, entry["rank"], entry["factor"], tuple(needs[k] for k in entry["prophylaxis"]), entry["source"])
        for name, entry in data["tiers"].items()
    }
    oral = tuple(needs[k] for k in data["oral"]["prophylaxis"])

    def risk(entry: Mapping[str, Any]) -> Risk:
        tier = tiers[entry["risk"]]
        top = tiers[entry.get("up to", entry["risk"])]
        given = entry.get("prophylaxis")
        prophylaxis = (
            tuple(needs[k] for k in given) if given is not None else (tier.prophylaxis if top is tier else oral)
        )
        return Risk(tier, top, _routes(entry["routes"]), _bound(entry), prophylaxis, entry["source"])

    medicines = {name: tuple(risk(e) for e in entries) for name, entries in data["medicines"].items()}
    combinations = tuple(
        Combination(
            groups=tuple(frozenset(g) for g in entry["all"]),
            routes=_routes(entry["routes"]),
            tier=tiers[entry["risk"]],
            wording=entry["wording"],
            source=entry["source"],
        )
        for entry in data["combinations"]
    )
    return tiers, medicines, combinations, _routes(data["cover"]["routes"])


# The routes by which a line is antiemetic prophylaxis (not eye drops or other local routes).
TIERS, _MEDICINES, COMBINATIONS, COVER_ROUTES = _load()


def library_risk(tier: str, source: str) -> Risk:
    """Return the risk a library gives a medicine (`emetogenic risk high "SOURCE"`), for every route and dose."""
    found = TIERS[tier]
    return Risk(found, found, None, None, found.prophylaxis, source)


def stated_risk(tier: Tier) -> Risk:
    """Return the risk a declared `Emetogenicity` states, for lines of medicines regdsl cannot rate."""
    return Risk(tier, tier, None, None, tier.prophylaxis, tier.source, stated=True)


def rating(
    names: Iterable[str], route: str | None, amount: Decimal, unit_term: str, basis: Basis, own: Risk | None = None
) -> Risk | None:
    """Return the emetic risk of a dose of the medicine known by ``names``, by ``route`` (a SNOMED CT code).

    ``own`` is the library's risk for it, which replaces the package's. The first entry whose
    routes and dose fit is taken; a dose in a unit a threshold cannot be compared with skips
    that entry (the next, unsplit, entry applies). None: no risk is known for that route.
    """
    if own is not None:
        return own
    for name in names:
        for risk in _MEDICINES.get(name, ()):
            if risk.routes is not None and route not in risk.routes:
                continue
            if risk.dose is not None and not risk.dose.holds(amount, unit_term, basis):
                continue
            return risk
    return None
