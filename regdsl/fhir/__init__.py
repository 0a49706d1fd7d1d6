"""HL7 FHIR R4 in and out: ``regdsl export --to fhir`` and ``regdsl import``."""
