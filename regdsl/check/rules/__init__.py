"""The rule families; importing this package registers every rule."""

from regdsl.check.rules import governance, safety, timing

__all__ = ["governance", "safety", "timing"]
