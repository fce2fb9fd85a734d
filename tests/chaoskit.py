"""Chaos against real OBS: a `showcaller live` process, OBS and showcaller killed at seeded
random moments, and what the test and `bench/chaos.py` measure and check about it.

`run_chaos(obs, rtmp, workdir, plan)` runs one live show (a real `showcaller live --yes`
subprocess, its web app on a free port) through real headless OBS streaming to
nginx-rtmp, and carries out `plan` (a seeded list of "obs" and "showcaller" kills):

- "obs": SIGKILL OBS, start it again after a random 0.2–1.0 s; measured from the moment
  OBS accepts connections again: the planned scene on program (a probe client polls
  every 50 ms), and the stream's bytes arriving at nginx again (32 KB more than then).
- "showcaller": SIGKILL `showcaller live`, start the same command again after a random
  0.2–1.0 s; nginx's byte count is sampled every 200 ms from 1 s before the kill until
  1 s after the restarted show said "resumed at …" (it must grow at every sample), and
  the time from the restart to that line in the journal is measured.

`ChaosRun.problems()` lists every broken promise (empty: all kept); the test asserts it
is empty, the bench prints it. Only real processes and real signals: no mock of OBS.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from showcaller.config import load_config
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from tests.realobs import HeadlessOBS, RTMPServer
from tests.test_modes import ROOT, SHOWCALLER, _env, _short_show, provision

# The promises (real seconds).
SCENE_BACK_S = 3.0  # OBS accepting → the planned scene on program
BYTES_BACK_S = 3.0  # OBS accepting → the stream's bytes at nginx again
RESUMED_S = 10.0  # showcaller started again → "resumed at …" (a Python start on a busy box)
SAMPLE_S = 0.2  # nginx byte samples across a showcaller kill
FRESH_BYTES = 32_000  # "bytes arrive again": this much more than when OBS accepted
# Gaps (real seconds) before each chaos event, and the pause of a killed process.
GAP_S = (2.0, 4.0)
DOWN_S = (0.2, 1.0)
# A kill must not come this close to a slot boundary of the plan: the planned scene is
# then unambiguous, and a showcaller kill spans at most one boundary (one caught-up cue).
BOUNDARY_MARGIN_S = 1.5


def chaos_plan(seed: int, obs_kills: int, showcaller_kills: int) -> list[str]:
    """The kinds of events, shuffled by `seed`."""
    rng = random.Random(seed)
    events = ["obs"] * obs_kills + ["showcaller"] * showcaller_kills
    rng.shuffle(events)
    return events


@dataclass
class Event:
    """One chaos event and what was measured (real seconds; None: never happened)."""

    kind: str
    at_show_s: float  # since the first slot's planned start
    down_s: float
    scene_back_s: float | None = None  # obs: accepting → planned scene on program
    bytes_back_s: float | None = None  # obs: accepting → bytes at nginx again
    resumed_s: float | None = None  # showcaller: restart → "resumed at" journaled
    bytes_stalled: list[float] = field(default_factory=list)  # showcaller: flat samples (s)
    samples: int = 0
    slot: int | None = None  # the slot on air by the plan when it happened

    def line(self) -> str:
        """One line for a person."""

        def ms(x: float | None) -> str:
            return "—" if x is None else f"{x * 1000:.0f} ms"

        if self.kind == "obs":
            return (
                f"OBS killed at {self.at_show_s:5.1f} s (slot {self.slot}),"
                f" down {self.down_s:.2f} s: scene back {ms(self.scene_back_s)},"
                f" bytes back {ms(self.bytes_back_s)}"
            )
        flat = f", {len(self.bytes_stalled)} flat samples" if self.bytes_stalled else ""
        return (
            f"showcaller killed at {self.at_show_s:5.1f} s (slot {self.slot}), down"
            f" {self.down_s:.2f} s: resumed {ms(self.resumed_s)}; nginx bytes grew at"
            f" {self.samples - len(self.bytes_stalled)}/{self.samples} samples{flat}"
        )


@dataclass
class ChaosRun:
    """One show with chaos in it: the events, the journal, the processes' output."""

    events: list[Event]
    journal: Path
    outputs: list[str]
    slots: int
    exit_code: int | None
    wall_s: float

    def records(self) -> list[dict[str, Any]]:
        """Every journal line, parsed (a line that is not JSON raises)."""
        lines = self.journal.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def problems(self) -> list[str]:
        """Every promise broken in this run, in words; empty when all were kept."""
        out: list[str] = []
        try:
            records = self.records()
        except json.JSONDecodeError as exc:
            return [f"a journal line is not JSON: {exc}"]
        # 1: the report lists problems (after an OBS crash OBS comes back showing the scene
        # it last saved, which showcaller puts right and lists); 2 or a signal: a failure.
        if self.exit_code not in (0, 1):
            out.append(f"the last showcaller ended with {self.exit_code}")
        stops = [r["phase"] for r in records if r["kind"] == "stop"]
        if not stops or stops[-1] != "ended":
            out.append(f"the show did not end by itself (stop records: {stops})")
        cued = [r["slot"] for r in records if r["kind"] == "cue" and r["cue"] == "slot_started"]
        if sorted(cued) != list(range(self.slots)):
            out.append(f"slots cued {cued}, not each of 0..{self.slots - 1} once")
        ended = [r for r in records if r["kind"] == "cue" and r["cue"] == "show_ended"]
        if len(ended) != 1:
            out.append(f"show_ended journaled {len(ended)} times")
        warnings = [r["text"] for r in records if r["kind"] == "warning"]
        said = "\n".join(self.outputs)
        links = [r["state"] for r in records if r["kind"] == "link"]
        for e in self.events:
            if e.kind == "obs":
                if e.scene_back_s is None or e.scene_back_s > SCENE_BACK_S:
                    out.append(f"{e.line()}: the planned scene not back within {SCENE_BACK_S} s")
                if e.bytes_back_s is None or e.bytes_back_s > BYTES_BACK_S:
                    out.append(f"{e.line()}: no bytes at nginx within {BYTES_BACK_S} s")
            else:
                if e.resumed_s is None or e.resumed_s > RESUMED_S:
                    out.append(f"{e.line()}: not resumed within {RESUMED_S} s")
                if e.bytes_stalled or e.samples < 3:
                    out.append(f"{e.line()}: the stream's bytes stopped at nginx")
        obs_kills = sum(e.kind == "obs" for e in self.events)
        restarts = sum("STARTED THE STREAM AGAIN" in w for w in warnings)
        if restarts != obs_kills:
            out.append(f"'STARTED THE STREAM AGAIN' said {restarts} times for {obs_kills} crashes")
        if links.count("lost") < obs_kills or links.count("back") < obs_kills:
            out.append(f"OBS lost/back journaled {links}, for {obs_kills} crashes")
        if obs_kills and "OBS がまた応答しています" not in said:
            out.append("the console never said that OBS answers again")
        resumes = [w for w in warnings if w.startswith("resumed at slot")]
        kills = sum(e.kind == "showcaller" for e in self.events)
        if len(resumes) != kills:
            out.append(f"'resumed at slot' journaled {len(resumes)} times for {kills} kills")
        first, *again = self.outputs
        if "resumed at slot" in first or not all("resumed at slot" in text for text in again):
            out.append("the console did not say 'resumed at slot' once per restart")
        return out


