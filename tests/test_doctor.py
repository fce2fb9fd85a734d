"""`showcaller doctor`: in-process and as a subprocess, against sim, real OBS and non-OBS peers."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest
from aiohttp import web
from rich.console import Console

from showcaller.stage.doctor import run_doctor
from tests.realobs import HeadlessOBS
from tests.test_client import closed_port_url, http_server, silent_tcp_server

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
PASSWORD_ENV = "SHOWCALLER_OBS__PASSWORD"


async def doctor(
    config: Path | None, obs: str | None, monkeypatch: pytest.MonkeyPatch, password: str = ""
) -> tuple[int, str, str]:
    """Run doctor in-process; (exit code, stdout, stderr)."""
    if password:
        monkeypatch.setenv(PASSWORD_ENV, password)
    else:
        monkeypatch.delenv(PASSWORD_ENV, raising=False)
    out, err = io.StringIO(), io.StringIO()
    code = await run_doctor(
        config,
        obs,
        console=Console(file=out, width=200),
        err_console=Console(file=err, width=200),
    )
    return code, out.getvalue(), err.getvalue()


def assert_one_clear_error(code: int, err: str, *words: str) -> None:
    """Exit 3, one error line and one hint line, no traceback."""
    assert code == 3, err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


# ----------------------------------------------------------------------------- sim


async def test_doctor_on_sim_shows_versions_scenes_and_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = await doctor(None, "sim", monkeypatch)
    assert code == 0
    assert "obs-websocket" in out
    assert "5.5.2" in out  # the built-in sim is a current OBS (30.2)
    assert "Scenes (1)" in out


async def test_doctor_with_the_example_config_on_sim_finds_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = await doctor(EXAMPLE, "sim", monkeypatch)
    assert code == 0, err
    assert "has every scene and input" in out
    assert "Technical Difficulties" in out


# ----------------------------------------------------------------------------- real OBS


async def test_doctor_on_real_obs_prints_its_versions(
    real_obs: HeadlessOBS, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = await doctor(None, real_obs.url, monkeypatch, real_obs.password)
    assert code == 0, err
    major, minor, _ = real_obs.version
    assert f"{major}.{minor}." in out
    if real_obs.version >= (30, 2, 0):
        # Offered by obs-websocket 5.5, but off in the test OBS's Simple output (mkv).
        assert "5.5." in out
        assert "split recording  off in OBS's settings" in out
        assert "chapter markers  off in OBS's settings" in out
    else:
        assert "5.1." in out
        assert "split recording  no" in out
    assert real_obs.password not in out + err


async def test_doctor_lists_what_obs_lacks_and_exits_1(
    real_obs: HeadlessOBS, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = await doctor(EXAMPLE, real_obs.url, monkeypatch, real_obs.password)
    assert code == 1, err
    assert "missing scene: Standby" in out
    assert "missing scene: Technical Difficulties" in out
    assert "missing input: Lower Third Name" in out
    assert "missing input: Speaker 1 Video" in out
    assert "OBS lacks" in out


async def test_wrong_password_is_one_line_and_exit_3(
    real_obs: HeadlessOBS, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = await doctor(None, real_obs.url, monkeypatch, "wrong-password-xyz")
    assert_one_clear_error(code, err, "password")
    assert "wrong-password-xyz" not in err
    assert "SHOWCALLER_OBS__PASSWORD" in err


# ----------------------------------------------------------------------------- not OBS


async def test_closed_port_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    url = closed_port_url()
    code, _, err = await doctor(None, url, monkeypatch)
    assert_one_clear_error(code, err, "connection refused", url.removeprefix("ws://"))


async def test_silent_server_times_out_after_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOWCALLER_OBS__CONNECT_TIMEOUT", "0.5")
    async with silent_tcp_server() as url:
        code, _, err = await asyncio.wait_for(doctor(None, url, monkeypatch), 5)
    assert_one_clear_error(code, err, "did not answer within 0.5 s")


async def test_plain_web_server_is_not_obs(monkeypatch: pytest.MonkeyPatch) -> None:
    async with http_server(web.Application()) as url:
        code, _, err = await doctor(None, url, monkeypatch)
    assert_one_clear_error(code, err, "HTTP 404")


# ----------------------------------------------------------------------------- subprocess


def _doctor_argv(*args: str) -> list[str]:
    """`python -m showcaller doctor …`, as a host types it."""
    return [sys.executable, "-m", "showcaller", "doctor", *args]


async def _run(*args: str, password: str = "", **env: str) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SHOWCALLER_")}
    environ.update(env)
    if password:
        environ[PASSWORD_ENV] = password
    proc = await asyncio.create_subprocess_exec(
        *_doctor_argv(*args),
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_subprocess_doctor_on_real_obs(real_obs: HeadlessOBS) -> None:
    code, out, err = await _run("--obs", real_obs.url, password=real_obs.password)
    assert code == 0, err
    major, minor, _ = real_obs.version
    assert f"{major}.{minor}." in out
    assert ("5.5." if real_obs.version >= (30, 2, 0) else "5.1.") in out


async def test_subprocess_doctor_failures_are_one_line_exit_3() -> None:
    code, _, err = await _run("--obs", closed_port_url())
    assert_one_clear_error(code, err, "connection refused")
    async with silent_tcp_server() as url:
        code, _, err = await _run("--obs", url, SHOWCALLER_OBS__CONNECT_TIMEOUT="0.5")
    assert_one_clear_error(code, err, "did not answer")
    async with http_server(web.Application()) as url:
        code, _, err = await _run("--obs", url)
    assert_one_clear_error(code, err, "not an obs-websocket")
