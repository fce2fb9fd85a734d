"""Contract cases for building scenes (what `provision` relies on), on the sim and real OBS 29.

Same assertions on both, as in test_contract.py: where they disagree, the sim is wrong.
"""

from __future__ import annotations

import asyncio
from typing import Any

from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.images import Image
from showcaller.obs.items import ItemTransform
from tests.test_contract import client, obs  # noqa: F401 - fixtures

RED = 0xFF0000FF  # 0xAABBGGRR
GREEN = 0xFF00FF00
MARK = {"template": "contract", "v": 3}


async def _color(gw: OBSGateway, scene: str, name: str, color: int, w: int, h: int) -> int:
    return await gw.create_input(
        scene, name, "color_source_v3", {"color": color, "width": w, "height": h}
    )


def _near(img: Image, x: float, y: float, rgb: tuple[int, int, int]) -> bool:
    got = img.pixel(int(x * img.width), int(y * img.height))
    return all(abs(a - b) <= 8 for a, b in zip(got, rgb, strict=True))


async def test_input_settings_keep_showcaller_s_mark_through_an_overlay(
    client: OBSClient,  # noqa: F811
) -> None:
    gw = OBSGateway(client)
    settings: dict[str, Any] = {"color": RED, "width": 64, "height": 36, "showcaller": MARK}
    await gw.create_input("Scene", "Marked", "color_source_v3", settings)
    assert await gw.input_kind_and_settings("Marked") == ("color_source_v3", settings)
    await gw.set_input_settings("Marked", {"color": GREEN})
    _, after = await gw.input_kind_and_settings("Marked")
    assert after == {**settings, "color": GREEN}


async def test_the_canvas_and_the_kinds_every_template_uses(
    client: OBSClient,  # noqa: F811
) -> None:
    gw = OBSGateway(client)
    video = await gw.video_settings()
    assert video.base_width > 0
    assert video.base_height > 0
    assert video.fps == 30
    kinds = set(await gw.input_kinds())
    assert {"color_source_v3", "image_source", "ffmpeg_source", "text_ft2_source_v2"} <= kinds


async def test_a_bounded_item_is_drawn_in_its_box_and_reads_back_as_set(
    client: OBSClient,  # noqa: F811
) -> None:
    gw = OBSGateway(client)
    video = await gw.video_settings()
    w, h = video.base_width, video.base_height
    await gw.create_scene("Bounds")
    item = await _color(gw, "Bounds", "Square", RED, 100, 100)
    # A 100×100 square scaled into the left half-box, centred: a square of side h/2.
    box = ItemTransform(
        position_x=w / 8,
        position_y=h / 8,
        bounds_type="OBS_BOUNDS_SCALE_INNER",
        bounds_width=w / 2,
        bounds_height=h / 2,
        bounds_alignment=0,
    )
    await gw.set_item_transform("Bounds", item, box)
    got = await gw.item_transform("Bounds", item)
    assert box.differs(got) == []
    assert got.bounds_type == "OBS_BOUNDS_SCALE_INNER"
    listed = await gw.scene_items("Bounds")
    assert [(i.source_name, i.input_kind, i.enabled) for i in listed] == [
        ("Square", "color_source_v3", True)
    ]
    shot = await gw.screenshot("Bounds", 128, 72, image_format="png")
    centre_x = (w / 8 + w / 4) / w
    assert _near(shot, centre_x, 3 / 8, (255, 0, 0))
    side = (h / 2) / w  # the square's side, as a part of the width
    assert _near(shot, centre_x - side / 2 - 0.04, 3 / 8, (0, 0, 0))  # in the box, beside it
    assert _near(shot, 0.9, 0.9, (0, 0, 0))
    await gw.set_item_enabled("Bounds", item, False)
    hidden = await gw.screenshot("Bounds", 128, 72, image_format="png")
    assert _near(hidden, centre_x, 3 / 8, (0, 0, 0))


async def test_a_scene_shown_in_another_is_see_through_where_it_draws_nothing(
    client: OBSClient,  # noqa: F811
) -> None:
    gw = OBSGateway(client)
    video = await gw.video_settings()
    w, h = video.base_width, video.base_height
    await gw.create_scene("Inner")
    await _color(gw, "Inner", "Corner", GREEN, w // 4, h // 4)
    await gw.create_scene("Outer")
    await _color(gw, "Outer", "Backdrop", RED, w, h)
    await gw.create_scene_item("Outer", "Inner")
    listed = await gw.scene_items("Outer")
    assert [(i.source_name, i.input_kind) for i in listed] == [
        ("Backdrop", "color_source_v3"),
        ("Inner", None),
    ]
    shot = await gw.screenshot("Outer", 64, 36, image_format="png")
    assert _near(shot, 0.1, 0.1, (0, 255, 0))
    assert _near(shot, 0.7, 0.7, (255, 0, 0))


async def test_a_text_in_max_only_bounds_changes_the_pixels_of_its_box_only(
    client: OBSClient,  # noqa: F811
) -> None:
    gw = OBSGateway(client)
    video = await gw.video_settings()
    w, h = video.base_width, video.base_height
    await gw.create_scene("Caption")
    await _color(gw, "Caption", "Caption Bar", RED, w, h)
    font = {"face": "Sans Serif", "size": h // 10, "style": "Regular", "flags": 0}
    item = await gw.create_input(
        "Caption", "Caption Text", "text_ft2_source_v2", {"text": "", "font": font}
    )
    await gw.set_item_transform(
        "Caption",
        item,
        ItemTransform(
            position_x=w / 10,
            position_y=h / 2,
            bounds_type="OBS_BOUNDS_MAX_ONLY",
            bounds_width=w / 2,
            bounds_height=h / 8,
            bounds_alignment=1,
        ),
    )
    box = [(x, y) for y in range(45, 56) for x in range(16, 96)]
    outside = [(x, y) for y in range(40) for x in range(160)]
    empty = await gw.screenshot("Caption", 160, 90, image_format="png")
    assert all(empty.pixel(x, y) == (255, 0, 0) for x, y in box)
    await gw.set_text("Caption Text", "Hello Ada")
    # Real OBS draws a new text with a later frame: look until it shows (or 2 s pass).
    async with asyncio.timeout(2):
        while True:
            named = await gw.screenshot("Caption", 160, 90, image_format="png")
            if any(named.pixel(x, y) != (255, 0, 0) for x, y in box):
                break
            await asyncio.sleep(1 / 30)
    assert [named.pixel(x, y) for x, y in outside] == [empty.pixel(x, y) for x, y in outside]
