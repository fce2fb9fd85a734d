"""Typed OBS verbs: what the rest of showcaller calls instead of raw requests.

camelCase request and response fields stay in here; callers get snake_case frozen
dataclasses, and typed events (`showcaller.obs.events`) through `on()`. Every
request, raw or typed, resync hooks included, first passes the guard, so a rehearsal
can refuse to touch the stream before anything reaches OBS.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from showcaller import errors
from showcaller.obs import protocol
from showcaller.obs.answer import Answer as _Answer
from showcaller.obs.client import EventListener, OBSClient
from showcaller.obs.events import TYPED_EVENTS, OBSEvent, event_subscription, parse_event
from showcaller.obs.images import Image, ImageDecodeError, decode_data_url
from showcaller.obs.items import ItemTransform, SceneItemInfo, SceneItemVerbs, VideoSettings

__all__ = [
    "Capabilities",
    "FeatureOff",
    "Image",
    "InputInfo",
    "ItemTransform",
    "OBSGateway",
    "OBSLinkLike",
    "OBSVersion",
    "OutputStatus",
    "RecordingSettings",
    "SceneItemInfo",
    "Stats",
    "StreamService",
    "TransitionInfo",
    "UnsupportedFeature",
    "VideoSettings",
    "rehearsal_guard",
]

Guard = Callable[[str], None]
EventT = TypeVar("EventT", bound=OBSEvent)
Unsubscribe = Callable[[], Awaitable[None]]

# How long a verb that waits for OBS to confirm a state change (by event) waits.
STATE_CHANGE_TIMEOUT = 5.0

# Requests that put the show on air (or take it off); rehearsal refuses them.
STREAM_REQUESTS = frozenset(
    {"StartStream", "StopStream", "ToggleStream", "SetStreamServiceSettings", "SendStreamCaption"}
)
# The virtual camera feeds other apps (a video call): also "on air", never in rehearsal.
VIRTUALCAM_REQUESTS = frozenset({"StartVirtualCam", "StopVirtualCam", "ToggleVirtualCam"})


class OBSLinkLike(Protocol):
    """What the gateway needs: an `OBSLink` or a bare `OBSClient`."""

    async def request(
        self,
        request_type: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors OBSClient.request
    ) -> dict[str, Any]:
        """Send one request; its responseData or a typed error."""
        ...

    async def batch(
        self,
        requests: Sequence[tuple[str, dict[str, Any] | None]],
        *,
        halt_on_failure: bool = False,
        execution_type: int = protocol.BatchExecution.SERIAL_REALTIME,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors OBSClient.batch
    ) -> list[protocol.RequestResponse]:
        """Send a batch; one response per request run."""
        ...

    def subscribe(
        self, listener: EventListener, event_types: Collection[str] | None = None
    ) -> Callable[[], None]:
        """Listen to events; returns unsubscribe."""
        ...

    @property
    def subscriptions(self) -> int:
        """The event subscription bits identified with (an OBSLink: also for later connections)."""
        ...

    async def reidentify(self, subscriptions: int) -> None:
        """Change the event subscription bits."""
        ...


@runtime_checkable
class _Reconnecting(Protocol):
    """A link that reconnects and runs resync hooks on each connection (an OBSLink)."""

    def add_resync_hook(
        self, hook: Callable[[OBSClient], Awaitable[None]]
    ) -> Callable[[], None]: ...


class UnsupportedFeature(errors.UnknownRequest):
    """This OBS lacks a request showcaller can use when present (e.g. chapters)."""

    hint = "it needs a newer OBS (30.2+, obs-websocket 5.5+); showcaller carries on without it"


class FeatureOff(errors.OBSRequestError):
    """702 to SplitRecordFile or CreateRecordChapter: this OBS (30+) offers the request but
    its recording settings (or a paused recording) do not allow it now."""

    hint = (
        "in OBS, Settings > Output: for split files, Output Mode Advanced, Recording, "
        'Automatic File Splitting "Only split manually"; for chapter markers, Recording '
        'Format "Hybrid MP4"'
    )


def rehearsal_guard(allow_stream: bool = False) -> Guard:
    """A guard that refuses the stream (unless `allow_stream`) and the virtual camera."""
    refused = VIRTUALCAM_REQUESTS | (frozenset() if allow_stream else STREAM_REQUESTS)

    def guard(request_type: str) -> None:
        if request_type in refused:
            raise errors.GuardRefused(
                f"rehearsal does not send {request_type} to OBS",
                hint="rehearsal never goes on air; use `showcaller live` (or --stream-test)",
            )

    return guard


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class OBSVersion:
    """GetVersion."""

    obs_version: str
    websocket_version: str
    rpc_version: int
    platform: str
    platform_description: str
    available_requests: frozenset[str] = field(repr=False)
    image_formats: tuple[str, ...]


@dataclass(frozen=True)
class Capabilities:
    """Optional features this OBS offers."""

    split_record: bool
    chapters: bool


@dataclass(frozen=True)
class RecordingSettings:
    """What OBS's recording settings allow (OBS 30; None: OBS did not say)."""

    split_by_hand: bool | None  # Advanced output mode with file splitting on
    chapter_markers: bool | None  # the Hybrid MP4 format


