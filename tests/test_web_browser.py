"""The web pages in a real headless Chromium (Debian's, driven by Playwright), on a real
rehearsal on the simulated OBS: the timer counts down, turns yellow and red, shows
overtime; the control page's buttons run the show; pages come back by themselves when
showcaller restarts. Screenshots go to tests/artifacts/ (ignored by git) to be looked at.

Without Chromium (or Playwright) these skip, and fail under SHOWCALLER_REQUIRE_OBS=1
(CI installs both), like the real-OBS tests.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from showcaller.obs.sim import SimulatedOBS
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.sim_fixtures import sim  # noqa: F401
from tests.test_web import TOKEN, cut_example, live_web_show, loopback, web_show

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
REQUIRE_ENV = "SHOWCALLER_REQUIRE_OBS"

pytestmark = pytest.mark.slow

# The example's titles, as the pages must show them.
STANDBY, OPENING, FIRST_TALK = "まもなく開始", "オープニング", "小さな LLM を手元で動かす"
YELLOW, RED = "rgb(255, 214, 10)", "rgb(255, 69, 58)"


def _unavailable(why: str) -> None:
    message = f"headless Chromium not available: {why} (apt-get install chromium; pip: playwright)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, through Playwright (no browser download)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def _timer_page(browser: Any, url: str, query: str = "") -> Any:
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    await page.goto(f"{url}/timer{query}")
    return page


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


async def _control_page(browser: Any, url: str, viewport: dict[str, int] = PHONE) -> Any:
    phone = viewport["width"] < 600
    context = await browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = await context.new_page()
    await page.goto(f"{url}/control#token={TOKEN}")
    await _until(page, "document.body.dataset.feed === 'live'")
    return page


async def _text(page: Any, selector: str, text: str, timeout_ms: float = 5000) -> None:
    """Wait until `selector` shows `text` (a part of its text)."""
    await page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text],
        timeout=timeout_ms,
    )


async def _until(page: Any, expression: str, timeout_ms: float = 5000) -> None:
    """Wait until the JavaScript `expression` holds (as a function: the page's CSP
    forbids evaluating strings)."""
    await page.wait_for_function(f"() => ({expression})", timeout=timeout_ms)


def _shot(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / name)


async def test_the_timer_counts_down_and_the_control_page_runs_the_show(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,
) -> None:
    async with web_show(sim, tmp_path, speed=20) as show:
        timer = await _timer_page(browser, show.url)
        await _text(timer, "#title", STANDBY)
        first = await timer.text_content("#digits")
        assert first is not None
        assert first.count(":") == 1
        # It counts down by itself between two states (20 show seconds a second).
        await _until(timer, f"document.querySelector('#digits').textContent !== {first!r}")
        assert await timer.text_content("#label") == "残り時間"
        assert await timer.text_content("#next") == f"次 19:30 {OPENING}"

        control = await _control_page(browser, show.url)
        # The token is taken out of the address bar once read.
        assert TOKEN not in control.url
        await _text(control, "#onair-title", STANDBY)
        await _text(control, "#timetable tbody", FIRST_TALK)
        assert await control.text_content("#mode") == "リハーサル"
        assert await control.text_content("#link") == "OBS: 接続済み"

        await control.click("#btn-next")
        await _text(control, "#result", "✓ 次へ: ")
        await _text(control, "#onair-title", OPENING)
        await _text(timer, "#title", OPENING, timeout_ms=2000)
        assert show.session.state.show.on_air is not None
        assert show.session.state.show.on_air.index == 1

        await control.fill("#message-input", "あと 1 分でお願いします")
        await control.click("#btn-message")
        await _text(timer, "#message", "あと 1 分でお願いします", timeout_ms=2000)
        await _text(control, "#messages", f"slot 2 {OPENING} on air")  # the message log

        # The checks' answer (done, or why not) is said plainly.
        await control.click("#btn-checks")
        await _text(control, "#result", "接続チェック: ")
        await control.fill("#message-input", "")
        await timer.screenshot(path=_shot("timer.png"))
        await control.screenshot(path=_shot("control.png"), full_page=True)

        # End is behind a second tap.
        await control.click("#btn-end")
        await _text(control, "#btn-end", "もう一度タップ")
        assert show.session.state.show.phase == "on_air"
        await control.click("#btn-end")
        await _text(timer, "#label", "本日のプログラムは終了しました")
        report = await show.task
    assert report.ended
    assert report.problems == []


async def test_the_timer_turns_yellow_then_red_and_shows_overtime(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,
) -> None:
    async with web_show(sim, tmp_path, speed=10) as show:
        timer = await _timer_page(browser, show.url)
        source = await _timer_page(browser, show.url, "?transparent=1")
        # The first talk (15 min, then 60 s of grace), with 40 s left.
        assert (await show.session.submit({"command": "jump", "slot": 3}, source="api")).ok
        extend = {"command": "extend", "seconds": -(15 * 60 - 40)}
        assert (await show.session.submit(extend, source="api")).ok
        await _text(timer, "#title", FIRST_TALK)
        await _until(timer, "document.querySelector('#timer').className === 'warning'")
        color = "getComputedStyle(document.querySelector('#digits')).color"
        await _until(timer, f"{color} === {YELLOW!r}")  # after the 0.4 s fade
        digits = await timer.text_content("#digits")
        assert digits is not None
        assert digits.startswith("00:")
        assert await timer.text_content("#speakers") == "佐藤 花子"
        await timer.screenshot(path=_shot("timer-warning.png"))

        # Zero: red, a flash, then +MM:SS while the grace runs.
        await _until(timer, "document.querySelector('#timer').classList.contains('over')", 10000)
        assert "flash" in str(await timer.get_attribute("#timer", "class"))
        await _until(timer, "document.querySelector('#digits').textContent >= '+00:05'")
        assert await timer.text_content("#label") == "時間超過"
        await _until(timer, f"{color} === {RED!r}")
        await timer.screenshot(path=_shot("timer-overtime.png"))
        await _until(source, "!document.querySelector('#timer').classList.contains('flash')")
        await source.screenshot(path=_shot("timer-transparent.png"), omit_background=True)
        background = await source.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgba(0, 0, 0, 0)"


async def test_the_pages_come_back_by_themselves_when_showcaller_restarts(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with web_show(sim, tmp_path, access=loopback(port=port), journal="one.jsonl") as show:
        timer = await _timer_page(browser, show.url)
        control = await _control_page(browser, show.url)
        await _text(timer, "#title", STANDBY)
    # The first showcaller is gone; the pages say so and keep trying.
    await _until(control, "['ended', 'reconnecting'].includes(document.body.dataset.feed)")
    async with web_show(
        sim, tmp_path, access=loopback(port=port), journal="two.jsonl", from_slot=2
    ) as second:
        assert second.app.port == port
        await _text(timer, "#title", FIRST_TALK, timeout_ms=10000)
        await _text(control, "#onair-title", FIRST_TALK, timeout_ms=10000)
        await control.click("#btn-next")
        await _text(timer, "#title", "質疑応答", timeout_ms=2000)


async def test_the_control_page_says_when_the_webhooks_fail(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,
) -> None:
    # A webhook nobody answers (the discard port): the host's message cannot be delivered.
    def dead_webhook(text: str) -> str:
        hook = 'webhooks = ["http://127.0.0.1:9/hook"]\nretries = 0'
        return text.replace("webhooks = []", hook, 1)

    cfg = cut_example(tmp_path, dead_webhook)
    async with web_show(sim, tmp_path, cfg=cfg, from_slot=2, notify=True) as show:
        control = await _control_page(browser, show.url)
        assert (
            await show.session.submit({"command": "message", "text": "あと5分"}, source="api")
        ).ok
        await _text(control, "#notify", " 件失敗 — webhook 1 (slack): ")
        shown = await control.text_content("#notify") or ""
        assert shown.startswith("! "), shown
        assert await control.get_attribute("#notify", "class") == "warn"
        assert "127.0.0.1:9" not in shown


async def _badges(page: Any) -> list[str]:
    return [str(await page.text_content(f"#{b}")) for b in ("mode", "phase", "link", "feed")]


async def test_the_control_page_speaks_the_events_language_and_skip_names_the_slot(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,
) -> None:
    # A Japanese event (the example): every label, button and state in Japanese.
    async with web_show(sim, tmp_path, from_slot=2) as show:
        control = await _control_page(browser, show.url)
        await _text(control, "#onair-title", FIRST_TALK)
        assert await _badges(control) == ["リハーサル", "オンエア", "OBS: 接続済み", "更新: 接続中"]
        assert await control.text_content("#btn-next") == "次へ ▶"
        assert await control.text_content("#btn-skip") == "次をスキップ（4/13 質疑応答）"
        assert await control.text_content("#btn-hold") == "一時停止"
        assert await control.text_content("#clock-label") == "残り"
        placeholder = await control.get_attribute("#message-input", "placeholder")
        assert placeholder == "登壇者タイマーに出す一言"
        await _text(control, "#timetable tbody", "オンエア")
        english = await control.evaluate(
            "() => [...document.querySelectorAll('button, h2, th, .badge, label')]"
            ".map(e => e.textContent)"
            ".filter(t => /\\b(Next|Skip|Hold|Checks|live|ready)\\b/.test(t))"
        )
        assert english == []  # no English label left on a Japanese event's page
        await control.screenshot(path=_shot("control-ja-phone.png"), full_page=True)
        await control.screenshot(path=_shot("control-ja-phone-top.png"))  # what a thumb sees
        desk = await _control_page(browser, show.url, DESKTOP)
        await _text(desk, "#onair-title", FIRST_TALK)
        await desk.screenshot(path=_shot("control-ja-desktop.png"), full_page=True)

        # Skip skips the slot it names, and the button then names the one after it.
        await control.click("#btn-skip")
        await _text(control, "#result", "✓ スキップ: ")
        skipped = [s for s in show.session.state.show.slots if s.state == "skipped"]
        assert [s.index + 1 for s in skipped] == [4]
        await _text(control, "#btn-skip", "次をスキップ（5/13 Feature Store を半年運用してみた）")

        # The skipped slot's row undoes it; a row's "ここへ" (two taps) puts that slot on air.
        await control.click("""button[data-command='{"command":"unskip","slot":4}']""")
        await _text(control, "#result", "unskipped 4/13 質疑応答")
        assert [s.state for s in show.session.state.show.slots if s.index == 3] == ["upcoming"]
        jump = """button[data-command='{"command":"jump","slot":6}']"""
        await control.click(jump)
        await _text(control, jump, "もう一度タップで今すぐこの枠へ")
        await control.click(jump)
        await _text(control, "#result", "jumped to 6/13 質疑応答 (passed over 4/13 質疑応答")
        await _text(control, "#timetable tbody", "見送り（オンエアなし）")

        await control.click("#btn-end")
        await _text(control, "#btn-end", "もう一度タップで終了")
        await control.click("#btn-end")
        await _text(control, "#phase", "終了")
        await show.task
    # The show is over: the badge says the updates ended, not that something is live.
    await _text(control, "#feed", "更新: 終了")


async def test_the_control_page_of_an_english_event_is_in_english(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,
) -> None:
    cfg = cut_example(tmp_path, lambda text: text.replace('language = "ja"', 'language = "en"'))
    async with web_show(sim, tmp_path, cfg=cfg, from_slot=2) as show:
        control = await _control_page(browser, show.url)
        await _text(control, "#onair-title", FIRST_TALK)
        assert await _badges(control) == ["rehearsal", "on air", "OBS: ready", "updates: connected"]
        assert await control.text_content("#btn-skip") == "Skip next (4/13 Q&A)"
        assert await control.text_content("#btn-hold") == "Hold"
        await control.screenshot(path=_shot("control-en-phone.png"))
        await control.click("#btn-hold")
        await _text(control, "#btn-hold", "Resume")
        await _text(control, "#onair-flags", "held")


async def test_live_control_asks_a_second_tap_before_starting_early_and_says_when_its_token_died(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,
) -> None:
    # Issue 19: in live, Start ten minutes early is one tap away from a stray thumb. The
    # show answers "confirm" (its one rule, show.confirming); the page turns the button into
    # a second tap, and only that starts the show. A page holding a dead token says so.
    import asyncio

    async with live_web_show(sim, tmp_path) as (_cfg, app, session):
        url = f"http://127.0.0.1:{app.port}"
        control = await _control_page(browser, url)
        state = session.state.show
        assert state.phase == "waiting"
        await control.click("#btn-start")
        await _until(control, "document.querySelector('#btn-start').dataset.confirmed")
        label = await control.text_content("#btn-start") or ""
        assert "10 min early" in label, label
        assert session.state.show.phase == "waiting"  # one tap sent nothing to the show
        await control.click("#btn-start")
        await _until(control, "document.body.textContent.includes('✓')")
        feed = session.feed()
        async with asyncio.timeout(5):
            async for state in feed:
                if state.show.phase == "on_air":
                    break
        feed.close()
        await control.screenshot(path=_shot("control-live-confirm.png"), full_page=True)

        # A page opened with a token the show no longer takes (a restart made a new one).
        context = await browser.new_context(viewport=PHONE)
        stale = await context.new_page()
        await stale.goto(f"{url}/control#token=not-the-token-of-this-show")
        await stale.click("#btn-hold")
        await _until(stale, "!document.querySelector('#token-refused').hidden")
        banner = await stale.text_content("#token-refused") or ""
        assert "new" in banner or "新しい" in banner, banner
