"""Scene templates and `showcaller provision`, on the simulated OBS over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import filecmp
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from showcaller import errors
from showcaller.cli import main
from showcaller.config import EventConfig, load_config
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.images import Image
from showcaller.obs.sim import SimulatedOBS
from showcaller.stage.provision import MARK, apply, plan
from showcaller.stage.templates import builtin_dir, builtin_templates, load_templates
from showcaller.stage.textfields import bindings
from tests.sim_fixtures import SIM_PASSWORD, sim  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
ROLES = ("standby", "opening", "talk", "lt", "break", "qa", "closing", "trouble")


@pytest.fixture
def cfg() -> EventConfig:
    return load_config(EXAMPLE)


@contextlib.asynccontextmanager
async def gateway_for(obs: SimulatedOBS) -> AsyncIterator[OBSGateway]:
    async with OBSClient(obs.url, SIM_PASSWORD) as client:
        yield OBSGateway(client)


async def provisioned(gw: OBSGateway, cfg: EventConfig, **kw: Any) -> list[str]:
    """Plan and apply; the lines of the plan's changes."""
    the_plan = await plan(gw, cfg, **kw)
    outcome = await apply(gw, the_plan.changes)
    assert outcome.failed == ()
    return [str(s) for s in the_plan.changes]


def mean_rgb(img: Image, box: tuple[float, float, float, float]) -> tuple[float, float, float]:
    x0, y0 = int(box[0] * img.width), int(box[1] * img.height)
    x1, y1 = int((box[0] + box[2]) * img.width), int((box[1] + box[3]) * img.height)
    px = [img.pixel(x, y) for y in range(y0, y1) for x in range(x0, x1)]
    return tuple(sum(p[i] for p in px) / len(px) for i in range(3))  # type: ignore[return-value]


def region(img: Image, box: tuple[float, float, float, float]) -> bytes:
    x0, y0 = int(box[0] * img.width), int(box[1] * img.height)
    x1, y1 = int((box[0] + box[2]) * img.width), int((box[1] + box[3]) * img.height)
    return bytes(c for y in range(y0, y1) for x in range(x0, x1) for c in img.pixel(x, y))


# ------------------------------------------------------------------------- templates


def test_the_top_level_scenes_folder_is_the_package_s() -> None:
    top = ROOT / "scenes"
    package = builtin_dir()
    names = sorted(p.name for p in top.glob("*.toml"))
    assert names == sorted(p.name for p in package.glob("*.toml"))
    assert {f"{r}.toml" for r in ROLES if r != "lt"} | {"lt.toml"} <= set(names)
    _, mismatch, missing = filecmp.cmpfiles(top, package, names, shallow=False)
    assert mismatch == []
    assert missing == []


def test_every_role_has_a_template_and_every_text_says_what_fills_it() -> None:
    templates = builtin_templates()
    assert {t.role for t in templates if t.role} == set(ROLES)
    for t in templates:
        for item in t.items:
            if item.kind in ("text", "timer"):
                assert item.fill or item.text, (t.name, item.input)


def test_a_bad_template_is_located_by_file_item_and_field(tmp_path: Path) -> None:
    (tmp_path / "talk.toml").write_text(
        'role = "talk"\n[[item]]\ninput = "Bar"\nkind = "color"\nbox = [0, 0, 2, 1]\n'
        '[[item]]\ninput = "Name"\nkind = "text"\nfill = "speaker.nmae"\n',
        encoding="utf-8",
    )
    with pytest.raises(errors.ConfigError) as caught:
        load_templates(tmp_path)
    lines = [str(p) for p in caught.value.problems]
    assert any("talk.toml: item 1: box must be" in line for line in lines), lines
    assert any("talk.toml: item 2: fill 'speaker.nmae' is not one of" in line for line in lines)


def test_the_lower_third_inputs_are_the_ones_the_config_names(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'speaker_input = "Lower Third Name"', 'speaker_input = "登壇者名"'
    )
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    found = {b.field: b for b in bindings(load_config(path), builtin_templates())}
    assert found["speakers"].input == "登壇者名"
    assert "Talk" in found["speakers"].scenes
    assert "Lightning Talk" in found["speakers"].scenes
    assert found["countdown.next"].scenes == ("Break",)


# ------------------------------------------------------------------------- provision


