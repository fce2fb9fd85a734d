"""Stream health: what OBS's stream and encoder numbers say, once a second, for the host.

A pure core and an attachment:

- `HealthMonitor.observe(sample)` turns one reading of GetStreamStatus, GetStats and
  GetRecordStatus into a `HealthView` (bitrate from bytes over time, dropped and skipped
  frames over a window, render lag, CPU, free disk against the recording's rate until
  the show's end) and the `Notice`s to say: each warning once per episode, with what to
  do, and once more when it is fine again. No clock, no I/O: tests feed it samples.
- `stream_health(settings)`: the attachment (live, `rehearse --stream-test`) that polls
  in its own task, so no cue ever waits for it; a slow answer skips ticks.

Thresholds come from `[health]` (`config.Health`); docs/health.md has the whole story.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from showcaller.config import Health
from showcaller.errors import OBSError
from showcaller.show.context import Attachment, ShowContext
from showcaller.show.state import HealthView, Mode

if TYPE_CHECKING:
    from showcaller.obs.gateway import OBSGateway

log = logging.getLogger(__name__)

# Bitrate is measured over about this many real seconds (a faster poll averages readings).
BITRATE_SPAN_S = 1.0


@dataclass(frozen=True)
class HealthSample:
    """One reading of OBS: `t` in real seconds (any origin), counters as OBS reports them."""

    t: float
    active: bool
    reconnecting: bool = False
    congestion: float = 0.0
    stream_bytes: int = 0
    network_skipped: int = 0  # GetStreamStatus outputSkippedFrames
    network_total: int = 0
    encoder_skipped: int = 0  # GetStats outputSkippedFrames
    encoder_total: int = 0
    render_skipped: int = 0
    render_total: int = 0
    render_ms: float = 0.0
    cpu_percent: float = 0.0
    disk_free_mb: float | None = None
    record_active: bool = False
    record_bytes: int = 0
    show_left_s: float | None = None  # real seconds until the show's expected end


@dataclass(frozen=True)
class Notice:
    """Something to tell the host: a warning starts (`fine=False`) or is over."""

    key: str
    text: str
    fine: bool = False


@dataclass
class HealthSummary:
    """The stream's health over a whole run, for the report."""

    readings_on_air: int = 0
    kbps_sum: float = 0.0
    kbps_min: float | None = None
    dropped: int = 0
    skipped: int = 0
    frames: int = 0
    episodes: dict[str, int] = field(default_factory=dict)

    @property
    def average_kbps(self) -> float | None:
        """The mean bitrate while on air."""
        return self.kbps_sum / self.readings_on_air if self.readings_on_air else None

    @property
    def healthy(self) -> bool:
        """On air at some point, and no warning ever."""
        return self.readings_on_air > 0 and not self.episodes

    def line(self) -> str:
        """One line for the report: healthy or not, bitrate, drops."""
        if self.readings_on_air == 0:
            return "stream health: the stream was never seen on air"
        avg = self.average_kbps or 0.0
        low = self.kbps_min or 0.0
        share = 100 * self.dropped / self.frames if self.frames else 0.0
        numbers = (
            f"{avg:.0f} kbps on average (lowest {low:.0f}), {self.dropped} frames dropped "
            f"({share:.1f}%), {self.skipped} skipped by the encoder"
        )
        if self.healthy:
            return f"stream health: healthy — {numbers}"
        what = ", ".join(f"{k.replace('_', ' ')} ×{n}" for k, n in sorted(self.episodes.items()))
        return f"stream health: NOT healthy ({what}) — {numbers}"


