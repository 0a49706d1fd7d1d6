"""``--templates``: templates render in jinja2's sandbox; a broken one is exit 2 naming its file and line.

Templates are trusted configuration, but no template may run code: every escape from the
sandbox that is known for jinja2 is tried here, as ``regdsl build`` and ``regdsl render``
meet it, and each must fail safely (exit 2, nothing run, nothing published).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from regdsl.cli.main import EXIT_OK, EXIT_USAGE, main
from regdsl.render.env import environment
from regdsl.render.view import build_view
from tests.conftest import ROOT
from tests.facts import bundled, site_context

REGIMENS = ROOT / "regimens"
SEED = REGIMENS / "leu-all-bcell-rr-inotuzumab.reg"

# Each escape tries to create the folder MARK; the sandbox must stop it before it does.
ESCAPES = {
    "mro subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler globals": "{{ cycler.__init__.__globals__.os.mkdir('MARK') }}",
    "joiner globals": "{{ joiner.__init__.__globals__['os'].mkdir('MARK') }}",
    "namespace globals": "{{ namespace.__init__.__globals__.os.mkdir('MARK') }}",
    "lipsum globals": "{{ lipsum.__globals__['os'].mkdir('MARK') }}",
    "view class globals": "{{ page.__class__.__init__.__globals__ }}",
    "attr filter": "{{ (page|attr('__class__')).__init__.__globals__ }}",
    "template context": "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.mkdir('MARK') }}",
    "format string": "{{ '{0.__class__.__init__.__globals__}'.format(page) }}",
    "format map": "{{ '{x.__class__}'.format_map({'x': page}) }}",
    "loop over subclasses": "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "mutating the view": "{{ page.parts.__setitem__(0, 1) }}{% set x = [].append(1) %}",
    "list append": "{% set items = [] %}{{ items.append('MARK') }}",
    "range bomb": "{{ range(10 ** 9)|list|length }}",
}


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main([*args], out=out), out.getvalue()


def _templates(tmp_path: Path, files: dict[str, str] | dict[str, bytes]) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return folder


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_no_template_escapes_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], escape: str
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _templates(tmp_path, {"page.html.j2": f"<p>fine</p>\n{ESCAPES[escape]}\n"})
    code, _ = _run("render", str(SEED), "--to", "html", "--templates", str(folder))
    assert code == EXIT_USAGE
    assert f"{folder / 'page.html.j2'}:2:" in capsys.readouterr().err
    assert not (tmp_path / "MARK").exists()


def test_a_sandbox_escape_in_a_build_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _templates(tmp_path, {"page.md.j2": "# {{ page.title }}\n\n" + ESCAPES["cycler globals"] + "\n"})
    site = str(tmp_path / "site")
    code, _ = _run("build", str(REGIMENS), "-o", site, "--templates", str(folder), "--jobs", "2")  # from a worker
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{folder / 'page.md.j2'}:3: " in err
    assert "unsafe" in err
    assert not (tmp_path / "MARK").exists()
    assert not (tmp_path / "site").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]  # no partial build left behind


@pytest.mark.parametrize(
    ("files", "where", "words"),
    [
        ({"page.html.j2": "<p>\n{% if %}\n</p>\n"}, "page.html.j2:2", "syntax"),
        ({"page.html.j2": "<p>\n{% for x in page.parts %}\n"}, "page.html.j2:", "syntax"),
        ({"page.html.j2": "<p>{{ page.title }}</p>\n<p>{{ no_such_name }}</p>\n"}, "page.html.j2:2", "no_such_name"),
        ({"page.html.j2": "<p>\n\n{{ page.no_such_field }}</p>\n"}, "page.html.j2:3", "no_such_field"),
        (
            {"page.html.j2": "<p>\n{% include 'part.html.j2' %}\n", "part.html.j2": "a\nb\nc\n{{ oops }}\n"},
            "part.html.j2:4",
            "oops",
        ),
        ({"page.html.j2": "<p>\n{% include 'missing.html.j2' %}\n"}, "page.html.j2:2", "missing.html.j2"),
        ({"page.html.j2": "<p>\n\n\n{{ 1 // 0 }}\n"}, "page.html.j2:4", "ZeroDivisionError"),
        ({"references.html.j2": "\n{{ references.nope }}\n"}, "references.html.j2:2", "nope"),
        ({"page.html.j2": b"<p>\n\n<p>caf\xe9</p>\n"}, "page.html.j2:3", "not UTF-8"),
        (
            {"page.html.j2": "<p>\n{% include 'part.html.j2' %}\n", "part.html.j2": b"a\n\xff\n"},
            "part.html.j2:2",
            "not UTF-8",
        ),
        ({"page.html.j2": "<p>\n{{ " + "9" * 5000 + " }}\n"}, "page.html.j2:2", "cannot be compiled"),
        ({"page.html.j2": "<p>\n\n{{ 10 ** 5000 }}\n"}, "page.html.j2:3", "too large"),
        ({"page.html.j2": "<p>\n{{ 2 ** (10 ** 9) }}\n"}, "page.html.j2:2", "too large"),
        ({"page.html.j2": "<p>\n{{ 'a' * 10 ** 9 }}\n"}, "page.html.j2:2", "too large"),
        ({"page.html.j2": "<p>\n{% set n = 10 ** 9 %}{{ [1, 2] * n }}\n"}, "page.html.j2:2", "too large"),
        ({"page.html.j2": "<p>\n{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}\n"}, "page.html.j2", "cannot be compiled"),
    ],
    ids=[
        "syntax",
        "unclosed block",
        "undefined name",
        "undefined field",
        "included",
        "missing",
        "failure",
        "partial",
        "not UTF-8",
        "included not UTF-8",
        "number too long",
        "constant too large",
        "power bomb",
        "repeat bomb",
        "list repeat bomb",
        "nested too deep",
    ],
)
def test_a_broken_template_is_exit_2_naming_its_file_and_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str] | dict[str, bytes],
    where: str,
    words: str,
) -> None:
    folder = _templates(tmp_path, files)
    for command in (
        ("render", str(SEED), "--to", "html", "--templates", str(folder)),
        ("build", str(REGIMENS), "-o", str(tmp_path / "site"), "--templates", str(folder)),
    ):
        code, out = _run(*command)
        err = capsys.readouterr().err
        assert code == EXIT_USAGE, (command, out, err)
        assert f"regdsl: error: {folder / where}" in err, err
        assert words in err
        assert "INT001" not in err
        assert "Traceback" not in err
    assert not (tmp_path / "site").exists()


def test_a_template_folder_named_relatively_is_named_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _templates(tmp_path, {"page.md.j2": "\n{{ nope }}\n"})
    monkeypatch.chdir(folder)
    code, _ = _run("render", str(SEED), "--to", "md", "--templates", ".")
    assert code == EXIT_USAGE
    assert "regdsl: error: page.md.j2:2: " in capsys.readouterr().err


def test_a_broken_index_template_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _templates(tmp_path, {"index.html.j2": "{% for group in view.groups %}\n{{ group.nmae }}\n{% endfor %}\n"})
    code, _ = _run("build", str(REGIMENS), "-o", str(tmp_path / "site"), "--templates", str(folder))
    assert code == EXIT_USAGE
    assert f"{folder / 'index.html.j2'}:2: " in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


def test_a_sandboxed_template_still_loops_branches_and_filters(tmp_path: Path) -> None:
    folder = _templates(
        tmp_path,
        {
            "references.html.j2": (
                "{% set ns = namespace(n=0) %}{% for ref in references %}{% set ns.n = ns.n + 1 %}{% endfor %}"
                '<ol data-count="{{ ns.n }}">{% for ref in references|sort(attribute="text") %}'
                "<li>{{ ref.text|upper|truncate(20) }}</li>{% endfor %}</ol>\n"
            )
        },
    )
    code, page = _run("render", str(SEED), "--to", "html", "--templates", str(folder))
    assert code == EXIT_OK
    assert '<ol data-count="1"><li>PFIZER NEW...</li></ol>' in page


def test_the_sandbox_remembers_exactly_jinja2s_verdicts() -> None:
    page = build_view(bundled(SEED.stem), site_context(SEED.stem))

    def generator() -> Iterator[int]:
        yield 1

    samples: list[object] = [
        "",
        [],
        {},
        set(),
        (),
        page,
        page.parts,
        page.parts[0],
        main,
        page.__repr__,
        str.upper,
        "".upper,
        type,
        object,
        generator(),
        Markup("<b>"),
        sys._getframe(),
        main.__code__,
    ]
    reference = ImmutableSandboxedEnvironment()
    ours = environment("html")
    for obj in samples:
        names = {*dir(obj), "mro", "gi_frame", "append", "clear", "__globals__", "func_code", "__setitem__"}
        for name in sorted(names):
            value = getattr(obj, name, None)
            expected = reference.is_safe_attribute(obj, name, value)
            assert ours.is_safe_attribute(obj, name, value) is expected, (type(obj), name)
            assert ours.is_safe_attribute(obj, name, value) is expected, (type(obj), name)  # now remembered
