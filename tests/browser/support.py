"""What the browser tests share: page error records, axe-core, screenshots, layout checks."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page, ViewportSize

from regdsl.cli.main import main

__all__ = [
    "PHONE",
    "PageErrors",
    "assert_accessible",
    "assert_no_horizontal_scroll",
    "build_site",
    "heading",
    "regdsl",
    "screenshot",
]

# An iPhone 12 to 15 sized viewport.
PHONE: ViewportSize = {"width": 390, "height": 844}

# axe-core impacts that fail a page; "minor" and "moderate" findings are left to review.
FAILING_IMPACTS = frozenset({"serious", "critical"})


@dataclass
class PageErrors:
    """Console errors, uncaught exceptions and dialogs of one test's page, in order."""

    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        """Record one."""
        self.messages.append(message)

    def check(self) -> None:
        """Fail the test if anything was recorded."""
        if self.messages:
            pytest.fail("the page reported errors:\n  " + "\n  ".join(self.messages), pytrace=False)


def _violation_report(violation: dict[str, Any]) -> str:
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"]
    for node in violation["nodes"]:
        target = " ".join(str(t) for t in node["target"])
        lines.append(f"    at {target}: {node['html']}")
        lines.extend(f"      {line}" for line in str(node.get("failureSummary", "")).splitlines())
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Run axe-core (default rules, nothing excluded); fail on any serious or critical violation."""
    response = cast(dict[str, Any], Axe().run(page).response)
    violations = [v for v in response["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not violations, f"axe-core: {len(violations)} serious or critical violation(s) on {page.url}:\n" + "\n".join(
        _violation_report(v) for v in violations
    )


def assert_no_horizontal_scroll(page: Page) -> None:
    """Check that the page fits its viewport's width: nothing makes the document scroll sideways."""
    scroll_width, client_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if scroll_width > client_width + 1:
        wide = page.evaluate(
            """(width) => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
                          + ' (right edge ' + Math.round(e.getBoundingClientRect().right) + 'px)')""",
            client_width,
        )
        pytest.fail(
            f"{page.url} scrolls sideways at {client_width}px: content is {scroll_width}px wide; "
            f"elements reaching past it: {', '.join(wide)}",
            pytrace=False,
        )


def screenshot(page: Page, artefacts: Path, name: str) -> Path:
    """Save a full-page screenshot as ``ARTEFACTS/NAME.png``."""
    path = artefacts / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def heading(text: str) -> re.Pattern[str]:
    """Match an accessible name holding ``text`` as whole words, in any case."""
    return re.compile(rf"\b{re.escape(text)}\b", re.IGNORECASE)


def regdsl(*args: str) -> tuple[int, str]:
    """Run the command line in process; return its exit code and what it printed."""
    output = io.StringIO()
    return main(list(args), out=output), output.getvalue()


def build_site(library: Path, out: Path) -> Path:
    """Run ``regdsl build LIBRARY -o OUT``; fail with its output unless it exits 0."""
    code, output = regdsl("build", str(library), "-o", str(out))
    assert code == 0, f"regdsl build {library} exited {code}:\n{output}"
    return out
