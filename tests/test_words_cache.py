"""PRO001's English words: read from the package once, then from a checked plain-text cache of the user's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from regdsl.check.rules import prose


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the per-user cache at a fresh folder, and forget the words loaded so far (before and after)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("REGDSL_CACHE_DIR", str(folder))
    prose.word_list.cache_clear()
    prose._english_rank.cache_clear()
    yield folder
    prose.word_list.cache_clear()
    prose._english_rank.cache_clear()


def _built() -> tuple[str, ...]:
    return prose._ranked(prose._dictionary_file().read_bytes())


def _forbid_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(packed: bytes) -> tuple[str, ...]:
        raise AssertionError("the words were built again, not read from the cache")

    monkeypatch.setattr(prose, "_ranked", refuse)


def test_the_words_are_built_once_then_read_from_the_cache(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = prose._english()
    assert first == _built()
    assert "institutional" in first
    (cached,) = cache_home.glob("words-*.cache")
    assert cached.stat().st_mode & 0o777 == 0o600
    assert cached.read_bytes().split(b"\n", 1)[1] == "\n".join(first).encode()  # plain text, no code
    _forbid_building(monkeypatch)
    assert prose._english() == first


def test_the_ranking_is_the_package_s_word_counts(cache_home: Path) -> None:
    ranked = prose.word_list().ranked
    rank = prose._english_rank()
    assert rank["that"] < rank["because"] < rank["institutional"]  # most used first
    assert len(rank) == len(ranked) == len(prose.word_list().english)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-10] + b"plantedxyz",  # the payload changed: its hash no longer matches
        lambda data: b"regdsl-words-cache 0" + data[len(b"regdsl-words-cache 1") :],  # another format
        lambda data: data[: len(data) // 2],  # cut short
    ],
    ids=["payload", "format", "truncated"],
)
def test_a_damaged_cache_is_refused_and_built_again(cache_home: Path, damage: object) -> None:
    first = prose._english()
    (cached,) = cache_home.glob("words-*.cache")
    assert callable(damage)
    cached.write_bytes(damage(cached.read_bytes()))
    assert prose._english() == first
    assert cached.read_bytes().split(b"\n", 1)[1] == "\n".join(first).encode()  # rewritten


def test_a_cache_others_can_write_is_not_read(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prose._english()
    (cached,) = cache_home.glob("words-*.cache")
    os.chmod(cached, 0o666)
    calls: list[bytes] = []
    build = prose._ranked

    def counted(packed: bytes) -> tuple[str, ...]:
        calls.append(packed)
        return build(packed)

    monkeypatch.setattr(prose, "_ranked", counted)
    prose._english()
    assert len(calls) == 1  # refused: built again


def test_without_a_usable_cache_folder_the_words_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be\n")
    monkeypatch.setenv("REGDSL_CACHE_DIR", str(blocker / "regdsl"))
    assert prose._english() == _built()
    assert blocker.read_text() == "a file where the cache folder would be\n"
