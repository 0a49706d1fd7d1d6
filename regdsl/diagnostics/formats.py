"""Diagnostic output formats, a registry keyed by the ``--format`` name.

Every format is defensive: whatever a message, label, help, note or path holds, no control,
bidirectional or invisible character and no line break inside a field reaches the output
(``regdsl.source.visible`` writes them as escapes); a path is escaped for where it goes (a
GitHub Actions property, a SARIF URI).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from regdsl.diagnostics.model import Diagnostic, Label, Severity
from regdsl.source import SourceFile, visible

__all__ = ["FORMATS", "colour_wanted", "rule_uri", "summary_line", "text_format"]

Sources = Mapping[str, SourceFile]
Formatter = Callable[[Sequence[Diagnostic], Sources], str]

_TAB = 4


def _expand(text: str) -> str:
    """Show a source line's text: tabs expanded, hidden characters escaped."""
    return visible(text.expandtabs(_TAB))


# The most of a source line the text format shows. A longer line is shown, for each label on
# it, as this many characters around the label, cut short with "...": a finding that showed
# its whole line, for each of many findings on a long line, would print the line squared.
_SHOWN = 400
_CUT = "..."


def _window(line_text: str, label: Label) -> tuple[int, int]:
    """Return the part of ``line_text`` shown for ``label`` (0-based, half-open): all of it, or ``_SHOWN`` around it."""
    if len(line_text) <= _SHOWN:
        return 0, len(line_text)
    start = min(max(0, label.span.column - 1 - _SHOWN // 4), len(line_text) - _SHOWN)
    return start, start + _SHOWN


def _shown(line_text: str, low: int, high: int) -> str:
    return (_CUT if low else "") + _expand(line_text[low:high]) + (_CUT if high < len(line_text) else "")


_LEVEL_COLOURS = {Severity.ERROR: "1;31", Severity.WARNING: "1;33", Severity.INFO: "1;36"}


class _Style:
    """ANSI colours for the text format on a terminal, or none: each method wraps one part of a finding."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def _wrap(self, sgr: str, text: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.colour and text else text

    def level(self, level: Severity, text: str) -> str:
        return self._wrap(_LEVEL_COLOURS[level], text)

    def frame(self, text: str) -> str:
        """Colour the gutter, the arrows and the secondary underlines."""
        return self._wrap("1;34", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def _caret_line(line_text: str, label: Label, first: bool, low: int, high: int, style: _Style, level: Severity) -> str:
    span = label.span
    start_col = span.column
    # A multi-line span is underlined to the end of its first line.
    end_col = span.end_column if span.end_line == span.line else len(line_text) + 1
    begin = max(start_col - 1, low)
    before = (_CUT if low else "") + _expand(line_text[low:begin])
    under = _expand(line_text[begin : min(max(end_col, start_col + 1) - 1, high)])
    width = max(1, len(under))
    mark = ("^" if first else "-") + ("~" if first else "-") * (width - 1)
    text = f" {visible(label.text)}" if label.text else ""
    return " " * len(before) + (style.level(level, mark + text) if first else style.frame(mark + text))


def _snippet(
    labels: Sequence[Label], diag: Diagnostic, source: SourceFile, pad: str, width: int, style: _Style
) -> list[str]:
    bar = style.frame(f"{pad} |")
    out = [bar]
    last_line = None
    for label in labels:
        line_no = label.span.line
        line_text = source.line_text(line_no)
        if last_line is not None and line_no > last_line + 1:
            out.append(style.frame(f"{pad}..."))
        low, high = _window(line_text, label)
        if line_no != last_line or high - low < len(line_text):  # a long line: shown again around each label
            out.append(f"{style.frame(f'{line_no:>{width}} |')} {_shown(line_text, low, high)}".rstrip())
        caret = _caret_line(line_text, label, label is diag.primary, low, high, style, diag.level)
        out.append(f"{bar} {caret}".rstrip())
        last_line = line_no
    return out


def text_format(diagnostics: Sequence[Diagnostic], sources: Sources, *, colour: bool = False) -> str:
    """Write findings as the ``text`` format: with ANSI colours when ``colour`` (for a terminal)."""
    style = _Style(colour)
    blocks = []
    for diag in diagnostics:
        span = diag.span
        heading = style.level(diag.level, f"{diag.level.value}[{diag.code.code}]")
        out = [f"{heading}{style.bold(f': {visible(diag.message)}')}"]
        every = (diag.primary, *diag.secondary)
        width = len(str(max(lb.span.line for lb in every)))
        pad = " " * width
        # The primary's file first, then every other file a label points into, each with its lines.
        paths = [span.path, *sorted({lb.span.path for lb in diag.secondary} - {span.path})]
        for path in paths:
            labels = sorted((lb for lb in every if lb.span.path == path), key=lambda lb: (lb.span.line, lb.span.column))
            first = labels[0].span if path != span.path else span
            arrow = style.frame(f"{pad}{'-->' if path == span.path else ':::'}")
            out.append(f"{arrow} {visible(path)}:{first.line}:{first.column}")
            source = sources.get(path)
            if source is not None:
                out.extend(_snippet(labels, diag, source, pad, width, style))
        for note in diag.notes:
            out.append(f"{pad} {style.frame('=')} {style.bold('note')}: {visible(note)}")
        if diag.help:
            out.append(f"{pad} {style.frame('=')} {style.bold('help')}: {visible(diag.help)}")
        blocks.append("\n".join(out))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _concise(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    lines = [
        f"{visible(d.span.path)}:{d.span.line}:{d.span.column}: {d.level.value}[{d.code.code}] {visible(d.message)}"
        for d in diagnostics
    ]
    return "".join(line + "\n" for line in lines)


def _visible_json(value: object) -> object:
    """``value`` (JSON data) with every string in it ``visible``."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, list):
        return [_visible_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _visible_json(v) for k, v in value.items()}
    return value


def _json_text(value: object) -> str:
    return json.dumps(_visible_json(value), indent=2, ensure_ascii=False) + "\n"


def _json(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    return _json_text([d.to_dict() for d in diagnostics])


def _github_data(text: str) -> str:
    """Escape the text after a workflow command's ``::`` as the runner unescapes it."""
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """Escape a workflow command's property value: as its data, and ``:`` and ``,`` (which end a property)."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _message_parts(d: Diagnostic) -> list[str]:
    """Return a finding's message, notes and help, each made visible (for formats with one message field)."""
    return [
        visible(part) for part in (d.message, *(f"note: {n}" for n in d.notes), *([f"help: {d.help}"] * bool(d.help)))
    ]


def _github(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    kinds = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for d in diagnostics:
        s = d.span
        props = (
            f"file={_github_property(s.path)},line={s.line},col={s.column},endLine={s.end_line},"
            f"endColumn={s.end_column},title={_github_property(f'regdsl::{d.code.code}')}"
        )
        data = "%0A".join(_github_data(part) for part in _message_parts(d))  # one line of the annotation each
        lines.append(f"::{kinds[d.level]} {props}::{data}")
    return "".join(line + "\n" for line in lines)


def rule_uri(code: str) -> str:
    """Return the address of a code's documentation (SARIF's ``helpUri``, the language server's code description)."""
    return f"https://regdsl.invalid/rules/{code}"


def _sarif(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    from regdsl import __version__

    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    codes = sorted({d.code.code: d.code for d in diagnostics}.items())
    index = {code: i for i, (code, _) in enumerate(codes)}
    rules = [
        {
            "id": code,
            "name": entry.name,
            "shortDescription": {"text": entry.summary},
            "fullDescription": {"text": entry.explanation},
            "helpUri": rule_uri(code),
            "defaultConfiguration": {"level": levels[entry.severity]},
        }
        for code, entry in codes
    ]
    results = []
    for d in diagnostics:
        result: dict[str, object] = {
            "ruleId": d.code.code,
            "ruleIndex": index[d.code.code],
            "level": levels[d.level],
            "message": {"text": "; ".join(_message_parts(d))},
            "locations": [_sarif_location(d.primary)],
        }
        if d.secondary:
            result["relatedLocations"] = [
                {"id": number, **_sarif_location(label)} for number, label in enumerate(d.secondary, 1)
            ]
        if d.notes or d.help:
            result["properties"] = {
                **({"notes": list(d.notes)} if d.notes else {}),
                **({"help": d.help} if d.help else {}),
            }
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "regdsl",
                        "version": __version__,
                        "informationUri": "https://regdsl.invalid/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return _json_text(log)


def _sarif_location(label: Label) -> dict[str, object]:
    """Return a label as a SARIF location: the file, the region, and the label's text as its message."""
    s = label.span
    location: dict[str, object] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(s.path)},
            "region": {"startLine": s.line, "startColumn": s.column, "endLine": s.end_line, "endColumn": s.end_column},
        }
    }
    if label.text:
        location["message"] = {"text": label.text}
    return location


def _uri(path: str) -> str:
    """Write a path as a URI reference: its bytes (those that are not UTF-8 too) percent-encoded."""
    try:
        data = path.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file system gave
        data = visible(path).encode("utf-8")
    return urllib.parse.quote(data, safe="/")


FORMATS: dict[str, Formatter] = {
    "text": text_format,
    "concise": _concise,
    "json": _json,
    "github": _github,
    "sarif": _sarif,
}


def summary_line(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """Return the closing line of text output, such as ``2 errors, 1 warning in 6 files``."""
    counts = {level: 0 for level in Severity}
    for d in diagnostics:
        counts[d.level] += 1

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    parts = [plural(counts[Severity.ERROR], "error"), plural(counts[Severity.WARNING], "warning")]
    if counts[Severity.INFO]:
        parts.append(plural(counts[Severity.INFO], "note"))
    return f"{', '.join(parts)} in {plural(files, 'file')}"


class Stream(Protocol):
    """What ``colour_wanted`` asks of a stream."""

    def isatty(self) -> bool:
        """Whether it is a terminal."""


def colour_wanted(stream: Stream, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether text written to ``stream`` is coloured: on a terminal, unless told otherwise.

    ``NO_COLOR`` (https://no-color.org) set to anything but the empty string turns colour off,
    whatever else is set; else ``FORCE_COLOR`` (https://force-color.org) set to anything but
    the empty string turns it on, terminal or not. Else only a terminal that is not ``dumb``
    is coloured.
    """
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (OSError, ValueError):  # a closed stream
        return False
