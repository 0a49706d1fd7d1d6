"""The default medicine table shipped with regdsl, and what regdsl knows a medicine to be.

Display names use Tall Man lettering where the NZ SACT Regimen Library uses it (and,
for other look-alike names, the ISMP and FDA Tall Man lists). NZMT codes are those the
library publishes in its FHIR regimens (shared/corpus/nz-fhir). A library extends this
table with ``medicine`` entries in its ``library.reg``.

What a medicine *is* (its classes, such as ``vinca-alkaloid``, and the routes it may be
given by) comes from ``data/medicine_classes.json``, each fact with its source, and is
decided for every medicine however it is named: a name or alias that contains a known
medicine's stem (``vincristine sulfate``, ``VinCRIStine-liposomal``) or one of its brand
names (``Oncovin``) is that medicine; a library entry may add classes (``class``) or say
which medicine it is (``same as``), but never take one away.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING

from regdsl.model.routes import CLASS_ROUTES, MEDICINE_ROUTES, Fact, Routes, fatal_intrathecal, intrathecal_allowed
from regdsl.model.vocabulary import UNITS

if TYPE_CHECKING:
    from regdsl.model.dosing import UsualRange

__all__ = [
    "CLASSES",
    "DEFAULT_MEDICINES",
    "KNOWN",
    "VINCA",
    "Known",
    "LifetimeLimit",
    "Medicine",
    "MedicineClass",
    "MedicineTable",
    "identities",
    "known_of_class",
    "make_medicine",
    "recognise",
]

VINCA = "vinca-alkaloid"


@dataclass(frozen=True, slots=True)
class LifetimeLimit:
    """A lifetime cumulative dose limit: the medicine, the unit, the limit and where it comes from.

    ``caution`` is a lower figure at which the same source says the risk rises (or which it
    gives for patients with risk factors); ``routes`` limits the rule to some routes.
    """

    medicine: str
    unit: str
    limit: Decimal
    source: str
    caution: Decimal | None = None
    caution_source: str | None = None
    routes: frozenset[str] | None = None
    other_unit: tuple[str, Decimal, str] | None = None

    @property
    def unit_text(self) -> str:
        """The limit's unit as pages and findings write it."""
        return next((u.display for u in UNITS if u.code == self.unit), self.unit)


@dataclass(frozen=True, slots=True)
class MedicineClass:
    """A class of medicines: its name, what it means, the routes a member of unknown identity may take."""

    name: str
    description: str
    routes: frozenset[str] | None
    sources: tuple[str, ...]
    label: str | None = None  # the warning every line of a member carries on pages, as its source words it
    atc: tuple[str, ...] = ()  # the ATC groups whose every medicine is of this class


@dataclass(frozen=True, slots=True)
class Known:
    """A medicine regdsl knows, whatever it is called: its stem, other names, brands, ATC code, classes and routes."""

    name: str
    stem: str
    classes: frozenset[str]
    brands: tuple[str, ...]
    sources: tuple[str, ...]
    names: tuple[str, ...] = ()  # other generic names or stems, folded as ``_flat`` folds (``leucovorin``)
    flat_brands: tuple[str, ...] = ()  # the brands, folded once as ``_flat`` folds them
    atc: str | None = None

    @property
    def routes(self) -> frozenset[str] | None:
        """The routes it may be given by (``data/routes.json``), None when the data gives none."""
        found = MEDICINE_ROUTES.get(self.name)
        return found.codes if found else None

    def named_in(self, flat: str) -> bool:
        """Whether a name folded by ``_flat`` contains its stem, another of its names or a brand."""
        return any(stem in flat for stem in (self.stem, *self.names, *self.flat_brands))

    def within(self, other: Known) -> bool:
        """Whether ``other`` is a more specific medicine whose names hold this one's stem (nab-paclitaxel)."""
        return other is not self and any(self.stem in stem for stem in (other.stem, *other.names))


# Letters of other scripts that display as a Latin letter (from the Unicode confusables of
# UTS #39, Unicode Security Mechanisms): "v\u0456ncristine" with a Cyrillic \u0456 reads as
# vincristine to everyone who sees it, so it is vincristine here too. Capitals first (Greek
# \u039d is N, but its small letter \u03bd is v), then small letters.
_LOOK_ALIKE_CAPITALS = str.maketrans(
    "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7"
    "\u0405\u0406\u0408\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u04c0",
    "ABEZHIKMNOPTYXSIJABEKMHOPCTXI",
)
_LOOK_ALIKE_SMALL = str.maketrans(
    "\u03b1\u03b9\u03ba\u03bd\u03bf\u03c1\u03c5"
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u04cf\u0501\u051b"
    "\u0131\u0269\u0261\u0578\u057d",
    "aikvopuaeopcyxsijldqiignu",
)


