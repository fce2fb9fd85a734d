"""The web app over a real socket, attached to a real rehearsal on the simulated OBS.

The state API and the push feed (a change reaches an open feed within 200 ms), the
commands, and the security: tokens (missing, wrong, read-only), malformed, unknown and
huge bodies (400/413/422, nothing changes), no CORS, no secret in a page, the state or
a log line; a taken port is one problem and the show runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from showcaller.config import OBS, EventConfig, load_config
from showcaller.config.sections import Web
from showcaller.errors import UsageError
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.journal import Kind, read_journal
from showcaller.show.session import ShowSession
from showcaller.show.state import ShowReport
from showcaller.surfaces.web import (
    MAX_BODY_BYTES,
    WebAccess,
    WebApp,
    is_loopback,
    timer_token_for,
    web_access,
)
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
TOKEN = "control-token-0123456789abcdef"


def cut_example(tmp_path: Path, edit: Callable[[str], str] | None = None) -> EventConfig:
    """The example event with Cut transitions (fast and exact at any speed)."""
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    path = tmp_path / "event.toml"
    path.write_text(edit(text) if edit else text, encoding="utf-8")
    return load_config(path)


def loopback(token: str = TOKEN, *, port: int = 0, timer_token: str | None = None) -> WebAccess:
    """Access on 127.0.0.1 with a known control token (and a timer token, if given)."""
    return WebAccess(
        host="127.0.0.1", port=port, control_token=token, timer_token=timer_token, generated=False
    )


@dataclass
class RunningShow:
    """A rehearsal in progress with its web app listening."""

    app: WebApp
    session: ShowSession
    task: asyncio.Task[ShowReport]
    said: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The app's base URL."""
        return f"http://127.0.0.1:{self.app.port}"

    def auth(self, token: str = TOKEN) -> dict[str, str]:
        """The Authorization header with `token`."""
        return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def web_show(
    obs_sim: SimulatedOBS,
    tmp_path: Path,
    *,
    access: WebAccess | None = None,
    speed: float = 1.0,
    from_slot: int = 0,
    cfg: EventConfig | None = None,
    journal: str = "r.jsonl",
    on_air: bool = True,
    **options: Any,
) -> AsyncIterator[RunningShow]:
    """Rehearse the (cut) example with the web app attached; ends the show on the way out.

    `on_air`: yields once the first slot is on air (else as soon as the app listens).
    """
    cfg = cfg or cut_example(tmp_path)
    seed_event(obs_sim, cfg)
    said: list[str] = []
    app = WebApp(cfg, access or loopback(), say=said.append)
    sessions: list[ShowSession] = []

    def on_session(session: ShowSession) -> None:
        sessions.append(session)
        app.attach(session)

    obs = OBS.model_validate({"url": obs_sim.url, "password": SIM_PASSWORD})
    run = rehearse(
        cfg,
        RehearsalOptions(
            obs=obs, speed=speed, from_slot=from_slot, journal=tmp_path / journal, **options
        ),
        on_session=on_session,
    )
    task = asyncio.create_task(run, name="rehearsal with the web app")
    ready = asyncio.create_task(app.ready.wait())
    await asyncio.wait({task, ready}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if task.done():
        task.result()  # raises what the rehearsal raised
    assert app.ready.is_set(), "the web app did not start within 15 s"
    running = RunningShow(app, sessions[0], task, said)
    if on_air:
        async with asyncio.timeout(10):
            async for state in running.session.feed():
                if state.show.on_air is not None:
                    break
    try:
        yield running
    finally:
        if not task.done():
            await sessions[0].submit({"command": "end"}, source="api")
        await asyncio.wait_for(task, 15)


class Feed:
    """An open /api/events connection, read event by event."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self._buffer = b""

    async def next(self, wait_s: float = 5.0) -> tuple[str, dict[str, Any]]:
        """The next event (name, data); comment lines skipped."""
        async with asyncio.timeout(wait_s):
            while True:
                cut = self._buffer.find(b"\n\n")
                if cut >= 0:
                    block, self._buffer = self._buffer[:cut], self._buffer[cut + 2 :]
                    name, data = "message", ""
                    for line in block.decode().split("\n"):
                        if line.startswith("event: "):
                            name = line[7:]
                        elif line.startswith("data: "):
                            data += line[6:]
                    if data:
                        return name, json.loads(data)
                    continue
                chunk = await self.response.content.readany()
                if not chunk:
                    raise EOFError("the feed ended")
                self._buffer += chunk

    async def until(
        self, condition: Callable[[dict[str, Any]], bool], wait_s: float = 5.0
    ) -> dict[str, Any]:
        """The first state envelope for which `condition` holds."""
        async with asyncio.timeout(wait_s):
            while True:
                name, data = await self.next(wait_s)
                if name == "state" and condition(data):
                    return data


@contextlib.asynccontextmanager
async def feed(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> AsyncIterator[Feed]:
    """Open the push feed at `url`/api/events."""
    async with http.get(f"{url}/api/events", **kwargs) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        yield Feed(response)


def _on_air(envelope: dict[str, Any]) -> int | None:
    slot = envelope["state"]["show"]["on_air"]
    return None if slot is None else int(slot["index"])


def _commands(tmp_path: Path, journal: str = "r.jsonl") -> list[dict[str, Any]]:
    return [
        dict(e.data)
        for e in read_journal(tmp_path / journal)
        if e.kind in (Kind.COMMAND, Kind.REJECTED)
    ]


# --------------------------------------------------------------------------- state


async def test_the_pages_and_the_state_are_served_with_no_cors_and_no_secret(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        async with http.get(f"{show.url}/healthz") as r:
            assert (r.status, await r.json()) == (200, {"ok": True})
        async with http.get(f"{show.url}/api/state") as r:
            assert r.status == 200
            state = await r.json()
            body = await r.text()
        assert state["show"]["title"] == "Machine Learning Casual Talks #20"
        assert state["show"]["mode"] == "rehearsal"
        assert set(state) == set(show.session.state.to_json())
        assert "まもなく開始" in body  # UTF-8 as it is, not \u-escaped
        pages = {}
        for path in ("/timer", "/control", "/static/feed.js", "/static/timer.js",
                     "/static/control.js", "/static/timer.css", "/static/control.css"):  # fmt: skip
            async with http.get(show.url + path) as r:
                assert r.status == 200, path
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                assert "default-src 'self'" in r.headers["Content-Security-Policy"]
                assert "Access-Control-Allow-Origin" not in r.headers
                pages[path] = await r.text()
        assert '<html lang="ja">' in pages["/timer"]  # event.language
        assert "frame-ancestors 'none'" not in pages["/timer"]
        for text in [body, *pages.values()]:
            assert TOKEN not in text
        async with http.get(f"{show.url}/", allow_redirects=False) as r:
            assert (r.status, r.headers["Location"]) == (302, "/timer")
        async with http.get(f"{show.url}/static/../web.py") as r:
            assert r.status == 404
        # No CORS: a preflight is not answered, and nothing says another origin may read.
        async with http.options(
            f"{show.url}/api/commands",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        ) as r:
            assert r.status == 405
            assert not [h for h in r.headers if h.lower().startswith("access-control-")]
        async with http.get(f"{show.url}/api/state", headers={"Origin": "https://x.example"}) as r:
            assert "Access-Control-Allow-Origin" not in r.headers


async def test_a_site_whose_name_points_at_loopback_is_not_served(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # DNS rebinding: evil.example re-pointed at 127.0.0.1 would be same-origin for the browser.
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        async with http.get(f"{show.url}/api/state", headers={"Host": "evil.example"}) as r:
            assert r.status == 421
            assert "evil.example" in (await r.json())["error"]
        async with http.get(f"{show.url}/api/state", headers={"Host": "localhost:1"}) as r:
            assert r.status == 200


# ------------------------------------------------------------------- push feed


async def test_a_command_reaches_an_open_feed_within_200_ms(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        async with feed(http, show.url) as events:
            first = await events.until(lambda e: _on_air(e) == 0)
            assert first["speed"] == 1.0
            assert first["language"] == "ja"
            assert "messages" not in first["state"]
            assert [m["level"] for m in first["messages"]][-1] == "cue"  # all of them at first
            seen = {m["seq"] for m in first["messages"]}
            lags = []
            for n in range(1, 4):
                started = time.perf_counter()
                async with http.post(
                    f"{show.url}/api/commands", json={"command": "next"}, headers=show.auth()
                ) as r:
                    assert r.status == 200, await r.text()
                    answer = await r.json()
                    assert answer["ok"] is True
                    assert answer["message"].startswith(f"next: {n + 1}/13 "), answer
                envelope = await events.until(lambda e, n=n: _on_air(e) == n)
                lags.append(time.perf_counter() - started)
                # Each event brings only the messages this feed has not had yet.
                new = {m["seq"] for m in envelope["messages"]}
                assert not new & seen
                seen |= new
            started = time.perf_counter()
            async with http.post(
                f"{show.url}/api/commands",
                json={"command": "message", "text": "あと 5 分"},
                headers=show.auth(),
            ) as r:
                assert r.status == 200
            await events.until(lambda e: e["state"]["show"]["message"] == "あと 5 分")
            lags.append(time.perf_counter() - started)
        assert max(lags) < 0.2, lags
    # The commands were the web's, journaled as such.
    assert [c["source"] for c in _commands(tmp_path)] == ["web"] * 4 + ["api"]


async def test_the_feed_says_the_end_and_ends_with_the_show(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        async with feed(http, show.url, params={"messages": "0"}) as events:
            envelope = await events.until(lambda e: _on_air(e) == 0)
            assert envelope["messages"] == []
            async with http.post(
                f"{show.url}/api/commands", json={"command": "end"}, headers=show.auth()
            ) as r:
                assert r.status == 200
            await events.until(lambda e: e["state"]["show"]["phase"] == "ended")
            name = "state"
            while name == "state":
                name, _ = await events.next()
            assert name == "end"
            with pytest.raises(EOFError):
                await events.next()
        report = await show.task
        assert report.ended
        assert report.problems == []


# ------------------------------------------------------------------------ security


async def test_commands_without_the_control_token_are_refused_and_change_nothing(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        url = f"{show.url}/api/commands"
        for headers in (
            {},
            show.auth("wrong-token-0123456789abcdef"),
            show.auth(TOKEN[:-1]),
            show.auth(TOKEN + "x"),
            {"Authorization": TOKEN},  # no scheme
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": "Bearer "},
        ):
            async with http.post(url, json={"command": "next"}, headers=headers) as r:
                assert r.status == 401, headers
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
                assert "control token" in (await r.json())["error"]
        assert show.session.state.show.on_air is not None
        assert show.session.state.show.on_air.index == 0
    journaled = [(c["command"], c["source"]) for c in _commands(tmp_path)]
    assert journaled == [("end(keep_stream=False)", "api")]  # the test's own, at the end
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.WARNING] + [logging.DEBUG] * 6
    assert "POST /api/commands from 127.0.0.1: no token" in refusals[0].getMessage()


async def test_malformed_unknown_and_huge_commands_get_400_413_422_and_change_nothing(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        url = f"{show.url}/api/commands"
        before = show.session.state.show

        async def post(body: bytes | str, status: int) -> str:
            async with http.post(url, data=body, headers=show.auth()) as r:
                assert r.status == status, (body, await r.text())
                answer = await r.json()
                assert answer["ok"] is False
                return str(answer["error"])

        assert "not JSON" in await post(b"{next", 400)
        assert "not JSON" in await post(b"\xff\xfe", 400)
        assert "not JSON" in await post(b"", 400)
        assert "JSON object" in await post("[1, 2]", 400)
        assert "JSON object" in await post('"next"', 400)
        assert "unknown command 'fly'" in await post('{"command": "fly"}', 422)
        assert "known commands: next" in await post('{"command": "fly"}', 422)
        assert "minutes" in await post('{"command": "extend"}', 422)
        assert "unknown argument" in await post('{"command": "next", "now": true}', 422)
        assert "280" in await post(json.dumps({"command": "message", "text": "x" * 300}), 422)
        huge = json.dumps({"command": "message", "text": "x" * (MAX_BODY_BYTES + 10)})
        assert str(MAX_BODY_BYTES) in await post(huge, 413)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b" " * 1024

        # Without a Content-Length (chunked), the limit still holds.
        async with http.post(url, data=chunks(), headers=show.auth()) as r:
            assert r.status == 413
        after = show.session.state.show
        assert (after.on_air, after.message, after.slots) == (
            before.on_air,
            before.message,
            before.slots,
        )
    # Unknown commands are journaled as refused, from the web; nothing else happened.
    records = _commands(tmp_path)
    assert [r.get("source") for r in records] == ["web"] * 5 + ["api"]
    assert all("reason" in r for r in records[:5])


async def test_a_command_the_show_refuses_is_409_with_the_reason(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        async with http.post(
            f"{show.url}/api/commands", json={"command": "back"}, headers=show.auth()
        ) as r:
            assert r.status == 409
            answer = await r.json()
        assert answer["ok"] is False
        assert "first slot" in answer["message"]
        # The checks are a command; the answer (done, or why not) comes back either way.
        async with http.post(
            f"{show.url}/api/commands", json={"command": "checks"}, headers=show.auth()
        ) as r:
            assert r.status in (200, 409)
            assert (await r.json())["message"].startswith("checks")


async def test_off_loopback_reading_takes_the_timer_token_and_commands_the_control_token(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    timer = timer_token_for(TOKEN)
    async with (
        web_show(sim, tmp_path, access=loopback(timer_token=timer)) as show,
        aiohttp.ClientSession() as http,
    ):
        for path in ("/api/state", "/api/events"):
            async with http.get(show.url + path) as r:
                assert r.status == 401, path
                assert "timer token" in (await r.json())["error"]
            async with http.get(show.url + path, headers=show.auth("nope")) as r:
                assert r.status == 401
        async with http.get(f"{show.url}/api/state", headers=show.auth(timer)) as r:
            assert r.status == 200
        async with http.get(f"{show.url}/api/state", headers=show.auth(TOKEN)) as r:
            assert r.status == 200
        async with feed(http, show.url, headers=show.auth(timer)) as events:
            await events.until(lambda e: _on_air(e) == 0)
        # The read-only token cannot run the show.
        async with http.post(
            f"{show.url}/api/commands", json={"command": "next"}, headers=show.auth(timer)
        ) as r:
            assert r.status == 401
        # The pages themselves are static and hold no secret; health needs no token.
        for path in ("/timer", "/control", "/healthz"):
            async with http.get(show.url + path) as r:
                assert r.status == 200
                text = await r.text()
                assert TOKEN not in text
                assert timer not in text


def test_a_non_loopback_address_needs_a_real_token_and_gets_a_separate_timer_token() -> None:
    with pytest.raises(UsageError, match=r"0\.0\.0\.0.*without a token") as caught:
        web_access(Web(host="0.0.0.0"))
    assert "SHOWCALLER_WEB__TOKEN" in caught.value.hint
    with pytest.raises(UsageError, match="token of 5 characters"):
        web_access(Web(host="192.168.1.20", token=SecretStr("short")))
    access = web_access(Web(host="0.0.0.0", token=SecretStr(TOKEN)), port=0)
    assert (access.port, access.generated, access.control_token) == (0, False, TOKEN)
    assert access.timer_token == timer_token_for(TOKEN)  # the same link after a restart
    assert access.timer_token not in (None, TOKEN)
    assert TOKEN not in repr(access)
    assert str(access.timer_token) not in repr(access)
    # On loopback: reading is open; a control token is made when none is set.
    made = web_access(Web())
    assert (made.host, made.port, made.timer_token, made.generated) == (
        "127.0.0.1",
        8080,
        None,
        True,
    )
    assert len(made.control_token) >= 16
    assert web_access(Web()).control_token != made.control_token
    assert web_access(Web(token=SecretStr(TOKEN))).generated is False
    assert [is_loopback(h) for h in ("127.0.0.1", "127.3.4.5", "::1", "localhost")] == [True] * 4
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.com")] == [False] * 4


async def test_no_token_reaches_a_log_line_the_state_or_a_page(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with web_show(sim, tmp_path) as show, aiohttp.ClientSession() as http:
        async with http.get(f"{show.url}/control?token={TOKEN}") as r:
            assert r.status == 200
        async with http.get(f"{show.url}/api/state?token={TOKEN}", headers=show.auth()) as r:
            assert TOKEN not in await r.text()
        async with http.post(
            f"{show.url}/api/commands", json={"command": "next"}, headers=show.auth()
        ) as r:
            assert r.status == 200
        async with http.post(
            f"{show.url}/api/commands", json={"command": TOKEN}, headers=show.auth()
        ) as r:
            assert r.status == 422
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "showcaller" in logged  # the capture did see the run
    assert "aiohttp.access" not in logged  # the access log (with query strings) is off
    assert TOKEN not in logged.replace(f"unknown command {TOKEN!r}", "")


async def test_the_printed_urls_carry_a_generated_token_in_the_fragment_only(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    made = web_access(Web(), port=0)
    async with web_show(sim, tmp_path, access=made) as show, aiohttp.ClientSession() as http:
        urls = show.app.urls()
        assert urls["control"] == f"{show.url}/control#token={made.control_token}"
        assert urls["timer"] == f"{show.url}/timer"
        assert len(show.said) == 2
        assert urls["timer"] in show.said[0]
        assert urls["control"] in show.said[1]
        async with http.post(
            f"{show.url}/api/commands",
            json={"command": "next"},
            headers=show.auth(made.control_token),
        ) as r:
            assert r.status == 200


async def test_a_restarted_show_keeps_its_generated_token_beside_the_journal(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Issue 19: a /control page opened before a crash keeps working after the restart.
    first = web_access(Web(), port=0)
    async with web_show(sim, tmp_path, access=first) as show:
        token = show.app.access.control_token
    kept = tmp_path / "r.jsonl.token"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    again = web_access(Web(), port=0)
    assert again.control_token != token  # a new process makes a new one ...
    async with (
        web_show(sim, tmp_path, access=again) as show,
        aiohttp.ClientSession() as http,
    ):
        assert show.app.access.control_token == token  # ... and takes the kept one instead
        assert show.app.urls()["control"].endswith(f"#token={token}")
        async with http.post(
            f"{show.url}/api/commands", json={"command": "next"}, headers=show.auth(token)
        ) as r:
            assert r.status == 200, await r.text()
        async with http.post(
            f"{show.url}/api/commands",
            json={"command": "next"},
            headers=show.auth(again.control_token),
        ) as r:
            assert r.status == 401
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert token not in "\n".join(r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------- the port


async def test_a_taken_port_is_one_plain_problem_and_the_show_runs_to_its_end(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = cut_example(tmp_path)
    seed_event(sim, cfg)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = WebApp(cfg, loopback(port=port), say=lambda _: None)
        obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
        report = await rehearse(
            cfg,
            RehearsalOptions(obs=obs, speed=3000, journal=tmp_path / "r.jsonl"),
            on_session=app.attach,
        )
    assert report.ended
    assert len(report.cues) == len(cfg.slots_resolved())
    assert report.problems == [
        f"the web app could not start: port {port} on 127.0.0.1 is taken (another showcaller, "
        "or another program); start with --web-port N for another port, or --web-port 0 for "
        "any free one"
    ]


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("SHOWCALLER_")}
    return subprocess.run(
        [sys.executable, "-m", "showcaller", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=60,
        check=False,
    )


def test_rehearse_prints_the_urls_and_refuses_an_open_address_without_a_token(
    tmp_path: Path,
) -> None:
    cut_example(tmp_path)
    event = str(tmp_path / "event.toml")
    common = ("rehearse", event, "--obs", "sim", "--speed", "3000", "--journal")
    ran = _run_cli(*common, str(tmp_path / "a.jsonl"), "--web-port", "0")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "speaker timer: http://127.0.0.1:" in ran.stdout
    assert "/control#token=" in ran.stdout
    quiet = _run_cli(*common, str(tmp_path / "b.jsonl"), "--no-web")
    assert quiet.returncode == 0
    assert "speaker timer" not in quiet.stdout
    refused = _run_cli(*common, str(tmp_path / "c.jsonl"), env={"SHOWCALLER_WEB__HOST": "0.0.0.0"})
    assert refused.returncode == 2
    assert "without a token" in refused.stderr
    assert "SHOWCALLER_WEB__TOKEN" in refused.stderr
    assert "Traceback" not in refused.stderr
    bad = _run_cli(*common, str(tmp_path / "d.jsonl"), "--web-port", "http")
    assert bad.returncode == 2
    assert "not a port number" in bad.stderr


# ------------------------------------------------------------- live asks once more


@contextlib.asynccontextmanager
async def live_web_show(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[tuple[EventConfig, WebApp, ShowSession]]:
    """A `live` show on the built-in OBS, its opening ten minutes away, with the web app
    (`loopback()` access): the event, the app once it serves, the session. Ended on exit."""
    from showcaller.modes import LiveOptions, live
    from tests.test_modes import _short_show

    config = tmp_path / "event.toml"
    _short_show(config, lead_in=600, slot_s=600, stream_before_s=1)
    cfg = load_config(config)
    seed_event(sim, cfg)
    sim.use_cases.stream_target()
    app = WebApp(cfg, loopback(), say=lambda _: None)
    sessions: list[ShowSession] = []

    def on_session(session: ShowSession) -> None:
        sessions.append(session)
        app.attach(session)

    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    task = asyncio.create_task(
        live(
            cfg,
            LiveOptions(obs=obs, journal=tmp_path / "live.jsonl", yes=True),
            interactive=False,
            on_session=on_session,
        )
    )
    try:
        async with asyncio.timeout(15):
            await app.ready.wait()
        yield cfg, app, sessions[0]
    finally:
        if sessions and not task.done():
            await sessions[0].submit({"command": "end"}, source="api")
        await asyncio.wait_for(task, 15)


async def test_live_asks_once_more_before_a_key_or_a_command_moves_the_show(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Issue 19: `n` during standby in live started the show 8 minutes early. The rule is
    # show.confirming's; the dashboard asks for the key again, the API for "confirm".
    import io

    from rich.console import Console

    from showcaller.surfaces.dashboard import Dashboard, _Board

    async with live_web_show(sim, tmp_path) as (cfg, app, session):
        board = _Board(Dashboard(cfg, Console(file=io.StringIO()), stdin_fd=0), session)
        await asyncio.sleep(0.1)
        board.state = session.state
        assert board.state.show.phase == "waiting"

        url = f"http://127.0.0.1:{app.port}/api/commands"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json={"command": "start"}, headers=auth) as r:
                answer = await r.json()
                assert r.status == 409, answer
                assert answer["confirm"] == "start the show now — 10 min early", answer
            assert session.state.show.phase == "waiting"  # nothing was sent to the show
            async with http.post(
                url, json={"command": "start", "confirm": "yes"}, headers=auth
            ) as r:
                assert r.status == 422
            async with http.post(
                url, json={"command": "start", "confirm": True}, headers=auth
            ) as r:
                assert r.status == 200, await r.text()
            async with asyncio.timeout(5):
                async for state in session.feed():
                    if state.show.on_air is not None:
                        break
            board.state = session.state
            # The standby slot on air, 10 minutes before the opening: one `n` asks and
            # sends nothing; too late for the second press, it asks again; `n` again goes.
            board.on_key("n")
            assert board.ui.asking
            assert board.ui.result is not None
            assert board.ui.result.message == (
                "press n again within 3 s to start the show now — 10 min early"
            ), board.ui.result.message
            board.keys_clock = lambda: time.monotonic() + 10
            board.on_key("n")
            assert board.ui.asking
            board.keys_clock = time.monotonic
            assert session.state.show.on_air is not None
            assert session.state.show.on_air.index == 0
            board.on_key("n")
            assert not board.ui.asking
            async with asyncio.timeout(5):
                async for state in session.feed():
                    if state.show.on_air is not None and state.show.on_air.index == 1:
                        break
            board.state = session.state
            board.on_key("+")  # one minute: no question
            assert not board.ui.asking
            async with http.post(url, json={"command": "extend", "minutes": 5}, headers=auth) as r:
                answer = await r.json()
                assert r.status == 409, answer
                assert answer["confirm"].startswith("give 2/"), answer
            async with http.post(url, json={"command": "back"}, headers=auth) as r:
                assert r.status == 409
