"""The output folder of a build: what it never replaces, its lock, its atomic swap, signals, full disks."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from regdsl.check import run
from regdsl.cli.main import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main
from regdsl.render import site
from tests.conftest import ROOT
from tests.test_site import _build, _leftovers, _tree

REGIMENS = ROOT / "regimens"


@pytest.fixture
def old_site(tmp_path: Path) -> Path:
    """Build the bundled library into a site, for a test to try to replace."""
    out = tmp_path / "site"
    assert _build(str(REGIMENS), "-o", str(out))[0] == 0
    return out


def _copy_library(to: Path) -> Path:
    return Path(shutil.copytree(REGIMENS, to))


# --------------------------------------------------------------------------- what OUT must not hold


def _sources_inside(out: Path) -> tuple[list[str], Path]:
    return [str(_copy_library(out / "src"))], out / "src" / "library.reg"


def _sources_are_out(out: Path) -> tuple[list[str], Path]:
    for path in REGIMENS.glob("*.reg"):
        shutil.copy(path, out / path.name)
    return [str(out)], out / "library.reg"


def _root_inside(out: Path) -> tuple[list[str], Path]:
    library = _copy_library(out / "lib")
    return [str(library / "leu-all-bcell-rr-inotuzumab.reg")], library / "library.reg"


def _configured_root_inside(out: Path) -> tuple[list[str], Path]:
    # The configured root must lie in the configuration's folder (CFG008): here both hold the site.
    library = _copy_library(out.parent / "library")
    shutil.copytree(library, out / "root")
    (out.parent / "regdsl.toml").write_text(f'root = "{out.name}/root"\n', encoding="utf-8")
    return [str(library)], out / "root" / "library.reg"


def _config_inside(out: Path) -> tuple[list[str], Path]:
    config = out / "regdsl.toml"
    config.write_text('ignore = ["PRO001"]\n', encoding="utf-8")
    return [str(REGIMENS), "--config", str(config)], config


def _templates_inside(out: Path) -> tuple[list[str], Path]:
    templates = out / "templates"
    templates.mkdir()
    (templates / site.INDEX_TEMPLATE).write_text("{{ view.title }}\n", encoding="utf-8")
    return [str(REGIMENS), "--templates", str(templates)], templates / site.INDEX_TEMPLATE


def _linked_source_inside(out: Path) -> tuple[list[str], Path]:
    library = _copy_library(out.parent / "library")
    kept = out / "kept.reg"
    shutil.copy(ROOT / "tests" / "diagnostics" / "STR004" / "pass-distinct-ids" / "a.reg", kept)
    (library / "kept.reg").symlink_to(kept)
    return [str(library)], kept


@pytest.mark.parametrize(
    "layout",
    [
        _sources_inside,
        _sources_are_out,
        _root_inside,
        _configured_root_inside,
        _config_inside,
        _templates_inside,
        _linked_source_inside,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_site_holding_what_the_build_reads_is_never_replaced(
    layout: Callable[[Path], tuple[list[str], Path]], old_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, precious = layout(old_site)
    before = _tree(old_site)
    code, printed = _build(*args, "-o", str(old_site))
    assert code == EXIT_USAGE, printed + capsys.readouterr().err
    assert "a build replaces its output folder whole" in capsys.readouterr().err
    assert precious.is_file()
    assert _tree(old_site) == before
    assert _leftovers(old_site) == []


@pytest.mark.parametrize(("here", "out"), [("", "."), ("", "{site}"), (site.PAGES, ".."), (site.PAGES, "{site}")])
def test_the_current_folder_or_one_holding_it_is_never_replaced(
    here: str, out: str, old_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(old_site / here)
    before = _tree(old_site)
    code, _ = _build(str(REGIMENS), "-o", out.format(site=old_site))
    assert code == EXIT_USAGE
    assert "the current folder" in capsys.readouterr().err
    assert _tree(old_site) == before
    assert _leftovers(old_site) == []
    assert _leftovers(old_site / site.PAGES) == []


def test_a_site_inside_the_library_is_built_and_leaves_the_sources(tmp_path: Path) -> None:
    library = _copy_library(tmp_path / "library")
    sources = _tree(library)
    out = library / "site"
    for _ in range(2):
        assert _build(str(library), "-o", str(out))[0] == 0
    assert site.is_site(out)
    assert {k: v for k, v in _tree(library).items() if not k.startswith("site/")} == sources


# --------------------------------------------------------------------------- one page, one source

_REGIMEN = (
    'regimen {id}{comment}\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n  loratadine {mg} mg oral days 1\n'
)


def _library_of(folder: Path, *regimens: tuple[str, str, int]) -> Path:
    """Write a library whose upper-case ids are allowed (STR012 ignored): (file, id, dose) each."""
    folder.mkdir()
    (folder / "regdsl.toml").write_text('ignore = ["bad-regimen-id"]\n', encoding="utf-8")
    for name, regimen_id, mg in regimens:
        comment = "  # regdsl: ignore[duplicate-regimen-id] -- the newer version" if name == "b.reg" else ""
        (folder / name).write_text(_REGIMEN.format(id=regimen_id, comment=comment, mg=mg), encoding="utf-8")
    return folder


@pytest.mark.parametrize("second", ["dup-id", "Dup-ID"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_two_sources_never_publish_one_page(
    second: str, jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = _library_of(tmp_path / "library", ("a.reg", "dup-id", 10), ("b.reg", second, 20))
    out = tmp_path / "site"
    code, printed = _build(str(library), "-o", str(out), "--jobs", jobs)
    assert code == EXIT_ERRORS
    assert "error[STR004]" in printed
    assert "error[IGN003]" in printed  # the suppression is itself an error
    assert not out.exists()
    assert _leftovers(out) == []
    assert _build(str(library), "-o", str(out), "--ignore", "STR004")[0] == EXIT_USAGE
    assert "cannot be ignored" in capsys.readouterr().err


@pytest.mark.parametrize("regimen_id", ["con", "NUL", "aux", "prn", "com1", "lpt9", "x" * 329])
def test_an_id_no_file_system_takes_is_refused_by_check_and_build(regimen_id: str, tmp_path: Path) -> None:
    library = _library_of(tmp_path / "library", ("a.reg", regimen_id, 10))
    out = io.StringIO()
    assert main(["check", str(library), "--format", "concise"], out=out) == EXIT_ERRORS
    assert "STR019" in out.getvalue()
    code, printed = _build(str(library), "-o", str(tmp_path / "site"))
    assert code == EXIT_ERRORS, printed
    assert "error[STR019]" in printed
    assert not (tmp_path / "site").exists()


# --------------------------------------------------------------------------- the swap, the lock, leftovers

# Runs the command line with every step that publishes a site (a rename, a swap, a removal)
# counted: the process kills itself with SIGKILL right after step KILL_AT.
_KILLED_AT_STEP = """
import os, pathlib, shutil, signal, sys
from regdsl.render import output
kill_at, steps = int(sys.argv[1]), [0]
def counted(step):
    def wrapper(*args, **kwargs):
        done = step(*args, **kwargs)
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return done
    return wrapper
