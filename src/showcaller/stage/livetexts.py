"""What changes on screen while the show runs: countdowns and next titles (`scene_texts`),
and which speaker's feed a shared scene shows (`speaker_feeds`).

`scene_texts` is a session attachment. About once a second (faster in a sped-up
rehearsal) it works out the live fields (`textfields.live_values`: the countdown to the
start on standby, to the next slot on the break with the next title, the time left as
the talk timer's text fallback) and writes those that changed, for the scenes on air
or next only, in one batch. It runs as a task of its own: no cue waits for it, and a
slow OBS makes it skip ticks rather than queue them. It writes only inputs OBS has as
text inputs (a browser-source timer needs nothing). A failure is said once as a
warning, then logged at DEBUG until it works again; OBS away or not answering is not
its to say (the session says it once, in the event's language, and these texts are
written anew when OBS is back), so that is logged at DEBUG only.

After OBS reconnects (a restarted OBS loads its last *saved* scene collection), both
attachments forget what they wrote and write every text and switch every feed again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from showcaller.config import EventConfig
from showcaller.errors import OBSConnectionError, OBSError
from showcaller.obs.gateway import OBSGateway
from showcaller.show.context import Attachment, ShowContext
from showcaller.stage.templates import builtin_templates
from showcaller.stage.textfields import TextBinding, bindings, scene_texts_now

log = logging.getLogger(__name__)

TICK_S = 1.0  # real seconds between updates at speed 1
MIN_TICK_S = 0.1  # however fast a rehearsal runs


class SceneTexts:
    """The live texts of one show session."""

    def __init__(self, ctx: ShowContext, cfg: EventConfig) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.sent: dict[str, str] = {}
        self.failing = False
        self.ticks = 0
        self.updates = 0

    async def targets(self) -> list[TextBinding]:
        """The live bindings whose input OBS has, as a text input."""
        wanted = [b for b in bindings(self.cfg, builtin_templates()) if b.writer == "live"]
        if not wanted:
            return []
        kinds = {i.name: i.kind for i in await self.ctx.gateway.inputs()}
        return [b for b in wanted if kinds.get(b.input, "").startswith("text_")]

    def due(self, targets: Sequence[TextBinding]) -> list[tuple[str, str]]:
        """The (input, text) that differ from what was last written, at this moment."""
        now = self.ctx.time.wall(self.ctx.time.now())
        texts = scene_texts_now(self.cfg, targets, self.ctx.state.show, now)
        return [(name, text) for name, text in texts if self.sent.get(name) != text]

    async def write(self, texts: Sequence[tuple[str, str]]) -> None:
        """Write texts in one batch; each failure said once (then DEBUG), never raised."""
        try:
            outcomes = await self.ctx.gateway.set_texts(texts)
        except OBSConnectionError as exc:
            log.debug("scene texts not updated (OBS away or not answering): %s", exc)
            return
        except OBSError as exc:
            self._failed(f"scene texts not updated: {exc}")
            return
        failures = []
        for (name, text), error in zip(texts, outcomes, strict=False):
            if error is None:
                self.sent[name] = text
            else:
                failures.append(f"{name!r}: {error}")
        if failures:
            self._failed(f"scene texts not updated: {'; '.join(failures)}")
        else:
            self.failing = False
        self.updates += 1

    def _failed(self, text: str) -> None:
        if self.failing:
            log.debug("%s", text)
            return
        self.failing = True
        self.ctx.warn(text, problem=False)

    async def run(self) -> None:
        """Tick until cancelled (the show stopped)."""
        try:
            targets = await self.targets()
        except OBSError as exc:
            self._failed(f"scene texts: could not list OBS's inputs: {exc}")
            return
        if not targets:
            log.debug("no scene template texts in OBS: nothing to keep up to date")
            return
        # A write slower than a tick skips the ticks it overlapped, never queues them.
        async for _ in self.ctx.ticker(_period(self.ctx.speed)):
            self.ticks += 1
            texts = self.due(targets)
            if texts:
                await self.write(texts)


def _period(speed: float) -> float:
    """Show seconds between ticks: TICK_S real seconds at speed 1, never under MIN_TICK_S real."""
    return max(TICK_S, MIN_TICK_S * speed)


def scene_texts(cfg: EventConfig) -> Attachment:
    """The attachment: keeps the scene templates' countdowns and next titles current."""

    @contextlib.asynccontextmanager
    async def attached(ctx: ShowContext) -> AsyncIterator[None]:
        texts = SceneTexts(ctx, cfg)

        async def reconnected(_: OBSGateway) -> None:
            # A restarted OBS shows its last *saved* scene collection, not what was written
            # since: write every text again (an unchanged next title would stay stale).
            texts.sent.clear()

        remove = ctx.on_resync(reconnected)
        ctx.spawn(texts.run(), "the scene texts")
        try:
            yield
        finally:
            remove()

    return attached


