"""Notification webhooks against a real local aiohttp receiver (real sockets): payload
shapes, the next-speaker notice at its time in a sped-up rehearsal on the simulated OBS,
retries and 429s, and dead or slow webhooks that never delay a cue nor leak their URL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from showcaller.config import OBS, EventConfig, Webhook, load_config
from showcaller.interop.notify import QUEUE_MAX, Notifier, payload, webhook_format
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.hostcommands import Message
from showcaller.show.journal import read_journal
from showcaller.show.session import ShowSession
from showcaller.show.state import NotifyView, SessionState
from tests.realobs import HeadlessOBS
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401

SECRET = "tok-3f9a1c-never-shown"

EVENT = """
[event]
title = "通知テスト"
date = 2026-12-10
language = "ja"
[obs]
transition = "Cut"
[scenes]
opening = "Opening"
talk = "Talk"
closing = "Closing"
[record]
enabled = false
[rehearsal]
stream_test_server = "{stream_server}"
[notify]
next_speaker_before = "1m"
timeout = 1
retries = 1
{webhooks}
[[timetable.slots]]
kind = "opening"
start = "19:30"
duration = "2m"
[[timetable.slots]]
kind = "talk"
title = "小さな LLM"
speakers = ["sato"]
duration = "4m"
[[timetable.slots]]
kind = "talk"
title = "Feature Store"
speakers = ["tanaka"]
duration = "4m"
[[timetable.slots]]
kind = "closing"
duration = "2m"
[[speakers]]
id = "sato"
name = "佐藤 花子"
[[speakers]]
id = "tanaka"
name = "田中 健太"
"""
SPEED = 120.0


@dataclass
class Receiver:
    """A local webhook receiver: what each path got, and how it answers."""

    base: str = ""
    got: dict[str, list[tuple[float, Any]]] = field(default_factory=dict)
    fail_first: int = 0  # /flaky answers 500 this many times
    limited: int = 0  # /limited answers 429 (Retry-After) this many times

    def url(self, path: str) -> str:
        return f"{self.base}/{path}/{SECRET}"

    def texts(self, path: str) -> list[str]:
        return [body.get("content") or body.get("text") for _, body in self.got.get(path, [])]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rx = Receiver()

    async def hook(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        body = await request.json()
        if kind == "slow":
            await asyncio.sleep(30)
        if kind == "flaky" and rx.fail_first > 0:
            rx.fail_first -= 1
            return web.Response(status=500)
        if kind == "limited" and rx.limited > 0:
            rx.limited -= 1
            return web.json_response(
                {"retry_after": 0.3}, status=429, headers={"Retry-After": "0.3"}
            )
        if kind == "gone":
            return web.Response(status=404)
        rx.got.setdefault(kind, []).append((time.monotonic(), body))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{kind}/{secret}", hook)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rx.base = f"http://127.0.0.1:{port}"
    try:
        yield rx
    finally:
        await runner.cleanup()


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead/{SECRET}"


def _config(
    tmp_path: Path, webhooks: list[dict[str, Any]], *, stream_server: str = ""
) -> EventConfig:
    tables = "".join(
        "[[notify.webhooks]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in hook.items())
        for hook in webhooks
    )
    path = tmp_path / "event.toml"
    text = EVENT.replace("{webhooks}", tables).replace("{stream_server}", stream_server)
    path.write_text(text, encoding="utf-8")
    return load_config(path)


async def _rehearse(
    obs_sim: SimulatedOBS,
    cfg: EventConfig,
    journal: Path,
    *,
    notify: bool,
    host_message: str = "",
    stream_test: bool = False,
) -> tuple[Any, list[SessionState]]:
    states: list[SessionState] = []
    seed_event(obs_sim, cfg)

    def on_session(session: ShowSession) -> None:
        @contextlib.asynccontextmanager
        async def watch(s: ShowSession) -> AsyncIterator[None]:
            async def host() -> None:
                feed = s.feed()
                async for state in feed:
                    if state.show.on_air is not None and state.show.on_air.index >= 1:
                        feed.close()
                        await s.submit(Message(host_message), source="test")
                        break

            if host_message:
                s.spawn(host(), "host message")
            yield
            states.append(s.state)

        session.attach("test watch", watch)

    obs = OBS.model_validate({"url": obs_sim.url, "password": SIM_PASSWORD})
    options = RehearsalOptions(
        obs=obs, speed=SPEED, journal=journal, notify=notify, stream_test=stream_test
    )
    sessions: list[ShowSession] = []

    def both(session: ShowSession) -> None:
        sessions.append(session)
        on_session(session)

    report = await rehearse(cfg, options, on_session=both)
    # The state once every attachment (the notifications too) has stopped.
    return report, [*states, sessions[0].state]


def _landings(journal: Path) -> list[float]:
    return [e.data["late_ms"] for e in read_journal(journal) if e.kind == "landed"]


def test_payloads_and_the_format_chosen_by_the_url() -> None:
    assert payload("discord", "あ")["content"] == "あ"
    assert payload("slack", "あ") == {"text": "あ"}

    def fmt(url: str, stated: str = "auto") -> str:
        return webhook_format(Webhook.model_validate({"url": url, "format": stated}))

    assert fmt("https://discord.com/api/webhooks/1/x") == "discord"
    assert fmt("https://discordapp.com/api/webhooks/1/x") == "discord"
    assert fmt("https://hooks.slack.com/services/T/B/x") == "slack"
    assert fmt("https://hooks.slack.com/services/T/B/x", "discord") == "discord"


async def test_a_rehearsal_with_notify_tells_the_next_speaker_in_time_in_japanese(
    sim: SimulatedOBS,  # noqa: F811
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    all_events = ["next_speaker", "check", "stream", "host", "health", "cue", "end"]
    # The stream test's target: a local TCP listener (the sim goes on air when it accepts).
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cfg = _config(
        tmp_path,
        [
            {"url": receiver.url("discord"), "format": "discord"},
            {"url": receiver.url("slack"), "events": all_events},
        ],
        stream_server=f"rtmp://127.0.0.1:{port}/rehearsal",
    )
    journal = tmp_path / "r.jsonl"
    async with server:
        report, states = await _rehearse(
            sim, cfg, journal, notify=True, host_message="あと5分", stream_test=True
        )
    assert report.ok, report.problems
    discord = [body for _, body in receiver.got["discord"]]
    slack = [body for _, body in receiver.got["slack"]]
    assert all(set(b) == {"content", "allowed_mentions"} for b in discord)
    assert all(set(b) == {"text"} for b in slack)
    texts = receiver.texts("slack")
    assert all(t.startswith("[リハーサル] ") for t in texts)
    notice = next(t for t in texts if "田中 健太" in t and "通話" in t)
    assert "1分後" in notice
    assert "Feature Store" in notice
    # At its time: the mark ran 60 s (show time) before slot 3's planned start (19:36).
    marks = [e.data for e in read_journal(journal) if e.data.get("mark") == "next_speaker_3"]
    assert [m["status"] for m in marks] == ["done"]
    assert marks[0]["at"] == pytest.approx(6 * 60 - 60, abs=3)
    # ... and it went out before slot 3's own cue notice.
    assert texts.index(notice) < next(
        i for i, t in enumerate(texts) if t.startswith("[リハーサル] ▶") and "Feature" in t
    )
    assert "[リハーサル] 📣 あと5分" in texts
    # The stream test went on air and off again: both said, in Japanese, to both webhooks.
    for hook in ("slack", "discord"):
        said = receiver.texts(hook)
        on = said.index("[リハーサル] 🔴 配信が始まりました（オンエア）")
        assert said.index("[リハーサル] ⚫ 配信が終了しました（オフエア）") > on
    assert any("終了" in t for t in texts)  # the `end` event
    assert "▶" not in " ".join(receiver.texts("discord"))  # cue is not a default event
    view = states[-1].notify
    assert view is not None
    assert view.sent == len(discord) + len(slack)
    assert view.failed == 0


async def test_a_rooms_notifications_start_with_the_room(
    sim: SimulatedOBS,  # noqa: F811
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path, [{"url": receiver.url("slack"), "events": ["cue", "end"]}])
    cfg = cfg.model_copy(update={"event": cfg.event.model_copy(update={"room": "hall-b"})})
    report, _ = await _rehearse(sim, cfg, tmp_path / "r.jsonl", notify=True)
    assert report.ok, report.problems
    texts = receiver.texts("slack")
    assert texts
    assert all(t.startswith("[hall-b] [リハーサル] ") for t in texts), texts
    assert any(t.startswith("[hall-b] [リハーサル] ▶") for t in texts)


async def test_a_rehearsal_without_notify_sends_nothing(
    sim: SimulatedOBS,  # noqa: F811
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path, [{"url": receiver.url("slack")}])
    _, states = await _rehearse(sim, cfg, tmp_path / "r.jsonl", notify=False)
    assert receiver.got == {}
    assert states[-1].notify is None
    said = [m.text for m in states[-1].messages if m.topic == "notify"]
    assert said, "the host must be told why nothing was sent"
    assert "rehearse --notify" in said[0]


async def test_dead_and_slow_webhooks_never_delay_a_cue_nor_show_their_url(
    sim: SimulatedOBS,  # noqa: F811
    receiver: Receiver,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    events = ["next_speaker", "check", "stream", "host", "health", "cue", "end"]
    baseline = _config(tmp_path, [])
    await _rehearse(sim, baseline, tmp_path / "base.jsonl", notify=True)
    cfg = _config(
        tmp_path,
        [
            {"url": _dead_url(), "events": events},
            {"url": receiver.url("slow"), "events": events},
        ],
    )
    journal = tmp_path / "hooks.jsonl"
    started = time.monotonic()
    report, states = await _rehearse(sim, cfg, journal, notify=True, host_message="hi")
    took = time.monotonic() - started
    assert report.ok
    base, hooked = _landings(tmp_path / "base.jsonl"), _landings(journal)
    assert len(hooked) == len(base) == 3  # the two talks share a scene: three switches
    # Within tolerance of the run without webhooks: a waiting cue would be >= 1000 ms late.
    assert max(abs(x) for x in hooked) <= max(abs(x) for x in base) + 100
    # The show's 12 minutes at x120 are 6 s; stopping waits at most 3 s for the queue.
    assert took < 6 + 1 + 3 + 2
    view = states[-1].notify
    assert isinstance(view, NotifyView)
    assert view.failed >= 1
    assert view.retries >= 1
    assert view.sent == 0
    assert view.last_error is not None
    assert view.last_error.startswith("webhook ")
    assert "connection refused" in view.last_error or "no answer within 1 s" in view.last_error
    # The URL is a secret: nowhere a host or a file could show it.
    state_json = json.dumps(states[-1].to_json(), ensure_ascii=False, default=str)
    out = capsys.readouterr()
    for where, text in {
        "state": state_json,
        "journal": journal.read_text(encoding="utf-8"),
        "logs": caplog.text,
        "stdout": out.out + out.err,
    }.items():
        assert SECRET not in text, f"the webhook URL leaked into the {where}"
    assert "not delivered" in caplog.text


def _notifier(cfg: EventConfig, http: aiohttp.ClientSession, views: list[NotifyView]) -> Notifier:
    from datetime import UTC, datetime

    return Notifier(
        cfg, http, on_change=views.append, now=lambda: datetime.now(UTC), backoff_s=0.05
    )


async def _sent(notifier: Notifier, within: float = 5.0) -> None:
    tasks = [asyncio.create_task(notifier.deliver(h)) for h in notifier.hooks]
    try:
        deadline = time.monotonic() + within
        # The notifier has no event for "idle": poll its flag, with a deadline.
        while not notifier.idle and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_retries_with_backoff_and_429_retry_after_are_counted(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.fail_first, receiver.limited = 1, 1
    cfg = _config(
        tmp_path,
        [{"url": receiver.url(k)} for k in ("flaky", "limited", "gone")],
    )
    views: list[NotifyView] = []
    async with aiohttp.ClientSession() as http:
        notifier = _notifier(cfg, http, views)
        started = time.monotonic()
        notifier.post("host", "📣 hello")
        await _sent(notifier)
        took = time.monotonic() - started
    assert receiver.texts("flaky") == ["📣 hello"]
    assert receiver.texts("limited") == ["📣 hello"]
    assert took >= 0.3  # the 429's Retry-After was waited for
    view = views[-1]
    assert (view.sent, view.retries, view.failed) == (2, 2, 1)  # 404: no retry, one failure
    assert view.last_error == "webhook 3 (slack): HTTP 404"


async def test_a_flood_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    cfg = _config(tmp_path, [{"url": _dead_url()}])
    views: list[NotifyView] = []
    async with aiohttp.ClientSession() as http:
        notifier = _notifier(cfg, http, views)
        for n in range(QUEUE_MAX + 7):
            notifier.post("check", f"m{n}")
    assert views[-1].dropped == 7
    assert views[-1].pending == QUEUE_MAX
    assert next(iter(notifier.hooks[0].queue)) == "m7"


def test_webhooks_come_from_the_environment_and_are_never_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"https://discord.com/api/webhooks/1/{SECRET}"
    monkeypatch.setenv("SHOWCALLER_NOTIFY__WEBHOOKS", json.dumps([url]))
    cfg = _config(tmp_path, [])
    assert [h.url.get_secret_value() for h in cfg.notify.webhooks] == [url]
    assert webhook_format(cfg.notify.webhooks[0]) == "discord"
    assert SECRET not in repr(cfg)
    assert SECRET not in cfg.model_dump_json()
    monkeypatch.setenv("SHOWCALLER_NOTIFY__WEBHOOKS", json.dumps([f"ftp://x/{SECRET}"]))
    from showcaller.cli import main

    assert main(["validate", str(tmp_path / "event.toml")]) == 2
    out = capsys.readouterr()
    assert "http:// or https://" in out.err
    assert SECRET not in out.err + out.out


async def test_on_real_obs_a_dead_webhook_leaves_cues_and_recording_chapters_intact(
    real_obs: HeadlessOBS, receiver: Receiver, tmp_path: Path
) -> None:
    from tests.test_modes import provision

    events = ["next_speaker", "cue"]
    cfg = _config(tmp_path, [{"url": _dead_url(), "events": events}, {"url": receiver.url("ok")}])
    text = (tmp_path / "event.toml").read_text(encoding="utf-8")
    text = text.replace("[record]\nenabled = false", '[record]\nenabled = true\nper_talk = "off"')
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "event.toml")
    await provision(real_obs.url, real_obs.password, cfg)
    obs = OBS.model_validate({"url": real_obs.url, "password": real_obs.password})
    journal = tmp_path / "real.jsonl"
    options = RehearsalOptions(obs=obs, speed=60, journal=journal, notify=True, record=True)
    report = await rehearse(cfg, options)
    assert report.ok, report.problems
    assert [c.landed is not None for c in report.cues] == [True, True, False, True]
    assert max(abs(x) for x in _landings(journal)) < 150  # real ms, a real OBS's fade-free cut
    texts = receiver.texts("ok")
    assert any("田中 健太" in t and "通話" in t for t in texts)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "showcaller", "chapters", str(journal), "--recording"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("00:00 ")
    assert [ln.split(" ", 1)[1] for ln in lines[-3:]] == [
        "小さな LLM — 佐藤 花子",
        "Feature Store — 田中 健太",
        "クロージング",
    ]
    files = [e.data["path"] for e in read_journal(journal) if e.data.get("action") == "stopped"]
    assert files
    assert await asyncio.to_thread(os.path.exists, files[-1])  # the real recording
