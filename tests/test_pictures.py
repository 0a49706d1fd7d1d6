"""The pictures of a regimen page: the cycle calendar and the day timelines, as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from regdsl.compile.library import check_paths
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.compile.stn import PointId, PointKind
from regdsl.model import ir
from regdsl.model.medicines import Medicine
from regdsl.render.env import environment
from regdsl.render.pictures import Bar, Calendar, Picture, Timeline, calendar, timelines
from tests.conftest import ROOT
from tests.facts import compile_alone

SVG = "{http://www.w3.org/2000/svg}"


def _compiled(name: str) -> Compiled:
    (regimen,) = check_paths([ROOT / "regimens" / f"{name}.reg"]).regimens
    return compile_regimen(regimen)


@pytest.fixture(scope="module")
def seed() -> Compiled:
    return _compiled("leu-all-bcell-rr-inotuzumab")


def _svg(picture: Picture) -> str:
    template = "calendar.svg.j2" if isinstance(picture, Calendar) else "timeline.svg.j2"
    return environment("html").get_template(template).render(picture=picture)


def _parsed(picture: Picture) -> ET.Element:
    """Render, parse as XML, and check what every picture must have."""
    root = ET.fromstring(_svg(picture))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox") == f"0 0 {picture.width} {picture.height}"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert title.text == picture.title
    assert desc is not None
    assert desc.text == picture.desc
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    for element in root.iter():
        assert not [name for name in element.attrib if name.lower().startswith("on")]
        if element.tag == f"{SVG}text":
            size = next(int(e.get("font-size", 0)) for e in (element, *_ancestors(root, element)) if e.get("font-size"))
            assert size >= 11
    return root


def _ancestors(root: ET.Element, element: ET.Element) -> list[ET.Element]:
    parents = {child: parent for parent in root.iter() for child in parent}
    found = []
    while element in parents:
        element = parents[element]
        found.append(element)
    return found


def test_the_compiled_regimen_holds_the_bounds_its_timelines_draw(seed: Compiled) -> None:
    cycle = PointId(1, 0, 1)
    day_1, day_8, day_15 = seed.days[cycle]
    assert [d.day for d in (day_1, day_8, day_15)] == [1, 8, 15]
    anchor = cycle.dose(4, 8)  # inotuzumab ozogamicin, day 8
    assert day_8.anchor == anchor
    assert day_8.starts[anchor] == (0, 0)
    assert day_8.starts[cycle.dose(0, 8)] == (-60, -30)  # loratadine
    assert day_8.latest[cycle.dose(2, 8, end=True)] == -15  # dexamethasone's end
    assert day_8.latest[cycle.observing(0, 4, 8, end=True)] == 120  # the observation's end
    assert {a.dose for a in day_8.timed} == {cycle.dose(i, 8) for i in (0, 1, 2)}  # the three premedications
    assert all(a.anchor.kind is PointKind.DOSE and a.anchor.line == 4 for a in day_8.timed)
    assert PointId(1, 1, 2) in seed.days  # each group's first cycle
    assert PointId(1, 1, 3) not in seed.days


def test_calendar_of_the_seed(seed: Compiled) -> None:
    group = seed.regimen.parts[0].cycles[0]
    cal = calendar(seed, group, ident="c1-cal")
    assert cal.title == "Cycle calendar: Cycle 1 - 21 days"
    assert [(r.medicine, r.dose, r.days) for r in cal.rows] == [
        ("loratadine", "10 mg", (1, 8, 15)),
        ("paracetamol", "1000 mg flat dosing", (1, 8, 15)),
        ("dexamethasone", "12 mg flat dosing", (1, 8, 15)),
        ("inotuzumab ozogamicin", "0.8 mg/m²", (1,)),
        ("inotuzumab ozogamicin", "0.5 mg/m²", (8, 15)),
    ]
    # "± 2 days" as solved by the timing network, not as written: day 8 cannot move to day 6,
    # which would be 5 days after the day 1 dose (at least 6 apart); day 15 cannot move to
    # day 13 - 1 = 12 either way, because it must stay 6 days after the day 8 dose (day 7 at
    # the earliest), and may move to day 17 (day 15 + 2) as written.
    assert cal.rows[4].windows == ((8, 7, 10), (15, 13, 17))
    assert all(row.windows == () for row in cal.rows[:4])
    assert (cal.first_day, cal.last_day, cal.extend_to_days) == (1, 28, 21 + 7)
    assert "inotuzumab ozogamicin day 8 dose: day 7 to day 10" in cal.desc
    assert "inotuzumab ozogamicin day 15 dose: day 13 to day 17" in cal.desc
    assert "The cycle may extend to day 28." in cal.desc
    assert "loratadine 10 mg: days 1, 8 and 15." in cal.desc

    root = _parsed(cal)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "may extend to day 28" in texts
    assert [str(d) for d in range(1, 29)] == [t for t in texts if t and t.isdigit()]
    groups = {g.get("class"): g for g in root.iter(f"{SVG}g")}
    # one mark per dose day, in the column of its day (columns are equally wide)
    day_1 = float(next(t.get("x", "") for t in root.iter(f"{SVG}text") if t.text == "1"))
    day_2 = float(next(t.get("x", "") for t in root.iter(f"{SVG}text") if t.text == "2"))
    width = day_2 - day_1
    anticancer = [r for g in root.iter(f"{SVG}g") if g.get("class") == "dose dose-anticancer" for r in g]
    centres = sorted(
        round((float(r.get("x", "")) + float(r.get("width", "")) / 2 - day_1) / width) + 1 for r in anticancer
    )
    assert centres == [1, 8, 15]
    assert len(groups["shift window"]) == 2  # hatched and outlined, not colour alone
    assert groups["shift window"].get("stroke-dasharray")
    assert groups["shift window"].get("fill") == "url(#c1-cal-hatch)"
    assert groups["extension"].get("fill") == "url(#c1-cal-extend)"
    patterns = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    assert patterns == {"c1-cal-hatch", "c1-cal-extend"}
    legend = " ".join(t.text or "" for g in root.iter(f"{SVG}g") if g.get("class") == "label legend" for t in g)
    assert "days a dose may move to" in legend
    assert "days the cycle may extend to" in legend


def test_a_calendar_is_a_few_kilobytes(seed: Compiled) -> None:
    for group in seed.regimen.cycles():
        assert len(_svg(calendar(seed, group, ident="x"))) < 8000


def test_timelines_of_the_seed(seed: Compiled) -> None:
    group = seed.regimen.parts[0].cycles[0]
    day_1, later = timelines(seed, group, ident="c1-tl")
    assert (day_1.days, later.days) == ((1,), (8, 15))  # day 1 has its own dose: 0.8, not 0.5 mg/m²
    assert later.title == "Day timeline: Cycle 1, days 8 and 15"
    assert later.ident == "c1-tl-day8"
    assert later.anchor == "inotuzumab ozogamicin"
    assert later.axis == (-60, 120)
    bars = {row.label: row.bars for row in later.rows}
    assert bars == {
        "loratadine 10 mg oral: 30 to 60 min before": (Bar("window", -60, -30),),
        "paracetamol 1000 mg flat dosing oral: 30 to 60 min before": (Bar("window", -60, -30),),
        "dexamethasone 12 mg flat dosing IV: 30 min before, over 15 min (or as per institutional practice)": (
            Bar("start", -30, -30),
            Bar("infusion", -30, -15),
        ),
        "inotuzumab ozogamicin 0.5 mg/m² IV: starts at 0, over 60 min": (Bar("start", 0, 0), Bar("infusion", 0, 60)),
        "observation: 60 min after the end of inotuzumab ozogamicin": (Bar("observation", 60, 120),),
    }
    assert "inotuzumab ozogamicin 0.8 mg/m² IV: starts at 0, over 60 min" in day_1.desc
    assert "from +60 min to +120 min when the infusion takes its full time" in later.desc
    for timeline in (day_1, later):
        root = _parsed(timeline)
        ticks = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "label axis" for t in g]
        assert ticks[:7] == ["−60 min", "−30 min", "0", "+30 min", "+60 min", "+90 min", "+120 min"]


def test_timeline_bars_sit_at_their_minutes(seed: Compiled) -> None:
    (_, later) = timelines(seed, seed.regimen.parts[0].cycles[0], ident="t")
    root = ET.fromstring(_svg(later))
    ticks = {t.text: float(t.get("x", "")) for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"}
    per_minute = (ticks["+60 min"] - ticks["0"]) / 60
    (infusion,) = [r for g in root.iter(f"{SVG}g") if g.get("class") == "infusion dose-anticancer" for r in g]
    assert float(infusion.get("x", "")) == pytest.approx(ticks["0"])
    assert float(infusion.get("width", "")) == pytest.approx(60 * per_minute)
    windows = [r for g in root.iter(f"{SVG}g") if g.get("class") == "window premed" for r in g]
    assert [float(r.get("x", "")) for r in windows] == pytest.approx([ticks["−60 min"]] * 2)


def test_text_is_escaped_not_trusted(seed: Compiled) -> None:
    evil = Medicine(name="evil", display='<script>alert("x")</script> & co')
    regimen = seed.regimen
    group = regimen.parts[0].cycles[0]
    admins = (replace(group.administrations[0], medicine=evil), *group.administrations[1:])
    changed = replace(group, administrations=admins)
    part = replace(regimen.parts[0], cycles=(changed, *regimen.parts[0].cycles[1:]))
    compiled = compile_regimen(replace(regimen, parts=(part,)))
    pictures: list[Picture] = [calendar(compiled, changed, ident="e")]
    pictures += timelines(compiled, changed, ident="e")
    for picture in pictures:
        svg = _svg(picture)
        assert "<script" not in svg
        assert "&lt;script&gt;" in svg
        root = _parsed(picture)
        assert not list(root.iter(f"{SVG}script"))
        assert any((t.text or "").startswith('<script>alert("x")</script> & co') for t in root.iter(f"{SVG}text"))


def test_a_regimen_with_parts() -> None:
    compiled = _compiled("gyn-end-adjuvant-cisplatin-chemoradiation-carboplatin-paclitaxel")
    first, second = (part.cycles[0] for part in compiled.regimen.parts)
    cal = calendar(compiled, second, ident="p2")
    assert cal.title == "Cycle calendar: Part 2, Cycles 1 to 4 - 21 days"
    assert cal.first_day == 0  # the dexamethasone taken the night before
    assert "cycliZINE 50 mg three times daily (as needed): day 1." in calendar(compiled, first, ident="p1").desc
    (chemoradiation,) = timelines(compiled, first, ident="p1")
    assert chemoradiation.days == (1, 22)
    assert chemoradiation.anchor == "chemotherapy"
    ondansetron = next(row for row in chemoradiation.rows if "after (OR before bed)" in row.label)
    assert ondansetron.bars == (Bar("window", 480, 540),)  # 8 hours after the cisplatin's end, which takes 0-60 min
    for picture in (cal, chemoradiation, *timelines(compiled, second, ident="p2")):
        _parsed(picture)


def test_open_ended_cycles_and_no_timelines_for_oral_days() -> None:
    compiled = _compiled("lung-nsclc-metastatic-alectinib")
    (group,) = compiled.regimen.cycles()
    cal = calendar(compiled, group, ident="lung")
    assert cal.title == "Cycle calendar: Cycle 1 (and all further cycles) - 28 days"
    assert cal.rows[0].days == tuple(range(1, 29))
    assert "alectinib 600 mg flat dosing twice daily: days 1 to 28." in cal.desc
    assert timelines(compiled, group, ident="lung") == ()
    _parsed(cal)


def test_a_timing_conflict_draws_days_without_windows(seed: Compiled) -> None:
    group = seed.regimen.parts[0].cycles[0]
    tight = replace(group, gaps=tuple(replace(gap, days=20) for gap in group.gaps))  # day 1 and day 8: no
    part = replace(seed.regimen.parts[0], cycles=(tight,))
    compiled = compile_regimen(replace(seed.regimen, parts=(part,)))
    assert compiled.windows is None
    cal = calendar(compiled, tight, ident="k")
    assert all(row.windows == () for row in cal.rows)
    assert "not shown: the timing constraints conflict" in cal.desc
    assert timelines(compiled, tight, ident="k") == ()
    _parsed(cal)


def test_a_long_cycle_labels_every_seventh_day() -> None:
    compiled = _compiled("leu-all-bcell-rr-inotuzumab")
    group = compiled.regimen.parts[0].cycles[1]
    long = replace(group, length_days=42)
    part = replace(compiled.regimen.parts[0], cycles=(compiled.regimen.parts[0].cycles[0], long))
    compiled = compile_regimen(replace(compiled.regimen, parts=(part,)))
    root = _parsed(calendar(compiled, long, ident="long"))
    days = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "label axis" for t in g][1:]
    assert days == ["1", "7", "14", "21", "28", "35", "42"]


def test_pictures_are_frozen_views(seed: Compiled) -> None:
    group: ir.CycleGroup = seed.regimen.parts[0].cycles[0]
    (timeline, *_) = timelines(seed, group, ident="f")
    assert isinstance(timeline, Timeline)
    with pytest.raises(AttributeError):
        timeline.title = "changed"  # type: ignore[misc]


_LONG = """regimen fixture
  name "Fixture"
  status draft

