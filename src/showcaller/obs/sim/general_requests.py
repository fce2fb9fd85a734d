"""Request handlers of the simulated OBS for OBS as a whole: GetVersion, GetStats and
GetVideoSettings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from showcaller.clock import Clock
from showcaller.obs import protocol
from showcaller.obs.sim import catalog
from showcaller.obs.sim.args import Args
from showcaller.obs.sim.core import FRAME_S, VERSIONS, ObsVersion
from showcaller.obs.sim.faults import Faults
from showcaller.obs.sim.model import JSON, OBSModel
from showcaller.obs.sim.outputs import Outputs


class Traffic(Protocol):
    """The websocket messages counted so far (wire.Clients)."""

    def message_counts(self) -> tuple[int, int]:
        """(incoming, outgoing) messages of the clients connected now."""


class GeneralRequests:
    """Version, stats and video settings."""

    def __init__(
        self,
        model: OBSModel,
        outputs: Outputs,
        faults: Faults,
        clock: Clock,
        traffic: Traffic,
        *,
        obs_version: ObsVersion,
        available: Callable[[], Sequence[str]],
    ) -> None:
        """Handlers of one OBS of `obs_version`, up since now; `available` lists the
        request types it answers (GetVersion's availableRequests)."""
        self.model = model
        self.outputs = outputs
        self.faults = faults
        self.clock = clock
        self._traffic = traffic
        self._obs_version = obs_version
        self._available = available
        self._started_at = clock.monotonic()

    async def handle_GetVersion(self, a: Args) -> JSON:
        """obs-websocket's GetVersion."""
        v = VERSIONS[self._obs_version]
        return {
            "availableRequests": list(self._available()),
            "obsVersion": v["obsVersion"],
            "obsWebSocketVersion": v["obsWebSocketVersion"],
            "platform": "debian",
            "platformDescription": v["platformDescription"],
            "rpcVersion": protocol.RPC_VERSION,
            "supportedImageFormats": list(catalog.IMAGE_FORMATS),
        }

    async def handle_GetStats(self, a: Args) -> JSON:
        """Plausible, steady numbers; frame counters follow the clock."""
        frames = int((self.clock.monotonic() - self._started_at) / FRAME_S)
        out_frames = 0
        if self.model.stream.active:
            out_frames = int((self.clock.monotonic() - self.model.stream.started_at) / FRAME_S)
        skipped = self.outputs.encoder_skipped.value(self.clock.monotonic())
        disk = self.faults.disk_free_mb
        incoming, outgoing = self._traffic.message_counts()
        return {
            "activeFps": 30.0,
            "availableDiskSpace": 81390.0 if disk is None else disk,
            # A busy encoder and renderer take longer per frame, as on a real OBS.
            "averageFrameRenderTime": 0.9 + 40.0 * self.outputs.encoder_skip,
            "cpuUsage": 2.5 + 90.0 * self.outputs.encoder_skip,
            "memoryUsage": 180.0,
            "outputSkippedFrames": skipped,
            "outputTotalFrames": out_frames,
            "renderSkippedFrames": skipped,
            "renderTotalFrames": frames,
            "webSocketSessionIncomingMessages": incoming,
            "webSocketSessionOutgoingMessages": outgoing,
        }

    async def handle_GetVideoSettings(self, a: Args) -> JSON:
        """The canvas: base and output size, 30 fps."""
        w, h = self.model.canvas
        return {
            "baseHeight": h,
            "baseWidth": w,
            "fpsDenominator": 1,
            "fpsNumerator": 30,
            "outputHeight": h,
            "outputWidth": w,
        }
