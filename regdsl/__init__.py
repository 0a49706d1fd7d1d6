"""regdsl: a language and compiler for systemic anti-cancer therapy regimens."""

__version__ = "0.1.0"

__all__ = ["__version__"]
