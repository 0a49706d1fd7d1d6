"""Every bundled regimen's page in Chromium: every fact in the text it renders, and accessible.

The facts are those of ``tests/facts.py`` (worded from the sources, independently of the
renderer); the text is ``innerText``, what a reader sees, table rows read one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.support import assert_accessible
from tests.facts import BUNDLED, bundled_facts, missing, norm

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_every_fact_is_in_the_rendered_page(page: Page, site: Path, regimen_id: str) -> None:
    page.goto((site / "regimens" / f"{regimen_id}.html").as_uri())
    text = norm(page.inner_text("body"))
    rows = [norm(row) for row in page.locator("tr").all_inner_texts()]
    assert missing(bundled_facts(regimen_id), text, rows) == []


@pytest.mark.parametrize("regimen_id", BUNDLED)
def test_every_page_is_accessible(page: Page, site: Path, regimen_id: str) -> None:
    page.goto((site / "regimens" / f"{regimen_id}.html").as_uri())
    assert_accessible(page)
