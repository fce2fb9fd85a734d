"""One run of a show, read back from its journal alone: the plan, what happened, when.

A journal may hold several runs: `live` appends to it, and a resumed show (a crash, a
restart) writes `resume` before its next `start`. A `start` that follows a `resume`
continues the run before it (the two are merged: one evening); any other `start` begins
a new run. Exports use the **last** run; `runs_of` gives them all.

Every moment is in show seconds from the plan's origin (the first slot's planned start),
worked out from each record's monotonic time against the `start` record before it (so a
wall-clock jump during the show does not bend the times); a sped-up rehearsal's times are
show time, what the live show would have been.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from showcaller.errors import UsageError
from showcaller.show.journal import Entry, Kind, read_journal
from showcaller.words import in_room


@dataclass(frozen=True)
class PlanSpeaker:
    """A speaker as the plan record names them."""

    id: str
    name: str
    handle: str = ""


@dataclass(frozen=True)
class PlanSlot:
    """One planned slot (show seconds)."""

    index: int
    kind: str
    title: str
    speakers: tuple[PlanSpeaker, ...]
    start: float
    end: float
    scene: str = ""
    grace_s: float = 0.0  # `end = N`: the slot may run this long past its end, as planned

    @property
    def names(self) -> str:
        """The speakers' names, " / " between them ("" without speakers)."""
        return " / ".join(sp.name for sp in self.speakers)


@dataclass(frozen=True)
class Happening:
    """Something that happened at a moment of the show (show seconds)."""

    at: float
    kind: str  # the journal record's kind
    data: Mapping[str, Any]


@dataclass(frozen=True)
class SlotRun:
    """What a slot did: the timetable's start and end, when OBS showed it, skipped or not."""

    start: float | None
    end: float | None
    skipped: bool = False
    passed: bool = False  # passed over: never on air (showcaller away across it, a jump past it)
    landed: float | None = None  # OBS put its scene on program (the first time)
    late_ms: float | None = None  # how late that was, in real milliseconds


