"""The show journal: append-only JSON Lines of every cue, command, OBS event and warning.

One line per record, written and flushed at once, so a crash (even SIGKILL) loses
nothing the engine did. Every record carries the wall-clock and monotonic time of
the show clock and the plan's hash. `showcaller live` resumes from the last
timetable snapshot in the journal; reports and chapters are computed from it.

Flushing hands the line to the operating system; that survives a crash of
showcaller (the case that matters at a meetup), not a power cut of the machine.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from showcaller.clock import Clock
from showcaller.errors import UsageError

log = logging.getLogger(__name__)

JOURNAL_FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """One journal line, parsed."""

    kind: str
    wall: str
    mono: float
    plan: str
    data: Mapping[str, Any]
    line: int


class Journal:
    """Appends records to a JSON Lines file, one flushed line each."""

    def __init__(self, path: Path, clock: Clock, plan_hash: str, *, fresh: bool = False) -> None:
        self.path = path
        self._fresh = fresh
        self._clock = clock
        self._plan = plan_hash
        self._fh: TextIO | None = None

    def open(self) -> Journal:
        """Open the file for appending, or anew when `fresh` (creating its folder); returns self."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Line buffering plus an explicit flush per record: each line reaches the OS whole.
        self._fh = self.path.open("w" if self._fresh else "a", encoding="utf-8", buffering=1)
        return self

    def close(self) -> None:
        """Close the file; further writes raise."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Journal:
        return self.open() if self._fh is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, kind: str, **data: Any) -> None:
        """Append one record of `kind` with `data` (JSON-compatible values)."""
        if self._fh is None:
            raise RuntimeError("journal is not open")
        record = {
            "kind": kind,
            "wall": self._clock.now().isoformat(),
            "mono": round(self._clock.monotonic(), 6),
            "plan": self._plan,
            "v": JOURNAL_FORMAT,
            **data,
        }
        self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()


def read_journal(path: Path) -> Iterator[Entry]:
    """Yield the records of a journal; a torn last line (crash mid-write) is skipped."""
    with path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                log.warning("%s:%d: unreadable journal line skipped", path, number)
                continue
            if not isinstance(obj, dict) or "kind" not in obj:
                log.warning("%s:%d: journal line without a kind skipped", path, number)
                continue
            yield Entry(
                kind=str(obj["kind"]),
                wall=str(obj.get("wall", "")),
                mono=float(obj.get("mono", 0.0)),
                plan=str(obj.get("plan", "")),
                data=obj,
                line=number,
            )


@dataclass(frozen=True)
class ResumePoint:
    """Where a crashed show stood: the last timetable snapshot and what OBS should show."""

    state: Mapping[str, Any]
    scene: str | None
    ended: bool
    line: int


def last_state(path: Path, plan_hash: str) -> ResumePoint | None:
    """The last timetable snapshot in a journal, or None when there is none.

    Raises UsageError when the journal belongs to a different plan: resuming it would
    put the wrong slot on air.
    """
    if not path.exists():
        return None
    point: ResumePoint | None = None
    for entry in read_journal(path):
        if entry.kind != "state":
            continue
        if entry.plan != plan_hash:
            raise UsageError(
                f"{path}:{entry.line}: this journal was written for a different timetable",
                hint="pass --fresh to start a new show (the old journal is kept with a suffix)",
            )
        point = ResumePoint(
            state=entry.data["timetable"],
            scene=entry.data.get("scene"),
            ended=bool(entry.data.get("ended", False)),
            line=entry.line,
        )
    return point


def set_aside(path: Path) -> Path | None:
    """Rename an existing journal to `<name>.N` so a fresh show starts a new one."""
    if not path.exists():
        return None
    n = 1
    while (target := path.with_name(f"{path.name}.{n}")).exists():
        n += 1
    os.replace(path, target)
    return target
