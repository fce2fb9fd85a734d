"""Soak: does a long show get later, bigger or busier as it goes?

    python bench/soak.py                 # (a) 3 h virtual + (b) 30 min real-time live
    python bench/soak.py --minutes 10    # (b) for 10 minutes
    python bench/soak.py --short         # (a) + (b) for about 85 s (CI)

(a) A 3-hour show (slots of 30-90 s) on a VirtualClock with autojump against an in-memory
OBS (bench/timing.py's drift run: the engine itself, its 10 s tick): each switch's
virtual time minus its deadline, the first decile of cues against the last, and this
process's memory (RSS, and the Python heap traced by tracemalloc) before and after.

(b) `showcaller live` in real time, as a host runs it, its OBS apart: `showcaller sim`
is its own process (seeded from the event file), and `showcaller live --obs ws://…`
another, with its dashboard on an 80x24 pseudo-terminal (drained as a terminal is), its
web app with the /timer page open (headless Chromium when there is one, else an SSE
client; both in this process), and ten speakers, each with a picture and a microphone:
the controller subscribes to InputVolumeMeters (the sim sends every input's meters every
50 ms) and checks every speaker at the start; the on-air watch looks at the speaker on
air every second. The show waits for its first slot for about a third of the run, then
runs slots of 30 s (6 s with --short) to the end. Read from /proc and the journal:
the controller's CPU while the show waits (after start-up and the first checks), its RSS
over the run and its growth (from the end of start-up to the end), and the lateness of
the last cues against the first: when the controller sent each cue against when it meant
to (deadline - lead; live leads by OBS's landing time), and, for information, the landing
(when it heard OBS's CurrentProgramSceneChanged, minus the deadline), which also holds
where in OBS's 33 ms frame the switch fell.

Goals: CPU while waiting < 1 % of a core; RSS < 80 MB; RSS growth < 5 MB; the last
cues' lateness within 2 ms of the first cues' (median of each). (a) no growth at all.
It is a measurement: exit 0 unless it crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import json
import os
import pty
import re
import select
import signal
import socket
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

THIS_FILE = Path(__file__).resolve()
ROOT = THIS_FILE.parent.parent
sys.path.insert(0, str(ROOT))  # tests.*
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(THIS_FILE.parent))  # timing, web_cost

from timing import machine, virtual_drift  # noqa: E402 - after the path setup
from web_cost import cpu_seconds, timer_page  # noqa: E402

SPEAKERS = 10
CPU_GOAL_PERCENT = 1.0
RSS_GOAL_MB = 80.0
RSS_GROWTH_GOAL_MB = 5.0
LATE_GOAL_MS = 2.0
EDGE_CUES = 3  # the first and last cues compared


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# ------------------------------------------------------------------- (a) virtual


async def virtual_soak(folder: Path, hours: float, *, traced: bool) -> None:
    gc.collect()
    rss0 = rss_mb()
    if traced:  # eight times slower: not in the short run
        tracemalloc.start()
    heap0, _ = tracemalloc.get_traced_memory()
    fit, worst, run = await virtual_drift(folder, hours)
    gc.collect()
    heap1, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = rss_mb()
    n = len(run.report.cues)
    print(
        f"(a) virtual clock, {hours:g} h, {n} cues, {run.wall_s:.1f} s of real time: "
        f"first-decile lateness {fit.first_decile_ms:.3f} ms, last-decile "
        f"{fit.last_decile_ms:.3f} ms, Theil-Sen {fit.slope_ms_per_h:+.3f} ms/h, "
        f"max |switch - deadline| {worst:.6f} ms: "
        f"{verdict(abs(fit.last_decile_ms - fit.first_decile_ms) <= 0.001 and worst <= 0.001)}"
    )
    heap = (
        f"; Python heap {heap0 / 1e6:.2f} -> {heap1 / 1e6:.2f} MB ({(heap1 - heap0) / 1e6:+.2f}, "
        f"peak {peak / 1e6:.2f}; the report's {n} cue records stay)"
        if traced
        else " (Python heap: not traced in --short)"
    )
    print(f"    memory: RSS {rss0:.1f} -> {rss1:.1f} MB ({rss1 - rss0:+.1f}){heap}")


# --------------------------------------------------------------------- (b) live


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_event(path: Path, first: datetime, slots: int, slot_s: int, *, audio: bool) -> None:
    lines = [
        "[event]",
        'title = "Soak"',
        f"date = {first.date().isoformat()}",
        'timezone = "UTC"',
        "crosses_midnight = true",
        "",
        "[obs]",
        'url = "sim"',
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
    for i in range(SPEAKERS):
        lines += [
            "[[speakers]]",
            f'id = "s{i}"',
            f'name = "Speaker {i + 1}"',
            f'video_input = "Speaker {i + 1} Video"',
            *([f'audio_input = "Speaker {i + 1} Audio"'] if audio else []),
            "",
        ]
    for i in range(slots):
        lines += [
            "[[timetable.slots]]",
            f'kind = "{"talk" if i % 2 == 0 else "lt"}"',
            f'title = "Slot {i + 1}"',
            f'speakers = ["s{i % SPEAKERS}"]',
            *([f'start = "{first:%H:%M:%S}"'] if i == 0 else []),
            f'duration = "{slot_s}s"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def drain(master: int, stop: threading.Event) -> None:
    """Read the pseudo-terminal as a terminal would, so the dashboard never blocks."""
    while not stop.is_set():
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return


@dataclass
class Samples:
    """What was read from /proc over the run: (real time since launch, CPU s, RSS MB)."""

    rows: list[tuple[float, float, float]] = field(default_factory=list)

    def cpu_between(self, t0: float, t1: float) -> float:
        """Percent of a core between two moments (the nearest samples inside)."""
        inside = [r for r in self.rows if t0 <= r[0] <= t1]
        if len(inside) < 2:
            return float("nan")
        (a, ca, _), (b, cb, _) = inside[0], inside[-1]
        return 100 * (cb - ca) / (b - a)


async def sample(pid: int, launched: float, every: float, into: Samples) -> None:
    while True:
        with contextlib.suppress(OSError, IndexError, RuntimeError):
            into.rows.append((time.monotonic() - launched, cpu_seconds(pid), rss_mb(pid)))
        await asyncio.sleep(every)


def journal_lateness(journal: Path) -> tuple[list[float], list[float]]:
    """(landing ms, sent-against-intended ms) per cue, in order."""
    landed: list[float] = []
    sent: list[float] = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("kind") == "landed":
            landed.append(float(record["late_ms"]))
        elif record.get("kind") == "cue" and record.get("cue") == "slot_started":
            meant = record["deadline"] - (record.get("lead") or 0.0)
            sent.append((record["sent"] - meant) * 1000)
    return landed, sent


async def live_soak(folder: Path, minutes: float, short: bool, *, audio: bool = True) -> None:
    total = minutes * 60
    startup = 8.0  # start-up of both processes, preflight, the first checks
    wait = max(35.0, total / 3)
    slot_s = 6 if short else 30
    slots = max(4, int((total - wait) // slot_s))
    first = (datetime.now(UTC) + timedelta(seconds=startup + wait)).replace(microsecond=0)
    event = folder / "soak.toml"
    write_event(event, first, slots, slot_s, audio=audio)
    journal = folder / "soak.jsonl"
    web_port = free_port()
    print(
        f"(b) real-time live, {minutes:g} min: waits {wait:.0f} s for its first slot, then "
        f"{slots} slots of {slot_s} s; {SPEAKERS} speakers "
        f"({'picture + microphone' if audio else 'picture only: --no-microphones'} each)"
    )

    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "showcaller", "sim", "--port", "0", "--config", str(event),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert sim.stderr is not None
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    stop = threading.Event()
    reader = threading.Thread(target=drain, args=(master, stop), daemon=True)
    live: asyncio.subprocess.Process | None = None
    samples = Samples()
    try:
        async with asyncio.timeout(20):
            while True:
                line = (await sim.stderr.readline()).decode()
                if not line:
                    raise RuntimeError("showcaller sim ended at once")
                if found := re.search(r"listening on (ws://\S+)", line):
                    url = found.group(1)
                    break
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        argv = [sys.executable, "-m", "showcaller", "live", str(event), "--obs", url, "--yes"]
        argv += ["--journal", str(journal), "--fresh", "--web-port", str(web_port)]
        launched = time.monotonic()
        live = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave
        )
        reader.start()
        sampler = asyncio.create_task(
            sample(live.pid, launched, 1.0 if short else 5.0, samples), name="sampler"
        )
        first_at = startup + wait  # seconds after launch, roughly
        await asyncio.sleep(startup)
        if live.returncode is not None:
            raise RuntimeError(f"showcaller live exited early ({live.returncode})")
        async with timer_page(f"http://127.0.0.1:{web_port}/timer") as client:
            print(f"    the /timer page: {client}; the dashboard on a pty")
            end_at = first_at + slots * slot_s + 20
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(live.wait(), end_at - (time.monotonic() - launched))
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    finally:
        if live is not None and live.returncode is None:
            live.send_signal(signal.SIGTERM)  # live detaches on SIGTERM
            try:
                await asyncio.wait_for(live.wait(), 10)
            except TimeoutError:
                live.kill()
                await live.wait()
        stop.set()
        if reader.is_alive():
            reader.join(2)
        os.close(master)
        os.close(slave)
        if sim.returncode is None:
            sim.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(sim.wait(), 10)
            except TimeoutError:
                sim.kill()
                await sim.wait()

    # The wait after start-up and the first checks (everyone at once: a few seconds).
    wait_from, wait_to = startup + min(20.0, wait / 3), first_at - 3
    cpu_wait = samples.cpu_between(wait_from, wait_to)
    on_air = samples.cpu_between(first_at + 2, first_at + slots * slot_s - 2)
    rss = [r[2] for r in samples.rows]
    start_rss = next((r[2] for r in samples.rows if r[0] >= wait_from), rss[0])
    end_rss = next(
        (r[2] for r in reversed(samples.rows) if r[0] <= first_at + slots * slot_s), rss[-1]
    )
    growth = end_rss - start_rss
    landed, sent = journal_lateness(journal)
    print(
        f"    controller CPU while waiting ({wait_to - wait_from:.0f} s): {cpu_wait:.2f} % of a "
        f"core (goal < {CPU_GOAL_PERCENT:g} %): {verdict(cpu_wait < CPU_GOAL_PERCENT)}; "
        f"on air (watch + meters): {on_air:.2f} %"
    )
    print(
        f"    controller RSS: max {max(rss):.1f} MB (goal < {RSS_GOAL_MB:g}): "
        f"{verdict(max(rss) < RSS_GOAL_MB)}; growth {start_rss:.1f} -> {end_rss:.1f} MB "
        f"({growth:+.1f}, goal < {RSS_GROWTH_GOAL_MB:g}): {verdict(growth < RSS_GROWTH_GOAL_MB)}"
    )
    if len(landed) >= 2 * EDGE_CUES:
        head, tail = statistics.median(landed[:EDGE_CUES]), statistics.median(landed[-EDGE_CUES:])
        s_head, s_tail = statistics.median(sent[:EDGE_CUES]), statistics.median(sent[-EDGE_CUES:])
        ok = s_tail - s_head <= LATE_GOAL_MS
        print(
            f"    cues: {len(sent)} sent, {len(landed)} landed; sent against deadline - lead, "
            f"first {EDGE_CUES}: {s_head:.2f} ms, last {EDGE_CUES}: {s_tail:.2f} ms "
            f"({s_tail - s_head:+.2f}, goal within {LATE_GOAL_MS:g}): {verdict(ok)}; "
            f"max {max(sent):.2f} ms"
        )
        print(
            f"    landing lateness (OBS's frame phase in it), first {EDGE_CUES}: {head:.2f} ms, "
            f"last {EDGE_CUES}: {tail:.2f} ms ({tail - head:+.2f}); all: median "
            f"{statistics.median(landed):.2f}, max {max(landed):.2f} ms"
        )
    else:
        print(f"    cues: only {len(landed)} landed: too few to compare (MISS)")


async def bench(args: argparse.Namespace) -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.no_virtual:
            await virtual_soak(folder, args.hours, traced=not args.short)
        minutes = 1.4 if args.short and args.minutes is None else (args.minutes or 30.0)
        await live_soak(folder, minutes, args.short, audio=not args.no_microphones)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="live for about 85 s (CI)")
    parser.add_argument("--minutes", type=float, help="real-time live run (default 30)")
    parser.add_argument("--hours", type=float, default=3.0, help="virtual show (default 3)")
    parser.add_argument("--no-virtual", action="store_true", help="only the live run")
    parser.add_argument(
        "--no-microphones",
        action="store_true",
        help="speakers without audio inputs (what the meters cost, by difference)",
    )
    asyncio.run(bench(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
