"""The simulated OBS: an obs-websocket v5 server on aiohttp, on loopback.

It answers like a current OBS 30.2 (obs-websocket 5.5.2: split recording, chapters,
UUIDs) or, with `obs_version="5.1"`, OBS 29.0.2 (obs-websocket 5.1.0). `SimulatedOBS`
puts together the wire session (wire.py), the request handlers by area
(scene_requests.py, input_requests.py, output_requests.py: one `handle_<RequestType>`
method per request) and the outputs and meters (outputs.py); the state lives in
`OBSModel`, timing runs on the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from showcaller.clock import Clock, SystemClock
from showcaller.obs.protocol import CloseCode
from showcaller.obs.sim import catalog
from showcaller.obs.sim.control_requests import ControlRequests
from showcaller.obs.sim.core import FRAME_S, VERSIONS, FrameCounter, ObsVersion
from showcaller.obs.sim.faults import Faults
from showcaller.obs.sim.frontend_requests import FrontendRequests
from showcaller.obs.sim.input_requests import InputRequests
from showcaller.obs.sim.media_requests import MediaRequests
from showcaller.obs.sim.model import OBSModel
from showcaller.obs.sim.output_requests import OutputRequests
from showcaller.obs.sim.outputs import METER_INTERVAL_S, RECORD_BYTES_PER_S, STREAM_BYTES_PER_S
from showcaller.obs.sim.scene_requests import SceneRequests
from showcaller.obs.sim.usecases import UseCases
from showcaller.obs.sim.wire import Args, Session, WireSession

log = logging.getLogger(__name__)


class SimulatedOBS(
    WireSession,
    SceneRequests,
    InputRequests,
    OutputRequests,
    ControlRequests,
    MediaRequests,
    FrontendRequests,
):
    """An obs-websocket v5 server that behaves like a fresh real OBS (30.2 unless told 5.1).

    `async with SimulatedOBS() as sim:` then connect any client to `sim.url`.
    `sim.model` is the state, `sim.use_cases` the signal verbs, `sim.faults` the fault
    verbs, `sim.requests_seen[type]` how many requests of each type arrived.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        password: str | None = None,
        obs_version: ObsVersion = "5.5",
        *,
        clock: Clock | None = None,
        record_dir: Path | None = None,
        canvas: tuple[int, int] = (1920, 1080),
    ) -> None:
        """Describe a server; nothing listens until `start()`."""
        if obs_version not in VERSIONS:
            raise ValueError(f"obs_version must be 5.1 or 5.5, not {obs_version!r}")
        self.host = host
        self.port = port
        self.password = password or None
        self.obs_version: ObsVersion = obs_version
        self.clock: Clock = clock or SystemClock()
        self._record_dir = record_dir
        self._own_record_dir = False  # a temp dir made here: removed at stop if left empty
        self.model = OBSModel(with_uuids=obs_version == "5.5", canvas=canvas)
        self.model.emit = self.broadcast
        self.model.on_media = self.media_activity
        self.faults = Faults(self)
        self.use_cases = UseCases(self)
        self.requests_seen: Counter[str] = Counter()
        # Only what the sim answers: a controller that detects features from this list
        # must not be told about requests that would answer 204.
        self.available_requests: tuple[str, ...] = tuple(
            name
            for name in catalog.REQUESTS_5_1
            + (catalog.REQUESTS_5_5_EXTRA if obs_version == "5.5" else ())
            if name == "Sleep" or hasattr(self, f"handle_{name}")
        )
        self._sessions: set[Session] = set()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._transition: asyncio.Task[None] | None = None
        self._meters: asyncio.Task[None] | None = None
        self._started_at = self.clock.monotonic()
        self.network_skipped = FrameCounter()
        self.encoder_skipped = FrameCounter()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """ws://host:port of the listening server."""
        return f"ws://{self.host}:{self.port}"

    @property
    def listening(self) -> bool:
        """Whether the server accepts connections."""
        return self._runner is not None

    async def start(self) -> None:
        """Listen on host:port (a free port if 0; the same port on every later start)."""
        if self._runner is not None:
            return
        app = web.Application()
        # OBS serves its websocket on any path (ws://host:port/obs works, measured).
        app.router.add_get("/{path:.*}", self._serve)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        server = site._server  # aiohttp keeps the asyncio.Server here; its socket has the port
        if self.port == 0 and isinstance(server, asyncio.Server) and server.sockets:
            self.port = int(server.sockets[0].getsockname()[1])
        self._runner = runner
        if self._meters is None:
            self._meters = asyncio.get_running_loop().create_task(
                self._meter_loop(), name="sim-obs meters"
            )
        log.debug("simulated OBS listening on %s", self.url)

    async def stop(self) -> None:
        """Shut down like OBS quitting: ExitStarted, then close every client with 1001."""
        self.broadcast("ExitStarted", {})
        for session in list(self._sessions):
            await self._close(session, CloseCode.GOING_AWAY, "Server stopping.")
        await self._stop_listening()
        for task in [*self._tasks, self._meters]:
            if task is not None:
                task.cancel()
        for task in [*self._tasks, self._meters]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()
        self._meters = None
        self.use_cases.close()
        if self._own_record_dir and self._record_dir is not None:
            with contextlib.suppress(OSError):  # not empty: the recordings stay
                self._record_dir.rmdir()

    async def __aenter__(self) -> Self:
        """Start."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        await self.stop()

    async def _stop_listening(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            # Give up on in-flight handlers fast: their sockets are closed or aborted.
            await runner.shutdown()
            await runner.cleanup()

    def abort_connections(self) -> None:
        """Abort every client's TCP connection (no close frame)."""
        for session in list(self._sessions):
            session.abort()

    async def kill(self) -> None:
        """Reset every connection and stop listening, as when OBS is killed."""
        self.abort_connections()
        self._reset_outputs()
        await self._stop_listening()

    async def restart(self, downtime: float = 0.2) -> None:
        """Kill, wait `downtime` seconds (connections refused), listen again on the same port."""
        await self.kill()
        await self._sleep(downtime)
        await self.start()

    def seed(self, scenes: Iterable[str] = (), inputs: Iterable[tuple[str, str, str]] = ()) -> None:
        """Create scenes and (name, kind, scene) inputs that do not exist yet."""
        for name in scenes:
            if not self.model.source_exists(name):
                self.model.create_scene(name)
        for name, kind, scene in inputs:
            if not self.model.source_exists(scene):
                self.model.create_scene(scene)
            if not self.model.source_exists(name):
                self.model.create_input(scene, name, kind, {})


__all__ = [
    "FRAME_S",
    "METER_INTERVAL_S",
    "RECORD_BYTES_PER_S",
    "STREAM_BYTES_PER_S",
    "Args",
    "ObsVersion",
    "Session",
    "SimulatedOBS",
]
