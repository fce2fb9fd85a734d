"""The show session: the one owner of a running show.

A `ShowSession` holds the link to OBS, the guarded gateway (its resync hooks get the
same guard), the `Show` (the engine), the mode's policy, and one `asyncio.TaskGroup`.
Everything long-running around a show attaches to it: the console today; the
dashboard, web app, speaker checks, notifications and stream health later.

- **Attachments** are async context managers made by `factory(session)`, entered when
  the show starts and left when it stops. One that raises, or whose task raises, is one
  problem in the report; the show goes on and no cue waits for it.
- **One state** (`SessionState`): the show's state plus the OBS link, stream and
  recording status, check results and the numbered message log, JSON-ready
  (`to_json()`; the schema is in docs/session.md). Surfaces read it through a
  `StateFeed`: publishing only wakes the feeds, so a slow surface never slows a cue; it
  skips intermediate states, and never a message (they are numbered, all kept).
- **One command stream**: `submit(command, source=...)` takes a typed command
  (`hostcommands`) or a plain dict, journals it with its source, and answers at once
  with a refusal after the show has stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from showcaller.cards import CardsView, CueCards
from showcaller.checks.results import CheckResult
from showcaller.config import EventConfig
from showcaller.engine import CommandResult, Show, ShowMessage, ShowReport, ShowState
from showcaller.errors import OBSError
from showcaller.health import HealthMonitor, HealthView
from showcaller.hostcommands import BadCommand, HostCommand, command_name, parse_command
from showcaller.journal import Kind
from showcaller.obs.events import (
    OBSEvent,
    OutputState,
    RecordFileChanged,
    RecordStateChanged,
    StreamStateChanged,
)
from showcaller.obs.gateway import OBSGateway, OutputStatus
from showcaller.obs.supervisor import OBSLink
from showcaller.words import unexpected

log = logging.getLogger(__name__)

# How often (real seconds) the session reads stream and record status for the surfaces.
STATUS_POLL_S = 2.0

Attachment = Callable[["ShowSession"], contextlib.AbstractAsyncContextManager[Any]]


class ModePolicy(Protocol):
    """What a mode adds around the timetable (see `policies`); the session owns it."""

    async def before_slot_start(self, slot: Any) -> list[str]:
        """The mode's actions before a slot's scene goes on air; warnings."""
        ...

    async def at_slot_start(self, slot: Any, *, caught_up: bool) -> list[str]:
        """The mode's actions at a slot start; warnings."""
        ...

    async def at_show_end(self, *, missed: bool, by_host: Any = None) -> list[str]:
        """The mode's actions at the end; warnings."""
        ...

    async def after_resync(self, gateway: OBSGateway) -> None:
        """After OBS came back and the scene was put back."""
        ...

    def on_stream(self, event: StreamStateChanged) -> None:
        """OBS's stream changed state (on the receive loop: only note and warn)."""
        ...


@dataclass(frozen=True)
class OutputView:
    """Stream or recording as the surfaces show it."""

    active: bool
    reconnecting: bool = False
    paused: bool = False
    duration_s: float = 0.0
    bytes: int = 0
    file: str | None = None  # the recording's current file


@dataclass(frozen=True)
class NotifyView:
    """The notification webhooks as the surfaces show them (never their URLs)."""

    webhooks: int  # how many are configured
    sent: int = 0  # messages delivered
    failed: int = 0  # messages given up on after the retries
    retries: int = 0  # requests tried again (a timeout, a 5xx, a 429)
    dropped: int = 0  # messages dropped unsent because the queue was full
    pending: int = 0  # messages waiting to be sent
    last_error: str | None = None  # "webhook 2 (slack): HTTP 500", without the URL
    last_error_at: str | None = None  # wall-clock ISO time


