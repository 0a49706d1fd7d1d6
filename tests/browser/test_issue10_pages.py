"""What issue 10 adds to pages, in Chromium: warning labels, grouped days, the timeline's day, totals.

The page is the page fixture regimen's (``tests/render/pages/test-pages-haematology.reg``),
rendered as ``regdsl render --to html`` does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from regdsl.render.context import RenderContext
from regdsl.render.pages import render
from tests.browser.support import PHONE, PageErrors, assert_accessible, assert_no_horizontal_scroll, heading
from tests.conftest import ROOT
from tests.facts import compile_alone

pytestmark = pytest.mark.browser

FIXTURE = ROOT / "tests" / "render" / "pages" / "test-pages-haematology.reg"


@pytest.fixture
def haem(page: Page, tmp_path: Path) -> Page:
    """Open the page fixture regimen's page."""
    compiled = compile_alone(FIXTURE.read_bytes())
    assert compiled is not None
    path = tmp_path / "test-pages-haematology.html"
    path.write_text(render("html", compiled, RenderContext(source=FIXTURE.name)), encoding="utf-8")
    page.goto(path.as_uri())
    return page


def test_the_page_loads_without_errors(haem: Page, page_errors: PageErrors) -> None:
    haem.wait_for_load_state("load")
    page_errors.check()


@pytest.mark.parametrize("section", ["cycle-details", "full-details"])
def test_intrathecal_and_vinca_lines_show_their_labels(haem: Page, section: str) -> None:
    rows = haem.locator(f"#{section} tr")
    for medicine, label in (
        ("methotrexate", "FOR INTRATHECAL USE ONLY"),
        ("vinCRIStine", "FOR INTRAVENOUS USE ONLY — FATAL IF GIVEN BY OTHER ROUTES"),
    ):
        row = rows.filter(has_text=medicine).first
        expect(row.locator(".warning-label")).to_have_text(label)
        expect(row.locator(".warning-label")).to_be_visible()
    expect(rows.filter(has_text="cyclophosphamide").first.locator(".warning-label")).to_have_count(0)


def test_identical_days_share_one_table(haem: Page) -> None:
    details = haem.locator("#full-details")
    expect(details.get_by_role("table", name="Days 3 to 5").first).to_be_visible()
    expect(details.get_by_role("table", name="Day 3")).to_have_count(0)
    expect(details.locator("#p1-g0-d4")).to_have_count(1)  # each day keeps its link target


def test_a_timeline_shows_its_day_as_text(haem: Page) -> None:
    expect(haem.locator("svg.timeline text", has_text="Cycle 1, day 1").first).to_be_visible()


def test_cumulative_doses_are_shown_with_their_limit(haem: Page) -> None:
    expect(haem.get_by_role("heading", name=heading("Cumulative doses"))).to_be_visible()
    expect(haem.locator("ul.totals li").first).to_contain_text("at most 400 mg/m² over the plan's 8 cycles")
    expect(haem.locator("ul.totals li").first).to_contain_text("Lifetime limit 450 mg/m²")


def test_the_page_is_accessible(haem: Page) -> None:
    assert_accessible(haem)


def test_the_page_fits_a_phone(haem: Page) -> None:
    haem.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(haem)