def summary(runs: list[ChaosRun]) -> list[str]:
    """Medians and ranges of every measure over all runs' events."""
    lines = []
    events = [e for run in runs for e in run.events]
    for name, kind in (
        ("scene_back_s", "obs"),
        ("bytes_back_s", "obs"),
        ("resumed_s", "showcaller"),
    ):
        values = [getattr(e, name) for e in events if e.kind == kind]
        got = [v for v in values if v is not None]
        if not values:
            continue
        missing = f", {len(values) - len(got)} never" if len(got) < len(values) else ""
        if got:
            lines.append(
                f"{name}: n={len(got)} median {statistics.median(got) * 1000:.0f} ms,"
                f" range {min(got) * 1000:.0f}–{max(got) * 1000:.0f} ms{missing}"
            )
        else:
            lines.append(f"{name}: never ({len(values)} events)")
    stalls = [e for e in events if e.kind == "showcaller"]
    if stalls:
        flat = sum(len(e.bytes_stalled) for e in stalls)
        total = sum(e.samples for e in stalls)
        lines.append(f"nginx byte samples across showcaller kills: {total - flat}/{total} grew")
    return lines


# ---------------------------------------------------------------------- the pieces


class LiveProcess:
    """`showcaller live --yes` as a host runs it, killed and started again at will."""

    def __init__(self, config: Path, obs: HeadlessOBS, journal: Path, logs: Path) -> None:
        """Describe it; nothing runs until start()."""
        self.argv = [
            *SHOWCALLER,
            "live",
            str(config),
            "--obs",
            obs.url,
            "--journal",
            str(journal),
            "--web-port",
            "0",
            "--yes",
        ]
        self.env = _env(obs.password)
        self.logs = logs
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self.outputs: list[Path] = []

    def start(self) -> None:
        """Start the process (stdout and stderr into a fresh log file)."""
        log = self.logs / f"live-{len(self.outputs)}.log"
        self.outputs.append(log)
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def signal(self, sig: int) -> None:
        """Send `sig` to the running process."""
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self._close()

    def wait(self, timeout: float) -> int:
        """Wait for the process to end by itself; its exit code."""
        assert self.proc is not None
        code = self.proc.wait(timeout)
        self._close()
        return code

    def texts(self) -> list[str]:
        """What each run of the process printed."""
        return [p.read_text(encoding="utf-8", errors="replace") for p in self.outputs]

    def close(self) -> None:
        """Kill a process still running (a failed test)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._close()

    def _close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


async def program_scene(obs: HeadlessOBS) -> str | None:
    """OBS's program scene, asked on a fresh connection; None when OBS does not answer."""
    client = OBSClient(obs.url, obs.password, connect_timeout=1.0, request_timeout=1.0)
    try:
        await client.connect()
        return await OBSGateway(client).program_scene()
    except Exception:
        return None
    finally:
        await client.close()


