"""``regdsl``: the command line (stdlib argparse).

Exit codes: 0 no errors (warnings allowed); 1 errors in the sources, or warnings under
``--strict``; 2 a usage, path or configuration problem; 3 an internal error, shown as a
diagnostic (with a traceback only under ``--debug``).

``build``, ``render`` and ``graph`` check their sources exactly as ``check`` does (the same
options, findings and exit codes) and publish nothing unless the check passes. Only they,
``schema`` and ``serve`` load the render layer; ``check`` never does.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO, TypedDict, TypeVar

from regdsl import __version__
from regdsl.source import visible

if TYPE_CHECKING:
    from regdsl.check.run import Outcome
    from regdsl.diagnostics import Diagnostic
    from regdsl.render.serve import Failure, LiveSite, Watch
    from regdsl.render.site import Built

__all__ = ["EXIT_ERRORS", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
_T = TypeVar("_T")


class _Parser(argparse.ArgumentParser):
    """argparse, exiting with the contract's usage code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {visible(message)}\n")


def _names(values: Sequence[str] | None) -> list[str] | None:
    """Split ``--select A,B --select C`` into rule names; None when the option is not given."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


class _Output(Protocol):
    """Where a command writes what it prints: standard output, or the stream given to ``main``."""

    def write(self, text: str, /) -> int:
        """Write ``text``."""

    def flush(self) -> None:
        """Pass on what was written."""

    def isatty(self) -> bool:
        """Whether it is a terminal (where findings are coloured)."""


class _OutputFailed(Exception):
    """The output cannot be written: a full disk, ``> /dev/full``, a closed pipe."""


class _Guarded:
    """A stream whose failed writes raise ``_OutputFailed``, told apart from every other ``OSError``."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream  # None: the descriptor is closed (``>&-``), so Python has no stream

    def write(self, text: str, /) -> int:
        """Write ``text`` to the stream."""
        return self._guarded(self._open().write, text)

    def flush(self) -> None:
        """Flush the stream."""
        if self.stream is not None:
            self._guarded(self.stream.flush)

    def isatty(self) -> bool:
        """Whether the stream is a terminal."""
        return self.stream is not None and self.stream.isatty()

    def _open(self) -> TextIO:
        if self.stream is None:
            raise _OutputFailed(os.strerror(errno.EBADF))
        return self.stream

    @staticmethod
    def _guarded(call: Callable[..., _T], *args: str) -> _T:
        try:
            return call(*args)
        except OSError as err:
            raise _OutputFailed(err.strerror or str(err)) from err


def _discard(stream: TextIO | None) -> None:
    """Send what ``stream`` still holds to the null device, so that exiting does not fail on it."""
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)


class _UsageError(Exception):
    """A path or option on the command line that cannot be used (exit 2)."""


class _CheckOptions(TypedDict):
    """The options of every command that checks, as ``run_configured`` takes them."""

    config_file: Path | None
    select: list[str] | None
    ignore: list[str] | None
    extend_select: list[str] | None


def _check_options(args: argparse.Namespace) -> _CheckOptions:
    config_file = Path(args.config) if args.config else None
    if config_file is not None and not config_file.is_file():
        raise _UsageError(f"{config_file}: no such configuration file")
    return {
        "config_file": config_file,
        "select": _names(args.select),
        "ignore": _names(args.ignore),
        "extend_select": _names(args.extend_select),
    }


def _templates(args: argparse.Namespace) -> Path | None:
    folder = Path(args.templates) if args.templates else None
    if folder is not None and not folder.is_dir():
        raise _UsageError(f"{folder}: no such templates folder")
    return folder


def _usage_errors() -> tuple[type[Exception], ...]:
    """Return the exceptions that mean a usage, path or configuration problem (exit 2)."""
    from regdsl.check.config import ConfigError
    from regdsl.compile.library import PathError

    return _UsageError, PathError, ConfigError


def _usage_error(message: object) -> int:
    print(f"regdsl: error: {visible(str(message))}", file=sys.stderr)
    return EXIT_USAGE


