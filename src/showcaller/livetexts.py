"""The scene texts that change while a scene is on air: countdowns, the next title.

`scene_texts` is a session attachment. About once a second (faster in a sped-up
rehearsal) it works out the live fields (`textfields.live_values`: the countdown to the
start on standby, to the next slot on the break with the next title, the time left as
the talk timer's text fallback) and writes those that changed, for the scenes on air
or next only, in one batch. It runs as a task of its own: no cue waits for it, and a
slow OBS makes it skip ticks rather than queue them. It writes only inputs OBS has as
text inputs (a browser-source timer needs nothing). A failure is said once as a
warning, then logged at DEBUG until it works again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from showcaller.errors import OBSError
from showcaller.session import ShowSession
from showcaller.textfields import TextBinding, bindings, scene_texts_now

log = logging.getLogger(__name__)

TICK_S = 1.0  # real seconds between updates at speed 1
MIN_TICK_S = 0.1  # however fast a rehearsal runs


class SceneTexts:
    """The live texts of one show session."""

    def __init__(self, session: ShowSession) -> None:
        self.session = session
        self.show = session.show
        self.sent: dict[str, str] = {}
        self.failing = False
        self.ticks = 0
        self.updates = 0

    async def targets(self) -> list[TextBinding]:
        """The live bindings whose input OBS has, as a text input."""
        wanted = [b for b in bindings(self.session.cfg) if b.writer == "live"]
        if not wanted:
            return []
        kinds = {i.name: i.kind for i in await self.session.gateway.inputs()}
        return [b for b in wanted if kinds.get(b.input, "").startswith("text_")]

    def due(self, targets: Sequence[TextBinding]) -> list[tuple[str, str]]:
        """The (input, text) that differ from what was last written, at this moment."""
        now = self.show.time.wall(self.show.time.now())
        texts = scene_texts_now(self.session.cfg, targets, self.show.state, now)
        return [(name, text) for name, text in texts if self.sent.get(name) != text]

    async def write(self, texts: Sequence[tuple[str, str]]) -> None:
        """Write texts in one batch; each failure said once (then DEBUG), never raised."""
        requests = [
            ("SetInputSettings", {"inputName": name, "inputSettings": {"text": text}})
            for name, text in texts
        ]
        try:
            responses = await self.session.gateway.batch(requests)
        except OBSError as exc:
            self._failed(f"scene texts not updated: {exc}")
            return
        failures = []
        for (name, text), response in zip(texts, responses, strict=False):
            if response.status.result:
                self.sent[name] = text
            else:
                status = response.status
                failures.append(f"{name!r}: {status.comment or status.code}")
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
        self.show.warn(text, problem=False)

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
        period = max(MIN_TICK_S, TICK_S / max(self.show.speed, 1e-9))
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            self.ticks += 1
            texts = self.due(targets)
            if texts:
                await self.write(texts)
            # A write slower than a tick skips the ticks it overlapped, never queues them.
            await asyncio.sleep(period - (loop.time() - started) % period)


@contextlib.asynccontextmanager
async def scene_texts(session: ShowSession) -> AsyncIterator[None]:
    """The attachment: keeps the scene templates' countdowns and next titles current."""
    texts = SceneTexts(session)
    session.spawn(texts.run(), "the scene texts")
    yield


__all__ = ["MIN_TICK_S", "TICK_S", "SceneTexts", "scene_texts"]
