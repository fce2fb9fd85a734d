"""The pure timetable: planned, expected and actual times of every slot, and host commands.

Nothing here reads a clock, sleeps, logs or does I/O: every query and every operation takes
`now` (float seconds relative to the plan's origin) and a `Timetable` is immutable, so the
engine can keep the previous one and journal snapshots.

    tt = Timetable.new(planned)
    tt.next_deadline(now)        -> when to wake up next (None: wait for the host / held / ended)
    tt, cues = tt.advance(now)   -> the cues due at `now` (idempotent; catches up after a gap)
    tt, cues = tt.apply(cmd, now)-> a host command (Next, Back, Hold, Resume, Extend, Skip,
                                    Unskip, Jump, Start); raises CommandRejected and changes
                                    nothing if invalid
    tt.status(now), tt.expected(now), tt.to_state(), Timetable.from_state(planned, state)

The rules, in words for a host, are in docs/timetable.md; the precise ones:

- The on-air slot's due end  E = actual start + length + extension + held time, where length
  is the planned duration, except for an absorbing slot (break/qa with `min_s`) that has not
  been restarted: min(duration, max(planned end - actual start, min_s)).
- It leaves the air at its handover: auto -> E; grace -> E + grace_s; manual -> when the host
  says Next. When the next slot may not start yet (a gap in the plan, or the closing), the
  slot stays on air ("stretches") until the next slot's start.
- Upcoming slots chain from the on-air slot's projected end P = max(E, now) (for a grace slot
  past its end: max(E + grace_s, now)): start = previous end if the plan had them back to back,
  else max(pulled start, previous end); the closing always uses max(planned start, previous
  end). A skipped slot leaves no hole: the slots after it are pulled earlier by its length
  (pulled start = planned start - the lengths of the skipped slots between), and slots that
  were back to back through it stay back to back. End = start + length.
- A slot that started and ended inside one `advance` (showcaller frozen or away across its
  whole span), or that a forward Jump went past, is *passed over*: it never went on air
  (no actual times), its state is "passed", and Back and Jump back put it in the queue again.
- Before the show starts every expected time equals the planned one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, TypeAlias

from showcaller.config.sections import END_MODES, SLOT_KINDS, EndMode, SlotKind
from showcaller.errors import UsageError

SlotState: TypeAlias = Literal["done", "on_air", "upcoming", "skipped", "passed"]
StartReason: TypeAlias = Literal["plan", "auto", "grace", "command"]

ABSORBING_KINDS: Final = frozenset({"break", "qa"})
STATE_FORMAT: Final = 1

# Planned times come from datetimes converted by the engine; two slots whose planned end and
# start differ by less than this are back to back.
_BACK_TO_BACK_S: Final = 1e-6


class CommandRejected(UsageError):
    """A host command that cannot be carried out now; the timetable is unchanged."""


class JournalMismatch(UsageError):
    """A journalled timetable state does not belong to this plan (or is damaged)."""

    hint = "the event file changed since the journal was written; start a fresh journal"


@dataclass(frozen=True)
class PlannedSlot:
    """One slot of the plan; times are seconds from the plan's origin."""

    index: int
    kind: SlotKind
    title: str
    start: float
    end: float
    end_mode: EndMode = "auto"
    grace_s: float = 0.0
    min_s: float | None = None
    scene: str = ""
    speakers: tuple[str, ...] = ()

    @property
    def duration(self) -> float:
        """Planned length in seconds."""
        return self.end - self.start

    @property
    def absorbs(self) -> bool:
        """True if this slot shrinks (down to `min_s`) to absorb delay."""
        return self.kind in ABSORBING_KINDS and self.min_s is not None


def shifted(planned: Sequence[PlannedSlot], offset: float) -> tuple[PlannedSlot, ...]:
    """The same plan with every start and end moved by `offset` seconds."""
    return tuple(replace(s, start=s.start + offset, end=s.end + offset) for s in planned)


