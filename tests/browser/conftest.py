"""The browser harness: one Chromium and one site build per session, a fresh page per test.

Chromium is Debian's (``/usr/bin/chromium``), launched by Playwright's own driver; no browser is
ever downloaded. Without it the tests are skipped locally and fail under ``CI=true``. Every page
a test opens is watched: a console error, an uncaught exception or a dialog (``alert``) fails the
test when it ends.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Error, Page, expect, sync_playwright

from tests.browser.support import PageErrors, build_site
from tests.conftest import ROOT

# Without these, Chromium reaches out to Google's services, which this closed network refuses
# (and which a test has no business with); no sandbox as CI runs as root in a container.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Pages are local files: anything slower than this is a failure, not a slow page.
TIMEOUT_MS = 5_000
expect.set_options(timeout=TIMEOUT_MS)


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:  # a skip, which fails the run under CI=true (tests/conftest.py)
        pytest.skip("needs Debian's chromium, which is not on PATH (apt-get install chromium fonts-dejavu-core)")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Chromium, headless, for the whole session."""
    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Return the folder for screenshots and PDFs: ``tests/artefacts``, or ``$REGDSL_ARTEFACTS``."""
    folder = Path(os.environ.get("REGDSL_ARTEFACTS") or ROOT / "tests" / "artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the bundled library (``regimens/``) once as a static site."""
    return build_site(ROOT / "regimens", tmp_path_factory.mktemp("site") / "site")


@pytest.fixture
def page_errors() -> PageErrors:
    """Record what goes wrong in the test's page: console errors, uncaught exceptions, dialogs."""
    return PageErrors()


@pytest.fixture
def page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """Open a fresh context and page; fail the test if the page reported any error."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            page_errors.add(f"console error at {message.location.get('url')}: {message.text}")

    def on_page_error(error: Error) -> None:
        page_errors.add(f"uncaught exception: {error.message}")

    def on_dialog(dialog: Dialog) -> None:
        page_errors.add(f"{dialog.type} dialog opened: {dialog.message!r}")
        dialog.dismiss()

    tab.on("console", on_console)
    tab.on("pageerror", on_page_error)
    tab.on("dialog", on_dialog)
    yield tab
    context.close()
    page_errors.check()
