"""Several rooms in one process: does a room's cue get later as rooms are added?

    python bench/rooms.py            # 1, 5, 10 and 20 rooms, 30 cues each (about 3 min)
    python bench/rooms.py --short    # 1, 5, 10 and 20 rooms, 8 cues each (under a minute)
    python bench/rooms.py --aligned  # every room's cues at the same instants (worst case)

Every room is a generated event (bench/timing.py's: short talk / lightning-talk slots,
three lower-third texts per cue) on its own simulated OBS, which stamps each
SetCurrentProgramScene frame as it arrives (bench/timing.py's TimedSim); all rooms run
through `rehearse_rooms` (prepare side by side → assemble → one `run_shows`), sped up
(SPEED), lead compensation off, so a cue is due exactly at its deadline.

Measured per room count: deadline → SetCurrentProgramScene on the wire (real ms, every
cue of every room: p50, p99, max), and the process's CPU per room (CPU seconds over real
seconds, divided by the rooms). By default the rooms' timetables differ (as real rooms'
do); --aligned gives all rooms the same one, so N cues fall due at the same instant.

Goal (issue 21): p99 at 20 rooms within 1.5x of 1 room, and under 10 ms.
It is a measurement: exit 0 unless it crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

THIS_FILE = Path(__file__).resolve()
ROOT = THIS_FILE.parent.parent
sys.path.insert(0, str(ROOT))  # tests.sim_fixtures
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(THIS_FILE.parent))  # timing

from tests.sim_fixtures import seed_event  # noqa: E402
from timing import TimedSim, event_toml, machine, pct, short_slots  # noqa: E402

from showcaller.clock import ScaledClock  # noqa: E402 - after the path setup
from showcaller.config import OBS, load_config  # noqa: E402
from showcaller.modes import RehearsalOptions  # noqa: E402
from showcaller.modes.rooms import Room, rehearse_rooms  # noqa: E402
from showcaller.show.session import ShowSession  # noqa: E402

SPEED = 60.0  # a one-minute slot passes in one real second
PASSWORD = "rooms-bench"
ROOM_COUNTS = (1, 5, 10, 20)
P99_RATIO = 1.5
P99_MS = 10.0


async def run_rooms(n: int, cues: int, folder: Path, *, aligned: bool) -> tuple[list[float], float]:
    """n rooms at once; every cue's wire lateness (ms) and the CPU per room (share of a core)."""
    sims = [TimedSim(host="127.0.0.1", port=0, password=PASSWORD) for _ in range(n)]
    for sim in sims:
        await sim.start()
    try:
        rooms = []
        for i, sim in enumerate(sims):
            # Slots of 1-2 minutes (1-2 real seconds at SPEED).
            minutes = short_slots(cues, seed=0 if aligned else i, lengths=(60, 120))
            path = folder / f"n{n}-room{i}.toml"
            # A Cut takes no time; 50 ms is the least OBS takes as a transition's duration.
            text = event_toml(minutes, obs_url=sim.url)
            text = text.replace("transition_ms = 0", "transition_ms = 50")
            path.write_text(text, encoding="utf-8")
            cfg = load_config(path)
            seed_event(sim, cfg)
            obs = OBS.model_validate({"url": sim.url, "password": PASSWORD})
            rooms.append(Room(f"room{i}", cfg, obs))
        sessions: dict[str, ShowSession] = {}

        def options(room: Room) -> RehearsalOptions:
            return RehearsalOptions(obs=room.obs, speed=SPEED, lead=False)

        cpu0, wall0 = time.process_time(), time.monotonic()
        reports = await rehearse_rooms(
            rooms, options, on_session=lambda r, s: sessions.setdefault(r.name, s)
        )
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        late: list[float] = []
        for room, sim, report in zip(rooms, sims, reports, strict=True):
            time_ = sessions[room.name].show.time
            clock = time_.clock
            assert isinstance(clock, ScaledClock)
            arrivals = list(sim.switch_arrivals)
            # The sim sees one switch per cue, in order (the scenes alternate).
            for cue, (arrived, scene) in zip(report.cues, arrivals, strict=False):
                assert scene == cue.scene, (room.name, scene, cue.scene)
                due = clock.real_monotonic(time_.monotonic_for(cue.deadline))
                late.append((arrived - due) * 1000)
        return late, cpu / wall / n
    finally:
        for sim in sims:
            await sim.stop()


async def bench(args: argparse.Namespace) -> None:
    cues = 8 if args.short else args.cues
    print(machine())
    print(
        f"{cues} cues per room, speed x{SPEED:g}, "
        f"{'aligned (same timetable)' if args.aligned else 'staggered (own timetable)'}"
    )
    print(f"{'rooms':>5} {'cues':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU/room':>9}")
    p99_one = None
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in ROOM_COUNTS:
            late, cpu = await run_rooms(n, cues, Path(tmp), aligned=args.aligned)
            p50, p99 = statistics.median(late), pct(late, 0.99)
            p99_one = p99 if p99_one is None else p99_one
            results[n] = p99
            print(f"{n:>5} {len(late):>5} {p50:>8.3f} {p99:>8.3f} {max(late):>8.3f} {cpu:>8.1%}")
    assert p99_one is not None
    ratio = results[ROOM_COUNTS[-1]] / p99_one if p99_one > 0 else float("inf")
    passed = ratio <= P99_RATIO and results[ROOM_COUNTS[-1]] < P99_MS
    print(
        f"goal: p99 at {ROOM_COUNTS[-1]} rooms within {P99_RATIO}x of 1 room and under "
        f"{P99_MS:g} ms: {ratio:.2f}x, {results[ROOM_COUNTS[-1]]:.3f} ms: "
        f"{'PASS' if passed else 'MISS'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="8 cues per room (CI)")
    parser.add_argument("--cues", type=int, default=30, help="cues per room (default 30)")
    parser.add_argument("--aligned", action="store_true", help="all rooms on one timetable")
    asyncio.run(bench(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