async def until(predicate: Any, within: float, every: float = 0.05) -> float | None:
    """Real seconds until `await predicate()` holds, or None after `within`."""
    start = time.monotonic()
    while True:
        if await predicate():
            return time.monotonic() - start
        if time.monotonic() - start > within:
            return None
        await asyncio.sleep(every)


def journal_records(path: Path) -> Iterator[dict[str, Any]]:
    """The journal's lines so far, parsed (a torn last line is skipped: still being written)."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue


@dataclass
class Timetable:
    """The plan's slots in real seconds since `origin` (the first slot's start)."""

    origin: float  # time.time() of the first slot's planned start
    bounds: list[tuple[float, float, str]]  # (start, end, scene) per slot

    def at(self, t: float) -> tuple[int | None, str | None]:
        """The slot (index) and scene on air by the plan at show second `t`."""
        for i, (a, b, scene) in enumerate(self.bounds):
            if a <= t < b:
                return i, scene
        return None, None

    def now(self) -> float:
        """Show seconds now."""
        return time.time() - self.origin

    def near_boundary(self, t: float, margin: float) -> bool:
        """Whether `t` is within `margin` s of a slot boundary."""
        return any(abs(t - a) < margin or abs(t - b) < margin for a, b, _ in self.bounds)


def _timetable(config: Path) -> Timetable:
    cfg = load_config(config)
    slots = cfg.slots_resolved()
    origin = slots[0].start.timestamp()
    bounds = [(s.start.timestamp() - origin, s.end.timestamp() - origin, s.scene) for s in slots]
    return Timetable(origin, bounds)


# ---------------------------------------------------------------------- the run


async def run_chaos(
    obs: HeadlessOBS,
    rtmp: RTMPServer,
    workdir: Path,
    plan: list[str],
    *,
    seed: int,
    report: Any = None,
) -> ChaosRun:
    """One live show through `plan` (see the module docstring); `report(line)` hears each
    event as it is measured."""
    rng = random.Random(seed)
    # Enough show for every event (gap + down + recovery: 6–8 s, 9 s allowed) after the
    # stream is on air, then a short tail; 5 slots of 1, 1, 2, 1, 1 units.
    lead_in = 6.0
    unit = max(6, int((9.0 * len(plan) + 8.0) / 6) + 1)
    table = await prepare_show(obs, rtmp, workdir, slot_s=unit, lead_in=lead_in)
    journal = workdir / "live.jsonl"
    live = LiveProcess(workdir / "event.toml", obs, journal, workdir)
    events: list[Event] = []
    started = time.monotonic()
    exit_code: int | None = None
    try:
        live.start()
        await on_air(journal, rtmp, lead_in + 20)
        for kind in plan:
            await asyncio.sleep(rng.uniform(*GAP_S))
            # Not near a boundary (see BOUNDARY_MARGIN_S).
            while table.near_boundary(table.now(), BOUNDARY_MARGIN_S):  # noqa: ASYNC110 - a clock, no event to wait on
                await asyncio.sleep(0.1)
            at = table.now()
            assert at + 6 < table.bounds[-1][1], "the show is too short for the plan"
            down = rng.uniform(*DOWN_S)
            event = Event(kind, round(at, 2), round(down, 2), slot=table.at(at)[0])
            if kind == "obs":
                await _obs_crash(obs, rtmp, table, event)
            else:
                await _showcaller_crash(live, rtmp, journal, event)
            events.append(event)
            if report is not None:
                report(event.line())
        end = table.bounds[-1][1]
        exit_code = await asyncio.to_thread(live.wait, max(10.0, end - table.now() + 20))
    finally:
        live.close()
    return ChaosRun(
        events,
        journal,
        live.texts(),
        len(table.bounds),
        exit_code,
        round(time.monotonic() - started, 1),
    )


async def prepare_show(
    obs: HeadlessOBS, rtmp: RTMPServer, workdir: Path, *, slot_s: int, lead_in: float
) -> Timetable:
    """`workdir/event.toml`: the 5-slot show of `_short_show` (slots of 1, 1, 2, 1, 1 ×
    `slot_s`, the stream 3 s before), provisioned in OBS, which streams to nginx."""
    config = workdir / "event.toml"
    _short_show(config, lead_in=lead_in, slot_s=slot_s, stream_before_s=3)
    await provision(obs.url, obs.password, load_config(config))
    client = OBSClient(obs.url, obs.password)
    await client.connect()
    try:
        await OBSGateway(client).set_stream_service(rtmp.url, "test")
    finally:
        await client.close()
    return _timetable(config)


async def on_air(journal: Path, rtmp: RTMPServer, within: float) -> None:
    """Return once the first slot is cued and the stream's bytes flow at nginx."""
    assert await until(_cued(journal, 0), within) is not None, "never on air"
    base = await asyncio.to_thread(rtmp.bytes_received)
    assert await until(more_bytes(rtmp, base), 10) is not None, "no stream at nginx"


