"""obs-websocket v5, sans I/O: message building and parsing, auth, codes.

Shared by the client (`showcaller.obs.client`) and the simulated OBS server
(`showcaller.obs.sim`), so both speak exactly the same protocol. Nothing here does
I/O, reads a clock or knows about asyncio: it turns text into frozen messages and
messages into text. Wire payloads stay camelCase dicts (`requestData`,
`responseData`, `eventData`); the rest of the program sees them through the gateway.

Spec: obs-websocket `docs/generated/protocol.md` (rpcVersion 1).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from showcaller import errors

RPC_VERSION = 1

JSON = dict[str, Any]


class OpCode(enum.IntEnum):
    """Message op codes."""

    HELLO = 0
    IDENTIFY = 1
    IDENTIFIED = 2
    REIDENTIFY = 3
    EVENT = 5
    REQUEST = 6
    REQUEST_RESPONSE = 7
    REQUEST_BATCH = 8
    REQUEST_BATCH_RESPONSE = 9


class CloseCode(enum.IntEnum):
    """WebSocket close codes obs-websocket uses (plus the standard ones we meet)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # OBS shutting down
    UNKNOWN_REASON = 4000
    MESSAGE_DECODE_ERROR = 4002
    MISSING_DATA_FIELD = 4003
    INVALID_DATA_FIELD_TYPE = 4004
    INVALID_DATA_FIELD_VALUE = 4005
    UNKNOWN_OP_CODE = 4006
    NOT_IDENTIFIED = 4007
    ALREADY_IDENTIFIED = 4008
    AUTHENTICATION_FAILED = 4009
    UNSUPPORTED_RPC_VERSION = 4010
    SESSION_INVALIDATED = 4011
    UNSUPPORTED_FEATURE = 4012


class Status(enum.IntEnum):
    """Request status codes."""

    UNKNOWN = 0
    NO_ERROR = 10
    SUCCESS = 100
    MISSING_REQUEST_TYPE = 203
    UNKNOWN_REQUEST_TYPE = 204
    GENERIC_ERROR = 205
    UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE = 206
    NOT_READY = 207
    MISSING_REQUEST_FIELD = 300
    MISSING_REQUEST_DATA = 301
    INVALID_REQUEST_FIELD = 400
    INVALID_REQUEST_FIELD_TYPE = 401
    REQUEST_FIELD_OUT_OF_RANGE = 402
    REQUEST_FIELD_EMPTY = 403
    TOO_MANY_REQUEST_FIELDS = 404
    OUTPUT_RUNNING = 500
    OUTPUT_NOT_RUNNING = 501
    OUTPUT_PAUSED = 502
    OUTPUT_NOT_PAUSED = 503
    OUTPUT_DISABLED = 504
    STUDIO_MODE_ACTIVE = 505
    STUDIO_MODE_NOT_ACTIVE = 506
    RESOURCE_NOT_FOUND = 600
    RESOURCE_ALREADY_EXISTS = 601
    INVALID_RESOURCE_TYPE = 602
    NOT_ENOUGH_RESOURCES = 603
    INVALID_RESOURCE_STATE = 604
    INVALID_INPUT_KIND = 605
    RESOURCE_NOT_CONFIGURABLE = 606
    INVALID_FILTER_KIND = 607
    RESOURCE_CREATION_FAILED = 700
    RESOURCE_ACTION_FAILED = 701
    REQUEST_PROCESSING_FAILED = 702
    CANNOT_ACT = 703


class EventSubscription(enum.IntFlag):
    """Event subscription bits sent in Identify/Reidentify."""

    NONE = 0
    GENERAL = 1 << 0
    CONFIG = 1 << 1
    SCENES = 1 << 2
    INPUTS = 1 << 3
    TRANSITIONS = 1 << 4
    FILTERS = 1 << 5
    OUTPUTS = 1 << 6
    SCENE_ITEMS = 1 << 7
    MEDIA_INPUTS = 1 << 8
    VENDORS = 1 << 9
    UI = 1 << 10
    ALL = (
        GENERAL
        | CONFIG
        | SCENES
        | INPUTS
        | TRANSITIONS
        | FILTERS
        | OUTPUTS
        | SCENE_ITEMS
        | MEDIA_INPUTS
        | VENDORS
        | UI
    )
    INPUT_VOLUME_METERS = 1 << 16
    INPUT_ACTIVE_STATE_CHANGED = 1 << 17
    INPUT_SHOW_STATE_CHANGED = 1 << 18
    SCENE_ITEM_TRANSFORM_CHANGED = 1 << 19


