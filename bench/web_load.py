"""The web app under load: do 500 open timer feeds make cues late, and is /api/state slow?

    python bench/web_load.py            # 3 runs each way, 40 cues each (about 6 min)
    python bench/web_load.py --short    # 1 run each way, 12 cues (CI, under a minute)
    python bench/web_load.py --clients 1000 --runs 5

Each run starts `showcaller sim --config EVENT` (the built-in simulated OBS as its own
process, as a real OBS is) and `showcaller rehearse EVENT --obs ws://... --speed 60
--no-lead --web-port 0` as another, on a generated event (bench/timing.py's: one-minute
talk / lightning-talk slots, three lower-third texts per cue, so a cue every real second,
after a six-second first slot in which the clients connect). The clients are in THIS
process, so their CPU is not the show's: N Server-Sent-Events readers on /api/events
(what the /timer page opens) that read every state (counted, not parsed: a browser
parses on its own machine), and one poller that GETs /api/state every 100 ms and times
each answer. The baseline is the same show with no client at all. At x60 the engine's
one-show-second tick publishes a state every 17 real ms, so each feed gets about 20
states a second: sixty times what a real-time show sends.

Lateness is read from the show's own journal: each `landed` record's `late_ms`, the
moment the engine heard OBS's CurrentProgramSceneChanged minus the cue's deadline, in real
ms (lead compensation off, so a cue is due at its deadline), and each cue's `sent` minus
its deadline (the engine's own part). The first cue (sent while the clients connect) is
left out.

Goals: cue lateness p50 and p99 with the clients within 2 ms of without; /api/state p99
reported (no goal set). It is a measurement: exit 0 unless it crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

THIS_FILE = Path(__file__).resolve()
ROOT = THIS_FILE.parent.parent
sys.path.insert(0, str(THIS_FILE.parent))  # timing
sys.path.insert(0, str(ROOT / "src"))

from timing import event_toml, machine, pct  # noqa: E402 - after the path setup
from web_cost import end_process  # noqa: E402

SPEED = 60.0  # a one-minute slot passes in one real second
FIRST_SLOT_S = 360  # show seconds: six real seconds for the clients to connect
GOAL_MS = 2.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def write_event(folder: Path, cues: int) -> Path:
    """The event: a long first slot, then `cues` one-minute slots."""
    path = folder / f"load-{cues}.toml"
    text = event_toml([FIRST_SLOT_S] + [60] * cues)
    # A Cut takes no time; 50 ms is the least OBS takes as a transition's duration.
    path.write_text(text.replace("transition_ms = 0", "transition_ms = 50"), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def simulated_obs(event: Path) -> AsyncIterator[str]:
    """`showcaller sim` as its own process, seeded from the event file: its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "showcaller", "sim", "--port", "0", "--config", str(event),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(20):
            while True:
                line = (await proc.stderr.readline()).decode()
                if not line:
                    raise RuntimeError("showcaller sim ended at once")
                if found := re.search(r"listening on (ws://\S+)", line):
                    break
        drain = asyncio.create_task(proc.stderr.read(), name="sim output")
        yield found.group(1)
    finally:
        await end_process(proc)
        with contextlib.suppress(Exception):
            await drain


@contextlib.asynccontextmanager
async def show(
    event: Path, journal: Path, obs: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """The rehearsal as its own process: (process, base URL of its web app)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "showcaller", "rehearse", str(event), "--obs", obs,
        "--speed", f"{SPEED:g}", "--no-lead", "--web-port", "0", "--journal", str(journal),
        "--plain",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            while True:
                line = (await proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("showcaller ended before its web app listened")
                if found := re.search(r"speaker timer: (http://\S+)/timer", line):
                    base = found.group(1)
                    break
        drain = asyncio.create_task(proc.stdout.read(), name="show output")
        yield proc, base
        await asyncio.wait_for(proc.wait(), 600)
        await drain
    finally:
        await end_process(proc)


@dataclass
class Load:
    """What the clients saw."""

    connected: int = 0
    states: int = 0
    ended: int = 0
    failed: int = 0
    state_ms: list[float] = field(default_factory=list)


async def sse_client(http: aiohttp.ClientSession, base: str, load: Load) -> None:
    """One timer page's feed, read until the show's end event. Each state is counted, not
    parsed (the last one is): a browser parses on its own machine, and here the clients'
    CPU would be taken from the show's two cores."""
    try:
        async with http.get(f"{base}/api/events") as response:
            response.raise_for_status()
            load.connected += 1
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                cut = buffer.rfind(b"\n\n")
                if cut < 0:
                    continue
                done, buffer = buffer[: cut + 2], buffer[cut + 2 :]
                load.states += done.count(b"event: state\n")
                if b"event: end\n" in done:
                    last = done.rsplit(b"event: state\ndata: ", 1)[-1].split(b"\n\n", 1)[0]
                    with contextlib.suppress(ValueError):
                        json.loads(last)
                    load.ended += 1
                    return
    except (aiohttp.ClientError, ConnectionError):
        load.failed += 1


async def state_poller(http: aiohttp.ClientSession, base: str, load: Load) -> None:
    """GET /api/state every 100 ms, timing each full answer."""
    while True:
        t0 = time.perf_counter()
        try:
            async with http.get(f"{base}/api/state") as response:
                await response.read()
        except (aiohttp.ClientError, ConnectionError):
            return  # the show ended
        load.state_ms.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.1)


