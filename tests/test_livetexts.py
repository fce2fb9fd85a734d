"""The scene texts attachment: countdowns and the next title while their scene is on air."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from showcaller.config import OBS, load_config
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.connect import SIM
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.session import ShowSession
from showcaller.show.state import ShowState, SlotView
from showcaller.stage.textfields import clock_text, live_values
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
BREAK = 6  # the example's break, counted from 0


def _config(tmp_path: Path, language: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'language = "ja"', f'language = "{language}"'
    )
    path = tmp_path / "event.toml"
    path.write_text(text.replace('transition = "Fade"', 'transition = "Cut"'), encoding="utf-8")
    return path


async def _rehearse_break(path: Path, sample: float, *, remove_countdown: bool = False) -> tuple:
    """Rehearse from the break at ×60 on the built-in sim; what the break's texts showed."""
    cfg = load_config(path)
    seen: dict[str, list[str]] = {"Break Countdown": [], "Break Next Title": [], "Standby": []}
    messages: list[str] = []

    @contextlib.asynccontextmanager
    async def sampler(session: ShowSession) -> AsyncIterator[None]:
        async def run() -> None:
            gw = session.gateway
            feed = session.feed()
            async for state in feed:  # until the break is on air
                if state.show.on_air is not None and state.show.on_air.kind == "break":
                    break
            feed.close()
            loop = asyncio.get_running_loop()
            until = loop.time() + sample
            while loop.time() < until:
                for name in ("Break Countdown", "Break Next Title"):
                    with contextlib.suppress(Exception):
                        seen[name].append((await gw.input_settings(name)).get("text", ""))
                seen["Standby"].append(
                    (await gw.input_settings("Standby Countdown")).get("text", "")
                )
                await asyncio.sleep(0.05)
            if remove_countdown:
                await gw.remove_input("Break Countdown")
                await asyncio.sleep(1.0)  # many ticks, each failing
            messages.extend(m.text for m in session.show.messages)
            await session.submit({"command": "end"}, source="api")

        session.spawn(run(), "sampler")
        yield

    report = await rehearse(
        cfg,
        RehearsalOptions(
            obs=OBS.model_validate({"url": SIM}),
            speed=60,
            from_slot=BREAK,
            journal=path.with_suffix(".jsonl"),
        ),
        on_session=lambda s: s.attach("sampler", sampler),
    )
    return seen, messages, report


def _seconds(text: str) -> int:
    m = re.search(r"(\d+):(\d\d)$", text)
    assert m, text
    return int(m.group(1)) * 60 + int(m.group(2))


async def test_the_break_counts_down_to_the_next_slot_and_names_it(tmp_path: Path) -> None:
    seen, _, report = await _rehearse_break(_config(tmp_path, "ja"), sample=1.2)
    counts = [t for t in seen["Break Countdown"] if t]
    assert all(t.startswith("再開まで ") for t in counts), counts
    values = [_seconds(t) for t in counts]
    assert len(set(values)) >= 5, values  # ×60: about a minute of show per real second
    assert values == sorted(values, reverse=True)
    # The break is 10 minutes long; the first sample may still be the text written just
    # before it went on air (with the lead-in of 1 s × 60 still to go).
    assert 540 < values[0] <= 660
    assert values[-1] < 600
    assert set(seen["Break Next Title"]) == {"次: Evaluating RAG without ground truth"}
    # Only the scenes on air or next are written: the standby's countdown stays as it was.
    assert set(seen["Standby"]) == {""}
    assert report.problems == []


async def test_english_texts_and_one_warning_when_an_input_goes_away(tmp_path: Path) -> None:
    seen, messages, report = await _rehearse_break(
        _config(tmp_path, "en"), sample=0.6, remove_countdown=True
    )
    assert any(t.startswith("Back in ") for t in seen["Break Countdown"]), seen
    assert set(seen["Break Next Title"]) == {"Next: Evaluating RAG without ground truth"}
    failed = [m for m in messages if m.startswith("scene texts not updated")]
    assert len(failed) == 1, messages
    assert "Break Countdown" in failed[0]
    assert report.problems == []  # a countdown is not worth failing a rehearsal for


def _slot(index: int, kind: str, start: str, title: str = "t") -> SlotView:
    return SlotView(index, kind, title, (), kind.title(), start, start, start, start, "upcoming")