@pytest.mark.parametrize("canvas", [(1280, 720), (1920, 1080)])
async def test_a_fresh_obs_gets_every_scene_then_a_second_run_has_nothing_to_do(
    cfg: EventConfig, tmp_path: Path, canvas: tuple[int, int]
) -> None:
    async with (
        SimulatedOBS(password=SIM_PASSWORD, canvas=canvas, record_dir=tmp_path) as obs,
        gateway_for(obs) as gw,
    ):
        changes = await provisioned(gw, cfg)
        assert changes, "a fresh OBS needs everything"
        scenes = set(await gw.scene_names())
        assert {cfg.scenes.scene_for(r) for r in ROLES} <= scenes
        assert "Lower Third" in scenes
        inputs = {i.name for i in await gw.inputs()}
        assert {"Lower Third Name", "Break Countdown", "Standby Countdown"} <= inputs
        assert {s.video_input for s in cfg.speakers} <= inputs
        again = await plan(gw, cfg)
        assert again.changes == ()
        talk = [i.source_name for i in await gw.scene_items("Talk")]
        assert talk[0] == "Talk Background"
        assert talk[-1] == "Lower Third"
        # Sizes follow the canvas: the lower third's bar starts at 80 % of its height.
        await gw.set_text("Lower Third Name", "Yui Suzuki (Kyoto University)")
        shot = await gw.screenshot("Talk", 160, 90, image_format="png")
        bar = (30, 58, 138)
        assert shot.pixel(150, int(0.83 * 90)) == bar
        assert shot.pixel(150, int(0.78 * 90)) != bar


async def test_what_the_host_made_is_kept_and_force_takes_it_over(
    sim: SimulatedOBS,  # noqa: F811
    cfg: EventConfig,
) -> None:
    sim.seed(["Talk"], [("Lower Third Name", "text_ft2_source_v2", "Talk")])
    async with gateway_for(sim) as gw:
        await gw.set_input_settings("Lower Third Name", {"text": "the host's", "font": {"size": 9}})
        before = await gw.scene_items("Talk")
        the_plan = await plan(gw, cfg)
        lines = [str(s) for s in the_plan.steps]
        assert any(
            "keep    scene  Talk" in line and "made by the host" in line for line in lines
        ), lines
        assert any("keep    input  Lower Third Name" in line for line in lines)
        await apply(gw, the_plan.changes)
        assert [i.source_name for i in await gw.scene_items("Talk")] == [
            i.source_name for i in before
        ]
        _kind, settings = await gw.input_kind_and_settings("Lower Third Name")
        assert settings == {"text": "the host's", "font": {"size": 9}}
        assert MARK not in settings
        # The other scenes are built; the Lower Third part shows the host's input.
        assert "Lower Third Name" in [i.source_name for i in await gw.scene_items("Lower Third")]

        forced = await provisioned(gw, cfg, force=True)
        assert any("Lower Third Name" in c and "--force" in c for c in forced), forced
        _, settings = await gw.input_kind_and_settings("Lower Third Name")
        assert settings[MARK]["template"] == "lower-third"
        assert settings["text"] == "the host's"  # a text the show fills is never rewritten
        assert "Talk Background" in [i.source_name for i in await gw.scene_items("Talk")]
        assert (await plan(gw, cfg)).changes == ()


async def test_a_moved_item_and_a_changed_setting_of_showcaller_s_are_put_back(
    sim: SimulatedOBS,  # noqa: F811
    cfg: EventConfig,
) -> None:
    async with gateway_for(sim) as gw:
        await provisioned(gw, cfg)
        bar = next(i for i in await gw.scene_items("Break") if i.source_name == "Break Countdown")
        await gw.set_item_transform("Break", bar.item_id, {"positionX": 5.0})
        await gw.set_input_settings("Break Background", {"color": 0xFF00FF00})
        await gw.set_text("Break Countdown", "再開まで 3:00")
        changes = await provisioned(gw, cfg)
        assert len(changes) == 2, changes
        assert "moved: positionX" in changes[1]
        assert "changed: color" in changes[0]
        _, settings = await gw.input_kind_and_settings("Break Countdown")
        assert settings["text"] == "再開まで 3:00"


async def test_an_obs_without_a_browser_source_gets_text_and_media_fallbacks(
    sim: SimulatedOBS,  # noqa: F811
    cfg: EventConfig,
) -> None:
    sim.model.input_kinds.remove("browser_source")
    async with gateway_for(sim) as gw:
        the_plan = await plan(gw, cfg)
        assert any("Speaker Timer" in n and "text_ft2_source_v2" in n for n in the_plan.notes)
        assert (await apply(gw, the_plan.changes)).failed == ()
        kinds = {i.name: i.kind for i in await gw.inputs()}
        assert kinds["Speaker Timer"] == "text_ft2_source_v2"
        assert kinds["Speaker 1 Video"] == "ffmpeg_source"
        # Where OBS has one, the timer is the web app's page as a browser source.
        sim.model.input_kinds.append("browser_source")
        forced = await provisioned(gw, cfg, force=True)
        assert any("Speaker Timer" in c and "replaced by a browser_source" in c for c in forced)
        _, settings = await gw.input_kind_and_settings("Speaker Timer")
        assert settings["url"] == f"http://127.0.0.1:{cfg.web.port}/timer?transparent=1"


