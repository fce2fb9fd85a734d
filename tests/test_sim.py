"""The simulated OBS over a real socket: protocol, model, outputs, signals, faults, and
obs-websocket-py (an independent client) working against it as against real OBS."""

# The sim fixtures are imported by name, so pytest finds them; test arguments shadow them.
# ruff: noqa: F811

from __future__ import annotations

import ast
import asyncio
import inspect
import math
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from showcaller.clock import VirtualClock
from showcaller.obs.images import decode_data_url
from showcaller.obs.protocol import EventSubscription
from showcaller.obs.sim import SimulatedOBS
from showcaller.obs.sim.dispatch import build_table
from showcaller.obs.sim.server import FRAME_S, STREAM_BYTES_PER_S
from tests.sim_fixtures import (  # noqa: F401 - fixtures
    SIM_PASSWORD,
    RawClient,
    raw,
    raw51,
    seed_event,
    sim,
    sim51,
    sim55,
    virtual_clock,
    vsim,
    vsim51,
)

RED = 0xFF0000FF  # OBS colours are 0xAABBGGRR
GREEN = 0xFF00FF00

# ------------------------------------------------------------------------------ protocol


async def test_hello_challenges_and_correct_password_identifies(sim51: SimulatedOBS) -> None:
    client = await RawClient.open(sim51.url)
    try:
        assert client.hello["op"] == 0
        d = client.hello["d"]
        assert d["rpcVersion"] == 1
        assert d["obsWebSocketVersion"] == "5.1.0"
        assert set(d["authentication"]) == {"challenge", "salt"}
        await client.identify(SIM_PASSWORD)
        assert await client.receive() == {"op": 2, "d": {"negotiatedRpcVersion": 1}}
    finally:
        await client.close()


async def test_no_password_means_no_challenge(tmp_path: Path) -> None:
    async with SimulatedOBS(record_dir=tmp_path) as open_sim:
        client = await RawClient.open(open_sim.url)
        try:
            assert "authentication" not in client.hello["d"]
            await client.identify(None)
            assert (await client.receive())["op"] == 2
        finally:
            await client.close()


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        (["BADAUTH"], 4009, "Authentication failed."),
        (
            [{"op": 1, "d": {"rpcVersion": 1}}],
            4009,
            "Your payload's data is missing an `authentication` string, however "
            "authentication is required.",
        ),
        (
            [{"op": 6, "d": {"requestType": "GetVersion", "requestId": "1"}}],
            4007,
            "You attempted to send a non-Identify message while not identified.",
        ),
        (["AUTH2"], 4010, "Your requested RPC version is not supported by this server."),
        (["AUTH", {"op": 42, "d": {}}], 4006, "Unknown OpCode: 42"),
        (["AUTH", "AUTH"], 4008, "You are already Identified with the obs-websocket server."),
        (["AUTH", "not json"], 4002, None),
        (["AUTH", {"op": 6}], 4003, "Your payload is missing data (`d`)."),
        (
            ["AUTH", {"op": 6, "d": {"requestType": 5, "requestId": "1"}}],
            4004,
            "Your `requestType` is not a string.",
        ),
    ],
    ids=[
        "bad-auth",
        "no-auth",
        "not-identified",
        "rpc2",
        "unknown-op",
        "twice",
        "json",
        "no-d",
        "type",
    ],
)
async def test_protocol_violations_close_with_obs_codes(
    sim: SimulatedOBS, messages: list[Any], code: int, reason: str | None
) -> None:
    client = await RawClient.open(sim.url)
    try:
        for message in messages:
            if message == "AUTH":
                await client.identify(SIM_PASSWORD)
            elif message == "AUTH2":
                await client.identify(SIM_PASSWORD, rpc=2)
            elif message == "BADAUTH":
                await client.identify("wrong password")
            else:
                await client.send(message)
        got = await client.closed_with()
        assert got[0] == code
        if reason is not None:
            assert got[1] == reason
    finally:
        await client.close()


async def test_reidentify_changes_which_events_arrive(sim51: SimulatedOBS) -> None:
    client = await RawClient.identified(sim51.url, subscriptions=int(EventSubscription.SCENES))
    try:
        await client.request("CreateScene", {"sceneName": "Talk"})
        event = await client.next_event("SceneCreated")
        assert event["eventIntent"] == EventSubscription.SCENES
        assert event["eventData"] == {"sceneName": "Talk", "isGroup": False}

        await client.send({"op": 3, "d": {"eventSubscriptions": 0}})
        assert (await client.receive())["op"] == 2
        await client.request("CreateScene", {"sceneName": "Break"})
        await client.request("GetVersion")  # any event would have arrived before this answer
        with pytest.raises(TimeoutError):
            await client.next_event(wait=0.05)
    finally:
        await client.close()


async def test_events_carry_their_subscription_bit_as_intent(raw: RawClient) -> None:
    await raw.request("StartStream")
    assert (await raw.next_event("StreamStateChanged"))["eventIntent"] == 64
    await raw.request("SetStudioModeEnabled", {"studioModeEnabled": True})
    assert (await raw.next_event("StudioModeStateChanged"))["eventIntent"] == 1 << 10


async def test_stop_sends_exit_started_then_closes_1001(tmp_path: Path) -> None:
    server = SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path)
    await server.start()
    client = await RawClient.identified(server.url)
    try:
        await server.stop()
        exit_started = await client.next_event()
        assert exit_started == {"eventType": "ExitStarted", "eventIntent": 1}
        assert (await client.closed_with())[0] == 1001
    finally:
        await client.close()


