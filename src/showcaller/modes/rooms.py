"""Several rooms, one host: N event files, N shows, one process and one task group.

Each room is a complete event file with its own timetable, OBS, scenes, speakers and
journal; its name is `[event] room`, else the file's stem. Every room is prepared in a
task of its own, side by side (a slow OBS delays nobody's preparation but its own), then
assembled, then all run in one `run_shows`. A room that cannot be prepared refuses the
whole start, naming the room; once running, a room whose OBS goes away or whose
attachment fails is that room's problem only (each room has its own engine and tasks).

`live` asks once for all rooms: each room's go-on-air question is collected, and the host
answers one question that lists them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from showcaller.clock import Clock, ScaledClock, SystemClock
from showcaller.config import OBS, EventConfig, load_config, obs_settings
from showcaller.errors import ShowcallerError, UsageError
from showcaller.show.journal import Journal, Kind
from showcaller.show.plan import ShowPlan
from showcaller.show.session import ShowSession
from showcaller.show.showtime import ShowTime
from showcaller.show.state import ShowReport
from showcaller.surfaces.prompts import CTRL_C_ANSWERS, ask_on_tty, on_signal, read_answer

from .assemble import Extras, assemble
from .prepare import (
    Confirm,
    LiveOptions,
    Prepared,
    RehearsalOptions,
    preparing_live,
    preparing_rehearsal,
)
from .run import run_shows

# The go-on-air question of one room starts so; every other question is asked as it comes.
_GO_ON_AIR = "Go on air"


@dataclass(frozen=True)
class Room:
    """One room of the event: its name, its event file and the OBS it drives."""

    name: str
    cfg: EventConfig
    obs: OBS


def room_name(cfg: EventConfig) -> str:
    """`[event] room`, else the file's stem in lower case (spaces and dots become -)."""
    return cfg.room_name


def load_rooms(paths: Sequence[Path], *, obs_url: str | None = None) -> list[Room]:
    """Load every room's event file; refuses two rooms of one name and, with several
    rooms, a password written in a file (each room's comes from its `obs.password_env`).

    `obs_url` (`--obs`) replaces every room's obs.url: `sim` gives each room a simulated
    OBS of its own.
    """
    rooms: list[Room] = []
    for path in paths:
        cfg = load_config(path)
        name = room_name(cfg)
        other = next((r for r in rooms if r.name == name), None)
        if other is not None:
            raise UsageError(
                f"two rooms are called {name!r}: {other.cfg.config_source} and {path}",
                hint='give each file its own name: [event] room = "…"',
            )
        line = cfg.password_line()
        if len(paths) > 1 and line is not None:
            raise UsageError(
                f"{path}:{line}: obs.password: with several rooms a password is never "
                "written in an event file",
                hint='name the variable that holds it: [obs] password_env = "ROOM_B_OBS_PASSWORD"',
            )
        try:
            obs = obs_settings(cfg, url=obs_url)
        except ShowcallerError as exc:
            raise _in_room(exc, name) from None
        rooms.append(Room(name, cfg, obs))
    return rooms


def _in_room(exc: ShowcallerError, room: str) -> ShowcallerError:
    # The same error (its class keeps the exit code and the hint), its line naming the
    # room: the error classes build their messages differently, so the text is replaced.
    exc.args = (f"room {room}: {exc}", *exc.args[1:])
    return exc


# ------------------------------------------------------------------- preparing them all


class _Holder:
    """One room's preparation, held open in a task of its own until released.

    The preparation is an async context manager (journal claimed, OBS connected); it is
    entered and left in the same task, which waits for `release` in between.
    """

    def __init__(
        self,
        room: Room,
        preparing: Callable[[], contextlib.AbstractAsyncContextManager[Prepared]],
        release: asyncio.Event,
        asked: asyncio.Future[str] | None,
    ) -> None:
        self.room = room
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[Prepared] = loop.create_future()
        self.asked = asked if asked is not None else loop.create_future()  # live: its question
        self._preparing = preparing
        self._release = release
        self.task = asyncio.create_task(self._hold(), name=f"room {room.name}: prepare")

    async def _hold(self) -> None:
        try:
            async with self._preparing() as prepared:
                self.ready.set_result(prepared)
                await self._release.wait()
        except asyncio.CancelledError:
            self.ready.cancel()
            raise
        except BaseException as exc:
            if self.ready.done():
                raise  # leaving the preparation failed: said after the show
            self.ready.set_exception(exc)

    async def asked_or_ready(self) -> None:
        """Wait until the room asks its question, is ready, or failed."""
        await asyncio.wait({self.ready, self.asked}, return_when=asyncio.FIRST_COMPLETED)


