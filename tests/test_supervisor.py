"""OBSLink: reconnect with backoff, resync hooks, final auth failure, clean stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from showcaller import errors
from showcaller.obs import protocol
from showcaller.obs.client import OBSClient
from showcaller.obs.sim import SimulatedOBS
from showcaller.obs.supervisor import LinkState, OBSLink, backoff_delay
from tests.realobs import HeadlessOBS, free_port
from tests.sim_fixtures import SIM_PASSWORD
from tests.test_client import fake_obs_app

# ----------------------------------------------------------------------------- backoff


def test_backoff_starts_small_grows_and_is_capped() -> None:
    low = [backoff_delay(n, rand=lambda: 0.0) for n in range(12)]
    high = [backoff_delay(n, rand=lambda: 1.0) for n in range(12)]
    assert high[0] <= 0.1  # OBS coming back is noticed within a fraction of a second
    assert low == sorted(low)
    assert high == sorted(high)
    assert max(high) == 5.0
    assert all(lo <= hi for lo, hi in zip(low, high, strict=True))
    assert backoff_delay(10_000, rand=lambda: 0.5) <= 5.0


def test_backoff_jitter_spreads_within_the_step() -> None:
    assert backoff_delay(3, base=1.0, cap=100, rand=lambda: 0.0) == 4.0
    assert backoff_delay(3, base=1.0, cap=100, rand=lambda: 1.0) == 8.0


# ----------------------------------------------------------------------------- helpers


async def _serve_fake_obs(port: int) -> web.AppRunner:
    runner = web.AppRunner(fake_obs_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def _reach(link: OBSLink, wanted: Callable[[], bool], limit: float = 5.0) -> None:
    """Wait (at most `limit` s) until `wanted()` holds, checking at each state change."""
    changed = asyncio.Event()
    unsubscribe = link.on_state(lambda _: changed.set())
    try:
        async with asyncio.timeout(limit):
            while not wanted():
                changed.clear()
                await changed.wait()
    finally:
        unsubscribe()


async def _wait_state(link: OBSLink, state: LinkState, limit: float = 5.0) -> None:
    await _reach(link, lambda: link.state is state, limit)


@pytest.fixture
async def stopped_links() -> AsyncIterator[list[OBSLink]]:
    """Links registered here are stopped after the test, whatever happened."""
    links: list[OBSLink] = []
    yield links
    for link in links:
        await link.stop()


# ----------------------------------------------------------------------------- without OBS


async def test_absent_obs_backs_off_warns_once_and_stops_cleanly(
    stopped_links: list[OBSLink], caplog: pytest.LogCaptureFixture
) -> None:
    link = OBSLink(f"ws://127.0.0.1:{free_port()}", "pw", backoff_base=0.01, backoff_cap=0.02)
    stopped_links.append(link)
    with caplog.at_level(logging.DEBUG, logger="showcaller.obs.supervisor"):
        link.start()
        await _wait_state(link, LinkState.BACKING_OFF)
        await asyncio.sleep(0.2)  # several retries
        with pytest.raises(errors.ConnectionClosed, match="not connected"):
            await link.request("GetVersion")
        with pytest.raises(errors.ConnectTimeout, match="cannot connect"):
            await link.wait_ready(timeout=0.05)
        await link.stop()
    assert link.state is LinkState.STOPPED
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    retries = [r for r in caplog.records if r.levelno == logging.DEBUG and "still" in r.message]
    assert len(warnings) == 1
    assert retries


async def test_link_comes_up_soon_after_obs_starts_accepting(stopped_links: list[OBSLink]) -> None:
    port = free_port()
    link = OBSLink(f"ws://127.0.0.1:{port}", None, backoff_cap=0.5)
    stopped_links.append(link)
    link.start()
    await _wait_state(link, LinkState.BACKING_OFF)
    await asyncio.sleep(1.0)
    runner = await _serve_fake_obs(port)
    try:
        await link.wait_ready(timeout=1.0)
        assert await link.request("GetVersion") == {}
    finally:
        await link.stop()
        await runner.cleanup()


async def test_stop_cancels_the_task_and_is_idempotent() -> None:
    link = OBSLink(f"ws://127.0.0.1:{free_port()}", "pw")
    link.start()
    await _wait_state(link, LinkState.BACKING_OFF)
    await link.stop()
    await link.stop()
    assert link.state is LinkState.STOPPED
    with pytest.raises(errors.ConnectionClosed):
        await link.wait_ready(timeout=1)


async def test_run_can_be_cancelled_by_its_owner() -> None:
    link = OBSLink(f"ws://127.0.0.1:{free_port()}", "pw")
    task = asyncio.create_task(link.run())
    await _wait_state(link, LinkState.BACKING_OFF)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert link.state is LinkState.STOPPED


# ----------------------------------------------------------------------------- with real OBS


@pytest.fixture
async def real_link(real_obs: HeadlessOBS) -> AsyncIterator[OBSLink]:
    """A started link to the real OBS (fast backoff), stopped after the test."""
    link = OBSLink(real_obs.url, real_obs.password, backoff_cap=0.5)
    link.start()
    yield link
    await link.stop()
    real_obs.ensure_running()


async def test_link_reports_states_and_runs_resync_hook_before_ready(
    real_obs: HeadlessOBS,
) -> None:
    link = OBSLink(real_obs.url, real_obs.password)
    states: list[LinkState] = []
    hook_saw: list[LinkState] = []

    async def resync(client: OBSClient) -> None:
        hook_saw.append(link.state)
        await client.request("GetCurrentProgramScene")

    link.on_state(states.append)
    link.add_resync_hook(resync)
    async with link:
        await link.wait_ready(timeout=10)
        assert (await link.request("GetVersion"))["rpcVersion"] == 1
    assert states == [
        LinkState.CONNECTING,
        LinkState.IDENTIFYING,
        LinkState.READY,
        LinkState.STOPPED,
    ]
    assert hook_saw == [LinkState.IDENTIFYING]


async def test_link_reconnects_after_obs_restart_resyncs_and_keeps_subscriptions(
    real_obs: HeadlessOBS, real_link: OBSLink
) -> None:
    resyncs: list[str] = []

    async def resync(client: OBSClient) -> None:
        scene = await client.request("GetCurrentProgramScene")
        resyncs.append(scene["currentProgramSceneName"])

    real_link.add_resync_hook(resync)
    created: asyncio.Queue[str] = asyncio.Queue()
    real_link.subscribe(lambda e: created.put_nowait(e.event_data["sceneName"]), ["SceneCreated"])
    await real_link.wait_ready(timeout=10)

    await asyncio.to_thread(real_obs.kill)
    await _wait_state(real_link, LinkState.BACKING_OFF, limit=2)
    with pytest.raises(errors.ConnectionClosed):
        await real_link.request("GetVersion")

    await asyncio.to_thread(real_obs.restart)
    accepting_at = asyncio.get_running_loop().time()
    await real_link.wait_ready(timeout=5)
    assert asyncio.get_running_loop().time() - accepting_at < 1.0
    assert real_link.connects == 2
    assert len(resyncs) == 2

    await real_link.request("CreateScene", {"sceneName": "After Restart"})
    assert await asyncio.wait_for(created.get(), 5) == "After Restart"


async def test_reidentify_survives_a_reconnect(real_obs: HeadlessOBS, real_link: OBSLink) -> None:
    await real_link.wait_ready(timeout=10)
    meters = protocol.DEFAULT_SUBSCRIPTIONS | protocol.EventSubscription.INPUT_VOLUME_METERS
    await real_link.reidentify(meters)
    await asyncio.to_thread(real_obs.restart)
    await _reach(real_link, lambda: real_link.connects == 2 and real_link.state is LinkState.READY)
    got: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    real_link.subscribe(lambda e: got.done() or got.set_result(None), ["InputVolumeMeters"])
    await asyncio.wait_for(got, 5)
    assert real_link.client is not None
    assert real_link.client.subscriptions == int(meters)


async def test_failing_resync_hook_is_logged_and_the_link_still_comes_up(
    real_obs: HeadlessOBS, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(client: OBSClient) -> None:
        raise RuntimeError("resync bug")

    link = OBSLink(real_obs.url, real_obs.password)
    link.add_resync_hook(broken)
    with caplog.at_level(logging.ERROR, logger="showcaller.obs.supervisor"):
        async with link:
            await link.wait_ready(timeout=10)
    assert "resync bug" in caplog.text


async def test_wrong_password_is_final(
    real_obs: HeadlessOBS, caplog: pytest.LogCaptureFixture
) -> None:
    link = OBSLink(real_obs.url, "wrong-password-123", backoff_cap=0.01)
    with caplog.at_level(logging.DEBUG, logger="showcaller.obs.supervisor"):
        await asyncio.wait_for(link.run(), 10)  # returns: no retry loop
    assert link.state is LinkState.AUTH_FAILED
    with pytest.raises(errors.AuthenticationFailed):
        await link.wait_ready(timeout=1)
    with pytest.raises(errors.AuthenticationFailed):
        await link.request("GetVersion")
    lines = [r for r in caplog.records if r.name == "showcaller.obs.supervisor"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.ERROR
    assert "wrong-password-123" not in caplog.text
    assert real_obs.password not in caplog.text


async def test_reidentify_from_a_resync_hook_reaches_the_connection_being_resynced(
    tmp_path: Path,
) -> None:
    meters = protocol.DEFAULT_SUBSCRIPTIONS | protocol.EventSubscription.INPUT_VOLUME_METERS

    async def resync(client: OBSClient) -> None:
        await link.reidentify(meters)

    async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path) as sim:
        link = OBSLink(sim.url, SIM_PASSWORD)
        link.add_resync_hook(resync)
        async with link:
            await link.wait_ready(timeout=5)
            assert link.client is not None
            assert link.client.subscriptions == int(meters)
            got: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            link.subscribe(lambda e: got.done() or got.set_result(None), ["InputVolumeMeters"])
            await asyncio.wait_for(got, 5)


# ------------------------------------------------------------ OBS 30 still loading (207)


async def test_link_waits_until_obs_answers_before_resync_and_ready(tmp_path: Path) -> None:
    # OBS 30 identifies a client before it has loaded its scenes and answers 207 for a
    # moment (after a start, and after a crash and restart): no resync hook may meet it.
    seen: list[str] = []

    async def resync(client: OBSClient) -> None:
        seen.append((await client.request("GetCurrentProgramScene"))["currentProgramSceneName"])

    async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path) as sim:
        sim.faults.not_ready(0.3)
        link = OBSLink(sim.url, SIM_PASSWORD, backoff_base=0.01, backoff_cap=0.02)
        link.add_resync_hook(resync)
        async with link:
            await link.wait_ready(timeout=5)
            assert not sim.faults.loading
            assert seen == ["Scene"]
            await sim.faults.restart(0.05, loading=0.2)
            await _reach(link, lambda: link.connects == 2 and link.state is LinkState.READY)
            assert seen == ["Scene", "Scene"]
            assert (await link.request("GetVersion"))["rpcVersion"] == 1


async def test_obs_that_never_gets_ready_is_a_connect_timeout_and_retried(
    tmp_path: Path,
) -> None:
    async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path) as sim:
        sim.faults.not_ready(60)
        link = OBSLink(
            sim.url, SIM_PASSWORD, connect_timeout=0.1, backoff_base=0.01, backoff_cap=0.02
        )
        async with link:
            await _wait_state(link, LinkState.BACKING_OFF)
            assert isinstance(link.last_error, errors.ConnectTimeout)
            assert "not ready (207)" in str(link.last_error)
            sim.faults.not_ready(0)
            await link.wait_ready(timeout=5)
