"""Chaos against real OBS, the full run: OBS and `showcaller live` SIGKILLed again and again.

    python bench/chaos.py --cycles 5            # 5 OBS kills and 5 showcaller kills
    python bench/chaos.py --cycles 5 --seed 7   # another random order and other moments
    python bench/chaos.py --cycles 20 --shows 4 # spread over 4 shows (each ~1–2 min)

The same code as the CI test (tests/test_chaos_realobs.py; tests/chaoskit.py does the
work): one real headless OBS 29 streaming to nginx-rtmp, a real `showcaller live --yes`
process, kills at seeded random moments. Per event it prints what was measured; at the
end medians and ranges of: OBS accepting → the planned scene on program, OBS accepting
→ the stream's bytes at nginx again, showcaller started again → "resumed at" journaled;
and every broken promise (the goals: 3 s, 3 s, and bytes never stopping).
Needs obs-studio, xvfb, nginx-light, libnginx-mod-rtmp. Exit 1 if a promise was broken.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

THIS_FILE = Path(__file__).resolve()
ROOT = THIS_FILE.parent.parent
sys.path.insert(0, str(ROOT))  # tests.chaoskit
sys.path.insert(0, str(ROOT / "src"))

from tests.chaoskit import (  # noqa: E402 - after the path setup
    ChaosRun,
    chaos_plan,
    load_average,
    run_chaos,
    started_at,
    summary,
)
from tests.realobs import HeadlessOBS, RTMPServer, reset_obs  # noqa: E402


async def main(cycles: int, seed: int, shows: int) -> int:
    """Run the shows; print per event, then the summary; 1 if a promise was broken."""
    print(f"chaos: {cycles} cycles, seed {seed}, {shows} show(s); {started_at()}")
    print(f"load average before: {load_average()}")
    runs: list[ChaosRun] = []
    broken: list[str] = []
    began = time.monotonic()
    with HeadlessOBS() as obs, RTMPServer() as rtmp:
        for show in range(shows):
            n = cycles // shows + (1 if show < cycles % shows else 0)
            if n == 0:
                continue
            plan = chaos_plan(seed + show, obs_kills=n, showcaller_kills=n)
            await asyncio.to_thread(obs.ensure_running)
            await asyncio.to_thread(reset_obs, obs.url, obs.password)
            with tempfile.TemporaryDirectory(prefix="showcaller-chaos-") as tmp:
                print(f"-- show {show + 1}/{shows}: {' '.join(plan)}")
                run = await run_chaos(
                    obs, rtmp, Path(tmp), plan, seed=seed + show, report=lambda x: print("  " + x)
                )
                runs.append(run)
                problems = run.problems()  # while its journal is still there
                broken.extend(problems)
                print(f"   {run.wall_s} s, exit {run.exit_code}, problems: {problems or 'none'}")
    print(f"== {sum(len(r.events) for r in runs)} events in {time.monotonic() - began:.0f} s")
    for line in summary(runs):
        print(line)
    print(f"load average after: {load_average()}")
    for problem in broken:
        print(f"BROKEN: {problem}")
    return 1 if broken else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cycles", type=int, default=5, help="OBS kills (and as many of showcaller)"
    )
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--shows", type=int, default=1, help="spread the cycles over N shows")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.cycles, args.seed, args.shows)))
