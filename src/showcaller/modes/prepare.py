"""The first stage: an event file and the host's options become a show ready to assemble.

`preparing_rehearsal` and `preparing_live` resolve the event into its plan once, claim
the show's journal (one showcaller per show), connect to OBS, put back a killed stream
test's settings, run the preflight (what OBS lacks, the stream settings, the
transition), and, in live, find where a crashed show stands and ask before going on
air. Each is an async context manager that holds the journal and the connection for as
long as the show runs; what it yields (`Prepared`) is plain data for `assemble`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from showcaller.clock import Clock, ScaledClock
from showcaller.config import OBS, EventConfig
from showcaller.errors import UsageError
from showcaller.obs.connect import SIM, OBSConnection, open_target
from showcaller.obs.gateway import Guard, OBSGateway, StreamService, rehearsal_guard
from showcaller.show.journal import ResumePoint, claim, default_journal, last_state, set_aside
from showcaller.show.plan import ShowPlan
from showcaller.show.showtime import ShowTime
from showcaller.show.state import Mode
from showcaller.show.streamtest import backup_path, find_leftover, points_at, put_back
from showcaller.show.timetable import Timetable
from showcaller.stage.preflight import check_obs, initial_lead, set_transition, stream_preflight
from showcaller.stage.provision import sim_seed

log = logging.getLogger(__name__)

# Rehearsal starts this many real seconds before the first slot, so the first cue is
# timed (and lead-compensated) like every other one.
REHEARSAL_LEAD_IN_S = 1.0
# A show further away than this at `live` is probably the wrong event.date: said at the prompt.
FAR_AWAY_H = 12

Confirm = Callable[[str], Awaitable[bool]]


def find_slot(plan: ShowPlan, spec: str | None) -> int:
    """The slot index `--from` names: a 1-based number or a piece of the title."""
    if spec is None:
        return 0
    slots = plan.slots
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
    notify: bool = False  # send the [notify] webhooks, marked as a rehearsal


@dataclass(frozen=True)
class LiveOptions:
    """What `showcaller live` was asked to do."""

    obs: OBS
    journal: Path | None = None
    yes: bool = False
    fresh: bool = False


@dataclass(frozen=True)
class Prepared:
    """One show ready to assemble: its event, plan, OBS, time, timetable and what was found."""

    cfg: EventConfig
    plan: ShowPlan
    mode: Mode
    conn: OBSConnection
    journal_path: Path
    showtime: ShowTime
    timetable: Timetable
    initial_lead: float
    speed: float = 1.0
    lead: bool = True
    point: ResumePoint | None = None  # live: where a crashed show stood
    stream_at: float = 0.0  # live: show second the stream starts
    stream_on_air: bool = False  # live: OBS was streaming already
    problems: Sequence[str] = ()  # said as problems before the first cue
    notes: Sequence[str] = ()  # said as warnings (not problems)
    restored: Sequence[str] = field(default_factory=list)  # a killed stream test put back


def journal_of(cfg: EventConfig, mode: Mode, given: Path | None) -> Path:
    """The journal `--journal` names, else `<event file stem>.<mode>.jsonl` beside it."""
    return given or default_journal(cfg.config_source, mode.value)


@contextlib.asynccontextmanager
async def preparing_rehearsal(
    cfg: EventConfig, plan: ShowPlan, options: RehearsalOptions
) -> AsyncIterator[Prepared]:
    """Claim the rehearsal's journal, connect, put back a killed test, run the preflight."""
    journal_path = journal_of(cfg, Mode.REHEARSAL, options.journal)
    test_server = cfg.rehearsal.stream_test_server
    if options.stream_test and not test_server:
        raise UsageError(
            "--stream-test needs a private stream target: rehearsal.stream_test_server is empty",
            hint="set it in the event file (the key in SHOWCALLER_REHEARSAL__STREAM_TEST_KEY)",
        )
    guard = rehearsal_guard(allow_stream=options.stream_test)
    with claim(journal_path):
        async with _open(options.obs, cfg, guard=guard) as conn:
            gateway = conn.gateway
            # A stream test killed earlier: put OBS's own settings back before anything else.
            restored = await _put_back_leftover(cfg, gateway, backup_path(journal_path))
            if (await gateway.stream_status()).active:
                raise UsageError(
                    "OBS is streaming right now: a rehearsal would switch scenes on air",
                    hint="stop the stream in OBS, or rehearse on another OBS (--obs sim)",
                )
            checked = await check_obs(cfg, gateway)
            transition = await set_transition(cfg, gateway)
            lead_in = timedelta(seconds=REHEARSAL_LEAD_IN_S * options.speed)
            start = plan.slots[options.from_slot].start - lead_in
            clock = ScaledClock(options.speed, start)
            yield Prepared(
                cfg=cfg,
                plan=plan,
                mode=Mode.REHEARSAL,
                conn=conn,
                journal_path=journal_path,
                showtime=ShowTime(clock, plan.origin),
                timetable=Timetable.new(list(plan.planned), from_slot=options.from_slot),
                initial_lead=initial_lead(cfg, transition) * options.speed,
                speed=options.speed,
                lead=options.lead,
                problems=[*checked.problems, *transition.problems],
                notes=[*checked.warnings, *transition.notes],
                restored=restored,
            )


