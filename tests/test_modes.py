"""Rehearsal and live over a real socket: the simulated OBS, and a real headless OBS.

A rehearsal switches every scene in order and never touches the stream; `live --yes`
starts the stream at its planned moment and a SIGKILL of showcaller mid-show neither
stops the stream nor repeats a cue when it is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from showcaller.config import OBS, EventConfig, load_config
from showcaller.errors import UsageError
from showcaller.modes import LiveOptions, RehearsalOptions, find_slot, live, rehearse
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.protocol import Event
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.plan import ShowPlan
from showcaller.stage.needs import needs_of
from tests.realobs import HeadlessOBS, RTMPServer
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
ROOT = EXAMPLE.parent
SHOWCALLER = [sys.executable, "-m", "showcaller"]


@dataclass
class Watcher:
    """An independent client that records every scene change and stream state OBS reports."""

    client: OBSClient
    scenes: list[str] = field(default_factory=list)
    stream_states: list[tuple[float, str]] = field(default_factory=list)

    def on_event(self, event: Event) -> None:
        if event.event_type == "CurrentProgramSceneChanged":
            self.scenes.append(event.event_data["sceneName"])
        elif event.event_type == "StreamStateChanged":
            self.stream_states.append((time.monotonic(), event.event_data["outputState"]))


@pytest.fixture
async def watcher_factory() -> AsyncIterator[Any]:
    clients: list[OBSClient] = []

    async def make(url: str, password: str) -> Watcher:
        client = OBSClient(url, password)
        await client.connect()
        clients.append(client)
        w = Watcher(client)
        client.subscribe(w.on_event, ["CurrentProgramSceneChanged", "StreamStateChanged"])
        return w

    yield make
    for c in clients:
        await c.close()


async def provision(url: str, password: str, cfg: EventConfig) -> None:
    """Create what `needs_of(cfg)` lists: every scene (roles too), the text inputs and each
    speaker's video (a colour source) and audio (a media source), in the scenes they need."""
    needs = needs_of(cfg)
    client = OBSClient(url, password)
    await client.connect()
    try:
        gw = OBSGateway(client)
        have = set(await gw.scene_names())
        for name in needs.scene_names:
            if name not in have:
                await gw.create_scene(name)
        wanted = [(t.name, "text_ft2_source_v2", {"text": ""}, t.scenes) for t in needs.texts]
        for sp in needs.speakers:
            if sp.video_input:
                wanted.append((sp.video_input, "color_source_v3", {}, sp.scenes))
            if sp.audio_input and sp.audio_input != sp.video_input:
                wanted.append((sp.audio_input, "ffmpeg_source", {}, sp.scenes))
        for name, kind, settings, scenes in wanted:
            first, *more = scenes or needs.scene_names[:1]
            await gw.create_input(first, name, kind, settings)
            for scene in more:
                await gw.request("CreateSceneItem", {"sceneName": scene, "sourceName": name})
    finally:
        await client.close()


def _cut_example(tmp_path: Path) -> EventConfig:
    """The example event with Cut transitions, so it can run 3000 times faster than real time."""
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _obs(url: str, password: str) -> OBS:
    return OBS.model_validate({"url": url, "password": password})


async def _rehearse(
    url: str, password: str, cfg: EventConfig, tmp_path: Path, **options: Any
) -> Any:
    """`showcaller rehearse` in-process against the OBS at `url`; returns the report."""
    on_session = options.pop("on_session", None)
    options.setdefault("speed", 3000)
    return await rehearse(
        cfg,
        RehearsalOptions(obs=_obs(url, password), journal=tmp_path / "r.jsonl", **options),
        on_session=on_session,
    )


# ------------------------------------------------------------------------- rehearsal


