"""The wire of the simulated OBS: serving the websocket, Hello, Identify, Reidentify,
requests and batches, closing, with OBS's close codes and reasons.

`Clients` holds the connected sessions (the sim's event `Audience`); `Wire` serves
them, checking the handshake with the shared sans-I/O `protocol.ServerHandshake`, and
hands each request to the `Dispatcher` (dispatch.py), which knows the handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgpack  # type: ignore[import-untyped]
from aiohttp import WSMsgType, web

from showcaller.clock import Clock
from showcaller.obs import protocol
from showcaller.obs.protocol import CloseCode, EventSubscription, OpCode
from showcaller.obs.sim.core import FRAME_S, VERSIONS, ObsVersion, sleep
from showcaller.obs.sim.dispatch import Dispatcher
from showcaller.obs.sim.faults import Faults
from showcaller.obs.sim.model import JSON


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
    handshake: protocol.ServerHandshake  # Hello → Identify → Identified, as OBS checks it
    identified: bool = False
    subscriptions: int = 0
    incoming: int = 0
    outgoing: int = 0
    msgpack: bool = False  # the client chose the obswebsocket.msgpack subprotocol
    work: set[asyncio.Task[None]] = field(default_factory=set)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def send(self, text: str) -> None:
        """Queue a message as JSON text (sent in order, re-encoded for a msgpack session)."""
        self.outgoing += 1
        self.queue.put_nowait(text)

    def abort(self) -> None:
        """Kill the TCP connection without a close frame."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


_SUBPROTOCOLS = ("obswebsocket.json", "obswebsocket.msgpack")
_UNSET = object()


@dataclass(frozen=True)
class _Item:
    """One request as it arrived: OBS echoes its requestId exactly as given (any JSON value,
    also null), so the raw id rides beside the parsed request."""

    request: protocol.Request
    raw_id: Any = _UNSET
    input_variables: Any = None
    output_variables: Any = None

    def wire(self, response: protocol.RequestResponse, *, in_batch: bool) -> JSON:
        """The response payload (`d`) with the id echoed as OBS does."""
        d: JSON = protocol.to_wire(response)["d"]
        del d["requestId"]
        # Inside a batch OBS echoes an id only if one was given and not null.
        if self.raw_id is not _UNSET and not (in_batch and self.raw_id is None):
            d["requestId"] = self.raw_id
        return d


_unsigned = protocol.is_unsigned


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Clients:
    """The connected sessions: who hears the sim's events, and what they sent and got."""

    def __init__(self) -> None:
        self._sessions: set[Session] = set()

    def __iter__(self) -> Iterator[Session]:
        """The sessions connected now (a copy: closing one while iterating is fine)."""
        return iter(list(self._sessions))

    def add(self, session: Session) -> None:
        """A client connected."""
        self._sessions.add(session)

    def discard(self, session: Session) -> None:
        """A client went (or is being closed)."""
        self._sessions.discard(session)

    def broadcast(self, event_type: str, data: JSON) -> None:
        """Send an event to every identified client subscribed to its intent bit."""
        intent = protocol.EVENT_INTENT.get(event_type, EventSubscription.GENERAL)
        text: str | None = None
        for session in self._sessions:
            if session.identified and session.subscriptions & intent:
                text = text or protocol.encode(protocol.Event(event_type, intent, data))
                session.send(text)

    def subscribed(self, intent: int) -> bool:
        """Whether any identified client subscribes to `intent`."""
        return any(x.identified and x.subscriptions & intent for x in self._sessions)

    def message_counts(self) -> tuple[int, int]:
        """(incoming, outgoing) messages of the clients connected now."""
        return sum(x.incoming for x in self._sessions), sum(x.outgoing for x in self._sessions)

    def abort(self) -> None:
        """Abort every client's TCP connection (no close frame)."""
        for session in list(self._sessions):
            session.abort()


