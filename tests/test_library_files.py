"""Finding a library's files: nothing unreadable skipped in silence, nothing but regular files opened.

An unreadable folder or file is exit 2 naming it (its regimens would otherwise vanish from
the check and the site); a FIFO or a device named ``*.reg`` is never opened (it would hang
the check); links to folders are not followed (no loops, nothing from outside); a root
outside the configuration's folder is a located CFG finding; a file named twice is
checked once.
"""

from __future__ import annotations

import ctypes
import errno
import io
import json
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from regdsl.cli.main import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main
from regdsl.compile.library import collect, scan_regimens
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
SEED = "lung-nsclc-metastatic-alectinib"
OTHER = "lung-nsclc-non-metastatic-alectinib"


def _library(tmp_path: Path) -> Path:
    """Make a library of two regimens and the bundled ``library.reg``, one of them in a subfolder."""
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    shutil.copy(REGIMENS / "library.reg", lib / "library.reg")
    shutil.copy(REGIMENS / f"{SEED}.reg", lib / f"{SEED}.reg")
    shutil.copy(REGIMENS / f"{OTHER}.reg", lib / "sub" / f"{OTHER}.reg")
    return lib


def _check(*args: str) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = main(["check", "--format", "json", *args], out=out)
    return code, json.loads(out.getvalue()) if out.getvalue().strip() else []


def _denied(monkeypatch: pytest.MonkeyPatch, name: str, target: Path) -> None:
    """Make the OS call ``os.<name>`` on ``target`` fail as it does on a chmod-000 folder."""
    real: Callable[..., object] = getattr(os, name)

    def refuse(path: object, *args: object, **kwargs: object) -> object:
        if isinstance(path, str | os.PathLike) and os.fspath(path) == os.fspath(target):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(target))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, name, refuse)


# -- unreadable folders and files ---------------------------------------------------


@pytest.mark.parametrize("command", ["check", "build"])
def test_an_unreadable_subfolder_is_exit_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    lib = _library(tmp_path)
    _denied(monkeypatch, "scandir", lib / "sub")
    site = tmp_path / "site"
    args = [command, str(lib), *(["-o", str(site)] if command == "build" else [])]
    assert main(args, out=io.StringIO()) == EXIT_USAGE
    assert f"regdsl: error: {lib / 'sub'}: cannot be read (Permission denied)" in capsys.readouterr().err
    assert not site.exists()


@pytest.mark.parametrize(
    ("call", "target", "checked"),
    [
        ("scandir", "sub", "seed"),  # the sibling ids are read from every folder of the root
        ("stat", f"sub/{OTHER}.reg", "lib"),  # a folder that may be listed but not searched
        ("open", f"sub/{OTHER}.reg", "seed"),
        ("open", f"sub/{OTHER}.reg", "lib"),
    ],
)
def test_what_cannot_be_read_under_the_root_is_exit_2_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    call: str,
    target: str,
    checked: str,
) -> None:
    lib = _library(tmp_path)
    _denied(monkeypatch, call, lib / target)
    assert _check(str(lib / f"{SEED}.reg" if checked == "seed" else lib))[0] == EXIT_USAGE
    assert f"regdsl: error: {lib / target}: cannot be read (Permission denied)" in capsys.readouterr().err


