"""The small seams every part of the simulated OBS is built on: the versions it plays,
the frame tick, frame counters, the owned background tasks, and the event audience.

Nothing here knows the server, the wire or a request handler: they all import this
module, never each other's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Literal, Protocol

from showcaller.clock import Clock
from showcaller.obs.sim.model import JSON

log = logging.getLogger(__name__)

ObsVersion = Literal["5.1", "5.5"]

VERSIONS: dict[str, dict[str, str]] = {
    "5.1": {
        "obsVersion": "29.0.2",
        "obsWebSocketVersion": "5.1.0",
        "platformDescription": "Debian GNU/Linux 12 (bookworm)",
    },
    "5.5": {
        "obsVersion": "30.2.3",
        "obsWebSocketVersion": "5.5.2",
        "platformDescription": "Debian GNU/Linux 13 (trixie)",
    },
}

FRAME_S = 1 / 30


class FrameCounter:
    """Frames skipped at a share of the frame rate that changes now and then (a fault)."""

    def __init__(self) -> None:
        self.base = 0.0
        self.since = 0.0
        self.share = 0.0

    def value(self, now: float) -> int:
        """Frames counted up to `now`."""
        return int(self.base + (now - self.since) * self.share / FRAME_S)

    def set_share(self, now: float, share: float) -> None:
        """Count `share` of the frames from `now` on."""
        self.base, self.since, self.share = float(self.value(now)), now, share


class Audience(Protocol):
    """Who hears the sim's events: the connected, identified clients (wire.Clients)."""

    def broadcast(self, event_type: str, data: JSON) -> None:
        """Send an event to every client subscribed to its intent bit."""

    def subscribed(self, intent: int) -> bool:
        """Whether any identified client subscribes to `intent`."""


async def sleep(clock: Clock, seconds: float) -> None:
    """Wait `seconds` on the injected clock."""
    await clock.sleep_until(clock.monotonic() + seconds)


class Tasks:
    """The sim's timed work in flight (output starts and stops, transitions): owned,
    logged if one fails, cancelled together when OBS is killed or stops."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run `coro` as a named task kept until it ends."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulated OBS task %s failed", task.get_name(), exc_info=task.exception())

    def cancel(self) -> None:
        """Cancel every task in flight (they go once they have ended)."""
        for task in list(self._tasks):
            task.cancel()

    def running(self) -> list[asyncio.Task[None]]:
        """The tasks in flight now."""
        return list(self._tasks)

    def clear(self) -> None:
        """Forget every task (after they were cancelled and awaited)."""
        self._tasks.clear()
