"""The default medicine table shipped with regdsl.

Display names use Tall Man lettering where the NZ SACT Regimen Library uses it (and,
for other look-alike names, the ISMP and FDA Tall Man lists). NZMT codes are those the
library publishes in its FHIR regimens (shared/corpus/nz-fhir). A library extends this
table with ``medicine`` entries in its ``library.reg``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MEDICINES", "Medicine", "MedicineTable"]


@dataclass(frozen=True, slots=True)
class Medicine:
    """One medicine: its name (lower case), display form, aliases and codes."""

    name: str
    display: str
    aliases: tuple[str, ...] = ()
    nzmt: str | None = None
    anticancer: bool = False
    vinca: bool = False
    intrathecal: bool = False


def _m(
    display: str,
    *aliases: str,
    nzmt: str | None = None,
    anticancer: bool = False,
    vinca: bool = False,
    intrathecal: bool = False,
) -> Medicine:
    return Medicine(display.lower(), display, aliases, nzmt, anticancer, vinca, intrathecal)


DEFAULT_MEDICINES: tuple[Medicine, ...] = (
    # anti-cancer medicines
    _m("abiraterone", nzmt="44338201000116106", anticancer=True),
    _m("alectinib", nzmt="46490541000116100", anticancer=True),
    _m("bleomycin", anticancer=True),
    _m("capecitabine", anticancer=True),
    _m("cARBOplatin", nzmt="10147121000116104", anticancer=True),
    _m("cISplatin", nzmt="10182171000116105", anticancer=True),
    _m("cyclophosphamide", anticancer=True),
    _m("cytarabine", anticancer=True, intrathecal=True),
    _m("DAUNOrubicin", anticancer=True),
    _m("DOCEtaxel", anticancer=True),
    _m("DOXOrubicin", anticancer=True),
    _m("EPIrubicin", anticancer=True),
    _m("etoposide", anticancer=True),
    _m("fluorouracil", "5-FU", anticancer=True),
    _m("gemcitabine", anticancer=True),
    _m("IDArubicin", anticancer=True),
    _m("inotuzumab ozogamicin", anticancer=True),
    _m("irinotecan", anticancer=True),
    _m("methotrexate", anticancer=True, intrathecal=True),
    _m("mitoXANTRONE", anticancer=True),
    _m("oxaliplatin", anticancer=True),
    _m("PACLItaxel", nzmt="10050001000116101", anticancer=True),
    _m("riTUXimab", anticancer=True),
    _m("vinBLAStine", anticancer=True, vinca=True),
    _m("vinCRIStine", anticancer=True, vinca=True),
    _m("vinORELBine", anticancer=True, vinca=True),
    # supportive and other medicines
    _m("aprepitant", nzmt="10224481000116104"),
    _m("cycliZINE", nzmt="44123411000116107"),
    _m("dexamethasone", nzmt="10238921000116102"),
    _m("domperidone", nzmt="10472211000116103"),
    _m("famotidine", nzmt="10055201000116102"),
    _m("filgrastim"),
    _m("fosaprepitant"),
    _m("granisetron"),
    _m("hydrocortisone", intrathecal=True),
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
