"""The seed regimen's page in Chromium: its sections and pictures, accessibility, a phone's width."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    PHONE,
    PageErrors,
    assert_accessible,
    assert_no_horizontal_scroll,
    heading,
    screenshot,
)

pytestmark = pytest.mark.browser

SEED = "leu-all-bcell-rr-inotuzumab"

# The sections of the NZ SACT Regimen Library's pages, and the branch plan.
SECTIONS = (
    "Treatment overview",
    "Cycle details",
    "Full details",
    "Supportive care factors",
    "References",
    "Footnotes",
    "Plan",
)


@pytest.fixture
def seed(page: Page, site: Path) -> Page:
    """Open the seed regimen's page of the built site in the test's page."""
    page.goto((site / "regimens" / f"{SEED}.html").as_uri())
    return page


def test_seed_page_loads_without_errors(seed: Page, page_errors: PageErrors) -> None:
    seed.wait_for_load_state("load")
    page_errors.check()


@pytest.mark.parametrize("section", SECTIONS)
def test_seed_shows_section(seed: Page, section: str) -> None:
    expect(seed.get_by_role("heading", name=heading(section)).first).to_be_visible()


@pytest.mark.parametrize("picture", ["calendar", "timeline"])
def test_seed_draws_picture(seed: Page, picture: str) -> None:
    pictures = seed.get_by_role("img", name=re.compile(picture, re.IGNORECASE))
    expect(pictures.first).to_be_visible()
    tags = pictures.evaluate_all("elements => elements.map(e => e.tagName.toLowerCase())")
    assert set(tags) == {"svg"}, f"every {picture} is an <svg role=img> with a name; found {tags}"


def test_seed_is_accessible(seed: Page) -> None:
    assert_accessible(seed)


def test_seed_screenshot(seed: Page, artefacts: Path) -> None:
    assert screenshot(seed, artefacts, f"{SEED}-desktop").stat().st_size > 0


def test_seed_fits_a_phone(seed: Page, artefacts: Path) -> None:
    seed.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(seed)
    screenshot(seed, artefacts, f"{SEED}-phone")
