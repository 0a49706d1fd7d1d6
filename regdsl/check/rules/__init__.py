"""The rule families, declared in ``RULE_MODULES``; ``registry()`` gathers their rules once.

Importing a rule module makes its rules and registers nothing: the registry is built from
this list alone, so a module left out of it is left out of every check (a test compares the
list with the modules of this package).
"""

from __future__ import annotations

import functools

from regdsl.check.registry import Registry, build_registry
from regdsl.check.rules import (
    anchors,
    branching,
    care,
    completeness,
    consistency,
    cumulative,
    dose,
    fields,
    forms,
    governance,
    links,
    naming,
    prose,
    safety,
    structure,
    supportive,
    timing,
)
from regdsl.diagnostics.codes import CODES

__all__ = ["RULE_MODULES", "registry"]

RULE_MODULES = (
    anchors,
    branching,
    care,
    completeness,
    consistency,
    cumulative,
    dose,
    fields,
    forms,
    governance,
    links,
    naming,
    prose,
    safety,
    structure,
    supportive,
    timing,
)


@functools.cache
def registry() -> Registry:
    """Return the registry of every code: those found before the rules, and every rule of ``RULE_MODULES``."""
    return build_registry(RULE_MODULES, CODES.values())
