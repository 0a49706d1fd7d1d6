"""Mutation fuzzing of the bundled regimens: no exception escapes, no exit 3, spans in bounds.

Mutants that break the regimen test the check; changes that keep it valid (``kept_valid``)
test that what passes is published whole, on every draw.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

from hypothesis import event, given
from hypothesis import strategies as st

from regdsl.cli.main import main
from regdsl.compile.library import check_paths
from regdsl.render.context import RenderContext
from regdsl.render.pages import render_all
from tests.conftest import ROOT
from tests.facts import check_alone, compile_alone
from tests.test_render_properties import assert_complete, text

SOURCES = sorted((ROOT / "regimens").glob("*.reg"))
JUNK = ["", "#", "|", '"', "(", ")", ":", "±", "µg", ".5", "1.0", "\t", "    ", "day", "cycle", "\u00a0", "é", "\x00"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """Draw a bundled regimen with lines deleted, duplicated, swapped or junked, and bytes flipped."""
    source = draw(st.sampled_from(SOURCES))
    lines = source.read_text(encoding="utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "junk", "indent"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[j])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 9)) + lines[i].lstrip()
        else:
            words = lines[i].split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(st.sampled_from(JUNK) | st.text(max_size=6))
            lines[i] = " ".join(words)
    data = bytearray("\n".join(lines).encode("utf-8"))
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    return bytes(data)


def _check_bounds(path: Path) -> None:
    result = check_paths([path])
    for diag in result.diagnostics:
        for label in (diag.primary, *diag.secondary):
            span = label.span
            source = result.sources[span.path]
            assert 0 <= span.start <= span.end <= len(source.text)
            assert 1 <= span.line <= span.end_line <= len(source.index.starts)
            assert span.column >= 1
            assert span.end_column >= 1


@given(mutated())
def test_mutated_regimens_never_crash_and_render_if_they_pass(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutant.reg"
        path.write_bytes(data)
        (Path(folder) / "library.reg").write_bytes((ROOT / "regimens" / "library.reg").read_bytes())
        _check_bounds(path)
        assert main(["check", str(path)], out=io.StringIO()) in {0, 1}
    # What the check passes, the build builds: about one mutant in eight passes (counted in the
    # statistics); kept_valid below draws changes that always pass, to test the pages whole.
    compiled = compile_alone(data)
    event("passes the check" if compiled else "refused by the check")
    if compiled is not None:
        pages = render_all(compiled, RenderContext(source="fuzzed.reg"))
        assert set(pages) == {"html", "md", "json"}
        assert json.loads(pages["json"])["id"] == compiled.regimen.id


@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "noise.reg"
        path.write_bytes(data)
        _check_bounds(path)
        assert main(["check", str(path)], out=io.StringIO()) in {0, 1}


PIECES = ["regimen x\n", "  ", "cycle 1: 21 days\n", "(", ")", "not ", "\n", "|", "plan\n", "stop if ", "MRD negative"]


@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_structured_noise_never_crashes(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "noise.reg"
        path.write_text(text, encoding="utf-8")
        _check_bounds(path)


_PROSE = re.compile(r"^( *)\| ")
_AMOUNT = re.compile(r"(?<= )[0-9]+(?:\.[0-9]+)?(?= (?:mg|microgram|mmol|mg/m2|mg/m²|mg/kg|%|AUC)\b)")
AMOUNTS = ["1", "2.5", "0.25", "10", "75", "120"]


def _prose_at(lines: list[str], i: int) -> str | None:
    """Return the indentation of line ``i`` if it is a prose line, else None."""
    match = _PROSE.match(lines[i]) if 0 <= i < len(lines) else None
    return match[1] if match else None


@st.composite
def kept_valid(draw: st.DrawFn) -> tuple[str, bytes]:
    """Draw a bundled regimen (its file name and text) changed only in ways that keep it valid.

    Prose lines rewritten (with HTML and Markdown characters), duplicated, swapped with a
    neighbour or deleted (never a block's last), comments and blank lines added anywhere,
    and dose amounts changed: every draw should pass the check, and be published whole.
    """
    source = draw(st.sampled_from([p for p in SOURCES if p.name != "library.reg"]))
    lines = source.read_text(encoding="utf-8").split("\n")
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["rewrite", "duplicate", "swap", "delete", "comment", "blank", "amount"]))
        prose = [i for i in range(len(lines)) if _prose_at(lines, i) is not None]
        i = draw(st.sampled_from(prose))
        indent = _prose_at(lines, i)
        if op == "rewrite":
            lines[i] = f"{indent}| {'- ' if draw(st.booleans()) else ''}{draw(text)}"
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap" and _prose_at(lines, i + 1) == indent:
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == "delete" and indent in {_prose_at(lines, i - 1), _prose_at(lines, i + 1)}:
            del lines[i]
        elif op in {"comment", "blank"}:
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, f"{' ' * draw(st.integers(0, 6))}# {draw(text)}" if op == "comment" else "")
        elif op == "amount":
            # A regimen may have no dose in these units (BCG's one vial): then there is none to change.
            doses = [n for n, line in enumerate(lines) if _AMOUNT.search(line) and _prose_at(lines, n) is None]
            if doses:
                n = draw(st.sampled_from(doses))
                lines[n] = _AMOUNT.sub(draw(st.sampled_from(AMOUNTS)), lines[n], count=1)
    return source.name, "\n".join(lines).encode("utf-8")


@given(kept_valid())
def test_regimens_changed_in_valid_ways_pass_the_check_and_render_completely(mutant: tuple[str, bytes]) -> None:
    name, data = mutant
    built, errors = check_alone(data, name, siblings=True)
    assert built is not None, errors
    assert_complete(built, render_all(built.compiled, RenderContext(source="fuzzed.reg")))