class HealthMonitor:
    """Readings in, a view and notices out; each warning once per episode (pure)."""

    def __init__(self, rules: Health) -> None:
        self.rules = rules
        self.summary = HealthSummary()
        self._window: deque[HealthSample] = deque()
        self._last_growth: float | None = None  # when the stream's bytes last grew
        self._on: dict[str, float | None] = {}  # episode -> since when it looked fine (None: not)

    def observe(self, s: HealthSample) -> tuple[HealthView, list[Notice]]:
        """Take one reading; the view to publish and what to say now."""
        self._remember(s)
        first = self._window[0]
        bitrate = self._bitrate(s)
        dropped, dropped_of = (
            _delta(first.network_skipped, s.network_skipped),
            _delta(first.network_total, s.network_total),
        )
        enc = _delta(first.encoder_skipped, s.encoder_skipped) + _delta(
            first.render_skipped, s.render_skipped
        )
        enc_of = _delta(first.encoder_total, s.encoder_total) + _delta(
            first.render_total, s.render_total
        )
        dropped_pct = _percent(dropped, dropped_of)  # OBS's total counts the dropped ones too
        skipped_pct = _percent(enc, enc_of)
        rate = self._record_rate(s)
        disk_left_min = (
            s.disk_free_mb * 1e6 / rate / 60 if s.disk_free_mb is not None and rate else None
        )
        causes = self._causes(s, bitrate, dropped, dropped_pct, enc, skipped_pct, rate)
        notices = self._episodes(s.t, causes, active=s.active)
        self._count(s, bitrate)
        view = HealthView(
            status="off air" if not s.active else ("warning" if self._on else "ok"),
            active=s.active,
            reconnecting=s.reconnecting,
            congestion=round(s.congestion, 3),
            bitrate_kbps=None if bitrate is None else round(bitrate, 1),
            dropped_frames=dropped,
            dropped_percent=round(dropped_pct, 2),
            skipped_frames=enc,
            skipped_percent=round(skipped_pct, 2),
            render_ms=round(s.render_ms, 2),
            cpu_percent=round(s.cpu_percent, 1),
            disk_free_mb=s.disk_free_mb,
            disk_left_min=None if disk_left_min is None else round(disk_left_min, 1),
            show_left_min=None if s.show_left_s is None else round(s.show_left_s / 60, 1),
            warnings=tuple(sorted(self._on)),
            window_s=self.rules.window_seconds,
        )
        return view, notices

    # ------------------------------------------------------------------ readings

    def _remember(self, s: HealthSample) -> None:
        last = self._window[-1] if self._window else None
        if last is not None and (s.stream_bytes < last.stream_bytes or s.active != last.active):
            # The stream (or OBS) started anew: its counters start from zero again.
            self._window.clear()
            self._last_growth = None
        if s.active and (last is None or not self._window or s.stream_bytes > last.stream_bytes):
            self._last_growth = s.t
        self._window.append(s)
        while len(self._window) > 2 and s.t - self._window[1].t >= self.rules.window_seconds:
            self._window.popleft()

    def _bitrate(self, s: HealthSample) -> float | None:
        """kbps over the last second or so of readings; None off air or with only one reading."""
        if not s.active:
            return None
        older = [x for x in self._window if s.t - x.t >= BITRATE_SPAN_S * 0.75]
        base = older[-1] if older else self._window[0]
        if s.t <= base.t:
            return None
        return max(0, s.stream_bytes - base.stream_bytes) * 8 / 1000 / (s.t - base.t)

    def _record_rate(self, s: HealthSample) -> float:
        """Bytes per real second the recording writes (0 when not recording)."""
        rec = [x for x in self._window if x.record_active]
        if not s.record_active or len(rec) < 2 or rec[-1].t <= rec[0].t:
            return 0.0
        return max(0.0, (rec[-1].record_bytes - rec[0].record_bytes) / (rec[-1].t - rec[0].t))

    # ------------------------------------------------------------------ warnings

    def _causes(
        self,
        s: HealthSample,
        bitrate: float | None,
        dropped: int,
        dropped_pct: float,
        skipped: int,
        skipped_pct: float,
        record_rate: float,
    ) -> dict[str, str]:
        """Each warning whose cause is there now, with the words for the host."""
        r = self.rules
        causes: dict[str, str] = {}
        window = f"{r.window_seconds:g} s"
        if s.active and s.reconnecting:
            causes["reconnecting"] = (
                "OBS lost the stream server and is reconnecting — viewers see nothing: "
                "check the internet connection (router, Wi-Fi, cable); OBS retries by itself"
            )
        elif (
            s.active
            and self._last_growth is not None
            and s.t - self._last_growth >= r.zero_bitrate_seconds
        ):
            causes["zero_bitrate"] = (
                f"the stream sends nothing (0 kbps for {s.t - self._last_growth:.0f} s) "
                "although OBS says it is on air — viewers see a frozen picture: check the "
                "internet connection, then stop and start the stream in OBS"
            )
        if s.active and dropped >= r.min_frames and dropped_pct >= r.dropped_percent:
            causes["dropped_frames"] = (
                f"{dropped} frames dropped on the network in {window} ({dropped_pct:.1f}%) — "
                "the upload cannot carry the bitrate: lower the bitrate in OBS "
                "(Settings > Output) or free the connection (stop uploads, use a cable)"
            )
        if s.active and skipped >= r.min_frames and skipped_pct >= r.skipped_percent:
            causes["skipped_frames"] = (
                f"OBS skipped {skipped} frames encoding or rendering in {window} "
                f"({skipped_pct:.1f}%, {s.render_ms:.0f} ms a frame, CPU {s.cpu_percent:.0f}%) — "
                "the computer is too busy: close other programs, or lower the output "
                "resolution or the encoder preset in OBS"
            )
        if (
            record_rate > 0
            and s.disk_free_mb is not None
            and s.show_left_s is not None
            and s.show_left_s > 0
        ):
            needed_mb = record_rate * s.show_left_s / 1e6 + r.disk_reserve_mb
            if s.disk_free_mb < needed_mb:
                left_min = max(0.0, s.disk_free_mb - r.disk_reserve_mb) * 1e6 / record_rate / 60
                causes["disk"] = (
                    f"the recording disk fills in about {left_min:.0f} min "
                    f"({s.disk_free_mb:.0f} MB free, {record_rate * 8 / 1e6:.1f} Mbit/s), "
                    f"before the show ends in {s.show_left_s / 60:.0f} min: free space on the "
                    "recording disk now (delete or move old recordings)"
                )
        return causes

    def _episodes(self, t: float, causes: dict[str, str], *, active: bool) -> list[Notice]:
        """Start an episode for a new cause; end one whose cause stayed away long enough."""
        notices: list[Notice] = []
        for key, text in causes.items():
            if key not in self._on:
                notices.append(Notice(key, text))
                self.summary.episodes[key] = self.summary.episodes.get(key, 0) + 1
            self._on[key] = None
        for key in [k for k in self._on if k not in causes]:
            if not active and key != "disk":
                # Off air: the stream's own words (stopped, not on air) say the rest.
                del self._on[key]
                continue
            since = self._on[key]
            if since is None:
                self._on[key] = since = t
            if t - since >= self.rules.fine_seconds:
                del self._on[key]
                notices.append(Notice(key, _FINE[key], fine=True))
        return notices

    def _count(self, s: HealthSample, bitrate: float | None) -> None:
        if not s.active or bitrate is None:
            return
        summary = self.summary
        summary.readings_on_air += 1
        summary.kbps_sum += bitrate
        summary.kbps_min = bitrate if summary.kbps_min is None else min(summary.kbps_min, bitrate)
        summary.dropped = max(summary.dropped, s.network_skipped)
        summary.frames = max(summary.frames, s.network_total)
        summary.skipped = max(summary.skipped, s.encoder_skipped)