@dataclass(frozen=True)
class InputInfo:
    """One input (source with audio and/or video)."""

    name: str
    kind: str


@dataclass(frozen=True)
class TransitionInfo:
    """The current scene transition."""

    name: str
    kind: str
    duration_ms: int | None
    fixed: bool


@dataclass(frozen=True)
class OutputStatus:
    """Stream or record output status."""

    active: bool
    reconnecting: bool
    timecode: str
    bytes: int
    duration_ms: int
    paused: bool = False
    congestion: float = 0.0  # the stream's, 0..1 (GetStreamStatus only)
    skipped_frames: int = 0  # the stream's frames dropped on the network since it started
    total_frames: int = 0


@dataclass(frozen=True)
class StreamService:
    """The stream destination; `settings` holds the stream key, so it is kept out of repr."""

    service_type: str
    settings: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Stats:
    """GetStats."""

    cpu_usage: float
    memory_usage_mb: float
    available_disk_space_mb: float
    active_fps: float
    average_frame_render_time_ms: float
    render_skipped_frames: int
    render_total_frames: int
    output_skipped_frames: int
    output_total_frames: int


# --------------------------------------------------------------------------- events

# Subscription bits outside ALL: OBS sends these events only to a client that asks.
_OPT_IN_BITS = ~int(protocol.EventSubscription.ALL)


class _OptInEvents:
    """Reference counts of the opt-in subscription bits (InputVolumeMeters, ...) on one link.

    The first holder of a bit the link lacks reidentifies with it on; the last release
    turns it off again. A bit the link had already (its own default) is never turned
    off. An OBSLink keeps the bits it was last reidentified with for every later
    connection, so the count needs nothing on reconnect.
    """

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._owned: set[int] = set()
        self._lock = asyncio.Lock()

    async def hold(self, link: OBSLinkLike, bits: frozenset[int]) -> None:
        async with self._lock:
            turn_on = {b for b in bits if not self._counts.get(b) and not link.subscriptions & b}
            if turn_on:
                await link.reidentify(link.subscriptions | _mask(turn_on))
            for b in bits:
                self._counts[b] = self._counts.get(b, 0) + 1
            self._owned |= turn_on

    async def release(self, link: OBSLinkLike, bits: frozenset[int]) -> None:
        async with self._lock:
            for b in bits:
                self._counts[b] -= 1
            turn_off = {b for b in bits if not self._counts[b] and b in self._owned}
            self._owned -= turn_off
            if turn_off:
                # A bare client's connection may be gone, and its subscriptions with it.
                with contextlib.suppress(errors.ConnectionClosed):
                    await link.reidentify(link.subscriptions & ~_mask(turn_off))


def _is_typed_event(cls: type) -> bool:
    return getattr(cls, "obs_event_type", None) in TYPED_EVENTS