def plan_hash(planned: Sequence[PlannedSlot]) -> str:
    """A stable hash of the plan's timing, so a journal from another plan is detected.

    Only what the timetable computes with: slot order, kinds, times, end behaviour.
    Titles, speakers and scene names are left out on purpose: a host who fixes a
    typo in a talk title mid-show and restarts showcaller must resume, not start over.
    """
    rows = [
        [
            s.index,
            s.kind,
            float(s.start).hex(),
            float(s.end).hex(),
            s.end_mode,
            float(s.grace_s).hex(),
            None if s.min_s is None else float(s.min_s).hex(),
        ]
        for s in planned
    ]
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def validate_plan(planned: Sequence[PlannedSlot]) -> None:
    """Raise ValueError unless the slots are a usable plan (ordered, non-overlapping, sane)."""
    if not planned:
        raise ValueError("the timetable has no slots")
    seen: set[int] = set()
    for pos, s in enumerate(planned):
        name = f"slot {s.index} ({s.title!r})"
        if s.index in seen:
            raise ValueError(f"{name}: slot index {s.index} is used twice")
        seen.add(s.index)
        if s.kind not in SLOT_KINDS:
            raise ValueError(f"{name}: unknown kind {s.kind!r}")
        if s.end_mode not in END_MODES:
            raise ValueError(f"{name}: unknown end mode {s.end_mode!r}")
        numbers = [s.start, s.end, s.grace_s] + ([] if s.min_s is None else [s.min_s])
        if not all(math.isfinite(x) for x in numbers):
            raise ValueError(f"{name}: times must be finite numbers")
        if s.end <= s.start:
            raise ValueError(f"{name}: ends before it starts")
        if s.grace_s < 0 or (s.min_s is not None and s.min_s < 0):
            raise ValueError(f"{name}: grace_s and min_s cannot be negative")
        if pos and s.start < planned[pos - 1].end - _BACK_TO_BACK_S:
            raise ValueError(f"{name}: starts before the previous slot ends")


@dataclass(frozen=True)
class SlotRun:
    """What happened to one slot so far (actual times, extension, hold, skip)."""

    actual_start: float | None = None
    actual_end: float | None = None
    extension: float = 0.0
    held: float = 0.0
    skipped: bool = False
    # Passed over: the show went past it unseen (a freeze across its span, a forward Jump).
    passed: bool = False
    # A slot restarted by Back or a backward Jump runs its full planned length (no absorbing).
    restarted: bool = False


# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Next:
    """End the on-air slot now and start the next one (at the last slot: end the show)."""


@dataclass(frozen=True)
class Back:
    """Go back to the previous slot: it restarts now with its planned duration."""


@dataclass(frozen=True)
class Hold:
    """Stop the on-air slot's clock."""


@dataclass(frozen=True)
class Resume:
    """Restart the on-air slot's clock after a Hold."""


@dataclass(frozen=True)
class Extend:
    """Give the on-air slot more time (seconds > 0) or less (seconds < 0, never before now)."""

    seconds: float


@dataclass(frozen=True)
class Skip:
    """Mark an upcoming slot skipped (default: the next one, never the closing by default)."""

    slot_index: int | None = None


@dataclass(frozen=True)
class Unskip:
    """Put a skipped slot back in the show (default: the nearest one ahead of the slot on air)."""

    slot_index: int | None = None


@dataclass(frozen=True)
class Jump:
    """Start that slot now: slots in between are passed over (forward) or reset (backward)."""

    slot_index: int


@dataclass(frozen=True)
class Start:
    """Start the show now, before its planned start."""


Command: TypeAlias = Next | Back | Hold | Resume | Extend | Skip | Unskip | Jump | Start


# --- cues ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotStarted:
    """A slot went on air at `at`; `caught_up` if earlier slots were passed over unseen."""

    slot_index: int
    at: float
    caught_up: bool
    reason: StartReason


@dataclass(frozen=True)
class SlotOverrun:
    """The on-air slot reached its end and waits for the host (manual) or a grace period."""

    slot_index: int
    at: float
    mode: Literal["manual", "grace"]
    grace_until: float | None


