"""The event file's `[sim]` section played on the built-in simulated OBS.

`[[sim.feeds]]` says what a speaker's feed does in a rehearsal on `--obs sim`: a black
picture, a silent microphone, one that dies two minutes into the talk. Feeds without
`at` are set as soon as the sim runs; the others change on the show's clock, `at` after
the speaker's first slot has gone on air, so a rehearsal shows what the host would see.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from showcaller.config import EventConfig, SimFeed

if TYPE_CHECKING:
    from showcaller.obs.sim import SimulatedOBS
    from showcaller.show.context import Attachment, ShowContext


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


def scripted_feeds(sim: SimulatedOBS, cfg: EventConfig) -> Attachment:
    """An attachment: set the feeds with `at` when their moment comes in the show."""

    @contextlib.asynccontextmanager
    async def attachment(ctx: ShowContext) -> AsyncIterator[None]:
        for text in apply_initial_feeds(sim, cfg):
            ctx.say(text)
        for feed in cfg.sim.feeds:
            if feed.at is not None:
                ctx.spawn(_later(ctx, sim, cfg, feed), f"simulated feed of {feed.speaker}")
        yield

    return attachment


async def _later(ctx: ShowContext, sim: SimulatedOBS, cfg: EventConfig, feed: SimFeed) -> None:
    assert feed.at is not None  # only feeds with a moment are scheduled
    async for state in ctx.feed():
        on_air = state.show.on_air
        if on_air is not None and feed.speaker in _speaker_ids(ctx, on_air.index):
            break
    else:
        return
    started = ctx.time.now()
    clock = ctx.time.clock
    await clock.sleep_until(ctx.time.monotonic_for(started + feed.at.total_seconds()))
    ctx.say(apply_feed(sim, cfg, feed))


def _speaker_ids(ctx: ShowContext, slot_index: int) -> set[str]:
    return {sp.id for sp in ctx.plan.slots[slot_index].speakers}


__all__ = ["apply_feed", "apply_initial_feeds", "scripted_feeds"]
