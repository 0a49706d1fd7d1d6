"""The results cache: what a re-check reads back, what invalidates it, and what it refuses."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import regdsl.check.run as run_mod
from regdsl.check import cache as cache_mod
from regdsl.check.config import Config
from regdsl.check.run import Outcome, run_check
from regdsl.cli.main import main
from regdsl.compile.links import links
from regdsl.diagnostics.formats import FORMATS
from regdsl.source import SourceFile
from tests.conftest import ROOT

LINKED = ROOT / "tests" / "diagnostics" / "BRA010"  # regimens that hand over to each other: library findings


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    shutil.copytree(ROOT / "regimens", folder)
    for case in LINKED.glob("*.reg"):
        shutil.copy(case, folder / case.name)
    return folder


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Make a few regimens, findings in each, and regimens that hand over to each other (library findings)."""
    folder = tmp_path / "small"
    folder.mkdir()
    for name in ("library.reg", "crc-adjuvant-mfolfox6.reg", "leu-all-bcell-rr-inotuzumab.reg"):
        shutil.copy(ROOT / "regimens" / name, folder / name)
    shutil.copy(ROOT / "tests" / "formats" / "findings.reg", folder / "findings.reg")
    for case in LINKED.glob("*.reg"):
        shutil.copy(case, folder / case.name)
    return folder


