"""``regdsl serve`` in Chromium: an edit reloads the open page; an error shows in it; a fix brings it back.

The server runs as a user runs it (``python -m regdsl serve LIB --port 0``) on a copy of two
bundled regimens; the test reads the address it prints, opens a regimen's page, edits the file
and waits for the page to load again (the reload the server's event causes), then reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import assert_accessible
from tests.test_serve import CAPE, FOLFOX, Served, edit, serving

pytestmark = pytest.mark.browser

RELOAD_MS = 60_000  # a rebuild on a loaded machine; the reload itself is awaited, not slept for
SCRAMBLED = "95 mg/m2 IV <b>bold</b> (("  # a syntax error, with markup that must show as text


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Served, Path]]:
    """Serve a library of two regimens until the test (and its page) are done."""
    with serving(tmp_path) as both:
        yield both


def test_an_edit_reloads_the_page_and_an_error_shows_in_it(live: tuple[Served, Path], page: Page) -> None:
    server, lib = live
    source = lib / f"{FOLFOX}.reg"
    page.goto(f"{server.url}regimens/{FOLFOX}.html")
    main = page.locator("main")
    expect(main).to_contain_text("85 mg/m²")

    with page.expect_event("load", timeout=RELOAD_MS):  # the server's reload, after the rebuild
        edit(source, "85 mg/m2 IV", "95 mg/m2 IV")
    expect(main).to_contain_text("95 mg/m²")
    expect(main).not_to_contain_text("85 mg/m²")

    with page.expect_event("load", timeout=RELOAD_MS):
        edit(source, "95 mg/m2 IV", SCRAMBLED)
    expect(page.locator("h1")).to_have_text(f"{FOLFOX}: the build failed")
    findings = page.locator("pre.findings").first
    expect(findings).to_contain_text(f"{FOLFOX}.reg:21:")  # the text format's location, with its line
    expect(findings).to_contain_text("error[")
    expect(findings).to_contain_text("<b>bold</b>")  # shown, not obeyed
    assert page.locator("main b").count() == 0
    assert_accessible(page)

    with page.expect_event("load", timeout=RELOAD_MS):
        edit(source, SCRAMBLED, "100 mg/m2 IV")
    expect(main).to_contain_text("100 mg/m²")
    expect(page.locator("h1")).not_to_have_text(re.compile("build failed"))


def test_the_index_says_the_build_failed_until_it_passes(live: tuple[Served, Path], page: Page) -> None:
    server, lib = live
    source = lib / f"{CAPE}.reg"
    page.goto(server.url)
    notice = page.locator("#regdsl-serve-notice")
    expect(page.locator("main")).to_contain_text("BR Metastatic - capecitabine")
    expect(notice).to_have_count(0)

    with page.expect_event("load", timeout=RELOAD_MS):
        edit(source, "regimen ", "regimen ((( ")
    expect(notice).to_contain_text("The last build failed")
    expect(page.locator("main")).to_contain_text("BR Metastatic - capecitabine")  # the last good index, marked so
    page.locator("#regdsl-serve-notice a").click()
    expect(page.locator("pre.findings").first).to_contain_text(f"{CAPE}.reg:")

    with page.expect_event("load", timeout=RELOAD_MS):  # the errors page reloads too
        edit(source, "regimen ((( ", "regimen ")
    expect(page.locator("#regdsl-serve-notice")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("BR Metastatic - capecitabine")
