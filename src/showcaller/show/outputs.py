"""Waiting for OBS's outputs (the stream, the recording) to go on or off, on a clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from showcaller.clock import Clock
from showcaller.obs.gateway import OBSGateway, OutputStatus

# How long OBS may take to get the stream on air (or off it) before the host is told.
STREAM_START_TIMEOUT_S = 10.0


async def output_becomes(
    status: Callable[[], Awaitable[OutputStatus]],
    clock: Clock,
    *,
    active: bool,
    speed: float = 1.0,
) -> bool:
    """Wait (real seconds, on `clock`) until an output (stream, record) is, or is not, active."""
    give_up = clock.monotonic() + STREAM_START_TIMEOUT_S * speed
    while (await status()).active is not active:
        if clock.monotonic() >= give_up:
            return False
        await clock.sleep_until(clock.monotonic() + 0.25 * speed)
    return True


async def stream_becomes(
    gateway: OBSGateway, clock: Clock, *, active: bool, speed: float = 1.0
) -> bool:
    """Wait (real seconds, on `clock`) until OBS's stream is, or is not, active."""
    return await output_becomes(gateway.stream_status, clock, active=active, speed=speed)


__all__ = ["STREAM_START_TIMEOUT_S", "output_becomes", "stream_becomes"]