class _Counting:
    """Counts the files ``run_check`` lowers, by wrapping ``lower_file``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = run_mod.lower_file  # type: ignore[attr-defined]

        def counted(path: Path, *args: object, **kwargs: object) -> object:
            self.paths.append(path.name)
            return real(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(run_mod, "lower_file", counted)


def _check(folder: Path, *, cache: bool = True) -> Outcome:
    return run_check([folder], jobs=1, cache=cache)


def _shown(outcome: Outcome) -> str:
    return "".join(FORMATS[f](outcome.diagnostics, outcome.sources) for f in ("text", "json", "sarif"))


def test_a_warm_check_lowers_nothing_and_finds_the_same(
    library: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _shown(_check(library, cache=False))
    cold = _shown(_check(library))
    counting = _Counting(monkeypatch)
    warm = _check(library)
    assert counting.paths == []
    assert _shown(warm) == cold == plain
    assert "BRA010" in plain  # the library rules' findings come back from the cache too


def test_one_changed_file_is_the_only_one_checked_again(
    library: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(library)
    changed = library / "crc-adjuvant-mfolfox6.reg"
    changed.write_text(changed.read_text(encoding="utf-8").replace("400 mg/m2", "400.0 mg/m2", 1), encoding="utf-8")
    full = _check(library, cache=False)
    counting = _Counting(monkeypatch)
    warm = _check(library)
    # It writes no link and none names it: the library rules' findings are read back, nothing else is lowered.
    assert counting.paths == [changed.name]
    assert _shown(warm) == _shown(full)
    assert any(d.code.code == "SAF101" and d.span.path == str(changed) for d in warm.diagnostics)
    # A file links join: lowered again with the regimens it is joined to (its part), and no other.
    linked = library / "leu-all-bcell-rr-inotuzumab-cr.reg"
    linked.write_text(linked.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    full = _check(library, cache=False)
    counting.paths.clear()
    warm = _check(library)
    named = {link.target for r in full.regimens for link in links(r)}
    joined = {Path(r.span.path).name for r in full.regimens if r.id in named or any(links(r))}
    assert set(counting.paths) == {linked.name, "leu-all-bcell-rr-inotuzumab.reg"}
    assert set(counting.paths) < joined
    assert _shown(warm) == _shown(full)


def test_what_the_findings_are_made_of_invalidates_them(
    library: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(library)
    # A sibling's status (read by the link rules) is part of every file's key.
    sibling = library / "lym-dlbcl-r-chop21.reg"
    sibling.write_text(sibling.read_text(encoding="utf-8").replace("status draft", "status published"), "utf-8")
    counting = _Counting(monkeypatch)
    _check(library)
    assert len(set(counting.paths)) == len(list(library.glob("*.reg"))) - 1  # every regimen; library.reg is read
    # A new version of the package: its digest.
    monkeypatch.setattr(cache_mod, "package_digest", lambda: "another regdsl")
    counting.paths.clear()
    _check(library)
    assert len(set(counting.paths)) == len(list(library.glob("*.reg"))) - 1


def test_configuration_applies_to_findings_read_back(library: Path, cache_dir: Path, tmp_path: Path) -> None:
    _check(library)
    (library / "regdsl.toml").write_text('ignore = ["BRA010"]\n', encoding="utf-8")
    out = io.StringIO()
    assert main(["check", "--format", "concise", str(library)], out=out) == 0
    assert "BRA010" not in out.getvalue()
    plain = io.StringIO()
    main(["check", "--no-cache", "--format", "concise", str(library)], out=plain)
    assert out.getvalue() == plain.getvalue()


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "results").glob("*.json"))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"garbage", id="garbage"),
        pytest.param(lambda data: data.replace(b"regdsl-results 2", b"regdsl-results 0", 1), id="old-format"),
        pytest.param(lambda data: data.split(b"\n", 1)[0] + b"\n" + b"[" * 100_000, id="nested"),
        pytest.param(lambda data: data.split(b"\n", 1)[0] + b'\n{"diagnostics": 1}', id="wrong-shape"),
        pytest.param(lambda data: data.replace(b'"code":"', b'"code":"X', 1), id="unknown-code"),
        pytest.param(lambda data: data.split(b"\n", 1)[0] + b"\n\xff\xfe", id="not-utf8"),
    ],
)
def test_a_damaged_entry_is_ignored_and_written_again(
    damage: object, small: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _shown(_check(small, cache=False))
    _check(small)
    for entry in _entries(cache_dir):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert _shown(_check(small)) == expected
    counting = _Counting(monkeypatch)
    assert _shown(_check(small)) == expected  # written again: the next check reads it
    assert counting.paths == []


def test_an_entry_with_offsets_outside_its_file_is_refused(small: Path, cache_dir: Path) -> None:
    expected = _shown(_check(small, cache=False))
    _check(small)
    for entry in _entries(cache_dir):
        header, _, body = entry.read_bytes().partition(b"\n")
        value = json.loads(body)
        files = value.get("files", [value]) if isinstance(value, dict) else []  # a run's entry, or a file's
        for diag in (d for f in files for d in f.get("diagnostics", [])):
            diag["labels"][0][2] = 10**9
        entry.write_bytes(header + b"\n" + json.dumps(value).encode())
    assert _shown(_check(small)) == expected


def test_a_warm_check_reads_one_entry(small: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _check(small)
    read: list[str] = []
    real = cache_mod.read_cached  # type: ignore[attr-defined]

    def counted(folder: int, name: str, limit: int) -> bytes | None:
        read.append(name)
        return real(folder, name, limit)

    monkeypatch.setattr(cache_mod, "read_cached", counted)
    _check(small)
    assert len(read) == 2  # the library's headings, and the run's entry
    read.clear()
    changed = small / "crc-adjuvant-mfolfox6.reg"
    changed.write_text(changed.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    assert _shown(_check(small)) == _shown(_check(small, cache=False))
    # the headings, the last run's entry (every other file's findings and each part's), the changed file's own
    assert len(read) == 3


def test_a_cache_another_user_could_write_is_not_used(
    small: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(small)
    results = cache_dir / "results"
    os.chmod(results, 0o777)
    counting = _Counting(monkeypatch)
    _check(small)
    assert len(counting.paths) >= len(list(small.glob("*.reg"))) - 1
    os.chmod(results, 0o700)
    for entry in _entries(cache_dir):
        os.chmod(entry, stat.S_IRUSR | stat.S_IWUSR | stat.S_IWOTH)
    counting.paths.clear()
    _check(small)
    assert len(counting.paths) >= len(list(small.glob("*.reg"))) - 1


def test_an_entry_that_is_a_link_is_not_followed(small: Path, cache_dir: Path, tmp_path: Path) -> None:
    expected = _shown(_check(small, cache=False))
    _check(small)
    elsewhere = tmp_path / "elsewhere.json"
    for entry in _entries(cache_dir):
        elsewhere.write_bytes(entry.read_bytes())
        entry.unlink()
        entry.symlink_to(elsewhere)
    elsewhere.write_bytes(b"regdsl-results 2 x\n[]")
    assert _shown(_check(small)) == expected


def test_the_cache_is_made_private(small: Path, cache_dir: Path) -> None:
    _check(small)
    for folder in (cache_dir, cache_dir / "results"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(e.stat().st_mode) == 0o600 for e in _entries(cache_dir))
    for entry in _entries(cache_dir):  # JSON after a header naming the format and the key
        header, _, body = entry.read_bytes().partition(b"\n")
        assert header == f"regdsl-results 2 {entry.stem}".encode()
        json.loads(body)


def test_no_cache_neither_reads_nor_writes(small: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    assert main(["check", "--no-cache", str(small)], out=out) == 1
    assert _entries(cache_dir) == []
    main(["check", str(small)], out=io.StringIO())
    assert _entries(cache_dir)
    counting = _Counting(monkeypatch)
    again = io.StringIO()
    main(["check", "--no-cache", str(small)], out=again)
    assert counting.paths
    assert again.getvalue() == out.getvalue()


def test_an_unusable_cache_folder_is_no_error(small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("REGDSL_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("REGDSL_NO_CACHE", raising=False)
    assert _shown(_check(small)) == _shown(_check(small, cache=False))


def test_a_warm_check_parses_no_heading(library: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import regdsl.compile.library as library_mod

    expected = _shown(_check(library))
    parsed: list[str] = []
    real = library_mod.parse_heading  # type: ignore[attr-defined]

    def counted(source: SourceFile) -> object:
        parsed.append(source.path)
        return real(source)

    monkeypatch.setattr(library_mod, "parse_heading", counted)
    assert _shown(_check(library)) == expected
    assert parsed == []
    renamed = library / "zz-renamed.reg"
    (library / "crc-adjuvant-mfolfox6.reg").rename(renamed)  # a path is part of what the scan kept
    moved = _check(library)
    assert parsed == [str(renamed)]  # the others' headings are read back: only the renamed file's is parsed
    assert run_mod._library.cache_info().currsize == 0  # forgotten after the run, as after every run
    assert _shown(moved) == _shown(_check(library, cache=False))
    parsed.clear()
    changed = library / "leu-all-bcell-rr-inotuzumab.reg"
    changed.write_text(changed.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    _check(library)
    assert parsed == [str(changed)]


def test_a_warm_check_looks_for_no_hidden_character_again(
    small: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read back from the cache is decoded for its findings' places, not judged again: they say what it holds."""
    import regdsl.compile.library as library_mod

    (small / "hidden.reg").write_text((small / "findings.reg").read_text(encoding="utf-8") + "# a\u200bb\n")
    expected = _shown(_check(small))
    assert "invisible" in expected
    judged: list[str] = []
    real = library_mod.refuse_hidden  # type: ignore[attr-defined]

    def counted(source: SourceFile, *args: object) -> object:
        judged.append(Path(source.path).name)
        return real(source, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(library_mod, "refuse_hidden", counted)
    assert _shown(_check(small)) == expected
    assert judged == ["library.reg"]  # the library's own definitions are read again, its findings with them


def test_a_check_reads_each_regimen_file_once(small: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes the library's scan read are the ones a file's key is made of: one read of each file a run."""
    import regdsl.compile.library as library_mod

    expected = _shown(_check(small))
    reads: list[str] = []
    real = library_mod.read_regular

    def counted(path: Path, limit: int) -> tuple[bytes, int]:
        reads.append(Path(path).name)
        return real(path, limit)

    monkeypatch.setattr(library_mod, "read_regular", counted)
    monkeypatch.setattr(run_mod, "read_regular", counted)
    assert _shown(_check(small)) == expected
    assert sorted(reads) == sorted(p.name for p in small.glob("*.reg"))
    reads.clear()
    monkeypatch.chdir(small.parent)  # named relative to the current folder, as `regdsl check small` names it
    shown = _shown(run_check([Path("small")], jobs=1, cache=True))
    assert sorted(reads) == sorted(p.name for p in small.glob("*.reg"))
    assert shown == _shown(run_check([Path("small")], jobs=1, cache=False))


def test_the_key_names_lark_s_version_without_importing_importlib_metadata(tmp_path: Path) -> None:
    """Only a check that builds the link graph (networkx) imports importlib.metadata: not the cache's key."""
    code = (
        "import sys, io; from regdsl.cli.main import main; "
        f"main(['check', {str(ROOT / 'regimens' / 'crc-adjuvant-mfolfox6.reg')!r}], out=io.StringIO()); "
        "print('importlib.metadata' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "REGDSL_NO_CACHE"} | {"REGDSL_CACHE_DIR": str(tmp_path / "c")}
    for run in ("cold", "warm"):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "False", run
    assert list((tmp_path / "c" / "results").iterdir())  # the cache was used


def test_the_library_root_is_found_once_per_folder(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding the library root walks up from each folder once, not from each file; a link's is its target's."""
    outside = library.parent / "outside"
    outside.mkdir()
    linked = outside / "linked.reg"
    (library / "crc-adjuvant-mfolfox6.reg").rename(linked)
    (library / "crc-adjuvant-mfolfox6.reg").symlink_to(linked)
    sub = library / "sub"
    sub.mkdir()
    (library / "leu-all-bcell-rr-inotuzumab.reg").rename(sub / "leu-all-bcell-rr-inotuzumab.reg")
    walked: list[Path] = []
    real = run_mod.find_root  # type: ignore[attr-defined]

    def counted(path: Path) -> Path:
        walked.append(path)
        found: Path = real(path)
        return found

    monkeypatch.setattr(run_mod, "find_root", counted)
    outcome = run_check([library], jobs=1)
    assert len(walked) == 3  # the library's folder, its sub-folder, and the link's target
    assert outcome.files == len(list(library.rglob("*.reg")))
    folders: dict[Path, Path] = {}
    assert run_mod.library_root(library / "crc-adjuvant-mfolfox6.reg", Config(), folders) == outside.resolve()
    assert run_mod.library_root(sub / "leu-all-bcell-rr-inotuzumab.reg", Config(), folders) == library.resolve()


LINK_FIXTURES = ("BRA007", "BRA010", "BRA011", "BRA012", "SAF306", "STR004")
# The bundled regimens that write links or are named by one.
BUNDLED_LINKED = (
    "leu-all-bcell-rr-inotuzumab.reg",
    "leu-all-bcell-rr-inotuzumab-cr.reg",
    "leu-aml-induction-7-3.reg",
    "leu-aml-consolidation-hidac.reg",
    "lym-hl-abvd-pet-adapted.reg",
    "lym-hl-escbeacopp-pet-guided.reg",
)


def test_library_findings_read_back_by_part_are_those_of_a_whole_check(tmp_path: Path, cache_dir: Path) -> None:
    """Changing any file of regimens that links and ids join gives, warm, the findings of a check without the cache.

    The library rules' findings are kept part by part (the regimens links and ids join); a
    regimen whose link joins no other (its part is checked with one whose link does) too.
    """
    folder = tmp_path / "joined"
    folder.mkdir()
    for name in ("library.reg", *BUNDLED_LINKED, "crc-adjuvant-mfolfox6.reg", "leu-all-hyper-cvad.reg"):
        shutil.copy(ROOT / "regimens" / name, folder / name)
    for code in LINK_FIXTURES:
        for case in (ROOT / "tests" / "diagnostics" / code).iterdir():
            if case.is_dir():
                shutil.copytree(case, folder / code / case.name)
    lonely = (ROOT / "tests" / "diagnostics" / "BRA011" / "not-reached" / "main.reg").read_text(encoding="utf-8")
    (folder / "lonely.reg").write_text(
        lonely.replace("bra011-main", "lonely-one").replace("bra011-cr", "lonely-missing"), encoding="utf-8"
    )
    handover = folder / "handover"  # SAF306's fixture, by ids no other fixture uses (two of them share theirs)
    handover.mkdir()
    for name in ("main.reg", "next.reg"):
        text = (ROOT / "tests" / "diagnostics" / "SAF306" / "hands-over" / name).read_text(encoding="utf-8")
        (handover / name).write_text(text.replace("saf306-", "handover-"), encoding="utf-8")
    first = _check(folder)
    assert _shown(first) == _shown(_check(folder, cache=False))
    codes = {d.code.code for d in first.diagnostics}
    assert {"BRA007", "BRA010", "BRA011", "BRA012", "SAF306", "STR004"} <= codes
    assert any(d.code.code == "BRA011" and d.span.path.endswith("lonely.reg") for d in first.diagnostics)
    cases = sorted({path.parent for path in folder.glob("*/*/*.reg")})
    changed = [folder / "lonely.reg", folder / BUNDLED_LINKED[0], *(min(case.glob("*.reg")) for case in cases)]
    for path in changed:
        path.write_text(path.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
        assert _shown(_check(folder)) == _shown(_check(folder, cache=False)), path