class BatchExecution(enum.IntEnum):
    """RequestBatch executionType."""

    NONE = -1
    SERIAL_REALTIME = 0
    SERIAL_FRAME = 1
    PARALLEL = 2


# The subscription bit each event belongs to: the server sends an event only to
# clients subscribed to its bit, and stamps it as `eventIntent`.
EVENT_INTENT: dict[str, EventSubscription] = {
    "ExitStarted": EventSubscription.GENERAL,
    "VendorEvent": EventSubscription.VENDORS,
    "CustomEvent": EventSubscription.GENERAL,
    "CurrentSceneCollectionChanging": EventSubscription.CONFIG,
    "CurrentSceneCollectionChanged": EventSubscription.CONFIG,
    "SceneCollectionListChanged": EventSubscription.CONFIG,
    "CurrentProfileChanging": EventSubscription.CONFIG,
    "CurrentProfileChanged": EventSubscription.CONFIG,
    "ProfileListChanged": EventSubscription.CONFIG,
    "SceneCreated": EventSubscription.SCENES,
    "SceneRemoved": EventSubscription.SCENES,
    "SceneNameChanged": EventSubscription.SCENES,
    "CurrentProgramSceneChanged": EventSubscription.SCENES,
    "CurrentPreviewSceneChanged": EventSubscription.SCENES,
    "SceneListChanged": EventSubscription.SCENES,
    "InputCreated": EventSubscription.INPUTS,
    "InputRemoved": EventSubscription.INPUTS,
    "InputNameChanged": EventSubscription.INPUTS,
    "InputSettingsChanged": EventSubscription.INPUTS,
    "InputMuteStateChanged": EventSubscription.INPUTS,
    "InputVolumeChanged": EventSubscription.INPUTS,
    "InputAudioBalanceChanged": EventSubscription.INPUTS,
    "InputAudioSyncOffsetChanged": EventSubscription.INPUTS,
    "InputAudioTracksChanged": EventSubscription.INPUTS,
    "InputAudioMonitorTypeChanged": EventSubscription.INPUTS,
    "InputActiveStateChanged": EventSubscription.INPUT_ACTIVE_STATE_CHANGED,
    "InputShowStateChanged": EventSubscription.INPUT_SHOW_STATE_CHANGED,
    "InputVolumeMeters": EventSubscription.INPUT_VOLUME_METERS,
    "CurrentSceneTransitionChanged": EventSubscription.TRANSITIONS,
    "CurrentSceneTransitionDurationChanged": EventSubscription.TRANSITIONS,
    "SceneTransitionStarted": EventSubscription.TRANSITIONS,
    "SceneTransitionEnded": EventSubscription.TRANSITIONS,
    "SceneTransitionVideoEnded": EventSubscription.TRANSITIONS,
    "SceneItemCreated": EventSubscription.SCENE_ITEMS,
    "SceneItemRemoved": EventSubscription.SCENE_ITEMS,
    "SceneItemListReindexed": EventSubscription.SCENE_ITEMS,
    "SceneItemEnableStateChanged": EventSubscription.SCENE_ITEMS,
    "SceneItemLockStateChanged": EventSubscription.SCENE_ITEMS,
    "SceneItemSelected": EventSubscription.SCENE_ITEMS,
    "SceneItemTransformChanged": EventSubscription.SCENE_ITEM_TRANSFORM_CHANGED,
    "StreamStateChanged": EventSubscription.OUTPUTS,
    "RecordStateChanged": EventSubscription.OUTPUTS,
    "RecordFileChanged": EventSubscription.OUTPUTS,
    "ReplayBufferStateChanged": EventSubscription.OUTPUTS,
    "VirtualcamStateChanged": EventSubscription.OUTPUTS,
    "ReplayBufferSaved": EventSubscription.OUTPUTS,
    "MediaInputPlaybackStarted": EventSubscription.MEDIA_INPUTS,
    "MediaInputPlaybackEnded": EventSubscription.MEDIA_INPUTS,
    "MediaInputActionTriggered": EventSubscription.MEDIA_INPUTS,
    "StudioModeStateChanged": EventSubscription.UI,
    "ScreenshotSaved": EventSubscription.UI,
}