@pytest.mark.parametrize(("held", "shown"), [(False, "4:50"), (True, "5:00")])
def test_the_time_left_counts_on_from_the_published_state_unless_held(
    tmp_path: Path, held: bool, shown: str
) -> None:
    cfg = load_config(_config(tmp_path, "en"))
    published = datetime(2026, 12, 10, 11, 0, 0, tzinfo=UTC)
    nxt = _slot(1, "talk", "2026-12-10T11:10:00+00:00", "Next one")
    state = ShowState(
        "t", "rehearsal", "on_air", published.isoformat(), _slot(0, "break", "x"), nxt, 300.0,
        60.0, 0.0, held, False, "Break", False, "", (nxt,), (), 1,
    )  # fmt: skip
    values = live_values(cfg, state, published.replace(second=10))
    assert values["countdown.remaining"] == shown
    assert values["countdown.next"] == "Back in 9:50"
    assert values["countdown.start"] == "Starting in 9:50"
    assert values["next.title"] == "Next: Next one"
    assert clock_text(3725.2) == "1:02:06"


async def test_a_shared_scene_shows_only_the_feeds_of_its_slot_s_speakers(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "ja"))
    shown: dict[int, set[str]] = {}

    async def visible(session: ShowSession) -> set[str]:
        items = await session.gateway.scene_items("Talk")
        feeds = {n for sp in cfg.speakers for n in (sp.video_input, sp.audio_input) if n}
        return {i.source_name for i in items if i.enabled and i.source_name in feeds}

    @contextlib.asynccontextmanager
    async def sampler(session: ShowSession) -> AsyncIterator[None]:
        async def run() -> None:
            want = {
                2: {"Speaker 1 Video", "Speaker 1 Audio"},
                4: {"Speaker 2 Video", "Speaker 2 Audio"},
            }
            for index, feeds in want.items():
                async with asyncio.timeout(5):
                    while True:  # the feeds switch before the slot and while it is on air
                        on_air = session.show.state.on_air
                        now = await visible(session)
                        if on_air is not None and on_air.index == index and now == feeds:
                            shown[index] = now
                            break
                        await asyncio.sleep(0.02)
            await session.submit({"command": "end"}, source="api")

        session.spawn(run(), "sampler")
        yield

    report = await rehearse(
        cfg,
        RehearsalOptions(
            obs=OBS.model_validate({"url": SIM}),
            speed=600,  # a talk and its Q&A: 2 s
            from_slot=2,
            journal=tmp_path / "r.jsonl",
        ),
        on_session=lambda s: s.attach("sampler", sampler),
    )
    assert set(shown) == {2, 4}, report.warnings
    assert report.problems == []


async def test_a_slow_obs_for_the_feeds_never_delays_a_cue(tmp_path: Path) -> None:
    from showcaller.obs.client import OBSClient
    from showcaller.obs.gateway import OBSGateway
    from showcaller.obs.sim import SimulatedOBS
    from showcaller.stage.needs import needs_of
    from showcaller.stage.provision import provision

    cfg = load_config(_config(tmp_path, "ja"))
    async with SimulatedOBS(password="pw", record_dir=tmp_path / "rec") as obs:
        async with OBSClient(obs.url, "pw") as client:
            _, outcome = await provision(OBSGateway(client), cfg)
        assert outcome.failed == ()
        obs.use_cases.seed_show(needs_of(cfg))
        # Only the feeds attachment sends SetSceneItemEnabled: each takes a second to answer.
        obs.faults.delay("SetSceneItemEnabled", 1.0)
        report = await rehearse(
            cfg,
            RehearsalOptions(
                obs=OBS.model_validate({"url": obs.url, "password": "pw"}),
                speed=300,
                from_slot=9,  # three lightning talks in one scene, then the closing: 5 s
                journal=tmp_path / "r.jsonl",
            ),
        )
        switched = obs.requests_seen["SetSceneItemEnabled"]
    assert report.ended
    assert switched > 0  # the feeds were being switched all along
    late = [c.sent - c.deadline for c in report.cues]
    # 0.1 s of real time is 30 s of show at ×300: a cue held up by a feed switch would show.
    assert max(late) < 30, late
    assert report.problems == []


