"""Request handlers of the simulated OBS: scenes, studio mode, transitions and scene
items (one `handle_<RequestType>` each, worded like OBS 29 / 30)."""

from __future__ import annotations

import asyncio
from typing import Any

from showcaller.clock import Clock
from showcaller.obs.protocol import Status
from showcaller.obs.sim.args import Args
from showcaller.obs.sim.core import FRAME_S, Tasks, sleep
from showcaller.obs.sim.model import JSON, OBSModel, RequestFailed

_CUT_DELAY_S = FRAME_S


class SceneRequests:
    """Scene, studio-mode, transition and scene-item requests."""

    def __init__(self, model: OBSModel, clock: Clock, tasks: Tasks) -> None:
        """Handlers over `model`; transitions run as `tasks`, timed on `clock`."""
        self.model = model
        self.clock = clock
        self._tasks = tasks
        self._transition: asyncio.Task[None] | None = None

    async def _sleep(self, seconds: float) -> None:
        await sleep(self.clock, seconds)

    # ------------------------------------------------------------------ scenes

    async def handle_GetSceneList(self, a: Args) -> JSON:
        """Newest scene first, as obs-websocket lists them."""
        m = self.model
        return {
            **m.scene_ref(m.program, "currentProgramScene"),
            **m.scene_ref(m.preview if m.studio_mode else None, "currentPreviewScene"),
            "scenes": m.scene_list(),
        }

    async def handle_GetCurrentProgramScene(self, a: Args) -> JSON:
        """The program scene (5.5 adds sceneName/sceneUuid)."""
        m = self.model
        data = m.scene_ref(m.program, "currentProgramScene")
        if m.with_uuids:
            data.update(m.scene_ref(m.program))
        return data

    async def handle_SetCurrentProgramScene(self, a: Args) -> None:
        """Switch program through the current transition; answers at once."""
        scene = self.model.scene(a.string("sceneName"))
        if scene.name != self.model.program:
            self._switch_program(scene.name)

    async def handle_GetCurrentPreviewScene(self, a: Args) -> JSON:
        """The preview scene; 506 outside studio mode."""
        m = self._studio()
        data = m.scene_ref(m.preview, "currentPreviewScene")
        if m.with_uuids:
            data.update(m.scene_ref(m.preview))
        return data

    async def handle_SetCurrentPreviewScene(self, a: Args) -> None:
        """Put a scene on preview (studio mode only)."""
        m = self._studio()
        scene = m.scene(a.string("sceneName"))
        if scene.name != m.preview:
            m.preview = scene.name
            m.emit("CurrentPreviewSceneChanged", m.scene_ref(scene.name))
            m.refresh_activity()

    def _studio(self) -> OBSModel:
        if not self.model.studio_mode:
            raise RequestFailed(Status.STUDIO_MODE_NOT_ACTIVE)
        return self.model

    async def handle_GetStudioModeEnabled(self, a: Args) -> JSON:
        """Whether studio mode is on."""
        return {"studioModeEnabled": self.model.studio_mode}

    async def handle_SetStudioModeEnabled(self, a: Args) -> None:
        """Studio mode on (preview starts as the program scene) or off."""
        enabled = a.boolean("studioModeEnabled")
        m = self.model
        if enabled == m.studio_mode:
            return
        m.studio_mode = enabled
        m.preview = m.program if enabled else None
        m.emit("StudioModeStateChanged", {"studioModeEnabled": enabled})
        m.refresh_activity()

    async def handle_TriggerStudioModeTransition(self, a: Args) -> None:
        """Preview to program; the old program becomes the preview (OBS swaps them)."""
        m = self._studio()
        if m.preview is not None:
            self._switch_program(m.preview, swap=True)

    async def handle_CreateScene(self, a: Args) -> JSON | None:
        """A new empty scene (5.5 answers its sceneUuid)."""
        scene = self.model.create_scene(a.string("sceneName"))
        return {"sceneUuid": scene.uuid} if self.model.with_uuids else None

    async def handle_RemoveScene(self, a: Args) -> None:
        """Remove a scene; if it was on program, OBS moves to the first listed scene."""
        m = self.model
        name = a.string("sceneName")
        m.scene(name)
        others = [sc.name for sc in reversed(m.scenes) if sc.name != name]
        # OBS starts moving program away before it reports the removal.
        if m.program == name and others:
            self._switch_program(others[0])
        m.remove_scene(name)
        if m.preview == name:
            m.preview = others[0] if others and m.studio_mode else None

    # ------------------------------------------------------------------ transitions

    def _transition_ref(self) -> JSON:
        data: JSON = {"transitionName": self.model.transition}
        if self.model.with_uuids:
            data["transitionUuid"] = None
        return data

    def _switch_program(self, target: str, *, swap: bool = False) -> None:
        m = self.model
        old = m.program
        if self._transition is not None and not self._transition.done():
            self._transition.cancel()
        m.program = target
        # The old scene stays active until the transition ends (OBS 29, measured).
        m.leaving = old if old != target else None
        m.emit("SceneTransitionStarted", self._transition_ref())
        m.refresh_activity()
        # By kind, not by name: an OBS in Japanese calls its Cut カット.
        cut = m.current_transition().kind == "cut_transition"
        self._transition = self._tasks.spawn(
            self._finish_transition(target, old if swap else None, cut), "sim-obs transition"
        )

    async def _finish_transition(self, target: str, new_preview: str | None, cut: bool) -> None:
        m = self.model
        ref = self._transition_ref()
        if cut:
            await self._sleep(_CUT_DELAY_S)
            m.emit("CurrentProgramSceneChanged", m.scene_ref(target))
            m.emit("SceneTransitionVideoEnded", ref)
        else:
            await self._sleep(m.transition_ms / 1000)
            m.emit("SceneTransitionVideoEnded", ref)
            if new_preview is not None and m.find_scene(new_preview) is not None:
                m.preview = new_preview
                m.emit("CurrentPreviewSceneChanged", m.scene_ref(new_preview))
            m.emit("CurrentProgramSceneChanged", m.scene_ref(target))
        if cut and new_preview is not None and m.find_scene(new_preview) is not None:
            m.preview = new_preview
            m.emit("CurrentPreviewSceneChanged", m.scene_ref(new_preview))
        m.emit("SceneTransitionEnded", ref)
        m.leaving = None
        m.refresh_activity()

    async def handle_GetSceneTransitionList(self, a: Args) -> JSON:
        """Cut and Fade, as a fresh OBS has them."""
        m = self.model
        current = m.current_transition()
        data: JSON = {
            "currentSceneTransitionKind": current.kind,
            "currentSceneTransitionName": current.name,
        }
        if m.with_uuids:
            data["currentSceneTransitionUuid"] = None
        data["transitions"] = [
            {
                "transitionConfigurable": t.configurable,
                "transitionFixed": t.fixed,
                "transitionKind": t.kind,
                "transitionName": t.name,
                **({"transitionUuid": None} if m.with_uuids else {}),
            }
            for t in m.transitions
        ]
        return data

    async def handle_GetCurrentSceneTransition(self, a: Args) -> JSON:
        """The current transition; a fixed one (Cut) has no duration."""
        m = self.model
        t = m.current_transition()
        data: JSON = {
            "transitionConfigurable": t.configurable,
            "transitionDuration": None if t.fixed else m.transition_ms,
            "transitionFixed": t.fixed,
            "transitionKind": t.kind,
            "transitionName": t.name,
            "transitionSettings": None,
        }
        if m.with_uuids:
            data["transitionUuid"] = None
        return data

    async def handle_SetCurrentSceneTransition(self, a: Args) -> None:
        """Choose Cut or Fade."""
        name = a.string("transitionName")
        m = self.model
        if all(t.name != name for t in m.transitions):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, "No scene transition was found by that name."
            )
        if name != m.transition:
            m.transition = name
            m.emit("CurrentSceneTransitionChanged", self._transition_ref())

    async def handle_SetCurrentSceneTransitionDuration(self, a: Args) -> None:
        """Fade length in ms (50..20000)."""
        ms = int(a.number("transitionDuration", 50, 20000))
        if ms != self.model.transition_ms:
            self.model.transition_ms = ms
            self.model.emit("CurrentSceneTransitionDurationChanged", {"transitionDuration": ms})

    # ------------------------------------------------------------------ scene items

    def _item_json(self, item: Any, index: int) -> JSON:
        m = self.model
        inp = m.inputs.get(item.source_name)
        data: JSON = {
            "inputKind": inp.kind if inp else None,
            "isGroup": None if inp else False,
            "sceneItemBlendMode": "OBS_BLEND_NORMAL",
            "sceneItemEnabled": item.enabled,
            "sceneItemId": item.item_id,
            "sceneItemIndex": index,
            "sceneItemLocked": item.locked,
            "sceneItemTransform": m.item_transform(item),
            "sourceName": item.source_name,
            "sourceType": "OBS_SOURCE_TYPE_INPUT" if inp else "OBS_SOURCE_TYPE_SCENE",
        }
        if m.with_uuids:
            data["sourceUuid"] = m.source_uuid(item.source_name)
        return data

    async def handle_GetSceneItemList(self, a: Args) -> JSON:
        """Items bottom first, with their transforms."""
        scene = self.model.scene(a.string("sceneName"))
        return {"sceneItems": [self._item_json(i, n) for n, i in enumerate(scene.items)]}

    async def handle_GetSceneItemId(self, a: Args) -> JSON:
        """The id of the first item showing `sourceName` in a scene."""
        scene = self.model.scene(a.string("sceneName"))
        source = a.string("sourceName")
        for item in scene.items:
            if item.source_name == source:
                return {"sceneItemId": item.item_id}
        raise RequestFailed(
            Status.RESOURCE_NOT_FOUND,
            "No scene items were found in the specified scene by that name or offset.",
        )

    async def handle_CreateSceneItem(self, a: Args) -> JSON:
        """Place an existing source on top of a scene."""
        m = self.model
        scene = m.scene(a.string("sceneName"))
        source = a.string("sourceName")
        if not m.source_exists(source):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{source}`."
            )
        enabled = a.boolean("sceneItemEnabled") if a.has("sceneItemEnabled") else True
        item = m.add_item(scene, source, enabled=enabled)
        return {"sceneItemId": item.item_id}

    async def handle_RemoveSceneItem(self, a: Args) -> None:
        """Take an item out of a scene."""
        scene = self.model.scene(a.string("sceneName"))
        self.model.remove_item(scene, int(a.number("sceneItemId", 0)))

    async def handle_GetSceneItemEnabled(self, a: Args) -> JSON:
        """Whether an item is visible."""
        scene = self.model.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        return {"sceneItemEnabled": item.enabled}

    async def handle_SetSceneItemEnabled(self, a: Args) -> None:
        """Show or hide an item."""
        scene = self.model.scene(a.string("sceneName"))
        item = scene.item(int(a.number("sceneItemId", 0)))
        enabled = a.boolean("sceneItemEnabled")
        if item.enabled != enabled:
            item.enabled = enabled
            self.model.emit_item_enabled(scene, item)
            self.model.refresh_activity()
