"""The rule families; importing this package registers every rule."""

from regdsl.check.rules import (
    branching,
    completeness,
    consistency,
    dose,
    governance,
    links,
    prose,
    safety,
    structure,
    supportive,
    timing,
)

__all__ = [
    "branching",
    "completeness",
    "consistency",
    "dose",
    "governance",
    "links",
    "prose",
    "safety",
    "structure",
    "supportive",
    "timing",
]