async def test_batch_runs_serially_and_halts_on_failure(raw: RawClient) -> None:
    await raw.send(
        {
            "op": 8,
            "d": {
                "requestId": "b1",
                "haltOnFailure": True,
                "requests": [
                    {"requestType": "CreateScene", "requestData": {"sceneName": "One"}},
                    {"requestType": "Sleep", "requestData": {"sleepMillis": 10}},
                    {"requestType": "SetCurrentProgramScene", "requestData": {"sceneName": "Zip"}},
                    {"requestType": "CreateScene", "requestData": {"sceneName": "Never"}},
                ],
            },
        }
    )
    while (msg := await raw.receive())["op"] != 9:
        pass
    results = msg["d"]["results"]
    assert [r["requestStatus"]["code"] for r in results] == [100, 100, 600]
    assert "requestId" not in results[0]  # OBS echoes only ids that were sent
    names = [s["sceneName"] for s in (await raw.request("GetSceneList"))["responseData"]["scenes"]]
    assert "Never" not in names


async def test_sleep_outside_a_batch_is_206(raw: RawClient) -> None:
    status = (await raw.request("Sleep", {"sleepMillis": 1}))["requestStatus"]
    assert status == {"result": False, "code": 206}


# ------------------------------------------------------------------------------ model


async def test_fresh_obs_defaults(raw51: RawClient) -> None:
    scenes = (await raw51.request("GetSceneList"))["responseData"]
    assert scenes == {
        "currentProgramSceneName": "Scene",
        "currentPreviewSceneName": None,
        "scenes": [{"sceneIndex": 0, "sceneName": "Scene"}],
    }
    transition = (await raw51.request("GetCurrentSceneTransition"))["responseData"]
    assert (transition["transitionName"], transition["transitionDuration"]) == ("Fade", 300)
    names = [
        t["transitionName"]
        for t in (await raw51.request("GetSceneTransitionList"))["responseData"]["transitions"]
    ]
    assert names == ["Cut", "Fade"]
    assert (await raw51.request("GetInputList"))["responseData"] == {"inputs": []}


async def test_scenes_are_listed_newest_first_like_obs(raw: RawClient) -> None:
    for name in ("B", "A", "C"):
        await raw.request("CreateScene", {"sceneName": name})
    scenes = (await raw.request("GetSceneList"))["responseData"]["scenes"]
    assert [(s["sceneIndex"], s["sceneName"]) for s in scenes] == [
        (0, "C"),
        (1, "A"),
        (2, "B"),
        (3, "Scene"),
    ]


@pytest.mark.parametrize(
    ("request_type", "data", "code", "comment"),
    [
        ("SetCurrentProgramScene", {"sceneName": "Nope"}, 600,
         "No source was found by the name of `Nope`."),
        ("CreateScene", {"sceneName": "Scene"}, 601,
         "A source already exists by that scene name."),
        ("SetCurrentProgramScene", {}, 300, "Your request is missing the `sceneName` field."),
        ("SetCurrentProgramScene", None, 301,
         "Your request data is missing or invalid (non-object)"),
        ("SetCurrentProgramScene", {"sceneName": 5}, 401,
         "The field value of `sceneName` must be a string."),
        ("CreateScene", {"sceneName": ""}, 403,
         "The field value of `sceneName` must not be empty."),
        ("SetCurrentSceneTransitionDuration", {"transitionDuration": 10}, 402,
         "The field value of `transitionDuration` is below the minimum of `50.000000`"),
        ("Frobnicate", None, 204, "Your request type is not valid."),
        ("StopStream", None, 501, None),
        ("StopRecord", None, 501, None),
        ("ResumeRecord", None, 503, None),
        ("GetCurrentPreviewScene", None, 506, None),
        ("SetCurrentSceneTransition", {"transitionName": "Nope"}, 600,
         "No scene transition was found by that name."),
    ],
)  # fmt: skip
async def test_failures_have_obs_codes_and_comments(
    raw: RawClient, request_type: str, data: dict[str, Any] | None, code: int, comment: str | None
) -> None:
    status = (await raw.request(request_type, data))["requestStatus"]
    expected: dict[str, Any] = {"result": False, "code": code}
    if comment is not None:
        expected["comment"] = comment
    assert status == expected


@pytest.mark.parametrize(
    ("request_type", "data"),
    [("SplitRecordFile", None), ("CreateRecordChapter", {"chapterName": "x"})],
)
async def test_obs_29_does_not_know_the_5_5_requests(
    raw51: RawClient, request_type: str, data: dict[str, Any] | None
) -> None:
    status = (await raw51.request(request_type, data))["requestStatus"]
    assert status == {"result": False, "code": 204, "comment": "Your request type is not valid."}


async def test_scene_operation_on_an_input_is_602(raw: RawClient) -> None:
    await raw.request(
        "CreateInput",
        {"sceneName": "Scene", "inputName": "Red", "inputKind": "color_source_v3"},
    )
    status = (await raw.request("SetCurrentProgramScene", {"sceneName": "Red"}))["requestStatus"]
    assert status["code"] == 602
    assert status["comment"] == "The specified source is not a scene."
    dup = await raw.request(
        "CreateInput", {"sceneName": "Scene", "inputName": "Red", "inputKind": "color_source_v3"}
    )
    assert dup["requestStatus"]["comment"] == "A source already exists by that input name."
    mute = await raw.request("GetInputMute", {"inputName": "Red"})
    assert mute["requestStatus"] == {
        "result": False,
        "code": 604,
        "comment": "The specified input does not support audio.",
    }


