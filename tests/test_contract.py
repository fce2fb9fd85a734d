"""One set of cases, run against the simulated OBS and against a real headless OBS 29
(or 30.2, with SHOWCALLER_OBS_ROOT: see scripts/obs-trixie).

The same assertions on both: where real OBS and the sim disagree, the sim is wrong.
Where OBS 30 behaves unlike 29, a case asserts each version's behaviour (`Target.version`);
the sim answers like OBS 29 there (its 5.5 flavour adds 5.5's requests, not OBS 30's
other changes). The real-OBS half is marked `realobs` (it skips when OBS is not
installed). Both are driven through our own `OBSClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from showcaller import errors
from showcaller.obs import protocol
from showcaller.obs.client import OBSClient
from showcaller.obs.events import (
    OBSEvent,
    OutputState,
    ProgramSceneChanged,
    RecordFileChanged,
    RecordStateChanged,
    StreamStateChanged,
)
from showcaller.obs.gateway import (
    Capabilities,
    FeatureOff,
    OBSGateway,
    RecordingSettings,
    UnsupportedFeature,
)
from showcaller.obs.images import decode_data_url
from showcaller.obs.sim import SimulatedOBS
from tests.realobs import HeadlessOBS, obs_available
from tests.sim_fixtures import SIM_PASSWORD

RED = 0xFF0000FF  # OBS colours are 0xAABBGGRR
TRANSITION_EVENTS = (
    "SceneTransitionStarted",
    "SceneTransitionVideoEnded",
    "CurrentProgramSceneChanged",
    "SceneTransitionEnded",
)


@dataclass(frozen=True)
class Target:
    """An OBS to run the contract against."""

    url: str
    password: str
    record_dir: Path
    real: bool
    # The OBS Studio whose behaviour to expect: the real one's, or 29 for the sim.
    version: tuple[int, int, int] = (29, 0, 2)

    @property
    def obs30(self) -> bool:
        """Whether this is OBS 30 or newer (behaviour that changed since 29)."""
        return self.version >= (30, 0, 0)


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realobs)])
async def obs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    """The simulated OBS, or the session's real OBS reset to one empty "Scene"."""
    if request.param == "sim":
        async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as sim:
            yield Target(sim.url, SIM_PASSWORD, sim.record_dir, real=False)
    else:
        real = request.getfixturevalue("real_obs")
        yield Target(
            real.url, real.password, Path(real.record_dir), real=True, version=real.version
        )


@pytest.fixture
async def client(obs: Target) -> AsyncIterator[OBSClient]:
    """Our client, identified with every low-volume event."""
    async with OBSClient(obs.url, obs.password, subscriptions=protocol.EventSubscription.ALL) as c:
        yield c


async def _until(
    stream: AsyncIterator[protocol.Event], done: str, *, state: str | None = None
) -> list[protocol.Event]:
    """Events from `stream` up to and including `done` (with outputState `state`)."""
    got: list[protocol.Event] = []
    async with asyncio.timeout(10):
        async for event in stream:
            got.append(event)
            if event.event_type == done and (
                state is None or event.event_data.get("outputState") == state
            ):
                return got
    raise AssertionError(f"the event stream ended before {done}: {got}")


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


async def test_version_fields(client: OBSClient) -> None:
    version = await client.request("GetVersion")
    assert isinstance(version["obsVersion"], str)
    assert version["obsWebSocketVersion"].startswith("5.")
    assert version["rpcVersion"] == 1
    assert _is_list_of_str(version["availableRequests"])
    assert {"GetVersion", "SetCurrentProgramScene", "GetSourceScreenshot"} <= set(
        version["availableRequests"]
    )
    assert _is_list_of_str(version["supportedImageFormats"])
    assert {"png", "bmp"} <= set(version["supportedImageFormats"])


async def test_create_and_list_scenes(client: OBSClient, obs: Target) -> None:
    await client.request("CreateScene", {"sceneName": "Contract B"})
    await client.request("CreateScene", {"sceneName": "Contract A"})
    listed = await client.request("GetSceneList")
    # GetSceneList counts from the bottom of OBS's scene list. OBS 29 adds a new scene at
    # the end of that list; OBS 30 right below the current scene ("Scene" here).
    newest_first = ["Contract B", "Contract A"] if obs.obs30 else ["Contract A", "Contract B"]
    assert [(s["sceneIndex"], s["sceneName"]) for s in listed["scenes"]] == [
        (0, newest_first[0]),
        (1, newest_first[1]),
        (2, "Scene"),
    ]
    assert listed["currentProgramSceneName"] == "Scene"
    assert listed["currentPreviewSceneName"] is None


@pytest.mark.parametrize("transition", ["Cut", "Fade"])
async def test_program_switch_event_order(client: OBSClient, transition: str) -> None:
    # A name per case: real OBS may still hold the previous case's scene mid-transition.
    talk = f"Talk ({transition})"
    await client.request("CreateScene", {"sceneName": talk})
    await client.request("SetCurrentSceneTransition", {"transitionName": transition})
    if transition == "Fade":
        await client.request("SetCurrentSceneTransitionDuration", {"transitionDuration": 100})
    stream = client.events(TRANSITION_EVENTS)
    await client.request("SetCurrentProgramScene", {"sceneName": talk})
    events: list[protocol.Event] = []
    async with asyncio.timeout(10):
        async for event in stream:
            events.append(event)
            if {"SceneTransitionEnded", "CurrentProgramSceneChanged"} <= {
                e.event_type for e in events
            }:
                break
    kinds = [e.event_type for e in events]
    # The transition's own events in order; the program change comes from another thread:
    # mostly between VideoEnded and Ended, sometimes before VideoEnded or after Ended
    # (a 100 ms Fade, 40 switches: 37/2/1 on 30.2.3, 37/0/3 on 29.0.2, measured).
    assert kinds[0] == "SceneTransitionStarted"
    assert [k for k in kinds if k != "CurrentProgramSceneChanged"] == [
        "SceneTransitionStarted",
        "SceneTransitionVideoEnded",
        "SceneTransitionEnded",
    ]
    assert kinds.count("CurrentProgramSceneChanged") == 1
    assert all(e.event_intent == protocol.EVENT_INTENT[e.event_type] for e in events)
    changed = next(e for e in events if e.event_type == "CurrentProgramSceneChanged")
    assert changed.event_data["sceneName"] == talk
    started = events[0]
    assert started.event_data["transitionName"] == transition
    program = await client.request("GetCurrentProgramScene")
    assert program["currentProgramSceneName"] == talk


