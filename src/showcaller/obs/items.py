"""Typed OBS verbs for building scenes: the canvas, input kinds, scene items and transforms.

`OBSGateway` inherits these (kept apart so that gateway.py stays one screenful of
concerns); like every verb they pass the gateway's guard. camelCase stays in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from showcaller.obs.answer import Answer as _Answer

# obs_alignment bits: an item's anchor, and where a source sits in its bounds (0: centre).
ALIGN_LEFT, ALIGN_RIGHT, ALIGN_TOP, ALIGN_BOTTOM = 1, 2, 4, 8
ALIGN_TOP_LEFT = ALIGN_TOP | ALIGN_LEFT


@dataclass(frozen=True)
class VideoSettings:
    """GetVideoSettings: the canvas (base) and output sizes, frames per second."""

    base_width: int
    base_height: int
    output_width: int
    output_height: int
    fps: float


@dataclass(frozen=True)
class ItemTransform:
    """Where an item sits: position (canvas pixels), anchor, bounds box, scale.

    `width`/`height` are what OBS reports (source size × scale); they are read, never set.
    """

    position_x: float = 0.0
    position_y: float = 0.0
    alignment: int = ALIGN_TOP_LEFT
    bounds_type: str = "OBS_BOUNDS_NONE"
    bounds_width: float = 0.0
    bounds_height: float = 0.0
    bounds_alignment: int = 0
    scale_x: float = 1.0
    scale_y: float = 1.0
    width: float = 0.0
    height: float = 0.0

    def to_wire(self) -> dict[str, Any]:
        """The fields SetSceneItemTransform takes (bounds only with a bounds type)."""
        wire: dict[str, Any] = {
            "positionX": self.position_x,
            "positionY": self.position_y,
            "alignment": self.alignment,
            "boundsType": self.bounds_type,
            "boundsAlignment": self.bounds_alignment,
            "scaleX": self.scale_x,
            "scaleY": self.scale_y,
        }
        if self.bounds_type != "OBS_BOUNDS_NONE":
            # OBS refuses bounds smaller than one pixel.
            wire["boundsWidth"] = max(1.0, self.bounds_width)
            wire["boundsHeight"] = max(1.0, self.bounds_height)
        return wire

    def differs(self, other: ItemTransform, tolerance: float = 0.5) -> list[str]:
        """The fields (by wire name) where `other` is not this placement."""
        diff = []
        for name, a, b in (
            ("positionX", self.position_x, other.position_x),
            ("positionY", self.position_y, other.position_y),
            ("scaleX", self.scale_x * 100, other.scale_x * 100),
            ("scaleY", self.scale_y * 100, other.scale_y * 100),
        ):
            if abs(a - b) > tolerance:
                diff.append(name)
        if self.alignment != other.alignment:
            diff.append("alignment")
        if self.bounds_type != other.bounds_type:
            diff.append("boundsType")
        if self.bounds_type != "OBS_BOUNDS_NONE":
            if self.bounds_alignment != other.bounds_alignment:
                diff.append("boundsAlignment")
            for name, a, b in (
                ("boundsWidth", max(1.0, self.bounds_width), other.bounds_width),
                ("boundsHeight", max(1.0, self.bounds_height), other.bounds_height),
            ):
                if abs(a - b) > tolerance:
                    diff.append(name)
        return diff


@dataclass(frozen=True)
class SceneItemInfo:
    """One item of a scene (GetSceneItemList), bottom of the stack at index 0."""

    item_id: int
    source_name: str
    input_kind: str | None  # None: the item shows a scene (or a group)
    enabled: bool
    index: int
    transform: ItemTransform


def _transform(a: _Answer) -> ItemTransform:
    return ItemTransform(
        position_x=a.number("positionX"),
        position_y=a.number("positionY"),
        alignment=a.integer("alignment", ALIGN_TOP_LEFT),
        bounds_type=a.text("boundsType", "OBS_BOUNDS_NONE"),
        bounds_width=a.number("boundsWidth"),
        bounds_height=a.number("boundsHeight"),
        bounds_alignment=a.integer("boundsAlignment", 0),
        scale_x=a.number("scaleX"),
        scale_y=a.number("scaleY"),
        width=a.number("width"),
        height=a.number("height"),
    )


class SceneItemVerbs:
    """Verbs over scene items and the canvas; mixed into `OBSGateway`."""

    async def _answer(self, request_type: str, data: dict[str, Any] | None = None) -> _Answer:
        raise NotImplementedError  # OBSGateway's

    async def request(
        self,
        request_type: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - OBSGateway.request's signature
    ) -> dict[str, Any]:
        raise NotImplementedError  # OBSGateway's

    async def video_settings(self) -> VideoSettings:
        """The canvas and output sizes and the frame rate."""
        a = await self._answer("GetVideoSettings")
        denominator = a.number("fpsDenominator") or 1.0
        return VideoSettings(
            base_width=a.integer("baseWidth"),
            base_height=a.integer("baseHeight"),
            output_width=a.integer("outputWidth"),
            output_height=a.integer("outputHeight"),
            fps=a.number("fpsNumerator") / denominator,
        )

    async def input_kinds(self) -> tuple[str, ...]:
        """The input kinds this OBS offers (versioned: color_source_v3)."""
        return (await self._answer("GetInputKindList", {"unversioned": False})).strings(
            "inputKinds"
        )

    async def input_kind_and_settings(self, name: str) -> tuple[str, dict[str, Any]]:
        """An input's kind and own settings (those that differ from the kind's defaults)."""
        a = await self._answer("GetInputSettings", {"inputName": name})
        return a.text("inputKind"), a.mapping("inputSettings")

    async def scene_items(self, scene: str) -> list[SceneItemInfo]:
        """The items of a scene, bottom first; ResourceNotFound if there is no such scene."""
        a = await self._answer("GetSceneItemList", {"sceneName": scene})
        return [
            SceneItemInfo(
                item_id=i.integer("sceneItemId"),
                source_name=i.text("sourceName"),
                input_kind=i.text("inputKind", "") or None,
                enabled=i.flag("sceneItemEnabled"),
                index=i.integer("sceneItemIndex"),
                transform=_transform(_sub(i, "sceneItemTransform")),
            )
            for i in a.objects("sceneItems")
        ]

    async def create_scene_item(self, scene: str, source: str, *, enabled: bool = True) -> int:
        """Show an existing source (input or scene) on top of `scene`; its item id."""
        a = await self._answer(
            "CreateSceneItem",
            {"sceneName": scene, "sourceName": source, "sceneItemEnabled": enabled},
        )
        return a.integer("sceneItemId")

    async def item_transform(self, scene: str, item_id: int) -> ItemTransform:
        """Where an item sits."""
        a = await self._answer(
            "GetSceneItemTransform", {"sceneName": scene, "sceneItemId": item_id}
        )
        return _transform(_sub(a, "sceneItemTransform"))

    async def set_item_transform(
        self, scene: str, item_id: int, transform: ItemTransform | Mapping[str, Any]
    ) -> None:
        """Place an item (an ItemTransform, or raw fields to overlay)."""
        wire = transform.to_wire() if isinstance(transform, ItemTransform) else dict(transform)
        await self.request(
            "SetSceneItemTransform",
            {"sceneName": scene, "sceneItemId": item_id, "sceneItemTransform": wire},
        )

    async def set_item_enabled(self, scene: str, item_id: int, enabled: bool) -> None:
        """Show or hide an item."""
        await self.request(
            "SetSceneItemEnabled",
            {"sceneName": scene, "sceneItemId": item_id, "sceneItemEnabled": enabled},
        )


def _sub(a: _Answer, key: str) -> _Answer:
    """The object at `key` of an answer, read field by field like the answer itself."""
    return _Answer(a.request_type, a.mapping(key), f"{key}.")


__all__ = [
    "ALIGN_TOP_LEFT",
    "ItemTransform",
    "SceneItemInfo",
    "SceneItemVerbs",
    "VideoSettings",
]
