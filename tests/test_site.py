"""The static site: its tree, index and catalogue, links, atomic replacement, refusal, determinism."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from regdsl.check.run import Outcome, run_check
from regdsl.cli.main import EXIT_ERRORS, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, _ProgressBar, main
from regdsl.compile.library import check_paths, scan_regimens
from regdsl.compile.passes import Compiled
from regdsl.render import env, site
from regdsl.render.context import RenderContext
from regdsl.render.pages import FORMATS, render_all
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
SEED = "leu-all-bcell-rr-inotuzumab"
HANDOVER = "leu-all-bcell-rr-inotuzumab-cr"
TRAILING = ROOT / "tests" / "diagnostics" / "SAF101" / "trailing-zero.reg"
IDS = sorted(r.id for r in check_paths([REGIMENS]).regimens)


def _build(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["build", *args], out=out), out.getvalue()


def _tree(folder: Path) -> dict[str, str]:
    """Return every file under ``folder`` (its POSIX path relative to it) with the SHA-256 of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _leftovers(out: Path) -> list[str]:
    """Return the build's temporary or set-aside folders left beside ``out``."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.regdsl-") and p.is_dir())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the bundled library once into a fresh folder."""
    out = tmp_path_factory.mktemp("built") / "site"
    code, text = _build(str(REGIMENS), "-o", str(out))
    assert code == EXIT_OK, text
    return out


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Copy the bundled library, for a test to change."""
    return Path(shutil.copytree(REGIMENS, tmp_path / "library"))


def test_the_tree_holds_every_page_and_the_index(built: Path) -> None:
    pages = {f"{site.PAGES}/{i}.{ext}" for i in IDS for ext in ("html", "md", "json")}
    expected = {"index.html", "index.json", "search-index.js", "search.js", site.MARKER} | pages
    assert set(_tree(built)) == expected
    assert _leftovers(built) == []


def test_the_catalogue_lists_every_regimen_sorted_by_id(built: Path) -> None:
    text = (built / "index.json").read_text(encoding="utf-8")
    assert text.endswith("]\n")
    catalogue = json.loads(text)
    assert [entry["id"] for entry in catalogue] == IDS
    by_id = {entry["id"]: entry for entry in catalogue}
    assert by_id[HANDOVER] == {
        "id": HANDOVER,
        "name": "LEU ALL precursor B-cell Relapsed/Refractory - inotuzumab ozogamicin (CR or CRi achieved)",
        "cancer": ["Leukaemia", "Acute lymphoblastic leukaemia", "Precursor B-cell"],
        "setting": "Relapsed/Refractory",
        "status": "draft",
        "outputs": {fmt: f"regimens/{HANDOVER}.{fmt}" for fmt in FORMATS},
    }
    assert by_id[SEED]["status"] == "published"
    for entry in catalogue:
        assert list(entry) == sorted(entry)
        for path in entry["outputs"].values():
            assert (built / path).is_file(), path


def test_linked_regimens_link_to_pages_that_exist(built: Path) -> None:
    seed = (built / site.PAGES / f"{SEED}.html").read_text(encoding="utf-8")
    assert f'href="{HANDOVER}.html"' in seed
    assert f'"{HANDOVER}"' in (built / site.PAGES / f"{SEED}.json").read_text(encoding="utf-8")
    broken = []
    for page in sorted(built.rglob("*.html")):
        for href in re.findall(r'href="([^"#]+)(?:#[^"]*)?"', page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", href):
                continue  # an address outside the site (a reference's web page)
            if not (page.parent / href).is_file():
                broken.append(f"{page.relative_to(built)}: {href}")
    assert broken == []


def test_the_index_groups_by_cancer_then_setting_and_flags_drafts(built: Path) -> None:
    html = (built / "index.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h([1-3])[^>]*>([^<]*)</h\1>", html)
    assert [level for level, _text in headings][:3] == ["1", "2", "3"]
    cancers = [text for level, text in headings if level == "2"]
    assert cancers == sorted(cancers, key=str.casefold)
    assert "Leukaemia" in cancers
    assert "Relapsed/Refractory" in [text for level, text in headings if level == "3"]
    for regimen_id in IDS:
        assert f'href="regimens/{regimen_id}.html"' in html
    draft = html.split(f'data-id="{HANDOVER}"', 1)[1].split("</li>", 1)[0]
    assert "status-draft" in draft
    assert "Draft" in draft


def test_the_index_is_self_contained_and_labelled(built: Path) -> None:
    html = (built / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "<main" in html
    assert '<label for="regimen-filter">' in html
    assert 'id="regimen-filter"' in html
    assert re.findall(r'<script src="([^"]+)"', html) == ["search-index.js", "search.js"]
    assert "<link" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//|@import|url\(", html)
    script = (built / "search.js").read_text(encoding="utf-8")
    assert "http" not in script
    assert "fetch(" not in script  # browsers refuse fetch() from file://


def test_the_search_catalogue_is_a_script_defining_a_global(built: Path) -> None:
    text = (built / "search-index.js").read_text(encoding="utf-8")
    prefix = f"window.{site.SEARCH_GLOBAL} = "
    assert text.startswith(prefix)
    assert text.endswith(";\n")
    entries = json.loads(text.removeprefix(prefix).removesuffix(";\n"))
    assert [e["id"] for e in entries] == IDS
    seed = next(e for e in entries if e["id"] == SEED)
    assert "inotuzumab ozogamicin" in seed["medicines"]
    assert seed["setting"] == "Relapsed/Refractory"
    assert site.SEARCH_GLOBAL in (built / "search.js").read_text(encoding="utf-8")


def test_the_templates_are_compiled_before_the_check_starts_its_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Workers forked by the check inherit the compiled templates: none is compiled while the check runs."""
    compiled: list[str] = []
    checking: list[bool] = [False]
    parse = env._Sandbox._parse

    def counted(sandbox: env._Sandbox, source: str, name: str | None, filename: str | None) -> jinja2.nodes.Template:
        if checking[0]:
            compiled.append(name or "")
        return parse(sandbox, source, name, filename)

    def check(*args: Any, **kwargs: Any) -> Outcome:
        checking[0] = True
        try:
            return run_check(*args, **kwargs)
        finally:
            checking[0] = False

    monkeypatch.setattr("regdsl.render.env._Sandbox._parse", counted)
    monkeypatch.setattr("regdsl.render.site.run_check", check)
    env.environment.cache_clear()  # as in a fresh process
    built = site.build_site([REGIMENS / f"{SEED}.reg"], tmp_path / "site", jobs=1)
    assert built.written
    assert compiled == []


