"""Clocks: the only place showcaller reads time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from showcaller.clock import ScaledClock, SystemClock, VirtualClock

T0 = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)


async def test_a_sleeper_cancelled_in_its_last_millisecond_leaves_no_loop_error() -> None:
    # The engine cancels its sleeper whenever a host command arrives; the precise
    # final spin must not leave a callback behind that fails on the cancelled future.
    clock = SystemClock()
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    cancelled = 0
    try:
        for _ in range(50):
            sleeper = asyncio.create_task(clock.sleep_until(clock.monotonic() + 0.0015))
            await asyncio.sleep(0)  # the sleeper runs first: it is in its final spin now
            sleeper.cancel()
            # On a loaded machine the sleeper may already be done when cancel() comes.
            try:
                await sleeper
            except asyncio.CancelledError:
                cancelled += 1
        await asyncio.sleep(0.01)  # give any stray callback its chance to fail
    finally:
        loop.set_exception_handler(None)
    assert loop_errors == []
    assert cancelled > 0  # the case under test happened at least once


async def test_system_clock_wakes_at_the_deadline_not_before() -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + 0.05
    await clock.sleep_until(deadline)
    assert time.monotonic() >= deadline


async def test_scaled_clock_runs_n_times_faster_and_its_wall_time_follows() -> None:
    clock = ScaledClock(100, T0)
    await clock.sleep_until(5.0)  # five show seconds: 50 ms of real time
    assert clock.monotonic() >= 5.0
    assert clock.now() - T0 >= timedelta(seconds=5)
    assert clock.now() - T0 < timedelta(seconds=5 + 100 * 0.5)  # not wildly past it


def test_clocks_refuse_naive_times_and_bad_speeds() -> None:
    with pytest.raises(ValueError, match="aware"):
        ScaledClock(2, datetime(2026, 12, 10, 10, 0))
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(0, T0)
    with pytest.raises(ValueError, match="aware"):
        VirtualClock(datetime(2026, 12, 10, 10, 0))


async def test_virtual_clock_moves_only_when_told_and_wakes_sleepers_in_order() -> None:
    clock = VirtualClock(T0)
    woke: list[float] = []

    async def sleeper(at: float) -> None:
        await clock.sleep_until(at)
        woke.append(clock.monotonic())

    tasks = [asyncio.create_task(sleeper(t)) for t in (30.0, 10.0, 20.0)]
    await asyncio.sleep(0)
    clock.advance(15)
    await asyncio.sleep(0)
    assert woke == [15.0]
    clock.advance(100)
    await asyncio.gather(*tasks)
    assert sorted(woke) == woke
    assert clock.now() == T0 + timedelta(seconds=115)


async def test_virtual_clock_autojump_runs_a_three_hour_wait_at_once() -> None:
    clock = VirtualClock(T0, autojump=True)
    started = time.monotonic()
    await clock.sleep_until(3 * 3600)
    assert clock.monotonic() == 3 * 3600
    assert time.monotonic() - started < 5


async def test_virtual_clock_autojump_goes_on_after_a_sleeper_is_cancelled_early() -> None:
    # The engine cancels its sleeper when a command arrives, sometimes while that sleeper
    # still lets other tasks run before jumping; the clock must not wait for it forever.
    clock = VirtualClock(T0, autojump=True)
    early = asyncio.create_task(clock.sleep_until(10))
    await asyncio.sleep(0)  # the early sleeper is in its yield phase now
    early.cancel()
    later = asyncio.create_task(clock.sleep_until(20))
    await asyncio.wait_for(later, 1)
    assert clock.monotonic() == 20
    with pytest.raises(asyncio.CancelledError):
        await early
