"""Keeps one link to OBS alive: reconnect with backoff, resync hooks, a state to show.

`OBSLink` owns a task that connects an `OBSClient`, runs the resync hooks, reports
READY, waits for the link to drop and starts over. While OBS is away, requests fail
at once with `ConnectionClosed` (they are never queued: a scene switch sent a minute
late is worse than none). Event subscriptions made on the link survive reconnects.
A wrong password is final: AUTH_FAILED, one log line, no retry.

OBS 30 opens its websocket (and identifies clients) before it has loaded its scenes,
and answers every request with 207 "not ready" until it has (about 50 ms after a start,
measured on 30.2): the link counts as connected only once OBS answers, so no resync hook
ever meets that window. OBS 29 answers from the first moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from showcaller import errors
from showcaller.obs import protocol
from showcaller.obs.client import MAX_MESSAGE_SIZE, EventListener, OBSClient

log = logging.getLogger(__name__)

ResyncHook = Callable[[OBSClient], Awaitable[None]]
StateCallback = Callable[["LinkState"], None]


class LinkState(enum.Enum):
    """Where the link to OBS stands (the dashboard shows it)."""

    CONNECTING = "connecting"
    IDENTIFYING = "identifying"
    READY = "ready"
    BACKING_OFF = "backing off"
    AUTH_FAILED = "auth failed"
    STOPPED = "stopped"


def backoff_delay(
    attempt: int, *, base: float = 0.1, cap: float = 5.0, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number `attempt` (0-based): capped exponential, jittered.

    "Equal jitter": half the exponential step is fixed, half random, so the first
    retries come within a second of OBS returning while many clients still spread out.
    """
    step: float = min(cap, base * 2.0 ** min(attempt, 32))
    return step / 2 + rand() * step / 2


# How often to ask an OBS that is still loading; its 207 window lasts about 50 ms.
_NOT_READY_POLL_S = 0.02