# What showcaller subscribes to by default: everything low-volume. The audio check
# adds INPUT_VOLUME_METERS (20 events a second) only while it listens.
DEFAULT_SUBSCRIPTIONS = EventSubscription.ALL | EventSubscription.INPUT_ACTIVE_STATE_CHANGED


class ProtocolError(errors.OBSConnectionError):
    """The peer sent something that is not valid obs-websocket v5."""

    hint = "is this really OBS's WebSocket server (obs-websocket 5.x)?"


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Hello:
    """op 0, server → client: first message; carries the auth challenge if required."""

    obs_websocket_version: str
    rpc_version: int = RPC_VERSION
    challenge: str | None = None
    salt: str | None = None


@dataclass(frozen=True)
class Identify:
    """op 1, client → server."""

    rpc_version: int = RPC_VERSION
    authentication: str | None = None
    event_subscriptions: int | None = None


@dataclass(frozen=True)
class Identified:
    """op 2, server → client."""

    negotiated_rpc_version: int = RPC_VERSION


@dataclass(frozen=True)
class Reidentify:
    """op 3, client → server: change event subscriptions."""

    event_subscriptions: int | None = None


@dataclass(frozen=True)
class Event:
    """op 5, server → client."""

    event_type: str
    event_intent: int
    event_data: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """op 6, client → server."""

    request_type: str
    request_id: str
    request_data: JSON | None = None


@dataclass(frozen=True)
class RequestStatus:
    """The `requestStatus` object of a response."""

    result: bool
    code: int
    comment: str | None = None


@dataclass(frozen=True)
class RequestResponse:
    """op 7, server → client."""

    request_type: str
    request_id: str
    status: RequestStatus
    response_data: JSON | None = None

    def raise_for_status(self) -> JSON:
        """Return responseData (or {}) on success, else raise the typed OBSRequestError."""
        if self.status.result:
            return self.response_data or {}
        raise request_error(self.request_type, self.status.code, self.status.comment)


@dataclass(frozen=True)
class RequestBatch:
    """op 8, client → server."""

    request_id: str
    requests: tuple[Request, ...]
    halt_on_failure: bool = False
    execution_type: int = BatchExecution.SERIAL_REALTIME


@dataclass(frozen=True)
class RequestBatchResponse:
    """op 9, server → client; results keep the order of the requests."""

    request_id: str
    results: tuple[RequestResponse, ...]


Message = (
    Hello
    | Identify
    | Identified
    | Reidentify
    | Event
    | Request
    | RequestResponse
    | RequestBatch
    | RequestBatchResponse
)

# ----------------------------------------------------------------------------- auth


def auth_string(password: str, salt: str, challenge: str) -> str:
    """`b64(sha256(b64(sha256(password + salt)) + challenge))`, as Identify expects."""
    secret = base64.b64encode(hashlib.sha256((password + salt).encode()).digest()).decode()
    return base64.b64encode(hashlib.sha256((secret + challenge).encode()).digest()).decode()


def new_salt_and_challenge() -> tuple[str, str]:
    """A fresh random salt and challenge, as the server sends them in Hello."""
    return (
        base64.b64encode(secrets.token_bytes(32)).decode(),
        base64.b64encode(secrets.token_bytes(32)).decode(),
    )


# ------------------------------------------------------------------------- handshake
#
# Hello → Identify → Identified, as two sans-I/O state machines: the client's side and
# the server's (the simulated OBS), sharing the messages and the auth string above.
# Neither touches a socket: each is told what arrived and says what to send, or raises.


class HandshakeState(enum.Enum):
    """Where one side of a handshake stands."""

    AWAITING_HELLO = "awaiting Hello"  # client
    AWAITING_IDENTIFIED = "awaiting Identified"  # client, Identify sent
    AWAITING_IDENTIFY = "awaiting Identify"  # server, Hello sent
    IDENTIFIED = "identified"


