"""connpass: `import --connpass` against a local fake of the API v2 (a real aiohttp server),
the key never printed, one request per second at most, and a clear line without a key."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from showcaller.clock import VirtualClock
from showcaller.config import load_config
from showcaller.interop.connpass import (
    ConnpassClient,
    ConnpassError,
    ConnpassSettings,
    RateLimiter,
)

API_KEY = "cp-key-very-secret-123"
EVENT = {
    "id": 334455,
    "title": "機械学習カジュアルトークス #21",
    "catch": "",
    "url": "https://mlct.connpass.com/event/334455/",
    "hash_tag": "mlct",
    "started_at": "2026-12-10T19:30:00+09:00",
    "ended_at": "2026-12-10T21:30:00+09:00",
    "limit": 100,
    "accepted": 42,
}


class FakeConnpass:
    """The events endpoint of connpass API v2, answering EVENT to the right key."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, str | None]] = []
        self.url = ""

    async def events(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        self.requests.append(
            (loop.time(), request.query.get("event_id", ""), request.headers.get("X-API-Key"))
        )
        if request.headers.get("X-API-Key") != API_KEY:
            return web.json_response({"detail": "invalid key"}, status=403)
        wanted = [int(i) for i in request.query.get("event_id", "").split(",") if i.isdigit()]
        events = [EVENT] if EVENT["id"] in wanted else []
        return web.json_response(
            {
                "results_returned": len(events),
                "results_available": len(events),
                "results_start": 1,
                "events": events,
            }
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnpass]:
    api = FakeConnpass()
    app = web.Application()
    app.router.add_get("/api/v2/events/", api.events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    api.url = f"http://127.0.0.1:{port}/api/v2/"
    yield api
    await runner.cleanup()


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("SHOWCALLER_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "showcaller",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**clean, **env},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_connpass_fills_title_date_start_hashtag_and_url_around_a_csv(
    fake: FakeConnpass, tmp_path: Path
) -> None:
    sheet = tmp_path / "timetable.csv"
    sheet.write_text(
        "start,duration,kind,title,speakers\n,5m,opening,,\n,20m,talk,小さな LLM,佐藤 花子\n"
        ",10m,closing,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "event.toml"
    env = {"SHOWCALLER_CONNPASS__API_KEY": API_KEY, "SHOWCALLER_CONNPASS__URL": fake.url}
    code, stdout, stderr = await _cli(
        "import", "--connpass", "334455", str(sheet), "-o", str(out), env=env
    )
    assert code == 0, stderr
    assert fake.requests[0][1:] == ("334455", API_KEY)
    cfg = load_config(out)
    assert cfg.event.title == "機械学習カジュアルトークス #21"
    assert str(cfg.event.date) == "2026-12-10"
    assert cfg.event.hashtag == "#mlct"
    assert cfg.event.url == "https://mlct.connpass.com/event/334455/"
    assert cfg.connpass.event_id == 334455
    opening = next(s for s in cfg.slots_resolved() if s.kind == "opening")
    assert opening.start.astimezone(cfg.tz).time() == time(19, 30)
    text = out.read_text(encoding="utf-8")
    assert API_KEY not in stdout + stderr + text


async def test_connpass_alone_gives_an_evening_to_fill_in(
    fake: FakeConnpass, tmp_path: Path
) -> None:
    out = tmp_path / "event.toml"
    env = {"SHOWCALLER_CONNPASS__API_KEY": API_KEY, "SHOWCALLER_CONNPASS__URL": fake.url}
    code, _, stderr = await _cli(
        "import", "--connpass", "https://mlct.connpass.com/event/334455/", "-o", str(out), env=env
    )
    assert code == 0, stderr
    slots = load_config(out).slots_resolved()
    assert [s.kind for s in slots] == ["standby", "opening", "talk", "closing"]
    assert slots[-1].end.astimezone(UTC) == datetime(2026, 12, 10, 12, 30, tzinfo=UTC)  # 21:30 JST


async def test_without_a_key_one_line_says_where_to_get_one(tmp_path: Path) -> None:
    code, stdout, stderr = await _cli("import", "--connpass", "334455", env={})
    assert code == 2
    assert stdout == ""
    assert stderr.splitlines() == [
        "error: connpass needs an API key",
        "hint: connpass gives API keys to its users: see https://connpass.com/about/api/, "
        "then set SHOWCALLER_CONNPASS__API_KEY",
    ]


async def test_a_refused_key_and_an_unknown_event_are_clear_and_never_echo_the_key(
    fake: FakeConnpass,
) -> None:
    wrong = "cp-wrong-key-456"
    env = {"SHOWCALLER_CONNPASS__API_KEY": wrong, "SHOWCALLER_CONNPASS__URL": fake.url}
    code, stdout, stderr = await _cli("import", "--connpass", "334455", env=env)
    assert code == 2
    assert stderr.splitlines()[0] == "error: connpass refused the API key (HTTP 403)"
    assert wrong not in stdout + stderr
    env["SHOWCALLER_CONNPASS__API_KEY"] = API_KEY
    code, _, stderr = await _cli("import", "--connpass", "999", env=env)
    assert code == 2
    assert stderr.splitlines()[0] == "error: connpass has no event 999"


async def test_an_unreachable_api_is_one_line(tmp_path: Path) -> None:
    settings = ConnpassSettings(api_key=API_KEY, url="http://127.0.0.1:9/api/v2/")
    async with ConnpassClient(settings) as client:
        with pytest.raises(
            ConnpassError, match=r"cannot reach connpass at http://127\.0\.0\.1:9/api/v2/"
        ):
            await client.event(1)


async def test_the_rate_limiter_lets_one_go_through_per_second() -> None:
    clock = VirtualClock(datetime(2026, 12, 10, tzinfo=UTC), autojump=True)
    limiter = RateLimiter(1.0, clock)
    moments = []
    for _ in range(4):
        await limiter.wait()
        moments.append(clock.monotonic())
    assert [round(b - a, 6) for a, b in itertools.pairwise(moments)] == [1.0, 1.0, 1.0]
    # Waiting longer than the interval costs nothing more.
    clock.advance(5)
    before = clock.monotonic()
    await limiter.wait()
    assert clock.monotonic() == before


async def test_requests_reach_connpass_at_most_once_a_second(fake: FakeConnpass) -> None:
    settings = ConnpassSettings(api_key=API_KEY, url=fake.url)
    async with ConnpassClient(settings) as client:
        events: list[Any] = await asyncio.gather(*(client.event(334455) for _ in range(3)))
    assert [e.title for e in events] == [EVENT["title"]] * 3
    times = [t for t, _, _ in fake.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2
    assert min(gaps) >= 0.95