@dataclass(frozen=True)
class SessionState:
    """The one published state of a running show (served as JSON by the web API)."""

    version: int
    show: ShowState
    link: str  # LinkState value: connecting, identifying, ready, backing off, ...
    stream: OutputView | None  # None until OBS has been asked
    record: OutputView | None
    checks: tuple[CheckResult, ...]  # speaker check results, newest per speaker and part
    messages: tuple[ShowMessage, ...]  # every message so far, numbered (seq)
    health: HealthView | None = None  # stream health (live, stream test); None: not watched
    cards: CardsView | None = None  # the MC's cue cards: the slot on air's and the next's
    notify: NotifyView | None = None  # the notification webhooks; None without any

    def to_json(self) -> dict[str, Any]:
        """The state as plain JSON values."""
        return dataclasses.asdict(self)


class StateFeed:
    """One surface's view of the session state: `async for state in feed` until the end.

    Each step yields the newest state; states published while the surface was busy are
    skipped (the messages in the newest one include theirs).
    """

    def __init__(self, session: ShowSession) -> None:
        self._session = session
        self._wake = asyncio.Event()
        self._closed = False
        self._seen = -1

    def notify(self) -> None:
        """A new state is out (cheap: called inside the cue loop)."""
        self._wake.set()

    def close(self) -> None:
        """The feed yields the last state, then ends (the show is over, or its surface left)."""
        self._closed = True
        self._wake.set()
        self._session.forget(self)

    def __aiter__(self) -> StateFeed:
        return self

    async def __anext__(self) -> SessionState:
        while True:
            state = self._session.state
            if state.version != self._seen:
                self._seen = state.version
                return state
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()


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
            self._session.problem(f"{self._name} could not start: {_describe(exc)}", exc)
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
            self._session.problem(f"{self._name} failed while stopping: {_describe(error)}", error)


