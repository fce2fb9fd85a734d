"""Check speakers' feeds through the OBS gateway: picture, sound and slide link.

Every speaker is checked at once, each part (video, audio, slides) concurrently. Sound
is read from InputVolumeMeters through one shared `MeterTap` (the gateway counts who
listens, so a check never turns the high-volume subscription off under another one).
Time is real time on the injected clock: pictures and sound arrive in real seconds.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import aiohttp

from showcaller.checks.hints import Language, hint, who
from showcaller.checks.measure import MOVING_SHARE, dbfs, judge_picture, judge_sound
from showcaller.clock import Clock, SystemClock
from showcaller.config import EventConfig, Speaker
from showcaller.config.sections import Checks
from showcaller.errors import OBSError, ResourceNotFound, UnknownRequest
from showcaller.obs.events import InputVolumeMeters
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.images import Image
from showcaller.show.state import CheckResult, Part, Verdict
from showcaller.words import failure

log = logging.getLogger(__name__)

# How often a video check takes a screenshot, and how big (small: cheap for OBS and us).
SCREENSHOT_EVERY_S = 0.5
SHOT_W, SHOT_H = 64, 36
# Meter readings kept per input (InputVolumeMeters comes every 50 ms: about 30 s).
METER_HISTORY = 600
# Meter events further apart than this are a new start (see `MeterTap.on_meters`).
METER_GAP_S = 0.5
# A linear peak above this (+6 dBFS) is not a reading.
MAX_PEAK = 2.0
# Inputs that draw nothing while no scene on program shows them (real OBS 29, measured:
# an ffmpeg_source reads OBS_MEDIA_STATE_NONE and its screenshot is all black until its
# scene goes on program, which restarts it); a browser source too when `shutdown` is set.
_DARK_OFF_AIR = frozenset({"ffmpeg_source", "vlc_source"})
# The value of a part that could not be measured because its input is not on air.
OFF_AIR = "not on air"

OnResult = Callable[[CheckResult], None]


class MeterTap:
    """The peak (dBFS) of every input's meter readings, kept for a while, from one listener."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._peaks: dict[str, deque[tuple[float, float]]] = {}
        self._last_event: float | None = None
        self.readings = 0

    def on_meters(self, event: InputVolumeMeters) -> None:
        """The gateway's listener: note each input's loudest channel.

        Real OBS 29's first meter event after it starts sending (a subscription, a
        reconnect) can hold stale or uninitialised peaks (measured: -15 dBFS on a silent
        WAV, and +540 dBFS), so the first event after a gap is dropped, and so is any
        peak above +6 dBFS, which no input can reach.
        """
        now = self._clock.monotonic()
        gap = now - self._last_event if self._last_event is not None else math.inf
        self._last_event = now
        if gap > METER_GAP_S:
            return
        self.readings += 1
        for levels in event.inputs:
            peak = max((c.peak for c in levels.channels if c.peak <= MAX_PEAK), default=0.0)
            history = self._peaks.setdefault(levels.name, deque(maxlen=METER_HISTORY))
            history.append((now, dbfs(peak)))

    def since(self, name: str, start: float) -> list[float]:
        """The peaks of `name` read at or after monotonic time `start`."""
        return [p for t, p in self._peaks.get(name, ()) if t >= start]

    def last_sound(self, name: str, silence_db: float) -> float | None:
        """The monotonic time of the last reading of `name` above the silence level."""
        for t, p in reversed(self._peaks.get(name, ())):
            if p > silence_db:
                return t
        return None


@asynccontextmanager
async def meter_tap(gateway: OBSGateway, clock: Clock) -> AsyncIterator[MeterTap]:
    """A `MeterTap` listening while the block runs (the subscription is the gateway's)."""
    tap = MeterTap(clock)
    unsubscribe = await gateway.on(tap.on_meters, InputVolumeMeters)
    try:
        yield tap
    finally:
        try:
            await unsubscribe()
        except OBSError as exc:  # OBS went away: nothing left to turn off
            log.debug("meter unsubscribe: %s", exc)


@dataclass(frozen=True)
class SpeakerTarget:
    """One speaker to check: their inputs and slide link."""

    id: str
    name: str
    video_input: str | None
    audio_input: str | None
    slides: str

    @classmethod
    def of(cls, speaker: Speaker) -> SpeakerTarget:
        """The target for a config speaker."""
        return cls(
            speaker.id, speaker.name, speaker.video_input, speaker.audio_input, speaker.slides
        )


