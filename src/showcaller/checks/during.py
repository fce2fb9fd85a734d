"""Speaker checks during a show: before it, before each slot, on the host's word, and on air.

`speaker_checks` is a session attachment:
- a mark runs every speaker's check `checks.before` ahead of the first slot in live (at
  once when the show starts later than that, and at the start of a rehearsal);
- `checks.next_speaker_before` ahead of a slot, its speakers are checked again;
- the `checks` command (`c` on the dashboard) checks everyone, or one speaker, now;
- while a slot is on air its speakers are watched: a picture that turns black or
  freezes, or sound silent for `checks.on_air_silence`, is said loudly at once, and
  said again when it is back. A failed check never switches a scene.

Results are the session state's `checks` (the newest per speaker and part). A failure
is a problem of a live show; in a rehearsal it is a warning, so a rehearsal with a
broken speaker still ends green. Checks run as tasks of the session: no cue waits.
Times are real seconds except the on-air thresholds, which are show seconds (a rehearsal
at `--speed 60` notices a dead microphone 60 times sooner), but silence is never called
on less than `MIN_SILENCE_REAL_S` real seconds of meter readings (plus the transition).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from showcaller.checks.hints import hint, what, who
from showcaller.checks.measure import MOVING_SHARE, judge_picture
from showcaller.checks.run import OFF_AIR, SHOT_H, SHOT_W, MeterTap, SpeakerCheck, meter_tap
from showcaller.clock import SystemClock
from showcaller.config import EventConfig
from showcaller.errors import OBSError
from showcaller.obs.images import Image
from showcaller.show.context import Attachment, ShowContext
from showcaller.show.hostcommands import RunChecks
from showcaller.show.journal import Kind
from showcaller.show.state import CheckResult, CommandResult, Mark, Mode
from showcaller.words import plural

log = logging.getLogger(__name__)

# Real seconds a check may take beyond its window (screenshots, a slow OBS answer).
CHECK_MARGIN_S = 1.0
# The on-air watch looks this often (real seconds) at most; faster in a sped-up rehearsal.
WATCH_EVERY_S = 1.0
WATCH_MIN_S = 0.1
# On air, silence is called only after this many real seconds without sound (plus the
# transition), whatever the speed: OBS meters every 50 ms real, so at --speed 600 the
# 20 show seconds of `on_air_silence` would be less than one reading.
MIN_SILENCE_REAL_S = 1.0


@dataclass
class _Watched:
    """What the on-air watch knows of one speaker's feeds."""

    name: str
    since: float  # real monotonic time the slot went on air
    shots: list[tuple[float, Image]] = field(default_factory=list)
    said: set[str] = field(default_factory=set)  # "black", "frozen", "silent" said and not over