async def test_after_obs_restarts_the_texts_and_feeds_are_written_again(tmp_path: Path) -> None:
    # A restarted OBS shows its last saved scene collection: an unchanged next title, or
    # another speaker's feed left visible, must not stay that way.
    from showcaller.obs.client import OBSClient
    from showcaller.obs.gateway import OBSGateway
    from showcaller.obs.sim import SimulatedOBS
    from showcaller.stage.needs import needs_of
    from showcaller.stage.provision import provision

    cfg = load_config(_config(tmp_path, "ja"))
    next_title = cfg.slots_resolved()[BREAK + 1].title
    got: dict[str, object] = {}
    async with SimulatedOBS(password="pw", record_dir=tmp_path / "rec") as obs:
        async with OBSClient(obs.url, "pw") as client:
            _, outcome = await provision(OBSGateway(client), cfg)
        assert outcome.failed == ()
        obs.use_cases.seed_show(needs_of(cfg))
        model = obs.model

        def title() -> object:
            return model.inputs["Break Next Title"].settings.get("text")

        def talk_feeds() -> set[str]:
            scene = model.find_scene("Talk")
            assert scene is not None
            return {i.source_name for i in scene.items if i.enabled and "Speaker" in i.source_name}

        async def until(check: object, within: float) -> bool:
            async with asyncio.timeout(within):
                while not check():  # type: ignore[operator]  # noqa: ASYNC110 - polls the sim model
                    await asyncio.sleep(0.02)
            return True

        @contextlib.asynccontextmanager
        async def crash(session: ShowSession) -> AsyncIterator[None]:
            async def run() -> None:
                await until(lambda: next_title in str(title()), 10)
                wanted = talk_feeds()  # the next talk's speaker only, while the break is on
                # What an OBS that lost its last changes would show, then the restart:
                model.inputs["Break Next Title"].settings["text"] = "stale"
                scene = model.find_scene("Talk")
                assert scene is not None
                for item in scene.items:
                    if "Speaker" in item.source_name:
                        item.enabled = True
                await obs.faults.restart(0.2)
                got["title"] = await until(lambda: next_title in str(title()), 5)
                got["feeds"] = await until(lambda: talk_feeds() == wanted, 5)
                await session.submit({"command": "end"}, source="api")

            session.spawn(run(), "crash")
            yield

        report = await rehearse(
            cfg,
            RehearsalOptions(
                obs=OBS.model_validate({"url": obs.url, "password": "pw"}),
                speed=20,  # the 10-minute break lasts 30 s: time for the restart
                from_slot=BREAK,
                journal=tmp_path / "r.jsonl",
            ),
            on_session=lambda s: s.attach("crash", crash),
        )
    assert got == {"title": True, "feeds": True}, report.warnings


async def test_obs_not_answering_is_said_once_by_the_session_not_by_the_countdown(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # At 80×24 the dashboard shows one message: while OBS does not answer, that line must
    # be the session's "OBS が応答しません", not the countdown's technical failure (seen
    # living the night with a SIGSTOPped OBS). The countdown goes on once OBS answers.
    path = _config(tmp_path, "ja")
    cfg = load_config(path)
    seed_event(sim, cfg)
    countdowns: list[str] = []
    messages: list[str] = []

    @contextlib.asynccontextmanager
    async def staller(session: ShowSession) -> AsyncIterator[None]:
        async def run() -> None:
            feed = session.feed()
            async for state in feed:  # until the break is on air
                if state.show.on_air is not None and state.show.on_air.kind == "break":
                    break
            feed.close()
            await asyncio.sleep(0.5)
            sim.faults.stall()
            # Past the 2 s after which OBS is "not answering", and past the client's 5 s
            # request timeout: the countdown's write fails.
            await asyncio.sleep(6.0)
            sim.faults.unstall()
            await asyncio.sleep(1.5)
            countdowns.append(sim.model.inputs["Break Countdown"].settings.get("text", ""))
            await asyncio.sleep(1.0)
            countdowns.append(sim.model.inputs["Break Countdown"].settings.get("text", ""))
            messages.extend(m.text for m in session.show.messages)
            await session.submit({"command": "end"}, source="api")

        session.spawn(run(), "staller")
        yield

    await rehearse(
        cfg,
        RehearsalOptions(
            obs=OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD}),
            speed=30,  # the 10-minute break lasts 20 real seconds
            from_slot=BREAK,
            journal=path.with_suffix(".jsonl"),
        ),
        on_session=lambda s: s.attach("staller", staller),
    )
    assert sum(m.startswith("OBS が応答しません") for m in messages) == 1, messages
    assert not [m for m in messages if m.startswith("scene texts")], messages
    assert all(t.startswith("再開まで ") for t in countdowns), countdowns
    assert _seconds(countdowns[1]) < _seconds(countdowns[0]), countdowns  # counting again
