"""FHIR R4 in and out: ``regdsl export --to fhir`` (``export``, ``cca``, ``core``) and ``regdsl import``."""