async def _until_obs_answers(client: OBSClient, limit: float) -> None:
    """Return once OBS answers requests (not 207); ConnectTimeout, link closed, after `limit`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        try:
            await client.request("GetVersion")
            return
        except errors.OBSRequestError as exc:
            if exc.code != protocol.Status.NOT_READY:
                return  # an answer all the same: OBS is up, whatever GetVersion thinks
            if loop.time() >= deadline:
                await client.close()
                raise errors.ConnectTimeout(
                    f"OBS at {client.address} still not ready (207) after {limit:g} s"
                ) from exc
        except errors.MalformedResponse as exc:
            # Whatever answers there does not answer as obs-websocket 5: retried like a
            # server that cannot be reached (one warning line, then back off).
            await client.close()
            raise errors.NotOBSServer(str(exc)) from exc
        except BaseException:
            await client.close()
            raise
        await asyncio.sleep(_NOT_READY_POLL_S)


class OBSLink:
    """One supervised connection to OBS (reconnects until stopped or refused)."""

    def __init__(
        self,
        url: str,
        password: str | None = None,
        *,
        connect_timeout: float = 5.0,
        request_timeout: float = 5.0,
        subscriptions: int = protocol.DEFAULT_SUBSCRIPTIONS,
        heartbeat: float = 2.0,
        max_message_size: int = MAX_MESSAGE_SIZE,
        backoff_base: float = 0.1,
        backoff_cap: float = 5.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """Describe the link; nothing connects until `start()` or `run()`."""
        self.url = url
        self._password = password
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.subscriptions = int(subscriptions)
        self.heartbeat = heartbeat
        self.max_message_size = max_message_size
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._rand = rand
        self._state = LinkState.STOPPED
        self._client: OBSClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._state_callbacks: list[StateCallback] = []
        self._resync_hooks: list[ResyncHook] = []
        # Each link subscription, with its unsubscribe on the current client (if any).
        self._subscriptions: dict[int, tuple[EventListener, Collection[str] | None]] = {}
        self._client_unsubs: dict[int, Callable[[], None]] = {}
        self._next_sub = 0
        self._waiters: set[asyncio.Future[None]] = set()
        self._fatal: errors.AuthenticationFailed | None = None
        # A fail_fast waiter reports the first failure itself; the link then stays quiet.
        self._fail_fast_waiters = 0
        self.last_error: BaseException | None = None
        self.connects = 0

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> LinkState:
        """The current state."""
        return self._state

    @property
    def client(self) -> OBSClient | None:
        """The connected client while READY (or IDENTIFYING, for resync hooks), else None."""
        return self._client

    def on_state(self, callback: StateCallback) -> Callable[[], None]:
        """Call `callback(state)` on every state change; returns unsubscribe."""
        self._state_callbacks.append(callback)
        return lambda: _discard(self._state_callbacks, callback)

    def add_resync_hook(self, hook: ResyncHook) -> Callable[[], None]:
        """Run `await hook(client)` after every (re)connect, before READY; returns remove."""
        self._resync_hooks.append(hook)
        return lambda: _discard(self._resync_hooks, hook)

    def _set_state(self, state: LinkState) -> None:
        if state is self._state:
            return
        self._state = state
        for callback in list(self._state_callbacks):
            try:
                callback(state)
            except Exception:
                log.exception("an OBS link state callback failed")
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_ready(
        self,
        timeout: float | None = None,  # noqa: ASYNC109 - raises ConnectTimeout with the last error
        *,
        fail_fast: bool = False,
    ) -> None:
        """Return once READY; AuthenticationFailed if refused, ConnectTimeout after `timeout`.

        With `fail_fast`, a failed connect attempt raises its own error (ConnectionRefused,
        NotOBSServer, ...) at once instead of waiting for a retry: for one-shot commands.
        """
        self._fail_fast_waiters += fail_fast
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self._state is LinkState.READY:
                        return
                    if self._state is LinkState.AUTH_FAILED and self._fatal is not None:
                        raise errors.AuthenticationFailed(str(self._fatal))
                    if self._state is LinkState.STOPPED and self._task is None:
                        raise errors.ConnectionClosed("the OBS link is stopped")
                    if fail_fast and self._state is LinkState.BACKING_OFF:
                        raise _as_connect_error(self.last_error)
                    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    self._waiters.add(fut)
                    try:
                        await fut
                    finally:
                        self._waiters.discard(fut)
        except TimeoutError as exc:
            last = f": {self.last_error}" if self.last_error else ""
            raise errors.ConnectTimeout(f"OBS not ready within {timeout:g} s{last}") from exc
        finally:
            self._fail_fast_waiters -= fail_fast

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Start the supervising task (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="obs-link")

    async def stop(self) -> None:
        """Stop the task and close the link; state STOPPED."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop_client()
        if self._state is not LinkState.AUTH_FAILED:
            self._set_state(LinkState.STOPPED)

    async def __aenter__(self) -> OBSLink:
        """Start."""
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop."""
        await self.stop()

    async def run(self) -> None:
        """Connect, resync, wait for the drop, back off, repeat; returns only on AUTH_FAILED."""
        attempt = 0
        try:
            while True:
                self._set_state(LinkState.CONNECTING)
                client = OBSClient(
                    self.url,
                    self._password,
                    connect_timeout=self.connect_timeout,
                    request_timeout=self.request_timeout,
                    subscriptions=self.subscriptions,
                    heartbeat=self.heartbeat,
                    max_message_size=self.max_message_size,
                )
                try:
                    await client.connect(on_hello=lambda _: self._set_state(LinkState.IDENTIFYING))
                    await _until_obs_answers(client, self.connect_timeout)
                except errors.AuthenticationFailed as exc:
                    self._fatal = exc
                    self.last_error = exc
                    log.error("%s; not retrying (%s)", exc, exc.hint)
                    self._set_state(LinkState.AUTH_FAILED)
                    return
                except errors.OBSConnectionError as exc:
                    self.last_error = exc
                    if attempt == 0 and not self._fail_fast_waiters:
                        log.warning("cannot connect to OBS: %s; retrying", exc)
                    else:
                        log.debug("still cannot connect to OBS (attempt %d): %s", attempt + 1, exc)
                    await self._back_off(attempt)
                    attempt += 1
                    continue
                except Exception as exc:
                    self.last_error = exc
                    log.exception("unexpected error while connecting to OBS; retrying")
                    await self._back_off(attempt)
                    attempt += 1
                    continue

                await self._adopt(client)
                again = " again" if self.connects > 1 else ""
                log.info("connected to OBS at %s%s", client.address, again)
                attempt = 0
                self._set_state(LinkState.READY)
                reason = await client.wait_closed()
                await self._drop_client()
                self.last_error = reason
                log.warning("lost the link to OBS: %s; reconnecting", reason)
        finally:
            await self._drop_client()
            if self._state is not LinkState.AUTH_FAILED:
                self._set_state(LinkState.STOPPED)

    async def _back_off(self, attempt: int) -> None:
        self._set_state(LinkState.BACKING_OFF)
        delay = backoff_delay(
            attempt, base=self._backoff_base, cap=self._backoff_cap, rand=self._rand
        )
        await asyncio.sleep(delay)

    async def _adopt(self, client: OBSClient) -> None:
        """Make `client` current: carry subscriptions over, run resync hooks."""
        self._client = client
        self.connects += 1
        for key, (listener, types) in self._subscriptions.items():
            self._client_unsubs[key] = client.subscribe(listener, types)
        for hook in list(self._resync_hooks):
            try:
                await hook(client)
            except errors.ConnectionClosed:
                # The link dropped during resync; wait_closed() will tell the loop.
                break
            except errors.OBSError as exc:
                # OBS refused, answered badly or too late: expected of a broken OBS, one line.
                log.warning("an OBS resync hook failed: %s; continuing without it", exc)
            except Exception:
                log.exception("an OBS resync hook failed; continuing without it")
        # reidentify() while this client was connecting (or from a hook that just
        # failed to reach it) changed only the bits for later connections.
        if client.connected and client.subscriptions != self.subscriptions:
            try:
                await client.reidentify(self.subscriptions)
            except errors.ConnectionClosed:
                pass  # wait_closed() will tell the loop
            except errors.RequestTimeout as exc:
                log.warning("OBS did not take the new event subscriptions: %s", exc)

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._client_unsubs.clear()
        if client is not None:
            await client.close()

    # ------------------------------------------------------------------ forwarding

    def unanswered_for(self) -> float:
        """Seconds the oldest unanswered request on the current connection has waited."""
        client = self._client
        return client.unanswered_for() if client is not None else 0.0

    def _ready_client(self) -> OBSClient:
        client = self._client
        if self._state is not LinkState.READY or client is None:
            if self._state is LinkState.AUTH_FAILED and self._fatal is not None:
                raise errors.AuthenticationFailed(str(self._fatal))
            raise errors.ConnectionClosed(f"OBS is not connected ({self._state.value})")
        return client

    async def request(
        self,
        request_type: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - it raises RequestTimeout, not a bare cancel
    ) -> dict[str, Any]:
        """Forward to the current client; ConnectionClosed at once when not READY."""
        return await self._ready_client().request(request_type, data, timeout=timeout)

    async def batch(
        self,
        requests: Sequence[tuple[str, dict[str, Any] | None]],
        *,
        halt_on_failure: bool = False,
        execution_type: int = protocol.BatchExecution.SERIAL_REALTIME,
        timeout: float | None = None,  # noqa: ASYNC109 - it raises RequestTimeout, not a bare cancel
    ) -> list[protocol.RequestResponse]:
        """Forward to the current client; ConnectionClosed at once when not READY."""
        return await self._ready_client().batch(
            requests,
            halt_on_failure=halt_on_failure,
            execution_type=execution_type,
            timeout=timeout,
        )

    async def reidentify(self, subscriptions: int) -> None:
        """Change event subscriptions now (if connected) and for every later connection."""
        self.subscriptions = int(subscriptions)
        client = self._client
        if client is not None and client.connected:
            # The link dropping meanwhile is no failure: the next connection identifies
            # with these bits.
            with contextlib.suppress(errors.ConnectionClosed):
                await client.reidentify(subscriptions)

    def subscribe(
        self, listener: EventListener, event_types: Collection[str] | None = None
    ) -> Callable[[], None]:
        """Subscribe on this and every later connection; returns unsubscribe."""
        key = self._next_sub
        self._next_sub += 1
        self._subscriptions[key] = (listener, event_types)
        if self._client is not None:
            self._client_unsubs[key] = self._client.subscribe(listener, event_types)

        def unsubscribe() -> None:
            self._subscriptions.pop(key, None)
            client_unsub = self._client_unsubs.pop(key, None)
            if client_unsub is not None:
                client_unsub()

        return unsubscribe


def _as_connect_error(exc: BaseException | None) -> errors.OBSError:
    """The link's last connect error as something a waiter can raise."""
    if isinstance(exc, errors.OBSConnectionError):
        return exc
    return errors.ConnectionClosed(f"cannot connect to OBS: {exc!r}")


def _discard(items: list[Any], item: Any) -> None:
    with contextlib.suppress(ValueError):
        items.remove(item)
