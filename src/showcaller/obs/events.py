"""Typed OBS events: frozen snake_case dataclasses parsed from obs-websocket events.

The camelCase payloads stay in here. `parse_event` turns one `protocol.Event` into
its typed event, or None when showcaller has no type for it or its payload is
malformed; a malformed payload is logged (never raised into the receive loop).
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from showcaller.obs import protocol

__all__ = [
    "ChannelLevels",
    "ExitStarted",
    "InputActiveChanged",
    "InputLevels",
    "InputMuteChanged",
    "InputShowChanged",
    "InputVolumeMeters",
    "OBSEvent",
    "OutputState",
    "ProgramSceneChanged",
    "RecordFileChanged",
    "RecordStateChanged",
    "StreamStateChanged",
    "dbfs",
    "event_subscription",
    "parse_event",
]

log = logging.getLogger(__name__)

_OUTPUT_STATE_PREFIX = "OBS_WEBSOCKET_OUTPUT_"


class OutputState(enum.StrEnum):
    """Where a stream or record output stands (from OBS's `OBS_WEBSOCKET_OUTPUT_*`)."""

    STARTING = "starting"
    STARTED = "started"
    STOPPING = "stopping"
    STOPPED = "stopped"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    PAUSED = "paused"
    RESUMED = "resumed"
    # A state a newer OBS may add: the event still arrives, with `active` to go by.
    UNKNOWN = "unknown"

    @classmethod
    def from_obs(cls, value: str) -> OutputState:
        """`OBS_WEBSOCKET_OUTPUT_STARTED` → STARTED; anything else → UNKNOWN."""
        name = value.removeprefix(_OUTPUT_STATE_PREFIX).lower()
        if not value.startswith(_OUTPUT_STATE_PREFIX) or name == cls.UNKNOWN.value:
            return cls.UNKNOWN
        try:
            return cls(name)
        except ValueError:
            return cls.UNKNOWN


def dbfs(multiplier: float) -> float:
    """A linear level (1.0 = full scale) in dBFS; -inf for silence (0 or below)."""
    return 20.0 * math.log10(multiplier) if multiplier > 0 else -math.inf


@dataclass(frozen=True)
class OBSEvent:
    """Base of the typed events; `obs_event_type` names the obs-websocket event."""

    obs_event_type: ClassVar[str]


@dataclass(frozen=True)
class ProgramSceneChanged(OBSEvent):
    """CurrentProgramSceneChanged: `scene` is now on program (on air)."""

    obs_event_type: ClassVar[str] = "CurrentProgramSceneChanged"
    scene: str


@dataclass(frozen=True)
class StreamStateChanged(OBSEvent):
    """StreamStateChanged."""

    obs_event_type: ClassVar[str] = "StreamStateChanged"
    state: OutputState
    active: bool


@dataclass(frozen=True)
class RecordStateChanged(OBSEvent):
    """RecordStateChanged; `path` is the file (OBS gives it when stopped, 5.5 also when started)."""

    obs_event_type: ClassVar[str] = "RecordStateChanged"
    state: OutputState
    active: bool
    path: str | None


@dataclass(frozen=True)
class RecordFileChanged(OBSEvent):
    """RecordFileChanged (obs-websocket 5.5): the recording goes on in a new file."""

    obs_event_type: ClassVar[str] = "RecordFileChanged"
    path: str


@dataclass(frozen=True)
class InputActiveChanged(OBSEvent):
    """InputActiveStateChanged: the input is (or stops being) on program."""

    obs_event_type: ClassVar[str] = "InputActiveStateChanged"
    input: str
    active: bool


@dataclass(frozen=True)
class InputShowChanged(OBSEvent):
    """InputShowStateChanged: the input is (or stops being) shown anywhere (program/preview)."""

    obs_event_type: ClassVar[str] = "InputShowStateChanged"
    input: str
    showing: bool


@dataclass(frozen=True)
class InputMuteChanged(OBSEvent):
    """InputMuteStateChanged."""

    obs_event_type: ClassVar[str] = "InputMuteStateChanged"
    input: str
    muted: bool


@dataclass(frozen=True)
class ChannelLevels:
    """One audio channel's levels, linear multipliers (1.0 = full scale)."""

    magnitude: float
    peak: float
    input_peak: float

    @property
    def peak_dbfs(self) -> float:
        """The peak in dBFS (-inf for silence)."""
        return dbfs(self.peak)


@dataclass(frozen=True)
class InputLevels:
    """One input's audio levels, per channel."""

    name: str
    channels: tuple[ChannelLevels, ...]

    @property
    def peak_dbfs(self) -> float:
        """The loudest channel's peak in dBFS (-inf for silence or no channels)."""
        return max((c.peak_dbfs for c in self.channels), default=-math.inf)


@dataclass(frozen=True)
class InputVolumeMeters(OBSEvent):
    """InputVolumeMeters: levels of every audio input (~20 a second, only when subscribed)."""

    obs_event_type: ClassVar[str] = "InputVolumeMeters"
    inputs: tuple[InputLevels, ...]


@dataclass(frozen=True)
class ExitStarted(OBSEvent):
    """ExitStarted: OBS is quitting."""

    obs_event_type: ClassVar[str] = "ExitStarted"


def event_subscription(event_class: type[OBSEvent]) -> protocol.EventSubscription:
    """The Identify subscription bit OBS needs before it sends `event_class`."""
    return protocol.EVENT_INTENT[event_class.obs_event_type]


# --------------------------------------------------------------------------- parsing


class _Malformed(Exception):
    """A payload field is missing or of the wrong type (never leaves this module)."""


def _field(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if key not in d:
        raise _Malformed(f"without {key}")
    value = d[key]
    # bool is an int in Python, never a number in a payload.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Malformed(f"with {key} = {value!r} (not {what})")
    return value


def _str(d: Mapping[str, Any], key: str) -> str:
    value: str = _field(d, key, str, "a string")
    return value


def _bool(d: Mapping[str, Any], key: str) -> bool:
    value: bool = _field(d, key, bool, "true or false")
    return value


def _state(d: Mapping[str, Any]) -> OutputState:
    return OutputState.from_obs(_str(d, "outputState"))


def _level(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Malformed(f"with a level {value!r} (not a number)")
    return float(value)


def _channels(d: Mapping[str, Any]) -> tuple[ChannelLevels, ...]:
    channels = []
    for channel in _field(d, "inputLevelsMul", list, "a list"):
        if not isinstance(channel, list) or len(channel) != 3:
            raise _Malformed(f"with a channel {channel!r} (not [magnitude, peak, inputPeak])")
        magnitude, peak, input_peak = (_level(v) for v in channel)
        channels.append(ChannelLevels(magnitude, peak, input_peak))
    return tuple(channels)


def _meters(d: Mapping[str, Any]) -> InputVolumeMeters:
    inputs = []
    for entry in _field(d, "inputs", list, "a list"):
        if not isinstance(entry, dict):
            raise _Malformed(f"with an input {entry!r} (not an object)")
        inputs.append(InputLevels(_str(entry, "inputName"), _channels(entry)))
    return InputVolumeMeters(tuple(inputs))


_PARSERS: dict[str, Callable[[Mapping[str, Any]], OBSEvent]] = {
    ProgramSceneChanged.obs_event_type: lambda d: ProgramSceneChanged(_str(d, "sceneName")),
    StreamStateChanged.obs_event_type: lambda d: StreamStateChanged(
        _state(d), _bool(d, "outputActive")
    ),
    RecordStateChanged.obs_event_type: lambda d: RecordStateChanged(
        _state(d),
        _bool(d, "outputActive"),
        None if d.get("outputPath") is None else _str(d, "outputPath"),
    ),
    RecordFileChanged.obs_event_type: lambda d: RecordFileChanged(_str(d, "newOutputPath")),
    InputActiveChanged.obs_event_type: lambda d: InputActiveChanged(
        _str(d, "inputName"), _bool(d, "videoActive")
    ),
    InputShowChanged.obs_event_type: lambda d: InputShowChanged(
        _str(d, "inputName"), _bool(d, "videoShowing")
    ),
    InputMuteChanged.obs_event_type: lambda d: InputMuteChanged(
        _str(d, "inputName"), _bool(d, "inputMuted")
    ),
    InputVolumeMeters.obs_event_type: _meters,
    ExitStarted.obs_event_type: lambda d: ExitStarted(),
}

TYPED_EVENTS: frozenset[str] = frozenset(_PARSERS)


def parse_event(event: protocol.Event, *, warned: set[str] | None = None) -> OBSEvent | None:
    """The typed event, or None (no type for it, or a malformed payload, which is logged).

    With `warned`, only the first malformed event of each type logs a WARNING (later
    ones DEBUG): InputVolumeMeters comes 20 times a second.
    """
    parse = _PARSERS.get(event.event_type)
    if parse is None:
        return None
    try:
        if not isinstance(event.event_data, dict):
            raise _Malformed("with eventData that is not an object")
        return parse(event.event_data)
    except _Malformed as exc:
        if warned is None or event.event_type not in warned:
            log.warning("ignoring a malformed %s event from OBS (%s)", event.event_type, exc)
            if warned is not None:
                warned.add(event.event_type)
        else:
            log.debug("ignoring a malformed %s event from OBS (%s)", event.event_type, exc)
        return None
