"""Typed OBS events: parsing obs-websocket payloads into snake_case dataclasses."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from showcaller.obs import protocol
from showcaller.obs.events import (
    ChannelLevels,
    ExitStarted,
    InputActiveChanged,
    InputLevels,
    InputMuteChanged,
    InputShowChanged,
    InputVolumeMeters,
    OutputState,
    ProgramSceneChanged,
    RecordFileChanged,
    RecordStateChanged,
    StreamStateChanged,
    dbfs,
    event_subscription,
    parse_event,
)


def _event(event_type: str, data: Any) -> protocol.Event:
    return protocol.Event(event_type, int(protocol.EVENT_INTENT[event_type]), data)


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        (
            "CurrentProgramSceneChanged",
            {"sceneName": "Talk", "sceneUuid": "u"},
            ProgramSceneChanged("Talk"),
        ),
        (
            "StreamStateChanged",
            {"outputActive": True, "outputState": "OBS_WEBSOCKET_OUTPUT_STARTED"},
            StreamStateChanged(OutputState.STARTED, active=True),
        ),
        (
            "RecordStateChanged",
            {
                "outputActive": False,
                "outputState": "OBS_WEBSOCKET_OUTPUT_STOPPED",
                "outputPath": "/rec/a.mkv",
            },
            RecordStateChanged(OutputState.STOPPED, active=False, path="/rec/a.mkv"),
        ),
        (
            "RecordStateChanged",
            {
                "outputActive": False,
                "outputState": "OBS_WEBSOCKET_OUTPUT_STARTING",
                "outputPath": None,
            },
            RecordStateChanged(OutputState.STARTING, active=False, path=None),
        ),
        (
            "RecordStateChanged",
            {"outputActive": True, "outputState": "OBS_WEBSOCKET_OUTPUT_PAUSED"},
            RecordStateChanged(OutputState.PAUSED, active=True, path=None),
        ),
        ("RecordFileChanged", {"newOutputPath": "/rec/b.mkv"}, RecordFileChanged("/rec/b.mkv")),
        (
            "InputActiveStateChanged",
            {"inputName": "Cam", "videoActive": True},
            InputActiveChanged("Cam", active=True),
        ),
        (
            "InputShowStateChanged",
            {"inputName": "Cam", "videoShowing": False},
            InputShowChanged("Cam", showing=False),
        ),
        (
            "InputMuteStateChanged",
            {"inputName": "Mic", "inputMuted": True},
            InputMuteChanged("Mic", muted=True),
        ),
        ("ExitStarted", {}, ExitStarted()),
    ],
)
def test_each_event_parses_to_its_dataclass(
    event_type: str, data: dict[str, Any], expected: object
) -> None:
    assert parse_event(_event(event_type, data)) == expected


def test_volume_meters_parse_per_input_and_channel() -> None:
    data = {
        "inputs": [
            {"inputName": "Mic", "inputLevelsMul": [[0.25, 0.5, 1], [0, 0, 0]]},
            {"inputName": "Silent", "inputLevelsMul": []},
        ]
    }
    meters = parse_event(_event("InputVolumeMeters", data))
    assert meters == InputVolumeMeters(
        (
            InputLevels("Mic", (ChannelLevels(0.25, 0.5, 1.0), ChannelLevels(0.0, 0.0, 0.0))),
            InputLevels("Silent", ()),
        )
    )
    assert isinstance(meters, InputVolumeMeters)
    mic, silent = meters.inputs
    assert mic.channels[0].peak_dbfs == pytest.approx(-6.0206, abs=1e-3)
    assert mic.channels[1].peak_dbfs == -math.inf
    assert mic.peak_dbfs == pytest.approx(-6.0206, abs=1e-3)
    assert silent.peak_dbfs == -math.inf
    assert dbfs(1.0) == 0.0


def test_every_output_state_of_obs_has_a_member_and_an_unknown_one_does_not_crash() -> None:
    for name in (
        "STARTING", "STARTED", "STOPPING", "STOPPED",
        "RECONNECTING", "RECONNECTED", "PAUSED", "RESUMED",
    ):  # fmt: skip
        assert OutputState.from_obs(f"OBS_WEBSOCKET_OUTPUT_{name}").value == name.lower()
    assert OutputState.from_obs("OBS_WEBSOCKET_OUTPUT_EXPLODED") is OutputState.UNKNOWN
    assert OutputState.from_obs("started") is OutputState.UNKNOWN
    assert OutputState.from_obs("OBS_WEBSOCKET_OUTPUT_UNKNOWN") is OutputState.UNKNOWN
    event = parse_event(
        _event("StreamStateChanged", {"outputActive": True, "outputState": "OBS_WEBSOCKET_X"})
    )
    assert event == StreamStateChanged(OutputState.UNKNOWN, active=True)


def test_events_without_a_type_are_none() -> None:
    assert parse_event(_event("SceneCreated", {"sceneName": "x", "isGroup": False})) is None


@pytest.mark.parametrize(
    ("event_type", "data", "why"),
    [
        ("CurrentProgramSceneChanged", {}, "without sceneName"),
        ("CurrentProgramSceneChanged", {"sceneName": 3}, "sceneName = 3"),
        ("StreamStateChanged", {"outputState": "OBS_WEBSOCKET_OUTPUT_STARTED"}, "outputActive"),
        ("StreamStateChanged", {"outputActive": 1, "outputState": "x"}, "outputActive = 1"),
        ("RecordStateChanged", {"outputActive": True, "outputState": None}, "outputState"),
        (
            "RecordStateChanged",
            {"outputActive": True, "outputState": "x", "outputPath": 7},
            "outputPath",
        ),
        ("RecordFileChanged", {"outputPath": "/x"}, "newOutputPath"),
        ("InputMuteStateChanged", {"inputName": "Mic", "inputMuted": "yes"}, "inputMuted"),
        ("InputVolumeMeters", {"inputs": {}}, "inputs"),
        ("InputVolumeMeters", {"inputs": [{"inputName": "Mic"}]}, "inputLevelsMul"),
        (
            "InputVolumeMeters",
            {"inputs": [{"inputName": "M", "inputLevelsMul": [[1, 2]]}]},
            "[1, 2]",
        ),
        (
            "InputVolumeMeters",
            {"inputs": [{"inputName": "M", "inputLevelsMul": [[1, True, 0]]}]},
            "True",
        ),
        ("InputVolumeMeters", {"inputs": ["Mic"]}, "'Mic'"),
    ],
)
def test_a_malformed_payload_is_logged_naming_the_event_and_dropped(
    event_type: str, data: Any, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="showcaller.obs.events"):
        assert parse_event(_event(event_type, data)) is None
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert event_type in record.getMessage()
    assert why in record.getMessage()


def test_with_a_warned_set_only_the_first_malformed_event_of_a_type_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    warned: set[str] = set()
    bad = _event("InputVolumeMeters", {})
    with caplog.at_level(logging.DEBUG, logger="showcaller.obs.events"):
        for _ in range(3):
            assert parse_event(bad, warned=warned) is None
        assert parse_event(_event("StreamStateChanged", {}), warned=warned) is None
    levels = [(r.levelno, "InputVolumeMeters" in r.getMessage()) for r in caplog.records]
    assert levels == [
        (logging.WARNING, True),
        (logging.DEBUG, True),
        (logging.DEBUG, True),
        (logging.WARNING, False),
    ]


def test_each_event_class_names_its_subscription_bit() -> None:
    sub = protocol.EventSubscription
    assert event_subscription(InputVolumeMeters) is sub.INPUT_VOLUME_METERS
    assert event_subscription(InputShowChanged) is sub.INPUT_SHOW_STATE_CHANGED
    assert event_subscription(ProgramSceneChanged) is sub.SCENES
    assert event_subscription(RecordFileChanged) is sub.OUTPUTS
