"""The publishing commands: ``render``, ``schema``, ``serve``, and their exit codes."""

from __future__ import annotations

import http.server
import io
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from regdsl.cli import main as cli
from regdsl.cli.main import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main
from regdsl.render.pages import FORMATS
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
SEED = REGIMENS / "leu-all-bcell-rr-inotuzumab.reg"
HANDOVER = "leu-all-bcell-rr-inotuzumab-cr"
TRAILING = ROOT / "tests" / "diagnostics" / "SAF101" / "trailing-zero.reg"


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_the_command_line_offers_every_page_format() -> None:
    assert cli._PAGE_FORMATS == FORMATS


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_prints_the_page_or_writes_it(fmt: str, tmp_path: Path) -> None:
    code, page = _run("render", str(SEED), "--to", fmt)
    assert code == EXIT_OK
    assert "inotuzumab" in page
    target = tmp_path / f"page.{fmt}"
    code, printed = _run("render", str(SEED), "--to", fmt, "-o", str(target))
    assert code == EXIT_OK
    assert printed == ""
    assert target.read_text(encoding="utf-8") == page


def test_render_json_is_the_regimen_document() -> None:
    code, page = _run("render", str(SEED), "--to", "json")
    assert code == EXIT_OK
    document = json.loads(page)
    assert "leu-all-bcell-rr-inotuzumab" in page
    assert "schema_version" in document


def test_a_page_alone_names_the_regimens_it_links_to_without_an_address() -> None:
    code, page = _run("render", str(SEED), "--to", "html")
    assert code == EXIT_OK
    assert "inotuzumab ozogamicin (CR or CRi achieved)" in page  # the handover, by its name
    assert f'href="{HANDOVER}.html"' not in page


def test_render_of_a_regimen_with_errors_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "page.html"
    code, printed = _run("render", str(TRAILING), "--to", "html", "-o", str(target))
    assert code == EXIT_ERRORS
    assert printed == ""
    assert "SAF101" in capsys.readouterr().err
    assert not target.exists()


def test_render_needs_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("render", str(REGIMENS), "--to", "html")[0] == EXIT_USAGE
    assert "`regdsl render` takes one .reg file" in capsys.readouterr().err


def test_schema_prints_a_json_schema() -> None:
    code, text = _run("schema")
    assert code == EXIT_OK
    schema = json.loads(text)
    assert "$schema" in schema


@pytest.mark.parametrize(
    "args",
    [
        ("build", "no-such-folder", "-o", "{tmp}/site"),
        ("build", str(REGIMENS), "-o", "{tmp}/site", "--templates", "{tmp}/no-such-templates"),
        ("build", str(REGIMENS), "-o", "{tmp}/site", "--config", "{tmp}/no-such.toml"),
        ("render", "no-such-file.reg", "--to", "md"),
        ("render", str(SEED), "--to", "md", "-o", "{tmp}/no-such-folder/page.md"),
        ("serve", "{tmp}"),
    ],
)
def test_unusable_paths_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    code, printed = _run(*(a.format(tmp=tmp_path) for a in args))
    assert code == EXIT_USAGE
    assert printed == ""
    assert not (tmp_path / "site").exists()


def test_serve_serves_a_built_site_until_interrupted(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert _run("build", str(REGIMENS), "-o", str(site))[0] == EXIT_OK
    proc = subprocess.Popen(
        [sys.executable, "-m", "regdsl", "serve", str(site), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"serving {site} at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "index.html", timeout=10) as response:
            body = response.read()
        assert body == (site / "index.html").read_bytes()
        with urllib.request.urlopen(f"{url}regimens/{HANDOVER}.json", timeout=10) as response:
            assert json.loads(response.read())
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_OK
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--port", "70000", "70000 is not a port"),
        ("--port", "65536", "65536 is not a port"),
        ("--port", "-1", "-1 is not a port"),
        ("--port", "http", "not a port number"),
        ("--bind", "a" * 64, "cannot listen on"),  # a host name label longer than 63 characters
        ("--bind", "256.256.256.256", "cannot listen on"),
        ("--bind", "::1", "cannot listen on"),  # not an IPv4 address
        ("--bind", "local\x00host", "cannot listen on"),
        ("--bind", "", "cannot listen on"),  # every address: only by naming one
    ],
)
def test_serve_with_a_bad_port_or_address_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    says: str,
) -> None:
    def started(self: object, *args: object) -> None:
        raise AssertionError("the server started")

    monkeypatch.setattr(http.server.ThreadingHTTPServer, "serve_forever", started)
    (tmp_path / ".regdsl-site").write_text("")
    code: object
    try:
        code, printed = _run("serve", str(tmp_path), option, value)
    except SystemExit as stopped:  # argparse refuses the option itself
        code, printed = stopped.code, ""
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert printed == ""
    assert says in err
    assert "INT001" not in err


def _render_library(tmp_path: Path) -> Path:
    """Make a library of two bundled regimens, with its library.reg, a configuration and a templates folder."""
    lib = tmp_path / "lib"
    (lib / "templates").mkdir(parents=True)
    for name in ("library.reg", SEED.name, f"{HANDOVER}.reg"):
        (lib / name).write_bytes((REGIMENS / name).read_bytes())
    (lib / "regdsl.toml").write_text('ignore = ["TIM005"]\n')
    (lib / "templates" / "page.md.j2").write_text("{{ page.name|md }}\n")
    return lib


@pytest.mark.parametrize(
    "target",
    [
        SEED.name,  # its own source
        f"{HANDOVER}.reg",  # another regimen of the library
        "library.reg",
        "regdsl.toml",
        "templates/page.md.j2",
        "fifo",
        "link",
    ],
)
def test_render_never_replaces_what_it_reads_or_what_is_not_a_plain_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    lib = _render_library(tmp_path)
    os.mkfifo(lib / "fifo")
    (lib / "kept.md").write_text("kept\n")
    (lib / "link").symlink_to(lib / "kept.md")  # (a link to a device, such as /dev/null, as root: the same)
    before = {p: (p.lstat().st_ino, p.read_bytes() if p.is_file() else b"") for p in lib.rglob("*")}
    args = ("render", str(lib / SEED.name), "--to", "md", "--templates", str(lib / "templates"))
    code, _ = _run(*args, "-o", str(lib / target))
    assert code == EXIT_USAGE
    assert f"regdsl: error: {lib / target}: " in capsys.readouterr().err
    assert {p: (p.lstat().st_ino, p.read_bytes() if p.is_file() else b"") for p in lib.rglob("*")} == before
    assert _run(*args, "-o", str(lib / "page.md"))[0] == EXIT_OK  # a new file beside them is written
    assert (lib / "page.md").read_text(encoding="utf-8").strip()
