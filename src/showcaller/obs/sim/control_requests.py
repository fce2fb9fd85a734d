"""Request handlers a show controller uses beyond scenes, inputs and outputs: volume,
renaming, the transition kinds, special inputs, scene item index and source filters.
Wording and codes follow obs-websocket 5.1.0 (OBS 29)."""

from __future__ import annotations

import math

from showcaller.obs.protocol import Status
from showcaller.obs.sim.core import SimCore
from showcaller.obs.sim.model import JSON, RequestFailed
from showcaller.obs.sim.wire import Args

# GetTransitionKindList on Debian's OBS 29.0.2 (measured).
TRANSITION_KINDS = (
    "cut_transition",
    "fade_transition",
    "swipe_transition",
    "slide_transition",
    "obs_stinger_transition",
    "fade_to_color_transition",
    "wipe_transition",
)


def _db(mul: float) -> float:
    return 20 * math.log10(mul) if mul > 0 else -100.0


class ControlRequests(SimCore):
    """Volume, rename, transition kinds, special inputs, item index, filters."""

    async def handle_GetTransitionKindList(self, a: Args) -> JSON:
        """The transition kinds OBS 29 has."""
        return {"transitionKinds": list(TRANSITION_KINDS)}

    async def handle_GetSpecialInputs(self, a: Args) -> JSON:
        """Desktop and mic audio: none on a headless OBS with no audio device (measured)."""
        return dict.fromkeys(("desktop1", "desktop2", "mic1", "mic2", "mic3", "mic4"))

    async def handle_GetInputVolume(self, a: Args) -> JSON:
        """inputVolumeMul and inputVolumeDb (−100 for silence) of an audio input."""
        inp = self.model.audio_input(a.string("inputName"))
        return {"inputVolumeMul": inp.volume_mul, "inputVolumeDb": _db(inp.volume_mul)}

    async def handle_SetInputVolume(self, a: Args) -> None:
        """Set one of inputVolumeMul (0..20) or inputVolumeDb (−100..26)."""
        inp = self.model.audio_input(a.string("inputName"))
        has_mul, has_db = a.has("inputVolumeMul"), a.has("inputVolumeDb")
        mul = a.number("inputVolumeMul", 0, 20) if has_mul else None
        db = a.number("inputVolumeDb", -100, 26) if has_db else None
        if has_mul and has_db:
            raise RequestFailed(
                Status.TOO_MANY_REQUEST_FIELDS, "You may only specify one volume field."
            )
        if mul is None and db is None:
            raise RequestFailed(Status.MISSING_REQUEST_FIELD, "You must specify one volume field.")
        new = mul if mul is not None else 10 ** ((db or 0.0) / 20)
        if new != inp.volume_mul:
            inp.volume_mul = new
            data: JSON = {"inputName": inp.name}
            if self.model.with_uuids:
                data["inputUuid"] = inp.uuid
            data.update(inputVolumeMul=new, inputVolumeDb=_db(new))
            self.model.emit("InputVolumeChanged", data)

    async def handle_SetInputName(self, a: Args) -> None:
        """Rename an input (601 if any source has the new name); InputNameChanged."""
        inp = self.model.input(a.string("inputName"))
        new = a.string("newInputName")
        if self.model.source_exists(new):
            raise RequestFailed(
                Status.RESOURCE_ALREADY_EXISTS, "A source already exists by that new input name."
            )
        self.model.rename_input(inp, new)

    async def handle_GetSceneItemIndex(self, a: Args) -> JSON:
        """The item's index in its scene (0: the bottom)."""
        scene = self.model.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        return {"sceneItemIndex": scene.items.index(item)}

    async def handle_GetSourceFilterList(self, a: Args) -> JSON:
        """The filters of a source: the sim models none."""
        name = a.string("sourceName")
        if not self.model.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{name}`."
            )
        return {"filters": []}