class SpeakerFeeds:
    """Shows the feeds of the slot's own speakers in its scene and hides the others'.

    Templates put every speaker of a scene's slots in one box (three talks share "Talk");
    before a slot goes on air (while it is next) and while it is on air, its scene shows
    only its speakers' video and audio items — a hidden item is neither seen nor heard.
    Only the placeholders showcaller provisioned (marked) are switched: a host's own
    arrangement is never touched. Failures: one warning, then DEBUG.
    """

    def __init__(self, ctx: ShowContext, cfg: EventConfig) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.shown: dict[tuple[str, int], bool] = {}
        self.items: dict[str, list[tuple[int, str]]] = {}  # scene → (item id, source)
        self.failing = False

    async def marked_inputs(self) -> set[str]:
        """The speakers' inputs that showcaller provisioned."""
        from showcaller.stage.provision import MARK

        names = {n for sp in self.cfg.speakers for n in (sp.video_input, sp.audio_input) if n}
        have = {i.name for i in await self.ctx.gateway.inputs()}
        marked = set()
        for name in names & have:
            settings = await self.ctx.gateway.input_settings(name)
            if isinstance(settings.get(MARK), dict):
                marked.add(name)
        return marked

    def wanted(self, feeds: set[str]) -> dict[str, set[str]]:
        """Scene → the feeds its slot (on air, else next) wants shown."""
        state = self.ctx.state.show
        scenes: dict[str, set[str]] = {}
        for view in (state.on_air, state.next):
            if view is None or not view.scene or view.scene in scenes:
                continue
            slot = self.ctx.plan.slots[view.index]
            if not slot.speakers:
                continue
            own = {n for sp in slot.speakers for n in (sp.video_input, sp.audio_input) if n}
            scenes[view.scene] = own & feeds
        return scenes

    async def switch(self, scene: str, show: set[str], feeds: set[str]) -> None:
        """Enable `show` and disable the other `feeds` among the items of `scene`."""
        gateway = self.ctx.gateway
        if scene not in self.items:
            self.items[scene] = [
                (i.item_id, i.source_name) for i in await gateway.scene_items(scene)
            ]
        requests = []
        for item_id, source in self.items[scene]:
            if source not in feeds:
                continue
            enabled = source in show
            if self.shown.get((scene, item_id)) != enabled:
                requests.append((item_id, enabled))
        if not requests:
            return
        outcomes = await gateway.set_items_enabled(scene, requests)
        for (item_id, enabled), error in zip(requests, outcomes, strict=False):
            if error is None:
                self.shown[(scene, item_id)] = enabled
            else:
                self.items.pop(scene, None)  # the scene changed under us: read it again
                raise OBSError(f"{scene!r}: {error}")

    async def run(self) -> None:
        """Tick until cancelled (the show stopped)."""
        try:
            feeds = await self.marked_inputs()
        except OBSError as exc:
            self.ctx.warn(f"speaker feeds: could not read OBS's inputs: {exc}", problem=False)
            return
        if not feeds:
            return
        async for _ in self.ctx.ticker(_period(self.ctx.speed)):
            try:
                for scene, show in self.wanted(feeds).items():
                    await self.switch(scene, show, feeds)
            except OBSError as exc:
                if not self.failing:
                    self.ctx.warn(f"speaker feeds not switched: {exc}", problem=False)
                self.failing = True
                log.debug("speaker feeds not switched: %s", exc)
            else:
                self.failing = False


def speaker_feeds(cfg: EventConfig) -> Attachment:
    """The attachment: each shared scene shows its slot's own speakers only."""

    @contextlib.asynccontextmanager
    async def attached(ctx: ShowContext) -> AsyncIterator[None]:
        feeds = SpeakerFeeds(ctx, cfg)

        async def reconnected(_: OBSGateway) -> None:
            # A restarted OBS may show an older arrangement (another speaker's face, a live
            # microphone): switch every item again, read afresh.
            feeds.shown.clear()
            feeds.items.clear()

        remove = ctx.on_resync(reconnected)
        ctx.spawn(feeds.run(), "the speaker feeds")
        try:
            yield
        finally:
            remove()

    return attached


__all__ = ["MIN_TICK_S", "TICK_S", "SceneTexts", "SpeakerFeeds", "scene_texts", "speaker_feeds"]
