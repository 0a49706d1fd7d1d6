"""Configuration: finding it, what each key does, command-line overrides, and bad configurations."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from regdsl.check.config import Config, ConfigError, discover_config, find_config, load_config
from regdsl.cli.main import main
from regdsl.diagnostics import Severity

TRAILING_ZERO = (
    'regimen cfg-test\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n  loratadine 10.0 mg oral days 1\n'
)
VINCA_IT = (
    'regimen cfg-vinca\n  name "Fixture"\n  status draft\n\ncycle 1: 21 days\n'
    "  vinCRIStine 1.4 mg/m2 intrathecal day 1\n"
)


def _library(tmp_path: Path, body: str = TRAILING_ZERO) -> Path:
    folder = tmp_path / "lib"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "regimen.reg").write_text(body, encoding="utf-8")
    return folder


def _check(*args: str) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = main(["check", "--format", "json", *args], out=out)
    return code, json.loads(out.getvalue())


def _codes(found: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(d["code"], d["severity"]) for d in found]


# -- finding the configuration -------------------------------------------------------


def test_no_configuration_gives_the_defaults(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    assert find_config(folder) is None
    assert discover_config([folder]).config == Config()


def test_the_nearest_configuration_wins(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (tmp_path / "regdsl.toml").write_text('ignore = ["TIM"]\n')
    (folder / "regdsl.toml").write_text('ignore = ["SAF"]\n')
    assert find_config(folder / "regimen.reg") == folder / "regdsl.toml"
    assert find_config(folder) == folder / "regdsl.toml"
    assert discover_config([folder]).config.ignore == frozenset({"SAF"})


def test_regdsl_toml_beats_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.regdsl]\nignore = ["TIM"]\n')
    (tmp_path / "regdsl.toml").write_text('ignore = ["SAF"]\n')
    assert find_config(tmp_path) == tmp_path / "regdsl.toml"


def test_pyproject_without_a_regdsl_table_is_passed_over(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.regdsl]\nignore = ["SAF101"]\n')
    assert find_config(folder) == tmp_path / "pyproject.toml"
    assert load_config(tmp_path / "pyproject.toml").config.ignore == frozenset({"SAF101"})


def test_each_file_is_checked_under_the_nearest_configuration_above_it(tmp_path: Path) -> None:
    first = _library(tmp_path / "a")
    second = _library(tmp_path / "b", TRAILING_ZERO.replace("cfg-test", "cfg-other"))
    (first / "regdsl.toml").write_text('ignore = ["SAF101"]\n')
    (second / "regdsl.toml").write_text("ignore = []\n")
    for order in ((first, second), (second, first)):
        code, found = _check(*map(str, order))
        assert code == 1
        assert [(d["path"], d["code"]) for d in found] == [(str(second / "regimen.reg"), "SAF101")]
    assert _check(str(first / "regimen.reg")) == (0, [])
    # A folder holding both: each file still gets the configuration nearest to it.
    assert [d["path"] for d in _check(str(tmp_path))[1]] == [str(second / "regimen.reg")]


def test_a_nested_configuration_rules_its_folder_and_a_bad_one_anywhere_stops_the_check(tmp_path: Path) -> None:
    top = _library(tmp_path)
    nested = top / "drafts"
    nested.mkdir()
    (nested / "draft.reg").write_text(TRAILING_ZERO.replace("cfg-test", "cfg-draft"), encoding="utf-8")
    (top / "regdsl.toml").write_text('severity = { SAF101 = "warning" }\n')
    (nested / "regdsl.toml").write_text('ignore = ["SAF101"]\n')
    code, found = _check(str(top))
    assert code == 0
    assert [(d["path"], d["code"], d["severity"]) for d in found] == [(str(top / "regimen.reg"), "SAF101", "warning")]
    (nested / "regdsl.toml").write_text('ignore = ["SAF1O1"]\n')
    assert main(["check", str(top)], out=io.StringIO()) == 2


def test_extend_select_adds_to_the_selection(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text('select = ["TIM"]\nextend-select = ["dose-trailing-zero"]\n')
    assert _codes(_check(str(folder))[1]) == [("SAF101", "error")]
    (folder / "regdsl.toml").write_text('select = ["TIM"]\n')
    assert _check(str(folder)) == (0, [])
    # --select replaces the configuration's selection; extend-select (file or option) still adds.
    assert _codes(_check("--select", "TIM", "--extend-select", "SAF1", str(folder))[1]) == [("SAF101", "error")]


def test_per_file_ignores_leave_rules_out_of_the_files_a_glob_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _library(tmp_path)
    drafts = folder / "drafts"
    drafts.mkdir()
    (drafts / "draft.reg").write_text(TRAILING_ZERO.replace("cfg-test", "cfg-draft"), encoding="utf-8")
    (folder / "regdsl.toml").write_text('[per-file-ignores]\n"drafts/*" = ["dose-trailing-zero"]\n')
    assert [d["path"] for d in _check(str(folder))[1]] == [str(folder / "regimen.reg")]
    # Relative to the configuration file, wherever the check is run from.
    monkeypatch.chdir(drafts)
    assert [d["path"] for d in _check(str(folder))[1]] == [str(folder / "regimen.reg")]


def test_per_file_ignores_cannot_silence_a_never_event(tmp_path: Path) -> None:
    folder = _library(tmp_path, VINCA_IT)
    (folder / "regdsl.toml").write_text('[per-file-ignores]\n"*.reg" = ["SAF"]\n', encoding="utf-8")
    assert load_config(folder / "regdsl.toml").diagnostics == ()  # a prefix ignores only what can be
    code, found = _check(str(folder))
    assert code == 1
    assert "SAF001" in [d["code"] for d in found if d["severity"] == "error"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('per-file-ignores = ["x"]\n', "CFG003"),
        ('[per-file-ignores]\n"*.reg" = "SAF101"\n', "CFG003"),
        ('[per-file-ignores]\n"*.reg" = ["SAF1O1"]\n', "CFG004"),
        ('[per-file-ignores]\n"*.reg" = ["vinca-intrathecal"]\n', "CFG006"),
        ('extend-select = ["nothing-such"]\n', "CFG004"),
    ],
)
def test_bad_new_keys_are_located_findings(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "regdsl.toml"
    path.write_text(text, encoding="utf-8")
    (found,) = load_config(path).diagnostics
    assert found.code.code == code
    assert found.span.line == text.count("\n")


# -- what the keys do ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["SAF101", "dose-trailing-zero", "SAF", "SAF1"])
def test_ignore_takes_codes_names_and_prefixes(tmp_path: Path, key: str) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text(f'ignore = ["{key}"]\n')
    assert _check(str(folder)) == (0, [])


def test_select_keeps_only_the_selected_rules(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text('select = ["BRA"]\n')
    assert _check(str(folder)) == (0, [])
    (folder / "regdsl.toml").write_text('select = ["dose-trailing-zero"]\n')
    assert _codes(_check(str(folder))[1]) == [("SAF101", "error")]


def test_severity_changes_the_level_and_the_exit_code(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text('severity = { "dose-trailing-zero" = "warning" }\n')
    code, found = _check(str(folder))
    assert (code, _codes(found)) == (0, [("SAF101", "warning")])


def test_severity_takes_a_sub_table_and_prefixes(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text('[severity]\nSAF1 = "info"\n')
    loaded = load_config(folder / "regdsl.toml")
    assert not loaded.diagnostics
    assert loaded.config.severity["SAF101"] is Severity.INFO
    assert "SAF001" not in loaded.config.severity  # a prefix never changes what cannot be silenced


def test_unsuppressible_findings_survive_any_selection(tmp_path: Path) -> None:
    folder = _library(tmp_path, VINCA_IT)
    (folder / "regdsl.toml").write_text('select = ["PRO"]\nignore = ["SAF"]\nseverity = { "SAF" = "info" }\n')
    code, found = _check(str(folder))
    assert code == 1
    assert ("SAF001", "error") in _codes(found)


def test_root_is_relative_to_the_configuration_file(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "library.reg").write_text('library "test"\n')
    (library / "target.reg").write_text(TRAILING_ZERO.replace("cfg-test", "cfg-target"))
    folder = _library(tmp_path / "work")
    body = TRAILING_ZERO.replace("10.0", "10") + "\nplan\n  after cycle 1:\n"
    body += "    if response is CR: continue with cfg-target\n    otherwise: stop\n"
    (folder / "regimen.reg").write_text(body)
    assert _codes(_check(str(folder))[1]) == [("BRA001", "error")]  # the default root knows no cfg-target
    (tmp_path / "regdsl.toml").write_text('root = "library"\n')  # found from work/lib, two folders up
    assert load_config(tmp_path / "regdsl.toml").config.root == library.resolve()
    assert _check(str(folder)) == (0, [])


def test_exclude_leaves_out_matching_paths(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    drafts = folder / "drafts"
    drafts.mkdir()
    (drafts / "broken.reg").write_text("regimen broken\n  this does not parse\n")
    (folder / "regdsl.toml").write_text('exclude = ["drafts/*", "regimen.reg"]\n')
    out = io.StringIO()
    assert main(["check", str(folder)], out=out) == 0
    assert out.getvalue().endswith("0 errors, 0 warnings in 0 files\n")


# -- the command line -------------------------------------------------------------------------


def test_explicit_config_file(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    elsewhere = tmp_path / "settings.toml"
    elsewhere.write_text('ignore = ["SAF101"]\n')
    assert _check(str(folder))[0] == 1
    assert _check("--config", str(elsewhere), str(folder)) == (0, [])


def test_explicit_pyproject_reads_its_tool_table(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    project = tmp_path / "conf" / "pyproject.toml"
    project.parent.mkdir()
    project.write_text('[tool.regdsl]\nignore = ["SAF101"]\n')
    assert _check("--config", str(project), str(folder)) == (0, [])


def test_missing_config_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _library(tmp_path)
    assert main(["check", "--config", str(tmp_path / "nope.toml"), str(folder)], out=io.StringIO()) == 2
    assert "no such configuration file" in capsys.readouterr().err


def test_command_line_select_and_ignore_replace_the_configuration(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text('ignore = ["SAF101"]\n')
    assert _check(str(folder)) == (0, [])
    assert _codes(_check("--ignore", "TIM", str(folder))[1]) == [("SAF101", "error")]
    assert _check("--select", "BRA,TIM", "--select", "prose-near-miss", str(folder)) == (0, [])


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--ignore", "dose-traling-zero", "did you mean `dose-trailing-zero`?"),
        ("--select", "XYZ", "no rule or code `XYZ`"),
        ("--ignore", "vinca-intrathecal", "cannot be ignored"),
    ],
)
def test_bad_command_line_rules_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, words: str
) -> None:
    folder = _library(tmp_path)
    assert main(["check", option, value, str(folder)], out=io.StringIO()) == 2
    assert words in capsys.readouterr().err


def test_overridden_raises_for_unknown_names() -> None:
    with pytest.raises(ConfigError, match="--select"):
        Config().overridden(select=["no-such-rule"])


# -- bad configurations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ('select = ["SAF"\nignore = []\n', "CFG001", 2),
        ('select = ["SAF"]\nignores = ["PRO001"]\n', "CFG002", 2),
        ("select = []\nroot = 3\n", "CFG003", 2),
        ('severity = "warning"\n', "CFG003", 1),
        ('select = []\nwords = "Pharmac"\n', "CFG003", 2),
        ("words = [1, 2]\n", "CFG003", 1),
        ('select = []\njurisdiction = "nz"\n', "CFG003", 2),
        ("jurisdiction = 1\n", "CFG003", 1),
        ('select = [\n  "SAF",\n  "prose-near-mis",\n]\n', "CFG004", 3),
        ('[severity]\n"SAF999" = "warning"\n', "CFG004", 2),
        ('severity = { "dose-trailing-zero" = "low" }\n', "CFG005", 1),
        ('severity = { "dose-trailing-zero" = 2 }\n', "CFG005", 1),
        ('ignore = ["SAF001"]\n', "CFG006", 1),
        ('severity = { "vinca-intrathecal" = "warning" }\n', "CFG006", 1),
        ('root = "no-such-folder"\n', "CFG007", 1),
        ('root = "../../.."\n', "CFG008", 1),
        ('root = "/"\n', "CFG008", 1),
    ],
)
def test_bad_configuration_is_located_and_exits_2(tmp_path: Path, text: str, code: str, line: int) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text(text)
    exit_code, found = _check(str(folder))
    assert exit_code == 2
    assert [(d["code"], d["line"], Path(str(d["path"])).name) for d in found] == [(code, line, "regdsl.toml")]


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b'\xef\xbb\xbfignore = ["TIM"]\n', 1, 1),  # a byte-order mark
        (b'select = ["SAF"]\nignore = ["TIM\xff"]\n', 2, 15),  # not UTF-8, in a string
        (b'select = ["SAF"]  # caf\xe9\n', 1, 24),  # not UTF-8, in a comment
        (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", 1, 5004),  # nested too deeply for the TOML reader
        (b"x = " + b"{ a = " * 2000 + b"1" + b" }" * 2000 + b"\n", 1, 5 + 6 * 1999),
        (b'root = "../../.."\n', 1, 8),  # outside the configuration's folder
        (b'root = "/"\n', 1, 8),
        (b'root = "lib\\u0000"\n', 1, 1),  # a NUL: no such folder (shown at its key)
    ],
    ids=["bom", "not-utf8-string", "not-utf8-comment", "nested-arrays", "nested-tables", "up", "absolute", "nul"],
)
def test_unreadable_configuration_text_is_located_and_exits_2(
    tmp_path: Path, data: bytes, line: int, column: int
) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_bytes(data)
    exit_code, found = _check(str(folder))
    assert exit_code == 2
    assert [(str(d["code"])[:3], d["line"], d["column"], Path(str(d["path"])).name) for d in found] == [
        ("CFG", line, column, "regdsl.toml")
    ]


def test_a_root_that_leads_out_through_a_link_is_outside(tmp_path: Path) -> None:
    folder = _library(tmp_path / "work")
    (folder / "up").symlink_to(tmp_path)
    (folder / "regdsl.toml").write_text('root = "up"\n')
    exit_code, found = _check(str(folder))
    assert exit_code == 2
    assert [(d["code"], d["line"]) for d in found] == [("CFG008", 1)]
    (folder / "inside").mkdir()
    (folder / "in").symlink_to(folder / "inside")
    (folder / "regdsl.toml").write_text('root = "in"\n')
    assert _check(str(folder))[0] == 1  # a link to a folder inside is fine; the regimen has its trailing zero


def test_an_oversized_configuration_is_located(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_bytes(b"# padding\n" * 200_000)
    exit_code, found = _check(str(folder))
    assert exit_code == 2
    assert [d["code"] for d in found] == ["CFG001"]
    assert "limited to 1,048,576 bytes" in str(found[0]["message"])


def test_an_unreadable_configuration_is_exit_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _library(tmp_path)
    config = folder / "regdsl.toml"
    config.write_text('ignore = ["SAF101"]\n')
    real_open = os.open

    def denied(path: object, *args: object, **kwargs: object) -> int:
        if path == config:
            raise PermissionError(13, "Permission denied", str(config))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    assert main(["check", str(folder)], out=io.StringIO()) == 2
    assert f"regdsl: error: {config}: cannot be read (Permission denied)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [
        '[tool]\nregdsl = { ignore = ["SAF101"] }\n',
        'tool = { regdsl = { ignore = ["SAF101"] } }\n',
        'tool.regdsl.ignore = ["SAF101"]\n',
        '[tool]\nregdsl.ignore = ["SAF101"]\n',
        '[ tool . "regdsl" ]\nignore = ["SAF101"]\n',
    ],
)
def test_every_spelling_of_the_tool_table_is_found(tmp_path: Path, text: str) -> None:
    folder = _library(tmp_path)
    (folder / "pyproject.toml").write_text(text + '\n[project]\nname = "x"\n')
    assert find_config(folder) == folder / "pyproject.toml"
    assert _check(str(folder)) == (0, [])


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b'[tool]\nregdsl = "x"\n', "CFG003", 2),
        (b'[project]\nname = "x"\n[tool]\nregdsl = ["SAF"]\n', "CFG003", 4),
        (b'\xef\xbb\xbf[tool.regdsl]\nignore = ["SAF101"]\n', "CFG001", 1),
        (b'[tool.regdsl]\nignore = ["SAF101"]\n# \xff\n', "CFG001", 3),
        (b'[tool.regdsl]\nignore = ["SAF101"\n', "CFG001", 3),
    ],
    ids=["string", "list", "bom", "not-utf8", "not-toml"],
)
def test_a_pyproject_meant_for_regdsl_is_never_passed_over(tmp_path: Path, data: bytes, code: str, line: int) -> None:
    folder = _library(tmp_path)
    (folder / "pyproject.toml").write_bytes(data)
    exit_code, found = _check(str(folder))
    assert exit_code == 2
    assert [(d["code"], d["line"]) for d in found] == [(code, line)]


def test_a_broken_pyproject_of_another_tool_is_passed_over(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "pyproject.toml").write_text('[project]\nname = "x\n[tool.ruff]\n')
    assert find_config(folder) is None


def test_bad_pyproject_table_is_located_in_the_table(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "pyproject.toml").write_text('[project]\nselect = 1\n\n[tool.regdsl]\nselect = ["SAF", "nope"]\n')
    exit_code, found = _check(str(folder))
    assert exit_code == 2
    assert [(d["code"], d["line"], d["column"]) for d in found] == [("CFG004", 5, 18)]


def test_bad_configuration_text_output(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text('ignore = ["dose-trailing-zero", "PRO01"]\n')
    out = io.StringIO()
    assert main(["check", str(folder)], out=out) == 2
    text = out.getvalue()
    assert "error[CFG004]: no rule or code `PRO01`" in text
    assert 'ignore = ["dose-trailing-zero", "PRO01"]' in text
    assert text.endswith("1 error in the configuration; nothing was checked\n")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text(
        'select = "SAF"\nignores = []\nseverity = { "PRO001" = "loud" }\nroot = "missing"\n'
    )
    exit_code, found = _check(str(folder))
    assert exit_code == 2
    assert [(d["code"], d["line"]) for d in found] == [("CFG003", 1), ("CFG002", 2), ("CFG005", 3), ("CFG007", 4)]


def test_loading_a_configuration_alone_knows_every_rule(tmp_path: Path) -> None:
    """``regdsl.check.config`` registers the rules itself: used alone, it still knows their names."""
    (tmp_path / "regdsl.toml").write_text('select = ["prose-near-miss", "BRA"]\nignore = ["TIM005"]\n')
    script = (
        "import sys; from pathlib import Path; from regdsl.check.config import load_config; "
        "loaded = load_config(Path(sys.argv[1])); print(len(loaded.diagnostics), sorted(loaded.config.select or ()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "regdsl.toml")], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[0] == "0 ['BRA', 'PRO001']"


# -- configurations that are not a file of the user's ---------------------------------


@pytest.mark.parametrize("name", ["regdsl.toml", "pyproject.toml"])
@pytest.mark.parametrize("kind", ["fifo", "link to a device", "folder", "link to nowhere"])
def test_a_configuration_that_is_not_a_regular_file_is_exit_2_not_passed_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, kind: str
) -> None:
    # Passed over, its `select`, `ignore` and `root` would silently not apply.
    folder = _library(tmp_path)
    config = folder / name
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "link to a device":
        config.symlink_to(os.devnull)
    elif kind == "folder":
        config.mkdir()
    else:
        config.symlink_to(tmp_path / "nowhere")
    assert main(["check", str(folder)], out=io.StringIO()) == 2
    assert f"regdsl: error: {config}: " in capsys.readouterr().err


def _shared_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> Path:
    """Put a configuration of another user in a folder every user may write (as /tmp is), above a regimen."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    config = shared / name
    config.write_text(text)
    if os.geteuid() == 0:
        os.chown(config, 65534, 65534)
    else:
        owner = os.stat(config).st_uid
        monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    return _library(shared)


