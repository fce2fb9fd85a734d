"""Stock obs-websocket clients nobody here wrote, driving the simulated OBS and real OBS.

The same controller session (identify, version, scenes, switch, a text input, a batch,
stream and record status, a stream to a dead target, events) runs through simpleobsws
(msgpack in binary frames) and obsws-python (integer and null requestIds), once on the
sim and once on a real headless OBS 29. What the two answer is reduced to a transcript
(status codes, response keys and value types, event types) and the transcripts must be
equal: where they differ, the sim is wrong.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import obsws_python
import pytest
import simpleobsws

from showcaller.obs.protocol import EventSubscription
from showcaller.obs.sim import SimulatedOBS
from tests.realobs import HeadlessOBS
from tests.sim_fixtures import SIM_PASSWORD

DEAD_TARGET = "rtmp://127.0.0.1:1/live"  # nothing listens on port 1

# (requestType, requestData) in the order a controller sends them before a show.
SETUP: list[tuple[str, dict[str, Any] | None]] = [
    ("GetVersion", None),
    ("CreateScene", {"sceneName": "Talk"}),
    ("CreateScene", {"sceneName": "Break"}),
    (
        "CreateInput",
        {
            "sceneName": "Talk",
            "inputName": "Speaker name",
            "inputKind": "text_ft2_source_v2",
            "inputSettings": {"text": ""},
        },
    ),
    ("GetSceneList", None),
    ("SetCurrentSceneTransition", {"transitionName": "Cut"}),
    ("SetCurrentProgramScene", {"sceneName": "Talk"}),
    ("SetInputSettings", {"inputName": "Speaker name", "inputSettings": {"text": "Ada"}}),
    ("GetInputSettings", {"inputName": "Speaker name"}),
    ("SetCurrentProgramScene", {"sceneName": "No Such Scene"}),
]
# One cue: the text, then the switch; a missing input fails alone.
BATCH: list[tuple[str, dict[str, Any] | None]] = [
    ("SetInputSettings", {"inputName": "Speaker name", "inputSettings": {"text": "Grace"}}),
    ("SetInputSettings", {"inputName": "No such input", "inputSettings": {"text": "x"}}),
    ("SetCurrentProgramScene", {"sceneName": "Break"}),
    ("GetCurrentProgramScene", None),
]
STATUS: list[tuple[str, dict[str, Any] | None]] = [
    ("GetStreamStatus", None),
    ("GetRecordStatus", None),
    (
        "SetStreamServiceSettings",
        {
            "streamServiceType": "rtmp_custom",
            "streamServiceSettings": {"server": DEAD_TARGET, "key": "test"},
        },
    ),
    ("StartStream", None),
]
AFTER_STREAM: list[tuple[str, dict[str, Any] | None]] = [
    ("GetStreamStatus", None),
    ("StopStream", None),
]


def shape(value: Any) -> Any:
    """The keys and value types of a JSON value, not the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"  # OBS's JSON library writes 0.0 as 0 and vice versa: not a contract
    return type(value).__name__


@dataclass
class Transcript:
    """What a session saw: one (label, result, code, shape) per request, and event types."""

    steps: list[tuple[str, bool, int, Any]] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    ids: list[Any] = field(
        default_factory=list
    )  # the requestIds echoed, where the client shows them

    def add(self, label: str, d: dict[str, Any]) -> None:
        """Record one response payload."""
        status = d["requestStatus"]
        self.steps.append((label, status["result"], status["code"], shape(d.get("responseData"))))

    def diff(self, other: Transcript) -> list[str]:
        """The differences, one line each (empty: the same)."""
        lines = [
            f"{a[0]}: {a[1:]} != {b[1:]}"
            for a, b in zip(self.steps, other.steps, strict=False)
            if a != b
        ]
        if len(self.steps) != len(other.steps):
            lines.append(f"{len(self.steps)} steps != {len(other.steps)}")
        if self.events != other.events:
            lines.append(
                f"events: only here {sorted(self.events - other.events)}, "
                f"only there {sorted(other.events - self.events)}"
            )
        if self.ids != other.ids:
            lines.append(f"ids {self.ids} != {other.ids}")
        return lines


def _stream_stopped(events: list[tuple[str, dict[str, Any]]]) -> bool:
    return any(
        t == "StreamStateChanged" and d.get("outputState") == "OBS_WEBSOCKET_OUTPUT_STOPPED"
        for t, d in events
    )


def _break_on_program(events: list[tuple[str, dict[str, Any]]]) -> bool:
    return any(
        t == "CurrentProgramSceneChanged" and d.get("sceneName") == "Break" for t, d in events
    )


# ----------------------------------------------------------------------------- simpleobsws


