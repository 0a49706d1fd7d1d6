"""The examples of the documentation, read from the Markdown and run against the real tool.

One reader for every document (``README.md`` and ``docs/*.md``); ``tests/test_docs.py`` and
``tests/test_docs_language.py`` use it. A document shows these fenced blocks:

- ```` ```reg ````: a complete regimen file; it checks with no error and no warning.
- ```` ```reg-snippet ````: a fragment. The HTML comment ``<!-- wrap: KIND -->`` just before
  the fence says where it goes: ``cycle`` (indented under ``cycle 1: 28 days`` of a minimal
  regimen), ``regimen`` (indented under the ``regimen`` heading; ``name`` and ``status draft``
  are added when the fragment does not give them), ``file`` (at the top level of a minimal
  regimen) or ``library`` (added to ``library.reg``, beside a minimal regimen). Once wrapped, it
  checks like a ``reg`` example.
- ```` ```reg-error ````: a complete file whose first line is ``# expect: CODE[, CODE]``: the
  findings are exactly those codes, at least one of them an error or a warning.
- ```` ```console ````: a terminal session. Each line starting with ``$ `` is a command, run
  with ``bash`` in the document's folder (below); the lines after it, up to the next command,
  are everything it prints (standard output and standard error together, as a terminal shows
  them) on a terminal 80 characters wide, byte for byte: a command shown with no lines after
  it prints nothing. Only the time a build took (``in 0.4 s``) may differ. With
  ``<!-- until: Ctrl-C -->`` before the fence, the last command is a server: once it has
  printed what is shown, the address it names must answer, and Ctrl-C must stop it with exit
  code 0.
- Any other block (``sh``, ``text``, ``toml``...) is not run, so it shows no output (no ``$ ``
  command with lines after it, no finding as regdsl prints it: what regdsl prints is shown in
  a ``console`` block, where it is checked); every ``regdsl`` command in it (a ``$ `` line of a
  ``text`` block, or a command of a ``sh`` block) must still be one that ``regdsl`` accepts.

Informational notes must be announced too: a ``# notes: CODE[, CODE]`` line in a ``reg`` or
``reg-snippet`` example lists exactly the notes it produces (none when the line is absent).

**The document's folder.** The commands of a document run in one folder, empty at first, in
the order the document shows them, so that each sees what the ones before it made. A block
(of any kind) with ``<!-- file: PATH -->`` before its fence is the whole of the file PATH in
that folder, written there at that point of the document: a reader who types the files and
the commands in order gets what the document shows. A ``reg`` or ``reg-error`` file is checked
where it is written, in the library the folder makes; a ``reg``, ``reg-snippet`` or
``reg-error`` example with no ``file`` is checked on its own, in a fresh library folder
holding a copy of ``regimens/library.reg`` (so the footnotes resolve) and, in a sub-folder,
copies of the bundled regimens (so that ``continue with`` and ``counted with`` can name them).
An example is checked twice: by ``check_paths`` (read, parse, lower) and by ``run_check`` (all
of that plus the rules, as ``regdsl check`` does).

The outputs a ``console`` block shows are goldens: ``pytest --update-goldens`` rewrites them in
the document as the commands print them now; review the change before committing it.
``docs/rules.md`` is left out: ``regdsl rules --markdown`` writes it from the rules' docstrings.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from regdsl.check.run import run_check
from regdsl.cli.main import EXIT_USAGE, _build_parser
from regdsl.compile.library import LIBRARY_FILE, check_paths
from regdsl.diagnostics import Diagnostic, Severity
from tests.conftest import ROOT

REGIMENS = ROOT / "regimens"
# docs/rules.md is written by `regdsl rules --markdown` from the rules' docstrings, whose
# examples are fragments of lines (tests/test_rules_doc.py keeps it equal to them).
GENERATED = (ROOT / "docs" / "rules.md",)
DOCS = (ROOT / "README.md", *(doc for doc in sorted((ROOT / "docs").glob("*.md")) if doc not in GENERATED))
REG_KINDS = ("reg", "reg-snippet", "reg-error")
WRAPS = ("cycle", "regimen", "file", "library")
HEADER = 'regimen doc-example\n  name "DOC EXAMPLE - a fragment of the language reference"\n  status draft\n'
# What may differ between two runs of a command: the time a build took.
_MASKS = ((re.compile(r" in [0-9]+\.[0-9] s$", re.MULTILINE), " in 0.0 s"),)
_SECONDS = 120  # the most a command of a document may take, on a machine busy with other work

_FENCE = re.compile(r"^```([A-Za-z0-9-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*(?P<key>[a-z]+):\s*(?P<value>.*?)\s*-->\s*$")
_CODE = re.compile(r"\b[A-Z]{3}[0-9]{3}\b")
_EXPECT = re.compile(r"^\s*#\s*expect:(?P<codes>.*)$")
_NOTES = re.compile(r"^\s*#\s*notes:(?P<codes>.*)$")
_URL = re.compile(r"http://[0-9.]+:[0-9]+/")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block of a document: where it is, its kind, the markers before it, its text."""

    doc: Path
    heading: str
    index: int  # its number among the examples under its heading
    line: int  # the line of its opening fence
    kind: str
    markers: tuple[tuple[str, str], ...]
    body: str

    def marker(self, key: str) -> str | None:
        """Return the value of the ``<!-- key: value -->`` marker before the block, if any."""
        return next((value for k, value in self.markers if k == key), None)

    @property
    def wrap(self) -> str | None:
        """Where a ``reg-snippet`` goes."""
        return self.marker("wrap")

    @property
    def file(self) -> str | None:
        """The file of the document's folder that the block is, if it is one."""
        return self.marker("file")

    @property
    def where(self) -> str:
        """The document and line, for messages."""
        return f"{shown(self.doc)} line {self.line} ({self.kind})"

    @property
    def id(self) -> str:
        """The test id: the document, the heading it is under, and its number under that heading."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{self.doc.stem}:{slug}-{self.index}"


def shown(doc: Path) -> str:
    """Return ``doc``'s path as messages show it: from the repository's root, when it is in it."""
    return str(doc.relative_to(ROOT)) if doc.is_relative_to(ROOT) else str(doc)


def blocks(doc: Path) -> list[Block]:
    """Return every fenced block of ``doc``, in order."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    counts: dict[str, int] = {}
    heading = "top"
    markers: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence is not None:
            end = i + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            kind = fence.group(1)
            counts[heading] = counts.get(heading, 0) + (kind in REG_KINDS)
            body = "".join(f"{text}\n" for text in lines[i + 1 : end])
            found.append(Block(doc, heading, counts[heading], i + 1, kind, tuple(markers), body))
            markers = []
            i = end + 1
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        marker = _MARKER.match(line)
        if marker is not None:
            markers.append((marker.group("key"), marker.group("value")))
        elif line.strip():
            markers = []  # a marker must come right before its block
        i += 1
    return found


