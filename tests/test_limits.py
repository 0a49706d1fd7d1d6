"""The limits of one table (``regdsl/model/limits.py``) are the ones the language reference documents."""

from __future__ import annotations

from regdsl.model.limits import LIMITS
from tests.conftest import ROOT

DOC = ROOT / "docs" / "language.md"


def test_every_limit_is_documented_with_its_reason() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### 14.6 Limits", 1)[1].split("\n---", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| What ")]
    assert rows == [f"| {limit.what} | {limit.value:,} {limit.unit} | {limit.reason} |" for limit in LIMITS]