@contextlib.asynccontextmanager
async def preparing_live(
    cfg: EventConfig,
    plan: ShowPlan,
    options: LiveOptions,
    clock: Clock,
    confirm: Confirm,
) -> AsyncIterator[Prepared]:
    """Claim the live journal, find where a crashed show stands, connect, check, ask."""
    journal_path = journal_of(cfg, Mode.LIVE, options.journal)
    with claim(journal_path):
        # Held: nobody else reads, moves or writes the journal from here on.
        if options.fresh:
            set_aside(journal_path)
        point = last_state(journal_path, plan.hash)
        if point is not None and point.ended:
            raise UsageError(
                f"{journal_path}: this show has already ended",
                hint="pass --fresh to run it again (the old journal is kept with a suffix)",
            )
        if point is None and clock.now() >= plan.end:
            end = plan.end.astimezone(plan.tz)
            raise UsageError(
                f"the timetable ended at {end:%H:%M} on {end:%Y-%m-%d}: nothing to put on air",
                hint="check event.date and the slot times in the event file",
            )
        async with _open(options.obs, cfg) as conn:
            gateway = conn.gateway
            await _live_leftover(cfg, gateway, confirm, yes=options.yes)
            checked = await check_obs(cfg, gateway)
            if checked.hard:
                more = f" (and {len(checked.hard) - 1} more)" if len(checked.hard) > 1 else ""
                raise UsageError(
                    f"OBS cannot show every slot: {checked.hard[0]}{more}",
                    hint="create the scenes (`showcaller provision FILE`) or fix [scenes] in the "
                    "event file; `showcaller validate FILE --obs URL` lists them all",
                )
            problems = list(checked.problems)
            stream = await gateway.stream_status()
            if not stream.active:
                problems += await stream_preflight(gateway)
            showtime = ShowTime(clock, plan.origin)
            stream_at = -cfg.stream.start_before_standby.total_seconds()
            await _refuse_rehearsal_target(cfg, gateway)
            if not options.yes:
                target = _stream_target(await gateway.stream_service())
                question = _go_on_air_question(
                    cfg,
                    options,
                    showtime,
                    stream_at,
                    stream.active,
                    point,
                    journal_path,
                    problems,
                    target,
                )
                if not await confirm(question):
                    raise UsageError("not confirmed: nothing was sent to OBS's outputs")
            transition = await set_transition(cfg, gateway)
            timetable = (
                Timetable.from_state(list(plan.planned), dict(point.state))
                if point is not None
                else Timetable.new(list(plan.planned))
            )
            yield Prepared(
                cfg=cfg,
                plan=plan,
                mode=Mode.LIVE,
                conn=conn,
                journal_path=journal_path,
                showtime=showtime,
                timetable=timetable,
                initial_lead=initial_lead(cfg, transition),
                point=point,
                stream_at=stream_at,
                stream_on_air=stream.active,
                problems=[*problems, *transition.problems],
                notes=[*checked.warnings, *transition.notes],
            )


