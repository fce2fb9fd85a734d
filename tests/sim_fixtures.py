"""Pytest fixtures for the simulated OBS (import them into a test module)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from showcaller.clock import VirtualClock
from showcaller.config import EventConfig
from showcaller.obs import protocol
from showcaller.obs.sim import SimulatedOBS
from showcaller.stage.needs import needs_of

SIM_PASSWORD = "sim-secret"


def seed_event(sim: SimulatedOBS, cfg: EventConfig) -> None:
    """Give `sim` what the event needs: its scenes, lower thirds and live speaker feeds."""
    sim.use_cases.seed_show(needs_of(cfg))


def short_event(url: str, slots: int, *, seconds: int = 60, checks: bool = False) -> str:
    """An event file of `slots` slots of `seconds` each, talk and lightning talk in turn, for
    speakers A and B (with video and audio inputs and one-second checks if `checks`)."""
    lines = [
        "[event]",
        'title = "Short event"',
        "date = 2030-01-01",
        'timezone = "UTC"',
        'hashtag = "#short"',
        "",
        "[obs]",
        f'url = "{url}"',
        'transition = "Cut"',
        "transition_ms = 50",
        "",
        "[scenes]",
        'talk = "Talk"',
        'lt = "Lightning Talk"',
        "",
        "[lower_third]",
        'speaker_input = "Lower Third Name"',
        'title_input = "Lower Third Title"',
        'hashtag_input = "Lower Third Hashtag"',
        "",
        "[record]",
        "enabled = false",
        "",
    ]
    if checks:
        lines += ["[checks]", "window_seconds = 1", "frozen_seconds = 1", ""]
    for sp in ("a", "b"):
        lines += [
            "[[speakers]]",
            f'id = "{sp}"',
            f'name = "Speaker {sp.upper()}"',
        ]
        if checks:
            lines += [
                f'video_input = "Speaker {sp.upper()} Video"',
                f'audio_input = "Speaker {sp.upper()} Audio"',
            ]
        lines.append("")
    for i in range(slots):
        lines += [
            "[[timetable.slots]]",
            f'kind = "{"talk" if i % 2 == 0 else "lt"}"',
            f'title = "Slot {i + 1}"',
            f'speakers = ["{"a" if i % 2 == 0 else "b"}"]',
            *(['start = "00:05"'] if i == 0 else []),
            f'duration = "{seconds}s"',
            "",
        ]
    return "\n".join(lines)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimulatedOBS]:
    """A running simulated OBS as it is by default (OBS 30, obs-websocket 5.5), with a
    password, on a free port."""
    async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "recordings") as s:
        yield s


@pytest.fixture
async def sim51(tmp_path: Path) -> AsyncIterator[SimulatedOBS]:
    """A running simulated OBS 29 (obs-websocket 5.1: no split recording, no chapters,
    no UUIDs), for tests of how showcaller copes with an older OBS."""
    async with SimulatedOBS(
        password=SIM_PASSWORD, obs_version="5.1", record_dir=tmp_path / "recordings"
    ) as s:
        yield s


@pytest.fixture
async def sim55(tmp_path: Path) -> AsyncIterator[SimulatedOBS]:
    """A running simulated OBS 30 (obs-websocket 5.5), for tests that need 5.5 whatever
    the default."""
    async with SimulatedOBS(
        password=SIM_PASSWORD, obs_version="5.5", record_dir=tmp_path / "recordings"
    ) as s:
        yield s


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """A clock that moves only when the test advances it."""
    return VirtualClock(datetime(2026, 5, 1, 18, 0, tzinfo=UTC))


@pytest.fixture
async def vsim(tmp_path: Path, virtual_clock: VirtualClock) -> AsyncIterator[SimulatedOBS]:
    """A simulated OBS on a virtual clock: transitions, outputs and meters wait for advance()."""
    async with SimulatedOBS(
        password=SIM_PASSWORD, clock=virtual_clock, record_dir=tmp_path / "recordings"
    ) as s:
        yield s


@pytest.fixture
async def vsim51(tmp_path: Path, virtual_clock: VirtualClock) -> AsyncIterator[SimulatedOBS]:
    """`vsim` as OBS 29 (obs-websocket 5.1)."""
    async with SimulatedOBS(
        password=SIM_PASSWORD,
        obs_version="5.1",
        clock=virtual_clock,
        record_dir=tmp_path / "recordings",
    ) as s:
        yield s


class RawClient:
    """A bare obs-websocket client over aiohttp, for protocol-level tests."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.session, self.ws = session, ws
        self.hello: dict[str, Any] = {}
        self._n = 0
        self._events: list[dict[str, Any]] = []  # events that arrived while awaiting a response

    @classmethod
    async def open(cls, url: str) -> RawClient:
        """Connect and read Hello."""
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(url, protocols=("obswebsocket.json",))
        except BaseException:
            await session.close()
            raise
        client = cls(session, ws)
        client.hello = await client.receive()
        return client

    @classmethod
    async def identified(
        cls, url: str, password: str | None = SIM_PASSWORD, subscriptions: int | None = None
    ) -> RawClient:
        """Connect, Identify (with the password if challenged), read Identified."""
        client = await cls.open(url)
        await client.identify(password, subscriptions)
        assert (await client.receive())["op"] == protocol.OpCode.IDENTIFIED
        return client

    async def identify(
        self, password: str | None, subscriptions: int | None = None, rpc: int = 1
    ) -> None:
        """Send Identify."""
        auth = self.hello["d"].get("authentication")
        d: dict[str, Any] = {"rpcVersion": rpc}
        if auth and password is not None:
            d["authentication"] = protocol.auth_string(password, auth["salt"], auth["challenge"])
        if subscriptions is not None:
            d["eventSubscriptions"] = subscriptions
        await self.send({"op": 1, "d": d})

    async def send(self, obj: Any) -> None:
        """Send one JSON frame (or raw text)."""
        await self.ws.send_str(obj if isinstance(obj, str) else json.dumps(obj))

    async def receive(self, wait: float = 5.0) -> dict[str, Any]:
        """The next JSON frame; AssertionError if the socket closed instead."""
        msg = await asyncio.wait_for(self.ws.receive(), wait)
        assert msg.type == aiohttp.WSMsgType.TEXT, f"got {msg.type} {msg.data!r} {msg.extra!r}"
        data: dict[str, Any] = json.loads(msg.data)
        return data

    async def closed_with(self, wait: float = 5.0) -> tuple[int | None, str]:
        """Wait for the server to close; (close code, reason)."""
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), wait)
            if msg.type == aiohttp.WSMsgType.CLOSE:
                # The code the server sent (close_code can turn into 1006 when our
                # reply finds the socket already gone).
                return int(msg.data), msg.extra or ""
            if msg.type == aiohttp.WSMsgType.CLOSED:
                return self.ws.close_code, ""
            if msg.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                return self.ws.close_code, ""

    async def request(
        self, request_type: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send a request; the response's `d` (events before it are skipped)."""
        self._n += 1
        rid = f"r{self._n}"
        d: dict[str, Any] = {"requestType": request_type, "requestId": rid}
        if data is not None:
            d["requestData"] = data
        await self.send({"op": 6, "d": d})
        while True:
            msg = await self.receive()
            if msg["op"] == protocol.OpCode.REQUEST_RESPONSE and msg["d"]["requestId"] == rid:
                return dict(msg["d"])
            if msg["op"] == protocol.OpCode.EVENT:
                self._events.append(msg["d"])

    async def next_event(self, *types: str, wait: float = 5.0) -> dict[str, Any]:
        """The next event (of one of `types`, if given); its `d`."""
        while self._events:
            event = self._events.pop(0)
            if not types or event["eventType"] in types:
                return event
        while True:
            msg = await self.receive(wait)
            if msg["op"] == protocol.OpCode.EVENT and (not types or msg["d"]["eventType"] in types):
                return dict(msg["d"])

    async def close(self) -> None:
        """Close socket and session."""
        await self.ws.close()
        await self.session.close()


@pytest.fixture
async def raw(sim: SimulatedOBS) -> AsyncIterator[RawClient]:
    """An identified raw client of `sim`, subscribed to every low-volume event."""
    client = await RawClient.identified(sim.url)
    yield client
    await client.close()


@pytest.fixture
async def raw51(sim51: SimulatedOBS) -> AsyncIterator[RawClient]:
    """An identified raw client of `sim51` (OBS 29: answers and events without UUIDs)."""
    client = await RawClient.identified(sim51.url)
    yield client
    await client.close()
