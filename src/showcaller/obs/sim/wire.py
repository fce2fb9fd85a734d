"""The wire session of the simulated OBS: serving the websocket, Hello, Identify,
Reidentify, requests and batches, closing, with OBS's close codes and reasons.

Messages go through the shared sans-I/O `showcaller.obs.protocol` module. A request
is answered by the `handle_<RequestType>` method of the same name (the request
handlers live in scene_requests.py, input_requests.py and output_requests.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from showcaller.obs import protocol
from showcaller.obs.protocol import CloseCode, EventSubscription, OpCode, Status
from showcaller.obs.sim.core import FRAME_S, VERSIONS, SimCore
from showcaller.obs.sim.model import JSON, RequestFailed

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


class WireSession(SimCore):
    """Serves obs-websocket v5 clients and routes each request to its handler."""

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
                obs_websocket_version=VERSIONS[self.obs_version]["obsWebSocketVersion"],
                challenge=challenge,
                salt=salt,
            )
        )
        if self.obs_version == "5.5":
            hello["d"]["obsStudioVersion"] = VERSIONS["5.5"]["obsVersion"]
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


def _check_request_fields(d: JSON) -> None:
    if "requestType" not in d:
        raise _Close(
            CloseCode.MISSING_DATA_FIELD, "Your payload's data is missing an `requestType`."
        )
    if not isinstance(d["requestType"], str):
        raise _Close(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `requestType` is not a string.")
    if "requestId" not in d:
        raise _Close(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requestId`.")