@dataclass(frozen=True)
class ShowEnded:
    """The show is over."""

    at: float


Cue: TypeAlias = SlotStarted | SlotOverrun | ShowEnded


# --- views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedSlot:
    """One row of the dashboard/report: planned, expected and actual times of a slot."""

    slot: PlannedSlot
    state: SlotState
    planned_start: float
    planned_end: float
    expected_start: float | None
    expected_end: float | None
    actual_start: float | None
    actual_end: float | None
    extension: float
    held: float

    @property
    def delay(self) -> float | None:
        """Expected start minus planned start (+ late, - early); None if skipped."""
        if self.expected_start is None:
            return None
        return self.expected_start - self.planned_start


@dataclass(frozen=True)
class Status:
    """What the host needs to see at `now`."""

    started: bool
    ended: bool
    on_air: PlannedSlot | None
    next: PlannedSlot | None
    time_left: float | None  # on-air slot's due end minus now; negative = overrun
    ends_at: float | None  # on-air slot's due end
    next_start: float | None  # expected start of the next slot
    held: bool
    waiting_for_host: bool  # a manual slot reached its end
    grace_until: float | None  # a grace slot reached its end: it switches at this moment
    delay: float  # + late / - early, for the next slot (or the end of the last one)


@dataclass(frozen=True)
class _Event:
    at: float
    kind: Literal["start", "warn", "handover"]


# --- the timetable ------------------------------------------------------------------------