async def test_removing_the_last_item_of_an_input_removes_the_input(raw51: RawClient) -> None:
    await raw51.request("CreateScene", {"sceneName": "Talk"})
    made = await raw51.request(
        "CreateInput", {"sceneName": "Talk", "inputName": "Cam", "inputKind": "ffmpeg_source"}
    )
    await raw51.request(
        "RemoveSceneItem",
        {"sceneName": "Talk", "sceneItemId": made["responseData"]["sceneItemId"]},
    )
    assert (await raw51.next_event("InputRemoved"))["eventData"] == {"inputName": "Cam"}
    assert (await raw51.request("GetInputList"))["responseData"]["inputs"] == []


async def test_uuids_only_in_5_5(sim55: SimulatedOBS) -> None:
    client = await RawClient.identified(sim55.url)
    try:
        assert client.hello["d"]["obsWebSocketVersion"].startswith("5.5")
        made = (await client.request("CreateScene", {"sceneName": "Talk"}))["responseData"]
        listed = (await client.request("GetSceneList"))["responseData"]
        assert listed["scenes"][0] == {"sceneIndex": 0, "sceneName": "Talk", **made}
        version = (await client.request("GetVersion"))["responseData"]
        assert version["obsVersion"] == "30.2.3"
        assert {"SplitRecordFile", "CreateRecordChapter"} <= set(version["availableRequests"])
    finally:
        await client.close()


# ------------------------------------------------------------------------------ transitions


async def _program_events(client: RawClient) -> list[str]:
    order: list[str] = []
    while not order or order[-1] != "SceneTransitionEnded":
        event = await client.next_event(
            "SceneTransitionStarted",
            "SceneTransitionVideoEnded",
            "CurrentProgramSceneChanged",
            "CurrentPreviewSceneChanged",
            "SceneTransitionEnded",
        )
        order.append(event["eventType"])
    return order


async def test_fade_switch_answers_at_once_and_events_follow_obs_order(
    vsim51: SimulatedOBS, virtual_clock: VirtualClock
) -> None:
    client = await RawClient.identified(vsim51.url)
    try:
        await client.request("CreateScene", {"sceneName": "Talk"})
        response = await client.request("SetCurrentProgramScene", {"sceneName": "Talk"})
        assert response["requestStatus"]["code"] == 100
        assert (await client.next_event("SceneTransitionStarted"))["eventData"] == {
            "transitionName": "Fade"
        }
        with pytest.raises(TimeoutError):  # nothing more until the fade's 300 ms have passed
            await client.next_event("CurrentProgramSceneChanged", wait=0.05)
        virtual_clock.advance(0.3)
        assert await _program_events(client) == [
            "SceneTransitionVideoEnded",
            "CurrentProgramSceneChanged",
            "SceneTransitionEnded",
        ]
    finally:
        await client.close()


async def test_cut_switch_event_order(raw51: RawClient) -> None:
    await raw51.request("CreateScene", {"sceneName": "Talk"})
    await raw51.request("SetCurrentSceneTransition", {"transitionName": "Cut"})
    await raw51.request("SetCurrentProgramScene", {"sceneName": "Talk"})
    assert await _program_events(raw51) == [
        "SceneTransitionStarted",
        "CurrentProgramSceneChanged",
        "SceneTransitionVideoEnded",
        "SceneTransitionEnded",
    ]
    program = (await raw51.request("GetCurrentProgramScene"))["responseData"]
    assert program == {"currentProgramSceneName": "Talk"}


async def test_a_cut_is_a_cut_whatever_the_ui_language_calls_it(
    vsim: SimulatedOBS, virtual_clock: VirtualClock
) -> None:
    vsim.use_cases.japanese_ui()
    client = await RawClient.identified(vsim.url)
    try:
        await client.request("CreateScene", {"sceneName": "Talk"})
        await client.request("SetCurrentSceneTransition", {"transitionName": "カット"})
        await client.request("SetCurrentProgramScene", {"sceneName": "Talk"})
        await client.next_event("SceneTransitionStarted")
        virtual_clock.advance(FRAME_S)  # a cut lands one frame later, not after the fade's 300 ms
        try:
            order = await asyncio.wait_for(_program_events(client), 1)
        except TimeoutError:
            pytest.fail("one frame after the switch, カット had not landed: timed as a fade")
        assert order == [
            "CurrentProgramSceneChanged",
            "SceneTransitionVideoEnded",
            "SceneTransitionEnded",
        ]
    finally:
        await client.close()


async def test_studio_mode_transition_swaps_program_and_preview(raw: RawClient) -> None:
    await raw.request("CreateScene", {"sceneName": "Talk"})
    await raw.request("SetCurrentSceneTransition", {"transitionName": "Cut"})
    await raw.request("SetStudioModeEnabled", {"studioModeEnabled": True})
    await raw.request("SetCurrentPreviewScene", {"sceneName": "Talk"})
    await raw.request("TriggerStudioModeTransition")
    await _program_events(raw)
    listed = (await raw.request("GetSceneList"))["responseData"]
    assert (listed["currentProgramSceneName"], listed["currentPreviewSceneName"]) == (
        "Talk",
        "Scene",
    )


