"""The middle stage: one prepared show becomes one session, the same way in both modes.

`assemble` builds the engine from the plan (with the event's trouble scene, cue texts
and plan record), the session around it (with the cue cards), the mode's policy, and
every attachment the mode runs: the sim's scripted feeds, the speaker checks, the scene
texts and speaker feeds, the notifications, the stream test and stream health, the
Ctrl-C question. What the preflight found is said through the show before the first cue.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from showcaller.checks.during import speaker_checks
from showcaller.checks.health import stream_health
from showcaller.interop.notify import notifications
from showcaller.show.engine import Show
from showcaller.show.journal import Journal
from showcaller.show.planrecord import plan_record
from showcaller.show.policies import LivePolicy, RehearsalPolicy, stream_test
from showcaller.show.session import ShowSession
from showcaller.show.state import Mode
from showcaller.stage.cards import CueCards
from showcaller.stage.livetexts import scene_texts, speaker_feeds
from showcaller.stage.simfeeds import scripted_feeds
from showcaller.stage.textfields import cue_texts
from showcaller.surfaces.prompts import ctrl_c_question

from .prepare import Prepared


@dataclass(frozen=True)
class Extras:
    """What the host asked for beyond the mode's own attachments."""

    record: bool = True  # rehearsal: record as live would (live: record.enabled decides)
    notify: bool = True  # send the [notify] webhooks (a rehearsal only with --notify)
    stream_test: bool = False  # rehearsal: stream to the private test target
    ask_on_ctrl_c: bool = False  # a terminal: Ctrl-C asks what to do


def assemble(
    prepared: Prepared,
    journal: Journal,
    extras: Extras,
    *,
    on_session: Callable[[ShowSession], None] | None = None,
    room: str = "",
) -> ShowSession:
    """The session of one prepared show, with its policy and attachments, ready to run.

    `room`: the session's name when one process runs several rooms."""
    p, cfg = prepared, prepared.cfg
    show = Show(
        p.plan,
        p.conn.gateway,
        p.showtime,
        journal,
        mode=p.mode,
        timetable=p.timetable,
        lead=p.lead,
        initial_lead=p.initial_lead,
        speed=p.speed,
        trouble=p.point.trouble if p.point is not None else False,
        trouble_scene=cfg.scenes.trouble,
        cue_texts=functools.partial(cue_texts, cfg),
        plan_record=plan_record(cfg, p.plan, room=room),
    )
    session = ShowSession(
        show, p.conn.gateway, link=p.conn.link, cards=CueCards(cfg).view, name=room
    )
    if p.mode is Mode.REHEARSAL:
        session.use(RehearsalPolicy(session, cfg.record, enabled=extras.record))
    else:
        session.use(_live_policy(session, p))
    # [[sim.feeds]] break feeds to rehearse what a failing speaker looks like; a live show
    # on the built-in OBS (practice for the real one) has every feed live.
    if p.mode is Mode.REHEARSAL and p.conn.sim is not None and cfg.sim.feeds:
        session.attach("the simulated feeds", scripted_feeds(p.conn.sim, cfg))
    if any(s.video_input or s.audio_input for s in cfg.speakers):
        session.attach("the speaker checks", speaker_checks(cfg))
    session.attach("the scene texts", scene_texts(cfg))
    session.attach("the speaker feeds", speaker_feeds(cfg))
    if extras.notify and cfg.notify.webhooks:
        session.attach("the notifications", notifications(cfg, room=room or cfg.event.room))
    elif cfg.notify.webhooks:
        session.say(
            "the [notify] webhooks get nothing from a rehearsal "
            "(rehearse --notify sends to them, each message marked as a rehearsal)",
            topic="notify",
        )
    if extras.stream_test:
        session.attach("the stream test", stream_test(cfg.rehearsal, cfg.stream))
    if (p.mode is Mode.LIVE or extras.stream_test) and cfg.health.enabled:
        session.attach("stream health", stream_health(cfg.health))
    if extras.ask_on_ctrl_c:
        session.attach("the Ctrl-C question", ctrl_c_question)
    # Through the show, so the surfaces show them before the first cue.
    for text in p.problems:
        session.warn(text)
    for text in p.notes:
        session.warn(text, problem=False)
    for text in p.restored:
        session.warn(text, problem=False, topic="stream")
    if on_session is not None:
        on_session(session)
    return session


def _live_policy(session: ShowSession, p: Prepared) -> LivePolicy:
    cfg, point = p.cfg, p.point
    policy = LivePolicy(
        session,
        cfg.record,
        cfg.stream,
        stream_at=p.stream_at,
        stream_on_air=p.stream_on_air,
        done_before=point.marks_done if point is not None else (),
        stopped_in_obs=point is not None and point.stream_stopped_in_obs,
    )
    if (
        point is not None
        and point.stream_was_on_air
        and not p.stream_on_air
        and not cfg.stream.restart_after_crash
        and policy.stream.mark.status == "due"
    ):
        # As after a crash of OBS: with restart_after_crash off, the host starts it.
        session.skip_mark(policy.stream.mark, "stream.restart_after_crash is off")
        session.warn(
            "the stream was on air before showcaller restarted and is NOT on air now: "
            "start it in OBS (Controls > Start Streaming)",
            topic="stream",
        )
    return policy


__all__ = ["Extras", "assemble"]
