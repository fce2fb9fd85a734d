"""The scene templates on a real headless OBS 29: provision twice, then rehearse on them.

A fresh OBS (no browser source on Debian) gets the whole set; a second run has nothing
to do; during a rehearsal the talk scene shows the speaker's name where the lower third
stands, and the break's countdown (the text fallback showcaller keeps current) moves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from showcaller.config import OBS, load_config
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.images import Image
from showcaller.show.session import ShowSession
from showcaller.stage.provision import apply, plan
from tests.realobs import HeadlessOBS

pytestmark = pytest.mark.realobs

NAME_BOX = (0.03, 0.81, 0.70, 0.075)  # lower-third.toml: the speaker's name
COUNTDOWN_BOX = (0.08, 0.40, 0.84, 0.12)  # break.toml: the countdown
SPEED = 30


def _event(path: Path) -> Path:
    path.write_text(
        f"""
[event]
title = "Scenes on real OBS"
date = {date.today().isoformat()}
timezone = "UTC"
hashtag = "#scenes"
language = "en"

[obs]
transition = "Cut"

[scenes]
standby = "Standby"
opening = "Opening"
talk = "Talk"
lt = "Lightning Talk"
break = "Break"
qa = "Q&A"
closing = "Closing"
trouble = "Technical Difficulties"

[lower_third]
speaker_input = "Lower Third Name"
title_input = "Lower Third Title"
hashtag_input = "Lower Third Hashtag"

[[timetable.slots]]
kind = "standby"
start = "19:00"

[[timetable.slots]]
kind = "talk"
title = "Evaluating RAG without ground truth"
speakers = ["suzuki"]
start = "19:01"
duration = "2m"

[[timetable.slots]]
kind = "break"
duration = "2m"

[[timetable.slots]]
kind = "closing"
duration = "1m"

[[speakers]]
id = "suzuki"
name = "Yui Suzuki"
affiliation = "Kyoto University"
video_input = "Speaker 1 Video"
audio_input = "Speaker 1 Audio"
""",
        encoding="utf-8",
    )
    return path


def _region(img: Image, box: tuple[float, float, float, float]) -> bytes:
    x0, y0 = int(box[0] * img.width), int(box[1] * img.height)
    x1, y1 = int((box[0] + box[2]) * img.width), int((box[1] + box[3]) * img.height)
    return bytes(c for y in range(y0, y1) for x in range(x0, x1) for c in img.pixel(x, y))


async def _shot(gw: OBSGateway, scene: str) -> Image:
    return await gw.screenshot(scene, 320, 180, image_format="png")


async def _until_differs(
    gw: OBSGateway, scene: str, box: tuple[float, float, float, float], old: bytes
) -> bytes:
    """The box's pixels once they differ from `old` (real OBS draws a new text a frame later)."""
    async with asyncio.timeout(3):
        while (now := _region(await _shot(gw, scene), box)) == old:  # noqa: ASYNC110 - OBS sends no event when it draws a frame
            await asyncio.sleep(1 / 30)
    return now


async def test_provision_twice_then_a_rehearsal_shows_the_name_and_the_countdown(
    real_obs: HeadlessOBS, tmp_path: Path
) -> None:
    cfg = load_config(_event(tmp_path / "event.toml"))
    async with OBSClient(real_obs.url, real_obs.password) as client:
        gw = OBSGateway(client)
        first = await plan(gw, cfg)
        assert any("browser source" in n for n in first.notes)  # Debian's OBS has none
        assert (await apply(gw, first.changes)).failed == ()
        assert (await plan(gw, cfg)).changes == ()
        kinds = {i.name: i.kind for i in await gw.inputs()}
        assert kinds["Speaker Timer"] == "text_ft2_source_v2"
        empty_name = _region(await _shot(gw, "Talk"), NAME_BOX)

    seen: dict[str, bytes | str] = {}

    @contextlib.asynccontextmanager
    async def camera(session: ShowSession) -> AsyncIterator[None]:
        async def run() -> None:
            gw = session.gateway
            feed = session.feed()
            async for state in feed:
                kind = state.show.on_air.kind if state.show.on_air else None
                if kind == "talk" and "name" not in seen:
                    seen["name"] = await _until_differs(gw, "Talk", NAME_BOX, empty_name)
                    seen["text"] = (await gw.input_settings("Lower Third Name"))["text"]
                if kind == "break" and "countdown" not in seen:
                    first = _region(await _shot(gw, "Break"), COUNTDOWN_BOX)
                    await asyncio.sleep(0.5)  # 15 s of show at ×30
                    seen["countdown"] = await _until_differs(gw, "Break", COUNTDOWN_BOX, first)
                    await session.submit({"command": "end"}, source="api")
            feed.close()

        session.spawn(run(), "camera")
        yield

    report = await rehearse(
        cfg,
        RehearsalOptions(
            obs=OBS.model_validate({"url": real_obs.url, "password": real_obs.password}),
            speed=SPEED,
            from_slot=0,
            journal=tmp_path / "r.jsonl",
        ),
        on_session=lambda s: s.attach("camera", camera),
    )
    assert seen.get("text") == "Yui Suzuki (Kyoto University)"
    assert seen.get("name") not in (None, empty_name)
    assert "countdown" in seen, report.warnings
    assert report.problems == []
