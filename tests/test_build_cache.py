"""The build cache: a rebuild renders only the pages whose sources changed, and gives the same site."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import regdsl.check.run as run_mod
from regdsl.render.site import Built, build_site
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
# Two that hand over to each other, one that continues with another, and one alone.
NAMES = (
    "leu-all-bcell-rr-inotuzumab",
    "leu-all-bcell-rr-inotuzumab-cr",
    "leu-aml-induction-7-3",
    "leu-aml-consolidation-hidac",
    "lym-dlbcl-r-chop21",
)
ALL = tuple(sorted(NAMES))


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    folder.mkdir()
    for name in ("library", *NAMES):
        shutil.copy(REGIMENS / f"{name}.reg", folder / f"{name}.reg")
    return folder


def _build(library: Path, out: Path, *, cache: bool = True, jobs: int = 1, templates: Path | None = None) -> Built:
    run_mod._library.cache_clear()
    done = build_site([library], out, jobs=jobs, cache=cache, templates=templates)
    assert done.written, [d.message for d in done.outcome.diagnostics if d.level.value == "error"]
    return done


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _times(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_warm_rebuild_renders_nothing_and_leaves_every_file_as_it_was(
    library: Path, cache_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    first = _build(library, out)
    assert first.rendered == ALL
    assert first.index
    tree, times = _tree(out), _times(out)
    again = _build(library, out)
    assert again.rendered == ()
    assert not again.index
    assert _tree(out) == tree
    assert _times(out) == times  # nothing rewritten: an rsync or a browser sees no change


def test_one_changed_file_renders_its_pages_alone(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _build(library, out)
    times = _times(out)
    with (library / "lym-dlbcl-r-chop21.reg").open("a", encoding="utf-8") as handle:
        handle.write("# a comment: the page shows the file, so it is rendered again\n")
    again = _build(library, out)
    assert again.rendered == ("lym-dlbcl-r-chop21",)
    assert not again.index  # the index shows nothing that changed
    changed = {name for name, time in _times(out).items() if times.get(name) != time}
    assert changed <= {f"regimens/lym-dlbcl-r-chop21{ext}" for ext in (".html", ".md", ".json")}


def test_a_changed_library_file_renders_every_page(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _build(library, out)
    with (library / "library.reg").open("a", encoding="utf-8") as handle:
        handle.write("# a comment\n")
    assert _build(library, out).rendered == ALL


def test_a_changed_template_renders_every_page(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    templates = tmp_path / "templates"
    templates.mkdir()
    page = (ROOT / "regdsl" / "render" / "templates" / "page.md.j2").read_text(encoding="utf-8")
    (templates / "page.md.j2").write_text(page, encoding="utf-8")
    _build(library, out, templates=templates)
    assert _build(library, out, templates=templates).rendered == ()
    (templates / "page.md.j2").write_text(page + "\nLocal footer.\n", encoding="utf-8")
    again = _build(library, out, templates=templates)
    assert again.rendered == ALL
    assert again.index
    assert "Local footer." in (out / "regimens" / "lym-dlbcl-r-chop21.md").read_text(encoding="utf-8")
    assert _build(library, out).rendered == ALL  # the bundled templates again


def test_a_changed_sibling_title_renders_the_pages_that_show_it_and_no_other(
    library: Path, cache_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    _build(library, out)
    _edit(library / "leu-aml-consolidation-hidac.reg", 'name "LEU AML - cytarabine', 'name "LEU AML - HiDAC cytarabine')
    again = _build(library, out)
    # Its own pages, and those of the regimen that continues with it, which name it.
    assert again.rendered == ("leu-aml-consolidation-hidac", "leu-aml-induction-7-3")
    assert again.index  # its entry in the index changed
    assert "HiDAC cytarabine" in (out / "regimens" / "leu-aml-induction-7-3.html").read_text(encoding="utf-8")


def test_a_changed_status_renders_the_pages_that_show_it(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _build(library, out)
    _edit(library / "leu-all-bcell-rr-inotuzumab-cr.reg", "status draft", "status published")
    assert _build(library, out).rendered == ("leu-all-bcell-rr-inotuzumab", "leu-all-bcell-rr-inotuzumab-cr")


def test_every_way_of_building_gives_the_same_bytes(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    cold = tmp_path / "cold"
    _build(library, cold, cache=False)
    out = tmp_path / "site"
    for jobs in (1, 2, 1, 2):  # cold, then warm, in one worker and in two
        _build(library, out, jobs=jobs)
        assert _tree(out) == _tree(cold)
    _edit(library / "leu-aml-consolidation-hidac.reg", 'code "HiDAC"', 'code "HDAC"')
    _build(library, cold, cache=False)
    for jobs in (2, 1):  # after a change, in two workers and in one
        _build(library, out, jobs=jobs)
        assert _tree(out) == _tree(cold)
    assert _build(library, out, cache=False).rendered == ALL  # --no-cache renders everything
    assert _tree(out) == _tree(cold)


def test_the_same_bytes_whatever_the_hash_seed(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    trees = []
    for number, seed in enumerate(("0", "1", "12345")):
        out = tmp_path / f"site-{number % 2}"  # the third build is warm, over the first one's site
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-m", "regdsl", "build", str(library), "-o", str(out), "--quiet"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        trees.append(_tree(out))
    assert trees[0] == trees[1] == trees[2]


def test_a_corrupt_truncated_or_foreign_entry_is_rendered_again(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _build(library, out)
    tree = _tree(out)
    entries = sorted((cache_dir / "pages").glob("*.json"))
    assert len(entries) == len(ALL) + 2  # each regimen's, the site-wide files', and the whole build's
    damages: tuple[Callable[[bytes], bytes], ...] = (
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data.replace(b'"files"', b'"filez"'),  # not what the cache writes
        lambda data: data.replace(b"regdsl-pages 1", b"regdsl-pages 0"),  # another format
        lambda data: b"\xff\xfe" + data,  # not text
        lambda data: data.split(b"\n")[0] + b"\n" + b"[" * 100_000,  # nested too deeply
        lambda data: data.replace(b'"entry":{"id":"', b'"entry":{"id":"../'),  # another regimen
        lambda data: data.replace(b'"files":{"html":[', b'"files":{"html":[-'),  # a negative size
    )
    for entry, damage in zip(entries, damages * 2, strict=False):
        data = entry.read_bytes()
        damaged = damage(data)
        entry.write_bytes(damaged if damaged != data else data[:-1])  # (a damage this entry cannot take: cut)
    again = _build(library, out)
    assert again.rendered == ALL
    assert again.index
    assert _tree(out) == tree
    assert _build(library, out).rendered == ()  # the damaged entries were written again


def test_a_page_changed_by_hand_is_rendered_again(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _build(library, out)
    tree = _tree(out)
    page = out / "regimens" / "lym-dlbcl-r-chop21.html"
    page.write_text("edited by hand", encoding="utf-8")
    (out / "index.json").unlink()
    again = _build(library, out)
    assert again.rendered == ("lym-dlbcl-r-chop21",)
    assert again.index
    assert _tree(out) == tree


def test_pages_are_copied_where_links_cannot_be_made(
    library: Path, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    _build(library, out)
    tree, times = _tree(out), _times(out)

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError("links are not allowed here")

    monkeypatch.setattr(os, "link", refused)
    again = _build(library, out)
    assert again.rendered == ()
    assert not again.index
    assert _tree(out) == tree
    assert _times(out) == times
    monkeypatch.undo()
    monkeypatch.setenv("REGDSL_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("REGDSL_NO_CACHE", raising=False)
    assert _build(library, out).rendered == ()  # the copies were recorded


def test_no_cache_reads_and_writes_nothing(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert _build(library, out, cache=False).rendered == ALL
    assert not (cache_dir / "pages").exists() or not any((cache_dir / "pages").iterdir())
    _build(library, out)
    assert _build(library, out, cache=False).rendered == ALL


def test_a_second_build_in_one_process_uses_the_templates_as_they_are_now(library: Path, tmp_path: Path) -> None:
    # As `regdsl serve` rebuilds: the templates compiled for the first build must not outlive a change.
    out = tmp_path / "site"
    templates = tmp_path / "templates"
    templates.mkdir()
    page = (ROOT / "regdsl" / "render" / "templates" / "page.md.j2").read_text(encoding="utf-8")
    (templates / "page.md.j2").write_text(page + "\nFirst footer.\n", encoding="utf-8")
    _build(library, out, cache=False, templates=templates)
    (templates / "page.md.j2").write_text(page + "\nSecond footer.\n", encoding="utf-8")
    _build(library, out, cache=False, templates=templates)
    assert "Second footer." in (out / "regimens" / "lym-dlbcl-r-chop21.md").read_text(encoding="utf-8")


def test_a_removed_regimen_loses_its_pages_and_the_others_are_kept(
    library: Path, cache_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    _build(library, out)
    times = _times(out)
    (library / "lym-dlbcl-r-chop21.reg").unlink()
    again = _build(library, out)
    assert again.rendered == ()
    assert again.index
    assert not list((out / "regimens").glob("lym-dlbcl-r-chop21.*"))
    kept = {name: time for name, time in _times(out).items() if "/" in name}
    assert kept == {name: time for name, time in times.items() if "/" in name and "lym-dlbcl" not in name}
