"""The state of a simulated OBS: scenes, inputs, scene items, program/preview, studio
mode, transitions, outputs, and how each source looks in a screenshot.

Synchronous and I/O-free apart from `emit`, the callback the server installs to send
events. Failures raise `RequestFailed` with the status code and the comment that real
OBS 29.0.2 sends for the same mistake.
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from showcaller.obs.protocol import Status
from showcaller.obs.sim import catalog
from showcaller.obs.sim.signals import AudioSignal, VideoSignal

JSON = dict[str, Any]
Emit = Callable[[str, JSON], None]
MediaHook = Callable[["Input", bool], None]

# Nested scenes deeper than this are not rendered (OBS refuses cycles; depth is a guard).
_MAX_DEPTH = 8


class RequestFailed(Exception):
    """A request failed with OBS's status code and comment."""

    def __init__(self, code: int, comment: str | None = None) -> None:
        super().__init__(f"{code}: {comment}")
        self.code = code
        self.comment = comment


def not_found(name: str) -> RequestFailed:
    """600 for a source name nobody knows, worded as OBS words it."""
    return RequestFailed(Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{name}`.")


@dataclass
class SceneItem:
    """One source placed in a scene."""

    item_id: int
    source_name: str
    enabled: bool = True
    locked: bool = False
    x: float = 0.0
    y: float = 0.0
    scale_x: float = 1.0
    scale_y: float = 1.0
    rotation: float = 0.0
    alignment: int = 5
    bounds_type: str = "OBS_BOUNDS_NONE"
    bounds_alignment: int = 0
    bounds_width: float = 0.0
    bounds_height: float = 0.0
    crop: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("cropBottom", "cropLeft", "cropRight", "cropTop"), 0)
    )


@dataclass
class Scene:
    """A scene; `items[0]` is the bottom of the stack, as OBS indexes them."""

    name: str
    uuid: str
    items: list[SceneItem] = field(default_factory=list)
    next_item_id: int = 1

    def item(self, item_id: int) -> SceneItem:
        """The item with this id, or the 600 OBS answers."""
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise RequestFailed(
            Status.RESOURCE_NOT_FOUND,
            f"No scene items were found in scene `{self.name}` with the ID `{item_id}`.",
        )


@dataclass
class Input:
    """An input (a source that is not a scene), with optional synthetic signals."""

    name: str
    uuid: str
    kind: str
    settings: JSON
    muted: bool = False
    volume_mul: float = 1.0
    video: VideoSignal | None = None
    audio: AudioSignal | None = None
    # Media playback (ffmpeg_source with a file): the state at `media_anchor` (clock s).
    media_state: str = "OBS_MEDIA_STATE_NONE"
    media_anchor: float = 0.0
    media_cursor_ms: float = 0.0
    # A global audio source (Settings → Audio: "desktop1", "mic1", …): in no scene, always
    # active, as OBS keeps its output channels active.
    channel: str | None = None
    # Audio settings of the mixer: the six tracks, balance, sync offset, monitoring.
    tracks: dict[str, bool] = field(default_factory=lambda: {str(n): True for n in range(1, 7)})
    balance: float = 0.5
    sync_offset_ms: int = 0
    monitor_type: str = "OBS_MONITORING_TYPE_NONE"

    @property
    def has_audio(self) -> bool:
        """Whether OBS would treat this input as carrying sound."""
        return self.kind in catalog.AUDIO_KINDS

    def effective(self, key: str) -> Any:
        """A setting, falling back to the kind's default."""
        if key in self.settings:
            return self.settings[key]
        return catalog.DEFAULT_SETTINGS.get(self.kind, {}).get(key)


@dataclass(frozen=True)
class Transition:
    """A scene transition as GetSceneTransitionList lists it."""

    name: str
    kind: str
    fixed: bool
    configurable: bool = False


OutputState = Literal["stopped", "starting", "started", "reconnecting", "stopping"]


@dataclass
class StreamOutput:
    """The stream output; `bytes_at` and `started_at` are in clock seconds."""

    state: OutputState = "stopped"
    started_at: float = 0.0
    bytes_base: int = 0
    bytes_since: float = 0.0
    reconnecting_since: float | None = None
    # OBS makes its stream output at the first StartStream and keeps it (GetOutputList).
    created: bool = False

    @property
    def active(self) -> bool:
        """What GetStreamStatus calls outputActive."""
        return self.state in ("started", "reconnecting", "stopping")


@dataclass
class RecordOutput:
    """The record output; times are clock seconds."""

    state: OutputState = "stopped"
    path: Path | None = None
    # The recording's first file: what OBS 30.2 names on stopping, even after splits.
    first_path: Path | None = None
    started_at: float = 0.0
    paused_at: float | None = None
    paused_total: float = 0.0
    chapters: list[str] = field(default_factory=list)
    # OBS 30's recording settings: manual file splitting on (Advanced output mode,
    # Automatic File Splitting "Only split manually") and a format with chapter markers
    # (Hybrid MP4). Off, SplitRecordFile / CreateRecordChapter answer 702 (measured).
    split_enabled: bool = True
    chapter_markers: bool = True

    @property
    def active(self) -> bool:
        """What GetRecordStatus calls outputActive."""
        return self.state in ("started", "stopping")

    def duration(self, now: float) -> float:
        """Seconds recorded so far, pauses excluded."""
        if self.state == "stopped":
            return 0.0
        end = self.paused_at if self.paused_at is not None else now
        return max(0.0, end - self.started_at - self.paused_total)


def abgr_to_rgba(color: int) -> bytes:
    """OBS colour settings are 0xAABBGGRR integers; the RGBA bytes of one pixel."""
    c = int(color) & 0xFFFFFFFF
    return bytes((c & 0xFF, (c >> 8) & 0xFF, (c >> 16) & 0xFF, (c >> 24) & 0xFF))


class OBSModel:
    """Everything OBS knows, starting as a fresh OBS: one empty scene "Scene", Fade 300 ms."""

    def __init__(
        self, *, with_uuids: bool = False, canvas: tuple[int, int] = (1920, 1080), seed: int = 0
    ) -> None:
        """A fresh OBS; `with_uuids` adds the UUID fields of obs-websocket 5.5."""
        self.with_uuids = with_uuids
        self.canvas = canvas
        self._rng = random.Random(seed)
        self.emit: Emit = lambda event_type, data: None
        # Called when a media input is activated (True: restart) or deactivated (False).
        self.on_media: MediaHook = lambda inp, active: None
        self.scenes: list[Scene] = [Scene("Scene", self.new_uuid())]
        self.inputs: dict[str, Input] = {}
        self.program = "Scene"
        self.preview: str | None = None
        # The old program scene while a transition runs: OBS keeps it active until the end.
        self.leaving: str | None = None
        # The sources OBS holds active (shown on program) and showing (also on preview).
        self.active: set[str] = {"Scene"}
        self.showing: set[str] = {"Scene"}
        self._showing_seq: list[str] = ["Scene"]  # top item first, as OBS walks a scene
        self.studio_mode = False
        self.transitions = [
            Transition("Cut", "cut_transition", fixed=True),
            Transition("Fade", "fade_transition", fixed=False),
        ]
        self.transition = "Fade"
        self.transition_ms = 300
        # GetInputKindList: a test may take one away (an OBS without obs-browser).
        self.input_kinds: list[str] = list(catalog.INPUT_KINDS)
        self.stream_service_type = "rtmp_common"
        self.stream_service_settings: JSON = {}
        self.stream = StreamOutput()
        self.record = RecordOutput()

    def new_uuid(self) -> str:
        """A random (seeded) version-4 UUID, as OBS gives every source."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # ---------------------------------------------------------------- lookups

    def current_transition(self) -> Transition:
        """The transition in use (its name is the UI's wording, its kind says what it does)."""
        return next(t for t in self.transitions if t.name == self.transition)

    def find_scene(self, name: str) -> Scene | None:
        """The scene of that name, if any."""
        for scene in self.scenes:
            if scene.name == name:
                return scene
        return None

    def source_exists(self, name: str) -> bool:
        """Whether a scene or an input has this name (OBS shares one namespace)."""
        return name in self.inputs or self.find_scene(name) is not None

    def scene(self, name: str) -> Scene:
        """The scene, or the 600/602 OBS answers."""
        scene = self.find_scene(name)
        if scene is not None:
            return scene
        if name in self.inputs:
            raise RequestFailed(
                Status.INVALID_RESOURCE_TYPE, "The specified source is not a scene."
            )
        raise not_found(name)

    def input(self, name: str) -> Input:
        """The input, or the 600/602 OBS answers."""
        inp = self.inputs.get(name)
        if inp is not None:
            return inp
        if self.find_scene(name) is not None:
            raise RequestFailed(
                Status.INVALID_RESOURCE_TYPE, "The specified source is not an input."
            )
        raise not_found(name)

    def audio_input(self, name: str) -> Input:
        """An input that carries sound, or the error OBS answers."""
        inp = self.input(name)
        if not inp.has_audio:
            raise RequestFailed(
                Status.INVALID_RESOURCE_STATE, "The specified input does not support audio."
            )
        return inp

    def _scene_ref(self, scene: Scene, prefix: str = "scene") -> JSON:
        ref: JSON = {f"{prefix}Name": scene.name}
        if self.with_uuids:
            ref[f"{prefix}Uuid"] = scene.uuid
        return ref

    def scene_ref(self, name: str | None, prefix: str = "scene") -> JSON:
        """`{sceneName[, sceneUuid]}` (or with another prefix); nulls for None."""
        scene = self.find_scene(name) if name is not None else None
        if scene is None:
            ref: JSON = {f"{prefix}Name": name}
            if self.with_uuids:
                ref[f"{prefix}Uuid"] = None
            return ref
        return self._scene_ref(scene, prefix)

    def scene_list(self) -> list[JSON]:
        """GetSceneList `scenes`: OBS lists the newest scene first, at index 0."""
        return [
            {"sceneIndex": i, **self._scene_ref(scene)}
            for i, scene in enumerate(reversed(self.scenes))
        ]

    # ---------------------------------------------------------------- scenes

    def create_scene(self, name: str) -> Scene:
        """Add an empty scene; emits SceneListChanged and SceneCreated (OBS's order)."""
        if self.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_ALREADY_EXISTS, "A source already exists by that scene name."
            )
        scene = Scene(name, self.new_uuid())
        self.scenes.append(scene)
        self.emit("SceneListChanged", {"scenes": self.scene_list()})
        self.emit("SceneCreated", {**self._scene_ref(scene), "isGroup": False})
        return scene

    def remove_scene(self, name: str) -> None:
        """Remove a scene and every item showing it; the caller moves program away."""
        scene = self.scene(name)
        self.scenes.remove(scene)
        for other in self.scenes:
            other.items = [i for i in other.items if i.source_name != name]
        self.emit("SceneRemoved", {**self._scene_ref(scene), "isGroup": False})
        self.emit("SceneListChanged", {"scenes": self.scene_list()})
        if self.leaving == name:
            self.leaving = None
        self.refresh_activity()
        self.drop_orphans()

    def drop_orphans(self) -> None:
        """Remove inputs no scene shows any more: OBS frees a source with its last item."""
        used = {item.source_name for scene in self.scenes for item in scene.items}
        for name in [n for n, i in self.inputs.items() if n not in used and i.channel is None]:
            self.remove_input(name)

    # ---------------------------------------------------------------- inputs, items

    def create_input(
        self, scene_name: str, name: str, kind: str, settings: JSON, *, enabled: bool = True
    ) -> tuple[Input, SceneItem]:
        """Create an input and place it on top of `scene_name`."""
        scene = self.scene(scene_name)
        if self.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_ALREADY_EXISTS, "A source already exists by that input name."
            )
        if kind not in self.input_kinds:
            raise RequestFailed(
                Status.INVALID_INPUT_KIND,
                "Your specified input kind is not supported by OBS. Check that your specified "
                "kind is properly versioned and that any necessary plugins are loaded.",
            )
        inp = Input(name, self.new_uuid(), kind, dict(settings))
        self.inputs[name] = inp
        data: JSON = {"inputName": name}
        if self.with_uuids:
            data["inputUuid"] = inp.uuid
        data.update(
            inputKind=kind,
            unversionedInputKind=unversioned(kind),
            inputSettings=dict(settings),
            defaultInputSettings=dict(catalog.DEFAULT_SETTINGS.get(kind, {})),
        )
        self.emit("InputCreated", data)
        item = self.add_item(scene, name, enabled=enabled)
        return inp, item

    def create_global_audio(self, name: str, channel: str, kind: str) -> Input:
        """A global audio source (Settings → Audio) on `channel` ("desktop1", "mic1", …):
        in no scene and always active, as OBS keeps its output channels active."""
        if self.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_ALREADY_EXISTS, "A source already exists by that input name."
            )
        inp = Input(name, self.new_uuid(), kind, {}, channel=channel)
        self.inputs[name] = inp
        data: JSON = {"inputName": name}
        if self.with_uuids:
            data["inputUuid"] = inp.uuid
        data.update(
            inputKind=kind,
            unversionedInputKind=unversioned(kind),
            inputSettings={},
            defaultInputSettings=dict(catalog.DEFAULT_SETTINGS.get(kind, {})),
        )
        self.emit("InputCreated", data)
        self.refresh_activity()
        return inp

    def add_item(self, scene: Scene, source_name: str, *, enabled: bool = True) -> SceneItem:
        """Place a source on top of a scene; emits SceneItemCreated, SceneItemSelected."""
        if source_name == scene.name:
            raise RequestFailed(
                Status.CANNOT_ACT, "You cannot create scene item of a scene within itself."
            )
        item = SceneItem(scene.next_item_id, source_name, enabled=enabled)
        scene.next_item_id += 1
        scene.items.append(item)
        data: JSON = {**self._scene_ref(scene), "sourceName": source_name}
        if self.with_uuids:
            data["sourceUuid"] = self.source_uuid(source_name)
        data.update(sceneItemId=item.item_id, sceneItemIndex=len(scene.items) - 1)
        self.emit("SceneItemCreated", data)
        # OBS's UI selects every item added to a scene, whichever scene it is (measured
        # on OBS 29 for CreateInput and CreateSceneItem).
        self.emit("SceneItemSelected", {**self._scene_ref(scene), "sceneItemId": item.item_id})
        if not enabled:
            self.emit_item_enabled(scene, item)
        self.refresh_activity()
        return item

    def item_transform(self, item: SceneItem) -> JSON:
        """`sceneItemTransform` as obs-websocket 5.1 reports it (width = sourceWidth × scaleX)."""
        nw, nh = self.native_size(item.source_name)
        return {
            "alignment": item.alignment,
            "boundsAlignment": item.bounds_alignment,
            "boundsHeight": float(item.bounds_height),
            "boundsType": item.bounds_type,
            "boundsWidth": float(item.bounds_width),
            **dict(sorted(item.crop.items())),
            "height": float(nh * item.scale_y),
            "positionX": float(item.x),
            "positionY": float(item.y),
            "rotation": float(item.rotation),
            "scaleX": float(item.scale_x),
            "scaleY": float(item.scale_y),
            "sourceHeight": float(nh),
            "sourceWidth": float(nw),
            "width": float(nw * item.scale_x),
        }

    def source_uuid(self, name: str) -> str | None:
        """The UUID of a scene or input."""
        if name in self.inputs:
            return self.inputs[name].uuid
        scene = self.find_scene(name)
        return scene.uuid if scene else None

    def emit_item_enabled(self, scene: Scene, item: SceneItem) -> None:
        """Emit SceneItemEnableStateChanged for an item."""
        self.emit(
            "SceneItemEnableStateChanged",
            {
                **self._scene_ref(scene),
                "sceneItemId": item.item_id,
                "sceneItemEnabled": item.enabled,
            },
        )

    def remove_item(self, scene: Scene, item_id: int) -> None:
        """Take an item out of a scene; emits SceneItemRemoved."""
        item = scene.item(item_id)
        scene.items.remove(item)
        data: JSON = {**self._scene_ref(scene), "sourceName": item.source_name}
        if self.with_uuids:
            data["sourceUuid"] = self.source_uuid(item.source_name)
        data["sceneItemId"] = item_id
        self.emit("SceneItemRemoved", data)
        self.refresh_activity()
        self.drop_orphans()

    def remove_input(self, name: str) -> None:
        """Delete an input and all its items; emits InputRemoved."""
        inp = self.input(name)
        del self.inputs[name]
        for scene in self.scenes:
            scene.items = [i for i in scene.items if i.source_name != name]
        self.active.discard(name)
        self.showing.discard(name)
        self._showing_seq = [n for n in self._showing_seq if n != name]
        data: JSON = {"inputName": name}
        if self.with_uuids:
            data["inputUuid"] = inp.uuid
        self.emit("InputRemoved", data)

    def rename_input(self, inp: Input, new: str) -> None:
        """Rename an input everywhere it is used; emits InputNameChanged."""
        old = inp.name
        self.inputs = {(new if k == old else k): v for k, v in self.inputs.items()}
        inp.name = new
        for scene in self.scenes:
            for item in scene.items:
                if item.source_name == old:
                    item.source_name = new
        for names in (self.active, self.showing):
            if old in names:
                names.discard(old)
                names.add(new)
        self._showing_seq = [new if n == old else n for n in self._showing_seq]
        data: JSON = {}
        if self.with_uuids:
            data["inputUuid"] = inp.uuid
        data.update(oldInputName=old, inputName=new)
        self.emit("InputNameChanged", data)

    def set_mute(self, inp: Input, muted: bool) -> None:
        """Mute or unmute; emits InputMuteStateChanged when it changes."""
        if inp.muted == muted:
            return
        inp.muted = muted
        data: JSON = {"inputName": inp.name}
        if self.with_uuids:
            data["inputUuid"] = inp.uuid
        data["inputMuted"] = muted
        self.emit("InputMuteStateChanged", data)

    # ---------------------------------------------------------------- activity

    def _shown_from(self, root: str | None, out: list[str], depth: int = 0) -> None:
        """`root` and every source its enabled items show, top item first (OBS's order)."""
        if root is None or depth > _MAX_DEPTH or root in out:
            return
        out.append(root)
        scene = self.find_scene(root)
        if scene is None:
            return
        for item in reversed(scene.items):
            if item.enabled:
                self._shown_from(item.source_name, out, depth + 1)

    def _active_order(self) -> list[str]:
        out: list[str] = []
        self._shown_from(self.program, out)
        self._shown_from(self.leaving, out)
        out.extend(n for n, i in self.inputs.items() if i.channel is not None and n not in out)
        return out

    def _showing_order(self) -> list[str]:
        out = self._active_order()
        if self.studio_mode:
            self._shown_from(self.preview, out)
        return out

    def refresh_activity(self) -> None:
        """Activate and show what program (and preview) now show; deactivate the rest.

        As OBS 29 does (measured): for each input that comes on, top item first,
        InputShowStateChanged, then a media input restarts (MediaInputPlaybackStarted,
        MediaInputActionTriggered RESTART), then InputActiveStateChanged; for each that
        goes, InputShowStateChanged and InputActiveStateChanged, and after them every
        media input that stopped sends MediaInputPlaybackEnded. Preview only shows.
        """
        showing = self._showing_order()
        active = self._active_order()
        now_showing, now_active = set(showing), set(active)
        for name in showing:
            inp = self.inputs.get(name)
            if inp is None:
                continue
            if name not in self.showing:
                self._emit_input(inp, "InputShowStateChanged", videoShowing=True)
            if name in now_active and name not in self.active:
                self.on_media(inp, True)
                self._emit_input(inp, "InputActiveStateChanged", videoActive=True)
        ended: list[Input] = []
        for name in self._showing_seq:
            inp = self.inputs.get(name)
            if inp is None:
                continue
            if name not in now_showing:
                self._emit_input(inp, "InputShowStateChanged", videoShowing=False)
            if name in self.active and name not in now_active:
                self._emit_input(inp, "InputActiveStateChanged", videoActive=False)
                ended.append(inp)
        self.showing, self.active, self._showing_seq = now_showing, now_active, showing
        for inp in ended:
            self.on_media(inp, False)

    def _emit_input(self, inp: Input, event_type: str, **values: bool) -> None:
        data: JSON = {"inputName": inp.name}
        if self.with_uuids:
            data["inputUuid"] = inp.uuid
        self.emit(event_type, {**data, **values})

    def is_active(self, name: str) -> bool:
        """Whether OBS holds this source active: shown on program (or leaving it in a
        transition), or a global audio source."""
        return name in self.active

    def _offline(self, name: str) -> bool:
        inp = self.inputs.get(name)
        return inp is not None and inp.video is not None and inp.video.state == "offline"

    def video_active(self, name: str) -> bool:
        """Shown on program (what OBS calls videoActive); an offline feed never is."""
        return name in self.active and not self._offline(name)

    def video_showing(self, name: str) -> bool:
        """Shown on program or on the studio-mode preview; an offline feed never is."""
        return name in self.showing and not self._offline(name)

    # ---------------------------------------------------------------- pictures

    def native_size(self, name: str) -> tuple[int, int]:
        """The size a source has on the canvas before scaling (0×0 draws nothing)."""
        if self.find_scene(name) is not None:
            return self.canvas
        inp = self.inputs.get(name)
        if inp is None:
            return (0, 0)
        if inp.kind == "color_source_v3":
            return (int(inp.effective("width") or 0), int(inp.effective("height") or 0))
        if inp.kind == "text_ft2_source_v2":
            font = inp.effective("font") or {}
            size = int(font.get("size", 256)) if isinstance(font, dict) else 256
            text = str(inp.settings.get("text", ""))
            return (max(1, int(len(text) * size * 0.55)), int(size * 1.17))
        if inp.video is not None:
            if inp.kind == "browser_source":
                return (int(inp.effective("width") or 0), int(inp.effective("height") or 0))
            return self.canvas
        return (0, 0)

    def render(self, name: str, width: int, height: int, t: float, depth: int = 0) -> bytes:
        """RGBA rows of a source scaled to width×height, at show time `t`."""
        scene = self.find_scene(name)
        if scene is not None:
            return self._render_scene(scene, width, height, t, depth)
        inp = self.input(name)
        if inp.video is not None:
            return inp.video.frame(width, height, t)
        if inp.kind == "color_source_v3":
            return abgr_to_rgba(int(inp.effective("color") or 0)) * (width * height)
        if inp.kind == "text_ft2_source_v2":
            return _text_picture(inp, width, height)
        return bytes(width * height * 4)

    def _render_scene(self, scene: Scene, width: int, height: int, t: float, depth: int) -> bytes:
        # Black where nothing is drawn; a scene shown in another scene is see-through there.
        canvas = bytearray((b"\x00\x00\x00\xff" if depth == 0 else bytes(4)) * (width * height))
        if depth > _MAX_DEPTH:
            return bytes(canvas)
        fx, fy = width / self.canvas[0], height / self.canvas[1]
        for item in scene.items:
            if not item.enabled:
                continue
            x, y, w, h = self.drawn_rect(item)
            x0, y0, pw, ph = round(x * fx), round(y * fy), round(w * fx), round(h * fy)
            if pw <= 0 or ph <= 0:
                continue
            picture = self.render(item.source_name, pw, ph, t, depth + 1)
            if not any(picture[3::4]):
                continue  # fully transparent (an offline feed, an empty media source)
            _blit(canvas, width, height, picture, x0, y0, pw, ph)
        return bytes(canvas)

    def drawn_rect(self, item: SceneItem) -> tuple[float, float, float, float]:
        """Where an item's picture lands on the canvas (x, y, w, h), as OBS draws it:
        scaled by its bounds (or its scale), anchored at its position by its alignment."""
        nw, nh = self.native_size(item.source_name)
        box_w, box_h = nw * item.scale_x, nh * item.scale_y
        w, h = box_w, box_h
        if item.bounds_type != "OBS_BOUNDS_NONE" and nw > 0 and nh > 0:
            box_w, box_h = item.bounds_width, item.bounds_height
            w, h = _bounded(item.bounds_type, nw, nh, box_w, box_h)
        x = item.x - _offset(item.alignment, box_w, horizontal=True)
        y = item.y - _offset(item.alignment, box_h, horizontal=False)
        if item.bounds_type != "OBS_BOUNDS_NONE":
            x += _offset(item.bounds_alignment, box_w - w, horizontal=True)
            y += _offset(item.bounds_alignment, box_h - h, horizontal=False)
        return x, y, w, h


def _bounded(kind: str, nw: float, nh: float, bw: float, bh: float) -> tuple[float, float]:
    """A source of nw×nh scaled into a bw×bh bounds box by OBS's bounds type."""
    inner = min(bw / nw, bh / nh)
    scale = {
        "OBS_BOUNDS_STRETCH": None,
        "OBS_BOUNDS_SCALE_INNER": inner,
        "OBS_BOUNDS_SCALE_OUTER": max(bw / nw, bh / nh),
        "OBS_BOUNDS_SCALE_TO_WIDTH": bw / nw,
        "OBS_BOUNDS_SCALE_TO_HEIGHT": bh / nh,
        "OBS_BOUNDS_MAX_ONLY": min(1.0, inner),
    }.get(kind, 1.0)
    if scale is None:
        return bw, bh
    return nw * scale, nh * scale


def _offset(alignment: int, size: float, *, horizontal: bool) -> float:
    """How far the alignment's anchor lies from the left/top of `size` (OBS_ALIGN_* bits)."""
    low, high = (1, 2) if horizontal else (4, 8)
    if alignment & low:
        return 0.0
    if alignment & high:
        return size
    return size / 2


def unversioned(kind: str) -> str:
    """`color_source_v3` → `color_source`, as OBS's unversionedInputKind."""
    head, sep, tail = kind.rpartition("_v")
    return head if sep and tail.isdigit() else kind


def _blit(
    canvas: bytearray, cw: int, ch: int, picture: bytes, x0: int, y0: int, w: int, h: int
) -> None:
    # Clipped to the canvas; an opaque picture is copied row by row, one with transparent
    # pixels (a text's background) pixel by pixel, the transparent ones left out.
    left, right = max(0, x0), min(cw, x0 + w)
    if left >= right:
        return
    opaque = all(a == 0xFF for a in picture[3::4])
    for y in range(max(0, y0), min(ch, y0 + h)):
        src = (y - y0) * w * 4
        row = picture[src + (left - x0) * 4 : src + (right - x0) * 4]
        at = (y * cw + left) * 4
        if opaque:
            canvas[at : at + len(row)] = row
            continue
        for i in range(0, len(row), 4):
            if row[i + 3]:
                canvas[at + i : at + i + 4] = row[i : i + 4]


def _text_picture(inp: Input, width: int, height: int) -> bytes:
    """A caption: one cell per character in the text colour, on a transparent background
    (as OBS draws text); different texts give different cells."""
    text = str(inp.settings.get("text", "")) or " "
    ink = abgr_to_rgba(int(inp.effective("color1") or 0xFFFFFFFF))[:3] + b"\xff"
    paper = b"\x00\x00\x00\x00"
    salt = zlib.crc32(text.encode())
    glyph_row = bytearray()
    for x in range(width):
        ch = text[min(len(text) - 1, x * len(text) // max(1, width))]
        glyph_row += ink if (not ch.isspace() and (x + salt) % 3) else paper
    blank = paper * width
    band = range(height // 4, height - height // 4)
    return b"".join(bytes(glyph_row) if y in band else blank for y in range(height))
