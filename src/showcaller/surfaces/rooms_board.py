"""The dashboard of several rooms: one overview line per room, one focused room below.

The overview lines (on air, next, delay, OBS link, stream, failing checks in red) come
from `overview.room_line`, as the web overview's rows do. Below them the focused room's
dashboard is today's (`dashboard.render`), and the keys act on it: `Tab` (and
Shift-Tab) and `1`–`9` change the focus, every other key goes to the focused room's
board as with one room. The header line says which room the keys act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from showcaller.config import EventConfig
from showcaller.show.context import ShowContext
from showcaller.show.session import ShowSession
from showcaller.show.state import SessionState
from showcaller.surfaces.dashboard import (
    LINK_STYLES,
    REFRESH_S,
    BoardUI,
    Dashboard,
    _Board,  # one room's board: its keys and its commands, as with one room
    render,
)
from showcaller.surfaces.keys import CTRL_C, TerminalKeys
from showcaller.surfaces.overview import RoomLine, room_line
from showcaller.surfaces.prompts import on_signal

TAB, SHIFT_TAB = "\t", "\x1b[Z"


@dataclass
class RoomsFocus:
    """Which room the keys act on (pure): `take(key)` moves it on Tab, Shift-Tab, 1–9."""

    rooms: tuple[str, ...]
    index: int = 0

    @property
    def room(self) -> str:
        """The focused room's name."""
        return self.rooms[self.index]

    def take(self, key: str) -> bool:
        """Move the focus for a focus key (True); any other key is the room's (False)."""
        if key == TAB:
            self.index = (self.index + 1) % len(self.rooms)
        elif key == SHIFT_TAB:
            self.index = (self.index - 1) % len(self.rooms)
        elif len(key) == 1 and "1" <= key <= "9" and int(key) <= len(self.rooms):
            self.index = int(key) - 1
        else:
            return False
        return True


def _delay(seconds: float) -> str:
    if abs(seconds) < 60:
        return f"{seconds:+.0f}s"
    return f"{seconds / 60:+.0f}m"


def overview_line(number: int, line: RoomLine, *, focused: bool) -> Text:
    """One room's overview line: red where a host must look, the next slot last."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▶" if focused else " ", "bold")
    text.append(f"{number} {line.room} ", "bold reverse" if focused else "bold")
    text.append(f" {line.on_air or '—'}", "green" if line.on_air else "dim")
    text.append(f"  {_delay(line.delay_s)}", "yellow" if line.delay_s >= 60 else "")
    text.append("  OBS ")
    text.append(line.link, LINK_STYLES.get(line.link, "bold red"))
    text.append("  stream ")
    text.append(line.stream, "bold red" if line.stream == "reconnecting" else "")
    for failing in line.failing:
        text.append(f"  ✗ {failing}", "bold red")
    if line.next:  # last: on a narrow terminal what is wrong now comes first
        text.append(f"  next {line.next}", "dim")
    return text


def render_rooms(
    rooms: Sequence[tuple[str, SessionState]],
    focus: int,
    now: datetime,
    *,
    ui: BoardUI,
    width: int,
    height: int,
    speed: float = 1.0,
    tz: tzinfo | None = None,
) -> RenderableType:
    """Every room's overview line, then the focused room's dashboard (pure)."""
    name, state = rooms[focus]
    header = Text(no_wrap=True, overflow="ellipsis")
    header.append(f" {len(rooms)} rooms ", "reverse")
    header.append("  keys act on ")
    header.append(name, "bold")
    header.append("  (Tab / 1–9: another room)", "dim")
    lines = [
        overview_line(n, room_line(room, room_state), focused=n - 1 == focus)
        for n, (room, room_state) in enumerate(rooms, start=1)
    ]
    used = 1 + len(lines)
    below = render(
        state, now, ui=ui, width=width, height=max(10, height - used), speed=speed, tz=tz
    )
    return Group(header, *lines, below)


class RoomsDashboard:
    """The terminal of several rooms: `attach(room, session)` for each, and `screen()`
    around the shows (it owns the terminal and the keys)."""

    def __init__(
        self, configs: dict[str, EventConfig], console: Console | None = None, *, stdin_fd: int
    ) -> None:
        self.console = console or Console(highlight=False)
        self.focus = RoomsFocus(tuple(configs))
        self._dashboards = {
            name: Dashboard(cfg, self.console, stdin_fd=stdin_fd) for name, cfg in configs.items()
        }
        self.stdin_fd = stdin_fd
        self.boards: dict[str, _Board] = {}
        self._wake = asyncio.Event()

    def note(self, line: str) -> None:
        """A line every room's board keeps in sight (the web pages' URLs)."""
        for dashboard in self._dashboards.values():
            dashboard.notes.append(line)
        self.console.print(line, markup=False, highlight=False)

    def attach(self, room: str, session: ShowSession) -> None:
        """Show `room`'s session (its line, and its board when focused)."""
        session.attach("the dashboard", functools.partial(self._following, room))

    @contextlib.asynccontextmanager
    async def _following(self, room: str, session: ShowContext) -> AsyncIterator[None]:
        board = _Board(self._dashboards[room], session)
        self.boards[room] = board

        async def follow() -> None:
            async for state in session.feed():
                board.state = state
                self._wake.set()

        task = session.spawn(follow(), f"the dashboard's feed of {room}", with_show=False)
        try:
            yield
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def on_key(self, key: str) -> None:
        """A key: a focus key moves the focus; any other goes to the focused room's board."""
        self._wake.set()
        board = self.boards.get(self.focus.room)
        typing = board is not None and board.ui.input is not None
        if not typing and self.focus.take(key):
            return
        if board is not None:
            board.on_key(key)

    def frame(self) -> RenderableType:
        """The screen now."""
        rooms = [(name, b.state) for name, b in self.boards.items()]
        names = [name for name, _ in rooms]
        if self.focus.room not in names:
            return Text("the rooms are getting ready …")
        board = self.boards[self.focus.room]
        size = self.console.size
        return render_rooms(
            rooms,
            names.index(self.focus.room),
            board._now(),
            ui=board.ui,
            width=size.width,
            height=size.height,
            speed=board.session.speed,
            tz=board.cfg.tz,
        )

    @contextlib.asynccontextmanager
    async def screen(self) -> AsyncIterator[None]:
        """Own the terminal and the keys while the block runs the shows."""
        with contextlib.ExitStack() as stack:
            live = Live(console=self.console, screen=True, auto_refresh=False)
            stack.enter_context(live)
            if TerminalKeys.usable(self.stdin_fd):
                stack.enter_context(TerminalKeys(self.stdin_fd, self.on_key))
            stack.callback(on_signal(signal.SIGINT, lambda: self.on_key(CTRL_C)))
            painter = asyncio.create_task(self._paint(live), name="the rooms' dashboard")
            try:
                yield
            finally:
                painter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await painter

    async def _paint(self, live: Live) -> None:
        while True:
            live.update(self.frame(), refresh=True)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(REFRESH_S):
                    await self._wake.wait()


__all__ = ["RoomsDashboard", "RoomsFocus", "overview_line", "render_rooms"]
