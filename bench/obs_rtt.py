"""Request round trip through our OBSClient vs obs-websocket-py vs a bare aiohttp websocket.

    python bench/obs_rtt.py            # against the simulated OBS (in its own thread)
    python bench/obs_rtt.py --real     # also against a real headless OBS (tests/realobs.py)
    python bench/obs_rtt.py --short    # small N, for CI

Requests: GetVersion (pure round trip) and SetCurrentProgramScene alternating between
two scenes (real OBS waits for a frame, ~33-44 ms at 30 fps). Prints median and p99 in
ms and each client's median as a ratio to the bare websocket. Goal: ours <= 1.2x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.realobs
sys.path.insert(0, str(ROOT / "src"))

from showcaller import errors  # noqa: E402 - after the path setup
from showcaller.obs import protocol  # noqa: E402
from showcaller.obs.client import OBSClient  # noqa: E402

SCENES = ("Bench A", "Bench B")


@dataclass
class Target:
    """An OBS to measure against."""

    name: str
    url: str
    password: str


@dataclass
class Result:
    """Round trips of one (target, request, client), in seconds."""

    target: str
    request: str
    client: str
    samples: list[float]

    @property
    def median_ms(self) -> float:
        """Median in ms."""
        return statistics.median(self.samples) * 1000

    @property
    def p99_ms(self) -> float:
        """99th percentile in ms."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def request_plan(n_version: int, n_switch: int) -> list[tuple[str, int]]:
    """(request type, count) to measure."""
    return [("GetVersion", n_version), ("SetCurrentProgramScene", n_switch)]


def data_for(request_type: str, i: int) -> dict[str, Any] | None:
    """Request data for the i-th request of a type."""
    if request_type == "SetCurrentProgramScene":
        return {"sceneName": SCENES[i % 2]}
    return None


async def prepare(target: Target) -> None:
    """Create the two scenes to switch between."""
    async with OBSClient(target.url, target.password) as client:
        for scene in SCENES:
            with suppress(errors.ResourceAlreadyExists):  # from an earlier run
                await client.request("CreateScene", {"sceneName": scene})


async def time_loop(
    send: Callable[[str, dict[str, Any] | None], Awaitable[Any]], request_type: str, n: int
) -> list[float]:
    """Time n sequential requests (after a few warm-up ones)."""
    for i in range(min(5, n)):
        await send(request_type, data_for(request_type, i))
    samples = []
    for i in range(n):
        start = time.perf_counter()
        await send(request_type, data_for(request_type, i + 1))
        samples.append(time.perf_counter() - start)
    return samples


async def bench_ours(target: Target, request_type: str, n: int) -> list[float]:
    """Through showcaller's OBSClient."""
    async with OBSClient(target.url, target.password) as client:
        return await time_loop(client.request, request_type, n)


async def bench_bare(target: Target, request_type: str, n: int) -> list[float]:
    """Through a bare aiohttp websocket: hand-written Identify, one request at a time."""
    async with aiohttp.ClientSession() as session, session.ws_connect(target.url) as ws:
        hello = json.loads((await ws.receive()).data)["d"]
        identify: dict[str, Any] = {
            "rpcVersion": 1,
            "eventSubscriptions": int(protocol.DEFAULT_SUBSCRIPTIONS),
        }
        if "authentication" in hello:
            auth = hello["authentication"]
            identify["authentication"] = protocol.auth_string(
                target.password, auth["salt"], auth["challenge"]
            )
        await ws.send_str(json.dumps({"op": 1, "d": identify}))
        json.loads((await ws.receive()).data)  # Identified
        counter = 0

        async def send(rtype: str, data: dict[str, Any] | None) -> Any:
            nonlocal counter
            counter += 1
            rid = str(counter)
            d: dict[str, Any] = {"requestType": rtype, "requestId": rid}
            if data is not None:
                d["requestData"] = data
            await ws.send_str(json.dumps({"op": 6, "d": d}))
            while True:
                msg = json.loads((await ws.receive()).data)
                if msg["op"] == 7 and msg["d"]["requestId"] == rid:
                    return msg["d"]

        return await time_loop(send, request_type, n)


def bench_obsws(target: Target, request_type: str, n: int) -> list[float]:
    """Through obs-websocket-py 1.0 (threads; run outside the event loop)."""
    from obswebsocket import obsws
    from obswebsocket import requests as req

    parts = urlsplit(target.url)
    ws = obsws(parts.hostname, parts.port, target.password, legacy=False, timeout=30)
    ws.connect()
    try:
        make = getattr(req, request_type)
        for i in range(min(5, n)):
            ws.call(make(**(data_for(request_type, i) or {})))
        samples = []
        for i in range(n):
            call = make(**(data_for(request_type, i + 1) or {}))
            start = time.perf_counter()
            ws.call(call)
            samples.append(time.perf_counter() - start)
        return samples
    finally:
        ws.disconnect()


@contextmanager
def sim_in_thread() -> Iterator[Target]:
    """The simulated OBS on its own event loop in a thread (as a separate OBS would be)."""
    from showcaller.obs.sim import SimulatedOBS

    loop = asyncio.new_event_loop()
    sim = SimulatedOBS(host="127.0.0.1", port=0, password="bench")
    started = threading.Event()
    stop: asyncio.Future[None] | None = None

    async def serve() -> None:
        nonlocal stop
        stop = loop.create_future()
        async with sim:
            started.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield Target("sim", sim.url, "bench")
    finally:
        if stop is not None:
            loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(10)
        loop.close()


@contextmanager
def real_obs() -> Iterator[Target]:
    """A real headless OBS (tests/realobs.py)."""
    from tests.realobs import HeadlessOBS

    with HeadlessOBS() as obs:
        yield Target("real OBS", obs.url, obs.password)


def measure(target: Target, n_version: int, n_switch: int) -> list[Result]:
    """Every client and request against one target."""
    asyncio.run(prepare(target))
    results = []
    for request_type, n in request_plan(n_version, n_switch):
        for client, run in (
            ("bare aiohttp", lambda rt=request_type, k=n: asyncio.run(bench_bare(target, rt, k))),
            ("showcaller", lambda rt=request_type, k=n: asyncio.run(bench_ours(target, rt, k))),
            ("obs-websocket-py", lambda rt=request_type, k=n: bench_obsws(target, rt, k)),
        ):
            results.append(Result(target.name, request_type, client, run()))
    return results


def print_table(results: list[Result]) -> None:
    """The results, with each median as a ratio to the bare websocket's."""
    bare = {(r.target, r.request): r.median_ms for r in results if r.client == "bare aiohttp"}
    header = f"{'target':<9} {'request':<23} {'client':<17} {'n':>5} {'median ms':>10} "
    header += f"{'p99 ms':>9} {'x bare':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = r.median_ms / bare[(r.target, r.request)]
        print(
            f"{r.target:<9} {r.request:<23} {r.client:<17} {len(r.samples):>5} "
            f"{r.median_ms:>10.3f} {r.p99_ms:>9.3f} {ratio:>7.2f}"
        )


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="GetVersion round trips per client")
    parser.add_argument("--switches", type=int, default=100, help="scene switches per client")
    parser.add_argument("--short", action="store_true", help="small N (CI)")
    parser.add_argument("--real", action="store_true", help="also against real headless OBS")
    args = parser.parse_args()
    n_version, n_switch = (50, 10) if args.short else (args.n, args.switches)
    results: list[Result] = []
    with sim_in_thread() as sim:
        results += measure(sim, n_version, n_switch)
    if args.real:
        with real_obs() as obs:
            results += measure(obs, n_version, n_switch)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
