"""OBSGateway verbs against the simulated OBS and real OBS; the rehearsal guard; images."""

from __future__ import annotations

import asyncio
import logging
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from typing import Any

import pytest

from showcaller import errors
from showcaller.obs import protocol
from showcaller.obs.client import EventListener, OBSClient
from showcaller.obs.events import (
    InputActiveChanged,
    InputMuteChanged,
    InputVolumeMeters,
    OBSEvent,
    OutputState,
    ProgramSceneChanged,
    RecordStateChanged,
    StreamStateChanged,
)
from showcaller.obs.gateway import OBSGateway, UnsupportedFeature, rehearsal_guard
from showcaller.obs.images import (
    ImageDecodeError,
    decode_bmp,
    decode_data_url,
    decode_image,
    decode_png,
)
from showcaller.obs.sim import SimulatedOBS
from showcaller.obs.supervisor import LinkState, OBSLink
from tests.sim_fixtures import SIM_PASSWORD, sim  # noqa: F401 - the fixture is used by name
from tests.test_client import Peer, _real_peer, _sim_peer, peer  # noqa: F401 - fixture by name

RED = 0xFF0000FF  # OBS colours are ABGR


@pytest.fixture
async def obs(peer: Peer) -> AsyncIterator[OBSGateway]:  # noqa: F811 - pytest fixture by name
    """An unguarded gateway over a fresh client."""
    async with OBSClient(peer.url, peer.password) as client:
        yield OBSGateway(client)


# ----------------------------------------------------------------------------- general


async def test_version_and_capabilities(obs: OBSGateway, peer: Peer) -> None:  # noqa: F811
    version = await obs.version()
    assert version.rpc_version == 1
    assert version.websocket_version.startswith("5.")
    assert "GetVersion" in version.available_requests
    assert "png" in version.image_formats
    caps = await obs.capabilities()
    assert caps.split_record == ("SplitRecordFile" in version.available_requests)
    assert caps.chapters == ("CreateRecordChapter" in version.available_requests)
    if peer.kind == "real":
        # The real OBS's own version (29.0.2; 30.2.3 from SHOWCALLER_OBS_ROOT).
        major, minor, patch = peer.obj.version
        assert version.obs_version == f"{major}.{minor}.{patch}"
        assert version.websocket_version.startswith("5.5." if major >= 30 else "5.1.")
        assert version.platform


async def test_stats(obs: OBSGateway) -> None:
    stats = await obs.stats()
    assert stats.memory_usage_mb > 0
    assert stats.render_total_frames >= 0


# ----------------------------------------------------------------------------- scenes


async def test_scenes_are_listed_top_first_and_switched(
    obs: OBSGateway,
    peer: Peer,  # noqa: F811
) -> None:
    await obs.create_scene("Talk")
    await obs.create_scene("Break")
    # OBS 29 (and the sim) adds a scene at the end of the list, OBS 30 right below the
    # current scene ("Scene"): the names come in OBS's own order either way.
    obs30 = peer.kind == "real" and peer.obj.version >= (30, 0, 0)
    assert await obs.scene_names() == (
        ["Scene", "Break", "Talk"] if obs30 else ["Scene", "Talk", "Break"]
    )
    await obs.set_program_scene("Talk")
    assert await obs.program_scene() == "Talk"
    with pytest.raises(errors.ResourceAlreadyExists):
        await obs.create_scene("Talk")
    with pytest.raises(errors.ResourceNotFound):
        await obs.set_program_scene("Nope")
    await obs.remove_scene("Break")
    assert "Break" not in await obs.scene_names()


async def test_studio_mode_and_preview(obs: OBSGateway) -> None:
    assert not await obs.studio_mode()
    with pytest.raises(errors.StudioModeNotActive):
        await obs.preview_scene()
    await obs.create_scene("Next")
    await obs.set_studio_mode(True)
    try:
        await obs.set_preview_scene("Next")
        assert await obs.preview_scene() == "Next"
        assert await obs.studio_mode()
    finally:
        await obs.set_studio_mode(False)


