"""``regdsl serve``: a library built, served over HTTP, rebuilt when its sources change.

``LiveSite`` builds the library with ``build_site`` (so a build that fails publishes nothing,
as ``regdsl build``) and keeps what the last build said. ``Watch`` notices a change to what a
build reads (the library's ``.reg`` files, ``library.reg``, the configuration files, the
templates) by polling their ``stat``: modification time, size and inode. ``handler`` answers
the browser: the site's files, and, for a live site, three addresses of its own::

    /__regdsl/reload.js    the script the server adds to every HTML page it serves
    /__regdsl/events       Server-Sent Events: ``reload`` once a build newer than the page's ends
    /__regdsl/errors       what the last build found, when it failed

While the last build failed, the page of a regimen whose file has errors is the list of those
errors (escaped, as ``regdsl check`` prints them, with lines) instead of its stale page, and every
other HTML page says so at its top. Nothing of this reaches the site on disk.

A request names a file inside the site or nothing: its path is decoded once, and a part that
is empty is dropped; a part that starts with a dot (``.``, ``..``, the site's marker), holds a
NUL or a backslash, or a file that resolves outside the site is refused.
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup, escape

from regdsl import __version__
from regdsl.check.config import CONFIG_FILE, PYPROJECT, ConfigError
from regdsl.check.run import Outcome, configure, library_root
from regdsl.compile.library import LIBRARY_FILE, PathError, regimen_files
from regdsl.diagnostics import Diagnostic, Severity
from regdsl.diagnostics.formats import summary_line, text_format
from regdsl.render.env import TemplateProblem, environment, render_template, static_text
from regdsl.render.pages import EXTENSIONS
from regdsl.render.site import PAGES, Built, SiteError
from regdsl.source import visible

__all__ = [
    "ERRORS",
    "EVENTS",
    "SCRIPT",
    "Failure",
    "LiveSite",
    "Watch",
    "error_page",
    "handler",
    "host_allowed",
    "listen",
    "resolve",
    "serving",
]

PREFIX = "/__regdsl/"
SCRIPT = PREFIX + "reload.js"
EVENTS = PREFIX + "events"
ERRORS = PREFIX + "errors"
KEEP_ALIVE = 10.0  # seconds between the comments an event stream sends to find a closed browser
_BODY = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_PAGE_SUFFIXES = tuple(EXTENSIONS.values())


# --------------------------------------------------------------------------- what a build said


@dataclass(frozen=True, slots=True)
class FileFindings:
    """One file's findings as ``regdsl check`` prints them."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Failure:
    """A build that published nothing: why, in one line, and each file's findings.

    ``regimens`` maps the id of each regimen whose own file has errors to that file's findings.
    """

    summary: str
    files: tuple[FileFindings, ...] = ()
    regimens: Mapping[str, FileFindings] = field(default_factory=dict)

    @classmethod
    def of_outcome(cls, outcome: Outcome, known: Mapping[str, str], *, strict: bool, notes: bool) -> Failure:
        """Return the failure of a check; ``known`` maps regimen ids to their files (of earlier builds).

        Under ``strict`` a warning fails a file as an error does; ``notes`` shows the informational notes too.
        """
        failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        shown = [d for d in outcome.diagnostics if notes or d.level is not Severity.INFO]
        by_file: dict[str, list[Diagnostic]] = {}
        for diag in shown:
            by_file.setdefault(diag.span.path, []).append(diag)
        files = {
            path: FileFindings(visible(path), text_format(found, outcome.sources)) for path, found in by_file.items()
        }
        bad = {d.span.path for d in shown if d.level in failing}
        ids = {**known, **{regimen.id: regimen.path for regimen in outcome.regimens}}
        regimens = {regimen_id: files[path] for regimen_id, path in ids.items() if path in bad}
        summary = summary_line(outcome.diagnostics, outcome.files)
        if outcome.config_failed:
            count = len(outcome.diagnostics)
            summary = f"{count} error{'s' if count != 1 else ''} in the configuration; nothing was checked"
        return cls(summary, tuple(files[path] for path in sorted(files, key=lambda p: (p not in bad, p))), regimens)


BuildProblem = (SiteError, TemplateProblem, PathError, ConfigError, OSError)


