"""The one door an attachment comes through: a small typed context of the running show.

An attachment (speaker checks, stream health, live texts, notifications, a surface) is
an async context manager made by `factory(ctx)`; `ctx` is a `ShowContext`. Through it
an attachment may say or warn, journal a record, add and fire marks, carry out a
command kind, use the guarded gateway, read the show's time, plan and state, spawn a
task, tick, and publish its view. It never reaches into the engine: the journal, the
command table, the mode's actions and the timetable are the show's own.

    @contextlib.asynccontextmanager
    async def applause_meter(ctx: ShowContext) -> AsyncIterator[None]:
        async def run() -> None:
            async for _ in ctx.ticker(1.0 * ctx.speed):   # every real second
                level = await read_level(ctx.gateway)
                ctx.publish(applause=level)              # a field of `Views`
        ctx.spawn(run(), "applause meter")
        yield

The session (`session.ShowSession`) is the one implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar, Unpack

from showcaller.obs.gateway import OBSGateway
from showcaller.show.hostcommands import HostCommand
from showcaller.show.journal import Kind
from showcaller.show.plan import ShowPlan
from showcaller.show.showtime import ShowTime
from showcaller.show.state import CommandResult, Mark, Mode, SessionState, Views

C = TypeVar("C", bound=HostCommand)
CommandHandler = Callable[[C], Awaitable[CommandResult]]
ResyncHook = Callable[[OBSGateway], Awaitable[None]]


class _StateSource(Protocol):
    @property
    def state(self) -> SessionState: ...

    def forget(self, feed: StateFeed) -> None: ...


class StateFeed:
    """One surface's view of the session state: `async for state in feed` until the end.

    Each step yields the newest state; states published while the surface was busy are
    skipped (the messages in the newest one include theirs).
    """

    def __init__(self, source: _StateSource) -> None:
        self._source = source
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
        self._source.forget(self)

    def __aiter__(self) -> StateFeed:
        return self

    async def __anext__(self) -> SessionState:
        while True:
            state = self._source.state
            if state.version != self._seen:
                self._seen = state.version
                return state
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()


class ShowContext(Protocol):
    """What an attachment may do to a running show (see the module's docstring)."""

    @property
    def mode(self) -> Mode:
        """Rehearsal or live."""
        ...

    @property
    def plan(self) -> ShowPlan:
        """The event, resolved once: slots, speakers, times."""
        ...

    @property
    def gateway(self) -> OBSGateway:
        """The guarded gateway to OBS (a rehearsal's refuses the stream)."""
        ...

    @property
    def time(self) -> ShowTime:
        """The show's time: show seconds from the plan's origin, wall-clock times."""
        ...

    @property
    def speed(self) -> float:
        """Show seconds per real second (`--speed`)."""
        ...

    @property
    def journal_path(self) -> Path:
        """Where the show's journal is (files that belong with it go beside it)."""
        ...

    @property
    def state(self) -> SessionState:
        """The newest published state."""
        ...

    @property
    def stopped(self) -> bool:
        """The show has stopped: records are no longer written."""
        ...

    def say(self, text: str, *, topic: str = "") -> None:
        """An info message for the host."""
        ...

    def warn(self, text: str, *, problem: bool = True, topic: str = "") -> None:
        """A warning (`problem`: one that would spoil the show, in the report)."""
        ...

    def problem(self, text: str, exc: BaseException | None = None) -> None:
        """A part of the session went wrong: one problem in the report; the show goes on."""
        ...

    def record(self, kind: Kind, **fields: Any) -> None:
        """Journal one record (nothing once the show stopped)."""
        ...

    def add_mark(self, mark: Mark, *, done_before: Collection[str] = ()) -> Mark:
        """Add a mark the show runs at its moment (or the attachment fires)."""
        ...

    async def fire(self, mark: Mark) -> None:
        """Run a due mark now (once)."""
        ...

    def skip_mark(self, mark: Mark, why: str) -> None:
        """A due mark that will not run, and why."""
        ...

    def handle(self, kind: type[C], handler: CommandHandler[C]) -> Callable[[], None]:
        """Carry out host commands of `kind` (e.g. RunChecks); returns the undo."""
        ...

    async def submit(
        self, command: HostCommand | Mapping[str, Any], *, source: str
    ) -> CommandResult:
        """Carry out a host command, as a surface does."""
        ...

    def feed(self) -> StateFeed:
        """A new feed of states."""
        ...

    def spawn(
        self, coro: Coroutine[Any, Any, None], name: str, *, with_show: bool = True
    ) -> asyncio.Task[None]:
        """Run a named task in the session's task group (`with_show`: ends with the show)."""
        ...

    def ticker(self, period: float) -> AsyncIterator[float]:
        """Ticks every `period` show seconds on the show's clock, skipping ticks run over."""
        ...

    def publish(self, **parts: Unpack[Views]) -> None:
        """New views for the state; always a new version for the feeds."""
        ...

    def on_resync(self, hook: ResyncHook) -> Callable[[], None]:
        """Call `hook` after OBS came back and the show put its scene back; returns the undo."""
        ...

    def show_left_s(self) -> float | None:
        """Show seconds until the show's expected end (None once it ended)."""
        ...

    def report_health(self, line: str) -> None:
        """The stream's health over the run, one line for the report."""
        ...


Attachment = Callable[[ShowContext], contextlib.AbstractAsyncContextManager[Any]]


@contextlib.asynccontextmanager
async def follow(ctx: ShowContext, on_state: Callable[[SessionState], None]) -> AsyncIterator[None]:
    """An attachment that calls `on_state` (outside the cue loop) with each newest state."""
    feed = ctx.feed()

    async def loop() -> None:
        async for state in feed:
            on_state(state)

    task = ctx.spawn(loop(), "state follower", with_show=False)
    try:
        yield
    finally:
        # The feed ends after the last state; let the follower see it.
        with contextlib.suppress(asyncio.CancelledError):
            await task


__all__ = ["Attachment", "CommandHandler", "ShowContext", "StateFeed", "follow"]