class HandshakeRefused(ProtocolError):
    """The server refuses the client: close the websocket with `code` and `reason` (OBS's)."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ClientHandshake:
    """The client's side: Hello in → Identify out → Identified in.

    `receive(message)` checks each message against where the handshake stands and
    returns the Identify to send after Hello (None after Identified). A server that is
    not obs-websocket 5 raises NotOBSServer; a password OBS wants and we lack raises
    AuthenticationFailed before anything is sent.
    """

    def __init__(
        self, address: str, password: str | None, subscriptions: int | None = None
    ) -> None:
        self.address = address
        self._password = password
        self._subscriptions = subscriptions
        self.state = HandshakeState.AWAITING_HELLO
        self.hello: Hello | None = None
        self.negotiated_rpc_version: int | None = None

    @property
    def expected(self) -> str:
        """The name of the message the handshake waits for (for what is said on a failure)."""
        return "Hello" if self.state is HandshakeState.AWAITING_HELLO else "Identified"

    def receive(self, message: Message) -> Identify | None:
        """Take the next handshake message; the Identify to send after Hello."""
        match self.state, message:
            case HandshakeState.AWAITING_HELLO, Hello():
                return self._on_hello(message)
            case HandshakeState.AWAITING_IDENTIFIED, Identified():
                self.negotiated_rpc_version = message.negotiated_rpc_version
                self.state = HandshakeState.IDENTIFIED
                return None
        raise errors.NotOBSServer(
            f"{self.address} sent {type(message).__name__} where obs-websocket sends "
            f"{self.expected}"
        )

    def _on_hello(self, hello: Hello) -> Identify:
        if hello.rpc_version < RPC_VERSION:
            raise errors.NotOBSServer(
                f"OBS at {self.address} speaks rpcVersion {hello.rpc_version}, need "
                f"{RPC_VERSION} (obs-websocket 5.x)"
            )
        self.hello = hello
        authentication = None
        if hello.challenge is not None and hello.salt is not None:
            if not self._password:
                raise errors.AuthenticationFailed(
                    f"OBS at {self.address} requires a password and none was given"
                )
            authentication = auth_string(self._password, hello.salt, hello.challenge)
        self.state = HandshakeState.AWAITING_IDENTIFIED
        return Identify(
            rpc_version=RPC_VERSION,
            authentication=authentication,
            event_subscriptions=self._subscriptions,
        )


# What OBS 29 says when it closes a session during the handshake (measured; the sim
# says the same, and the contract tests hold both to it).
NOT_IDENTIFIED_REASON = "You attempted to send a non-Identify message while not identified."
ALREADY_IDENTIFIED_REASON = "You are already Identified with the obs-websocket server."


class ServerHandshake:
    """The server's side: Hello out → Identify in → Identified out, checked as OBS does.

    `hello()` makes the Hello (with a fresh challenge when a password is set);
    `receive_identify(data)` checks an Identify's data in OBS's order — password,
    rpcVersion, then the subscriptions — and returns the Identified to send and the
    subscriptions to use, or raises HandshakeRefused with OBS's close code and reason.
    `check_op(op)` refuses what may not come before (or a second) Identify.
    """

    def __init__(self, password: str | None, obs_websocket_version: str) -> None:
        self._password = password
        self._version = obs_websocket_version
        self._expected_auth: str | None = None
        self.state = HandshakeState.AWAITING_IDENTIFY

    def hello(self) -> Hello:
        """The Hello to send first."""
        challenge = salt = None
        if self._password is not None:
            salt, challenge = new_salt_and_challenge()
            self._expected_auth = auth_string(self._password, salt, challenge)
        return Hello(obs_websocket_version=self._version, challenge=challenge, salt=salt)

    @property
    def identified(self) -> bool:
        """Identify was accepted."""
        return self.state is HandshakeState.IDENTIFIED

    def check_op(self, op: int) -> None:
        """Refuse a message other than Identify before it, and a second Identify."""
        if not self.identified and op != OpCode.IDENTIFY:
            raise HandshakeRefused(CloseCode.NOT_IDENTIFIED, NOT_IDENTIFIED_REASON)
        if self.identified and op == OpCode.IDENTIFY:
            raise HandshakeRefused(CloseCode.ALREADY_IDENTIFIED, ALREADY_IDENTIFIED_REASON)

    def receive_identify(
        self, data: Mapping[str, Any], *, refuse: bool = False
    ) -> tuple[Identified, int]:
        """Check an Identify's data; the Identified to send and the event subscriptions.

        `refuse`: fail the authentication whatever was sent (a fault the sim can inject).
        """
        self.check_op(OpCode.IDENTIFY)
        if refuse:
            raise HandshakeRefused(CloseCode.AUTHENTICATION_FAILED, "Authentication failed.")
        if self._expected_auth is not None:
            if "authentication" not in data:
                raise HandshakeRefused(
                    CloseCode.AUTHENTICATION_FAILED,
                    "Your payload's data is missing an `authentication` string, however "
                    "authentication is required.",
                )
            if data["authentication"] != self._expected_auth:
                raise HandshakeRefused(CloseCode.AUTHENTICATION_FAILED, "Authentication failed.")
        if "rpcVersion" not in data:
            raise HandshakeRefused(
                CloseCode.MISSING_DATA_FIELD, "Your payload's data is missing an `rpcVersion`."
            )
        if not is_unsigned(data["rpcVersion"]):
            raise HandshakeRefused(
                CloseCode.INVALID_DATA_FIELD_TYPE, "Your `rpcVersion` is not an unsigned number."
            )
        if data["rpcVersion"] != RPC_VERSION:
            raise HandshakeRefused(
                CloseCode.UNSUPPORTED_RPC_VERSION,
                "Your requested RPC version is not supported by this server.",
            )
        subscriptions = subscriptions_of(data, default=EventSubscription.ALL)
        self.state = HandshakeState.IDENTIFIED
        return Identified(), subscriptions


def is_unsigned(value: Any) -> bool:
    """What OBS's nlohmann::json calls is_number_unsigned (JSON 1, not 1.0, -1 or true)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def subscriptions_of(data: Mapping[str, Any], *, default: int) -> int:
    """The `eventSubscriptions` of an Identify or Reidentify (HandshakeRefused if not a number)."""
    if "eventSubscriptions" not in data:
        return default
    subs = data["eventSubscriptions"]
    if not is_unsigned(subs):
        raise HandshakeRefused(
            CloseCode.INVALID_DATA_FIELD_TYPE,
            "Your `eventSubscriptions` is not an unsigned number.",
        )
    return int(subs)


