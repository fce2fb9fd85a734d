"""`rehearse` and `live`: the two ways to run a show, each building one show session.

Both modes run the same `Show` in a `ShowSession`; they differ in the clock (scaled vs
real), in the guard (rehearsal can never start or stop the stream), and in the mode's
policy (`policies`: live starts the stream before the first slot and records from the
opening; rehearsal may record to prove it works). What OBS lacks is found first
(`preflight`); terminal questions are in `prompts`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from showcaller.checks.during import speaker_checks
from showcaller.clock import Clock, ScaledClock, SystemClock
from showcaller.config import OBS, EventConfig
from showcaller.engine import Mode, Show, ShowReport, planned_slots
from showcaller.errors import UsageError
from showcaller.health import stream_health
from showcaller.journal import Journal, Kind, ResumePoint, claim, last_state, set_aside
from showcaller.livetexts import scene_texts, speaker_feeds
from showcaller.obs.connect import SIM, OBSConnection, open_obs
from showcaller.obs.gateway import Guard, OBSGateway, rehearsal_guard
from showcaller.policies import LivePolicy, RehearsalPolicy, stream_test
from showcaller.preflight import (
    TransitionSet,
    check_obs,
    initial_lead,
    set_transition,
    stream_preflight,
)
from showcaller.prompts import ask_on_tty, ctrl_c_question, detach_on_sigterm
from showcaller.provision import sim_seed
from showcaller.session import ShowSession
from showcaller.showtime import ShowTime
from showcaller.simfeeds import scripted_feeds
from showcaller.streamtest import backup_path, find_leftover, points_at, put_back
from showcaller.timetable import Timetable, plan_hash

log = logging.getLogger(__name__)

# Rehearsal starts this many real seconds before the first slot, so the first cue is
# timed (and lead-compensated) like every other one.
REHEARSAL_LEAD_IN_S = 1.0


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


def default_journal(cfg: EventConfig, mode: Mode) -> Path:
    """`<event file stem>.<mode>.jsonl` beside the event file (or in the working folder)."""
    source = cfg.config_source
    stem = source.stem if source else "show"
    folder = source.parent if source else Path()
    return folder / f"{stem}.{mode.value}.jsonl"


async def rehearse(
    cfg: EventConfig,
    options: RehearsalOptions,
    *,
    on_session: Callable[[ShowSession], None] | None = None,
) -> ShowReport:
    """Run the whole timetable now, sped up, against OBS; never touches the real stream.

    With `stream_test`, streams to the config's private rehearsal target only, and puts
    OBS's own stream settings back afterwards, whatever happens. `on_session` may attach
    surfaces to the session before it runs.
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
        gateway = conn.gateway
        # A stream test killed earlier: put OBS's own settings back before anything else.
        restored = await _put_back_leftover(cfg, gateway, backup_path(journal_path))
        if (await gateway.stream_status()).active:
            raise UsageError(
                "OBS is streaming right now: a rehearsal would switch scenes on air",
                hint="stop the stream in OBS, or rehearse on another OBS (--obs sim)",
            )
        checked = await check_obs(cfg, gateway)
        problems = checked.problems
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
                timetable=timetable,
                lead=options.lead,
                initial_lead=initial_lead(cfg, transition) * options.speed,
                speed=options.speed,
            )
            session = ShowSession(cfg, show, gateway, link=conn.link)
            session.use(RehearsalPolicy(session, enabled=options.record))
            _attach_common(session, conn, notify=options.notify)
            if options.stream_test:
                session.attach("the stream test", stream_test)
                if cfg.health.enabled:
                    session.attach("stream health", stream_health)
            _say_before(show, problems, transition, checked.warnings)
            for text in restored:
                show.warn(text, problem=False, topic="stream")
            if on_session is not None:
                on_session(session)
            return await session.run()


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
        gateway, test_server, backup_path(default_journal(cfg, Mode.REHEARSAL))
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


def _attach_common(
    session: ShowSession, conn: OBSConnection, *, notify: bool = True, feeds: bool = True
) -> None:
    """What both modes run beside the show: the sim's scripted feeds (`feeds`: a rehearsal
    only), the speaker checks, the notification webhooks (a rehearsal only with --notify)."""
    if feeds and conn.sim is not None and session.cfg.sim.feeds:
        session.attach("the simulated feeds", scripted_feeds(conn.sim))
    if any(s.video_input or s.audio_input for s in session.cfg.speakers):
        session.attach("the speaker checks", speaker_checks)
    session.attach("the scene texts", scene_texts)
    session.attach("the speaker feeds", speaker_feeds)
    if notify and session.cfg.notify.webhooks:
        from showcaller.interop.notify import notifications

        session.attach("the notifications", notifications)
    elif session.cfg.notify.webhooks:
        session.show.say(
            "the [notify] webhooks get nothing from a rehearsal "
            "(rehearse --notify sends to them, each message marked as a rehearsal)",
            topic="notify",
        )