def examples(doc: Path) -> list[Block]:
    """Return the ``reg``, ``reg-snippet`` and ``reg-error`` blocks of ``doc``."""
    return [b for b in blocks(doc) if b.kind in REG_KINDS]


# --- regimen examples ----------------------------------------------------------------------


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def _sources(example: Block) -> tuple[str, str]:
    """Return the example file's text and the text to append to ``library.reg``."""
    if example.kind != "reg-snippet":
        assert example.wrap is None, f"{example.where}: only a reg-snippet takes a wrap comment"
        return example.body, ""
    assert example.file is None, f"{example.where}: a reg-snippet is a fragment, not a file"
    match example.wrap:
        case "cycle":
            return HEADER + "\ncycle 1: 28 days\n" + _indent(example.body), ""
        case "regimen":
            given = {line.split()[0] for line in example.body.splitlines() if line.strip()}
            extra = "" if "name" in given else '  name "DOC EXAMPLE - a fragment of the language reference"\n'
            extra += "" if "status" in given else "  status draft\n"
            return "regimen doc-example\n" + extra + _indent(example.body), ""
        case "file":
            return HEADER + "\n" + example.body, ""
        case "library":
            return HEADER, "\n" + example.body
        case _:
            raise AssertionError(
                f"{example.where}: a reg-snippet needs <!-- wrap: KIND --> before it, KIND one of {WRAPS}"
            )


def example_library(folder: Path, example: Block) -> Path:
    """Write an example with no ``file`` into a fresh library at ``folder``; return the example's file."""
    source, library_extra = _sources(example)
    bundled = folder / "bundled"
    bundled.mkdir(parents=True)
    for path in sorted(REGIMENS.glob("*.reg")):
        if path.name != LIBRARY_FILE:
            shutil.copyfile(path, bundled / path.name)
    library = (REGIMENS / LIBRARY_FILE).read_text(encoding="utf-8") + library_extra
    (folder / LIBRARY_FILE).write_text(library, encoding="utf-8")
    target = folder / "example.reg"
    target.write_text(source, encoding="utf-8")
    return target


