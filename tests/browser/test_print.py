"""The seed page printed to A4 by Chromium: every dose row whole on one page, the pictures kept."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

pytestmark = pytest.mark.browser

SEED = "leu-all-bcell-rr-inotuzumab"


@pytest.fixture
def printed(page: Page, site: Path) -> Page:
    """Open the seed regimen's page in the test's page, as it prints."""
    page.goto((site / "regimens" / f"{SEED}.html").as_uri())
    page.emulate_media(media="print")
    return page


def squeeze(text: str) -> str:
    """Text as compared with PDF text: compatibility-normalised, with no whitespace at all.

    PDF text extraction breaks lines where the layout wrapped them, may join or split words at
    those breaks, and gives ligatures and superscripts as their own characters; none of that is
    a difference in what the reader sees.
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def dose_rows(page: Page) -> list[tuple[str, str]]:
    """Every dose table row's medicine and dose, as displayed, in document order."""
    rows: list[list[str]] = page.eval_on_selector_all(
        "tr[data-medicine]", "rows => rows.map(r => [r.dataset.medicine, r.dataset.dose])"
    )
    return [(medicine, dose) for medicine, dose in rows]


def split_rows(rows: list[tuple[str, str]], pages: list[str]) -> list[str]:
    """Each row not printed whole: its medicine and dose not found, or not on the same page.

    The rows are looked for in order, each after the one before. A row's dose is the first one
    after the next mention of its medicine; its medicine is the last mention before that dose
    (an earlier mention is prose, such as "30 minutes prior to inotuzumab ozogamicin").
    """
    stream = "".join(pages)
    ends = list(accumulate(len(text) for text in pages))

    def page_of(position: int) -> int:
        return bisect_right(ends, position) + 1

    problems: list[str] = []
    cursor = 0
    for medicine, dose in rows:
        row = f"{medicine} | {dose}"
        med = squeeze(medicine)
        mention = stream.find(med, cursor)
        dos = squeeze(dose)
        found = stream.find(dos, mention + len(med)) if mention >= 0 else -1
        if found < 0:
            problems.append(f"{row}: not in the PDF's text (after the rows before it)")
            continue
        medicine_page = page_of(stream.rfind(med, mention, found))
        if medicine_page != page_of(found):
            problems.append(f"{row}: split, the medicine on page {medicine_page}, the dose on {page_of(found)}")
        cursor = found + len(dos)
    return problems


def test_split_rows_tells_a_whole_row_from_a_split_one() -> None:
    rows = [("loratadine", "10 mg"), ("inotuzumab ozogamicin", "0.8 mg/m²")]
    whole = ["loratadine10mgoral30minutespriortoinotuzumabozogamicin.", "inotuzumabozogamicin0.8mg/m2IV"]
    assert split_rows(rows, whole) == []
    split = ["loratadine10mgoral", "inotuzumabozogamicin", "0.8mg/m2IV"]
    assert split_rows(rows, split) == [
        "inotuzumab ozogamicin | 0.8 mg/m²: split, the medicine on page 2, the dose on 3"
    ]
    assert split_rows([("loratadine", "1 mg")], whole) == [
        "loratadine | 1 mg: not in the PDF's text (after the rows before it)"
    ]


def test_print_keeps_every_dose_row_on_one_page(printed: Page, artefacts: Path) -> None:
    rows = dose_rows(printed)
    assert rows, "no dose table rows (tr[data-medicine][data-dose]) on the page"
    pdf = artefacts / f"{SEED}.pdf"
    printed.pdf(path=pdf, format="A4")
    pages = [squeeze(p.extract_text()) for p in PdfReader(pdf).pages]
    assert len(pages) > 1, "the seed regimen prints on one page: the PDF lost content"
    problems = split_rows(rows, pages)
    assert not problems, f"dose rows not printed whole ({pdf}):\n  " + "\n  ".join(problems)


def test_print_keeps_the_pictures(printed: Page) -> None:
    pictures = printed.locator("svg[role=img]")
    assert pictures.count() >= 2, "the calendar and the timeline are <svg role=img>"
    for picture in pictures.all():
        expect(picture).to_be_visible()