async def test_transition_name_and_duration(obs: OBSGateway) -> None:
    await obs.set_transition("Fade", 500)
    fade = await obs.transition()
    assert (fade.name, fade.duration_ms) == ("Fade", 500)
    await obs.set_transition("Cut")
    assert (await obs.transition()).name == "Cut"
    with pytest.raises(errors.ResourceNotFound):
        await obs.set_transition("No Such Transition")


# ----------------------------------------------------------------------------- inputs


async def test_text_input_lower_third(obs: OBSGateway) -> None:
    await obs.create_input("Scene", "LT Speaker", "text_ft2_source_v2", {"text": "?"})
    await obs.set_text("LT Speaker", "Ada Lovelace")
    assert (await obs.input_settings("LT Speaker"))["text"] == "Ada Lovelace"
    await obs.create_input("Scene", "Red", "color_source_v3", {"color": RED})
    names = [i.name for i in await obs.inputs("text_ft2_source_v2")]
    assert names == ["LT Speaker"]
    assert len(await obs.inputs()) == 2
    # Real OBS 29 keeps listing a removed input while something still holds it.
    await obs.remove_input("LT Speaker")
    with pytest.raises(errors.ResourceNotFound):
        await obs.set_text("No Such Input", "x")


async def test_mute_and_source_active(obs: OBSGateway) -> None:
    await obs.create_input("Scene", "Speaker 1 audio", "ffmpeg_source", {})
    assert not await obs.muted("Speaker 1 audio")
    await obs.set_muted("Speaker 1 audio", True)
    assert await obs.muted("Speaker 1 audio")
    await obs.create_input("Scene", "Red", "color_source_v3", {"color": RED})
    assert await obs.source_active("Red") == (True, True)
    await obs.create_scene("Elsewhere")
    await obs.create_input("Elsewhere", "Blue", "color_source_v3", {"color": 0xFFFF0000})
    assert await obs.source_active("Blue") == (False, False)


@pytest.mark.parametrize("image_format", [None, "png", "bmp"])
async def test_screenshot_of_a_red_source_reads_red(obs: OBSGateway, image_format: str) -> None:
    await obs.create_input("Scene", "Red", "color_source_v3", {"color": RED})
    image = await obs.screenshot("Red", 64, 36, image_format=image_format)
    assert (image.width, image.height) == (64, 36)
    assert image.pixel(0, 0) == (255, 0, 0)
    assert image.pixel(63, 35) == (255, 0, 0)


# ----------------------------------------------------------------------------- outputs


async def test_stream_status_and_service_round_trip(obs: OBSGateway) -> None:
    status = await obs.stream_status()
    assert not status.active
    before = await obs.stream_service()
    await obs.set_stream_service("rtmp://127.0.0.1:1935/live", "rehearsal-key")
    changed = await obs.stream_service()
    assert changed.service_type == "rtmp_custom"
    assert changed.settings["server"] == "rtmp://127.0.0.1:1935/live"
    assert "rehearsal-key" not in repr(changed)
    await obs.restore_stream_service(before)
    assert (await obs.stream_service()).service_type == before.service_type


async def test_record_start_stop_returns_the_file(obs: OBSGateway) -> None:
    states: asyncio.Queue[str] = asyncio.Queue()
    obs.subscribe(lambda e: states.put_nowait(e.event_data["outputState"]), ["RecordStateChanged"])
    await obs.start_record()
    try:
        async with asyncio.timeout(5):
            while await states.get() != "OBS_WEBSOCKET_OUTPUT_STARTED":
                pass
        assert (await obs.record_status()).active
    finally:
        path = await obs.stop_record()
    assert path.endswith(".mkv")


@pytest.fixture(params=["sim51", pytest.param("real", marks=pytest.mark.realobs)])
async def obs29(request: pytest.FixtureRequest) -> AsyncIterator[OBSGateway]:
    """A gateway to an OBS 29 (obs-websocket 5.1): the 5.1 sim, or the session's real OBS."""
    if request.param == "sim51":
        peers = _sim_peer("5.1")
    else:
        peers = _real_peer(request.getfixturevalue("real_obs"))
    async for p in peers:
        async with OBSClient(p.url, p.password) as client:
            yield OBSGateway(client)


