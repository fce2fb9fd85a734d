"""What each mode does around the timetable: recording, the stream's start, watching it.

A policy is owned by the show session (`ShowSession.use`); the engine calls it at every
slot start and at the end, and the session after OBS came back. Moments of their own
(the stream's start, the recording's) are the engine's marks, so they run in its one
deadline loop, are journaled and show in the state.

- `RehearsalPolicy`: records only with `--record`; never touches the stream (the
  gateway's guard refuses it) except with `--stream-test` (`StreamTest`).
- `LivePolicy`: starts the stream `stream.start_before_standby` before the first slot,
  records from the opening, says loudly when the stream leaves the air without
  showcaller, and stops the stream only at the planned end (`stream.stop_at_end`) or
  when the host ends the show.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Collection
from pathlib import PurePath

from showcaller.config import ResolvedSlot
from showcaller.config.sections import SLOT_KINDS, Record, Rehearsal, Stream
from showcaller.errors import OBSError, OutputRunning, UsageError
from showcaller.obs.events import OutputState, StreamStateChanged
from showcaller.obs.gateway import Capabilities, FeatureOff, OBSGateway, StreamService
from showcaller.show.context import Attachment, ShowContext
from showcaller.show.hostcommands import End
from showcaller.show.journal import Kind
from showcaller.show.outputs import STREAM_START_TIMEOUT_S, output_becomes, stream_becomes
from showcaller.show.state import Mark
from showcaller.show.streamtest import backup_path, points_at, remove_backup, save_backup

log = logging.getLogger(__name__)

# Every kind but the stand-by screen is recorded.
RECORDED_KINDS = frozenset(SLOT_KINDS) - {"standby"}
PER_TALK_KINDS = frozenset({"talk", "lt"})


class Recording:
    """Start with the first recorded slot (a mark), a file or chapter per talk, stop at the end."""

    def __init__(
        self,
        ctx: ShowContext,
        settings: Record,
        *,
        enabled: bool,
        done_before: Collection[str] = (),
    ) -> None:
        self.ctx = ctx
        self.gateway = ctx.gateway
        self.settings = settings
        self.enabled = enabled
        self._warned_split = False
        # "split"/"chapter" that OBS refused for its settings (702, OBS 30): not tried again.
        self._refused: dict[str, FeatureOff] = {}
        self._splits = 0  # files begun by SplitRecordFile in this recording
        self._paused_for: int | None = None  # the do_not_record slot showcaller paused for
        self.mark: Mark | None = None
        if enabled:
            self.mark = self.ctx.add_mark(
                Mark("record_start", "the recording starts", self._start_record),
                done_before=done_before,
            )

    async def _start_record(self) -> list[str]:
        if (await self.gateway.record_status()).active:
            if self.mark is not None:
                self.mark.detail = "OBS was already recording"
            return []
        await self.gateway.start_record()
        self._splits = 0
        self.ctx.record(Kind.RECORD, action="start", at=self.ctx.time.now())
        log.info("recording started")
        return []

    async def at_slot_start(self, slot: ResolvedSlot, *, caught_up: bool) -> list[str]:
        """Start recording from the opening on; split per talk as the config asks; pause for
        a slot that must not be recorded (`do_not_record`) and resume after it."""
        if not self.enabled or slot.kind not in RECORDED_KINDS:
            return []
        if slot.do_not_record:
            return []  # paused before the switch (`before_slot_start`)
        try:
            if self.mark is not None and self.mark.status == "due":
                await self.ctx.fire(self.mark)
                return []
            status = await self.gateway.record_status()
            if not status.active:
                # Stopped since (in OBS, or before a restart of showcaller): record again.
                self._paused_for = None
                # Still starting (OBS reports a starting output as not active yet, and
                # refuses a second start with 500): it records; nothing to do.
                with contextlib.suppress(OutputRunning):
                    await self._start_record()
                return []
            if status.paused and self._paused_for is None:
                # Paused in OBS by the host: it stays so, and OBS 30 neither splits nor
                # marks a paused recording (702).
                return []
            if status.paused:
                await self._resume(slot)
            if slot.kind in PER_TALK_KINDS and not caught_up:
                return await self._per_talk(slot)
        except OBSError as exc:
            return [f"recording at {slot.title!r}: {exc}"]
        return []

    async def at_resume(self, slot: ResolvedSlot) -> list[str]:
        """A restarted showcaller found `slot` on air: a recording that was on (its mark is
        done) and is off now goes on at once, in a new file; not for a slot kept out."""
        if self.mark is None or self.mark.status != "done" or slot.kind not in RECORDED_KINDS:
            return []
        if slot.do_not_record:
            return []
        try:
            if (await self.gateway.record_status()).active:
                return []
            await self.gateway.start_record()
        except OBSError as exc:
            return [f"resumed: could not start the recording again: {exc}"]
        self._splits = 0
        self._paused_for = None
        self.ctx.record(Kind.RECORD, action="start", at=self.ctx.time.now(), resumed=True)
        self.ctx.warn(
            "resumed: the recording was off; it goes on in a new file",
            problem=False,
            topic="record",
        )
        return []

    async def before_slot_start(self, slot: ResolvedSlot) -> list[str]:
        """Before a `do_not_record` slot goes on air: pause the recording (no split, no
        chapter for it); the next slot that may be recorded resumes it.

        Before the recording has started it simply does not start yet: the first slot that
        may be recorded starts it.
        """
        if not self.enabled or not slot.do_not_record or slot.kind not in RECORDED_KINDS:
            return []
        try:
            return await self._keep_out(slot)
        except OBSError as exc:
            return [f"could not pause the recording for {slot.title!r} (do_not_record): {exc}"]

    async def _keep_out(self, slot: ResolvedSlot) -> list[str]:
        if self.mark is not None and self.mark.status == "due":
            self.ctx.record(Kind.RECORD, action="not_recorded", slot=slot.index)
            self.ctx.say(
                f"not recording {slot.title!r} (do_not_record): the recording starts after it",
                topic="record",
            )
            return []
        status = await self.gateway.record_status()
        if not status.active or status.paused:
            if status.active:
                # Paused already (by the host, or by showcaller before a restart): this slot
                # holds the pause now, and the next slot that may be recorded resumes it.
                self._paused_for = slot.index
            self.ctx.record(Kind.RECORD, action="not_recorded", slot=slot.index)
            return []
        await self.gateway.pause_record()
        self._paused_for = slot.index
        self.ctx.record(Kind.RECORD, action="pause", slot=slot.index, reason="do_not_record")
        self.ctx.say(
            f"recording paused: {slot.title!r} must not be recorded (do_not_record)",
            topic="record",
        )
        log.info("recording paused for slot %d (do_not_record)", slot.index + 1)
        return []

    async def _resume(self, slot: ResolvedSlot) -> None:
        await self.gateway.resume_record()
        self.ctx.record(Kind.RECORD, action="resume", slot=slot.index, after=self._paused_for)
        self._paused_for = None
        self.ctx.say(f"recording resumed for {slot.title!r}", topic="record")

    async def _per_talk(self, slot: ResolvedSlot) -> list[str]:
        mode = self.settings.per_talk
        if mode == "off":
            return []
        if mode == "restart":
            path = await self.gateway.stop_record()
            await self.gateway.start_record()
            self.ctx.record(Kind.RECORD, action="restart", slot=slot.index, path=path)
            return []
        caps = await self.gateway.capabilities()
        # "split" falls back to chapters and "chapter" to split files: whichever this OBS
        # offers and its recording settings allow (OBS 30 lists both requests, and answers
        # 702 to those its settings do not allow: e.g. its default Simple output, neither).
        for way in ("chapter", "split") if mode == "chapter" else ("split", "chapter"):
            if way in self._refused or not _offers(caps, way):
                continue
            try:
                if way == "split":
                    await self.gateway.split_record()
                    self._splits += 1
                    self.ctx.record(Kind.RECORD, action="split", slot=slot.index)
                else:
                    await self.gateway.create_chapter(slot.title)
                    self.ctx.record(Kind.RECORD, action="chapter", slot=slot.index, name=slot.title)
            except FeatureOff as exc:
                self._refused[way] = exc
                log.info("OBS refuses to %s the recording: %s", way, exc)
                continue
            return []
        if self._warned_split:
            return []
        self._warned_split = True
        if self._refused:
            refused = "; ".join(str(exc) for exc in self._refused.values())
            return [
                f"OBS refuses to split the recording or add chapters ({refused}): one file "
                f"for the whole show; {FeatureOff.hint}, or set record.per_talk = "
                '"restart" for one file per talk'
            ]
        return [
            "this OBS cannot split recordings or add chapters (obs-websocket < 5.5): "
            'one file for the whole show; set record.per_talk = "restart" for one file per talk'
        ]

    async def stop_recording(self) -> list[str]:
        """Stop the recording if it runs; journaled with the file OBS wrote."""
        if not self.enabled:
            return []
        try:
            if (await self.gateway.record_status()).active:
                path = await self.gateway.stop_record()
                self.ctx.record(Kind.RECORD, action="stop", path=path)
                # OBS finishes the file after answering: "saved" only once it has.
                time = self.ctx.time
                if not await output_becomes(
                    self.gateway.record_status, time.clock, active=False, speed=self.ctx.speed
                ):
                    return [f"the recording did not stop within {STREAM_START_TIMEOUT_S:g} s"]
                # After splits OBS 30 names the first file only (measured on 30.2).
                saved = (
                    f"{self._splits + 1} files in {PurePath(path).parent}, from {path}"
                    if self._splits
                    else path
                )
                self.ctx.say(f"the recording is saved: {saved}")
                log.info("recording saved: %s", saved)
        except OBSError as exc:
            return [f"stopping the recording: {exc}"]
        return []

    async def after_resync(self, gateway: OBSGateway) -> None:
        """Nothing to put back for the recording (OBS starts a new file if it restarted)."""

    def on_stream(self, event: StreamStateChanged) -> None:
        """Rehearsal does not watch the stream."""


def _offers(caps: Capabilities, way: str) -> bool:
    return caps.split_record if way == "split" else caps.chapters


class StreamStart:
    """The `stream_start` mark: start the stream at show second `at`, then check it is on air."""

    def __init__(self, ctx: ShowContext, at: float, *, already_on_air: bool) -> None:
        self.ctx = ctx
        self.gateway = ctx.gateway
        self.at = at
        self.on_air: bool | None = None  # what the check after the start found (None: not yet)
        self.mark = self.ctx.add_mark(
            Mark("stream_start", "the stream starts", self._start, at, again_after_restart=True)
        )
        if already_on_air:
            self.ctx.skip_mark(self.mark, "already on air; showcaller does not touch it")

    async def _start(self) -> list[str]:
        if (await self.gateway.stream_status()).active:
            self.mark.detail = "already on air"
            self.on_air = True
            return []
        await self.gateway.start_stream()
        self.ctx.record(Kind.STREAM, action="start", at=self.ctx.time.now())
        log.info("the stream is starting")
        # OBS answers StartStream at once even when it cannot reach the server; it then
        # gives up by itself (STARTING → STOPPED). Only outputActive says on air.
        self.ctx.spawn(self.confirm(), "stream start check")
        return []

    async def confirm(self) -> None:
        """Check that the stream is on air within 10 s of starting it, and say so."""
        ctx = self.ctx
        try:
            on_air = await stream_becomes(
                self.gateway, ctx.time.clock, active=True, speed=ctx.speed
            )
        except OBSError as exc:
            ctx.warn(f"could not check that the stream is on air: {exc}")
            return
        self.on_air = on_air
        if not on_air:
            ctx.record(Kind.STREAM, action="not_on_air", at=ctx.time.now())
            ctx.warn(
                f"the stream is NOT on air {STREAM_START_TIMEOUT_S:g} s after starting it: "
                "check OBS's Settings > Stream (server and key) and start it in OBS",
                topic="stream",
            )
            return
        ctx.record(Kind.STREAM, action="on_air", at=ctx.time.now())
        ctx.say("the stream is on air", topic="stream")


class RehearsalPolicy(Recording):
    """Rehearsal: recording with --record; the stream only through `StreamTest`."""

    async def at_show_end(self, *, missed: bool, by_host: End | None = None) -> list[str]:
        """Stop the recording."""
        return await self.stop_recording()


def stream_test(rehearsal: Rehearsal, stream: Stream) -> Attachment:
    """An attachment: point OBS's stream at the rehearsal target, start it at its mark.

    On the way out (the show's end, Ctrl-C, a crash of a surface) the stream stops and
    OBS's own stream settings are put back, whatever happened.
    """

    @contextlib.asynccontextmanager
    async def attached(ctx: ShowContext) -> AsyncIterator[None]:
        saved, starter = await _start_test_stream(ctx, rehearsal, stream)
        try:
            yield
        finally:
            await _end_test_stream(ctx, saved, starter)

    return attached


async def _start_test_stream(
    ctx: ShowContext, rehearsal: Rehearsal, stream: Stream
) -> tuple[StreamService, StreamStart]:
    gateway = ctx.gateway
    saved = await gateway.stream_service()
    test_server = rehearsal.stream_test_server
    if points_at(saved, test_server):
        raise UsageError(
            f"OBS already points at the rehearsal target {test_server}: "
            "set OBS's own stream settings back first (Settings > Stream)"
        )
    # Kept before anything changes, so that a SIGKILL mid-test loses nothing (the key is
    # only in the 0600 backup file, never in the journal).
    backup = backup_path(ctx.journal_path)
    save_backup(backup, saved, test_server)
    ctx.record(
        Kind.STREAM,
        action="test_saved",
        service_type=saved.service_type,
        server=str(saved.settings.get("server") or saved.settings.get("service") or ""),
        backup=str(backup),
        key_kept="only in the backup file (mode 0600), never in the journal",
    )
    key = rehearsal.stream_test_key.get_secret_value()
    await gateway.set_stream_service(test_server, key)
    ctx.record(Kind.STREAM, action="test_target", server=test_server)
    at = max(-stream.start_before_standby.total_seconds(), ctx.time.now())
    return saved, StreamStart(ctx, at, already_on_air=False)


async def _end_test_stream(ctx: ShowContext, saved: StreamService, starter: StreamStart) -> None:
    gateway = ctx.gateway
    try:
        active = (await gateway.stream_status()).active
        if starter.mark.status == "done" and starter.on_air is None and not active:
            # The show ended before the check after the start could say.
            ctx.warn(
                "the stream test never went on air: check rehearsal.stream_test_server "
                "and its key (SHOWCALLER_REHEARSAL__STREAM_TEST_KEY)"
            )
        if active:
            await gateway.stop_stream()
            # OBS keeps the old settings until the output has really stopped.
            await stream_becomes(gateway, ctx.time.clock, active=False, speed=ctx.speed)
        await gateway.restore_stream_service(saved)
        remove_backup(backup_path(ctx.journal_path))
        ctx.record(Kind.STREAM, action="restored")
    except OBSError as exc:
        ctx.warn(
            f"could not put OBS's own stream settings back ({exc}): "
            "check Settings > Stream in OBS before going live"
        )


class LivePolicy(Recording):
    """Live: the stream starts at its mark, is watched, and stops only when it should.

    After OBS crashed on air (the link dropped with the stream on air, no STOPPED from
    OBS) and came back inside the show, the stream is started again, once per crash, and
    the recording as a new file (`stream.restart_after_crash`). A stream the host stopped
    in OBS while OBS was up is never started again — by this process, nor by a restarted
    showcaller (`stopped_in_obs` in the journal): both paths behave the same.
    """

    def __init__(
        self,
        ctx: ShowContext,
        record: Record,
        stream: Stream,
        *,
        stream_at: float,
        stream_on_air: bool,
        done_before: Collection[str] = (),
        stopped_in_obs: bool = False,
    ) -> None:
        super().__init__(ctx, record, enabled=record.enabled, done_before=done_before)
        self.stream_settings = stream
        self.stream_at = stream_at
        # A restarted showcaller runs this mark again: the stream it finds off air (and due)
        # is started; one it finds on air is left alone; one the host stopped stays off.
        self.stream = StreamStart(ctx, stream_at, already_on_air=stream_on_air)
        self.stopping = False  # showcaller itself is stopping the stream
        self.on_air = stream_on_air  # the stream is on air as far as OBS last told us
        self.stopped_in_obs = stopped_in_obs  # the host stopped it in OBS: never restarted
        if stopped_in_obs and not stream_on_air:
            self.ctx.skip_mark(
                self.stream.mark, "the host stopped the stream in OBS; showcaller leaves it off"
            )

    def on_stream(self, event: StreamStateChanged) -> None:
        """Say at once when the stream leaves the air without showcaller asking."""
        if event.state in (OutputState.STARTED, OutputState.RECONNECTED):
            self.on_air = True
            self.stopped_in_obs = False
        if event.state is OutputState.STOPPED and not self.stopping:
            # OBS said so over a live link: OBS was up, so the host (or OBS giving up) stopped it.
            if self.on_air:
                self.stopped_in_obs = True
                self.ctx.record(Kind.STREAM, action="stopped_in_obs")
            self.on_air = False
            self.ctx.warn(
                "the stream STOPPED in OBS, and not by showcaller: "
                "start it again in OBS (Controls > Start Streaming)",
                topic="stream",
            )
        elif event.state is OutputState.STOPPED:
            self.on_air = False
        elif event.state is OutputState.RECONNECTING:
            self.ctx.warn(
                "OBS lost the stream server and is reconnecting", problem=False, topic="stream"
            )
        elif event.state is OutputState.RECONNECTED:
            self.ctx.warn(
                "the stream is back on air (OBS reconnected)", problem=False, topic="stream"
            )

    async def at_show_end(self, *, missed: bool, by_host: End | None = None) -> list[str]:
        """Stop the recording; the stream too at the planned end (`stream.stop_at_end`) or when
        the host ends the show (unless `keep_stream`)."""
        if missed:
            # Restarted after the planned end: the host may still be on air; leave OBS alone.
            return [
                "the show's planned end passed while showcaller was not running: "
                "stream and recording are left as they are"
            ]
        warnings = await self.stop_recording()
        stop = not by_host.keep_stream if by_host is not None else self.stream_settings.stop_at_end
        if stop:
            try:
                if (await self.gateway.stream_status()).active:
                    self.stopping = True
                    await self.gateway.stop_stream()
                    self.ctx.record(Kind.STREAM, action="stop", at=self.ctx.time.now())
                    log.info("the stream has stopped")
            except OBSError as exc:
                warnings.append(f"stopping the stream: {exc}")
        return warnings

    async def after_resync(self, gateway: OBSGateway) -> None:
        """After OBS comes back: the stream (and recording) on air again if it crashed on air."""
        ctx = self.ctx
        if ctx.time.now() < self.stream_at or ctx.stopped or self.stopping:
            return
        try:
            if (await gateway.stream_status()).active:
                return
        except OBSError as exc:
            ctx.warn(f"could not check the stream after reconnecting: {exc}")
            return
        if self.stopped_in_obs:
            return  # said when it stopped; the host meant it
        if not self.on_air or not self.stream_settings.restart_after_crash:
            ctx.warn(
                "OBS is back, but the stream is NOT on air: "
                "start it in OBS (Controls > Start Streaming)",
                topic="stream",
            )
            return
        # Crashed on air: no STOPPED came, OBS just went away. Back on air, once per crash.
        self.on_air = False
        try:
            await gateway.start_stream()
        except OBSError as exc:
            ctx.warn(f"OBS is back, but starting the stream again failed: {exc}", topic="stream")
            return
        ctx.record(Kind.STREAM, action="restart_after_crash", at=ctx.time.now())
        ctx.warn(
            "OBS came back after a crash: showcaller STARTED THE STREAM AGAIN "
            "(it was on air before); viewers missed the time OBS was away",
            problem=False,
            topic="stream",
        )
        self.ctx.spawn(self.stream.confirm(), "stream restart check")
        await self._record_again(gateway)

    async def _record_again(self, gateway: OBSGateway) -> None:
        if not self.enabled or (self.mark is not None and self.mark.status != "done"):
            return
        try:
            if (await gateway.record_status()).active:
                return
            await gateway.start_record()
        except OBSError as exc:
            self.ctx.warn(f"OBS is back, but recording again failed: {exc}", topic="record")
            return
        self.ctx.record(Kind.RECORD, action="restart_after_crash", at=self.ctx.time.now())
        self.ctx.warn(
            "OBS came back after a crash: the recording goes on in a new file",
            problem=False,
            topic="record",
        )


__all__ = [
    "PER_TALK_KINDS",
    "RECORDED_KINDS",
    "LivePolicy",
    "Recording",
    "RehearsalPolicy",
    "StreamStart",
    "stream_becomes",
    "stream_test",
]
