"""Several rooms on one web server (issue 21): each room's own timer, host page, state and
commands under /rooms/<room>/, an overview of every room, one control token for the
process and a read-only link per room. What a host (and a speaker) sees: in aiohttp as a
browser would ask, and in a real headless Chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from showcaller.modes.prepare import RehearsalOptions
from showcaller.modes.rooms import Room, load_rooms, rehearse_rooms
from showcaller.show.session import ShowSession
from showcaller.show.state import ShowReport
from showcaller.surfaces.metrics import Metrics
from showcaller.surfaces.rooms_web import room_access, room_timer_token, serving_rooms
from showcaller.surfaces.web import WebAccess, WebApp, timer_token_for
from tests.test_rooms import EXAMPLE, ROOM_B, _cut
from tests.test_web_browser import _text, _until, browser  # noqa: F401

CONTROL = "control-token-0123456789abcdef"
# Reading takes a token here, as on a non-loopback address (the server still binds 127.0.0.1).
ACCESS = WebAccess("127.0.0.1", 0, CONTROL, timer_token_for(CONTROL), generated=False)
ROOMS = ("main", "hall-b")


@dataclass
class TwoRooms:
    url: str
    sessions: dict[str, ShowSession]
    reports: asyncio.Task[list[ShowReport]]

    async def end(self) -> list[ShowReport]:
        """End both shows by the host's command, as a host would."""
        async with aiohttp.ClientSession(headers=_bearer(CONTROL)) as http:
            for room in ROOMS:
                url = f"{self.url}/rooms/{room}/api/commands"
                async with http.post(url, json={"command": "end"}) as r:
                    assert r.status == 200, await r.text()
        return await self.reports


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def two_rooms(tmp_path: Path, speed: float) -> AsyncIterator[TwoRooms]:
    """Two rooms rehearsing on two simulated OBS, served as `rehearse a.toml b.toml` serves
    them; yields once both have a slot on air."""
    rooms = load_rooms(
        [_cut(EXAMPLE, tmp_path, "main"), _cut(ROOM_B, tmp_path, "b")], obs_url="sim"
    )
    metrics = Metrics()
    pages = {r.name: WebApp(r.cfg, room_access(ACCESS, r.name)) for r in rooms}
    sessions: dict[str, ShowSession] = {}
    both = asyncio.Event()

    def on_session(room: Room, session: ShowSession) -> None:
        sessions[room.name] = session
        if len(sessions) == len(rooms):
            both.set()
        metrics.add_room(room, session)
        pages[room.name].attach_mounted(session)

    def options(room: Room) -> RehearsalOptions:
        return RehearsalOptions(obs=room.obs, speed=speed)

    said: list[str] = []
    async with serving_rooms(metrics, ACCESS, say=said.append, pages=pages) as port:
        assert port is not None
        task = asyncio.create_task(rehearse_rooms(rooms, options, on_session=on_session))
        try:
            async with asyncio.timeout(10):
                await both.wait()
                for session in sessions.values():
                    async for state in session.feed():
                        if state.show.on_air is not None:
                            break
            # The start says every room's pages, each timer with its own read link.
            assert any(f"/rooms/hall-b/timer#token={_room_token('hall-b')}" in s for s in said)
            yield TwoRooms(f"http://127.0.0.1:{port}", sessions, task)
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _room_token(room: str) -> str:
    return room_timer_token(CONTROL, room)


async def test_each_room_serves_its_own_pages_state_and_commands(tmp_path: Path) -> None:
    async with two_rooms(tmp_path, speed=20) as show:
        async with aiohttp.ClientSession() as http:
            # The pages and their files are the one-room app's, under the room's prefix.
            for room in ROOMS:
                async with http.get(f"{show.url}/rooms/{room}/", allow_redirects=False) as r:
                    assert (r.status, r.headers["Location"]) == (302, f"/rooms/{room}/timer")
                for page in ("timer", "control", "static/feed.js", "static/control.css"):
                    async with http.get(f"{show.url}/rooms/{room}/{page}") as r:
                        assert r.status == 200, page
            # A room's read link reads that room only; the process's reads every room.
            b_state = f"{show.url}/rooms/hall-b/api/state"
            async with http.get(b_state, headers=_bearer(_room_token("hall-b"))) as r:
                assert r.status == 200
                assert (await r.json())["show"]["title"] == show.sessions["hall-b"].state.show.title
            async with http.get(b_state, headers=_bearer(_room_token("main"))) as r:
                assert r.status == 401
            async with http.get(f"{show.url}/api/rooms", headers=_bearer(_room_token("main"))) as r:
                assert r.status == 401
            async with http.get(
                f"{show.url}/api/rooms", headers=_bearer(ACCESS.timer_token or "")
            ) as r:
                lines = {line["room"]: line for line in (await r.json())["rooms"]}
            assert set(lines) == set(ROOMS)
            for room in ROOMS:
                assert lines[room]["on_air"], lines[room]
                assert lines[room]["link"] == "ready"
            # A command to one room moves that room only; a read link cannot send one.
            command = {"command": "message", "text": "two minutes, please"}
            url = f"{show.url}/rooms/hall-b/api/commands"
            async with http.post(url, json=command, headers=_bearer(_room_token("hall-b"))) as r:
                assert r.status == 401
            async with http.post(url, json=command, headers=_bearer(CONTROL)) as r:
                assert r.status == 200, await r.text()
        assert show.sessions["hall-b"].state.show.message == "two minutes, please"
        assert show.sessions["main"].state.show.message == ""
        reports = await show.end()
    assert all(r.ended for r in reports)


@pytest.mark.slow
async def test_the_overview_shows_every_room_and_each_control_page_runs_its_own_room(
    tmp_path: Path,
    browser: Any,  # noqa: F811
) -> None:
    async with two_rooms(tmp_path, speed=5) as show:
        phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        overview = await phone.new_page()
        await overview.goto(f"{show.url}/overview#token={ACCESS.timer_token}")
        for room in ROOMS:
            on_air = show.sessions[room].state.show.on_air
            assert on_air is not None
            await _text(overview, f'[data-room="{room}"] .onair', on_air.title)
            await _text(overview, f'[data-room="{room}"] .link', "ready")
        # Each room's host page (one control token) runs its own room, and only it.
        control = await browser.new_page()
        await control.goto(f"{show.url}/rooms/hall-b/control#token={CONTROL}")
        await _until(control, "document.body.dataset.feed === 'live'")
        b_title = show.sessions["hall-b"].state.show.title
        await _text(control, "#event", b_title)
        main_before = show.sessions["main"].state.show.on_air
        b_before = show.sessions["hall-b"].state.show.on_air
        assert main_before is not None
        assert b_before is not None
        await control.click("#btn-next")
        await _text(control, "#result", "✓")
        b_after = show.sessions["hall-b"].state.show.on_air
        assert b_after is not None
        assert b_after.index == b_before.index + 1
        main_after = show.sessions["main"].state.show.on_air
        assert main_after is not None
        assert main_after.index == main_before.index
        # The overview follows: room B's new slot.
        await _text(overview, '[data-room="hall-b"] .onair', b_after.title)
        # The speaker timer of room B, opened with its own read link.
        timer = await browser.new_page()
        await timer.goto(f"{show.url}/rooms/hall-b/timer#token={_room_token('hall-b')}")
        await _text(timer, "#title", b_after.title)
        await show.end()
