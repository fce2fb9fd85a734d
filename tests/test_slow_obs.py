"""A slow OBS never holds a cue: every answer 0.5-2 s late, cues still leave on time.

The simulated OBS over a real socket answers every request (the cues' batches, the
speaker checks' screenshots, the stream-health polls) a random 0.5-2 s late (seeded). It
stamps each frame that carries a SetCurrentProgramScene (the engine's cue batch: the
lower-third texts, then the switch) the moment it arrives; each must arrive within
TOLERANCE_S of its deadline (lead compensation off), although the screenshots and
polls beside it are seconds from their answers, and the engine waits for a cue's own
answer at most 1 s (and never past the next deadline). A cue still owed an answer when
the next one is due does not hold it; if OBS then carries the earlier one out after the
later one, the engine sends the newest again (that extra frame is not a cue's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from showcaller.checks.health import stream_health
from showcaller.clock import ScaledClock
from showcaller.config import OBS, load_config
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.session import ShowSession
from tests.realobs import HeadlessOBS
from tests.test_modes import provision

from .sim_fixtures import SIM_PASSWORD, seed_event, short_event

# Honest for a loaded 2-core machine (other suites run beside this one); an engine that
# waited for a screenshot's or a poll's answer (0.5-2 s each), or for its own cue's answer
# to the end, would be a second or more late.
TOLERANCE_S = 0.05
SPEED = 30.0  # a one-minute slot passes in two real seconds
SLOTS = 6
# Behind the relay a cue's batch is one answer (held 0.5-2 s once, not per request): a slot
# every real second makes an engine that waited for it miss the next deadline.
REAL_SPEED = 60.0

log = logging.getLogger(__name__)


class ArrivalSim(SimulatedOBS):
    """The simulated OBS, stamping each cue frame (texts + switch) as it arrives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cue_arrivals: list[tuple[float, str, list[str]]] = []

    async def _receive(self, session: Any, raw: str | bytes) -> None:
        arrived = time.monotonic()  # before the server does anything with the frame
        if "SetCurrentProgramScene" in (raw if isinstance(raw, str) else raw.decode()):
            d = json.loads(raw).get("d", {})
            requests = [d, *d.get("requests", ())]
            scene = next(
                r["requestData"]["sceneName"]
                for r in requests
                if r.get("requestType") == "SetCurrentProgramScene"
            )
            texts = [
                r["requestData"]["inputName"]
                for r in requests
                if r.get("requestType") == "SetInputSettings"
            ]
            self.cue_arrivals.append((arrived, scene, texts))
        await super()._receive(session, raw)


async def test_every_answer_two_seconds_late_and_cues_still_leave_on_time(
    tmp_path: Path,
) -> None:
    async with ArrivalSim(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as sim:
        path = tmp_path / "event.toml"
        path.write_text(short_event(sim.url, SLOTS, checks=True), encoding="utf-8")
        cfg = load_config(path)
        seed_event(sim, cfg)
        sessions: list[ShowSession] = []

        def slow_from_now(session: ShowSession) -> None:
            # After the preflight (dozens of requests): from the show's start on, every
            # answer is late. Stream health polls GetStats/GetStreamStatus every real second
            # (a rehearsal has no health poller of its own; this one is the live one).
            sessions.append(session)
            session.attach("stream health", stream_health(cfg.health))
            sim.faults.delay(None, 0.5, up_to=2.0, seed=22)

        report = await rehearse(
            cfg,
            RehearsalOptions(
                obs=OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD}),
                speed=SPEED,
                journal=tmp_path / "r.jsonl",
                # Lead compensation off: a cue is due exactly at its deadline. (On, the lead
                # would grow to OBS's slow landing, up to 2 s, and cues would leave early.)
                lead=False,
            ),
            on_session=slow_from_now,
        )
        sim.faults.clear()
        seen = dict(sim.requests_seen)

    [session] = sessions
    showtime = session.show.time
    clock = showtime.clock
    assert isinstance(clock, ScaledClock)
    # The slow answers were there beside the cues: screenshots of the speaker on air and
    # the health polls, each answered 0.5-2 s late.
    assert seen.get("GetSourceScreenshot", 0) >= 3, seen
    assert seen.get("GetStats", 0) + seen.get("GetStreamStatus", 0) >= 3, seen
    assert [c.slot_index for c in report.cues] == list(range(SLOTS))
    late = []
    for cue, (arrived, scene, texts) in zip(
        report.cues, _cue_frames(report.cues, sim.cue_arrivals), strict=True
    ):
        assert scene == cue.scene
        assert texts == ["Lower Third Name", "Lower Third Title", "Lower Third Hashtag"]
        assert cue.lead == 0
        late.append(arrived - clock.real_monotonic(showtime.monotonic_for(cue.deadline)))
    log.info("cue frames' lateness (ms): %s", [round(x * 1000, 1) for x in late])
    assert all(-0.005 <= x <= TOLERANCE_S for x in late), [round(x * 1000, 1) for x in late]