class LiveSite:
    """A library built again and again: the number of the last build and its failure, shared by threads."""

    def __init__(
        self, build: Callable[[], Built], *, strict: bool = False, notes: bool = False, templates: Path | None = None
    ) -> None:
        self._build = build
        self.strict = strict
        self.notes = notes
        self.templates = templates
        self.generation = 0
        self.failure: Failure | None = None
        self.stopping = False
        self.changed = threading.Condition()
        self._known: dict[str, str] = {}  # regimen id -> its file, of every build that passed

    def rebuild(self, raising: tuple[type[Exception], ...] = ()) -> Built | Failure:
        """Build again; record and return what came of it. Exceptions of ``raising`` are not caught."""
        if self.templates is not None:
            environment.cache_clear()  # the templates may have changed since they were compiled
        try:
            built: Built | Failure = self._build()
        except raising:
            raise
        except BuildProblem as err:
            built = Failure(visible(str(err)))
        failure = built if isinstance(built, Failure) else None
        if isinstance(built, Built):
            if built.written:
                self._known = {regimen.id: regimen.path for regimen in built.outcome.regimens}
            else:
                failure = Failure.of_outcome(built.outcome, self._known, strict=self.strict, notes=self.notes)
        with self.changed:
            self.failure = failure
            self.generation += 1
            self.changed.notify_all()
        return failure or built

    def stop(self) -> None:
        """Tell every open event stream to end."""
        with self.changed:
            self.stopping = True
            self.changed.notify_all()

    def wait(self, since: int, timeout: float) -> int | None:
        """Wait until a build newer than ``since`` ends: its number, or None (a time out, or the server stops)."""
        with self.changed:
            self.changed.wait_for(lambda: self.stopping or self.generation > since, timeout)
            return self.generation if self.generation > since and not self.stopping else None


# --------------------------------------------------------------------------- watching the sources

_Stamp = tuple[int, int, int] | None


def _stamp(path: Path) -> _Stamp:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


class Watch:
    """What a build of ``sources`` reads, and when each of those files last changed."""

    def __init__(self, sources: Sequence[Path], *, config_file: Path | None, templates: Path | None) -> None:
        self.sources = list(sources)
        self.config_file = config_file
        self.templates = templates
        self.roots: list[Path] = []
        self.find_roots()

    def find_roots(self) -> None:
        """Find the library roots of the sources again (the configuration may name another)."""
        with contextlib.suppress(*BuildProblem):
            config = configure(self.sources, config_file=self.config_file)
            if not isinstance(config, Outcome):
                self.roots = [library_root(path, config) for path in self.sources]

    def _folders(self) -> list[Path]:
        return list(dict.fromkeys([*self.sources, *self.roots]))

    def _configs(self) -> Iterator[Path]:
        if self.config_file is not None:
            yield self.config_file
            return
        for folder in self._folders():
            try:
                start = folder.resolve() if os.path.isdir(folder) else folder.resolve().parent
            except (OSError, RuntimeError):  # a path the system refuses, a loop of links: no configuration above
                continue
            for candidate in (start, *start.parents):
                yield candidate / CONFIG_FILE
                yield candidate / PYPROJECT

    def stamps(self) -> dict[str, _Stamp]:
        """Return the stamp of every file a build reads (None: it is missing or unreadable)."""
        found: dict[str, _Stamp] = {}
        for folder in self._folders():
            if os.path.isdir(folder):  # not the folder's own time: a build into a folder inside it changes that
                try:
                    files = regimen_files(folder)
                except PathError as err:  # an unreadable folder: told apart from a readable one
                    found[os.fspath(folder) + "\0"] = (0, len(str(err)), 0)
                    files = []
                for path, info in files:
                    found[os.fspath(path)] = info.st_mtime_ns, info.st_size, info.st_ino
                found[os.fspath(folder / LIBRARY_FILE)] = _stamp(folder / LIBRARY_FILE)
            else:  # a .reg file named as the source, or a folder that is gone
                found[os.fspath(folder)] = _stamp(folder)
        for path in self._configs():
            found[os.fspath(path)] = _stamp(path)
        if self.templates is not None:
            for top, _dirs, names in os.walk(self.templates):
                for name in names:
                    found[os.path.join(top, name)] = _stamp(Path(top, name))
        return found

    def changes(self, seen: Mapping[str, _Stamp], interval: float) -> Iterator[dict[str, _Stamp]]:
        """Yield the stamps each time they differ from the last, once they stay the same for ``interval``."""
        last = dict(seen)
        while True:
            time.sleep(interval)
            now = self.stamps()
            if now == last:
                continue
            while True:  # a save in progress: wait until it is done
                time.sleep(interval / 2)
                again = self.stamps()
                if again == now:
                    break
                now = again
            last = now
            yield now


