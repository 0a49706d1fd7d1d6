"""Page outputs: goldens for every bundled regimen, the JSON Schema, safe doses, and no fact lost."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from regdsl.compile.phases import cond_text, titles
from regdsl.model import ir
from regdsl.render.context import RenderContext
from regdsl.render.env import TemplateProblem, environment
from regdsl.render.pages import render, render_all
from tests.conftest import ROOT, check_golden
from tests.facts import BUNDLED, bundled, bundled_facts, compile_alone, markdown_text, missing, norm, site_context

GOLDENS = ROOT / "tests" / "render"
OUTPUTS = {"html": "page.html", "md": "page.md", "json": "regimen.json"}


# Regimens written for their pages only (tests/render/pages/ID.reg), each with its goldens in
# tests/render/pages/ID/: what the bundled regimens do not show (labels, grouped days, totals).
PAGE_FIXTURES = sorted(p.stem for p in (GOLDENS / "pages").glob("*.reg"))


def schema() -> dict[str, Any]:
    text = resources.files("regdsl.render").joinpath("schema/regimen.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.mark.parametrize("fmt", sorted(OUTPUTS))
@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_output_matches_its_golden(regimen_id: str, fmt: str, update_goldens: bool) -> None:
    actual = render(fmt, bundled(regimen_id), site_context(regimen_id))
    if fmt == "json":  # written compact; reviewed indented
        actual = json.dumps(json.loads(actual), indent=2, ensure_ascii=False) + "\n"
    path = GOLDENS / regimen_id / OUTPUTS[fmt]
    path.parent.mkdir(parents=True, exist_ok=True)
    check_golden(path, actual, update_goldens)


def test_pages_only_read_the_compiled_regimen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing solves the timing network while a page is written: windows and bounds come compiled."""
    compiled = {regimen_id: bundled(regimen_id) for regimen_id in BUNDLED}

    def solving(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a page searched the timing network")

    for name in ("find_conflict", "windows", "bounds_from"):
        monkeypatch.setattr(f"regdsl.compile.stn.{name}", solving)
    monkeypatch.setattr("regdsl.compile.stn._Search.run", solving)
    monkeypatch.setattr("regdsl.compile.stn._Nearest.distance", solving)
    for regimen_id, regimen in compiled.items():
        for fmt, page in render_all(regimen, site_context(regimen_id)).items():
            assert page, fmt


def test_schema_is_valid_json_schema_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_json_validates_against_the_schema(regimen_id: str) -> None:
    document = json.loads(render("json", bundled(regimen_id), site_context(regimen_id)))
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_schema_refuses_a_document_with_an_unknown_field_or_a_float_dose() -> None:
    document = json.loads(render("json", bundled(BUNDLED[0]), site_context(BUNDLED[0])))
    validator = jsonschema.Draft202012Validator(schema())
    document["surprise"] = 1
    assert not validator.is_valid(document)
    del document["surprise"]
    document["parts"][0]["cycles"][0]["administrations"][0]["dose"]["amount"] = "1.50"
    assert not validator.is_valid(document)


class _Text(HTMLParser):
    """The visible text of a page, and the text of each table row."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.rows: list[list[str]] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script", "title", "desc"}:
            self.hidden += 1
        if tag == "tr":
            self.rows.append([])
        if tag in {"td", "th", "p", "li", "br", "tr", "h1", "h2", "h3", "h4", "caption", "dd", "dt"}:
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script", "title", "desc"}:
            self.hidden -= 1
        if tag in {"td", "th"} and self.rows:
            self.rows[-1].append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)
            if self.rows:
                self.rows[-1].append(data)


def page_text(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    return norm("".join(parser.chunks)), [norm("".join(row)) for row in parser.rows]


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [norm(node)]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_every_fact_is_in_the_html_page(regimen_id: str) -> None:
    text, rows = page_text(render("html", bundled(regimen_id), site_context(regimen_id)))
    assert missing(bundled_facts(regimen_id), text, rows) == []


@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_every_fact_is_in_the_markdown_page(regimen_id: str) -> None:
    markdown = render("md", bundled(regimen_id), site_context(regimen_id))
    rows = [markdown_text(line) for line in markdown.splitlines() if line.startswith("|")]
    assert missing(bundled_facts(regimen_id), markdown_text(markdown), rows) == []


@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_every_fact_is_in_the_json(regimen_id: str) -> None:
    compiled = bundled(regimen_id)
    document = json.loads(render("json", compiled, site_context(regimen_id)))
    strings = _strings(document)
    # Prose is kept whole in JSON (a paragraph or item is a line of it); rows are objects.
    text = "\n".join(strings)
    administrations = [a for part in document["parts"] for group in part["cycles"] for a in group["administrations"]]
    rows = [
        " ".join(
            [
                a["medicine"]["display"],
                a["dose"]["display"],
                a["route"]["display"] if a["route"] else "",
                ", ".join(map(str, a["days"])),
            ]
        )
        for a in administrations
    ]
    found = bundled_facts(regimen_id)
    expected = [
        (r.medicine, f"{r.dose} ({r.cap})" if r.cap else r.dose, r.route, ", ".join(str(x) for x in _days(r.days)))
        for r in found.rows
    ]
    lost = [t for t in found.texts if t not in text and not t.startswith("At most ")]
    lost += [" | ".join(r) for r in expected if not any(norm(" ".join(c for c in r if c)) == row for row in rows)]
    assert lost == []
    limits = [lim["count"] for lim in document["plan"]["limits"]]
    assert limits == [lim.count for lim in compiled.regimen.plan.limits]


def _days(text: str) -> list[int]:
    days: list[int] = []
    for piece in text.split(", "):
        if " to " in piece:
            first, last = piece.split(" to ")
            days.extend(range(int(first), int(last) + 1))
        elif piece:
            days.append(int(piece))
    return days


# Error-prone forms (ISMP): a trailing zero, a naked decimal point, µg, U.
ERROR_PRONE = re.compile(r"\d\.\d*0(?!\d)\s*(mg|g|microgram|mL|mmol|units|%)|(?<![\d\w])\.\d|µg|μg|\b\d+\s*U\b")


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_doses_are_never_written_in_an_error_prone_form(regimen_id: str, fmt: str) -> None:
    compiled = bundled(regimen_id)
    output = render(fmt, compiled, site_context(regimen_id))
    doses = re.findall(r'data-dose="([^"]*)"', output) if fmt == "html" else output.splitlines()
    assert doses
    assert [d for d in doses if ERROR_PRONE.search(d)] == []


def test_seed_page_shows_the_solved_shift_window_and_superscript_units() -> None:
    html = render("html", bundled("leu-all-bcell-rr-inotuzumab"), site_context("leu-all-bcell-rr-inotuzumab"))
    assert "0.8 mg/m²" in html
    assert "day 8 can move to day 7 to 10" in html
    assert "Draft" not in html
    draft = render("html", bundled("leu-all-bcell-rr-inotuzumab-cr"), site_context("leu-all-bcell-rr-inotuzumab-cr"))
    assert 'class="banner"' in draft
    assert "Draft: this regimen has not been reviewed" in draft
    assert "carefully reviewed" not in draft


def test_markdown_is_inert_html() -> None:
    for regimen_id in BUNDLED:
        markdown = render("md", bundled(regimen_id), site_context(regimen_id))
        assert "<script" not in markdown.lower()
        assert not re.search(r"<(?!br>|https?://)", markdown)


def test_docs_copy_of_the_schema_is_current() -> None:
    shipped = resources.files("regdsl.render").joinpath("schema/regimen.schema.json").read_text(encoding="utf-8")
    assert (ROOT / "docs" / "regimen.schema.json").read_text(encoding="utf-8") == shipped, (
        "docs/regimen.schema.json is stale: copy regdsl/render/schema/regimen.schema.json over it"
    )


def test_a_library_can_override_one_template_and_keep_the_rest(tmp_path: Path) -> None:
    (tmp_path / "references.html.j2").write_text(
        '<ol class="ours">{% for ref in references %}<li>{{ ref.text }}</li>{% endfor %}</ol>\n', encoding="utf-8"
    )
    regimen_id = "leu-all-bcell-rr-inotuzumab"
    context = replace(site_context(regimen_id), templates=tmp_path)
    html = render("html", bundled(regimen_id), context)
    assert '<ol class="ours"><li>Pfizer New Zealand Limited.' in html
    assert "Cycle details" in html  # the page itself is still the bundled template


def test_templates_are_strict_and_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "references.html.j2").write_text("{{ no_such_name }}", encoding="utf-8")
    regimen_id = "leu-all-bcell-rr-inotuzumab"
    with pytest.raises(TemplateProblem, match=r"references\.html\.j2:1: .*no_such_name"):
        render("html", bundled(regimen_id), replace(site_context(regimen_id), templates=tmp_path))
    escaped = environment("html").from_string("{{ text }}").render(text="<script>x</script>")
    assert escaped == "&lt;script&gt;x&lt;/script&gt;"


def test_every_format_renders_alike_alone_and_together() -> None:
    regimen_id = "leu-all-bcell-rr-inotuzumab"
    together = render_all(bundled(regimen_id), site_context(regimen_id))
    assert together == {fmt: render(fmt, bundled(regimen_id), site_context(regimen_id)) for fmt in OUTPUTS}


def test_json_is_one_line_with_markup_escaped() -> None:
    text = render("json", bundled(BUNDLED[0]), site_context(BUNDLED[0]))
    assert text.count("\n") == 1
    assert text.endswith("}\n")
    assert not re.search(r"[<>&]", text)


_CAPPED = b"""regimen capped
  name "Capped"
  status draft

cycle 1: 21 days
  ondansetron 8 mg IV days 1, 8 30 min before vinCRIStine over 15 min supportive
  vinCRIStine 1.4 mg/m2 IV days 1, 8 max 2 mg over 10 min
"""


def test_a_dose_cap_is_shown_wherever_the_dose_is() -> None:
    """Every text of a page that shows the capped dose (tables, full details, calendar, timeline) shows its cap."""
    compiled = compile_alone(_CAPPED)
    assert compiled is not None
    pages = render_all(compiled, RenderContext(source="capped.reg"))
    html_texts = [norm(html.unescape(t)) for t in re.findall(r">([^<>]+)<", pages["html"])]
    places = {
        "html": [t for t in html_texts if "1.4 mg/m²" in t],
        "md": [line for line in pages["md"].split("\n") if "1.4 mg/m²" in markdown_text(line)],
        "json": [json.loads(pages["json"])["parts"][0]["cycles"][0]["administrations"][1]["dose"]["display"]],
    }
    for fmt, found in places.items():
        assert found, fmt
        for place in found:
            assert "1.4 mg/m² (maximum 2 mg)" in (markdown_text(place) if fmt == "md" else place), (fmt, place)
    svg = [t for t in html_texts if "vinCRIStine 1.4" in t]
    assert len(svg) >= 3  # the calendar's row and the timelines of days 1 and 8 name it too


@pytest.mark.parametrize("fmt", sorted(OUTPUTS))
@pytest.mark.parametrize("regimen_id", PAGE_FIXTURES)
def test_page_fixture_matches_its_golden(regimen_id: str, fmt: str, update_goldens: bool) -> None:
    source = GOLDENS / "pages" / f"{regimen_id}.reg"
    compiled = compile_alone(source.read_bytes())
    assert compiled is not None, f"{source} does not check clean"
    page = render(fmt, compiled, RenderContext(source=f"{regimen_id}.reg"))
    check_golden(GOLDENS / "pages" / regimen_id / OUTPUTS[fmt], page, update_goldens)
    if fmt == "json":
        jsonschema.validate(json.loads(page), schema())


def _conditions(regimen: ir.Regimen) -> list[ir.Cond]:
    """Return every condition of ``regimen``: of its gates, its choices and its plan."""
    plan = regimen.plan
    found = [
        *(b.cond for d in plan.decisions for b in d.branches),
        *(lim.cond for lim in plan.limits),
        *(s.cond for s in plan.stops),
        *(gate.cond for g in regimen.cycles() for gate in g.gates),
        *(b.cond for g in regimen.cycles() for c in g.choices for b in c.branches),
    ]
    return [cond for cond in found if cond is not None]


def _titled(regimen_id: str) -> list[tuple[str, str]]:
    """Return the conditions of a bundled regimen said by names and by titles, where the two differ."""
    regimen = bundled(regimen_id).regimen
    said = [(cond_text(cond), cond_text(cond, titles(regimen))) for cond in _conditions(regimen)]
    return [(names, words) for names, words in said if names != words]


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize("regimen_id", [r for r in BUNDLED if _titled(r)])
def test_pages_word_conditions_with_the_titles_of_groups_and_measures(regimen_id: str, fmt: str) -> None:
    page = render(fmt, bundled(regimen_id), site_context(regimen_id))
    page = html.unescape(page) if fmt == "html" else page.replace("\\", "")
    for names, words in _titled(regimen_id):  # (a name may be in the prose)
        assert not any(f"{lead} {names}" in page for lead in ("if", "with", "without", "whose")), names
        assert words in page


def test_a_condition_is_said_with_the_titles_and_the_json_keeps_the_names() -> None:
    compiled = bundled("gu-blad-nmibc-intravesical-bcg")
    context = site_context("gu-blad-nmibc-intravesical-bcg")
    assert "if NMIBC risk group is intermediate risk: stop treatment" in render("md", compiled, context)
    assert "bcg-risk is intermediate" in render("json", compiled, context)
    melanoma = bundled("skin-melanoma-metastatic-ipilimumab-nivolumab")
    page = render("md", melanoma, site_context("skin-melanoma-metastatic-ipilimumab-nivolumab"))
    assert "nivolumab (for patients whose nivolumab maintenance schedule is 240 mg every 2 weeks)" in page
    capecitabine = render("md", bundled("br-metastatic-capecitabine"), site_context("br-metastatic-capecitabine"))
    assert "for patients with creatinine clearance 30 to 50 mL/min" in capecitabine
