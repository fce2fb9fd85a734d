"""Back on air after OBS crashes: live starts the stream (and recording) again by itself.

On the sim (restart fault): each time the stream is back on air within 5 s of OBS
accepting connections, and the scene is the planned one (real OBS 29 SIGKILLed at random
moments: tests/test_chaos_realobs.py). A stream the host stopped in OBS is never restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from showcaller.config import load_config
from showcaller.modes import LiveOptions, live
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.hostcommands import End
from showcaller.show.session import ShowSession
from tests.realobs import HeadlessOBS, RTMPServer
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401
from tests.test_modes import _obs, _short_show, provision

BACK_ON_AIR_S = 5.0


def _show(tmp_path: Path, *, slot_s: int, record: bool = False, lead_in: float = 2) -> Path:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=lead_in, slot_s=slot_s, stream_before_s=1)
    if record:
        config.write_text(config.read_text().replace("enabled = false", "enabled = true"))
    return config


def _journal(path: Path, kind: str) -> list[dict[str, Any]]:
    records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in records if r["kind"] == kind]


async def _until(predicate: Any, within: float) -> float | None:
    """Seconds until `predicate()` (awaited if need be) holds, or None after `within`."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        got = predicate()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    return None


async def _run_live(config: Path, url: str, password: str, journal: Path, crashes: Any) -> Any:
    """`live --yes` in-process; `crashes(session)` runs beside it, then ends the show."""
    cfg = load_config(config)
    sessions: list[ShowSession] = []
    task: list[asyncio.Task[Any]] = []

    def on_session(session: ShowSession) -> None:
        sessions.append(session)

        async def drive() -> None:
            try:
                await crashes(session)
            finally:
                await session.submit(End(), source="test")

        task.append(asyncio.ensure_future(drive()))

    report = await live(
        cfg,
        LiveOptions(obs=_obs(url, password), journal=journal, yes=True),
        interactive=False,
        on_session=on_session,
    )
    await task[0]
    return report, sessions[0]


async def _on_air(session: ShowSession) -> None:
    assert await _until(lambda: session.show.state.on_air is not None, 15) is not None
    assert (
        await _until(
            lambda: any(m.text == "the stream is on air" for m in session.show.messages), 15
        )
        is not None
    )


