"""Several rooms, one host (issue 21): N event files run in one process, each on its own OBS.

What a host sees: each room switches on its own timetable and writes its own journal; a
room whose OBS goes away (or whose attachment fails) never moves another room's cues;
`live` asks once, listing every room, and refuses naming the room that cannot go on air.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from showcaller.cli import main
from showcaller.errors import UsageError
from showcaller.interop.runs import last_run
from showcaller.interop.timeline import render
from showcaller.modes import LiveOptions, RehearsalOptions
from showcaller.modes.rooms import Room, live_rooms, load_rooms, rehearse_rooms
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.context import ShowContext
from showcaller.show.journal import read_journal
from showcaller.show.plan import ShowPlan
from showcaller.show.session import ShowSession
from showcaller.show.state import ShowReport
from showcaller.surfaces.metrics import Metrics
from showcaller.surfaces.rooms_web import serving_rooms
from showcaller.surfaces.web import WebAccess, WebApp
from tests.sim_fixtures import SIM_PASSWORD, seed_event

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
ROOM_B = ROOT / "config.room-b.example.toml"
SPEED = 3000
# Real milliseconds from a cue's deadline to OBS's change event: the sim lands a Cut at once
# (a few ms when the machine is idle). A room held up by another's dead OBS would wait for a
# request timeout or a reconnect: seconds. The margin is for two test workers on 2 cores.
ON_TIME_MS = 250.0


def _cut(source: Path, folder: Path, name: str, **replace: str) -> Path:
    """A copy of `source` with Cut transitions (so it runs 3000 times faster than real time)."""
    text = source.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    for old, new in replace.items():
        text = text.replace(old, new)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rehearsal(room: Room) -> RehearsalOptions:
    return RehearsalOptions(obs=room.obs, speed=SPEED)


def _late_ms(report: ShowReport) -> list[float]:
    """Deadline → OBS's change event, real ms, for every cue that switched the scene."""
    return [
        (c.landed - c.deadline) / report.speed * 1000 for c in report.cues if c.landed is not None
    ]


# ------------------------------------------------------------------------ the rooms


def test_each_room_is_named_by_its_file_or_its_event_room(tmp_path: Path) -> None:
    rooms = load_rooms([_cut(EXAMPLE, tmp_path, "Main Hall"), _cut(ROOM_B, tmp_path, "b")])
    assert [r.name for r in rooms] == ["main-hall", "hall-b"]
    with pytest.raises(UsageError, match="two rooms are called 'hall-b'"):
        load_rooms([_cut(ROOM_B, tmp_path, "b"), _cut(ROOM_B, tmp_path, "c")])


def test_a_rooms_obs_password_comes_from_the_variable_its_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = {'url = "sim"': 'url = "ws://127.0.0.1:4455"'}
    a = _cut(EXAMPLE, tmp_path, "a", **real)
    b = _cut(ROOM_B, tmp_path, "b", **real)
    monkeypatch.delenv("ROOM_B_OBS_PASSWORD", raising=False)
    with pytest.raises(UsageError, match="room hall-b: ROOM_B_OBS_PASSWORD is not set"):
        load_rooms([a, b])
    monkeypatch.setenv("ROOM_B_OBS_PASSWORD", "room-b-secret")
    _, room_b = load_rooms([a, b])
    assert room_b.obs.password.get_secret_value() == "room-b-secret"
    # With several rooms a password written in a file is refused, with its line.
    written = _cut(EXAMPLE, tmp_path, "c", **{'url = "sim"': 'url = "sim"\npassword = "x"'})
    with pytest.raises(UsageError, match=r"c\.toml:\d+: obs\.password: with several rooms"):
        load_rooms([written, b])


def test_validate_takes_every_room_and_names_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(EXAMPLE), str(ROOM_B)]) == 0
    out = capsys.readouterr().out
    assert "room config-example" in out
    assert "room hall-b" in out
    assert "ハンズオン: 手元で LoRA を学習する" in out


