"""The show engine: one async loop per show.

It sleeps until the next deadline of the timetable (on the monotonic clock, anchored
once to the plan's wall-clock times), turns the timetable's cues into OBS actions
(scene switch, lower thirds, recording), applies the mode's policy (rehearsal never
touches the stream), writes the journal and publishes one `ShowState` that the
surfaces read. Commands from the keyboard or the web arrive through one queue; a bad
command is answered with a message and the show goes on. An OBS failure during a cue
is logged, journaled and reported; it never stops the show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from showcaller.config import ResolvedSlot
from showcaller.errors import OBSError, ShowcallerError, UsageError, describe
from showcaller.obs.events import ProgramSceneChanged
from showcaller.show import answers
from showcaller.show import timetable as tt_mod
from showcaller.show.hostcommands import (
    Detach,
    End,
    HostCommand,
    Message,
    RunChecks,
    Trouble,
    command_name,
)
from showcaller.show.journal import Journal, Kind, Lookback, look_back
from showcaller.show.plan import ShowPlan
from showcaller.show.showtime import ShowTime
from showcaller.show.state import (
    CommandResult,
    CueRecord,
    Mark,
    MarkView,
    Mode,
    Phase,
    ResumedView,
    ShowMessage,
    ShowReport,
    ShowState,
    SlotView,
)
from showcaller.show.timetable import (
    CommandRejected,
    Hold,
    Jump,
    Resume,
    ShowEnded,
    Skip,
    SlotOverrun,
    SlotStarted,
    Timetable,
    Unskip,
)

log = logging.getLogger(__name__)

# How often the loop wakes with nothing due: to publish the countdown and watch the wall clock.
TICK_S = 1.0
# An end found this much after its moment passed while showcaller was away (a resume).
MISSED_END_S = 10.0
# The longest a scene switch is sent ahead of its deadline.
MAX_LEAD_S = 2.0
# The speaker countdown's warning: this long before the end of a slot of LONG_SLOT_S or more.
LONG_SLOT_S = 600.0
WARNING_LONG_S = 300.0
WARNING_SHORT_S = 60.0
# The most messages a show keeps for its surfaces (a flood past this drops the oldest).
MAX_MESSAGES = 1000
# A live show journals a sign of life this often (real seconds), so a restart knows how long
# it was away.
ALIVE_S = 10.0
# How long (real s) a cue waits for OBS's answer before the show goes on without it (OBS
# answers a switch in about one frame): at most CUE_WAIT_S, and no longer than until the
# next deadline (but CUE_WAIT_MIN_S).
CUE_WAIT_S = 1.0
CUE_WAIT_MIN_S = 0.2
# Cues sent closer together than this (real s) go out one after the other (OBS runs
# separate requests on a thread pool, in any order): the later waits for the earlier's
# answer. A cue after a longer gap leaves at its deadline whatever OBS still owes; if OBS
# then answers an earlier cue after it, the newest is sent again (see _answered).
CUE_CHAIN_S = 0.25
# A message's topic when its level says it all (see ShowMessage.topic).
_LEVEL_TOPIC = {"cue": "cue", "end": "end"}


class ShowGateway(Protocol):
    """What the engine needs of OBS (the OBS gateway, or a recorder in tests)."""

    async def set_program_scene(self, name: str) -> None:
        """Switch the program scene."""
        ...

    async def program_scene(self) -> str:
        """The current program scene."""
        ...

    async def cue(self, texts: Sequence[tuple[str, str]], scene: str) -> Sequence[OBSError | None]:
        """Set the texts, then switch to `scene`, in this order; an error or None for each."""
        ...

    async def on(
        self,
        listener: Callable[[ProgramSceneChanged], Awaitable[None] | None],
        *event_classes: type[ProgramSceneChanged],
    ) -> Callable[[], Awaitable[None]]:
        """Listen to typed OBS events; returns the (async) unsubscribe."""
        ...


class ShowActions(Protocol):
    """Mode-specific actions around the timetable (stream, recording)."""

    async def before_slot_start(self, slot: ResolvedSlot) -> list[str]:
        """Run what must happen before a slot's scene goes on air (pause the recording for a
        `do_not_record` slot); returns warnings."""
        ...

    async def at_slot_start(self, slot: ResolvedSlot, *, caught_up: bool) -> list[str]:
        """Run the mode's actions for a slot start; returns warnings."""
        ...

    async def at_show_end(self, *, missed: bool, by_host: End | None = None) -> list[str]:
        """Run the mode's actions once the show ends; returns warnings.

        `missed`: the end passed while showcaller was not running (found on resume).
        `by_host`: the host ended the show early with this command.
        """
        ...

    async def at_resume(self, slot: ResolvedSlot) -> list[str]:
        """A restarted showcaller found `slot` on air: put back what the mode keeps on
        (a recording that was on); returns warnings."""
        ...


# The texts (input, text) written with a slot's cue: the lower third (see stage.textfields).
CueTexts = Callable[[ResolvedSlot], list[tuple[str, str]]]


class _Lead:
    """Measures how long OBS takes to land a switch and how early to send the next one.

    In show seconds: at `--speed N` OBS's real latency counts N times.
    """

    def __init__(self, initial: float, enabled: bool, speed: float) -> None:
        self.enabled = enabled
        self._initial = initial
        self._cap = MAX_LEAD_S * speed
        self._samples: deque[float] = deque(maxlen=7)

    def add(self, seconds: float) -> None:
        if 0 <= seconds <= self._cap:
            self._samples.append(seconds)

    @property
    def value(self) -> float:
        if not self.enabled:
            return 0.0
        if not self._samples:
            return min(self._initial, self._cap)
        return min(statistics.median(self._samples), self._cap)


