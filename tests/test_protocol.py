"""The sans-I/O obs-websocket v5 module: no sockets, no event loop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from obswebsocket import obsws

from showcaller import errors
from showcaller.obs import protocol
from showcaller.obs.protocol import CloseCode, DecodeError, Status


def test_auth_string_matches_an_independent_client() -> None:
    salt, challenge = protocol.new_salt_and_challenge()
    other = obsws(password="s3cret pässword", legacy=False)
    expected = other._build_auth_string(salt, challenge)  # obs-websocket-py's own code
    assert protocol.auth_string("s3cret pässword", salt, challenge) == expected


def test_fresh_salt_and_challenge_differ() -> None:
    assert protocol.new_salt_and_challenge() != protocol.new_salt_and_challenge()


names = st.text(min_size=1, max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
payloads = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
statuses = st.builds(
    protocol.RequestStatus, st.booleans(), st.sampled_from(list(Status)), st.none() | st.text()
)
messages = st.one_of(
    st.builds(
        protocol.Hello,
        st.just("5.1.0"),
        st.just(1),
        st.none() | st.just("c"),
        st.none() | st.just("s"),
    ).filter(lambda h: (h.challenge is None) == (h.salt is None)),
    st.builds(protocol.Identify, st.just(1), st.none() | names, st.none() | st.integers(0, 2**20)),
    st.builds(protocol.Identified, st.just(1)),
    st.builds(protocol.Reidentify, st.none() | st.integers(0, 2**20)),
    st.builds(protocol.Event, names, st.integers(0, 2**20), payloads.filter(bool)),
    st.builds(protocol.Request, names, names, st.none() | payloads),
    st.builds(protocol.RequestResponse, names, names, statuses, st.none() | payloads),
)


@given(messages)
def test_every_message_survives_encode_and_decode(msg: protocol.Message) -> None:
    assert protocol.decode(protocol.encode(msg)) == msg


def test_batch_round_trip_keeps_order_and_options() -> None:
    batch = protocol.RequestBatch(
        "b-1",
        (protocol.Request("Sleep", "0", {"sleepMillis": 5}), protocol.Request("GetVersion", "1")),
        halt_on_failure=True,
        execution_type=protocol.BatchExecution.SERIAL_FRAME,
    )
    assert protocol.decode(protocol.encode(batch)) == batch
    ok = protocol.RequestStatus(True, Status.SUCCESS)
    response = protocol.RequestBatchResponse(
        "b-1", (protocol.RequestResponse("Sleep", "0", ok), protocol.RequestResponse("A", "1", ok))
    )
    assert protocol.decode(protocol.encode(response)) == response


@pytest.mark.parametrize(
    ("frame", "close_code"),
    [
        ("not json", CloseCode.MESSAGE_DECODE_ERROR),
        ("[1, 2]", CloseCode.MESSAGE_DECODE_ERROR),
        ('{"d": {}}', CloseCode.MISSING_DATA_FIELD),
        ('{"op": "5", "d": {}}', CloseCode.INVALID_DATA_FIELD_TYPE),
        ('{"op": true, "d": {}}', CloseCode.INVALID_DATA_FIELD_TYPE),
        ('{"op": 5}', CloseCode.MISSING_DATA_FIELD),
        ('{"op": 5, "d": {"eventIntent": 1}}', CloseCode.MISSING_DATA_FIELD),
        ('{"op": 2, "d": {"negotiatedRpcVersion": true}}', CloseCode.INVALID_DATA_FIELD_TYPE),
        ('{"op": 42, "d": {}}', CloseCode.UNKNOWN_OP_CODE),
    ],
)
def test_bad_frames_say_which_close_code_applies(frame: str, close_code: CloseCode) -> None:
    with pytest.raises(DecodeError) as info:
        protocol.decode(frame)
    assert info.value.close_code == close_code
    assert isinstance(info.value, errors.OBSConnectionError)


def test_hello_from_real_obs_decodes() -> None:
    frame = {
        "op": 0,
        "d": {
            "authentication": {"challenge": "+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY=",
                               "salt": "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI="},
            "obsWebSocketVersion": "5.1.0",
            "rpcVersion": 1,
        },
    }  # fmt: skip
    hello = protocol.decode(json.dumps(frame))
    assert isinstance(hello, protocol.Hello)
    assert hello.challenge is not None
    assert hello.salt is not None


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (Status.RESOURCE_NOT_FOUND, errors.ResourceNotFound),
        (Status.RESOURCE_ALREADY_EXISTS, errors.ResourceAlreadyExists),
        (Status.OUTPUT_RUNNING, errors.OutputRunning),
        (Status.OUTPUT_NOT_RUNNING, errors.OutputNotRunning),
        (Status.STUDIO_MODE_NOT_ACTIVE, errors.StudioModeNotActive),
        (Status.UNKNOWN_REQUEST_TYPE, errors.UnknownRequest),
        (Status.REQUEST_FIELD_OUT_OF_RANGE, errors.InvalidField),
        (Status.INVALID_RESOURCE_STATE, errors.InvalidResourceState),
        (Status.CANNOT_ACT, errors.OBSRequestError),
    ],
)
def test_failed_status_becomes_a_typed_error_with_code_and_comment(
    code: int, kind: type[errors.OBSRequestError]
) -> None:
    status = protocol.RequestStatus(False, code, "No source was found by the name of `X`.")
    response = protocol.RequestResponse("SetCurrentProgramScene", "1", status)
    with pytest.raises(kind) as info:
        response.raise_for_status()
    assert type(info.value) is kind
    assert info.value.code == code
    assert "`X`" in str(info.value)


def test_successful_response_gives_its_data_or_empty() -> None:
    ok = protocol.RequestStatus(True, Status.SUCCESS)
    assert protocol.RequestResponse("A", "1", ok).raise_for_status() == {}
    assert protocol.RequestResponse("A", "1", ok, {"x": 1}).raise_for_status() == {"x": 1}


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (4009, errors.AuthenticationFailed),
        (4010, errors.NotOBSServer),
        (4011, errors.ConnectionClosed),
        (1001, errors.ConnectionClosed),
        (None, errors.ConnectionClosed),
    ],
)
def test_close_codes_become_typed_errors(code: int | None, kind: type[Exception]) -> None:
    exc = protocol.close_error(code, "reason")
    assert isinstance(exc, kind)
    if code:
        assert str(code) in str(exc)


def test_request_ids_are_unique_per_factory() -> None:
    next_id = protocol.request_id_factory("t")
    ids: list[Any] = [next_id() for _ in range(100)]
    assert len(set(ids)) == 100
    assert ids[0] == "t-1"


def test_every_event_has_a_subscription_bit_in_the_default_set_except_high_volume() -> None:
    high_volume = {
        protocol.EventSubscription.INPUT_VOLUME_METERS,
        protocol.EventSubscription.INPUT_SHOW_STATE_CHANGED,
        protocol.EventSubscription.SCENE_ITEM_TRANSFORM_CHANGED,
    }
    for event_type, bit in protocol.EVENT_INTENT.items():
        assert bool(protocol.DEFAULT_SUBSCRIPTIONS & bit) != (bit in high_volume), event_type


# ------------------------------------------------------------------ the handshake, sans I/O


def _wire_round(message: protocol.Message) -> protocol.Message:
    """What the other side decodes: the message through its JSON encoding."""
    return protocol.decode(protocol.encode(message))


def test_the_client_and_server_handshakes_meet_with_no_socket() -> None:
    server = protocol.ServerHandshake("pw", "5.1.0")
    client = protocol.ClientHandshake("test", "pw", subscriptions=0x21)
    identify = client.receive(_wire_round(server.hello()))
    assert isinstance(identify, protocol.Identify)
    assert client.state is protocol.HandshakeState.AWAITING_IDENTIFIED
    data = protocol.to_wire(identify)["d"]
    identified, subscriptions = server.receive_identify(data)
    assert server.identified
    assert subscriptions == 0x21
    assert client.receive(_wire_round(identified)) is None
    assert client.state is protocol.HandshakeState.IDENTIFIED
    assert client.negotiated_rpc_version == protocol.RPC_VERSION


def test_a_wrong_password_is_refused_with_obs_close_code_and_reason() -> None:
    server = protocol.ServerHandshake("right", "5.1.0")
    client = protocol.ClientHandshake("test", "wrong")
    identify = client.receive(_wire_round(server.hello()))
    assert identify is not None
    with pytest.raises(protocol.HandshakeRefused) as refused:
        server.receive_identify(protocol.to_wire(identify)["d"])
    assert (refused.value.code, refused.value.reason) == (
        protocol.CloseCode.AUTHENTICATION_FAILED,
        "Authentication failed.",
    )
    assert not server.identified


def test_a_client_without_the_password_obs_wants_stops_before_sending_anything() -> None:
    server = protocol.ServerHandshake("pw", "5.1.0")
    client = protocol.ClientHandshake("ws://127.0.0.1:4455", None)
    with pytest.raises(errors.AuthenticationFailed, match="requires a password"):
        client.receive(_wire_round(server.hello()))


def test_messages_out_of_order_are_refused_on_both_sides() -> None:
    client = protocol.ClientHandshake("test", None)
    with pytest.raises(
        errors.NotOBSServer, match="sent Identified where obs-websocket sends Hello"
    ):
        client.receive(protocol.Identified())
    server = protocol.ServerHandshake(None, "5.1.0")
    server.hello()
    with pytest.raises(protocol.HandshakeRefused) as early:
        server.check_op(protocol.OpCode.REQUEST)
    assert early.value.code == protocol.CloseCode.NOT_IDENTIFIED
    server.receive_identify({"rpcVersion": 1})
    with pytest.raises(protocol.HandshakeRefused) as twice:
        server.receive_identify({"rpcVersion": 1})
    assert twice.value.code == protocol.CloseCode.ALREADY_IDENTIFIED
