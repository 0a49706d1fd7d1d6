"""Markup in every text field of a regimen is shown as text, never obeyed, in every output.

A library whose every text field carries script payloads is checked (the checker refuses a
``javascript:`` link, at its line), then built as a site; its pages are opened in Chromium
and must run nothing of it, link nowhere but http(s) and the site's own files, and show every
payload as literal text. Its Markdown and JSON hold no raw ``<script``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from playwright.sync_api import Page

from tests.browser.support import build_site, regdsl

pytestmark = pytest.mark.browser

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "[x](javascript:window.__xss=1)",
)
HOSTILE = " ".join(PAYLOADS)
REGIMEN = "xss-hostile"

# Each field's text is its label and every payload, so that a page shows which field it is.
FIELDS = (
    "name",
    "title",
    "overview",
    "cycle title",
    "instructions",
    "note",
    "support value",
    "support note",
    "reference",
    "footnote",
    "lifetime limit source",
)
CANCER = f"cancer: {HOSTILE}"


def shown(field: str) -> str:
    """Return the text a field holds, and its page must show literally."""
    return f"{field}: {HOSTILE}"


def quoted(text: str) -> str:
    """Return ``text`` as a quoted string of the language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


LIBRARY = f"""\
library "hostile"

footnote hostile "*"
  | {shown("footnote")}

medicine "paracetamol"
  lifetime max 100000 mg {quoted(shown("lifetime limit source"))}
"""


def regimen_source(url: str) -> str:
    """Return the hostile regimen, its one reference linking to ``url``."""
    return f"""\
regimen {REGIMEN}
  name {quoted(shown("name"))}
  title {quoted(shown("title"))}
  status published
  cancer {quoted(CANCER)}
  setting "Relapsed/Refractory"
  footnotes hostile
  overview
    | {shown("overview")}

cycle 1: 21 days
  title {quoted(shown("cycle title"))}
  paracetamol 1000 mg flat oral day 1
    | {shown("instructions")}
  note paracetamol
    | {shown("note")}

plan
  stop if response is PD

support
  Emetogenicity: {shown("support value")}
  note Emetogenicity
    | {shown("support note")}

reference {quoted(shown("reference"))}
  url {quoted(url)}
"""


def write_library(folder: Path, url: str) -> Path:
    """Write the hostile library (``library.reg`` and the regimen) into ``folder``."""
    folder.mkdir(parents=True)
    (folder / "library.reg").write_text(LIBRARY, encoding="utf-8")
    (folder / f"{REGIMEN}.reg").write_text(regimen_source(url), encoding="utf-8")
    return folder


@dataclass(frozen=True)
class Built:
    """The hostile library built as a site, and the bundled library's site to compare with."""

    site: Path
    bundled: Path

    def regimen(self, extension: str) -> Path:
        """Return the hostile regimen's page of that extension."""
        return self.site / "regimens" / f"{REGIMEN}{extension}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, site: Path) -> Built:
    """Check and build the hostile library, its link an https address with markup in it."""
    folder = write_library(tmp_path_factory.mktemp("hostile") / "library", 'https://example.org/?q="><svg onload=x>')
    code, output = regdsl("check", str(folder))
    assert code == 0, f"the hostile library (https link) fails the check:\n{output}"
    return Built(build_site(folder, folder.parent / "site"), site)


def test_the_checker_refuses_a_javascript_link(tmp_path: Path) -> None:
    folder = write_library(tmp_path / "library", "javascript:alert(1)")
    code, output = regdsl("check", "--format", "json", str(folder))
    url_line = 1 + regimen_source("javascript:alert(1)").splitlines().index('  url "javascript:alert(1)"')
    errors = [d for d in json.loads(output) if d["severity"] == "error"]
    assert code == 1
    assert [(Path(d["path"]).name, d["line"]) for d in errors] == [(f"{REGIMEN}.reg", url_line)], errors


