"""The connpass API v2: an event's title, date, start time, hashtag and page.

`GET {url}events/?event_id=N` with the header `X-API-Key`; the key comes from
`SHOWCALLER_CONNPASS__API_KEY` (https://connpass.com/about/api/) and is never printed.
connpass asks for at most one request per second: every request of a `ConnpassClient`
first waits on its `RateLimiter`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from showcaller.clock import Clock, SystemClock
from showcaller.errors import ShowcallerError
from showcaller.words import failure

API_URL = "https://connpass.com/api/v2/"
KEY_HINT = (
    "connpass gives API keys to its users: see https://connpass.com/about/api/, "
    "then set SHOWCALLER_CONNPASS__API_KEY"
)
REQUEST_TIMEOUT_S = 10.0


class ConnpassError(ShowcallerError):
    """connpass could not give the event (no key, key refused, no such event, unreachable)."""

    exit_code = 2


class ConnpassSettings(BaseSettings):
    """`SHOWCALLER_CONNPASS__API_KEY` and `SHOWCALLER_CONNPASS__URL` (for a test double)."""

    model_config = SettingsConfigDict(
        env_prefix="SHOWCALLER_CONNPASS__", extra="ignore", hide_input_in_errors=True
    )

    api_key: SecretStr = SecretStr("")
    url: str = API_URL


@dataclass(frozen=True)
class ConnpassEvent:
    """What showcaller takes from a connpass event."""

    id: int
    title: str
    url: str
    hashtag: str
    started_at: datetime | None
    ended_at: datetime | None


class RateLimiter:
    """At most one go per `interval` seconds (on `clock`): `await limiter.wait()` before each."""

    def __init__(self, interval: float = 1.0, clock: Clock | None = None) -> None:
        self.interval = interval
        self.clock: Clock = clock or SystemClock()
        self._next: float | None = None
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next go is allowed, and count it."""
        async with self._lock:
            now = self.clock.monotonic()
            if self._next is not None and now < self._next:
                await self.clock.sleep_until(self._next)
                now = self.clock.monotonic()
            self._next = now + self.interval


class ConnpassClient:
    """A connpass API v2 client on one aiohttp session (use as `async with`)."""

    def __init__(self, settings: ConnpassSettings, limiter: RateLimiter | None = None) -> None:
        key = settings.api_key.get_secret_value()
        if not key:
            raise ConnpassError("connpass needs an API key", hint=KEY_HINT)
        self._key = key
        self.base = settings.url if settings.url.endswith("/") else settings.url + "/"
        self.limiter = limiter or RateLimiter()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ConnpassClient:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            headers={"X-API-Key": self._key, "User-Agent": "showcaller"},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def event(self, event_id: int) -> ConnpassEvent:
        """The event with this id; ConnpassError when connpass does not give it."""
        if self._session is None:
            raise RuntimeError("use ConnpassClient as `async with`")
        await self.limiter.wait()
        url = f"{self.base}events/"
        try:
            async with self._session.get(url, params={"event_id": str(event_id)}) as response:
                if response.status in (401, 403):
                    raise ConnpassError(
                        f"connpass refused the API key (HTTP {response.status})", hint=KEY_HINT
                    )
                if response.status == 429:
                    raise ConnpassError(
                        "connpass says: too many requests (HTTP 429); try again in a minute"
                    )
                if response.status != 200:
                    raise ConnpassError(
                        f"connpass answered HTTP {response.status} for event {event_id}"
                    )
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            what = failure(exc)
            raise ConnpassError(
                f"cannot reach connpass at {self.base}: {what}",
                hint="check the network, or import without --connpass",
            ) from exc
        except ValueError as exc:  # the body is not JSON
            raise ConnpassError(
                f"connpass answered something that is not JSON for event {event_id}"
            ) from exc
        return _event_from(data, event_id)


def _event_from(data: Any, event_id: int) -> ConnpassEvent:
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise ConnpassError("connpass answered without an events list")
    for raw in events:
        if isinstance(raw, dict) and raw.get("id") == event_id:
            return ConnpassEvent(
                id=event_id,
                title=_text(raw.get("title")),
                url=_text(raw.get("url")),
                hashtag=_hashtag(raw.get("hash_tag")),
                started_at=_moment(raw.get("started_at")),
                ended_at=_moment(raw.get("ended_at")),
            )
    raise ConnpassError(
        f"connpass has no event {event_id}",
        hint="the id is the number in the event's address: https://….connpass.com/event/N/",
    )


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _hashtag(value: object) -> str:
    tag = _text(value).lstrip("#")
    return f"#{tag}" if tag else ""


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


async def fetch_event(event_id: int, settings: ConnpassSettings) -> ConnpassEvent:
    """One event from connpass (one request)."""
    async with ConnpassClient(settings) as client:
        return await client.event(event_id)


__all__ = [
    "API_URL",
    "ConnpassClient",
    "ConnpassError",
    "ConnpassEvent",
    "ConnpassSettings",
    "RateLimiter",
    "fetch_event",
]
