"""Mutation fuzzing of the bundled regimens: no exception escapes, no exit 3, spans in bounds."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from regdsl.cli.main import main
from regdsl.compile.library import check_paths
from regdsl.render.context import RenderContext
from regdsl.render.pages import render_all
from tests.conftest import ROOT
from tests.facts import compile_alone

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
def test_mutated_regimens_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutant.reg"
        path.write_bytes(data)
        (Path(folder) / "library.reg").write_bytes((ROOT / "regimens" / "library.reg").read_bytes())
        _check_bounds(path)
        assert main(["check", str(path)], out=io.StringIO()) in {0, 1}


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


@given(mutated())
def test_mutated_regimens_that_pass_the_check_render_in_every_format(data: bytes) -> None:
    compiled = compile_alone(data)
    if compiled is None:
        return
    pages = render_all(compiled, RenderContext(source="fuzzed.reg"))
    assert set(pages) == {"html", "md", "json"}
    assert json.loads(pages["json"])["id"] == compiled.regimen.id