# ------------------------------------------------------------------------------ outputs


async def test_stream_without_server_starts_then_stops(raw: RawClient) -> None:
    assert (await raw.request("StartStream"))["requestStatus"]["code"] == 100
    states = [
        (await raw.next_event("StreamStateChanged"))["eventData"]["outputState"] for _ in range(2)
    ]
    assert states == ["OBS_WEBSOCKET_OUTPUT_STARTING", "OBS_WEBSOCKET_OUTPUT_STOPPED"]
    assert (await raw.request("StopStream"))["requestStatus"]["code"] == 501


async def test_healthy_stream_sends_growing_bytes(
    vsim: SimulatedOBS, virtual_clock: VirtualClock
) -> None:
    port = vsim.use_cases.listen(0)  # StartStream connects: something must listen
    client = await RawClient.identified(vsim.url)
    try:
        await client.request(
            "SetStreamServiceSettings",
            {
                "streamServiceType": "rtmp_custom",
                "streamServiceSettings": {"server": f"rtmp://127.0.0.1:{port}/live", "key": "k"},
            },
        )
        await client.request("StartStream")
        await client.next_event("StreamStateChanged")  # STARTING
        virtual_clock.advance(0.1)
        started = await client.next_event("StreamStateChanged")
        assert started["eventData"] == {
            "outputActive": True,
            "outputState": "OBS_WEBSOCKET_OUTPUT_STARTED",
        }
        first = (await client.request("GetStreamStatus"))["responseData"]
        virtual_clock.advance(2.0)
        second = (await client.request("GetStreamStatus"))["responseData"]
        assert second["outputActive"] is True
        assert second["outputBytes"] - first["outputBytes"] == 2 * STREAM_BYTES_PER_S
        assert second["outputTimecode"] == "00:00:02.000"
        assert (await client.request("StartStream"))["requestStatus"]["code"] == 500
    finally:
        await client.close()


async def test_stream_health_reconnecting_and_back(
    vsim: SimulatedOBS, virtual_clock: VirtualClock
) -> None:
    client = await RawClient.identified(vsim.url)
    try:
        vsim.model.stream_service_type = "rtmp_custom"
        vsim.model.stream_service_settings = {"server": "rtmp://example.invalid/live"}
        await client.request("StartStream")
        virtual_clock.advance(0.1)
        await client.next_event("StreamStateChanged")
        await client.next_event("StreamStateChanged")
        vsim.faults.stream_health("reconnecting")
        event = await client.next_event("StreamStateChanged")
        assert event["eventData"]["outputState"] == "OBS_WEBSOCKET_OUTPUT_RECONNECTING"
        assert (await client.request("GetStreamStatus"))["responseData"]["outputReconnecting"]
        vsim.faults.stream_health("ok")
        event = await client.next_event("StreamStateChanged")
        assert event["eventData"]["outputState"] == "OBS_WEBSOCKET_OUTPUT_RECONNECTED"
    finally:
        await client.close()


async def test_record_writes_a_file_and_pause_codes(raw: RawClient, sim: SimulatedOBS) -> None:
    assert (await raw.request("PauseRecord"))["requestStatus"]["code"] == 100  # as OBS 29 does
    await raw.request("StartRecord")
    assert (await raw.next_event("RecordStateChanged"))["eventData"]["outputState"].endswith(
        "STARTING"
    )
    started = (await raw.next_event("RecordStateChanged"))["eventData"]
    assert started["outputState"] == "OBS_WEBSOCKET_OUTPUT_STARTED"
    assert (await raw.request("StartRecord"))["requestStatus"]["code"] == 500
    assert (await raw.request("PauseRecord"))["requestStatus"]["code"] == 100
    assert (await raw.request("PauseRecord"))["requestStatus"]["code"] == 502
    assert (await raw.request("GetRecordStatus"))["responseData"]["outputPaused"] is True
    assert (await raw.request("ResumeRecord"))["requestStatus"]["code"] == 100
    stopped = await raw.request("StopRecord")
    path = Path(stopped["responseData"]["outputPath"])
    assert path == Path(started["outputPath"])
    while (await raw.next_event("RecordStateChanged"))["eventData"]["outputState"] != (
        "OBS_WEBSOCKET_OUTPUT_STOPPED"
    ):
        pass
    assert path.parent == sim.record_dir
    assert path.suffix == ".mkv"
    assert (await asyncio.to_thread(path.stat)).st_size > 0


async def test_split_and_chapters_in_5_5(sim55: SimulatedOBS) -> None:
    client = await RawClient.identified(sim55.url)
    try:
        assert (await client.request("SplitRecordFile"))["requestStatus"]["code"] == 501
        await client.request("StartRecord")
        first = await client.next_event("RecordStateChanged")
        while first["eventData"]["outputState"] != "OBS_WEBSOCKET_OUTPUT_STARTED":
            first = await client.next_event("RecordStateChanged")
        chapter = await client.request("CreateRecordChapter", {"chapterName": "Talk 1"})
        assert chapter["requestStatus"]["code"] == 100
        assert (await client.request("SplitRecordFile"))["requestStatus"]["code"] == 100
        changed = await client.next_event("RecordFileChanged")
        new_path = changed["eventData"]["newOutputPath"]
        assert new_path != first["eventData"]["outputPath"]
        first_file = Path(first["eventData"]["outputPath"])
        assert b"Talk 1" in await asyncio.to_thread(first_file.read_bytes)
        stopped = await client.request("StopRecord")
        # Like real OBS 30.2: the recording's first file, not the one just finished.
        assert stopped["responseData"]["outputPath"] == str(first_file)
    finally:
        await client.close()


