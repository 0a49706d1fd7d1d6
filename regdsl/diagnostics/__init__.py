"""Diagnostics: the one finding type, its code registry and its output formats."""

from regdsl.diagnostics.model import Code, Diagnostic, Fix, Label, Severity, Sink

__all__ = ["Code", "Diagnostic", "Fix", "Label", "Severity", "Sink"]
