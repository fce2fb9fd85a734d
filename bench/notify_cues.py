"""Notifications: do webhooks move a cue? Cue landing lateness with and without them.

    python bench/notify_cues.py            # 3 runs of each case
    python bench/notify_cues.py --short    # 1 run of each (CI)

A rehearsal of N one-minute talks (alternating scenes, so every cue lands) on the
simulated OBS at x60, with `--notify`, in three cases:

1. **none**: no webhooks;
2. **dead + slow**: one webhook refusing connections, one answering after 30 s
   (timeout 1 s, 1 retry), every event (a notice per cue);
3. **busy**: a working receiver that takes 200 ms per request, every event.

For each: the landing lateness of every cue (real ms, from the journal's `landed`
records), median / p95 / max, and what the notifier counted. Goal: the webhook cases'
p95 within 5 ms of `none`'s and no max beyond it by more than 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.sim_fixtures import seed_event  # noqa: E402

from showcaller.config import OBS, load_config  # noqa: E402 - after the path setup
from showcaller.modes import RehearsalOptions, rehearse  # noqa: E402
from showcaller.obs.sim import SimulatedOBS  # noqa: E402
from showcaller.show.journal import read_journal  # noqa: E402
from showcaller.show.session import ShowSession  # noqa: E402

SPEED = 60.0
TALKS = 16
EVENTS = ["next_speaker", "check", "stream", "host", "health", "cue", "end"]


def _event(webhooks: list[str]) -> str:
    lines = [
        '[event]\ntitle = "bench"\ndate = 2026-12-10\n[obs]\ntransition = "Cut"',
        '[scenes]\ntalk = "Talk"\nlt = "Lightning Talk"\n[record]\nenabled = false',
        "[notify]\ntimeout = 1\nretries = 1",
    ]
    for url in webhooks:
        lines.append(f"[[notify.webhooks]]\nurl = {json.dumps(url)}\nevents = {json.dumps(EVENTS)}")
    for n in range(TALKS):
        kind = "talk" if n % 2 == 0 else "lt"
        start = 'start = "19:30"\n' if n == 0 else ""
        lines.append(
            f'[[timetable.slots]]\nkind = "{kind}"\ntitle = "talk {n + 1}"\n{start}'
            f'duration = "1m"\nspeakers = ["s{n}"]'
        )
    lines += [f'[[speakers]]\nid = "s{n}"\nname = "Speaker {n}"' for n in range(TALKS)]
    return "\n".join(lines) + "\n"


async def _receiver() -> tuple[web.AppRunner, str]:
    async def hook(request: web.Request) -> web.Response:
        await request.read()
        delay = {"slow": 30.0, "busy": 0.2}.get(request.match_info["kind"], 0.0)
        await asyncio.sleep(delay)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{kind}/{secret}", hook)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/dead/x"


async def _run(folder: Path, webhooks: list[str]) -> tuple[list[float], Any]:
    config = folder / "event.toml"
    config.write_text(_event(webhooks), encoding="utf-8")
    cfg = load_config(config)
    sessions: list[ShowSession] = []
    async with SimulatedOBS(record_dir=folder / "rec") as sim:
        seed_event(sim, cfg)
        options = RehearsalOptions(
            obs=OBS.model_validate({"url": sim.url}),
            speed=SPEED,
            journal=folder / "j.jsonl",
            notify=True,
        )
        await rehearse(cfg, options, on_session=sessions.append)
    late = [e.data["late_ms"] for e in read_journal(folder / "j.jsonl") if e.kind == "landed"]
    return late, sessions[0].state.notify


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="one run per case")
    runs = 1 if parser.parse_args().short else 3
    runner, base = await _receiver()
    cases = {
        "none": [],
        "dead + slow": [_dead_url(), f"{base}/slow/x"],
        "busy": [f"{base}/busy/x"],
    }
    results: dict[str, list[float]] = {}
    try:
        for name, hooks in cases.items():
            late: list[float] = []
            view: Any = None
            for _ in range(runs):
                with tempfile.TemporaryDirectory() as tmp:
                    got, view = await _run(Path(tmp), hooks)
                    late += [abs(x) for x in got]
            results[name] = late
            counts = (
                f"sent {view.sent}, failed {view.failed}, retries {view.retries}, "
                f"dropped {view.dropped}"
                if view is not None
                else "no webhooks"
            )
            print(
                f"{name:12s} cues {len(late):3d}  |late| median {statistics.median(late):6.2f} ms"
                f"  p95 {_p95(late):6.2f} ms  max {max(late):6.2f} ms   ({counts}, last run)"
            )
    finally:
        await runner.cleanup()
    base_p95, base_max = _p95(results["none"]), max(results["none"])
    ok = all(
        _p95(v) <= base_p95 + 5 and max(v) <= base_max + 50
        for k, v in results.items()
        if k != "none"
    )
    print(f"goal (p95 within 5 ms, max within 50 ms of 'none'): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