def scripts(page: Page) -> list[str]:
    """Return the open page's scripts: each one's ``src``, or ``inline``, sorted."""
    return sorted(page.eval_on_selector_all("script", "ss => ss.map(s => s.getAttribute('src') || 'inline')"))


def page_faults(page: Page, site: Path, own_scripts: list[str]) -> list[str]:
    """Return everything on the open page that shows a payload was obeyed rather than shown."""
    faults: list[str] = []
    if page.evaluate("() => typeof window.__xss") != "undefined":
        faults.append("a payload ran: window.__xss is set")
    if scripts(page) != own_scripts:
        faults.append(f"scripts {scripts(page)}, where the site's own page of this kind has {own_scripts}")
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
            .filter(a => a.name.toLowerCase().startsWith('on'))
            .map(a => `<${e.tagName.toLowerCase()} ${a.name}="${a.value}">`))"""
    )
    faults.extend(f"an event handler attribute: {h}" for h in handlers)
    scripted = page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
            .filter(a => /^\\s*(javascript|vbscript|data):/i.test(a.value))
            .map(a => `<${e.tagName.toLowerCase()} ${a.name}="${a.value}">`))"""
    )
    faults.extend(f"a script address: {s}" for s in scripted)
    for href, resolved in page.eval_on_selector_all("a[href]", "as => as.map(a => [a.getAttribute('href'), a.href])"):
        url = urlsplit(resolved)
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href):
            if url.scheme not in ("http", "https"):
                faults.append(f"a link to {href!r}")
        elif not Path(unquote(url.path)).resolve().is_relative_to(site.resolve()):
            faults.append(f"a relative link {href!r} out of the site")
        elif not Path(unquote(url.path)).is_file():
            faults.append(f"a relative link {href!r} to no file of the site")
    return faults


def visible_text(page: Page) -> str:
    """Return the page's rendered text, every <details> open, whitespace collapsed."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    return " ".join(page.inner_text("body").split())


def own_scripts(page: Page, path: Path) -> list[str]:
    """Return the scripts of the bundled site's page ``path`` (the site's own, per kind of page)."""
    page.goto(path.as_uri())
    return scripts(page)


def test_regimen_page_shows_markup_as_text(page: Page, built: Built) -> None:
    own = own_scripts(page, built.bundled / "regimens" / "leu-all-bcell-rr-inotuzumab.html")
    page.goto(built.regimen(".html").as_uri())
    assert page_faults(page, built.site, own) == []
    text = visible_text(page)
    missing = [field for field in FIELDS if shown(field) not in text]
    assert not missing, f"fields not shown as literal text: {missing}"
    assert shown("name") in page.title()


def test_index_shows_markup_as_text(page: Page, built: Built) -> None:
    own = own_scripts(page, built.bundled / "index.html")
    page.goto((built.site / "index.html").as_uri())
    assert page_faults(page, built.site, own) == []
    text = visible_text(page)
    assert shown("name") in text
    assert CANCER in text


def raw_markup(text: str) -> list[str]:
    """Return the lines of ``text`` holding a payload's tag unescaped (``<script``, ``<img``, ``<svg``)."""
    return [line for line in text.splitlines() if re.search(r"<(script|img|svg)", line, re.IGNORECASE)]


def test_markdown_escapes_markup(built: Built) -> None:
    raw = raw_markup(built.regimen(".md").read_text(encoding="utf-8"))
    assert not raw, "raw markup in the Markdown page:\n" + "\n".join(raw)


def test_json_is_valid_and_holds_no_raw_markup(built: Built) -> None:
    text = built.regimen(".json").read_text(encoding="utf-8")
    document = json.loads(text)
    code, schema = regdsl("schema")
    assert code == 0
    Draft202012Validator(json.loads(schema), format_checker=FormatChecker()).validate(document)
    assert document["name"] == shown("name")
    raw = raw_markup(text)
    assert not raw, f"{len(raw)} JSON line(s) with raw markup (< is safe written as \\u003c), first: {raw[0]}"
