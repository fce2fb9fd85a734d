"""Notifications: Discord and Slack webhooks told what speakers and helpers act on.

`notifications` is a session attachment. It reads the session's state feed (so no cue
ever waits for it) and picks messages by their `topic`, never by their text:

- `next_speaker`: `notify.next_speaker_before` ahead of a slot that brings new speakers
  (a mark that moves with the slot's expected start): "please join the call";
- `check`: a speaker check that fails or warns (topic "check");
- `stream`: the stream goes on air / off air, and the stream's own warnings;
- `host`: the host's `message` command (topic "host"), its text;
- `health`: stream-health warnings (topic "health");
- `cue` (off by default): a slot goes on air; `end` (off by default): the show ended.

What speakers read is in the event's language (`event.language`, Japanese first).

Each webhook has its own bounded queue (a flood drops the oldest, counted) and one
sender task: a request has `notify.timeout`, a failure is tried again `notify.retries`
times with backoff (a 429's Retry-After is respected), and the counts and the last error
— never the URL, which is a secret — are the session state's `notify`. A rehearsal
sends only with `rehearse --notify`, each message starting with "[リハーサル]" /
"[rehearsal]".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from showcaller.clock import SystemClock
from showcaller.config import EventConfig, Webhook
from showcaller.errors import OBSError
from showcaller.obs.events import OutputState, StreamStateChanged
from showcaller.show.context import Attachment, ShowContext
from showcaller.show.journal import Kind, read_journal
from showcaller.show.state import Mark, Mode, NotifyView, SessionState
from showcaller.words import failure

log = logging.getLogger(__name__)

# Messages waiting per webhook; more drop the oldest.
QUEUE_MAX = 50
# Backoff between tries (real seconds): BACKOFF_S, 2x, 4x ... capped.
BACKOFF_S = 1.0
BACKOFF_MAX_S = 10.0
# The longest a 429's Retry-After is waited for; longer counts as a failure.
RETRY_AFTER_MAX_S = 30.0
# On the way out, messages still queued get this long (real seconds) to go out.
DRAIN_S = 3.0

_DISCORD_HOSTS = ("discord.com", "discordapp.com")


def webhook_format(hook: Webhook) -> str:
    """`discord` or `slack`: as stated, else by the URL's host (Discord's, else Slack)."""
    if hook.format != "auto":
        return hook.format
    host = (urlsplit(hook.url.get_secret_value()).hostname or "").lower()
    discord = any(host == h or host.endswith("." + h) for h in _DISCORD_HOSTS)
    return "discord" if discord else "slack"


def payload(fmt: str, text: str) -> dict[str, Any]:
    """The JSON body for a webhook of this format."""
    if fmt == "discord":
        # Discord refuses content over 2000 characters; pings are never wanted here.
        return {"content": text[:2000], "allowed_mentions": {"parse": []}}
    return {"text": text}


def backoff(attempt: int, base: float = BACKOFF_S) -> float:
    """Seconds to wait before try `attempt + 1` (attempt counts from 0)."""
    return float(min(BACKOFF_MAX_S, base * 2**attempt))


def describe_failure(exc: BaseException, timeout: float) -> str:
    """What went wrong, in words that never contain the URL (aiohttp's messages do)."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {failure(exc)}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}"
    return failure(exc)


def _retry_after(response: aiohttp.ClientResponse, body: Any) -> float | None:
    """A 429's wait: the Retry-After header (seconds), or Discord's JSON retry_after."""
    header = response.headers.get("Retry-After")
    if header is not None:
        with contextlib.suppress(ValueError):
            return max(0.0, float(header))
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return max(0.0, float(body["retry_after"]))
    return None


# ------------------------------------------------------------------------- texts


_TEXTS = {
    "ja": {
        "next_speaker": (
            "⏰ {minutes}分後に「{title}」（{names}）が始まります — 通話への参加をお願いします"
        ),
        "on_air": "🔴 配信が始まりました（オンエア）",
        "off_air": "⚫ 配信が終了しました（オフエア）",
        "cue": "▶ ただいま「{title}」{names}",
        "end": "🏁 イベントは終了しました。ありがとうございました！",
        "rehearsal": "[リハーサル] ",
    },
    "en": {
        "next_speaker": "⏰ {title} ({names}) starts in {minutes} minutes — please join the call",
        "on_air": "🔴 We are on air",
        "off_air": "⚫ The stream has ended (off air)",
        "cue": "▶ Now: {title}{names}",
        "end": "🏁 The show has ended — thank you!",
        "rehearsal": "[rehearsal] ",
    },
}


def text_for(language: str, key: str, **values: object) -> str:
    """A notification text in the event's language."""
    return _TEXTS["ja" if language == "ja" else "en"][key].format(**values)


# ----------------------------------------------------------------------- senders


@dataclass
class _Hook:
    """One webhook: its secret URL, format, events and queue."""

    label: str  # "webhook 1 (discord)": what the host reads instead of the URL
    url: str = field(repr=False)
    fmt: str
    events: frozenset[str]
    queue: deque[str] = field(default_factory=lambda: deque(maxlen=QUEUE_MAX))
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    busy: bool = False


@dataclass
class _Counts:
    sent: int = 0
    failed: int = 0
    retries: int = 0
    dropped: int = 0
    last_error: str | None = None
    last_error_at: str | None = None


class Notifier:
    """Queues notices per webhook and sends them from tasks of their own."""

    def __init__(
        self,
        cfg: EventConfig,
        http: aiohttp.ClientSession,
        *,
        on_change: Callable[[NotifyView], None],
        now: Callable[[], datetime],
        backoff_s: float = BACKOFF_S,
        prefix: str = "",
        on_failing: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = cfg.notify
        self.http = http
        self.prefix = prefix
        self.hooks = [
            _Hook(
                label=f"webhook {n} ({webhook_format(h)})",
                url=h.url.get_secret_value(),
                fmt=webhook_format(h),
                events=frozenset(h.events),
            )
            for n, h in enumerate(cfg.notify.webhooks, start=1)
        ]
        self.counts = _Counts()
        self._on_change = on_change
        self._now = now
        self._backoff_s = backoff_s
        self._clock = SystemClock()
        self._failing: set[str] = set()
        self._on_failing = on_failing  # told once per failing streak of a webhook

    def wants(self, topic: str) -> bool:
        """Some webhook gets this topic."""
        return any(topic in hook.events for hook in self.hooks)

    def post(self, topic: str, text: str) -> None:
        """Queue `text` for every webhook that gets `topic` (never waits)."""
        for hook in self.hooks:
            if topic not in hook.events:
                continue
            if len(hook.queue) == hook.queue.maxlen:
                self.counts.dropped += 1
            hook.queue.append(self.prefix + text)
            hook.wake.set()
        self._publish()

    def view(self) -> NotifyView:
        """The counts as the session state shows them."""
        c = self.counts
        pending = sum(len(h.queue) + h.busy for h in self.hooks)
        return NotifyView(
            webhooks=len(self.hooks),
            sent=c.sent,
            failed=c.failed,
            retries=c.retries,
            dropped=c.dropped,
            pending=pending,
            last_error=c.last_error,
            last_error_at=c.last_error_at,
        )

    def _publish(self) -> None:
        self._on_change(self.view())

    @property
    def idle(self) -> bool:
        """Nothing queued or being sent."""
        return all(not h.queue and not h.busy for h in self.hooks)

    async def deliver(self, hook: _Hook) -> None:
        """Send `hook`'s queue, one message at a time, until cancelled."""
        while True:
            await hook.wake.wait()
            hook.wake.clear()
            while hook.queue:
                text = hook.queue.popleft()
                hook.busy = True
                try:
                    await self._send(hook, text)
                finally:
                    hook.busy = False
                    self._publish()

    async def _send(self, hook: _Hook, text: str) -> None:
        body = payload(hook.fmt, text)
        timeout = self.settings.timeout
        error = ""
        for attempt in range(self.settings.retries + 1):
            wait = backoff(attempt, self._backoff_s)
            try:
                async with asyncio.timeout(timeout):
                    async with self.http.post(hook.url, json=body) as response:
                        status = response.status
                        answer: Any = None
                        if status == 429:
                            with contextlib.suppress(ValueError, aiohttp.ClientError):
                                answer = await response.json(content_type=None)
                            after = _retry_after(response, answer)
                            wait = wait if after is None else after
                        else:
                            await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = describe_failure(exc, timeout)
            else:
                if 200 <= status < 300:
                    self._delivered(hook)
                    return
                error = f"HTTP {status}"
                if status != 429 and 400 <= status < 500:
                    break  # a wrong URL or body: trying again will not help
                if wait > RETRY_AFTER_MAX_S:
                    error += f" (asked to wait {wait:g} s)"
                    break
            if attempt < self.settings.retries:
                self.counts.retries += 1
                self._publish()
                log.debug("%s: %s; trying again in %.1f s", hook.label, error, wait)
                await self._clock.sleep_until(self._clock.monotonic() + wait)
        self._gave_up(hook, error)

    def _delivered(self, hook: _Hook) -> None:
        self.counts.sent += 1
        if hook.label in self._failing:
            self._failing.discard(hook.label)
            log.info("%s: delivering again", hook.label)

    def _gave_up(self, hook: _Hook, error: str) -> None:
        self.counts.failed += 1
        self.counts.last_error = f"{hook.label}: {error}"
        self.counts.last_error_at = self._now().isoformat()
        if hook.label not in self._failing:
            self._failing.add(hook.label)
            text = (
                f"{hook.label}: a notification was not delivered ({error}); the show goes on "
                "— check the webhook's URL in SHOWCALLER_NOTIFY__WEBHOOKS"
            )
            if self._on_failing is not None:
                self._on_failing(text)
            else:
                log.warning("%s", text)
        else:
            log.debug("%s: not delivered (%s)", hook.label, error)


# --------------------------------------------------------------------- listening


class ShowNotices:
    """Turns the session's state into notices: messages by topic, the stream, marks."""

    def __init__(self, ctx: ShowContext, cfg: EventConfig, notifier: Notifier) -> None:
        self.ctx = ctx
        self.notifier = notifier
        self.language = cfg.event.language
        self.before = cfg.notify.next_speaker_before.total_seconds()
        self.marks: dict[int, Mark] = {}
        self._seq = 0
        self._on_air: bool | None = None
        self.off_air = asyncio.Event()

    def add_marks(self, done_before: frozenset[str] = frozenset()) -> None:
        """A `next_speaker_N` mark ahead of each upcoming slot that brings new speakers.

        `done_before`: marks a resumed show's journal says were done (not sent again).
        """
        if not self.notifier.wants("next_speaker"):
            return
        upcoming = {v.index for v in self.ctx.state.show.slots if v.state == "upcoming"}
        previous: set[str] = set()
        for slot in self.ctx.plan.slots:
            ids = {sp.id for sp in slot.speakers}
            if ids and ids != previous and slot.index in upcoming:
                at = (slot.start - self.ctx.plan.origin).total_seconds() - self.before
                names = ", ".join(sp.name for sp in slot.speakers)
                mark = Mark(
                    f"next_speaker_{slot.index + 1}",
                    f"{names} asked to join the call (slot {slot.index + 1})",
                    self._next_speaker_action(slot.index),
                    at=at,
                )
                self.marks[slot.index] = self.ctx.add_mark(mark, done_before=done_before)
            previous = ids

    def _next_speaker_action(self, index: int) -> Callable[[], Any]:
        async def action() -> list[str]:
            slot = self.ctx.plan.slots[index]
            self.notifier.post(
                "next_speaker",
                text_for(
                    self.language,
                    "next_speaker",
                    minutes=f"{self.before / 60:g}",
                    title=slot.title,
                    names="、".join(sp.name for sp in slot.speakers)
                    if self.language == "ja"
                    else ", ".join(sp.name for sp in slot.speakers),
                ),
            )
            return []

        return action

    def follow_marks(self, state: SessionState) -> None:
        """Move each due next-speaker mark with its slot's expected start (a late show)."""
        origin = self.ctx.time.origin
        for view in state.show.slots:
            mark = self.marks.get(view.index)
            if mark is None or mark.status != "due":
                continue
            if view.state == "skipped":
                self.ctx.skip_mark(mark, "the slot was skipped")
            elif view.state == "upcoming" and view.expected_start:
                start = datetime.fromisoformat(view.expected_start)
                mark.at = (start - origin).total_seconds() - self.before

    def on_state(self, state: SessionState) -> None:
        """Queue the notices this state brings (called outside the cue loop)."""
        self.follow_marks(state)
        for message in state.messages:
            if message.seq <= self._seq:
                continue
            self._seq = message.seq
            self._message(message.topic, message.level, message.text, message.slot)

    def on_stream(self, event: StreamStateChanged) -> None:
        """OBS's stream started or stopped: on air / off air (on the receive loop: queue only).

        From OBS's events rather than the state, so that the stop at the show's end (whose
        event comes after the show has stopped publishing) is said too.
        """
        if event.state is OutputState.STARTED and self._on_air is not True:
            self._on_air = True
            self.off_air.clear()
            self.notifier.post("stream", text_for(self.language, "on_air"))
        elif event.state is OutputState.STOPPED and self._on_air is not False:
            self._on_air = False
            self.off_air.set()
            self.notifier.post("stream", text_for(self.language, "off_air"))

    @property
    def on_air(self) -> bool:
        """The stream is on air, as far as OBS's events said."""
        return self._on_air is True

    def _message(self, topic: str, level: str, text: str, slot: int | None) -> None:
        loud = level in ("warning", "problem")
        if topic in ("check", "stream", "health") and loud:
            self.notifier.post(topic, f"⚠️ {text}")
        elif topic == "host":
            self.notifier.post("host", f"📣 {text.removeprefix('host message: ')}")
        elif topic == "cue" and slot is not None:
            s = self.ctx.plan.slots[slot]
            names = ", ".join(sp.name for sp in s.speakers)
            shown = (f"（{names}）" if self.language == "ja" else f" ({names})") if names else ""
            self.notifier.post("cue", text_for(self.language, "cue", title=s.title, names=shown))
        elif topic == "end":
            self.notifier.post("end", text_for(self.language, "end"))


def _marks_done(path: Path) -> frozenset[str]:
    """The next-speaker marks the show's journal says were done (before a restart)."""
    if not path.exists():
        return frozenset()
    return frozenset(
        str(e.data.get("mark"))
        for e in read_journal(path)
        if e.kind == Kind.MARK
        and e.data.get("status") == "done"
        and str(e.data.get("mark", "")).startswith("next_speaker_")
    )


def notifications(cfg: EventConfig, *, room: str = "") -> Attachment:
    """The attachment: a sender per webhook, the next-speaker marks, the state listener.

    `room`: every message starts with it (`[hall-b] `) when one is set."""

    @contextlib.asynccontextmanager
    async def attached(ctx: ShowContext) -> AsyncIterator[None]:
        async with _notifying(ctx, cfg, room):
            yield

    return attached


@contextlib.asynccontextmanager
async def _notifying(ctx: ShowContext, cfg: EventConfig, room: str) -> AsyncIterator[Notifier]:
    rehearsal = ctx.mode is Mode.REHEARSAL
    prefix = f"[{room}] " if room else ""
    if rehearsal:
        prefix += text_for(cfg.event.language, "rehearsal")
    async with aiohttp.ClientSession() as http:
        notifier = Notifier(
            cfg,
            http,
            on_change=lambda view: ctx.publish(notify=view),
            now=lambda: ctx.time.wall(ctx.time.now()),
            prefix=prefix,
            on_failing=lambda text: ctx.warn(text, problem=False, topic="notify"),
        )
        ctx.publish(notify=notifier.view())
        notices = ShowNotices(ctx, cfg, notifier)
        # A resumed live show: the notices that went out before the restart are done.
        done = frozenset() if rehearsal else await asyncio.to_thread(_marks_done, ctx.journal_path)
        notices.add_marks(done)
        senders = [
            ctx.spawn(notifier.deliver(hook), f"{hook.label} sender", with_show=False)
            for hook in notifier.hooks
        ]
        unwatch = await ctx.gateway.on(notices.on_stream, StreamStateChanged)
        feed = ctx.feed()

        async def listen() -> None:
            async for state in feed:
                notices.on_state(state)

        listener = ctx.spawn(listen(), "notifications", with_show=False)
        try:
            yield notifier
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            if notices.on_air:
                # The stop at the end: OBS's "stopped" may come a moment after the show.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(DRAIN_S):
                        await notices.off_air.wait()
            with contextlib.suppress(OBSError):
                await unwatch()
            clock = SystemClock()
            until = clock.monotonic() + DRAIN_S
            while not notifier.idle and clock.monotonic() < until:
                await clock.sleep_until(clock.monotonic() + 0.05)
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            ctx.publish(notify=notifier.view())


__all__ = [
    "Notifier",
    "ShowNotices",
    "backoff",
    "describe_failure",
    "notifications",
    "payload",
    "text_for",
    "webhook_format",
]
