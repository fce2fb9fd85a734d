"""Speaker checks: how long checking 10 speakers takes, and what watching on air costs.

    python bench/checks.py            # on the simulated OBS
    python bench/checks.py --real     # also on a real headless OBS (tests/realobs.py)
    python bench/checks.py --short    # fewer runs, shorter watch (CI)

1. **Check 10 speakers** (video + audio each, all at once): wall time, median of the
   runs. The window-dependent part is max(frozen_seconds, window_seconds) for a live
   speaker (a live picture passes at its second screenshot; sound is judged after the
   window), so the overhead = wall - window. Goal: overhead <= 3 s.
2. **Watching on air**: one speaker's feeds watched for N seconds (a screenshot a
   second, the meters); CPU of this process over the time (process_time) and, on real
   OBS, of OBS itself (/proc/PID/stat), each as % of one core. The same N seconds
   without the watch are subtracted. Goal: < 2 % of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import struct
import sys
import tempfile
import time
import wave
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.realobs
sys.path.insert(0, str(ROOT / "src"))

from showcaller.checks.during import ShowChecks  # noqa: E402 - after the path setup
from showcaller.checks.run import SpeakerCheck, meter_tap  # noqa: E402
from showcaller.clock import SystemClock  # noqa: E402
from showcaller.config import EventConfig, load_config  # noqa: E402
from showcaller.obs.client import OBSClient  # noqa: E402
from showcaller.obs.gateway import OBSGateway  # noqa: E402

EXAMPLE = ROOT / "config.example.toml"
SPEAKERS = 10
TICKS = os.sysconf("SC_CLK_TCK")


def _config(folder: Path) -> EventConfig:
    """The example event with ten speakers, each with a video and an audio input."""
    text = EXAMPLE.read_text(encoding="utf-8").split("\n# The built-in simulated OBS only")[0]
    for n in range(7, SPEAKERS + 1):
        text += (
            f'\n[[speakers]]\nid = "s{n}"\nname = "Speaker {n}"\n'
            f'video_input = "Speaker {n} Video"\naudio_input = "Speaker {n} Audio"\n'
        )
    path = folder / "event.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _wav(path: Path) -> Path:
    rate = 48000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                for n in range(rate)
            )
        )
    return path


@asynccontextmanager
async def _sim(cfg: EventConfig) -> AsyncIterator[tuple[str, str, int | None]]:
    from showcaller.obs.sim import SimulatedOBS
    from showcaller.stage.needs import needs_of

    async with SimulatedOBS(password="bench") as sim:
        sim.use_cases.seed_show(needs_of(cfg))
        # As on real OBS: the speakers' inputs on program, where OBS meters them.
        bench = sim.model.create_scene("Bench")
        for sp in cfg.speakers:
            for name in dict.fromkeys(n for n in (sp.video_input, sp.audio_input) if n):
                sim.model.add_item(bench, name)
        sim.model.program = "Bench"
        sim.model.refresh_activity()
        yield sim.url, "bench", None


@contextmanager
def _real_obs() -> Iterator[Any]:
    from tests.realobs import HeadlessOBS

    with HeadlessOBS() as obs:
        yield obs


async def _provision_real(url: str, password: str, cfg: EventConfig, folder: Path) -> None:
    """A live picture is a color source the bench keeps recolouring; sound, a looping WAV."""
    client = OBSClient(url, password)
    await client.connect()
    gw = OBSGateway(client)
    try:
        await gw.create_scene("Bench")
        wav = _wav(folder / "tone.wav")
        for sp in cfg.speakers:
            assert sp.video_input
            assert sp.audio_input
            await gw.create_input(
                "Bench", sp.video_input, "color_source_v3", {"width": 640, "height": 360}
            )
            await gw.create_input(
                "Bench",
                sp.audio_input,
                "ffmpeg_source",
                {"local_file": str(wav), "is_local_file": True, "looping": True},
            )
        await gw.set_program_scene("Bench")
    finally:
        await client.close()


async def _recolour(gw: OBSGateway, cfg: EventConfig) -> None:
    n = 0
    while True:
        n += 1
        for sp in cfg.speakers:
            assert sp.video_input
            colour = (0xFF8080FF, 0xFF80FF80, 0xFFFF8080)[n % 3]  # ABGR: red, green, blue
            await gw.set_input_settings(sp.video_input, {"color": colour})
        await asyncio.sleep(0.1)


async def _check_runs(url: str, password: str, cfg: EventConfig, runs: int, real: bool) -> None:
    client = OBSClient(url, password)
    await client.connect()
    gw = OBSGateway(client)
    recolour = asyncio.create_task(_recolour(gw, cfg)) if real else None
    window = max(cfg.checks.window_seconds, 0.0)
    walls = []
    try:
        checker = SpeakerCheck(cfg, gw)
        async with meter_tap(gw, checker.clock) as tap:
            await asyncio.sleep(0.6)  # the first meter event after subscribing is dropped
            for _ in range(runs):
                t0 = time.perf_counter()
                results = await checker.run(tap=tap)
                walls.append(time.perf_counter() - t0)
                failed = [r for r in results if r.verdict != "pass"]
                if failed:
                    print(f"  (not all passed: {[(r.speaker, r.part, r.value) for r in failed]})")
    finally:
        if recolour is not None:
            recolour.cancel()
            await asyncio.gather(recolour, return_exceptions=True)
        await client.close()
    median = statistics.median(walls)
    overhead = median - window
    verdict = "PASS" if overhead <= 3.0 else "MISS"
    print(
        f"  check {SPEAKERS} speakers: wall median {median:.2f} s over {runs} runs "
        f"(min {min(walls):.2f}, max {max(walls):.2f}); window {window:g} s; "
        f"overhead {overhead:.2f} s (goal <= 3 s): {verdict}"
    )


def _obs_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class _FakeContext:
    """Just what `ShowChecks.watch_on_air` reads of a show's context: one slot on air."""

    def __init__(self, cfg: EventConfig, gateway: OBSGateway) -> None:
        from showcaller.show.plan import ShowPlan
        from showcaller.show.state import Mode

        self.gateway = gateway
        self.speed = 1.0
        self.mode = Mode.LIVE
        self.plan = ShowPlan.of(cfg)
        talk = next(s for s in self.plan.slots if s.speakers)
        show = type(
            "Show", (), {"on_air": type("On", (), {"index": talk.index})(), "trouble": False}
        )
        self.state = type("State", (), {"show": show()})()
        self.warnings: list[str] = []

    def warn(self, text: str, *, problem: bool = True, topic: str = "") -> None:
        self.warnings.append(text)

    def say(self, text: str, *, topic: str = "") -> None:
        self.warnings.append(text)