def _mask(bits: Collection[int]) -> int:
    mask = 0
    for b in bits:
        mask |= b
    return mask


# One count per link, whichever gateway subscribes: two gateways over one link (the
# guarded one and `OBSConnection.gateway`) must not turn a bit off under each other.
_OPT_IN: weakref.WeakKeyDictionary[OBSLinkLike, _OptInEvents] = weakref.WeakKeyDictionary()


def _opt_in_events(link: OBSLinkLike) -> _OptInEvents:
    counts = _OPT_IN.get(link)
    if counts is None:
        counts = _OPT_IN[link] = _OptInEvents()
    return counts


# --------------------------------------------------------------------------- gateway


class OBSGateway(SceneItemVerbs):
    """Typed verbs over an `OBSLinkLike`; every request passes the guard first (scene items
    and the canvas: `obs.items`)."""

    def __init__(self, link: OBSLinkLike, guard: Guard | None = None) -> None:
        """Wrap `link`; `guard(request_type)` may raise GuardRefused before any request."""
        self.link = link
        self.guard = guard
        self._version: OBSVersion | None = None
        # Event types whose malformed payloads were logged at WARNING (later: DEBUG).
        self._malformed_warned: set[str] = set()
        # The last event parsed: every listener of one event shares one parse (and one log).
        self._last_parsed: tuple[protocol.Event, OBSEvent | None] | None = None

    # raw

    async def request(
        self,
        request_type: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - passed to the client's RequestTimeout
    ) -> dict[str, Any]:
        """A raw request (guarded)."""
        if self.guard is not None:
            self.guard(request_type)
        return await self.link.request(request_type, data, timeout=timeout)

    async def batch(
        self,
        requests: Sequence[tuple[str, dict[str, Any] | None]],
        *,
        halt_on_failure: bool = False,
        execution_type: int = protocol.BatchExecution.SERIAL_REALTIME,
    ) -> list[protocol.RequestResponse]:
        """A raw batch; the guard sees every request before any is sent."""
        if self.guard is not None:
            for request_type, _ in requests:
                self.guard(request_type)
        return await self.link.batch(
            requests, halt_on_failure=halt_on_failure, execution_type=execution_type
        )

    async def _answer(self, request_type: str, data: dict[str, Any] | None = None) -> _Answer:
        """A guarded request, its answer read field by field (MalformedResponse, not KeyError)."""
        return _Answer(request_type, await self.request(request_type, data))

    async def _batch_ok(self, requests: Sequence[tuple[str, dict[str, Any] | None]]) -> None:
        """A batch that halts at and raises the first failure."""
        for response in await self.batch(requests, halt_on_failure=True):
            response.raise_for_status()

    def subscribe(
        self, listener: EventListener, event_types: Collection[str] | None = None
    ) -> Callable[[], None]:
        """Listen to OBS events (of `event_types`, or all); returns unsubscribe."""
        return self.link.subscribe(listener, event_types)

    def add_resync_hook(self, hook: Callable[[OBSGateway], Awaitable[None]]) -> Callable[[], None]:
        """Run `await hook(gateway)` after every (re)connect, before READY; returns remove.

        `gateway` wraps the fresh connection with this gateway's guard, so a resync in
        rehearsal cannot start the stream either. What it subscribes to with `on()`
        lasts for that connection. Needs an OBSLink (a bare OBSClient never reconnects).
        """
        link = self.link
        if not isinstance(link, _Reconnecting):
            raise errors.UsageError(
                f"resync hooks need a supervised OBSLink, not a {type(link).__name__}"
            )

        async def resync(client: OBSClient) -> None:
            await hook(self._for_connection(client))

        return link.add_resync_hook(resync)

    def _for_connection(self, client: OBSLinkLike) -> OBSGateway:
        """A gateway over one connection that carries this one's guard and log memory."""
        gateway = type(self)(client, guard=self.guard)
        gateway._malformed_warned = self._malformed_warned
        return gateway

    async def on(
        self, listener: Callable[[EventT], Awaitable[None] | None], *event_classes: type[EventT]
    ) -> Unsubscribe:
        """Call `listener(event)` for each typed event of `event_classes`; returns unsubscribe.

        Sync listeners run in the receive loop, async ones as tracked tasks; one that
        raises is logged and never stops the others. Events OBS sends only on request
        (InputVolumeMeters, InputShowChanged) are subscribed to while someone listens,
        counted per link: the last unsubscribe turns them off. Over an OBSLink, the
        listener and those subscription bits survive reconnects.
        """
        if not event_classes:
            raise errors.UsageError("OBSGateway.on() needs at least one event class")
        missing = [c.__name__ for c in event_classes if not _is_typed_event(c)]
        if missing:
            raise errors.UsageError(f"not a typed OBS event: {', '.join(missing)}")
        classes = tuple(event_classes)
        opt_in = frozenset(
            bit for c in classes if (bit := int(event_subscription(c)) & _OPT_IN_BITS)
        )

        def on_event(event: protocol.Event) -> Awaitable[None] | None:
            typed = self._parse(event)
            if typed is None or not isinstance(typed, classes):
                return None
            return listener(typed)

        # Subscribed before the bit goes on, so the first meters are not missed.
        unsubscribe_raw = self.link.subscribe(on_event, {c.obs_event_type for c in classes})
        counts = _opt_in_events(self.link)
        try:
            await counts.hold(self.link, opt_in)
        except BaseException:
            unsubscribe_raw()
            raise
        released = False

        async def unsubscribe() -> None:
            nonlocal released
            if released:
                return
            released = True
            unsubscribe_raw()
            await counts.release(self.link, opt_in)

        return unsubscribe

    def _parse(self, event: protocol.Event) -> OBSEvent | None:
        last = self._last_parsed
        if last is not None and last[0] is event:
            return last[1]
        typed = parse_event(event, warned=self._malformed_warned)
        self._last_parsed = (event, typed)
        return typed

    # general

    async def version(self) -> OBSVersion:
        """OBS and obs-websocket versions, platform, available requests, image formats."""
        a = await self._answer("GetVersion")
        self._version = OBSVersion(
            obs_version=a.text("obsVersion"),
            websocket_version=a.text("obsWebSocketVersion"),
            rpc_version=a.integer("rpcVersion"),
            platform=a.text("platform", ""),
            platform_description=a.text("platformDescription", ""),
            available_requests=frozenset(a.strings("availableRequests")),
            image_formats=a.strings("supportedImageFormats"),
        )
        return self._version

    async def capabilities(self) -> Capabilities:
        """Optional features, detected from GetVersion's availableRequests (cached)."""
        version = self._version or await self.version()
        return Capabilities(
            split_record="SplitRecordFile" in version.available_requests,
            chapters="CreateRecordChapter" in version.available_requests,
        )

    async def recording_settings(self) -> RecordingSettings:
        """From OBS's profile: OBS 30 splits a recording by hand only in Advanced output
        mode with file splitting on, and takes chapter markers only in Hybrid MP4
        (measured on 30.2; both requests answer 702 otherwise)."""
        mode = await self._profile_parameter("Output", "Mode")
        if mode is None:
            return RecordingSettings(None, None)
        advanced = mode == "Advanced"
        splitting = await self._profile_parameter("AdvOut", "RecSplitFile")
        fmt = await self._profile_parameter("AdvOut" if advanced else "SimpleOutput", "RecFormat2")
        return RecordingSettings(
            split_by_hand=advanced and splitting == "true",
            chapter_markers=None if fmt is None else fmt == "hybrid_mp4",
        )

    async def _profile_parameter(self, category: str, name: str) -> str | None:
        try:
            data = await self.request(
                "GetProfileParameter", {"parameterCategory": category, "parameterName": name}
            )
        except errors.UnknownRequest:
            return None
        value = data.get("parameterValue")
        return value if isinstance(value, str) else None

    async def stats(self) -> Stats:
        """CPU, memory, disk, fps and frame counters."""
        a = await self._answer("GetStats")
        return Stats(
            cpu_usage=a.number("cpuUsage"),
            memory_usage_mb=a.number("memoryUsage"),
            available_disk_space_mb=a.number("availableDiskSpace"),
            active_fps=a.number("activeFps"),
            average_frame_render_time_ms=a.number("averageFrameRenderTime"),
            render_skipped_frames=a.integer("renderSkippedFrames"),
            render_total_frames=a.integer("renderTotalFrames"),
            output_skipped_frames=a.integer("outputSkippedFrames"),
            output_total_frames=a.integer("outputTotalFrames"),
        )

    # scenes

    async def scene_names(self) -> list[str]:
        """Scene names in the order OBS's scene list shows them (top first)."""
        scenes = [
            (s.integer("sceneIndex", 0), s.text("sceneName"))
            for s in (await self._answer("GetSceneList")).objects("scenes")
        ]
        # obs-websocket numbers scenes bottom-up; the UI lists the highest index first.
        return [name for _, name in sorted(scenes, key=lambda s: s[0], reverse=True)]

    async def program_scene(self) -> str:
        """The scene on program (on air)."""
        return (await self._answer("GetCurrentProgramScene")).text("currentProgramSceneName")

    async def set_program_scene(self, name: str) -> None:
        """Put `name` on program (with the current transition)."""
        await self.request("SetCurrentProgramScene", {"sceneName": name})

    async def preview_scene(self) -> str:
        """The scene on preview; StudioModeNotActive outside studio mode."""
        return (await self._answer("GetCurrentPreviewScene")).text("currentPreviewSceneName")

    async def set_preview_scene(self, name: str) -> None:
        """Put `name` on preview and return once it is; StudioModeNotActive outside studio mode."""
        if await self.preview_scene() == name:
            return
        await self._confirmed(
            ("SetCurrentPreviewScene", {"sceneName": name}),
            "CurrentPreviewSceneChanged",
            lambda data: data.get("sceneName") == name,
        )

    async def studio_mode(self) -> bool:
        """Whether studio mode is on."""
        return (await self._answer("GetStudioModeEnabled")).flag("studioModeEnabled")

    async def set_studio_mode(self, on: bool) -> None:
        """Turn studio mode on or off; returns once OBS has switched (its event arrived)."""
        if await self.studio_mode() == on:
            return
        await self._confirmed(
            ("SetStudioModeEnabled", {"studioModeEnabled": on}),
            "StudioModeStateChanged",
            lambda data: data.get("studioModeEnabled") == on,
        )

    async def _confirmed(
        self,
        request: tuple[str, dict[str, Any]],
        event_type: str,
        done: Callable[[dict[str, Any]], bool],
    ) -> None:
        """Send a request and return once OBS's event says it took effect.

        OBS answers some requests before its UI thread has acted on them; a request
        sent in between (a preview set right after enabling studio mode) is lost.
        """
        confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_event(event: protocol.Event) -> None:
            if done(event.event_data) and not confirmed.done():
                confirmed.set_result(None)

        unsubscribe = self.subscribe(on_event, [event_type])
        try:
            await self.request(*request)
            async with asyncio.timeout(STATE_CHANGE_TIMEOUT):
                await confirmed
        except TimeoutError as exc:
            raise errors.RequestTimeout(
                f"OBS did not confirm {request[0]} ({event_type}) within {STATE_CHANGE_TIMEOUT:g} s"
            ) from exc
        finally:
            unsubscribe()

    async def transition(self) -> TransitionInfo:
        """The current scene transition."""
        a = await self._answer("GetCurrentSceneTransition")
        return TransitionInfo(
            name=a.text("transitionName"),
            kind=a.text("transitionKind", ""),
            duration_ms=a.optional_integer("transitionDuration"),
            fixed=a.flag("transitionFixed", False),
        )

    async def transitions(self) -> list[TransitionInfo]:
        """Every scene transition OBS has (names are in OBS's UI language for the built-ins)."""
        a = await self._answer("GetSceneTransitionList")
        return [
            TransitionInfo(
                name=t.text("transitionName"),
                kind=t.text("transitionKind", ""),
                duration_ms=None,
                fixed=t.flag("transitionFixed", False),
            )
            for t in a.objects("transitions", [])
        ]

    async def set_transition(self, name: str, duration_ms: int | None = None) -> None:
        """Make `name` the current transition (and set its duration), and return once OBS
        has them: the first cue after this must fade as configured.

        OBS 29 answers both requests before it applies them (its UI thread does): a Get
        right after read the old name or duration in 2 runs of 10 here. So this asks
        until OBS says so (a fixed transition such as Cut has no duration to wait for).
        """
        requests: list[tuple[str, dict[str, Any] | None]] = [
            ("SetCurrentSceneTransition", {"transitionName": name})
        ]
        if duration_ms is not None:
            requests.append(
                ("SetCurrentSceneTransitionDuration", {"transitionDuration": duration_ms})
            )
        await self._batch_ok(requests)
        try:
            async with asyncio.timeout(STATE_CHANGE_TIMEOUT):
                while True:
                    now = await self.transition()
                    duration_ok = duration_ms is None or now.fixed or now.duration_ms == duration_ms
                    if now.name == name and duration_ok:
                        return
                    await asyncio.sleep(0.02)
        except TimeoutError as exc:
            raise errors.RequestTimeout(
                f"OBS did not take the transition {name!r} within {STATE_CHANGE_TIMEOUT:g} s"
            ) from exc

    async def create_scene(self, name: str) -> None:
        """Create an empty scene; ResourceAlreadyExists if there is one."""
        await self.request("CreateScene", {"sceneName": name})

    async def remove_scene(self, name: str) -> None:
        """Remove a scene and return once it is gone; ResourceNotFound if there is none.

        OBS 29 answers, and even sends SceneRemoved, before GetSceneList stops listing
        the scene; so this asks again until it is gone.
        """
        await self.request("RemoveScene", {"sceneName": name})
        async with asyncio.timeout(STATE_CHANGE_TIMEOUT):
            while name in await self.scene_names():  # noqa: ASYNC110 - OBS sends no event when the list settles
                await asyncio.sleep(0.02)

    # inputs

    async def inputs(self, kind: str | None = None) -> list[InputInfo]:
        """All inputs, or those of one input kind."""
        a = await self._answer("GetInputList", {"inputKind": kind} if kind else None)
        return [InputInfo(i.text("inputName"), i.text("inputKind")) for i in a.objects("inputs")]

    async def input_settings(self, name: str) -> dict[str, Any]:
        """The input's own settings (only those that differ from the kind's defaults)."""
        return (await self._answer("GetInputSettings", {"inputName": name})).mapping(
            "inputSettings"
        )

    async def set_input_settings(
        self, name: str, settings: Mapping[str, Any], overlay: bool = True
    ) -> None:
        """Change settings; `overlay=False` replaces all of them."""
        await self.request(
            "SetInputSettings",
            {"inputName": name, "inputSettings": dict(settings), "overlay": overlay},
        )

    async def set_text(self, name: str, text: str) -> None:
        """Set the text of a text input (text_ft2_source_v2 and text_gdiplus both use "text")."""
        await self.set_input_settings(name, {"text": text})

    async def cue(
        self, texts: Sequence[tuple[str, str]], scene: str
    ) -> list[errors.OBSRequestError | None]:
        """Set the texts, then put `scene` on program: one frame, run by OBS in this order.

        OBS runs separate requests on a thread pool, in no fixed order; a batch runs
        serially, so the lower third is right before the new scene can appear. A text
        that fails does not stop the switch. Returns one error (or None) per text, then
        one for the switch; a lost link or a timeout raises for the whole cue.
        """
        switch: tuple[str, dict[str, Any]] = ("SetCurrentProgramScene", {"sceneName": scene})
        if not texts:
            try:
                await self.request(*switch)
            except errors.OBSRequestError as exc:
                return [exc]
            return [None]
        requests = [_text_request(name, text) for name, text in texts]
        responses = await self.batch([*requests, switch])
        if len(responses) != len(requests) + 1:
            raise errors.OBSError(
                f"OBS answered a cue of {len(requests) + 1} requests with {len(responses)} results"
            )
        return _outcomes(responses)

    async def set_texts(
        self, texts: Sequence[tuple[str, str]]
    ) -> list[errors.OBSRequestError | None]:
        """Set the texts of text inputs in one serial batch; one error (or None) per text."""
        responses = await self.batch([_text_request(name, text) for name, text in texts])
        return _outcomes(responses)

    async def set_items_enabled(
        self, scene: str, items: Sequence[tuple[int, bool]]
    ) -> list[errors.OBSRequestError | None]:
        """Show or hide scene items of `scene` in one serial batch; one error (or None) each."""
        requests: list[tuple[str, dict[str, Any] | None]] = [
            (
                "SetSceneItemEnabled",
                {"sceneName": scene, "sceneItemId": item_id, "sceneItemEnabled": enabled},
            )
            for item_id, enabled in items
        ]
        return _outcomes(await self.batch(requests))

    async def create_input(
        self, scene: str, name: str, kind: str, settings: Mapping[str, Any] | None = None
    ) -> int:
        """Create an input in `scene`; returns its scene item id."""
        a = await self._answer(
            "CreateInput",
            {
                "sceneName": scene,
                "inputName": name,
                "inputKind": kind,
                "inputSettings": dict(settings or {}),
            },
        )
        return a.integer("sceneItemId")

    async def remove_input(self, name: str) -> None:
        """Remove an input (from every scene)."""
        await self.request("RemoveInput", {"inputName": name})

    async def muted(self, name: str) -> bool:
        """Whether an audio input is muted."""
        return (await self._answer("GetInputMute", {"inputName": name})).flag("inputMuted")

    async def volume_db(self, name: str) -> float:
        """The input's fader in dB (-inf: all the way down); UnknownRequest on a sim without it."""
        a = await self._answer("GetInputVolume", {"inputName": name})
        mul = a.number("inputVolumeMul")
        # A multiplier of 0 is a fader all the way down, whatever number OBS gives in dB.
        return float("-inf") if mul <= 0 else a.number("inputVolumeDb")

    async def set_muted(self, name: str, muted: bool) -> None:
        """Mute or unmute an audio input."""
        await self.request("SetInputMute", {"inputName": name, "inputMuted": muted})

    async def source_active(self, name: str) -> tuple[bool, bool]:
        """(video_active, video_showing): on program, and shown anywhere (program/preview)."""
        a = await self._answer("GetSourceActive", {"sourceName": name})
        return a.flag("videoActive"), a.flag("videoShowing")

    async def screenshot(
        self, source: str, width: int = 64, height: int = 36, *, image_format: str | None = None
    ) -> Image:
        """A small RGB screenshot of a source or scene (BMP if OBS offers it, else PNG)."""
        fmt = image_format
        if fmt is None:
            version = self._version or await self.version()
            # BMP is uncompressed: cheapest for OBS to write and for us to read.
            fmt = next((f for f in ("bmp", "png") if f in version.image_formats), None)
        if fmt is None:
            raise errors.OBSError(
                f"OBS offers neither bmp nor png screenshots ({', '.join(version.image_formats)})"
            )
        a = await self._answer(
            "GetSourceScreenshot",
            {"sourceName": source, "imageFormat": fmt, "imageWidth": width, "imageHeight": height},
        )
        try:
            return decode_data_url(a.text("imageData"))
        except ImageDecodeError as exc:
            raise a.malformed(f"with imageData that is not an image we read ({exc})") from exc

    # stream

    async def start_stream(self) -> None:
        """Go on air."""
        await self.request("StartStream")

    async def stop_stream(self) -> None:
        """Go off air."""
        await self.request("StopStream")

    async def stream_status(self) -> OutputStatus:
        """Whether the stream runs, bytes sent, timecode."""
        return _output_status(await self._answer("GetStreamStatus"))

    async def stream_service(self) -> StreamService:
        """The current stream destination (to restore it after a stream test)."""
        a = await self._answer("GetStreamServiceSettings")
        return StreamService(a.text("streamServiceType"), a.mapping("streamServiceSettings", {}))

    async def set_stream_service(self, server: str, key: str) -> None:
        """Stream to a custom RTMP server with `key`."""
        await self.restore_stream_service(
            StreamService("rtmp_custom", {"server": server, "key": key})
        )

    async def restore_stream_service(self, service: StreamService) -> None:
        """Set the stream destination back to one read with `stream_service()`."""
        await self.request(
            "SetStreamServiceSettings",
            {
                "streamServiceType": service.service_type,
                # OBS refuses empty settings (403), which is what an OBS that never had a
                # stream configured reports; an empty key stands for "nothing set".
                "streamServiceSettings": dict(service.settings) or {"key": ""},
            },
        )

    # record

    async def start_record(self) -> None:
        """Start recording."""
        await self.request("StartRecord")

    async def stop_record(self) -> str:
        """Stop recording; the path of the file written."""
        return (await self._answer("StopRecord")).text("outputPath")

    async def record_status(self) -> OutputStatus:
        """Whether recording runs (and is paused), bytes written, timecode."""
        return _output_status(await self._answer("GetRecordStatus"))

    async def pause_record(self) -> None:
        """Pause the recording (OutputPaused if it is paused already)."""
        await self.request("PauseRecord")

    async def resume_record(self) -> None:
        """Resume a paused recording (OutputNotPaused if it is not paused)."""
        await self.request("ResumeRecord")

    async def split_record(self) -> None:
        """Start a new recording file; UnsupportedFeature before obs-websocket 5.5,
        FeatureOff if OBS's settings do not split by hand (or the recording is paused)."""
        await self._optional("SplitRecordFile", None)

    async def create_chapter(self, name: str) -> None:
        """Add a chapter marker to the recording; UnsupportedFeature before obs-websocket
        5.5, FeatureOff if the format takes none (only Hybrid MP4 does) or it is paused."""
        await self._optional("CreateRecordChapter", {"chapterName": name})

    async def _optional(self, request_type: str, data: dict[str, Any] | None) -> None:
        try:
            await self.request(request_type, data)
        except errors.UnknownRequest as exc:
            version = f" (obs-websocket {self._version.websocket_version})" if self._version else ""
            raise UnsupportedFeature(
                request_type, exc.code, f"this OBS{version} does not offer {request_type}"
            ) from exc
        except errors.OBSRequestError as exc:
            if exc.code != protocol.Status.REQUEST_PROCESSING_FAILED:
                raise
            raise FeatureOff(exc.request_type, exc.code, exc.comment) from exc


def _text_request(name: str, text: str) -> tuple[str, dict[str, Any] | None]:
    return ("SetInputSettings", {"inputName": name, "inputSettings": {"text": text}})


def _outcomes(
    responses: Sequence[protocol.RequestResponse],
) -> list[errors.OBSRequestError | None]:
    outcomes: list[errors.OBSRequestError | None] = []
    for response in responses:
        try:
            response.raise_for_status()
        except errors.OBSRequestError as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes


def _output_status(a: _Answer) -> OutputStatus:
    return OutputStatus(
        active=a.flag("outputActive"),
        reconnecting=a.flag("outputReconnecting", False),
        timecode=a.text("outputTimecode", ""),
        bytes=a.integer("outputBytes", 0),
        duration_ms=a.integer("outputDuration", 0),
        paused=a.flag("outputPaused", False),
        congestion=a.number("outputCongestion", 0.0),
        skipped_frames=a.integer("outputSkippedFrames", 0),
        total_frames=a.integer("outputTotalFrames", 0),
    )
