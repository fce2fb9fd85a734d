"""Fault injection for the simulated OBS: slow, stalled, dropped, refused, restarted, dead.

`Faults` acts on the parts it breaks: the outputs (stream health, dropped frames) and
the server's lifecycle (a narrow `Lifecycle`: drop, kill, restart, listen again); the
wire asks it whether to answer and how late.
"""

from __future__ import annotations

import asyncio
import random
from typing import Protocol

from showcaller.clock import Clock
from showcaller.obs.sim.outputs import Outputs, StreamHealth


class Lifecycle(Protocol):
    """What faults do to the server as a whole (`SimulatedOBS` is one)."""

    def abort_connections(self) -> None:
        """Abort every client's TCP connection (no close frame)."""

    async def kill(self) -> None:
        """Reset every connection and stop listening."""

    async def restart(self, downtime: float = 0.2) -> None:
        """Kill, wait `downtime` seconds, listen again on the same port."""

    async def start(self) -> None:
        """Listen (again) on host:port."""


class Faults:
    """Verbs that make the simulated OBS misbehave the way a real one can (`sim.faults`)."""

    def __init__(self, server: Lifecycle, outputs: Outputs, clock: Clock) -> None:
        """Faults of one simulated OBS; none is active at first."""
        self._server = server
        self._outputs = outputs
        self._clock = clock
        self._not_ready_until: float | None = None
        # request type (None: every request) -> (shortest, longest) delay in seconds
        self.delays: dict[str | None, tuple[float, float]] = {}
        self._random = random.Random(0)
        self.auth_refused = False
        self.disk_free_mb: float | None = None  # None: plenty (the sim's steady number)
        self._answering = asyncio.Event()
        self._answering.set()

    @property
    def health(self) -> StreamHealth:
        """How the stream target behaves now (`stream_health`)."""
        return self._outputs.health

    @property
    def network_drop(self) -> float:
        """Share of the stream's frames dropped on the way out (`drop_frames`)."""
        return self._outputs.network_drop

    @property
    def encoder_skip(self) -> float:
        """Share of frames the encoder and renderer skip (`drop_frames`)."""
        return self._outputs.encoder_skip

    def delay(
        self,
        request_type: str | None = None,
        seconds: float = 1.0,
        *,
        up_to: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Answer `request_type` (or every request, for None) `seconds` late, or, with
        `up_to`, each one a random time between `seconds` and `up_to` (drawn from `seed`
        when given, so a run repeats); 0 clears it."""
        if seconds <= 0 and not up_to:
            self.delays.pop(request_type, None)
            return
        longest = seconds if up_to is None else up_to
        if longest < seconds:
            raise ValueError(f"delay: up_to ({up_to}) is less than seconds ({seconds})")
        self.delays[request_type] = (seconds, longest)
        if seed is not None:
            self._random.seed(seed)

    def delay_for(self, request_type: str) -> float:
        """The extra delay before answering one request of this type (drawn anew each time)."""
        shortest, longest = self.delays.get(request_type, self.delays.get(None, (0.0, 0.0)))
        if longest <= shortest:
            return shortest
        return self._random.uniform(shortest, longest)

    def stall(self) -> None:
        """Stop answering requests (and batches) but keep every socket open."""
        self._answering.clear()

    def unstall(self) -> None:
        """Answer again, starting with the requests held while stalled."""
        self._answering.set()

    @property
    def stalled(self) -> bool:
        """Whether requests are being held."""
        return not self._answering.is_set()

    async def wait_answering(self) -> None:
        """Return once requests may be answered."""
        await self._answering.wait()

    def not_ready(self, seconds: float) -> None:
        """Like OBS 30 still loading after a start: it accepts and identifies clients but
        answers every request (each one of a batch too) with 207 for `seconds` from now;
        0 clears it. (Measured on OBS 30.2: about 50 ms; OBS 29 has no such window.)"""
        self._not_ready_until = self._clock.monotonic() + seconds if seconds > 0 else None

    @property
    def loading(self) -> bool:
        """Whether requests are answered with 207 now (`not_ready`)."""
        until = self._not_ready_until
        return until is not None and self._clock.monotonic() < until

    def drop(self) -> None:
        """Cut every connection abruptly: no close frame, the TCP connection just dies."""
        self._server.abort_connections()

    def refuse_auth(self, refuse: bool = True) -> None:
        """Fail every Identify with 4009, whatever the password (False: back to normal)."""
        self.auth_refused = refuse

    async def restart(self, downtime: float = 0.2, *, loading: float = 0.0) -> None:
        """Like OBS restarting: drop every client, refuse connections for `downtime`
        seconds, then listen again on the same port with scenes and inputs kept
        (outputs stop, as they would); like OBS 30, `loading` seconds of 207 follow."""
        await self._server.restart(downtime)
        # No await since the server listens again: no request can come in between.
        self.not_ready(loading)

    async def kill(self) -> None:
        """Like OBS dying: connections reset, nothing listens any more (`revive()` undoes)."""
        await self._server.kill()

    async def revive(self) -> None:
        """Listen again on the same port after `kill()`."""
        await self._server.start()

    def stream_health(self, health: StreamHealth) -> None:
        """How the stream target behaves: "ok" (a configured rtmp server accepts),
        "unreachable" (every start fails; a running stream reconnects, then stops), or
        "reconnecting" (a running stream stalls in RECONNECTING until "ok" again)."""
        self._outputs.set_health(health)

    def drop_frames(self, network: float = 0.0, encoder: float = 0.0) -> None:
        """From now on drop a share (0..1) of the stream's frames on the network (congestion,
        fewer bytes sent: GetStreamStatus outputSkippedFrames) and skip a share in the
        encoder and renderer (GetStats outputSkippedFrames, renderSkippedFrames); 0 clears."""
        self._outputs.drop_frames(min(max(network, 0.0), 1.0), min(max(encoder, 0.0), 1.0))

    def disk_space(self, mb: float | None) -> None:
        """What GetStats reports as availableDiskSpace (MB); None: back to plenty."""
        self.disk_free_mb = mb

    def clear(self) -> None:
        """Back to a healthy OBS: no delays, answering, auth accepted, stream target ok."""
        self.delays.clear()
        self._not_ready_until = None
        self.auth_refused = False
        self.unstall()
        if self.health != "ok":
            self.stream_health("ok")
        self.disk_free_mb = None
        if self.network_drop or self.encoder_skip:
            self.drop_frames()
