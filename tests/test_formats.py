"""Every findings format: goldens, SARIF against its schema, colour only where it is wanted, ``--quiet``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from regdsl.cli.main import main
from regdsl.diagnostics.formats import FORMATS, colour_wanted
from tests.conftest import ROOT, check_golden, shared

CASE = Path("tests/formats/findings.reg")  # relative to ROOT, as the goldens show it
ESC = "\x1b["


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _check(monkeypatch: pytest.MonkeyPatch, *args: str, out: io.StringIO | None = None) -> tuple[int, str]:
    monkeypatch.chdir(ROOT)
    out = out if out is not None else io.StringIO()
    code = main(["check", *args], out=out)
    return code, out.getvalue()


@pytest.fixture
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_has_a_golden(
    fmt: str, monkeypatch: pytest.MonkeyPatch, plain_env: None, update_goldens: bool
) -> None:
    code, text = _check(monkeypatch, "--format", fmt, str(CASE))
    assert code == 1
    check_golden(ROOT / CASE.with_suffix(f".{fmt}"), text, update_goldens)


def test_text_on_a_terminal_is_coloured(monkeypatch: pytest.MonkeyPatch, plain_env: None, update_goldens: bool) -> None:
    code, text = _check(monkeypatch, str(CASE), out=_Tty())
    assert code == 1
    check_golden(ROOT / CASE.with_suffix(".ansi"), text, update_goldens)
    # The colours wrap the same text: without them it is the plain golden.
    plain = (ROOT / CASE.with_suffix(".text")).read_text(encoding="utf-8")
    assert ESC in text
    assert _strip_sgr(text) == plain


def _strip_sgr(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize(
    ("environ", "tty", "wanted"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # set but empty: as if unset (no-color.org)
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": ""}, False, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),  # no colour wins
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
    ],
)
def test_colour_follows_the_terminal_and_the_environment(environ: dict[str, str], tty: bool, wanted: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert colour_wanted(stream, environ) is wanted


def test_no_colour_on_a_terminal_under_no_color(monkeypatch: pytest.MonkeyPatch, plain_env: None) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert ESC not in _check(monkeypatch, str(CASE), out=_Tty())[1]


def test_forced_colour_off_a_terminal(monkeypatch: pytest.MonkeyPatch, plain_env: None) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC in _check(monkeypatch, str(CASE))[1]


@pytest.mark.parametrize("fmt", ["concise", "github", "json", "sarif"])
def test_machine_formats_are_never_coloured(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC not in _check(monkeypatch, "--format", fmt, str(CASE), out=_Tty())[1]


def test_sarif_validates_against_the_sarif_2_1_0_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = json.loads(shared("schemas", "sarif-2.1.0-rtm.5.json").read_text(encoding="utf-8"))
    log = json.loads(_check(monkeypatch, "--format", "sarif", str(CASE))[1])
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert not errors, errors[0]


def test_sarif_keeps_secondary_locations_and_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    log = json.loads(_check(monkeypatch, "--format", "sarif", str(CASE))[1])
    (cumulative,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "SAF301"]
    (related,) = cumulative["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 13
    assert related["message"]["text"] == "at most 10 cycles"
    assert len(cumulative["properties"]["notes"]) == 2
    assert "note: doses given before this regimen" in cumulative["message"]["text"]


def test_json_keeps_notes_and_every_label(monkeypatch: pytest.MonkeyPatch) -> None:
    items = json.loads(_check(monkeypatch, "--format", "json", str(CASE))[1])
    (cumulative,) = [i for i in items if i["code"] == "SAF301"]
    assert len(cumulative["notes"]) == 2
    assert [label["line"] for label in cumulative["labels"]] == [6, 13]


def test_quiet_prints_the_findings_and_nothing_else(monkeypatch: pytest.MonkeyPatch, plain_env: None) -> None:
    loud = _check(monkeypatch, str(CASE))[1]
    code, quiet = _check(monkeypatch, "--quiet", str(CASE))
    assert code == 1
    assert "in 1 file" in loud
    assert quiet == loud.removesuffix("\n" + loud.splitlines()[-1] + "\n")
