"""The command line: validate and schema as a host runs them, error lines and exit codes,
and the password never printed, whether validation passes or fails."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from showcaller import __version__
from showcaller.cli import main
from showcaller.commands import COMMANDS, command
from showcaller.errors import ConnectionRefused

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
SECRETS = ("hunter2-secret", "file-secret-pw")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SHOWCALLER_"):
            monkeypatch.delenv(name)


def broken_example(tmp_path: Path) -> Path:
    """The example with a password in the file and three mistakes."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('url = "sim" ', 'url = "sim"\npassword = "file-secret-pw"\ncolor = 1 ', 1)
    text = text.replace('start = "19:30"', 'start = "19:7x"', 1)
    text = text.replace('speakers = ["suzuki"]', 'speakers = ["suzki"]', 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("SHOWCALLER_")}
    return subprocess.run(
        [sys.executable, "-m", "showcaller", *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
        check=False,
    )


# -- validate ---------------------------------------------------------------------------------


def test_validate_shows_the_event_and_its_timetable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    assert "Machine Learning Casual Talks #20" in out
    assert "2026-12-10 (木) Asia/Tokyo" in out
    assert "sim (password: not set)" in out
    assert "13 slots, 19:20-21:10" in out
    for expected in (
        "19:35",
        "Evaluating RAG without ground truth",
        "Yui Suzuki",
        "Lightning Talk",
    ):
        assert expected in out
    assert "warn, +60s" in out
    # Slots are numbered from 1, as --from, the dashboard, cards and doctor count them.
    numbers = [int(m) for m in re.findall(r"^│\s*(\d+)\s*│", out, flags=re.M)]
    assert numbers == list(range(1, 14)), numbers


def test_validate_masks_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", "hunter2-secret")

    assert main(["validate", str(EXAMPLE)]) == 0

    out, err = capsys.readouterr()
    assert "sim (password: ***)" in out
    assert "hunter2" not in out + err


def test_validate_reports_every_problem_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = broken_example(tmp_path)

    assert main(["validate", str(path)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"error: {path}:") for line in lines)
    assert ": obs.color: unknown key" in lines[0]
    assert """: timetable.slots[1].start: opening "オープニング": bad time '19:7x'""" in lines[1]
    assert "unknown speaker 'suzki' (did you mean 'suzuki'? known speaker ids: " in lines[2]


def test_missing_file_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "no/such/event.toml"]) == 2
    assert capsys.readouterr().err == (
        "error: no/such/event.toml: no such file (give the path of the event's TOML file)\n"
    )


def test_validate_in_a_subprocess_never_prints_a_secret(tmp_path: Path) -> None:
    env = {"SHOWCALLER_OBS__PASSWORD": "hunter2-secret"}

    failed = run_cli("validate", str(broken_example(tmp_path)), env=env)
    passed = run_cli("validate", str(EXAMPLE), env=env)

    assert failed.returncode == 2
    assert failed.stdout == ""
    assert len(failed.stderr.splitlines()) == 3
    assert all(line.startswith("error: ") for line in failed.stderr.splitlines())
    assert "Traceback" not in failed.stderr
    assert passed.returncode == 0, passed.stderr
    assert "password: ***" in passed.stdout
    for result in (failed, passed):
        for secret in SECRETS:
            assert secret not in result.stdout + result.stderr


def test_debug_shows_the_traceback_but_not_the_secret(tmp_path: Path) -> None:
    env = {"SHOWCALLER_OBS__PASSWORD": "hunter2-secret"}

    result = run_cli("validate", str(broken_example(tmp_path)), "--debug", env=env)

    assert result.returncode == 2
    assert "Traceback" in result.stderr
    for secret in SECRETS:
        assert secret not in result.stderr


# -- schema -----------------------------------------------------------------------------------


