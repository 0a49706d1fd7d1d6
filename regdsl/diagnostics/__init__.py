"""Diagnostics: the one finding type, its code registry and its output formats."""

from regdsl.diagnostics.model import Code, Diagnostic, Label, Severity, Sink

__all__ = ["Code", "Diagnostic", "Label", "Severity", "Sink"]