async def test_optional_features_say_clearly_when_missing(obs29: OBSGateway) -> None:
    caps = await obs29.capabilities()
    if caps.chapters:
        pytest.skip("this OBS has chapters")
    with pytest.raises(UnsupportedFeature, match="does not offer CreateRecordChapter") as info:
        await obs29.create_chapter("Talk 1")
    assert isinstance(info.value, errors.UnknownRequest)
    assert "newer OBS" in info.value.hint
    with pytest.raises(UnsupportedFeature):
        await obs29.split_record()


# ----------------------------------------------------------------------------- guard


def test_rehearsal_guard_refuses_air_and_allows_the_rest() -> None:
    guard = rehearsal_guard()
    for verb in ("StartStream", "StopStream", "ToggleStream", "StartVirtualCam"):
        with pytest.raises(errors.GuardRefused, match=verb):
            guard(verb)
    for verb in ("SetCurrentProgramScene", "StartRecord", "GetStreamStatus"):
        guard(verb)
    stream_test = rehearsal_guard(allow_stream=True)
    stream_test("StartStream")
    stream_test("SetStreamServiceSettings")
    with pytest.raises(errors.GuardRefused):
        stream_test("StartVirtualCam")


async def test_refused_verbs_never_reach_obs(peer: Peer) -> None:  # noqa: F811
    async with OBSClient(peer.url, peer.password) as client:
        stream_events: list[protocol.Event] = []
        client.subscribe(stream_events.append, ["StreamStateChanged", "VirtualcamStateChanged"])
        rehearsal = OBSGateway(client, guard=rehearsal_guard())
        before = (await client.request("GetStats"))["webSocketSessionIncomingMessages"]
        with pytest.raises(errors.GuardRefused):
            await rehearsal.start_stream()
        with pytest.raises(errors.GuardRefused):
            await rehearsal.request("ToggleStream")
        with pytest.raises(errors.GuardRefused):
            await rehearsal.batch([("GetVersion", None), ("StartStream", None)])
        with pytest.raises(errors.GuardRefused):
            await rehearsal.request("StartVirtualCam")
        with pytest.raises(errors.GuardRefused):
            await rehearsal.set_stream_service("rtmp://example.invalid/live", "k")
        after = (await client.request("GetStats"))["webSocketSessionIncomingMessages"]
        # OBS counts the messages it received: only our two GetStats got through.
        assert after == before + 1
        assert not (await rehearsal.stream_status()).active
        await asyncio.sleep(0.2)
        assert stream_events == []


async def test_gateway_works_over_a_supervised_link(peer: Peer) -> None:  # noqa: F811
    async with OBSLink(peer.url, peer.password) as link:
        await link.wait_ready(timeout=10)
        obs = OBSGateway(link)
        await obs.create_scene("Via Link")
        await obs.set_program_scene("Via Link")
        assert await obs.program_scene() == "Via Link"


# ----------------------------------------------------------------------------- typed events

METERS = protocol.EventSubscription.INPUT_VOLUME_METERS


@pytest.fixture
async def sim_link(sim: SimulatedOBS) -> AsyncIterator[OBSLink]:  # noqa: F811
    """A READY supervised link to the simulated OBS (fast backoff), stopped after the test."""
    sim.use_cases.speaker_feed("Speaker 1", "Scene")
    async with OBSLink(sim.url, SIM_PASSWORD, backoff_cap=0.2) as link:
        await link.wait_ready(timeout=5)
        yield link


async def _next(queue: asyncio.Queue[OBSEvent], kind: type[OBSEvent] | None = None) -> OBSEvent:
    """The next event of `kind` (others skipped), within 5 s."""
    async with asyncio.timeout(5):
        while True:
            event = await queue.get()
            if kind is None or isinstance(event, kind):
                return event


async def _until(condition: Callable[[], bool], limit: float = 5.0) -> None:
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 - nothing to wait on for a subscription bit
            await asyncio.sleep(0.01)