# --------------------------------------------------------------------------- answering the browser


def error_page(failure: Failure, regimen: str | None = None) -> bytes:
    """Return the page of a failed build: the regimen's own file's findings first, if it has some."""
    files = list(failure.files)
    own = failure.regimens.get(regimen) if regimen is not None else None
    if own is not None:
        files = [own, *(f for f in files if f is not own)]
    title = f"{regimen}: the build failed" if own is not None and regimen is not None else "The build failed"
    view = {
        "title": visible(title),
        "summary": failure.summary,
        "files": files,
        "styles": Markup(static_text("page.css") + "\n" + static_text("index.css")),  # package data, not user text
        "version": __version__,
    }
    return render_template("html", None, "serve-errors.html.j2", view=view).encode("utf-8")


def _notice(failure: Failure) -> bytes:
    text = escape(f"The last build failed ({failure.summary}): this page is from the last build that passed.")
    style = "margin:0;padding:0.75rem 1rem;background:#fde8e8;color:#5c0b0b;border-bottom:2px solid #a61b1b"
    link = f'<a href="{ERRORS}">The errors</a>'
    return f'<div role="alert" id="regdsl-serve-notice" style="{style}">{text} {link}</div>'.encode()


def _with_script(page: bytes, generation: int, failure: Failure | None) -> bytes:
    """Add the reload script to an HTML page (and, after a failed build, the notice at its top)."""
    script = f'<script src="{SCRIPT}" data-generation="{generation}"></script>\n'.encode()
    ends = list(_END.finditer(page))
    at = ends[-1].start() if ends else len(page)
    page = page[:at] + script + page[at:]
    opening = _BODY.search(page) if failure is not None else None
    if failure is not None and opening is not None:
        page = page[: opening.end()] + _notice(failure) + page[opening.end() :]
    return page