cycle 1: 14 days
  fluorouracil 2400 mg/m2 IV day 1 over exactly 46 hours
  oxaliplatin 85 mg/m2 IV day 1 over exactly 22 hours
  cISplatin 50 mg/m2 IV days 1, 8 over 24 hours
"""


def test_the_calendar_draws_a_dose_that_must_run_into_later_days_across_them() -> None:
    compiled = compile_alone(_LONG.encode())
    assert compiled is not None
    drawn = calendar(compiled, compiled.regimen.parts[0].cycles[0], ident="c")
    # 46 hours from a start on day 1 (00:00 to 23:59): ends on day 2 at the earliest, day 3 at the latest.
    assert [row.spans for row in drawn.rows] == [((1, 2, 3),), (), ()]
    assert "the day 1 dose runs until day 2 and may run until day 3" in drawn.desc
    svg = _parsed(drawn)
    classes = {g.get("class") for g in svg.iter("{http://www.w3.org/2000/svg}g")}
    assert {"running dose-anticancer", "running may-run dose-anticancer"} <= classes


def test_the_calendar_marks_each_dose_of_a_day_up_to_three_a_day() -> None:
    compiled = compile_alone(
        b'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 14 days\n'
        b"  capecitabine 1000 mg/m2 oral twice daily days 1 to 14\n"
        b"  ondansetron 8 mg oral three times daily days 1 to 3 supportive\n"
        b"  dexamethasone 4 mg oral four times daily day 1 supportive\n"
    )
    assert compiled is not None
    drawn = calendar(compiled, compiled.regimen.parts[0].cycles[0], ident="c")
    marks = [layer for layer in drawn.layers if layer.paint.cls.startswith("dose ") and "swatch" not in layer.paint.cls]
    assert [len(layer.boxes) for layer in marks] == [28, 9, 1]  # four a day: one mark, the label says how often
    first, second = marks[0].boxes[:2]
    assert first.x + first.width < second.x  # side by side in day 1's column, not on top of each other
    assert "capecitabine 1000 mg/m² twice daily" in drawn.desc


def test_a_day_timeline_draws_an_infusion_running_into_later_days_to_its_edge() -> None:
    compiled = compile_alone(
        b'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 14 days\n'
        b"  oxaliplatin 85 mg/m2 IV day 1 over exactly 2 hours\n"
        b"  fluorouracil 2400 mg/m2 IV day 1 over exactly 46 hours 0 to 5 min after oxaliplatin\n"
    )
    assert compiled is not None
    (drawn,) = timelines(compiled, compiled.regimen.parts[0].cycles[0], ident="t")
    pump = next(row for row in drawn.rows if row.label.startswith("fluorouracil"))
    # It may start 120 to 125 minutes after oxaliplatin's start, and runs 2760 minutes: past the picture.
    assert pump.bars == (Bar("window", 120, 125), Bar("infusion", 125, None))
    assert drawn.axis[1] < 125 + 2760


def test_a_day_timeline_draws_only_the_lines_of_the_patients_it_was_solved_for() -> None:
    # Each branch's line is in its own timing network; a day's timeline holds the bounds of one.
    compiled = compile_alone(
        b'regimen fixture\n  name "Fixture"\n  status draft\n\ncycle 1: 28 days\n  by age:\n'
        b"    under 60 years:\n      cytarabine 3000 mg/m2 IV day 1 over 4 hours\n"
        b"    at least 60 years:\n      cytarabine 1500 mg/m2 IV day 1 over 4 hours\n"
    )
    assert compiled is not None
    (drawn,) = timelines(compiled, compiled.regimen.parts[0].cycles[0], ident="t")
    assert [row.label.split(":")[0] for row in drawn.rows] == ["cytarabine 3000 mg/m² IV"]
