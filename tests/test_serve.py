"""``regdsl serve SRC``: build, serve, watch the sources, rebuild, reload the page, show errors."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from regdsl.render.serve import SCRIPT, Failure, LiveSite, Watch, error_page, host_allowed, resolve
from regdsl.render.site import Built, SiteError, build_site
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
FOLFOX = "crc-adjuvant-mfolfox6"
CAPE = "br-metastatic-capecitabine"
AZA = "leu-aml-azacitidine-venetoclax"  # its azacitidine is declared in library.reg
WARNED = "br-adjuvant-ac-paclitaxel-weekly"  # SUP016: a warning
WAIT = 60.0  # the most a rebuild may take on a loaded machine before a test fails; polled, never slept


def library(folder: Path, *ids: str) -> Path:
    """Copy ``library.reg`` and the bundled regimens ``ids`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REGIMENS / "library.reg", folder)
    for regimen_id in ids:
        shutil.copy(REGIMENS / f"{regimen_id}.reg", folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the file, which must hold it."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def until(what: Callable[[], object], timeout: float = WAIT) -> object:
    """Poll ``what`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout} s")
        time.sleep(0.02)


# --------------------------------------------------------------------------- the watch


def test_the_watch_sees_each_kind_of_change_to_what_a_build_reads(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", FOLFOX, CAPE)
    templates = tmp_path / "templates"
    templates.mkdir()
    watch = Watch([lib], config_file=None, templates=templates)
    changes: list[Callable[[], object]] = [
        lambda: edit(lib / f"{FOLFOX}.reg", "85 mg/m2", "86 mg/m2"),  # same size: the time tells
        lambda: (lib / "library.reg").write_text((lib / "library.reg").read_text() + "\n"),
        lambda: (lib / f"{CAPE}.reg").rename(lib / "renamed.reg"),
        lambda: (lib / "renamed.reg").unlink(),
        lambda: (lib / "new.reg").write_text("regimen x\n"),
        lambda: (lib / "regdsl.toml").write_text("[rules]\n"),
        lambda: (templates / "page.html.j2").write_text("{{ nothing }}\n"),
    ]
    seen = watch.stamps()
    for change in changes:
        time.sleep(0.01)  # the file system's clock moves on
        change()
        now = watch.stamps()
        assert now != seen, change
        seen = now
    assert watch.stamps() == seen  # nothing changed: nothing seen


def test_a_source_that_is_gone_or_too_long_is_watched_without_a_crash(tmp_path: Path) -> None:
    for source in (tmp_path / "gone", tmp_path / ("x" * 300), tmp_path / "gone.reg"):
        watch = Watch([source], config_file=None, templates=None)
        assert watch.stamps()[str(source)] is None


def test_the_watch_of_one_file_sees_it_change(tmp_path: Path) -> None:
    source = library(tmp_path / "lib", CAPE) / f"{CAPE}.reg"
    watch = Watch([source], config_file=None, templates=None)
    seen = watch.stamps()
    source.write_text(source.read_text() + "\n")
    assert watch.stamps() != seen


def test_a_build_into_the_library_folder_is_not_a_change(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", CAPE)
    watch = Watch([lib], config_file=None, templates=None)
    seen = watch.stamps()
    built = LiveSite(lambda: build_site([lib], lib / "site")).rebuild()
    assert isinstance(built, Built)
    assert built.written
    assert watch.stamps() == seen  # else each build would start the next


def test_a_change_is_yielded_once_the_files_stay_the_same(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", FOLFOX)
    watch = Watch([lib], config_file=None, templates=None)
    seen = watch.stamps()
    changes = watch.changes(seen, 0.01)
    edit(lib / f"{FOLFOX}.reg", "85 mg/m2", "85 mg/m2 ")
    first = next(changes)
    assert first != seen
    assert first == watch.stamps()


def test_an_unreadable_folder_is_a_stamp_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = library(tmp_path / "lib", FOLFOX)
    watch = Watch([lib], config_file=None, templates=None)
    seen = watch.stamps()
    real = os.scandir

    def refused(path: str) -> object:
        if os.fspath(path) == os.fspath(lib):
            raise PermissionError(13, "Permission denied", os.fspath(lib))
        return real(path)

    monkeypatch.setattr(os, "scandir", refused)
    assert watch.stamps() != seen


# --------------------------------------------------------------------------- requests


@pytest.mark.parametrize(
    "request_path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/regimens/../../secret.txt",
        "/regimens/%2e%2e/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "//" + "{tmp}/secret.txt",
        "/{tmp}/secret.txt",
        "/index.html%00.txt",
        "/a\x00b",
        "/..%5csecret.txt",
        "/.regdsl-site",
        "/outside/secret.txt",  # a link out of the site
        "/%ff",
        "/no-such-page.html",
    ],
)
def test_a_request_never_names_a_file_outside_the_site(tmp_path: Path, request_path: str) -> None:
    site = tmp_path / "site"
    (site / "regimens").mkdir(parents=True)
    (site / "index.html").write_text("<html></html>")
    (site / ".regdsl-site").write_text("")
    (tmp_path / "secret.txt").write_text("secret")
    (site / "outside").symlink_to(tmp_path)
    assert resolve(site, request_path.format(tmp=str(tmp_path).lstrip("/"))) is None


def test_a_request_names_the_files_of_the_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "regimens").mkdir(parents=True)
    (site / "index.html").write_text("<html></html>")
    (site / "regimens" / "a b.html").write_text("<html></html>")
    assert resolve(site, "/") == (site / "index.html").resolve()
    assert resolve(site, "/index.html?q=1#x") == (site / "index.html").resolve()
    assert resolve(site, "/regimens/a%20b.html") == (site / "regimens" / "a b.html").resolve()


# --------------------------------------------------------------------------- building again


def _live(lib: Path, out: Path, **options: object) -> LiveSite:
    return LiveSite(lambda: build_site([lib], out, **options))  # type: ignore[arg-type]


def _state(live: LiveSite) -> tuple[int, Failure | None]:
    return live.generation, live.failure


def test_a_failed_rebuild_keeps_the_site_and_names_the_regimen_with_its_errors(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", FOLFOX, CAPE)
    out = tmp_path / "site"
    live = _live(lib, out)
    first = live.rebuild()
    assert isinstance(first, Built)
    assert first.written
    assert live.failure is None
    assert live.generation == 1
    page = (out / "regimens" / f"{FOLFOX}.html").read_bytes()
    edit(lib / f"{FOLFOX}.reg", "85 mg/m2 IV", "85 mg/m2 IV <script>alert(1)</script> ((")
    failed = live.rebuild()
    assert isinstance(failed, Failure)
    assert _state(live) == (2, failed)
    assert set(failed.regimens) == {FOLFOX}  # the other regimen's file has no error
    assert (out / "regimens" / f"{FOLFOX}.html").read_bytes() == page  # what check fails is not published
    shown = error_page(failed, FOLFOX).decode()
    assert "<script>alert" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert f"{FOLFOX}.reg:21:" in shown  # the text format's location, with its line
    assert "error[" in shown
    edit(lib / f"{FOLFOX}.reg", "85 mg/m2 IV <script>alert(1)</script> ((", "90 mg/m2 IV")
    again = live.rebuild()
    assert isinstance(again, Built)
    assert again.written
    assert live.failure is None
    assert "90 mg/m²".encode() in (out / "regimens" / f"{FOLFOX}.html").read_bytes()


def test_under_strict_a_warning_fails_its_regimen_and_notes_show_only_when_asked(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", WARNED, CAPE)
    out = tmp_path / "site"
    failed = LiveSite(lambda: build_site([lib], out, strict=True), strict=True).rebuild()
    assert isinstance(failed, Failure)
    assert set(failed.regimens) == {WARNED}
    assert "warning[SUP016]" in failed.regimens[WARNED].text
    assert not out.exists()
    assert "info[" not in "".join(f.text for f in failed.files)
    noted = LiveSite(lambda: build_site([lib], out, strict=True), strict=True, notes=True).rebuild()
    assert isinstance(noted, Failure)
    assert "info[" in "".join(f.text for f in noted.files)


def test_a_file_with_a_syntax_error_is_named_by_the_id_of_its_last_build(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", FOLFOX, CAPE)
    live = _live(lib, tmp_path / "site")
    live.rebuild()
    (lib / f"{CAPE}.reg").write_text("regimen !!! nonsense\n", encoding="utf-8")
    failed = live.rebuild()
    assert isinstance(failed, Failure)
    assert set(failed.regimens) == {CAPE}
    assert failed.files[0].path.endswith(f"{CAPE}.reg")


def test_an_edit_of_library_reg_is_read_by_the_next_build(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", AZA)
    live = LiveSite(lambda: build_site([lib], tmp_path / "site"))
    assert isinstance(live.rebuild(), Built)
    declared = 'medicine "azacitidine"\n  anticancer\n'
    edit(lib / "library.reg", declared, "")
    failed = live.rebuild()
    assert isinstance(failed, Failure)
    assert "error[VOC004]: unknown medicine `azacitidine`" in failed.regimens[AZA].text
    edit(lib / "library.reg", "# Medicines of the haematology regimens\n", "# Medicines\n" + declared)
    assert isinstance(live.rebuild(), Built)


def test_a_file_deleted_or_renamed_mid_watch_is_a_rebuild(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", FOLFOX, CAPE)
    out = tmp_path / "site"
    live = _live(lib, out)
    live.rebuild()
    (lib / f"{CAPE}.reg").rename(lib / "other-name.reg")
    assert isinstance(live.rebuild(), Built)
    (lib / f"{FOLFOX}.reg").unlink()
    built = live.rebuild()
    assert isinstance(built, Built)
    assert built.regimens == 1
    assert not (out / "regimens" / f"{FOLFOX}.html").exists()
    shutil.rmtree(lib)  # the whole library gone: said in the page, and the site kept
    failed = live.rebuild()
    assert isinstance(failed, Failure)
    assert "no such file or folder" in failed.summary
    assert (out / "index.html").is_file()


@pytest.mark.parametrize(
    "problem",
    [
        SiteError("site: cannot write: No space left on device"),
        OSError(28, "No space left on device"),
    ],
)
def test_a_full_disk_or_an_unwritable_site_is_said_in_the_page(problem: Exception) -> None:
    def build() -> Built:
        raise problem

    live = LiveSite(build)
    failed = live.rebuild()
    assert isinstance(failed, Failure)
    assert "No space left on device" in failed.summary
    assert "No space left on device" in error_page(failed).decode()


def test_a_template_error_is_said_in_the_page_and_a_fixed_template_is_used(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", FOLFOX)
    templates = tmp_path / "templates"
    templates.mkdir()
    out = tmp_path / "site"
    live = LiveSite(lambda: build_site([lib], out, templates=templates), templates=templates)
    assert isinstance(live.rebuild(), Built)
    (templates / "index.html.j2").write_text("{% if %}\n", encoding="utf-8")
    failed = live.rebuild()
    assert isinstance(failed, Failure)
    assert "index.html.j2" in failed.summary
    (templates / "index.html.j2").write_text("<html><body>my own index</body></html>\n", encoding="utf-8")
    assert isinstance(live.rebuild(), Built)  # the templates are read again, not the compiled old ones
    assert (out / "index.html").read_text(encoding="utf-8").startswith("<html><body>my own index")


# --------------------------------------------------------------------------- the command


class Served:
    """A ``regdsl serve`` process, its address and what it printed."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "regdsl", "serve", *args, "--port", "0"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        self.printed: list[str] = []
        self.stopped: tuple[int, str, str] | None = None
        for line in self.proc.stdout:
            self.printed.append(line)
            if line.startswith("serving "):
                break
        assert self.printed, self.proc.communicate(timeout=WAIT)
        self.url = self.printed[-1].split(" at ", 1)[1].split()[0]

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=WAIT) as response:
            text: str = response.read().decode("utf-8")
            return text

    def generation(self, path: str) -> int:
        page = self.get(path)
        return int(page.split(f'<script src="{SCRIPT}" data-generation="', 1)[1].split('"', 1)[0])

    @contextlib.contextmanager
    def events(self, since: int) -> Iterator[http.client.HTTPResponse]:
        host, port = self.url.split("//", 1)[1].rstrip("/").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
        connection.request("GET", f"/__regdsl/events?since={since}")
        response = connection.getresponse()
        assert response.headers["Content-Type"] == "text/event-stream"
        try:
            yield response
        finally:
            connection.close()

    def stop(self, how: int = signal.SIGINT) -> tuple[int, str, str]:
        """Send ``how``; return the exit code, all it printed and its standard error (the first stop's, again)."""
        if self.stopped is None:
            self.proc.send_signal(how)
            try:
                out, err = self.proc.communicate(timeout=WAIT)
            finally:
                self.proc.kill()
            self.stopped = (self.proc.returncode, "".join(self.printed) + out, err)
        return self.stopped


def reload_event(stream: http.client.HTTPResponse) -> str:
    """Read the event stream until its ``reload`` event; return the event."""
    lines = []
    while True:
        line = stream.readline().decode("utf-8")
        assert line, "the stream ended without a reload"
        lines.append(line)
        if line == "\n" and any(seen.startswith("event: reload") for seen in lines):
            return "".join(lines)


@contextlib.contextmanager
def serving(tmp_path: Path) -> Iterator[tuple[Served, Path]]:
    """Serve a library of two regimens; at the end, SIGTERM must stop the server cleanly (exit 0)."""
    lib = library(tmp_path / "lib", FOLFOX, CAPE)
    server = Served(str(lib), cwd=tmp_path)
    try:
        yield server, lib
    finally:
        code, _out, err = server.stop(signal.SIGTERM)
    assert code == 0, err
    assert "Traceback" not in err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, Path]]:
    with serving(tmp_path) as both:
        yield both


def test_serve_builds_edits_rebuild_and_reload_and_errors_show_in_the_page(served: tuple[Served, Path]) -> None:
    server, lib = served
    assert server.printed[0].startswith("built 2 regimens (6 pages) in ")
    page = server.get(f"regimens/{FOLFOX}.html")
    assert "85 mg/m²" in page
    assert f'<script src="{SCRIPT}"' in page
    assert "reload" in server.get(SCRIPT)
    since = server.generation(f"regimens/{FOLFOX}.html")
    with server.events(since) as stream:
        edit(lib / f"{FOLFOX}.reg", "85 mg/m2 IV", "95 mg/m2 IV")
        assert f"data: {since + 1}" in reload_event(stream)
    assert "95 mg/m²" in server.get(f"regimens/{FOLFOX}.html")
    with server.events(since + 1) as stream:
        edit(lib / f"{FOLFOX}.reg", "95 mg/m2 IV", "95 mg/m2 IV over over")
        reload_event(stream)
    page = server.get(f"regimens/{FOLFOX}.html")
    assert "build failed" in page
    assert "error[" in page
    assert f"{FOLFOX}.reg:21:" in page
    index = server.get("index.html")
    assert 'id="regdsl-serve-notice"' in index  # the index says the build failed
    assert 'id="regdsl-serve-notice"' in server.get(f"regimens/{CAPE}.html")  # and so does every other page
    assert "error[" in server.get("__regdsl/errors")
    with server.events(since + 2) as stream:
        edit(lib / f"{FOLFOX}.reg", "95 mg/m2 IV over over", "95 mg/m2 IV")
        reload_event(stream)
    page = server.get(f"regimens/{FOLFOX}.html")
    assert "build failed" not in page
    assert "95 mg/m²" in page
    assert 'id="regdsl-serve-notice"' not in server.get("index.html")
    code, out, err = server.stop(signal.SIGTERM)
    assert code == 0, err
    assert "Traceback" not in err
    assert out.count("rebuilt 2 regimens") == 2
    assert "the build failed:" in err


def _raw(server: Served, request: bytes) -> bytes:
    host, port = server.url.split("//", 1)[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=WAIT) as raw:
        raw.sendall(request)
        return b"".join(iter(lambda: raw.recv(65536), b""))


_OUTSIDE = (
    "/../lib/{name}",
    "/%2e%2e/%2e%2e/%2e%2e{path}",
    "/{path}",
    "//{path}",
    "/%00",
    "/index.html%00",
    "/.regdsl-site",
    "/..%2f..%2f{name}",
)


def _refused_everywhere(server: Served, secret: Path) -> None:
    for asked in _OUTSIDE:
        request = f"GET {asked.format(name=secret.name, path=secret)} HTTP/1.0\r\n\r\n".encode()
        answer = _raw(server, request)
        assert answer.startswith(b"HTTP/1.0 404 "), (asked, answer[:80])
        assert b"regimen " not in answer
    assert _raw(server, b"GET /a\x00b HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 404 ")  # a NUL, not encoded
    assert server.get("index.html")


def test_the_server_answers_no_request_with_a_file_outside_the_site(served: tuple[Served, Path]) -> None:
    server, lib = served
    _refused_everywhere(server, lib / f"{CAPE}.reg")  # beside the site's private folder, and read by the build


def test_a_built_site_is_served_as_it_is_and_nothing_outside_it(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", CAPE)
    site = tmp_path / "site"
    assert isinstance(LiveSite(lambda: build_site([lib], site)).rebuild(), Built)
    server = Served(str(site), cwd=tmp_path)
    try:
        assert server.get("index.html").encode() == (site / "index.html").read_bytes()  # no script added
        _refused_everywhere(server, lib / f"{CAPE}.reg")
    finally:
        code, _out, err = server.stop()
    assert code == 0
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("LOCALHOST", True),
        ("127.0.0.2", True),
        ("[::1]:8000", True),
        ("evil.example:8000", False),
        ("evil.example", False),
        ("10.0.0.1:8000", False),
        ("", False),
    ],
)
def test_a_server_on_this_computer_answers_only_requests_addressed_to_it(host: str, answered: bool) -> None:
    assert host_allowed(host, "127.0.0.1") is answered
    assert host_allowed(host, "0.0.0.0") is True  # every network: asked for by name
    assert host_allowed(None, "127.0.0.1") is True  # HTTP/1.0 without a Host: no browser


def test_a_rebound_name_gets_nothing(served: tuple[Served, Path]) -> None:
    server, _lib = served
    assert _raw(server, b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.0 403 "
    )


def test_a_page_opened_after_a_rebuild_reloads_at_once(served: tuple[Served, Path]) -> None:
    server, _lib = served
    with server.events(0) as stream:  # a page of the build before the first
        assert "data: 1" in reload_event(stream)


def test_a_browser_that_goes_away_does_not_stop_the_server(served: tuple[Served, Path]) -> None:
    server, lib = served
    since = server.generation("index.html")
    for _ in range(3):
        with server.events(since) as stream:
            stream.readline()  # the stream is open; the connection closes at the end of the block
    with server.events(since) as stream:
        (lib / f"{CAPE}.reg").touch()
        reload_event(stream)
    assert server.get("index.html")
    code, _out, err = server.stop()
    assert code == 0
    assert err.count("Traceback") == 0


def test_serve_keeps_the_out_folder_it_was_given(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", CAPE)
    server = Served(str(lib), "--out", str(tmp_path / "mine"), cwd=tmp_path)
    code, _out, err = server.stop()
    assert code == 0, err
    assert (tmp_path / "mine" / "index.html").is_file()
    assert (tmp_path / "mine" / ".regdsl-site").is_file()


def test_serve_leaves_no_folder_behind_in_the_temporary_folder(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", CAPE)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "regdsl", "serve", str(lib), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("built 1 regimen ")
    assert proc.stdout.readline().startswith("serving ")
    assert [p.name[:13] for p in scratch.iterdir()] == ["regdsl-serve-"]
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err
    assert list(scratch.iterdir()) == []


def test_serve_refuses_an_out_folder_it_must_not_replace(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", CAPE)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    proc = subprocess.run(
        [sys.executable, "-m", "regdsl", "serve", str(lib), "--out", str(mine), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "was not written by `regdsl build`" in proc.stderr
    assert proc.stdout == ""
    assert (mine / "notes.txt").read_text() == "keep me"


def test_a_failed_build_with_standard_error_full_is_still_served(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", CAPE)
    edit(lib / f"{CAPE}.reg", "regimen ", "regimen ((( ")
    with Path("/dev/full").open("w") as full:
        proc = subprocess.Popen(
            [sys.executable, "-m", "regdsl", "serve", str(lib), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("serving "), line
            url = line.split(" at ", 1)[1].split()[0]
            with urllib.request.urlopen(url, timeout=WAIT) as response:
                assert b"build failed" in response.read()
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=WAIT)
        finally:
            proc.kill()
    assert proc.returncode == 0


def test_a_library_that_fails_from_the_start_is_served_as_its_errors(tmp_path: Path) -> None:
    lib = library(tmp_path / "lib", CAPE)
    edit(lib / f"{CAPE}.reg", "regimen ", "regimen ((( ")
    server = Served(str(lib), cwd=tmp_path)
    try:
        assert "build failed" in server.get("")
        assert "build failed" in server.get(f"regimens/{CAPE}.html")
        with pytest.raises(urllib.error.HTTPError) as missing:
            server.get("search.js")
        assert missing.value.code == 404
    finally:
        code, _out, err = server.stop()
    assert code == 0
    assert "the build failed:" in err
    assert "Traceback" not in err
