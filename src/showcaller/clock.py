"""Clocks: the only place showcaller reads time.

Every module that needs time takes a `Clock`. `monotonic()` is in *show seconds*
(for a `ScaledClock` they run N times faster than real seconds), `now()` is the
matching aware wall-clock time, and `sleep_until()` waits for a monotonic deadline
without accumulating drift.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine and the checks need from time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (show seconds)."""
        ...

    def now(self) -> datetime:
        """The aware wall-clock time (UTC) that matches `monotonic()`."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return at or just after the monotonic `deadline` (at once if it has passed)."""
        ...


class SystemClock:
    """Real time: `time.monotonic()` and the system's wall clock."""

    def monotonic(self) -> float:
        """Seconds from `time.monotonic()`."""
        return time.monotonic()

    def now(self) -> datetime:
        """The system's wall clock, aware, UTC."""
        return datetime.now(UTC)

    async def sleep_until(self, deadline: float) -> None:
        """Sleep on the event loop until `deadline`; the last millisecond is spun for precision."""
        loop = asyncio.get_running_loop()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # The loop's timer can fire up to ~1 ms late; sleep short of the deadline,
            # then yield in small steps so a cue goes out within a fraction of a millisecond.
            if remaining > 0.002:
                await asyncio.sleep(remaining - 0.0015)
            else:
                fut = loop.create_future()
                loop.call_soon(_resolve, fut)
                await fut


def _resolve(fut: asyncio.Future[None]) -> None:
    # The sleeper may have been cancelled (a command woke the show) before this runs.
    if not fut.done():
        fut.set_result(None)


class ScaledClock:
    """Show time that runs `speed` times faster than real time, starting at `start`.

    Used by `rehearse --speed N`: a 100-minute show passes in 100/N real minutes.
    """

    def __init__(self, speed: float, start: datetime, *, base: SystemClock | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.speed = speed
        self._base = base or SystemClock()
        self._real0 = self._base.monotonic()
        self._start = start

    def monotonic(self) -> float:
        """Show seconds since the clock started."""
        return (self._base.monotonic() - self._real0) * self.speed

    def now(self) -> datetime:
        """`start` plus the show seconds elapsed."""
        return self._start + timedelta(seconds=self.monotonic())

    async def sleep_until(self, deadline: float) -> None:
        """Wait until the show-second `deadline`."""
        await self._base.sleep_until(self._real0 + deadline / self.speed)

    def real_monotonic(self, show_monotonic: float) -> float:
        """The base clock's monotonic time at which `monotonic()` reads `show_monotonic`."""
        return self._real0 + show_monotonic / self.speed

    def restarted(self) -> ScaledClock:
        """The same clock started again now (at `start`, at the same speed)."""
        return ScaledClock(self.speed, self._start, base=self._base)


class VirtualClock:
    """A clock that moves only when told: for tests and the drift benchmark.

    `advance(s)` moves time forward and wakes sleepers whose deadline passed.
    With `autojump=True`, a sleeper makes time jump straight to its deadline once
    the event loop has nothing else to do, so a 3-hour show runs in milliseconds.
    """

    def __init__(self, start: datetime, *, autojump: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start
        self._t = 0.0
        self._autojump = autojump
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        """Virtual seconds since the clock started."""
        return self._t

    def now(self) -> datetime:
        """`start` plus the virtual seconds elapsed."""
        return self._start + timedelta(seconds=self._t)

    def set_wall(self, wall: datetime) -> None:
        """Make the wall clock jump (monotonic time does not move): to test re-anchoring."""
        self._start = wall - timedelta(seconds=self._t)

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._t += seconds
        self._wake()

    def _wake(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._t:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    async def sleep_until(self, deadline: float) -> None:
        """Wait until virtual time reaches `deadline`."""
        if deadline <= self._t:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._seq), fut))
        try:
            if self._autojump:
                # Let every other ready task run first, then jump to the earliest deadline.
                for _ in range(20):
                    await asyncio.sleep(0)
                    if fut.done():
                        break
                # Sleepers cancelled meanwhile are done already: jump past them, to a live one.
                while self._sleepers and self._sleepers[0][2].done():
                    heapq.heappop(self._sleepers)
                if not fut.done() and self._sleepers:
                    self._t = max(self._t, self._sleepers[0][0])
                    self._wake()
            await fut
        finally:
            # A sleeper cancelled before its deadline must not stay behind as a live one.
            fut.cancel()


async def ticks(clock: Clock, period: float) -> AsyncIterator[float]:
    """Yield the clock's monotonic time every `period` (clock seconds), at once first.

    A step that runs over one or more ticks skips them, never queues them: the next tick
    is the first one still ahead, so a slow OBS answer is not followed by a burst.
    """
    if period <= 0:
        raise ValueError("period must be positive")
    due = clock.monotonic()
    while True:
        yield clock.monotonic()
        due += period
        now = clock.monotonic()
        if due <= now:
            due += ((now - due) // period + 1) * period
        await clock.sleep_until(due)