def _parts(request: str) -> list[str] | None:
    """Return the non-empty parts of a request's path, decoded; None for a path no file of a site has."""
    try:
        path = urllib.parse.unquote(urllib.parse.urlsplit(request).path, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    parts = [part for part in path.split("/") if part]
    if any(part.startswith(".") or "\0" in part or "\\" in part for part in parts):
        return None
    return parts


def resolve(root: Path, request: str) -> Path | None:
    """Return the file of the site ``root`` that the request path names, or None."""
    parts = _parts(request)
    if parts is None:
        return None
    try:
        base = root.resolve()
        target = base.joinpath(*parts).resolve()
        if target.is_dir():
            target = (target / "index.html").resolve()
        if (target != base and base not in target.parents) or not target.is_file():
            return None
    except (OSError, ValueError, RuntimeError):
        return None
    return target


def _regimen(parts: Sequence[str]) -> str | None:
    """Return the id of the regimen whose page the request's path parts name, or None."""
    if len(parts) == 2 and parts[0] == PAGES:
        for suffix in _PAGE_SUFFIXES:
            if parts[1].endswith(suffix):
                return parts[1][: -len(suffix)]
    return None


def host_allowed(host: str | None, bound: str) -> bool:
    """Whether a request's ``Host`` may be answered by a server bound to ``bound``.

    A server on a loopback address answers only requests addressed to this computer: a page
    elsewhere that points its own name at 127.0.0.1 (DNS rebinding) gets nothing.
    """
    try:
        if host is None or not ipaddress.ip_address(bound).is_loopback:
            return True
    except ValueError:  # a name, not an address: it was asked for by name
        return True
    name = host.partition("]")[0].lstrip("[") if host.startswith("[") else host.rpartition(":")[0] or host
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def handler(root: Path, live: LiveSite | None) -> type[http.server.BaseHTTPRequestHandler]:
    """Return the request handler of the site at ``root``; with ``live``, with reloads and errors."""

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "regdsl"

        def do_GET(self) -> None:
            """Answer a GET."""
            self._answer(body=True)

        def do_HEAD(self) -> None:
            """Answer a HEAD."""
            self._answer(body=False)

        def log_message(self, format: str, *args: object) -> None:
            """Log a request, escaped for the terminal; not the server's own addresses."""
            if not self.path.startswith(PREFIX):
                with contextlib.suppress(OSError):  # a full or closed standard error does not stop the answer
                    super().log_message("%s", visible(format % args))

        def _send(self, status: int, content_type: str, data: bytes, *, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _answer(self, *, body: bool) -> None:
            with contextlib.suppress(ConnectionError, TimeoutError):  # the browser went away
                self._reply(body=body)

        def _reply(self, *, body: bool) -> None:
            address = self.server.server_address  # the address bound: a name given is resolved
            if not host_allowed(self.headers.get("Host"), str(address[0]) if isinstance(address, tuple) else ""):
                self._send(403, "text/plain; charset=utf-8", b"this server answers only this computer\n", body=body)
                return
            parts = _parts(self.path)
            path = "/" + "/".join(parts or [])
            if live is not None and path.startswith(PREFIX):
                self._own(path, body=body)
                return
            failure = live.failure if live is not None else None
            regimen = _regimen(parts or [])
            if failure is not None and regimen is not None and regimen in failure.regimens:
                self._page(error_page(failure, regimen), body=body)
                return
            target = resolve(root, self.path)
            if target is None and parts == ["favicon.ico"]:  # what a browser asks for: no icon, and no error
                self.send_response(204)
                self.end_headers()
                return
            if target is None:
                if failure is not None and parts is not None and (not parts or parts[-1].endswith(".html")):
                    self._page(error_page(failure), body=body)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n", body=body)
                return
            try:
                data = target.read_bytes()
            except OSError:  # removed by a rebuild since it was found
                self._send(404, "text/plain; charset=utf-8", b"not found\n", body=body)
                return
            if target.suffix == ".html" and live is not None:
                self._page(data, body=body)
                return
            self._send(200, _TYPES.get(target.suffix, "application/octet-stream"), data, body=body)

        def _page(self, page: bytes, *, body: bool) -> None:
            assert live is not None
            with live.changed:
                generation, failure = live.generation, live.failure
            self._send(200, _TYPES[".html"], _with_script(page, generation, failure), body=body)

        def _own(self, path: str, *, body: bool) -> None:
            assert live is not None
            if path == SCRIPT:
                self._send(200, _TYPES[".js"], static_text("reload.js").encode("utf-8"), body=body)
            elif path == EVENTS:
                self._events()
            elif path == ERRORS and live.failure is not None:
                self._page(error_page(live.failure), body=body)
            elif path == ERRORS:
                self.send_response(303)
                self.send_header("Location", "/index.html")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n", body=body)

        def _events(self) -> None:
            assert live is not None
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            since_text = query.get("since", ["0"])[0]
            since = int(since_text) if since_text.isdecimal() and len(since_text) < 20 else 0
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(b"retry: 500\n\n")
            self.wfile.flush()
            while True:
                generation = live.wait(since, KEEP_ALIVE)
                if live.stopping:
                    return
                if generation is not None:
                    self.wfile.write(f"event: reload\ndata: {generation}\n\n".encode())
                    self.wfile.flush()
                    return
                self.wfile.write(b": waiting\n\n")  # fails once the browser has gone
                self.wfile.flush()

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # an open event stream does not hold up the end

    def handle_error(self, request: object, client_address: object) -> None:
        """Say nothing of a browser that went away; the handler catches everything else."""


def listen(bind: str, port: int, root: Path, live: LiveSite | None) -> http.server.ThreadingHTTPServer:
    """Return a server of the site ``root`` on ``bind``:``port`` (raises ``OSError``, ``ValueError``...)."""
    return _Server((bind, port), handler(root, live))


@contextlib.contextmanager
def serving(server: http.server.ThreadingHTTPServer, live: LiveSite | None) -> Iterator[None]:
    """Serve in a thread while the block runs; then end the event streams and stop."""
    thread = threading.Thread(target=server.serve_forever, name="regdsl-serve", daemon=True)
    thread.start()
    try:
        yield
    finally:
        if live is not None:
            live.stop()
        server.shutdown()
        server.server_close()
        thread.join()