FrameReceiver = Callable[[Session, str | bytes], Awaitable[None]]


class Wire:
    """Serves obs-websocket v5 clients and hands each request to the dispatcher."""

    def __init__(
        self,
        clients: Clients,
        dispatcher: Dispatcher,
        faults: Faults,
        clock: Clock,
        *,
        password: str | None,
        obs_version: ObsVersion,
        receive: FrameReceiver | None = None,
    ) -> None:
        """Serve `clients` as an OBS of `obs_version`; `receive` takes each incoming frame
        (default: `Wire.receive`; an instrument such as bench/timing.py wraps it)."""
        self._clients = clients
        self._dispatcher = dispatcher
        self._faults = faults
        self._clock = clock
        self._password = password
        self._obs_version = obs_version
        self._receive: FrameReceiver = receive or self.receive

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler: one websocket client, from Hello to its close."""
        # aiohttp picks the first subprotocol the client offers that is listed here, as
        # OBS does; none offered means JSON.
        ws = web.WebSocketResponse(protocols=_SUBPROTOCOLS, autoping=True)
        await ws.prepare(request)
        handshake = protocol.ServerHandshake(
            self._password, VERSIONS[self._obs_version]["obsWebSocketVersion"]
        )
        session = Session(ws, request, handshake, msgpack=ws.ws_protocol == "obswebsocket.msgpack")
        self._clients.add(session)
        writer = asyncio.get_running_loop().create_task(self._write(session), name="sim-obs writer")
        self._hello(session)
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    await self._receive(session, msg.data)
                except _Close as close:
                    await self.close(session, close.code, close.reason)
                    break
        finally:
            self._clients.discard(session)
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
                if session.msgpack:
                    await session.ws.send_bytes(msgpack.packb(json.loads(text)))
                else:
                    await session.ws.send_str(text)
            except ConnectionError:
                return

    async def close(self, session: Session, code: int, reason: str) -> None:
        """Close one client with `code` and `reason`, after what was queued for it."""
        self._clients.discard(session)
        session.queue.put_nowait(None)
        # Let the writer flush what was queued (e.g. ExitStarted) before the close frame.
        for _ in range(100):
            if session.queue.empty():
                break
            await asyncio.sleep(0)
        with contextlib.suppress(ConnectionError):
            await session.ws.close(code=code, message=reason.encode())

    def _hello(self, session: Session) -> None:
        hello = protocol.to_wire(session.handshake.hello())
        if self._obs_version == "5.5":
            hello["d"]["obsStudioVersion"] = VERSIONS["5.5"]["obsVersion"]
        session.send(json.dumps(hello, separators=(",", ":")))

    def _decode_frame(self, session: Session, raw: str | bytes) -> Any:
        """The frame's value, decoded in the session's encoding (OBS's checks and wording)."""
        if session.msgpack:
            if not isinstance(raw, bytes):
                raise _Close(
                    CloseCode.MESSAGE_DECODE_ERROR,
                    "Your session encoding is set to MsgPack, but a text message was received.",
                )
            try:
                return msgpack.unpackb(raw, raw=False, strict_map_key=False)
            except (ValueError, msgpack.UnpackException) as exc:
                raise _Close(
                    CloseCode.MESSAGE_DECODE_ERROR, f"Unable to decode MsgPack: {exc}"
                ) from exc
        if not isinstance(raw, str):
            raise _Close(
                CloseCode.MESSAGE_DECODE_ERROR,
                "Your session encoding is set to Json, but a binary message was received.",
            )
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise _Close(CloseCode.MESSAGE_DECODE_ERROR, f"Unable to decode Json: {exc}") from exc

    async def receive(self, session: Session, raw: str | bytes) -> None:
        """Act on one frame from a client (a protocol violation closes it)."""
        session.incoming += 1
        obj = self._decode_frame(session, raw)
        if not isinstance(obj, dict):
            raise _Close(CloseCode.MESSAGE_DECODE_ERROR, "You sent a non-object payload.")
        if not session.identified and "request-type" in obj:
            raise _Close(
                CloseCode.UNSUPPORTED_RPC_VERSION,
                "You appear to be attempting to connect with the pre-5.0.0 plugin protocol. "
                "Check to make sure your client is updated.",
            )
        # OBS checks `op` before anything else, and answers 4006 for both of these.
        if "op" not in obj:
            raise _Close(CloseCode.UNKNOWN_OP_CODE, "Your request is missing an `op`.")
        if not _number(obj["op"]):
            raise _Close(CloseCode.UNKNOWN_OP_CODE, "Your `op` is not a number.")
        op = int(obj["op"])  # any JSON number: OBS reads 6.0 as 6
        d = obj.get("d")
        if d is None:
            raise _Close(CloseCode.MISSING_DATA_FIELD, "Your payload is missing data (`d`).")
        if not isinstance(d, dict):
            raise _Close(
                CloseCode.INVALID_DATA_FIELD_TYPE, "Your payload's data (`d`) is not an object."
            )
        try:
            session.handshake.check_op(op)
            match op:
                case OpCode.IDENTIFY:
                    identified, session.subscriptions = session.handshake.receive_identify(
                        d, refuse=self._faults.auth_refused
                    )
                    session.identified = True
                    session.send(protocol.encode(identified))
                    return
                case OpCode.REIDENTIFY:
                    session.subscriptions = protocol.subscriptions_of(
                        d, default=session.subscriptions
                    )
                    session.send(protocol.encode(protocol.Identified()))
                    return
        except protocol.HandshakeRefused as exc:
            raise _Close(exc.code, exc.reason) from exc
        match op:
            case OpCode.REQUEST:
                self._work(session, self._respond(session, _parse_request(d)))
            case OpCode.REQUEST_BATCH:
                self._work(session, self._batch(session, d, *_parse_batch(d)))
            case _:
                raise _Close(CloseCode.UNKNOWN_OP_CODE, f"Unknown OpCode: {op}")

    def _work(self, session: Session, coro: Coroutine[Any, Any, None]) -> None:
        # OBS answers each request on a worker thread: a slow one (a Sleep in a batch, a
        # delay fault) never holds up those sent after it.
        task = asyncio.get_running_loop().create_task(
            coro, name=f"sim-obs {session.request.remote}"
        )
        session.work.add(task)
        task.add_done_callback(session.work.discard)

    async def _respond(self, session: Session, item: _Item) -> None:
        response = await self._dispatcher.answer(item.request, in_batch=None)
        wire = {"op": OpCode.REQUEST_RESPONSE, "d": item.wire(response, in_batch=False)}
        session.send(json.dumps(wire, separators=(",", ":"), ensure_ascii=False))

    async def _batch(
        self,
        session: Session,
        d: JSON,
        items: list[_Item],
        execution: int,
        halt: bool,
    ) -> None:
        variables: JSON = dict(d["variables"]) if isinstance(d.get("variables"), dict) else {}
        results: list[protocol.RequestResponse] = []
        if execution == protocol.BatchExecution.PARALLEL:
            # Every request at once on the thread pool: haltOnFailure and variables
            # do not apply.
            results = list(
                await asyncio.gather(
                    *(self._dispatcher.answer(i.request, in_batch=execution) for i in items)
                )
            )
        else:
            if execution == protocol.BatchExecution.SERIAL_FRAME:
                await sleep(self._clock, FRAME_S)  # OBS runs it from its next video frame tick
            for item in items:
                req = _with_input_variables(item, variables)
                response = await self._dispatcher.answer(req, in_batch=execution)
                _take_output_variables(item, response, variables)
                results.append(response)
                if halt and not response.status.result:
                    break
        wire = {
            "op": OpCode.REQUEST_BATCH_RESPONSE,
            "d": {
                "requestId": d["requestId"],
                "results": [
                    item.wire(result, in_batch=True)
                    for item, result in zip(items, results, strict=False)
                ],
            },
        }
        session.send(json.dumps(wire, separators=(",", ":"), ensure_ascii=False))


def _parse_request(d: JSON) -> _Item:
    """op 6, checked in OBS's order (requestId first); requestId may be any value."""
    if "requestId" not in d:
        raise _Close(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requestId`.")
    if "requestType" not in d:
        raise _Close(
            CloseCode.MISSING_DATA_FIELD, "Your payload's data is missing an `requestType`."
        )
    if not isinstance(d["requestType"], str):
        raise _Close(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `requestType` is not a string.")
    data = d.get("requestData")
    # OBS treats requestData that is not an object as none (301 where a field is needed).
    request = protocol.Request(d["requestType"], "", data if isinstance(data, dict) else None)
    return _Item(request, d["requestId"])


def _parse_batch(d: JSON) -> tuple[list[_Item], int, bool]:
    """op 8, checked in OBS's order: (items, executionType, haltOnFailure)."""
    if "requestId" not in d:
        raise _Close(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requestId`.")
    execution: int = protocol.BatchExecution.SERIAL_REALTIME
    if d.get("executionType") is not None:
        if not _unsigned(d["executionType"]):
            raise _Close(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `executionType` is not a number.")
        execution = d["executionType"]
        if execution not in (0, 1, 2):
            raise _Close(
                CloseCode.INVALID_DATA_FIELD_VALUE, "Your `executionType` has an invalid value."
            )
    if d.get("variables") is not None and execution == protocol.BatchExecution.PARALLEL:
        raise _Close(CloseCode.UNSUPPORTED_FEATURE, "Variables are not supported in Parallel mode.")
    halt = False
    if d.get("haltOnFailure") is not None:
        if not isinstance(d["haltOnFailure"], bool):
            raise _Close(
                CloseCode.INVALID_DATA_FIELD_TYPE, "Your `haltOnFailure` is not a boolean."
            )
        halt = d["haltOnFailure"]
    if "requests" not in d:
        raise _Close(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requests`.")
    if not isinstance(d["requests"], list):
        raise _Close(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `requests` is not an array.")
    items: list[_Item] = []
    for r in d["requests"]:
        if not isinstance(r, dict):
            # OBS 29 crashes on this (an uncaught exception): the nearest honest answer.
            raise _Close(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `requests` is not an array.")
        rtype = r.get("requestType")
        data = r.get("requestData")
        items.append(
            _Item(
                # A requestType that is missing or not a string becomes "" (then 203).
                protocol.Request(
                    rtype if isinstance(rtype, str) else "",
                    "",
                    data if isinstance(data, dict) else None,
                ),
                r.get("requestId", _UNSET),
                r.get("inputVariables"),
                r.get("outputVariables"),
            )
        )
    return items, execution, halt


def _with_input_variables(item: _Item, variables: JSON) -> protocol.Request:
    """`inputVariables` {"field": "var"} sets requestData.field = variables[var], as OBS does."""
    req = item.request
    wanted = item.input_variables
    if not variables or not isinstance(wanted, dict) or not wanted:
        return req
    data = dict(req.request_data or {})
    for key, name in wanted.items():
        if isinstance(name, str) and name in variables:
            data[key] = variables[name]
    return protocol.Request(req.request_type, req.request_id, data or req.request_data)


def _take_output_variables(
    item: _Item, response: protocol.RequestResponse, variables: JSON
) -> None:
    """`outputVariables` {"var": "field"} sets variables[var] = responseData.field."""
    wanted = item.output_variables
    data = response.response_data
    if not isinstance(wanted, dict) or not data:
        return
    for key, field_name in wanted.items():
        if isinstance(field_name, str) and field_name in data:
            variables[key] = data[field_name]