async def test_unknown_scene_is_600_with_obs_comment(client: OBSClient) -> None:
    with pytest.raises(errors.ResourceNotFound) as caught:
        await client.request("SetCurrentProgramScene", {"sceneName": "No Such Scene"})
    assert caught.value.code == 600
    assert caught.value.comment == "No source was found by the name of `No Such Scene`."


async def test_duplicate_scene_is_601(client: OBSClient) -> None:
    with pytest.raises(errors.ResourceAlreadyExists) as caught:
        await client.request("CreateScene", {"sceneName": "Scene"})
    assert caught.value.code == 601
    assert caught.value.comment == "A source already exists by that scene name."


async def test_text_input_settings_round_trip(client: OBSClient) -> None:
    await client.request(
        "CreateInput",
        {
            "sceneName": "Scene",
            "inputName": "Speaker name",
            "inputKind": "text_ft2_source_v2",
            "inputSettings": {"text": "Hello"},
        },
    )
    await client.request(
        "SetInputSettings", {"inputName": "Speaker name", "inputSettings": {"text": "Ada Lovelace"}}
    )
    got = await client.request("GetInputSettings", {"inputName": "Speaker name"})
    assert got == {"inputKind": "text_ft2_source_v2", "inputSettings": {"text": "Ada Lovelace"}}


async def test_a_cue_sets_the_texts_then_switches_and_a_missing_input_fails_alone(
    client: OBSClient,
) -> None:
    # What the engine sends per slot: one batch, texts first, the switch last.
    await client.request("CreateScene", {"sceneName": "Talk (cue)"})
    await client.request(
        "CreateInput",
        {
            "sceneName": "Talk (cue)",
            "inputName": "Cue speaker",
            "inputKind": "text_ft2_source_v2",
            "inputSettings": {"text": ""},
        },
    )
    stream = client.events(["CurrentProgramSceneChanged"])
    outcomes = await OBSGateway(client).cue(
        [("Cue speaker", "Ada Lovelace"), ("No such input", "x")], "Talk (cue)"
    )
    assert outcomes[0] is None
    assert isinstance(outcomes[1], errors.ResourceNotFound)
    assert outcomes[2] is None
    changed = await _until(stream, "CurrentProgramSceneChanged")
    assert changed[-1].event_data["sceneName"] == "Talk (cue)"
    got = await client.request("GetInputSettings", {"inputName": "Cue speaker"})
    assert got["inputSettings"]["text"] == "Ada Lovelace"
    assert (await client.request("GetCurrentProgramScene"))["currentProgramSceneName"] == (
        "Talk (cue)"
    )


async def test_red_color_source_screenshot_is_red(client: OBSClient) -> None:
    await client.request(
        "CreateInput",
        {
            "sceneName": "Scene",
            "inputName": "Red",
            "inputKind": "color_source_v3",
            "inputSettings": {"color": RED, "width": 320, "height": 180},
        },
    )
    shot = await client.request(
        "GetSourceScreenshot",
        {"sourceName": "Red", "imageFormat": "png", "imageWidth": 32, "imageHeight": 18},
    )
    assert shot["imageData"].startswith("data:image/png;base64,")
    image = decode_data_url(shot["imageData"])
    assert (image.width, image.height) == (32, 18)
    assert image.pixel(16, 9) == (255, 0, 0)
    assert image.mean() == (255.0, 0.0, 0.0)


async def test_recording_leaves_a_file(client: OBSClient, obs: Target) -> None:
    stream = client.events(["RecordStateChanged"])
    await client.request("StartRecord")
    await _until(stream, "RecordStateChanged", state="OBS_WEBSOCKET_OUTPUT_STARTED")
    assert (await client.request("GetRecordStatus"))["outputActive"] is True
    stopped = await client.request("StopRecord")
    await _until(stream, "RecordStateChanged", state="OBS_WEBSOCKET_OUTPUT_STOPPED")
    path = Path(stopped["outputPath"])
    assert path.parent == obs.record_dir
    assert await asyncio.to_thread(path.is_file)


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realobs)])
async def recording_obs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    """An OBS set up to split its recording by hand and take chapter markers: the sim,
    or a fresh real OBS with Advanced output, manual splitting and (30.2+) Hybrid MP4."""
    if request.param == "sim":
        async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as sim:
            yield Target(sim.url, SIM_PASSWORD, sim.record_dir, real=False)
        return
    available, why = obs_available()
    if not available:
        pytest.skip(why)  # the session's real_obs fixture fails the run if OBS is required
    with HeadlessOBS(split_and_chapters=True) as real:
        yield Target(real.url, real.password, real.record_dir, real=True, version=real.version)