# ------------------------------------------------------------------------------ pictures


async def _shot(client: RawClient, source: str, fmt: str = "png", w: int = 16, h: int = 9) -> Any:
    response = await client.request(
        "GetSourceScreenshot",
        {"sourceName": source, "imageFormat": fmt, "imageWidth": w, "imageHeight": h},
    )
    assert response["requestStatus"]["code"] == 100, response
    data_url = response["responseData"]["imageData"]
    assert data_url.startswith(f"data:image/{fmt};base64,")
    return decode_data_url(data_url)


@pytest.mark.parametrize("fmt", ["png", "bmp"])
async def test_color_source_screenshot_has_its_color(raw: RawClient, fmt: str) -> None:
    await raw.request(
        "CreateInput",
        {
            "sceneName": "Scene",
            "inputName": "Red",
            "inputKind": "color_source_v3",
            "inputSettings": {"color": RED, "width": 320, "height": 180},
        },
    )
    image = await _shot(raw, "Red", fmt)
    assert (image.width, image.height) == (16, 9)
    assert image.mean() == (255.0, 0.0, 0.0)


async def test_screenshot_width_alone_keeps_aspect_and_is_range_checked(raw: RawClient) -> None:
    await raw.request(
        "CreateInput",
        {
            "sceneName": "Scene",
            "inputName": "Red",
            "inputKind": "color_source_v3",
            "inputSettings": {"color": RED, "width": 320, "height": 180},
        },
    )
    response = await raw.request(
        "GetSourceScreenshot", {"sourceName": "Red", "imageFormat": "png", "imageWidth": 32}
    )
    assert decode_data_url(response["responseData"]["imageData"]).height == 18
    small = await raw.request(
        "GetSourceScreenshot", {"sourceName": "Red", "imageFormat": "png", "imageWidth": 2}
    )
    assert small["requestStatus"]["comment"] == (
        "The field value of `imageWidth` is below the minimum of `8.000000`"
    )


async def test_scene_screenshot_shows_the_top_enabled_item(raw: RawClient) -> None:
    for name, color in (("Green", GREEN), ("Red", RED)):
        await raw.request(
            "CreateInput",
            {
                "sceneName": "Scene",
                "inputName": name,
                "inputKind": "color_source_v3",
                "inputSettings": {"color": color},
            },
        )
    assert (await _shot(raw, "Scene")).pixel(8, 4) == (255, 0, 0)
    await raw.request(
        "SetSceneItemEnabled", {"sceneName": "Scene", "sceneItemId": 2, "sceneItemEnabled": False}
    )
    assert (await _shot(raw, "Scene")).pixel(8, 4) == (0, 255, 0)


async def test_speaker_video_live_frozen_black_offline(raw: RawClient, sim: SimulatedOBS) -> None:
    sim.use_cases.speaker_feed("Ada cam", "Scene")
    live = [await _shot(raw, "Ada cam", w=64, h=36) for _ in range(2)]
    assert live[0].rgb != live[1].rgb
    assert max(live[0].mean()) > 40
    sim.use_cases.speaker_video("Ada cam", "frozen")
    frozen = [await _shot(raw, "Ada cam", w=64, h=36) for _ in range(2)]
    assert frozen[0].rgb == frozen[1].rgb
    sim.use_cases.speaker_video("Ada cam", "black")
    assert (await _shot(raw, "Ada cam", w=64, h=36)).mean() == (0.0, 0.0, 0.0)
    active = await raw.request("GetSourceActive", {"sourceName": "Ada cam"})
    assert active["responseData"] == {"videoActive": True, "videoShowing": True}
    sim.use_cases.speaker_video("Ada cam", "offline")
    active = await raw.request("GetSourceActive", {"sourceName": "Ada cam"})
    assert active["responseData"]["videoActive"] is False


async def test_source_off_program_is_not_active(raw: RawClient, sim: SimulatedOBS) -> None:
    sim.use_cases.speaker_feed("Bob cam", "Talk")
    active = await raw.request("GetSourceActive", {"sourceName": "Bob cam"})
    assert active["responseData"] == {"videoActive": False, "videoShowing": False}


# ------------------------------------------------------------------------------ sound


def _db(mul: float) -> float:
    return 20 * math.log10(mul) if mul > 0 else -math.inf


async def test_volume_meters_only_for_the_high_volume_bit(sim: SimulatedOBS) -> None:
    sim.use_cases.speaker_feed("Ada", "Scene")
    plain = await RawClient.identified(sim.url)
    meters = await RawClient.identified(
        sim.url, subscriptions=int(EventSubscription.INPUT_VOLUME_METERS)
    )
    try:
        speaking = [await meters.next_event("InputVolumeMeters") for _ in range(4)]
        assert all(e["eventIntent"] == 1 << 16 for e in speaking)
        levels = [e["eventData"]["inputs"][0]["inputLevelsMul"] for e in speaking]
        assert all(len(channels) == 2 for channels in levels)
        assert all(-35 < _db(ch[0][0]) < -5 for ch in levels)

        sim.use_cases.speaker_audio("Ada", "silent")
        await meters.next_event("InputVolumeMeters")
        quiet = (await meters.next_event("InputVolumeMeters"))["eventData"]["inputs"][0]
        assert _db(quiet["inputLevelsMul"][0][0]) < -70

        sim.use_cases.speaker_audio("Ada", "muted")
        muted = await plain.request("GetInputMute", {"inputName": "Ada"})
        assert muted["responseData"] == {"inputMuted": True}
        await meters.next_event("InputVolumeMeters")
        now = (await meters.next_event("InputVolumeMeters"))["eventData"]["inputs"][0]
        assert [ch[:2] for ch in now["inputLevelsMul"]] == [[0.0, 0.0], [0.0, 0.0]]

        with pytest.raises(TimeoutError):
            await plain.next_event("InputVolumeMeters", wait=0.2)
    finally:
        await plain.close()
        await meters.close()


