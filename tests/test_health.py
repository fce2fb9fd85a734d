"""Stream health: the thresholds and warnings of the pure monitor, and the poller on the sim.

The monitor is fed readings as OBS would report them; the poller runs in a live show on
the simulated OBS over a real socket, with the sim's faults (dropped frames, a stalled
stream server, a small disk) doing what a bad evening does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from showcaller.checks.health import HealthMonitor, HealthSample
from showcaller.config import Health, load_config
from showcaller.modes import LiveOptions, live
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.session import ShowSession
from showcaller.show.session import follow as follow_state
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401
from tests.test_modes import _obs, _short_show

RATE = 2_500_000 // 8  # bytes a second: 2500 kbps


def _stream(t: float, *, bytes_at: float | None = None, **kw: Any) -> HealthSample:
    """A healthy reading `t` seconds into a 2500 kbps stream at 30 fps."""
    frames = int(t * 30)
    kw.setdefault("network_total", frames)
    kw.setdefault("encoder_total", frames)
    kw.setdefault("render_total", frames)
    return HealthSample(
        t=t, active=True, stream_bytes=int((t if bytes_at is None else bytes_at) * RATE), **kw
    )


def _run(monitor: HealthMonitor, samples: list[HealthSample]) -> list[tuple[float, str, bool]]:
    said = []
    for s in samples:
        _, notices = monitor.observe(s)
        said.extend((s.t, n.key, n.fine) for n in notices)
    return said


def test_a_steady_stream_is_ok_with_its_bitrate_and_says_nothing() -> None:
    monitor = HealthMonitor(Health())
    said = _run(monitor, [_stream(t) for t in range(30)])
    view, _ = monitor.observe(_stream(30))
    assert said == []
    assert view.status == "ok"
    assert view.bitrate_kbps == 2500.0
    assert view.dropped_frames == 0
    assert view.skipped_frames == 0
    assert monitor.summary.healthy
    assert "healthy — 2500 kbps" in monitor.summary.line()


def test_a_stream_that_sends_nothing_warns_once_then_says_it_is_fine_again() -> None:
    monitor = HealthMonitor(Health())  # 0 kbps for 2 s warns; fine after 5 s
    # Bytes stop growing at t=10 for 20 s, then grow again.
    samples = [_stream(t, bytes_at=min(t, 10) + max(0, t - 30)) for t in range(60)]
    said = _run(monitor, samples)
    assert said == [(12, "zero_bitrate", False), (36, "zero_bitrate", True)]
    monitor.observe(_stream(13, bytes_at=10))
    assert not monitor.summary.healthy
    assert "NOT healthy (zero bitrate ×1)" in monitor.summary.line()


def test_reconnecting_is_one_warning_not_also_a_zero_bitrate_one() -> None:
    monitor = HealthMonitor(Health())
    samples = [_stream(t) for t in range(5)] + [
        _stream(t, bytes_at=5, reconnecting=True) for t in range(5, 20)
    ]
    said = _run(monitor, samples)
    assert said == [(5, "reconnecting", False)]
    view, _ = monitor.observe(_stream(20, bytes_at=5, reconnecting=True))
    assert view.reconnecting
    assert view.bitrate_kbps == 0.0
    assert view.status == "warning"


def test_dropped_frames_warn_past_the_threshold_and_a_hiccup_does_not() -> None:
    rules = Health(dropped_percent=1.0, min_frames=10, window_seconds=10)
    # 5 frames dropped at once: under min_frames, never a warning.
    hiccup = [_stream(t, network_skipped=5 if t >= 3 else 0) for t in range(20)]
    assert _run(HealthMonitor(rules), hiccup) == []
    # 2 frames a second (of 30): 6.7 %, past 1 % as soon as 10 frames are in the window.
    monitor = HealthMonitor(rules)
    lossy = [_stream(t, network_skipped=2 * max(0, t - 10)) for t in range(40)]
    said = _run(monitor, lossy)
    assert said == [(15, "dropped_frames", False)]
    view, _ = monitor.observe(_stream(40, network_skipped=60))
    assert view.dropped_percent > 1.0
    assert view.dropped_frames >= 10


def test_skipped_frames_by_a_busy_encoder_warn_with_what_to_do() -> None:
    monitor = HealthMonitor(Health())
    busy = [
        _stream(t, encoder_skipped=3 * t, render_skipped=0, render_ms=30, cpu_percent=97)
        for t in range(12)
    ]
    said = []
    for s in busy:
        said.extend(monitor.observe(s)[1])
    assert [n.key for n in said] == ["skipped_frames"]
    assert "close other programs" in said[0].text


def test_a_disk_that_fills_before_the_end_of_the_show_warns_once() -> None:
    monitor = HealthMonitor(Health(disk_reserve_mb=500))
    rec_rate = 1_000_000  # 1 MB/s
    # 2000 MB free; 60 min left needs 3600 MB: warns. 10 min left needs 600 + 500: fine.
    samples = [
        _stream(
            t,
            record_active=True,
            record_bytes=t * rec_rate,
            disk_free_mb=2000 - t,
            show_left_s=3600 - t,
        )
        for t in range(1, 6)
    ]
    said = []
    for s in samples:
        said.extend(monitor.observe(s)[1])
    assert [n.key for n in said] == ["disk"]
    assert "free space on the recording disk" in said[0].text
    view, _ = monitor.observe(
        _stream(7, record_active=True, record_bytes=7 * rec_rate, disk_free_mb=5000)
    )
    assert view.disk_left_min is not None
    assert view.disk_left_min > 60


def test_a_restarted_stream_starts_its_counters_anew_without_a_false_warning() -> None:
    monitor = HealthMonitor(Health())
    before = [_stream(t, network_skipped=0) for t in range(10)]
    # OBS came back: bytes and frame counters start from 0 again.
    after = [_stream(t - 10, network_skipped=0) for t in range(10, 20)]
    assert _run(monitor, before + after) == []


# ------------------------------------------------------------------ on the sim


async def test_live_on_the_sim_shows_health_and_warns_once_per_episode(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = tmp_path / "event.toml"
    _short_show(config, lead_in=2, slot_s=3, stream_before_s=1)
    with config.open("a", encoding="utf-8") as fh:
        fh.write("\n[health]\nfine_seconds = 1\n")
    cfg = load_config(config)
    seed_event(sim, cfg)
    sim.use_cases.stream_target()
    sessions: list[ShowSession] = []
    seen: list[Any] = []

    def follow(session: ShowSession) -> None:
        sessions.append(session)
        session.attach("a surface", lambda s: follow_state(s, lambda st: seen.append(st.health)))

    async def bad_evening() -> None:
        await asyncio.sleep(4.0)  # the stream is on air since t=1
        sim.faults.drop_frames(network=0.2)  # the upload chokes
        await asyncio.sleep(2.5)
        sim.faults.drop_frames()
        await asyncio.sleep(2.5)
        sim.faults.stream_health("reconnecting")  # the stream server goes away ...
        await asyncio.sleep(2.0)
        sim.faults.stream_health("ok")  # ... and comes back

    fault = asyncio.create_task(bad_evening())
    report = await live(
        cfg,
        LiveOptions(obs=_obs(sim.url, SIM_PASSWORD), journal=tmp_path / "j.jsonl", yes=True),
        interactive=False,
        on_session=follow,
    )
    await fault
    assert report.ended
    messages = [m for m in sessions[0].state.messages if m.topic == "health"]
    texts = [(m.level, m.text.split(" ")[0:3]) for m in messages]
    warnings = [m.text for m in messages if m.level == "warning"]
    assert len(warnings) == 2, texts  # one per episode, never a flood
    assert "frames dropped on the network" in warnings[0]
    assert "reconnecting" in warnings[1]
    fine = [m.text for m in messages if m.level == "info"]
    assert any("no more frames dropped" in t for t in fine), texts
    views = [v for v in seen if v is not None and v.active]
    assert any(v.status == "ok" and v.bitrate_kbps and v.bitrate_kbps > 2000 for v in views)
    assert any(v.reconnecting and v.bitrate_kbps == 0.0 for v in views)
    assert report.health.startswith("stream health: NOT healthy")
    assert sessions[0].state.to_json()["health"]["window_s"] == 10.0
