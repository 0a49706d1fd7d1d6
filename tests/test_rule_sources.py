"""Every clinical rule's `explain` text names the source of its facts (issue 11 item 8)."""

from __future__ import annotations

import re

from regdsl.check.reference import explain_text
from regdsl.check.rules import registry

# A named source: a guideline body, a product's data sheet, a paper, a published list or library.
SOURCE = re.compile(
    r"ISMP|WHO\b|ASCO|\bONS\b|MASCC|ESMO|NCCN|FDA|Joint Commission|[Dd]ata\s+[Ss]heet|prescribing\s+information"
    r"|PMID|[Gg]uideline|Formulary|CTCAE|eviQ|NZ SACT Regimen Library|Medsafe|HSC \d{4}/\d+|NPSA"
)
# The prefixes of rules that judge clinical content (safety, supportive care, completeness, governance).
CLINICAL = ("SAF", "SUP", "CMP", "GOV")
# Rules being rewritten on other branches of issue 11 to read cited data: each owner names its source there.
PENDING = {
    "SAF201": "i11-doses",
    "SAF202": "i11-doses",
    "SAF203": "i11-doses",
    "SAF204": "i11-doses",
    "SAF303": "i11-cumul",
}


def _clinical_codes() -> list[str]:
    rules = (*registry().rules, *registry().library_rules)
    return sorted(rule.code.code for rule in rules if rule.code.code.startswith(CLINICAL))


def test_every_clinical_rule_explains_where_its_facts_come_from() -> None:
    unsourced = [code for code in _clinical_codes() if not SOURCE.search(explain_text(registry().codes[code]))]
    assert [code for code in unsourced if code not in PENDING] == []


def test_a_rule_left_pending_is_still_a_rule_without_a_source() -> None:
    # When an owner's branch adds the source, the rule leaves this list: the list only shrinks.
    codes = registry().codes
    assert [code for code in PENDING if code in codes and SOURCE.search(explain_text(codes[code]))] == []