pathlib.Path.rename = counted(pathlib.Path.rename)
shutil.rmtree = counted(shutil.rmtree)
if hasattr(output, "_exchange"):
    output._exchange = (lambda new, out: False) if os.environ.get("NO_EXCHANGE") else counted(output._exchange)
from regdsl.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _regdsl(*args: str, script: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "regdsl", *args]
    return subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=120, env={**os.environ, **env}, cwd=ROOT
    )


@pytest.mark.parametrize("exchange", ["exchange", "two renames"])
def test_a_build_killed_at_any_step_of_the_swap_leaves_a_whole_site(
    exchange: str, old_site: Path, tmp_path: Path
) -> None:
    library = _copy_library(tmp_path / "library")
    (library / "lung-nsclc-non-metastatic-alectinib.reg").unlink()
    new = tmp_path / "new"
    assert _build(str(library), "-o", str(new))[0] == 0
    trees = {"old": _tree(old_site), "new": _tree(new)}
    env = {"NO_EXCHANGE": "1"} if exchange == "two renames" else {}
    broken = _copy_library(tmp_path / "broken")
    shutil.copy(ROOT / "tests" / "diagnostics" / "SAF101" / "trailing-zero.reg", broken / "bad.reg")
    for step in range(1, 20):
        shutil.rmtree(old_site)
        assert _build(str(REGIMENS), "-o", str(old_site))[0] == 0
        proc = _regdsl(str(step), "build", str(library), "-o", str(old_site), script=_KILLED_AT_STEP, **env)
        if proc.returncode == 0:
            assert _tree(old_site) == trees["new"]
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        if exchange == "exchange" or old_site.exists():  # two renames leave no OUT between them
            assert _tree(old_site) in trees.values(), f"killed after step {step}"
        # The next build, even one that fails its check, puts back or removes what the killed one left.
        assert _build(str(broken), "-o", str(old_site))[0] == EXIT_ERRORS
        assert _tree(old_site) in trees.values(), f"killed after step {step}"
        assert _leftovers(old_site) == [], f"killed after step {step}"
    else:
        pytest.fail("the build never finished")