def _flat(text: str) -> str:
    """Fold a name for finding a known medicine in it: letters as they display, in lower case, and only them.

    Compatibility forms (full-width letters, ligatures) and accents are taken apart and the
    accents dropped, look-alike letters of other scripts read as the Latin letter they show,
    and everything that is not a letter or digit (spaces, hyphens) left out.
    """
    decomposed = unicodedata.normalize("NFKD", text).translate(_LOOK_ALIKE_CAPITALS)
    return "".join(ch for ch in decomposed.casefold().translate(_LOOK_ALIKE_SMALL) if ch.isalnum())


def _load() -> tuple[dict[str, MedicineClass], tuple[Known, ...]]:
    data = json.loads(resources.files("regdsl.model").joinpath("data", "medicine_classes.json").read_text("utf-8"))
    classes = {
        name: MedicineClass(
            name=name,
            description=entry["description"],
            routes=CLASS_ROUTES[name].codes if name in CLASS_ROUTES else None,
            sources=(*entry["sources"], *((entry["label_source"],) if "label" in entry else ())),
            label=entry.get("label"),
            atc=tuple(entry.get("atc", ())),
        )
        for name, entry in data["classes"].items()
    }

    def by_atc(code: str | None) -> set[str]:
        return {c.name for c in classes.values() if code and code.startswith(c.atc)}

    known = tuple(
        Known(
            name=entry["name"],
            stem=_flat(entry["stem"]),
            classes=frozenset(entry["classes"]) | by_atc(entry.get("atc")),
            brands=tuple(b["name"] for b in entry.get("brands", ())),
            sources=tuple(
                s
                for s in (
                    entry.get("class_source"),
                    *(b["source"] for b in entry.get("brands", ())),
                )
                if s is not None
            ),
            names=tuple(_flat(n) for n in entry.get("names", ())),
            flat_brands=tuple(_flat(b["name"]) for b in entry.get("brands", ())),
            atc=entry.get("atc"),
        )
        for entry in data["medicines"]
    )
    return classes, known


CLASSES, KNOWN = _load()
_KNOWN_BY_NAME = {k.name: k for k in KNOWN}


def recognise(names: Iterable[str]) -> tuple[Known, ...]:
    """Return the known medicines that any of ``names`` names, by stem or brand."""
    folded = [_flat(name) for name in names]  # any case, spaces or hyphens, letters as they display
    return tuple(k for k in KNOWN if any(k.named_in(flat) for flat in folded))


def known_of_class(medicine: Medicine, name: str) -> tuple[str, ...]:
    """Return the known medicines ``medicine`` is that are of the class ``name`` (vinblastine, not dexamethasone)."""
    return tuple(n for n in medicine.known if n in _KNOWN_BY_NAME and name in _KNOWN_BY_NAME[n].classes)


def identities(medicine: Medicine) -> tuple[str, ...]:
    """Return the generic names under which facts about ``medicine`` are kept: what it most specifically is.

    Of the known medicines it is, one whose stem lies within another's names gives way to it
    (Abraxane, written `nab-paclitaxel`, is nab-paclitaxel, not paclitaxel); a medicine regdsl
    does not know is known by its own name in lower case.
    """
    return _specific(medicine.known, medicine.name)


def _specific(known: Iterable[str], name: str) -> tuple[str, ...]:
    """Return what a medicine that is the known medicines ``known``, named ``name``, most specifically is."""
    found = [_KNOWN_BY_NAME[n] for n in known if n in _KNOWN_BY_NAME]
    specific = tuple(k.name for k in found if not any(k.within(other) for other in found))
    return specific or (name,)


