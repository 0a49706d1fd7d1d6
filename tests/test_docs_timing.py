"""``docs/timing.md`` shows what its examples mean in minutes, as the compiler computes them.

Each example is a ``reg-snippet`` headed ``<!-- timing: NAME -->``: its lines go into one
21-day cycle of a minimal regimen, which must check with no finding. The Markdown table after
it is every dose's window (start and end, in minutes after the cycle starts), and the picture
after that, ``timing/NAME.svg``, its cycle calendar: both are made from the compiled regimen
here and must be what the page shows (``pytest --update-goldens`` rewrites them; review the
difference).
"""

from __future__ import annotations

import re
from pathlib import Path

from regdsl.check.run import run_check
from regdsl.compile.library import check_paths
from regdsl.compile.passes import Compiled, compile_regimen
from regdsl.compile.schedule import schedule
from regdsl.compile.stn import PointId
from regdsl.render.env import environment
from regdsl.render.pictures import calendar
from tests.conftest import ROOT, check_golden

DOC = ROOT / "docs" / "timing.md"
PICTURES = ROOT / "docs" / "timing"
HEAD = 'regimen doc-timing\n  name "DOC EXAMPLE - timing"\n  status draft\n\ncycle 1: 21 days\n'
TABLE_HEAD = "| dose | starts (minutes) | ends (minutes) |\n|---|---|---|\n"

# A marker, its snippet, a table (replaced), and the picture's line.
_EXAMPLE = re.compile(
    r"<!-- timing: (?P<name>[a-z0-9-]+) -->\n```reg-snippet\n(?P<body>.*?)```\n\n(?P<table>(?:\|[^\n]*\n)*)",
    re.DOTALL,
)


def _compiled(folder: Path, body: str) -> Compiled:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "doc-timing.reg"
    path.write_text(HEAD + "".join(f"  {line}\n" for line in body.splitlines()), encoding="utf-8")
    found = [f"{d.code.code} {d.message}" for d in run_check([path], jobs=1).diagnostics]
    assert found == [], f"the example of docs/timing.md does not check cleanly: {found}"
    (regimen,) = check_paths([path]).regimens
    return compile_regimen(regimen)


def _table(result: Compiled) -> str:
    """Return each dose's window as the docs table writes it, line by line, in written order."""
    assert result.windows is not None
    rows = [TABLE_HEAD]
    group = result.regimen.parts[0].cycles[0]
    cycle = PointId(1, 0, group.first)
    for i, admin in enumerate(group.administrations):
        for series in schedule(admin):
            for k, dose in enumerate(series.doses, start=1):
                start = cycle.dose(i, dose.day, dose.number)
                (s_low, s_high), (e_low, e_high) = result.windows.of(start), result.windows.of(start.other_end)
                name = f"{admin.medicine.display}, day {dose.day}"
                if series.spacing is not None and len(series.doses) > 1:
                    name += f", dose {k} of {len(series.doses)}"
                rows.append(f"| {name} | {s_low} to {s_high} | {e_low} to {e_high} |\n")
    return "".join(rows)


def test_the_timing_guide_has_examples() -> None:
    names = [m.group("name") for m in _EXAMPLE.finditer(DOC.read_text(encoding="utf-8"))]
    assert len(names) >= 6
    assert len(set(names)) == len(names)


def test_every_window_and_picture_of_the_timing_guide_is_computed(tmp_path: Path, update_goldens: bool) -> None:
    text = DOC.read_text(encoding="utf-8")
    pictures: dict[str, str] = {}

    def computed(match: re.Match[str]) -> str:
        name = match.group("name")
        result = _compiled(tmp_path / name, match.group("body"))
        group = result.regimen.parts[0].cycles[0]
        pictures[name] = (
            environment("html").get_template("calendar.svg.j2").render(picture=calendar(result, group, ident=name))
        )
        return match.group(0).replace(match.group("table"), _table(result))

    expected = _EXAMPLE.sub(computed, text)
    for name, svg in pictures.items():
        assert f"](timing/{name}.svg)" in text, f"docs/timing.md does not show timing/{name}.svg"
        check_golden(PICTURES / f"{name}.svg", svg, update_goldens)
    check_golden(DOC, expected, update_goldens)