def _cue_frames(cues: list[Any], arrivals: list[Any]) -> list[Any]:
    """Each cue's own frame: in order, the next one switching to its scene (a newest cue
    sent again after OBS carried out an older one late is not a cue's frame)."""
    frames, rest = [], iter(arrivals)
    for cue in cues:
        frame = next((a for a in rest if a[1] == cue.scene), None)
        assert frame is not None, (cue, arrivals)
        frames.append(frame)
    assert len(arrivals) <= 2 * len(cues), arrivals  # one resend per cue at most
    return frames


class DelayingRelay:
    """A websocket relay in front of a real OBS: passes the client's frames on at once
    (stamping each cue frame as it arrives) and OBS's events too, but holds each of OBS's
    answers (op 7, 9) a random 0.5-2 s (seeded) once `slow` is set, in the order OBS sent
    them (as a slow link or a busy OBS would: an answer never overtakes an earlier one)."""

    def __init__(self, obs_url: str, seed: int) -> None:
        self.obs_url = obs_url
        self.slow = False
        self.cue_arrivals: list[tuple[float, str]] = []
        self._random = random.Random(seed)
        self._runner: web.AppRunner | None = None
        self._held: set[asyncio.Task[None]] = set()
        self.url = ""

    async def __aenter__(self) -> DelayingRelay:
        app = web.Application()
        app.router.add_get("/", self._serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._held):
            task.cancel()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        client = web.WebSocketResponse(protocols=("obswebsocket.json",))
        await client.prepare(request)
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(self.obs_url, protocols=("obswebsocket.json",)) as obs,
        ):
            answers: asyncio.Queue[tuple[float, str]] = asyncio.Queue()

            async def answer_in_order() -> None:
                while True:
                    due, text = await answers.get()
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    if not client.closed:
                        with contextlib.suppress(ConnectionError):
                            await client.send_str(text)

            async def to_client() -> None:
                async for msg in obs:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    if self.slow and json.loads(msg.data).get("op") in (7, 9):
                        due = time.monotonic() + self._random.uniform(0.5, 2.0)
                        answers.put_nowait((due, msg.data))
                    elif not client.closed:
                        await client.send_str(msg.data)
                await client.close()

            held = asyncio.create_task(answer_in_order())
            self._held.add(held)
            held.add_done_callback(self._held.discard)
            back = asyncio.create_task(to_client())
            async for msg in client:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                if "SetCurrentProgramScene" in msg.data:
                    arrived = time.monotonic()
                    d = json.loads(msg.data)["d"]
                    for r in [d, *d.get("requests", ())]:
                        if r.get("requestType") == "SetCurrentProgramScene":
                            self.cue_arrivals.append((arrived, r["requestData"]["sceneName"]))
                await obs.send_str(msg.data)
            back.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await back
        return client


async def test_real_obs_answering_two_seconds_late_never_holds_a_cue(
    real_obs: HeadlessOBS, tmp_path: Path
) -> None:
    async with DelayingRelay(real_obs.url, seed=22) as relay:
        path = tmp_path / "event.toml"
        path.write_text(short_event(relay.url, SLOTS, checks=True), encoding="utf-8")
        cfg = load_config(path)
        await provision(real_obs.url, real_obs.password, cfg)
        sessions: list[ShowSession] = []

        def slow_from_now(session: ShowSession) -> None:
            sessions.append(session)
            session.attach("stream health", stream_health(cfg.health))
            relay.slow = True

        report = await rehearse(
            cfg,
            RehearsalOptions(
                obs=OBS.model_validate({"url": relay.url, "password": real_obs.password}),
                speed=REAL_SPEED,
                journal=tmp_path / "r.jsonl",
                lead=False,
            ),
            on_session=slow_from_now,
        )
    [session] = sessions
    showtime = session.show.time
    clock = showtime.clock
    assert isinstance(clock, ScaledClock)
    assert [c.slot_index for c in report.cues] == list(range(SLOTS))
    late = []
    for cue, (arrived, scene) in zip(
        report.cues, _cue_frames(report.cues, relay.cue_arrivals), strict=True
    ):
        assert scene == cue.scene
        late.append(arrived - clock.real_monotonic(showtime.monotonic_for(cue.deadline)))
    log.info("cue frames' lateness (ms): %s", [round(x * 1000, 1) for x in late])
    assert all(-0.005 <= x <= TOLERANCE_S for x in late), [round(x * 1000, 1) for x in late]
