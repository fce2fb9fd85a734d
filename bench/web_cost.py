"""What the web app costs while a show waits: CPU of showcaller with an open timer page.

    python bench/web_cost.py            # 3 runs x 20 s each way (about 3 min)
    python bench/web_cost.py --short    # 3 runs x 5 s (CI, about 1 min)

Each run starts `showcaller rehearse config.example.toml --obs sim --speed 1` as its own
process (the simulated OBS inside it, as `make demo` runs it), waits for the standby
slot to be on air (the show then waits ten minutes for its opening), opens the printed
/timer URL, and reads the process's CPU time (user + system, /proc) over the window.
The same run with `--no-web` and no page is the baseline; the web app's cost is the
difference. The timer page is a real headless Chromium (Debian's /usr/bin/chromium via
Playwright) when there is one, else an SSE client reading /api/events the way the page
does (in this process, so not counted). Prints the medians; the goal is < 1 % of a core.
It is a measurement: exit 0 unless it crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.browser
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - after the path setup

EXAMPLE = ROOT / "config.example.toml"
HAVE_CHROMIUM = CHROMIUM.exists()
GOAL_PERCENT = 1.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


async def end_process(proc: asyncio.subprocess.Process) -> None:
    """End a showcaller process as the host would: SIGINT (Ctrl-C), then 10 s to end
    before SIGKILL."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def showcaller(folder: Path, *, web: bool) -> AsyncIterator[tuple[int, str | None]]:
    """A rehearsal in its own process, waiting on its standby slot: (pid, timer URL)."""
    args = ["rehearse", str(EXAMPLE), "--obs", "sim", "--speed", "1"]
    args += ["--journal", str(folder / f"web-{web}.jsonl")]
    args += ["--web-port", "0"] if web else ["--no-web"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "showcaller", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    url = None
    try:
        async with asyncio.timeout(30):
            while True:
                line = (await proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("showcaller ended before the show started")
                if found := re.search(r"speaker timer: (\S+)", line):
                    url = found.group(1)
                if "▶ 1/" in line:  # the standby slot is on air
                    break
        drain = asyncio.create_task(proc.stdout.read())
        yield proc.pid, url
    finally:
        await end_process(proc)
        with contextlib.suppress(Exception):
            await drain


@contextlib.asynccontextmanager
async def timer_page(url: str) -> AsyncIterator[str]:
    """The timer open in headless Chromium, or an SSE reader when there is none."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        async_playwright = None
    if async_playwright is not None and HAVE_CHROMIUM:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 720})
            await page.goto(url)
            await page.wait_for_function("() => document.body.dataset.feed === 'live'")
            try:
                yield "headless Chromium"
            finally:
                await browser.close()
        return
    async with aiohttp.ClientSession() as http:
        base = url.rsplit("/timer", 1)[0]
        async with http.get(f"{base}/api/events?messages=0") as response:

            async def read() -> None:
                async for _ in response.content.iter_any():
                    pass

            reader = asyncio.create_task(read())
            try:
                yield "an SSE client"
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader


async def one_run(folder: Path, window_s: float, *, web: bool) -> tuple[float, str]:
    """Percent of a core showcaller used over `window_s` while waiting (and the client)."""
    async with showcaller(folder, web=web) as (pid, url), contextlib.AsyncExitStack() as stack:
        client = "no page"
        if url is not None:
            client = await stack.enter_async_context(timer_page(url))
        await asyncio.sleep(2.0)  # past start-up: imports, first states, page load
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(window_s)
        cpu1, wall1 = cpu_seconds(pid), time.monotonic()
    return 100 * (cpu1 - cpu0) / (wall1 - wall0), client


async def main(argv: list[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="5 s windows (for CI)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=float, help="seconds measured per run")
    args = parser.parse_args(argv)
    window = args.window or (5.0 if args.short else 20.0)
    print(f"cores: {os.cpu_count()}, load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"chromium: {CHROMIUM if HAVE_CHROMIUM else 'none'}; {args.runs} runs x {window:g} s")
    results: dict[bool, list[float]] = {True: [], False: []}
    client = ""
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.runs):
            for web in (False, True):
                percent, used = await one_run(Path(folder), window, web=web)
                results[web].append(percent)
                client = used if web else client
                label = f"web app + timer page ({used})" if web else "--no-web (baseline)"
                print(f"  run {n + 1}: {label}: {percent:.2f} % of a core")
    base, with_web = statistics.median(results[False]), statistics.median(results[True])
    cost = with_web - base
    verdict = "PASS" if cost < GOAL_PERCENT else "MISS"
    print(f"showcaller waiting, --no-web:            {base:.2f} % of a core (median)")
    print(f"showcaller waiting, web + {client}: {with_web:.2f} % of a core (median)")
    print(f"the web app's cost:                      {cost:+.2f} % of a core "
          f"(goal < {GOAL_PERCENT:g} %): {verdict}")  # fmt: skip
    return 0


if __name__ == "__main__":
    if importlib.util.find_spec("showcaller") is None:
        sys.exit("showcaller is not installed here: run .venv/bin/python bench/web_cost.py")
    sys.exit(asyncio.run(main()))