class ShowSession:
    """Owns one running show: link, guarded gateway, engine, policy, attachments, tasks."""

    # How long (real seconds) an attachment may take to stop before showcaller goes on.
    attachment_stop_s = 5.0

    def __init__(
        self,
        cfg: EventConfig,
        show: Show,
        gateway: OBSGateway,
        *,
        link: OBSLink,
        status_poll_s: float = STATUS_POLL_S,
    ) -> None:
        self.cfg = cfg
        self.show = show
        self.gateway = gateway
        self.link = link
        self.journal = show.journal
        self.policy: ModePolicy | None = None
        self.checks: tuple[CheckResult, ...] = ()
        self.health: HealthView | None = None
        self.health_monitor: HealthMonitor | None = None  # set by the stream health attachment
        self.notify: NotifyView | None = None
        self._status_poll_s = status_poll_s
        self._attachments: list[tuple[str, Attachment]] = []
        self._feeds: list[StateFeed] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._show_tasks: set[asyncio.Task[None]] = set()
        self._group: asyncio.TaskGroup | None = None
        self._stream: OutputView | None = None
        self._record: OutputView | None = None
        self._version = 0
        self._state: SessionState | None = None
        self._state_key: tuple[int, int] = (-1, -1)
        self._cards = CueCards(cfg)
        show.on_state(lambda _: self._changed())

    # ------------------------------------------------------------------ set-up

    def use(self, policy: ModePolicy) -> None:
        """Make `policy` the mode's actions around the timetable."""
        self.policy = policy
        self.show.actions = policy

    def attach(self, name: str, factory: Attachment) -> None:
        """Run `factory(self)` as an async context manager for as long as the show runs."""
        self._attachments.append((name, factory))

    # ------------------------------------------------------------------- state

    @property
    def state(self) -> SessionState:
        """The current state (built at most once per change)."""
        key = (self.show.state.version, self._version)
        if self._state is None or key != self._state_key:
            self._state_key = key
            self._state = SessionState(
                version=key[0] + key[1],
                show=self.show.state,
                link=self.link.state.value,
                stream=self._stream,
                record=self._record,
                checks=self.checks,
                messages=tuple(self.show.messages),
                health=self.health,
                cards=self._cards.view(self.show.state),
                notify=self.notify,
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

    def _bump(self) -> None:
        self._version += 1
        self._changed()

    def publish_checks(self, results: tuple[CheckResult, ...]) -> None:
        """New speaker check results for the state (the newest per speaker and part)."""
        self.checks = results
        self._bump()

    def publish_health(self, view: HealthView) -> None:
        """A new stream health reading for the state."""
        self.health = view

    def publish_notify(self, view: NotifyView) -> None:
        """New counts of the notification webhooks for the state."""
        self.notify = view
        self._bump()

    def problem(self, text: str, exc: BaseException | None = None) -> None:
        """A part of the session went wrong: one problem in the report; the show goes on."""
        if exc is not None and not isinstance(exc, OBSError):
            log.error("%s", text, exc_info=exc)
        self.show.warn(text)

    # ---------------------------------------------------------------- commands

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
                if not self.show.stopped:
                    self.journal.write(
                        Kind.REJECTED, command=repr(command), source=source, reason=str(exc)
                    )
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
            self.problem(f"{name} failed: {_describe(exc)}", exc)

    # --------------------------------------------------------------------- run

    async def run(self) -> ShowReport:
        """Run the show with its attachments until it ends or is detached."""
        unwatch = await self.gateway.on(
            self._on_output_event, StreamStateChanged, RecordStateChanged, RecordFileChanged
        )
        unsubscribe = [self.gateway.add_resync_hook(self._resync)]
        unsubscribe.append(self.link.on_state(lambda _: self._bump()))
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self.spawn(self._poll_outputs(), "stream and record status")
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

    async def _resync(self, gateway: OBSGateway) -> None:
        await self.show.resync(gateway)
        if self.policy is not None:
            await self.policy.after_resync(gateway)

    # ----------------------------------------------------------- stream/record

    def _on_output_event(self, event: OBSEvent) -> None:
        if self.show.stopped:
            return
        match event:
            case StreamStateChanged(state=state, active=active):
                self.journal.write(Kind.STREAM, action=state.value, active=active)
                if self.policy is not None:
                    self.policy.on_stream(event)
                old = self._stream or OutputView(active=False)
                self._stream = dataclasses.replace(
                    old, active=active, reconnecting=state is OutputState.RECONNECTING
                )
            case RecordStateChanged(state=state, active=active, path=path):
                self.journal.write(Kind.RECORD, action=state.value, active=active, path=path)
                old = self._record or OutputView(active=False)
                self._record = dataclasses.replace(
                    old,
                    active=active,
                    paused=state is OutputState.PAUSED,
                    file=path or old.file,
                )
            case RecordFileChanged(path=path):
                self.journal.write(Kind.RECORD, action="file", path=path)
                old = self._record or OutputView(active=True)
                self._record = dataclasses.replace(old, file=path)
        self._bump()

    async def _poll_outputs(self) -> None:
        """Stream and record status for the surfaces (durations and bytes have no events)."""
        clock = self.show.time.clock
        while True:
            try:
                stream = await self.gateway.stream_status()
                record = await self.gateway.record_status()
            except OBSError:
                pass  # OBS away: the link state says so; try again at the next poll
            else:
                self._stream = _view(stream, self._stream)
                self._record = _view(record, self._record)
                self._bump()
            await clock.sleep_until(clock.monotonic() + self._status_poll_s * self.show.speed)


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


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return text if isinstance(exc, OBSError) and text else unexpected(exc)


@contextlib.asynccontextmanager
async def follow(
    session: ShowSession, on_state: Callable[[SessionState], None]
) -> AsyncIterator[None]:
    """An attachment that calls `on_state` (outside the cue loop) with each newest state."""
    feed = session.feed()

    async def loop() -> None:
        async for state in feed:
            on_state(state)

    task = session.spawn(loop(), "state follower", with_show=False)
    try:
        yield
    finally:
        # The feed ends after the last state; let the follower see it.
        with contextlib.suppress(asyncio.CancelledError):
            await task


__all__ = [
    "Attachment",
    "ModePolicy",
    "NotifyView",
    "OutputView",
    "SessionState",
    "ShowSession",
    "StateFeed",
    "follow",
]
