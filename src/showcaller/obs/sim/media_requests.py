"""Request handlers of the simulated OBS: media inputs and source filters, answered as
OBS 29.0.2 (obs-websocket 5.1.0) answers them (measured)."""

from __future__ import annotations

import contextlib
import wave
from pathlib import Path

from showcaller.clock import Clock
from showcaller.obs.protocol import Status
from showcaller.obs.sim.args import Args
from showcaller.obs.sim.model import JSON, Input, OBSModel, RequestFailed, not_found

_ACTION = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_"
_ACTIONS = frozenset(_ACTION + a for a in ("PLAY", "PAUSE", "STOP", "RESTART", "NEXT", "PREVIOUS"))
_PLAYING, _PAUSED, _ENDED = (
    "OBS_MEDIA_STATE_PLAYING",
    "OBS_MEDIA_STATE_PAUSED",
    "OBS_MEDIA_STATE_ENDED",
)


def _duration_ms(path: str) -> int | None:
    """A WAV file's length in ms; None for anything the sim cannot read."""
    with contextlib.suppress(OSError, wave.Error, EOFError), wave.open(str(Path(path))) as w:
        frames: int = w.getnframes()
        rate: int = w.getframerate()
        return frames * 1000 // rate
    return None


class MediaRequests:
    """GetMediaInputStatus, TriggerMediaInputAction, SetSourceFilterEnabled."""

    def __init__(self, model: OBSModel, clock: Clock) -> None:
        """Handlers over `model`; playback runs on `clock`."""
        self.model = model
        self.clock = clock

    def _media_file(self, inp: Input) -> str:
        return str(inp.settings.get("local_file") or "") if inp.kind == "ffmpeg_source" else ""

    def _media_status(self, inp: Input) -> tuple[str, int | None, int | None]:
        """(mediaState, mediaDuration, mediaCursor) now; playback starts when first seen."""
        if inp.kind != "ffmpeg_source":
            return "OBS_MEDIA_STATE_NONE", None, None
        path = self._media_file(inp)
        if not path:
            # An ffmpeg_source with no file says it plays, at 0 of 0 ms, while active; NONE
            # with nulls while not (OBS 29, measured).
            if self.model.is_active(inp.name):
                return _PLAYING, 0, 0
            return "OBS_MEDIA_STATE_NONE", None, None
        duration = _duration_ms(path)
        if duration is None:
            return "OBS_MEDIA_STATE_NONE", None, None
        now = self.clock.monotonic()
        cursor = inp.media_cursor_ms
        if inp.media_state == _PLAYING:
            cursor += (now - inp.media_anchor) * 1000
            if cursor >= duration:
                if inp.effective("looping"):
                    cursor %= max(1, duration)
                else:
                    self._media_seek(inp, _ENDED, 0.0)
        if inp.media_state not in (_PLAYING, _PAUSED):
            return inp.media_state, None, None
        return inp.media_state, duration, int(cursor)

    def media_activity(self, inp: Input, active: bool) -> None:
        """A media file plays only while active: its scene on program restarts it (OBS's
        `restart_on_activate`), leaving program ends it (OBS 29, measured)."""
        path = self._media_file(inp)
        if not path or _duration_ms(path) is None:
            return
        if active:
            self._media_seek(inp, _PLAYING, 0.0)
            self._media_event("MediaInputPlaybackStarted", inp)
            self._media_event("MediaInputActionTriggered", inp, mediaAction=_ACTION + "RESTART")
        elif inp.media_state in (_PLAYING, _PAUSED):
            self._media_seek(inp, _ENDED, 0.0)
            self._media_event("MediaInputPlaybackEnded", inp)

    def _media_seek(self, inp: Input, state: str, cursor_ms: float) -> None:
        inp.media_state = state
        inp.media_cursor_ms = cursor_ms
        inp.media_anchor = self.clock.monotonic()

    def _media_event(self, event_type: str, inp: Input, **extra: str) -> None:
        data: JSON = {"inputName": inp.name}
        if self.model.with_uuids:
            data["inputUuid"] = inp.uuid
        self.model.emit(event_type, {**data, **extra})

    async def handle_GetMediaInputStatus(self, a: Args) -> JSON:
        """mediaState, and mediaDuration / mediaCursor in ms (null unless playing or paused)."""
        inp = self.model.input(a.string("inputName"))
        state, duration, cursor = self._media_status(inp)
        return {"mediaCursor": cursor, "mediaDuration": duration, "mediaState": state}

    async def handle_TriggerMediaInputAction(self, a: Args) -> None:
        """PLAY, PAUSE, STOP (ends), RESTART; NEXT and PREVIOUS do nothing to a media file."""
        inp = self.model.input(a.string("inputName"))
        action = a.string("mediaAction")
        if action not in _ACTIONS:
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD, "You have specified an invalid media input action."
            )
        verb = action.removeprefix(_ACTION)
        if inp.kind != "ffmpeg_source" or verb in ("NEXT", "PREVIOUS"):
            return  # not controllable media, or no playlist: OBS signals nothing
        triggered = {"mediaAction": action}
        if not self._media_file(inp):
            self._media_event("MediaInputActionTriggered", inp, **triggered)
            return
        state, _, cursor = self._media_status(inp)
        if verb == "PLAY":
            if state != _PLAYING:
                self._media_seek(inp, _PLAYING, float(cursor or 0) if state == _PAUSED else 0.0)
                self._media_event("MediaInputPlaybackStarted", inp)
            self._media_event("MediaInputActionTriggered", inp, **triggered)
        elif verb == "PAUSE":
            if state == _PLAYING:
                self._media_seek(inp, _PAUSED, float(cursor or 0))
            self._media_event("MediaInputActionTriggered", inp, **triggered)
        elif verb == "STOP":
            self._media_event("MediaInputActionTriggered", inp, **triggered)
            if state in (_PLAYING, _PAUSED):
                self._media_seek(inp, _ENDED, 0.0)
                self._media_event("MediaInputPlaybackEnded", inp)
        else:  # RESTART
            self._media_seek(inp, _PLAYING, 0.0)
            self._media_event("MediaInputActionTriggered", inp, **triggered)

    async def handle_SetSourceFilterEnabled(self, a: Args) -> None:
        """The sim models no filters: 600 for any filter of a known source, as OBS words it."""
        name = a.string("sourceName")
        if not self.model.source_exists(name):
            raise not_found(name)
        filter_name = a.string("filterName")
        raise RequestFailed(
            Status.RESOURCE_NOT_FOUND,
            f"No filter was found in the source `{name}` with the name `{filter_name}`.",
        )