async def _recording_until(gateway: OBSGateway, *, active: bool) -> None:
    async with asyncio.timeout(10):
        # Polls OBS (as showcaller does): a starting output is not active yet.
        while (await gateway.record_status()).active is not active:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_split_and_chapters_where_obs_offers_them(recording_obs: Target) -> None:
    # What showcaller's record.per_talk uses: detected from GetVersion's availableRequests.
    obs = recording_obs
    async with OBSClient(obs.url, obs.password) as client:
        gateway = OBSGateway(client)
        caps = await gateway.capabilities()
        if not obs.obs30:
            # obs-websocket 5.1 (OBS 29) has neither request. (The sim offers both.)
            assert caps == Capabilities(split_record=obs.real is False, chapters=not obs.real)
        if not caps.split_record:
            with pytest.raises(UnsupportedFeature):
                await gateway.split_record()
            with pytest.raises(UnsupportedFeature):
                await gateway.create_chapter("Talk 1")
            return
        assert caps == Capabilities(split_record=True, chapters=True)
        if obs.real:  # the sim has no profile: GetProfileParameter answers 204 there
            assert await gateway.recording_settings() == RecordingSettings(True, True)
        files: asyncio.Queue[RecordFileChanged] = asyncio.Queue()
        await gateway.on(files.put_nowait, RecordFileChanged)
        with pytest.raises(errors.OutputNotRunning):
            await gateway.split_record()
        with pytest.raises(errors.OutputNotRunning):
            await gateway.create_chapter("Talk 1")
        await gateway.start_record()
        await _recording_until(gateway, active=True)
        await gateway.create_chapter("Talk 1")
        await gateway.split_record()
        # OBS splits at the next keyframe (HeadlessOBS: one a second), then says where.
        changed = await asyncio.wait_for(files.get(), 10)
        assert Path(changed.path).parent == obs.record_dir
        await gateway.create_chapter("Talk 2")
        # A paused recording is neither split nor marked (702). The pause is held a second,
        # as a slot kept out of the recording holds it: resumed within a frame or two, OBS
        # (29 and 30.2 alike) could not stop the recording any more (STOPPING for 40 s+).
        await gateway.pause_record()
        async with asyncio.timeout(5):
            # OBS pauses at its next frame: until then it still splits and marks.
            while not (await gateway.record_status()).paused:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        with pytest.raises(FeatureOff, match="file splitting is enabled"):
            await gateway.split_record()
        with pytest.raises(FeatureOff, match="supports chapter markers"):
            await gateway.create_chapter("paused")
        await asyncio.sleep(1)
        await gateway.resume_record()
        await asyncio.sleep(1)
        await gateway.stop_record()
        await _recording_until(gateway, active=False)
        written = await asyncio.to_thread(lambda: sorted(obs.record_dir.iterdir()))
        assert len(written) == 2, written
        assert Path(changed.path) in written


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realobs)])
async def default_output_obs(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Target]:
    """An OBS with the default recording settings (Simple output, mkv): the session's real
    OBS, or the sim told to record like that."""
    if request.param == "sim":
        async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as sim:
            sim.use_cases.recording_settings(split=False, chapters=False)
            yield Target(sim.url, SIM_PASSWORD, sim.record_dir, real=False, version=(30, 2, 3))
    else:
        real = request.getfixturevalue("real_obs")
        yield Target(
            real.url, real.password, Path(real.record_dir), real=True, version=real.version
        )


async def test_split_and_chapters_refused_by_the_default_output(
    default_output_obs: Target,
) -> None:
    # OBS 30 lists both requests, but its Simple output (the default) neither splits by
    # hand nor takes chapters (mkv): 702, which the gateway turns into FeatureOff with
    # what to set in OBS. (OBS 29: neither request; see the case above.)
    obs = default_output_obs
    async with OBSClient(obs.url, obs.password) as client:
        gateway = OBSGateway(client)
        if not (await gateway.capabilities()).split_record:
            assert not obs.obs30
            return
        if obs.real:  # what `showcaller doctor` shows, from OBS's profile
            assert await gateway.recording_settings() == RecordingSettings(False, False)
        await gateway.start_record()
        try:
            await _recording_until(gateway, active=True)
            with pytest.raises(FeatureOff, match="file splitting is enabled") as split:
                await gateway.split_record()
            assert split.value.code == 702
            assert "Only split manually" in split.value.hint
            with pytest.raises(FeatureOff, match="supports chapter markers"):
                await gateway.create_chapter("Talk 1")
        finally:
            await gateway.stop_record()
            await _recording_until(gateway, active=False)


async def _stream_without_a_server_events(client: OBSClient) -> list[protocol.Event]:
    """StartStream to a blank custom server; the StreamStateChanged events within 1.5 s
    (or up to STOPPED). OBS sends STARTING, and STOPPED only sometimes: 29 at first but
    not after a recording or a few attempts (STOPPED in 4 of 6, then in 0 of 6 after a
    recording, measured), 30.2 never. Only outputActive tells, which is what showcaller
    polls."""
    stream = client.events(["StreamStateChanged"])
    await client.request("StartStream")
    got: list[protocol.Event] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.5):
            async for event in stream:
                got.append(event)
                if event.event_data.get("outputState") == "OBS_WEBSOCKET_OUTPUT_STOPPED":
                    break
    return got


async def test_stream_without_a_server_starts_then_stops(client: OBSClient) -> None:
    # OBS refuses empty settings (403), so "no server" is a custom server left blank.
    await client.request(
        "SetStreamServiceSettings",
        {"streamServiceType": "rtmp_custom", "streamServiceSettings": {"server": "", "key": ""}},
    )
    events = await _stream_without_a_server_events(client)
    assert [e.event_data["outputState"] for e in events] in (
        ["OBS_WEBSOCKET_OUTPUT_STARTING"],
        ["OBS_WEBSOCKET_OUTPUT_STARTING", "OBS_WEBSOCKET_OUTPUT_STOPPED"],
    ), events
    assert all(e.event_data["outputActive"] is False for e in events)
    # Never on air: only outputActive tells.
    assert (await client.request("GetStreamStatus"))["outputActive"] is False
    with pytest.raises(errors.OutputNotRunning) as caught:
        await client.request("StopStream")
    assert caught.value.code == 501


async def test_wrong_password_is_refused_with_4009(obs: Target) -> None:
    refused = OBSClient(obs.url, "not the password")
    with pytest.raises(errors.AuthenticationFailed, match="4009"):
        await refused.connect()


# ----------------------------------------------------------------------------- typed events


