"""Request handlers of the simulated OBS: inputs, sources and screenshots."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

from showcaller.clock import Clock
from showcaller.obs.protocol import Status
from showcaller.obs.sim import catalog
from showcaller.obs.sim.args import Args
from showcaller.obs.sim.images import encode_bmp, encode_png, encode_pnm
from showcaller.obs.sim.model import JSON, OBSModel, RequestFailed, unversioned

_SCREENSHOT_INLINE_PIXELS = 320 * 180

_ENCODERS: dict[str, Callable[[int, int, bytes], bytes]] = {
    "png": encode_png,
    "bmp": encode_bmp,
    "ppm": encode_pnm,
    "pgm": lambda w, h, rgba: encode_pnm(w, h, rgba, grey=True),
}


class InputRequests:
    """Input, mute, source-activity and screenshot requests."""

    def __init__(self, model: OBSModel, clock: Clock) -> None:
        """Handlers over `model`; screenshots are taken at `clock` time."""
        self.model = model
        self.clock = clock

    # ------------------------------------------------------------------ inputs

    def _input_ref(self, name: str) -> JSON:
        inp = self.model.inputs[name]
        data: JSON = {"inputKind": inp.kind, "inputName": inp.name}
        if self.model.with_uuids:
            data["inputUuid"] = inp.uuid
        data["unversionedInputKind"] = unversioned(inp.kind)
        return data

    async def handle_GetInputList(self, a: Args) -> JSON:
        """Newest input first, optionally of one kind."""
        kind = a.string("inputKind") if a.has("inputKind") else None
        names = [n for n, i in reversed(self.model.inputs.items()) if kind in (None, i.kind)]
        return {"inputs": [self._input_ref(n) for n in names]}

    async def handle_GetInputKindList(self, a: Args) -> JSON:
        """The input kinds the sim knows."""
        plain = a.boolean("unversioned") if a.has("unversioned") else False
        kinds = [unversioned(k) if plain else k for k in self.model.input_kinds]
        return {"inputKinds": kinds}

    async def handle_CreateInput(self, a: Args) -> JSON:
        """A new input, placed on top of a scene."""
        m = self.model
        scene_name = a.string("sceneName")
        name = a.string("inputName")
        kind = a.string("inputKind")
        settings = a.obj("inputSettings") if a.has("inputSettings") else {}
        enabled = a.boolean("sceneItemEnabled") if a.has("sceneItemEnabled") else True
        inp, item = m.create_input(scene_name, name, kind, settings, enabled=enabled)
        data: JSON = {"sceneItemId": item.item_id}
        if m.with_uuids:
            data["inputUuid"] = inp.uuid
        self._settings_changed(inp.name)
        return data

    async def handle_RemoveInput(self, a: Args) -> None:
        """Delete an input everywhere."""
        self.model.remove_input(a.string("inputName"))

    async def handle_GetInputSettings(self, a: Args) -> JSON:
        """The settings that differ from the kind's defaults (what was set)."""
        inp = self.model.input(a.string("inputName"))
        return {"inputKind": inp.kind, "inputSettings": dict(inp.settings)}

    async def handle_GetInputDefaultSettings(self, a: Args) -> JSON:
        """Defaults of an input kind."""
        kind = a.string("inputKind")
        if kind not in catalog.DEFAULT_SETTINGS:
            raise RequestFailed(Status.INVALID_INPUT_KIND)
        return {"defaultInputSettings": dict(catalog.DEFAULT_SETTINGS[kind])}

    async def handle_SetInputSettings(self, a: Args) -> None:
        """Merge (overlay, the default) or replace an input's settings."""
        inp = self.model.input(a.string("inputName"))
        settings = a.obj("inputSettings")
        overlay = a.boolean("overlay") if a.has("overlay") else True
        inp.settings = {**inp.settings, **settings} if overlay else dict(settings)
        self._settings_changed(inp.name)

    def _settings_changed(self, name: str) -> None:
        """InputSettingsChanged, which obs-websocket 5.4+ sends (OBS 30.2, measured: after
        CreateInput and after every SetInputSettings, with the settings set); 5.1 has none."""
        if not self.model.with_uuids:
            return
        inp = self.model.inputs[name]
        self.model.emit(
            "InputSettingsChanged",
            {"inputName": inp.name, "inputSettings": dict(inp.settings), "inputUuid": inp.uuid},
        )

    async def handle_GetInputMute(self, a: Args) -> JSON:
        """Whether an audio input is muted."""
        return {"inputMuted": self.model.audio_input(a.string("inputName")).muted}

    async def handle_SetInputMute(self, a: Args) -> None:
        """Mute or unmute an audio input."""
        inp = self.model.audio_input(a.string("inputName"))
        self.model.set_mute(inp, a.boolean("inputMuted"))

    async def handle_ToggleInputMute(self, a: Args) -> JSON:
        """Flip mute; answers the new state."""
        inp = self.model.audio_input(a.string("inputName"))
        self.model.set_mute(inp, not inp.muted)
        return {"inputMuted": inp.muted}

    # ------------------------------------------------------------------ sources and screenshots

    async def handle_GetSourceActive(self, a: Args) -> JSON:
        """videoActive: shown on program; videoShowing: on program or preview."""
        name = a.string("sourceName")
        if not self.model.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{name}`."
            )
        return {
            "videoActive": self.model.video_active(name),
            "videoShowing": self.model.video_showing(name),
        }

    async def handle_GetSourceScreenshot(self, a: Args) -> JSON:
        """A data: URL of the source's picture now (png, bmp, ppm, pgm)."""
        m = self.model
        name = a.string("sourceName")
        if not m.source_exists(name):
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No source was found by the name of `{name}`."
            )
        fmt = a.string("imageFormat")
        if fmt.lower() not in catalog.IMAGE_FORMATS:
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD,
                "Your specified image format is invalid or not supported by this system.",
            )
        want_w = int(a.number("imageWidth", 8, 4096)) if a.has("imageWidth") else None
        want_h = int(a.number("imageHeight", 8, 4096)) if a.has("imageHeight") else None
        if a.has("imageCompressionQuality"):
            a.number("imageCompressionQuality", -1, 100)
        nw, nh = m.native_size(name)
        if want_w and want_h:
            width, height = want_w, want_h
        elif want_w:
            width, height = want_w, max(1, round(want_w * nh / nw)) if nw else want_w
        elif want_h:
            width, height = (max(1, round(want_h * nw / nh)) if nh else want_h), want_h
        else:
            width, height = nw, nh
        if width <= 0 or height <= 0:
            raise RequestFailed(Status.REQUEST_PROCESSING_FAILED, "Failed to render screenshot.")
        encoder = _ENCODERS.get(fmt.lower())
        if encoder is None:
            raise RequestFailed(
                Status.REQUEST_PROCESSING_FAILED,
                f"The simulated OBS encodes png, bmp, ppm and pgm, not {fmt}.",
            )
        rgba = m.render(name, width, height, self.clock.monotonic())
        if width * height > _SCREENSHOT_INLINE_PIXELS:
            data = await asyncio.to_thread(encoder, width, height, rgba)
        else:
            data = encoder(width, height, rgba)
        return {"imageData": f"data:image/{fmt};base64," + base64.b64encode(data).decode()}
