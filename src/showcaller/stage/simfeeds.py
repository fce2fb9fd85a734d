"""The event file's `[sim]` section played on the built-in simulated OBS.

`[[sim.feeds]]` says what a speaker's feed does in a rehearsal on `--obs sim`: a black
picture, a silent microphone, one that dies two minutes into the talk. Feeds without
`at` are set as soon as the sim runs; the others change on the show's clock, `at` after
the speaker's first slot has gone on air, so a rehearsal shows what the host would see.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from showcaller.config import EventConfig, SimFeed

if TYPE_CHECKING:
    from showcaller.obs.sim import SimulatedOBS
    from showcaller.show.session import ShowSession


def apply_feed(sim: SimulatedOBS, cfg: EventConfig, feed: SimFeed) -> str:
    """Set one feed in the sim; what changed, for the host."""
    speaker = cfg.speaker(feed.speaker)
    done: list[str] = []
    if feed.video is not None and speaker.video_input:
        sim.use_cases.speaker_video(speaker.video_input, feed.video)
        done.append(f"{speaker.video_input} {feed.video}")
    if feed.audio is not None and speaker.audio_input:
        sim.use_cases.speaker_audio(speaker.audio_input, feed.audio)
        done.append(f"{speaker.audio_input} {feed.audio}")
    return f"simulated OBS: {', '.join(done) or 'nothing to change'} ({speaker.name})"


def apply_initial_feeds(sim: SimulatedOBS, cfg: EventConfig) -> list[str]:
    """Set every feed that has no `at`; what changed."""
    return [apply_feed(sim, cfg, f) for f in cfg.sim.feeds if f.at is None]


def scripted_feeds(
    sim: SimulatedOBS,
) -> Callable[[ShowSession], contextlib.AbstractAsyncContextManager[Any]]:
    """An attachment: set the feeds with `at` when their moment comes in the show."""

    @contextlib.asynccontextmanager
    async def attachment(session: ShowSession) -> AsyncIterator[None]:
        cfg, show = session.cfg, session.show
        for text in apply_initial_feeds(sim, cfg):
            show.say(text)
        for feed in cfg.sim.feeds:
            if feed.at is not None:
                session.spawn(_later(session, sim, feed), f"simulated feed of {feed.speaker}")
        yield

    return attachment


async def _later(session: ShowSession, sim: SimulatedOBS, feed: SimFeed) -> None:
    show = session.show
    assert feed.at is not None  # only feeds with a moment are scheduled
    async for state in session.feed():
        on_air = state.show.on_air
        if on_air is not None and feed.speaker in _speaker_ids(session, on_air.index):
            break
    else:
        return
    started = show.time.now()
    clock = show.time.clock
    await clock.sleep_until(show.time.monotonic_for(started + feed.at.total_seconds()))
    show.say(apply_feed(sim, session.cfg, feed))


def _speaker_ids(session: ShowSession, slot_index: int) -> set[str]:
    return {sp.id for sp in session.show.resolved[slot_index].speakers}


__all__ = ["apply_feed", "apply_initial_feeds", "scripted_feeds"]