def _without_override() -> None:
    """In the child: give up root's power to read any file, so file modes apply as to anyone."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, from the bounding set
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.parametrize("what", ["folder", "file"])
def test_a_real_chmod_000_is_exit_2_naming_it(tmp_path: Path, what: str) -> None:
    lib = _library(tmp_path)
    locked = lib / "sub" if what == "folder" else lib / "sub" / f"{OTHER}.reg"
    locked.chmod(0)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "regdsl", "check", str(lib)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=ROOT,
            preexec_fn=_without_override if os.geteuid() == 0 else None,
        )
    finally:
        locked.chmod(0o755)
    assert done.returncode == EXIT_USAGE, done.stdout + done.stderr
    assert f"regdsl: error: {locked}: " in done.stderr
    assert "Permission denied" in done.stderr


# -- FIFOs, devices and links ----------------------------------------------------


def _run_bounded(*args: str) -> subprocess.CompletedProcess[str]:
    """Run regdsl as a process that may not hang the test run."""
    return subprocess.run(
        [sys.executable, "-m", "regdsl", *args], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )


def test_fifos_and_devices_named_reg_are_never_opened(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    os.mkfifo(lib / "pipe.reg")
    os.mkfifo(tmp_path / "elsewhere-pipe")
    os.symlink(tmp_path / "elsewhere-pipe", lib / "sub" / "linked-pipe.reg")
    os.symlink("/dev/zero", lib / "zero.reg")
    os.symlink("/dev/null", lib / "sub" / "null.reg")
    for args in ([str(lib)], [str(lib / f"{SEED}.reg")], ["--jobs", "2", str(lib)]):
        done = _run_bounded("check", "--format", "json", *args)
        assert done.returncode in (EXIT_OK, EXIT_ERRORS), done.stderr
    assert [p.name for p in collect([lib])] == ["library.reg", f"{SEED}.reg", f"{OTHER}.reg"]
    assert sorted(scan_regimens(lib)) == sorted([SEED, OTHER])


def test_a_fifo_named_on_the_command_line_is_refused_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.reg")
    done = _run_bounded("check", str(tmp_path / "pipe.reg"))
    assert done.returncode == EXIT_USAGE
    assert "not a file or folder" in done.stderr


def test_links_to_folders_are_not_followed(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "stranger.reg").write_text('regimen stranger\n  name "S"\n  status draft\n', encoding="utf-8")
    os.symlink(outside, lib / "outside")  # a folder outside the root
    os.symlink(lib, lib / "sub" / "loop")  # a loop
    os.symlink(lib / "sub", lib / "sub" / "again")
    os.symlink(lib / "nowhere.reg", lib / "dangling.reg")
    os.symlink("looped.reg", lib / "looped.reg")
    assert [p.name for p in collect([lib])] == ["library.reg", f"{SEED}.reg", f"{OTHER}.reg"]
    assert sorted(scan_regimens(lib)) == sorted([SEED, OTHER])


def _depth() -> int:
    return len(traceback.extract_stack())


def test_folders_nested_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    deep = lib.joinpath(*["d"] * 300)
    deep.mkdir(parents=True)
    shutil.move(lib / "sub" / f"{OTHER}.reg", deep / f"{OTHER}.reg")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_depth() + 150)  # fewer frames than folders: only a walk without recursion gets through
    try:
        files = sorted(p.name for p in collect([lib]))
        ids = sorted(scan_regimens(lib))
    finally:
        sys.setrecursionlimit(limit)
    assert files == sorted(["library.reg", f"{SEED}.reg", f"{OTHER}.reg"])
    assert ids == sorted([SEED, OTHER])


# -- one file, however named ------------------------------------------------------


def test_a_file_named_twice_is_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _library(tmp_path)
    monkeypatch.chdir(tmp_path)
    one = _check("lib")
    for args in (
        ("lib", f"lib/../lib/{SEED}.reg"),
        (f"lib/{SEED}.reg", "lib", f"./lib/{SEED}.reg", str(lib / SEED) + ".reg"),
        ("lib", "lib/./", "lib/sub/.."),
    ):
        assert _check(*args) == one
    assert not [d for d in one[1] if d["code"] == "STR004"]
    assert [p.as_posix() for p in collect([Path("lib"), Path(f"lib/../lib/{SEED}.reg")])] == [
        "lib/library.reg",
        f"lib/{SEED}.reg",
        f"lib/sub/{OTHER}.reg",
    ]


def test_links_to_one_file_are_that_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _library(tmp_path)
    monkeypatch.chdir(tmp_path)
    os.symlink(f"{SEED}.reg", lib / "zz-alias.reg")
    os.link(lib / "sub" / f"{OTHER}.reg", lib / "zz-hard-link.reg")
    assert [p.as_posix() for p in collect([Path("lib")])] == [
        "lib/library.reg",
        f"lib/{SEED}.reg",
        f"lib/sub/{OTHER}.reg",
    ]
    code, found = _check("lib")
    assert not [d for d in found if d["code"] == "STR004"]
    assert code == _check(str(REGIMENS / f"{SEED}.reg"), str(REGIMENS / f"{OTHER}.reg"))[0]


# -- where a library starts and what it may be -----------------------------------------


def test_a_folder_without_library_reg_is_a_library_of_its_own_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A regimen checked in a folder of other things (downloads, /tmp) reads its siblings'
    # ids, never what lies below: an unreadable folder there is none of its business.
    folder = tmp_path / "downloads"
    (folder / "private").mkdir(parents=True)
    minimal = (ROOT / "examples" / "minimal.reg").read_text(encoding="utf-8")
    (folder / "mine.reg").write_text(minimal, encoding="utf-8")
    sibling = minimal.replace("regimen example-minimal", "regimen example-sibling")
    (folder / "sibling.reg").write_text(sibling, encoding="utf-8")
    (folder / "private" / "below.reg").write_text(sibling.replace("sibling", "below"), encoding="utf-8")
    _denied(monkeypatch, "scandir", folder / "private")
    assert sorted(scan_regimens(folder, below=False)) == ["example-minimal", "example-sibling"]
    code, found = _check(str(folder / "mine.reg"))
    assert (code, found) == (EXIT_OK, [])


def _planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make a library.reg of another user in a folder every user may write (as /tmp is)."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    library = shared / "library.reg"
    shutil.copy(REGIMENS / "library.reg", library)
    shutil.copy(REGIMENS / f"{SEED}.reg", shared / f"{SEED}.reg")
    if os.geteuid() == 0:
        os.chown(library, 65534, 65534)
    else:
        owner = os.stat(library).st_uid
        monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    return shared


def test_a_library_reg_planted_in_a_shared_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = _planted(tmp_path, monkeypatch)
    code, _found = _check(str(shared / f"{SEED}.reg"))
    assert code == EXIT_USAGE
    assert "belongs to another user, in a folder every user may write" in capsys.readouterr().err


def test_a_library_reg_every_user_may_write_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = _library(tmp_path)
    (lib / "library.reg").chmod(0o666)
    code, _found = _check(str(lib))
    assert code == EXIT_USAGE
    assert "this library.reg is writable by every user" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["fifo", "link to a device", "folder"])
def test_a_library_reg_that_is_not_a_regular_file_is_exit_2_not_passed_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    # Passed over, the regimens would silently lose the library's medicines, footnotes and blocks.
    lib = _library(tmp_path)
    library = lib / "library.reg"
    library.unlink()
    if kind == "fifo":
        os.mkfifo(library)
    elif kind == "link to a device":
        library.symlink_to(os.devnull)
    else:
        library.mkdir()
    code, _found = _check(str(lib / "sub" / f"{OTHER}.reg"))
    assert code == EXIT_USAGE
    assert f"regdsl: error: {library}: " in capsys.readouterr().err
