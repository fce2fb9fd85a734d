"""obs-websocket v5 client on aiohttp: one connection, concurrent requests, events.

One `OBSClient` is one websocket connection; it never reconnects (that is the
supervisor's job, `showcaller.obs.supervisor`). What it guarantees:

- requests are correlated by id, so any number run concurrently and a slow one
  (a big screenshot) never delays one sent after it;
- every request has its own timeout (`RequestTimeout`);
- when the link drops, every pending request fails at once with `ConnectionClosed`
  (never a 60 s wait), and `wait_closed()` resolves with the reason;
- aiohttp's websocket heartbeat notices a half-open link within ~1.5 heartbeats;
- events are delivered on the event loop: sync listeners are called in the receive
  loop, async listeners run as tracked tasks, so a listener may await a request;
  a failing listener is logged and never breaks the receive loop;
- lower-layer errors are translated into `showcaller.errors` types; the password
  never appears in a message or a log line;
- a broken frame never drops the link: an answer whose requestId can be read fails
  that request (`OBSProtocolError`), anything else (not JSON, an unknown op, an event
  without its envelope) is dropped with one WARNING per kind (`_Complaints`); an answer
  to an id nobody waits for is dropped at DEBUG. Only a frame above `max_message_size`
  closes the link (aiohttp cannot skip it), and the supervisor reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from showcaller import errors
from showcaller.obs import protocol
from showcaller.words import failure

log = logging.getLogger(__name__)


EventListener = Callable[[protocol.Event], Awaitable[None] | None]

# A screenshot of a full-HD source as PNG is a few MB of base64; the default 4 MiB
# limit of aiohttp would close the link on it.
MAX_MESSAGE_SIZE = 64 * 1024 * 1024

# What events() buffers per consumer before it starts dropping the oldest events.
EVENT_QUEUE_SIZE = 1024


# A broken frame of one kind logs a WARNING the first time, then DEBUG, and a WARNING
# with the count every this many (a peer sending garbage 20 times a second stays readable).
COMPLAINT_EVERY = 1000


class _Closed:
    """Sentinel that ends an events() iterator."""


_CLOSED = _Closed()


class OBSClient:
    """One obs-websocket v5 connection (no reconnect; see `OBSLink` for that)."""

    def __init__(
        self,
        url: str,
        password: str | None = None,
        *,
        connect_timeout: float = 5.0,
        request_timeout: float = 5.0,
        subscriptions: int = protocol.DEFAULT_SUBSCRIPTIONS,
        heartbeat: float = 2.0,
        session: aiohttp.ClientSession | None = None,
        max_message_size: int = MAX_MESSAGE_SIZE,
    ) -> None:
        """Describe a connection; nothing happens until `connect()`."""
        parsed = URL(url)
        if parsed.scheme not in ("ws", "wss") or not parsed.host:
            shown = parsed.with_user(None) if parsed.is_absolute() else parsed
            raise errors.UsageError(
                f"not an obs-websocket address: {shown}",
                hint="use ws://HOST:PORT, e.g. ws://127.0.0.1:4455",
            )
        self.url = url
        # Used in every message: host:port only, so no userinfo can leak into a log.
        self.address = f"{parsed.host}:{parsed.port}"
        self._password = password
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.subscriptions = int(subscriptions)
        self.heartbeat = heartbeat
        self.max_message_size = max_message_size
        self._session = session
        self._own_session = session is None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = protocol.request_id_factory()
        self._pending: dict[str, _Waiter] = {}
        self._sent_at: dict[str, float] = {}  # loop time each pending request went out
        self._complaints = _Complaints(self.address)
        self._identified: asyncio.Future[protocol.Identified] | None = None
        self._listeners: list[tuple[EventListener, frozenset[str] | None]] = []
        self._listener_tasks: set[asyncio.Task[None]] = set()
        self._streams: set[_EventQueue] = set()
        self._receiver: asyncio.Task[None] | None = None
        self._closed: asyncio.Future[BaseException | None] | None = None
        self._closing = False
        self.hello: protocol.Hello | None = None
        self.negotiated_rpc_version: int | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def pending(self) -> int:
        """How many requests wait for their answer."""
        return len(self._pending)

    @property
    def connected(self) -> bool:
        """Whether the link is identified and not closed."""
        return (
            self._ws is not None
            and not self._ws.closed
            and self._closed is not None
            and not self._closed.done()
        )

    async def connect(
        self, *, on_hello: Callable[[protocol.Hello], None] | None = None
    ) -> protocol.Hello:
        """Open, read Hello, Identify, wait for Identified, all within connect_timeout."""
        if self._ws is not None:
            raise errors.UsageError("this OBSClient was already connected once; make a new one")
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        try:
            async with asyncio.timeout(self.connect_timeout):
                hello = await self._handshake(on_hello)
        except TimeoutError as exc:
            await self._abort()
            raise errors.ConnectTimeout(
                f"OBS at {self.address} did not answer within {self.connect_timeout:g} s"
            ) from exc
        except BaseException:
            await self._abort()
            raise
        self._receiver = loop.create_task(self._receive_loop(), name=f"obs-receive {self.address}")
        log.debug("identified with OBS at %s (rpc %s)", self.address, self.negotiated_rpc_version)
        return hello

    async def _handshake(self, on_hello: Callable[[protocol.Hello], None] | None) -> protocol.Hello:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(
                self.url,
                heartbeat=self.heartbeat,
                max_msg_size=self.max_message_size,
                autoping=True,
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise errors.NotOBSServer(
                f"{self.address} answered HTTP {exc.status}, not an obs-websocket upgrade"
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            reason = (
                "connection refused"
                if isinstance(exc.os_error, ConnectionRefusedError)
                else exc.os_error.strerror or str(exc.os_error)
            )
            raise errors.ConnectionRefused(
                f"cannot connect to OBS at {self.address}: {reason}"
            ) from exc
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            raise errors.NotOBSServer(
                f"{self.address} did not answer as a websocket server ({failure(exc)})"
            ) from exc
        except aiohttp.ClientError as exc:
            raise errors.ConnectionClosed(
                f"the connection to {self.address} dropped while connecting ({failure(exc)})"
            ) from exc

        handshake = protocol.ClientHandshake(self.address, self._password, self.subscriptions)
        identify = handshake.receive(await self._receive_handshake(handshake.expected))
        hello = handshake.hello
        if hello is None or identify is None:  # the state machine took a Hello or raised
            raise errors.NotOBSServer(f"{self.address} sent no Hello")
        self.hello = hello
        if on_hello is not None:
            on_hello(hello)
        await self._send(identify)
        handshake.receive(await self._receive_handshake(handshake.expected))
        self.negotiated_rpc_version = handshake.negotiated_rpc_version
        return hello

    async def _receive_handshake(self, name: str) -> protocol.Message:
        """The next message of the handshake (the state machine checks its kind)."""
        assert self._ws is not None  # set by _handshake just before
        msg = await self._ws.receive()
        if msg.type is aiohttp.WSMsgType.TEXT:
            try:
                return protocol.decode(msg.data)
            except protocol.DecodeError as exc:
                raise errors.NotOBSServer(
                    f"{self.address} sent something that is not obs-websocket v5 ({exc})"
                ) from exc
        if msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        ):
            code = self._ws.close_code
            if code in (None, protocol.CloseCode.NORMAL, 1006) and name == "Hello":
                raise errors.NotOBSServer(f"{self.address} closed the websocket without a Hello")
            raise protocol.close_error(code, self._ws_close_reason(msg))
        if msg.type is aiohttp.WSMsgType.ERROR:
            raise errors.ConnectionClosed(
                f"the connection to {self.address} failed while connecting: {msg.data}"
            )
        raise errors.NotOBSServer(
            f"{self.address} sent a {msg.type.name} frame where obs-websocket sends {name}"
        )

    @staticmethod
    def _ws_close_reason(msg: aiohttp.WSMessage) -> str:
        return (
            msg.extra if msg.type is aiohttp.WSMsgType.CLOSE and isinstance(msg.extra, str) else ""
        )

    async def _abort(self) -> None:
        """Release the socket and session after a failed connect."""
        if self._ws is not None:
            await self._ws.close()
        if self._own_session and self._session is not None:
            await self._session.close()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def close(self) -> None:
        """Close the link; pending requests fail with ConnectionClosed. Idempotent."""
        self._closing = True
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                await self._ws.close()
        if self._receiver is not None:
            await self._receiver
        else:
            self._finish(None)
        # A listener may be the one closing us: it must not cancel itself.
        others = [t for t in self._listener_tasks if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        if others:
            await asyncio.gather(*others, return_exceptions=True)
        if self._own_session and self._session is not None:
            await self._session.close()

    async def wait_closed(self) -> BaseException | None:
        """Resolve when the link is gone: the reason, or None if we closed it."""
        if self._closed is None:
            raise errors.UsageError("OBSClient.wait_closed() before connect()")
        return await asyncio.shield(self._closed)

    async def __aenter__(self) -> OBSClient:
        """Connect."""
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close."""
        await self.close()

    # ------------------------------------------------------------------ receive

    async def _receive_loop(self) -> None:
        assert self._ws is not None  # connect() set it
        ws = self._ws
        reason: BaseException | None = None
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._dispatch(msg.data)
                    continue
                if msg.type is aiohttp.WSMsgType.BINARY:
                    # We never ask for the msgpack subprotocol, so OBS never sends binary.
                    self._complaints.add("binary", "ignoring a binary frame from OBS at %s")
                    continue
                if msg.type is aiohttp.WSMsgType.ERROR:
                    reason = errors.ConnectionClosed(
                        f"lost the connection to OBS at {self.address}: {self._why(msg.data)}"
                    )
                else:
                    code = ws.close_code
                    if code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE or code is None:
                        exc = ws.exception()
                        detail = _describe(exc) if exc is not None else "connection lost"
                        reason = errors.ConnectionClosed(
                            f"lost the connection to OBS at {self.address}: {detail}"
                        )
                    else:
                        reason = protocol.close_error(code, self._ws_close_reason(msg))
                break
        except asyncio.CancelledError:
            reason = errors.ConnectionClosed("the OBS client was cancelled")
            raise
        except Exception as exc:
            # A bug in dispatch must not leave requests hanging: log it, fail them all.
            log.exception("the receive loop for OBS at %s failed", self.address)
            reason = errors.ConnectionClosed(f"the OBS client failed: {exc!r}")
        finally:
            if self._closing:
                reason = None
            self._finish(reason)
            if not ws.closed:
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    await ws.close()

    def _why(self, exc: object) -> str:
        """Why the websocket failed, in words (a frame too big says how big it may be)."""
        code = getattr(exc, "code", None)
        if isinstance(exc, aiohttp.WebSocketError) and code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG:
            limit = self.max_message_size / 2**20
            return f"it sent a frame larger than {limit:g} MiB, the most showcaller reads"
        return _describe(exc)

    def _finish(self, reason: BaseException | None) -> None:
        """Fail every pending request at once and resolve wait_closed()."""
        failure = reason or errors.ConnectionClosed(
            f"the connection to OBS at {self.address} was closed"
        )
        pending, self._pending = self._pending, {}
        for waiter in pending.values():
            if not waiter.fut.done():
                waiter.fut.set_exception(_copy_error(failure))
        if self._identified is not None and not self._identified.done():
            self._identified.set_exception(_copy_error(failure))
        for stream in list(self._streams):
            stream.close()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(reason)
        if reason is not None:
            log.debug("link to OBS at %s closed: %s", self.address, reason)

    def _dispatch(self, text: str) -> None:
        try:
            msg = protocol.decode(text)
        except protocol.DecodeError as exc:
            self._undecodable(exc)
            return
        match msg:
            case protocol.RequestResponse() | protocol.RequestBatchResponse():
                waiter = self._pending.pop(msg.request_id, None)
                if waiter is None:
                    log.debug(
                        "ignoring an answer from OBS to request %s (timed out or never sent)",
                        msg.request_id,
                    )
                elif waiter.fut.done():
                    pass
                elif not isinstance(msg, waiter.kind):
                    # A batch answered as one request (or the other way round) would
                    # reach the caller as an AttributeError.
                    other = (
                        "a single request"
                        if waiter.kind is protocol.RequestBatchResponse
                        else "a batch"
                    )
                    waiter.fail(f"with the answer to {other} (op {_op_of(msg)})")
                else:
                    waiter.fut.set_result(msg)
            case protocol.Event():
                self._deliver(msg)
            case protocol.Identified():
                if self._identified is not None and not self._identified.done():
                    self._identified.set_result(msg)
            case _:
                self._complaints.add(
                    f"unexpected {type(msg).__name__}",
                    "OBS at %s sent an unexpected %s; ignored",
                    type(msg).__name__,
                )

    def _undecodable(self, exc: protocol.DecodeError) -> None:
        """A frame that breaks the protocol: fail the request it answers, else drop it."""
        waiter = self._pending.pop(exc.request_id, None) if exc.request_id is not None else None
        if waiter is not None:
            if not waiter.fut.done():
                # Its caller is told (OBSProtocolError) and says so: no second line here.
                waiter.fail(f"with a broken frame ({exc})")
            log.debug(
                "OBS at %s answered %s with a broken frame: %s", self.address, waiter.what, exc
            )
        elif exc.request_id is not None:
            log.debug("ignoring a broken answer from OBS to request %s: %s", exc.request_id, exc)
        elif exc.close_code == protocol.CloseCode.UNKNOWN_OP_CODE:
            self._complaints.add("unknown op", "ignoring a frame from OBS at %s: %s", exc)
        elif exc.close_code == protocol.CloseCode.MESSAGE_DECODE_ERROR:
            self._complaints.add("not JSON", "ignoring a frame from OBS at %s: %s", exc)
        else:
            self._complaints.add(
                "malformed", "ignoring a frame from OBS at %s that breaks obs-websocket v5: %s", exc
            )

    def _deliver(self, event: protocol.Event) -> None:
        for listener, types in list(self._listeners):
            if types is not None and event.event_type not in types:
                continue
            try:
                result = listener(event)
            except Exception:
                log.exception("an OBS event listener failed on %s", event.event_type)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._listener_tasks.add(task)
                task.add_done_callback(self._listener_done)

    def _listener_done(self, task: asyncio.Task[None]) -> None:
        self._listener_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("an OBS event listener failed", exc_info=exc)

    # ------------------------------------------------------------------ requests

    async def _send(self, msg: protocol.Message) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise self._not_connected()
        try:
            await ws.send_str(protocol.encode(msg))
        except (aiohttp.ClientError, OSError) as exc:
            raise errors.ConnectionClosed(
                f"lost the connection to OBS at {self.address}: {_describe(exc)}"
            ) from exc

    def _not_connected(self) -> errors.ConnectionClosed:
        if self._closed is not None and self._closed.done():
            reason = self._closed.result()
            if isinstance(reason, errors.ConnectionClosed):
                return _copy_error(reason)
            if reason is not None:
                return errors.ConnectionClosed(str(reason))
        return errors.ConnectionClosed(f"not connected to OBS at {self.address}")

    async def _call(
        self, msg: protocol.Request | protocol.RequestBatch, what: str, limit: float | None
    ) -> Any:
        if not self.connected:
            raise self._not_connected()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        kind = (
            protocol.RequestResponse
            if isinstance(msg, protocol.Request)
            else protocol.RequestBatchResponse
        )
        self._pending[msg.request_id] = _Waiter(fut, what, kind)
        self._sent_at[msg.request_id] = loop.time()
        limit = self.request_timeout if limit is None else limit
        # A plain timer on the future is cheaper per request than asyncio.timeout().
        timer = loop.call_later(limit, _expire, fut, what, limit)
        try:
            await self._send(msg)
            return await fut
        finally:
            timer.cancel()
            self._pending.pop(msg.request_id, None)
            self._sent_at.pop(msg.request_id, None)

    def unanswered_for(self) -> float:
        """Seconds the oldest request still waiting for OBS's answer has waited (0: none).

        OBS hung with its socket open and its pings answered (its UI thread stuck, say)
        shows here first: the heartbeat keeps the link up while no request is answered.
        """
        if not self._sent_at:
            return 0.0
        return asyncio.get_running_loop().time() - min(self._sent_at.values())

    async def request(
        self,
        request_type: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - it raises RequestTimeout, not a bare cancel
    ) -> dict[str, Any]:
        """Send one request; its responseData (or {}), or the typed OBSRequestError."""
        req = protocol.Request(request_type, self._next_id(), data)
        response: protocol.RequestResponse = await self._call(req, request_type, timeout)
        return response.raise_for_status()

    async def batch(
        self,
        requests: Sequence[tuple[str, dict[str, Any] | None]],
        *,
        halt_on_failure: bool = False,
        execution_type: int = protocol.BatchExecution.SERIAL_REALTIME,
        timeout: float | None = None,  # noqa: ASYNC109 - it raises RequestTimeout, not a bare cancel
    ) -> list[protocol.RequestResponse]:
        """Send a RequestBatch; one response per request run, in order (statuses not raised)."""
        batch = protocol.RequestBatch(
            request_id=self._next_id(),
            requests=tuple(
                protocol.Request(rtype, f"{i}", data) for i, (rtype, data) in enumerate(requests)
            ),
            halt_on_failure=halt_on_failure,
            execution_type=execution_type,
        )
        what = f"a batch of {len(requests)} requests"
        response: protocol.RequestBatchResponse = await self._call(batch, what, timeout)
        # With haltOnFailure OBS stops at the first failure; without, it runs them all.
        n = len(response.results)
        if n > len(requests) or (n < len(requests) and not halt_on_failure):
            raise errors.OBSProtocolError(what, f"with {n} results")
        return list(response.results)

    async def reidentify(self, subscriptions: int) -> None:
        """Change the event subscriptions of this connection; returns once OBS confirmed."""
        if not self.connected:
            raise self._not_connected()
        self._identified = asyncio.get_running_loop().create_future()
        try:
            await self._send(protocol.Reidentify(event_subscriptions=int(subscriptions)))
            async with asyncio.timeout(self.request_timeout):
                await self._identified
        except TimeoutError as exc:
            raise errors.RequestTimeout(
                f"OBS did not confirm Reidentify within {self.request_timeout:g} s"
            ) from exc
        finally:
            self._identified = None
        self.subscriptions = int(subscriptions)

    # ------------------------------------------------------------------ events

    def subscribe(
        self, listener: EventListener, event_types: Collection[str] | None = None
    ) -> Callable[[], None]:
        """Call `listener` for each event (of `event_types`, or all); returns unsubscribe."""
        entry = (listener, frozenset(event_types) if event_types is not None else None)
        self._listeners.append(entry)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(entry)

        return unsubscribe

    def events(
        self, event_types: Collection[str] | None = None, *, maxsize: int = EVENT_QUEUE_SIZE
    ) -> AsyncIterator[protocol.Event]:
        """Iterate events in order until the link closes.

        The buffer holds `maxsize` events; a consumer that falls further behind loses
        the OLDEST events (a WARNING says how many), so OBS and the other listeners are
        never slowed down by it. Subscribe before the events of interest can happen.
        """
        stream = _EventQueue(maxsize)
        if self._closed is not None and self._closed.done():
            stream.close()
            return stream.iterate(lambda: None)
        self._streams.add(stream)
        unsubscribe = self.subscribe(stream.put, event_types)

        def release() -> None:
            unsubscribe()
            self._streams.discard(stream)

        return stream.iterate(release)


