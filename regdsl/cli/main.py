"""``regdsl``: the command line (stdlib argparse).

Exit codes: 0 no errors (warnings allowed); 1 errors in the sources, or warnings under
``--strict``; 2 a usage, path or configuration problem; 3 an internal error, shown as a
diagnostic (with a traceback only under ``--debug``).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from regdsl import __version__

__all__ = ["EXIT_ERRORS", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, exiting with the contract's usage code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _names(values: Sequence[str] | None) -> list[str] | None:
    """Split ``--select A,B --select C`` into rule names; None when the option is not given."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from regdsl.check.config import ConfigError
    from regdsl.check.run import run_configured
    from regdsl.compile.library import PathError
    from regdsl.diagnostics import Severity
    from regdsl.diagnostics.formats import FORMATS, summary_line

    config_file = Path(args.config) if args.config else None
    if config_file is not None and not config_file.is_file():
        print(f"regdsl: error: {config_file}: no such configuration file", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = run_configured(
            [Path(p) for p in args.paths],
            jobs=args.jobs,
            config_file=config_file,
            select=_names(args.select),
            ignore=_names(args.ignore),
        )
    except (PathError, ConfigError) as err:
        print(f"regdsl: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    shown = [d for d in result.diagnostics if args.show_notes or d.level is not Severity.INFO]
    out.write(FORMATS[args.format](shown, result.sources))
    if args.format == "text":
        if shown:
            out.write("\n")
        if result.config_failed:
            count = len(result.diagnostics)
            out.write(f"{count} error{'s' if count != 1 else ''} in the configuration; nothing was checked\n")
        else:
            out.write(summary_line(result.diagnostics, result.files) + "\n")
    if result.config_failed:
        return EXIT_USAGE
    levels = {d.level for d in result.diagnostics}
    if Severity.ERROR in levels or (args.strict and Severity.WARNING in levels):
        return EXIT_ERRORS
    return EXIT_OK


def _cmd_rules(args: argparse.Namespace, out: TextIO) -> int:
    from regdsl.check.reference import rules_markdown
    from regdsl.diagnostics.codes import REGISTRY

    if args.markdown:
        out.write(rules_markdown())
        return EXIT_OK
    width = max(len(code.name) for code in REGISTRY.values())
    for key in sorted(REGISTRY):
        code = REGISTRY[key]
        out.write(f"{code.code}  {code.name:<{width}}  {code.severity.value:<7}  {code.summary}\n")
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from regdsl.check.reference import explain_text
    from regdsl.diagnostics.codes import REGISTRY, by_code_or_name
    from regdsl.syntax.expected import close_match

    code = by_code_or_name(args.code)
    if code is None:
        guess = close_match(args.code, [*REGISTRY, *(c.name for c in REGISTRY.values())])
        hint = f" (did you mean `{guess}`?)" if guess else "; `regdsl rules` lists them"
        print(f"regdsl: error: no code or rule `{args.code}`{hint}", file=sys.stderr)
        return EXIT_USAGE
    out.write(explain_text(code))
    return EXIT_OK


def _build_parser() -> _Parser:
    parser = _Parser(prog="regdsl", description="Compile and check cancer-treatment regimens written in .reg files.")
    parser.add_argument("--version", action="version", version=f"regdsl {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    check = commands.add_parser("check", help="check regimen files and folders")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a .reg file, or a folder searched for *.reg")
    from regdsl.diagnostics.formats import FORMATS

    check.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    check.add_argument("--show-notes", action="store_true", help="show informational notes (uncoded terms)")
    check.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: by library size)")
    check.add_argument(
        "--config",
        metavar="FILE",
        help="the configuration file (default: the nearest regdsl.toml, or pyproject.toml with [tool.regdsl])",
    )
    check.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="check only these rules: codes, names or prefixes, comma-separated (replaces the configuration's)",
    )
    check.add_argument(
        "--ignore",
        action="append",
        metavar="RULES",
        help="leave out these rules: codes, names or prefixes, comma-separated (replaces the configuration's)",
    )
    check.set_defaults(run=_cmd_check)

    rules = commands.add_parser("rules", help="list every diagnostic code")
    rules.add_argument("--markdown", action="store_true", help="print every code's documentation (docs/rules.md)")
    rules.set_defaults(run=_cmd_rules)

    explain = commands.add_parser("explain", help="explain a diagnostic code")
    explain.add_argument("code", metavar="CODE", help="a code such as SAF101, or a name such as dose-trailing-zero")
    explain.set_defaults(run=_cmd_explain)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; return the exit code."""
    stream = out or sys.stdout
    parser = _build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, stream)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a bug in regdsl: shown as a diagnostic, not a traceback
        if args.debug:
            traceback.print_exc()
        print(f"error[INT001]: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        print(" = help: this is a bug in regdsl; run again with --debug and report it", file=sys.stderr)
        return EXIT_INTERNAL