async def test_provision_killed_half_way_completes_on_the_rerun(
    sim: SimulatedOBS,  # noqa: F811
    cfg: EventConfig,
) -> None:
    created = 0
    emit = sim.model.emit

    def count(event_type: str, data: dict[str, Any]) -> None:
        nonlocal created
        emit(event_type, data)
        if event_type == "InputCreated":
            created += 1
            if created == 12:
                sim.faults.drop()  # OBS gone between an input's creation and its placement

    sim.model.emit = count
    with pytest.raises(errors.OBSConnectionError):
        async with gateway_for(sim) as gw:
            await apply(gw, (await plan(gw, cfg)).changes)
    sim.model.emit = emit
    assert 12 <= len(sim.model.inputs) < 40
    async with gateway_for(sim) as gw:
        rest = await provisioned(gw, cfg)
        assert rest
        assert not any("Lower Third Bar" in line for line in rest)
        assert (await plan(gw, cfg)).changes == ()
        assert len({i.name for i in await gw.inputs()}) == len(sim.model.inputs)


async def test_the_talk_scene_shows_the_speaker_s_name_in_the_lower_third(
    sim: SimulatedOBS,  # noqa: F811
    cfg: EventConfig,
) -> None:
    lower_third = (0.03, 0.81, 0.70, 0.075)  # the name's box in lower-third.toml
    async with gateway_for(sim) as gw:
        await provisioned(gw, cfg)
        await gw.set_text("Lower Third Name", "")
        empty = await gw.screenshot("Talk", 320, 180, image_format="png")
        await gw.set_text("Lower Third Name", "Yui Suzuki (Kyoto University)")
        named = await gw.screenshot("Talk", 320, 180, image_format="png")
        await gw.set_text("Lower Third Name", "Ren Watanabe")
        other = await gw.screenshot("Talk", 320, 180, image_format="png")
    assert region(empty, lower_third) != region(named, lower_third)
    assert region(named, lower_third) != region(other, lower_third)
    # The name brightens the bar where it stands, and nothing above the lower third moves.
    assert sum(mean_rgb(named, lower_third)) > sum(mean_rgb(empty, lower_third))
    assert region(empty, (0, 0, 1, 0.75)) == region(named, (0, 0, 1, 0.75))


# ------------------------------------------------------------------------------- CLI


async def test_the_command_prints_a_plan_then_says_nothing_to_do(
    sim: SimulatedOBS,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", SIM_PASSWORD)
    argv = ["provision", str(EXAMPLE), "--obs", sim.url]
    assert await asyncio.to_thread(main, [*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "create  scene  Talk" in out
    assert "dry run: " in out
    assert "Talk" not in sim.model.scenes[-1].name  # the dry run sent nothing
    assert await asyncio.to_thread(main, argv) == 0
    assert "done: " in capsys.readouterr().out
    assert await asyncio.to_thread(main, argv) == 0
    out = capsys.readouterr().out
    assert "nothing to do" in out
    assert "create" not in out


async def test_the_simulated_obs_of_a_rehearsal_starts_provisioned(cfg: EventConfig) -> None:
    from showcaller.obs.connect import SIM, open_obs
    from showcaller.stage.provision import sim_seed

    async with open_obs(SIM, None, seed=sim_seed(cfg)) as conn:
        items = [i.source_name for i in await conn.gateway.scene_items("Talk")]
        assert "Talk Background" in items
        assert "Speaker 1 Video" in items
        # The speakers' feeds carry the simulated picture: the talk scene shows it.
        shot = await conn.gateway.screenshot("Speaker 1 Video", 32, 18, image_format="png")
        assert max(shot.rgb) > 40
        assert (await plan(conn.gateway, cfg)).changes == ()


def test_an_obs_kind_of_a_template_falls_back_when_this_obs_lacks_it(
    cfg: EventConfig, tmp_path: Path
) -> None:
    from showcaller.stage.provision import wanted

    (tmp_path / "talk.toml").write_text(
        'role = "talk"\n[[item]]\ninput = "Call"\nkind = "ndi_source"\nfallback = "media"\n'
        "box = [0, 0, 1, 1]\n",
        encoding="utf-8",
    )
    templates = load_templates(tmp_path)
    with_ndi = wanted(cfg, (1280, 720), ["ndi_source", "ffmpeg_source"], templates)
    assert with_ndi.inputs["Call"].kind == "ndi_source"
    assert with_ndi.notes == ()
    without = wanted(cfg, (1280, 720), ["ffmpeg_source", "color_source_v3"], templates)
    assert without.inputs["Call"].kind == "ffmpeg_source"
    assert without.notes == (
        "'Call': this OBS has no input kind ndi_source: using a ffmpeg_source instead",
    )
    nothing = wanted(cfg, (1280, 720), ["color_source_v3"], templates)
    assert "Call" not in nothing.inputs
    assert nothing.scenes[0].items == ()
    assert any("no input kind for a ndi_source: left out" in n for n in nothing.notes)
