"""The grammar cache: the user's own, never followed through a link, never able to run code.

Another local user must not be able to plant a cache that runs code as the next user of
regdsl, nor a link that makes regdsl read or overwrite a file of theirs. A cache that is
refused or corrupt only means the parser is built again: never an error.
"""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import lark.lark
import pytest

from regdsl.syntax import cachefiles, parser
from tests.conftest import ROOT

SMALL = 'regimen x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n  loratadine 10 mg oral days 1\n'


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the per-user cache at a fresh folder; return where regdsl's own folder will be."""
    monkeypatch.delenv("REGDSL_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    shared_tmp = tmp_path / "shared-tmp"
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    monkeypatch.setattr(parser, "_built", {})  # the parsers this test reads, forgotten after it
    return tmp_path / "xdg" / "regdsl"


def _fresh() -> lark.Lark:
    """Return ``build_parser()`` as a new process reads it: the parser kept in this one forgotten."""
    parser._built.clear()
    return parser.build_parser()


def _warm(folder: Path) -> Path:
    """Build the parser once, so the cache is written; return the one cache file."""
    _fresh()
    (cached,) = folder.iterdir()  # one file, and no temporary file left behind
    return cached


def _no_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make building the parser from the grammar impossible: only a cache can give one."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser was built from the grammar, not read from the cache")

    monkeypatch.setattr(lark.lark, "load_grammar", refuse)


class _Planted:
    """A pickle that leaves a mark when it is unpickled: what an attacker would plant."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.mark),)


def _plant(path: Path, mark: Path) -> None:
    # Any first line: lark unpickled what follows before comparing it with its hash.
    path.write_bytes(b"0" * 64 + b"\n" + pickle.dumps(_Planted(mark)))


def _parses() -> None:
    module = _fresh().parse(SMALL)
    assert module.data == "start"


def _foreign_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every regular file look owned by another user (as a test need not run as root)."""
    real = os.fstat

    def fstat(fd: int) -> os.stat_result:
        info = real(fd)
        if not stat.S_ISREG(info.st_mode):
            return info
        fields = list(info[:10])
        fields[4] = info.st_uid + 1
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", fstat)


def test_the_cache_is_the_users_own_folder_0700_and_file_0600(cache_home: Path) -> None:
    cached = _warm(cache_home)
    assert stat.S_IMODE(cache_home.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache_home.parent.stat().st_mode) == 0o700  # $XDG_CACHE_HOME, made by regdsl
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert list(Path(tempfile.gettempdir()).iterdir()) == []  # nothing in the shared temporary folder


