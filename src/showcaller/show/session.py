"""The show session: the one owner of a running show.

A `ShowSession` holds the link to OBS, the guarded gateway (its resync hooks get the
same guard), the `Show` (the engine), the mode's policy, and one `asyncio.TaskGroup`.
Everything long-running around a show attaches to it through one door, the
`ShowContext` it implements (`context.py`): the console, dashboard and web app, the
speaker checks, stream health, the notifications, the scene texts and speaker feeds.

- **Attachments** are async context managers made by `factory(ctx)`, entered when the
  show starts and left when it stops. One that raises, or whose task raises, is one
  problem in the report; the show goes on and no cue waits for it.
- **One state** (`SessionState`): the show's state plus the OBS link and the views the
  attachments publish (`publish(**parts)`, the parts named in `Views`), and the
  numbered message log, JSON-ready (`to_json()`; the schema is in docs/session.md).
  Surfaces read it through a `StateFeed`: publishing only wakes the feeds, so a slow
  surface never slows a cue; it skips intermediate states, and never a message.
- **One command stream**: `submit(command, source=...)` takes a typed command
  (`hostcommands`) or a plain dict, journals it with its source, and answers at once
  with a refusal after the show has stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Unpack

from showcaller.clock import ticks
from showcaller.errors import OBSError, describe
from showcaller.obs.events import (
    OBSEvent,
    OutputState,
    RecordFileChanged,
    RecordStateChanged,
    StreamStateChanged,
)
from showcaller.obs.gateway import OBSGateway, OutputStatus
from showcaller.obs.supervisor import LinkState, OBSLink
from showcaller.show.context import (
    Attachment,
    C,
    CommandHandler,
    ResyncHook,
    StateFeed,
    follow,
)
from showcaller.show.engine import Show, ShowActions
from showcaller.show.hostcommands import BadCommand, HostCommand, command_name, parse_command
from showcaller.show.journal import Kind
from showcaller.show.plan import ShowPlan
from showcaller.show.showtime import ShowTime
from showcaller.show.state import (
    CardsView,
    CommandResult,
    Mark,
    Mode,
    OutputView,
    SessionState,
    ShowReport,
    ShowState,
    Views,
)
from showcaller.words import obs_link

log = logging.getLogger(__name__)

# How often (real seconds) the session reads stream and record status for the surfaces.
STATUS_POLL_S = 2.0
# A request OBS has not answered for this long (real s): OBS is not answering. OBS answers
# in milliseconds (a scene switch waits for one frame); a big screenshot in under 1 s.
NOT_ANSWERING_S = 2.0
ANSWER_WATCH_S = 0.25  # how often (real s) the oldest unanswered request is looked at

CardsOf = Callable[[ShowState], CardsView]


class ModePolicy(ShowActions, Protocol):
    """What a mode adds around the timetable (see `policies`); the session owns it.

    The engine calls the slot and end actions (`ShowActions`); the session adds what
    comes from OBS itself: the link back after a crash, the stream changing state.
    """

    async def after_resync(self, gateway: OBSGateway) -> None:
        """After OBS came back and the scene was put back."""
        ...

    def on_stream(self, event: StreamStateChanged) -> None:
        """OBS's stream changed state (on the receive loop: only note and warn)."""
        ...


class _Guarded:
    """Enter and leave an attachment; what it raises is a problem of the show, not a crash."""

    def __init__(self, session: ShowSession, name: str, factory: Attachment) -> None:
        self._session = session
        self._name = name
        self._factory = factory
        self._cm: contextlib.AbstractAsyncContextManager[Any] | None = None

    async def __aenter__(self) -> None:
        try:
            cm = self._factory(self._session)
            await cm.__aenter__()
        except Exception as exc:
            self._session.problem(f"{self._name} could not start: {describe(exc)}", exc)
            return
        self._cm = cm

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cm is None:
            return
        limit = self._session.attachment_stop_s
        try:
            async with asyncio.timeout(limit):
                await self._cm.__aexit__(exc_type, exc, tb)
        except TimeoutError:
            self._session.problem(f"{self._name} did not stop within {limit:g} s")
        except Exception as error:
            self._session.problem(f"{self._name} failed while stopping: {describe(error)}", error)


