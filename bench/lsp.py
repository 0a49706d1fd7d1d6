"""Language server benchmark: writes its section of ``docs/performance.md``.

Usage::

    python bench/lsp.py [--edits N] [--small] [--out PATH]

Every bundled regimen is copied with ``library.reg`` into a temporary library, and
``python -m regdsl lsp`` is started there and driven over stdio by pygls's own client
(``pygls.lsp.client.LanguageClient``). The seed regimen is opened, then edited N times, one
character typed into or taken out of a line of its prose in turn, each edit after the
findings of the one before were published: the time from sending ``didChange`` to receiving
the ``publishDiagnostics`` of its version is the latency (it includes the server's wait for
further typing, ``regdsl.lsp.server.DEBOUNCE``). Then every other bundled regimen is opened,
and once each one's findings are published the server's resident memory is read from
``/proc``.

Only the section between ``<!-- bench:lsp -->`` and ``<!-- /bench:lsp -->`` is rewritten
(see ``bench/benchlib.py``).
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    REGIMENS,
    Sample,
    load_average,
    machine_lines,
    met,
    ms,
    new_parser,
    package_version,
    positive,
    publish,
)
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from regdsl.compile.library import LIBRARY_FILE
from regdsl.lsp.server import DEBOUNCE

SECTION = "lsp"
SEED = "leu-all-bcell-rr-inotuzumab.reg"
DEFAULT_EDITS = 50
SMALL_EDITS = 8
GOAL_MS = 0.100  # seconds, the median from an edit to its findings
# The line typed into: the seed's first prose line.
TYPED_LINE = "    | Cycle 1 is the same for all patients."


@dataclass(frozen=True, slots=True)
class Figures:
    """The measurements."""

    latencies: Sample
    rss_seed: int  # bytes, the seed alone open
    rss_all: int  # bytes, every bundled file open
    opened: int  # files open at the end: the bundled regimens and library.reg
    findings: int  # of the seed as first opened


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class _Published:
    """The versions whose findings arrived, and when."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, int | None], float] = {}
        self.counts: dict[tuple[str, int | None], int] = {}
        self.changed = asyncio.Event()

    def __call__(self, params: types.PublishDiagnosticsParams) -> None:
        key = (params.uri, params.version)
        self.arrived.setdefault(key, time.perf_counter())
        self.counts[key] = len(params.diagnostics)
        self.changed.set()

    async def wait(self, uri: str, version: int) -> float:
        while (uri, version) not in self.arrived:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), timeout=120)
        return self.arrived[(uri, version)]


def _open(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    document = types.TextDocumentItem(uri=uri, language_id="regdsl", version=1, text=path.read_text(encoding="utf-8"))
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))
    return uri


async def measure(folder: Path, edits: int) -> Figures:
    """Start the server in ``folder``, time ``edits`` edits of the seed, then open everything and read its memory."""
    client = LanguageClient("regdsl-bench", "1")
    published = _Published()
    client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(published)
    await client.start_io(sys.executable, "-m", "regdsl", "lsp", cwd=folder)
    server = client._server  # the process pygls started (no public name for it)
    assert server is not None
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=folder.as_uri())
    )
    client.initialized(types.InitializedParams())
    seed = folder / SEED
    uri = _open(client, seed)
    await published.wait(uri, 1)
    findings = published.counts[(uri, 1)]
    line = seed.read_text(encoding="utf-8").split("\n").index(TYPED_LINE)
    column = len(TYPED_LINE)
    latencies = []
    for number in range(edits):
        version = number + 2
        where = types.Position(line=line, character=column)
        typed = number % 2 == 0
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=where, end=where if typed else types.Position(line=line, character=column + 1)),
            text="x" if typed else "",
        )
        await asyncio.sleep(DEBOUNCE * 2)  # the author pauses: each edit is checked on its own
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]
            )
        )
        latencies.append(await published.wait(uri, version) - sent)
    rss_seed = _rss(server.pid)
    others = [p for p in sorted(folder.glob("*.reg")) if p.name != SEED]
    for path in others:
        _open(client, path)
    for path in others:
        await published.wait(path.as_uri(), 1)
    rss_all = _rss(server.pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()  # type: ignore[no-untyped-call]  # pygls leaves it untyped
    return Figures(Sample(tuple(latencies)), rss_seed, rss_all, len(others) + 1, findings)


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MiB"


def _p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def render(command: str, fig: Figures, edits: int, load: tuple[str, str]) -> str:
    """Write the section."""
    values = fig.latencies.times
    median = fig.latencies.median
    return (
        "\n".join(
            [
                "## Language server",
                "",
                "Written by `bench/lsp.py`. Re-run the command below to regenerate this section.",
                "",
                "### How it was run",
                "",
                *machine_lines(command, load),
                f"- pygls {package_version('pygls')}; lsprotocol {package_version('lsprotocol')}",
                f"- `python -m regdsl lsp` in a temporary library of the {fig.opened - 1} bundled regimens and "
                "`library.reg`, "
                "driven over stdio by `pygls.lsp.client.LanguageClient`. The seed "
                f"(`{SEED}`, {fig.findings} findings as opened) is edited {edits} times, a character typed into or "
                "taken out of its first prose line in turn, each edit sent once the findings of the one before arrived "
                f"and after a pause of {DEBOUNCE * 2 * 1000:.0f} ms; the latency runs from sending `didChange` to "
                f"receiving the `publishDiagnostics` of its version, and includes the server's "
                f"{DEBOUNCE * 1000:.0f} ms wait for further typing. Memory: the server's resident set (`VmRSS`) with "
                "the seed open, then with every bundled file open and its findings published.",
                "",
                "### Results",
                "",
                "| Measure | Value |",
                "| --- | ---: |",
                f"| edit to findings, median of {len(values)} | {ms(median)} |",
                f"| edit to findings, 90th percentile | {ms(_p90(values))} |",
                f"| edit to findings, range | {ms(fig.latencies.low)} to {ms(fig.latencies.high)} |",
                f"| server memory, the seed open | {_mib(fig.rss_seed)} |",
                f"| server memory, all {fig.opened} bundled files open | {_mib(fig.rss_all)} |",
                "",
                "### Goals",
                "",
                "| Goal | Target | Measured | Met |",
                "| --- | ---: | ---: | :---: |",
                f"| Findings of an edit of the seed, median of {len(values)} edits | ≤ {ms(GOAL_MS)} | {ms(median)} "
                f"| {met(median, GOAL_MS)} |",
            ]
        )
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its section of the report."""
    given = list(sys.argv[1:] if argv is None else argv)
    parser, size = new_parser("lsp.py", __doc__)
    size.add_argument("--edits", type=positive, default=DEFAULT_EDITS, help=f"edits timed (default {DEFAULT_EDITS})")
    size.add_argument("--small", action="store_true", help=f"{SMALL_EDITS} edits, for CI")
    args = parser.parse_args(given)
    edits: int = SMALL_EDITS if args.small else args.edits
    command = shlex.join(["python", "bench/lsp.py", *given])
    load_start = load_average()
    with tempfile.TemporaryDirectory(prefix="regdsl-bench-") as tmp:
        folder = Path(tmp)
        for path in REGIMENS.glob("*.reg"):
            shutil.copy(path, folder / path.name)
        assert (folder / LIBRARY_FILE).is_file()
        figures = asyncio.run(measure(folder, edits))
    return publish(args.out, SECTION, render(command, figures, edits, (load_start, load_average())))


if __name__ == "__main__":
    sys.exit(main())