def lateness(journal: Path) -> tuple[list[float], list[float]]:
    """(landing, sending) lateness in real ms of every cue but the first slot's: when the
    engine heard OBS's CurrentProgramSceneChanged, and when it sent the cue, minus its
    deadline."""
    landed, sent = [], []
    for line in journal.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("slot", 0) == 0:
            continue
        if record.get("kind") == "landed":
            landed.append(float(record["late_ms"]))
        elif record.get("kind") == "cue" and record.get("cue") == "slot_started":
            sent.append((record["sent"] - record["deadline"]) / SPEED * 1000)
    return landed, sent


@dataclass
class RunResult:
    late_ms: list[float]
    sent_ms: list[float]
    cpu_share: float  # of one core, the show process, over the run
    load: Load


async def cpu_until_exit(proc: asyncio.subprocess.Process) -> float:
    """The CPU seconds `proc` used from now until it exits (sampled every 0.2 s)."""
    first = last = cpu_seconds(proc.pid)
    while proc.returncode is None:
        with contextlib.suppress(OSError, IndexError):
            last = cpu_seconds(proc.pid)  # gone once reaped: keep the last reading
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(proc.wait()), 0.2)
    return last - first


async def one_run(event: Path, folder: Path, name: str, clients: int) -> RunResult:
    journal = folder / f"{name}.jsonl"
    load = Load()
    async with simulated_obs(event) as obs, show(event, journal, obs) as (proc, base):
        t0 = time.monotonic()
        cpu = asyncio.create_task(cpu_until_exit(proc), name="show CPU")
        if clients:
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as http:
                readers = [
                    asyncio.create_task(sse_client(http, base, load), name=f"feed {i}")
                    for i in range(clients)
                ]
                poller = asyncio.create_task(state_poller(http, base, load), name="poller")
                await asyncio.gather(*readers)
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
        used = await cpu
        wall = time.monotonic() - t0
    return RunResult(*lateness(journal), used / wall, load)


def row(label: str, late: list[float], cpu: float) -> str:
    return (
        f"{label:<16} {len(late):>5} {statistics.median(late):>8.3f} {pct(late, 0.99):>8.3f} "
        f"{max(late):>8.3f} {cpu:>8.1%}"
    )


async def bench(args: argparse.Namespace) -> None:
    cues = 12 if args.short else args.cues
    runs = 1 if args.short else args.runs
    print(machine())
    print(
        f"{runs} run(s) each way, {cues} cues per run (one a real second, speed x{SPEED:g}, "
        f"lead off), {args.clients} SSE clients + 1 /api/state poller in the bench process"
    )
    print(f"{'':<16} {'cues':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'show CPU':>8}")
    base: list[RunResult] = []
    loaded: list[RunResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        event = write_event(folder, cues)
        for i in range(runs):
            # Alternating, so a slow patch of the machine does not fall on one side only.
            b = await one_run(event, folder, f"base{i}", 0)
            print(row(f"no clients #{i + 1}", b.late_ms, b.cpu_share))
            print(row("  (sent)", b.sent_ms, b.cpu_share))
            base.append(b)
            w = await one_run(event, folder, f"load{i}", args.clients)
            print(row(f"{args.clients} feeds #{i + 1}", w.late_ms, w.cpu_share))
            print(row("  (sent)", w.sent_ms, w.cpu_share))
            load = w.load
            print(
                f"{'':<16} feeds connected {load.connected}/{args.clients}, ended cleanly "
                f"{load.ended}, failed {load.failed}, states read {load.states}; "
                f"/api/state p50 {statistics.median(load.state_ms):.1f} ms, "
                f"p99 {pct(load.state_ms, 0.99):.1f} ms, max {max(load.state_ms):.1f} ms "
                f"(n={len(load.state_ms)})"
            )
            loaded.append(w)
    b_all = [x for r in base for x in r.late_ms]
    w_all = [x for r in loaded for x in r.late_ms]
    s_all = [x for r in loaded for x in r.load.state_ms]
    print(row("no clients, all", b_all, statistics.median(r.cpu_share for r in base)))
    print(row(f"{args.clients} feeds, all", w_all, statistics.median(r.cpu_share for r in loaded)))
    d50 = statistics.median(w_all) - statistics.median(b_all)
    d99 = pct(w_all, 0.99) - pct(b_all, 0.99)
    if runs > 1:
        pairs = list(zip(base, loaded, strict=True))
        per50 = [statistics.median(w.late_ms) - statistics.median(b.late_ms) for b, w in pairs]
        per99 = [pct(w.late_ms, 0.99) - pct(b.late_ms, 0.99) for b, w in pairs]
        print(
            f"per run: p50 difference {min(per50):+.3f}..{max(per50):+.3f} ms, "
            f"p99 difference {min(per99):+.3f}..{max(per99):+.3f} ms"
        )
    verdict = "PASS" if d50 <= GOAL_MS and d99 <= GOAL_MS else "MISS"
    print(
        f"goal: landing lateness with {args.clients} feeds within {GOAL_MS:g} ms of without "
        f"(p50 {d50:+.3f} ms, p99 {d99:+.3f} ms): {verdict}"
    )
    print(
        f"/api/state under that load: p50 {statistics.median(s_all):.1f} ms, "
        f"p99 {pct(s_all, 0.99):.1f} ms, max {max(s_all):.1f} ms (n={len(s_all)}; no goal set)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="1 run each way, 12 cues (CI)")
    parser.add_argument("--cues", type=int, default=40, help="cues per run (default 40)")
    parser.add_argument("--runs", type=int, default=3, help="runs each way (default 3)")
    parser.add_argument("--clients", type=int, default=500, help="SSE clients (default 500)")
    asyncio.run(bench(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
