"""The diagnostic type and the sink that collects diagnostics."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from regdsl.source import Span

__all__ = ["Code", "Diagnostic", "Fix", "Label", "Severity", "Sink"]


class Severity(enum.Enum):
    """How grave a finding is; errors make ``regdsl check`` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """One entry of the diagnostic registry (see ``codes.py``)."""

    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str
    suppressible: bool = True
    many: str = ""  # what many of its findings are, counted in a note: "days outside the cycle"


@dataclass(frozen=True, slots=True)
class Label:
    """A span with a short text shown beside its caret."""

    span: Span
    text: str = ""


@dataclass(frozen=True, slots=True)
class Fix:
    """A mechanical edit that resolves a finding, certain to keep its meaning: write ``replacement`` at ``span``.

    ``regdsl check --fix`` applies it; the language server offers it as a code action. No fix
    changes a dose's value.
    """

    span: Span
    replacement: str
    description: str

    def to_dict(self) -> dict[str, object]:
        """Return the machine-readable form: where, what to write there, and what it does."""
        return {**self.span.to_dict(), "replacement": self.replacement, "description": self.description}


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """A finding about the sources: what is wrong, where, and what to do."""

    code: Code
    message: str
    primary: Label
    secondary: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    severity: Severity | None = None
    fixes: tuple[Fix, ...] = ()

    @property
    def level(self) -> Severity:
        """The severity in force: the override, else the code's default."""
        return self.severity or self.code.severity

    @property
    def span(self) -> Span:
        """The primary span."""
        return self.primary.span

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order diagnostics by file, position, code, then message."""
        span = self.primary.span
        return (span.path, span.start, span.end, self.code.code, self.message)

    def to_dict(self) -> dict[str, object]:
        """Return the machine-readable form (the CLI's ``json`` format)."""
        span = self.primary.span
        return {
            "path": span.path,
            "line": span.line,
            "column": span.column,
            "end_line": span.end_line,
            "end_column": span.end_column,
            "code": self.code.code,
            "name": self.code.name,
            "severity": self.level.value,
            "message": self.message,
            "help": self.help,
            "labels": [{**label.span.to_dict(), "text": label.text} for label in (self.primary, *self.secondary)],
            "notes": list(self.notes),
            "fixes": [fix.to_dict() for fix in self.fixes],
        }


@dataclass(slots=True)
class Sink:
    """Collects diagnostics instead of raising: every stage reports into one."""

    items: list[Diagnostic] = field(default_factory=list)

    def report(
        self,
        code: Code,
        span: Span,
        message: str,
        *,
        label: str = "",
        help: str | None = None,
        notes: tuple[str, ...] = (),
        secondary: tuple[Label, ...] = (),
        fixes: tuple[Fix, ...] = (),
    ) -> None:
        """Record one finding."""
        self.items.append(
            Diagnostic(
                code=code,
                message=message,
                primary=Label(span, label),
                secondary=secondary,
                notes=notes,
                help=help,
                fixes=fixes,
            )
        )

    def sorted(self) -> list[Diagnostic]:
        """Return the findings in a stable order, duplicates removed."""
        unique = {(d.sort_key(), d.help, d.notes): d for d in self.items}
        return [unique[key] for key in sorted(unique, key=lambda k: (k[0], k[1] or "", k[2]))]

    @property
    def has_errors(self) -> bool:
        """Whether any finding is an error."""
        return any(d.level is Severity.ERROR for d in self.items)