def _codes(pattern: re.Pattern[str], text: str) -> set[str] | None:
    for line in text.splitlines():
        found = pattern.match(line)
        if found is not None:
            return set(_CODE.findall(found.group("codes")))
    return None


def _show(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(f"  {d.span.line}:{d.span.column} {d.code.code} {d.message}" for d in diagnostics) or "  none"


def example_problems(example: Block, target: Path) -> list[str]:
    """Check the example written at ``target``; return how it differs from what its kind promises."""
    lowered = check_paths([target]).diagnostics
    checked = run_check([target]).diagnostics
    where = example.where
    codes = {d.code.code for d in checked}
    if not {d.code.code for d in lowered} <= codes:
        return [f"{where}: the rules lost a lowering finding"]
    if example.kind == "reg-error":
        expected = _codes(_EXPECT, example.body)
        if not example.body.lstrip().startswith("# expect:") or not expected:
            return [f"{where}: start the block with `# expect: CODE`"]
        if codes != expected:
            return [f"{where}: expected {sorted(expected)}, found:\n{_show(checked)}"]
        if all(d.level is Severity.INFO for d in checked):
            return [f"{where}: only notes, no error or warning"]
        return []
    serious = [d for d in checked if d.level is not Severity.INFO]
    if serious:
        return [f"{where}: the example should check clean, found:\n{_show(serious)}"]
    notes = {d.code.code for d in checked if d.level is Severity.INFO}
    if notes != (_codes(_NOTES, example.body) or set()):
        return [f"{where}: notes found:\n{_show(checked)}"]
    return []


# --- commands ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """One ``$ `` line of a ``console`` block and what the block shows it printing."""

    line: int
    text: str
    output: str


def commands(block: Block) -> list[Command]:
    """Return the commands of a ``console`` block, each with the output shown after it."""
    found: list[tuple[int, str, list[str]]] = []
    for number, line in enumerate(block.body.splitlines(), start=block.line + 1):
        if line.startswith("$ "):
            found.append((number, line[2:], []))
        else:
            assert found, f"{block.where}: a console block starts with a `$ ` command"
            found[-1][2].append(line)
    return [Command(number, text, "".join(f"{o}\n" for o in output)) for number, text, output in found]


def masked(text: str) -> str:
    """Return ``text`` with what may differ between two runs made the same."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class Terminal:
    """A folder to run a document's commands in, with ``regdsl`` on the path as the reader has it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        tools = folder.parent / "bin"
        tools.mkdir(parents=True, exist_ok=True)
        shim = tools / "regdsl"
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m regdsl "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "FORCE_COLOR"},
            "NO_COLOR": "1",  # as a terminal shows it, but without the colours of Python 3.13's help and errors
            "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}",
            "COLUMNS": "80",
            "LC_ALL": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",  # standard output and standard error interleaved as on a terminal
        }

    def write(self, block: Block) -> Path:
        """Write a block with ``<!-- file: PATH -->`` as that file of the folder; return its path."""
        assert block.file is not None
        relative = PurePosixPath(block.file)
        assert not relative.is_absolute(), f"{block.where}: name a file inside the folder"
        assert ".." not in relative.parts, f"{block.where}: name a file inside the folder"
        target = self.folder.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.body, encoding="utf-8")
        return target

    def run(self, command: str) -> str:
        """Run ``command`` in the folder; return what it printed."""
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=_SECONDS,
            check=False,
        )
        return proc.stdout.decode("utf-8", errors="backslashreplace")

    def serve(self, command: Command) -> tuple[str, list[str]]:
        """Run a server until it has printed its shown output, ask its address, stop it with Ctrl-C.

        Return what it printed before it was asked anything (then it logs each request, with the
        time), and what went wrong besides (its address unanswered, its exit code).
        """
        problems: list[str] = []
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {command.text}"],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            printed = _read_lines(proc, max(command.output.count("\n"), 1))  # a server says where it listens
            url = _URL.search(printed)
            if url is not None and proc.poll() is None:
                with urllib.request.urlopen(url.group(0), timeout=_SECONDS) as response:
                    if response.status != 200:
                        problems.append(f"line {command.line}: {url.group(0)} answered {response.status}")
            proc.send_signal(signal.SIGINT)
            rest, _ = proc.communicate(timeout=_SECONDS)  # the log of what was asked, with the time: not shown
        finally:
            proc.kill()
            proc.wait()
        if b"Traceback" in rest:
            problems.append(f"line {command.line}: `{command.text}` failed:\n{rest.decode(errors='replace')}")
        if proc.returncode != 0:
            problems.append(f"line {command.line}: Ctrl-C stopped `{command.text}` with exit code {proc.returncode}")
        return printed, problems


