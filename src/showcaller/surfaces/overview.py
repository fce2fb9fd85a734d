"""Several rooms on one terminal: each room's lines marked with its name.

With several rooms the plain console runs once per room (`CueLog`), each writing through
a `RoomLines` that puts `[room] ` before every line, so the rooms' cues can be told
apart in one log.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console


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


__all__ = ["RoomLines", "room_console"]