def test_without_xdg_cache_home_the_cache_is_under_home(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    _warm(tmp_path / "home" / ".cache" / "regdsl")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # not absolute: ignored, as the XDG spec says
    _warm(tmp_path / "home" / ".cache" / "regdsl")
    assert not (Path.cwd() / "relative").exists()


def test_a_warm_cache_is_read_not_rebuilt(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _warm(cache_home)
    _no_building(monkeypatch)
    _parses()
    _fresh().parse(SMALL)


def test_a_process_reads_the_cache_once_and_a_changed_grammar_again(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _warm(cache_home)
    parser._built.clear()
    reads: list[str] = []
    read = cachefiles.read_framed

    def counted(folder: int, name: str, *args: Any) -> bytes | None:
        reads.append(name)
        return read(folder, name, *args)

    monkeypatch.setattr(cachefiles, "read_framed", counted)
    first = parser.build_parser()
    assert parser.build_parser() is first
    assert parser.build_parser(strict=False) is first
    assert len(reads) == 1
    changed = parser.grammar_text().replace('REGIMEN: "regimen"', 'REGIMEN: "regime"')
    monkeypatch.setattr(parser, "grammar_text", lambda: changed)
    other = parser.build_parser()
    assert other is not first
    assert {t.name: t.pattern.value for t in other.terminals}["REGIMEN"] == "regime"
    assert len(reads) == 2
    assert reads[1] != reads[0]  # the changed grammar's own cache file
    assert parser.build_parser() is other
    assert parser.build_parser(cache=False) is not other  # without the cache: built afresh


def test_the_cached_parser_parses_as_the_built_one(cache_home: Path) -> None:
    _warm(cache_home)
    cached, built = _fresh(), parser.build_parser(cache=False)
    sources = sorted([*(ROOT / "regimens").glob("*.reg"), *(ROOT / "examples").rglob("*.reg")])
    assert len(sources) > 5
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert cached.parse(text) == built.parse(text), path
    for broken in ("regimen x\n  status\n", "regimen x\n  name 12 mg\n"):
        with pytest.raises(lark.exceptions.UnexpectedInput) as from_cache:
            cached.parse(broken)
        with pytest.raises(lark.exceptions.UnexpectedInput) as from_grammar:
            built.parse(broken)
        assert str(from_cache.value) == str(from_grammar.value)


@pytest.mark.parametrize(
    "kind",
    [
        "own file",
        "file writable by others",
        "file owned by another user",
        "folder writable by others",
        "folder owned by another user",
    ],
)
def test_a_planted_cache_never_runs_code(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    cached = _warm(cache_home)
    mark = tmp_path / "planted-code-ran"
    _plant(cached, mark)
    planted = cached.read_bytes()
    if kind == "file writable by others":
        cached.chmod(0o666)
    elif kind == "file owned by another user":
        _foreign_files(monkeypatch)
    elif kind == "folder writable by others":
        cache_home.chmod(0o777)
    elif kind == "folder owned by another user":
        owner = os.geteuid() + 1
        monkeypatch.setattr(os, "geteuid", lambda: owner)
    _parses()
    assert not mark.exists()
    if kind.startswith("folder"):  # nothing written in a folder that is not the user's alone
        assert [p.name for p in cache_home.iterdir()] == [cached.name]
        assert cached.read_bytes() == planted


def test_a_planted_cache_that_passes_every_check_but_its_contents_never_runs_code(
    cache_home: Path, tmp_path: Path
) -> None:
    # The header names the grammar's key and the payload's hash, which anyone can work out:
    # what keeps a pickle from running code is the unpickler, which refuses every class.
    cached = _warm(cache_home)
    key = cached.read_bytes().split(b"\n", 1)[0].split()[2].decode()
    mark = tmp_path / "planted-code-ran"
    payload = pickle.dumps({"parser": _Planted(mark)})
    cached.write_bytes(parser._cache_header(key, payload) + payload)
    _parses()
    assert not mark.exists()
    assert cached.read_bytes().split(b"\n", 1)[1] != payload  # refused, then rebuilt and rewritten


def test_a_link_at_the_cache_file_is_neither_read_nor_written_through(cache_home: Path, tmp_path: Path) -> None:
    cached = _warm(cache_home)
    victim = tmp_path / "victim.txt"
    victim.write_text("the victim's own file\n")
    cached.unlink()
    os.symlink(victim, cached)
    _parses()
    assert victim.read_text() == "the victim's own file\n"
    assert not cached.is_symlink()  # the link was replaced by a cache of regdsl's own
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600


def test_a_link_at_the_cache_folder_is_not_followed(cache_home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache_home.parent.mkdir(parents=True)
    os.symlink(elsewhere, cache_home)
    mark = tmp_path / "planted-code-ran"
    _fresh()  # a first run: where would it write?
    assert list(elsewhere.iterdir()) == []
    for name in ("planted.cache", *(p.name for p in elsewhere.iterdir())):
        _plant(elsewhere / name, mark)
    _parses()
    assert not mark.exists()


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "one byte changed"])
def test_a_corrupt_cache_is_rebuilt_and_rewritten(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    cached = _warm(cache_home)
    data = cached.read_bytes()
    damaged = {
        "empty": b"",
        "garbage": b"\x00\xff not a cache at all",
        "truncated": data[: len(data) // 2],
        "one byte changed": data[:-40] + bytes([data[-40] ^ 1]) + data[-39:],
    }[damage]
    cached.write_bytes(damaged)
    _parses()
    assert cached.read_bytes() != damaged  # rewritten: the next run reads it
    _no_building(monkeypatch)
    _parses()


def test_an_unusable_cache_location_only_means_no_cache(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_home.parent.mkdir(parents=True)
    cache_home.write_text("a file where the folder would be\n")
    _parses()
    parse_with = _fresh()
    assert parse_with.parse(SMALL) is not None


def test_a_fifo_at_the_cache_file_is_not_opened(cache_home: Path, tmp_path: Path) -> None:
    cached = _warm(cache_home)
    cached.unlink()
    os.mkfifo(cached)
    code = "from regdsl.syntax.parser import build_parser; build_parser()"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("REGDSL_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=120, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_folder_at_the_cache_file_only_means_no_cache(cache_home: Path) -> None:
    cached = _warm(cache_home)
    cached.unlink()
    cached.mkdir()
    _parses()
    assert cached.is_dir()  # neither read nor removed