# ------------------------------------------------------------------------------ faults


async def test_requests_seen_counts_each_type(raw: RawClient, sim: SimulatedOBS) -> None:
    await raw.request("GetVersion")
    await raw.request("GetVersion")
    await raw.request("StopStream")
    assert sim.requests_seen["GetVersion"] == 2
    assert sim.requests_seen["StopStream"] == 1
    assert sim.requests_seen["StartStream"] == 0


async def test_delay_holds_one_request_type(
    vsim: SimulatedOBS, virtual_clock: VirtualClock
) -> None:
    client = await RawClient.identified(vsim.url)
    try:
        vsim.faults.delay("GetStats", 5.0)
        pending = asyncio.ensure_future(client.request("GetStats"))
        await asyncio.sleep(0.05)
        assert not pending.done()
        virtual_clock.advance(5.0)
        assert (await pending)["requestStatus"]["code"] == 100
    finally:
        await client.close()


async def test_a_delay_range_draws_each_answer_anew_within_it_and_repeats_with_its_seed(
    vsim: SimulatedOBS, virtual_clock: VirtualClock
) -> None:
    faults = vsim.faults
    faults.delay(None, 0.5, up_to=2.0, seed=7)
    drawn = [faults.delay_for("GetStats") for _ in range(200)]
    assert all(0.5 <= d <= 2.0 for d in drawn)
    assert max(drawn) - min(drawn) > 1.0  # spread over the range, not one value
    faults.delay(None, 0.5, up_to=2.0, seed=7)
    assert [faults.delay_for("GetStats") for _ in range(200)] == drawn
    with pytest.raises(ValueError, match="up_to"):
        faults.delay("GetStats", 2.0, up_to=1.0)
    # On the wire: a request waits its drawn delay on the sim's clock, not less.
    faults.delay(None, 0.5, up_to=2.0, seed=7)
    first = faults.delay_for("GetVersion")
    faults.delay(None, 0.5, up_to=2.0, seed=7)
    client = await RawClient.identified(vsim.url)
    try:
        pending = asyncio.ensure_future(client.request("GetVersion"))
        await asyncio.sleep(0.05)
        virtual_clock.advance(first - 0.01)
        await asyncio.sleep(0.05)
        assert not pending.done()
        virtual_clock.advance(0.02)
        assert (await pending)["requestStatus"]["code"] == 100
    finally:
        await client.close()
    faults.delay(None, 0)
    assert faults.delay_for("GetVersion") == 0.0


async def test_stall_keeps_the_socket_open_without_answers(
    raw: RawClient, sim: SimulatedOBS
) -> None:
    sim.faults.stall()
    pending = asyncio.ensure_future(raw.request("GetVersion"))
    await asyncio.sleep(0.05)
    assert not pending.done()
    assert not raw.ws.closed
    assert sim.requests_seen["GetVersion"] == 1
    sim.faults.unstall()
    assert (await pending)["requestStatus"]["code"] == 100


async def test_drop_cuts_the_connection_without_a_close_frame(
    raw: RawClient, sim: SimulatedOBS
) -> None:
    sim.faults.drop()
    msg = await asyncio.wait_for(raw.ws.receive(), 5)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert raw.ws.close_code not in (1000, 1001)


async def test_refuse_auth_fails_even_the_right_password(sim: SimulatedOBS) -> None:
    sim.faults.refuse_auth()
    client = await RawClient.open(sim.url)
    try:
        await client.identify(SIM_PASSWORD)
        assert (await client.closed_with())[0] == 4009
    finally:
        await client.close()


async def test_restart_comes_back_on_the_same_port_with_state(
    raw: RawClient, sim: SimulatedOBS
) -> None:
    await raw.request("CreateScene", {"sceneName": "Talk"})
    port = sim.port
    await sim.faults.restart(downtime=0.01)
    msg = await asyncio.wait_for(raw.ws.receive(), 5)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert sim.port == port
    again = await RawClient.identified(sim.url)
    try:
        scenes = (await again.request("GetSceneList"))["responseData"]["scenes"]
        assert "Talk" in [s["sceneName"] for s in scenes]
    finally:
        await again.close()


async def test_kill_stops_listening_until_revived(sim: SimulatedOBS) -> None:
    await sim.faults.kill()
    with pytest.raises(aiohttp.ClientConnectorError):
        await RawClient.open(sim.url)
    await sim.faults.revive()
    client = await RawClient.identified(sim.url)
    await client.close()


# ------------------------------------------------------------------------------ seeding


