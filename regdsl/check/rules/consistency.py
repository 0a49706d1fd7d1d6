"""Consistency rules: what one regimen says twice should say the same."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from regdsl.check.context import RuleContext
from regdsl.check.registry import rule
from regdsl.diagnostics import Diagnostic, Label, Severity
from regdsl.model import ir

__all__ = ["inconsistent_between_cycles"]

_TOKEN = re.compile(r"\w+|[^\w\s]+")


def _cycles(group: ir.CycleGroup) -> str:
    if group.open_ended:
        return f"cycle {group.first} and all further cycles"
    if group.last is not None and group.last != group.first:
        return f"cycles {group.first} to {group.last}"
    return f"cycle {group.first}"


def _dose_key(admin: ir.Administration) -> tuple[str, object, str]:
    """Return the medicine and the dose: lines with the same key on a shared day are the same dose."""
    return admin.medicine.name, admin.dose.amount, admin.dose.unit.term


class _Earlier:
    """The administrations of a part's earlier groups, by dose and day, to find each line's counterpart.

    For each dose and day it keeps the last group giving that dose that day, and the group's
    first such line; for each dose and exact days, the same. A line's counterpart is then found
    from its own days, never by reading the earlier groups again.
    """

    def __init__(self) -> None:
        self.by_day: dict[tuple[tuple[str, object, str], int], tuple[int, int]] = {}
        self.exact: dict[tuple[tuple[str, object, str], tuple[int, ...]], tuple[int, int]] = {}

    def add(self, index: int, group: ir.CycleGroup) -> None:
        for position, admin in enumerate(group.administrations):
            key = _dose_key(admin)
            for day in admin.days:
                if self.by_day.get((key, day), (-1, 0))[0] != index:  # the group's first such line
                    self.by_day[(key, day)] = (index, position)
            if self.exact.get((key, admin.days), (-1, 0))[0] != index:
                self.exact[(key, admin.days)] = (index, position)

    def counterpart(self, admin: ir.Administration) -> tuple[int, int] | None:
        """Return (group, line) of the same dose on some of the same days in the nearest earlier group."""
        key = _dose_key(admin)
        found = [self.by_day[(key, day)] for day in admin.days if (key, day) in self.by_day]
        if not found:
            return None
        nearest = max(group for group, _ in found)
        exact = self.exact.get((key, admin.days))
        if exact is not None and exact[0] == nearest:
            return exact
        return nearest, min(position for group, position in found if group == nearest)


def _flag(name: str, there: bool, cycles: str) -> str:
    return f"{name} in {cycles}, not here" if there else f"{name} here, not in {cycles}"


def _words(text: str | None) -> list[str]:
    """Split instructions into words and punctuation: spacing is not a difference."""
    return _TOKEN.findall(text or "")


# Instructions are compared word by word within this many words of their first difference.
_WINDOW = 64


def _first_change(here: str | None, there: str | None, cycles: str) -> str:
    """Say where two instruction texts first differ, word by word.

    The words both texts begin and end with are set aside first; the first difference is
    then found among the next few words of each (``_WINDOW``), so long instructions cost
    time in proportion to their length, never to its square.
    """
    if not here:
        return f"instructions in {cycles}, none here"
    if not there:
        return f"instructions here, none in {cycles}"
    a, b = _words(here), _words(there)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end][:_WINDOW], b[start : len(b) - end][:_WINDOW]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        mine, theirs = " ".join(a[i1:i2]), " ".join(b[j1:j2])
        if mine and theirs:
            return f'the instructions say "{mine}" here, "{theirs}" in {cycles}'
        if mine:
            return f'the instructions add "{mine}" here'
        return f'the instructions leave out "{theirs}" here'
    return "the instructions differ"


def _differences(here: ir.Administration, there: ir.Administration, cycles: str) -> list[str]:
    found = []
    for name, mine, theirs in (
        ("off-label", here.off_label, there.off_label),
        ("s29", here.s29, there.s29),
        ("as needed (prn)", here.prn, there.prn),
    ):
        if mine != theirs:
            found.append(_flag(name, theirs, cycles))
    if here.role != there.role:
        found.append(f"{here.role} here, {there.role} in {cycles}")
    if _words(here.instructions) != _words(there.instructions):
        found.append(_first_change(here.instructions, there.instructions, cycles))
    return found


@rule(
    "CON001",
    "inconsistent-between-cycles",
    Severity.WARNING,
    "the same dose differs in its flags or instructions between cycles",
)
def inconsistent_between_cycles(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Find the same medicine and dose written differently in two cycle groups of a part.

    What it does: for each administration of a cycle group, finds the same medicine at the
    same dose on some of the same days in the nearest earlier group of the same part, and
    flags it when the two differ in a flag (off-label, s29, as needed, supportive or
    anti-cancer role) or in their instructions (compared word by word, spacing ignored).

    Why it matters: one medicine given the same way in every cycle should be described the
    same way. A flag present in one cycle and missing in the next is usually an oversight
    in one of them (an off-label use that needs consent, a section 29 medicine), and a
    different instruction may be a typo or a change nobody meant.

    Example:
        cycle 1: 21 days
          loratadine 10 mg oral days 1, 8, 15 off-label
        cycles 2 to 3: 28 days
          same as cycle 1
          loratadine 10 mg oral days 1, 8, 15

    Use instead: the same flags and instructions in both, or, when the difference is
    meant (or verbatim from the source), a suppression that says why:
    `# regdsl: ignore[inconsistent-between-cycles] -- as published`.
    """
    for part in ctx.regimen.parts:
        groups = part.cycles
        reported: set[tuple[int, int]] = set()
        earlier_lines = _Earlier()
        for index, group in enumerate(groups):
            for admin in group.administrations:
                found = earlier_lines.counterpart(admin)
                if found is None:
                    continue
                earlier = groups[found[0]]
                other = earlier.administrations[found[1]]
                if other is admin:
                    continue
                key = (admin.span.start, other.span.start)
                if key in reported:
                    continue
                cycles = _cycles(earlier)
                differences = _differences(admin, other, cycles)
                if not differences:
                    continue
                reported.add(key)
                dose = f"{admin.medicine.display} {admin.dose.text} {admin.dose.unit.display}"
                yield inconsistent_between_cycles.finding(
                    admin.span,
                    f"{dose} is written differently in {_cycles(group)} and {cycles}: {'; '.join(differences)}",
                    label=f"{_cycles(group)}",
                    secondary=(Label(other.span, cycles),),
                    help="write the flags and instructions the same way in both, or say why they differ",
                )
            earlier_lines.add(index, group)