@dataclass(frozen=True, slots=True)
class Medicine:
    """One medicine: its name (lower case), display form, aliases, codes, and what it is.

    ``classes`` are its classes (``vinca-alkaloid``); ``routes`` the SNOMED CT codes of
    the only routes it may be given by (None: any), and ``routes_source`` where they come
    from; ``known`` the known medicines it is; ``intrathecal`` whether it may be given
    intrathecally and ``fatal_intrathecal`` why it must never be (``data/routes.json``, or
    its library entry).
    """

    name: str
    display: str
    aliases: tuple[str, ...] = ()
    nzmt: str | None = None
    anticancer: bool = False
    intrathecal: bool = False
    classes: frozenset[str] = frozenset()
    routes: frozenset[str] | None = None
    known: tuple[str, ...] = ()
    lifetime: LifetimeLimit | None = None  # the library's own lifetime limit (`lifetime max`), if it sets one
    usual: tuple[UsualRange, ...] = ()  # the library's own usual dose ranges (`usual dose`), by basis and route
    equivalent: tuple[Decimal, str] | None = None  # the library's doxorubicin-equivalent factor and its source
    routes_source: str | None = None
    fatal_intrathecal: Fact | None = None
    emetogenic: tuple[str, str] | None = None  # the library's emetic risk tier and its source (`emetogenic risk`)

    @property
    def vinca(self) -> bool:
        """Whether this is a vinca alkaloid."""
        return VINCA in self.classes

    def label(self, route: str | None) -> str | None:
        """Return the warning its classes put on a line of it by ``route`` (a SNOMED CT code), if any.

        A vinca alkaloid's "FOR INTRAVENOUS USE ONLY ..." is on every line of it but one by a
        route its own entry adds to its class's (oral vinORELBine capsules).
        """
        for name in sorted(self.classes):
            found = CLASSES.get(name)
            if found is None or found.label is None:
                continue
            own = (self.routes or frozenset()) - (found.routes or frozenset())
            if route not in own:
                return found.label
        return None

    def spellings(self) -> set[str]:
        """Every name it may be written by, in lower case."""
        return {self.name, *(a.lower() for a in self.aliases)}


def make_medicine(
    display: str,
    aliases: tuple[str, ...] = (),
    *,
    nzmt: str | None = None,
    anticancer: bool = False,
    intrathecal: bool = False,
    classes: Iterable[str] = (),
    same_as: Iterable[Medicine] = (),
    lifetime: LifetimeLimit | None = None,
    usual: tuple[UsualRange, ...] = (),
    equivalent: tuple[Decimal, str] | None = None,
    routes: Routes | None = None,
    fatal: Fact | None = None,
    emetogenic: tuple[str, str] | None = None,
) -> Medicine:
    """Build a medicine, deciding what it is from its names, its declared classes and ``same_as``.

    Knowledge only adds: classes are the union of the declared ones, those of every known
    medicine its names contain, and those of ``same_as``; its routes are those every one of
    them allows in ``data/routes.json`` (a class's routes when no known medicine says more);
    it is fatal intrathecally if any of them is, or ``fatal`` says so. A library's
    ``intrathecal`` allows the intrathecal route and its ``routes`` replace the data's, except
    that a medicine of a class with routes of its own (a vinca alkaloid) keeps within them.
    """
    found = recognise((display, *aliases))
    others = list(same_as)
    all_classes = set(classes) | {c for k in found for c in k.classes} | {c for m in others for c in m.classes}
    known = tuple(sorted({k.name for k in found} | {n for m in others for n in m.known}))
    ids = _specific(known, display.lower())
    data = [MEDICINE_ROUTES[i] for i in ids if i in MEDICINE_ROUTES]
    data += [Routes(m.routes, m.routes_source or "") for m in others if m.routes is not None]
    if not data:
        data = [CLASS_ROUTES[c] for c in sorted(all_classes) if c in CLASS_ROUTES]
    allowed = frozenset.intersection(*(r.codes for r in data)) if data else None
    source = "; ".join(dict.fromkeys(r.source for r in data if r.source)) or None
    if routes is not None:
        fixed = any(c in CLASS_ROUTES for c in all_classes)
        allowed = ((routes.codes & allowed) or allowed) if fixed and allowed is not None else routes.codes
        source = routes.source
    marks = [m.fatal_intrathecal for m in others if m.fatal_intrathecal is not None]
    return Medicine(
        name=display.lower(),
        display=display,
        aliases=aliases,
        nzmt=nzmt,
        anticancer=anticancer,
        intrathecal=intrathecal or intrathecal_allowed(ids) is not None,
        classes=frozenset(all_classes),
        routes=allowed,
        known=known,
        lifetime=lifetime,
        usual=usual,
        equivalent=equivalent,
        routes_source=source,
        fatal_intrathecal=fatal_intrathecal(ids, all_classes) or fatal or (marks[0] if marks else None),
        emetogenic=emetogenic,
    )


