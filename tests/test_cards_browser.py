"""The MC's cue cards on the host's /control page, in a real headless Chromium on a phone
viewport, during a real rehearsal on the simulated OBS: the card of the talk on air and
of the next slot, the post link, and a break card whose resume time follows `extend`.
The screenshot goes to tests/artifacts/control-cards.png, to be looked at."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from showcaller.obs.sim import SimulatedOBS
from tests.sim_fixtures import sim  # noqa: F401
from tests.test_web import web_show
from tests.test_web_browser import _control_page, _shot, _text, browser  # noqa: F401

pytestmark = pytest.mark.slow

FIRST_TALK = "小さな LLM を手元で動かす"
BREAK = 6


def _resume_of(show: Any) -> str:
    """When the slot after the break is expected, HH:MM, from the session's own state."""
    following = next(v for v in show.session.state.show.slots if v.index == BREAK + 1)
    return datetime.fromisoformat(following.expected_start).strftime("%H:%M")


async def test_the_control_page_shows_the_cue_cards_and_the_post_link(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    browser: Any,  # noqa: F811
) -> None:
    async with web_show(sim, tmp_path, speed=1, from_slot=2) as show:
        control = await _control_page(browser, show.url)
        await _text(control, "#cue-onair", f"#3 19:35 {FIRST_TALK}")
        intro = await control.text_content("#cue-onair .cue-intro .cue-text")
        assert intro == (
            f"続いては、Example AI Lab の佐藤 花子さんによる「{FIRST_TALK}」です。\n"
            "X のアカウントは @hanako_ml です。\n佐藤 花子さん、よろしくお願いします！"
        )
        assert await control.text_content("#cue-onair .cue-outro .cue-text") == (
            "佐藤 花子さん、ありがとうございました！"
        )
        await _text(control, "#cue-next", "それでは質疑応答に移ります。")
        # The post button opens X's post box with the draft in it.
        link = control.locator("#cue-onair .post-link")
        href = await link.get_attribute("href")
        assert href is not None
        assert href.startswith("https://x.com/intent/post?text=")
        draft = await control.text_content("#cue-onair .post-text")
        assert parse_qs(urlsplit(href).query)["text"] == [draft]
        assert await link.get_attribute("target") == "_blank"
        assert "#mlct" in (await control.text_content("#cue-onair .post"))
        # Japanese is drawn with a CJK font (a glyph as wide as tall), not boxes.
        width = await control.evaluate(
            "() => { const s = document.createElement('span'); s.textContent = '続';"
            " document.querySelector('#cue-onair .cue-text').append(s);"
            " const w = s.getBoundingClientRect().width; s.remove(); return w; }"
        )
        assert 14 <= width <= 22  # an 18 px full-width glyph
        # On a phone the card fits the width: nothing runs off the side.
        overflow = await control.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        await control.locator("#cards").screenshot(path=_shot("control-cards.png"))

        # The break: its card says when the show resumes, and follows an extension.
        assert (await show.session.submit({"command": "jump", "slot": BREAK + 1}, source="api")).ok
        await _text(control, "#cue-onair", "#7 ")  # the break is on air
        await _text(control, "#cue-onair", f"再開は{_resume_of(show)}の予定です。")
        before = _resume_of(show)
        assert (await show.session.submit({"command": "extend", "minutes": 2}, source="api")).ok
        after = _resume_of(show)
        assert after != before
        await _text(control, "#cue-onair", f"再開は{after}の予定です。")
        await control.locator("#cards").screenshot(path=_shot("control-cards-break.png"))
        await control.screenshot(path=_shot("control-full.png"), full_page=True)