# --------------------------------------------------------------------------- encode


def _request_payload(req: Request) -> JSON:
    d: JSON = {"requestType": req.request_type, "requestId": req.request_id}
    if req.request_data is not None:
        d["requestData"] = req.request_data
    return d


def _response_payload(resp: RequestResponse) -> JSON:
    status: JSON = {"result": resp.status.result, "code": resp.status.code}
    if resp.status.comment is not None:
        status["comment"] = resp.status.comment
    d: JSON = {
        "requestType": resp.request_type,
        "requestId": resp.request_id,
        "requestStatus": status,
    }
    if resp.response_data is not None:
        d["responseData"] = resp.response_data
    return d


def to_wire(msg: Message) -> JSON:
    """The `{"op": …, "d": …}` object for a message."""
    d: JSON
    match msg:
        case Hello():
            d = {"obsWebSocketVersion": msg.obs_websocket_version, "rpcVersion": msg.rpc_version}
            if msg.challenge is not None and msg.salt is not None:
                d["authentication"] = {"challenge": msg.challenge, "salt": msg.salt}
            return {"op": OpCode.HELLO, "d": d}
        case Identify():
            d = {"rpcVersion": msg.rpc_version}
            if msg.authentication is not None:
                d["authentication"] = msg.authentication
            if msg.event_subscriptions is not None:
                d["eventSubscriptions"] = int(msg.event_subscriptions)
            return {"op": OpCode.IDENTIFY, "d": d}
        case Identified():
            return {
                "op": OpCode.IDENTIFIED,
                "d": {"negotiatedRpcVersion": msg.negotiated_rpc_version},
            }
        case Reidentify():
            d = {}
            if msg.event_subscriptions is not None:
                d["eventSubscriptions"] = int(msg.event_subscriptions)
            return {"op": OpCode.REIDENTIFY, "d": d}
        case Event():
            d = {"eventType": msg.event_type, "eventIntent": int(msg.event_intent)}
            if msg.event_data:
                d["eventData"] = msg.event_data
            return {"op": OpCode.EVENT, "d": d}
        case Request():
            return {"op": OpCode.REQUEST, "d": _request_payload(msg)}
        case RequestResponse():
            return {"op": OpCode.REQUEST_RESPONSE, "d": _response_payload(msg)}
        case RequestBatch():
            d = {
                "requestId": msg.request_id,
                "haltOnFailure": msg.halt_on_failure,
                "executionType": int(msg.execution_type),
                "requests": [_request_payload(r) for r in msg.requests],
            }
            return {"op": OpCode.REQUEST_BATCH, "d": d}
        case RequestBatchResponse():
            return {
                "op": OpCode.REQUEST_BATCH_RESPONSE,
                "d": {
                    "requestId": msg.request_id,
                    "results": [_response_payload(r) for r in msg.results],
                },
            }
    raise TypeError(f"not an obs-websocket message: {msg!r}")  # pragma: no cover


