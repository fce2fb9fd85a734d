"""OBS that stops answering, on the simulated OBS: the host is told once, in the event's
language, when OBS stops answering and once when it answers again; cues keep their time.

The same cases on real OBS 29 (SIGKILL, SIGSTOP): tests/test_chaos_realobs.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from showcaller.config import load_config
from showcaller.obs.client import OBSClient
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.session import ShowSession
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401
from tests.test_crash_restart import _on_air, _run_live, _show, _until


def _records(journal: Path, kind: str) -> list[dict[str, Any]]:
    lines = journal.read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


async def test_obs_dropping_the_link_is_said_once_in_japanese_and_its_return_once(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = _show(tmp_path, slot_s=20)
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()
    journal = tmp_path / "live.jsonl"

    async def crashes(session: ShowSession) -> None:
        await _on_air(session)
        await sim.faults.restart(0.5)
        assert await _until(lambda: session.link.state.value == "ready", 5) is not None
        await asyncio.sleep(0.3)

    _, session = await _run_live(config, sim.url, SIM_PASSWORD, journal, crashes)
    said = [(m.level, m.text) for m in session.show.messages if m.topic == "obs"]
    assert len(said) == 2, said
    assert said[0][0] == "warning"
    assert said[0][1].startswith("OBS が応答しません")
    assert said[1][0] == "info"
    assert said[1][1].startswith("OBS がまた応答しています")
    links = _records(journal, "link")
    assert [r["state"] for r in links] == ["lost", "back"]
    assert "connection" in links[0]["why"]
    assert 0.4 < links[1]["away_s"] < 5


async def test_in_english_and_not_said_when_the_show_is_over(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = _show(tmp_path, slot_s=20)
    english = config.read_text().replace('hashtag = "#kill"', 'hashtag = "#kill"\nlanguage = "en"')
    config.write_text(english)
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()

    async def crashes(session: ShowSession) -> None:
        await _on_air(session)
        sim.faults.drop()
        told = await _until(lambda: sum(m.topic == "obs" for m in session.show.messages) == 2, 5)
        assert told is not None

    _, session = await _run_live(config, sim.url, SIM_PASSWORD, tmp_path / "j.jsonl", crashes)
    said = [m.text for m in session.show.messages if m.topic == "obs"]
    assert len(said) == 2, said
    assert said[0].startswith("OBS is not answering (lost the connection to OBS")
    assert said[1].startswith("OBS answers again (after 0 s)")
    await sim.faults.restart(0.2)  # after the show: nothing more is said
    await asyncio.sleep(0.5)
    assert len([m for m in session.show.messages if m.topic == "obs"]) == 2


async def test_obs_holding_requests_with_its_link_up_is_said_and_cues_keep_their_time(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    """OBS hung with its socket open and its pings answered (its UI thread stuck): the
    heartbeat keeps the link up. Said within 5 s, the cues go out and are journaled at
    their moments (none waits for the one before), and OBS's late answers are said."""
    config = _show(tmp_path, slot_s=1, lead_in=1.5)  # slots at 0, 1, 2 (2 s), 4, 5; end 6
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()
    journal = tmp_path / "live.jsonl"
    stalled: list[float] = []
    watcher = OBSClient(sim.url, SIM_PASSWORD)
    await watcher.connect()
    changes: list[str] = []
    watcher.subscribe(
        lambda e: changes.append(e.event_data["sceneName"]), ["CurrentProgramSceneChanged"]
    )

    async def crashes(session: ShowSession) -> None:
        await _on_air(session)
        stalled.append(time.time())
        sim.faults.stall()
        await asyncio.sleep(4.0)
        stalled.append(time.time())
        sim.faults.unstall()
        await asyncio.sleep(3.0)

    try:
        _, session = await _run_live(config, sim.url, SIM_PASSWORD, journal, crashes)
    finally:
        await watcher.close()
    # The cues OBS owed went out in order once it answered again: every scene, in order.
    # The cues OBS owed went out in plan order once it answered again: the program never
    # went back to an older scene (the sim, like OBS, may skip the change event of a cut
    # that a newer one overtook within the frame).
    order = ["Standby", "Opening", "Talk", "Q&A", "Closing"]
    assert changes == sorted(changes, key=order.index), changes
    assert changes[-1] == "Closing"
    links = _records(journal, "link")
    assert [r["state"] for r in links] == ["lost", "back"]
    assert _wall(links[0]) - stalled[0] < 5.0
    assert _wall(links[1]) - stalled[1] < 1.0
    cues = [r for r in _records(journal, "cue") if r["cue"] == "slot_started"]
    assert [c["slot"] for c in cues] == [0, 1, 2, 3, 4]
    for cue in cues:
        assert cue["sent"] - cue["deadline"] < 0.3, cue
        # Journaled at once, not when (or whether) OBS answered: at most CUE_WAIT_S later.
        assert _wall(cue) - datetime.fromisoformat(cue["deadline_wall"]).timestamp() < 1.5, cue
    held = [c["slot"] for c in cues if c.get("unanswered")]
    assert held, "no cue fell into the stall"
    late = [m.text for m in session.show.messages if "late" in m.text]
    assert len(late) == len(held), late
    assert sim.model.program == "Closing"
    said = [m.text for m in session.show.messages if m.topic == "obs"]
    assert len(said) == 2, said
    assert said[0].startswith("OBS が応答しません")


def _wall(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["wall"]).timestamp()


async def test_the_oldest_unanswered_request_is_timed_and_forgotten_once_answered(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    client = OBSClient(sim.url, SIM_PASSWORD)
    await client.connect()
    try:
        assert client.unanswered_for() == 0.0
        sim.faults.stall()
        pending = asyncio.ensure_future(client.request("GetVersion"))
        await asyncio.sleep(0.3)
        assert 0.25 < client.unanswered_for() < 1.0
        sim.faults.unstall()
        await pending
        assert client.unanswered_for() == 0.0
    finally:
        await client.close()