async def _put_back_leftover(cfg: EventConfig, gateway: OBSGateway, backup: Path) -> list[str]:
    """Rehearse: a killed stream test's target still set is put back at once; what to say."""
    test_server = cfg.rehearsal.stream_test_server
    leftover = await find_leftover(gateway, test_server, backup)
    if leftover is None:
        return []
    said = leftover.describe(test_server)
    # The killed test may still be streaming, to the rehearsal target only (OBS points
    # there: that is how it was found). Stopping it is the rehearsal's own business, so it
    # goes past the guard that keeps a rehearsal off the real stream; nothing else does.
    own_test = OBSGateway(gateway.link)
    if not await put_back(own_test, leftover):
        raise UsageError(
            said, hint="set OBS's own stream settings back by hand (Settings > Stream)"
        )
    log.warning("%s: put back", said)
    return [f"{said}: put back"]


async def _live_leftover(
    cfg: EventConfig, gateway: OBSGateway, confirm: Confirm, *, yes: bool
) -> None:
    """Live: OBS still at the rehearsal target is put back after asking, or refused."""
    test_server = cfg.rehearsal.stream_test_server
    leftover = await find_leftover(
        gateway, test_server, backup_path(journal_of(cfg, Mode.REHEARSAL, None))
    )
    if leftover is None:
        return
    said = leftover.describe(test_server)
    never = "showcaller does not go on air to the rehearsal target"
    if leftover.backup is None:
        raise UsageError(
            f"{said}: {never}", hint="set OBS's own stream settings in Settings > Stream"
        )
    if not yes and not await confirm(f"{said}\nPut OBS's own stream settings back? Type yes: "):
        raise UsageError(f"{said}: {never}", hint="answer yes, or set Settings > Stream in OBS")
    await put_back(gateway, leftover)
    log.warning("%s: put back", said)


async def _refuse_rehearsal_target(cfg: EventConfig, gateway: OBSGateway) -> None:
    """Never go on air while OBS streams to the rehearsal target (the private test server)."""
    test_server = cfg.rehearsal.stream_test_server
    if test_server and points_at(await gateway.stream_service(), test_server):
        raise UsageError(
            f"OBS points at the rehearsal target {test_server} (rehearsal.stream_test_server): "
            "showcaller does not go on air there",
            hint="set your channel's server and key in OBS (Settings > Stream), then run again",
        )


def _go_on_air_question(
    cfg: EventConfig,
    options: LiveOptions,
    showtime: ShowTime,
    stream_at: float,
    on_air: bool,
    point: ResumePoint | None,
    journal_path: Path,
    problems: list[str],
    target: str,
) -> str:
    lines = [f"Go on air: {cfg.event.title} on {_obs_label(options.obs)}"]
    first = cfg.slots_resolved()[0]
    lines.append(
        f"First slot: {first.title} ({first.kind}) at {first.start.astimezone(cfg.tz):%H:%M}."
    )
    lines.append(f"The stream goes to {target}.")
    if on_air:
        lines.append("The stream is already on air; showcaller will not touch it.")
    else:
        starts = showtime.wall(stream_at).astimezone(cfg.tz)
        lines.append(
            f"The stream starts at {starts:%H:%M:%S} on {starts:%Y-%m-%d} ({cfg.event.timezone})."
        )
        away_h = (starts - showtime.clock.now()).total_seconds() / 3600
        if away_h > FAR_AWAY_H:
            lines.append(
                f"That is {away_h:.0f} hours from now: check event.date in the event file."
            )
    if point is not None:
        lines.append(f"Resuming from {journal_path} (line {point.line}).")
    lines.extend(f"problem: {p}" for p in problems)
    return "\n".join(lines) + "\nType yes to go on air: "


def _stream_target(service: StreamService) -> str:
    """Where OBS streams, in words: the server only (the key is a secret)."""
    server = str(service.settings.get("server", "") or "")
    if service.service_type == "rtmp_custom":
        return server or "nowhere (no server in Settings > Stream)"
    name = str(service.settings.get("service", "") or service.service_type)
    return f"{name} ({server})" if server else name


def _open(
    obs: OBS, cfg: EventConfig, *, guard: Guard | None = None
) -> contextlib.AbstractAsyncContextManager[OBSConnection]:
    """Connect to the OBS the options name; `sim` starts seeded with what the event needs."""
    return open_target(obs, seed=sim_seed(cfg) if obs.url == SIM else None, guard=guard)


def _obs_label(obs: OBS) -> str:
    return "the built-in simulated OBS" if obs.url == SIM else obs.url


__all__ = [
    "LiveOptions",
    "Prepared",
    "RehearsalOptions",
    "find_slot",
    "preparing_live",
    "preparing_rehearsal",
]