def _refusal(holders: Sequence[_Holder]) -> BaseException | None:
    """The first room (in order) whose preparation failed, its error naming it."""
    failed = [h for h in holders if h.ready.done() and h.ready.exception() is not None]
    if not failed:
        return None
    first = failed[0]
    exc = first.ready.exception()
    assert exc is not None
    if not isinstance(exc, ShowcallerError):
        return exc
    others = [h.room.name for h in failed[1:]]
    error = _in_room(exc, first.room.name)
    if others:
        error.args = (f"{error} (and refused too: {', '.join(others)})", *error.args[1:])
    return error


@contextlib.asynccontextmanager
async def _preparing_all(
    rooms: Sequence[Room],
    preparing: Callable[[Room], contextlib.AbstractAsyncContextManager[Prepared]],
    *,
    asked: Mapping[str, asyncio.Future[str]] | None = None,
    ask: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[list[Prepared]]:
    """Prepare every room side by side; yield their `Prepared`, in order.

    `ask` runs once every room is ready, or has asked its question (`asked`, by room:
    live asks them all at once there). Any room that refuses refuses the start, naming
    the room; the others are let go.
    """
    release = asyncio.Event()
    holders = [
        _Holder(
            room,
            functools.partial(preparing, room),
            release,
            asked.get(room.name) if asked is not None else None,
        )
        for room in rooms
    ]
    try:
        await asyncio.gather(*(h.asked_or_ready() for h in holders))
        refused = _refusal(holders)
        if refused is not None:
            raise refused
        if ask is not None:
            await ask()
        await asyncio.wait([h.ready for h in holders])
        refused = _refusal(holders)
        if refused is not None:
            raise refused
        yield [h.ready.result() for h in holders]
    finally:
        release.set()
        for h in holders:
            if not h.ready.done():
                h.task.cancel()
        left = await asyncio.gather(*(h.task for h in holders), return_exceptions=True)
    # Only after a clean run (an error in flight wins): a room that failed to let go.
    for result in left:
        if isinstance(result, Exception):
            raise result


# ------------------------------------------------------------------------ the modes


async def rehearse_rooms(
    rooms: Sequence[Room],
    options: Callable[[Room], RehearsalOptions],
    *,
    on_session: Callable[[Room, ShowSession], None] | None = None,
) -> list[ShowReport]:
    """Rehearse every room at once, each on its own OBS (`sim`: its own simulated OBS)."""
    plans = {room.name: ShowPlan.of(room.cfg) for room in rooms}
    for_room = {room.name: options(room) for room in rooms}

    def preparing(room: Room) -> contextlib.AbstractAsyncContextManager[Prepared]:
        return preparing_rehearsal(room.cfg, plans[room.name], for_room[room.name])

    async with _preparing_all(rooms, preparing) as prepared:
        # Every room's clock starts now, together: one slow preparation (an OBS that took
        # long to answer) would otherwise have the other rooms' first cues late.
        prepared = [_restart_clock(p) for p in prepared]
        with contextlib.ExitStack() as journals:
            sessions = []
            for room, p in zip(rooms, prepared, strict=True):
                opts = for_room[room.name]
                journal = journals.enter_context(
                    Journal(p.journal_path, p.showtime.clock, p.plan.hash, fresh=True)
                )
                extras = Extras(
                    record=opts.record, notify=opts.notify, stream_test=opts.stream_test
                )
                sessions.append(_assemble(room, p, journal, extras, on_session))
            return await run_shows(sessions)


async def live_rooms(
    rooms: Sequence[Room],
    options: Callable[[Room], LiveOptions],
    *,
    clock: Clock | None = None,
    confirm: Confirm = ask_on_tty,
    on_session: Callable[[Room, ShowSession], None] | None = None,
    ask_on_ctrl_c: bool = False,
) -> list[ShowReport]:
    """Every room on air in real time, asked once for all; each resumes from its journal.

    `ask_on_ctrl_c`: on a terminal, Ctrl-C asks once what to do, for every room or one.
    """
    clock = clock or SystemClock()
    plans = {room.name: ShowPlan.of(room.cfg) for room in rooms}
    for_room = {room.name: options(room) for room in rooms}
    loop = asyncio.get_running_loop()
    asked: dict[str, asyncio.Future[str]] = {room.name: loop.create_future() for room in rooms}
    answer: asyncio.Future[bool] = loop.create_future()
    asking = asyncio.Lock()

    def preparing(room: Room) -> contextlib.AbstractAsyncContextManager[Prepared]:
        async def room_confirm(question: str) -> bool:
            if question.startswith(_GO_ON_AIR):
                asked[room.name].set_result(question)
                return await answer
            async with asking:  # another question (a stream test left behind): as it comes
                return await confirm(f"room {room.name}: {question}")

        return preparing_live(room.cfg, plans[room.name], for_room[room.name], clock, room_confirm)

    async def ask_once() -> None:
        questions = [(name, q.result()) for name, q in asked.items() if q.done()]
        if not questions:
            return  # --yes
        yes = await confirm(_rooms_question(questions))
        answer.set_result(yes)
        if not yes:
            raise UsageError("not confirmed: nothing was sent to any room's OBS outputs")

    async with _preparing_all(rooms, preparing, asked=asked, ask=ask_once) as prepared:
        with contextlib.ExitStack() as journals:
            sessions = []
            for room, p in zip(rooms, prepared, strict=True):
                journal = journals.enter_context(Journal(p.journal_path, clock, p.plan.hash))
                if p.point is not None:
                    journal.write(Kind.RESUME, from_line=p.point.line)
                sessions.append(_assemble(room, p, journal, Extras(), on_session))
            with _ctrl_c_question(sessions) if ask_on_ctrl_c else contextlib.nullcontext():
                return await run_shows(sessions, detach_on_sigterm=True)


ROOMS_CTRL_C_QUESTION = (
    "\nCtrl-C: type `end` to end the show and stop the stream and recording, `detach` to "
    "quit and leave OBS as it is, `next` to put the next slot on air, each for every room "
    "or followed by one room ({rooms}); anything else to go on: "
)


@contextlib.contextmanager
def _ctrl_c_question(sessions: Sequence[ShowSession]) -> Iterator[None]:
    """Ctrl-C asks once, for all rooms; the answer goes to each room named as a command."""
    asking: list[asyncio.Task[None]] = []
    names = ", ".join(s.name for s in sessions)

    async def ask() -> None:
        answer = await read_answer(ROOMS_CTRL_C_QUESTION.format(rooms=names))
        what, _, which = answer.partition(" ")
        make = CTRL_C_ANSWERS.get(what)
        if make is None:
            return
        chosen = [s for s in sessions if not which.strip() or s.name == which.strip()]
        if not chosen:
            print(f"no room is called {which.strip()!r} (the rooms: {names})", flush=True)
        for session in chosen:
            with contextlib.suppress(RuntimeError):  # that room's show has already ended
                result = await session.submit(make(), source="prompt")
                print(f"[{session.name}] {result.message}", flush=True)

    def on_ctrl_c() -> None:
        if not asking or asking[-1].done():
            asking.append(asyncio.create_task(ask(), name="Ctrl-C question (rooms)"))

    undo = on_signal(signal.SIGINT, on_ctrl_c)
    try:
        yield
    finally:
        undo()
        for task in asking:
            # The shows ended while the question waited: it no longer holds anything up.
            task.cancel()


def _rooms_question(questions: Sequence[tuple[str, str]]) -> str:
    lines = [f"{_GO_ON_AIR} in {len(questions)} rooms:"]
    for name, question in questions:
        body = [line for line in question.splitlines() if line and not line.startswith("Type")]
        lines.append(f"[{name}] {body[0]}")
        lines.extend(f"    {line}" for line in body[1:])
    return "\n".join(lines) + "\nType yes to go on air in every room: "


def _restart_clock(p: Prepared) -> Prepared:
    clock = p.showtime.clock
    if not isinstance(clock, ScaledClock):
        return p
    return dataclasses.replace(p, showtime=ShowTime(clock.restarted(), p.plan.origin))


def _assemble(
    room: Room,
    p: Prepared,
    journal: Journal,
    extras: Extras,
    on_session: Callable[[Room, ShowSession], None] | None,
) -> ShowSession:
    def attach(session: ShowSession) -> None:
        if on_session is not None:
            on_session(room, session)

    return assemble(p, journal, extras, on_session=attach, room=room.name)


__all__ = ["Room", "live_rooms", "load_rooms", "rehearse_rooms", "room_name"]