async def test_on_the_sim_obs_restarting_three_times_puts_the_stream_and_recording_back(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = _show(tmp_path, slot_s=4, record=True)
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()
    journal = tmp_path / "live.jsonl"
    back_after: list[float] = []

    async def crashes(session: ShowSession) -> None:
        await _on_air(session)
        assert await _until(lambda: sim.model.record.state == "started", 10) is not None
        for _ in range(3):
            await sim.faults.restart(0.3)  # listening again when this returns
            took = await _until(lambda: sim.model.stream.state == "started", BACK_ON_AIR_S)
            assert took is not None, "the stream is not back on air"
            back_after.append(took)
            planned = session.show.state.on_air
            assert planned is not None
            scene = planned.scene
            assert await _until(lambda s=scene: sim.model.program == s, 2) is not None
            assert await _until(lambda: sim.model.record.state == "started", 2) is not None

    report, session = await _run_live(config, sim.url, SIM_PASSWORD, journal, crashes)
    print(f"back on air (bytes at the RTMP server) after: {[round(t, 2) for t in back_after]} s")
    assert len(back_after) == 3
    assert max(back_after) < BACK_ON_AIR_S
    assert sim.requests_seen["StartStream"] == 4  # the planned start, then once per crash
    assert sim.requests_seen["StartRecord"] == 4
    actions = [r["action"] for r in _journal(journal, "stream")]
    assert actions.count("restart_after_crash") == 3
    assert [r["action"] for r in _journal(journal, "record")].count("restart_after_crash") == 3
    loud = [m for m in session.show.messages if "STARTED THE STREAM AGAIN" in m.text]
    assert len(loud) == 3
    assert all(m.topic == "stream" for m in loud)
    assert report.ended


async def test_a_stream_the_host_stopped_in_obs_is_not_restarted_after_obs_crashes(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = _show(tmp_path, slot_s=20)
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()
    journal = tmp_path / "live.jsonl"

    async def crashes(session: ShowSession) -> None:
        await _on_air(session)
        client = OBSClient(sim.url, SIM_PASSWORD)
        await client.connect()
        await OBSGateway(client).stop_stream()  # the host clicks Stop Streaming in OBS
        await client.close()
        assert await _until(lambda: sim.model.stream.state == "stopped", 2) is not None
        await asyncio.sleep(0.3)
        await sim.faults.restart(0.3)
        await asyncio.sleep(BACK_ON_AIR_S / 2)
        assert await _until(lambda: session.link.state.value == "ready", 5) is not None
        await asyncio.sleep(1.0)

    _, session = await _run_live(config, sim.url, SIM_PASSWORD, journal, crashes)
    assert sim.requests_seen["StartStream"] == 1
    assert [r["action"] for r in _journal(journal, "stream")].count("stopped_in_obs") == 1
    assert not any("STARTED THE STREAM AGAIN" in m.text for m in session.show.messages)


async def test_with_restart_after_crash_off_the_host_is_told_to_start_it(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = _show(tmp_path, slot_s=20)
    config.write_text(
        config.read_text().replace("[stream]\n", "[stream]\nrestart_after_crash = false\n")
    )
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()

    async def crashes(session: ShowSession) -> None:
        await _on_air(session)
        await sim.faults.restart(0.3)
        said = await _until(
            lambda: any("stream is NOT on air" in m.text for m in session.show.messages), 5
        )
        assert said is not None

    await _run_live(config, sim.url, SIM_PASSWORD, tmp_path / "live.jsonl", crashes)
    assert sim.requests_seen["StartStream"] == 1


# Real OBS SIGKILLed and started again while streaming to nginx-rtmp (the planned scene
# and the stream's bytes back within 3 s of OBS accepting): tests/test_chaos_realobs.py.


# ------------------------------------- issue 19: showcaller itself killed and started again


async def _live_until(
    config: Path, url: str, password: str, journal: Path, until: Any
) -> list[dict[str, Any]]:
    """`live --yes` in-process until `until(session)` returns, then killed (the task
    cancelled: nothing more is sent, as after kill -9); returns the first /api/state."""
    cfg = load_config(config)
    sessions: list[ShowSession] = []
    first: list[dict[str, Any]] = []

    def on_session(session: ShowSession) -> None:
        first.append(session.state.to_json())  # what /api/state says before the first tick
        sessions.append(session)

    runner = asyncio.ensure_future(
        live(
            cfg,
            LiveOptions(obs=_obs(url, password), journal=journal, yes=True),
            interactive=False,
            on_session=on_session,
        )
    )
    try:
        assert await _until(lambda: bool(sessions), 15) is not None
        await until(sessions[0])
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    return first


async def _talk_on_air(session: ShowSession) -> None:
    def talking() -> bool:
        on_air = session.show.state.on_air
        return on_air is not None and on_air.kind == "talk"

    assert await _until(talking, 20) is not None
    await asyncio.sleep(0.3)


async def _resumed_at_once(session: ShowSession, scene_on_program: Any) -> dict[str, Any]:
    """After a restart: the planned scene on program at once, and said; the state then."""
    took = await _until(scene_on_program, 2)
    assert took is not None, "the planned scene was not put back"
    said = await _until(
        lambda: any(
            m.text.startswith("resumed at slot 3/5 The talk after") for m in session.show.messages
        ),
        2,
    )
    assert said is not None
    state: dict[str, Any] = session.state.to_json()
    return state


async def test_on_the_built_in_obs_a_restart_mid_talk_is_on_air_at_once(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Issue 19: after kill -9 and `live` again, /api/state said `waiting` under a running
    talk, and the built-in OBS (fresh: program `Scene`, not recording) stayed so until the
    next cue."""
    config = _show(tmp_path, slot_s=2, record=True, lead_in=1.5)  # the talk: 5.5 s to 9.5 s
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()
    journal = tmp_path / "live.jsonl"
    await _live_until(config, sim.url, SIM_PASSWORD, journal, _talk_on_air)
    assert sim.model.program == "Talk"
    # The built-in OBS of a new showcaller process starts afresh.
    client = OBSClient(sim.url, SIM_PASSWORD)
    await client.connect()
    fresh = OBSGateway(client)
    await fresh.set_program_scene("Scene")
    await fresh.stop_record()
    await client.close()
    assert await _until(lambda: sim.model.record.state == "stopped", 2) is not None

    seen: list[dict[str, Any]] = []

    async def after_restart(session: ShowSession) -> None:
        seen.append(await _resumed_at_once(session, lambda: sim.model.program == "Talk"))
        assert await _until(lambda: sim.model.record.state == "started", 2) is not None
        await session.submit(End(), source="test")

    first = await _live_until(config, sim.url, SIM_PASSWORD, journal, after_restart)
    show = first[0]["show"]
    assert (show["phase"], show["on_air"]["title"]) == ("on_air", "The talk")
    state = seen[0]["show"]
    assert state["phase"] == "on_air"
    assert state["resumed"]["slot"] == 2
    assert state["program_scene"] == "Talk"
    records = _journal(journal, "record")
    assert [r for r in records if r["action"] == "start" and r.get("resumed")]
    assert any(m.get("level") == "warning" for m in seen[0]["messages"])


async def test_real_obs_restart_of_showcaller_mid_talk_puts_the_planned_scene_back_at_once(
    real_obs: HeadlessOBS,
    rtmp_server: RTMPServer,
    tmp_path: Path,
) -> None:
    config = _show(tmp_path, slot_s=2, lead_in=1.5)  # the talk: 5.5 s to 9.5 s
    cfg = load_config(config)
    await provision(real_obs.url, real_obs.password, cfg)
    client = OBSClient(real_obs.url, real_obs.password)
    await client.connect()
    gateway = OBSGateway(client)
    await gateway.set_stream_service(rtmp_server.url, "test")
    journal = tmp_path / "live.jsonl"
    try:
        await _live_until(config, real_obs.url, real_obs.password, journal, _talk_on_air)
        assert await gateway.program_scene() == "Talk"
        await gateway.set_program_scene("Standby")  # someone clicked in OBS meanwhile
        program: list[str] = []

        async def talk_on_program() -> bool:
            program.append(await gateway.program_scene())
            return program[-1] == "Talk"

        seen: list[dict[str, Any]] = []

        async def after_restart(session: ShowSession) -> None:
            seen.append(await _resumed_at_once(session, talk_on_program))
            await session.submit(End(), source="test")

        first = await _live_until(config, real_obs.url, real_obs.password, journal, after_restart)
    finally:
        await client.close()
    assert first[0]["show"]["phase"] == "on_air"
    assert seen[0]["show"]["phase"] == "on_air"
    assert seen[0]["show"]["resumed"]["slot"] == 2
    resync = _journal(journal, "resync")
    assert [(r["scene"], r["found"], r["reason"]) for r in resync] == [
        ("Talk", "Standby", "resume")
    ]