def warning_before(slot: ResolvedSlot) -> float:
    """When a speaker's countdown turns yellow: 5 minutes before the end of a slot of 10
    minutes or more, 1 minute before the end of a shorter one (a lightning talk, a Q&A)."""
    return WARNING_LONG_S if slot.duration.total_seconds() >= LONG_SLOT_S else WARNING_SHORT_S


class Show:
    """Runs one show: the timetable against OBS, on a clock, in a mode."""

    def __init__(
        self,
        plan: ShowPlan,
        gateway: ShowGateway,
        showtime: ShowTime,
        journal: Journal,
        *,
        mode: Mode,
        actions: ShowActions | None = None,
        timetable: Timetable | None = None,
        from_slot: int = 0,
        lead: bool = True,
        initial_lead: float = 0.05,
        speed: float = 1.0,
        tick: float = TICK_S,
        trouble: bool = False,
        trouble_scene: str | None = None,
        cue_texts: CueTexts | None = None,
        plan_record: Mapping[str, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.gateway = gateway
        self.time = showtime
        self._words = answers.SlotWords(plan, showtime)
        self._journal = journal
        journal.on_error = self.warn  # a full disk is a problem for the report, not a crash
        self.mode = mode
        self._actions = actions
        self._trouble_scene_name = trouble_scene
        self._cue_texts = cue_texts or (lambda slot: [])
        self._plan_record = dict(plan_record) if plan_record is not None else {}
        self._tt = timetable or Timetable.new(list(plan.planned), from_slot=from_slot)
        self.report = ShowReport(title=plan.title, mode=mode.value, speed=speed)
        self.marks: list[Mark] = []
        self.messages: deque[ShowMessage] = deque(maxlen=MAX_MESSAGES)
        self._seq = 0
        self._lead = _Lead(initial_lead, lead, speed)
        self._lead_now = 0.0  # the lead of the current wake-up
        # No message is said before the newest cue carried out: a cue sent `lead` early
        # lands at its time, and at --speed N the lead is N times OBS's real latency.
        self._said_floor = -math.inf
        self._tick = tick
        self._speed = speed
        self._commands: asyncio.Queue[tuple[HostCommand, str, asyncio.Future[CommandResult]]] = (
            asyncio.Queue()
        )
        # Commands a part of the session carries out (speaker checks): type -> handler.
        self._handlers: dict[type, Callable[[Any], Awaitable[CommandResult]]] = {}
        self._pending_switch: dict[str, CueRecord] = {}
        # Cues whose answer OBS still owes after the timetable went on (see _cue_wait).
        self._unanswered: set[asyncio.Task[list[BaseException | None]]] = set()
        self._last_cue: asyncio.Task[list[BaseException | None]] | None = None
        self._last_cue_at = 0.0  # loop time the last cue was started
        self._cue_number = 0  # cues started so far (each cue's number)
        self._cue_answered = 0  # the newest cue OBS has answered
        self._newest_cue: tuple[Sequence[tuple[str, str]], str] | None = None  # texts, scene
        self._first_scene: asyncio.Task[None] | None = None
        self._program_scene: str | None = None
        self._trouble = trouble  # resumed in trouble: the trouble scene stays on air
        self._trouble_hold = False  # the trouble scene holds the slot's clock (Hold by trouble)
        self._before_trouble: str | None = None
        self._message = ""
        self._message_slot: int | None = None
        self._message_pinned = False
        self._ended_by_host = False
        self._version = 0
        self._listeners: list[Callable[[ShowState], None]] = []
        self._stop = asyncio.Event()
        self._stopped = False  # run() has returned: the journal is no longer written
        # A timetable from the journal (a restart) is already on air, or over.
        self._phase = (
            Phase.ENDED if self._tt.ended else Phase.ON_AIR if self._tt.started else Phase.WAITING
        )
        self._resuming = self._tt.started and not self._tt.ended
        self._lookback = look_back(journal.path) if self._resuming else Lookback()
        self._resumed: ResumedView | None = None
        self._alive_at: float | None = None
        if self._resuming:
            self._take_over(self._lookback)
        self.state = self._build_state()

    def _take_over(self, back: Lookback) -> None:
        """A restart carries on with what the journal says: the timer's message, trouble's hold."""
        on_air = self._tt.on_air
        self._trouble_hold = back.trouble_hold and self._trouble and self._tt.held
        msg = back.message
        if msg and isinstance(msg.get("text"), str) and msg["text"]:
            slot = msg.get("slot")
            pinned = bool(msg.get("pin", False))
            if pinned or (on_air is not None and slot == on_air.index):
                self._message = msg["text"]
                self._message_slot = slot if isinstance(slot, int) else None
                self._message_pinned = pinned

    # ----------------------------------------------------------------- surfaces

    def on_state(self, listener: Callable[[ShowState], None]) -> Callable[[], None]:
        """Call `listener` with every new published state; returns the unsubscribe callable.

        Listeners run inside the cue loop: they must only note the state (the session's
        feed does), never wait or do I/O.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    @property
    def speed(self) -> float:
        """Show seconds per real second (`--speed`)."""
        return self._speed

    @property
    def stopped(self) -> bool:
        """`run()` has returned: commands are refused at once."""
        return self._stopped

    async def submit(self, command: HostCommand, source: str = "api") -> CommandResult:
        """Queue a host command; returns whether the show took it, with a message.

        Answered at once with a refusal when the show is no longer running.
        """
        if self._stopped or self._stop.is_set():
            return CommandResult(False, f"{command_name(command)}: the show is not running")
        fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        await self._commands.put((command, source, fut))
        return await fut

    def set_actions(self, actions: ShowActions) -> None:
        """Make `actions` the mode's actions around the timetable."""
        self._actions = actions

    def handle(
        self, kind: type, handler: Callable[[Any], Awaitable[CommandResult]]
    ) -> Callable[[], None]:
        """Carry out commands of `kind` with `handler` (a part of the session); returns the undo."""
        self._handlers[kind] = handler

        def undo() -> None:
            if self._handlers.get(kind) is handler:
                del self._handlers[kind]

        return undo

    def record(self, kind: Kind, **fields: Any) -> None:
        """Journal one record for a part of the session; nothing once the show stopped."""
        if not self._stopped:
            self._journal.write(kind, **fields)

    @property
    def journal_path(self) -> Path:
        """The journal's file."""
        return self._journal.path

    def show_left_s(self) -> float | None:
        """Show seconds until the expected end of the last slot (None once it ended)."""
        if self._phase in (Phase.ENDED, Phase.DETACHED):
            return None
        now = self.time.now()
        ends = [e.expected_end or e.planned_end for e in self._tt.expected(now)]
        return max(0.0, max(ends) - now) if ends else None

    def detach(self) -> None:
        """Stop driving OBS and return from `run()`, leaving OBS exactly as it is."""
        self._phase = Phase.DETACHED
        self._stop.set()

    # -------------------------------------------------------------------- marks

    def add_mark(self, mark: Mark, *, done_before: Collection[str] = ()) -> Mark:
        """Add a mark; one done before a restart (in `done_before`, or journaled done by the
        run this one resumes) is done and does not run again."""
        done = mark.kind in self._lookback.marks_done and not mark.again_after_restart
        if mark.kind in done_before or done:
            mark.status = "done"
            mark.detail = "done before the restart"
        self.marks.append(mark)
        self._publish()
        return mark

    async def fire(self, mark: Mark) -> None:
        """Run a due mark now (once): its outcome goes to the journal, warnings to the host."""
        if mark.status != "due":
            return
        try:
            warnings = await mark.action()
        except OBSError as exc:
            mark.status = "failed"
            mark.detail = str(exc)
            self.warn(f"{mark.label}: {exc}")
        else:
            mark.status = "done"
            self._say("info", f"{mark.label}: {mark.detail}" if mark.detail else mark.label)
            for text in warnings:
                self.warn(text)
        self._journal.write(
            Kind.MARK,
            mark=mark.kind,
            status=mark.status,
            at=self.time.now(),
            detail=mark.detail or None,
        )
        self._publish()

    def skip_mark(self, mark: Mark, why: str) -> None:
        """A due mark that will not run (the stream was already on air): say why."""
        if mark.status == "due":
            mark.status = "skipped"
            mark.detail = why
            self._journal.write(Kind.MARK, mark=mark.kind, status="skipped", detail=why)
            self._publish()

    def _next_mark_at(self) -> float | None:
        due = [m.at for m in self.marks if m.status == "due" and m.at is not None]
        return min(due) if due else None

    async def _run_timed_marks(self) -> None:
        now = self.time.now()
        for mark in list(self.marks):
            if mark.status == "due" and mark.at is not None and mark.at <= now:
                await self.fire(mark)

    # --------------------------------------------------------------------- loop

    async def run(self) -> ShowReport:
        """Run the show until it ends or `detach()` is called; never raises for an OBS failure."""
        unsubscribe = await self.gateway.on(self._on_scene_changed, ProgramSceneChanged)
        self._journal.write(
            Kind.START,
            mode=self.mode.value,
            origin=self.time.origin.isoformat(),
            show_seconds=self.time.now(),
            slots=len(self.plan.planned),
        )
        self._journal.write(Kind.PLAN, **{**self._plan_record, "speed": self._speed})
        getter: asyncio.Task[tuple[HostCommand, str, asyncio.Future[CommandResult]]] | None = None
        waits: list[asyncio.Task[Any]] = []  # this turn's sleeper and stopper
        try:
            if self._resuming:
                # What OBS shows now decides whether the resumed slot's scene is put back.
                with contextlib.suppress(OBSError):
                    self._program_scene = await self.gateway.program_scene()
            else:
                # Only for the surfaces: a slow answer must not hold the first cue.
                self._first_scene = asyncio.create_task(self._ask_program_scene())
            self._lead_now = self._lead.value
            await self._run_timed_marks()
            cues_before = len(self.report.cues)
            await self._advance(lead=True)
            if self._resuming:
                await self._resume(cued=len(self.report.cues) > cues_before)
            while not self._stop.is_set() and not self._tt.ended:
                now = self.time.now()
                deadline = self._tt.next_deadline(now)
                wake = now + self._tick
                # One lead per wake-up: the estimate may change while the loop sleeps
                # (a landing arrives), and the cue must go out at the moment it slept for.
                self._lead_now = self._lead.value
                if deadline is not None:
                    wake = min(wake, deadline - self._lead_now)
                mark_at = self._next_mark_at()
                if mark_at is not None:
                    wake = min(wake, mark_at)
                if getter is None:
                    getter = asyncio.create_task(self._commands.get(), name="show-commands")
                sleeper = asyncio.create_task(
                    self.time.clock.sleep_until(self.time.monotonic_for(wake)), name="show-sleep"
                )
                stopper = asyncio.create_task(self._stop.wait(), name="show-stop")
                waits = [sleeper, stopper]
                done, _ = await asyncio.wait(
                    {getter, sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                # Cancelled now, awaited once the cue is out: no extra loop turn before it.
                sleeper.cancel()
                stopper.cancel()
                if getter in done:
                    command, source, reply = getter.result()
                    getter = None
                    await self._command(command, source, reply)
                jump = self.time.check_jump()
                if jump is not None:
                    self.warn(
                        f"the wall clock jumped by {jump.seconds:+.1f} s; times re-anchored",
                        problem=False,
                    )
                    self._journal.write(Kind.ANCHOR, jump_seconds=jump.seconds)
                await self._run_timed_marks()
                if not self._stop.is_set():
                    await self._advance(lead=True)
                await asyncio.gather(sleeper, stopper, return_exceptions=True)
                if self._journal.failing is not None:
                    # Retried every tick: the first line that gets through again is the
                    # state, so a restart resumes from now and not from before the failure.
                    self._snapshot()
                self._alive()
        finally:
            # Cancelled mid-wait (the task running the show was cancelled): nothing of the
            # loop's is left pending behind it.
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
            if getter is not None:
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
            # A cue OBS still owes an answer to is not waited for once the show stops.
            owed: list[asyncio.Future[Any]] = list(self._unanswered)
            if self._first_scene is not None:
                owed.append(self._first_scene)
            for cue_task in owed:
                cue_task.cancel()
            await asyncio.gather(*owed, return_exceptions=True)
            with contextlib.suppress(OBSError):
                await unsubscribe()
            # Answer commands nobody will carry out, so no surface waits forever.
            while not self._commands.empty():
                command, _, reply = self._commands.get_nowait()
                if not reply.done():
                    reply.set_result(
                        CommandResult(False, f"{command_name(command)}: the show is not running")
                    )
        if self._tt.ended or self._ended_by_host:
            self._phase = Phase.ENDED
            self.report.ended = True
        for mark in self.marks:
            if mark.status == "due" and self._phase is Phase.ENDED:
                mark.status, mark.detail = "skipped", "the show ended first"
        self._journal.write(Kind.STOP, phase=self._phase.value)
        self._stopped = True
        self._publish()
        return self.report

    async def _advance(self, *, lead: bool) -> None:
        now = self.time.now()
        horizon = now + (self._lead_now if lead else 0.0)
        new_tt, cues = self._tt.advance(horizon)
        await self._apply(new_tt, cues)

    async def _command(
        self, command: HostCommand, source: str, reply: asyncio.Future[CommandResult]
    ) -> None:
        name = command_name(command)
        self._journal.write(Kind.COMMAND, command=name, source=source)
        handler = self._handlers.get(type(command))
        try:
            match command:
                case _ if handler is not None:
                    result = await handler(command)
                case End():
                    result = await self._end_by_host(command)
                case Detach():
                    self.detach()
                    result = CommandResult(True, "detached: OBS is left exactly as it is")
                case Trouble():
                    result = await self._set_trouble(command.on)
                case Message():
                    result = self._set_message(command)
                case RunChecks():
                    result = CommandResult(False, "checks: speaker checks are not running")
                case _:
                    new_tt, cues = self._tt.apply(command, self.time.now())
                    result = CommandResult(True, self._what_changed(command, name, new_tt))
                    if not reply.done():
                        reply.set_result(result)
                    if isinstance(command, Skip | Unskip):
                        self._say("info", result.message)
                    await self._apply(
                        new_tt,
                        cues,
                        why="jumped past it" if isinstance(command, Jump) else None,
                        snapshot=True,
                    )
        except CommandRejected as exc:
            result = CommandResult(False, str(exc))
        except (UsageError, ValueError, TypeError) as exc:
            # A malformed command from a surface must never break the running show.
            result = CommandResult(False, f"not a show command: {exc}")
        if result.ok:
            # What it did, in words, for the report ("+1 min for 3/13 …", "skipped 4/13 …").
            self._journal.write(Kind.ANSWER, command=name, source=source, answer=result.message)
        else:
            self._journal.write(Kind.REJECTED, command=name, source=source, reason=result.message)
        if not reply.done():
            reply.set_result(result)

    async def _apply(
        self,
        new_tt: Timetable,
        cues: Sequence[Any],
        why: str | None = None,
        *,
        snapshot: bool = False,
    ) -> None:
        """Take `new_tt`, carrying out its cues; its state is journaled when a cue, a passed
        slot or `snapshot` (a host command: +1 min, hold) changed it, so a restart resumes it."""
        old, self._tt = self._tt, new_tt
        passed = [
            p
            for p, (a, b) in enumerate(zip(old.runs, new_tt.runs, strict=True))
            if b.passed and not a.passed
        ]
        for p in passed:
            self._passed_over(p, old, why)
        for cue in cues:
            self._said_floor = max(self._said_floor, cue.at)
            match cue:
                case SlotStarted():
                    await self._start_slot(cue)
                case SlotOverrun():
                    self._overrun(cue)
                case ShowEnded():
                    await self._end(cue)
        if cues or passed or snapshot:
            self._snapshot()
        self._publish()

    def _passed_over(self, p: int, old: Timetable, why: str | None) -> None:
        slot = old.planned[p]
        self.report.passed.append(slot.index)
        if why is None:
            # When it would have been on air: the same timetable stepped through its deadlines.
            horizon = self.time.now() + self._lead_now
            stepped = old
            for _ in range(3 * len(old.planned) + 3):
                deadline = stepped.next_deadline(horizon)
                if deadline is None or deadline > horizon:
                    break
                stepped, _ = stepped.advance(deadline)
            run = stepped.runs[p]
            start, end = run.actual_start, run.actual_end
            why = (
                f"showcaller was stopped or frozen for its whole time "
                f"({self._words.hm(start)}–{self._words.hm(end)})"
            )
        name = self._words.slot_name(slot.index)
        self.warn(f"slot {name} was passed over: it never went on air ({why})", problem=False)

    def _what_changed(self, command: Any, name: str, new_tt: Timetable) -> str:
        """The answer to a timetable command, naming the slots it changed."""
        return answers.what_changed(self._words, command, name, self._tt, new_tt, self.time.now())

    def _set_message(self, command: Message) -> CommandResult:
        on_air = self._tt.on_air
        self._message = command.text
        self._message_slot = on_air.index if on_air is not None and command.text else None
        self._message_pinned = command.pin and bool(command.text)
        self._journal.write(
            Kind.MESSAGE, text=command.text, slot=self._message_slot, pin=self._message_pinned
        )
        if command.text:
            self._say("info", f"host message: {command.text}", topic="host")
        self._publish()
        if not command.text:
            return CommandResult(True, "message: cleared")
        until = (
            "until you clear it"
            if self._message_pinned or on_air is None
            else f"until {self._words.slot_name(on_air.index)} leaves the air"
        )
        return CommandResult(True, f"message: the timer shows {command.text!r} {until}")

    def _clear_message_for(self, slot_index: int) -> None:
        """A new slot on air: the message of the slot before goes, unless the host pinned it."""
        if not self._message or self._message_pinned or self._message_slot == slot_index:
            return
        self._message, self._message_slot = "", None
        self._journal.write(Kind.MESSAGE, text="", slot=None, pin=False, reason="slot changed")

    async def _resume(self, *, cued: bool) -> None:
        """A restart found the show on air: say so, and put back what OBS should show now."""
        self._resuming = False
        on_air = self._tt.on_air
        now = self.time.now()
        away = 0.0
        if self._lookback.last_seen:
            with contextlib.suppress(ValueError):
                last = datetime.fromisoformat(self._lookback.last_seen)
                away = max(0.0, (self.time.clock.now() - last).total_seconds() * self._speed)
        self._resumed = ResumedView(
            slot=on_air.index if on_air is not None else None,
            away_s=round(away, 1),
            at=self.time.wall(now).isoformat(),
        )
        where = f"slot {self._words.slot_name(on_air.index)}" if on_air is not None else "the show"
        self.warn(f"resumed at {where} after {away:.0f} s", problem=False)
        if on_air is None or cued:
            return  # a catch-up cue has just put the right slot on air
        slot = self.plan.slots[on_air.index]
        scene = (self._trouble_scene() if self._trouble else None) or slot.scene
        if self._program_scene != scene:
            found = self._program_scene
            record = CueRecord(
                slot_index=slot.index,
                title=slot.title,
                scene=scene,
                reason="resume",
                deadline=now,
                sent=now,
            )
            self._pending_switch[scene] = record
            results: list[BaseException | None]
            try:
                results = list(await self.gateway.cue(self._lower_third(slot), scene))
            except Exception as exc:  # the link or a bug below: said, the show goes on
                if not isinstance(exc, OBSError):
                    log.exception("unexpected error while putting the scene back")
                results = [exc]
            if results and results[-1] is not None:
                self._pending_switch.pop(scene, None)
                self.warn(f"resumed: could not put {scene!r} on air: {describe(results[-1])}")
            else:
                self._program_scene = scene
                self._journal.write(Kind.RESYNC, scene=scene, found=found, reason="resume")
                self.say(f"resumed: {scene!r} on program again (OBS showed {found!r})")
        if self._actions is not None:
            for warning in await self._actions.at_resume(slot):
                self.warn(warning, problem=False)
        self._publish()

    def _alive(self) -> None:
        """Live: a sign of life in the journal every ALIVE_S real seconds."""
        if self.mode is not Mode.LIVE or self._stopped:
            return
        now = self.time.now()
        if self._alive_at is None or now - self._alive_at >= ALIVE_S * self._speed:
            self._alive_at = now
            self._journal.write(Kind.ALIVE, at=now)

    # --------------------------------------------------------------------- cues

    async def _start_slot(self, cue: SlotStarted) -> None:
        slot = self.plan.slots[cue.slot_index]
        self._phase = Phase.ON_AIR
        self._clear_message_for(slot.index)
        sent = self.time.now()
        # In trouble the "please stand by" scene stays on air; the slot's texts still change.
        scene = self._trouble_scene() if self._trouble else slot.scene
        scene = scene or slot.scene
        record = CueRecord(
            slot_index=slot.index,
            title=slot.title,
            scene=scene,
            reason=cue.reason,
            deadline=cue.at,
            sent=sent,
            lead=self._lead_now if cue.reason in ("plan", "auto", "grace") else 0.0,
            caught_up=cue.caught_up,
        )
        self.report.cues.append(record)
        self._pending_switch[scene] = record
        # Texts first, in one go with the switch: the lower third must already be right
        # when the new scene appears.
        texts = self._lower_third(slot)
        if self._actions is not None and slot.do_not_record:
            # Before the switch: not one frame of a talk that must not be recorded in the file.
            for warning in await self._actions.before_slot_start(slot):
                self.warn(warning)
        # Cues close together reach OBS one after the other (see CUE_CHAIN_S).
        now_real = asyncio.get_running_loop().time()
        before = (
            self._last_cue
            if self._last_cue is not None
            and not self._last_cue.done()
            and now_real - self._last_cue_at < CUE_CHAIN_S
            else None
        )
        self._cue_number += 1
        number = self._cue_number
        self._newest_cue = (texts, scene)
        sending = asyncio.create_task(
            self._send_cue(texts, scene, before), name=f"cue slot {slot.index + 1}"
        )
        self._last_cue, self._last_cue_at = sending, now_real
        # OBS hung with its link up (requests held, pings answered) must not hold the
        # timetable: the cue waits for OBS's answer at most until the next deadline.
        done, _ = await asyncio.wait({sending}, timeout=self._cue_wait())
        unanswered = not done
        if unanswered:
            self._unanswered.add(sending)
            sending.add_done_callback(
                lambda task: self._late_answer(task, record, slot, texts, scene, number)
            )
        else:
            self._answered(sending.result(), record, slot, texts, scene, number)
        self._journal.write(
            Kind.CUE,
            cue="slot_started",
            slot=slot.index,
            title=slot.title,
            scene=scene,
            reason=cue.reason,
            caught_up=cue.caught_up,
            deadline=cue.at,
            deadline_wall=self.time.wall(cue.at).isoformat(),
            sent=sent,
            lead=record.lead,
            error=record.error,
            **({"unanswered": True} if unanswered else {}),
        )
        self._say("cue", f"slot {slot.index + 1} {slot.title} on air", at=cue.at, slot=slot.index)
        log.info("slot %d %s on air (scene %s, %s)", slot.index + 1, slot.title, scene, cue.reason)
        if self._actions is not None:
            for warning in await self._actions.at_slot_start(slot, caught_up=cue.caught_up):
                self.warn(warning)

    async def _send_cue(
        self,
        texts: Sequence[tuple[str, str]],
        scene: str,
        before: asyncio.Task[list[BaseException | None]] | None,
    ) -> list[BaseException | None]:
        """The cue's texts and switch in one batch, once `before` (the cue before, still
        owed an answer) is done; a failure of the whole batch is the switch's (one problem
        for the whole cue)."""
        if before is not None:
            await asyncio.wait({before})
        try:
            return list(await self.gateway.cue(texts, scene))
        except Exception as exc:  # the link or a bug below: the cue failed, the show goes on
            if not isinstance(exc, OBSError):
                log.exception("unexpected error while sending a cue")
            return [None] * len(texts) + [exc]

    def _cue_wait(self) -> float:
        """How long (real s) a cue waits for OBS's answer (see CUE_WAIT_S)."""
        now = self.time.now()
        deadline = self._tt.next_deadline(now)
        if deadline is None:
            return CUE_WAIT_S
        until = (deadline - self._lead_now - now) / self._speed
        return min(CUE_WAIT_S, max(CUE_WAIT_MIN_S, until))

    def _answered(
        self,
        results: Sequence[BaseException | None],
        record: CueRecord,
        slot: ResolvedSlot,
        texts: Sequence[tuple[str, str]],
        scene: str,
        number: int,
    ) -> None:
        for (name, _), result in zip(texts, results[:-1], strict=True):
            if result is not None:
                self.warn(f"lower third {name!r} not updated: {describe(result)}")
        switch = results[-1]
        if switch is not None:
            record.error = describe(switch)
            self._pending_switch.pop(scene, None)
            self.warn(f"slot {slot.index + 1} {slot.title!r}: scene {scene!r}: {record.error}")
        else:
            self._program_scene = scene
            if number < self._cue_answered:
                # A newer cue was carried out before this one: OBS may show this one now.
                self._put_newest_back()
        self._cue_answered = max(self._cue_answered, number)

    def _put_newest_back(self) -> None:
        """Send the newest cue again (OBS carried out an older one after it); not in
        trouble (the trouble scene stays on air) nor while the newest is still owed."""
        newest = self._newest_cue
        if newest is None or self._trouble or self._stopped:
            return
        if self._cue_number > self._cue_answered:
            return  # the newest is still owed: its own answer comes after this one
        texts, scene = newest
        self.warn(
            f"OBS carried out an earlier cue after a later one: {scene!r} sent again",
            problem=False,
        )
        again = asyncio.create_task(self._send_cue(texts, scene, None), name="cue again")
        self._unanswered.add(again)

        def settled(task: asyncio.Task[list[BaseException | None]]) -> None:
            self._unanswered.discard(task)
            if task.cancelled() or self._stopped:
                return
            if (failed := task.result()[-1]) is not None:
                self.warn(f"could not put {scene!r} back on air: {describe(failed)}")
            elif self._newest_cue is newest:
                self._program_scene = scene

        again.add_done_callback(settled)

    async def _ask_program_scene(self) -> None:
        with contextlib.suppress(OBSError):
            scene = await self.gateway.program_scene()
            if self._program_scene is None:  # a cue's answer knows better
                self._program_scene = scene
                self._publish()

    def _late_answer(
        self,
        task: asyncio.Task[list[BaseException | None]],
        record: CueRecord,
        slot: ResolvedSlot,
        texts: Sequence[tuple[str, str]],
        scene: str,
        number: int,
    ) -> None:
        """OBS answered a cue after the timetable had gone on (or the show stopped)."""
        self._unanswered.discard(task)
        if task.cancelled():
            return
        results = task.result()  # _send_cue never raises
        if self._stopped:
            return
        late = (self.time.now() - record.sent) / self._speed
        if results[-1] is None and not any(results[:-1]):
            self.say(f"OBS confirmed the switch to {scene!r} {late:.1f} s late")
        self._answered(results, record, slot, texts, scene, number)

    def _lower_third(self, slot: ResolvedSlot) -> list[tuple[str, str]]:
        return self._cue_texts(slot)

    def _overrun(self, cue: SlotOverrun) -> None:
        slot = self.plan.slots[cue.slot_index]
        if cue.mode == "manual":
            # The host must act: a warning, so that it stands out.
            self.warn(
                f"{slot.title!r} reached its end: waiting for the host (press next)", problem=False
            )
        else:
            # The configured grace (`end = N`) at work: the plan, not a warning.
            self.say(f"{slot.title!r} reached its end: next slot in {slot.grace_s} s")
        self._journal.write(Kind.CUE, cue="overrun", slot=slot.index, mode=cue.mode, at=cue.at)

    async def _end(self, cue: ShowEnded) -> None:
        self._phase = Phase.ENDED
        missed = self.time.now() - cue.at > MISSED_END_S * self._speed
        self._journal.write(Kind.CUE, cue="show_ended", at=cue.at, missed=missed)
        log.info("the show has ended")
        self._say("end", "the show has ended")
        if self._actions is not None:
            for warning in await self._actions.at_show_end(missed=missed):
                self.warn(warning)

    async def _end_by_host(self, command: End) -> CommandResult:
        now = self.time.now()
        self._phase = Phase.ENDED
        self._ended_by_host = True
        self._journal.write(Kind.CUE, cue="show_ended", at=now, missed=False, by_host=True)
        self._say("end", "the host ended the show")
        if self._actions is not None:
            for warning in await self._actions.at_show_end(missed=False, by_host=command):
                self.warn(warning)
        self._snapshot()
        self._stop.set()
        return CommandResult(True, "the show has ended")

    def _trouble_scene(self) -> str | None:
        return self._trouble_scene_name

    async def _set_trouble(self, on: bool | None) -> CommandResult:
        scene = self._trouble_scene()
        if scene is None:
            return CommandResult(False, "trouble: no trouble scene; set scenes.trouble")
        on = not self._trouble if on is None else on
        if on == self._trouble:
            return CommandResult(True, f"trouble: already {'on' if on else 'off'}")
        if on:
            self._before_trouble = self._program_scene
            target = scene
        else:
            on_air = self._tt.on_air
            target = (
                self.plan.slots[on_air.index].scene if on_air is not None else self._before_trouble
            ) or scene
        try:
            await self.gateway.set_program_scene(target)
        except OBSError as exc:
            self.warn(f"trouble: could not put {target!r} on air: {exc}")
            return CommandResult(False, f"trouble: {exc}")
        self._trouble = on
        self._program_scene = target
        clock = self._hold_for_trouble(on)
        self._journal.write(Kind.TROUBLE, on=on, scene=target, held=self._trouble_hold)
        self._snapshot()
        self._say(
            "info", f"trouble scene {'on air' if on else 'off'}: {target!r} on program{clock}"
        )
        self._publish()
        return CommandResult(True, f"trouble {'on' if on else 'off'}: {target!r} on air{clock}")

    def _hold_for_trouble(self, on: bool) -> str:
        """Trouble holds the slot's clock; trouble off releases it. What to say about it."""
        on_air = self._tt.on_air
        if on_air is None:
            return ""
        name = self._words.slot_name(on_air.index)
        now = self.time.now()
        if on and not self._tt.held:
            self._tt, _ = self._tt.apply(Hold(), now)
            self._trouble_hold = True
            return f"; the clock of {name} is held until trouble is off"
        if not on and self._trouble_hold:
            self._trouble_hold = False
            if self._tt.held:
                self._tt, _ = self._tt.apply(Resume(), now)
                return f"; the clock of {name} runs again"
        return ""

    async def _on_scene_changed(self, event: ProgramSceneChanged) -> None:
        # The client runs async listeners as tasks: one may start after run() has ended
        # (and the journal has closed); the show has nothing more to say then.
        if self._stopped:
            return
        scene = event.scene
        self._program_scene = scene
        record = self._pending_switch.pop(scene, None)
        if record is not None:
            record.landed = self.time.now()
            if record.error is None:
                self._lead.add(record.landed - record.sent)
            self._journal.write(
                Kind.LANDED,
                slot=record.slot_index,
                scene=scene,
                at=record.landed,
                late_ms=round((record.landed - record.deadline) / self._speed * 1000, 1),
            )
        else:
            self._journal.write(Kind.OBS_EVENT, event="program_scene_changed", scene=scene)
        self._publish()

    async def resync(self, gateway: ShowGateway | None = None) -> None:
        """After a (re)connect: put the scene that should be on air back, once, if it is not.

        `gateway` is the fresh connection the link hands its resync hooks (the link
        itself is not ready for others until the hooks have run).
        """
        on_air = self._tt.on_air
        if self._trouble:
            scene = self._trouble_scene()
        elif on_air is not None:
            scene = self.plan.slots[on_air.index].scene
        else:
            return
        if scene is None:
            return
        gateway = gateway or self.gateway
        try:
            current = await gateway.program_scene()
            if current != scene:
                await gateway.set_program_scene(scene)
                self.warn(f"OBS showed {current!r} after reconnecting: put {scene!r} back")
                self._journal.write(Kind.RESYNC, scene=scene, found=current)
            self._program_scene = scene
        except (OBSError, ShowcallerError) as exc:
            self.warn(f"could not resync the scene after reconnecting: {describe(exc)}")

    # ----------------------------------------------------------------- plumbing

    def warn(self, text: str, *, problem: bool = True, topic: str = "") -> None:
        """Log, journal, publish and report a warning (a problem if it would spoil the show)."""
        log.warning("%s", text)
        (self.report.problems if problem else self.report.warnings).append(text)
        if not self._stopped:  # a late word (an OBS event after the end) still reaches the report
            self._journal.write(Kind.WARNING, text=text, problem=problem)
        self._say("problem" if problem else "warning", text, topic=topic)

    def say(self, text: str, *, topic: str = "") -> None:
        """Tell the host something that is neither a warning nor a problem."""
        self._say("info", text, topic=topic)

    def _say(
        self,
        level: str,
        text: str,
        *,
        at: float | None = None,
        slot: int | None = None,
        topic: str = "",
    ) -> None:
        self._seq += 1
        if at is None:
            at = max(self.time.now(), self._said_floor)
        when = self.time.wall(at).isoformat()
        topic = topic or _LEVEL_TOPIC.get(level, "")
        self.messages.append(ShowMessage(self._seq, level, text, when, slot, topic))
        self._publish()

    def _snapshot(self) -> None:
        on_air = self._tt.on_air
        self._journal.write(
            Kind.STATE,
            timetable=self._tt.to_state(),
            scene=self.plan.slots[on_air.index].scene if on_air is not None else None,
            ended=self._tt.ended or self._ended_by_host,
            trouble=self._trouble,
            trouble_hold=self._trouble_hold,
        )

    def _view(self, e: tt_mod.ExpectedSlot) -> SlotView:
        slot = self.plan.slots[e.slot.index]
        start = e.actual_start if e.actual_start is not None else e.expected_start
        end = e.actual_end if e.actual_end is not None else e.expected_end
        return SlotView(
            index=slot.index,
            kind=slot.kind,
            title=slot.title,
            speakers=tuple(sp.name for sp in slot.speakers),
            scene=slot.scene,
            planned_start=self.time.wall(e.planned_start).isoformat(),
            planned_end=self.time.wall(e.planned_end).isoformat(),
            expected_start=self.time.wall(start).isoformat() if start is not None else "",
            expected_end=self.time.wall(end).isoformat() if end is not None else "",
            state=str(e.state),
        )

    def _mark_view(self, mark: Mark) -> MarkView:
        at = self.time.wall(mark.at).isoformat() if mark.at is not None else None
        return MarkView(mark.kind, mark.label, at, mark.status, mark.detail)

    def _build_state(self) -> ShowState:
        now = self.time.now()
        status = self._tt.status(now)
        views = tuple(self._view(e) for e in self._tt.expected(now))
        by_index = {v.index: v for v in views}
        on_air = by_index.get(status.on_air.index) if status.on_air is not None else None
        nxt = by_index.get(status.next.index) if status.next is not None else None
        return ShowState(
            title=self.plan.title,
            mode=self.mode.value,
            phase=self._phase.value,
            now=self.time.wall(now).isoformat(),
            on_air=on_air,
            next=nxt,
            time_left_s=status.time_left,
            warning_s=warning_before(self.plan.slots[status.on_air.index])
            if status.on_air is not None
            else None,
            delay_s=status.delay,
            held=status.held,
            waiting_for_host=status.waiting_for_host,
            program_scene=self._program_scene,
            trouble=self._trouble,
            message=self._message,
            slots=views,
            marks=tuple(self._mark_view(m) for m in self.marks),
            version=self._version,
            message_slot=self._message_slot,
            message_pinned=self._message_pinned,
            resumed=self._resumed,
        )

    def _publish(self) -> None:
        self._version += 1
        self.state = self._build_state()
        for listener in list(self._listeners):
            try:
                listener(self.state)
            except Exception:
                # A broken surface must not take the show down with it.
                log.exception("a state listener failed")


__all__ = [
    "CommandResult",
    "CueRecord",
    "Mark",
    "MarkView",
    "Phase",
    "Show",
    "ShowActions",
    "ShowGateway",
    "ShowMessage",
    "ShowReport",
    "ShowState",
    "SlotView",
]
