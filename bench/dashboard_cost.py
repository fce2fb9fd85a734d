"""What the terminal dashboard costs while a live show waits: CPU of one core, in percent.

Runs `showcaller live --obs sim --yes` on an 80×24 pseudo-terminal (drained, as a
terminal is) for a show that starts in two hours, once with the dashboard and once with
`--plain`, and reads the process's CPU time from /proc over a window. The difference is
the dashboard's own cost (its repaints about once a second while waiting, its 4 Hz
looks at the clock). Prints the median of a few runs.

    python bench/dashboard_cost.py [--runs 3] [--window 10]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _event(path: Path) -> None:
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    path.write_text(
        f"""
[event]
title = "Dashboard cost — 負荷の測定"
date = {start.date().isoformat()}
timezone = "UTC"
crosses_midnight = true

[obs]
url = "sim"

[scenes]
opening = "Opening"
talk = "Talk"
closing = "Closing"

[[timetable.slots]]
kind = "opening"
title = "オープニング"
start = "{start:%H:%M}"
duration = "10m"

[[timetable.slots]]
kind = "talk"
title = "小さな LLM を手元で動かす"
duration = "20m"

[[timetable.slots]]
kind = "closing"
duration = "10m"
""",
        encoding="utf-8",
    )


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _drain(master: int, stop: threading.Event) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return


def one_run(event: Path, journal: Path, *, plain: bool, window: float) -> float:
    """CPU percent of one core used by `showcaller live` while its show waits."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    argv = [sys.executable, "-m", "showcaller", "live", str(event), "--obs", "sim", "--yes"]
    argv += ["--journal", str(journal), "--fresh"] + (["--plain"] if plain else [])
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave)
    stop = threading.Event()
    reader = threading.Thread(target=_drain, args=(master, stop), daemon=True)
    reader.start()
    try:
        time.sleep(4.0)  # start-up: imports, the simulated OBS, preflight
        if proc.poll() is not None:
            raise SystemExit(f"showcaller live exited early ({proc.returncode})")
        cpu0, t0 = _cpu_s(proc.pid), time.monotonic()
        time.sleep(window)
        cpu1, t1 = _cpu_s(proc.pid), time.monotonic()
        return (cpu1 - cpu0) / (t1 - t0) * 100
    finally:
        proc.send_signal(signal.SIGTERM)  # live detaches on SIGTERM
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stop.set()
        reader.join(2)
        os.close(master)
        os.close(slave)


def main() -> int:
    """Measure and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured per run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        event = Path(folder) / "event.toml"
        _event(event)
        results: dict[str, list[float]] = {"plain": [], "dashboard": []}
        for run in range(args.runs):
            for name in results:
                journal = Path(folder) / f"{name}-{run}.jsonl"
                results[name].append(
                    one_run(event, journal, plain=name == "plain", window=args.window)
                )
    plain = statistics.median(results["plain"])
    board = statistics.median(results["dashboard"])
    for name, values in results.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:>9}: median {statistics.median(values):.2f} % of a core  (runs: {runs})")
    print(f"the dashboard's own cost while waiting: {board - plain:.2f} % of a core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