async def _typed(queue: asyncio.Queue[OBSEvent], n: int) -> list[OBSEvent]:
    async with asyncio.timeout(10):
        return [await queue.get() for _ in range(n)]


async def test_typed_events_for_program_scene_stream_and_record(
    client: OBSClient, obs: Target
) -> None:
    gateway = OBSGateway(client)
    got: asyncio.Queue[OBSEvent] = asyncio.Queue()
    await gateway.on(got.put_nowait, ProgramSceneChanged, StreamStateChanged, RecordStateChanged)

    await gateway.create_scene("Typed Talk")
    await gateway.set_program_scene("Typed Talk")
    assert await _typed(got, 1) == [ProgramSceneChanged("Typed Talk")]

    await gateway.start_record()
    starting, started = await _typed(got, 2)
    assert starting == RecordStateChanged(OutputState.STARTING, active=False, path=None)
    assert isinstance(started, RecordStateChanged)
    assert (started.state, started.active) == (OutputState.STARTED, True)
    path = await gateway.stop_record()
    stopping, stopped = await _typed(got, 2)
    assert isinstance(stopping, RecordStateChanged)
    assert stopping.state is OutputState.STOPPING
    assert stopped == RecordStateChanged(OutputState.STOPPED, active=False, path=path)
    assert Path(path).parent == obs.record_dir

    # No server: OBS tries and gives up: STARTING, then STOPPED only sometimes (see
    # _stream_without_a_server_events; after a recording, as here, OBS 29 did not send it
    # in 6 of 6 tries); never active.
    await client.request(
        "SetStreamServiceSettings",
        {"streamServiceType": "rtmp_custom", "streamServiceSettings": {"server": "", "key": ""}},
    )
    await gateway.start_stream()
    assert await _typed(got, 1) == [StreamStateChanged(OutputState.STARTING, active=False)]
    await asyncio.sleep(0.5)
    later = [got.get_nowait() for _ in range(got.qsize())]
    assert later in ([], [StreamStateChanged(OutputState.STOPPED, active=False)]), later
    assert not (await gateway.stream_status()).active


# ----------------------------------------------------------------------------- controller requests


async def test_transition_kinds_and_special_inputs(client: OBSClient) -> None:
    kinds = (await client.request("GetTransitionKindList"))["transitionKinds"]
    assert {"cut_transition", "fade_transition"} <= set(kinds)
    special = await client.request("GetSpecialInputs")
    assert set(special) == {"desktop1", "desktop2", "mic1", "mic2", "mic3", "mic4"}


async def test_input_volume_round_trip_and_a_text_input_has_none(client: OBSClient) -> None:
    for name, kind in (("Music", "ffmpeg_source"), ("Caption", "text_ft2_source_v2")):
        await client.request(
            "CreateInput",
            {"sceneName": "Scene", "inputName": name, "inputKind": kind, "inputSettings": {}},
        )
    volume = await client.request("GetInputVolume", {"inputName": "Music"})
    assert volume == {"inputVolumeMul": 1.0, "inputVolumeDb": 0.0}
    stream = client.events(["InputVolumeChanged"])
    await client.request("SetInputVolume", {"inputName": "Music", "inputVolumeDb": -20.0})
    changed = await _until(stream, "InputVolumeChanged")
    assert changed[-1].event_data["inputName"] == "Music"
    volume = await client.request("GetInputVolume", {"inputName": "Music"})
    assert volume["inputVolumeDb"] == pytest.approx(-20.0, abs=0.01)
    assert volume["inputVolumeMul"] == pytest.approx(0.1, abs=0.001)
    with pytest.raises(errors.OBSRequestError) as both:
        await client.request(
            "SetInputVolume", {"inputName": "Music", "inputVolumeDb": -1, "inputVolumeMul": 1}
        )
    assert (both.value.code, both.value.comment) == (404, "You may only specify one volume field.")
    with pytest.raises(errors.InvalidResourceState) as text:
        await client.request("GetInputVolume", {"inputName": "Caption"})
    assert text.value.comment == "The specified input does not support audio."


async def test_rename_an_input_and_find_its_item_index(client: OBSClient) -> None:
    await client.request(
        "CreateInput",
        {"sceneName": "Scene", "inputName": "Old name", "inputKind": "color_source_v3"},
    )
    stream = client.events(["InputNameChanged"])
    await client.request("SetInputName", {"inputName": "Old name", "newInputName": "New name"})
    changed = await _until(stream, "InputNameChanged")
    assert (changed[-1].event_data["oldInputName"], changed[-1].event_data["inputName"]) == (
        "Old name",
        "New name",
    )
    with pytest.raises(errors.ResourceAlreadyExists) as taken:
        await client.request("SetInputName", {"inputName": "New name", "newInputName": "Scene"})
    assert taken.value.comment == "A source already exists by that new input name."
    item = await client.request("GetSceneItemId", {"sceneName": "Scene", "sourceName": "New name"})
    index = await client.request(
        "GetSceneItemIndex", {"sceneName": "Scene", "sceneItemId": item["sceneItemId"]}
    )
    assert index == {"sceneItemIndex": 0}
    assert await client.request("GetSourceFilterList", {"sourceName": "New name"}) == {
        "filters": []
    }
    with pytest.raises(errors.ResourceNotFound):
        await client.request("GetSourceFilterList", {"sourceName": "Nobody"})