def _payload(r: simpleobsws.RequestResponse) -> dict[str, Any]:
    status = {"result": r.requestStatus.result, "code": r.requestStatus.code}
    return {"requestStatus": status, "responseData": r.responseData}


async def simpleobsws_session(url: str, password: str) -> Transcript:
    """The controller session through simpleobsws 1.4.3 (msgpack subprotocol)."""
    out = Transcript()
    seen: list[tuple[str, dict[str, Any]]] = []
    arrived = asyncio.Condition()

    async def on_event(event_type: str, event_data: dict[str, Any] | None) -> None:
        seen.append((event_type, event_data or {}))
        async with arrived:
            arrived.notify_all()

    async def until(done: Callable[[], bool]) -> None:
        async with asyncio.timeout(5), arrived:
            await arrived.wait_for(done)

    ws = simpleobsws.WebSocketClient(
        url=url,
        password=password,
        identification_parameters=simpleobsws.IdentificationParameters(
            eventSubscriptions=int(EventSubscription.ALL)
        ),
    )
    ws.register_event_callback(on_event)
    await ws.connect()
    try:
        assert await ws.wait_until_identified(timeout=5), "simpleobsws never identified"

        async def call(request_type: str, data: dict[str, Any] | None) -> None:
            r = await ws.call(simpleobsws.Request(request_type, data), timeout=5)
            out.add(request_type, _payload(r))

        for request_type, data in SETUP:
            await call(request_type, data)
        results = await ws.call_batch(
            [simpleobsws.Request(t, d) for t, d in BATCH], timeout=5, halt_on_failure=False
        )
        for (request_type, _), r in zip(BATCH, results, strict=True):
            out.add(f"batch {request_type}", _payload(r))
        await until(lambda: _break_on_program(seen))
        for request_type, data in STATUS:
            await call(request_type, data)
        await until(lambda: _stream_stopped(seen))
        for request_type, data in AFTER_STREAM:
            await call(request_type, data)
        await asyncio.sleep(0.2)  # late events
    finally:
        await ws.disconnect()
    out.events = {t for t, _ in seen if t != "InputVolumeMeters"}
    return out


async def simpleobsws_close_code(url: str, password: str) -> int | None:
    """What simpleobsws sees with this password: None if identified, else the close code."""
    ws = simpleobsws.WebSocketClient(url=url, password=password)
    await ws.connect()
    try:
        if await ws.wait_until_identified(timeout=3):
            return None
        return ws.ws.close_code  # type: ignore[no-any-return]
    finally:
        await ws.disconnect()


# ----------------------------------------------------------------------------- obsws-python


class _Recorder(obsws_python.callback.Callback):  # type: ignore[misc]
    """Takes every event obsws-python's EventClient receives."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def trigger(self, event: str, data: dict[str, Any]) -> None:
        with self.lock:
            self.seen.append((event, data))

    def snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return list(self.seen)


def _wait(done: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for an event"
        time.sleep(0.01)


def obsws_python_session(url: str, password: str) -> Transcript:
    """The controller session through obsws-python 1.8.0 (blocking; integer requestIds)."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    out = Transcript()
    events = obsws_python.EventClient(host=host, port=port, password=password, timeout=5)
    recorder = _Recorder()
    events.callback = recorder
    req = obsws_python.ReqClient(host=host, port=port, password=password, timeout=5)
    raw = req.base_client.ws  # the stock client's own socket, for what it has no verb for

    def call(request_type: str, data: dict[str, Any] | None) -> None:
        d = req.base_client.req(request_type, data)
        out.ids.append(type(d.get("requestId")).__name__)
        out.add(request_type, d)

    def send(payload: dict[str, Any]) -> dict[str, Any]:
        raw.send(json.dumps(payload))
        reply: dict[str, Any] = json.loads(raw.recv())
        return reply

    try:
        for request_type, data in SETUP:
            call(request_type, data)
        # Null is a requestId too: OBS echoes it.
        null = send({"op": 6, "d": {"requestType": "GetStudioModeEnabled", "requestId": None}})
        out.ids.append(null["d"]["requestId"])
        out.add("GetStudioModeEnabled (id null)", null["d"])
        batch = send(
            {
                "op": 8,
                "d": {
                    "requestId": 77,
                    "requests": [
                        {"requestType": t, "requestId": i, **({"requestData": d} if d else {})}
                        for i, (t, d) in enumerate(BATCH)
                    ],
                },
            }
        )
        out.ids.append(batch["d"]["requestId"])
        for (request_type, _), r in zip(BATCH, batch["d"]["results"], strict=True):
            out.ids.append(r.get("requestId"))
            out.add(f"batch {request_type}", r)
        _wait(lambda: _break_on_program(recorder.snapshot()))
        for request_type, data in STATUS:
            call(request_type, data)
        _wait(lambda: _stream_stopped(recorder.snapshot()))
        for request_type, data in AFTER_STREAM:
            call(request_type, data)
        time.sleep(0.2)  # late events
    finally:
        req.disconnect()
        events.disconnect()
        raw.shutdown()
        events.base_client.ws.shutdown()
    out.events = {t for t, _ in recorder.snapshot() if t != "InputVolumeMeters"}
    return out


