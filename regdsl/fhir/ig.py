"""Constants of the HL7 NZ Cancer Control Agency implementation guide (CcaPlanDefinition)."""

from __future__ import annotations

# read by the importer
SACT = "http://hl7.org.nz/fhir/StructureDefinition/"
EXT_SETTING = SACT + "sact-treatment-setting"
EXT_PLAN_INSTRUCTIONS = SACT + "sact-plan-instructions"
EXT_DISCLAIMER = SACT + "sact-disclaimer"
EXT_SUPPORT_FACTOR = SACT + "sact-support-factor"
EXT_TIMING_OF_DAYS = SACT + "sact-timing-of-days"
EXT_OFF_LABEL = SACT + "sact-off-label"
# Used by the NZ library's published regimens, defined by no page of the guide's extension list.
EXT_SUPPORTIVE = SACT + "sact-is-supportive-care"
EXT_CHILD_DETAILS = SACT + "sact-child-regimen-extra-details"
# The extensions the guide defines (its page "Extensions defined in this guide").
IG_EXTENSIONS = frozenset(
    SACT + name
    for name in (
        "sact-additional-details",
        "sact-additional-plan-status",
        "sact-administration-site",
        "sact-disclaimer",
        "sact-location-medication-collection",
        "sact-off-label",
        "sact-plan-instructions",
        "sact-regimen-type",
        "sact-replaced-by",
        "sact-support-factor",
        "sact-timing-of-days",
        "sact-treatment-setting",
    )
)