def as_taplo_sees_it(value: Any) -> Any:
    """TOML → the JSON an editor validates: dates and times become strings."""
    if isinstance(value, dict):
        return {k: as_taplo_sees_it(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_taplo_sees_it(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def validating(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """The validator the schema asks for (draft-07, what taplo runs), checking formats."""
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture
def schema(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    loaded: dict[str, Any] = json.loads(out)
    return loaded


def test_the_example_validates_against_the_schema(schema: dict[str, Any]) -> None:
    example = as_taplo_sees_it(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    validator = validating(schema)

    assert list(validator.iter_errors(example)) == []
    assert schema["$defs"]["Event"]["properties"]["date"] == {
        "description": "The day of the show (a TOML date: 2026-12-10).",
        "format": "date",
        "title": "Date",
        "type": "string",
    }


def test_the_schema_catches_what_an_editor_should_underline(schema: dict[str, Any]) -> None:
    example = as_taplo_sees_it(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    validator = validating(schema)
    example["obs"]["pasword"] = "x"
    example["timetable"]["slots"][1]["duration"] = "5 minutes"
    example["timetable"]["slots"][2]["kind"] = "keynote"
    example["event"]["date"] = "2026-12-32"

    where = sorted(".".join(map(str, e.absolute_path)) for e in validator.iter_errors(example))

    assert where == [
        "event.date",
        "obs",
        "timetable.slots.1.duration",
        "timetable.slots.2.kind",
    ]


def test_schema_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "showcaller.schema.json"

    assert main(["schema", "-o", str(target)]) == 0

    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"wrote {target}\n"
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == "showcaller event config"


# -- the command registry and the error contract ----------------------------------------------


@pytest.fixture
def scratch_commands() -> Iterator[None]:
    before = dict(COMMANDS)
    yield
    COMMANDS.clear()
    COMMANDS.update(before)


def test_version_help_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"showcaller {__version__}\n"
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out
    assert main([]) == 2
    assert main(["validate"]) == 2
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.usefixtures("scratch_commands")
def test_commands_register_and_async_ones_run(capsys: pytest.CaptureFixture[str]) -> None:
    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--times", type=int, default=1)

    @command("echo-async", "an async command", arguments=arguments)
    async def _echo(args: argparse.Namespace) -> int:
        print("hi " * args.times)
        return 0 if args.times else 1

    assert main(["echo-async", "--times", "2"]) == 0
    assert capsys.readouterr().out == "hi hi \n"
    assert main(["echo-async", "--times", "0"]) == 1


@pytest.mark.usefixtures("scratch_commands")
def test_errors_become_one_line_and_an_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    @command("refused", "OBS is not there")
    def _refused(args: argparse.Namespace) -> int:
        raise ConnectionRefused("cannot reach OBS at ws://127.0.0.1:4455")

    @command("bug", "a bug")
    def _bug(args: argparse.Namespace) -> int:
        raise RuntimeError("boom")

    @command("ctrl-c", "the host presses Ctrl-C")
    async def _interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    assert main(["refused"]) == 3
    assert capsys.readouterr().err.splitlines() == [
        "error: cannot reach OBS at ws://127.0.0.1:4455",
        f"hint: {ConnectionRefused.hint}",
    ]
    assert main(["bug"]) == 1
    assert capsys.readouterr().err == (
        "error: unexpected failure: boom (run with --debug for the traceback)\n"
    )
    assert main(["bug", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err
    assert main(["ctrl-c"]) == 130
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("scratch_commands")
def test_obs_argument_overrides_the_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from showcaller.commands import add_obs_argument, obs_target

    @command("where", "print the OBS target", arguments=add_obs_argument)
    def _where(args: argparse.Namespace) -> int:
        obs = obs_target(args, None)
        print(obs.url, bool(obs.password.get_secret_value()))
        return 0

    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", "pw")
    assert main(["where", "--obs", "ws://10.0.0.2:4455"]) == 0
    assert main(["where"]) == 0
    assert capsys.readouterr().out == "ws://10.0.0.2:4455 True\nsim True\n"
    assert main(["where", "--obs", "10.0.0.2"]) == 2
    assert capsys.readouterr().err.startswith("error: --obs '10.0.0.2': expected sim or ws://")