async def test_seed_creates_scenes_and_inputs(raw: RawClient, sim: SimulatedOBS) -> None:
    sim.seed(["Talk", "Break"], [("Title", "text_ft2_source_v2", "Talk")])
    sim.seed(["Talk"])  # idempotent
    scenes = (await raw.request("GetSceneList"))["responseData"]["scenes"]
    assert [s["sceneName"] for s in scenes] == ["Break", "Talk", "Scene"]
    items = (await raw.request("GetSceneItemList", {"sceneName": "Talk"}))["responseData"]
    assert [i["sourceName"] for i in items["sceneItems"]] == ["Title"]


# ------------------------------------------------------------------------------ obs-websocket-py


def _drive_with_obswebsocket_py(port: int) -> tuple[str, str, list[str]]:
    from obswebsocket import events, obsws
    from obswebsocket import requests as req

    seen: list[str] = []
    changed = __import__("threading").Event()

    def on_program(message: Any) -> None:
        seen.append(message.getSceneName())
        changed.set()

    ws = obsws("127.0.0.1", port, SIM_PASSWORD, legacy=False, timeout=5)
    ws.register(on_program, events.CurrentProgramSceneChanged)
    ws.connect()
    try:
        version = ws.call(req.GetVersion()).getObsWebSocketVersion()
        ws.call(req.CreateScene(sceneName="Talk"))
        ws.call(req.SetCurrentSceneTransition(transitionName="Cut"))
        ws.call(req.SetCurrentProgramScene(sceneName="Talk"))
        changed.wait(5)
        program = ws.call(req.GetCurrentProgramScene()).getCurrentProgramSceneName()
    finally:
        ws.disconnect()
    return version, program, seen


async def test_obs_websocket_py_works_against_the_sim(sim51: SimulatedOBS) -> None:
    version, program, seen = await asyncio.to_thread(_drive_with_obswebsocket_py, sim51.port)
    assert version == "5.1.0"
    assert program == "Talk"
    assert seen == ["Talk"]


async def test_seed_event_gives_what_the_example_config_needs(
    raw: RawClient, sim: SimulatedOBS
) -> None:
    from showcaller.config import load_config

    config = await asyncio.to_thread(load_config, Path("config.example.toml"))
    seed_event(sim, config)
    scenes = {s["sceneName"] for s in (await raw.request("GetSceneList"))["responseData"]["scenes"]}
    assert {"Standby", "Talk", "Q&A", "Break", "Technical Difficulties"} <= scenes
    inputs = {
        i["inputName"]: i["inputKind"]
        for i in (await raw.request("GetInputList"))["responseData"]["inputs"]
    }
    assert inputs[config.lower_third.speaker_input] == "text_ft2_source_v2"
    speaker = config.speakers[0]
    assert inputs[speaker.video_input] == "browser_source"
    assert inputs[speaker.audio_input] == "ffmpeg_source"
    live = [await _shot(raw, speaker.video_input, w=64, h=36) for _ in range(2)]
    assert live[0].rgb != live[1].rgb
    talk = (await raw.request("GetSceneItemList", {"sceneName": "Talk"}))["responseData"]
    assert speaker.video_input in [i["sourceName"] for i in talk["sceneItems"]]


async def test_run_sim_serves_until_cancelled_then_says_goodbye() -> None:
    import socket

    from showcaller.obs.sim import run_sim

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    task = asyncio.ensure_future(run_sim("127.0.0.1", port, "pw", "5.5", None))
    client = None
    for _ in range(200):
        try:
            client = await RawClient.identified(f"ws://127.0.0.1:{port}", password="pw")
            break
        except aiohttp.ClientConnectorError:
            await asyncio.sleep(0.01)
    assert client is not None
    try:
        assert client.hello["d"]["obsWebSocketVersion"].startswith("5.5")
        task.cancel()  # what Ctrl-C does to asyncio.run's main task
        assert (await client.next_event())["eventType"] == "ExitStarted"
        assert (await client.closed_with())[0] == 1001
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await client.close()


# ----------------------------------------------------------------------------- stream targets

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "config.example.toml"


async def test_a_stream_to_a_loopback_target_nobody_listens_on_never_goes_on_air(
    raw: RawClient, sim: SimulatedOBS
) -> None:
    # As OBS 29 does with rtmp://127.0.0.1:1/live: STARTING, then STOPPED, never active.
    await raw.request(
        "SetStreamServiceSettings",
        {
            "streamServiceType": "rtmp_custom",
            "streamServiceSettings": {"server": "rtmp://127.0.0.1:1/live", "key": "k"},
        },
    )
    await raw.request("StartStream")
    states = [(await raw.next_event("StreamStateChanged"))["eventData"] for _ in range(2)]
    assert states == [
        {"outputActive": False, "outputState": "OBS_WEBSOCKET_OUTPUT_STARTING"},
        {"outputActive": False, "outputState": "OBS_WEBSOCKET_OUTPUT_STOPPED"},
    ]
    assert (await raw.request("StopStream"))["requestStatus"]["code"] == 501
    # The same target once something listens there goes on air.
    port = sim.use_cases.listen(0)
    sim.use_cases.stream_target(f"rtmp://127.0.0.1:{port}/live", listen=False)
    await raw.request("StartStream")
    await raw.next_event("StreamStateChanged")
    started = (await raw.next_event("StreamStateChanged"))["eventData"]
    assert started == {"outputActive": True, "outputState": "OBS_WEBSOCKET_OUTPUT_STARTED"}


