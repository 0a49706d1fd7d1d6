"""Adversarial regimen shapes: small files that ask a stage for the most work it can be made to do.

Each shape makes one library folder's files from a size in bytes (the scalable shapes repeat a
line or a block until the file reaches it; the others are a few lines whatever the size). The
test of bounded work (``tests/test_bounded.py``) checks each shape within a budget measured as
a ratio to a one-regimen check; ``bench/bounded.py`` times each shape's check and build at the
size cap and writes its section of ``docs/performance.md``.

``outcome`` says what a check of the shape must give: ``accepted`` (no error, and a build
publishes it), or the codes of the errors it is refused with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SHAPES", "Shape"]

HEADER = 'regimen {id}\n  name "BOUNDED - {id}"\n  status draft\n\n'
CYCLO = "cyclophosphamide 600 mg/m2 IV day 1 over 60 min"


@dataclass(frozen=True, slots=True)
class Shape:
    """One adversarial shape: its name, what it stresses, how to make it, and what a check gives."""

    name: str
    stresses: str
    make: Callable[[int], dict[str, str]]
    outcome: tuple[str, ...] = ()  # the error codes it is refused with; empty: accepted

    @property
    def accepted(self) -> bool:
        """Whether the shape checks with no error (and so must build)."""
        return not self.outcome


def _file(name: str, body: str) -> dict[str, str]:
    return {f"{name}.reg": HEADER.format(id=name) + body}


def _repeat(size: int, head: str, line: Callable[[int], str], tail: str = "") -> str:
    """``head``, then ``line(0)``, ``line(1)``... until the text reaches ``size`` bytes, then ``tail``."""
    parts = [head]
    total = len(head) + len(tail)
    i = 0
    while total < size:
        text = line(i)
        parts.append(text)
        total += len(text)
        i += 1
    parts.append(tail)
    return "".join(parts)


def _one_day(size: int) -> dict[str, str]:
    return _file("one-day", _repeat(size, "cycle 1: 21 days\n", lambda i: f"  ondansetron {i + 1} mg oral day 1\n"))


def _block_use(size: int) -> dict[str, str]:
    block = "block premeds\n" + "".join(f"  ondansetron {i + 1} mg oral day 1\n" for i in range(30))
    return _file("block-use", _repeat(size, block + "cycle 1: 21 days\n", lambda i: "  use premeds\n"))


def _cycle_groups(size: int) -> dict[str, str]:
    def group(i: int) -> str:
        return f"cycle {i + 1}: 21 days\n  {CYCLO}\n    | Give with {i % 7} litres of fluid.\n"

    groups = [group(i) for i in range(1000)]
    kept: list[str] = []
    total = 0
    for text in groups:  # as many groups as the size allows, up to the limit of cycle numbers
        if total + len(text) > size and kept:
            break
        kept.append(text)
        total += len(text)
    return _file("cycle-groups", "".join(kept) + "plan\n  stop if response is PD\n")


def _overlapping_groups(size: int) -> dict[str, str]:
    return _file("overlapping-groups", "".join(f"cycle 1: 21 days\n  {CYCLO}\n" for _ in range(1000)))


def _same_as(size: int) -> dict[str, str]:
    head = "cycle 1: 1096 days\n" + "".join(f"  ondansetron {i + 1} mg oral days 1 to 1096\n" for i in range(40))
    return _file("same-as", _repeat(size, head, lambda i: f"cycle {i + 2}: 21 days\n  same as cycle 1\n"))


def _instructions(size: int) -> dict[str, str]:
    half = size // 2

    def words(tag: str) -> str:
        return _repeat(half, "", lambda i: f"    | {tag}{i} and {tag}{i * 7} then {i}\n")

    body = f"cycle 1: 21 days\n  {CYCLO}\n{words('a')}cycle 2: 21 days\n  {CYCLO}\n{words('b')}"
    return _file("instructions", body)


def _emphasis(size: int) -> dict[str, str]:
    prose = "  overview\n    | " + "**a " * max(1, (size - 200) // 4) + "\n"
    return {
        "emphasis.reg": HEADER.format(id="emphasis").rstrip("\n") + "\n" + prose + f"\ncycle 1: 21 days\n  {CYCLO}\n"
    }


def _deep_bullets(size: int) -> dict[str, str]:
    lines = "".join(f"    | {' ' * i}- item {i}\n" for i in range(300))
    chain = _repeat(size // 2, "", lambda i: f"    | {' ' * (i % 2000)}- step {i}\n")
    return _file("deep-bullets", f"cycle 1: 21 days\n  {CYCLO}\n{lines}{chain}")


def _continued_bullet(size: int) -> dict[str, str]:
    return _file(
        "continued-bullet",
        _repeat(size, f"cycle 1: 21 days\n  {CYCLO}\n    | - one item\n", lambda i: f"    | continued {i}\n"),
    )


def _shift_gaps(size: int) -> dict[str, str]:
    body = (
        "cycles 1 to 1000: 28 days, may extend to 56 days\n"
        "  ondansetron 8 mg oral days 1 to 28 ± 27 days\n"
        "  ondansetron doses at least 2 days apart\n"
        "plan\n  at most 1000 cycles\n"
    )
    return _file("shift-gaps", body)


def _many_cycles(size: int) -> dict[str, str]:
    body = (
        "cycles 1 to 1000: 21 days\n"
        "  dexamethasone 8 mg oral day 1 30 min before chemotherapy\n"
        f"  {CYCLO}\n"
        "  cyclophosphamide 600 mg/m2 IV day 8 ± 2 days over 60 min\n"
        "  cyclophosphamide doses at least 6 days apart\n"
        "  observe 30 min after cyclophosphamide\n"
        "plan\n  at most 1000 cycles\n"
    )
    return _file("many-cycles", body)


def _gap_chain(size: int) -> dict[str, str]:
    body = (
        "cycles 1 to 1000: 56 days\n"
        "  ondansetron 8 mg oral days 1 to 56 ± 3 days\n"
        "  ondansetron doses at least 1 day apart\n"
    )
    return _file("gap-chain", body)


def _decisions(size: int) -> dict[str, str]:
    head = f"cycle 1 and all further cycles: 21 days\n  {CYCLO}\nplan\n  stop if response is PD\n  after any cycle:\n"
    return _file(
        "decisions", _repeat(size, head, lambda i: "    if response is CR: stop\n", "    otherwise: next cycle\n")
    )


def _after_cycles(size: int) -> dict[str, str]:
    groups = "".join(f"cycle {i + 1}: 21 days\n  {CYCLO}\n" for i in range(200))
    head = groups + "plan\n  stop if response is PD\n"
    return _file(
        "after-cycles",
        _repeat(
            size,
            head,
            lambda i: f"  after cycle {i % 200 + 1}:\n    if response is CR: stop\n    otherwise: next cycle\n",
        ),
    )


def _shared_limits(size: int) -> dict[str, str]:
    def one(me: str, other: str) -> str:
        head = f"cycle 1 and all further cycles: 21 days\n  {CYCLO}\nplan\n  stop if response is PD\n"
        return HEADER.format(id=me) + _repeat(
            size // 2, head, lambda i: f"  at most {i % 999 + 1} cycles counted with {other}\n"
        )

    return {"limits-a.reg": one("limits-a", "limits-b"), "limits-b.reg": one("limits-b", "limits-a")}


def _syntax_errors(size: int) -> dict[str, str]:
    good = _repeat(
        size - 4000,
        f"cycle 1: 21 days\n  {CYCLO}\n",
        lambda i: f"  ondansetron {i % 90 + 1} mg oral day {i % 21 + 1}\n",
    )
    bad = "".join(f"  ondansetron 8 mg oral day 1 over over {i}\n" for i in range(60))
    return _file("syntax-errors", good + bad)


def _long_cycle(size: int) -> dict[str, str]:
    body = (
        "cycle 1: 1096 days\n"
        "  dexamethasone 8 mg oral days 1 to 1096 30 min before fluorouracil\n"
        "  fluorouracil 400 mg/m2 IV days 1 to 1096 over 23 hours\n"
        "  observe 30 min after fluorouracil\n"
    )
    return _file("long-cycle", body)


def _observations(size: int) -> dict[str, str]:
    head = "cycle 1: 1096 days\n  fluorouracil 400 mg/m2 IV days 1 to 1096 over 60 min\n"
    return _file("observations", _repeat(size, head, lambda i: f"  observe {i % 60 + 1} min after fluorouracil\n"))


def _relations(size: int) -> dict[str, str]:
    head = (
        "cycle 1: 1096 days\n  fluorouracil 400 mg/m2 IV days 1 to 1096 over 60 min\n"
        "  ondansetron 8 mg oral days 1 to 1096"
    )
    return _file("relations", _repeat(size, head, lambda i: " 30 min before fluorouracil", "\n"))


def _quoted(size: int) -> dict[str, str]:
    head = f"cycle 1: 21 days\n  {CYCLO}\n  ondansetron 8 mg oral day 1"
    return _file("quoted", _repeat(size, head, lambda i: ' 30 min before cyclophosphamide "as tolerated"', "\n"))


def _prose(size: int) -> dict[str, str]:
    head = f"cycle 1: 21 days\n  {CYCLO}\n"
    return _file(
        "prose",
        _repeat(size, head, lambda i: "    | Ensure adequate hydratoin and insitutional monitering befor each dose.\n"),
    )


def _long_word(size: int) -> dict[str, str]:
    return _file("long-word", f"cycle 1: 21 days\n  {CYCLO}\n    | Give {'q' * (size - 300)} slowly.\n")


def _names_line(size: int) -> dict[str, str]:
    prose = _repeat(size - 200, "    | As", lambda i: " " * 40 + "Attard", "\n")
    return _file("names-line", f"cycle 1: 21 days\n  {CYCLO}\n{prose}")


def _medicines(size: int, name: str, line: Callable[[int], str], tail: str = "") -> dict[str, str]:
    """Make a regimen of ``line(i)`` (medicines m0, m1...) and a library.reg defining them, in ``size`` bytes."""
    regimen = _file(name, _repeat(size // 2, "cycle 1: 21 days\n", line, tail))
    count = regimen[f"{name}.reg"].count("\n  m")
    medicines = "".join(f'medicine "m{i}"\n  supportive\n\n' for i in range(count + 1))
    return {**regimen, "library.reg": 'library "BOUNDED"\n\n' + medicines}


def _relation_chain(size: int) -> dict[str, str]:
    return _medicines(
        size, "relation-chain", lambda i: f"  m{i} 10 mg oral day 1{f' 1 min after m{i - 1}' if i else ''}\n"
    )


def _gaps_of_many(size: int) -> dict[str, str]:
    return _medicines(
        size, "gaps-of-many", lambda i: f"  m{i} 10 mg oral days 1, 8\n  m{i} doses at least 2 days apart\n"
    )


def _before_chemotherapy(size: int) -> dict[str, str]:
    def line(i: int) -> str:
        return f"  ondansetron {i + 1} mg oral day 1 10 min before chemotherapy\n"

    return _file("before-chemotherapy", _repeat(size, "cycle 1: 21 days\n", line, f"  {CYCLO}\n"))


def _observed_among_many(size: int) -> dict[str, str]:
    def line(i: int) -> str:
        return f"  ondansetron {i + 1} mg oral day 1\n  observe {i % 60 + 1} min after cyclophosphamide\n"

    return _file("observed-among-many", _repeat(size, f"cycle 1: 21 days\n  {CYCLO}\n", line))


def _ambiguous_anchors(size: int) -> dict[str, str]:
    def line(i: int) -> str:
        return f"  mesna {i + 1} mg IV day 1 over 10 min\n  ondansetron {i + 1} mg oral day 1 10 min after mesna\n"

    return _file("ambiguous-anchors", _repeat(size, "cycle 1: 21 days\n", line))


def _one_long_line(size: int) -> dict[str, str]:
    prose = _repeat(size - 200, "    | ", lambda i: "insitutional ", "\n")
    return _file("one-long-line", f"cycle 1: 21 days\n  {CYCLO}\n{prose}")


def _days_outside(size: int) -> dict[str, str]:
    # Up to 200,000 bytes: some 34,000 days, under the limit of doses a regimen may hold (STR022).
    head = "cycle 1: 21 days\n  ondansetron 8 mg oral days 1"
    return _file("days-outside", _repeat(min(size, 200_000), head, lambda i: f", {22 + i % 1075}", "\n"))


def _value(name: str, body: str) -> Callable[[int], dict[str, str]]:
    return lambda _size: _file(name, body)


SHAPES: tuple[Shape, ...] = (
    Shape("one-day", "lines on one day of one cycle (placing each line)", _one_day),
    Shape("block-use", "a shared block used over and over in one cycle", _block_use, ("STR022",)),
    Shape("cycle-groups", "1,000 cycle groups, each with its instructions (rules over pairs of groups)", _cycle_groups),
    Shape("overlapping-groups", "1,000 groups that all describe cycle 1", _overlapping_groups, ("STR013",)),
    Shape("same-as", "`same as` copying a long cycle into every later group", _same_as, ("STR022",)),
    Shape("instructions", "two long instructions compared word by word (CON001)", _instructions),
    Shape("emphasis", "prose of `**a ` repeated: emphasis markers that never close", _emphasis),
    Shape("deep-bullets", "bullets nested 300 deep, then a long staircase of indents", _deep_bullets),
    Shape("continued-bullet", "one bullet continued over every line", _continued_bullet),
    Shape("many-cycles", "1,000 cycles of one group, each timed and observed", _many_cycles),
    Shape("shift-gaps", "wide shift windows with a minimum gap, over 1,000 cycles", _shift_gaps),
    Shape("gap-chain", "a gap between each of 56,000 daily doses", _gap_chain),
    Shape("decisions", "one decision with a branch per line", _decisions),
    Shape("after-cycles", "a decision after each of 200 groups, over and over", _after_cycles, ("STR022",)),
    Shape("shared-limits", "two regimens with a cycle limit shared per line", _shared_limits),
    Shape("syntax-errors", "a long file whose last 60 lines are syntax errors", _syntax_errors, ("SYN001",)),
    Shape("long-cycle", "a 1,096-day cycle: a premedicated daily infusion, observed", _long_cycle),
    Shape("observations", "an observation per line after a daily infusion", _observations, ("STR022",)),
    Shape("relations", "one line timed by a relation repeated to the end of the file", _relations, ("STR022",)),
    Shape("quoted", "one line with a quoted qualifier repeated to the end of the file", _quoted),
    Shape("prose", "instructions of misspelt words", _prose),
    Shape("long-word", "one word as long as the file (the spelling rule's one-edit search)", _long_word),
    Shape("names-line", "one line of capitalised names apart by runs of spaces (is it a sentence start?)", _names_line),
    Shape("relation-chain", "each line of one day timed from the line before (anchors found by name)", _relation_chain),
    Shape("gaps-of-many", "a minimum gap for each of many medicines (each medicine's doses)", _gaps_of_many),
    Shape("before-chemotherapy", "many lines timed from `chemotherapy` on one day", _before_chemotherapy),
    Shape("observed-among-many", "observations of one medicine among many lines", _observed_among_many),
    Shape(
        "ambiguous-anchors",
        "relations to a medicine given on every other line of the day (TIM007)",
        _ambiguous_anchors,
        ("TIM007",),
    ),
    Shape("one-long-line", "one line of prose with a finding for each of its words", _one_long_line),
    Shape(
        "days-outside",
        "one line of 34,000 days, each outside its cycle (a finding for each)",
        _days_outside,
        ("TIM001", "TIM004"),
    ),
    Shape(
        "cycles-1-to-1e8",
        "`cycles 1 to 100000000`",
        _value("cycles-1e8", f"cycles 1 to 100000000: 21 days\n  {CYCLO}\n"),
        ("STR021",),
    ),
    Shape(
        "days-1-to-1e8",
        "`days 1 to 100000000`",
        _value("days-1e8", "cycle 1: 21 days\n  ondansetron 8 mg oral days 1 to 100000000\n"),
        ("STR021",),
    ),
    Shape(
        "cycle-of-1e38-days",
        "a cycle of 10^38 days",
        _value("cycle-1e38", f"cycle 1: {10**38} days\n  {CYCLO}\n"),
        ("STR021",),
    ),
    Shape(
        "over-1e26-weeks",
        "`over 10^26 weeks`",
        _value("over-1e26", f"cycle 1: 21 days\n  ondansetron 8 mg IV day 1 over {10**26} weeks\n"),
        ("STR021",),
    ),
    Shape(
        "1e23-hours-after",
        "`10^23 hours after`",
        _value(
            "after-1e23",
            f"cycle 1: 21 days\n  {CYCLO}\n  ondansetron 8 mg oral day 1 {10**23} hours after cyclophosphamide\n",
        ),
        ("STR021",),
    ),
    Shape(
        "1e7-hours-after",
        "`10^7 hours after`",
        _value(
            "after-1e7",
            f"cycle 1: 21 days\n  {CYCLO}\n  ondansetron 8 mg oral day 1 {10**7} hours after cyclophosphamide\n",
        ),
        ("STR021",),
    ),
    Shape(
        "at-the-limits",
        "every number at its limit",
        _value(
            "at-the-limits",
            "cycle 1: 1096 days\n"
            "  ondansetron 8 mg oral days 1 to 1096 ± 3 days 30 min before fluorouracil\n"
            "  fluorouracil 400 mg/m2 IV days 1 to 1096 over 1440 min\n"
            "  ondansetron doses at least 1 day apart\n"
            "cycles 2 to 1000: 1096 days\n  same as cycle 1\n"
            "plan\n  at most 1000 cycles\n",
        ),
        ("STR022",),
    ),
)
