"""The headless OBS of the test suite is real, authenticates, and streams to nginx-rtmp."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from obswebsocket import obsws
from obswebsocket import requests as req
from obswebsocket.exceptions import ConnectionFailure

from tests.realobs import HeadlessOBS, RTMPServer, connect

pytestmark = pytest.mark.realobs


@pytest.fixture
def ws(real_obs: HeadlessOBS) -> Iterator[Any]:
    """An obs-websocket-py client, identified with the right password."""
    client = obsws("127.0.0.1", real_obs.port, real_obs.password, legacy=False, timeout=10)
    connect(client)
    yield client
    client.disconnect()


def _poll(ws: Any, request: Any, until: Any, timeout: float) -> Any:
    """Call a request until its response data satisfies until(); fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        response = ws.call(request())
        if until(response.datain):
            return response.datain
        if time.monotonic() > deadline:
            pytest.fail(f"{request.__name__} never satisfied the condition: {response.datain}")
        time.sleep(0.05)


def test_real_obs_reports_its_versions(ws: Any) -> None:
    version = ws.call(req.GetVersion())
    assert version.status
    obs_version = version.getObsVersion()
    websocket_version = version.getObsWebSocketVersion()
    print(f"real OBS {obs_version}, obs-websocket {websocket_version}")
    assert int(obs_version.split(".")[0]) >= 29
    assert int(websocket_version.split(".")[0]) >= 5
    assert version.getRpcVersion() == 1


def test_real_obs_starts_reset_with_one_empty_scene(ws: Any) -> None:
    scenes = ws.call(req.GetSceneList()).datain
    assert [s["sceneName"] for s in scenes["scenes"]] == ["Scene"]
    assert scenes["currentProgramSceneName"] == "Scene"
    assert ws.call(req.GetInputList()).getInputs() == []


def test_wrong_password_is_refused_promptly(real_obs: HeadlessOBS) -> None:
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        client = obsws("127.0.0.1", real_obs.port, "not-the-password", legacy=False, timeout=5)
        try:
            connect(client)
        except Exception as exc:
            outcome.append(exc)
        else:
            client.disconnect()
            outcome.append(None)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "connecting with a wrong password hung"
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConnectionFailure)


def test_stream_to_local_rtmp_keeps_sending_bytes(ws: Any, rtmp_server: RTMPServer) -> None:
    settings = {"server": rtmp_server.url, "key": "test"}
    assert ws.call(
        req.SetStreamServiceSettings(
            streamServiceType="rtmp_custom", streamServiceSettings=settings
        )
    ).status
    assert ws.call(req.StartStream()).status
    try:
        first = _poll(ws, req.GetStreamStatus, lambda d: d["outputActive"], timeout=5)
        time.sleep(2)
        later = ws.call(req.GetStreamStatus()).datain
        assert later["outputActive"]
        assert later["outputBytes"] > first["outputBytes"]
    finally:
        ws.call(req.StopStream())
    _poll(ws, req.GetStreamStatus, lambda d: not d["outputActive"], timeout=5)
