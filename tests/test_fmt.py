"""``regdsl fmt``: one canonical layout, idempotent, never a change of meaning.

Meaning is what the compiler makes of a file: the regimen's JSON document (the source lines
it cites moved to where each statement is after formatting: fmt keeps every statement on its
own line, in order), and the findings of a check (code, severity, message). Both are compared
before and after formatting, for every bundled regimen, every diagnostics fixture that parses,
generated regimens and bundled regimens relaid at random (other indentation, tabs, CRLF,
blank lines, comments anywhere, spaces at line ends).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regdsl.check.rewrite import rewrite_file
from regdsl.check.run import run_configured
from regdsl.cli.main import main
from regdsl.compile.library import PathError
from regdsl.diagnostics import Sink
from regdsl.render.context import RenderContext
from regdsl.render.document import build_document
from regdsl.source import SourceFile
from regdsl.syntax.layout import format_source
from tests.conftest import ROOT, check_golden
from tests.facts import check_alone
from tests.shapes import SHAPES, Shape
from tests.test_fuzz import kept_valid
from tests.test_render_properties import regimen

REGIMENS = ROOT / "regimens"
BUNDLED = sorted(p for p in REGIMENS.glob("*.reg") if p.name != "library.reg")
FIXTURES = ROOT / "tests" / "diagnostics"
CASES = ROOT / "tests" / "fmt"


def fmt(text: str, name: str = "x.reg") -> str | None:
    return format_source(SourceFile(name, text), Sink())


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["fmt", *args], out=out)
    return code, out.getvalue()


def _statements(text: str) -> list[int]:
    """Return the numbers of the lines that hold a statement (neither blank nor only a comment)."""
    lines = text.split("\n")
    return [n for n, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("#")]


def _moved(value: object, lines: dict[int, int]) -> object:
    """Return a JSON value with each source ``line`` it cites moved to where the line is now."""
    if isinstance(value, dict):
        return {
            k: lines.get(v, -v) if k == "line" and isinstance(v, int) else _moved(v, lines) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_moved(v, lines) for v in value]
    return value


def _document(data: bytes, name: str, lines: dict[int, int] | None = None) -> str | None:
    """Return the JSON document of a source (None if it fails the check), its lines moved by ``lines``."""
    built, _errors = check_alone(data, name, siblings=True)
    if built is None:
        return None
    document = build_document(built.compiled, RenderContext(source=name))
    return json.dumps(_moved(document, lines) if lines is not None else document, sort_keys=True)


def _findings(folder: Path) -> Counter[tuple[str, str, str, str]]:
    result = run_configured([folder])
    return Counter((Path(d.span.path).name, d.code.code, d.level.value, d.message) for d in result.diagnostics)


def assert_same_meaning(text: str, name: str) -> str:
    """Format ``text``; assert it is formatted once and for all, and compiles to the same document."""
    formatted = fmt(text, name)
    assert formatted is not None
    assert fmt(formatted, name) == formatted, "not idempotent"
    before, after = _statements(text), _statements(formatted)
    assert len(before) == len(after), "a statement line was added or removed"
    moved = dict(zip(before, after, strict=True))
    assert _document(formatted.encode(), name) == _document(text.encode(), name, moved)
    return formatted


# -- the layout -------------------------------------------------------------------------


def test_the_bundled_library_is_formatted() -> None:
    code, out = _run("--check", str(REGIMENS))
    assert (code, out) == (0, f"0 files would be reformatted, {len(BUNDLED) + 1} already formatted\n")


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_formatting_a_bundled_regimen_keeps_its_document_and_findings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert assert_same_meaning(text, path.name) == text


@pytest.mark.parametrize("case", sorted(CASES.glob("*.reg")), ids=lambda p: p.stem)
def test_fmt_diff_golden(case: Path, update_goldens: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    before = case.read_bytes()
    code, out = _run("--diff", str(case.relative_to(ROOT)))
    assert code == 1
    assert case.read_bytes() == before, "--diff writes nothing"
    check_golden(case.with_suffix(".diff"), out, update_goldens)
    formatted = fmt(before.decode("utf-8"), case.name)
    assert formatted is not None
    assert fmt(formatted, case.name) == formatted


def test_layout_rules() -> None:
    messy = (
        '# top\n\n\n\nregimen   doc-x\r\n\tname "X  y"    # why   \r\n\tstatus draft\n  \n'
        'drug pac   =   "PACLItaxel"\n# carbo\ndrug carbo = "CARBOplatin"\n'
        "cycle 1 :  21 days\n\n      # inside\n      pac 80 mg/m2 IV days 1 , 8,15 +/- 1 day over 60 min\n"
        "          |do it\n          |\n          |   indented  \n      note pac   \n         | text\n"
        "cycles 2 to 4: 21 days\n  same as cycle 1\nsupport\n  Emetogenicity :   Low   "
    )
    assert fmt(messy) == (
        '# top\n\nregimen doc-x\n  name "X  y"  # why\n  status draft\n\n'
        'drug pac = "PACLItaxel"\n# carbo\ndrug carbo = "CARBOplatin"\n\n'
        "cycle 1: 21 days\n  # inside\n  pac 80 mg/m2 IV days 1, 8, 15 ± 1 day over 60 min\n"
        "    | do it\n    |\n    |   indented  \n  note pac\n    | text\n\n"
        "cycles 2 to 4: 21 days\n  same as cycle 1\n\nsupport\n  Emetogenicity: Low\n"
    )


def test_numbers_quoted_text_and_prose_are_kept_as_written() -> None:
    text = (
        'regimen doc-x\n  name "A\\u00e9  \\"b\\""\n  status draft\n\ncycle 1: 21 days\n'
        "  loratadine 10.0 mg oral days −1, .5\n    |  two spaces, trailing   \n"
    )
    out = fmt(text)
    assert out == text.replace("−", "-")


def test_a_comment_stays_with_the_line_it_covers() -> None:
    text = (
        'regimen doc-x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n'
        "# regdsl: ignore[dose-trailing-zero] -- as the protocol writes it\n"
        "      loratadine 10.0 mg oral day 1\n"
        "      # a note at the end of the block\n"
    )
    assert fmt(text) == (
        'regimen doc-x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n'
        "  # regdsl: ignore[dose-trailing-zero] -- as the protocol writes it\n"
        "  loratadine 10.0 mg oral day 1\n"
        "  # a note at the end of the block\n"
    )


@pytest.mark.parametrize("option", [[], ["--check"], ["--diff"]])
def test_a_source_with_a_syntax_error_is_refused_and_left_untouched(
    tmp_path: Path, option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.reg"
    data = b'regimen doc-x\n  name "X\n  status   draft\n'
    path.write_bytes(data)
    code, out = _run(*option, str(path))
    assert code == 1
    assert path.read_bytes() == data
    shown = out + capsys.readouterr().err
    assert "error[SYN002]" in shown
    assert "1 file left as written: it does not parse" in shown


# -- the command ------------------------------------------------------------------------


MESSY = b'regimen doc-x\n    name "X"\n    status draft\ncycle 1: 21 days\n    loratadine 10 mg oral day 1\n'
NEAT = b'regimen doc-x\n  name "X"\n  status draft\n\ncycle 1: 21 days\n  loratadine 10 mg oral day 1\n'


def test_fmt_rewrites_in_place_keeping_the_mode_and_leaves_formatted_files_alone(tmp_path: Path) -> None:
    messy, neat = tmp_path / "a.reg", tmp_path / "b.reg"
    messy.write_bytes(MESSY)
    neat.write_bytes(NEAT)
    messy.chmod(0o640)
    before = neat.stat()
    code, out = _run(str(tmp_path))
    assert code == 0
    assert out == f"reformatted {messy}\n1 file reformatted, 1 already formatted\n"
    assert messy.read_bytes() == NEAT
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640
    after = neat.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.reg", "b.reg"], "no file left behind"
    assert _run(str(tmp_path)) == (0, "0 files reformatted, 2 already formatted\n")


def test_fmt_check_lists_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.reg").write_bytes(MESSY)
    (tmp_path / "b.reg").write_bytes(NEAT)
    code, out = _run("--check", str(tmp_path))
    assert code == 1
    assert out == f"would reformat {tmp_path / 'a.reg'}\n1 file would be reformatted, 1 already formatted\n"
    assert (tmp_path / "a.reg").read_bytes() == MESSY
    assert _run("--check", str(tmp_path / "b.reg")) == (0, "0 files would be reformatted, 1 already formatted\n")


def test_fmt_diff_escapes_what_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "a\x1b[31m.reg"
    path.write_bytes(b'regimen doc-x\r\n  name "X"\r\n  status draft\n')
    code, out = _run("--diff", str(path))
    assert code == 1
    assert "\x1b" not in out
    assert "\r" not in out
    assert "-regimen doc-x\\r\n" in out
    assert "a\\u001b[31m.reg" in out


def test_fmt_never_writes_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_bytes(MESSY)
    link = tmp_path / "link.reg"
    link.symlink_to(target)
    code, _out = _run(str(link))
    assert code == 2
    assert target.read_bytes() == MESSY
    assert link.is_symlink()


@pytest.mark.parametrize("problem", ["missing", "fifo", "unreadable", "empty-folder"])
def test_fmt_path_problems_exit_2(
    tmp_path: Path, problem: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.reg"
    if problem == "fifo":
        os.mkfifo(path)
    elif problem == "unreadable":
        path.write_bytes(NEAT)
        real_open = os.open

        def refuse(name: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
            if os.fspath(name) == os.fspath(path):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_open(name, flags, mode, dir_fd=dir_fd)

        monkeypatch.setattr(os, "open", refuse)
    elif problem == "empty-folder":
        path.mkdir()
    assert _run(str(path))[0] == 2
    assert f"regdsl: error: {path}: " in capsys.readouterr().err


def test_fmt_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fmt"], out=io.StringIO())
    assert exit_.value.code == 2


def test_a_failed_rewrite_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.reg"
    path.write_bytes(MESSY)

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(PathError, match="No space left"):
        rewrite_file(path, NEAT.decode())
    assert path.read_bytes() == MESSY
    assert [p.name for p in tmp_path.iterdir()] == ["a.reg"]


# -- the property: formatting never changes meaning --------------------------------------------


def _fixture_cases() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*") if p.suffix == ".reg" or p.is_dir())


@pytest.mark.parametrize("case", _fixture_cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_formatting_a_fixture_keeps_its_findings(case: Path, tmp_path: Path) -> None:
    folder = tmp_path / case.parent.name
    shutil.copytree(case.parent, folder)
    copied = folder / case.name
    files = sorted(copied.rglob("*.reg")) if copied.is_dir() else [copied]
    before = _findings(copied)
    changed = False
    for file in files:
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        formatted = format_source(SourceFile(str(file), text), Sink())
        if formatted is not None:
            assert fmt(formatted) == formatted, "not idempotent"
            changed |= formatted != text
            file.write_text(formatted, encoding="utf-8", newline="")
    if changed:
        after = _findings(copied)
        assert after - before == Counter()  # nothing new
        # only layout findings go: a number run into its unit on a dose line, which fmt spaces
        assert sorted({key[1] for key in before - after}) in ([], ["SAF107"])


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_formatting_the_adversarial_shapes_keeps_their_findings(shape: Shape, tmp_path: Path) -> None:
    files = shape.make(1500)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    before = _findings(tmp_path)
    for name, text in files.items():
        formatted = fmt(text, name)
        if formatted is not None:
            assert fmt(formatted, name) == formatted, "not idempotent"
            (tmp_path / name).write_text(formatted, encoding="utf-8", newline="")
    assert _findings(tmp_path) == before


@given(regimen())
def test_generated_regimens_keep_their_meaning(source: str) -> None:
    assert_same_meaning(source, "generated.reg")


@given(kept_valid())
def test_bundled_regimens_with_comments_and_blank_lines_anywhere_keep_their_meaning(mutant: tuple[str, bytes]) -> None:
    name, data = mutant
    assert_same_meaning(data.decode("utf-8"), name)


@st.composite
def relaid(draw: st.DrawFn) -> tuple[str, str]:
    """Draw a bundled regimen laid out otherwise: other indentation or tabs, CRLF, more blank lines, end spaces."""
    path = draw(st.sampled_from(BUNDLED))
    unit = draw(st.sampled_from([" ", "   ", "    ", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    lines = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        body = line.lstrip(" ")
        level = (len(line) - len(body)) // 2
        tail = "" if body.startswith("|") else " " * draw(st.integers(0, 2))
        lines.append(unit * level + body + (tail if body else ""))
        if not body and draw(st.booleans()):  # a blank line more: one is kept
            lines.append(" " * draw(st.integers(0, 3)))
    return path.name, end.join(lines)


@given(relaid())
def test_bundled_regimens_relaid_format_back_to_themselves(drawn: tuple[str, str]) -> None:
    name, text = drawn
    assert assert_same_meaning(text, name) == (REGIMENS / name).read_text(encoding="utf-8")
