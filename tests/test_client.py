"""OBSClient against the simulated OBS and a real headless OBS, over real sockets.

A few cases need a peer that misbehaves in a way OBS cannot be asked to (a plain
HTTP server, a websocket that never answers pings, a TCP port that accepts and stays
silent); those are tiny local servers built here, not mocks of OBS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from showcaller import errors
from showcaller.obs import protocol
from showcaller.obs.client import OBSClient
from tests.realobs import HeadlessOBS, free_port

# ----------------------------------------------------------------------------- peers


@dataclass
class Peer:
    """An OBS to test against: its address, password, and a way to make it vanish."""

    kind: str
    url: str
    password: str
    kill: Callable[[], Awaitable[None]]
    obj: Any


async def _sim_peer(obs_version: str = "5.5") -> AsyncIterator[Peer]:
    sim_mod = pytest.importorskip("showcaller.obs.sim", reason="simulated OBS not there yet")
    if not hasattr(sim_mod, "SimulatedOBS"):
        pytest.skip("simulated OBS not there yet")
    sim = sim_mod.SimulatedOBS(
        host="127.0.0.1", port=0, password="sim-secret", obs_version=obs_version
    )
    async with sim:

        async def kill() -> None:
            await sim.kill() if hasattr(sim, "kill") else await sim.stop()

        yield Peer("sim", sim.url, "sim-secret", kill, sim)


async def _real_peer(obs: HeadlessOBS) -> AsyncIterator[Peer]:
    async def kill() -> None:
        await asyncio.to_thread(obs.kill)

    yield Peer("real", obs.url, obs.password, kill, obs)
    obs.ensure_running()


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realobs)])
async def peer(request: pytest.FixtureRequest) -> AsyncIterator[Peer]:
    """Each test runs against the simulated OBS and against real OBS."""
    if request.param == "sim":
        async for p in _sim_peer():
            yield p
    else:
        async for p in _real_peer(request.getfixturevalue("real_obs")):
            yield p


@pytest.fixture
async def client(peer: Peer) -> AsyncIterator[OBSClient]:
    """A connected client with short timeouts."""
    c = OBSClient(peer.url, peer.password, connect_timeout=5, request_timeout=5)
    await c.connect()
    yield c
    await c.close()


@contextlib.asynccontextmanager
async def http_server(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields ws://127.0.0.1:PORT."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def silent_tcp_server() -> AsyncIterator[str]:
    """A TCP port that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()


