"""How long `showcaller provision` of the example event takes, and a rerun that has nothing to do.

    python bench/provision.py            # the simulated OBS (fresh each round), 1920×1080
    python bench/provision.py --real     # also a real headless OBS 29 at 1280×720
    python bench/provision.py --short    # 3 rounds, for CI

Prints, per OBS, the median (and max) seconds of a full provision on a fresh OBS, of
the plan of a second run (which must find nothing to do), and how many steps the plan had.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.realobs
sys.path.insert(0, str(ROOT / "src"))

from showcaller.config import EventConfig, load_config  # noqa: E402 - after the path setup
from showcaller.obs.client import OBSClient  # noqa: E402
from showcaller.obs.gateway import OBSGateway  # noqa: E402
from showcaller.obs.sim import SimulatedOBS  # noqa: E402
from showcaller.stage.provision import apply, plan  # noqa: E402

PASSWORD = "bench"


async def one_round(url: str, password: str, cfg: EventConfig) -> tuple[float, float, int]:
    async with OBSClient(url, password) as client:
        gw = OBSGateway(client)
        t0 = time.perf_counter()
        first = await plan(gw, cfg)
        outcome = await apply(gw, first.changes)
        t1 = time.perf_counter()
        again = await plan(gw, cfg)
        t2 = time.perf_counter()
    if outcome.failed or again.changes:
        raise SystemExit(f"provision did not converge: {outcome.failed} {again.changes}")
    return t1 - t0, t2 - t1, len(first.changes)


def report(name: str, rounds: list[tuple[float, float, int]]) -> None:
    full = [r[0] for r in rounds]
    rerun = [r[1] for r in rounds]
    print(
        f"{name}: provision {statistics.median(full):.3f} s (max {max(full):.3f}), "
        f"rerun plan {statistics.median(rerun) * 1000:.1f} ms (max {max(rerun) * 1000:.1f}), "
        f"{rounds[0][2]} steps, {len(rounds)} rounds"
    )


async def sim_rounds(cfg: EventConfig, n: int) -> list[tuple[float, float, int]]:
    rounds = []
    for _ in range(n):
        async with SimulatedOBS(password=PASSWORD) as sim:
            rounds.append(await one_round(sim.url, PASSWORD, cfg))
    return rounds


def real_rounds(cfg: EventConfig, n: int) -> list[tuple[float, float, int]]:
    from tests.realobs import HeadlessOBS, reset_obs

    rounds = []
    with HeadlessOBS(width=1280, height=720) as obs:
        for _ in range(n):
            reset_obs(obs.url, obs.password)
            rounds.append(asyncio.run(one_round(obs.url, obs.password, cfg)))
    return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="also a real headless OBS")
    parser.add_argument("--short", action="store_true", help="3 rounds")
    args = parser.parse_args()
    n = 3 if args.short else 10
    cfg = load_config(ROOT / "config.example.toml")
    report("sim", asyncio.run(sim_rounds(cfg, n)))
    if args.real:
        report("real OBS 29", real_rounds(cfg, max(3, n // 2)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
