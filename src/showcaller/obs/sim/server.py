"""The simulated OBS: an obs-websocket v5 server on aiohttp, on loopback.

It answers like a current OBS 30.2 (obs-websocket 5.5.2: split recording, chapters,
UUIDs) or, with `obs_version="5.1"`, OBS 29.0.2 (obs-websocket 5.1.0). `SimulatedOBS`
composes the parts once, in its constructor: the state (`OBSModel`), the outputs and
meters (`Outputs`) over it, the request handler objects by area (each answers its
`handle_<RequestType>` methods) in one `Dispatcher` table, and the `Wire` that serves
the websocket clients and hands it their requests; `Faults` and `UseCases` act on the
parts they need. Timing runs on the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from showcaller.clock import Clock, SystemClock
from showcaller.obs.protocol import CloseCode
from showcaller.obs.sim.args import Args, handlers_of
from showcaller.obs.sim.control_requests import ControlRequests
from showcaller.obs.sim.core import FRAME_S, VERSIONS, FrameCounter, ObsVersion, Tasks, sleep
from showcaller.obs.sim.dispatch import Dispatcher, build_table
from showcaller.obs.sim.faults import Faults
from showcaller.obs.sim.frontend_requests import FrontendRequests
from showcaller.obs.sim.general_requests import GeneralRequests
from showcaller.obs.sim.input_requests import InputRequests
from showcaller.obs.sim.media_requests import MediaRequests
from showcaller.obs.sim.model import JSON, OBSModel
from showcaller.obs.sim.output_requests import OutputRequests
from showcaller.obs.sim.outputs import (
    METER_INTERVAL_S,
    RECORD_BYTES_PER_S,
    STREAM_BYTES_PER_S,
    Outputs,
)
from showcaller.obs.sim.scene_requests import SceneRequests
from showcaller.obs.sim.usecases import UseCases
from showcaller.obs.sim.wire import Clients, Session, Wire

log = logging.getLogger(__name__)


class SimulatedOBS:
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
        self.model = OBSModel(with_uuids=obs_version == "5.5", canvas=canvas)
        self._clients = Clients()
        self._tasks = Tasks()
        self.outputs = Outputs(self.model, self.clock, self._tasks, self._clients, record_dir)
        self.faults = Faults(self, self.outputs, self.clock)
        self.use_cases = UseCases(self.model)
        media = MediaRequests(self.model, self.clock)
        self.model.emit = self._clients.broadcast
        self.model.on_media = media.media_activity
        groups = (
            GeneralRequests(
                self.model,
                self.outputs,
                self.faults,
                self.clock,
                self._clients,
                obs_version=obs_version,
                available=lambda: self.available_requests,
            ),
            SceneRequests(self.model, self.clock, self._tasks),
            InputRequests(self.model, self.clock),
            OutputRequests(self.model, self.outputs, self.clock),
            ControlRequests(self.model),
            media,
            FrontendRequests(self.model),
        )
        dispatcher = Dispatcher(
            build_table(handlers_of(group) for group in groups),
            obs_version=obs_version,
            faults=self.faults,
            clock=self.clock,
        )
        self.requests_seen = dispatcher.requests_seen
        self.available_requests: tuple[str, ...] = dispatcher.available_requests
        self._wire = Wire(
            self._clients,
            dispatcher,
            self.faults,
            self.clock,
            password=self.password,
            obs_version=obs_version,
            receive=self._receive,
        )
        self._runner: web.AppRunner | None = None
        self._meters: asyncio.Task[None] | None = None

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
        app.router.add_get("/{path:.*}", self._wire.serve)
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
                self.outputs.meter_loop(), name="sim-obs meters"
            )
        log.debug("simulated OBS listening on %s", self.url)

    async def stop(self) -> None:
        """Shut down like OBS quitting: ExitStarted, then close every client with 1001."""
        self.broadcast("ExitStarted", {})
        for session in self._clients:
            await self._wire.close(session, CloseCode.GOING_AWAY, "Server stopping.")
        await self._stop_listening()
        for task in [*self._tasks.running(), self._meters]:
            if task is not None:
                task.cancel()
        for task in [*self._tasks.running(), self._meters]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()
        self._meters = None
        self.use_cases.close()
        self.outputs.remove_own_record_dir()

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
        self._clients.abort()

    async def kill(self) -> None:
        """Reset every connection and stop listening, as when OBS is killed."""
        self.abort_connections()
        self._tasks.cancel()
        self.outputs.reset()
        await self._stop_listening()

    async def restart(self, downtime: float = 0.2) -> None:
        """Kill, wait `downtime` seconds (connections refused), listen again on the same port."""
        await self.kill()
        await sleep(self.clock, downtime)
        await self.start()

    def seed(self, scenes: Iterable[str] = (), inputs: Iterable[tuple[str, str, str]] = ()) -> None:
        """Create scenes and (name, kind, scene) inputs that do not exist yet."""
        self.use_cases.seed(scenes, inputs)

    # ------------------------------------------------------------------ parts, as before

    @property
    def record_dir(self) -> Path:
        """Where recordings land (a temp dir unless one was given)."""
        return self.outputs.record_dir

    @property
    def network_skipped(self) -> FrameCounter:
        """Frames dropped on the network (faults.drop_frames)."""
        return self.outputs.network_skipped

    @property
    def encoder_skipped(self) -> FrameCounter:
        """Frames the encoder and renderer skipped (faults.drop_frames)."""
        return self.outputs.encoder_skipped

    def broadcast(self, event_type: str, data: JSON) -> None:
        """Send an event to every identified client subscribed to its intent bit."""
        self._clients.broadcast(event_type, data)

    async def _receive(self, session: Session, raw: str | bytes) -> None:
        # Each incoming frame passes here: the seam bench/timing.py stamps arrivals at.
        await self._wire.receive(session, raw)


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