def _read_lines(proc: subprocess.Popen[bytes], count: int) -> str:
    """Read ``count`` lines of ``proc``'s output, or what it printed before it ended or time ran out."""
    assert proc.stdout is not None
    data = b""
    deadline = time.monotonic() + _SECONDS
    while data.count(b"\n") < count and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", errors="backslashreplace")


def _differs(command: Command, printed: str) -> str:
    return (
        f"line {command.line}: `{command.text}` printed what the document does not show:\n"
        f"--- shown\n{command.output}--- printed\n{printed}---"
    )


def session_problems(doc: Path, folder: Path, *, update: bool = False) -> list[str]:
    """Walk ``doc`` as a reader would, in ``folder``: write its files, run its commands; return every difference.

    With ``update``, the outputs shown are rewritten as the commands printed them (the goldens:
    review the change).
    """
    terminal = Terminal(folder)
    problems: list[str] = []
    printed: dict[int, str] = {}  # a command's line: what it printed
    differences: list[str] = []
    for block in blocks(doc):
        if block.file is not None:
            target = terminal.write(block)
            if block.kind in REG_KINDS:
                problems += example_problems(block, target)
        if block.kind != "console":
            continue
        steps = commands(block)
        served = steps.pop() if block.marker("until") == "Ctrl-C" else None
        for step in steps:
            printed[step.line] = terminal.run(step.text)
        if served is not None:
            printed[served.line], said = terminal.serve(served)
            problems += said
        differences += [
            _differs(step, printed[step.line])
            for step in [*steps, *([served] if served else [])]
            if masked(printed[step.line]) != masked(step.output)
        ]
    if update:
        _rewrite(doc, printed)
    else:
        problems += differences
    return [f"{shown(doc)} {p}" for p in problems]


def _rewrite(doc: Path, printed: dict[int, str]) -> None:
    """Rewrite the output shown after each command of ``doc`` as ``printed`` (by the command's line)."""
    lines = doc.read_text(encoding="utf-8").splitlines(keepends=True)
    for block in reversed([b for b in blocks(doc) if b.kind == "console"]):
        body = "".join(f"$ {step.text}\n{printed.get(step.line, step.output)}" for step in commands(block))
        size = len(block.body.splitlines())
        lines[block.line : block.line + size] = [body]
    doc.write_text("".join(lines), encoding="utf-8")


# --- commands that are shown but not run ---------------------------------------------------

_OPERATORS = {"&&", "||", "|", ";", "&", "(", ")"}


_FINDING = re.compile(r"^(?:error|warning|note|info)\[[A-Z]{3}[0-9]{3}\]", re.MULTILINE)


def shows_output(block: Block) -> bool:
    """Whether a block that is not run shows what a command prints: a golden left unchecked.

    That is a ``$ `` command with lines after it, or a finding as regdsl prints it.
    """
    if block.kind == "console":
        return False
    lines = block.body.splitlines()
    answered = any(
        line.startswith("$ ") and after.strip() and not after.startswith("$ ")
        for line, after in itertools.pairwise(lines)
    )
    return answered or _FINDING.search(block.body) is not None


def regdsl_invocations(block: Block) -> Iterator[tuple[str, list[str]]]:
    """Yield each ``regdsl`` command a block shows but that is not run (its line, and its arguments)."""
    if block.kind in {*REG_KINDS, "console"}:  # a console block's commands are run: their output says
        return
    lines = block.body.splitlines()
    if block.kind != "sh":  # a shell script is all commands; a text block's are its `$ ` lines
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    for line in lines:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        for i, word in enumerate(words):
            start = i + 1
            if word == "-m" and i + 1 < len(words) and words[i + 1] == "regdsl":
                start = i + 2
            elif Path(word).name != "regdsl" or (i > 0 and words[i - 1] not in _OPERATORS):
                continue
            end = next((j for j in range(start, len(words)) if words[j] in _OPERATORS), len(words))
            yield line, words[start:end]


def refused(arguments: list[str]) -> str | None:
    """Return what ``regdsl``'s argument parser says about ``arguments`` if it refuses them, else None."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(said):
            _build_parser().parse_args(arguments)
    except SystemExit as exit_:
        if exit_.code == EXIT_USAGE:
            return said.getvalue().strip() or "refused"
    return None
