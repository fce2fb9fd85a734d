"""What the MC's cue cards cost the session state: microseconds per state built.

The session builds one state per change (about once a second while a show runs, more in
a sped-up rehearsal) and each carries the cards of the slot on air and the next slot.
Measured on the example event: a state whose times did not change (the cards come from
`CueCards`' memory), a state with new expected times (a delay: both cards made anew),
the weighted length of a post, and the whole `showcaller cards` document.
Prints medians of several rounds.

    python bench/cards_cost.py [--rounds 7] [--n 2000]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from showcaller.config import load_config
from showcaller.show.state import ShowState, SlotView
from showcaller.stage.cards import CueCards, cards_markdown
from showcaller.stage.posts import weighted_length

ROOT = Path(__file__).resolve().parent.parent


def _show(cfg: object, on_air: int, delay_s: float) -> ShowState:
    slots = cfg.slots_resolved()  # type: ignore[attr-defined]
    shift = timedelta(seconds=delay_s)
    views = tuple(
        SlotView(
            s.index,
            s.kind,
            s.title,
            tuple(p.name for p in s.speakers),
            s.scene,
            s.start.isoformat(),
            s.end.isoformat(),
            (s.start + shift).isoformat(),
            (s.end + shift).isoformat(),
            "done" if s.index < on_air else "on_air" if s.index == on_air else "upcoming",
        )
        for s in slots
    )
    return ShowState(
        "bench",
        "live",
        "on_air",
        datetime.now().isoformat(),
        views[on_air],
        views[on_air + 1],
        300.0,
        120.0,
        delay_s,
        False,
        False,
        None,
        False,
        "",
        views,
        (),
        1,
    )


def _median_us(run: Callable[[int], object], n: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            run(i)
        times.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    cfg = load_config(ROOT / "config.example.toml")
    cards = CueCards(cfg)
    steady = _show(cfg, 6, 65.0)
    shows = [dataclasses.replace(_show(cfg, 6, 65.0 + i)) for i in range(50)]
    post = cards.view(_show(cfg, 2, 0)).on_air.post  # type: ignore[union-attr]
    assert post is not None
    rows = [
        ("cards of a state, same times (remembered)", "µs", lambda i: cards.view(steady), args.n),
        (
            "cards of a state, new times (made anew)",
            "µs",
            lambda i: CueCards(cfg).view(shows[i % 50]),
            args.n // 4,
        ),
        ("weighted length of a post draft", "µs", lambda i: weighted_length(post.text), args.n),
        ("showcaller cards, the whole evening", "ms", lambda i: cards_markdown(cfg), 20),
    ]
    for label, unit, run, n in rows:
        value = _median_us(run, n, args.rounds) / (1000 if unit == "ms" else 1)
        print(f"{label + ':':<45} {value:8.2f} {unit}")


if __name__ == "__main__":
    main()
