"""Rehearsal and live: what each mode does around the show engine.

Both modes run the same `Show`; they differ in the clock (scaled vs real), in the
guard (rehearsal can never start or stop the stream) and in the actions around
the timetable (live starts the stream before the first slot and records from the
opening; rehearsal may record to prove it works).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from showcaller.clock import Clock, ScaledClock, SystemClock
from showcaller.config import OBS, EventConfig, ResolvedSlot
from showcaller.engine import Mode, Show, ShowReport, planned_slots
from showcaller.errors import OBSError, UsageError
from showcaller.journal import Journal, claim, last_state, set_aside
from showcaller.obs.connect import OBSConnection, ObsSeed, open_obs
from showcaller.obs.gateway import Guard, OBSGateway, StreamService, rehearsal_guard
from showcaller.obs.protocol import Event
from showcaller.showtime import ShowTime
from showcaller.timetable import Next, Timetable, plan_hash

log = logging.getLogger(__name__)

# Rehearsal starts this many real seconds before the first slot, so the first cue is
# timed (and lead-compensated) like every other one.
REHEARSAL_LEAD_IN_S = 1.0
RECORDED_KINDS = frozenset({"opening", "talk", "lt", "qa", "break", "closing"})
PER_TALK_KINDS = frozenset({"talk", "lt"})


def find_slot(cfg: EventConfig, spec: str | None) -> int:
    """The slot index `--from` names: a 1-based number or a piece of the title."""
    if spec is None:
        return 0
    slots = cfg.slots_resolved()
    if spec.isdigit():
        n = int(spec)
        if 1 <= n <= len(slots):
            return n - 1
        raise UsageError(f"--from {spec}: there are slots 1 to {len(slots)}")
    matches = [s.index for s in slots if spec.casefold() in s.title.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(
            f"--from {spec!r}: no slot title contains this",
            hint="give the slot's number (see `showcaller validate`)",
        )
    raise UsageError(f"--from {spec!r}: {len(matches)} slots match; give the slot's number")


async def preflight(cfg: EventConfig, gateway: OBSGateway) -> list[str]:
    """Problems OBS would cause during the show: missing scenes and inputs."""
    problems: list[str] = []
    scenes = set(await gateway.scene_names())
    inputs = {i.name for i in await gateway.inputs()}
    for slot in cfg.slots_resolved():
        if slot.scene not in scenes:
            problems.append(
                f"slot {slot.index + 1} {slot.title!r}: OBS has no scene {slot.scene!r}"
            )
    lt = cfg.lower_third
    for what, name in (
        ("lower_third.speaker_input", lt.speaker_input),
        ("lower_third.title_input", lt.title_input),
        ("lower_third.hashtag_input", lt.hashtag_input),
    ):
        if name and name not in inputs:
            problems.append(f"{what}: OBS has no input {name!r}")
    for sp in cfg.speakers:
        for what, name in (("video_input", sp.video_input), ("audio_input", sp.audio_input)):
            if name and name not in inputs:
                problems.append(f"speaker {sp.id}: {what}: OBS has no input {name!r}")
    return problems


async def stream_preflight(gateway: OBSGateway) -> list[str]:
    """What would keep the stream off the air, found before it starts (the key is never shown).

    A fresh OBS streams nowhere (rtmp_common with nothing set); OBS answers StartStream
    anyway and gives up by itself, which the host would only learn at the stream's start.
    """
    try:
        service = await gateway.stream_service()
    except OBSError as exc:
        return [f"could not read OBS's stream settings: {exc}"]
    settings = service.settings
    where = "set it in OBS: Settings > Stream"
    if service.service_type == "rtmp_custom" and not str(settings.get("server") or "").strip():
        return [f"OBS has no stream server: the stream cannot go on air ({where})"]
    if service.service_type == "rtmp_common":
        name = str(settings.get("service") or "").strip()
        if not name:
            return [f"OBS has no streaming service chosen: the stream cannot go on air ({where})"]
        if not str(settings.get("key") or "").strip():
            return [f"OBS has no stream key for {name}: the stream cannot go on air ({where})"]
    return []


# OBS names its built-in transitions in its UI language ("フェード" on an OBS in Japanese):
# the config's "Cut" and "Fade" also find them by kind.
BUILTIN_TRANSITIONS = {"cut": "cut_transition", "fade": "fade_transition"}


@dataclass(frozen=True)
class TransitionSet:
    """What `set_transition` did: the kind OBS now uses (None if unknown), and what to say."""

    kind: str | None
    problems: list[str]
    notes: list[str]


async def set_transition(cfg: EventConfig, gateway: OBSGateway) -> TransitionSet:
    """Make the config's transition (and duration) OBS's current one; never raises for OBS."""
    wanted = cfg.obs.transition
    notes: list[str] = []
    try:
        available = await gateway.transitions()
        match = next((t for t in available if t.name == wanted), None)
        if match is None:
            kind = BUILTIN_TRANSITIONS.get(wanted.casefold())
            match = next((t for t in available if kind and t.kind == kind), None)
            if match is None:
                names = ", ".join(repr(t.name) for t in available) or "none"
                return TransitionSet(
                    None,
                    [f"obs.transition {wanted!r}: OBS has no such transition (it has {names})"],
                    [],
                )
            notes.append(f"obs.transition {wanted!r}: using OBS's {match.name!r} ({match.kind})")
        await gateway.set_transition(match.name, cfg.obs.transition_ms)
    except OBSError as exc:
        return TransitionSet(None, [f"obs.transition {wanted!r}: {exc}"], [])
    return TransitionSet(match.kind, [], notes)


class Recording:
    """Recording policy: start at the opening, one file (or chapter) per talk, stop at the end."""

    def __init__(self, cfg: EventConfig, gateway: OBSGateway, *, enabled: bool) -> None:
        self.cfg = cfg
        self.gateway = gateway
        self.enabled = enabled
        self._warned_split = False

    async def at_slot_start(self, slot: ResolvedSlot, *, caught_up: bool) -> list[str]:
        """Start recording from the opening on; split per talk as the config asks."""
        if not self.enabled or slot.kind not in RECORDED_KINDS:
            return []
        try:
            status = await self.gateway.record_status()
            if not status.active:
                await self.gateway.start_record()
                log.info("recording started at %r", slot.title)
                return []
            if slot.kind in PER_TALK_KINDS and not caught_up:
                return await self._per_talk(slot)
        except OBSError as exc:
            return [f"recording at {slot.title!r}: {exc}"]
        return []

    async def _per_talk(self, slot: ResolvedSlot) -> list[str]:
        mode = self.cfg.record.per_talk
        if mode == "off":
            return []
        caps = await self.gateway.capabilities()
        if mode == "restart":
            await self.gateway.stop_record()
            await self.gateway.start_record()
            return []
        if mode == "chapter" and caps.chapters:
            await self.gateway.create_chapter(slot.title)
            return []
        if caps.split_record:
            await self.gateway.split_record()
            return []
        if caps.chapters:
            await self.gateway.create_chapter(slot.title)
            return []
        if self._warned_split:
            return []
        self._warned_split = True
        return [
            "this OBS cannot split recordings or add chapters (obs-websocket < 5.5): "
            'one file for the whole show; set record.per_talk = "restart" for one file per talk'
        ]

    async def at_show_end(self, *, missed: bool) -> list[str]:
        """Stop the recording when the show ends."""
        if not self.enabled:
            return []
        try:
            if (await self.gateway.record_status()).active:
                path = await self.gateway.stop_record()
                log.info("recording saved: %s", path)
        except OBSError as exc:
            return [f"stopping the recording: {exc}"]
        return []


class StreamWatch:
    """Live: tells the host at once when the stream leaves the air without showcaller asking."""

    def __init__(self, show: Show) -> None:
        self.show = show
        self.stopping = False  # showcaller itself is stopping the stream

    def on_event(self, event: Event) -> None:
        """StreamStateChanged listener."""
        state = event.event_data.get("outputState")
        if state == "OBS_WEBSOCKET_OUTPUT_STOPPED" and not self.stopping:
            self.show.warn(
                "the stream STOPPED in OBS, and not by showcaller: "
                "start it again in OBS (Controls > Start Streaming)"
            )
        elif state == "OBS_WEBSOCKET_OUTPUT_RECONNECTING":
            self.show.warn("OBS lost the stream server and is reconnecting", problem=False)
        elif state == "OBS_WEBSOCKET_OUTPUT_RECONNECTED":
            self.show.warn("the stream is back on air (OBS reconnected)", problem=False)


class LiveActions(Recording):
    """Live: recording as configured, and the stream stopped at the end when the config says so."""

    watch: StreamWatch | None = None

    async def at_show_end(self, *, missed: bool) -> list[str]:
        """Stop the recording, then the stream if `stream.stop_at_end` and the end is now."""
        if missed:
            # Restarted after the planned end: the host may still be on air; leave OBS alone.
            return [
                "the show's planned end passed while showcaller was not running: "
                "stream and recording are left as they are"
            ]
        warnings = await super().at_show_end(missed=missed)
        if self.cfg.stream.stop_at_end:
            try:
                if (await self.gateway.stream_status()).active:
                    if self.watch is not None:
                        self.watch.stopping = True
                    await self.gateway.stop_stream()
                    log.info("the stream has stopped (stream.stop_at_end)")
            except OBSError as exc:
                warnings.append(f"stopping the stream: {exc}")
        return warnings


@dataclass(frozen=True)
class RehearsalOptions:
    """What `showcaller rehearse` was asked to do."""

    obs: OBS
    speed: float
    from_slot: int = 0
    journal: Path | None = None
    record: bool = False
    lead: bool = True
    stream_test: bool = False


def default_journal(cfg: EventConfig, mode: Mode) -> Path:
    """`<event file stem>.<mode>.jsonl` beside the event file (or in the working folder)."""
    source = cfg.config_source
    stem = source.stem if source else "show"
    folder = source.parent if source else Path()
    return folder / f"{stem}.{mode.value}.jsonl"


def _initial_lead(cfg: EventConfig, transition: TransitionSet) -> float:
    # Until OBS has landed a switch: one frame at 30 fps for a cut, the fade itself otherwise.
    frame = 1 / 30
    kind = transition.kind or BUILTIN_TRANSITIONS.get(cfg.obs.transition.casefold())
    if kind == "cut_transition":
        return frame
    return frame + cfg.obs.transition_ms / 1000


async def rehearse(
    cfg: EventConfig,
    options: RehearsalOptions,
    *,
    on_show: Callable[[Show], None] | None = None,
) -> ShowReport:
    """Run the whole timetable now, sped up, against OBS; never touches the real stream.

    With `stream_test`, streams to the config's private rehearsal target only, and puts
    OBS's own stream settings back afterwards, whatever happens.
    """
    resolved, planned = planned_slots(cfg)
    journal_path = options.journal or default_journal(cfg, Mode.REHEARSAL)
    test_server = cfg.rehearsal.stream_test_server
    if options.stream_test and not test_server:
        raise UsageError(
            "--stream-test needs a private stream target: rehearsal.stream_test_server is empty",
            hint="set it in the event file (the key in SHOWCALLER_REHEARSAL__STREAM_TEST_KEY)",
        )
    guard = rehearsal_guard(allow_stream=options.stream_test)
    async with _claim_and_open(journal_path, options.obs, cfg, guard=guard) as conn:
        link, gateway = conn.link, conn.gateway
        if (await gateway.stream_status()).active:
            raise UsageError(
                "OBS is streaming right now: a rehearsal would switch scenes on air",
                hint="stop the stream in OBS, or rehearse on another OBS (--obs sim)",
            )
        problems = await preflight(cfg, gateway)
        transition = await set_transition(cfg, gateway)
        lead_in = timedelta(seconds=REHEARSAL_LEAD_IN_S * options.speed)
        start = resolved[options.from_slot].start - lead_in
        clock = ScaledClock(options.speed, start)
        showtime = ShowTime(clock, resolved[0].start)
        timetable = Timetable.new(planned, from_slot=options.from_slot)
        # A rehearsal always starts from the top: its journal is written anew.
        with Journal(journal_path, clock, plan_hash(planned), fresh=True) as journal:
            show = Show(
                cfg,
                gateway,
                showtime,
                journal,
                mode=Mode.REHEARSAL,
                actions=Recording(cfg, gateway, enabled=options.record),
                timetable=timetable,
                lead=options.lead,
                initial_lead=_initial_lead(cfg, transition) * options.speed,
                speed=options.speed,
            )
            # Through the show, so the console shows them before the first cue.
            for text in problems + transition.problems:
                show.warn(text)
            for text in transition.notes:
                show.warn(text, problem=False)
            unhook = link.add_resync_hook(lambda client: show.resync(OBSGateway(client)))
            if on_show is not None:
                on_show(show)
            async with contextlib.AsyncExitStack() as stack:
                if options.stream_test:
                    await stack.enter_async_context(
                        _test_stream(cfg, gateway, show, speed=options.speed)
                    )
                    stream_at = max(
                        -cfg.stream.start_before_standby.total_seconds(), showtime.now()
                    )
                    starter = asyncio.create_task(
                        _start_stream_at(gateway, showtime, stream_at, show, speed=options.speed),
                        name="stream-test",
                    )
                    stack.callback(starter.cancel)
                try:
                    report = await show.run()
                finally:
                    unhook()
    return report


@contextlib.asynccontextmanager
async def _test_stream(
    cfg: EventConfig, gateway: OBSGateway, show: Show, *, speed: float
) -> AsyncIterator[None]:
    """Point OBS's stream at the rehearsal target; stop it and restore OBS's own on exit."""
    saved = await gateway.stream_service()
    key = cfg.rehearsal.stream_test_key.get_secret_value()
    await gateway.set_stream_service(cfg.rehearsal.stream_test_server, key)
    show.journal.write("stream", action="test_target", server=cfg.rehearsal.stream_test_server)
    try:
        yield
    finally:
        # Also on Ctrl-C (the task's one cancellation has been delivered by now): OBS
        # must be left pointing at the host's real stream target.
        await _end_test_stream(gateway, saved, show, speed=speed)


async def _end_test_stream(
    gateway: OBSGateway, saved: StreamService, show: Show, *, speed: float
) -> None:
    try:
        if (await gateway.stream_status()).active:
            await gateway.stop_stream()
            # OBS keeps the old settings until the output has really stopped.
            await _stream_becomes(gateway, show.time.clock, active=False, speed=speed)
        await gateway.restore_stream_service(saved)
        show.journal.write("stream", action="restored")
    except OBSError as exc:
        show.warn(
            f"could not put OBS's own stream settings back ({exc}): "
            "check Settings > Stream in OBS before going live"
        )


@dataclass(frozen=True)
class LiveOptions:
    """What `showcaller live` was asked to do."""

    obs: OBS
    journal: Path | None = None
    yes: bool = False
    fresh: bool = False


Confirm = Callable[[str], Awaitable[bool]]


async def ask_on_tty(question: str) -> bool:
    """Ask on the terminal; only the word `yes` confirms (Ctrl-C at the prompt quits at once)."""
    return await read_answer(question) == "yes"


async def live(
    cfg: EventConfig,
    options: LiveOptions,
    *,
    clock: Clock | None = None,
    confirm: Confirm = ask_on_tty,
    interactive: bool | None = None,
    on_show: Callable[[Show], None] | None = None,
) -> ShowReport:
    """Run the show on air in real time; resumes from the journal after a crash."""
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if not options.yes and not interactive:
        raise UsageError(
            "live mode goes on air only after a confirmation, and there is no terminal to ask",
            hint="run it in a terminal, or pass --yes",
        )
    clock = clock or SystemClock()
    journal_path = options.journal or default_journal(cfg, Mode.LIVE)
    with claim(journal_path):
        return await _live_claimed(
            cfg, options, journal_path, clock, confirm, interactive=interactive, on_show=on_show
        )


async def _live_claimed(
    cfg: EventConfig,
    options: LiveOptions,
    journal_path: Path,
    clock: Clock,
    confirm: Confirm,
    *,
    interactive: bool,
    on_show: Callable[[Show], None] | None,
) -> ShowReport:
    """`live` once this process holds the journal: nobody else reads, moves or writes it."""
    resolved, planned = planned_slots(cfg)
    if options.fresh:
        set_aside(journal_path)
    point = last_state(journal_path, plan_hash(planned))
    if point is not None and point.ended:
        raise UsageError(
            f"{journal_path}: this show has already ended",
            hint="pass --fresh to run it again (the old journal is kept with a suffix)",
        )
    if point is None and clock.now() >= resolved[-1].end:
        end = resolved[-1].end.astimezone(cfg.tz)
        raise UsageError(
            f"the timetable ended at {end:%H:%M} on {end:%Y-%m-%d}: nothing to put on air",
            hint="check event.date and the slot times in the event file",
        )
    async with _open(options.obs, cfg) as conn:
        link, gateway = conn.link, conn.gateway
        problems = await preflight(cfg, gateway)
        stream = await gateway.stream_status()
        if not stream.active:
            problems += await stream_preflight(gateway)
        showtime = ShowTime(clock, resolved[0].start)
        stream_at = -cfg.stream.start_before_standby.total_seconds()
        if not options.yes:
            lines = [f"Go on air: {cfg.event.title} on {_obs_label(options.obs)}"]
            if stream.active:
                lines.append("The stream is already on air; showcaller will not touch it.")
            else:
                starts = showtime.wall(stream_at).astimezone(cfg.tz)
                lines.append(
                    f"The stream starts at {starts:%H:%M:%S} on {starts:%Y-%m-%d}"
                    f" ({cfg.event.timezone})."
                )
                away_h = (starts - clock.now()).total_seconds() / 3600
                if away_h > FAR_AWAY_H:
                    lines.append(
                        f"That is {away_h:.0f} hours from now: check event.date in the event file."
                    )
            if point is not None:
                lines.append(f"Resuming from {journal_path} (line {point.line}).")
            lines.extend(f"problem: {p}" for p in problems)
            question = "\n".join(lines) + "\nType yes to go on air: "
            if not await confirm(question):
                raise UsageError("not confirmed: nothing was sent to OBS's outputs")
        transition = await set_transition(cfg, gateway)
        timetable = (
            Timetable.from_state(planned, dict(point.state))
            if point is not None
            else Timetable.new(planned)
        )
        with Journal(journal_path, clock, plan_hash(planned)) as journal:
            if point is not None:
                journal.write("resume", from_line=point.line)
            actions = LiveActions(cfg, gateway, enabled=cfg.record.enabled)
            show = Show(
                cfg,
                gateway,
                showtime,
                journal,
                mode=Mode.LIVE,
                actions=actions,
                timetable=timetable,
                initial_lead=_initial_lead(cfg, transition),
            )
            actions.watch = watch = StreamWatch(show)
            # Through the show, so the console shows them before the first cue.
            for text in problems + transition.problems:
                show.warn(text)
            for text in transition.notes:
                show.warn(text, problem=False)
            unhook = link.add_resync_hook(
                lambda client: _live_resync(OBSGateway(client), show, showtime, stream_at)
            )
            unwatch = gateway.subscribe(watch.on_event, ["StreamStateChanged"])
            if on_show is not None:
                on_show(show)
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.TaskGroup() as tasks:
                    # SIGTERM detaches: OBS keeps streaming exactly as it is.
                    _on_signal(loop, signal.SIGTERM, show.detach)
                    if interactive:
                        asker = _CtrlC(show, gateway, watch, tasks)
                        _on_signal(loop, signal.SIGINT, asker.ask)
                    starter = tasks.create_task(
                        _start_stream_at(gateway, showtime, stream_at, show), name="stream-start"
                    )
                    report = await show.run()
                    starter.cancel()
                    if interactive:
                        asker.cancel()
            finally:
                unhook()
                unwatch()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                        loop.remove_signal_handler(sig)
    return report


async def _live_resync(
    gateway: OBSGateway, show: Show, showtime: ShowTime, stream_at: float
) -> None:
    """After OBS comes back: the right scene on air, and a loud word if the stream is not."""
    await show.resync(gateway)
    if showtime.now() < stream_at:
        return
    try:
        if not (await gateway.stream_status()).active:
            show.warn(
                "OBS is back, but the stream is NOT on air: "
                "start it in OBS (Controls > Start Streaming)"
            )
    except OBSError as exc:
        show.warn(f"could not check the stream after reconnecting: {exc}")


def _on_signal(loop: asyncio.AbstractEventLoop, sig: int, handler: Callable[[], None]) -> None:
    # Not available off the main thread or on Windows; then the default handling applies.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(sig, handler)


class _CtrlC:
    """Ctrl-C during a live show asks; it never stops the stream by itself."""

    QUESTION = (
        "\nCtrl-C: type `end` to end the show and stop the stream and recording,"
        " `detach` to quit and leave OBS as it is, `next` to put the next slot on air,"
        " anything else to go on: "
    )

    def __init__(
        self, show: Show, gateway: OBSGateway, watch: StreamWatch, tasks: asyncio.TaskGroup
    ) -> None:
        self.show = show
        self.gateway = gateway
        self.watch = watch
        self._tasks = tasks
        self._task: asyncio.Task[None] | None = None

    def ask(self) -> None:
        if self._task is None or self._task.done():
            self._task = self._tasks.create_task(self._run(), name="ctrl-c-question")

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        try:
            answer = await read_answer(self.QUESTION)
        except asyncio.CancelledError:
            # The show ended while the question waited: it no longer holds anything up.
            print("\n(the show has ended; the Ctrl-C question was left unanswered)", flush=True)
            raise
        if answer == "end":
            self.show.journal.write("command", command="end_show")
            self.watch.stopping = True
            for stop, status in (
                (self.gateway.stop_record, self.gateway.record_status),
                (self.gateway.stop_stream, self.gateway.stream_status),
            ):
                try:
                    if (await status()).active:
                        await stop()
                except OBSError as exc:
                    log.error("%s", exc)
            self.show.detach()
        elif answer == "detach":
            self.show.detach()
        elif answer == "next":
            # Until the dashboard's keys exist, the way on from a slot that ends "manual".
            result = await self.show.submit(Next())
            print(result.message, flush=True)


def _read_answer(question: str) -> str:
    try:
        return input(question).strip().casefold()
    except EOFError:
        return ""


async def read_answer(question: str) -> str:
    """Ask on the terminal without a thread, so the end of the show never waits for Enter.

    The answer is the typed line, stripped and case-folded ("" at end of input).
    Where stdin cannot be watched by the event loop (a regular file, Windows), a
    thread reads it instead.
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()
    typed = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 1024)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        typed.extend(chunk)
        if (not chunk or b"\n" in typed) and not answer.done():
            answer.set_result(typed.split(b"\n", 1)[0].decode(errors="replace"))

    try:
        fd = sys.stdin.fileno()
        loop.add_reader(fd, readable)
    except (AttributeError, NotImplementedError, OSError, ValueError):
        return await asyncio.to_thread(_read_answer, question)
    print(question, end="", flush=True)
    try:
        return (await answer).strip().casefold()
    finally:
        loop.remove_reader(fd)