async def test_rehearse_stream_test_to_a_dead_target_reports_the_stream_not_on_air(
    sim: SimulatedOBS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from showcaller.config import OBS, load_config
    from showcaller.modes import RehearsalOptions, rehearse

    text = (
        EXAMPLE_CONFIG.read_text(encoding="utf-8")
        .replace('transition = "Fade"', 'transition = "Cut"')
        .replace('stream_test_server = ""', 'stream_test_server = "rtmp://127.0.0.1:1/rehearsal"')
    )
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("SHOWCALLER_REHEARSAL__STREAM_TEST_KEY", "test-key")
    cfg = load_config(tmp_path / "event.toml")
    seed_event(sim, cfg)
    report = await rehearse(
        cfg,
        RehearsalOptions(
            obs=OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD}),
            journal=tmp_path / "r.jsonl",
            speed=3000,
            stream_test=True,
        ),
    )
    assert not report.ok
    assert any("never went on air" in str(p) for p in report.problems), report.problems
    assert not sim.model.stream.active


async def test_a_wav_media_input_plays_pauses_stops_and_ends_on_the_clock(
    vsim51: SimulatedOBS, virtual_clock: VirtualClock, tmp_path: Path
) -> None:
    import wave

    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(bytes(2 * 48000 * 2))  # 2 s of silence
    client = await RawClient.identified(vsim51.url)
    action = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_"

    async def status() -> tuple[Any, Any, Any]:
        d = (await client.request("GetMediaInputStatus", {"inputName": "Wav"}))["responseData"]
        return d["mediaState"], d["mediaDuration"], d["mediaCursor"]

    async def trigger(verb: str) -> None:
        data = {"inputName": "Wav", "mediaAction": action + verb}
        await client.request("TriggerMediaInputAction", data)

    try:
        settings = {"local_file": str(path)}
        await client.request(
            "CreateInput",
            {
                "sceneName": "Scene",
                "inputName": "Wav",
                "inputKind": "ffmpeg_source",
                "inputSettings": settings,
            },
        )
        assert await status() == ("OBS_MEDIA_STATE_PLAYING", 2000, 0)
        virtual_clock.advance(0.5)
        assert await status() == ("OBS_MEDIA_STATE_PLAYING", 2000, 500)
        await trigger("PAUSE")
        virtual_clock.advance(1.0)
        assert await status() == ("OBS_MEDIA_STATE_PAUSED", 2000, 500)
        await trigger("PLAY")
        assert (await client.next_event("MediaInputPlaybackStarted"))["eventData"] == {
            "inputName": "Wav"
        }
        await trigger("STOP")
        await client.next_event("MediaInputPlaybackEnded")
        assert await status() == ("OBS_MEDIA_STATE_ENDED", None, None)
        await trigger("PLAY")  # from the start again
        virtual_clock.advance(2.5)
        assert await status() == ("OBS_MEDIA_STATE_ENDED", None, None)
    finally:
        await client.close()


async def test_a_global_audio_source_is_always_active_and_metered(sim: SimulatedOBS) -> None:
    # OBS keeps its global audio sources (Settings → Audio) active whatever is on
    # program; a speaker's feed in a scene off program is neither active nor metered.
    sim.model.create_scene("Talk")
    sim.use_cases.speaker_feed("Ada", "Talk")
    sim.use_cases.global_audio("Mic/Aux", "mic1")
    client = await RawClient.identified(
        sim.url, subscriptions=int(EventSubscription.INPUT_VOLUME_METERS)
    )
    try:
        await client.next_event("InputVolumeMeters")
        event = await client.next_event("InputVolumeMeters")
        assert [i["inputName"] for i in event["eventData"]["inputs"]] == ["Mic/Aux"]
        special = (await client.request("GetSpecialInputs"))["responseData"]
        assert special["mic1"] == "Mic/Aux"
        assert special["desktop1"] is None
        active = await client.request("GetSourceActive", {"sourceName": "Mic/Aux"})
        assert active["responseData"]["videoActive"] is True
        ada = await client.request("GetSourceActive", {"sourceName": "Ada"})
        assert ada["responseData"] == {"videoActive": False, "videoShowing": False}
    finally:
        await client.close()


# ------------------------------------------------------------------------------ structure


def _sim_imports() -> dict[str, set[str]]:
    """Each sim module's imports of other sim modules, `if TYPE_CHECKING:` ones included."""
    root = Path(inspect.getfile(SimulatedOBS)).parent
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "showcaller.obs.sim":
                deps |= {a.name for a in node.names if (root / f"{a.name}.py").exists()}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "showcaller.obs.sim."
            ):
                deps.add(str(node.module).rsplit(".", 1)[1])
        graph[path.stem] = deps - {path.stem}
    return graph


def test_no_sim_module_imports_another_in_a_circle_not_even_for_typing() -> None:
    graph = _sim_imports()
    graph.pop("__init__")  # the package re-exports; no part imports it for a name
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, f"import circle: {' -> '.join([*path, module])}"
        if module in done:
            return
        for dep in graph.get(module, ()):
            visit(dep, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])
    # Only the server composes the parts: nothing imports it but the entry points.
    assert {m for m, deps in graph.items() if "server" in deps} == {"standalone"}


def test_each_request_type_has_exactly_one_handler() -> None:
    async def answer(_: Any) -> None:
        return None

    with pytest.raises(ValueError, match="GetVersion"):
        build_table([{"GetVersion": answer}, {"GetVersion": answer, "GetStats": answer}])
    assert SimulatedOBS().available_requests.count("GetVersion") == 1