class ShowChecks:
    """The speaker checks of one show session."""

    def __init__(self, ctx: ShowContext, cfg: EventConfig, tap: MeterTap) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.tap = tap
        self.clock = tap_clock = SystemClock()
        self.checker = SpeakerCheck(cfg, ctx.gateway, clock=tap_clock, on_result=self._result)
        self.results: dict[tuple[str, str], CheckResult] = {}
        self._running: set[str] = set()
        self._prechecked: set[int] = set()
        self._off_air: set[str] = set()  # speakers a check could not hear or see off air
        self._rechecked: set[tuple[int | None, str]] = set()  # (slot, speaker) checked on air
        self.language = self.cfg.event.language

    # ---------------------------------------------------------------- checks

    def start(self, speaker_ids: list[str] | None, why: str) -> int:
        """Check these speakers (all: None) in a task; how many were started."""
        ids = [t.id for t in self.checker.targets(speaker_ids) if t.id not in self._running]
        if ids:
            self._running.update(ids)
            self.ctx.spawn(self._run(ids, why), f"speaker checks ({why})")
        return len(ids)

    async def _run(self, ids: list[str], why: str) -> None:
        try:
            results = await self.checker.run(ids, tap=self.tap)
        finally:
            self._running.difference_update(ids)
        problem = self.ctx.mode is Mode.LIVE
        bad = [r for r in results if r.verdict in ("fail", "warn")]
        for r in bad:
            value = f" ({r.value})" if r.value else ""
            self.ctx.warn(
                f"check {r.name}: {r.part} {r.verdict}{value} — {r.hint}",
                problem=problem and r.verdict == "fail",
                topic="check",
            )
        state = self.ctx.state.show
        on_air = state.on_air.index if state.on_air is not None else None
        on_air_ids = (
            {sp.id for sp in self.ctx.plan.slots[on_air].speakers} if on_air is not None else set()
        )
        again: set[str] = set()
        for r in results:
            if r.value != OFF_AIR:
                continue
            self.ctx.say(f"check {r.name}: {r.part} not checked — {r.hint}", topic="check")
            # A check that began before the slot went on air is run again (once a slot);
            # the others wait for their slot (`watch_on_air`).
            if r.speaker in on_air_ids and (on_air, r.speaker) not in self._rechecked:
                self._rechecked.add((on_air, r.speaker))
                again.add(r.speaker)
            else:
                self._off_air.add(r.speaker)
        if again:
            self.start(sorted(again), "on air")
        passed = sum(1 for r in results if r.verdict == "pass")
        self.ctx.say(f"speaker checks {why}: {passed} passed, {len(bad)} to look at", topic="check")

    def _result(self, result: CheckResult) -> None:
        self.results[(result.speaker, result.part)] = result
        if result.verdict in ("pass", "warn", "fail"):
            # Journaled, so the report shows every check from the journal alone.
            self.ctx.record(
                Kind.CHECK,
                speaker=result.speaker,
                name=result.name,
                part=result.part,
                verdict=result.verdict,
                value=result.value,
                hint=result.hint,
            )
        self.ctx.publish(checks=tuple(self.results.values()))

    async def command(self, command: RunChecks) -> CommandResult:
        """The `checks` command."""
        if command.speaker is not None and command.speaker not in {s.id for s in self.cfg.speakers}:
            return CommandResult(False, f"checks: no speaker has the id {command.speaker!r}")
        ids = None if command.speaker is None else [command.speaker]
        n = self.start(ids, "on the host's word")
        if n == 0:
            return CommandResult(True, "checks: already running")
        return CommandResult(True, f"checks: checking {plural(n, 'speaker')}")

    async def before_show(self) -> list[str]:
        """The mark's action: everyone, in a task (the mark returns at once)."""
        self.start(None, "before the show")
        return []

    def looks_ahead_s(self) -> float:
        """How far ahead (show seconds) a slot's new speakers are checked: the configured
        `checks.next_speaker_before`, or more in a sped-up rehearsal, so that the check's
        window (real seconds) ends before the slot starts: at x120 a 5 s window is ten
        show minutes, and a result that came after its slot began would say nothing true."""
        window = self.cfg.checks.window_seconds + CHECK_MARGIN_S
        return max(self.cfg.checks.next_speaker_before.total_seconds(), window * self.ctx.speed)

    async def follow_next_speakers(self) -> None:
        """Check each upcoming slot's new speakers `looks_ahead_s()` before its expected start."""
        ahead = self.looks_ahead_s()
        async for state in self.ctx.feed():
            show = state.show
            if show.on_air is None:
                continue
            now = datetime.fromisoformat(show.now)
            # Speakers on air now are watched already (a talk's speaker in its Q&A).
            on_air_now = {sp.id for sp in self.ctx.plan.slots[show.on_air.index].speakers}
            for view in show.slots:
                if view.state != "upcoming" or view.index in self._prechecked:
                    continue
                starts = datetime.fromisoformat(view.expected_start or view.planned_start)
                if (starts - now).total_seconds() > ahead:
                    break  # later slots start later still
                self._prechecked.add(view.index)
                slot = self.ctx.plan.slots[view.index]
                ids = [sp.id for sp in slot.speakers if sp.id not in on_air_now]
                if ids:
                    self.start(ids, f"before {slot.title!r}")

    # ---------------------------------------------------------------- on air

    async def watch_on_air(self) -> None:
        """Watch the speakers of the slot on air, until the show ends."""
        settings = self.cfg.checks
        speed = self.ctx.speed
        every = max(WATCH_MIN_S, min(WATCH_EVERY_S, settings.on_air_silence / speed / 4))
        watched: dict[str, _Watched] = {}
        slot: int | None = None
        while True:
            state = self.ctx.state.show
            on_air = state.on_air.index if state.on_air is not None and not state.trouble else None
            now = self.clock.monotonic()
            if on_air != slot:
                slot = on_air
                # A speaker who stays on air (talk, then Q&A) keeps what was said of them.
                speakers = self.ctx.plan.slots[on_air].speakers if on_air is not None else []
                watched = {sp.id: watched.get(sp.id) or _Watched(sp.name, now) for sp in speakers}
                # Those a check could not hear or see off air are checked now they are on.
                pending = [sp.id for sp in speakers if sp.id in self._off_air]
                self._off_air.difference_update(pending)
                self._rechecked.update((on_air, sp_id) for sp_id in pending)
                if pending:
                    self.start(pending, "on air")
            for sp_id, w in watched.items():
                speaker = self.cfg.speaker(sp_id)
                if speaker.audio_input:
                    self._watch_sound(w, speaker.audio_input, now, speed)
                if speaker.video_input:
                    await self._watch_picture(w, speaker.video_input, now, speed)
            await self.clock.sleep_until(self.clock.monotonic() + every)

    def _watch_sound(self, w: _Watched, name: str, now: float, speed: float) -> None:
        settings = self.cfg.checks
        last = self.tap.last_sound(name, settings.silence_db)
        since = max(last if last is not None else -math.inf, w.since)
        silent_real = now - since
        # Since the slot went on air: its sound comes up only once the transition ends.
        fading = self.cfg.obs.transition_ms / 1000 if since == w.since else 0.0
        enough = silent_real >= MIN_SILENCE_REAL_S + fading
        if enough and silent_real * speed >= settings.on_air_silence:
            if "silent" not in w.said:
                w.said.add("silent")
                self._alarm("on_air_silent", w, input=name, seconds=f"{settings.on_air_silence:g}")
        elif "silent" in w.said:
            w.said.discard("silent")
            self._back(w, "sound")

    async def _watch_picture(self, w: _Watched, name: str, now: float, speed: float) -> None:
        settings = self.cfg.checks
        try:
            shot = await self.ctx.gateway.screenshot(name, SHOT_W, SHOT_H)
        except OBSError as exc:
            log.debug("on-air screenshot of %s: %s", name, exc)
            return
        window = settings.frozen_seconds / speed
        w.shots.append((now, shot))
        while len(w.shots) > 2 and now - w.shots[1][0] >= window:
            w.shots.pop(0)
        verdict = judge_picture([s for _, s in w.shots], settings.black_threshold)
        if verdict.black:
            if "black" not in w.said:
                w.said.add("black")
                self._alarm("on_air_black", w, input=name)
            return
        if "black" in w.said:
            w.said.discard("black")
            self._back(w, "picture")
        spans = now - w.shots[0][0] >= window and len(w.shots) > 1
        if spans and verdict.moved < MOVING_SHARE:
            if "frozen" not in w.said:
                w.said.add("frozen")
                seconds = f"{settings.frozen_seconds:g}"
                self._alarm("on_air_frozen", w, input=name, seconds=seconds)
        elif verdict.moved >= MOVING_SHARE and "frozen" in w.said:
            w.said.discard("frozen")
            self._back(w, "picture")

    def _alarm(self, key: str, w: _Watched, **values: object) -> None:
        text = hint(key, self.language, who=who(w.name, self.language), **values)
        # Loud in both modes; a problem of the show only when it is live.
        self.ctx.warn(text, problem=self.ctx.mode is Mode.LIVE, topic="check")

    def _back(self, w: _Watched, part: str) -> None:
        lang = self.language
        self.ctx.say(
            hint("on_air_back", lang, who=who(w.name, lang), what=what(part, lang)), topic="check"
        )


def speaker_checks(cfg: EventConfig) -> Attachment:
    """The attachment: marks, the `checks` command, the next speakers and the on-air watch."""

    @contextlib.asynccontextmanager
    async def attached(ctx: ShowContext) -> AsyncIterator[None]:
        async with meter_tap(ctx.gateway, SystemClock()) as tap:
            checks = ShowChecks(ctx, cfg, tap)
            undo = ctx.handle(RunChecks, checks.command)
            if ctx.mode is Mode.LIVE:
                at = max(-cfg.checks.before.total_seconds(), ctx.time.now())
            else:
                at = ctx.time.now()
            ctx.add_mark(Mark("speaker_checks", "every speaker is checked", checks.before_show, at))
            ctx.spawn(checks.follow_next_speakers(), "next speakers' checks")
            if cfg.checks.on_air:
                ctx.spawn(checks.watch_on_air(), "on-air watch")
            try:
                yield
            finally:
                undo()

    return attached


__all__ = ["ShowChecks", "speaker_checks"]