@pytest.mark.parametrize(
    ("name", "text"), [("regdsl.toml", 'ignore = ["SAF"]\n'), ("pyproject.toml", '[tool.regdsl]\nignore = ["SAF"]\n')]
)
def test_a_configuration_planted_in_a_shared_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    # Anyone can write a regdsl.toml into /tmp: it would silence the checks of every regimen below it.
    folder = _shared_config(tmp_path, monkeypatch, name, text)
    assert main(["check", str(folder)], out=io.StringIO()) == 2
    assert f"this {name} belongs to another user, in a folder every user may write" in capsys.readouterr().err


def test_a_configuration_every_user_may_write_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text('ignore = ["SAF"]\n')
    (folder / "regdsl.toml").chmod(0o666)
    assert main(["check", "--config", str(folder / "regdsl.toml"), str(folder)], out=io.StringIO()) == 2
    assert "this regdsl.toml is writable by every user" in capsys.readouterr().err


def test_a_root_too_long_for_the_file_system_is_located(tmp_path: Path) -> None:
    folder = _library(tmp_path)
    (folder / "regdsl.toml").write_text(f'root = "{"a/" * 3000}"\n')
    code, found = _check(str(folder))
    assert (code, [(d["code"], d["line"]) for d in found]) == (2, [("CFG007", 1)])


def test_configured_words_reach_the_spelling_rule(tmp_path: Path) -> None:
    """A library's `words` are known to PRO001 and suggested for a slip; without them `Pharmac` reads as `pharmacy`."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "x.reg").write_text(
        'regimen x\n  name "X"\n  status draft\n  overview\n    | Pharmac funds it. Taurnga gives it.\n\n'
        "cycle 1: 21 days\n  paracetamol 1000 mg oral day 1\n"
    )
    _, found = _check(str(folder))
    assert [d["message"] for d in found if d["code"] == "PRO001"] == [
        "`Pharmac` looks like a misspelling of `pharmacy`"
    ]
    (folder / "regdsl.toml").write_text('words = ["Pharmac", "Tauranga"]\n')
    _, found = _check(str(folder))
    assert [d["message"] for d in found if d["code"] == "PRO001"] == [
        "`Taurnga` looks like a misspelling of `tauranga`"
    ]
