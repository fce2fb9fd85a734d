"""Single keys on the terminal: cbreak mode, read through the event loop, always put back.

- `TerminalKeys` puts stdin in cbreak mode (no echo, no line buffering, no signal keys,
  no XON/XOFF) and reads it with `loop.add_reader`, so a key never blocks the show and
  no thread waits on the terminal. The terminal's own settings come back on every way
  out: leaving the context, an exception, and (as a last resort) interpreter exit.
- `split_keys(text)` cuts what one read brought into keys (an escape sequence is one).
- `LineInput` is the small inline line editor behind `m` and the quit question.
- `key_command(key, show)` is the host command a single key sends, as a dict.

Pure parts (`split_keys`, `LineInput`, `key_command`) do no I/O and are tested alone.
"""

from __future__ import annotations

import asyncio
import atexit
import codecs
import contextlib
import logging
import os
import termios
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from showcaller.show.state import ShowState

log = logging.getLogger(__name__)

CTRL_C = "\x03"
CTRL_Z = "\x1a"
CTRL_BACKSLASH = "\x1c"
CTRL_U = "\x15"
ESC = "\x1b"
ENTER = ("\r", "\n")
BACKSPACE = ("\x7f", "\x08")

# The keys the dashboard answers to, in the order its help shows them.
KEY_HELP: tuple[tuple[str, str], ...] = (
    ("n", "next: end the slot on air, start the next"),
    ("b", "back: the previous slot again, from now"),
    ("h", "hold / resume the slot's clock"),
    ("+ -", "one minute more / less for the slot on air"),
    ("s", "skip the next slot"),
    ("u", "unskip: put the nearest skipped slot back"),
    ("t", "trouble scene on air, and back"),
    ("c", "run the speaker checks again"),
    ("m", "a message for the speaker timer (Enter sends, empty clears)"),
    ("q", "quit: asks end or detach (Ctrl-C too)"),
    ("?", "this help (Esc or ? closes it)"),
)

# One line of key hints for the bottom of the dashboard.
KEY_HINTS = "n next b back h hold +/- minute s skip u unskip t trouble c checks m message q quit ?"


def key_command(key: str, show: ShowState) -> dict[str, Any] | None:
    """The command a single key sends (as a surface's dict), or None if it sends none."""
    match key:
        case "n":
            return {"command": "next"}
        case "b":
            return {"command": "back"}
        case "h":
            return {"command": "resume" if show.held else "hold"}
        case "+" | "=":  # "=" is "+" without Shift on most keyboards
            return {"command": "extend", "minutes": 1}
        case "-" | "_":
            return {"command": "extend", "minutes": -1}
        case "s":
            return {"command": "skip"}
        case "u":
            return {"command": "unskip"}
        case "t":
            return {"command": "trouble"}
        case "c":
            return {"command": "checks"}
    return None


def split_keys(text: str) -> list[str]:
    """The keys in `text`: one character each, an escape sequence (arrows, F-keys) as one."""
    keys: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == ESC and i + 1 < len(text) and text[i + 1] in "[O":
            # CSI / SS3: parameters and intermediates, then one final byte in @..~
            j = i + 2
            while j < len(text) and not ("@" <= text[j] <= "~"):
                j += 1
            keys.append(text[i : j + 1])
            i = j + 1
            continue
        keys.append(char)
        i += 1
    return keys


@dataclass
class LineInput:
    """A one-line editor inside the dashboard: what the host is typing after `prompt`."""

    prompt: str
    purpose: str  # what the line is for: "message", "quit"
    text: str = ""

    def feed(self, key: str) -> Literal["submit", "cancel"] | None:
        """Take one key; "submit" on Enter, "cancel" on Esc or Ctrl-C, else None."""
        if key in ENTER:
            return "submit"
        if key in (ESC, CTRL_C):
            return "cancel"
        if key in BACKSPACE:
            self.text = self.text[:-1]
        elif key == CTRL_U:
            self.text = ""
        elif len(key) == 1 and key.isprintable():
            self.text += key
        elif key == "\t":
            self.text += " "
        return None


class TerminalKeys:
    """Stdin in cbreak mode, read through the event loop; `on_key` gets each key.

    Signal keys are off while it runs (Ctrl-C, Ctrl-Z and Ctrl-\\ arrive as keys), so
    the show cannot be suspended or killed by a stray key, and XON/XOFF is off so that
    Ctrl-S cannot freeze the screen (a blocked terminal would block the show's writes).
    """

    def __init__(self, fd: int, on_key: Callable[[str], None]) -> None:
        self.fd = fd
        self.on_key = on_key
        self._saved: list[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @staticmethod
    def usable(fd: int) -> bool:
        """True when `fd` is a terminal whose settings can be changed."""
        try:
            termios.tcgetattr(fd)
        except (termios.error, OSError, ValueError):
            return False
        return True

    def __enter__(self) -> TerminalKeys:
        self._saved = termios.tcgetattr(self.fd)
        # If the process leaves without unwinding (a fatal error on the way out), the
        # host still gets a terminal that echoes. SIGKILL aside, nothing skips both.
        atexit.register(self.restore)
        mode = termios.tcgetattr(self.fd)
        mode[0] &= ~(termios.IXON | termios.IXOFF)  # iflag
        mode[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)  # lflag
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        try:
            termios.tcsetattr(self.fd, termios.TCSANOW, mode)
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self.fd, self._readable)
        except BaseException:
            self.restore()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()

    def restore(self) -> None:
        """Stop reading and put the terminal's own settings back (safe to call twice)."""
        if self._loop is not None:
            with contextlib.suppress(Exception):  # the loop may be closing already
                self._loop.remove_reader(self.fd)
            self._loop = None
        saved, self._saved = self._saved, None
        if saved is None:
            return
        atexit.unregister(self.restore)
        try:
            # TCSAFLUSH: keys typed but not read yet do not spill into the shell.
            termios.tcsetattr(self.fd, termios.TCSAFLUSH, saved)
        except (termios.error, OSError) as exc:
            log.warning("could not put the terminal back (run `stty sane`): %s", exc)

    def _readable(self) -> None:
        # VMIN=1: at least one byte is there, so this read does not block. The fd is
        # left blocking on purpose: it shares its open file with stdout.
        try:
            chunk = os.read(self.fd, 1024)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the terminal went away: stop watching it
            if self._loop is not None:
                self._loop.remove_reader(self.fd)
            return
        for key in split_keys(self._decoder.decode(chunk)):
            try:
                self.on_key(key)
            except Exception:
                # A key that trips the surface must not stop the next one from working.
                log.exception("the key %r failed", key)


__all__ = [
    "CTRL_BACKSLASH",
    "CTRL_C",
    "CTRL_Z",
    "ESC",
    "KEY_HELP",
    "KEY_HINTS",
    "LineInput",
    "TerminalKeys",
    "key_command",
    "split_keys",
]