@dataclass(frozen=True)
class _Waiter:
    """One request waiting for its answer: what it is, and the answer's kind."""

    fut: asyncio.Future[Any]
    what: str
    kind: type[protocol.RequestResponse] | type[protocol.RequestBatchResponse]

    def fail(self, problem: str) -> None:
        self.fut.set_exception(errors.OBSProtocolError(self.what, problem))


class _Complaints:
    """One WARNING per kind of broken frame, then DEBUG (and the count every COMPLAINT_EVERY)."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._counts: dict[str, int] = {}

    def add(self, kind: str, message: str, *args: object) -> None:
        n = self._counts[kind] = self._counts.get(kind, 0) + 1
        if n == 1:
            # Formatted here, not lazily: the message is the format, and only once per kind.
            log.warning("%s (later ones: debug)", message % (self._address, *args))
        elif n % COMPLAINT_EVERY == 0:
            log.warning("%s (%d of this kind so far)", message % (self._address, *args), n)
        else:
            log.debug(message, self._address, *args)


def _op_of(msg: protocol.Message) -> int:
    return int(protocol.to_wire(msg)["op"])


class _EventQueue:
    """A bounded, drop-oldest queue feeding one events() iterator."""

    def __init__(self, maxsize: int) -> None:
        self._queue: asyncio.Queue[protocol.Event | _Closed] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put(self, event: protocol.Event | _Closed) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "an OBS event consumer is too slow: dropped %d oldest events", self.dropped
                )
        self._queue.put_nowait(event)

    def close(self) -> None:
        self.put(_CLOSED)

    async def iterate(self, release: Callable[[], None]) -> AsyncIterator[protocol.Event]:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Closed):
                    return
                yield item
        finally:
            release()


def _expire(fut: asyncio.Future[Any], what: str, limit: float) -> None:
    if not fut.done():
        fut.set_exception(errors.RequestTimeout(f"OBS did not answer {what} within {limit:g} s"))


def _describe(exc: object) -> str:
    """A lost link's cause in words (a host reads it; never an exception class name)."""
    return failure(exc) if isinstance(exc, BaseException) else str(exc) or "connection lost"


def _copy_error(exc: BaseException) -> errors.ConnectionClosed:
    """A fresh ConnectionClosed per waiter: one instance raised in many tasks tangles tracebacks."""
    return errors.ConnectionClosed(str(exc))
