"""The rule families; importing this package registers every rule."""

from regdsl.check.rules import branching, governance, safety, timing

__all__ = ["branching", "governance", "safety", "timing"]