# Runs the command line with the first page held until the file named by HOLD_UNTIL exists.
_HELD = """
import os, pathlib, sys, time
from regdsl.render import site
render_all = site.render_all
def held(*args):
    pathlib.Path(os.environ["HOLD_UNTIL"] + ".started").touch()
    while not pathlib.Path(os.environ["HOLD_UNTIL"]).exists():
        time.sleep(0.05)
    return render_all(*args)
site.render_all = held
from regdsl.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_second_build_into_a_site_being_built_exits_2_at_once(old_site: Path, tmp_path: Path) -> None:
    hold = tmp_path / "go"
    before = _tree(old_site)
    command = [sys.executable, "-c", _HELD, "build", str(REGIMENS), "-o", str(old_site), "--jobs", "1"]
    first = subprocess.Popen(
        command, env={**os.environ, "HOLD_UNTIL": str(hold)}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not hold.with_suffix(".started").exists():
            assert first.poll() is None, "the first build ended before its first page"
            assert time.monotonic() < deadline, "the first build did not start"
            time.sleep(0.05)
        second = _regdsl("build", str(REGIMENS), "-o", str(old_site))
        assert second.returncode == EXIT_USAGE, second.stdout + second.stderr
        assert "another `regdsl build` is writing this site" in second.stderr
        assert _tree(old_site) == before
        hold.touch()
        assert first.wait(timeout=60) == 0
    finally:
        first.kill()
        first.communicate()
    assert _tree(old_site) == before  # the same sources, the same bytes
    assert _leftovers(old_site) == []


def test_a_build_removes_what_an_interrupted_one_left(old_site: Path) -> None:
    left = [old_site.parent / f".{old_site.name}.regdsl-{kind}-0123abcd" for kind in ("build", "old")]
    for folder in left:
        shutil.copytree(old_site, folder)
    mine = old_site.parent / f".{old_site.name}.regdsl-build-mine"  # not a name a build makes: kept
    mine.mkdir()
    assert _build(str(REGIMENS), "-o", str(old_site))[0] == 0
    assert not any(folder.exists() for folder in left)
    assert mine.is_dir()


# --------------------------------------------------------------------------- signals

_GYN = "gyn-end-adjuvant-cisplatin-chemoradiation-carboplatin-paclitaxel"


@pytest.fixture(scope="module")
def large_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write a library large enough to be checked by worker processes: copies of a long regimen."""
    folder = tmp_path_factory.mktemp("large") / "library"
    folder.mkdir()
    shutil.copy(REGIMENS / "library.reg", folder)
    text = (REGIMENS / f"{_GYN}.reg").read_text(encoding="utf-8")
    for n in range(run.PARALLEL_THRESHOLD + 16):
        (folder / f"copy-{n:03}.reg").write_text(text.replace(f"regimen {_GYN}", f"regimen copy-{n:03}"), "utf-8")
    return folder