def obsws_python_refused(url: str, password: str) -> str:
    """What obsws-python raises with this password ("" when it identified)."""
    parts = urlsplit(url)
    # ReqClient's own constructor leaks its socket when Identify fails: the same two
    # steps, with the socket closed.
    client = obsws_python.baseclient.ObsClient(
        host=parts.hostname, port=parts.port, password=password, timeout=3
    )
    try:
        client.authenticate()
    except Exception as exc:
        return type(exc).__name__
    finally:
        client.ws.close()
        client.ws.shutdown()  # close() skips this once the server has hung up
    return ""


# ----------------------------------------------------------------------------- the tests


EXPECTED_EVENTS = {
    "SceneCreated",
    "InputCreated",
    "SceneItemCreated",
    "CurrentSceneTransitionChanged",
    "SceneTransitionStarted",
    "SceneTransitionVideoEnded",
    "CurrentProgramSceneChanged",
    "SceneTransitionEnded",
    "StreamStateChanged",
}


def _check_on_its_own(t: Transcript) -> None:
    """What the session must show whatever it ran against."""
    codes = {label: code for label, _, code, _ in t.steps}
    assert codes["GetVersion"] == 100
    assert codes["SetCurrentProgramScene"] == 600  # the last one of that label: no such scene
    assert codes["batch SetInputSettings"] == 600
    assert codes["batch GetCurrentProgramScene"] == 100
    assert codes["StartStream"] == 100
    assert codes["StopStream"] == 501  # the dead target never went on air
    assert t.events >= EXPECTED_EVENTS


@pytest.fixture
async def sim51(tmp_path: Path) -> Iterator[SimulatedOBS]:  # type: ignore[misc]
    """OBS 29 as the sim plays it (what CI's real OBS is)."""
    async with SimulatedOBS(
        password=SIM_PASSWORD, obs_version="5.1", record_dir=tmp_path / "rec"
    ) as s:
        yield s


@pytest.fixture
async def sim_as_real(tmp_path: Path, real_obs: HeadlessOBS) -> Iterator[SimulatedOBS]:  # type: ignore[misc]
    """The sim's flavour of the real OBS in use: 5.1 for OBS 29, 5.5 for 30.2."""
    flavour = "5.5" if real_obs.version >= (30, 0, 0) else "5.1"
    async with SimulatedOBS(
        password=SIM_PASSWORD, obs_version=flavour, record_dir=tmp_path / "rec"
    ) as s:
        yield s


async def test_simpleobsws_runs_a_controller_session_on_the_sim(sim51: SimulatedOBS) -> None:
    _check_on_its_own(await simpleobsws_session(sim51.url, SIM_PASSWORD))


async def test_obsws_python_runs_a_controller_session_on_the_sim(sim51: SimulatedOBS) -> None:
    t = await asyncio.to_thread(obsws_python_session, sim51.url, SIM_PASSWORD)
    _check_on_its_own(t)
    assert "int" in t.ids
    assert None in t.ids


async def test_wrong_password_is_4009_for_simpleobsws_on_the_sim(sim51: SimulatedOBS) -> None:
    assert await simpleobsws_close_code(sim51.url, "wrong") == 4009
    assert await simpleobsws_close_code(sim51.url, SIM_PASSWORD) is None


async def test_simpleobsws_sees_the_same_on_sim_and_real_obs(
    sim_as_real: SimulatedOBS, real_obs: HeadlessOBS
) -> None:
    on_sim = await simpleobsws_session(sim_as_real.url, SIM_PASSWORD)
    on_real = await simpleobsws_session(real_obs.url, real_obs.password)
    _check_on_its_own(on_real)
    assert on_sim.diff(on_real) == []
    assert await simpleobsws_close_code(real_obs.url, "wrong") == 4009


async def test_obsws_python_sees_the_same_on_sim_and_real_obs(
    sim_as_real: SimulatedOBS, real_obs: HeadlessOBS
) -> None:
    on_sim = await asyncio.to_thread(obsws_python_session, sim_as_real.url, SIM_PASSWORD)
    on_real = await asyncio.to_thread(obsws_python_session, real_obs.url, real_obs.password)
    _check_on_its_own(on_real)
    assert on_sim.diff(on_real) == []
    refused_sim = await asyncio.to_thread(obsws_python_refused, sim_as_real.url, "wrong")
    refused_real = await asyncio.to_thread(obsws_python_refused, real_obs.url, "wrong")
    assert refused_sim == refused_real != ""