@dataclass
class Run:
    """One run of the show (a resumed live show merged into one)."""

    mode: str
    title: str
    timezone: str
    language: str
    origin: datetime
    speed: float
    slots: tuple[PlanSlot, ...]
    per_talk: str = "off"
    first_line: int = 0
    resumes: int = 0  # how many times the show was resumed within this run
    complete: bool = False  # a `stop` record closes it
    ended: bool = False  # the show reached its end (not detached)
    timetable: Mapping[str, Any] | None = None  # the last timetable snapshot
    happenings: list[Happening] = field(default_factory=list)
    room: str = ""  # the room's name when it was set (or one of several rooms)

    @property
    def heading(self) -> str:
        """The title, named with the room when there is one: `[hall-b] Title`."""
        return in_room(self.title, self.room)

    @property
    def tz(self) -> ZoneInfo:
        """The event's time zone (UTC when the journal names one this system lacks)."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def wall(self, show_s: float) -> datetime:
        """The wall-clock time (event zone) of a moment of the show."""
        return (self.origin + timedelta(seconds=show_s)).astimezone(self.tz)

    def of(self, *kinds: str) -> list[Happening]:
        """The happenings of these record kinds, in order."""
        return [h for h in self.happenings if h.kind in kinds]

    def slot_runs(self) -> dict[int, SlotRun]:
        """Per slot index: the timetable's actual start and end, and OBS's landing."""
        runs: dict[int, SlotRun] = {}
        rows = self.timetable.get("slots", []) if self.timetable else []
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, Mapping) and isinstance(row.get("index"), int):
                runs[row["index"]] = SlotRun(
                    start=_float(row.get("actual_start")),
                    end=_float(row.get("actual_end")),
                    skipped=bool(row.get("skipped", False)),
                    passed=bool(row.get("passed", False)),
                )
        for h in self.of(Kind.LANDED):
            index = h.data.get("slot")
            if not isinstance(index, int):
                continue
            run = runs.get(index)
            if run is not None and run.landed is None:
                runs[index] = dataclasses.replace(
                    run, landed=_float(h.data.get("at")), late_ms=_float(h.data.get("late_ms"))
                )
        # The host ended the show with a slot on air: that slot ended then. (A show that
        # was detached or killed says nothing of when its slot ended: OBS went on.)
        ended = self.ended_at()
        for index, run in runs.items():
            if run.start is not None and run.end is None and not run.skipped and ended is not None:
                runs[index] = dataclasses.replace(run, end=max(ended, run.start))
        return runs

    def slot_cues(self) -> list[tuple[float, int]]:
        """Every slot start in time order: (moment OBS showed it, or the cue's, slot index)."""
        landed: dict[int, list[float]] = {}
        for h in self.of(Kind.LANDED):
            index, at = h.data.get("slot"), _float(h.data.get("at"))
            if isinstance(index, int):
                landed.setdefault(index, []).append(h.at if at is None else at)
        cues: list[tuple[float, int]] = []
        for h in self.of(Kind.CUE):
            index = h.data.get("slot")
            if h.data.get("cue") != "slot_started" or not isinstance(index, int):
                continue
            deadline, sent = _float(h.data.get("deadline")), _float(h.data.get("sent"))
            base = h.at if deadline is None else deadline
            # The landing that followed this cue, if OBS confirmed it; else its deadline.
            after = [t for t in landed.get(index, []) if t >= (base if sent is None else sent)]
            cues.append((min(after) if after else base, index))
        return sorted(cues)

    def ended_at(self) -> float | None:
        """When the show ended (its `show_ended` cue), or None if it never did."""
        for h in reversed(self.of(Kind.CUE)):
            if h.data.get("cue") == "show_ended":
                return _float(h.data.get("at")) or h.at
        return None

    def end_at(self) -> float | None:
        """When the show ended (the `show_ended` cue), or its last record."""
        for h in reversed(self.of(Kind.CUE)):
            if h.data.get("cue") == "show_ended":
                return _float(h.data.get("at")) or h.at
        return self.happenings[-1].at if self.happenings else None


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _plan_slots(data: Mapping[str, Any]) -> tuple[PlanSlot, ...]:
    slots = []
    for row in data.get("slots", []):
        speakers = tuple(
            PlanSpeaker(str(sp.get("id", "")), str(sp.get("name", "")), str(sp.get("handle", "")))
            for sp in row.get("speakers", [])
            if isinstance(sp, Mapping)
        )
        slots.append(
            PlanSlot(
                index=int(row["index"]),
                kind=str(row.get("kind", "")),
                title=str(row.get("title", "")),
                speakers=speakers,
                start=float(row["start"]),
                end=float(row["end"]),
                scene=str(row.get("scene", "")),
                grace_s=float(row.get("grace_s") or 0) if row.get("end_mode") == "grace" else 0.0,
            )
        )
    return tuple(slots)


class _Reader:
    """Folds journal entries into runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runs: list[Run] = []
        self.current: Run | None = None
        self.anchor: tuple[float, float] | None = None  # (mono, show seconds) of the start
        self.resumed = False
        self.pending_start: Entry | None = None

    def show_seconds(self, entry: Entry) -> float:
        if self.anchor is not None:
            return self.anchor[1] + (entry.mono - self.anchor[0])
        if self.current is not None:
            try:
                wall = datetime.fromisoformat(entry.wall)
            except ValueError:
                return 0.0
            return (wall - self.current.origin).total_seconds()
        return 0.0

    def feed(self, entry: Entry) -> None:
        kind = entry.kind
        if kind == Kind.RESUME:
            self.resumed = True
            return
        if kind == Kind.START:
            self.pending_start = entry
            self.anchor = (entry.mono, float(entry.data.get("show_seconds", 0.0)))
            return
        if kind == Kind.PLAN and self.pending_start is not None:
            self._begin(self.pending_start, entry)
            self.pending_start = None
            return
        if self.current is None:
            return  # records of a run without a plan (an older showcaller): not readable
        run = self.current
        if kind == Kind.STATE and isinstance(entry.data.get("timetable"), Mapping):
            run.timetable = entry.data["timetable"]
        elif kind == Kind.STOP:
            run.complete = True
            run.ended = entry.data.get("phase") == "ended"
        run.happenings.append(Happening(self.show_seconds(entry), kind, entry.data))

    def _begin(self, start: Entry, plan: Entry) -> None:
        data = plan.data
        event = data.get("event", {})
        origin = datetime.fromisoformat(str(start.data["origin"]))
        slots = _plan_slots(data)
        if self.resumed and self.current is not None and self.current.slots == slots:
            self.current.resumes += 1
            self.current.complete = False
        else:
            self.current = Run(
                mode=str(start.data.get("mode", "")),
                title=str(event.get("title", "")),
                timezone=str(event.get("timezone", "UTC")),
                language=str(event.get("language", "en")),
                origin=origin,
                speed=float(data.get("speed", 1.0)),
                slots=slots,
                per_talk=str(data.get("record", {}).get("per_talk", "off")),
                first_line=start.line,
                room=str(event.get("room", "")),
            )
            self.runs.append(self.current)
        self.resumed = False


def runs_of(entries: Iterable[Entry], path: Path) -> list[Run]:
    """The runs in a journal's entries, in order (see the module's docstring)."""
    reader = _Reader(path)
    saw_start = False
    for entry in entries:
        saw_start = saw_start or entry.kind == Kind.START
        try:
            reader.feed(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(
                f"{path}:{entry.line}: a {entry.kind} record this showcaller cannot read ({exc})",
                hint="was the journal edited by hand? use the journal as showcaller wrote it",
            ) from None
    if not reader.runs:
        if saw_start:
            raise UsageError(
                f"{path}: this journal has no plan record: it was written by an older "
                "showcaller, and the plan (titles, speakers, times) is not in it",
                hint="rehearse again with this showcaller to get a journal it can export",
            )
        raise UsageError(
            f"{path}: not a show journal (no show started in it)",
            hint="pass the .jsonl file that `showcaller rehearse` or `live` wrote "
            "(beside the event file: <event>.rehearsal.jsonl or <event>.live.jsonl)",
        )
    return reader.runs


def last_run(path: Path) -> Run:
    """The last run in the journal at `path`; UsageError saying why when there is none."""
    if not path.exists():
        raise UsageError(
            f"{path}: no such journal",
            hint="`showcaller rehearse` and `live` write <event>.<mode>.jsonl beside the event",
        )
    try:
        _looks_like_a_journal(path)
        entries = list(read_journal(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the journal: {exc}") from None
    return runs_of(entries, path)[-1]


def _looks_like_a_journal(path: Path) -> None:
    """UsageError at once for a file whose first line is not a journal record (a TOML file)."""
    with path.open(encoding="utf-8") as fh:
        first = next((line for line in fh if line.strip()), "")
    try:
        record = json.loads(first) if first else None
    except ValueError:
        record = None
    if not isinstance(record, dict) or "kind" not in record:
        raise UsageError(
            f"{path}: not a show journal (its first line is not a journal record)",
            hint="pass the .jsonl file that `showcaller rehearse` or `live` wrote "
            "(beside the event file: <event>.rehearsal.jsonl or <event>.live.jsonl)",
        )


def kind_label(kind: str, language: str) -> str:
    """A slot kind in words (the event's language)."""
    ja = {"standby": "待機", "opening": "オープニング", "talk": "発表", "lt": "LT"}
    ja |= {"qa": "質疑応答", "break": "休憩", "closing": "クロージング"}
    en = {"standby": "standby", "opening": "opening", "talk": "talk", "lt": "lightning talk"}
    en |= {"qa": "Q&A", "break": "break", "closing": "closing"}
    return (ja if language == "ja" else en).get(kind, kind)


def with_speakers(slot: PlanSlot) -> str:
    """The slot's title with its speakers' names: "Title — Name / Name"."""
    return f"{slot.title} — {slot.names}" if slot.speakers else slot.title


def by_index(slots: Sequence[PlanSlot]) -> dict[int, PlanSlot]:
    """The plan's slots by their index."""
    return {s.index: s for s in slots}


__all__ = [
    "Happening",
    "PlanSlot",
    "PlanSpeaker",
    "Run",
    "SlotRun",
    "by_index",
    "kind_label",
    "last_run",
    "runs_of",
    "with_speakers",
]
