"""Request handlers a show controller uses beyond scenes, inputs and outputs: volume,
renaming, the transition kinds, special inputs, scene item index and source filters.
Wording and codes follow obs-websocket 5.1.0 (OBS 29)."""

from __future__ import annotations

import math

from showcaller.obs.protocol import Status
from showcaller.obs.sim.args import Args
from showcaller.obs.sim.model import JSON, OBSModel, RequestFailed, Scene, SceneItem

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


class ControlRequests:
    """Volume, rename, transition kinds, special inputs, item index, filters."""

    def __init__(self, model: OBSModel) -> None:
        """Handlers over `model`."""
        self.model = model

    async def handle_GetTransitionKindList(self, a: Args) -> JSON:
        """The transition kinds OBS 29 has."""
        return {"transitionKinds": list(TRANSITION_KINDS)}

    async def handle_GetSpecialInputs(self, a: Args) -> JSON:
        """Desktop and mic audio: none on a headless OBS with no audio device (measured),
        unless `use_cases.global_audio` made one."""
        special: dict[str, str | None] = dict.fromkeys(
            ("desktop1", "desktop2", "mic1", "mic2", "mic3", "mic4")
        )
        for inp in self.model.inputs.values():
            if inp.channel in special:
                special[inp.channel] = inp.name
        return special

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

    # ------------------------------------------------------------------ item transform, order

    async def handle_GetSceneItemTransform(self, a: Args) -> JSON:
        """The item's transform, as GetSceneItemList reports it."""
        scene = self.model.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        return {"sceneItemTransform": self.model.item_transform(item)}

    async def handle_SetSceneItemTransform(self, a: Args) -> None:
        """Overlay the given fields (unknown ones ignored, 703 if none is known)."""
        m = self.model
        scene = m.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        t = Args(a.obj("sceneItemTransform", allow_empty=False))
        # Checked in obs-websocket 5.1.0's order; nothing is changed unless all pass.
        info: dict[str, float] = {}
        for key, lo, hi in _INFO_FIELDS:
            if t.has(key):
                info[key] = t.number(key, lo, hi)
        bounds_type = None
        if t.has("boundsType"):
            bounds_type = t.string("boundsType")
            if bounds_type not in _BOUNDS_TYPES:
                raise RequestFailed(
                    Status.INVALID_REQUEST_FIELD, "The field `boundsType` has an invalid value."
                )
        for key, lo in (("boundsAlignment", 0.0), ("boundsWidth", 1.0), ("boundsHeight", 1.0)):
            if t.has(key):
                info[key] = t.number(key, lo, 90001.0 if lo else None)
        crop = {k: int(t.number(k, 0.0, 100000.0)) for k in sorted(item.crop) if t.has(k)}
        if not info and bounds_type is None and not crop:
            raise RequestFailed(
                Status.CANNOT_ACT, "You have not provided any valid transform changes."
            )
        if info or bounds_type is not None:
            item.x = info.get("positionX", item.x)
            item.y = info.get("positionY", item.y)
            item.rotation = info.get("rotation", item.rotation)
            item.scale_x = info.get("scaleX", item.scale_x)
            item.scale_y = info.get("scaleY", item.scale_y)
            item.alignment = int(info.get("alignment", item.alignment))
            item.bounds_type = bounds_type or item.bounds_type
            item.bounds_alignment = int(info.get("boundsAlignment", item.bounds_alignment))
            item.bounds_width = info.get("boundsWidth", item.bounds_width)
            item.bounds_height = info.get("boundsHeight", item.bounds_height)
            self._emit_transform(scene, item)
        if crop:
            # OBS sets the crop apart from the rest: a second event (measured on OBS 29).
            item.crop.update(crop)
            self._emit_transform(scene, item)

    def _emit_transform(self, scene: Scene, item: SceneItem) -> None:
        m = self.model
        m.emit(
            "SceneItemTransformChanged",
            {
                **m.scene_ref(scene.name),
                "sceneItemId": item.item_id,
                "sceneItemTransform": m.item_transform(item),
            },
        )

    async def handle_SetSceneItemIndex(self, a: Args) -> None:
        """Move an item in its scene's stack (0: the bottom; past the top clamps)."""
        m = self.model
        scene = m.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        index = int(a.number("sceneItemIndex", 0))
        scene.items.remove(item)
        scene.items.insert(min(index, len(scene.items)), item)
        # OBS reports the order even when nothing moved (measured).
        m.emit(
            "SceneItemListReindexed",
            {
                **m.scene_ref(scene.name),
                "sceneItems": [
                    {"sceneItemId": i.item_id, "sceneItemIndex": n}
                    for n, i in enumerate(scene.items)
                ],
            },
        )


# SetSceneItemTransform's number fields and ranges in obs-websocket 5.1.0.
_INFO_FIELDS: tuple[tuple[str, float | None, float | None], ...] = (
    ("positionX", None, None),
    ("positionY", None, None),
    ("rotation", -360.0, 360.0),
    ("scaleX", None, None),
    ("scaleY", None, None),
    ("alignment", 0.0, None),
)
_BOUNDS_TYPES = frozenset(
    (
        "OBS_BOUNDS_NONE",
        "OBS_BOUNDS_STRETCH",
        "OBS_BOUNDS_SCALE_INNER",
        "OBS_BOUNDS_SCALE_OUTER",
        "OBS_BOUNDS_SCALE_TO_WIDTH",
        "OBS_BOUNDS_SCALE_TO_HEIGHT",
        "OBS_BOUNDS_MAX_ONLY",
    )
)