@dataclass(frozen=True)
class Timetable:
    """The plan and what happened to it so far; every operation returns a new Timetable."""

    planned: tuple[PlannedSlot, ...]
    runs: tuple[SlotRun, ...]
    first: int = 0  # position of the first slot in the show; earlier ones are dropped
    position: int | None = None  # position of the on-air slot in `planned`
    started: bool = False
    ended_at: float | None = None
    hold_since: float | None = None
    warned: bool = False

    # -- construction --

    @classmethod
    def new(cls, planned: Iterable[PlannedSlot], from_slot: int | None = None) -> Timetable:
        """A timetable before the show; `from_slot` drops the slots before that one."""
        slots = tuple(planned)
        validate_plan(slots)
        first = 0
        if from_slot is not None:
            first = next((p for p, s in enumerate(slots) if s.index == from_slot), -1)
            if first < 0:
                raise UsageError(f"there is no slot {from_slot} in the timetable")
        return cls(planned=slots, runs=tuple(SlotRun() for _ in slots), first=first)

    # -- simple views --

    @property
    def ended(self) -> bool:
        """True once the show is over."""
        return self.ended_at is not None

    @property
    def on_air(self) -> PlannedSlot | None:
        """The slot on air, or None before the start and after the end."""
        return None if self.position is None else self.planned[self.position]

    @property
    def plan_version(self) -> str:
        """`plan_hash` of this timetable's plan (journal entries carry it)."""
        return plan_hash(self.planned)

    @property
    def held(self) -> bool:
        """True while the on-air slot's clock is stopped."""
        return self.hold_since is not None

    # -- queries --

    def next_deadline(self, now: float) -> float | None:
        """The next moment something is due (may be <= now: advance at once); None if none."""
        _check_time(now)
        event = self._next_event()
        return None if event is None else event.at

    def expected(self, now: float) -> list[ExpectedSlot]:
        """Every slot of the show with planned, expected and actual times at `now`."""
        _check_time(now)
        rows: list[ExpectedSlot] = []
        prev: int | None = None
        prev_end = 0.0
        for p in range(self.first, len(self.planned)):
            slot, run = self.planned[p], self.runs[p]
            exp_start: float | None
            exp_end: float | None
            if run.skipped or run.passed:
                state: SlotState = "skipped" if run.skipped else "passed"
                exp_start = exp_end = None
            elif p == self.position and run.actual_start is not None:
                state = "on_air"
                exp_start, exp_end = run.actual_start, self._due_end(p, now)
                prev, prev_end = p, self._projected_end(p, now)
            elif run.actual_start is not None:
                state = "done"
                exp_start, exp_end = run.actual_start, run.actual_end
            else:
                state = "upcoming"
                exp_start = slot.start if prev is None else self._start_after(prev, prev_end, p)
                exp_end = exp_start + self._length(p, exp_start) + run.extension
                prev, prev_end = p, exp_end
            rows.append(
                ExpectedSlot(
                    slot=slot,
                    state=state,
                    planned_start=slot.start,
                    planned_end=slot.end,
                    expected_start=exp_start,
                    expected_end=exp_end,
                    actual_start=run.actual_start,
                    actual_end=run.actual_end,
                    extension=run.extension,
                    held=run.held + (self._current_hold(now) if p == self.position else 0.0),
                )
            )
        return rows

    def status(self, now: float) -> Status:
        """On-air slot, next slot, time left, hold, delay at `now`."""
        rows = self.expected(now)
        upcoming = next((r for r in rows if r.state == "upcoming"), None)
        on_air = next((r for r in rows if r.state == "on_air"), None)
        if upcoming is not None and upcoming.expected_start is not None:
            delay = upcoming.expected_start - upcoming.planned_start
        elif on_air is not None and self.position is not None:
            delay = self._projected_end(self.position, now) - on_air.planned_end
        elif self.ended_at is not None:
            last = max(
                (r for r in rows if r.state == "done"),
                key=lambda r: r.slot.start,
                default=None,
            )
            delay = 0.0 if last is None else self.ended_at - last.planned_end
        else:
            delay = 0.0
        ends_at = None if on_air is None else on_air.expected_end
        slot = self.on_air
        grace_until = None
        if slot is not None and slot.end_mode == "grace" and self.warned and ends_at is not None:
            grace_until = ends_at + slot.grace_s
        return Status(
            started=self.started,
            ended=self.ended,
            on_air=slot,
            next=None if upcoming is None else upcoming.slot,
            time_left=None if ends_at is None else ends_at - now,
            ends_at=ends_at,
            next_start=None if upcoming is None else upcoming.expected_start,
            held=self.held,
            waiting_for_host=slot is not None and slot.end_mode == "manual" and self.warned,
            grace_until=grace_until,
            delay=delay,
        )

    # -- advancing with time --

    def advance(self, now: float) -> tuple[Timetable, list[Cue]]:
        """Apply everything due at or before `now`; one SlotStarted even after a long gap."""
        _check_time(now)
        tt = self
        fired: list[Cue] = []
        # Each event moves the show forward (a warning, or a slot change), so the number
        # of events is bounded by the plan; the bound only guards against a logic error.
        for _ in range(3 * len(self.planned) + 3):
            event = tt._next_event()
            if event is None or event.at > now:
                break
            tt, cue = tt._fire(event)
            fired.append(cue)
        else:
            raise RuntimeError("timetable did not settle; this is a bug in showcaller")
        return tt._pass_over(fired), tt._collapse(fired)

    def _pass_over(self, fired: list[Cue]) -> Timetable:
        """Slots that went on and off the air inside one advance were never seen: passed over.

        A slot of no length (a break absorbed down to a minimum of 0) is not one: it
        would have started and ended in the same moment had showcaller been watching.
        """
        started = {c.slot_index for c in fired if isinstance(c, SlotStarted)}
        runs = list(self.runs)
        for p, slot in enumerate(self.planned):
            run = runs[p]
            if slot.index not in started or p == self.position or run.actual_end is None:
                continue
            if run.actual_start is not None and run.actual_end > run.actual_start:
                runs[p] = SlotRun(passed=True)
        return replace(self, runs=tuple(runs))

    def _collapse(self, fired: list[Cue]) -> list[Cue]:
        """Keep only the cues that still describe the show (drop passed-over slots)."""
        if not fired:
            return []
        if self.ended:
            ends: list[Cue] = [c for c in fired if isinstance(c, ShowEnded)]
            return ends[-1:]
        starts = [c for c in fired if isinstance(c, SlotStarted)]
        on_air = self.on_air
        overruns = [
            c
            for c in fired
            if isinstance(c, SlotOverrun) and on_air is not None and c.slot_index == on_air.index
        ]
        out: list[Cue] = []
        if starts:
            out.append(replace(starts[-1], caught_up=len(starts) > 1))
        return out + overruns[-1:]

    def _next_event(self) -> _Event | None:
        if self.ended:
            return None
        if not self.started:
            p = self._next_in_show(None)
            return None if p is None else _Event(self.planned[p].start, "start")
        if self.hold_since is not None or self.position is None:
            return None
        p = self.position
        slot = self.planned[p]
        end = self._base_end(p)
        if slot.end_mode == "auto":
            return _Event(self._handover(p, end), "handover")
        if not self.warned:
            return _Event(end, "warn")
        if slot.end_mode == "manual":
            return None
        return _Event(self._handover(p, end + slot.grace_s), "handover")

    def _fire(self, event: _Event) -> tuple[Timetable, Cue]:
        t = event.at
        if event.kind == "start":
            p = self._next_in_show(None)
            if p is None:  # unreachable: _next_event found one
                raise RuntimeError("no slot to start")
            return self._begin(p, t), SlotStarted(self.planned[p].index, t, False, "plan")
        if self.position is None:
            raise RuntimeError("no slot on air")
        p = self.position
        slot = self.planned[p]
        if event.kind == "warn":
            mode: Literal["manual", "grace"] = "grace" if slot.end_mode == "grace" else "manual"
            grace_until = t + slot.grace_s if mode == "grace" else None
            return replace(self, warned=True), SlotOverrun(slot.index, t, mode, grace_until)
        grace = slot.end_mode == "grace"
        off_air = self._base_end(p) + (slot.grace_s if grace else 0.0)
        q = self._next_in_show(p)
        # Later than the slot's own end, at the next one's planned start: it waited for it.
        waited = t > off_air and q is not None and t >= self.planned[q].start
        reason: StartReason = "plan" if waited else "grace" if grace else "auto"
        return self._switch_to(q, t, reason)

    # -- commands --

    def apply(self, cmd: Command, now: float) -> tuple[Timetable, list[Cue]]:
        """Carry out a host command at `now`; raise CommandRejected (nothing changes) if invalid."""
        _check_time(now)
        # The engine may advance a little ahead of the clock (to send a scene switch early);
        # a command in that window acts when the slot started, so time never runs backwards.
        now = max(now, self._latest_moment())
        if self.ended and not isinstance(cmd, Back):
            raise CommandRejected(
                "the show has ended; only Back (reopen the last slot) is possible",
            )
        match cmd:
            case Start():
                return self._cmd_start(now)
            case Next():
                p = self._require_on_air("move on")
                tt, cue = self._switch_to(self._next_in_show(p), now, "command")
                return tt, [cue]
            case Back():
                return self._cmd_back(now)
            case Hold():
                self._require_on_air("hold")
                if self.held:
                    raise CommandRejected("the slot is already on hold; Resume restarts its clock")
                return replace(self, hold_since=now), []
            case Resume():
                p = self._require_on_air("resume")
                if self.hold_since is None:
                    raise CommandRejected("nothing is on hold")
                run = self.runs[p]
                runs = self._with_run(p, replace(run, held=run.held + (now - self.hold_since)))
                return replace(self, runs=runs, hold_since=None), []
            case Extend(seconds=seconds):
                return self._cmd_extend(seconds, now)
            case Skip(slot_index=slot_index):
                return self._cmd_skip(slot_index), []
            case Unskip(slot_index=slot_index):
                return self._cmd_unskip(slot_index), []
            case Jump(slot_index=slot_index):
                return self._cmd_jump(slot_index, now)
        raise CommandRejected(f"unknown command {cmd!r}")  # pragma: no cover

    def _cmd_start(self, now: float) -> tuple[Timetable, list[Cue]]:
        if self.started:
            raise CommandRejected("the show is already running")
        p = self._next_in_show(None)
        if p is None:
            raise CommandRejected("every slot is skipped; there is nothing to start")
        return self._begin(p, now), [SlotStarted(self.planned[p].index, now, False, "command")]

    def _cmd_back(self, now: float) -> tuple[Timetable, list[Cue]]:
        if not self.started:
            raise CommandRejected("the show has not started yet; there is nothing to go back to")
        if self.position is None:
            # After the end: reopen the last slot that was on air.
            target = max(
                (p for p in range(self.first, len(self.planned)) if self._played(p)),
                default=None,
            )
        else:
            target = self._prev_in_show(self.position)
            if target is None:
                raise CommandRejected(
                    f"cannot go back: {self.planned[self.position].title!r} is the first slot"
                )
        if target is None:
            raise CommandRejected("no slot has been on air yet")
        return self._restart(target, now)

    def _cmd_extend(self, seconds: float, now: float) -> tuple[Timetable, list[Cue]]:
        p = self._require_on_air("extend")
        if not math.isfinite(seconds):
            raise CommandRejected(f"cannot extend by {seconds!r} seconds")
        if seconds == 0:
            return self, []
        end = self._due_end(p, now)
        # Once the end has passed, "+1 min" means one more minute from now, not from the
        # missed end. Shortening never puts the end before now (it is then due at once),
        # and never later than it was (a slot past its end stays as it is).
        longer = max(end, now) + seconds
        new_end = longer if seconds > 0 else min(end, max(end + seconds, now))
        if new_end == end:
            return self, []
        run = self.runs[p]
        runs = self._with_run(p, replace(run, extension=run.extension + (new_end - end)))
        return replace(self, runs=runs), []

    def _cmd_skip(self, slot_index: int | None) -> Timetable:
        if slot_index is None:
            after = self.position if self.started else None
            p = self._next_in_show(after)
            if p is None:
                raise CommandRejected("there is no upcoming slot to skip")
            if self.planned[p].kind == "closing":
                raise CommandRejected(
                    f"the next slot is the closing ({self.planned[p].title!r}); "
                    "name it explicitly to skip it"
                )
        else:
            p = self._position_of(slot_index)
            title = self.planned[p].title
            if self.runs[p].skipped:
                raise CommandRejected(f"{title!r} is already skipped")
            if self.runs[p].passed:
                raise CommandRejected(f"{title!r} was passed over; jump to it to play it")
            if p == self.position:
                raise CommandRejected(f"{title!r} is on air; use Next to end it")
            if self._played(p):
                raise CommandRejected(f"{title!r} has already been on air")
        if not self.started and sum(1 for q in self._show_positions() if q != p) == 0:
            raise CommandRejected("cannot skip every slot of the show")
        return replace(self, runs=self._with_run(p, replace(self.runs[p], skipped=True)))

    def _cmd_unskip(self, slot_index: int | None) -> Timetable:
        if slot_index is None:
            after = self.first if self.position is None else self.position + 1
            ahead = (q for q in range(after, len(self.planned)) if self.runs[q].skipped)
            p = next(ahead, -1)
            if p < 0 or self.ended:
                raise CommandRejected("no skipped slot ahead to put back")
        else:
            p = self._position_of(slot_index)
        title = self.planned[p].title
        if not self.runs[p].skipped:
            raise CommandRejected(f"{title!r} is not skipped")
        if self.ended or (self.position is not None and p < self.position):
            raise CommandRejected(
                f"{title!r} is behind the slot on air; jump to it to put it on air now"
            )
        return replace(self, runs=self._with_run(p, replace(self.runs[p], skipped=False)))

    def _cmd_jump(self, slot_index: int, now: float) -> tuple[Timetable, list[Cue]]:
        target = self._position_of(slot_index)
        if self.position is not None and target <= self.position:
            return self._restart(target, now)
        # Forward (or before the show): every unplayed slot on the way is passed over
        # (one the host skipped stays skipped).
        start_from = self.first if self.position is None else self.position + 1
        runs = list(self.runs)
        for q in range(start_from, target):
            if not runs[q].skipped:
                runs[q] = SlotRun(passed=True)
        tt, cue = replace(self, runs=tuple(runs))._switch_to(target, now, "command")
        return tt, [cue]

    # -- transitions --

    def _switch_to(self, q: int | None, t: float, reason: StartReason) -> tuple[Timetable, Cue]:
        """End the on-air slot (if any) at t and start q (None: end the show)."""
        tt = self._end_current(t)
        if q is None:
            return replace(tt, ended_at=t, position=None), ShowEnded(t)
        return tt._begin(q, t), SlotStarted(self.planned[q].index, t, False, reason)

    def _end_current(self, t: float) -> Timetable:
        if self.position is None:
            return self
        p = self.position
        run = self.runs[p]
        run = replace(run, actual_end=t, held=run.held + self._current_hold(t))
        return replace(self, runs=self._with_run(p, run), hold_since=None, warned=False)

    def _begin(self, q: int, t: float, *, restarted: bool = False) -> Timetable:
        run = SlotRun(actual_start=t, restarted=restarted)
        return replace(
            self,
            runs=self._with_run(q, run),
            position=q,
            started=True,
            ended_at=None,
            hold_since=None,
            warned=False,
        )

    def _restart(self, target: int, now: float) -> tuple[Timetable, list[Cue]]:
        """Back or a backward Jump: target restarts now, later slots become upcoming again."""
        tt = self._end_current(now)
        runs = list(tt.runs)
        last = self.position if self.position is not None else len(runs) - 1
        for q in range(target + 1, last + 1):
            runs[q] = SlotRun(skipped=runs[q].skipped)
        tt = replace(tt, runs=tuple(runs))._begin(target, now, restarted=True)
        return tt, [SlotStarted(self.planned[target].index, now, False, "command")]

    # -- helpers --

    def _latest_moment(self) -> float:
        moments = [self.ended_at, self.hold_since]
        if self.position is not None:
            moments.append(self.runs[self.position].actual_start)
        return max((m for m in moments if m is not None), default=-math.inf)

    def _require_on_air(self, verb: str) -> int:
        if self.position is None:
            raise CommandRejected(
                f"cannot {verb}: the show has not started yet (Start begins it early)"
            )
        return self.position

    def _position_of(self, slot_index: int) -> int:
        p = next((q for q, s in enumerate(self.planned) if s.index == slot_index), None)
        if p is None:
            # Numbered from 1, as every person reads them (the index is 0-based).
            first, last = self.planned[self.first].index + 1, self.planned[-1].index + 1
            raise CommandRejected(f"there is no slot {slot_index + 1} (slots {first} to {last})")
        if p < self.first:
            raise CommandRejected(
                f"slot {slot_index + 1} ({self.planned[p].title!r}) is not part of this run"
            )
        return p

    def _in_show(self, q: int) -> bool:
        return not (self.runs[q].skipped or self.runs[q].passed)

    def _show_positions(self) -> list[int]:
        return [p for p in range(self.first, len(self.planned)) if self._in_show(p)]

    def _next_in_show(self, p: int | None) -> int | None:
        start = self.first if p is None else p + 1
        return next((q for q in range(start, len(self.planned)) if self._in_show(q)), None)

    def _prev_in_show(self, p: int) -> int | None:
        return next((q for q in range(p - 1, self.first - 1, -1) if self._in_show(q)), None)

    def _played(self, p: int) -> bool:
        return self.runs[p].actual_start is not None

    def _with_run(self, p: int, run: SlotRun) -> tuple[SlotRun, ...]:
        return (*self.runs[:p], run, *self.runs[p + 1 :])

    def _length(self, p: int, start: float) -> float:
        slot = self.planned[p]
        if slot.min_s is None or not slot.absorbs or self.runs[p].restarted:
            return slot.duration
        return min(slot.duration, max(slot.end - start, slot.min_s))

    def _current_hold(self, now: float) -> float:
        return 0.0 if self.hold_since is None else max(0.0, now - self.hold_since)

    def _base_end(self, p: int) -> float:
        """Due end of the on-air slot, not counting a hold still running."""
        run = self.runs[p]
        start = run.actual_start if run.actual_start is not None else self.planned[p].start
        return start + self._length(p, start) + run.extension + run.held

    def _due_end(self, p: int, now: float) -> float:
        return self._base_end(p) + self._current_hold(now)

    def _projected_end(self, p: int, now: float) -> float:
        """When the on-air slot is expected to leave the air if nobody acts (at least now)."""
        end = self._due_end(p, now)
        slot = self.planned[p]
        if slot.end_mode == "grace" and self.warned:
            return max(end + slot.grace_s, now)
        return max(end, now)

    def _start_after(self, prev: int, prev_end: float, p: int) -> float:
        slot = self.planned[p]
        if slot.kind == "closing":
            return max(slot.start, prev_end)
        # The slots between prev and p are out of the show (skipped): they leave no hole.
        chain = self.planned[prev : p + 1]
        back_to_back = all(
            abs(a.end - b.start) <= _BACK_TO_BACK_S for a, b in itertools.pairwise(chain)
        )
        if back_to_back:
            return prev_end
        pulled = slot.start - sum(s.duration for s in self.planned[prev + 1 : p])
        return max(pulled, prev_end)

    def _handover(self, p: int, off_air: float) -> float:
        q = self._next_in_show(p)
        return off_air if q is None else self._start_after(p, off_air, q)

    # -- journal --

    def to_state(self) -> dict[str, Any]:
        """A JSON-compatible snapshot; `from_state(planned, state)` restores it exactly."""
        return {
            "format": STATE_FORMAT,
            "plan": plan_hash(self.planned),
            "first": self.planned[self.first].index,
            "on_air": None if self.on_air is None else self.on_air.index,
            "started": self.started,
            "ended_at": self.ended_at,
            "hold_since": self.hold_since,
            "warned": self.warned,
            "slots": [
                {
                    "index": s.index,
                    "actual_start": r.actual_start,
                    "actual_end": r.actual_end,
                    "extension": r.extension,
                    "held": r.held,
                    "skipped": r.skipped,
                    "passed": r.passed,
                    "restarted": r.restarted,
                }
                for s, r in zip(self.planned, self.runs, strict=True)
            ],
        }

    @classmethod
    def from_state(cls, planned: Iterable[PlannedSlot], state: Mapping[str, Any]) -> Timetable:
        """Restore a snapshot made by `to_state`; JournalMismatch if it is for another plan."""
        slots = tuple(planned)
        validate_plan(slots)
        if state.get("format") != STATE_FORMAT:
            raise JournalMismatch(f"unknown timetable state format {state.get('format')!r}")
        if state.get("plan") != plan_hash(slots):
            raise JournalMismatch("the journal was written for a different timetable")
        try:
            by_index = {s.index: p for p, s in enumerate(slots)}
            rows = state["slots"]
            if [row["index"] for row in rows] != [s.index for s in slots]:
                raise JournalMismatch("the journal's slots do not match the timetable")
            runs = tuple(
                SlotRun(
                    actual_start=_opt_float(row["actual_start"]),
                    actual_end=_opt_float(row["actual_end"]),
                    extension=float(row["extension"]),
                    held=float(row["held"]),
                    skipped=bool(row["skipped"]),
                    passed=bool(row.get("passed", False)),
                    restarted=bool(row["restarted"]),
                )
                for row in rows
            )
            on_air = state["on_air"]
            return cls(
                planned=slots,
                runs=runs,
                first=by_index[state["first"]],
                position=None if on_air is None else by_index[on_air],
                started=bool(state["started"]),
                ended_at=_opt_float(state["ended_at"]),
                hold_since=_opt_float(state["hold_since"]),
                warned=bool(state["warned"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise JournalMismatch(f"the journal's timetable state is damaged ({exc!r})") from exc


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _check_time(now: float) -> None:
    if not math.isfinite(now):
        raise ValueError(f"now must be a finite number of seconds, not {now!r}")
