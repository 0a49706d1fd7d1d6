"""The rule families; importing this package registers every rule."""

from regdsl.check.rules import branching, consistency, governance, prose, safety, timing

__all__ = ["branching", "consistency", "governance", "prose", "safety", "timing"]