async def test_toggle_record_pause(client: OBSClient, obs: Target) -> None:
    # Not recording: OBS 29 answers paused and does nothing.
    assert await client.request("ToggleRecordPause") == {"outputPaused": True}
    assert (await client.request("GetRecordStatus"))["outputActive"] is False
    if obs.real:
        # Real OBS 29 did not finish a StopRecord after pause and resume within 10 s here
        # (docs/sim.md): the recording half runs on the sim only.
        return
    stream = client.events(["RecordStateChanged"])
    await client.request("StartRecord")
    await _until(stream, "RecordStateChanged", state="OBS_WEBSOCKET_OUTPUT_STARTED")
    assert await client.request("ToggleRecordPause") == {"outputPaused": True}
    await _until(stream, "RecordStateChanged", state="OBS_WEBSOCKET_OUTPUT_PAUSED")
    assert (await client.request("GetRecordStatus"))["outputPaused"] is True
    assert await client.request("ToggleRecordPause") == {"outputPaused": False}
    await _until(stream, "RecordStateChanged", state="OBS_WEBSOCKET_OUTPUT_RESUMED")
    await client.request("StopRecord")
    await _until(stream, "RecordStateChanged", state="OBS_WEBSOCKET_OUTPUT_STOPPED")


async def test_version_lists_only_requests_that_answer(client: OBSClient, obs: Target) -> None:
    listed = (await client.request("GetVersion"))["availableRequests"]
    for name in (
        "GetTransitionKindList",
        "GetInputVolume",
        "SetInputName",
        "ToggleRecordPause",
        "GetSceneItemTransform",
        "SetSceneItemTransform",
        "SetSceneItemIndex",
        "GetMediaInputStatus",
        "TriggerMediaInputAction",
        "SetSourceFilterEnabled",
    ):
        assert name in listed
    if not obs.real:
        answered_204 = []
        for name in listed:
            if name == "Sleep":
                continue
            try:
                await client.request(name, {})
            except errors.UnknownRequest:
                answered_204.append(name)
            except errors.OBSRequestError:
                pass
        assert answered_204 == []


async def test_scene_item_transform_overlay_event_and_errors(obs: Target) -> None:
    bits = protocol.EventSubscription.ALL | protocol.EventSubscription(1 << 19)
    async with OBSClient(obs.url, obs.password, subscriptions=bits) as client:
        created = await client.request(
            "CreateInput",
            {
                "sceneName": "Scene",
                "inputName": "Box",
                "inputKind": "color_source_v3",
                "inputSettings": {"width": 200, "height": 100},
            },
        )
        item = {"sceneName": "Scene", "sceneItemId": created["sceneItemId"]}
        before = (await client.request("GetSceneItemTransform", item))["sceneItemTransform"]
        assert (before["sourceWidth"], before["width"], before["alignment"]) == (200.0, 200.0, 5)
        assert before["boundsType"] == "OBS_BOUNDS_NONE"
        stream = client.events(["SceneItemTransformChanged"])
        change = {"positionX": 100, "scaleX": 2.0, "rotation": 45}
        await client.request("SetSceneItemTransform", {**item, "sceneItemTransform": change})
        event = (await _until(stream, "SceneItemTransformChanged"))[-1]
        assert event.event_intent == 1 << 19
        after = (await client.request("GetSceneItemTransform", item))["sceneItemTransform"]
        assert event.event_data["sceneItemTransform"] == after
        assert (after["positionX"], after["width"], after["rotation"]) == (100.0, 400.0, 45.0)
        assert after["height"] == before["height"]
        for bad, code, comment in (
            ({}, 403, "The field value of `sceneItemTransform` must not be empty."),
            ({"width": 5}, 703, "You have not provided any valid transform changes."),
            ({"boundsType": "BAD"}, 400, "The field `boundsType` has an invalid value."),
            (
                {"cropLeft": -1},
                402,
                "The field value of `cropLeft` is below the minimum of `0.000000`",
            ),
        ):
            with pytest.raises(errors.OBSRequestError) as failed:
                await client.request("SetSceneItemTransform", {**item, "sceneItemTransform": bad})
            assert (failed.value.code, failed.value.comment) == (code, comment)


async def test_scene_item_index_moves_and_reindexes(client: OBSClient) -> None:
    ids = [
        (
            await client.request(
                "CreateInput",
                {"sceneName": "Scene", "inputName": name, "inputKind": "color_source_v3"},
            )
        )["sceneItemId"]
        for name in ("A", "B", "C")
    ]
    stream = client.events(["SceneItemListReindexed"])
    await client.request(
        "SetSceneItemIndex", {"sceneName": "Scene", "sceneItemId": ids[0], "sceneItemIndex": 9}
    )
    event = (await _until(stream, "SceneItemListReindexed"))[-1]
    assert event.event_data["sceneItems"] == [
        {"sceneItemId": ids[1], "sceneItemIndex": 0},
        {"sceneItemId": ids[2], "sceneItemIndex": 1},
        {"sceneItemId": ids[0], "sceneItemIndex": 2},
    ]
    index = await client.request("GetSceneItemIndex", {"sceneName": "Scene", "sceneItemId": ids[0]})
    assert index == {"sceneItemIndex": 2}
    with pytest.raises(errors.OBSRequestError) as below:
        await client.request(
            "SetSceneItemIndex", {"sceneName": "Scene", "sceneItemId": ids[0], "sceneItemIndex": -1}
        )
    assert below.value.code == 402