async def test_rehearsal_on_the_sim_switches_every_scene_and_never_touches_the_stream(
    sim: SimulatedOBS,  # noqa: F811
    watcher_factory: Any,
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    watcher = await watcher_factory(sim.url, SIM_PASSWORD)
    report = await _rehearse(sim.url, SIM_PASSWORD, cfg, tmp_path, speed=3000)
    assert report.ok, report.problems
    assert report.ended
    assert [c.scene for c in report.cues] == [s.scene for s in cfg.slots_resolved()]
    # OBS sends no change event for a switch to the scene already on program.
    distinct = [
        s.scene
        for i, s in enumerate(cfg.slots_resolved())
        if i == 0 or s.scene != cfg.slots_resolved()[i - 1].scene
    ]
    assert watcher.scenes == distinct
    assert sim.requests_seen.get("StartStream", 0) == 0
    assert sim.requests_seen.get("StopStream", 0) == 0
    assert watcher.stream_states == []


async def test_rehearsal_reports_a_scene_missing_in_obs_and_exits_with_a_problem(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    client = await _client(sim)
    await OBSGateway(client).remove_scene("Break")
    await client.close()
    report = await _rehearse(sim.url, SIM_PASSWORD, cfg, tmp_path, speed=3000)
    assert report.ended
    assert not report.ok
    assert any("no scene 'Break'" in p for p in report.problems)  # found before the show
    assert any("Break" in p and "No source was found" in p for p in report.problems)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a disk that is full)")
async def test_a_journal_that_cannot_be_written_is_one_problem_and_the_show_goes_on(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    report = await rehearse(
        cfg,
        RehearsalOptions(obs=_obs(sim.url, SIM_PASSWORD), speed=3000, journal=Path("/dev/full")),
    )
    assert report.ended
    assert [c.scene for c in report.cues] == [s.scene for s in cfg.slots_resolved()]
    assert all(c.error is None for c in report.cues)
    full = [p for p in report.problems if "cannot write the show journal" in p]
    assert len(full) == 1, report.problems  # said once, not once per record
    assert "No space left on device" in full[0]
    assert report.problems == full


def test_a_journal_path_that_cannot_be_written_is_refused_before_obs_is_touched(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    for command in ("rehearse", "live"):
        # An OBS nobody listens on: reaching it would be a different error (exit 3).
        proc = _showcaller(
            [*SHOWCALLER, command, str(EXAMPLE), "--obs", "ws://127.0.0.1:9"]
            + ["--journal", str(blocker / "show.jsonl")]
            + (["--yes"] if command == "live" else [])
        )
        assert proc.returncode == 2, proc.stderr
        assert f"{blocker / 'show.jsonl'}: cannot write the show journal" in proc.stderr
        assert "--journal" in proc.stderr  # what to do
        assert "Traceback" not in proc.stderr


async def test_fade_finds_obs_s_own_fade_on_an_obs_in_japanese(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = load_config(EXAMPLE)  # transition = "Fade"
    seed_event(sim, cfg)
    sim.use_cases.japanese_ui()  # OBS calls it フェード
    report = await _rehearse(sim.url, SIM_PASSWORD, cfg, tmp_path, speed=6000)
    assert report.ok, report.problems
    assert any("using OBS's 'フェード'" in w for w in report.warnings), report.warnings
    assert (sim.model.transition, sim.model.transition_ms) == ("フェード", cfg.obs.transition_ms)


async def test_a_transition_obs_does_not_have_is_a_problem_that_names_what_it_has(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    event = tmp_path / "swipe.toml"
    event.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Swipe"'),
        encoding="utf-8",
    )
    cfg = load_config(event)
    seed_event(sim, cfg)
    report = await _rehearse(sim.url, SIM_PASSWORD, cfg, tmp_path, speed=3000)
    assert report.ended
    assert report.problems == [
        "obs.transition 'Swipe': OBS has no such transition (it has 'Cut', 'Fade')"
    ]


async def test_cut_finds_obs_s_own_cut_on_a_real_obs_in_japanese(
    real_obs_japanese: HeadlessOBS,
    watcher_factory: Any,
    tmp_path: Path,
) -> None:
    obs = real_obs_japanese
    cfg = _cut_example(tmp_path)
    await provision(obs.url, obs.password, cfg)
    watcher = await watcher_factory(obs.url, obs.password)
    report = await _rehearse(obs.url, obs.password, cfg, tmp_path, speed=3000)
    assert report.ok, report.problems
    assert any("using OBS's 'カット'" in w for w in report.warnings), report.warnings
    current = await OBSGateway(watcher.client).transition()
    assert (current.name, current.kind) == ("カット", "cut_transition")
    assert watcher.scenes[-1] == cfg.slots_resolved()[-1].scene


async def _client(obs: SimulatedOBS) -> OBSClient:
    client = OBSClient(obs.url, SIM_PASSWORD)
    await client.connect()
    return client


async def test_rehearsal_puts_the_scene_back_after_obs_restarts(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    shows: list[Any] = []
    third_slot = asyncio.Event()

    def follow(session: Any) -> None:
        shows.append(session.show)
        session.show.on_state(
            lambda st: third_slot.set() if st.on_air and st.on_air.index >= 2 else None
        )

    async def sabotage() -> str:
        await third_slot.wait()
        expected: str = shows[0].state.on_air.scene
        sim.model.program = "Standby"  # someone clicked in OBS ...
        await sim.faults.restart(0.2)  # ... and OBS restarted
        return expected

    saboteur = asyncio.create_task(sabotage())
    report = await _rehearse(sim.url, SIM_PASSWORD, cfg, tmp_path, speed=1000, on_session=follow)
    put_back = await saboteur
    assert report.ended
    assert any("after reconnecting: put" in p and put_back in p for p in report.problems)


# ------------------------------------------------------------- rehearsal on real OBS


async def test_rehearsal_on_real_obs_switches_every_scene_in_order_and_never_streams(
    real_obs: HeadlessOBS, watcher_factory: Any, tmp_path: Path
) -> None:
    cfg = load_config(EXAMPLE)
    await provision(real_obs.url, real_obs.password, cfg)
    watcher = await watcher_factory(real_obs.url, real_obs.password)
    report = await _rehearse(real_obs.url, real_obs.password, cfg, tmp_path, speed=400)
    assert report.ok, report.problems
    slots = cfg.slots_resolved()
    distinct = [s.scene for i, s in enumerate(slots) if i == 0 or s.scene != slots[i - 1].scene]
    await asyncio.sleep(0.5)  # the last fade ends after the show does
    assert watcher.scenes == distinct
    assert watcher.stream_states == []
    status = await OBSGateway(watcher.client).stream_status()
    assert not status.active


# ------------------------------------------------------------------ live, SIGKILL


def _short_show(path: Path, *, lead_in: float, slot_s: int, stream_before_s: int) -> datetime:
    """A tiny show in UTC starting `lead_in` seconds from now; returns its first slot's start."""
    start = (datetime.now(UTC) + timedelta(seconds=lead_in)).replace(microsecond=0)
    path.write_text(
        f"""
[event]
title = "Kill test"
date = {start.date().isoformat()}
timezone = "UTC"
hashtag = "#kill"
crosses_midnight = true

[obs]
url = "sim"
transition = "Cut"

[scenes]
standby = "Standby"
opening = "Opening"
talk = "Talk"
qa = "Q&A"
closing = "Closing"

[lower_third]
title_input = "Lower Third Title"

[stream]
start_before_standby = "{stream_before_s}s"

[record]
enabled = false

[[speakers]]
id = "a"
name = "Speaker A"

[[timetable.slots]]
kind = "standby"
start = "{start.strftime("%H:%M:%S")}"
duration = "{slot_s}s"

[[timetable.slots]]
kind = "opening"
duration = "{slot_s}s"

[[timetable.slots]]
kind = "talk"
title = "The talk"
speakers = ["a"]
duration = "{slot_s * 2}s"

[[timetable.slots]]
kind = "qa"
speakers = ["a"]
duration = "{slot_s}s"

[[timetable.slots]]
kind = "closing"
duration = "{slot_s}s"
""",
        encoding="utf-8",
    )
    return start


def _sim_show(
    obs: SimulatedOBS, tmp_path: Path, *, lead_in: float, slot_s: int, stream_before_s: int
) -> tuple[Path, Path]:
    """A tiny show (see `_short_show`) seeded into the sim, which can stream; (event, journal)."""
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=lead_in, slot_s=slot_s, stream_before_s=stream_before_s)
    seed_event(obs, load_config(config))
    obs.use_cases.stream_target()
    return config, tmp_path / "live.jsonl"


def _env(password: str) -> dict[str, str]:
    """The environment a host runs showcaller in: the OBS password, a wide terminal."""
    return {**os.environ, "SHOWCALLER_OBS__PASSWORD": password, "COLUMNS": "200"}


def _showcaller(argv: list[str], password: str = "") -> subprocess.CompletedProcess[str]:
    """Run a showcaller command line to its end, as a host would with no terminal input."""
    return subprocess.run(
        argv,
        cwd=ROOT,
        env=_env(password),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _live_argv(config: Path, url: str, journal: Path, *extra: str) -> list[str]:
    """`showcaller live CONFIG --obs URL --journal JOURNAL [extra]`, its web app on any
    free port (a busy 8080 on the machine must not fail the test)."""
    journal_args = ["--journal", str(journal), "--web-port", "0"]
    return [*SHOWCALLER, "live", str(config), "--obs", url, *journal_args, *extra]


def _live(config: Path, url: str, password: str, journal: Path) -> subprocess.Popen[bytes]:
    env = _env(password)
    return subprocess.Popen(
        _live_argv(config, url, journal, "--yes"),
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _cues(journal: Path) -> list[dict[str, Any]]:
    lines = journal.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return [r for r in records if r["kind"] == "cue" and r["cue"] == "slot_started"]


async def _wait_for(predicate: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class LiveTarget:
    url: str
    password: str
    stream_bytes: Any  # async () -> int


def test_live_without_a_terminal_and_without_yes_refuses_before_touching_obs(
    tmp_path: Path,
) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=60, slot_s=3, stream_before_s=2)
    # Nothing listens on port 9: a refusal that came after connecting would say so.
    proc = _showcaller([*SHOWCALLER, "live", str(config), "--obs", "ws://127.0.0.1:9"])
    assert proc.returncode == 2
    assert "confirmation" in proc.stderr
    assert "--yes" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_live_refuses_a_timetable_that_is_already_over(tmp_path: Path) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=-3600, slot_s=3, stream_before_s=2)
    proc = _showcaller(
        [*SHOWCALLER, "live", str(config), "--yes", "--journal", str(tmp_path / "j.jsonl")]
    )
    assert proc.returncode == 2, proc.stderr
    assert "the timetable ended at" in proc.stderr
    assert "event.date" in proc.stderr


@pytest.fixture
def kill_procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(5)
        if p.stdout:
            p.stdout.close()


async def _live_kill_and_resume(
    target: LiveTarget, watcher: Watcher, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    config = tmp_path / "event.toml"
    journal = tmp_path / "live.jsonl"
    start = _short_show(config, lead_in=5, slot_s=3, stream_before_s=2)
    cfg = load_config(config)
    slots = cfg.slots_resolved()
    first = _live(config, target.url, target.password, journal)
    procs.append(first)
    # Wait until the talk (slot 3) is on air, then kill showcaller outright.
    await _wait_for(lambda: journal.exists() and len(_cues(journal)) >= 3, 30, "the talk")
    first.send_signal(signal.SIGKILL)
    first.wait(5)
    killed_at = time.monotonic()
    cues_before = _cues(journal)
    assert [c["slot"] for c in cues_before] == [0, 1, 2]
    # The stream went on air at its planned moment (2 s before the first slot) ...
    started = [t for t, s in watcher.stream_states if s == "OBS_WEBSOCKET_OUTPUT_STARTED"]
    assert len(started) == 1
    stream_cue = next(
        json.loads(line)
        for line in journal.read_text(encoding="utf-8").splitlines()
        if '"kind": "stream"' in line
    )
    planned = (start - timedelta(seconds=2)).timestamp()
    assert datetime.fromisoformat(stream_cue["wall"]).timestamp() == pytest.approx(planned, abs=0.5)
    # ... and keeps running without showcaller.
    bytes_at_kill = await target.stream_bytes()
    await asyncio.sleep(1.0)
    assert await target.stream_bytes() > bytes_at_kill

    second = _live(config, target.url, target.password, journal)
    procs.append(second)
    out, _ = await asyncio.to_thread(second.communicate, None, 60)
    text = out.decode()
    assert second.returncode == 0, text
    cues_after = _cues(journal)[len(cues_before) :]
    # Resumed in the talk: no cue repeated, every later slot cued once.
    assert [c["slot"] for c in cues_after] == [3, 4]
    assert all(not c["caught_up"] for c in cues_after)
    assert time.monotonic() - killed_at < 60
    # stream.stop_at_end: the stream stops once the closing ends (OBS reports it a moment later).
    await _wait_for(
        lambda: any(s == "OBS_WEBSOCKET_OUTPUT_STOPPED" for _, s in watcher.stream_states),
        10,
        "the stream to stop at the end of the show",
    )
    assert watcher.scenes == [s.scene for s in slots]


async def test_live_survives_sigkill_on_the_sim_without_stopping_the_stream(
    sim: SimulatedOBS,  # noqa: F811
    watcher_factory: Any,
    tmp_path: Path,
    kill_procs: list[subprocess.Popen[bytes]],
) -> None:
    config = tmp_path / "seed.toml"
    _short_show(config, lead_in=60, slot_s=3, stream_before_s=2)
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()
    watcher = await watcher_factory(sim.url, SIM_PASSWORD)

    async def stream_bytes() -> int:
        return (await OBSGateway(watcher.client).stream_status()).bytes

    await _live_kill_and_resume(
        LiveTarget(sim.url, SIM_PASSWORD, stream_bytes), watcher, tmp_path, kill_procs
    )
    assert sim.requests_seen.get("StartStream", 0) == 1


@pytest.mark.slow
async def test_live_on_real_obs_streams_to_rtmp_through_a_sigkill_and_restart(
    real_obs: HeadlessOBS,
    rtmp_server: RTMPServer,
    watcher_factory: Any,
    tmp_path: Path,
    kill_procs: list[subprocess.Popen[bytes]],
) -> None:
    config = tmp_path / "seed.toml"
    _short_show(config, lead_in=60, slot_s=3, stream_before_s=2)
    await provision(real_obs.url, real_obs.password, load_config(config))
    watcher = await watcher_factory(real_obs.url, real_obs.password)
    gw = OBSGateway(watcher.client)
    await gw.set_stream_service(rtmp_server.url, "test")

    async def stream_bytes() -> int:
        return (await gw.stream_status()).bytes

    await _live_kill_and_resume(
        LiveTarget(real_obs.url, real_obs.password, stream_bytes), watcher, tmp_path, kill_procs
    )


async def test_a_second_showcaller_for_the_same_show_is_refused_and_the_first_goes_on(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config, journal = _sim_show(sim, tmp_path, lead_in=3, slot_s=2, stream_before_s=1)
    first = _live(config, sim.url, SIM_PASSWORD, journal)
    try:
        await _wait_for(lambda: journal.exists() and len(_cues(journal)) >= 1, 30, "the standby")
        # The host, unsure whether it started, runs the same command in another terminal.
        for extra in ([], ["--fresh"]):
            second = await asyncio.to_thread(
                _showcaller, _live_argv(config, sim.url, journal, "--yes", *extra), SIM_PASSWORD
            )
            assert second.returncode == 2, second.stderr
            assert f"another showcaller (pid {first.pid}) is already running" in second.stderr
        out, _ = await asyncio.to_thread(first.communicate, timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, out.decode(errors="replace")
    assert [c["slot"] for c in _cues(journal)] == [0, 1, 2, 3, 4]  # each slot cued once
    assert sim.requests_seen.get("StartStream", 0) == 1
    assert sim.requests_seen.get("StopStream", 0) == 1
    assert not (tmp_path / "live.jsonl.lock").exists()
    assert not (tmp_path / "live.jsonl.1").exists()  # --fresh moved nothing aside


# ------------------------------------------------------------------ live, Ctrl-C


class Terminal:
    """showcaller live on a pseudo-terminal, with its plain console (the dashboard, the
    default on a terminal, has its own pty tests in test_dashboard_pty.py)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [*argv, "--plain"],
            cwd=ROOT,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
        )
        os.close(slave)
        self.screen = ""

    def _read(self, within: float) -> None:
        ready, _, _ = select.select([self.master], [], [], within)
        if ready:
            with contextlib.suppress(OSError):  # the child closed the terminal
                self.screen += os.read(self.master, 65536).decode(errors="replace")

    async def wait_for_text(self, text: str, within: float) -> None:
        deadline = time.monotonic() + within
        while text not in self.screen:
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {text!r} on the terminal:\n{self.screen}")
            await asyncio.to_thread(self._read, 0.1)

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        os.close(self.master)


async def test_ctrl_c_next_moves_a_live_show_on_from_a_manual_slot(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = tmp_path / "event.toml"
    journal = tmp_path / "live.jsonl"
    _short_show(config, lead_in=3, slot_s=2, stream_before_s=1)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'title = "The talk"', 'title = "The talk"\nend = "manual"'
        ),
        encoding="utf-8",
    )
    seed_event(sim, load_config(config))
    sim.use_cases.stream_target()
    env = _env(SIM_PASSWORD)
    term = Terminal(
        _live_argv(config, sim.url, journal, "--yes"),
        env,
    )
    try:
        await term.wait_for_text("reached its end: waiting for the host", 30)
        await asyncio.sleep(1.0)
        assert [c["slot"] for c in _cues(journal)] == [0, 1, 2]  # still the talk
        term.proc.send_signal(signal.SIGINT)
        await term.wait_for_text("`next` to put the next slot on air", 10)
        term.type("next")
        code = await asyncio.to_thread(term.proc.wait, 30)
    finally:
        term.close()
    assert code == 0, term.screen
    cues = _cues(journal)
    assert [c["slot"] for c in cues] == [0, 1, 2, 3, 4]
    assert cues[3]["reason"] == "command"


@pytest.mark.parametrize(("answer", "stream_stays"), [("detach", True), ("end", False)])
async def test_ctrl_c_during_a_live_show_asks_and_only_end_stops_the_stream(
    sim: SimulatedOBS,  # noqa: F811
    watcher_factory: Any,
    tmp_path: Path,
    answer: str,
    stream_stays: bool,
) -> None:
    config, journal = _sim_show(sim, tmp_path, lead_in=4, slot_s=3, stream_before_s=2)
    watcher = await watcher_factory(sim.url, SIM_PASSWORD)
    env = _env(SIM_PASSWORD)
    term = Terminal(
        _live_argv(config, sim.url, journal),
        env,
    )
    try:
        await term.wait_for_text("Type yes to go on air", 20)
        term.type("yes")
        await _wait_for(lambda: journal.exists() and len(_cues(journal)) >= 2, 30, "the opening")
        term.proc.send_signal(signal.SIGINT)
        await term.wait_for_text("Ctrl-C: type `end`", 10)
        assert (await OBSGateway(watcher.client).stream_status()).active
        term.type(answer)
        code = await asyncio.to_thread(term.proc.wait, 20)
        await term.wait_for_text("report", 5)
    finally:
        term.close()
    assert code == 0, term.screen
    assert "Traceback" not in term.screen
    await asyncio.sleep(0.5)  # let OBS report the stream's last state
    status = await OBSGateway(watcher.client).stream_status()
    assert status.active is stream_stays
    assert sim.requests_seen.get("StopStream", 0) == (0 if stream_stays else 1)
    stops = [json.loads(x) for x in journal.read_text().splitlines() if '"kind": "stop"' in x]
    assert stops[-1]["phase"] == ("detached" if stream_stays else "ended")
    commands = [json.loads(x) for x in journal.read_text().splitlines() if '"command"' in x]
    assert [
        (c["command"].split("(")[0], c["source"]) for c in commands if c["kind"] == "command"
    ] == [(answer, "prompt")]


async def _go_on_air_question(cfg: EventConfig, obs: SimulatedOBS, tmp_path: Path) -> str:
    """The question `live` asks before going on air, answered "no": nothing goes on air."""
    asked: list[str] = []

    async def host_says_no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(UsageError, match="not confirmed"):
        await live(
            cfg,
            LiveOptions(obs=_obs(obs.url, SIM_PASSWORD), journal=tmp_path / "j.jsonl"),
            confirm=host_says_no,
            interactive=True,
        )
    assert obs.requests_seen.get("StartStream", 0) == 0
    return asked[0]


@pytest.mark.parametrize("far", [True, False])
async def test_the_go_on_air_question_says_the_date_and_warns_when_the_show_is_far_away(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    far: bool,
) -> None:
    config = tmp_path / "event.toml"
    start = _short_show(config, lead_in=30, slot_s=3, stream_before_s=2)
    if far:  # the host copied last month's file and forgot to change the date
        start += timedelta(days=2)
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace(f"date = {(start - timedelta(days=2)).date()}", f"date = {start.date()}"),
            encoding="utf-8",
        )
    cfg = load_config(config)
    seed_event(sim, cfg)
    question = await _go_on_air_question(cfg, sim, tmp_path)
    assert f"on {start.date()} (UTC)" in question
    assert ("check event.date" in question) is far


@pytest.mark.parametrize(
    ("service", "said"),
    [
        ({}, "OBS has no streaming service chosen"),  # a fresh OBS
        (
            {"service": "YouTube - RTMPS", "server": "auto"},
            "OBS has no stream key for YouTube - RTMPS",
        ),
        ({"service": "YouTube - RTMPS", "server": "auto", "key": "abcd-SECRET-1234"}, None),
    ],
)
async def test_the_go_on_air_question_says_when_obs_has_nowhere_to_stream(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    service: dict[str, str],
    said: str | None,
) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=30, slot_s=3, stream_before_s=2)
    cfg = load_config(config)
    seed_event(sim, cfg)
    sim.model.stream_service_type = "rtmp_common"
    sim.model.stream_service_settings = dict(service)
    question = await _go_on_air_question(cfg, sim, tmp_path)
    if said is None:
        assert "problem:" not in question, question
    else:
        assert f"problem: {said}" in question
        assert "Settings > Stream" in question
    assert "SECRET" not in question


async def test_ctrl_c_at_the_go_on_air_question_quits_at_once_and_sends_nothing(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=30, slot_s=3, stream_before_s=2)
    seed_event(sim, load_config(config))
    term = Terminal(_live_argv(config, sim.url, tmp_path / "live.jsonl"), _env(SIM_PASSWORD))
    try:
        await term.wait_for_text("Type yes to go on air", 20)
        term.proc.send_signal(signal.SIGINT)  # the host changes their mind
        code = await asyncio.to_thread(term.proc.wait, 10)
    finally:
        term.close()
    assert code == 130, term.screen
    assert "Traceback" not in term.screen
    assert sim.requests_seen.get("StartStream", 0) == 0
    assert sim.requests_seen.get("SetCurrentProgramScene", 0) == 0


async def test_an_unanswered_ctrl_c_question_does_not_keep_live_running_after_the_show(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config, journal = _sim_show(sim, tmp_path, lead_in=3, slot_s=2, stream_before_s=1)
    term = Terminal(_live_argv(config, sim.url, journal, "--yes"), _env(SIM_PASSWORD))
    try:
        await _wait_for(lambda: journal.exists() and len(_cues(journal)) >= 2, 30, "the opening")
        term.proc.send_signal(signal.SIGINT)
        await term.wait_for_text("Ctrl-C: type `end`", 10)
        # The host walks away: the show must still end by itself and the process exit.
        code = await asyncio.to_thread(term.proc.wait, 30)
        await term.wait_for_text("report", 5)
    finally:
        term.close()
    assert code == 0, term.screen
    assert "left unanswered" in term.screen
    assert "Traceback" not in term.screen
    assert [c["slot"] for c in _cues(journal)] == [0, 1, 2, 3, 4]


# ------------------------------------------------------------ recording, stream check


async def test_live_says_loudly_when_the_stream_does_not_go_on_air(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=3, slot_s=3, stream_before_s=2)  # on air for 15 s
    cfg = load_config(config)
    seed_event(sim, cfg)  # no stream server set: OBS gives up by itself
    report = await live(
        cfg,
        LiveOptions(obs=_obs(sim.url, SIM_PASSWORD), journal=tmp_path / "j.jsonl", yes=True),
        interactive=False,
    )
    assert report.ended
    assert any("the stream is NOT on air" in p for p in report.problems), report.problems
    assert sim.requests_seen.get("StartStream", 0) == 1


@pytest.mark.parametrize("sim_version", ["5.1", "5.5"])
async def test_rehearsal_with_record_splits_per_talk_where_obs_can(
    tmp_path: Path, sim_version: str, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = _cut_example(tmp_path)
    async with SimulatedOBS(
        password=SIM_PASSWORD, obs_version=sim_version, record_dir=tmp_path / "rec"
    ) as obs:
        seed_event(obs, cfg)
        with caplog.at_level(logging.INFO, logger="showcaller.show.policies"):
            report = await _rehearse(obs.url, SIM_PASSWORD, cfg, tmp_path, speed=3000, record=True)
        talks = [s for s in cfg.slots_resolved() if s.kind in ("talk", "lt")]
        assert obs.requests_seen.get("StartRecord", 0) == 1
        assert obs.requests_seen.get("StopRecord", 0) == 1
        if sim_version == "5.5":
            assert obs.requests_seen.get("SplitRecordFile", 0) == len(talks)
            assert report.ok, report.problems
            # OBS 30.2 names only the first file on stopping: the host hears of them all.
            assert f"recording saved: {len(talks) + 1} files in {tmp_path / 'rec'}" in caplog.text
        else:
            assert obs.requests_seen.get("SplitRecordFile", 0) == 0
            cannot = [p for p in report.problems if "cannot split recordings" in p]
            assert len(cannot) == 1  # said once, not once per talk
        assert list((tmp_path / "rec").iterdir())


@pytest.mark.parametrize(
    ("split", "chapters", "way"),
    [(False, True, "CreateRecordChapter"), (True, False, "SplitRecordFile"), (False, False, None)],
)
async def test_per_talk_falls_back_to_what_obs_30_s_recording_settings_allow(
    tmp_path: Path, split: bool, chapters: bool, way: str | None
) -> None:
    # OBS 30 lists SplitRecordFile and CreateRecordChapter but answers 702 to a split
    # unless its Advanced output splits by hand, and to a chapter unless it records
    # Hybrid MP4 (its default Simple output: neither). Each refusal is tried only once.
    cfg = _cut_example(tmp_path)
    async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as obs:
        seed_event(obs, cfg)
        obs.use_cases.recording_settings(split=split, chapters=chapters)
        report = await _rehearse(obs.url, SIM_PASSWORD, cfg, tmp_path, speed=3000, record=True)
        talks = [s for s in cfg.slots_resolved() if s.kind in ("talk", "lt")]
        tried = {r: obs.requests_seen.get(r, 0) for r in ("SplitRecordFile", "CreateRecordChapter")}
        if way is None:
            assert tried == {"SplitRecordFile": 1, "CreateRecordChapter": 1}
            (refused,) = [p for p in report.problems if "refuses to split" in p]
            assert "Only split manually" in refused
            assert "Hybrid MP4" in refused
        else:
            other = "SplitRecordFile" if way == "CreateRecordChapter" else "CreateRecordChapter"
            assert tried == {way: len(talks), other: 0 if split else 1}
            assert report.ok, report.problems


# ---------------------------------------------------------- rehearsal and the stream


async def test_rehearsal_refuses_to_run_while_obs_is_streaming(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    sim.use_cases.stream_target()
    client = await _client(sim)
    await OBSGateway(client).start_stream()
    await asyncio.sleep(0.3)
    with pytest.raises(UsageError, match="streaming right now"):
        await _rehearse(sim.url, SIM_PASSWORD, cfg, tmp_path, speed=3000)
    assert sim.requests_seen.get("SetCurrentProgramScene", 0) == 0
    assert (await OBSGateway(client).stream_status()).active
    await client.close()


async def test_stream_test_streams_to_the_rehearsal_target_and_restores_obs_settings(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace('transition = "Fade"', 'transition = "Cut"')
        .replace(
            'stream_test_server = ""', 'stream_test_server = "rtmp://127.0.0.1:1935/rehearsal"'
        )
    )
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("SHOWCALLER_REHEARSAL__STREAM_TEST_KEY", "test-key-123")
    cfg = load_config(tmp_path / "event.toml")
    seed_event(sim, cfg)
    sim.use_cases.stream_target(server="rtmp://live.example/app", key="the-real-key")
    on_air: list[tuple[str, str]] = []

    def follow(session: Any) -> None:
        def check(state: Any) -> None:
            if sim.model.stream.active:
                settings = sim.model.stream_service_settings
                on_air.append((settings["server"], settings["key"]))

        session.show.on_state(check)

    report = await _rehearse(
        sim.url, SIM_PASSWORD, cfg, tmp_path, speed=300, stream_test=True, on_session=follow
    )
    assert report.ok, report.problems
    assert on_air, "the stream never went on air during the rehearsal"
    assert set(on_air) == {("rtmp://127.0.0.1:1935/rehearsal", "test-key-123")}
    assert sim.model.stream_service_settings == {
        "server": "rtmp://live.example/app",
        "key": "the-real-key",
    }
    assert not sim.model.stream.active


def test_stream_test_without_a_target_is_refused_before_touching_obs(tmp_path: Path) -> None:
    proc = _showcaller(
        [*SHOWCALLER, "rehearse", str(EXAMPLE), "--stream-test", "--obs", "ws://127.0.0.1:9"]
    )
    assert proc.returncode == 2
    assert "rehearsal.stream_test_server is empty" in proc.stderr


async def test_stream_test_on_real_obs_goes_to_the_rtmp_target_and_puts_settings_back(
    real_obs: HeadlessOBS,
    rtmp_server: RTMPServer,
    watcher_factory: Any,
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'stream_test_server = ""', f'stream_test_server = "{rtmp_server.url}"'
    )
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "event.toml")
    await provision(real_obs.url, real_obs.password, cfg)
    watcher = await watcher_factory(real_obs.url, real_obs.password)
    gw = OBSGateway(watcher.client)
    await gw.set_stream_service("rtmp://127.0.0.1:9/the-real-one", "real-key")
    # from slot 10: the lightning talks and the closing, 20 minutes of plan in 4 s
    report = await _rehearse(
        real_obs.url, real_obs.password, cfg, tmp_path, speed=300, from_slot=9, stream_test=True
    )
    assert report.ok, report.problems
    states = [s for _, s in watcher.stream_states]
    assert "OBS_WEBSOCKET_OUTPUT_STARTED" in states
    assert states[-1] == "OBS_WEBSOCKET_OUTPUT_STOPPED"
    service = await gw.stream_service()
    assert service.settings.get("server") == "rtmp://127.0.0.1:9/the-real-one"
    assert service.settings.get("key") == "real-key"


async def test_sigterm_detaches_a_live_show_and_leaves_the_stream_on_air(
    sim: SimulatedOBS,  # noqa: F811
    watcher_factory: Any,
    tmp_path: Path,
    kill_procs: list[subprocess.Popen[bytes]],
) -> None:
    config, journal = _sim_show(sim, tmp_path, lead_in=4, slot_s=3, stream_before_s=2)
    watcher = await watcher_factory(sim.url, SIM_PASSWORD)
    proc = _live(config, sim.url, SIM_PASSWORD, journal)
    kill_procs.append(proc)
    await _wait_for(lambda: journal.exists() and len(_cues(journal)) >= 2, 30, "the opening")
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.to_thread(proc.communicate, None, 20)
    assert proc.returncode == 0, out.decode()
    assert "Traceback" not in out.decode()
    await asyncio.sleep(0.5)
    assert (await OBSGateway(watcher.client).stream_status()).active
    assert sim.requests_seen.get("StopStream", 0) == 0
    stops = [json.loads(x) for x in journal.read_text().splitlines() if '"kind": "stop"' in x]
    assert stops[-1]["phase"] == "detached"
    commands = [json.loads(x) for x in journal.read_text().splitlines() if '"command"' in x]
    assert [
        (c["command"].split("(")[0], c["source"]) for c in commands if c["kind"] == "command"
    ] == [("detach", "signal")]
    # The report does not invent an end for the slot on air: OBS went on showing it.
    from showcaller.interop.report import build
    from showcaller.interop.runs import last_run

    ran = [ln for ln in build(last_run(journal)).lines if ln.start is not None]
    assert ran[-1].end is None


async def test_live_tells_the_host_when_the_stream_stops_without_showcaller(
    sim: SimulatedOBS,  # noqa: F811
    watcher_factory: Any,
    tmp_path: Path,
) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=3, slot_s=3, stream_before_s=2)
    cfg = load_config(config)
    seed_event(sim, cfg)
    sim.use_cases.stream_target()
    watcher = await watcher_factory(sim.url, SIM_PASSWORD)
    talk_on_air = asyncio.Event()

    def follow(session: Any) -> None:
        session.show.on_state(
            lambda st: talk_on_air.set() if st.on_air and st.on_air.index == 2 else None
        )

    async def someone_clicks_stop_in_obs() -> None:
        await talk_on_air.wait()
        await OBSGateway(watcher.client).stop_stream()

    clicker = asyncio.create_task(someone_clicks_stop_in_obs())
    report = await live(
        cfg,
        LiveOptions(obs=_obs(sim.url, SIM_PASSWORD), journal=tmp_path / "j.jsonl", yes=True),
        interactive=False,
        on_session=follow,
    )
    await clicker
    assert report.ended
    stopped = [p for p in report.problems if "STOPPED in OBS, and not by showcaller" in p]
    assert len(stopped) == 1, report.problems


def test_from_takes_a_slot_number_or_a_piece_of_its_title() -> None:
    cfg = load_config(EXAMPLE)
    assert find_slot(ShowPlan.of(cfg), None) == 0
    assert find_slot(ShowPlan.of(cfg), "3") == 2
    assert find_slot(ShowPlan.of(cfg), "polars") == 9  # case does not matter
    with pytest.raises(UsageError, match="slots 1 to 13"):
        find_slot(ShowPlan.of(cfg), "14")
    with pytest.raises(UsageError, match="no slot title"):
        find_slot(ShowPlan.of(cfg), "keynote")
    with pytest.raises(UsageError, match="3 slots match"):
        find_slot(ShowPlan.of(cfg), "質疑応答")
