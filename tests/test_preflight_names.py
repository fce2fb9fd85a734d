"""Preflight: every scene and input the event and the templates name, with "did you mean …?"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from showcaller.cli import main
from showcaller.config import OBS, EventConfig, load_config
from showcaller.errors import UsageError
from showcaller.modes import LiveOptions, live
from showcaller.nearnames import nearest
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.sim import SimulatedOBS
from showcaller.stage.preflight import check_obs
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401 - fixture

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


@pytest.mark.parametrize(
    ("missing", "obs_has", "meant"),
    [
        ("Lightning Talk", ["lightning talk", "Talk"], "lightning talk"),  # case
        ("Q&A", ["Ｑ＆Ａ", "Break"], "Ｑ＆Ａ"),  # full width
        ("ｶﾒﾗ", ["カメラ"], "カメラ"),  # half-width katakana
        ("休憩", ["休憩中", "クロージング"], "休憩中"),  # Japanese, one character off
        ("Speaker 1 Vdeo", ["Speaker 1 Video", "Speaker 2 Video"], "Speaker 1 Video"),  # a typo
        ("Speaker 1 Video", ["Speaker 2 Video"], None),  # another speaker's is no typo
        ("Talk", ["Break", "Closing"], None),
    ],
)
def test_a_near_name_is_suggested_and_a_far_one_is_not(
    missing: str, obs_has: list[str], meant: str | None
) -> None:
    assert nearest(missing, obs_has) == meant


def _rename_scene(obs: SimulatedOBS, old: str, new: str) -> None:
    scene = obs.model.find_scene(old)
    assert scene is not None
    scene.name = new
    if obs.model.program == old:
        obs.model.program = new


async def test_preflight_names_what_is_missing_with_the_name_obs_has(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    cfg = load_config(EXAMPLE)
    seed_event(sim, cfg)
    _rename_scene(sim, "Lightning Talk", "lightning talk")
    sim.model.rename_input(sim.model.inputs["Lower Third Title"], "Lower Third  title")
    sim.model.remove_input("Break Countdown")
    async with OBSClient(sim.url, SIM_PASSWORD) as client:
        checked = await check_obs(cfg, OBSGateway(client))
    assert any(
        "OBS has no scene 'Lightning Talk' — did you mean 'lightning talk'?" in p
        for p in checked.problems
    ), checked.problems
    assert any("did you mean 'Lower Third  title'?" in p for p in checked.problems)
    assert len(checked.hard) == 1  # scenes.lt, said once for the three lightning talks
    # A template's countdown is no problem for the show, but is said.
    assert not any("Break Countdown" in p for p in checked.problems)
    assert any("'Break Countdown'" in w and "provision" in w for w in checked.warnings)


async def test_live_refuses_to_start_when_a_slot_has_no_scene(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = load_config(EXAMPLE)
    seed_event(sim, cfg)
    _rename_scene(sim, "Q&A", "Q＆A")
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    with pytest.raises(UsageError, match="did you mean 'Q＆A'") as caught:
        await live(
            cfg, LiveOptions(obs=obs, journal=tmp_path / "j.jsonl", yes=True), interactive=False
        )
    assert "showcaller provision" in caught.value.hint
    assert sim.requests_seen.get("StartStream", 0) == 0
    assert sim.requests_seen.get("SetCurrentProgramScene", 0) == 0


async def test_validate_with_obs_passes_after_provision_and_fails_with_a_suggestion(
    sim: SimulatedOBS,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", SIM_PASSWORD)
    validate = ["validate", str(EXAMPLE), "--obs", sim.url]
    assert await asyncio.to_thread(main, validate) == 1
    out = capsys.readouterr().out
    assert "OBS has no scene 'Talk'" in out
    assert "`live` would refuse" in out
    assert await asyncio.to_thread(main, ["provision", str(EXAMPLE), "--obs", sim.url]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, validate) == 0
    assert "has every scene and input the event uses" in capsys.readouterr().out


def test_preflight_reads_the_same_needs_as_doctor(tmp_path: Path) -> None:
    # One "needs" function: the templates' live texts are in it, marked soft.
    from showcaller.stage.needs import needs_of

    cfg: EventConfig = load_config(EXAMPLE)
    soft = {t.name for t in needs_of(cfg).texts if t.soft}
    hard = {t.name for t in needs_of(cfg).texts if not t.soft}
    assert {"Standby Countdown", "Break Countdown", "Break Next Title"} <= soft
    assert hard == {"Lower Third Name", "Lower Third Title", "Lower Third Hashtag"}


async def test_doctor_suggests_the_near_name_and_only_notes_unprovisioned_templates(
    sim: SimulatedOBS,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from showcaller.stage.doctor import run_doctor

    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", SIM_PASSWORD)
    cfg = load_config(EXAMPLE)
    seed_event(sim, cfg)
    sim.model.remove_input("Standby Countdown")
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False)
    assert await run_doctor(EXAMPLE, sim.url, console=console, err_console=console) == 0
    assert "not provisioned: 1 text of the scene templates (Standby Countdown)" in out.getvalue()
    _rename_scene(sim, "Break", "break")
    out.truncate(0)
    assert await run_doctor(EXAMPLE, sim.url, console=console, err_console=console) == 1
    assert "missing scene: Break" in out.getvalue()
    assert "did you mean 'break'?" in out.getvalue()
