"""Verbs that set up a meetup's OBS and its speakers' feeds in the simulated OBS
(`sim.use_cases`), for tests and the demo."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from showcaller.obs.needs import ShowNeeds
from showcaller.obs.sim.model import Input, RequestFailed, Transition
from showcaller.obs.sim.signals import (
    AUDIO_STATES,
    VIDEO_STATES,
    AudioSignal,
    VideoSignal,
    VideoState,
)

if TYPE_CHECKING:
    from showcaller.obs.sim.server import SimulatedOBS

SpeakerAudio = Literal["speaking", "silent", "clipping", "muted"]

# A remote speaker usually reaches OBS through a browser source (a VDO.Ninja-style
# call page) that carries both picture and sound.
SPEAKER_KIND = "browser_source"
AUDIO_ONLY_KIND = "ffmpeg_source"
TEXT_KIND = "text_ft2_source_v2"


class UseCases:
    """Speaker feeds and seeding, on top of the model (events are sent as OBS would)."""

    def __init__(self, sim: SimulatedOBS) -> None:
        """Verbs for one simulated OBS."""
        self._sim = sim

    def _input(self, name: str) -> Input:
        try:
            return self._sim.model.input(name)
        except RequestFailed as exc:
            raise KeyError(f"the simulated OBS has no input {name!r}") from exc

    def speaker_feed(
        self,
        name: str,
        scene: str,
        *,
        video: VideoState | None = "live",
        audio: SpeakerAudio | None = "speaking",
    ) -> Input:
        """Create (if missing) a speaker's feed input in `scene`, with live picture and sound."""
        m = self._sim.model
        if m.find_scene(scene) is None:
            m.create_scene(scene)
        if name not in m.inputs:
            w, h = m.canvas
            kind = SPEAKER_KIND if video is not None else AUDIO_ONLY_KIND
            settings = {"width": w, "height": h} if kind == SPEAKER_KIND else {}
            m.create_input(scene, name, kind, settings)
        if video is not None:
            self.speaker_video(name, video)
        if audio is not None:
            self.speaker_audio(name, audio)
        return m.inputs[name]

    def stream_target(self, server: str = "rtmp://127.0.0.1:1935/live", key: str = "sim") -> None:
        """Configure a stream server that accepts: StartStream then reaches STARTED."""
        m = self._sim.model
        m.stream_service_type = "rtmp_custom"
        m.stream_service_settings = {"server": server, "key": key}

    def japanese_ui(self) -> None:
        """Name the built-in transitions as an OBS in Japanese does (measured on OBS 29)."""
        m = self._sim.model
        m.transitions = [
            Transition("カット", "cut_transition", fixed=True),
            Transition("フェード", "fade_transition", fixed=False),
        ]
        m.transition = "フェード"

    def speaker_video(self, input_name: str, state: VideoState) -> None:
        """The picture of `input_name`: "live", "black", "frozen" or "offline"."""
        if state not in VIDEO_STATES:
            raise ValueError(f"video state must be one of {VIDEO_STATES}, not {state!r}")
        inp = self._input(input_name)
        if inp.video is None:
            inp.video = VideoSignal(input_name)
        inp.video.set_state(state)

    def speaker_audio(self, input_name: str, state: SpeakerAudio) -> None:
        """The sound of `input_name`: "speaking", "silent", "clipping" or "muted" (OBS mute on)."""
        if state not in (*AUDIO_STATES, "muted"):
            raise ValueError(
                f"audio state must be one of {(*AUDIO_STATES, 'muted')}, not {state!r}"
            )
        inp = self._input(input_name)
        if not inp.has_audio:
            raise ValueError(f"{input_name!r} is a {inp.kind}, which carries no sound in OBS")
        if inp.audio is None:
            inp.audio = AudioSignal(input_name)
        if state == "muted":
            self._sim.model.set_mute(inp, True)
        else:
            inp.audio.state = state
            self._sim.model.set_mute(inp, False)

    def seed_show(self, needs: ShowNeeds) -> None:
        """Create every scene, lower-third text input and speaker feed a show needs.

        Text inputs go into every scene that shows them (the slots' scenes); each
        speaker's feeds, with live picture and speaking sound, into the scenes of their
        slots. Existing sources are left as they are.
        """
        self._sim.seed(needs.scene_names)
        m = self._sim.model
        for text in needs.texts:
            if not text.scenes:
                continue
            if text.name not in m.inputs:
                m.create_input(text.scenes[0], text.name, TEXT_KIND, {"text": ""})
            self._show_in(text.name, text.scenes)
        for speaker in needs.speakers:
            if not speaker.scenes:
                continue
            feeds: list[tuple[str, VideoState | None, SpeakerAudio | None]] = []
            if speaker.video_input:
                same = speaker.audio_input == speaker.video_input
                feeds.append((speaker.video_input, "live", "speaking" if same else None))
            if speaker.audio_input and speaker.audio_input != speaker.video_input:
                feeds.append((speaker.audio_input, None, "speaking"))
            for name, video, audio in feeds:
                self.speaker_feed(name, speaker.scenes[0], video=video, audio=audio)
                self._show_in(name, speaker.scenes[1:])

    def _show_in(self, source: str, scenes: Iterable[str]) -> None:
        """Add `source` to each of `scenes` that does not show it yet."""
        m = self._sim.model
        for scene_name in scenes:
            scene = m.scene(scene_name)
            if all(i.source_name != source for i in scene.items):
                m.add_item(scene, source)