async def test_media_input_status_and_actions(client: OBSClient) -> None:
    for name, kind in (("Clip", "ffmpeg_source"), ("Box", "color_source_v3")):
        await client.request(
            "CreateInput", {"sceneName": "Scene", "inputName": name, "inputKind": kind}
        )
    # No file: OBS 29 says it plays, at 0 of 0 ms; a colour source is no media at all.
    # Real OBS reads NONE with nulls for a moment after CreateInput (1 run in 6 on an idle
    # machine, more under load) until the media source has started; the sim plays at once.
    clip = await client.request("GetMediaInputStatus", {"inputName": "Clip"})
    async with asyncio.timeout(3):
        while clip["mediaState"] == "OBS_MEDIA_STATE_NONE":
            await asyncio.sleep(0.02)
            clip = await client.request("GetMediaInputStatus", {"inputName": "Clip"})
    assert clip == {
        "mediaCursor": 0,
        "mediaDuration": 0,
        "mediaState": "OBS_MEDIA_STATE_PLAYING",
    }
    assert await client.request("GetMediaInputStatus", {"inputName": "Box"}) == {
        "mediaCursor": None,
        "mediaDuration": None,
        "mediaState": "OBS_MEDIA_STATE_NONE",
    }
    stream = client.events(["MediaInputActionTriggered"])
    play = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_PAUSE"
    await client.request("TriggerMediaInputAction", {"inputName": "Clip", "mediaAction": play})
    event = (await _until(stream, "MediaInputActionTriggered"))[-1]
    assert (event.event_data["inputName"], event.event_data["mediaAction"]) == ("Clip", play)
    await client.request("TriggerMediaInputAction", {"inputName": "Box", "mediaAction": play})
    for action in ("OBS_WEBSOCKET_MEDIA_INPUT_ACTION_NONE", "BAD"):
        with pytest.raises(errors.OBSRequestError) as bad:
            await client.request(
                "TriggerMediaInputAction", {"inputName": "Clip", "mediaAction": action}
            )
        assert (bad.value.code, bad.value.comment) == (
            400,
            "You have specified an invalid media input action.",
        )
    with pytest.raises(errors.InvalidResourceType):
        await client.request("GetMediaInputStatus", {"inputName": "Scene"})


async def test_enabling_a_missing_filter_is_600(client: OBSClient) -> None:
    await client.request(
        "CreateInput", {"sceneName": "Scene", "inputName": "Box", "inputKind": "color_source_v3"}
    )
    with pytest.raises(errors.ResourceNotFound) as missing:
        await client.request(
            "SetSourceFilterEnabled",
            {"sourceName": "Box", "filterName": "Blur", "filterEnabled": True},
        )
    assert missing.value.comment == "No filter was found in the source `Box` with the name `Blur`."
    with pytest.raises(errors.ResourceNotFound) as nobody:
        await client.request(
            "SetSourceFilterEnabled",
            {"sourceName": "Nobody", "filterName": "Blur", "filterEnabled": True},
        )
    assert nobody.value.comment == "No source was found by the name of `Nobody`."


# ------------------------------------------------------------------ activation (issue 18)

ACTIVITY = (
    protocol.EventSubscription.ALL
    | protocol.EventSubscription.INPUT_VOLUME_METERS
    | protocol.EventSubscription.INPUT_ACTIVE_STATE_CHANGED
    | protocol.EventSubscription.INPUT_SHOW_STATE_CHANGED
)
INPUT_EVENTS = (
    "InputActiveStateChanged",
    "InputShowStateChanged",
    "MediaInputPlaybackStarted",
    "MediaInputPlaybackEnded",
    "MediaInputActionTriggered",
)
NO_MEDIA = {"mediaCursor": None, "mediaDuration": None}


def _tone(path: Path) -> Path:
    """One second of a 440 Hz tone (16-bit mono, 48 kHz)."""
    rate = 48000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate))) for n in range(rate)
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def _input_events(events: list[protocol.Event], name: str) -> list[tuple[str, object]]:
    """(event type, the state it carries) of `name`'s activity and media events."""
    out: list[tuple[str, object]] = []
    for e in events:
        if e.event_type in INPUT_EVENTS and e.event_data.get("inputName") == name:
            d = e.event_data
            state = d.get("videoActive", d.get("videoShowing", d.get("mediaAction")))
            out.append((e.event_type, state))
    return out


class _Recorder:
    """Every event a client receives, taken out in slices (`await rec.take(seconds)`)."""

    def __init__(self, client: OBSClient) -> None:
        self.events: list[protocol.Event] = []
        client.subscribe(self.events.append)

    async def until(
        self, wanted: tuple[str, object], name: str, wait: float = 3.0
    ) -> list[protocol.Event]:
        """The events up to `name`'s `wanted` (type, state) event and 0.1 s after it."""
        seen = False
        async with asyncio.timeout(wait):
            while not seen:
                await asyncio.sleep(0.02)
                seen = wanted in _input_events(self.events, name)
        return await self.take(0.1)

    async def take(self, seconds: float) -> list[protocol.Event]:
        """The events that arrive within `seconds` from now (and any not taken yet)."""
        await asyncio.sleep(seconds)
        got, self.events[:] = list(self.events), []
        return got


@pytest.fixture
async def watcher(obs: Target) -> AsyncIterator[OBSClient]:
    """A client with the meters and the input activity/show subscriptions."""
    async with OBSClient(obs.url, obs.password, subscriptions=ACTIVITY) as c:
        yield c


async def _talk_with_tone(client: OBSClient, tmp_path: Path) -> None:
    await client.request("CreateScene", {"sceneName": "Talk"})
    await client.request("SetCurrentSceneTransition", {"transitionName": "Cut"})
    await client.request(
        "CreateInput",
        {
            "sceneName": "Talk",
            "inputName": "Mic",
            "inputKind": "ffmpeg_source",
            "inputSettings": {"local_file": str(_tone(tmp_path / "tone.wav")), "looping": True},
        },
    )