async def _watch_cost(
    url: str, password: str, cfg: EventConfig, seconds: float, pid: int | None
) -> None:
    client = OBSClient(url, password)
    await client.connect()
    gw = OBSGateway(client)
    try:
        async with meter_tap(gw, SystemClock()) as tap:
            ctx: Any = _FakeContext(cfg, gw)
            checks = ShowChecks(ctx, cfg, tap)

            async def measure(watch: bool) -> tuple[float, float]:
                cpu0, obs0 = time.process_time(), _obs_cpu(pid)
                task = asyncio.create_task(checks.watch_on_air()) if watch else None
                await asyncio.sleep(seconds)
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                return time.process_time() - cpu0, _obs_cpu(pid) - obs0

            idle_ours, idle_obs = await measure(False)
            ours, obs = await measure(True)
    finally:
        await client.close()
    ours_pct = 100 * (ours - idle_ours) / seconds
    obs_pct = 100 * (obs - idle_obs) / seconds
    total = ours_pct + (obs_pct if pid is not None else 0.0)
    verdict = "PASS" if total < 2.0 else "MISS"
    obs_text = f", OBS +{obs_pct:.2f} %" if pid is not None else " (the sim runs in this process)"
    print(
        f"  watch on air ({seconds:g} s, one speaker: screenshot/s + meters): "
        f"showcaller +{ours_pct:.2f} % of a core{obs_text}; goal < 2 %: {verdict}"
    )


async def _bench(real: bool, short: bool) -> None:
    runs = 2 if short else 5
    watch_s = 5.0 if short else 20.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cfg = _config(folder)
        print(f"## simulated OBS (speakers: {SPEAKERS}, window {cfg.checks.window_seconds:g} s)")
        async with _sim(cfg) as (url, password, _pid):
            await _check_runs(url, password, cfg, runs, real=False)
            await _watch_cost(url, password, cfg, watch_s, None)
        if real:
            print("## real headless OBS")
            with _real_obs() as obs:
                await _provision_real(obs.url, obs.password, cfg, folder)
                await _check_runs(obs.url, obs.password, cfg, runs, real=True)
                await _watch_cost(obs.url, obs.password, cfg, watch_s, obs.obs_pid)
    print(
        f"  cores: {os.cpu_count()}, load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main() -> int:
    """Run the benchmark; print numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="fewer runs (CI)")
    parser.add_argument("--real", action="store_true", help="also on a real headless OBS")
    args = parser.parse_args()
    asyncio.run(_bench(args.real, args.short))
    return 0


if __name__ == "__main__":
    sys.exit(main())