def test_a_room_files_cards_and_calendar_name_the_room(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cards", str(ROOM_B)]) == 0
    cards = capsys.readouterr().out
    assert cards.startswith("# [hall-b] Machine Learning Casual Talks #20 — Room B (hands-on) — ")
    assert main(["ics", str(ROOM_B), "-o", str(tmp_path / "b.ics")]) == 0
    ics = (tmp_path / "b.ics").read_text(encoding="utf-8")
    assert "X-WR-CALNAME:[hall-b] Machine Learning Casual Talks #20" in ics
    # A file without [event] room: its exports are as before.
    assert main(["cards", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.startswith("# Machine Learning Casual Talks #20 — ")


# ------------------------------------------------------------------------ rehearsal


async def test_two_rooms_rehearse_together_each_on_its_own_simulated_obs(tmp_path: Path) -> None:
    rooms = load_rooms(
        [_cut(EXAMPLE, tmp_path, "main"), _cut(ROOM_B, tmp_path, "b")], obs_url="sim"
    )
    seen: dict[str, ShowSession] = {}
    metrics = Metrics()

    both = asyncio.Event()

    def on_session(room: Room, session: ShowSession) -> None:
        seen[room.name] = session
        metrics.add_room(room, session)
        if len(seen) == 2:
            both.set()

    async def look() -> tuple[str, str]:
        """The rooms' page and /metrics as a browser and a scraper see them mid-show."""
        await both.wait()
        for session in seen.values():
            async for state in session.feed():
                if state.show.on_air is not None:
                    break
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as page:
                listing = await page.text()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as scrape:
                return listing, await scrape.text()

    access = WebAccess("127.0.0.1", 0, "control-token-0123456789abcdef", None, generated=False)
    async with serving_rooms(metrics, access, say=lambda _: None) as port:
        looking = asyncio.create_task(look())
        reports = await rehearse_rooms(rooms, _rehearsal, on_session=on_session)
        listing, scraped = await looking
    assert "<td>main</td>" in listing
    assert "<td>hall-b</td>" in listing
    families = _families(scraped)
    for name in ("main", "hall-b"):
        assert _value(families, "showcaller_obs_link_up", room=name) == 1
        assert _value(families, "showcaller_current_slot", room=name) >= 1
    for room, report in zip(rooms, reports, strict=True):
        assert report.ok, (room.name, report.problems)
        assert report.ended
        assert [c.scene for c in report.cues] == [s.scene for s in room.cfg.slots_resolved()]
    assert [s.name for s in seen.values()] == ["main", "hall-b"]
    # Each room wrote its own journal beside its own file, of its own plan only.
    for name, room in zip(("main", "b"), rooms, strict=True):
        entries = list(read_journal(tmp_path / f"{name}.rehearsal.jsonl"))
        assert {e.plan for e in entries} == {ShowPlan.of(room.cfg).hash}
        assert sum(e.kind == "cue" for e in entries) >= len(room.cfg.slots_resolved())
    # Each room's report (from its journal alone) is headed with the room.
    main_report = render(last_run(tmp_path / "main.rehearsal.jsonl"), "md")
    assert main_report.startswith("# [main] Machine Learning Casual Talks #20\n")
    b_report = render(last_run(tmp_path / "b.rehearsal.jsonl"), "html")
    assert "<h1>[hall-b] Machine Learning Casual Talks #20 — Room B (hands-on)</h1>" in b_report


async def test_a_room_whose_obs_stops_mid_show_never_moves_the_other_rooms_cues(
    tmp_path: Path,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        sims = [
            await stack.enter_async_context(
                SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / f"rec{i}")
            )
            for i in range(2)
        ]
        paths = [
            _cut(EXAMPLE, tmp_path, "main", **{'url = "sim"': f'url = "{sims[0].url}"'}),
            _cut(ROOM_B, tmp_path, "b", **{'url = "sim"': f'url = "{sims[1].url}"'}),
        ]
        for path in paths:  # the password of each OBS, from the room's own variable
            text = path.read_text(encoding="utf-8")
            if "password_env" not in text:
                text = text.replace("[obs]\n", '[obs]\npassword_env = "ROOM_A_OBS_PASSWORD"\n')
            path.write_text(text, encoding="utf-8")
        with pytest.MonkeyPatch.context() as env:
            env.setenv("ROOM_A_OBS_PASSWORD", SIM_PASSWORD)
            env.setenv("ROOM_B_OBS_PASSWORD", SIM_PASSWORD)
            rooms = load_rooms(paths)
        for sim, room in zip(sims, rooms, strict=True):
            seed_event(sim, room.cfg)

        @contextlib.asynccontextmanager
        async def breaks_at_once(_: ShowContext) -> AsyncIterator[None]:
            raise RuntimeError("a surface of room B that fails")
            yield

        async def stop_room_b_obs() -> None:
            await asyncio.sleep(0.4)  # room B is on air by then, and far from its end
            await sims[1].stop()

        metrics = Metrics()

        def on_session(room: Room, session: ShowSession) -> None:
            metrics.add_room(room, session)
            if room.name == "hall-b":
                session.attach("a failing attachment", breaks_at_once)

        stopper = asyncio.create_task(stop_room_b_obs())
        reports = await rehearse_rooms(rooms, _rehearsal, on_session=on_session)
        await stopper
    main_room, room_b = reports
    # Room B: its OBS went away mid-show and its attachment failed, each said as a problem.
    assert not room_b.ok
    assert any("a failing attachment" in p for p in room_b.problems)
    assert any(c.error is not None for c in room_b.cues)
    # The main room: every cue landed on time, as if room B were fine.
    assert main_room.ok, main_room.problems
    assert all(c.error is None for c in main_room.cues)
    late = _late_ms(main_room)
    assert len(late) >= 10
    assert max(late) < ON_TIME_MS, late
    # What the producer's dashboard reads: which room has problems, how late each room's cues.
    families = _families(metrics.exposition())
    assert families["showcaller_cue_lateness_seconds"].type == "histogram"
    assert families["showcaller_problems"].type == "counter"
    assert _value(families, "showcaller_problems_total", room="hall-b") == len(room_b.problems)
    assert _value(families, "showcaller_problems_total", room="main") == 0
    for name, report in (("main", main_room), ("hall-b", room_b)):
        n = len(report.cues)
        assert _value(families, "showcaller_cue_lateness_seconds_count", room=name) == n
        assert _value(families, "showcaller_show_ended", room=name) == 1


# ------------------------------------------------------------------------------ live


async def test_live_asks_once_listing_every_room(tmp_path: Path) -> None:
    rooms = load_rooms(
        [_cut(EXAMPLE, tmp_path, "main"), _cut(ROOM_B, tmp_path, "b")], obs_url="sim"
    )
    asked: list[str] = []

    async def no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(UsageError, match="not confirmed"):
        await live_rooms(rooms, lambda r: LiveOptions(obs=r.obs), confirm=no)
    [question] = asked  # once, for both rooms
    assert question.startswith("Go on air in 2 rooms:")
    assert "[main] Go on air: Machine Learning Casual Talks #20 on the built-in" in question
    assert "[hall-b] Go on air: Machine Learning Casual Talks #20 — Room B" in question
    assert "First slot: まもなく開始 (standby) at 19:20." in question
    assert "First slot: まもなく開始 (standby) at 19:25." in question
    assert question.count("The stream goes to rtmp://127.0.0.1:") == 2
    # Nothing went on air in either room: no journal says a cue.
    for name in ("main", "b"):
        journal = tmp_path / f"{name}.live.jsonl"
        assert not journal.exists() or not any(e.kind == "cue" for e in read_journal(journal))


async def test_live_refuses_naming_the_room_whose_obs_cannot_show_its_slots(
    tmp_path: Path,
) -> None:
    async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as bare:
        paths = [
            _cut(EXAMPLE, tmp_path, "main"),
            _cut(ROOM_B, tmp_path, "b", **{'url = "sim"': f'url = "{bare.url}"'}),
        ]
        with pytest.MonkeyPatch.context() as env:
            env.setenv("ROOM_B_OBS_PASSWORD", SIM_PASSWORD)
            rooms = load_rooms(paths)
        asked: list[str] = []

        async def yes(question: str) -> bool:
            asked.append(question)
            return True

        with pytest.raises(UsageError, match="room hall-b: OBS cannot show every slot"):
            await live_rooms(rooms, lambda r: LiveOptions(obs=r.obs), confirm=yes)
    assert asked == []  # refused before anybody was asked


# --------------------------------------------------------------------------- metrics


def _families(text: str) -> dict[str, Any]:
    """The exposition parsed by prometheus_client's own parser (what a scraper reads)."""
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families: dict[str, Any], sample: str, **labels: str) -> float:
    family = sample.removesuffix("_total").removesuffix("_bucket").removesuffix("_count")
    for s in families[family].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    raise KeyError((sample, labels))


async def test_metrics_are_served_by_the_web_app_while_the_show_runs(tmp_path: Path) -> None:
    [room] = load_rooms([_cut(EXAMPLE, tmp_path, "main")], obs_url="sim")
    metrics = Metrics()
    app = WebApp(
        room.cfg,
        WebAccess("127.0.0.1", 0, "control-token-0123456789abcdef", None, generated=False),
        say=lambda _: None,
        metrics=metrics.exposition,
    )
    sessions: list[ShowSession] = []

    def on_session(r: Room, session: ShowSession) -> None:
        sessions.append(session)
        metrics.add_room(r, session)
        app.attach(session)

    run = asyncio.create_task(
        rehearse_rooms(
            [room], lambda r: RehearsalOptions(obs=r.obs, speed=300), on_session=on_session
        )
    )
    async with asyncio.timeout(10):
        await app.ready.wait()
        async for state in sessions[0].feed():
            if state.show.on_air is not None:
                break
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{app.port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    await sessions[0].submit({"command": "end"}, source="api")
    await asyncio.wait_for(run, 15)
    families = _families(text)
    assert _value(families, "showcaller_obs_link_up", room="main") == 1
    assert _value(families, "showcaller_obs_link_state", room="main", state="ready") == 1
    assert _value(families, "showcaller_current_slot", room="main") >= 1
    assert _value(families, "showcaller_cue_lateness_seconds_count", room="main") >= 1
    assert _value(families, "showcaller_room_info", room="main", mode="rehearsal") == 1
