"""The site's index in Chromium, from file://: groups, every regimen, search, links, accessibility."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from regdsl.compile.library import check_paths
from regdsl.model import ir
from tests.browser.support import PageErrors, assert_accessible, heading, screenshot
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

SEED = "leu-all-bcell-rr-inotuzumab"
HANDOVER = "leu-all-bcell-rr-inotuzumab-cr"


@pytest.fixture(scope="module")
def regimens() -> list[ir.Regimen]:
    """Read the bundled library's regimens as the compiler does (what the index must list)."""
    found = check_paths([ROOT / "regimens"]).regimens
    assert {SEED, HANDOVER} <= {r.id for r in found}
    return found


@pytest.fixture
def index(page: Page, site: Path) -> Page:
    """Open the site's index in the test's page."""
    page.goto((site / "index.html").as_uri())
    return page


def regimen_link(page: Page, regimen_id: str) -> Locator:
    """Find the links on ``page`` to a regimen's HTML page."""
    return page.locator(f'a[href$="/{regimen_id}.html"], a[href="{regimen_id}.html"]')


def test_index_loads_without_errors(index: Page, page_errors: PageErrors) -> None:
    index.wait_for_load_state("load")
    page_errors.check()


def test_index_groups_regimens_by_cancer_type(index: Page, regimens: list[ir.Regimen]) -> None:
    for cancer in sorted({r.meta.cancer[0].text for r in regimens}):
        expect(index.get_by_role("heading", name=heading(cancer)).first).to_be_visible()


def test_index_lists_every_regimen(index: Page, regimens: list[ir.Regimen]) -> None:
    for regimen in regimens:
        link = regimen_link(index, regimen.id).first
        expect(link).to_be_visible()
        expect(link).to_contain_text(regimen.name)


def test_search_filters_the_list(index: Page, regimens: list[ir.Regimen]) -> None:
    names = re.compile("search|filter|find", re.IGNORECASE)
    search = index.get_by_role("searchbox", name=names).or_(index.get_by_role("textbox", name=names))
    search.fill("alectinib")
    matching = {r.id for r in regimens if "alectinib" in r.name.lower()}
    assert len(matching) == 2
    for regimen in regimens:
        link = regimen_link(index, regimen.id).first
        if regimen.id in matching:
            expect(link).to_be_visible()
        else:
            expect(link).to_be_hidden()
    search.fill("")
    for regimen in regimens:
        expect(regimen_link(index, regimen.id).first).to_be_visible()


def follow(page: Page, site: Path, regimen_id: str) -> None:
    """Click the open page's first link to a regimen; check that its page opens."""
    link = regimen_link(page, regimen_id).first
    expect(link, f"a link from {page.url} to {regimen_id}.html").to_be_visible()
    link.click()
    expect(page).to_have_url((site / "regimens" / f"{regimen_id}.html").as_uri())


def test_links_lead_from_the_index_to_the_seed_and_its_handover(index: Page, site: Path) -> None:
    follow(index, site, SEED)
    follow(index, site, HANDOVER)


def test_the_handover_links_back_to_the_seed(page: Page, site: Path) -> None:
    # Its cycle limits are counted together with the seed's.
    page.goto((site / "regimens" / f"{HANDOVER}.html").as_uri())
    follow(page, site, SEED)


def test_every_link_within_the_site_resolves(page: Page, site: Path) -> None:
    broken: list[str] = []
    for html in sorted(site.rglob("*.html")):
        page.goto(html.as_uri())
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            url = urlsplit(href)
            if url.scheme != "file":
                continue
            target = Path(unquote(url.path))
            if not target.is_file():
                broken.append(f"{html.relative_to(site)}: {href} (no such file)")
            elif url.fragment and target == html and not page.locator(f'[id="{unquote(url.fragment)}"]').count():
                broken.append(f"{html.relative_to(site)}: {href} (no element with that id)")
    assert not broken, "broken links:\n  " + "\n  ".join(broken)


def test_index_is_accessible(index: Page, artefacts: Path) -> None:
    assert_accessible(index)
    screenshot(index, artefacts, "index")
