"""The largest values a regimen may state, and the most work one file may ask of the compiler.

Every limit is far beyond what a real regimen needs, so that it never refuses one, and small
enough that a file under the size cap checks and builds in seconds. A value beyond its limit
is refused with a located finding (``STR021``); a regimen whose cycles expand beyond a work
limit is refused as too complex to check (``STR022``). ``docs/language.md`` (section 14.6)
shows this table, each limit with its reason; a test keeps the two the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from regdsl.source import Span

__all__ = [
    "AMOUNTS",
    "AMOUNT_LIMIT",
    "CONDITION_STATES",
    "CYCLE_GROUPS",
    "CYCLE_NUMBERS",
    "DAYS",
    "DECIMALS",
    "DOSES",
    "LIMITS",
    "LIST_DEPTH",
    "MINUTES",
    "PART_NUMBERS",
    "REPARSE",
    "SCENARIOS",
    "SEARCH_STEPS",
    "TIMING_SIZE",
    "TRANSITIONS",
    "Limit",
    "TooComplex",
]


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit: what it bounds, its value, and why a regimen never reaches it."""

    what: str
    value: int
    unit: str
    reason: str


CYCLE_NUMBERS = Limit(
    "a cycle number (`cycle N`, `cycles N to M`, `same as cycle N`, `after cycle N`, `go to cycle N`), "
    "and a number of cycles (`at most N cycles`, `within N cycles`)",
    1_000,
    "cycles",
    "weekly cycles for nineteen years; maintenance runs for a few years, and cycle numbers reach the dozens",
)
PART_NUMBERS = Limit("a part number (`part N`)", 100, "parts", "regimens in parts have a handful of parts")
CYCLE_GROUPS = Limit(
    "cycle groups in one regimen", 1_000, "groups", "one group for every cycle number; a regimen has a few groups"
)
DAYS = Limit(
    "a number of days: a cycle's length and `may extend to`, a day (`days 1 to N`), a shift window "
    "(`± N days`), a gap (`at least N days apart`)",
    1_096,
    "days",
    "three years: continuous daily oral therapy and maintenance written as one cycle stay within it",
)
MINUTES = Limit(
    "a time: a duration (`over N`), a relation (`N hours after`), an observation (`observe N`)",
    DAYS.value * 1440,
    "minutes",
    "the longest cycle: continuous infusions of 28 days and more are given, but none outlasts its cycle",
)
AMOUNTS = Limit(
    "an amount: a dose, a volume (`in N mL`), a cap (`max N mg`)",
    1_000_000_000,
    "of its unit",
    "a thousand million: the largest doses written in units (interferon, aldesleukin) are millions",
)
DECIMALS = Limit(
    "decimal places of an amount", 6, "places", "a microgram in grams; doses are measured to two or three places"
)
DOSES = Limit(
    "doses in one regimen as written: each dose of each administration line of each cycle group (every "
    "dose of a day given several times and of a series by the clock), once for the line and once more for "
    "each day's relations (`same as` and `use` count what they copy)",
    50_000,
    "doses",
    "three years of daily doses of twenty medicines, each timed to another; a real regimen writes a few hundred",
)
TIMING_SIZE = Limit(
    "the timing network: its points and constraints, each cycle of a group counted",
    400_000,
    "points and constraints",
    "a real regimen's network has a few hundred; this one is still solved in about two seconds",
)
SEARCH_STEPS = Limit(
    "the search of the timing network for a conflict, and for the windows",
    8_000_000,
    "steps",
    "a real regimen's network is searched in a few thousand steps",
)
TRANSITIONS = Limit(
    "the plan weighed against the cycle groups: each decision for each group, and each transition it makes",
    200_000,
    "steps",
    "a real plan has a few dozen decisions and transitions",
)
CONDITION_STATES = Limit(
    "the patient states one decision point is checked in: each response, MRD result and HSCT plan, times "
    "each value of each group its conditions name",
    100_000,
    "states",
    "a real decision distinguishes a few dozen patients",
)
SCENARIOS = Limit(
    "timing networks one regimen is solved as: one for each branch of each choice of lines that gives timed doses, "
    "in combination",
    64,
    "networks",
    "a real regimen chooses its doses by one or two conditions: two to four networks",
)
REPARSE = Limit(
    "characters parsed in all, when syntax errors make the parser read part of the file again (from a few "
    "lines before each broken line; past this, the errors after it are not reported at once)",
    2 << 20,
    "characters",
    "twice the size cap: a file at the cap is read once, and again a few lines before each of its first fifty errors",
)
LIST_DEPTH = Limit(
    "how deep bullet lists nest in prose (deeper items are shown at this depth)",
    8,
    "levels",
    "a page indents lists a few levels; deeper nesting is unreadable",
)

LIMITS: tuple[Limit, ...] = (
    CYCLE_NUMBERS,
    PART_NUMBERS,
    CYCLE_GROUPS,
    DAYS,
    MINUTES,
    AMOUNTS,
    DECIMALS,
    DOSES,
    TIMING_SIZE,
    SEARCH_STEPS,
    TRANSITIONS,
    CONDITION_STATES,
    SCENARIOS,
    REPARSE,
    LIST_DEPTH,
)

# The largest amount as a Decimal, for comparing doses.
AMOUNT_LIMIT = Decimal(AMOUNTS.value)


class TooComplex(Exception):
    """A regimen expands beyond a work limit at ``span``: it is not checked further (``STR022``)."""

    help = "split the regimen, or write its cycles as fewer lines; see the limits in the language reference"

    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message