def _m(display: str, *aliases: str, nzmt: str | None = None, anticancer: bool = False) -> Medicine:
    return make_medicine(display, aliases, nzmt=nzmt, anticancer=anticancer)


DEFAULT_MEDICINES: tuple[Medicine, ...] = (
    # anti-cancer medicines
    _m("abiraterone", nzmt="44338201000116106", anticancer=True),
    _m("alectinib", nzmt="46490541000116100", anticancer=True),
    _m("bendamustine", anticancer=True),
    _m("bleomycin", anticancer=True),
    _m("bortezomib", anticancer=True),
    _m("capecitabine", anticancer=True),
    _m("cARBOplatin", nzmt="10147121000116104", anticancer=True),
    _m("cISplatin", nzmt="10182171000116105", anticancer=True),
    _m("carmustine", anticancer=True),
    _m("chlorambucil", anticancer=True),
    _m("cyclophosphamide", anticancer=True),
    _m("cytarabine", anticancer=True),
    _m("DAUNOrubicin", anticancer=True),
    _m("DOCEtaxel", anticancer=True),
    _m("DOXOrubicin", anticancer=True),
    _m("EPIrubicin", anticancer=True),
    _m("etoposide", anticancer=True),
    _m("fludarabine", anticancer=True),
    _m("fluorouracil", "5-FU", anticancer=True),
    _m("gemcitabine", anticancer=True),
    _m("IDArubicin", anticancer=True),
    _m("ifosfamide", anticancer=True),
    _m("inotuzumab ozogamicin", anticancer=True),
    _m("irinotecan", anticancer=True),
    _m("melphalan", anticancer=True),
    _m("methotrexate", anticancer=True),
    _m("mitoXANTRONE", anticancer=True),
    _m("oxaliplatin", anticancer=True),
    _m("PACLItaxel", nzmt="10050001000116101", anticancer=True),
    _m("riTUXimab", anticancer=True),
    _m("topotecan", anticancer=True),
    _m("vinBLAStine", anticancer=True),
    _m("vinCRIStine", anticancer=True),
    _m("vinORELBine", anticancer=True),
    # supportive and other medicines
    _m("aprepitant", nzmt="10224481000116104"),
    _m("calcium folinate", "leucovorin"),
    _m("chlorphenamine"),
    _m("cycliZINE", nzmt="44123411000116107"),
    _m("dexamethasone", nzmt="10238921000116102"),
    _m("domperidone", nzmt="10472211000116103"),
    _m("famotidine", nzmt="10055201000116102"),
    _m("filgrastim"),
    _m("fosaprepitant"),
    _m("granisetron"),
    _m("hydrocortisone"),
    _m("loperamide", nzmt="10056821000116103"),
    _m("loratadine", nzmt="10056971000116105"),
    _m("magnesium sulfate heptahydrate", "magnesium sulfate", nzmt="20020231000116101"),
    _m("mesna"),
    _m("metoclopramide"),
    _m("netupitant"),
    _m("olanzapine", nzmt="10757201000116108"),
    _m("ondansetron", nzmt="10497011000116104"),
    _m("palonosetron"),
    _m("paracetamol"),
    _m("prEDNISone"),
    _m("prednisoLONE"),
    _m("prochlorperazine"),
    _m("sodium chloride", nzmt="10759231000116105"),
)


class MedicineTable:
    """Medicines by every name they may be written as (case-insensitive)."""

    def __init__(self, medicines: tuple[Medicine, ...]) -> None:
        self.medicines = medicines
        self._by_name: dict[str, Medicine] = {}
        for med in medicines:
            for name in (med.name, *med.aliases):
                self._by_name[name.lower()] = med

    def find(self, name: str) -> Medicine | None:
        """Return the medicine ``name`` stands for, if any."""
        return self._by_name.get(name.lower())

    def names(self) -> list[str]:
        """Every spelling the table knows, for "did you mean" suggestions."""
        return sorted({m.display for m in self.medicines} | {a for m in self.medicines for a in m.aliases})

    def extended(self, extra: tuple[Medicine, ...]) -> MedicineTable:
        """Return a table with ``extra`` added; an entry of the same name replaces the default."""
        names = {m.name for m in extra}
        return MedicineTable(tuple(m for m in self.medicines if m.name not in names) + extra)
