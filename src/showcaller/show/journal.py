"""The show journal: append-only JSON Lines of every cue, command, OBS event and warning.

One line per record, written and flushed at once, so a crash (even SIGKILL) loses
nothing the engine did. Every record carries the wall-clock and monotonic time of
the show clock and the plan's hash. `showcaller live` resumes from the last
timetable snapshot in the journal; reports and chapters are computed from it.

Each line goes to the operating system in one write; that survives a crash of
showcaller (the case that matters at a meetup), not a power cut of the machine.

A journal that cannot be written (the disk filled up with the recording, a USB
stick pulled out) never stops the show: the owner is told once per failing
streak through `on_error`, writing is tried again with every record, and a line
torn by the failure is ended so the lines after it stay readable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from showcaller.clock import Clock
from showcaller.errors import UsageError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a second showcaller is not detected
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# 2: record kinds fixed in `Kind`; marks, stream/record changes and landings journaled.
JOURNAL_FORMAT = 2


class Kind(enum.StrEnum):
    """Every kind of journal record, with the fields each carries beside kind/wall/mono/plan/v."""

    START = "start"  # mode, origin (ISO), show_seconds, slots
    RESUME = "resume"  # from_line: the journal line a restarted show resumed from
    STATE = "state"  # timetable (Timetable.to_state), scene, ended, trouble, trouble_hold
    CUE = "cue"  # cue: slot_started|overrun|show_ended, slot, title, scene, deadline, sent, ...
    LANDED = "landed"  # slot, scene, at (show s), late_ms: OBS said the switch is on program
    COMMAND = "command"  # command (name and arguments), source: keys|web|prompt|api|test
    REJECTED = "rejected"  # command, source, reason
    MARK = "mark"  # mark: stream_start|record_start|..., status: due|done|failed|skipped, at
    # STREAM action: start|on_air|not_on_air|stopped|reconnecting|...|restored, and
    # stopped_in_obs (not by showcaller), restart_after_crash, test_saved (the host's own
    # settings before a stream test: service_type, server; the key is never written here)
    STREAM = "stream"
    RECORD = "record"  # action: start|started|split|chapter|file|stop|stopped|pause|resume|
    #                    not_recorded, path, slot, name
    TROUBLE = "trouble"  # on (bool), scene: the trouble scene went on air or off it
    MESSAGE = "message"  # text, slot, pin: the host's line for the speaker timer ("" clears it)
    OBS_EVENT = "obs_event"  # event, scene: a program scene change showcaller did not cause
    RESYNC = "resync"  # scene, found: OBS came back showing the wrong scene
    ANCHOR = "anchor"  # jump_seconds: the wall clock jumped; times re-anchored
    WARNING = "warning"  # text, problem (bool)
    STOP = "stop"  # phase: ended|detached|...
    # Added in format 2 (additive: older readers skip them).
    PLAN = "plan"  # event, slots, record, speed: the resolved plan, so exports need no config
    CHECK = "check"  # speaker, name, part, verdict, value, hint: one speaker check result
    ANSWER = "answer"  # command, source, answer: what an accepted command did, in words
    ALIVE = "alive"  # (live) a sign of life every few seconds: a restart says how long it was away
    LINK = "link"  # state: lost (why) | back (away_s): OBS stopped answering, answered again


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
    """Appends records to a JSON Lines file, one line per write."""

    def __init__(self, path: Path, clock: Clock, plan_hash: str, *, fresh: bool = False) -> None:
        self.path = path
        self._fresh = fresh
        self._clock = clock
        self._plan = plan_hash
        self._fd: int | None = None
        self._torn = False  # the last line went out only in part
        self.failing: OSError | None = None  # set while writes fail
        self.on_error: Callable[[str], None] | None = None

    def open(self) -> Journal:
        """Open the file for appending, or anew when `fresh` (creating its folder); returns self.

        Raises UsageError (saying which path and why) when the file cannot be opened.
        """
        self._fd = _open_for_append(self.path, truncate=self._fresh)
        return self

    def close(self) -> None:
        """Close the file; further writes raise."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Journal:
        return self.open() if self._fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, kind: Kind, **data: Any) -> None:
        """Append one record of `kind` with `data` (JSON-compatible values).

        Never raises for the disk: a failure goes to `on_error` (once per streak).
        """
        if self._fd is None:
            raise RuntimeError("journal is not open")
        record = {
            "kind": str(kind),
            "wall": self._clock.now().isoformat(),
            "mono": round(self._clock.monotonic(), 6),
            "plan": self._plan,
            "v": JOURNAL_FORMAT,
            **data,
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        # After a torn line, a newline first: the torn line stays unreadable alone.
        data_out = (b"\n" if self._torn else b"") + line.encode("utf-8")
        try:
            while data_out:
                written = os.write(self._fd, data_out)
                data_out = data_out[written:]
                self._torn = bool(data_out)
        except OSError as exc:
            self._fail(exc)
            return
        if self.failing is not None:
            log.warning("the show journal %s is written again", self.path)
            self.failing = None

    def _fail(self, exc: OSError) -> None:
        if self.failing is not None:
            return
        self.failing = exc
        text = (
            f"cannot write the show journal {self.path} ({exc.strerror or exc}): "
            "the show goes on, but a restart could not resume it; free space or fix the disk"
        )
        if self.on_error is not None:
            self.on_error(text)
        else:
            log.error("%s", text)


def default_journal(source: Path | None, mode: str) -> Path:
    """`<event file stem>.<mode>.jsonl` beside the event file (or in the working folder)."""
    stem = source.stem if source else "show"
    folder = source.parent if source else Path()
    return folder / f"{stem}.{mode}.jsonl"


@contextlib.contextmanager
def claim(path: Path) -> Iterator[None]:
    """Hold the show at journal `path` for this process: a second showcaller is refused.

    Two showcallers driving one show (started twice in two terminals) would both cue
    every slot and both stop the stream. The claim is an advisory lock on
    `<journal>.lock`, released by the system even when showcaller is killed; the lock
    file holds the owner's pid for the message. Also checks the journal can be written.
    Raises UsageError; a journal that is not a regular file (/dev/...) is not claimed.
    """
    check_writable(path)
    if fcntl is None or not stat.S_ISREG(path.stat().st_mode):
        yield
        return
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UsageError(
            f"{lock}: cannot create the show's lock file: {exc.strerror or exc}",
            hint="pass --journal with a path in a folder you can write to",
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "?"
            raise UsageError(
                f"{path}: another showcaller (pid {owner}) is already running this show",
                hint="use the one that is running (look in your other terminal windows), "
                "or stop it first",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
    finally:
        os.close(fd)


def check_writable(path: Path) -> None:
    """Raise UsageError now if the journal at `path` could not be written (creates it empty).

    Called before anything is sent to OBS: a bad --journal must not spoil a started show.
    """
    os.close(_open_for_append(path, truncate=False))


def _open_for_append(path: Path, *, truncate: bool) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if truncate else 0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, flags, 0o644)
    except OSError as exc:
        raise UsageError(
            f"{path}: cannot write the show journal: {exc.strerror or exc}",
            hint="pass --journal with a path in a folder you can write to",
        ) from None


def read_journal(path: Path) -> Iterator[Entry]:
    """Yield the records of a journal in order; unreadable lines are skipped with a warning.

    Each `Entry` has the record's `kind` (a `Kind` value as a string; a reader meets
    kinds it does not know when a newer showcaller wrote the file, and skips them), its
    wall-clock time (ISO, the event's offset), the show clock's monotonic seconds, the
    plan hash, and `data`, the whole record (kind-specific fields: see `Kind`). A line
    torn by a crash mid-write, or by a full disk, is skipped; the lines after it are read.
    """
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
    trouble: bool = False  # the trouble scene was on air
    marks_done: frozenset[str] = frozenset()  # marks that ran (e.g. "record_start")
    stream_was_on_air: bool = False  # OBS reported the stream on air at some point
    stream_stopped_in_obs: bool = False  # its last word: stopped in OBS, not by showcaller


def last_state(path: Path, plan_hash: str) -> ResumePoint | None:
    """The last timetable snapshot in a journal, or None when there is none.

    Raises UsageError when the journal belongs to a different plan: resuming it would
    put the wrong slot on air.
    """
    if not path.exists():
        return None
    point: ResumePoint | None = None
    done: set[str] = set()
    was_on_air = stopped_in_obs = False
    for entry in read_journal(path):
        if entry.kind == Kind.MARK and entry.data.get("status") == "done":
            done.add(str(entry.data.get("mark")))
        if entry.kind == Kind.STREAM:
            action = entry.data.get("action")
            if action in ("started", "reconnected", "restart_after_crash", "start"):
                was_on_air = was_on_air or action == "started"
                stopped_in_obs = False
            elif action == "stopped_in_obs":
                stopped_in_obs = True
        if entry.kind != Kind.STATE:
            continue
        if entry.plan != plan_hash:
            raise UsageError(
                f"{path}:{entry.line}: this journal was written for a different timetable "
                "(slot order, kinds, times or end behaviour changed since)",
                hint="put the timing back as it was to resume; or pass --fresh to start over "
                "from the plan (the delay so far is lost; the old journal is kept with a suffix)",
            )
        point = ResumePoint(
            state=entry.data["timetable"],
            scene=entry.data.get("scene"),
            ended=bool(entry.data.get("ended", False)),
            line=entry.line,
            trouble=bool(entry.data.get("trouble", False)),
        )
    if point is not None:
        point = dataclasses.replace(
            point,
            marks_done=frozenset(done),
            stream_was_on_air=was_on_air,
            stream_stopped_in_obs=stopped_in_obs,
        )
    return point


@dataclass(frozen=True)
class Lookback:
    """What a restarted show takes over from its journal beside the timetable."""

    marks_done: frozenset[str] = frozenset()  # marks that ran before the restart
    last_seen: str | None = None  # wall-clock ISO time of the last record before the restart
    message: Mapping[str, Any] | None = None  # the last `message` record (text, slot, pin)
    trouble_hold: bool = False  # the trouble scene held the slot's clock


def look_back(path: Path) -> Lookback:
    """Read what a resumed show carries on with: done marks, the last sign of life, the
    speaker timer's message, and whether trouble held the clock. Empty if unreadable."""
    done: set[str] = set()
    last_seen: str | None = None
    message: Mapping[str, Any] | None = None
    trouble_hold = False
    try:
        for entry in read_journal(path):
            if entry.kind == Kind.RESUME:
                continue  # written by the restart itself
            last_seen = entry.wall or last_seen
            if entry.kind == Kind.MARK and entry.data.get("status") == "done":
                done.add(str(entry.data.get("mark")))
            elif entry.kind == Kind.MESSAGE:
                message = entry.data
            elif entry.kind == Kind.STATE:
                trouble_hold = bool(entry.data.get("trouble_hold", False))
    except OSError as exc:
        log.warning("could not read the journal %s to resume: %s", path, exc)
    return Lookback(frozenset(done), last_seen, message, trouble_hold)


def set_aside(path: Path) -> Path | None:
    """Rename an existing journal to `<name>.N` so a fresh show starts a new one."""
    if not path.exists() or path.stat().st_size == 0:
        return None  # nothing to keep
    n = 1
    while (target := path.with_name(f"{path.name}.{n}")).exists():
        n += 1
    os.replace(path, target)
    return target
