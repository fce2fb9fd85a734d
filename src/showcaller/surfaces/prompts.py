"""Questions on the terminal: go on air?, and what Ctrl-C during a live show should do.

The prompts only ask and send commands to the show session; the show logic stays there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable

from showcaller.show.context import ShowContext
from showcaller.show.hostcommands import Detach, End, HostCommand
from showcaller.show.state import CommandResult
from showcaller.show.timetable import Next


def _read_answer(question: str) -> str:
    try:
        return input(question).strip().casefold()
    except EOFError:
        return ""


async def read_answer(question: str) -> str:
    """Ask on the terminal without a thread, so the end of the show never waits for Enter.

    The answer is the typed line, stripped and case-folded ("" at end of input).
    Where stdin cannot be watched by the event loop (a regular file, Windows), a
    thread reads it instead.
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()
    typed = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 1024)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        typed.extend(chunk)
        if (not chunk or b"\n" in typed) and not answer.done():
            answer.set_result(typed.split(b"\n", 1)[0].decode(errors="replace"))

    try:
        fd = sys.stdin.fileno()
        loop.add_reader(fd, readable)
    except (AttributeError, NotImplementedError, OSError, ValueError):
        return await asyncio.to_thread(_read_answer, question)
    print(question, end="", flush=True)
    try:
        return (await answer).strip().casefold()
    finally:
        loop.remove_reader(fd)


async def ask_on_tty(question: str) -> bool:
    """Ask on the terminal; only the word `yes` confirms (Ctrl-C at the prompt quits at once)."""
    return await read_answer(question) == "yes"


CTRL_C_QUESTION = (
    "\nCtrl-C: type `end` to end the show and stop the stream and recording,"
    " `detach` to quit and leave OBS as it is, `next` to put the next slot on air,"
    " anything else to go on: "
)
CTRL_C_ANSWERS: dict[str, Callable[[], HostCommand]] = {
    "end": End,
    "detach": Detach,
    # Until the dashboard's keys exist, the way on from a slot that ends "manual".
    "next": Next,
}


def on_signal(sig: int, handler: Callable[[], None]) -> Callable[[], None]:
    """Call `handler` on `sig` through the event loop; returns the undo (a no-op where
    signals cannot be watched: off the main thread, on Windows)."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(sig, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        return lambda: None

    def undo() -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(sig)

    return undo


@contextlib.asynccontextmanager
async def ctrl_c_question(session: ShowContext) -> AsyncIterator[None]:
    """An attachment: Ctrl-C asks what to do; the answer goes to the show as a command."""
    asking: list[asyncio.Task[None]] = []

    async def ask() -> None:
        try:
            answer = await read_answer(CTRL_C_QUESTION)
        except asyncio.CancelledError:
            # The show ended while the question waited: it no longer holds anything up.
            print("\n(the show has ended; the Ctrl-C question was left unanswered)", flush=True)
            raise
        make = CTRL_C_ANSWERS.get(answer)
        if make is not None:
            result: CommandResult = await session.submit(make(), source="prompt")
            print(result.message, flush=True)

    def on_ctrl_c() -> None:
        if not asking or asking[-1].done():
            asking.append(session.spawn(ask(), "Ctrl-C question"))

    undo = on_signal(signal.SIGINT, on_ctrl_c)
    try:
        yield
    finally:
        undo()


__all__ = [
    "ask_on_tty",
    "ctrl_c_question",
    "on_signal",
    "read_answer",
]