def fake_obs_app(*, first: str | None = None, answer_pings: bool = True) -> web.Application:
    """A minimal obs-websocket server (no auth) for misbehaviour OBS cannot be asked for."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=answer_pings)
        await ws.prepare(request)
        await ws.send_str(first or protocol.encode(protocol.Hello("5.1.0")))
        async for msg in ws:
            decoded = protocol.decode(msg.data)
            if isinstance(decoded, protocol.Identify):
                await ws.send_str(protocol.encode(protocol.Identified()))
            elif isinstance(decoded, protocol.Request):
                ok = protocol.RequestStatus(True, protocol.Status.SUCCESS)
                resp = protocol.RequestResponse(decoded.request_type, decoded.request_id, ok, {})
                await ws.send_str(protocol.encode(resp))
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    return app


def closed_port_url() -> str:
    """A loopback port nothing listens on."""
    return f"ws://127.0.0.1:{free_port()}"


# ----------------------------------------------------------------------------- connecting


async def test_connect_identifies_and_answers_requests(client: OBSClient) -> None:
    assert client.connected
    assert client.hello is not None
    assert client.hello.obs_websocket_version.startswith("5.")
    assert client.negotiated_rpc_version == 1
    version = await client.request("GetVersion")
    assert version["rpcVersion"] == 1
    assert "SetCurrentProgramScene" in version["availableRequests"]


async def test_wrong_password_is_authentication_failed_without_the_password(peer: Peer) -> None:
    wrong = "not-the-password-xyz"
    c = OBSClient(peer.url, wrong, connect_timeout=5)
    with pytest.raises(errors.AuthenticationFailed) as info:
        await c.connect()
    assert wrong not in str(info.value)
    assert peer.password not in str(info.value)
    assert not c.connected


async def test_missing_password_is_authentication_failed(peer: Peer) -> None:
    with pytest.raises(errors.AuthenticationFailed, match="requires a password"):
        await OBSClient(peer.url, None).connect()


async def test_closed_port_is_connection_refused_with_the_address() -> None:
    url = closed_port_url()
    with pytest.raises(errors.ConnectionRefused) as info:
        await OBSClient(url, "pw").connect()
    assert url.removeprefix("ws://") in str(info.value)


async def test_silent_server_is_connect_timeout() -> None:
    async with silent_tcp_server() as url:
        with pytest.raises(errors.ConnectTimeout, match=r"0\.3 s"):
            await OBSClient(url, "pw", connect_timeout=0.3).connect()


async def test_plain_http_server_is_not_obs() -> None:
    async def page(_: web.Request) -> web.Response:
        return web.Response(text="hello, I am a web page")

    app = web.Application()
    app.router.add_get("/", page)
    async with http_server(app) as url:
        with pytest.raises(errors.NotOBSServer, match="HTTP 200"):
            await OBSClient(url, "pw").connect()
    async with http_server(web.Application()) as url:
        with pytest.raises(errors.NotOBSServer, match="HTTP 404"):
            await OBSClient(url, "pw").connect()


async def test_websocket_that_does_not_say_hello_is_not_obs() -> None:
    async with http_server(fake_obs_app(first='{"hello": "world"}')) as url:
        with pytest.raises(errors.NotOBSServer):
            await OBSClient(url, "pw").connect()
    wrong_op = protocol.encode(protocol.Identified())
    async with http_server(fake_obs_app(first=wrong_op)) as url:
        with pytest.raises(errors.NotOBSServer, match="Identified where obs-websocket sends Hello"):
            await OBSClient(url, "pw").connect()


def test_only_websocket_urls_are_accepted() -> None:
    with pytest.raises(errors.UsageError):
        OBSClient("sim")
    with pytest.raises(errors.UsageError):
        OBSClient("http://127.0.0.1:4455")


# ----------------------------------------------------------------------------- requests


async def test_failed_request_keeps_obs_status_code_and_comment(client: OBSClient) -> None:
    with pytest.raises(errors.ResourceNotFound) as info:
        await client.request("SetCurrentProgramScene", {"sceneName": "No Such Scene"})
    assert info.value.code == protocol.Status.RESOURCE_NOT_FOUND
    assert "No Such Scene" in info.value.comment
    # The link is fine after a refused request.
    assert (await client.request("GetCurrentProgramScene"))["currentProgramSceneName"] == "Scene"


async def test_slow_request_does_not_delay_one_sent_after_it(client: OBSClient) -> None:
    # obs-websocket's Sleep (in a batch) holds one request for as long as we like.
    slow = asyncio.create_task(client.batch([("Sleep", {"sleepMillis": 1500})]))
    await asyncio.sleep(0.05)
    await client.request("CreateScene", {"sceneName": "Talk"})
    await client.request("SetCurrentProgramScene", {"sceneName": "Talk"})
    assert not slow.done(), "the scene switch waited for the slow request"
    results = await slow
    assert results[0].status.result


@pytest.mark.parametrize("peer", ["sim"], indirect=True)  # needs the sim's delay fault
async def test_slow_screenshot_does_not_delay_a_scene_switch(client: OBSClient, peer: Peer) -> None:
    peer.obj.faults.delay("GetSourceScreenshot", 2.0)
    await client.request("CreateScene", {"sceneName": "Talk"})
    shot = asyncio.create_task(
        client.request(
            "GetSourceScreenshot",
            {"sourceName": "Scene", "imageFormat": "png", "imageWidth": 64, "imageHeight": 36},
        )
    )
    await asyncio.sleep(0.05)
    await client.request("SetCurrentProgramScene", {"sceneName": "Talk"})
    assert not shot.done(), "the scene switch waited for the screenshot"
    assert (await shot)["imageData"].startswith("data:image/png;base64,")


async def test_request_timeout_fails_only_that_request(client: OBSClient) -> None:
    with pytest.raises(errors.RequestTimeout, match=r"within 0\.2 s"):
        await client.batch([("Sleep", {"sleepMillis": 1000})], timeout=0.2)
    assert (await client.request("GetVersion"))["rpcVersion"] == 1


async def test_batch_returns_every_result_in_order_without_raising(client: OBSClient) -> None:
    results = await client.batch(
        [
            ("CreateScene", {"sceneName": "Opening"}),
            ("SetCurrentProgramScene", {"sceneName": "Missing"}),
            ("GetCurrentProgramScene", None),
        ]
    )
    assert [r.status.result for r in results] == [True, False, True]
    assert results[1].status.code == protocol.Status.RESOURCE_NOT_FOUND
    with pytest.raises(errors.ResourceNotFound):
        results[1].raise_for_status()
    assert results[2].raise_for_status()["currentProgramSceneName"] == "Scene"


async def test_batch_halts_on_failure_when_asked(client: OBSClient) -> None:
    results = await client.batch(
        [("SetCurrentProgramScene", {"sceneName": "Missing"}), ("CreateScene", {"sceneName": "X"})],
        halt_on_failure=True,
    )
    assert len(results) == 1
    scenes = (await client.request("GetSceneList"))["scenes"]
    assert "X" not in [s["sceneName"] for s in scenes]


# ----------------------------------------------------------------------------- events


async def _switch_and_wait(client: OBSClient, scene: str, got: asyncio.Future[Any]) -> Any:
    await client.request("CreateScene", {"sceneName": scene})
    await client.request("SetCurrentProgramScene", {"sceneName": scene})
    async with asyncio.timeout(5):
        return await got


async def test_async_listener_may_await_a_request(client: OBSClient) -> None:
    got: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def on_change(event: protocol.Event) -> None:
        # With obs-websocket-py this deadlocks until timeout; here it must just work.
        current = await client.request("GetCurrentProgramScene")
        got.set_result(current["currentProgramSceneName"])

    client.subscribe(on_change, {"CurrentProgramSceneChanged"})
    assert await _switch_and_wait(client, "Talk", got) == "Talk"


async def test_failing_listeners_are_logged_and_do_not_stop_delivery(
    client: OBSClient, caplog: pytest.LogCaptureFixture
) -> None:
    got: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def broken(event: protocol.Event) -> None:
        raise RuntimeError("listener bug")

    async def broken_async(event: protocol.Event) -> None:
        raise RuntimeError("async listener bug")

    client.subscribe(broken)
    client.subscribe(broken_async)
    client.subscribe(
        lambda e: got.set_result(e.event_data["sceneName"]), ["CurrentProgramSceneChanged"]
    )
    with caplog.at_level(logging.ERROR, logger="showcaller.obs.client"):
        assert await _switch_and_wait(client, "Break", got) == "Break"
        await asyncio.sleep(0.05)
    assert "listener bug" in caplog.text
    assert "async listener bug" in caplog.text
    assert (await client.request("GetVersion"))["rpcVersion"] == 1


async def test_unsubscribe_stops_delivery(client: OBSClient) -> None:
    seen: list[str] = []
    unsubscribe = client.subscribe(lambda e: seen.append(e.event_type), ["SceneCreated"])
    await client.request("CreateScene", {"sceneName": "A"})
    unsubscribe()
    await client.request("CreateScene", {"sceneName": "B"})
    # An event for B would have been sent before the answer to this request.
    await client.request("GetVersion")
    await asyncio.sleep(0.1)
    assert seen.count("SceneCreated") <= 1


async def test_events_iterator_yields_in_order(client: OBSClient) -> None:
    stream = client.events({"SceneCreated"})
    for name in ("One", "Two", "Three"):
        await client.request("CreateScene", {"sceneName": name})
    names = []
    async with asyncio.timeout(5):
        async for event in stream:
            names.append(event.event_data["sceneName"])
            if len(names) == 3:
                break
    assert names == ["One", "Two", "Three"]


async def test_slow_events_consumer_loses_the_oldest_events(
    client: OBSClient, caplog: pytest.LogCaptureFixture
) -> None:
    stream = client.events({"SceneCreated"}, maxsize=2)
    with caplog.at_level(logging.WARNING, logger="showcaller.obs.client"):
        for name in ("S1", "S2", "S3", "S4"):
            await client.request("CreateScene", {"sceneName": name})
        await client.request("GetVersion")
        await asyncio.sleep(0.1)
        names = [(await anext(stream)).event_data["sceneName"] for _ in range(2)]
    assert names == ["S3", "S4"]
    assert "too slow" in caplog.text


async def test_events_iterator_ends_when_the_link_closes(client: OBSClient) -> None:
    stream = client.events()
    await client.close()
    async with asyncio.timeout(2):
        assert [e async for e in stream] == []


async def test_reidentify_turns_on_volume_meters(client: OBSClient) -> None:
    got: asyncio.Future[protocol.Event] = asyncio.get_running_loop().create_future()
    client.subscribe(lambda e: None if got.done() else got.set_result(e), ["InputVolumeMeters"])
    await client.reidentify(
        protocol.DEFAULT_SUBSCRIPTIONS | protocol.EventSubscription.INPUT_VOLUME_METERS
    )
    async with asyncio.timeout(5):
        event = await got
    assert "inputs" in event.event_data


# ----------------------------------------------------------------------------- losing the link


async def test_killing_obs_fails_every_pending_request_within_a_second(peer: Peer) -> None:
    c = OBSClient(peer.url, peer.password, request_timeout=30)
    await c.connect()
    try:
        pending = [
            asyncio.create_task(c.batch([("Sleep", {"sleepMillis": 3000})])) for _ in range(5)
        ]
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in pending)
        loop = asyncio.get_running_loop()
        killing = asyncio.create_task(peer.kill())
        killed_at = loop.time()
        results = await asyncio.wait_for(
            asyncio.gather(*pending, return_exceptions=True), timeout=1.0
        )
        failed_after = loop.time() - killed_at
        await killing
        assert all(isinstance(r, errors.ConnectionClosed) for r in results), results
        assert failed_after < 1.0
        reason = await asyncio.wait_for(c.wait_closed(), 1.0)
        assert isinstance(reason, errors.ConnectionClosed)
        assert not c.connected
        with pytest.raises(errors.ConnectionClosed):
            await c.request("GetVersion")
    finally:
        await c.close()


async def test_close_fails_pending_requests_and_reports_no_reason(client: OBSClient) -> None:
    pending = asyncio.create_task(client.batch([("Sleep", {"sleepMillis": 10_000})]))
    await asyncio.sleep(0.05)
    await client.close()
    with pytest.raises(errors.ConnectionClosed):
        await pending
    assert await client.wait_closed() is None
    with pytest.raises(errors.ConnectionClosed):
        await client.request("GetVersion")


async def test_half_open_link_is_noticed_by_the_heartbeat() -> None:
    async with http_server(fake_obs_app(answer_pings=False)) as url:
        c = OBSClient(url, None, heartbeat=0.2)
        await c.connect()
        assert (await c.request("GetVersion")) == {}
        reason = await asyncio.wait_for(c.wait_closed(), 3)
        assert isinstance(reason, errors.ConnectionClosed)
        await c.close()


async def test_a_shared_session_is_left_open(peer: Peer) -> None:
    async with aiohttp.ClientSession() as session:
        async with OBSClient(peer.url, peer.password, session=session) as c:
            await c.request("GetVersion")
        assert not session.closed