class SpeakerCheck:
    """Checks speakers' feeds; results go to `on_result` as they come (`checking` first)."""

    def __init__(
        self,
        cfg: EventConfig,
        gateway: OBSGateway,
        *,
        clock: Clock | None = None,
        on_result: OnResult | None = None,
        slides: bool | None = None,
    ) -> None:
        self.cfg = cfg
        self.settings: Checks = cfg.checks
        self.gateway = gateway
        self.clock = clock or SystemClock()
        self.language: Language = cfg.event.language
        self.on_result = on_result
        self.slides = self.settings.slides if slides is None else slides

    def targets(self, speaker_ids: Sequence[str] | None = None) -> list[SpeakerTarget]:
        """The speakers to check (all, or those named)."""
        speakers = [s for s in self.cfg.speakers if speaker_ids is None or s.id in speaker_ids]
        return [SpeakerTarget.of(s) for s in speakers]

    async def run(
        self, speaker_ids: Sequence[str] | None = None, *, tap: MeterTap | None = None
    ) -> list[CheckResult]:
        """Check the speakers (all, or those named) at once; one result per part."""
        targets = self.targets(speaker_ids)
        if tap is None:
            async with meter_tap(self.gateway, self.clock) as own:
                return await self._run(targets, own)
        return await self._run(targets, tap)

    async def _run(self, targets: Sequence[SpeakerTarget], tap: MeterTap) -> list[CheckResult]:
        jobs = []
        async with aiohttp.ClientSession() as http:
            for t in targets:
                if not (t.video_input or t.audio_input):
                    unchecked = self._result(t, "video", "not checked", "", "no_inputs")
                    jobs.append(self._done(unchecked))
                    continue
                if t.video_input:
                    jobs.append(self._video(t, t.video_input))
                if t.audio_input:
                    jobs.append(self._audio(t, t.audio_input, tap))
                if self.slides and t.slides:
                    jobs.append(self._slides(t, http))
            results = await asyncio.gather(*jobs)
        return list(results)

    # ------------------------------------------------------------------ parts

    def _result(
        self,
        target: SpeakerTarget,
        part: Part,
        verdict: Verdict,
        value: str,
        key: str | None = None,
        **values: object,
    ) -> CheckResult:
        text = ""
        if key is not None:
            text = hint(key, self.language, who=who(target.name, self.language), **values)
        return CheckResult(
            speaker=target.id,
            name=target.name,
            part=part,
            verdict=verdict,
            value=value,
            hint=text,
            at=self._now(),
        )

    def _now(self) -> str:
        now: datetime = self.clock.now()
        return now.astimezone(self.cfg.tz).isoformat()

    async def _done(self, result: CheckResult) -> CheckResult:
        self._tell(result)
        return result

    def _tell(self, result: CheckResult) -> None:
        if self.on_result is not None:
            self.on_result(result)

    async def _video(self, t: SpeakerTarget, name: str) -> CheckResult:
        self._tell(self._result(t, "video", "checking", ""))
        return await self._done(await self._judge_video(t, name))

    async def _judge_video(self, t: SpeakerTarget, name: str) -> CheckResult:
        shots: list[Image] = []
        deadline = self.clock.monotonic() + self.settings.frozen_seconds
        try:
            # A source in no scene on program or preview may not render at all (a browser
            # source that shuts down when hidden): said beside a black picture.
            active, showing = await self.gateway.source_active(name)
            while True:
                shots.append(await self.gateway.screenshot(name, SHOT_W, SHOT_H))
                verdict = judge_picture(shots, self.settings.black_threshold)
                if verdict.black:
                    if not active and await self._dark_off_air(name):
                        return self._result(t, "video", "not checked", OFF_AIR, "off_air_video")
                    value = _luma(verdict.luma) + ("" if showing else ", not on program or preview")
                    return self._result(t, "video", "fail", value, "black")
                if len(shots) > 1 and verdict.moved >= MOVING_SHARE:
                    return self._result(t, "video", "pass", _luma(verdict.luma))
                if self.clock.monotonic() >= deadline:
                    break
                await self.clock.sleep_until(
                    min(deadline, self.clock.monotonic() + SCREENSHOT_EVERY_S)
                )
        except ResourceNotFound:
            return self._no_input(t, "video", name, "video_input")
        except OBSError as exc:
            return self._result(t, "video", "fail", "", "not_found", input=name, error=exc)
        seconds = f"{self.settings.frozen_seconds:g}"
        return self._result(
            t, "video", "fail", f"unchanged for {seconds} s", "frozen", seconds=seconds
        )

    async def _dark_off_air(self, name: str) -> bool:
        """Whether `name` is of a kind that draws nothing until a scene on program shows it."""
        kind = next((i.kind for i in await self.gateway.inputs() if i.name == name), None)
        if kind in _DARK_OFF_AIR:
            return True
        if kind == "browser_source":
            return bool((await self.gateway.input_settings(name)).get("shutdown"))
        return False

    def _no_input(self, t: SpeakerTarget, part: Part, name: str, field: str) -> CheckResult:
        return self._result(t, part, "fail", "no such input", "no_input", input=name, field=field)

    async def _audio(self, t: SpeakerTarget, name: str, tap: MeterTap) -> CheckResult:
        self._tell(self._result(t, "audio", "checking", ""))
        return await self._done(await self._judge_audio(t, name, tap))

    async def _judge_audio(self, t: SpeakerTarget, name: str, tap: MeterTap) -> CheckResult:
        start = self.clock.monotonic()
        try:
            if await self.gateway.muted(name):
                return self._result(t, "audio", "fail", "muted in OBS", "muted", input=name)
            try:
                volume = await self.gateway.volume_db(name)
            except UnknownRequest:
                volume = 0.0  # an OBS without GetInputVolume: the meters still tell
            if volume == -math.inf:
                return self._result(t, "audio", "fail", "fader -inf dB", "fader_down", input=name)
            active_at_start, _ = await self.gateway.source_active(name)
        except ResourceNotFound:
            return self._no_input(t, "audio", name, "audio_input")
        except OBSError as exc:
            return self._result(t, "audio", "fail", str(exc), "not_found", input=name, error=exc)
        await self.clock.sleep_until(start + self.settings.window_seconds)
        sound = judge_sound(
            tap.since(name, start), self.settings.silence_db, self.settings.clipping_db
        )
        value = f"peak {_db(sound.peak_db)}"
        if not sound.sound:
            # OBS meters an input only while a scene on program shows it (obs-websocket
            # attaches its meter on activation): off air, no reading is not silence. Nor is
            # a window that a cue cut short. Only a whole window on air can say "silent".
            try:
                active_at_end, _ = await self.gateway.source_active(name)
            except OBSError as exc:
                value = str(exc)
                return self._result(t, "audio", "fail", value, "not_found", input=name, error=exc)
            if not (active_at_start and active_at_end):
                return self._result(t, "audio", "not checked", OFF_AIR, "off_air_audio")
            if sound.readings == 0:
                return self._result(t, "audio", "not checked", "no meter readings", "no_meters")
            seconds = f"{self.settings.window_seconds:g}"
            return self._result(t, "audio", "fail", value, "silent", seconds=seconds)
        if sound.clipping:
            value += f", clipping {sound.clipping_share:.0%} of the time"
            return self._result(t, "audio", "warn", value, "clipping")
        return self._result(t, "audio", "pass", value)

    async def _slides(self, t: SpeakerTarget, http: aiohttp.ClientSession) -> CheckResult:
        self._tell(self._result(t, "slides", "checking", ""))
        timeout = aiohttp.ClientTimeout(total=self.settings.slides_timeout)
        try:
            async with http.head(t.slides, allow_redirects=True, timeout=timeout) as response:
                status = response.status
            if status in (403, 405, 501):  # some hosts refuse HEAD but serve the page
                async with http.get(t.slides, allow_redirects=True, timeout=timeout) as response:
                    status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            reason = failure(exc, self.language)
            return await self._done(
                self._result(t, "slides", "warn", reason, "slides_down", status=reason)
            )
        if status >= 400:
            return await self._done(
                self._result(
                    t, "slides", "warn", f"HTTP {status}", "slides_down", status=f"HTTP {status}"
                )
            )
        return await self._done(self._result(t, "slides", "pass", f"HTTP {status}"))


def _luma(value: float) -> str:
    return f"luma {round(value)}/255"


def _db(value: float) -> str:
    return "-inf dBFS" if value == -math.inf else f"{value:.0f} dBFS"


def summary(results: Sequence[CheckResult]) -> tuple[int, int, int]:
    """(failed, warned, passed) parts."""
    return (
        sum(1 for r in results if r.verdict == "fail"),
        sum(1 for r in results if r.verdict == "warn"),
        sum(1 for r in results if r.verdict == "pass"),
    )


__all__ = ["OFF_AIR", "MeterTap", "SpeakerCheck", "SpeakerTarget", "meter_tap", "summary"]
