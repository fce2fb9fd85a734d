"""Fault injection for the simulated OBS: slow, stalled, dropped, refused, restarted, dead."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from showcaller.obs.sim.server import SimulatedOBS

StreamHealth = Literal["ok", "unreachable", "reconnecting"]


class Faults:
    """Verbs that make the simulated OBS misbehave the way a real one can (`sim.faults`)."""

    def __init__(self, sim: SimulatedOBS) -> None:
        """Faults of one simulated OBS; none is active at first."""
        self._sim = sim
        self.delays: dict[str | None, float] = {}
        self.auth_refused = False
        self.health: StreamHealth = "ok"
        self.network_drop = 0.0  # share of the stream's frames dropped on the way out
        self.encoder_skip = 0.0  # share of frames the encoder and renderer skip
        self.disk_free_mb: float | None = None  # None: plenty (the sim's steady number)
        self._answering = asyncio.Event()
        self._answering.set()

    def delay(self, request_type: str | None = None, seconds: float = 1.0) -> None:
        """Answer `request_type` (or every request, for None) `seconds` late; 0 clears it."""
        if seconds <= 0:
            self.delays.pop(request_type, None)
        else:
            self.delays[request_type] = seconds

    def delay_for(self, request_type: str) -> float:
        """The extra delay before answering one request of this type."""
        return self.delays.get(request_type, self.delays.get(None, 0.0))

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

    def drop(self) -> None:
        """Cut every connection abruptly: no close frame, the TCP connection just dies."""
        self._sim.abort_connections()

    def refuse_auth(self, refuse: bool = True) -> None:
        """Fail every Identify with 4009, whatever the password (False: back to normal)."""
        self.auth_refused = refuse

    async def restart(self, downtime: float = 0.2) -> None:
        """Like OBS restarting: drop every client, refuse connections for `downtime`
        seconds, then listen again on the same port with scenes and inputs kept
        (outputs stop, as they would)."""
        await self._sim.restart(downtime)

    async def kill(self) -> None:
        """Like OBS dying: connections reset, nothing listens any more (`revive()` undoes)."""
        await self._sim.kill()

    async def revive(self) -> None:
        """Listen again on the same port after `kill()`."""
        await self._sim.start()

    def stream_health(self, health: StreamHealth) -> None:
        """How the stream target behaves: "ok" (a configured rtmp server accepts),
        "unreachable" (every start fails; a running stream reconnects, then stops), or
        "reconnecting" (a running stream stalls in RECONNECTING until "ok" again)."""
        self.health = health
        self._sim.stream_health_changed()

    def drop_frames(self, network: float = 0.0, encoder: float = 0.0) -> None:
        """From now on drop a share (0..1) of the stream's frames on the network (congestion,
        fewer bytes sent: GetStreamStatus outputSkippedFrames) and skip a share in the
        encoder and renderer (GetStats outputSkippedFrames, renderSkippedFrames); 0 clears."""
        self._sim.frames_changed(min(max(network, 0.0), 1.0), min(max(encoder, 0.0), 1.0))

    def disk_space(self, mb: float | None) -> None:
        """What GetStats reports as availableDiskSpace (MB); None: back to plenty."""
        self.disk_free_mb = mb

    def clear(self) -> None:
        """Back to a healthy OBS: no delays, answering, auth accepted, stream target ok."""
        self.delays.clear()
        self.auth_refused = False
        self.unstall()
        if self.health != "ok":
            self.stream_health("ok")
        self.disk_free_mb = None
        if self.network_drop or self.encoder_skip:
            self.drop_frames()