def _say_before(
    show: Show, problems: list[str], transition: TransitionSet, warnings: Sequence[str] = ()
) -> None:
    # Through the show, so the surfaces show them before the first cue.
    for text in problems + transition.problems:
        show.warn(text)
    for text in [*warnings, *transition.notes]:
        show.warn(text, problem=False)


@dataclass(frozen=True)
class LiveOptions:
    """What `showcaller live` was asked to do."""

    obs: OBS
    journal: Path | None = None
    yes: bool = False
    fresh: bool = False


Confirm = Callable[[str], Awaitable[bool]]


async def live(
    cfg: EventConfig,
    options: LiveOptions,
    *,
    clock: Clock | None = None,
    confirm: Confirm = ask_on_tty,
    interactive: bool | None = None,
    on_session: Callable[[ShowSession], None] | None = None,
    ask_on_ctrl_c: bool = True,
) -> ShowReport:
    """Run the show on air in real time; resumes from the journal after a crash.

    `ask_on_ctrl_c`: on a terminal, Ctrl-C asks what to do (off when a surface, the
    dashboard, asks the question itself).
    """
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
            cfg,
            options,
            journal_path,
            clock,
            confirm,
            ask_on_ctrl_c=interactive and ask_on_ctrl_c,
            on_session=on_session,
        )


async def _live_claimed(
    cfg: EventConfig,
    options: LiveOptions,
    journal_path: Path,
    clock: Clock,
    confirm: Confirm,
    *,
    ask_on_ctrl_c: bool,
    on_session: Callable[[ShowSession], None] | None,
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
        gateway = conn.gateway
        await _live_leftover(cfg, gateway, confirm, yes=options.yes)
        checked = await check_obs(cfg, gateway)
        if checked.hard:
            raise UsageError(
                f"OBS cannot show every slot: {checked.hard[0]}"
                + (f" (and {len(checked.hard) - 1} more)" if len(checked.hard) > 1 else ""),
                hint="create the scenes (`showcaller provision FILE`) or fix [scenes] in the "
                "event file; `showcaller validate FILE --obs URL` lists them all",
            )
        problems = checked.problems
        stream = await gateway.stream_status()
        if not stream.active:
            problems += await stream_preflight(gateway)
        showtime = ShowTime(clock, resolved[0].start)
        stream_at = -cfg.stream.start_before_standby.total_seconds()
        await _refuse_rehearsal_target(cfg, gateway)
        if not options.yes:
            question = _go_on_air_question(
                cfg, options, showtime, stream_at, stream.active, point, journal_path, problems
            )
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
                journal.write(Kind.RESUME, from_line=point.line)
            show = Show(
                cfg,
                gateway,
                showtime,
                journal,
                mode=Mode.LIVE,
                timetable=timetable,
                initial_lead=initial_lead(cfg, transition),
                trouble=point.trouble if point is not None else False,
            )
            session = ShowSession(cfg, show, gateway, link=conn.link)
            policy = LivePolicy(
                session,
                stream_at=stream_at,
                stream_on_air=stream.active,
                done_before=point.marks_done if point is not None else (),
                stopped_in_obs=point is not None and point.stream_stopped_in_obs,
            )
            if (
                point is not None
                and point.stream_was_on_air
                and not stream.active
                and not cfg.stream.restart_after_crash
                and policy.stream.mark.status == "due"
            ):
                # As after a crash of OBS: with restart_after_crash off, the host starts it.
                show.skip_mark(policy.stream.mark, "stream.restart_after_crash is off")
                show.warn(
                    "the stream was on air before showcaller restarted and is NOT on air now: "
                    "start it in OBS (Controls > Start Streaming)",
                    topic="stream",
                )
            session.use(policy)
            # [[sim.feeds]] break feeds to rehearse what a failing speaker looks like; a
            # live show on the built-in OBS (practice for the real one) has every feed live.
            _attach_common(session, conn, feeds=False)
            session.attach("SIGTERM", detach_on_sigterm)
            if cfg.health.enabled:
                session.attach("stream health", stream_health)
            if ask_on_ctrl_c:
                session.attach("the Ctrl-C question", ctrl_c_question)
            _say_before(show, problems, transition, checked.warnings)
            if on_session is not None:
                on_session(session)
            return await session.run()


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
) -> str:
    lines = [f"Go on air: {cfg.event.title} on {_obs_label(options.obs)}"]
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


# A show further away than this at `live` is probably the wrong event.date: said at the prompt.
FAR_AWAY_H = 12


def _open(
    obs: OBS, cfg: EventConfig, *, guard: Guard | None = None
) -> contextlib.AbstractAsyncContextManager[OBSConnection]:
    """Connect to the OBS the options name; `sim` starts seeded with what the event needs."""
    return open_obs(
        obs.url,
        obs.password.get_secret_value() or None,
        connect_timeout=obs.connect_timeout,
        request_timeout=obs.request_timeout,
        seed=sim_seed(cfg) if obs.url == SIM else None,
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
    return "the built-in simulated OBS" if obs.url == SIM else obs.url