def _pages_being_written(out: Path) -> bool:
    return any(any(folder.glob(f"{site.PAGES}/*")) for folder in out.parent.glob(f".{out.name}.regdsl-build-*"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=("INT", "TERM", "KILL"))
def test_a_build_stopped_by_a_signal_closes_its_pipes_and_leaves_the_old_site(
    signum: int, large_library: Path, old_site: Path
) -> None:
    before = _tree(old_site)
    proc = subprocess.Popen(
        [sys.executable, "-m", "regdsl", "build", str(large_library), "-o", str(old_site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that the test can end orphaned workers whatever happens
    )
    try:
        deadline = time.monotonic() + 120
        while not _pages_being_written(old_site):
            assert proc.poll() is None, "the build ended before its first page"
            assert time.monotonic() < deadline, "the build wrote no page"
            time.sleep(0.01)
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)  # as Ctrl-C does: to every process of the terminal's group
        else:
            proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=30)  # every process holding the pipes has ended
        except subprocess.TimeoutExpired:
            pytest.fail("the build's pipes stayed open after it was stopped: its workers outlived it")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    if signum != signal.SIGKILL:  # SIGTERM is handled as Ctrl-C is: cleaned up, no traceback
        assert proc.returncode == 128 + signum, err
        assert "Traceback" not in err
        assert _leftovers(old_site) == []
    else:
        assert proc.returncode == -signal.SIGKILL
    assert _tree(old_site) == before
    assert _build(str(REGIMENS), "-o", str(old_site))[0] == 0
    assert _leftovers(old_site) == []
    assert _tree(old_site) == before


# --------------------------------------------------------------------------- a disk or a stream that refuses


@pytest.mark.parametrize("error", [errno.EACCES, errno.EROFS])
@pytest.mark.parametrize("missing", [False, True], ids=["parent", "grandparent"])
def test_a_folder_that_cannot_be_written_is_a_path_error(
    error: int, missing: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    out = read_only / "new" / "site" if missing else read_only / "site"
    real_open, real_mkdir = os.open, os.mkdir

    def refused(real: Callable[..., object]) -> Callable[..., object]:
        def call(path: object, *args: object, **kwargs: object) -> object:
            if Path(os.fsdecode(path)).parent == read_only:  # type: ignore[arg-type]
                raise OSError(error, os.strerror(error), os.fsdecode(path))  # type: ignore[arg-type]
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "open", refused(real_open))
    monkeypatch.setattr(os, "mkdir", refused(real_mkdir))
    code, _ = _build(str(REGIMENS), "-o", str(out))
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"cannot write in {read_only}" in err
    assert os.strerror(error) in err
    assert list(read_only.iterdir()) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_is_a_path_error_and_the_old_site_stays(
    jobs: str, old_site: Path, large_library: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(old_site)
    written = [0]
    write_bytes = Path.write_bytes

    def filling(path: Path, data: bytes) -> int:  # the disk fills up after a few pages (in each worker)
        written[0] += 1
        if written[0] > 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", filling)
    code, _ = _build(str(large_library), "-o", str(old_site), "--jobs", jobs)
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "No space left on device" in err
    assert "INT001" not in err
    monkeypatch.undo()
    assert _tree(old_site) == before
    assert _leftovers(old_site) == []


@pytest.mark.parametrize(
    "args",
    [
        ("check", str(REGIMENS)),
        ("check", str(REGIMENS), "--format", "json"),
        ("build", str(REGIMENS), "-o", "{tmp}/site"),
        ("render", str(REGIMENS / f"{_GYN}.reg"), "--to", "html"),
        ("rules", "--markdown"),
        ("schema",),
        ("--help",),  # argparse prints help and the version, and exits, itself
        ("check", "--help"),
        ("build", "-h"),
        ("--version",),
    ],
    ids=["check", "check-json", "build", "render", "rules", "schema", "help", "check-help", "build-help", "version"],
)
def test_a_full_standard_output_is_a_path_error(args: tuple[str, ...], tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:  # every write fails: No space left on device
        proc = subprocess.run(
            [sys.executable, "-m", "regdsl", *(a.format(tmp=tmp_path) for a in args)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert proc.stderr.endswith("regdsl: error: cannot write the output: No space left on device\n"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "INT001" not in proc.stderr


_OUTPUTS = [
    ("check", str(REGIMENS)),
    ("check", str(REGIMENS), "--format", "json"),
    ("render", str(REGIMENS / f"{_GYN}.reg"), "--to", "html"),
    ("rules",),
    ("--help",),
    ("--version",),
]
_OUTPUT_IDS = ["check", "check-json", "render", "rules", "help", "version"]


def _closed(fd: int, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """Run regdsl with the descriptor ``fd`` closed (as a shell's ``>&-`` and ``2>&-`` do)."""
    other = subprocess.PIPE
    return subprocess.run(
        [sys.executable, "-m", "regdsl", *args],
        stdout=other,
        stderr=other,
        text=True,
        check=False,
        timeout=120,
        preexec_fn=lambda: os.close(fd),
    )


@pytest.mark.parametrize("args", _OUTPUTS, ids=_OUTPUT_IDS)
def test_a_closed_standard_output_is_a_path_error(args: tuple[str, ...]) -> None:
    proc = _closed(1, args)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert proc.stderr.endswith("regdsl: error: cannot write the output: Bad file descriptor\n"), proc.stderr
    assert "INT001" not in proc.stderr


@pytest.mark.parametrize("args", _OUTPUTS, ids=_OUTPUT_IDS)
def test_a_closed_standard_error_leaves_standard_output_to_the_command(args: tuple[str, ...]) -> None:
    # What goes to standard error is lost, and never written into the output (a page, JSON) instead.
    proc = _closed(2, args)
    assert proc.returncode == EXIT_OK
    assert "regdsl: error" not in proc.stdout
    assert "error[INT001]: internal error" not in proc.stdout  # (help speaks of internal errors)
    if "--format" in args:
        json.loads(proc.stdout)
    if "render" in args:
        assert proc.stdout.startswith("<!DOCTYPE html>")
    if "--help" in args:
        assert proc.stdout.startswith("usage: regdsl")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("check", "no-such-file.reg"), EXIT_USAGE),  # its message cannot be written
        (("render", str(REGIMENS / f"{_GYN}.reg"), "--to", "html"), EXIT_USAGE),  # nor its summary
        (("check", str(REGIMENS / f"{_GYN}.reg")), EXIT_OK),  # (writes nothing there)
    ],
    ids=["check-missing", "render", "check"],
)
def test_a_full_standard_error_is_a_path_error(args: tuple[str, ...], code: int) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "regdsl", *args], stdout=subprocess.PIPE, stderr=full, check=False, timeout=120
        )
    assert proc.returncode == code  # never 1, which says the sources hold errors


def test_render_into_a_folder_is_a_path_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = str(REGIMENS / f"{_GYN}.reg")
    assert main(["render", seed, "--to", "md", "-o", str(tmp_path)], out=io.StringIO()) == EXIT_USAGE
    assert "is a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_render_keeps_the_old_page_when_the_disk_is_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "page.md"
    page.write_text("the old page\n", encoding="utf-8")

    def full(path: Path, data: bytes) -> int:
        path.open("wb").close()  # what a write that fails part-way leaves
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(Path, "write_bytes", full)
    assert main(["render", str(REGIMENS / f"{_GYN}.reg"), "--to", "md", "-o", str(page)], out=io.StringIO()) == 2
    assert page.read_text(encoding="utf-8") == "the old page\n"
    assert [p.name for p in tmp_path.iterdir()] == ["page.md"]


@pytest.mark.parametrize("jobs", ["0", "-2", "two"])
def test_jobs_must_be_a_positive_number(jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(REGIMENS), "--jobs", jobs], out=io.StringIO())
    assert exit_.value.code == EXIT_USAGE
    assert "--jobs" in capsys.readouterr().err


def test_jobs_are_capped_at_the_processors_and_the_files() -> None:
    processors = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    assert run._workers(1000, 10_000) == processors
    assert run._workers(1, 64) == 1
    assert run._workers(1000, None) == min(processors, 8)
    assert run._workers(run.PARALLEL_THRESHOLD - 1, None) == 1
