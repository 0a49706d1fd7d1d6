"""Generated regimens: each is valid by construction and renders in every format, whole and inert.

The generator writes `.reg` sources from documented parts: cycle groups (single, ranges,
open-ended), extensions, titles, administrations (doses of every basis, routes, twice
daily, day lists, durations, relations to other lines given on the same days, off-label),
notes, a stop rule, support factors and notes, references with and without a web address
and a PubMed id. Its prose carries HTML and Markdown characters. Each source must pass the
check; every fact must reach the HTML and Markdown pages, the JSON must validate, and no
markup from the text may come out as markup.
"""

from __future__ import annotations

import json

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from regdsl.render.context import RenderContext
from regdsl.render.pages import render_all
from tests.facts import Built, check_alone, facts, markdown_text, missing
from tests.test_render import page_text, schema

MEDICINES = ["cISplatin", "PACLItaxel", "ondansetron", "dexamethasone", "loratadine", "alectinib", "cARBOplatin"]
DOSES = ["10 mg", "0.5 mg/m2", "1000 mg flat", "5 AUC", "2 mg/kg", "600 mg flat", "250 microgram"]
ROUTES = ["oral", "IV", "SC"]
WORDS = ["take", "with", "food", "<b>bold</b>", "a & b", "*stress*", "**firm**", "[x](y)", "1.", "#", "|", "_u_", "é"]

text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join).map(str.strip)


@st.composite
def administration(draw: st.DrawFn, medicine: str, length: int, earlier: dict[str, list[int]]) -> tuple[str, list[int]]:
    """Draw one line and its days; a relation only to an earlier line given on every one of its days."""
    related = draw(st.booleans()) and len(earlier) > 0
    anchor = draw(st.sampled_from(sorted(earlier))) if related else None
    choices = earlier[anchor] if anchor else list(range(1, length + 1))
    days = sorted(draw(st.sets(st.sampled_from(choices), min_size=1, max_size=4)))
    line = f"{medicine} {draw(st.sampled_from(DOSES))} {draw(st.sampled_from(ROUTES))}"
    if draw(st.booleans()) and len(days) == 1:
        line += " twice daily"
    line += " days " + ", ".join(map(str, days)) if len(days) > 1 else f" day {days[0]}"
    if "/" in line.split()[2] and draw(st.booleans()):
        line += f" max {draw(st.sampled_from(['2 mg', '150 mg']))}"  # a cap, which every page must show
    if " IV " in f" {line} " and draw(st.booleans()):
        line += f" over {draw(st.sampled_from([15, 30, 60, 90, 120, 180]))} min"
    if anchor:
        line += f" 30 to 60 min before {anchor}"
    if draw(st.booleans()):
        line += " off-label"
    instructions = draw(st.lists(text, max_size=2))
    lines = [f"  {line}", *(f"    | {'- ' if draw(st.booleans()) else ''}{t}" for t in instructions)]
    return "\n".join(lines), days


@st.composite
def cycle_group(draw: st.DrawFn, first: int, last_group: bool) -> tuple[str, int]:
    length = draw(st.sampled_from([7, 14, 21, 28]))
    count = draw(st.integers(1, 3))
    if last_group and draw(st.booleans()):
        head, nxt = f"cycle {first} and all further cycles: {length} days", first + 1
    elif count == 1:
        head, nxt = f"cycle {first}: {length} days", first + 1
    else:
        head, nxt = f"cycles {first} to {first + count - 1}: {length} days", first + count
    if draw(st.booleans()):
        head += f", may extend to {length + 7} days"
    lines = [head]
    if draw(st.booleans()):
        lines.append(f'  title "{draw(text)}"')
    # Each medicine once in a group, so that a relation names one line.
    medicines = draw(st.lists(st.sampled_from(MEDICINES), min_size=1, max_size=4, unique=True))
    earlier: dict[str, list[int]] = {}
    for medicine in medicines:
        line, earlier[medicine] = draw(administration(medicine, length, earlier))
        lines.append(line)
    if draw(st.booleans()):
        lines += [f"  note {medicines[0]}", f"    | {draw(text)}"]
    return "\n".join(lines), nxt


@st.composite
def regimen(draw: st.DrawFn) -> str:
    lines = [
        "regimen generated",
        f'  name "{draw(text)}"',
        "  status draft",
        f'  cancer "{draw(text)}" > "Sub"',
        '  setting "Metastatic"',
        "  overview",
        *(f"    | {t}" for t in draw(st.lists(text, min_size=1, max_size=3))),
        "",
    ]
    first = 1
    groups = draw(st.integers(1, 3))
    for g in range(groups):
        block, first = draw(cycle_group(first, g == groups - 1))
        lines += [block, ""]
    lines += ["plan", "  stop if response is PD", "", "support", "  Emetogenicity: Low"]
    if draw(st.booleans()):
        lines += ["  note", f"    | {draw(text)}"]
    lines += ["", f'reference "{draw(text)}"']
    if draw(st.booleans()):
        url = draw(st.sampled_from(["https://example.org/a?b=1&c=<2>", "http://example.org"]))
        lines += [f'  url "{url}"', "  accessed 2025-03-25"]
    if draw(st.booleans()):
        lines.append("  pmid 30099821")
    return "\n".join([*lines, ""])


def assert_complete(built: Built, pages: dict[str, str]) -> None:
    """Assert every fact reaches the HTML and Markdown pages, inert, and the JSON validates."""
    found = facts(built)
    text_, rows = page_text(pages["html"])
    assert missing(found, text_, rows) == []
    lines = [markdown_text(line) for line in pages["md"].splitlines() if line.startswith("|")]
    assert missing(found, markdown_text(pages["md"]), lines) == []
    assert "<b>" not in pages["html"]
    assert "<b>" not in pages["md"]
    assert "javascript:" not in pages["html"]
    jsonschema.validate(json.loads(pages["json"]), schema())


@given(regimen())
def test_generated_regimens_pass_the_check_and_render_completely(source: str) -> None:
    built, errors = check_alone(source.encode("utf-8"))
    assert built is not None, errors
    assert_complete(built, render_all(built.compiled, RenderContext(source="generated.reg")))
