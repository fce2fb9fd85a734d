"""A stream test that survives a crash, and live never going on air to the rehearsal target.

Real headless OBS streaming to a local nginx-rtmp: `showcaller rehearse --stream-test`
SIGKILLed mid-test, then run again, leaves OBS's stream settings exactly as they were;
health is green while streaming and says reconnecting / 0 kbps within 3 s of the RTMP
server going away. On the sim: live refuses (or, after asking, fixes) the rehearsal target.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from showcaller.config import load_config
from showcaller.errors import UsageError
from showcaller.modes import LiveOptions, live
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway, StreamService
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.hostcommands import End
from showcaller.show.session import ShowSession
from tests.realobs import HeadlessOBS, RTMPServer
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401
from tests.test_crash_restart import _until
from tests.test_modes import EXAMPLE, ROOT, SHOWCALLER, _env, _obs, _short_show, provision

THE_REAL_ONE = StreamService(
    "rtmp_custom", {"server": "rtmp://127.0.0.1:9/the-real-one", "key": "real-key-SECRET"}
)


async def _gateway(url: str, password: str) -> tuple[OBSClient, OBSGateway]:
    client = OBSClient(url, password)
    await client.connect()
    return client, OBSGateway(client)


def _rehearse_argv(config: Path, url: str, journal: Path, *, stream_test: bool = True) -> list[str]:
    return [
        *SHOWCALLER,
        "rehearse",
        str(config),
        *(["--stream-test"] if stream_test else []),
        "--plain",
        "--obs",
        url,
        "--journal",
        str(journal),
        "--speed",
        "300",
        "--from",
        "10",
        # Its web app on any free port: another test's showcaller may hold 8080 (two test
        # files run at a time).
        "--web-port",
        "0",
    ]


@pytest.mark.slow
async def test_a_sigkilled_stream_test_is_put_back_exactly_by_the_next_rehearsal(
    real_obs: HeadlessOBS,
    rtmp_server: RTMPServer,
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'stream_test_server = ""', f'stream_test_server = "{rtmp_server.url}"'
    )
    config = tmp_path / "event.toml"
    config.write_text(text, encoding="utf-8")
    await provision(real_obs.url, real_obs.password, load_config(config))
    client, gw = await _gateway(real_obs.url, real_obs.password)
    await gw.restore_stream_service(THE_REAL_ONE)
    before = await gw.stream_service()
    journal = tmp_path / "r.jsonl"
    backup = tmp_path / "r.jsonl.stream-backup.json"
    env = _env(real_obs.password)
    first = subprocess.Popen(  # noqa: ASYNC220 - started once, polled through the journal
        _rehearse_argv(config, real_obs.url, journal),
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # Mid-test: the test stream is on air at the rehearsal target.
        on_air = await _until(lambda: journal.exists() and '"on_air"' in journal.read_text(), 30)
        assert on_air is not None, "the stream test never went on air"
        first.send_signal(signal.SIGKILL)
        first.wait(5)
    finally:
        if first.poll() is None:
            first.kill()
        assert first.stdout is not None
        first.stdout.close()
    left = await gw.stream_service()
    assert left.settings.get("server") == rtmp_server.url  # what the kill left behind
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert "real-key-SECRET" not in journal.read_text(encoding="utf-8")
    saved = [json.loads(x) for x in journal.read_text().splitlines() if '"test_saved"' in x]
    assert saved[0]["server"] == "rtmp://127.0.0.1:9/the-real-one"

    assert (await gw.stream_status()).active  # and the test stream still runs
    # The next rehearsal, a plain one (no stream test of its own), stops the leftover test
    # stream and puts the host's settings back before anything else.
    second = await asyncio.to_thread(
        subprocess.run,
        _rehearse_argv(config, real_obs.url, journal, stream_test=False),
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    output = second.stdout + second.stderr
    assert "OBS still points at the rehearsal target" in output, output
    assert "real-key-SECRET" not in output
    assert second.returncode == 0, output
    assert not (await gw.stream_status()).active
    after = await gw.stream_service()
    assert (after.service_type, dict(after.settings)) == (
        before.service_type,
        dict(before.settings),
    )
    assert not backup.exists()
    await client.close()


@pytest.mark.slow
async def test_health_is_green_on_real_obs_and_says_reconnecting_within_3_s_of_losing_rtmp(
    real_obs: HeadlessOBS,
    rtmp_server: RTMPServer,
    tmp_path: Path,
) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=2, slot_s=20, stream_before_s=1)
    cfg = load_config(config)
    await provision(real_obs.url, real_obs.password, cfg)
    client, gw = await _gateway(real_obs.url, real_obs.password)
    await gw.set_stream_service(rtmp_server.url, "test")
    await client.close()
    found: dict[str, Any] = {}

    def on_session(session: ShowSession) -> None:
        async def drive() -> None:
            try:
                green = await _until(
                    lambda: (
                        session.state.health is not None
                        and session.state.health.status == "ok"
                        and (session.state.health.bitrate_kbps or 0) > 100
                    ),
                    15,
                )
                found["green"] = green is not None and session.state.health
                await asyncio.to_thread(rtmp_server.stop)
                found["warned_after"] = await _until(
                    lambda: (
                        session.state.health is not None
                        and session.state.health.reconnecting
                        and session.state.health.bitrate_kbps == 0.0
                        and any(
                            m.topic == "health" and m.level == "warning"
                            for m in session.show.messages
                        )
                    ),
                    3.0,
                )
            finally:
                await session.submit(End(), source="test")

        found["task"] = asyncio.ensure_future(drive())

    await live(
        cfg,
        LiveOptions(
            obs=_obs(real_obs.url, real_obs.password), journal=tmp_path / "j.jsonl", yes=True
        ),
        interactive=False,
        on_session=on_session,
    )
    await found["task"]
    assert found["green"], "health never green while streaming to nginx-rtmp"
    assert found["warned_after"] is not None, "no reconnecting / 0 kbps warning within 3 s"


# ------------------------------------------------------------------ live, on the sim


def _live_cfg(tmp_path: Path) -> Any:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=30, slot_s=3, stream_before_s=1)
    text = config.read_text().replace(
        "[stream]\n",
        '[rehearsal]\nstream_test_server = "rtmp://127.0.0.1:1935/rehearsal"\n\n[stream]\n',
    )
    config.write_text(text)
    return load_config(config)


async def test_live_refuses_to_go_on_air_while_obs_points_at_the_rehearsal_target(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _live_cfg(tmp_path)
    seed_event(sim, cfg)
    sim.use_cases.stream_target(server="rtmp://127.0.0.1:1935/rehearsal/", key="test")
    asked: list[str] = []

    async def confirm(question: str) -> bool:
        asked.append(question)
        return True

    with pytest.raises(UsageError, match="rehearsal target"):
        await live(
            cfg,
            LiveOptions(obs=_obs(sim.url, SIM_PASSWORD), journal=tmp_path / "j.jsonl"),
            interactive=True,
            confirm=confirm,
        )
    assert sim.requests_seen.get("StartStream", 0) == 0
    assert not any("Type yes to go on air" in q for q in asked)


async def test_live_asks_then_puts_back_what_a_killed_stream_test_left(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    from showcaller.show.journal import default_journal
    from showcaller.show.state import Mode
    from showcaller.show.streamtest import backup_path, save_backup

    cfg = _live_cfg(tmp_path)
    seed_event(sim, cfg)
    sim.use_cases.stream_target(server="rtmp://127.0.0.1:1935/rehearsal", key="test")
    backup = backup_path(default_journal(cfg.config_source, Mode.REHEARSAL.value))
    save_backup(backup, THE_REAL_ONE, cfg.rehearsal.stream_test_server)
    asked: list[str] = []

    async def confirm(question: str) -> bool:
        asked.append(question)
        return "Put OBS's own stream settings back" in question  # no to going on air

    with pytest.raises(UsageError, match="not confirmed"):
        await live(
            cfg,
            LiveOptions(obs=_obs(sim.url, SIM_PASSWORD), journal=tmp_path / "j.jsonl"),
            interactive=True,
            confirm=confirm,
        )
    assert "OBS still points at the rehearsal target" in asked[0]
    assert "real-key-SECRET" not in asked[0]
    assert sim.model.stream_service_settings == dict(THE_REAL_ONE.settings)
    assert not backup.exists()
    assert sim.requests_seen.get("StartStream", 0) == 0