async def test_meters_and_media_only_while_the_input_is_on_program(
    watcher: OBSClient, tmp_path: Path
) -> None:
    await _talk_with_tone(watcher, tmp_path)
    rec = _Recorder(watcher)
    # Off program: not metered, not playing, not active.
    off = await rec.take(0.6)
    metered = {
        i["inputName"]
        for e in off
        if e.event_type == "InputVolumeMeters"
        for i in e.event_data["inputs"]
    }
    assert "Mic" not in metered
    assert await watcher.request("GetMediaInputStatus", {"inputName": "Mic"}) == {
        **NO_MEDIA,
        "mediaState": "OBS_MEDIA_STATE_NONE",
    }
    assert await watcher.request("GetSourceActive", {"sourceName": "Mic"}) == {
        "videoActive": False,
        "videoShowing": False,
    }
    # On program: shown, restarted, active — then metered and playing.
    await watcher.request("SetCurrentProgramScene", {"sceneName": "Talk"})
    on = await rec.until(("InputActiveStateChanged", True), "Mic")
    on += await rec.take(0.5)
    restart = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_RESTART"
    # Shown, active, and the media restarting. OBS sends its two media events from other
    # threads, so they interleave with the show and activity events in any order: on 29
    # seen between them, around the activity event and even before the show event (runs
    # under load); on 30.2 after both (4 of 4). The sim sends show, media, active.
    events = _input_events(on, "Mic")
    assert sorted(events, key=str) == [
        ("InputActiveStateChanged", True),
        ("InputShowStateChanged", True),
        ("MediaInputActionTriggered", restart),
        ("MediaInputPlaybackStarted", None),
    ], events
    assert events.index(("InputShowStateChanged", True)) < events.index(
        ("InputActiveStateChanged", True)
    ), events
    metered = {
        i["inputName"]
        for e in on
        if e.event_type == "InputVolumeMeters"
        for i in e.event_data["inputs"]
    }
    assert "Mic" in metered
    status = await watcher.request("GetMediaInputStatus", {"inputName": "Mic"})
    assert status["mediaState"] == "OBS_MEDIA_STATE_PLAYING"
    assert status["mediaDuration"] == 1000
    # Off again: hidden, inactive, ended; no more meters.
    await watcher.request("SetCurrentProgramScene", {"sceneName": "Scene"})
    gone = await rec.until(("MediaInputPlaybackEnded", None), "Mic")
    gone += await rec.take(0.5)
    assert _input_events(gone, "Mic") == [
        ("InputShowStateChanged", False),
        ("InputActiveStateChanged", False),
        ("MediaInputPlaybackEnded", None),
    ]
    late = [e for e in gone if e.event_type == "InputVolumeMeters"][-3:]
    assert all("Mic" not in {i["inputName"] for i in e.event_data["inputs"]} for e in late)
    assert await watcher.request("GetMediaInputStatus", {"inputName": "Mic"}) == {
        **NO_MEDIA,
        "mediaState": "OBS_MEDIA_STATE_ENDED",
    }


async def _until_hidden(client: OBSClient, name: str) -> None:
    """Wait until OBS no longer shows `name` anywhere (its events may lag under load)."""
    async with asyncio.timeout(5):
        shown = True
        while shown:
            answer = await client.request("GetSourceActive", {"sourceName": name})
            shown = answer["videoShowing"]
            await asyncio.sleep(0.05)


async def test_activity_follows_items_fades_and_the_studio_mode_preview(
    watcher: OBSClient, tmp_path: Path
) -> None:
    await _talk_with_tone(watcher, tmp_path)
    await watcher.request(
        "CreateInput",
        {"sceneName": "Talk", "inputName": "Cam", "inputKind": "color_source_v3"},
    )
    rec = _Recorder(watcher)
    # An item of the input in the program scene activates it, hidden it does not.
    added = await watcher.request(
        "CreateSceneItem", {"sceneName": "Scene", "sourceName": "Cam", "sceneItemEnabled": False}
    )
    assert _input_events(await rec.take(0.3), "Cam") == []
    item = {"sceneName": "Scene", "sceneItemId": added["sceneItemId"]}
    await watcher.request("SetSceneItemEnabled", {**item, "sceneItemEnabled": True})
    # Under load real OBS now and then sends the show change late or folds it away (seen
    # 2 runs in 20 in the full suite): the activation is what must come.
    on = _input_events(await rec.until(("InputActiveStateChanged", True), "Cam"), "Cam")
    assert ("InputActiveStateChanged", True) in on, on
    assert set(on) <= {("InputShowStateChanged", True), ("InputActiveStateChanged", True)}, on
    await watcher.request("RemoveSceneItem", item)
    off = _input_events(await rec.until(("InputActiveStateChanged", False), "Cam"), "Cam")
    assert ("InputActiveStateChanged", False) in off, off
    assert set(off) <= {("InputShowStateChanged", False), ("InputActiveStateChanged", False)}, off
    # A fade: the new scene's inputs come on at its start, the old scene's go after its end.
    await watcher.request("SetCurrentSceneTransition", {"transitionName": "Fade"})
    await watcher.request("SetCurrentSceneTransitionDuration", {"transitionDuration": 300})
    await watcher.request("SetCurrentProgramScene", {"sceneName": "Talk"})
    await rec.take(0.6)
    await watcher.request("SetCurrentProgramScene", {"sceneName": "Scene"})
    await _until_hidden(watcher, "Cam")
    fade = await rec.take(0.3)
    order = [e.event_type for e in fade if e.event_type != "InputVolumeMeters"]
    assert order.index("InputActiveStateChanged") > order.index("SceneTransitionEnded"), order
    # The studio-mode preview shows, never activates: no playback, no meters.
    await watcher.request("SetStudioModeEnabled", {"studioModeEnabled": True})
    await watcher.request("SetCurrentPreviewScene", {"sceneName": "Talk"})
    preview = await rec.take(0.5)
    assert _input_events(preview, "Cam") == [("InputShowStateChanged", True)]
    assert _input_events(preview, "Mic") == [("InputShowStateChanged", True)]
    assert "Mic" not in {
        i["inputName"]
        for e in preview
        if e.event_type == "InputVolumeMeters"
        for i in e.event_data["inputs"]
    }
    assert await watcher.request("GetSourceActive", {"sourceName": "Cam"}) == {
        "videoActive": False,
        "videoShowing": True,
    }


# ------------------------------------------------------------------ Companion's connect

AUDIO = "The specified input does not support audio."


