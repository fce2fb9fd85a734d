"""An in-memory OBS for the engine: remembers every switch and text, fires the change event.

The STYLE's "in-memory recorder": for tests and benchmarks of the show loop on a virtual
clock, where a socket would only add noise. Everything about OBS itself is tested against
the simulated OBS and real OBS over real sockets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from showcaller import errors
from showcaller.clock import Clock
from showcaller.obs.events import ProgramSceneChanged


class RecordingOBS:
    """An in-memory OBS: remembers switches and texts, tells listeners ProgramSceneChanged."""

    def __init__(self, clock: Clock, scenes: Sequence[str], *, missing: Sequence[str] = ()):
        self.clock = clock
        self.scenes = set(scenes) - set(missing)
        self.program = "Scene"
        self.switches: list[tuple[float, str]] = []
        self.texts: dict[str, str] = {}
        self.text_history: list[str] = []  # every text set, in order
        self._listeners: list[Callable[[ProgramSceneChanged], Awaitable[None] | None]] = []

    async def set_program_scene(self, name: str) -> None:
        if name not in self.scenes:
            raise errors.ResourceNotFound(
                "SetCurrentProgramScene", 600, f"No source was found by the name of `{name}`."
            )
        self.program = name
        self.switches.append((self.clock.monotonic(), name))
        event = ProgramSceneChanged(scene=name)
        for listener in list(self._listeners):
            result = listener(event)
            if result is not None:
                await result

    async def program_scene(self) -> str:
        return self.program

    async def set_text(self, name: str, text: str) -> None:
        self.texts[name] = text
        self.text_history.append(text)

    async def cue(
        self, texts: Sequence[tuple[str, str]], scene: str
    ) -> list[errors.OBSError | None]:
        outcomes: list[errors.OBSError | None] = [None] * len(texts)
        for name, text in texts:
            await self.set_text(name, text)
        try:
            await self.set_program_scene(scene)
        except errors.OBSError as exc:
            return [*outcomes, exc]
        return [*outcomes, None]

    async def on(
        self,
        listener: Callable[[ProgramSceneChanged], Awaitable[None] | None],
        *event_classes: type[ProgramSceneChanged],
    ) -> Callable[[], Awaitable[None]]:
        self._listeners.append(listener)

        async def unsubscribe() -> None:
            self._listeners.remove(listener)

        return unsubscribe
