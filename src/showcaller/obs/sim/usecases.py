"""Verbs that set up a meetup's OBS and its speakers' feeds in the simulated OBS
(`sim.use_cases`), for tests and the demo. They act on the model alone (events go out
as OBS would send them, through the model's `emit`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from showcaller.obs.needs import ShowNeeds
from showcaller.obs.sim.model import Input, OBSModel, RequestFailed, Transition
from showcaller.obs.sim.outputs import is_loopback
from showcaller.obs.sim.signals import (
    AUDIO_STATES,
    VIDEO_STATES,
    AudioSignal,
    VideoSignal,
    VideoState,
)

SpeakerAudio = Literal["speaking", "silent", "clipping", "muted"]

# A remote speaker usually reaches OBS through a browser source (a VDO.Ninja-style
# call page) that carries both picture and sound.
SPEAKER_KIND = "browser_source"
AUDIO_ONLY_KIND = "ffmpeg_source"
TEXT_KIND = "text_ft2_source_v2"
RTMP_PORT = 1935


class LoopbackListener:
    """A TCP port on 127.0.0.1 that accepts and hangs up: a stream server as far as the
    sim's connect test can tell."""

    def __init__(self, port: int) -> None:
        """Listen on 127.0.0.1:port (0: a free port). SO_REUSEPORT lets several sims
        (other tests, other processes) share the RTMP port."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            self.sock.bind(("127.0.0.1", port))
            self.sock.listen(64)
            self.sock.setblocking(False)
        except OSError:
            self.sock.close()
            raise
        self.port: int = self.sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):  # no loop: the kernel's backlog accepts
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self.sock, self._accept)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self.sock.accept()
            conn.close()

    def close(self) -> None:
        """Stop listening."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self.sock)
        self.sock.close()


class UseCases:
    """Speaker feeds and seeding, on top of the model (events are sent as OBS would)."""

    def __init__(self, model: OBSModel) -> None:
        """Verbs for the simulated OBS whose state is `model`."""
        self._model = model
        self._listeners: dict[int, LoopbackListener] = {}

    def close(self) -> None:
        """Stop every loopback listener these verbs started."""
        for listener in self._listeners.values():
            listener.close()
        self._listeners.clear()

    def seed(self, scenes: Iterable[str] = (), inputs: Iterable[tuple[str, str, str]] = ()) -> None:
        """Create scenes and (name, kind, scene) inputs that do not exist yet."""
        m = self._model
        for name in scenes:
            if not m.source_exists(name):
                m.create_scene(name)
        for name, kind, scene in inputs:
            if not m.source_exists(scene):
                m.create_scene(scene)
            if not m.source_exists(name):
                m.create_input(scene, name, kind, {})

    def recording_settings(self, *, split: bool = True, chapters: bool = True) -> None:
        """Like OBS 30's Settings › Output: whether the recording may be split by hand
        (Advanced mode, Automatic File Splitting "Only split manually") and whether its
        format takes chapter markers (Hybrid MP4); each off answers its request 702."""
        self._model.record.split_enabled = split
        self._model.record.chapter_markers = chapters

    def listen(self, port: int = RTMP_PORT) -> int:
        """Make 127.0.0.1:port accept TCP connections (a stream server for StartStream's
        connect test) until the sim stops; 0 picks a free port. Returns the port."""
        if port in self._listeners:
            return port
        try:
            listener = LoopbackListener(port)
        except OSError:
            # Taken by something that is not sharing the port: it listens, which is all
            # a stream target has to do here.
            return port
        self._listeners[listener.port] = listener
        return listener.port

    def global_audio(self, name: str = "Mic/Aux", channel: str = "mic1") -> Input:
        """A global audio source (OBS's Settings → Audio, "mic1" or "desktop1"): always
        active, so always metered, whatever is on program; speaking, until told otherwise."""
        kind = "pulse_output_capture" if channel.startswith("desktop") else "pulse_input_capture"
        inp = self._model.create_global_audio(name, channel, kind)
        inp.audio = AudioSignal(name)
        return inp

    def _input(self, name: str) -> Input:
        try:
            return self._model.input(name)
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
        m = self._model
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

    def stream_target(
        self, server: str = "rtmp://127.0.0.1:1935/live", key: str = "sim", *, listen: bool = True
    ) -> None:
        """Configure a stream server that accepts: StartStream then reaches STARTED.

        StartStream really connects to a loopback rtmp:// target, so with `listen` this
        also makes one listen: the server's own port when it is on loopback, else the
        local RTMP port 127.0.0.1:1935 (where a host's test target usually is).
        """
        if listen:
            parts = urlsplit(server)
            loopback = parts.scheme in ("rtmp", "rtmps") and is_loopback(parts.hostname)
            self.listen(parts.port or RTMP_PORT if loopback else RTMP_PORT)
        m = self._model
        m.stream_service_type = "rtmp_custom"
        m.stream_service_settings = {"server": server, "key": key}

    def japanese_ui(self) -> None:
        """Name the built-in transitions as an OBS in Japanese does (measured on OBS 29)."""
        m = self._model
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
            self._model.set_mute(inp, True)
        else:
            inp.audio.state = state
            self._model.set_mute(inp, False)

    def seed_show(self, needs: ShowNeeds) -> None:
        """Create every scene, lower-third text input and speaker feed a show needs.

        Text inputs go into every scene that shows them (the slots' scenes); each
        speaker's feeds, with live picture and speaking sound, into the scenes of their
        slots. Existing sources are left as they are, and where they are (a speaker's
        existing input only gets its live picture and sound).
        """
        self.seed(needs.scene_names)
        m = self._model
        # An input that is there already (a provisioned one) is where its owner put it.
        for text in needs.texts:
            if not text.scenes or text.name in m.inputs:
                continue
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
                placed = name in m.inputs
                self.speaker_feed(name, speaker.scenes[0], video=video, audio=audio)
                if not placed:
                    self._show_in(name, speaker.scenes[1:])

    def _show_in(self, source: str, scenes: Iterable[str]) -> None:
        """Add `source` to each of `scenes` that does not show it yet."""
        m = self._model
        for scene_name in scenes:
            scene = m.scene(scene_name)
            if all(i.source_name != source for i in scene.items):
                m.add_item(scene, source)
