"""The wire side of the simulated OBS: an obs-websocket v5 server on aiohttp.

One `handle_<RequestType>` method per request, worded and ordered like real OBS
29.0.2 (obs-websocket 5.1.0) or, with `obs_version="5.5"`, OBS 30.2 (5.5.x). Messages
go through the shared sans-I/O `showcaller.obs.protocol` module; the state lives in
`OBSModel`, timing (transitions, outputs, meters) runs on the injected clock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import WSMsgType, web

from showcaller.clock import Clock, SystemClock
from showcaller.obs import protocol
from showcaller.obs.protocol import CloseCode, EventSubscription, OpCode, Status
from showcaller.obs.sim import catalog
from showcaller.obs.sim.faults import Faults
from showcaller.obs.sim.images import encode_bmp, encode_png, encode_pnm
from showcaller.obs.sim.model import JSON, OBSModel, RequestFailed, unversioned
from showcaller.obs.sim.usecases import UseCases

log = logging.getLogger(__name__)

ObsVersion = Literal["5.1", "5.5"]

_VERSIONS: dict[str, dict[str, str]] = {
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
METER_INTERVAL_S = 0.05
STREAM_BYTES_PER_S = 2_500_000 // 8
RECORD_BYTES_PER_S = 1_000_000 // 8
_CUT_DELAY_S = FRAME_S
_OUTPUT_START_S = 0.04
_STREAM_FAIL_S = 0.01
_RECONNECT_GIVE_UP_S = 2.0
_SCREENSHOT_INLINE_PIXELS = 320 * 180
_NOT_IDENTIFIED = "You attempted to send a non-Identify message while not identified."


class _Close(Exception):
    """Close this session with a code and reason (a protocol violation)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(eq=False)
class Session:
    """One client connection."""

    ws: web.WebSocketResponse
    request: web.Request
    identified: bool = False
    subscriptions: int = 0
    incoming: int = 0
    outgoing: int = 0
    expected_auth: str | None = None
    work: set[asyncio.Task[None]] = field(default_factory=set)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def send(self, text: str) -> None:
        """Queue a text frame (sent in order by the session's writer)."""
        self.outgoing += 1
        self.queue.put_nowait(text)

    def abort(self) -> None:
        """Kill the TCP connection without a close frame."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class Args:
    """requestData, checked field by field with OBS's status codes and comments."""

    def __init__(self, data: JSON | None) -> None:
        """Wrap requestData (None when the request had none)."""
        self.data = data

    def has(self, key: str) -> bool:
        """Whether the field is present and not null."""
        return self.data is not None and self.data.get(key) is not None

    def _need(self, key: str) -> Any:
        if self.data is None:
            raise RequestFailed(
                Status.MISSING_REQUEST_DATA, "Your request data is missing or invalid (non-object)"
            )
        if self.data.get(key) is None:
            raise RequestFailed(
                Status.MISSING_REQUEST_FIELD, f"Your request is missing the `{key}` field."
            )
        return self.data[key]

    def string(self, key: str, *, allow_empty: bool = False) -> str:
        """A required string field."""
        value = self._need(key)
        if not isinstance(value, str):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be a string."
            )
        if not value and not allow_empty:
            raise RequestFailed(
                Status.REQUEST_FIELD_EMPTY, f"The field value of `{key}` must not be empty."
            )
        return value

    def number(self, key: str, lo: float | None = None, hi: float | None = None) -> float:
        """A required number field within [lo, hi]."""
        value = self._need(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be a number."
            )
        if lo is not None and value < lo:
            raise RequestFailed(
                Status.REQUEST_FIELD_OUT_OF_RANGE,
                f"The field value of `{key}` is below the minimum of `{lo:f}`",
            )
        if hi is not None and value > hi:
            raise RequestFailed(
                Status.REQUEST_FIELD_OUT_OF_RANGE,
                f"The field value of `{key}` is above the maximum of `{hi:f}`",
            )
        return float(value)

    def boolean(self, key: str) -> bool:
        """A required boolean field."""
        value = self._need(key)
        if not isinstance(value, bool):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be boolean."
            )
        return value

    def obj(self, key: str, *, allow_empty: bool = True) -> JSON:
        """A required object field."""
        value = self._need(key)
        if not isinstance(value, dict):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be an object."
            )
        if not value and not allow_empty:
            raise RequestFailed(
                Status.REQUEST_FIELD_EMPTY, f"The field value of `{key}` must not be empty."
            )
        return value


Handler = Callable[[Args], Awaitable[JSON | None]]