def test_a_source_error_fails_the_build_and_keeps_the_old_site(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert _build(str(library), "-o", str(out))[0] == EXIT_OK
    before = _tree(out)
    shutil.copy(TRAILING, library / "bad.reg")
    code, text = _build(str(library), "-o", str(out))
    assert code == EXIT_ERRORS
    assert "SAF101" in text
    assert "built" not in text
    assert _tree(out) == before
    assert _leftovers(out) == []


def test_warnings_fail_the_build_under_strict(library: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "diagnostics" / "VOC010" / "named-two-ways.reg", library / "warned.reg")
    out = tmp_path / "site"
    assert _build(str(library), "-o", str(out), "--strict")[0] == EXIT_ERRORS
    assert not out.exists()
    assert _build(str(library), "-o", str(out))[0] == EXIT_OK
    assert (out / site.PAGES / "fixture.html").is_file()


@pytest.mark.parametrize("failure", [RuntimeError("a page failed"), KeyboardInterrupt()])
def test_a_failure_while_rendering_keeps_the_old_site(
    failure: BaseException, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert _build(str(REGIMENS), "-o", str(out))[0] == EXIT_OK
    before = _tree(out)
    calls: list[str] = []

    def failing(compiled: Compiled, context: RenderContext) -> dict[str, str]:
        calls.append(compiled.regimen.id)
        if len(calls) > 2:
            raise failure
        return render_all(compiled, context)

    monkeypatch.setattr(site, "render_all", failing)
    with pytest.raises(type(failure)):
        site.build_site([REGIMENS], out, jobs=1)
    assert len(calls) == 3
    assert _tree(out) == before
    assert _leftovers(out) == []


def test_an_exception_in_a_page_is_an_internal_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def failing(*args: object) -> dict[str, str]:
        raise RuntimeError("a page failed")

    monkeypatch.setattr(site, "render_all", failing)
    assert _build(str(REGIMENS), "-o", str(tmp_path / "site"))[0] == EXIT_INTERNAL
    assert list(tmp_path.iterdir()) == []


def test_a_folder_regdsl_did_not_write_is_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work\n", encoding="utf-8")
    assert _build(str(REGIMENS), "-o", str(out))[0] == EXIT_USAGE
    assert "was not written by `regdsl build`" in capsys.readouterr().err
    assert _tree(out) == {"thesis.tex": hashlib.sha256(b"years of work\n").hexdigest()}
    assert _leftovers(out) == []
    a_file = tmp_path / "notes.txt"
    a_file.write_text("notes\n", encoding="utf-8")
    assert _build(str(REGIMENS), "-o", str(a_file))[0] == EXIT_USAGE
    assert a_file.read_text(encoding="utf-8") == "notes\n"


def test_an_empty_folder_or_a_previous_site_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    assert _build(str(REGIMENS), "-o", str(out))[0] == EXIT_OK
    (out / site.PAGES / "stale.html").write_text("from an older build\n", encoding="utf-8")
    assert _build(str(REGIMENS), "-o", str(out))[0] == EXIT_OK
    assert not (out / site.PAGES / "stale.html").exists()
    assert site.is_site(out)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    assert _build(str(REGIMENS), "-o", str(real))[0] == EXIT_OK
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert _build(str(REGIMENS), "-o", str(link))[0] == EXIT_USAGE
    assert link.is_symlink()


def test_the_same_sources_give_the_same_bytes_whatever_the_seed_or_workers(tmp_path: Path) -> None:
    trees = []
    for seed, jobs in (("0", "1"), ("12345", "2")):
        out = tmp_path / f"site-{seed}"
        proc = subprocess.run(
            [sys.executable, "-m", "regdsl", "build", str(REGIMENS), "-o", str(out), "--jobs", jobs],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
        trees.append(_tree(out))
    assert trees[0] == trees[1]


def test_templates_given_on_the_command_line_replace_the_index(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / site.INDEX_TEMPLATE).write_text(
        "{% for group in view.groups %}{{ group.name }};{% endfor %}\n", encoding="utf-8"
    )
    out = tmp_path / "site"
    assert _build(str(REGIMENS), "-o", str(out), "--templates", str(templates))[0] == EXIT_OK
    names = (out / "index.html").read_text(encoding="utf-8").strip().rstrip(";").split(";")
    assert "Leukaemia" in names
    assert names == sorted(names, key=str.casefold)


def test_the_summary_says_what_was_built(tmp_path: Path) -> None:
    code, text = _build(str(REGIMENS), "-o", str(tmp_path / "site"))
    assert code == EXIT_OK
    assert re.search(rf"^built {len(IDS)} regimens into .*site/ \({3 * len(IDS)} pages\) in \d+\.\d s$", text, re.M)


def test_the_progress_bar_redraws_one_line() -> None:
    stream = io.StringIO()
    bar = _ProgressBar(stream, "building")
    for done in range(1, 11):
        bar(done, 10)
    bar.clear()
    text = stream.getvalue()
    assert "\rbuilding 10/10 [" + "#" * _ProgressBar.WIDTH + "]" in text
    assert "\n" not in text
    assert text.endswith("\r")


def test_the_progress_bar_is_quiet_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setenv("CI", "true")
    assert _ProgressBar.wanted("building") is None
    monkeypatch.delenv("CI")
    assert _ProgressBar.wanted("building") is not None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert _ProgressBar.wanted("building") is None


def test_the_quick_scan_reads_the_regimen_name_from_its_header(tmp_path: Path) -> None:
    (tmp_path / "a.reg").write_text(
        'regimen a\n  name "A \\"quoted\\" name"\n  status draft\n\ncycle 1: 21 days\n', encoding="utf-8"
    )
    (tmp_path / "b.reg").write_text('regimen b\n  status draft\n\nfootnote x "y"\n  name "not b"\n', encoding="utf-8")
    infos = scan_regimens(tmp_path)
    assert infos["a"].name == 'A "quoted" name'
    assert infos["b"].name is None


HANDOVER = "leu-all-bcell-rr-inotuzumab-cr"


@pytest.mark.parametrize("how", ["excluded", "not among the sources"])
def test_a_regimen_the_build_leaves_out_is_named_but_not_linked(how: str, tmp_path: Path) -> None:
    library = Path(shutil.copytree(REGIMENS, tmp_path / "library"))
    out = tmp_path / "site"
    if how == "excluded":
        (library / "regdsl.toml").write_text(f'exclude = ["{HANDOVER}.reg"]\n', encoding="utf-8")
        sources = [str(library)]
    else:
        sources = [str(library / f"{SEED}.reg")]
    assert _build(*sources, "-o", str(out))[0] == EXIT_OK
    page = (out / site.PAGES / f"{SEED}.html").read_text(encoding="utf-8")
    assert not (out / site.PAGES / f"{HANDOVER}.html").exists()
    assert f'href="{HANDOVER}.html"' not in page
    assert "inotuzumab ozogamicin (CR or CRi achieved)" in page
    assert f"({HANDOVER}.md)" not in (out / site.PAGES / f"{SEED}.md").read_text(encoding="utf-8")


def test_a_superseded_page_links_to_its_replacement(tmp_path: Path) -> None:
    source = Path(
        shutil.copytree(ROOT / "tests" / "diagnostics" / "BRA008" / "pass-chain-to-current", tmp_path / "src")
    )
    code, text = _build(str(source), "-o", str(tmp_path / "site"))
    assert code == EXIT_OK, text
    pages = tmp_path / "site" / "regimens"
    for old, new in (("bra008-old", "bra008-mid"), ("bra008-mid", "bra008-new")):
        html = (pages / f"{old}.html").read_text(encoding="utf-8")
        banner = re.search(r'<p class="banner"[^>]*>(.*?)</p>', html, re.DOTALL)
        assert banner is not None
        assert f'Replaced by <a href="{new}.html">Fixture {new}</a>' in banner.group(1)
        assert f"> Replaced by Fixture {new} ({new}.html)." in (pages / f"{old}.md").read_text(encoding="utf-8")