def wall(record: dict[str, Any]) -> float:
    """A journal record's wall-clock time as time.time() counts it."""
    return datetime.fromisoformat(record["wall"]).timestamp()


def _cued(journal: Path, slot: int) -> Any:
    async def check() -> bool:
        return any(
            r.get("kind") == "cue" and r.get("cue") == "slot_started" and r.get("slot") == slot
            for r in journal_records(journal)
        )

    return check


def more_bytes(rtmp: RTMPServer, base: int) -> Any:
    async def check() -> bool:
        return await asyncio.to_thread(rtmp.bytes_received) - base > FRESH_BYTES

    return check


async def _obs_crash(obs: HeadlessOBS, rtmp: RTMPServer, table: Timetable, event: Event) -> None:
    await asyncio.to_thread(obs.kill)
    await asyncio.sleep(event.down_s)
    await asyncio.to_thread(obs.restart)  # returns once OBS accepts connections
    base = await asyncio.to_thread(rtmp.bytes_received)

    async def planned_on_program() -> bool:
        _, scene = table.at(table.now())
        return scene is not None and await program_scene(obs) == scene

    scene_task = asyncio.create_task(until(planned_on_program, SCENE_BACK_S * 3), name="scene")
    bytes_task = asyncio.create_task(until(more_bytes(rtmp, base), BYTES_BACK_S * 3), name="bytes")
    for name, task in (("scene_back_s", scene_task), ("bytes_back_s", bytes_task)):
        took = await task  # each started at once after `accepting`: measured from then
        setattr(event, name, took)


async def _showcaller_crash(
    live: LiveProcess, rtmp: RTMPServer, journal: Path, event: Event
) -> None:
    samples: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), await asyncio.to_thread(rtmp.bytes_received)))
            await asyncio.sleep(SAMPLE_S)

    sampler = asyncio.create_task(sample(), name="nginx bytes")
    try:
        await asyncio.sleep(1.0)
        resumes_before = _resumes(journal)
        await asyncio.to_thread(live.kill)
        await asyncio.sleep(event.down_s)
        live.start()

        async def resumed() -> bool:
            return _resumes(journal) > resumes_before

        took = await until(resumed, RESUMED_S * 2)
        event.resumed_s = took
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await sampler
    event.samples = len(samples) - 1
    event.bytes_stalled = [
        round(t - samples[0][0], 2)
        for (t, b), (_, before) in zip(samples[1:], samples, strict=False)
        if b <= before
    ]


def _resumes(journal: Path) -> int:
    return sum(
        1
        for r in journal_records(journal)
        if r.get("kind") == "warning" and str(r.get("text", "")).startswith("resumed at slot")
    )


def started_at() -> str:
    """Now, for a bench header."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_average() -> str:
    """The 1/5/15-minute load average (other work on the machine shows here)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