class ShowSession:
    """Owns one running show: link, guarded gateway, engine, policy, attachments, tasks.

    It is the `ShowContext` its attachments get (see `context.py`).
    """

    # How long (real seconds) an attachment may take to stop before showcaller goes on.
    attachment_stop_s = 5.0

    def __init__(
        self,
        show: Show,
        gateway: OBSGateway,
        *,
        link: OBSLink,
        cards: CardsOf | None = None,
        status_poll_s: float = STATUS_POLL_S,
        name: str = "",
    ) -> None:
        self.show = show
        self.name = name  # the room's name, when one process runs several
        self._gateway = gateway
        self.link = link
        self.policy: ModePolicy | None = None
        self._cards_of = cards
        self._views: Views = {}
        self._status_poll_s = status_poll_s
        self._attachments: list[tuple[str, Attachment]] = []
        self._feeds: list[StateFeed] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._show_tasks: set[asyncio.Task[None]] = set()
        self._group: asyncio.TaskGroup | None = None
        self._version = 0
        self._state: SessionState | None = None
        self._state_key: tuple[int, int] = (-1, -1)
        # Real monotonic time OBS stopped answering in the running show (None: it answers).
        self._link_lost_at: float | None = None
        self._link_was_ready = False
        show.on_state(lambda _: self._changed())

    # ------------------------------------------------------------------ set-up

    def use(self, policy: ModePolicy) -> None:
        """Make `policy` the mode's actions around the timetable."""
        self.policy = policy
        self.show.set_actions(policy)

    def attach(self, name: str, factory: Attachment) -> None:
        """Run `factory(self)` as an async context manager for as long as the show runs."""
        self._attachments.append((name, factory))

    # ------------------------------------------------------- what the show is

    @property
    def mode(self) -> Mode:
        """Rehearsal or live."""
        return self.show.mode

    @property
    def plan(self) -> ShowPlan:
        """The event, resolved once."""
        return self.show.plan

    @property
    def gateway(self) -> OBSGateway:
        """The guarded gateway to OBS."""
        return self._gateway

    @property
    def time(self) -> ShowTime:
        """The show's time."""
        return self.show.time

    @property
    def speed(self) -> float:
        """Show seconds per real second."""
        return self.show.speed

    @property
    def journal_path(self) -> Path:
        """The show's journal."""
        return self.show.journal_path

    @property
    def stopped(self) -> bool:
        """The show has stopped."""
        return self.show.stopped

    def show_left_s(self) -> float | None:
        """Show seconds until the show's expected end (None once it ended)."""
        return self.show.show_left_s()

    # ------------------------------------------------------------------- state

    @property
    def state(self) -> SessionState:
        """The current state (built at most once per change)."""
        key = (self.show.state.version, self._version)
        if self._state is None or key != self._state_key:
            self._state_key = key
            views = self._views
            self._state = SessionState(
                version=key[0] + key[1],
                show=self.show.state,
                link=self.link.state.value,
                stream=views.get("stream"),
                record=views.get("record"),
                checks=views.get("checks", ()),
                messages=tuple(self.show.messages),
                health=views.get("health"),
                cards=self._cards_of(self.show.state) if self._cards_of is not None else None,
                notify=views.get("notify"),
            )
        return self._state

    def feed(self) -> StateFeed:
        """A new feed of states for one surface."""
        feed = StateFeed(self)
        self._feeds.append(feed)
        return feed

    def forget(self, feed: StateFeed) -> None:
        """Stop waking `feed` (it was closed)."""
        if feed in self._feeds:
            self._feeds.remove(feed)

    def _changed(self) -> None:
        for feed in self._feeds:
            feed.notify()

    def publish(self, **parts: Unpack[Views]) -> None:
        """New views for the state (fields of `Views`); always a new version for the feeds."""
        unknown = set(parts) - set(Views.__annotations__)
        if unknown:
            raise TypeError(f"not a view of the session state: {', '.join(sorted(unknown))}")
        self._views.update(parts)
        self._version += 1
        self._changed()

    # ------------------------------------------------------- what may be said

    def say(self, text: str, *, topic: str = "") -> None:
        """An info message for the host."""
        self.show.say(text, topic=topic)

    def warn(self, text: str, *, problem: bool = True, topic: str = "") -> None:
        """A warning (`problem`: one the report lists)."""
        self.show.warn(text, problem=problem, topic=topic)

    def problem(self, text: str, exc: BaseException | None = None) -> None:
        """A part of the session went wrong: one problem in the report; the show goes on."""
        if exc is not None and not isinstance(exc, OBSError):
            log.error("%s", text, exc_info=exc)
        self.show.warn(text)

    def record(self, kind: Kind, **fields: Any) -> None:
        """Journal one record (nothing once the show stopped)."""
        self.show.record(kind, **fields)

    def report_health(self, line: str) -> None:
        """The stream's health over the run, for the report."""
        self.show.report.health = line

    # ------------------------------------------------------------------- marks

    def add_mark(self, mark: Mark, *, done_before: Collection[str] = ()) -> Mark:
        """Add a mark the show runs at its moment (or its owner fires)."""
        return self.show.add_mark(mark, done_before=done_before)

    async def fire(self, mark: Mark) -> None:
        """Run a due mark now (once)."""
        await self.show.fire(mark)

    def skip_mark(self, mark: Mark, why: str) -> None:
        """A due mark that will not run, and why."""
        self.show.skip_mark(mark, why)

    # ---------------------------------------------------------------- commands

    def handle(self, kind: type[C], handler: CommandHandler[C]) -> Callable[[], None]:
        """Carry out host commands of `kind` with `handler`; returns the undo."""
        return self.show.handle(kind, handler)

    async def submit(
        self, command: HostCommand | Mapping[str, Any], *, source: str
    ) -> CommandResult:
        """Carry out a host command (typed, or a dict like {"command": "next"}).

        A bad dict is refused with what is wrong and journaled; the show goes on.
        """
        if isinstance(command, Mapping):
            try:
                command = parse_command(command)
            except BadCommand as exc:
                self.record(Kind.REJECTED, command=repr(command), source=source, reason=str(exc))
                return CommandResult(False, f"{exc} ({exc.hint})")
        result = await self.show.submit(command, source)
        log.debug("%s from %s: %s", command_name(command), source, result.message)
        return result

    # ------------------------------------------------------------------- tasks

    def spawn(
        self, coro: Coroutine[Any, Any, None], name: str, *, with_show: bool = True
    ) -> asyncio.Task[None]:
        """Run `coro` in the session's task group; what it raises is a problem of the show.

        `with_show`: cancelled (and awaited) as soon as the show stops; otherwise the
        attachment that spawned it ends it when it is left (a surface drains its feed).
        """
        if self._group is None:
            coro.close()
            raise RuntimeError("the session is not running")
        task = self._group.create_task(self._guard(coro, name), name=name)
        tasks = self._show_tasks if with_show else self._tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await coro
        except Exception as exc:
            self.problem(f"{name} failed: {describe(exc)}", exc)

    def ticker(self, period: float) -> AsyncIterator[float]:
        """Ticks every `period` show seconds on the show's clock, skipping ticks run over."""
        return ticks(self.show.time.clock, period)

    def on_resync(self, hook: ResyncHook) -> Callable[[], None]:
        """Call `hook` after OBS came back (after the show put its scene back)."""
        return self._gateway.add_resync_hook(hook)

    # --------------------------------------------------------------------- run

    async def run(self) -> ShowReport:
        """Run the show with its attachments until it ends or is detached."""
        unwatch = await self._gateway.on(
            self._on_output_event, StreamStateChanged, RecordStateChanged, RecordFileChanged
        )
        unsubscribe = [self._gateway.add_resync_hook(self._resync)]
        self._link_was_ready = self.link.state is LinkState.READY
        unsubscribe.append(self.link.on_state(self._on_link))
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self.spawn(self._poll_outputs(), "stream and record status")
                self.spawn(self._watch_answers(), "OBS answers")
                async with contextlib.AsyncExitStack() as stack:
                    for name, factory in self._attachments:
                        await stack.enter_async_context(_Guarded(self, name, factory))
                    try:
                        report = await self.show.run()
                    finally:
                        # What lives only while the show runs (pollers, checks of the
                        # stream, a question nobody answered) ends before the attachments.
                        await _cancel(self._show_tasks)
                        for feed in list(self._feeds):
                            feed.close()
                await _cancel(self._tasks)
        finally:
            self._group = None
            for unsub in unsubscribe:
                unsub()
            with contextlib.suppress(OBSError):
                await unwatch()
        return report

    def _bump(self) -> None:
        self._version += 1
        self._changed()

    def _on_link(self, state: LinkState) -> None:
        self._bump()
        if state is LinkState.READY:
            self._link_was_ready = True
            self._obs_back()
        elif state in (LinkState.CONNECTING, LinkState.BACKING_OFF) and self._link_was_ready:
            error = self.link.last_error
            self._obs_lost(describe(error) if error is not None else "the link dropped")

    async def _watch_answers(self) -> None:
        """OBS hung with its socket open: the heartbeat drops the link within ~3 s when
        nothing in OBS answers (SIGSTOP); when only requests hang (its pings answered),
        a request unanswered for NOT_ANSWERING_S says so, and the first answers say back."""
        async for _ in self.ticker(ANSWER_WATCH_S * self.speed):
            if self.link.state is not LinkState.READY:
                continue
            waited = self.link.unanswered_for()
            if waited >= NOT_ANSWERING_S:
                self._obs_lost(f"no answer for {waited:.0f} s")
            else:
                self._obs_back()

    def _obs_lost(self, why: str) -> None:
        """Say once per episode that OBS stopped answering (crashed, frozen, hung)."""
        if self._link_lost_at is not None or self.show.stopped:
            return
        self._link_lost_at = asyncio.get_running_loop().time()
        self.record(Kind.LINK, state="lost", why=why)
        self.warn(obs_link("lost", self.plan.language, why=why), problem=False, topic="obs")

    def _obs_back(self) -> None:
        """Say once that OBS answers again, and after how long (real seconds)."""
        lost_at, self._link_lost_at = self._link_lost_at, None
        if lost_at is None or self.show.stopped:
            return
        away = asyncio.get_running_loop().time() - lost_at
        self.record(Kind.LINK, state="back", away_s=round(away, 2))
        self.say(obs_link("back", self.plan.language, away=f"{away:.0f}"), topic="obs")

    async def _resync(self, gateway: OBSGateway) -> None:
        await self.show.resync(gateway)
        if self.policy is not None:
            await self.policy.after_resync(gateway)

    # ----------------------------------------------------------- stream/record

    def _on_output_event(self, event: OBSEvent) -> None:
        if self.show.stopped:
            return
        stream, record = self._views.get("stream"), self._views.get("record")
        match event:
            case StreamStateChanged(state=state, active=active):
                self.record(Kind.STREAM, action=state.value, active=active)
                if self.policy is not None:
                    self.policy.on_stream(event)
                old = stream or OutputView(active=False)
                stream = dataclasses.replace(
                    old, active=active, reconnecting=state is OutputState.RECONNECTING
                )
            case RecordStateChanged(state=state, active=active, path=path):
                self.record(Kind.RECORD, action=state.value, active=active, path=path)
                old = record or OutputView(active=False)
                record = dataclasses.replace(
                    old,
                    active=active,
                    paused=state is OutputState.PAUSED,
                    # OBS 30 names the recording's first file on stopping, even after
                    # splits: the newest file seen (RecordFileChanged) stays the one shown.
                    file=(old.file or path) if state is OutputState.STOPPED else path or old.file,
                )
            case RecordFileChanged(path=path):
                self.record(Kind.RECORD, action="file", path=path)
                old = record or OutputView(active=True)
                record = dataclasses.replace(old, file=path)
        self.publish(stream=stream, record=record)

    async def _poll_outputs(self) -> None:
        """Stream and record status for the surfaces (durations and bytes have no events)."""
        async for _ in self.ticker(self._status_poll_s * self.speed):
            try:
                stream = await self._gateway.stream_status()
                record = await self._gateway.record_status()
            except OBSError:
                continue  # OBS away: the link state says so; try again at the next poll
            self.publish(
                stream=_view(stream, self._views.get("stream")),
                record=_view(record, self._views.get("record")),
            )


async def _cancel(tasks: set[asyncio.Task[None]]) -> None:
    pending = list(tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _view(status: OutputStatus, old: OutputView | None) -> OutputView:
    return OutputView(
        active=status.active,
        reconnecting=status.reconnecting,
        paused=status.paused,
        duration_s=status.duration_ms / 1000,
        bytes=status.bytes,
        file=old.file if old is not None and status.active else None,
    )


__all__ = ["Attachment", "ModePolicy", "ShowSession", "StateFeed", "follow"]