class SimulatedOBS:
    """An obs-websocket v5 server that behaves like a fresh real OBS, on loopback.

    `async with SimulatedOBS() as sim:` then connect any client to `sim.url`.
    `sim.model` is the state, `sim.use_cases` the signal verbs, `sim.faults` the fault
    verbs, `sim.requests_seen[type]` how many requests of each type arrived.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        password: str | None = None,
        obs_version: ObsVersion = "5.1",
        *,
        clock: Clock | None = None,
        record_dir: Path | None = None,
        canvas: tuple[int, int] = (1920, 1080),
    ) -> None:
        """Describe a server; nothing listens until `start()`."""
        if obs_version not in _VERSIONS:
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
        self.faults = Faults(self)
        self.use_cases = UseCases(self)
        self.requests_seen: Counter[str] = Counter()
        self.available_requests: tuple[str, ...] = catalog.REQUESTS_5_1 + (
            catalog.REQUESTS_5_5_EXTRA if obs_version == "5.5" else ()
        )
        self._sessions: set[Session] = set()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._transition: asyncio.Task[None] | None = None
        self._meters: asyncio.Task[None] | None = None
        self._stream_watch: asyncio.Task[None] | None = None
        self._started_at = self.clock.monotonic()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """ws://host:port of the listening server."""
        return f"ws://{self.host}:{self.port}"

    @property
    def record_dir(self) -> Path:
        """Where recordings land (a temp dir unless one was given)."""
        if self._record_dir is None:
            self._record_dir = Path(tempfile.mkdtemp(prefix="showcaller-sim-rec-"))
            self._own_record_dir = True
        return self._record_dir

    @property
    def listening(self) -> bool:
        """Whether the server accepts connections."""
        return self._runner is not None

    async def start(self) -> None:
        """Listen on host:port (a free port if 0; the same port on every later start)."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/", self._serve)
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

    def _reset_outputs(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.model.stream.state = "stopped"
        self.model.stream.reconnecting_since = None
        self.model.record.state = "stopped"
        self.model.record.paused_at = None

    # ------------------------------------------------------------------ helpers

    async def _sleep(self, seconds: float) -> None:
        await self.clock.sleep_until(self.clock.monotonic() + seconds)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulated OBS task %s failed", task.get_name(), exc_info=task.exception())

    def broadcast(self, event_type: str, data: JSON) -> None:
        """Send an event to every identified client subscribed to its intent bit."""
        intent = protocol.EVENT_INTENT.get(event_type, EventSubscription.GENERAL)
        text: str | None = None
        for session in self._sessions:
            if session.identified and session.subscriptions & intent:
                text = text or protocol.encode(protocol.Event(event_type, intent, data))
                session.send(text)

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

    def seed_from_config(self, cfg: Any) -> None:
        """Create what an event config names: scenes, lower thirds, speaker feeds."""
        self.use_cases.seed_from_config(cfg)

    # ------------------------------------------------------------------ the wire

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("obswebsocket.json",), autoping=True)
        await ws.prepare(request)
        session = Session(ws, request)
        self._sessions.add(session)
        writer = asyncio.get_running_loop().create_task(self._write(session), name="sim-obs writer")
        self._hello(session)
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    await self._receive(session, msg.data)
                except _Close as close:
                    await self._close(session, close.code, close.reason)
                    break
        finally:
            self._sessions.discard(session)
            for task in list(session.work):
                task.cancel()
            session.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return ws

    async def _write(self, session: Session) -> None:
        while (text := await session.queue.get()) is not None:
            if session.ws.closed:
                continue
            try:
                await session.ws.send_str(text)
            except ConnectionError:
                return

    async def _close(self, session: Session, code: int, reason: str) -> None:
        self._sessions.discard(session)
        session.queue.put_nowait(None)
        # Let the writer flush what was queued (e.g. ExitStarted) before the close frame.
        for _ in range(100):
            if session.queue.empty():
                break
            await asyncio.sleep(0)
        with contextlib.suppress(ConnectionError):
            await session.ws.close(code=code, message=reason.encode())

    def _hello(self, session: Session) -> None:
        challenge = salt = None
        if self.password is not None:
            salt, challenge = protocol.new_salt_and_challenge()
            session.expected_auth = protocol.auth_string(self.password, salt, challenge)
        hello = protocol.to_wire(
            protocol.Hello(
                obs_websocket_version=_VERSIONS[self.obs_version]["obsWebSocketVersion"],
                challenge=challenge,
                salt=salt,
            )
        )
        if self.obs_version == "5.5":
            hello["d"]["obsStudioVersion"] = _VERSIONS["5.5"]["obsVersion"]
        session.send(json.dumps(hello, separators=(",", ":")))

    async def _receive(self, session: Session, raw: str | bytes) -> None:
        session.incoming += 1
        try:
            obj = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Close(CloseCode.MESSAGE_DECODE_ERROR, f"Unable to decode Json: {exc}") from exc
        if not isinstance(obj, dict):
            raise _Close(CloseCode.MESSAGE_DECODE_ERROR, "Unable to decode Json: not an object")
        # OBS checks `op` before anything else, and answers 4006 for both of these.
        if "op" not in obj:
            raise _Close(CloseCode.UNKNOWN_OP_CODE, "Your request is missing an `op`.")
        op = obj["op"]
        if not isinstance(op, int) or isinstance(op, bool):
            raise _Close(CloseCode.UNKNOWN_OP_CODE, "Your `op` is not a number.")
        if not session.identified and op != OpCode.IDENTIFY:
            raise _Close(CloseCode.NOT_IDENTIFIED, _NOT_IDENTIFIED)
        if session.identified and op == OpCode.IDENTIFY:
            raise _Close(
                CloseCode.ALREADY_IDENTIFIED,
                "You are already Identified with the obs-websocket server.",
            )
        if op not in (OpCode.IDENTIFY, OpCode.REIDENTIFY, OpCode.REQUEST, OpCode.REQUEST_BATCH):
            raise _Close(CloseCode.UNKNOWN_OP_CODE, f"Unknown OpCode: {op}")
        d = obj.get("d")
        if not isinstance(d, dict):
            raise _Close(CloseCode.MISSING_DATA_FIELD, "Your payload is missing data (`d`).")
        if op == OpCode.IDENTIFY:
            self._identify(session, d)
            return
        if op == OpCode.REQUEST:
            _check_request_fields(d)
            if not isinstance(d.get("requestData", {}), dict):
                del d["requestData"]  # OBS ignores requestData that is not an object
        try:
            msg = protocol.decode(json.dumps(obj))
        except protocol.DecodeError as exc:
            raise _Close(exc.close_code, str(exc)) from exc
        match msg:
            case protocol.Reidentify():
                if msg.event_subscriptions is not None:
                    session.subscriptions = msg.event_subscriptions
                session.send(protocol.encode(protocol.Identified()))
            case protocol.Request() | protocol.RequestBatch():
                # OBS answers each request on a worker thread: a slow one (a Sleep in a
                # batch, a delay fault) never holds up those sent after it.
                task = asyncio.get_running_loop().create_task(
                    self._respond(session, msg), name=f"sim-obs {session.request.remote}"
                )
                session.work.add(task)
                task.add_done_callback(session.work.discard)

    async def _respond(
        self, session: Session, msg: protocol.Request | protocol.RequestBatch
    ) -> None:
        if isinstance(msg, protocol.Request):
            response = await self._answer(msg, in_batch=None)
            session.send(protocol.encode(response))
        else:
            await self._batch(session, msg)

    def _identify(self, session: Session, d: JSON) -> None:
        if "rpcVersion" not in d:
            raise _Close(
                CloseCode.MISSING_DATA_FIELD, "Your payload's data is missing an `rpcVersion`."
            )
        rpc = d["rpcVersion"]
        if not isinstance(rpc, int) or isinstance(rpc, bool):
            raise _Close(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `rpcVersion` is not a number.")
        expected = session.expected_auth
        if self.faults.auth_refused:
            raise _Close(CloseCode.AUTHENTICATION_FAILED, "Authentication failed.")
        if expected is not None:
            given = d.get("authentication")
            if not isinstance(given, str):
                raise _Close(
                    CloseCode.AUTHENTICATION_FAILED,
                    "Your payload's data is missing an `authentication` string, however "
                    "authentication is required.",
                )
            if given != expected:
                raise _Close(CloseCode.AUTHENTICATION_FAILED, "Authentication failed.")
        if rpc != protocol.RPC_VERSION:
            raise _Close(
                CloseCode.UNSUPPORTED_RPC_VERSION,
                "Your requested RPC version is not supported by this server.",
            )
        subs = d.get("eventSubscriptions", EventSubscription.ALL)
        if not isinstance(subs, int) or isinstance(subs, bool):
            raise _Close(
                CloseCode.INVALID_DATA_FIELD_TYPE, "Your `eventSubscriptions` is not a number."
            )
        session.subscriptions = subs
        session.identified = True
        session.send(protocol.encode(protocol.Identified()))

    async def _batch(self, session: Session, batch: protocol.RequestBatch) -> None:
        results: list[protocol.RequestResponse] = []
        for req in batch.requests:
            response = await self._answer(req, in_batch=batch.execution_type)
            results.append(response)
            if batch.halt_on_failure and not response.status.result:
                break
        wire = protocol.to_wire(protocol.RequestBatchResponse(batch.request_id, tuple(results)))
        for result in wire["d"]["results"]:
            if not result.get("requestId"):
                result.pop("requestId", None)  # OBS echoes a requestId only if one was sent
        session.send(json.dumps(wire, separators=(",", ":"), ensure_ascii=False))

    async def _answer(
        self, req: protocol.Request, *, in_batch: int | None
    ) -> protocol.RequestResponse:
        self.requests_seen[req.request_type] += 1
        await self.faults.wait_answering()
        delay = self.faults.delay_for(req.request_type)
        if delay > 0:
            await self._sleep(delay)
        try:
            data = await self._execute(req, in_batch)
        except RequestFailed as failed:
            status = protocol.RequestStatus(False, failed.code, failed.comment)
            return protocol.RequestResponse(req.request_type, req.request_id, status)
        status = protocol.RequestStatus(True, Status.SUCCESS)
        return protocol.RequestResponse(req.request_type, req.request_id, status, data)

    async def _execute(self, req: protocol.Request, in_batch: int | None) -> JSON | None:
        rtype = req.request_type
        if rtype not in self.available_requests:
            raise RequestFailed(Status.UNKNOWN_REQUEST_TYPE, "Your request type is not valid.")
        args = Args(req.request_data)
        if rtype == "Sleep":
            await self._sleep_request(args, in_batch)
            return None
        handler: Handler | None = getattr(self, f"handle_{rtype}", None)
        if handler is None:
            raise RequestFailed(
                Status.UNKNOWN_REQUEST_TYPE,
                f"Your request type is not valid. (The simulated OBS does not model {rtype}.)",
            )
        return await handler(args)

    async def _sleep_request(self, args: Args, in_batch: int | None) -> None:
        if in_batch is None:
            raise RequestFailed(Status.UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE)
        if in_batch == protocol.BatchExecution.SERIAL_FRAME:
            await self._sleep(args.number("sleepFrames", 0, 10000) * FRAME_S)
        elif in_batch == protocol.BatchExecution.SERIAL_REALTIME:
            await self._sleep(args.number("sleepMillis", 0, 50000) / 1000)
        else:
            raise RequestFailed(Status.UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE)

    # ------------------------------------------------------------------ general

    async def handle_GetVersion(self, a: Args) -> JSON:
        """obs-websocket's GetVersion."""
        v = _VERSIONS[self.obs_version]
        return {
            "availableRequests": list(self.available_requests),
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
        return {
            "activeFps": 30.0,
            "availableDiskSpace": 81390.0,
            "averageFrameRenderTime": 0.9,
            "cpuUsage": 2.5,
            "memoryUsage": 180.0,
            "outputSkippedFrames": 0,
            "outputTotalFrames": out_frames,
            "renderSkippedFrames": 0,
            "renderTotalFrames": frames,
            "webSocketSessionIncomingMessages": sum(x.incoming for x in self._sessions),
            "webSocketSessionOutgoingMessages": sum(x.outgoing for x in self._sessions),
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

    # ------------------------------------------------------------------ scenes

    async def handle_GetSceneList(self, a: Args) -> JSON:
        """Newest scene first, as obs-websocket lists them."""
        m = self.model
        return {
            **m.scene_ref(m.program, "currentProgramScene"),
            **m.scene_ref(m.preview if m.studio_mode else None, "currentPreviewScene"),
            "scenes": m.scene_list(),
        }

    async def handle_GetCurrentProgramScene(self, a: Args) -> JSON:
        """The program scene (5.5 adds sceneName/sceneUuid)."""
        m = self.model
        data = m.scene_ref(m.program, "currentProgramScene")
        if m.with_uuids:
            data.update(m.scene_ref(m.program))
        return data

    async def handle_SetCurrentProgramScene(self, a: Args) -> None:
        """Switch program through the current transition; answers at once."""
        scene = self.model.scene(a.string("sceneName"))
        if scene.name != self.model.program:
            self._switch_program(scene.name)

    async def handle_GetCurrentPreviewScene(self, a: Args) -> JSON:
        """The preview scene; 506 outside studio mode."""
        m = self._studio()
        data = m.scene_ref(m.preview, "currentPreviewScene")
        if m.with_uuids:
            data.update(m.scene_ref(m.preview))
        return data

    async def handle_SetCurrentPreviewScene(self, a: Args) -> None:
        """Put a scene on preview (studio mode only)."""
        m = self._studio()
        scene = m.scene(a.string("sceneName"))
        if scene.name != m.preview:
            m.preview = scene.name
            m.emit("CurrentPreviewSceneChanged", m.scene_ref(scene.name))

    def _studio(self) -> OBSModel:
        if not self.model.studio_mode:
            raise RequestFailed(Status.STUDIO_MODE_NOT_ACTIVE)
        return self.model

    async def handle_GetStudioModeEnabled(self, a: Args) -> JSON:
        """Whether studio mode is on."""
        return {"studioModeEnabled": self.model.studio_mode}

    async def handle_SetStudioModeEnabled(self, a: Args) -> None:
        """Studio mode on (preview starts as the program scene) or off."""
        enabled = a.boolean("studioModeEnabled")
        m = self.model
        if enabled == m.studio_mode:
            return
        m.studio_mode = enabled
        m.preview = m.program if enabled else None
        m.emit("StudioModeStateChanged", {"studioModeEnabled": enabled})

    async def handle_TriggerStudioModeTransition(self, a: Args) -> None:
        """Preview to program; the old program becomes the preview (OBS swaps them)."""
        m = self._studio()
        if m.preview is not None:
            self._switch_program(m.preview, swap=True)

    async def handle_CreateScene(self, a: Args) -> JSON | None:
        """A new empty scene (5.5 answers its sceneUuid)."""
        scene = self.model.create_scene(a.string("sceneName"))
        return {"sceneUuid": scene.uuid} if self.model.with_uuids else None

    async def handle_RemoveScene(self, a: Args) -> None:
        """Remove a scene; if it was on program, OBS moves to the first listed scene."""
        m = self.model
        name = a.string("sceneName")
        m.scene(name)
        others = [sc.name for sc in reversed(m.scenes) if sc.name != name]
        # OBS starts moving program away before it reports the removal.
        if m.program == name and others:
            self._switch_program(others[0])
        m.remove_scene(name)
        if m.preview == name:
            m.preview = others[0] if others and m.studio_mode else None

    # ------------------------------------------------------------------ transitions

    def _transition_ref(self) -> JSON:
        data: JSON = {"transitionName": self.model.transition}
        if self.model.with_uuids:
            data["transitionUuid"] = None
        return data

    def _switch_program(self, target: str, *, swap: bool = False) -> None:
        m = self.model
        old = m.program
        if self._transition is not None and not self._transition.done():
            self._transition.cancel()
        m.program = target
        m.emit("SceneTransitionStarted", self._transition_ref())
        cut = m.transition == "Cut"
        self._transition = self._spawn(
            self._finish_transition(target, old if swap else None, cut), "sim-obs transition"
        )

    async def _finish_transition(self, target: str, new_preview: str | None, cut: bool) -> None:
        m = self.model
        ref = self._transition_ref()
        if cut:
            await self._sleep(_CUT_DELAY_S)
            m.emit("CurrentProgramSceneChanged", m.scene_ref(target))
            m.emit("SceneTransitionVideoEnded", ref)
        else:
            await self._sleep(m.transition_ms / 1000)
            m.emit("SceneTransitionVideoEnded", ref)
            if new_preview is not None and m.find_scene(new_preview) is not None:
                m.preview = new_preview
                m.emit("CurrentPreviewSceneChanged", m.scene_ref(new_preview))
            m.emit("CurrentProgramSceneChanged", m.scene_ref(target))
        if cut and new_preview is not None and m.find_scene(new_preview) is not None:
            m.preview = new_preview
            m.emit("CurrentPreviewSceneChanged", m.scene_ref(new_preview))
        m.emit("SceneTransitionEnded", ref)

    async def handle_GetSceneTransitionList(self, a: Args) -> JSON:
        """Cut and Fade, as a fresh OBS has them."""
        m = self.model
        current = next(t for t in m.transitions if t.name == m.transition)
        data: JSON = {
            "currentSceneTransitionKind": current.kind,
            "currentSceneTransitionName": current.name,
        }
        if m.with_uuids:
            data["currentSceneTransitionUuid"] = None
        data["transitions"] = [
            {
                "transitionConfigurable": t.configurable,
                "transitionFixed": t.fixed,
                "transitionKind": t.kind,
                "transitionName": t.name,
                **({"transitionUuid": None} if m.with_uuids else {}),
            }
            for t in m.transitions
        ]
        return data

    async def handle_GetCurrentSceneTransition(self, a: Args) -> JSON:
        """The current transition; a fixed one (Cut) has no duration."""
        m = self.model
        t = next(t for t in m.transitions if t.name == m.transition)
        data: JSON = {
            "transitionConfigurable": t.configurable,
            "transitionDuration": None if t.fixed else m.transition_ms,
            "transitionFixed": t.fixed,
            "transitionKind": t.kind,
            "transitionName": t.name,
            "transitionSettings": None,
        }
        if m.with_uuids:
            data["transitionUuid"] = None
        return data

    async def handle_SetCurrentSceneTransition(self, a: Args) -> None:
        """Choose Cut or Fade."""
        name = a.string("transitionName")
        m = self.model
        if all(t.name != name for t in m.transitions):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, "No scene transition was found by that name."
            )
        if name != m.transition:
            m.transition = name
            m.emit("CurrentSceneTransitionChanged", self._transition_ref())

    async def handle_SetCurrentSceneTransitionDuration(self, a: Args) -> None:
        """Fade length in ms (50..20000)."""
        ms = int(a.number("transitionDuration", 50, 20000))
        if ms != self.model.transition_ms:
            self.model.transition_ms = ms
            self.model.emit("CurrentSceneTransitionDurationChanged", {"transitionDuration": ms})

    # ------------------------------------------------------------------ scene items

    def _item_json(self, item: Any, index: int) -> JSON:
        m = self.model
        nw, nh = m.native_size(item.source_name)
        inp = m.inputs.get(item.source_name)
        data: JSON = {
            "inputKind": inp.kind if inp else None,
            "isGroup": None if inp else False,
            "sceneItemBlendMode": "OBS_BLEND_NORMAL",
            "sceneItemEnabled": item.enabled,
            "sceneItemId": item.item_id,
            "sceneItemIndex": index,
            "sceneItemLocked": item.locked,
            "sceneItemTransform": {
                "alignment": 5,
                "boundsAlignment": 0,
                "boundsHeight": 0.0,
                "boundsType": "OBS_BOUNDS_NONE",
                "boundsWidth": 0.0,
                "cropBottom": 0,
                "cropLeft": 0,
                "cropRight": 0,
                "cropTop": 0,
                "height": float(nh * item.scale_y),
                "positionX": float(item.x),
                "positionY": float(item.y),
                "rotation": 0.0,
                "scaleX": float(item.scale_x),
                "scaleY": float(item.scale_y),
                "sourceHeight": float(nh),
                "sourceWidth": float(nw),
                "width": float(nw * item.scale_x),
            },
            "sourceName": item.source_name,
            "sourceType": "OBS_SOURCE_TYPE_INPUT" if inp else "OBS_SOURCE_TYPE_SCENE",
        }
        if m.with_uuids:
            data["sourceUuid"] = m.source_uuid(item.source_name)
        return data

    async def handle_GetSceneItemList(self, a: Args) -> JSON:
        """Items bottom first, with their transforms."""
        scene = self.model.scene(a.string("sceneName"))
        return {"sceneItems": [self._item_json(i, n) for n, i in enumerate(scene.items)]}

    async def handle_GetSceneItemId(self, a: Args) -> JSON:
        """The id of the first item showing `sourceName` in a scene."""
        scene = self.model.scene(a.string("sceneName"))
        source = a.string("sourceName")
        for item in scene.items:
            if item.source_name == source:
                return {"sceneItemId": item.item_id}
        raise RequestFailed(
            Status.RESOURCE_NOT_FOUND,
            "No scene items were found in the specified scene by that name or offset.",
        )

    async def handle_CreateSceneItem(self, a: Args) -> JSON:
        """Place an existing source on top of a scene."""
        m = self.model
        scene = m.scene(a.string("sceneName"))
        source = a.string("sourceName")
        if not m.source_exists(source):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{source}`."
            )
        enabled = a.boolean("sceneItemEnabled") if a.has("sceneItemEnabled") else True
        item = m.add_item(scene, source, enabled=enabled)
        return {"sceneItemId": item.item_id}

    async def handle_RemoveSceneItem(self, a: Args) -> None:
        """Take an item out of a scene."""
        scene = self.model.scene(a.string("sceneName"))
        self.model.remove_item(scene, int(a.number("sceneItemId", 0)))

    async def handle_GetSceneItemEnabled(self, a: Args) -> JSON:
        """Whether an item is visible."""
        scene = self.model.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        return {"sceneItemEnabled": item.enabled}

    async def handle_SetSceneItemEnabled(self, a: Args) -> None:
        """Show or hide an item."""
        scene = self.model.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        enabled = a.boolean("sceneItemEnabled")
        if item.enabled != enabled:
            item.enabled = enabled
            self.model.emit_item_enabled(scene, item)

    # ------------------------------------------------------------------ inputs

    def _input_ref(self, name: str) -> JSON:
        inp = self.model.inputs[name]
        data: JSON = {"inputKind": inp.kind, "inputName": inp.name}
        if self.model.with_uuids:
            data["inputUuid"] = inp.uuid
        data["unversionedInputKind"] = unversioned(inp.kind)
        return data

    async def handle_GetInputList(self, a: Args) -> JSON:
        """Newest input first, optionally of one kind."""
        kind = a.string("inputKind") if a.has("inputKind") else None
        names = [n for n, i in reversed(self.model.inputs.items()) if kind in (None, i.kind)]
        return {"inputs": [self._input_ref(n) for n in names]}

    async def handle_GetInputKindList(self, a: Args) -> JSON:
        """The input kinds the sim knows."""
        plain = a.boolean("unversioned") if a.has("unversioned") else False
        kinds = [unversioned(k) if plain else k for k in catalog.INPUT_KINDS]
        return {"inputKinds": kinds}

    async def handle_CreateInput(self, a: Args) -> JSON:
        """A new input, placed on top of a scene."""
        m = self.model
        scene_name = a.string("sceneName")
        name = a.string("inputName")
        kind = a.string("inputKind")
        settings = a.obj("inputSettings") if a.has("inputSettings") else {}
        enabled = a.boolean("sceneItemEnabled") if a.has("sceneItemEnabled") else True
        inp, item = m.create_input(scene_name, name, kind, settings, enabled=enabled)
        data: JSON = {"sceneItemId": item.item_id}
        if m.with_uuids:
            data["inputUuid"] = inp.uuid
        return data

    async def handle_RemoveInput(self, a: Args) -> None:
        """Delete an input everywhere."""
        self.model.remove_input(a.string("inputName"))

    async def handle_GetInputSettings(self, a: Args) -> JSON:
        """The settings that differ from the kind's defaults (what was set)."""
        inp = self.model.input(a.string("inputName"))
        return {"inputKind": inp.kind, "inputSettings": dict(inp.settings)}

    async def handle_GetInputDefaultSettings(self, a: Args) -> JSON:
        """Defaults of an input kind."""
        kind = a.string("inputKind")
        if kind not in catalog.DEFAULT_SETTINGS:
            raise RequestFailed(Status.INVALID_INPUT_KIND)
        return {"defaultInputSettings": dict(catalog.DEFAULT_SETTINGS[kind])}

    async def handle_SetInputSettings(self, a: Args) -> None:
        """Merge (overlay, the default) or replace an input's settings."""
        inp = self.model.input(a.string("inputName"))
        settings = a.obj("inputSettings")
        overlay = a.boolean("overlay") if a.has("overlay") else True
        inp.settings = {**inp.settings, **settings} if overlay else dict(settings)

    async def handle_GetInputMute(self, a: Args) -> JSON:
        """Whether an audio input is muted."""
        return {"inputMuted": self.model.audio_input(a.string("inputName")).muted}

    async def handle_SetInputMute(self, a: Args) -> None:
        """Mute or unmute an audio input."""
        inp = self.model.audio_input(a.string("inputName"))
        self.model.set_mute(inp, a.boolean("inputMuted"))

    async def handle_ToggleInputMute(self, a: Args) -> JSON:
        """Flip mute; answers the new state."""
        inp = self.model.audio_input(a.string("inputName"))
        self.model.set_mute(inp, not inp.muted)
        return {"inputMuted": inp.muted}

    async def handle_GetSourceActive(self, a: Args) -> JSON:
        """videoActive: shown on program; videoShowing: on program or preview."""
        name = a.string("sourceName")
        if not self.model.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{name}`."
            )
        return {
            "videoActive": self.model.video_active(name),
            "videoShowing": self.model.video_showing(name),
        }

    async def handle_GetSourceScreenshot(self, a: Args) -> JSON:
        """A data: URL of the source's picture now (png, bmp, ppm, pgm)."""
        m = self.model
        name = a.string("sourceName")
        if not m.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{name}`."
            )
        fmt = a.string("imageFormat")
        if fmt.lower() not in catalog.IMAGE_FORMATS:
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD,
                "Your specified image format is invalid or not supported by this system.",
            )
        want_w = int(a.number("imageWidth", 8, 4096)) if a.has("imageWidth") else None
        want_h = int(a.number("imageHeight", 8, 4096)) if a.has("imageHeight") else None
        if a.has("imageCompressionQuality"):
            a.number("imageCompressionQuality", -1, 100)
        nw, nh = m.native_size(name)
        if want_w and want_h:
            width, height = want_w, want_h
        elif want_w:
            width, height = want_w, max(1, round(want_w * nh / nw)) if nw else want_w
        elif want_h:
            width, height = (max(1, round(want_h * nw / nh)) if nh else want_h), want_h
        else:
            width, height = nw, nh
        if width <= 0 or height <= 0:
            raise RequestFailed(Status.REQUEST_PROCESSING_FAILED, "Failed to render screenshot.")
        encoder = _ENCODERS.get(fmt.lower())
        if encoder is None:
            raise RequestFailed(
                Status.REQUEST_PROCESSING_FAILED,
                f"The simulated OBS encodes png, bmp, ppm and pgm, not {fmt}.",
            )
        rgba = m.render(name, width, height, self.clock.monotonic())
        if width * height > _SCREENSHOT_INLINE_PIXELS:
            data = await asyncio.to_thread(encoder, width, height, rgba)
        else:
            data = encoder(width, height, rgba)
        return {"imageData": f"data:image/{fmt};base64," + base64.b64encode(data).decode()}

    # ------------------------------------------------------------------ stream

    def _stream_target_ok(self) -> bool:
        server = str(self.model.stream_service_settings.get("server", ""))
        configured = self.model.stream_service_type == "rtmp_custom" and server.startswith(
            ("rtmp://", "rtmps://", "srt://")
        )
        return configured and self.faults.health == "ok"

    def _stream_event(self, state: str, active: bool) -> None:
        self.model.emit(
            "StreamStateChanged",
            {"outputActive": active, "outputState": f"OBS_WEBSOCKET_OUTPUT_{state}"},
        )

    def _stream_bytes(self) -> int:
        st = self.model.stream
        if st.state == "started":
            return st.bytes_base + int(
                (self.clock.monotonic() - st.bytes_since) * STREAM_BYTES_PER_S
            )
        return st.bytes_base

    async def handle_GetStreamStatus(self, a: Args) -> JSON:
        """outputActive, bytes growing while the stream runs, timecode."""
        st = self.model.stream
        duration = self.clock.monotonic() - st.started_at if st.active else 0.0
        return {
            "outputActive": st.active,
            "outputBytes": self._stream_bytes() if st.active else 0,
            "outputCongestion": 0.0,
            "outputDuration": int(duration * 1000),
            "outputReconnecting": st.state == "reconnecting",
            "outputSkippedFrames": 0,
            "outputTimecode": _timecode(duration),
            "outputTotalFrames": int(duration / FRAME_S),
        }

    async def handle_StartStream(self, a: Args) -> None:
        """Start streaming: STARTING, then STARTED (a reachable server) or STOPPED."""
        if self.model.stream.state != "stopped":
            raise RequestFailed(Status.OUTPUT_RUNNING)
        self._start_stream()

    def _start_stream(self) -> None:
        self.model.stream.state = "starting"
        self._spawn(self._run_stream_start(), "sim-obs stream start")

    async def _run_stream_start(self) -> None:
        st = self.model.stream
        self._stream_event("STARTING", False)
        if not self._stream_target_ok():
            await self._sleep(_STREAM_FAIL_S)
            st.state = "stopped"
            self._stream_event("STOPPED", False)
            return
        await self._sleep(_OUTPUT_START_S)
        now = self.clock.monotonic()
        st.state, st.started_at, st.bytes_base, st.bytes_since = "started", now, 0, now
        self._stream_event("STARTED", True)

    async def handle_StopStream(self, a: Args) -> None:
        """Stop streaming; 501 when it is not running."""
        if self.model.stream.state not in ("started", "reconnecting"):
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        self._stop_stream()

    def _stop_stream(self) -> None:
        st = self.model.stream
        st.bytes_base = self._stream_bytes()
        st.state = "stopping"
        self._spawn(self._run_stream_stop(), "sim-obs stream stop")

    async def _run_stream_stop(self) -> None:
        self._stream_event("STOPPING", False)
        await self._sleep(_OUTPUT_START_S)
        self.model.stream.state = "stopped"
        self._stream_event("STOPPED", False)

    async def handle_ToggleStream(self, a: Args) -> JSON:
        """Start or stop; answers the new outputActive (true even if the start fails)."""
        if self.model.stream.state in ("started", "reconnecting"):
            self._stop_stream()
            return {"outputActive": False}
        if self.model.stream.state == "stopped":
            self._start_stream()
        return {"outputActive": True}

    def stream_health_changed(self) -> None:
        """React to `faults.stream_health()` while a stream runs."""
        st = self.model.stream
        health = self.faults.health
        if st.state == "started" and health != "ok":
            st.bytes_base = self._stream_bytes()
            st.state = "reconnecting"
            self._stream_event("RECONNECTING", True)
            if health == "unreachable":
                self._spawn(self._give_up_reconnecting(), "sim-obs stream reconnect")
        elif st.state == "reconnecting" and health == "ok":
            st.state, st.bytes_since = "started", self.clock.monotonic()
            self._stream_event("RECONNECTED", True)

    async def _give_up_reconnecting(self) -> None:
        await self._sleep(_RECONNECT_GIVE_UP_S)
        if self.model.stream.state == "reconnecting" and self.faults.health == "unreachable":
            self.model.stream.state = "stopped"
            self._stream_event("STOPPED", False)

    async def handle_GetStreamServiceSettings(self, a: Args) -> JSON:
        """The stream service (a fresh OBS: rtmp_common with nothing set)."""
        return {
            "streamServiceSettings": dict(self.model.stream_service_settings),
            "streamServiceType": self.model.stream_service_type,
        }

    async def handle_SetStreamServiceSettings(self, a: Args) -> None:
        """Set the stream service; rtmp_custom with an rtmp:// server makes streams start."""
        kind = a.string("streamServiceType")
        settings = a.obj("streamServiceSettings", allow_empty=False)
        m = self.model
        if kind == m.stream_service_type:
            m.stream_service_settings = {**m.stream_service_settings, **settings}
        else:
            m.stream_service_type, m.stream_service_settings = kind, dict(settings)

    # ------------------------------------------------------------------ record

    def _record_event(self, state: str, active: bool, path: Path | None) -> None:
        self.model.emit(
            "RecordStateChanged",
            {
                "outputActive": active,
                "outputPath": str(path) if path is not None else None,
                "outputState": f"OBS_WEBSOCKET_OUTPUT_{state}",
            },
        )

    async def handle_GetRecordDirectory(self, a: Args) -> JSON:
        """Where recordings land."""
        return {"recordDirectory": str(self.record_dir)}

    async def handle_GetRecordStatus(self, a: Args) -> JSON:
        """outputActive, outputPaused, timecode and duration without pauses."""
        rec = self.model.record
        duration = rec.duration(self.clock.monotonic()) if rec.active else 0.0
        return {
            "outputActive": rec.active,
            "outputBytes": int(duration * RECORD_BYTES_PER_S),
            "outputDuration": int(duration * 1000),
            "outputPaused": rec.paused_at is not None,
            "outputTimecode": _timecode(duration),
        }

    async def handle_StartRecord(self, a: Args) -> None:
        """Start recording: STARTING, then STARTED with the new file's path."""
        if self.model.record.state != "stopped":
            raise RequestFailed(Status.OUTPUT_RUNNING)
        self._start_record()

    def _start_record(self) -> None:
        rec = self.model.record
        rec.state, rec.paused_at, rec.paused_total, rec.chapters = "starting", None, 0.0, []
        self._spawn(self._run_record_start(), "sim-obs record start")

    async def _run_record_start(self) -> None:
        rec = self.model.record
        self._record_event("STARTING", False, None)
        await self._sleep(_OUTPUT_START_S)
        rec.path = await asyncio.to_thread(self._new_recording_file)
        rec.state, rec.started_at = "started", self.clock.monotonic()
        self._record_event("STARTED", True, rec.path)

    def _new_recording_file(self) -> Path:
        directory = self.record_dir
        directory.mkdir(parents=True, exist_ok=True)
        stem = self.clock.now().astimezone().strftime("%Y-%m-%d %H-%M-%S")
        path = directory / f"{stem}.mkv"
        n = 1
        while path.exists():
            n += 1
            path = directory / f"{stem} ({n}).mkv"
        # The EBML magic of a Matroska file, then a note on what this really is.
        path.write_bytes(b"\x1a\x45\xdf\xa3showcaller simulated OBS recording\n")
        return path

    async def handle_StopRecord(self, a: Args) -> JSON:
        """Stop recording; answers the file's path at once (STOPPING, STOPPED follow)."""
        rec = self.model.record
        if rec.state != "started" or rec.path is None:
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        path = rec.path
        self._stop_record()
        return {"outputPath": str(path)}

    def _stop_record(self) -> None:
        rec = self.model.record
        rec.state = "stopping"
        self._spawn(self._run_record_stop(), "sim-obs record stop")

    async def _run_record_stop(self) -> None:
        rec = self.model.record
        self._record_event("STOPPING", False, None)
        await self._sleep(_OUTPUT_START_S)
        if rec.path is not None:
            await asyncio.to_thread(_finish_file, rec.path, rec.duration(self.clock.monotonic()))
        rec.state, rec.paused_at = "stopped", None
        self._record_event("STOPPED", False, rec.path)

    async def handle_ToggleRecord(self, a: Args) -> JSON:
        """Start or stop recording; answers the new outputActive."""
        if self.model.record.state == "started":
            self._stop_record()
            return {"outputActive": False}
        if self.model.record.state == "stopped":
            self._start_record()
        return {"outputActive": True}

    async def handle_PauseRecord(self, a: Args) -> None:
        """Pause (502 if paused; like OBS 29, a no-op success when not recording)."""
        rec = self.model.record
        if rec.paused_at is not None:
            raise RequestFailed(Status.OUTPUT_PAUSED)
        if rec.state != "started":
            return
        rec.paused_at = self.clock.monotonic()
        self._record_event("PAUSED", False, None)

    async def handle_ResumeRecord(self, a: Args) -> None:
        """Resume (503 unless paused)."""
        rec = self.model.record
        if rec.paused_at is None:
            raise RequestFailed(Status.OUTPUT_NOT_PAUSED)
        rec.paused_total += self.clock.monotonic() - rec.paused_at
        rec.paused_at = None
        self._record_event("RESUMED", True, None)

    async def handle_SplitRecordFile(self, a: Args) -> None:
        """5.5: close the current file and go on in a new one (RecordFileChanged)."""
        rec = self.model.record
        if rec.state != "started" or rec.path is None:
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        old = rec.path
        await asyncio.to_thread(_finish_file, old, rec.duration(self.clock.monotonic()))
        rec.path = await asyncio.to_thread(self._new_recording_file)
        rec.chapters = []
        self.model.emit("RecordFileChanged", {"newOutputPath": str(rec.path)})

    async def handle_CreateRecordChapter(self, a: Args) -> None:
        """5.5: mark a chapter in the current recording."""
        rec = self.model.record
        if rec.state != "started" or rec.path is None:
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        name = (
            a.string("chapterName") if a.has("chapterName") else f"Chapter {len(rec.chapters) + 1}"
        )
        rec.chapters.append(name)
        line = f"chapter {rec.duration(self.clock.monotonic()):.3f} {name}\n"
        await asyncio.to_thread(_append, rec.path, line.encode())

    async def handle_GetOutputList(self, a: Args) -> JSON:
        """The record and stream outputs."""
        flags = {
            "OBS_OUTPUT_AUDIO": True,
            "OBS_OUTPUT_ENCODED": True,
            "OBS_OUTPUT_MULTI_TRACK": True,
            "OBS_OUTPUT_SERVICE": False,
            "OBS_OUTPUT_VIDEO": True,
        }
        w, h = self.model.canvas
        outputs = [
            {
                "outputActive": self.model.record.active,
                "outputFlags": flags,
                "outputHeight": h if self.model.record.active else 0,
                "outputKind": "ffmpeg_muxer",
                "outputName": "simple_file_output",
                "outputWidth": w if self.model.record.active else 0,
            }
        ]
        if self.model.stream.state != "stopped":
            outputs.append(
                {
                    "outputActive": self.model.stream.active,
                    "outputFlags": {**flags, "OBS_OUTPUT_SERVICE": True},
                    "outputHeight": h,
                    "outputKind": "rtmp_output",
                    "outputName": "simple_stream",
                    "outputWidth": w,
                }
            )
        return {"outputs": outputs}

    # ------------------------------------------------------------------ meters

    async def _meter_loop(self) -> None:
        deadline = self.clock.monotonic()
        while True:
            deadline += METER_INTERVAL_S
            await self.clock.sleep_until(deadline)
            # Never try to catch up a backlog: a late tick just moves the schedule on.
            deadline = max(deadline, self.clock.monotonic() - METER_INTERVAL_S)
            if any(
                x.identified and x.subscriptions & EventSubscription.INPUT_VOLUME_METERS
                for x in self._sessions
            ):
                self.broadcast("InputVolumeMeters", {"inputs": self._meter_levels()})

    def _meter_levels(self) -> list[JSON]:
        t = self.clock.monotonic()
        out: list[JSON] = []
        for inp in reversed(self.model.inputs.values()):
            if not inp.has_audio:
                continue
            levels = inp.audio.levels(t, muted=inp.muted) if inp.audio is not None else []
            entry: JSON = {"inputLevelsMul": levels, "inputName": inp.name}
            if self.model.with_uuids:
                entry["inputUuid"] = inp.uuid
            out.append(entry)
        return out


_ENCODERS: dict[str, Callable[[int, int, bytes], bytes]] = {
    "png": encode_png,
    "bmp": encode_bmp,
    "ppm": encode_pnm,
    "pgm": lambda w, h, rgba: encode_pnm(w, h, rgba, grey=True),
}


def _check_request_fields(d: JSON) -> None:
    if "requestType" not in d:
        raise _Close(
            CloseCode.MISSING_DATA_FIELD, "Your payload's data is missing an `requestType`."
        )
    if not isinstance(d["requestType"], str):
        raise _Close(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `requestType` is not a string.")
    if "requestId" not in d:
        raise _Close(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requestId`.")


def _timecode(seconds: float) -> str:
    ms = int(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _finish_file(path: Path, duration: float) -> None:
    _append(path, f"duration {duration:.3f}\n".encode())


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)