# A show further away than this at `live` is probably the wrong event.date: said at the prompt.
FAR_AWAY_H = 12

# How long OBS may take to get the stream on air (or off it) before the host is told.
STREAM_START_TIMEOUT_S = 10.0


async def _stream_becomes(
    gateway: OBSGateway, clock: Clock, *, active: bool, speed: float = 1.0
) -> bool:
    """Wait (real seconds, on `clock`) until OBS's stream is, or is not, active."""
    give_up = clock.monotonic() + STREAM_START_TIMEOUT_S * speed
    while (await gateway.stream_status()).active is not active:
        if clock.monotonic() >= give_up:
            return False
        await clock.sleep_until(clock.monotonic() + 0.25 * speed)
    return True


async def _start_stream_at(
    gateway: OBSGateway, showtime: ShowTime, at: float, show: Show, *, speed: float = 1.0
) -> None:
    """Start the stream at show second `at` unless it is already on air; check that it is.

    `speed`: show seconds per real second (OBS takes real seconds to connect).
    """
    clock = showtime.clock
    await clock.sleep_until(showtime.monotonic_for(at))
    try:
        if (await gateway.stream_status()).active:
            return
        await gateway.start_stream()
        show.journal.write("stream", action="start", at=showtime.now())
        log.info("the stream is starting")
        # OBS answers StartStream at once even when it cannot reach the server; it
        # then gives up by itself (STARTING → STOPPED). Only outputActive says on air.
        if not await _stream_becomes(gateway, clock, active=True, speed=speed):
            show.warn(
                f"the stream is NOT on air {STREAM_START_TIMEOUT_S:g} s after starting it: "
                "check OBS's Settings > Stream (server and key) and start it in OBS"
            )
            return
        show.journal.write("stream", action="on_air", at=showtime.now())
        log.info("the stream is on air")
    except OBSError as exc:
        show.warn(f"starting the stream: {exc}")


def _open(
    obs: OBS, cfg: EventConfig, *, guard: Guard | None = None
) -> contextlib.AbstractAsyncContextManager[OBSConnection]:
    """Connect to the OBS the options name; `sim` starts seeded with the event's scenes."""
    return open_obs(
        obs.url,
        obs.password.get_secret_value() or None,
        connect_timeout=obs.connect_timeout,
        request_timeout=obs.request_timeout,
        seed=ObsSeed(config=cfg) if obs.url == "sim" else None,
        guard=guard,
    )


@contextlib.asynccontextmanager
async def _claim_and_open(
    journal: Path, obs: OBS, cfg: EventConfig, *, guard: Guard | None = None
) -> AsyncIterator[OBSConnection]:
    """Claim the show's journal (see `journal.claim`), then connect to OBS."""
    with claim(journal):
        async with _open(obs, cfg, guard=guard) as conn:
            yield conn


def _obs_label(obs: OBS) -> str:
    return "the built-in simulated OBS" if obs.url == "sim" else obs.url
