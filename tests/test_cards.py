"""The MC's cue cards and post drafts: templates, overrides, located errors, the state of
a real rehearsal on the simulated OBS (a break's resume time follows an extension and a
hold), `showcaller cards`, and the length of a post as X counts it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rich.cells import cell_len

from showcaller.cli import main
from showcaller.config import OBS, EventConfig, load_config
from showcaller.errors import ConfigError
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.session import ShowSession
from showcaller.show.state import SessionState
from showcaller.stage.cards import cards_markdown, cards_view, planned_cards
from showcaller.stage.posts import MAX_WEIGHT, fitted, intent_url, weighted_length
from tests.sim_fixtures import SIM_PASSWORD, sim  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
FIRST_TALK = "小さな LLM を手元で動かす"
BREAK = 6  # the example's break (0-based)


def _example(tmp_path: Path, edit: Callable[[str], str] | None = None) -> EventConfig:
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    path = tmp_path / "event.toml"
    path.write_text(edit(text) if edit else text, encoding="utf-8")
    return load_config(path)


def _english(text: str) -> str:
    return text.replace('language = "ja"', 'language = "en"')


def _card(cfg: EventConfig, index: int) -> Any:
    return planned_cards(cfg)[index]


# ------------------------------------------------------------------ templates


def test_a_talk_card_introduces_the_speaker_in_polite_japanese_and_thanks_them(
    tmp_path: Path,
) -> None:
    card = _card(_example(tmp_path), 2)
    assert card.intro.splitlines() == [
        f"続いては、Example AI Lab の佐藤 花子さんによる「{FIRST_TALK}」です。",
        "X のアカウントは @hanako_ml です。",
        "佐藤 花子さん、よろしくお願いします！",
    ]
    assert card.outro == "佐藤 花子さん、ありがとうございました！"
    assert card.start == "19:35"


def test_the_same_event_in_english_gets_english_cards(tmp_path: Path) -> None:
    cfg = _example(tmp_path, _english)
    talk, lt, pause, closing = (_card(cfg, i) for i in (2, 9, BREAK, 12))
    assert talk.intro.splitlines()[0] == f'Next up: 佐藤 花子 (Example AI Lab) with "{FIRST_TALK}".'
    assert "Over to you, 佐藤 花子!" in talk.intro
    # 伊藤 翔 has no affiliation: no empty parentheses.
    assert lt.intro.startswith("Our next lightning talk: 伊藤 翔 with")
    assert "5 minutes" in lt.intro
    assert "We'll be back at 20:25." in pause.intro
    assert "Thank you to 株式会社Example for supporting us." in closing.intro
    assert "https://forms.example.com/mlct20" in closing.intro


def test_a_line_naming_an_empty_value_is_left_out(tmp_path: Path) -> None:
    def plain(text: str) -> str:
        text = text.replace('survey_url = "https://forms.example.com/mlct20"', "")
        return text.replace('name = "株式会社Example"', "").replace("[[sponsors]]", "# none")

    closing = _card(_example(tmp_path, plain), 12).intro
    assert "アンケート" not in closing
    assert "ご支援" not in closing
    assert "次回は1月14日（木）の #21です。" in closing
    # An LT speaker without an affiliation is introduced without one.
    assert _card(_example(tmp_path), 9).intro.startswith("続いての LT は、伊藤 翔さんによる「")


def test_two_speakers_on_one_talk_are_both_introduced_and_thanked(tmp_path: Path) -> None:
    def pair(text: str) -> str:
        text = text.replace(
            'speakers = ["sato"]       # ids', 'speakers = ["sato", "suzuki"]  # ids'
        )
        return text.replace(
            'name = "株式会社Example"', 'name = "株式会社Example"\n[[sponsors]]\nname = "Data 社"'
        )

    ja = _card(_example(tmp_path, pair), 2)
    assert ja.intro.splitlines()[0] == (
        f"続いては、Example AI Lab の佐藤 花子さん、Kyoto University の Yui Suzuki さんによる"
        f"「{FIRST_TALK}」です。"
    )
    assert "X のアカウントは @hanako_ml @yui_s です。" in ja.intro
    assert ja.outro == "佐藤 花子さん、Yui Suzuki さん、ありがとうございました！"
    assert (
        "株式会社Example 様、Data 社様、ご支援ありがとうございました。"
        in _card(_example(tmp_path, pair), 12).intro
    )
    en = _card(_example(tmp_path, lambda t: _english(pair(t))), 2)
    assert en.outro == "Thank you, 佐藤 花子 and Yui Suzuki!"
    assert "by 佐藤 花子 (@hanako_ml) and Yui Suzuki (@yui_s)" in en.post.text


def test_the_event_file_overrides_a_kind_and_a_slot_overrides_both(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        text = text.replace(
            "[posts]",
            '[cards.talk]\nintro = "次は${who}、「${title}」（${minutes}分）。"\n'
            'outro = "${name}さんでした！"\n\n[posts]\ntalk = "${title} ${handle}"',
        )
        # The opening gets a post of its own, and no outro at the break.
        text = text.replace(
            'title = "オープニング"', 'title = "オープニング"\npost = "始まりました！${hashtag}"'
        )
        text = text.replace('min = "4m"', 'min = "4m"\noutro = ""')
        # The second talk has its own intro (the first keeps the event's).
        return text.replace(
            'title = "Feature Store を半年運用してみた"',
            'title = "Feature Store を半年運用してみた"\n'
            'intro = "お待たせしました、${speaker}です！"',
        )

    cfg = _example(tmp_path, edit)
    first, second = _card(cfg, 2), _card(cfg, 4)
    assert first.intro == f"次はExample AI Lab の佐藤 花子さん、「{FIRST_TALK}」（15分）。"
    assert first.outro == "佐藤 花子さんでした！"
    assert first.post.text == f"{FIRST_TALK} @hanako_ml"
    assert second.intro == "お待たせしました、田中 健太さんです！"
    assert second.outro == "田中 健太さんでした！"  # the kind's outro still applies
    assert _card(cfg, 1).post.text == "始まりました！#mlct"
    assert _card(cfg, BREAK).outro == ""
    assert _card(cfg, BREAK).intro.startswith("ここで10分間の休憩に入ります。")
    # The example's own [cards.qa] and the closing's outro.
    assert "YouTube のチャット" in _card(cfg, 3).intro
    assert _card(cfg, 12).outro.startswith("この後は懇親会です。")


@pytest.mark.parametrize(
    ("edit", "needle", "field", "message", "hint"),
    [
        (
            lambda t: t.replace(
                "[posts]", '[cards.talk]\nintro = "続いては${spekaer}さん"\n\n[posts]'
            ),
            'intro = "続いては${spekaer}さん"',
            "cards.talk.intro",
            "unknown placeholder ${spekaer}",
            "did you mean ${speaker}?",
        ),
        (
            lambda t: t.replace(
                'end = "auto"              # or', 'intro = "thanks $ 5"\nend = "auto"  # or'
            ),
            'intro = "thanks $ 5"',
            "timetable.slots[12].intro",
            "a $ that starts no placeholder",
            "$$ for a dollar sign",
        ),
        (
            lambda t: t.replace("# talk = ", 'lt = "${title.upper}"\n# talk = '),
            'lt = "${title.upper}"',
            "posts.lt",
            "a $ that starts no placeholder",
            "",
        ),
    ],
)
def test_a_bad_placeholder_is_a_config_error_with_file_line_and_field(
    tmp_path: Path, edit: Any, needle: str, field: str, message: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _example(tmp_path, edit)
    [problem] = caught.value.problems
    text = (tmp_path / "event.toml").read_text(encoding="utf-8")
    assert problem.file == str(tmp_path / "event.toml")
    assert (
        problem.line
        == text.splitlines().index(next(line for line in text.splitlines() if needle in line)) + 1
    )
    assert problem.field == field
    assert problem.message.endswith(message)
    assert hint in problem.hint


def test_a_dollar_written_twice_is_a_dollar(tmp_path: Path) -> None:
    cfg = _example(
        tmp_path,
        lambda t: t.replace(
            'end = "auto"              # or', 'intro = "懇親会費は $$5 です"\nend = "auto"  # or'
        ),
    )
    assert _card(cfg, 12).intro == "懇親会費は $5 です"


# ---------------------------------------------------------------------- posts


def test_x_counts_cjk_twice_urls_as_23_and_emoji_as_2() -> None:
    assert weighted_length("a" * 280) == 280
    assert weighted_length("あ" * 140) == 280
    assert weighted_length("漢字カナ") == 8
    assert weighted_length("“quotes” — and") == 14  # general punctuation weighs 1 ...
    assert weighted_length("…") == 2  # ... but not all of it (U+2026 is outside X's ranges)
    assert weighted_length("https://example.com/" + "x" * 200) == 23
    assert weighted_length("見て https://a.jp/xです") == 2 * 2 + 1 + 23 + 2 * 2
    assert weighted_length("👍") == 2
    assert weighted_length("👍🏽") == 2  # a skin tone is part of the emoji
    assert weighted_length("👨‍👩‍👧") == 2  # joined by zero-width joiners: one emoji
    assert weighted_length("©") == 1
    assert weighted_length("©️") == 2  # with the emoji selector it is an emoji


def test_a_draft_that_would_be_too_long_has_its_title_cut_to_fit() -> None:
    title = "とても長いタイトル" * 30
    text = fitted(lambda t: f"「{t}」#mlct https://mlct.example.com/events/20", title)
    assert weighted_length(text) <= MAX_WEIGHT
    assert weighted_length(text) >= MAX_WEIGHT - 2  # cut no more than needed
    assert "…」#mlct https://mlct.example.com/events/20" in text
    # A short one is left alone.
    assert fitted(lambda t: f"「{t}」", "短い") == "「短い」"


def test_the_share_link_carries_the_text_url_encoded() -> None:
    text = "佐藤 花子さん（@hanako_ml）による「A & B #1」\n#mlct https://x.example/?a=1&b=2"
    link = intent_url(text)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "x.com", "/intent/post")
    assert parse_qs(parts.query) == {"text": [text]}
    assert " " not in link
    assert "\n" not in link


def test_talks_and_lts_get_a_post_draft_within_280_and_other_slots_none(tmp_path: Path) -> None:
    cards = planned_cards(_example(tmp_path))
    posts = {c.index: c.post for c in cards if c.post is not None}
    assert sorted(posts) == [2, 4, 7, 9, 10, 11]
    first = posts[2]
    assert first.text.splitlines() == [
        f"佐藤 花子さん（@hanako_ml）による「{FIRST_TALK}」が始まりました！",
        "#mlct",
        "https://mlct.example.com/events/20",
    ]
    assert first.weight == weighted_length(first.text) <= MAX_WEIGHT
    assert posts[9].text.startswith("LT：伊藤 翔さん（@sho_ito）による")


# ---------------------------------------------------------------- on the show


async def _rehearse_with(
    sim: SimulatedOBS,  # noqa: F811
    cfg: EventConfig,
    tmp_path: Path,
    script: Callable[[ShowSession, asyncio.Queue[SessionState]], Any],
    **options: Any,
) -> Any:
    """A rehearsal on the simulated OBS; `script` reads the states and sends commands."""
    from tests.sim_fixtures import seed_event

    seed_event(sim, cfg)
    outcome: list[Any] = []

    def on_session(session: ShowSession) -> None:
        @contextlib.asynccontextmanager
        async def surface(s: ShowSession) -> AsyncIterator[None]:
            states: asyncio.Queue[SessionState] = asyncio.Queue()

            async def feed() -> None:
                async for state in s.feed():
                    states.put_nowait(state)

            async def run() -> None:
                outcome.append(await script(s, states))

            follower = s.spawn(feed(), "test feed", with_show=False)
            s.spawn(run(), "test script")
            yield
            await follower

        session.attach("test surface", surface)

    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    report = await asyncio.wait_for(
        rehearse(
            cfg,
            RehearsalOptions(obs=obs, journal=tmp_path / "r.jsonl", **options),
            on_session=on_session,
        ),
        60,
    )
    assert report.problems == []
    return outcome[0]


async def _until(
    states: asyncio.Queue[SessionState], ok: Callable[[SessionState], bool]
) -> SessionState:
    while True:
        state = await asyncio.wait_for(states.get(), 10)
        if ok(state):
            return state


def _resume(state: SessionState) -> str:
    """The time the on-air break card says the show resumes, checked against the state."""
    assert state.cards is not None
    assert state.cards.on_air is not None
    line = next(x for x in state.cards.on_air.intro.splitlines() if x.startswith("再開は"))
    said = line.removeprefix("再開は").removesuffix("の予定です。")
    following = next(v for v in state.show.slots if v.index == BREAK + 1)
    expected = datetime.fromisoformat(following.expected_start)
    assert said == expected.strftime("%H:%M")  # the engine's expected time, to the minute
    return said


def _minutes(hm: str) -> int:
    hours, minutes = hm.split(":")
    return int(hours) * 60 + int(minutes)


async def test_the_break_card_resume_time_follows_an_extension_and_a_hold(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _example(tmp_path)

    async def script(session: ShowSession, states: asyncio.Queue[SessionState]) -> list[str]:
        def on_break(state: SessionState) -> bool:
            return state.show.on_air is not None and state.show.on_air.kind == "break"

        seen = [_resume(await _until(states, on_break))]
        assert (await session.submit({"command": "extend", "minutes": 3}, source="api")).ok
        seen.append(_resume(await _until(states, lambda s: on_break(s) and _resume(s) != seen[0])))
        # A hold of 4 show minutes moves it again (the break's min may absorb a part).
        assert (await session.submit({"command": "hold"}, source="api")).ok
        held_at = datetime.fromisoformat((await _until(states, lambda s: s.show.held)).show.now)
        await _until(
            states,
            lambda s: (datetime.fromisoformat(s.show.now) - held_at).total_seconds() >= 240,
        )
        assert (await session.submit({"command": "resume"}, source="api")).ok
        seen.append(_resume(await _until(states, lambda s: on_break(s) and not s.show.held)))
        # What a surface gets as JSON says the same.
        card = session.state.to_json()["cards"]["on_air"]
        assert f"再開は{seen[-1]}の予定です。" in card["intro"]
        assert (await session.submit({"command": "end"}, source="api")).ok
        return seen

    planned, extended, after_hold = await _rehearse_with(
        sim, cfg, tmp_path, script, speed=60, from_slot=BREAK
    )
    assert planned == "20:25"
    assert _minutes(extended) == _minutes(planned) + 3
    assert _minutes(after_hold) > _minutes(extended)


async def test_the_state_carries_the_cards_and_post_of_the_slot_on_air_and_the_next(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _example(tmp_path)

    async def script(session: ShowSession, states: asyncio.Queue[SessionState]) -> dict[str, Any]:
        await _until(
            states, lambda s: s.show.on_air is not None and s.show.on_air.title == FIRST_TALK
        )
        plain = json.loads(json.dumps(session.state.to_json(), ensure_ascii=False))
        assert (await session.submit({"command": "end"}, source="api")).ok
        return plain

    state = await _rehearse_with(sim, cfg, tmp_path, script, speed=30, from_slot=2)
    on_air, nxt = state["cards"]["on_air"], state["cards"]["next"]
    assert (on_air["index"], on_air["kind"], on_air["title"]) == (2, "talk", FIRST_TALK)
    assert on_air["intro"].startswith("続いては、Example AI Lab の佐藤 花子さんによる")
    assert on_air["outro"] == "佐藤 花子さん、ありがとうございました！"
    assert on_air["post"]["text"].startswith("佐藤 花子さん（@hanako_ml）による")
    assert on_air["post"]["weight"] <= MAX_WEIGHT
    assert parse_qs(urlsplit(on_air["post"]["intent_url"]).query)["text"] == [
        on_air["post"]["text"]
    ]
    assert (nxt["index"], nxt["kind"]) == (3, "qa")
    assert nxt["intro"].startswith("それでは質疑応答に移ります。")
    assert nxt["post"] is None


# ------------------------------------------------------------------------ CLI


def test_showcaller_cards_prints_the_evening_in_japanese(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["cards", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Machine Learning Casual Talks #20 — MC カード\n")
    assert f"## 3. 19:35 発表 — {FIRST_TALK}（佐藤 花子）" in out
    assert "> 再開は20:25の予定です。" in out
    assert "**投稿案** (" in out
    assert out.count("\n## ") == 13  # every slot has its card
    # -o writes the same document to a file.
    target = tmp_path / "cards.md"
    assert main(["cards", str(EXAMPLE), "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out
    assert out == cards_markdown(load_config(EXAMPLE))


def test_showcaller_cards_on_a_bad_file_says_where_and_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "event.toml"
    path.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace(
            "[posts]", '[cards.break]\nintro = "${resum}"\n[posts]'
        ),
        encoding="utf-8",
    )
    assert main(["cards", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err
    assert "cards.break.intro: unknown placeholder ${resum} (did you mean ${resume}?)" in err


# ------------------------------------------------------------------ dashboard


def _board(on_air: int, *, width: int = 80, height: int = 24, **show: Any) -> str:
    from tests.test_dashboard import CFG, _draw, _state

    state = _state(on_air=on_air, **show)
    state = dataclasses.replace(state, cards=cards_view(CFG, state.show))
    screen, _ = _draw(state, width=width, height=height)
    assert len(screen) == height
    assert all(cell_len(line) <= width for line in screen)
    return "\n".join(screen)


def test_the_dashboard_shows_what_to_say_now_and_for_the_next_slot() -> None:
    # Three minutes into the first talk: its outro, and the Q&A's intro.
    text = _board(2)
    assert "at end #3 佐藤 花子さん、ありがとうございました！" in text
    assert "next #4 それでは質疑応答に移ります。" in text
    # In its first minute a break shows its intro, with the delayed resume time
    # (65 s late: the talk after it is expected at 20:26, planned at 20:25).
    from tests.test_dashboard import CFG

    start = CFG.slots_resolved()[BREAK].start + timedelta(seconds=65 + 20)
    text = _board(BREAK, now=start.isoformat(), width=120)
    assert "MC start #7 ここで10分間の休憩に入ります。 再開は20:26の予定です。" in text
    # A tall terminal shows intro and outro both, and the post draft.
    tall = _board(2, width=160, height=50)
    assert "MC start #3 続いては、Example AI Lab の佐藤 花子さんによる" in tall
    assert "at end #3 佐藤 花子さん、ありがとうございました！" in tall
    assert "post (108/280) 佐藤 花子さん（@hanako_ml）による" in tall
