"""Stream health polling: what one reading costs, and whether it slows a scene switch.

    python bench/health_cost.py            # on the simulated OBS (in this process)
    python bench/health_cost.py --real     # also on a real headless OBS streaming to nginx-rtmp
    python bench/health_cost.py --short    # fewer readings (CI)

While the stream is on air, the health attachment reads OBS about once a second
(GetStreamStatus, GetStats, GetRecordStatus: `health.read_sample`). This prints:

1. **One reading**: wall time (median, p95) and this process's CPU time per reading
   (process_time). At one reading a second, CPU per reading in ms / 10 is the % of a
   core. On the sim the CPU includes the simulated OBS answering (it runs in this
   process), so it is an upper bound. Goal: < 1 % of a core.
2. **A switch with polling**: SetCurrentProgramScene round trips while a poller reads
   as fast as it can (the worst case: ten times the real rate) vs with no poller;
   median ratio. Requests are id-correlated and concurrent, so the goal is ~1.0x.
On real OBS, OBS's own CPU over the polled window vs an idle window (/proc) too.
It is a measurement: exit 0 unless it crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.realobs
sys.path.insert(0, str(ROOT / "src"))

from showcaller.checks.health import read_sample  # noqa: E402 - after the path setup
from showcaller.obs.client import OBSClient  # noqa: E402
from showcaller.obs.gateway import OBSGateway  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SCENES = ("Health A", "Health B")


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


@asynccontextmanager
async def _sim() -> AsyncIterator[tuple[str, str, int | None, str]]:
    from showcaller.obs.sim import SimulatedOBS

    async with SimulatedOBS(password="bench") as sim:
        sim.use_cases.stream_target("rtmp://127.0.0.1:0/live", listen=False)
        port = sim.use_cases.listen(0)
        yield sim.url, "bench", None, f"rtmp://127.0.0.1:{port}/live"


@contextmanager
def _real() -> Iterator[tuple[str, str, int | None, str]]:
    from tests.realobs import HeadlessOBS, RTMPServer

    with RTMPServer() as rtmp, HeadlessOBS() as obs:
        yield obs.url, obs.password, obs.obs_pid, rtmp.url


async def _on_air(gw: OBSGateway, server: str) -> None:
    for scene in SCENES:
        if scene not in await gw.scene_names():
            await gw.create_scene(scene)
    await gw.set_program_scene(SCENES[0])
    await gw.set_stream_service(server, "bench")
    await gw.start_stream()
    for _ in range(100):
        if (await gw.stream_status()).active:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the stream did not go on air")


async def _readings(gw: OBSGateway, n: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        await read_sample(gw, time.monotonic(), 3600.0)
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
        await asyncio.sleep(0.02)
    return walls, cpus


async def _switches(gw: OBSGateway, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        await gw.set_program_scene(SCENES[(i + 1) % 2])
        out.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.05)
    return out


async def _poll_fast(gw: OBSGateway, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await read_sample(gw, time.monotonic(), 3600.0)
        await asyncio.sleep(0.1)


async def _measure(url: str, password: str, obs_pid: int | None, server: str, short: bool) -> None:
    readings = 30 if short else 200
    switches = 10 if short else 40
    client = OBSClient(url, password)
    await client.connect()
    gw = OBSGateway(client)
    try:
        await _on_air(gw, server)
        walls, cpus = await _readings(gw, readings)
        print(
            f"  one reading: wall median {statistics.median(walls):.2f} ms, "
            f"p95 {_p95(walls):.2f} ms; CPU median {statistics.median(cpus):.2f} ms "
            f"= {statistics.median(cpus) / 10:.3f} % of a core at 1 reading/s (n={readings})"
        )
        quiet = await _switches(gw, switches)
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll_fast(gw, stop))
        obs0 = _cpu_of(obs_pid) if obs_pid else 0.0
        t0 = time.monotonic()
        busy = await _switches(gw, switches)
        polled_s = time.monotonic() - t0
        obs_polled = (_cpu_of(obs_pid) - obs0) if obs_pid else 0.0
        stop.set()
        await poller
        ratio = statistics.median(busy) / statistics.median(quiet)
        print(
            f"  scene switch: median {statistics.median(quiet):.2f} ms without polling, "
            f"{statistics.median(busy):.2f} ms while polling 10/s -> {ratio:.2f}x (n={switches})"
        )
        if obs_pid:
            obs1 = _cpu_of(obs_pid)
            t1 = time.monotonic()
            await _switches(gw, switches)
            idle_s = time.monotonic() - t1
            obs_idle = _cpu_of(obs_pid) - obs1
            print(
                f"  OBS CPU: {100 * obs_polled / polled_s:.1f} % of a core polled 10/s, "
                f"{100 * obs_idle / idle_s:.1f} % without (same switches; noisy)"
            )
        await gw.stop_stream()
    finally:
        await client.close()


async def _bench(real: bool, short: bool) -> None:
    print("## simulated OBS (in this process: CPU includes the sim's answers)")
    async with _sim() as (url, password, pid, server):
        await _measure(url, password, pid, server, short)
    if real:
        print("## real headless OBS, streaming to nginx-rtmp")
        with _real() as (url, password, pid, server):
            await _measure(url, password, pid, server, short)
    load: Any = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"  cores: {os.cpu_count()}, load average: {load}")


def main() -> int:
    """Run the benchmark; print numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="fewer readings (CI)")
    parser.add_argument("--real", action="store_true", help="also on a real headless OBS")
    args = parser.parse_args()
    asyncio.run(_bench(args.real, args.short))
    return 0


if __name__ == "__main__":
    sys.exit(main())