async def test_companion_connect_sequence(obs: Target, tmp_path: Path) -> None:
    # Bitfocus Companion's OBS module (obs-websocket-js 5.0.x) on connecting: what it asks,
    # in its order, by names (OBS 29 has no UUIDs), over a URL with a path (OBS takes any).
    async with OBSClient(obs.url + "/companion", obs.password) as c:
        await c.request("CreateScene", {"sceneName": "Talk"})
        await c.request(
            "CreateInput",
            {"sceneName": "Talk", "inputName": "Cam", "inputKind": "color_source_v3"},
        )
        await c.request(
            "CreateInput",
            {
                "sceneName": "Talk",
                "inputName": "Mic",
                "inputKind": "ffmpeg_source",
                "inputSettings": {"local_file": str(_tone(tmp_path / "tone.wav"))},
            },
        )
        answers: dict[str, Any] = {}

        async def ask(request_type: str, data: dict[str, Any] | None = None) -> Any:
            try:
                answers[request_type] = await c.request(request_type, data)
            except errors.OBSRequestError as exc:
                answers[request_type] = (exc.code, exc.comment)
            return answers[request_type]

        assert (await ask("GetVersion"))["rpcVersion"] == 1
        await ask("GetStudioModeEnabled")
        hotkeys = (await ask("GetHotkeyList"))["hotkeys"]
        # A scene item's hotkeys carry the source's name on OBS 29, the item's id on 30.
        cam = (
            (await c.request("GetSceneItemId", {"sceneName": "Talk", "sourceName": "Cam"}))[
                "sceneItemId"
            ]
            if obs.obs30
            else "Cam"
        )
        assert {"OBSBasic.StartStreaming", f"libobs.show_scene_item.{cam}", "libobs.mute"} <= set(
            hotkeys
        )
        assert hotkeys.count("OBSBasic.SelectScene") == 2
        # The stream output is listed too once a stream was started (an earlier case).
        outputs = [o["outputName"] for o in (await ask("GetOutputList"))["outputs"]]
        assert outputs[-1] == "simple_file_output", outputs
        for output in outputs:
            assert set(await ask("GetOutputStatus", {"outputName": output})) == {
                "outputActive",
                "outputBytes",
                "outputCongestion",
                "outputDuration",
                "outputReconnecting",
                "outputSkippedFrames",
                "outputTimecode",
                "outputTotalFrames",
            }
        assert await ask("GetOutputStatus", {"outputName": "nope"}) == (
            600,
            "No output was found with the name `nope`.",
        )
        (monitor,) = (await ask("GetMonitorList"))["monitors"]
        assert set(monitor) == {
            "monitorHeight",
            "monitorIndex",
            "monitorName",
            "monitorPositionX",
            "monitorPositionY",
            "monitorWidth",
        }
        await ask("GetVideoSettings")
        assert await ask("GetReplayBufferStatus") == (604, "Replay buffer is not available.")
        kinds = (await ask("GetInputKindList"))["inputKinds"]
        for kind in kinds:
            defaults = await ask("GetInputDefaultSettings", {"inputKind": kind})
            assert isinstance(defaults, dict), (kind, defaults)
        await ask("GetStats")
        for batch in (
            [("GetRecordStatus", None), ("GetRecordDirectory", None)],
            [("GetStreamStatus", None), ("GetStreamServiceSettings", None)],
        ):
            assert all(r.status.result for r in await c.batch(batch))
        profiles = await ask("GetProfileList")
        assert profiles["currentProfileName"] in profiles["profiles"]
        # OBS lists the collection files it finds; right after a change it is rewriting
        # the current one (replace by rename), and about 1 answer in 14 lists none
        # (measured: 21-22 of 300 on both 29.0.2 and 30.2.3). Asked again, it is there.
        for _ in range(20):
            collections = await ask("GetSceneCollectionList")
            if collections["sceneCollections"]:
                break
            await asyncio.sleep(0.05)
        assert collections["currentSceneCollectionName"] in collections["sceneCollections"]
        await ask("GetSceneTransitionList")
        await ask("GetCurrentSceneTransition")
        await ask("GetSpecialInputs")
        await ask("GetInputList")
        scenes = [s["sceneName"] for s in (await ask("GetSceneList"))["scenes"]]
        items = await c.batch([("GetSceneItemList", {"sceneName": s}) for s in scenes])
        assert all(r.status.result for r in items)
        per_source = [
            "GetSourceActive",
            "GetSourceFilterList",
            "GetInputSettings",
            "GetInputMute",
            "GetInputVolume",
            "GetInputAudioBalance",
            "GetInputAudioSyncOffset",
            "GetInputAudioMonitorType",
            "GetInputAudioTracks",
        ]
        got: dict[tuple[str, str], Any] = {}
        for name in ("Cam", "Mic"):
            batch = [
                (t, {"sourceName" if t.startswith("GetSource") else "inputName": name})
                for t in per_source
            ]
            for t, r in zip(per_source, await c.batch(batch), strict=True):
                ok, code, comment = r.status.result, r.status.code, r.status.comment
                got[name, t] = r.response_data if ok else (code, comment)
        for t in per_source[3:]:
            assert got["Cam", t] == (604, AUDIO), (t, got["Cam", t])
        assert got["Mic", "GetInputAudioTracks"] == {
            "inputAudioTracks": {str(n): True for n in range(1, 7)}
        }
        assert got["Mic", "GetInputAudioBalance"] == {"inputAudioBalance": 0.5}
        assert got["Mic", "GetInputAudioSyncOffset"] == {"inputAudioSyncOffset": 0}
        assert got["Mic", "GetInputAudioMonitorType"] == {"monitorType": "OBS_MONITORING_TYPE_NONE"}
        # Buttons a Companion page has: a hotkey, a properties dialog (no window: no-op).
        assert await ask("TriggerHotkeyByName", {"hotkeyName": "OBSBasic.Screenshot"}) == {}
        assert await ask("TriggerHotkeyByName", {"hotkeyName": "Nope"}) == (
            600,
            "No hotkeys were found by that name.",
        )
        assert await ask("OpenInputPropertiesDialog", {"inputName": "Mic"}) == {}
        assert await ask("OpenInputPropertiesDialog", {"inputName": "Nope"}) == (
            600,
            "No source was found by the name of `Nope`.",
        )