async def test_on_delivers_typed_events_to_sync_and_async_listeners(sim_link: OBSLink) -> None:
    obs = OBSGateway(sim_link)
    sync_got: asyncio.Queue[OBSEvent] = asyncio.Queue()
    async_got: asyncio.Queue[OBSEvent] = asyncio.Queue()

    async def on_async(event: OBSEvent) -> None:
        # An async listener may make a request (it runs as a task, not in the receive loop).
        assert await obs.program_scene()
        async_got.put_nowait(event)

    await obs.on(sync_got.put_nowait, ProgramSceneChanged, RecordStateChanged)
    await obs.on(on_async, ProgramSceneChanged)
    await obs.create_scene("Talk")
    await obs.set_program_scene("Talk")
    assert await _next(sync_got) == ProgramSceneChanged("Talk")
    assert await _next(async_got) == ProgramSceneChanged("Talk")
    await obs.start_record()
    states = [await _next(sync_got), await _next(sync_got)]
    assert states[0] == RecordStateChanged(OutputState.STARTING, False, None)
    assert isinstance(states[1], RecordStateChanged)
    assert (states[1].state, states[1].active) == (OutputState.STARTED, True)
    path = await obs.stop_record()
    states = [await _next(sync_got), await _next(sync_got)]
    assert isinstance(states[0], RecordStateChanged)
    assert states[0].state is OutputState.STOPPING
    assert states[-1] == RecordStateChanged(OutputState.STOPPED, False, path)
    assert async_got.empty()


async def test_a_listener_that_raises_stops_neither_the_others_nor_the_receive_loop(
    sim_link: OBSLink, caplog: pytest.LogCaptureFixture
) -> None:
    obs = OBSGateway(sim_link)
    got: asyncio.Queue[OBSEvent] = asyncio.Queue()

    def broken(event: OBSEvent) -> None:
        raise RuntimeError("listener bug")

    async def broken_async(event: OBSEvent) -> None:
        raise RuntimeError("async listener bug")

    await obs.on(broken, ProgramSceneChanged)
    await obs.on(broken_async, ProgramSceneChanged)
    await obs.on(got.put_nowait, ProgramSceneChanged)
    for scene in ("A", "B"):
        await obs.create_scene(scene)
        await obs.set_program_scene(scene)
        assert await _next(got) == ProgramSceneChanged(scene)
    assert await obs.program_scene() == "B"
    failures = [
        str(r.exc_info[1])
        for r in caplog.records
        if r.name == "showcaller.obs.client" and r.exc_info
    ]
    assert sorted(failures) == ["async listener bug"] * 2 + ["listener bug"] * 2


async def test_unsubscribe_stops_the_listener_and_is_idempotent(sim_link: OBSLink) -> None:
    obs = OBSGateway(sim_link)
    first: list[OBSEvent] = []
    later: asyncio.Queue[OBSEvent] = asyncio.Queue()
    unsubscribe = await obs.on(first.append, ProgramSceneChanged)
    await obs.on(later.put_nowait, ProgramSceneChanged)
    await obs.create_scene("A")
    await obs.set_program_scene("A")
    await _next(later)
    await unsubscribe()
    await unsubscribe()
    await obs.set_program_scene("Scene")
    await _next(later)
    assert first == [ProgramSceneChanged("A")]


