"""Many open timer feeds during a sped-up show: each gets the show's last state, every cue
lands, no feed sends more than one state per FEED_EVERY_S, and no feed is left open on
the server once the clients have gone (or the show).

The web app over a real socket, attached to a real rehearsal on the simulated OBS (as
tests/test_web.py); the clients are aiohttp readers of /api/events in this process. The
numbers (cue lateness with 500 feeds vs none, /api/state under that load) are
bench/web_load.py's.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from showcaller.config import OBS, load_config
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.session import ShowSession
from showcaller.surfaces.web import FEED_EVERY_S, WebAccess, WebApp

from .sim_fixtures import SIM_PASSWORD, seed_event, short_event

CLIENTS = 300
LEAVE_EARLY = 10  # every tenth client closes its feed after three states
SLOTS = 6
SPEED = 60.0  # a cue every real second


async def _read_feed(
    http: aiohttp.ClientSession, url: str, *, leave_early: bool
) -> tuple[dict[str, Any] | None, int, float]:
    """The last state envelope the feed sent before its `end` event (None: it left early),
    how many states it sent, and over how many real seconds."""
    last: dict[str, Any] | None = None
    states = 0
    started = time.monotonic()
    async with http.get(f"{url}/api/events") as response:
        assert response.status == 200
        buffer = b""
        async for chunk in response.content.iter_any():
            buffer += chunk
            while (cut := buffer.find(b"\n\n")) >= 0:
                block, buffer = buffer[:cut], buffer[cut + 2 :]
                if block.startswith(b"event: state\ndata: "):
                    last = json.loads(block[len(b"event: state\ndata: ") :])
                    states += 1
                    if leave_early and states == 3:
                        return None, states, time.monotonic() - started
                elif block.startswith(b"event: end"):
                    return last, states, time.monotonic() - started
    raise AssertionError("the feed closed without its end event")


async def test_300_feeds_get_the_last_state_every_cue_lands_and_none_stays_open(
    tmp_path: Path,
) -> None:
    async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as sim:
        path = tmp_path / "event.toml"
        # A first slot of 5 real seconds: the feeds open while it is on air.
        path.write_text(short_event(sim.url, SLOTS), encoding="utf-8")
        text = path.read_text(encoding="utf-8").replace('duration = "60s"', 'duration = "300s"', 1)
        path.write_text(text, encoding="utf-8")
        cfg = load_config(path)
        seed_event(sim, cfg)
        access = WebAccess(
            host="127.0.0.1", port=0, control_token="t" * 32, timer_token=None, generated=False
        )
        app = WebApp(cfg, access, say=lambda _: None)
        sessions: list[ShowSession] = []

        def on_session(session: ShowSession) -> None:
            sessions.append(session)
            app.attach(session)

        options = RehearsalOptions(
            obs=OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD}),
            speed=SPEED,
            journal=tmp_path / "r.jsonl",
            lead=False,
        )
        show = asyncio.create_task(rehearse(cfg, options, on_session=on_session))
        async with asyncio.timeout(15):
            await app.ready.wait()
        url = f"http://127.0.0.1:{app.port}"
        peak = 0

        async def count() -> None:
            nonlocal peak
            while True:
                peak = max(peak, app.open_feeds)
                await asyncio.sleep(0.05)

        counter = asyncio.create_task(count())
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            feeds = [
                _read_feed(http, url, leave_early=i % LEAVE_EARLY == 0) for i in range(CLIENTS)
            ]
            lasts = await asyncio.wait_for(asyncio.gather(*feeds), 30)
        report = await asyncio.wait_for(show, 30)
        counter.cancel()
        program = sim.model.program

    # They were open at once, and none is left open (the show's end closed the rest).
    assert peak >= CLIENTS * 0.9, peak
    assert app.open_feeds == 0
    # Every client that stayed got the show's last state: ended, no slot on air.
    stayed = [read for i, read in enumerate(lasts) if i % LEAVE_EARLY != 0]
    assert len(stayed) == CLIENTS - CLIENTS // LEAVE_EARLY
    for last, states, seconds in stayed:
        assert last is not None
        assert last["state"]["show"]["phase"] == "ended", last["state"]["show"]["phase"]
        # At x60 the show publishes ~60 states a second; a feed sends the newest at most
        # every FEED_EVERY_S (the first at once, the end's last state included).
        assert states <= seconds / FEED_EVERY_S + 2, (states, seconds)
    # Every cue was sent without error and landed in OBS.
    assert [c.slot_index for c in report.cues] == list(range(SLOTS))
    assert all(c.error is None and c.landed is not None for c in report.cues), report.cues
    assert program == "Lightning Talk"  # the last slot's scene