def _cmd_check(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.check.run import run_configured

    if args.diff and not args.fix:
        return _usage_error("--diff shows the fixes of --fix: give both")
    try:
        paths, options = [Path(p) for p in args.paths], _check_options(args)
        cache = not args.no_cache
        result = run_configured(paths, jobs=args.jobs, cache=cache, **options)
        if args.fix:
            again = lambda: run_configured(paths, jobs=args.jobs, cache=cache, **options)  # noqa: E731
            result, code = _fixed(args, result, again, out)
            if code is not None:
                return code
    except _usage_errors() as err:
        return _usage_error(err)
    return _report(args, result, out)


# ``check --fix`` checks again after each round of fixes (a fix may make another possible,
# or wait for one it overlaps), at most this many times.
FIX_ROUNDS = 10


def _fixed(
    args: argparse.Namespace, result: Outcome, again: Callable[[], Outcome], out: _Output
) -> tuple[Outcome, int | None]:
    """Make the fixes the findings carry, checking again after each round; return the last check's outcome.

    With ``--diff``, show the first round's fixes and write nothing: the exit code is returned then.
    """
    from regdsl.check.rewrite import diff_text, planned_fixes, rewrite_file

    made, files = 0, set()
    for _round in range(FIX_ROUNDS):
        rewrites = planned_fixes(result.diagnostics, result.sources)
        if not rewrites:
            break
        if args.diff:
            for rewrite in rewrites:
                out.write(diff_text(rewrite))
            count = sum(rewrite.edits for rewrite in rewrites)
            sys.stderr.write(f"{_plural(count, 'fix', 'fixes')} would be made in {_plural(len(rewrites), 'file')}\n")
            return result, EXIT_ERRORS
        for rewrite in rewrites:
            rewrite_file(rewrite.path, rewrite.text)
            made += rewrite.edits
            files.add(rewrite.path)
        result = again()
    if args.diff:
        sys.stderr.write("no fixes to make\n")
        return result, EXIT_OK
    if made:
        status: _Output = out if args.format == "text" else sys.stderr
        status.write(f"fixed {_plural(made, 'finding')} in {_plural(len(files), 'file')}\n")
    return result, None


def _plural(count: int, word: str, many: str = "") -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def _cmd_fmt(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.check.rewrite import diff_text, format_paths, rewrite_file
    from regdsl.diagnostics.formats import FORMATS

    try:
        found = format_paths([Path(p) for p in args.paths])
        for rewrite in found.rewrites:
            name = visible(rewrite.source.path)
            if args.diff:
                out.write(diff_text(rewrite))
            elif args.check:
                out.write(f"would reformat {name}\n")
            else:
                rewrite_file(rewrite.path, rewrite.text)
                out.write(f"reformatted {name}\n")
    except _usage_errors() as err:
        return _usage_error(err)
    if found.diagnostics:
        sys.stderr.write(FORMATS["text"](found.diagnostics, found.sources) + "\n")
    changed, refused = len(found.rewrites), len(found.sources)
    done = "would be reformatted" if args.check or args.diff else "reformatted"
    parts = [f"{_plural(changed, 'file')} {done}", f"{found.files - changed - refused} already formatted"]
    if refused:
        parts.append(
            f"{_plural(refused, 'file')} left as written: {'it does' if refused == 1 else 'they do'} not parse"
        )
    (sys.stderr if args.diff else out).write(", ".join(parts) + "\n")
    return EXIT_ERRORS if refused or (changed and (args.check or args.diff)) else EXIT_OK


class _ProgressBar:
    """``building 312/1000 [######....]`` on a terminal, redrawn in place with a carriage return."""

    WIDTH = 30

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.shown = -1  # the width of the bar last drawn
        self.length = 0

    @classmethod
    def wanted(cls, label: str) -> _ProgressBar | None:
        """Return a bar on stderr when it is a terminal and not under CI; else None (quiet)."""
        if sys.stderr.isatty() and not os.environ.get("CI"):
            return cls(sys.stderr, label)
        return None

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // max(total, 1)
        if filled == self.shown and done != total:
            return
        self.shown = filled
        line = f"\r{self.label} {done}/{total} [{'#' * filled}{'.' * (self.WIDTH - filled)}]"
        self.length = len(line) - 1
        self.stream.write(line)
        self.stream.flush()

    def clear(self) -> None:
        """Rub the bar out, so what follows starts on a clean line."""
        if self.length:
            self.stream.write("\r" + " " * self.length + "\r")
            self.stream.flush()


def _cmd_build(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.render.env import TemplateProblem
    from regdsl.render.site import SiteError, build_site

    usage: tuple[type[Exception], ...] = (SiteError, TemplateProblem, *_usage_errors())
    target = Path(args.out)
    bar = None if args.quiet else _ProgressBar.wanted("building")
    try:
        built = build_site(
            [Path(args.source)],
            target,
            strict=args.strict,
            jobs=args.jobs,
            templates=_templates(args),
            progress=bar,
            cache=not args.no_cache,
            **_check_options(args),
        )
    except usage as err:
        return _usage_error(err)
    finally:
        if bar is not None:
            bar.clear()
    code = _report(args, built.outcome, out)
    if built.written and not args.quiet:
        # Machine-readable findings keep stdout to themselves.
        status: _Output = out if args.format == "text" else sys.stderr
        folder = visible(args.out if args.out.endswith("/") else args.out + "/")
        status.write(
            f"built {built.regimens} regimen{'s' if built.regimens != 1 else ''} into {folder} "
            f"({built.pages} pages) in {built.seconds:.1f} s\n"
        )
    return code


def _target(output: str | None, what: str) -> Path | None:
    """Return the file ``-o`` names (None: standard output); raises ``_UsageError`` for a folder or no folder."""
    target = Path(output) if output is not None else None
    if target is not None and not target.parent.is_dir():
        raise _UsageError(f"{target.parent}: no such folder")
    if target is not None and target.is_dir():
        raise _UsageError(f"{target}: is a folder; name the file to write the {what} to")
    return target


def _kept(
    result: Outcome, config_file: Path | None, sources: Sequence[Path], templates: Path | None
) -> list[tuple[str, Path]]:
    """Return what a command's output file must never replace: every file it read, its configuration, its templates."""
    from regdsl.check.config import find_config

    config = config_file or (find_config(sources[0]) if sources else None)
    return [
        *(("a file the command read", Path(path)) for path in result.sources),
        *([("the configuration file", config)] if config else []),
        *([("the templates", templates)] if templates else []),
    ]


def _deliver(data: bytes, target: Path | None, out: _Output, kept: Sequence[tuple[str, Path]]) -> int:
    """Write ``data`` to ``target`` (through a file beside it), or to standard output.

    ``target`` must not be any of ``kept`` (nor a link, a device or anything but a regular file).
    """
    from regdsl.render.output import SiteError, check_page, replace_file

    if target is None:
        out.write(data.decode("utf-8"))
        return EXIT_OK
    try:
        check_page(target, kept)
        replace_file(target, data)
    except SiteError as err:
        return _usage_error(err)
    return EXIT_OK


def _cmd_render(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.render.env import TemplateProblem
    from regdsl.render.site import render_page

    usage: tuple[type[Exception], ...] = (TemplateProblem, *_usage_errors())
    source = Path(args.file)
    if source.is_dir():
        return _usage_error(f"{source}: is a folder; `regdsl render` takes one .reg file (`regdsl build` a folder)")
    try:
        target = _target(args.output, "page")
        options, templates = _check_options(args), _templates(args)
        result, page = render_page(source, args.to, strict=args.strict, templates=templates, **options)
    except usage as err:
        return _usage_error(err)
    code = _report(args, result, sys.stderr)  # stdout is the page's
    if code != EXIT_OK:
        return code
    if page is None:
        return _usage_error(f"{source}: holds no regimen to render")
    return _deliver(page.encode("utf-8"), target, out, _kept(result, options["config_file"], [source], templates))


def _cmd_graph(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.render.graphfile import write_graph

    paths = [Path(p) for p in args.paths]
    try:
        target = _target(args.output, "graph")
        options = _check_options(args)
        result, data = write_graph(paths, args.graph_format, strict=args.strict, jobs=args.jobs, **options)
    except _usage_errors() as err:
        return _usage_error(err)
    code = _report(args, result, sys.stderr)  # stdout is the graph's
    if code != EXIT_OK or data is None:
        return code
    return _deliver(data, target, out, _kept(result, options["config_file"], paths, None))


def _cmd_export(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.fhir.export import export_fhir, write_folder
    from regdsl.render.output import SiteError

    paths = [Path(p) for p in args.paths]
    try:
        options = _check_options(args)
        result, files = export_fhir(paths, args.profile, strict=args.strict, jobs=args.jobs, **options)
    except _usage_errors() as err:
        return _usage_error(err)
    code = _report(args, result, sys.stderr)  # stdout is the resource's
    if code != EXIT_OK or files is None:
        return code
    kept = _kept(result, options["config_file"], paths, None)
    target = Path(args.output) if args.output is not None else None
    if len(files) == 1 and (target is None or not target.is_dir()):
        try:
            file_target = _target(args.output, "resource")
        except _UsageError as err:
            return _usage_error(err)
        return _deliver(next(iter(files.values())), file_target, out, kept)
    if target is None:
        return _usage_error(f"{len(files)} regimens to export: name a folder to write them to with -o")
    try:
        write_folder(target, files, kept)
    except SiteError as err:
        return _usage_error(err)
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace, out: _Output) -> int:
    from importlib import resources

    out.write(resources.files("regdsl.render").joinpath("schema", "regimen.schema.json").read_text(encoding="utf-8"))
    return EXIT_OK


SERVE_INTERVAL = 0.1  # seconds between two looks at the sources of a served library


def _cmd_serve(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.render.site import is_site

    if not args.bind:  # the empty address is every address: that must be asked for by name (0.0.0.0)
        return _usage_error("cannot listen on an empty address: name one, such as 127.0.0.1")
    folder = Path(args.source)
    if is_site(folder):
        return _serve(args, out, folder, None)
    return _serve_library(args, out)


def _serve_library(args: argparse.Namespace, out: _Output) -> int:
    """Build the library ``SRC`` into ``--out`` (or a private folder, removed at the end), serve it, rebuild it."""
    import shutil
    import tempfile

    from regdsl.render.serve import LiveSite, Watch
    from regdsl.render.site import SiteError, build_site

    usage: tuple[type[Exception], ...] = (SiteError, *_usage_errors())
    try:
        options, templates = _check_options(args), _templates(args)
    except usage as err:
        return _usage_error(err)
    scratch = Path(tempfile.mkdtemp(prefix="regdsl-serve-")) if args.out is None else None
    target = scratch / "site" if scratch is not None else Path(args.out)
    sources = [Path(args.source)]
    try:
        live = LiveSite(
            lambda: build_site(
                sources,
                target,
                strict=args.strict,
                jobs=args.jobs,
                templates=templates,
                cache=not args.no_cache,
                **options,
            ),
            strict=args.strict,
            notes=args.show_notes,
            templates=templates,
        )
        watch = Watch(sources, config_file=options["config_file"], templates=templates)
        return _serve(args, out, target, live, watch)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _serve(
    args: argparse.Namespace,
    out: _Output,
    folder: Path,
    live: LiveSite | None,
    watch: Watch | None = None,
) -> int:
    """Serve ``folder`` until Ctrl-C or SIGTERM; with ``live``, build it first and again on each change of ``watch``."""
    from regdsl.render.serve import listen, serving
    from regdsl.render.site import SiteError

    try:
        server = listen(args.bind, args.port, folder, live)
    except (OSError, OverflowError, ValueError, TypeError) as err:  # a name IDNA cannot encode; a NUL
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        return _usage_error(f"cannot listen on {args.bind}:{args.port}: {reason}")
    with server, contextlib.suppress(KeyboardInterrupt):  # the way to stop it: not an error
        seen = watch.stamps() if watch is not None else {}
        if live is not None:
            usage: tuple[type[Exception], ...] = (SiteError, *_usage_errors())
            try:
                _built(args, live.rebuild(raising=usage), out, again=False)
            except usage as err:
                return _usage_error(err)
        host, port = server.server_address[:2]
        out.write(f"serving {visible(args.source)} at http://{host!s}:{port}/ (Ctrl-C to stop)\n")
        out.flush()
        with serving(server, live):
            if live is None or watch is None:
                threading.Event().wait()
            else:
                for _stamps in watch.changes(seen, SERVE_INTERVAL):
                    _built(args, live.rebuild(), out, again=True)
                    watch.find_roots()
    return EXIT_OK


def _cmd_lsp(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.lsp.server import serve

    return serve()


def _built(args: argparse.Namespace, result: Built | Failure, out: _Output, *, again: bool) -> None:
    """Say what a build of ``serve`` did: its findings when it failed (on standard error), else a status line."""
    from regdsl.render.serve import Failure

    if isinstance(result, Failure):
        with contextlib.suppress(OSError):  # standard error full or closed: the pages show the findings all the same
            sys.stderr.write("".join(f.text + "\n" for f in result.files))
            sys.stderr.write(f"the build failed: {result.summary}; the pages show the errors\n")
            sys.stderr.flush()
    elif not args.quiet:
        out.write(
            f"{'rebuilt' if again else 'built'} {_plural(result.regimens, 'regimen')} "
            f"({_plural(result.pages, 'page')}) in {result.seconds:.1f} s\n"
        )
        out.flush()


def _report(args: argparse.Namespace, result: Outcome, out: _Output) -> int:
    """Write the findings of a check as ``check`` does; return its exit code."""
    from regdsl.diagnostics import Severity
    from regdsl.diagnostics.formats import FORMATS, colour_wanted, summary_line, text_format

    shown = [d for d in result.diagnostics if args.show_notes or d.level is not Severity.INFO]
    if args.format == "text":
        out.write(text_format(shown, result.sources, colour=colour_wanted(out)))
    else:
        out.write(FORMATS[args.format](shown, result.sources))
    if args.format == "text" and not args.quiet:
        if shown:
            out.write("\n")
        if result.config_failed:
            count = len(result.diagnostics)
            out.write(f"{count} error{'s' if count != 1 else ''} in the configuration; nothing was checked\n")
        else:
            out.write(summary_line(result.diagnostics, result.files) + "\n")
    if result.config_failed:
        return EXIT_USAGE
    return EXIT_ERRORS if result.failed(strict=args.strict) else EXIT_OK


def _cmd_import_fhir(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.compile.library import read_regular
    from regdsl.diagnostics.formats import FORMATS, colour_wanted, summary_line, text_format
    from regdsl.fhir.importer import MAX_BYTES, TargetError, import_bytes, library_medicines, write_regimen

    paths = [Path(p) for p in args.files]
    if len(paths) > 1 and args.output is None:
        return _usage_error(
            "give -o DIR to import more than one file (one file without -o is written to standard output)"
        )
    results = []
    try:
        # The medicines of the library the files are written into (without -o, the current folder's).
        medicines = library_medicines(Path(args.output or "."))
        for path in paths:
            data, size = read_regular(path, MAX_BYTES)
            results.append(import_bytes(data, str(path), size=size, medicines=medicines.table))
    except _usage_errors() as err:
        return _usage_error(err)
    written: list[str] = []
    refused: str | None = None
    checked: dict[Path, bytes] = {}  # each text written, by the path it is checked as
    for result in results:
        if result.text is None:
            continue
        if args.output is None:
            out.write(result.text)
            checked[Path(f"{result.regimen_id}.reg")] = result.text.encode("utf-8")
            continue
        try:
            target = write_regimen(Path(args.output), result, force=args.force, read=paths)
        except TargetError as err:
            refused = refused or str(err)
            continue
        written.append(str(target))
        checked[target] = result.text.encode("utf-8")
    found = [d for r in results for d in r.diagnostics] + ([medicines.finding] if medicines.finding else [])
    diagnostics = sorted(found, key=lambda d: d.sort_key())
    sources = {r.source.path: r.source for r in results}
    if medicines.source is not None:
        sources[medicines.source.path] = medicines.source
    from regdsl.diagnostics import Severity

    try:
        check = _check_imported(checked, to_stdout=args.output is None)
    except _usage_errors() as err:
        return _usage_error(err)
    shown = [d for d in diagnostics if args.show_notes or d.level is not Severity.INFO]
    check_shown = [d for d in check.diagnostics if args.show_notes or d.level is not Severity.INFO]
    if not (args.show_findings or check.config_failed):
        check_shown = []
    if args.format == "text":
        sys.stderr.write(text_format(shown, sources, colour=colour_wanted(sys.stderr)))
        if not args.quiet:
            sys.stderr.write(("\n" if shown else "") + summary_line(diagnostics, len(results)) + "\n")
            for name in written:
                sys.stderr.write(f"wrote {visible(name)}\n")
        elif shown and check_shown:
            sys.stderr.write("\n")
        _say_checked(args, check, check_shown, checked, to_stdout=args.output is None)
    else:  # the check's findings join the import's, in one document
        sys.stderr.write(FORMATS[args.format](shown + check_shown, sources | check.sources))
    if refused is not None:
        return _usage_error(refused)
    if check.config_failed:
        return EXIT_USAGE
    failed = any(d.level is Severity.ERROR for d in diagnostics) or (
        args.strict and any(d.level is Severity.WARNING for d in diagnostics)
    )
    return EXIT_ERRORS if failed or check.failed(strict=args.strict) else EXIT_OK


def _check_imported(texts: dict[Path, bytes], *, to_stdout: bool) -> Outcome:
    """Check the texts an import wrote, by the paths written, as ``regdsl check`` checks those files.

    A text written to standard output is checked as ``ID.reg`` in the current folder, under the
    defaults, as the language server checks a file not saved yet. A bad configuration of the
    folder written into is the outcome, nothing checked (``config_failed``).
    """
    from regdsl.check.run import Outcome, configure, run_check

    if not texts:
        return Outcome()
    config = configure([] if to_stdout else list(texts))
    if isinstance(config, Outcome):
        return config
    return run_check(list(texts), jobs=1, config=config, texts=texts)


def _say_checked(
    args: argparse.Namespace, check: Outcome, shown: list[Diagnostic], texts: dict[Path, bytes], *, to_stdout: bool
) -> None:
    """Write how each text written checks, a line per file (unless ``--quiet``), with ``shown``, its findings."""
    from regdsl.diagnostics import Severity
    from regdsl.diagnostics.formats import colour_wanted, text_format

    colour = colour_wanted(sys.stderr)
    levels_of: dict[str, list[Severity]] = {}
    for d in check.diagnostics:
        levels_of.setdefault(d.span.path, []).append(d.level)
    shown_of: dict[str, list[Diagnostic]] = {}
    for d in shown:
        shown_of.setdefault(d.span.path, []).append(d)
    for path in texts:
        levels = levels_of.get(str(path), [])
        errors, warnings = (
            _plural(levels.count(Severity.ERROR), "error"),
            _plural(levels.count(Severity.WARNING), "warning"),
        )
        said = "not checked: the configuration has errors" if check.config_failed else f"{errors}, {warnings}"
        if not args.quiet:
            where = f"{visible(str(path))} (standard output)" if to_stdout else visible(str(path))
            sys.stderr.write(f"{where}: check: {said}\n")
        sys.stderr.write(text_format(shown_of.get(str(path), []), check.sources, colour=colour))
    others = [d for d in shown if Path(d.span.path) not in texts]  # the library's, the configuration's
    sys.stderr.write(text_format(others, check.sources, colour=colour))


def _cmd_rules(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.check.reference import rules_markdown
    from regdsl.check.rules import registry

    if args.markdown:
        out.write(rules_markdown())
        return EXIT_OK
    codes = registry().codes.values()
    width = max(len(code.name) for code in codes)
    for code in codes:
        out.write(f"{code.code}  {code.name:<{width}}  {code.severity.value:<7}  {code.summary}\n")
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace, out: _Output) -> int:
    from regdsl.check.reference import explain_text
    from regdsl.check.rules import registry

    code = registry().find(args.code)
    if code is None:
        guess = registry().suggest(args.code)
        hint = f" (did you mean `{guess}`?)" if guess else "; `regdsl rules` lists them"
        print(f"regdsl: error: no code or rule `{visible(args.code)}`{hint}", file=sys.stderr)
        return EXIT_USAGE
    out.write(explain_text(code))
    return EXIT_OK


# The page formats of ``regdsl.render.pages.FORMATS`` and the graph formats of
# ``regdsl.render.graphfile.GRAPH_FORMATS``, named here so that building the parser does not
# import the render layer (``check`` never loads it); a test keeps them equal.
_PAGE_FORMATS = ("html", "md", "json")
_GRAPH_FORMATS = ("graphml", "json")


def _port(text: str) -> int:
    """Read ``--port``: a TCP port, 0 to 65535 (0 picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 0 to 65535 (0 picks a free one)")
    return port


def _add_templates_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--templates",
        metavar="DIR",
        help="a folder of templates that replace the bundled ones, file by file (trusted configuration; sandboxed)",
    )


def _positive(text: str) -> int:
    """Read a whole number of at least 1 (``--jobs``)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return number


def _add_check_options(parser: argparse.ArgumentParser, *, jobs: bool, findings: bool = True) -> None:
    """Add the options of ``check`` that every command that checks shares (``--format`` too, with ``findings``)."""
    from regdsl.diagnostics.formats import FORMATS

    if findings:
        parser.add_argument("--format", choices=sorted(FORMATS), default="text", help="findings format (default: text)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print the findings and nothing else: no summary, progress or status"
    )
    parser.add_argument("--show-notes", action="store_true", help="show informational notes (uncoded terms)")
    if jobs:
        parser.add_argument(
            "--jobs",
            type=_positive,
            metavar="N",
            help="worker processes, at most one per processor (default: by library size)",
        )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="the configuration file for every file (default: for each file, the nearest regdsl.toml, "
        "or pyproject.toml with [tool.regdsl], above it)",
    )
    parser.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="check only these rules: codes, names or prefixes, comma-separated (replaces the configuration's)",
    )
    parser.add_argument(
        "--extend-select",
        action="append",
        metavar="RULES",
        help="check these rules as well as those selected: codes, names or prefixes, comma-separated",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="RULES",
        help="leave out these rules: codes, names or prefixes, comma-separated (replaces the configuration's)",
    )


def _build_parser() -> _Parser:
    parser = _Parser(prog="regdsl", description="Compile and check cancer-treatment regimens written in .reg files.")
    parser.add_argument("--version", action="version", version=f"regdsl {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    check = commands.add_parser("check", help="check regimen files and folders")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a .reg file, or a folder searched for *.reg")
    _add_check_options(check, jobs=True)
    check.add_argument(
        "--fix", action="store_true", help="make the mechanical fixes of the findings that offer one, then check again"
    )
    check.add_argument(
        "--diff", action="store_true", help="with --fix: print the fixes as a unified diff, and write nothing"
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="check every file again, neither reading nor writing the results cache (also: REGDSL_NO_CACHE=1)",
    )
    check.set_defaults(run=_cmd_check)

    fmt = commands.add_parser("fmt", help="lay out regimen files in the canonical format")
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="a .reg file, or a folder searched for *.reg")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 listing the files that would change")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change as a unified diff")
    fmt.set_defaults(run=_cmd_fmt)

    build = commands.add_parser("build", help="check a library and publish it as a static site")
    build.add_argument("source", nargs="?", default="regimens", metavar="SRC", help="the library (default: regimens)")
    build.add_argument(
        "-o", "--out", default="site", metavar="OUT", help="the site folder, replaced whole (default: site)"
    )
    _add_templates_option(build)
    _add_check_options(build, jobs=True)
    build.add_argument(
        "--no-cache",
        action="store_true",
        help="check and render every regimen again, neither reading nor writing the cache (also: REGDSL_NO_CACHE=1)",
    )
    build.set_defaults(run=_cmd_build)

    render = commands.add_parser("render", help="check one regimen and render it as one page")
    render.add_argument("file", metavar="FILE", help="a .reg file")
    render.add_argument("--to", required=True, choices=_PAGE_FORMATS, help="the page format")
    render.add_argument("-o", "--output", metavar="OUT", help="write the page to this file (default: standard output)")
    _add_templates_option(render)
    _add_check_options(render, jobs=False)
    render.set_defaults(run=_cmd_render)

    graph = commands.add_parser(
        "graph", help="check a library and write its dependency graph: links, timing networks, phases"
    )
    graph.add_argument("paths", nargs="+", metavar="PATH", help="a .reg file, or a folder searched for *.reg")
    graph.add_argument(
        "--format",
        dest="graph_format",
        choices=_GRAPH_FORMATS,
        default="graphml",
        help="graphml (Gephi, yEd, Cytoscape) or json (networkx node-link data); default: graphml",
    )
    graph.add_argument("-o", "--output", metavar="OUT", help="write the graph to this file (default: standard output)")
    _add_check_options(graph, jobs=True, findings=False)
    graph.set_defaults(run=_cmd_graph, format="text")  # the findings, on standard error, as text

    export = commands.add_parser("export", help="check regimens and export each as a FHIR R4 PlanDefinition")
    export.add_argument("paths", nargs="+", metavar="PATH", help="a .reg file, or a folder searched for *.reg")
    export.add_argument("--to", required=True, choices=("fhir",), help="the format (fhir: HL7 FHIR R4 JSON)")
    export.add_argument(
        "--profile",
        choices=("cca", "core"),
        default="cca",
        help="cca: the HL7 NZ Cancer Control Agency IG's CcaPlanDefinition (default); core: plain R4 PlanDefinition",
    )
    export.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="the file (one regimen) or folder (several) to write to (default: standard output, one regimen)",
    )
    _add_check_options(export, jobs=True, findings=False)
    export.set_defaults(run=_cmd_export, format="text")  # the findings, on standard error, as text

    schema = commands.add_parser("schema", help="print the JSON Schema of a regimen's JSON page")
    schema.set_defaults(run=_cmd_schema)

    serve = commands.add_parser("serve", help="serve a library over HTTP, rebuilt as it changes")
    serve.add_argument(
        "source",
        nargs="?",
        default=".",
        metavar="SRC",
        help="a library folder or a .reg file (default: .); a site built by `regdsl build` is served as it is",
    )
    serve.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="build into this folder, kept at the end (default: a private temporary folder, removed at the end)",
    )
    serve.add_argument("--port", type=_port, default=8000, help="the port (default: 8000; 0 picks a free one)")
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS", help="the address (default: 127.0.0.1)")
    _add_templates_option(serve)
    _add_check_options(serve, jobs=True, findings=False)
    serve.add_argument(
        "--no-cache",
        action="store_true",
        help="check and render every regimen again on each change, without the cache (also: REGDSL_NO_CACHE=1)",
    )
    serve.set_defaults(run=_cmd_serve, format="text")

    lsp = commands.add_parser(
        "lsp", help="run the language server over standard input and output, for an editor (docs/editors.md)"
    )
    lsp.add_argument(
        "--stdio", action="store_true", help="speak over standard input and output (the only way; the default)"
    )
    lsp.set_defaults(run=_cmd_lsp)

    rules = commands.add_parser("rules", help="list every diagnostic code")
    rules.add_argument("--markdown", action="store_true", help="print every code's documentation (docs/rules.md)")
    rules.set_defaults(run=_cmd_rules)

    explain = commands.add_parser("explain", help="explain a diagnostic code")
    explain.add_argument("code", metavar="CODE", help="a code such as SAF101, or a name such as dose-trailing-zero")
    explain.set_defaults(run=_cmd_explain)

    imports = commands.add_parser(
        "import", help="import HL7 FHIR R4 PlanDefinitions (CcaPlanDefinition) as .reg files in canonical layout"
    )
    imports.add_argument("files", nargs="+", metavar="FILE.json", help="a PlanDefinition as JSON")
    imports.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="write ID.reg files into this folder (default: standard output, one file); products are resolved "
        "against the medicines of its library (without -o: the current folder's)",
    )
    imports.add_argument("--force", action="store_true", help="replace a .reg file already in DIR")
    from regdsl.diagnostics.formats import FORMATS

    imports.add_argument("--format", choices=sorted(FORMATS), default="text", help="findings format (default: text)")
    imports.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    imports.add_argument("-q", "--quiet", action="store_true", help="print the findings and nothing else")
    imports.add_argument("--show-notes", action="store_true", help="show informational notes")
    imports.add_argument(
        "--show-findings",
        action="store_true",
        help="show the findings of the check of each regimen written (always counted, on a line per file)",
    )
    imports.set_defaults(run=_cmd_import_fhir)
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it stops and cleans up as for Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


@contextlib.contextmanager
def _terminated_as_interrupted() -> Iterator[None]:
    """Handle SIGTERM as SIGINT while a command runs (only the main thread can take signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; return the exit code (128 and the signal's number if interrupted)."""
    try:
        return _main(argv, out)
    except OSError:  # standard error itself cannot be written (2>/dev/full): nothing more can be said
        _discard(sys.stderr)
        return EXIT_USAGE


def _main(argv: Sequence[str] | None, out: TextIO | None) -> int:
    if sys.stderr is None:  # closed (``2>&-``): print would write to standard output instead, into the output
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open while the process lives
    stream = _Guarded(out if out is not None else sys.stdout)
    try:
        args = _parsed(_build_parser(), argv, stream)
    except _OutputFailed as err:
        return _cannot_write(err, out)
    run: Callable[[argparse.Namespace, _Output], int] = args.run
    try:
        with _terminated_as_interrupted():
            code = run(args, stream)
            stream.flush()
            return code
    except KeyboardInterrupt as err:
        return 128 + (signal.SIGTERM if isinstance(err, _Terminated) else signal.SIGINT)
    except _OutputFailed as err:
        return _cannot_write(err, out)
    except OSError as err:
        if err.filename is None:
            return _internal(err, debug=args.debug)
        # A path the system refuses wherever it is used (a name too long for the file system,
        # a permission): a path problem, named, as the checks of each path name the others.
        return _usage_error(f"{os.fsdecode(err.filename)}: {err.strerror or err}")
    except Exception as err:
        return _internal(err, debug=args.debug)


def _parsed(parser: argparse.ArgumentParser, argv: Sequence[str] | None, stream: _Guarded) -> argparse.Namespace:
    """Parse the command line; help and the version, which argparse prints before it exits, go to ``stream``.

    argparse ignores a failed write of its own: through ``stream`` it raises ``_OutputFailed``,
    and what was written is flushed before the exit, so that a full disk is not an exit 0.
    """
    try:
        with contextlib.redirect_stdout(stream):
            return parser.parse_args(argv)
    except SystemExit:
        stream.flush()
        raise


def _cannot_write(err: _OutputFailed, out: TextIO | None) -> int:
    if out is None:
        _discard(sys.stdout)
    return _usage_error(f"cannot write the output: {err}")


def _internal(err: Exception, *, debug: bool) -> int:
    """Show a bug in regdsl as a diagnostic, not a traceback (unless ``debug``)."""
    if debug:
        traceback.print_exc()
    print(f"error[INT001]: internal error: {type(err).__name__}: {visible(str(err))}", file=sys.stderr)
    print(" = help: this is a bug in regdsl; run again with --debug and report it", file=sys.stderr)
    return EXIT_INTERNAL
