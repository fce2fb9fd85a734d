"""Request handlers of the simulated OBS for what OBS's own window holds: profiles, scene
collections, hotkeys, monitors, the properties dialog, and an input's audio settings
(tracks, balance, sync offset, monitoring) — what a control surface such as Bitfocus
Companion asks for when it connects. Answers as OBS 29.0.2 gives them (measured)."""

from __future__ import annotations

from showcaller.obs.protocol import Status
from showcaller.obs.sim.args import Args
from showcaller.obs.sim.model import JSON, Input, OBSModel, RequestFailed

# A fresh OBS names its first profile and scene collection "Untitled".
PROFILE = "Untitled"
SCENE_COLLECTION = "Untitled"
TRACKS = tuple(str(n) for n in range(1, 7))
# OBS 29's own hotkeys, in GetHotkeyList's order (one OBSBasic.SelectScene per scene
# follows them).
FRONTEND_HOTKEYS = (
    "OBSBasic.StartStreaming",
    "OBSBasic.StopStreaming",
    "OBSBasic.ForceStopStreaming",
    "OBSBasic.StartRecording",
    "OBSBasic.StopRecording",
    "OBSBasic.PauseRecording",
    "OBSBasic.UnpauseRecording",
    "OBSBasic.SplitFile",
    "OBSBasic.StartReplayBuffer",
    "OBSBasic.StopReplayBuffer",
    "OBSBasic.EnablePreview",
    "OBSBasic.DisablePreview",
    "OBSBasic.ShowContextBar",
    "OBSBasic.HideContextBar",
    "OBSBasic.TogglePreviewProgram",
    "OBSBasic.Transition",
    "OBSBasic.ResetStats",
    "OBSBasic.Screenshot",
    "OBSBasic.SelectedSourceScreenshot",
)
AUDIO_HOTKEYS = ("libobs.mute", "libobs.unmute", "libobs.push-to-mute", "libobs.push-to-talk")
MEDIA_HOTKEYS = ("MediaSource.Restart", "MediaSource.Play", "MediaSource.Pause", "MediaSource.Stop")


class FrontendRequests:
    """Profiles, scene collections, hotkeys, monitors, dialogs and audio settings."""

    def __init__(self, model: OBSModel) -> None:
        """Handlers over `model`."""
        self.model = model

    async def handle_GetProfileList(self, a: Args) -> JSON:
        """One profile, the current one."""
        return {"currentProfileName": PROFILE, "profiles": [PROFILE]}

    async def handle_GetSceneCollectionList(self, a: Args) -> JSON:
        """One scene collection, the current one."""
        return {
            "currentSceneCollectionName": SCENE_COLLECTION,
            "sceneCollections": [SCENE_COLLECTION],
        }

    async def handle_GetMonitorList(self, a: Args) -> JSON:
        """One screen the size of the canvas (OBS names X screens `screen(N)`)."""
        w, h = self.model.canvas
        return {
            "monitors": [
                {
                    "monitorHeight": h,
                    "monitorIndex": 0,
                    "monitorName": "screen(0)",
                    "monitorPositionX": 0,
                    "monitorPositionY": 0,
                    "monitorWidth": w,
                }
            ]
        }

    def hotkey_names(self) -> list[str]:
        """GetHotkeyList: OBS's own, a SelectScene per scene, then per input (oldest first)
        its mute and media hotkeys and a show/hide pair per scene item showing it."""
        m = self.model
        names = [*FRONTEND_HOTKEYS, *("OBSBasic.SelectScene" for _ in m.scenes)]
        for inp in m.inputs.values():
            if inp.has_audio:
                names.extend(AUDIO_HOTKEYS)
            if inp.kind in ("ffmpeg_source", "vlc_source"):
                names.extend(MEDIA_HOTKEYS)
            for scene in m.scenes:
                for item in scene.items:
                    if item.source_name == inp.name:
                        names += [
                            f"libobs.show_scene_item.{inp.name}",
                            f"libobs.hide_scene_item.{inp.name}",
                        ]
        return names

    async def handle_GetHotkeyList(self, a: Args) -> JSON:
        """Every hotkey's name (names repeat, as OBS lists them)."""
        return {"hotkeys": self.hotkey_names()}

    async def handle_TriggerHotkeyByName(self, a: Args) -> None:
        """A hotkey OBS has is accepted (the sim does not run its action); 600 otherwise."""
        if a.string("hotkeyName") not in self.hotkey_names():
            raise RequestFailed(Status.RESOURCE_NOT_FOUND, "No hotkeys were found by that name.")

    async def handle_OpenInputPropertiesDialog(self, a: Args) -> None:
        """Nothing to open without a window: accepted for an existing input, as OBS does."""
        self.model.input(a.string("inputName"))

    # ------------------------------------------------------------------ audio settings

    def _audio(self, a: Args) -> Input:
        return self.model.audio_input(a.string("inputName"))

    def _input_data(self, inp: Input, **values: object) -> JSON:
        data: JSON = {"inputName": inp.name}
        if self.model.with_uuids:
            data["inputUuid"] = inp.uuid
        return {**data, **values}

    async def handle_GetInputAudioTracks(self, a: Args) -> JSON:
        """Which of the six tracks the input is mixed into (all, on a new input)."""
        return {"inputAudioTracks": dict(self._audio(a).tracks)}

    async def handle_SetInputAudioTracks(self, a: Args) -> None:
        """Turn tracks on or off; sends InputAudioTracksChanged with all six."""
        inp = self._audio(a)
        tracks = a.obj("inputAudioTracks")
        for key, on in tracks.items():
            if key in TRACKS and isinstance(on, bool):
                inp.tracks[key] = on
        data = self._input_data(inp, inputAudioTracks=dict(inp.tracks))
        self.model.emit("InputAudioTracksChanged", data)

    async def handle_GetInputAudioBalance(self, a: Args) -> JSON:
        """The balance, 0.5 in the middle."""
        return {"inputAudioBalance": self._audio(a).balance}

    async def handle_GetInputAudioSyncOffset(self, a: Args) -> JSON:
        """The sync offset in ms."""
        return {"inputAudioSyncOffset": self._audio(a).sync_offset_ms}

    async def handle_GetInputAudioMonitorType(self, a: Args) -> JSON:
        """Monitoring: none on a new input."""
        return {"monitorType": self._audio(a).monitor_type}
