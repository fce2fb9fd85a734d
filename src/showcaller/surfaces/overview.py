"""Several rooms at a glance: each room's lines marked with its name, one line per room.

With several rooms the plain console runs once per room (`CueLog`), each writing through
a `RoomLines` that puts `[room] ` before every line, so the rooms' cues can be told
apart in one log.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console

from showcaller.show.state import SessionState


class RoomLines:
    """A text stream that puts `[room] ` before every line it writes to `out`."""

    def __init__(self, room: str, out: TextIO | None = None) -> None:
        self.prefix = f"[{room}] "
        self._out = out
        self._at_line_start = True

    @property
    def out(self) -> TextIO:
        """Where the lines go (stdout as it is now, so a test's capture sees them)."""
        return self._out if self._out is not None else sys.stdout

    def write(self, text: str) -> int:
        """Write `text`, each line marked with the room."""
        parts = []
        for line in text.splitlines(keepends=True):
            if self._at_line_start:
                parts.append(self.prefix)
            parts.append(line)
            self._at_line_start = line.endswith("\n")
        self.out.write("".join(parts))
        return len(text)

    def flush(self) -> None:
        """Flush the stream underneath."""
        self.out.flush()

    def isatty(self) -> bool:
        """Never a terminal: the lines are a log."""
        return False


def room_console(room: str, *, width: int = 132) -> Console:
    """A rich console whose every line starts with `[room] `."""
    return Console(file=RoomLines(room), width=width, highlight=False)  # type: ignore[arg-type]


# ------------------------------------------------------------- one line per room


@dataclass(frozen=True)
class RoomLine:
    """What a host watching every room needs of one: the web overview's row and the
    dashboard's overview line read the same."""

    room: str
    title: str
    phase: str
    on_air: str  # "3 Talk title", "" for none
    next: str  # "19:30 Next title", "" for none
    delay_s: float
    link: str  # the OBS link: ready, backing off, ...
    stream: str  # on air | reconnecting | off | unknown
    failing: tuple[str, ...]  # the speaker checks that fail: "Name: camera (black)"

    @property
    def trouble(self) -> bool:
        """Something a host must look at: OBS away or a speaker check failing."""
        return self.link != "ready" or bool(self.failing)


def room_line(room: str, state: SessionState) -> RoomLine:
    """One room's line from its published state (pure)."""
    show = state.show
    on_air = f"{show.on_air.index + 1} {show.on_air.title}" if show.on_air is not None else ""
    upcoming = ""
    if show.next is not None:
        upcoming = f"{show.next.expected_start[11:16]} {show.next.title}".strip()
    if state.stream is None:
        stream = "unknown"
    elif state.stream.reconnecting:
        stream = "reconnecting"
    else:
        stream = "on air" if state.stream.active else "off"
    failing = tuple(
        f"{c.name}: {c.part}" + (f" ({c.value})" if c.value else "")
        for c in state.checks
        if c.verdict == "fail"
    )
    return RoomLine(
        room=room,
        title=show.title,
        phase=show.phase,
        on_air=on_air,
        next=upcoming,
        delay_s=show.delay_s,
        link=state.link,
        stream=stream,
        failing=failing,
    )


__all__ = ["RoomLine", "RoomLines", "room_console", "room_line"]