_FINE = {
    "reconnecting": "the stream is fine again: OBS is connected to the stream server",
    "zero_bitrate": "the stream is fine again: OBS sends data",
    "dropped_frames": "the stream is fine again: no more frames dropped on the network",
    "skipped_frames": "the stream is fine again: OBS keeps up with encoding and rendering",
    "disk": "the recording disk is fine again: enough space until the end of the show",
}


def _delta(old: int, new: int) -> int:
    return max(0, new - old)


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole > 0 else 0.0


# ----------------------------------------------------------------------- attachment


async def read_sample(gateway: OBSGateway, t: float, show_left_s: float | None) -> HealthSample:
    """One reading of OBS (GetStreamStatus, GetStats, GetRecordStatus)."""
    stream = await gateway.stream_status()
    stats = await gateway.stats()
    record = await gateway.record_status()
    return HealthSample(
        t=t,
        active=stream.active,
        reconnecting=stream.reconnecting,
        congestion=stream.congestion,
        stream_bytes=stream.bytes,
        network_skipped=stream.skipped_frames,
        network_total=stream.total_frames,
        encoder_skipped=stats.output_skipped_frames,
        encoder_total=stats.output_total_frames,
        render_skipped=stats.render_skipped_frames,
        render_total=stats.render_total_frames,
        render_ms=stats.average_frame_render_time_ms,
        cpu_percent=stats.cpu_usage,
        disk_free_mb=stats.available_disk_space_mb,
        record_active=record.active,
        record_bytes=record.bytes,
        show_left_s=show_left_s,
    )


class StreamHealth:
    """The thin poller: samples on the show's clock, the monitor's views into the state."""

    def __init__(self, ctx: ShowContext, settings: Health) -> None:
        self.ctx = ctx
        self.settings = settings
        self.monitor = HealthMonitor(settings)

    async def run(self) -> None:
        """Poll until cancelled (the show's end); OBS away just skips readings."""
        speed = self.ctx.speed
        async for now in self.ctx.ticker(self.settings.poll_seconds * speed):
            left = self.ctx.show_left_s()
            try:
                sample = await read_sample(
                    self.ctx.gateway, now / speed, left / speed if left is not None else None
                )
            except OBSError as exc:
                log.debug("stream health: no reading (%s)", exc)
            else:
                self._take(sample)

    def _take(self, sample: HealthSample) -> None:
        view, notices = self.monitor.observe(sample)
        self.ctx.publish(health=view)
        for notice in notices:
            if notice.fine:
                self.ctx.say(notice.text, topic="health")
            else:
                self.ctx.warn(notice.text, problem=False, topic="health")


def stream_health(settings: Health) -> Attachment:
    """An attachment: stream health in the state, warnings as they start and end."""

    @contextlib.asynccontextmanager
    async def attached(ctx: ShowContext) -> AsyncIterator[None]:
        health = StreamHealth(ctx, settings)
        ctx.spawn(health.run(), "stream health")
        yield
        # The poller has stopped with the show: the whole run in one line for the report.
        summary = health.monitor.summary
        ctx.report_health(summary.line())
        if ctx.mode is Mode.REHEARSAL and not summary.healthy:
            # A test stream that was not healthy would not be healthy live either.
            ctx.warn(f"the stream test was not healthy: {summary.line()}")

    return attached


__all__ = [
    "HealthMonitor",
    "HealthSample",
    "HealthSummary",
    "Notice",
    "StreamHealth",
    "read_sample",
    "stream_health",
]
