"""A hostile or broken OBS: a websocket proxy in front of a real obs-websocket server.

`HostileOBS(upstream_url)` listens on 127.0.0.1; every connection to it opens one to
the upstream server (the simulated OBS) and passes frames both ways. The handshake
(Hello → Identify → Identified) always passes untouched; after it, the frames the
server sends can be taken over:

- `arm(action)`: the next answer (op 7 or 9), or the next event with
  `target="event"`, goes to `action` instead of to the client (one case of the fuzzer);
- `fuzz(rate, rng, pick)`: each frame after the handshake goes to `pick(rng)` with
  probability `rate` (a show run through a flaky OBS);
- `always(action)`: every answer goes to `action` (an OBS that answers only garbage).

An `Action` gets the frame and a `Peer` (the client's end of the proxy) and does what
it likes with both: send garbage before or instead of the frame, send it late or
never, close the websocket with any code, or cut the TCP connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import aiohttp
from aiohttp import web

Target = Literal["answer", "event", "any"]
ANSWER_OPS = frozenset({7, 9})


class Peer:
    """The client's end of one proxied connection, as an Action sees it."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None) -> None:
        self._ws = ws
        self._transport = transport
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, text: str) -> None:
        """Send one text frame (nothing if the client is gone)."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._ws.send_str(text)

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary frame."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._ws.send_bytes(data)

    async def close(self, code: int, reason: str = "") -> None:
        """Close the websocket with `code` (as OBS closes it, with a reason)."""
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
            await self._ws.close(code=code, message=reason.encode())

    def abort(self) -> None:
        """Cut the TCP connection: no close frame at all."""
        if self._transport is not None:
            self._transport.abort()

    def later(self, delay: float, text: str) -> None:
        """Send `text` after `delay` seconds; the frames after it do not wait."""

        async def send_later() -> None:
            await asyncio.sleep(delay)
            await self.send(text)

        task = asyncio.get_running_loop().create_task(send_later(), name="hostile-obs later")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_later(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


Action = Callable[[str, Peer], Awaitable[None]]


@dataclass
class _Armed:
    action: Action
    target: Target
    always: bool = False
    then: Action | None = None


def op_of(text: str) -> int | None:
    """The op of a frame the upstream server sent (None if it has none)."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    op = obj.get("op") if isinstance(obj, dict) else None
    return op if isinstance(op, int) else None


def _matches(target: Target, op: int | None) -> bool:
    if target == "any":
        return True
    if target == "event":
        return op == 5
    return op in ANSWER_OPS


class HostileOBS:
    """A proxy in front of `upstream` that misbehaves on command after the handshake."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = 0
        self.connections = 0
        self.taken = 0  # frames given to an action
        self.forwarded = 0
        self._armed: _Armed | None = None
        self._fuzz: tuple[float, random.Random, Callable[[random.Random], Action]] | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._peers: set[Peer] = set()
        self.failures: list[BaseException] = []  # an action that raised: a bug in the test

    @property
    def url(self) -> str:
        """ws://127.0.0.1:port of the proxy."""
        return f"ws://127.0.0.1:{self.port}"

    # ----------------------------------------------------------------- commands

    def arm(self, action: Action, target: Target = "answer", then: Action | None = None) -> None:
        """Give the next frame of `target` after the handshake to `action`, and the next
        answer after that (on this connection or the next) to `then`."""
        self._armed = _Armed(action, target, then=then)

    def always(self, action: Action, target: Target = "answer") -> None:
        """Give every frame of `target` after the handshake to `action`."""
        self._armed = _Armed(action, target, always=True)

    def fuzz(
        self, rate: float, rng: random.Random, pick: Callable[[random.Random], Action]
    ) -> None:
        """Give each frame after the handshake, with probability `rate`, to `pick(rng)`."""
        self._fuzz = (rate, rng, pick)

    def disarm(self) -> bool:
        """Stop misbehaving; whether an armed action was still waiting for its frame."""
        waiting = self._armed is not None and not self._armed.always
        self._armed = None
        self._fuzz = None
        return waiting

    @property
    def armed(self) -> bool:
        """Whether an armed action still waits for its frame."""
        return self._armed is not None

    # ----------------------------------------------------------------- running

    async def __aenter__(self) -> HostileOBS:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # aiohttp gives the bound port no other way
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for peer in list(self._peers):
            await peer.cancel_later()
            peer.abort()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        if self.failures and exc_info[0] is None:
            raise AssertionError(f"a hostile action failed: {self.failures[0]!r}") from (
                self.failures[0]
            )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.connections += 1
        peer = Peer(ws, request.transport)
        self._peers.add(peer)
        assert self._session is not None
        try:
            async with self._session.ws_connect(self.upstream, max_msg_size=0) as up:
                down = asyncio.create_task(self._server_to_client(up, peer), name="hostile down")
                try:
                    async for msg in ws:
                        if msg.type is aiohttp.WSMsgType.TEXT:
                            await up.send_str(msg.data)
                        elif msg.type is aiohttp.WSMsgType.BINARY:
                            await up.send_bytes(msg.data)
                finally:
                    down.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await down
        except (aiohttp.ClientError, ConnectionError):
            pass  # the upstream went away: the client sees its end closed
        finally:
            await peer.cancel_later()
            self._peers.discard(peer)
            if not ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.close()
        return ws

    async def _server_to_client(self, up: aiohttp.ClientWebSocketResponse, peer: Peer) -> None:
        identified = False
        async for msg in up:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            text: str = msg.data
            op = op_of(text)
            if not identified:
                identified = op == 2
                await peer.send(text)
                continue
            action = self._take(op)
            if action is None:
                self.forwarded += 1
                await peer.send(text)
            else:
                self.taken += 1
                try:
                    await action(text, peer)
                except Exception as exc:
                    self.failures.append(exc)
                    raise
        await peer.close(1000)

    def _take(self, op: int | None) -> Action | None:
        armed = self._armed
        if armed is not None and _matches(armed.target, op):
            if not armed.always:
                self._armed = None if armed.then is None else _Armed(armed.then, "answer")
            return armed.action
        if self._fuzz is not None:
            rate, rng, pick = self._fuzz
            if rng.random() < rate:
                return pick(rng)
        return None