async def test_a_malformed_event_is_dropped_and_logged_once_whatever_listens(
    sim: SimulatedOBS,  # noqa: F811
    sim_link: OBSLink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    obs = OBSGateway(sim_link)
    got: asyncio.Queue[OBSEvent] = asyncio.Queue()
    also: list[OBSEvent] = []
    await obs.on(got.put_nowait, ProgramSceneChanged)
    await obs.on(also.append, ProgramSceneChanged, StreamStateChanged)
    with caplog.at_level(logging.WARNING, logger="showcaller.obs.events"):
        sim.broadcast("CurrentProgramSceneChanged", {"sceneUuid": "no name"})
        sim.broadcast("CurrentProgramSceneChanged", {"sceneName": "Good"})
        assert await _next(got) == ProgramSceneChanged("Good")
    warnings = [r.getMessage() for r in caplog.records if r.name == "showcaller.obs.events"]
    assert len(warnings) == 1
    assert "CurrentProgramSceneChanged" in warnings[0]
    assert "without sceneName" in warnings[0]
    assert also == [ProgramSceneChanged("Good")]
    assert await obs.program_scene() == "Scene"  # the receive loop lives on


async def test_on_refuses_what_is_not_a_typed_event(sim_link: OBSLink) -> None:
    obs = OBSGateway(sim_link)
    with pytest.raises(errors.UsageError):
        await obs.on(print)
    with pytest.raises(errors.UsageError, match="OBSEvent"):
        await obs.on(print, OBSEvent)


async def test_volume_meters_are_subscribed_while_someone_listens_across_gateways(
    sim_link: OBSLink,
) -> None:
    guarded, plain = OBSGateway(sim_link, guard=rehearsal_guard()), OBSGateway(sim_link)
    assert not sim_link.subscriptions & METERS
    first: asyncio.Queue[OBSEvent] = asyncio.Queue()
    second: asyncio.Queue[OBSEvent] = asyncio.Queue()
    stop_first = await guarded.on(first.put_nowait, InputVolumeMeters)
    assert sim_link.subscriptions & METERS
    meters = await _next(first)
    assert isinstance(meters, InputVolumeMeters)
    assert [i.name for i in meters.inputs] == ["Speaker 1"]
    assert meters.inputs[0].peak_dbfs > -60  # the sim's speaker is speaking

    stop_second = await plain.on(second.put_nowait, InputVolumeMeters)
    await stop_first()
    # The second listener still holds the bit: the first one's release left it on.
    assert sim_link.subscriptions & METERS
    assert sim_link.client is not None
    assert sim_link.client.subscriptions & METERS
    await _next(second)

    await stop_second()
    assert not sim_link.subscriptions & METERS
    assert sim_link.client.subscriptions & METERS == 0
    leftover: list[protocol.Event] = []
    sim_link.subscribe(leftover.append, ["InputVolumeMeters"])
    await asyncio.sleep(0.25)  # five meter ticks of the sim: none may arrive now
    assert leftover == []


async def test_volume_meters_come_back_after_a_reconnect(
    sim: SimulatedOBS,  # noqa: F811
    sim_link: OBSLink,
) -> None:
    obs = OBSGateway(sim_link)
    got: asyncio.Queue[OBSEvent] = asyncio.Queue()
    unsubscribe = await obs.on(got.put_nowait, InputVolumeMeters)
    await _next(got)
    await sim.restart(downtime=0.1)
    await _until(lambda: sim_link.connects == 2 and sim_link.state is LinkState.READY)
    while not got.empty():
        got.get_nowait()
    assert isinstance(await _next(got), InputVolumeMeters)
    assert sim_link.client is not None
    assert sim_link.client.subscriptions & METERS
    await unsubscribe()
    assert sim_link.client.subscriptions & METERS == 0


async def test_a_bit_the_link_had_already_stays_on_after_the_last_listener(
    sim_link: OBSLink,
) -> None:
    active_bit = protocol.EventSubscription.INPUT_ACTIVE_STATE_CHANGED
    assert sim_link.subscriptions & active_bit  # in showcaller's default subscriptions
    obs = OBSGateway(sim_link)
    unsubscribe = await obs.on(lambda e: None, InputActiveChanged, InputMuteChanged)
    await unsubscribe()
    assert sim_link.subscriptions & active_bit


async def test_on_over_a_bare_client_reidentifies_that_connection(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    sim.use_cases.speaker_feed("Speaker 1", "Scene")
    async with OBSClient(sim.url, SIM_PASSWORD) as client:
        obs = OBSGateway(client)
        got: asyncio.Queue[OBSEvent] = asyncio.Queue()
        unsubscribe = await obs.on(got.put_nowait, InputVolumeMeters)
        assert client.subscriptions & METERS
        await _next(got)
        await unsubscribe()
        assert client.subscriptions & METERS == 0


# ----------------------------------------------------------------------------- resync hooks


async def test_a_resync_hook_gets_the_guard_and_rehearsal_cannot_start_the_stream(
    sim: SimulatedOBS,  # noqa: F811
    sim_link: OBSLink,
) -> None:
    sim.use_cases.stream_target()  # a StartStream that got through would go on air
    rehearsal = OBSGateway(sim_link, guard=rehearsal_guard())
    outcomes: asyncio.Queue[BaseException | str] = asyncio.Queue()

    async def resync(obs: OBSGateway) -> None:
        assert obs.guard is rehearsal.guard
        scene = await obs.program_scene()  # an allowed request goes through
        try:
            await obs.start_stream()
        except errors.GuardRefused as exc:
            outcomes.put_nowait(exc)
        else:
            outcomes.put_nowait(f"started the stream on {scene}")

    remove = rehearsal.add_resync_hook(resync)
    await sim.restart(downtime=0.1)
    outcome = await asyncio.wait_for(outcomes.get(), 5)
    assert isinstance(outcome, errors.GuardRefused)
    await _until(lambda: sim_link.state is LinkState.READY)
    assert sim.requests_seen["StartStream"] == 0
    assert not (await rehearsal.stream_status()).active

    remove()
    await sim.restart(downtime=0.1)
    await _until(lambda: sim_link.connects == 3 and sim_link.state is LinkState.READY)
    assert outcomes.empty()


async def test_a_resync_hook_may_listen_to_typed_events_on_its_connection(
    sim: SimulatedOBS,  # noqa: F811
    sim_link: OBSLink,
) -> None:
    got: asyncio.Queue[OBSEvent] = asyncio.Queue()

    async def resync(obs: OBSGateway) -> None:
        await obs.on(got.put_nowait, ProgramSceneChanged)

    OBSGateway(sim_link).add_resync_hook(resync)
    await sim.restart(downtime=0.1)
    await _until(lambda: sim_link.connects == 2 and sim_link.state is LinkState.READY)
    await sim_link.request("CreateScene", {"sceneName": "After"})
    await sim_link.request("SetCurrentProgramScene", {"sceneName": "After"})
    assert await _next(got) == ProgramSceneChanged("After")


async def test_resync_hooks_need_a_supervised_link(sim: SimulatedOBS) -> None:  # noqa: F811
    async def resync(obs: OBSGateway) -> None:
        pass

    async with OBSClient(sim.url, SIM_PASSWORD) as client:
        with pytest.raises(errors.UsageError, match="OBSLink"):
            OBSGateway(client).add_resync_hook(resync)


# ----------------------------------------------------------------------------- malformed answers


class CannedOBS:
    """An in-memory OBSLinkLike that answers each request type with a canned responseData."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.subscriptions = int(protocol.DEFAULT_SUBSCRIPTIONS)
        self.sent: list[str] = []

    async def request(
        self,
        request_type: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors OBSClient.request
    ) -> Any:
        self.sent.append(request_type)
        return self.answers[request_type]

    async def batch(
        self,
        requests: Sequence[tuple[str, dict[str, Any] | None]],
        *,
        halt_on_failure: bool = False,
        execution_type: int = protocol.BatchExecution.SERIAL_REALTIME,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors OBSClient.batch
    ) -> list[protocol.RequestResponse]:
        raise NotImplementedError

    def subscribe(
        self, listener: EventListener, event_types: Collection[str] | None = None
    ) -> Callable[[], None]:
        return lambda: None

    async def reidentify(self, subscriptions: int) -> None:
        self.subscriptions = subscriptions


VERSION = {
    "obsVersion": "29.0.2",
    "obsWebSocketVersion": "5.1.0",
    "rpcVersion": 1,
    "availableRequests": ["GetVersion"],
    "supportedImageFormats": ["png"],
}
STATUS = {"outputActive": False, "outputTimecode": "00:00:00.000", "outputBytes": 0}

Verb = Callable[[OBSGateway], Awaitable[object]]


@pytest.mark.parametrize(
    ("verb", "request_type", "answer", "message"),
    [
        (OBSGateway.version, "GetVersion", {}, "GetVersion without obsVersion"),
        (OBSGateway.version, "GetVersion", {**VERSION, "rpcVersion": "1"}, "rpcVersion = '1'"),
        (OBSGateway.version, "GetVersion", {**VERSION, "availableRequests": "all"}, "a list"),
        (OBSGateway.stats, "GetStats", {"cpuUsage": "busy"}, "cpuUsage = 'busy' (not a number)"),
        (OBSGateway.scene_names, "GetSceneList", {"scenes": None}, "scenes = None"),
        (
            OBSGateway.scene_names,
            "GetSceneList",
            {"scenes": [{"sceneName": "A", "sceneIndex": 1}, {"sceneIndex": 0}]},
            "GetSceneList without scenes[1].sceneName",
        ),
        (OBSGateway.scene_names, "GetSceneList", {"scenes": ["A"]}, "scenes[0] not an object"),
        (
            OBSGateway.program_scene,
            "GetCurrentProgramScene",
            {},
            "GetCurrentProgramScene without currentProgramSceneName",
        ),
        (
            OBSGateway.transition,
            "GetCurrentSceneTransition",
            {"transitionName": "Fade", "transitionDuration": 0.5},
            "transitionDuration = 0.5 (not an integer)",
        ),
        (
            OBSGateway.transitions,
            "GetSceneTransitionList",
            {"transitions": [{"transitionKind": "cut_transition"}]},
            "without transitions[0].transitionName",
        ),
        (
            OBSGateway.inputs,
            "GetInputList",
            {"inputs": [{"inputName": "Mic"}]},
            "without inputs[0].inputKind",
        ),
        (
            lambda obs: obs.input_settings("Mic"),
            "GetInputSettings",
            {"inputSettings": []},
            "inputSettings = [] (not an object)",
        ),
        (
            lambda obs: obs.create_input("Scene", "Mic", "ffmpeg_source"),
            "CreateInput",
            {"sceneItemId": "7"},
            "CreateInput with sceneItemId = '7' (not an integer)",
        ),
        (lambda obs: obs.muted("Mic"), "GetInputMute", {"inputMuted": 0}, "inputMuted = 0"),
        (
            lambda obs: obs.source_active("Cam"),
            "GetSourceActive",
            {"videoActive": True},
            "without videoShowing",
        ),
        (
            lambda obs: obs.screenshot("Cam", image_format="png"),
            "GetSourceScreenshot",
            {"imageData": "data:image/png;base64,AAAA"},
            "imageData that is not an image",
        ),
        (OBSGateway.stream_status, "GetStreamStatus", {}, "GetStreamStatus without outputActive"),
        (
            OBSGateway.record_status,
            "GetRecordStatus",
            {**STATUS, "outputBytes": "many"},
            "outputBytes = 'many'",
        ),
        (
            OBSGateway.stream_service,
            "GetStreamServiceSettings",
            {"streamServiceSettings": {}},
            "without streamServiceType",
        ),
        (OBSGateway.stop_record, "StopRecord", {}, "StopRecord without outputPath"),
        (OBSGateway.studio_mode, "GetStudioModeEnabled", [], "responseData not an object"),
    ],
)
async def test_a_malformed_answer_is_an_obs_error_naming_the_request(
    verb: Verb, request_type: str, answer: Any, message: str
) -> None:
    obs = OBSGateway(CannedOBS({request_type: answer}))
    with pytest.raises(errors.MalformedResponse) as caught:
        await verb(obs)
    assert isinstance(caught.value, errors.OBSError)
    assert caught.value.request_type == request_type
    assert str(caught.value).startswith(f"OBS answered {request_type} ")
    assert message in str(caught.value)


async def test_optional_fields_may_be_absent_or_null_and_whole_doubles_are_integers() -> None:
    link = CannedOBS(
        {
            "GetVersion": {"obsVersion": "29", "obsWebSocketVersion": "5.1", "rpcVersion": 1.0},
            "GetCurrentSceneTransition": {"transitionName": "Cut", "transitionDuration": None},
            "GetStreamServiceSettings": {
                "streamServiceType": "rtmp_common",
                "streamServiceSettings": None,
            },
            "GetRecordStatus": {"outputActive": True, "outputBytes": 2048.0},
        }
    )
    obs = OBSGateway(link)
    version = await obs.version()
    assert (version.rpc_version, version.platform, version.image_formats) == (1, "", ())
    assert (await obs.transition()).duration_ms is None
    assert (await obs.stream_service()).settings == {}
    status = await obs.record_status()
    assert (status.active, status.bytes, status.timecode) == (True, 2048, "")


async def test_the_guard_still_comes_before_a_canned_answer() -> None:
    link = CannedOBS({"StartStream": {}})
    with pytest.raises(errors.GuardRefused):
        await OBSGateway(link, guard=rehearsal_guard()).start_stream()
    assert link.sent == []


# ----------------------------------------------------------------------------- images


def _png(width: int, height: int, rows: list[bytes], color_type: int, filters: list[int]) -> bytes:
    """Build a PNG with the given filter per row (rows are raw, unfiltered pixels)."""
    bpp = 3 if color_type == 2 else 4
    raw = bytearray()
    prev = bytes(len(rows[0]))
    for row, kind in zip(rows, filters, strict=True):
        raw.append(kind)
        raw += _filter(row, prev, bpp, kind)
        prev = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


def _filter(row: bytes, prev: bytes, bpp: int, kind: int) -> bytes:
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = a
        elif kind == 2:
            pred = b
        elif kind == 3:
            pred = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out.append((x - pred) & 0xFF)
    return bytes(out)


def _gradient(width: int, height: int, bpp: int) -> list[bytes]:
    return [
        bytes(((x * 37 + y * 11 + c * 101) % 256) for x in range(width) for c in range(bpp))
        for y in range(height)
    ]


@pytest.mark.parametrize("color_type", [2, 6])
def test_png_decoder_undoes_all_five_filters(color_type: int) -> None:
    bpp = 3 if color_type == 2 else 4
    rows = _gradient(7, 5, bpp)
    data = _png(7, 5, rows, color_type, [0, 1, 2, 3, 4])
    image = decode_png(data)
    assert (image.width, image.height) == (7, 5)
    for y, row in enumerate(rows):
        for x in range(7):
            assert image.pixel(x, y) == tuple(row[x * bpp : x * bpp + 3])


def test_png_decoder_refuses_what_it_does_not_read() -> None:
    data = _png(2, 1, [bytes(6)], 2, [0])
    sixteen_bit = data.replace(
        data[8:33], data[8:16] + struct.pack(">IIBBBBB", 2, 1, 16, 2, 0, 0, 0) + data[29:33]
    )
    with pytest.raises(ImageDecodeError, match="depth 16"):
        decode_png(sixteen_bit)
    with pytest.raises(ImageDecodeError):
        decode_image(b"GIF89a")


def _bmp(width: int, height: int, pixels: list[tuple[int, int, int]], bpp: int) -> bytes:
    step = bpp // 8
    stride = (width * step + 3) & ~3
    rows = []
    for y in range(height):
        line = bytearray()
        for x in range(width):
            r, g, b = pixels[y * width + x]
            line += bytes((b, g, r)) + (b"\xff" if bpp == 32 else b"")
        rows.append(bytes(line.ljust(stride, b"\0")))
    # 32-bit: top-down (negative height); 24-bit: bottom-up, as Qt writes it.
    body = b"".join(rows if bpp == 32 else reversed(rows))
    header = struct.pack("<IiiHHIIiiII", 40, width, -height if bpp == 32 else height, 1, bpp, 0,
                         len(body), 2835, 2835, 0, 0)  # fmt: skip
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(body), 0, 0, 54) + header + body


@pytest.mark.parametrize("bpp", [24, 32])
def test_bmp_decoder_reads_rows_top_first(bpp: int) -> None:
    pixels = [(x * 40, y * 80, 7) for y in range(3) for x in range(5)]
    image = decode_bmp(_bmp(5, 3, pixels, bpp))
    assert [image.pixel(x, y) for y in range(3) for x in range(5)] == pixels


def test_data_url_and_image_mean() -> None:
    import base64

    url = (
        "data:image/png;base64,"
        + base64.b64encode(_png(2, 1, [bytes((255, 0, 0, 0, 0, 255))], 2, [0])).decode()
    )
    image = decode_data_url(url)
    assert image.mean() == (127.5, 0.0, 127.5)
    with pytest.raises(ImageDecodeError):
        decode_data_url("not a data url")