def encode(msg: Message) -> str:
    """The JSON text frame for a message."""
    return json.dumps(to_wire(msg), separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- decode


class DecodeError(ProtocolError):
    """A frame could not be decoded; `close_code` is what a server should close with.

    `request_id` is set when the frame is an answer (op 7 or 9) whose requestId could
    still be read: a client fails that one request instead of dropping the frame.
    """

    def __init__(self, message: str, close_code: CloseCode) -> None:
        super().__init__(message)
        self.close_code = close_code
        self.request_id: str | None = None


def _get(d: Mapping[str, Any], key: str, typ: type | tuple[type, ...], *, op: int) -> Any:
    if key not in d:
        raise DecodeError(f"op {op}: missing field {key!r}", CloseCode.MISSING_DATA_FIELD)
    value = d[key]
    # bool is an int subclass; a JSON true must not pass for a number.
    if not isinstance(value, typ) or (isinstance(value, bool) and bool not in _as_tuple(typ)):
        raise DecodeError(
            f"op {op}: field {key!r} has the wrong type", CloseCode.INVALID_DATA_FIELD_TYPE
        )
    return value


def _opt(d: Mapping[str, Any], key: str, typ: type | tuple[type, ...], *, op: int) -> Any:
    if d.get(key) is None:
        return None
    return _get(d, key, typ, op=op)


def _as_tuple(typ: type | tuple[type, ...]) -> tuple[type, ...]:
    return typ if isinstance(typ, tuple) else (typ,)


def _parse_request(d: Mapping[str, Any], op: int) -> Request:
    return Request(
        request_type=_get(d, "requestType", str, op=op),
        request_id=_get(d, "requestId", str, op=op),
        request_data=_opt(d, "requestData", dict, op=op),
    )


def _parse_response(d: Mapping[str, Any], op: int) -> RequestResponse:
    st = _get(d, "requestStatus", dict, op=op)
    return RequestResponse(
        request_type=_get(d, "requestType", str, op=op),
        request_id=_get(d, "requestId", str, op=op),
        status=RequestStatus(
            result=_get(st, "result", bool, op=op),
            code=_get(st, "code", int, op=op),
            comment=_opt(st, "comment", str, op=op),
        ),
        response_data=_opt(d, "responseData", dict, op=op),
    )


# A \uD800-\uDFFF escape: JSON can spell a lone surrogate, which no UTF-8 text holds.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _utf8(obj: Any) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Constant(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON (and OBS) has none."""


def _no_constant(name: str) -> Any:
    raise _Constant(name)


# One decoder for every frame: json.loads(text, parse_constant=...) would build one per call.
_STRICT = json.JSONDecoder(parse_constant=_no_constant)


def _lenient(raw: str) -> Mapping[str, Any]:
    """The frame read as Python reads JSON (NaN too), only to find whose answer it was."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):  # broken after the NaN as well
        return {}
    return obj if isinstance(obj, dict) else {}


def _refused(obj: Mapping[str, Any], problem: str) -> DecodeError:
    """A frame that parsed but is no obs-websocket text; an answer keeps its requestId."""
    error = DecodeError(problem, CloseCode.MESSAGE_DECODE_ERROR)
    d = obj.get("d")
    request_id = d.get("requestId") if isinstance(d, dict) else None
    if obj.get("op") in (OpCode.REQUEST_RESPONSE, OpCode.REQUEST_BATCH_RESPONSE):
        error.request_id = request_id if isinstance(request_id, str) else None
    return error


def decode(text: str | bytes) -> Message:
    """Parse one frame into a message; raises DecodeError (with the close code to use).

    Strict JSON, as OBS writes it: NaN and Infinity are not JSON, and a string with a
    lone surrogate (`"\\ud800"`) is no text (it could not even be written to a file).
    """
    try:
        raw = text if isinstance(text, str) else text.decode("utf-8")
        obj = _STRICT.decode(raw)
    except _Constant as exc:
        raise _refused(_lenient(raw), f"frame has {exc}, which is not JSON") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError("frame is not JSON", CloseCode.MESSAGE_DECODE_ERROR) from exc
    except RecursionError as exc:  # "[[[[…": deeper than Python's json parser recurses
        raise DecodeError("frame is nested too deeply", CloseCode.MESSAGE_DECODE_ERROR) from exc
    if not isinstance(obj, dict):
        raise DecodeError("frame is not a JSON object", CloseCode.MESSAGE_DECODE_ERROR)
    # A backslash first: one character is found at memchr speed (35 µs in a 4 MB
    # screenshot, where the regular expression takes 1 ms; base64 has no backslash).
    if "\\" in raw and _SURROGATE_ESCAPE.search(raw) and not _utf8(obj):
        raise _refused(obj, "frame has a lone surrogate (not text)")
    if "op" not in obj:
        raise DecodeError("frame has no 'op'", CloseCode.MISSING_DATA_FIELD)
    op = obj["op"]
    if not isinstance(op, int) or isinstance(op, bool):
        raise DecodeError("'op' is not a number", CloseCode.INVALID_DATA_FIELD_TYPE)
    d = obj.get("d")
    if not isinstance(d, dict):
        raise DecodeError(f"op {op}: 'd' is missing or not an object", CloseCode.MISSING_DATA_FIELD)
    match op:
        case OpCode.HELLO:
            auth = _opt(d, "authentication", dict, op=op) or {}
            return Hello(
                obs_websocket_version=_get(d, "obsWebSocketVersion", str, op=op),
                rpc_version=_get(d, "rpcVersion", int, op=op),
                challenge=_opt(auth, "challenge", str, op=op),
                salt=_opt(auth, "salt", str, op=op),
            )
        case OpCode.IDENTIFY:
            return Identify(
                rpc_version=_get(d, "rpcVersion", int, op=op),
                authentication=_opt(d, "authentication", str, op=op),
                event_subscriptions=_opt(d, "eventSubscriptions", int, op=op),
            )
        case OpCode.IDENTIFIED:
            return Identified(negotiated_rpc_version=_get(d, "negotiatedRpcVersion", int, op=op))
        case OpCode.REIDENTIFY:
            return Reidentify(event_subscriptions=_opt(d, "eventSubscriptions", int, op=op))
        case OpCode.EVENT:
            return Event(
                event_type=_get(d, "eventType", str, op=op),
                event_intent=_get(d, "eventIntent", int, op=op),
                event_data=_opt(d, "eventData", dict, op=op) or {},
            )
        case OpCode.REQUEST:
            return _parse_request(d, op)
        case OpCode.REQUEST_RESPONSE | OpCode.REQUEST_BATCH_RESPONSE:
            try:
                return _parse_response(d, op) if op == OpCode.REQUEST_RESPONSE else _batch(d, op)
            except DecodeError as exc:
                request_id = d.get("requestId")
                exc.request_id = request_id if isinstance(request_id, str) else None
                raise
        case OpCode.REQUEST_BATCH:
            reqs = _get(d, "requests", list, op=op)
            parsed: list[Request] = []
            for i, r in enumerate(reqs):
                if not isinstance(r, dict):
                    raise DecodeError(
                        f"op {op}: requests[{i}] is not an object",
                        CloseCode.INVALID_DATA_FIELD_TYPE,
                    )
                # Inside a batch, requestId is optional (OBS echoes what it got).
                parsed.append(
                    Request(
                        request_type=_get(r, "requestType", str, op=op),
                        request_id=str(r.get("requestId", "")),
                        request_data=_opt(r, "requestData", dict, op=op),
                    )
                )
            return RequestBatch(
                request_id=_get(d, "requestId", str, op=op),
                requests=tuple(parsed),
                halt_on_failure=bool(_opt(d, "haltOnFailure", bool, op=op) or False),
                execution_type=int(
                    _opt(d, "executionType", int, op=op) or BatchExecution.SERIAL_REALTIME
                ),
            )
    raise DecodeError(f"unknown op code {op}", CloseCode.UNKNOWN_OP_CODE)


def _batch(d: Mapping[str, Any], op: int) -> RequestBatchResponse:
    results = _get(d, "results", list, op=op)
    out: list[RequestResponse] = []
    for i, r in enumerate(results):
        if not isinstance(r, dict):
            raise DecodeError(
                f"op {op}: results[{i}] is not an object", CloseCode.INVALID_DATA_FIELD_TYPE
            )
        r = dict(r)
        r.setdefault("requestId", "")
        out.append(_parse_response(r, op))
    return RequestBatchResponse(request_id=_get(d, "requestId", str, op=op), results=tuple(out))


# --------------------------------------------------------------------------- errors

_STATUS_ERRORS: dict[int, type[errors.OBSRequestError]] = {
    Status.UNKNOWN_REQUEST_TYPE: errors.UnknownRequest,
    Status.MISSING_REQUEST_FIELD: errors.MissingField,
    Status.MISSING_REQUEST_DATA: errors.MissingField,
    Status.INVALID_REQUEST_FIELD: errors.InvalidField,
    Status.INVALID_REQUEST_FIELD_TYPE: errors.InvalidField,
    Status.REQUEST_FIELD_OUT_OF_RANGE: errors.InvalidField,
    Status.REQUEST_FIELD_EMPTY: errors.InvalidField,
    Status.TOO_MANY_REQUEST_FIELDS: errors.InvalidField,
    Status.OUTPUT_RUNNING: errors.OutputRunning,
    Status.OUTPUT_NOT_RUNNING: errors.OutputNotRunning,
    Status.OUTPUT_PAUSED: errors.OutputPaused,
    Status.OUTPUT_NOT_PAUSED: errors.OutputNotPaused,
    Status.OUTPUT_DISABLED: errors.OutputDisabled,
    Status.STUDIO_MODE_ACTIVE: errors.StudioModeActive,
    Status.STUDIO_MODE_NOT_ACTIVE: errors.StudioModeNotActive,
    Status.RESOURCE_NOT_FOUND: errors.ResourceNotFound,
    Status.RESOURCE_ALREADY_EXISTS: errors.ResourceAlreadyExists,
    Status.INVALID_RESOURCE_TYPE: errors.InvalidResourceType,
    Status.INVALID_RESOURCE_STATE: errors.InvalidResourceState,
}


def request_error(request_type: str, code: int, comment: str | None) -> errors.OBSRequestError:
    """The typed exception for a failed request status, keeping OBS's code and comment."""
    cls = _STATUS_ERRORS.get(code, errors.OBSRequestError)
    return cls(request_type, code, comment)


_CLOSE_ERRORS: dict[int, tuple[type[errors.OBSConnectionError], str]] = {
    CloseCode.AUTHENTICATION_FAILED: (errors.AuthenticationFailed, "OBS refused the password"),
    CloseCode.UNSUPPORTED_RPC_VERSION: (
        errors.NotOBSServer,
        "OBS does not speak obs-websocket rpcVersion 1",
    ),
    CloseCode.NOT_IDENTIFIED: (errors.ConnectionClosed, "OBS closed: not identified"),
    CloseCode.SESSION_INVALIDATED: (errors.ConnectionClosed, "OBS invalidated the session"),
    CloseCode.GOING_AWAY: (errors.ConnectionClosed, "OBS is shutting down"),
}


def close_error(code: int | None, reason: str = "") -> errors.OBSConnectionError:
    """The typed exception for a websocket close code from OBS."""
    cls, text = _CLOSE_ERRORS.get(code or 0, (errors.ConnectionClosed, "OBS closed the connection"))
    detail = f" (close code {code}{': ' + reason if reason else ''})" if code else ""
    return cls(text + detail)


def request_id_factory(prefix: str = "sc") -> Callable[[], str]:
    """A callable giving unique request ids `prefix-1`, `prefix-2`, … (per connection)."""
    counter = 0

    def next_id() -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}-{counter}"

    return next_id
