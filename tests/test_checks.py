"""Speaker checks: the measurements, `showcaller check` on the sim, checks during a show,
and real OBS telling black, frozen, live, silent and sounding inputs apart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import struct
import subprocess
import sys
import wave
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from showcaller.checks.measure import judge_picture, judge_sound, moved_share
from showcaller.checks.run import SpeakerCheck, meter_tap
from showcaller.config import OBS, EventConfig, load_config
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs import protocol
from showcaller.obs.client import OBSClient
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.images import Image
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.journal import Kind, read_journal
from showcaller.show.session import ShowSession
from showcaller.show.state import CheckResult
from tests.realobs import HeadlessOBS
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
ROOT = EXAMPLE.parent
W, H = 64, 36


def _image(fill: Callable[[int, int], int]) -> Image:
    rgb = bytearray()
    for y in range(H):
        for x in range(W):
            v = max(0, min(255, fill(x, y)))
            rgb += bytes((v, v, v))
    return Image(W, H, bytes(rgb))


# ------------------------------------------------------------------ measurements


def test_a_dark_picture_is_black_and_a_dim_one_is_not() -> None:
    assert judge_picture([_image(lambda x, y: 3)], 0.03).black
    assert not judge_picture([_image(lambda x, y: 40)], 0.03).black


def test_encoder_noise_on_a_still_slide_reads_frozen_and_a_camera_inset_reads_live() -> None:
    rng = random.Random(7)
    slide = [[120 + (x * 3 + y * 5) % 60 for x in range(W)] for y in range(H)]

    def noisy(frame: int) -> Image:
        # Encoder noise: every pixel wobbles a few levels, every frame.
        return _image(lambda x, y: slide[y][x] + rng.randint(-6, 6))

    def with_camera(frame: int) -> Image:
        # The same slide with the speaker's camera in a corner (about a tenth of the frame).
        def fill(x: int, y: int) -> int:
            if x >= W - 20 and y >= H - 12:
                return (x * 17 + y * 11 + frame * 90) % 256
            return slide[y][x] + rng.randint(-6, 6)

        return _image(fill)

    still = judge_picture([noisy(n) for n in range(6)], 0.03)
    assert still.frozen, still
    live = judge_picture([with_camera(n) for n in range(6)], 0.03)
    assert not live.frozen, live
    assert live.moved > 0.05
    # Hashes would call the noisy slide "changed"; pixels do not.
    assert noisy(0).rgb != noisy(1).rgb
    assert moved_share(b"\x10" * 100, b"\x10" * 99 + b"\xff") == pytest.approx(0.01)


def test_sound_is_a_peak_above_silence_and_clipping_is_peaks_at_the_top_for_long() -> None:
    assert judge_sound([-70, -65, -30], -50, -1).sound
    assert not judge_sound([-70, -65, -62], -50, -1).sound
    assert not judge_sound([], -50, -1).sound
    assert judge_sound([-0.5] * 5 + [-20] * 5, -50, -1).clipping
    assert not judge_sound([-0.5] + [-20] * 9, -50, -1).clipping
    assert judge_sound([], -50, -1).peak_db == -math.inf


# ------------------------------------------------------------- `showcaller check`


def _showcaller(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "showcaller", *argv],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_check_on_the_sim_fails_the_broken_speakers_with_hints() -> None:
    proc = _showcaller("check", str(EXAMPLE), "--obs", "sim")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    assert "fail  luma 0/255" in rows["Yui Suzuki"]  # [sim.feeds]: a black picture
    # Nothing is on air before the show: OBS meters no speaker's microphone, so none is
    # judged (issue 18) — 伊藤 翔's silent one is found when his talk goes on air.
    assert "not checked  not on air" in rows["伊藤 翔"]
    assert "fail" not in rows["伊藤 翔"]
    assert "pass" in rows["佐藤 花子"]
    assert "fail" not in rows["佐藤 花子"]
    assert "カメラの開始か画面共有" in out  # the hint, in the event's language
    assert "伊藤 翔さんのマイクは本番に出るまで聞けません" in out
    assert "5 passed, 0 warnings, 1 failed" in out


def test_check_one_speaker_an_unknown_one_and_an_obs_that_is_not_there() -> None:
    one = _showcaller("check", str(EXAMPLE), "--obs", "sim", "--speaker", "sato")
    assert one.returncode == 0, one.stdout + one.stderr
    assert "佐藤 花子" in one.stdout
    assert "田中 健太" not in one.stdout
    unknown = _showcaller("check", str(EXAMPLE), "--obs", "sim", "--speaker", "nobody")
    assert unknown.returncode == 2
    assert "--speaker nobody: no such speaker" in unknown.stderr
    away = _showcaller("check", str(EXAMPLE), "--obs", "ws://127.0.0.1:9")
    assert away.returncode == 3, away.stderr
    assert "Traceback" not in away.stderr


def test_check_several_rooms_each_on_its_own_obs_one_table_per_room(tmp_path: Path) -> None:
    room_b = ROOT / "config.room-b.example.toml"
    both = _showcaller("check", str(EXAMPLE), str(room_b), "--obs", "sim")
    assert both.returncode == 1, both.stdout + both.stderr  # the worst room: a failed check
    out = both.stdout
    assert "[config-example] Machine Learning Casual Talks #20 — speaker checks" in out
    assert "[hall-b] Machine Learning Casual Talks #20 — Room B (hands-on) — speaker checks" in out
    main, hall_b = out.split("[hall-b] Machine Learning")
    assert "Yui Suzuki" in main
    assert "森 大輔" not in main
    assert "森 大輔" in hall_b
    assert "Yui Suzuki" not in hall_b
    assert "room config-example: FAIL: 5 passed, 0 warnings, 1 failed" in out
    assert "room hall-b: OK: 1 passed, 0 warnings, 0 failed" in out
    # Room B's OBS is not there: one line naming it; the main room is still checked.
    away = tmp_path / "away.toml"
    away.write_text(
        room_b.read_text(encoding="utf-8").replace('url = "sim"', 'url = "ws://127.0.0.1:9"'),
        encoding="utf-8",
    )
    one_away = _showcaller(
        "check", str(EXAMPLE), str(away), "--speaker", "sato", env={"ROOM_B_OBS_PASSWORD": "x"}
    )
    assert one_away.returncode == 3, one_away.stdout + one_away.stderr
    assert "Traceback" not in one_away.stderr
    lines = [line for line in one_away.stdout.splitlines() if "room hall-b" in line]
    assert len(lines) == 1, one_away.stdout
    assert "ws://127.0.0.1:9" in lines[0]
    assert "room config-example: OK: 1 passed, 0 warnings, 0 failed" in one_away.stdout
    assert "佐藤 花子" in one_away.stdout


async def test_a_speaker_without_inputs_is_not_checked_and_says_why(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'video_input = "Speaker 6 Video"\naudio_input = "Speaker 6 Audio"\n', ""
    )
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    cfg = _fast(load_config(tmp_path / "event.toml"))
    seed_event(sim, cfg)
    results = await _check_on(sim.url, SIM_PASSWORD, cfg, ["watanabe"])
    (result,) = results
    assert result.verdict == "not checked"
    assert "video_input" in result.hint


async def test_a_slide_link_that_answers_passes_and_one_that_does_not_is_a_warning(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    async def deck(_: web.Request) -> web.Response:
        return web.Response(text="slides")

    app = web.Application()
    app.router.add_get("/deck", deck)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        text = (
            EXAMPLE.read_text(encoding="utf-8")
            .replace("slides = false", "slides = true")
            .replace("https://speakerdeck.com/hanako_ml/small-llm", f"http://127.0.0.1:{port}/deck")
            .replace(
                'handle = "@kenta_t"\n',
                f'handle = "@kenta_t"\nslides = "http://127.0.0.1:{port}/gone"\n',
            )
        )
        (tmp_path / "event.toml").write_text(text, encoding="utf-8")
        cfg = _fast(load_config(tmp_path / "event.toml"))
        seed_event(sim, cfg)
        results = await _check_on(sim.url, SIM_PASSWORD, cfg, ["sato", "tanaka"])
    finally:
        await runner.cleanup()
    slides = {r.speaker: r for r in results if r.part == "slides"}
    assert slides["sato"].verdict == "pass"
    assert slides["tanaka"].verdict == "warn"
    assert slides["tanaka"].value == "HTTP 404"


def _fast(cfg: EventConfig, **checks: Any) -> EventConfig:
    """The config with short check windows, so a test waits a second, not five."""
    settings = cfg.checks.model_copy(
        update={"window_seconds": 1.0, "frozen_seconds": 1.0, **checks}
    )
    return cfg.model_copy(update={"checks": settings})


async def _check_on(
    url: str, password: str, cfg: EventConfig, speakers: list[str] | None = None
) -> list[CheckResult]:
    client = OBSClient(url, password)
    await client.connect()
    try:
        gateway = OBSGateway(client)
        checker = SpeakerCheck(cfg, gateway)
        async with meter_tap(gateway, checker.clock) as tap:
            return await checker.run(speakers, tap=tap)
    finally:
        await client.close()


# ------------------------------------------------------------ during a show


async def test_a_microphone_that_dies_mid_talk_is_said_within_the_silence_limit(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # The example's [sim.feeds]: 小林 美咲's microphone dies 2 minutes into her LT.
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "event.toml")
    seed_event(sim, cfg)
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    sessions: list[ShowSession] = []

    def attach(session: ShowSession) -> None:
        # `rehearse` attaches the scripted feeds only to its own built-in sim.
        from showcaller.stage.simfeeds import scripted_feeds

        sessions.append(session)
        session.attach("the simulated feeds", scripted_feeds(sim, cfg))

    report = await rehearse(
        cfg,
        RehearsalOptions(obs=obs, speed=30, journal=tmp_path / "r.jsonl", from_slot=10),
        on_session=attach,
    )
    assert report.ok, report.problems  # a rehearsal's check findings are warnings
    said = [w for w in report.warnings if "小林 美咲さんの音が" in w]
    assert said, report.warnings
    records = list(read_journal(tmp_path / "r.jsonl"))
    lt = next(
        r
        for r in records
        if r.kind == Kind.CUE and r.data.get("title") == "Kaggle 初参加で学んだこと"
    )
    warning = next(
        r for r in records if r.kind == Kind.WARNING and "小林 美咲さんの音が" in r.data["text"]
    )
    died_at = datetime.fromisoformat(lt.data["deadline_wall"]).timestamp() + 120
    noticed = datetime.fromisoformat(warning.wall).timestamp() - died_at  # show seconds
    limit = cfg.checks.on_air_silence
    # Not before the limit (a meter reading every 50 ms real is 1.5 s of show at ×30), and
    # at most one real second after it.
    assert limit - 2 <= noticed, (noticed, limit)
    assert (noticed - limit) / 30 <= 1.0, (noticed, limit)
    # From slot 10 (小林 美咲's LT) on, 伊藤 翔's LT is never on air: his silent microphone
    # is never metered, so never judged — not called silent off air, not a warning.
    # 小林 美咲 is checked when her LT is on air, before her microphone dies.
    audio = {
        (r.data["speaker"], r.data["verdict"])
        for r in records
        if r.kind == Kind.CHECK and r.data["part"] == "audio"
    }
    assert not any(who == "ito" for who, _ in audio), audio
    assert not any("伊藤 翔" in w for w in report.warnings), report.warnings
    assert ("kobayashi", "pass") in audio, audio
    # The checks were in the state too, and the command re-runs them.
    assert sessions[0].state.checks


async def test_a_speaker_not_heard_off_air_is_checked_when_their_slot_goes_on_air(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # From Yui Suzuki's Q&A: 伊藤 翔 (next, a silent microphone) is checked while the Q&A
    # is on air — his LT scene is off program, OBS does not meter him: "not checked". When
    # his LT goes on air he is checked again, and only then is his microphone silent.
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    cfg = _fast(load_config(tmp_path / "event.toml"))
    seed_event(sim, cfg)
    sim.use_cases.speaker_audio("Speaker 4 Audio", "silent")
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    seen: list[tuple[str | None, str, str]] = []  # (slot on air, verdict, value) of ito's audio

    def attach(session: ShowSession) -> None:
        async def watch() -> None:
            async with asyncio.timeout(40):
                while True:
                    await asyncio.sleep(0.1)
                    state = session.state.to_json()
                    on_air = (state["show"].get("on_air") or {}).get("title")
                    for c in state["checks"]:
                        if (c["speaker"], c["part"]) == ("ito", "audio"):
                            entry = (on_air, c["verdict"], c["value"])
                            if not seen or seen[-1][1:] != entry[1:]:
                                seen.append(entry)
                    if seen and seen[-1][1] == "fail":
                        await session.submit({"command": "end"}, source="keys")
                        return

        import contextlib

        @contextlib.asynccontextmanager
        async def surface(s: ShowSession) -> AsyncIterator[None]:
            s.spawn(watch(), "test surface")
            yield

        session.attach("test surface", surface)

    await rehearse(
        cfg,
        RehearsalOptions(obs=obs, speed=30, journal=tmp_path / "r.jsonl", from_slot=8),
        on_session=attach,
    )
    verdicts = [(verdict, value) for _, verdict, value in seen if verdict != "checking"]
    assert verdicts[0] == ("not checked", "not on air"), seen
    assert verdicts[-1][0] == "fail", seen
    assert verdicts[-1][1].startswith("peak"), seen
    assert seen[-1][0] == "pandas から Polars への移行でハマったこと", seen


async def test_the_checks_command_runs_them_and_the_state_has_the_results(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    cfg = _fast(load_config(tmp_path / "event.toml"))
    seed_event(sim, cfg)
    sim.use_cases.speaker_audio("Speaker 2 Audio", "muted")
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    answers: list[Any] = []
    states: list[dict[str, Any]] = []

    def attach(session: ShowSession) -> None:
        async def later() -> None:
            await asyncio.sleep(0.3)
            answers.append(
                await session.submit({"command": "checks", "speaker": "tanaka"}, source="keys")
            )
            answers.append(
                await session.submit({"command": "checks", "speaker": "nobody"}, source="keys")
            )
            await asyncio.sleep(1.6)
            states.append(json.loads(json.dumps(session.state.to_json())))

        import contextlib

        @contextlib.asynccontextmanager
        async def surface(s: ShowSession) -> AsyncIterator[None]:
            s.spawn(later(), "test surface")
            yield

        session.attach("test surface", surface)

    report = await rehearse(
        cfg,
        RehearsalOptions(obs=obs, speed=600, journal=tmp_path / "r.jsonl", from_slot=9),
        on_session=attach,
    )
    assert report.ended
    assert answers[0].ok, answers[0]
    assert not answers[1].ok
    assert "no speaker has the id 'nobody'" in answers[1].message
    (state,) = states
    tanaka = [c for c in state["checks"] if c["speaker"] == "tanaka" and c["part"] == "audio"]
    assert tanaka[0]["verdict"] == "fail"
    assert tanaka[0]["value"] == "muted in OBS"


# --------------------------------------------------------------------- real OBS


def _wav(path: Path, *, tone: bool) -> Path:
    """Two seconds of a 440 Hz tone at -12 dBFS, or of silence (16-bit mono, 48 kHz)."""
    rate = 48000
    frames = bytearray()
    for n in range(rate * 2):
        v = int(0.25 * 32767 * math.sin(2 * math.pi * 440 * n / rate)) if tone else 0
        frames += struct.pack("<h", v)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


async def test_real_obs_tells_black_frozen_live_silent_and_sounding_apart(
    real_obs: HeadlessOBS, tmp_path: Path
) -> None:
    client = OBSClient(real_obs.url, real_obs.password)
    await client.connect()
    gw = OBSGateway(client)
    scene = "Checks"
    await gw.create_scene(scene)
    size = {"width": 640, "height": 360}
    await gw.create_input(scene, "Black Cam", "color_source_v3", {"color": 0xFF000000, **size})
    await gw.create_input(scene, "Still Cam", "color_source_v3", {"color": 0xFF808080, **size})
    await gw.create_input(scene, "Live Cam", "color_source_v3", {"color": 0xFF0000FF, **size})
    for name, tone in (("Tone Mic", True), ("Quiet Mic", False)):
        wav = _wav(tmp_path / f"{name}.wav", tone=tone)
        await gw.create_input(
            scene,
            name,
            "ffmpeg_source",
            {"local_file": str(wav), "is_local_file": True, "looping": True},
        )
    await gw.set_program_scene(scene)
    speakers = [
        ("black", "Black Cam", None),
        ("still", "Still Cam", None),
        ("live", "Live Cam", None),
        ("tone", None, "Tone Mic"),
        ("quiet", None, "Quiet Mic"),
    ]
    text = EXAMPLE.read_text(encoding="utf-8").split("[[speakers]]")[0]
    # The slots name the example's speakers: keep them, add the test's five.
    rest = "[[speakers]]" + "[[speakers]]".join(
        EXAMPLE.read_text(encoding="utf-8").split("[[speakers]]")[1:]
    )
    rest = rest.split("\n# The built-in simulated OBS only")[0]
    for sid, video, audio in speakers:
        rest += f'\n[[speakers]]\nid = "{sid}"\nname = "{sid}"\n'
        rest += f'video_input = "{video}"\n' if video else ""
        rest += f'audio_input = "{audio}"\n' if audio else ""
    (tmp_path / "event.toml").write_text(text + rest, encoding="utf-8")
    cfg = _fast(load_config(tmp_path / "event.toml"), frozen_seconds=2.0, window_seconds=2.0)

    async def keep_changing() -> None:
        colours = [0xFF0000FF, 0xFF00FF00, 0xFFFF0000, 0xFF00FFFF]
        n = 0
        while True:
            n += 1
            await gw.set_input_settings("Live Cam", {"color": colours[n % 4]})
            await asyncio.sleep(0.1)

    changer = asyncio.create_task(keep_changing())
    try:
        results = await SpeakerCheck(cfg, gw).run([s for s, _, _ in speakers])
    finally:
        changer.cancel()
        await asyncio.gather(changer, return_exceptions=True)
        await client.close()
    verdicts = {(r.speaker, r.part): (r.verdict, r.value) for r in results}
    assert verdicts[("black", "video")][0] == "fail", verdicts
    assert "luma 0/255" in verdicts[("black", "video")][1]
    assert verdicts[("still", "video")] == ("fail", "unchanged for 2 s"), verdicts
    assert verdicts[("live", "video")][0] == "pass", verdicts
    assert verdicts[("tone", "audio")][0] == "pass", verdicts
    assert verdicts[("quiet", "audio")][0] == "fail", verdicts


async def test_watch_checks_a_failing_speaker_again_until_the_picture_is_back(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace("window_seconds = 5 ", "window_seconds = 1 ")
        .replace("frozen_seconds = 3 ", "frozen_seconds = 1 ")
    )
    config = tmp_path / "event.toml"
    config.write_text(text, encoding="utf-8")
    seed_event(sim, load_config(config))
    sim.use_cases.speaker_video("Speaker 3 Video", "black")
    argv = ["check", str(config), "--obs", sim.url, "--speaker", "suzuki", "--watch"]
    env = {**os.environ, "COLUMNS": "200", "SHOWCALLER_OBS__PASSWORD": SIM_PASSWORD}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "showcaller",
        *argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        await asyncio.sleep(4)  # a round or two with the black picture
        assert proc.returncode is None, "--watch must keep checking a failing speaker"
        sim.use_cases.speaker_video("Speaker 3 Video", "live")  # the speaker shares a screen
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, out.decode() + err.decode()
    # The picture passes; the microphone is off air (not on program): not checked.
    assert "1 passed, 0 warnings, 0 failed" in out.decode()
    assert "本番に出るまで聞けません" in out.decode()


async def test_live_checks_everyone_at_once_when_started_late_and_a_failure_is_a_problem(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    from showcaller.modes import LiveOptions, live
    from tests.test_modes import _short_show

    config = tmp_path / "event.toml"
    _short_show(config, lead_in=3, slot_s=2, stream_before_s=1)
    text = config.read_text(encoding="utf-8").replace(
        'name = "Speaker A"\n',
        'name = "Speaker A"\nvideo_input = "Cam A"\naudio_input = "Mic A"\n',
    )
    config.write_text(text + "\n[checks]\nwindow_seconds = 1\nfrozen_seconds = 1\n")
    cfg = load_config(config)
    seed_event(sim, cfg)
    sim.use_cases.stream_target()
    sim.use_cases.speaker_audio("Mic A", "silent")
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    report = await live(
        cfg,
        LiveOptions(obs=obs, journal=tmp_path / "live.jsonl", yes=True),
        interactive=False,
    )
    assert report.ended
    # The show starts 3 s from now, well inside checks.before (30 min): checked at once.
    marks = [e.data for e in read_journal(tmp_path / "live.jsonl") if e.kind == Kind.MARK]
    checks = next(m for m in marks if m["mark"] == "speaker_checks")
    assert checks["status"] == "done"
    assert any(p.startswith("check Speaker A: audio fail") for p in report.problems), (
        report.problems
    )
    # On air too: the talk is short (4 s), so only the pre-show verdict is asserted.
    assert not any("check Speaker A: video" in p for p in report.problems)


# ------------------------------------------------------------ off air (sim and real OBS)


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realobs)])
async def any_obs(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str, SimulatedOBS | None]]:
    """(url, password, the sim or None): the built-in OBS, or the session's real one."""
    if request.param == "sim":
        async with SimulatedOBS(password=SIM_PASSWORD, record_dir=tmp_path / "rec") as s:
            yield s.url, SIM_PASSWORD, s
    else:
        real = request.getfixturevalue("real_obs")
        yield real.url, real.password, None


def _event_with(tmp_path: Path, speakers: list[tuple[str, str | None, str | None]]) -> EventConfig:
    """The example event plus speakers (id, video_input, audio_input), named by their id."""
    text = EXAMPLE.read_text(encoding="utf-8")
    head, *rest = text.split("[[speakers]]")
    tail = ("[[speakers]]" + "[[speakers]]".join(rest)).split(
        "\n# The built-in simulated OBS only"
    )[0]
    for sid, video, audio in speakers:
        tail += f'\n[[speakers]]\nid = "{sid}"\nname = "{sid}"\n'
        tail += f'video_input = "{video}"\n' if video else ""
        tail += f'audio_input = "{audio}"\n' if audio else ""
    (tmp_path / "event.toml").write_text(head + tail, encoding="utf-8")
    return _fast(load_config(tmp_path / "event.toml"))


async def test_speakers_off_air_are_never_called_silent_and_nothing_on_air_changes(
    any_obs: tuple[str, str, SimulatedOBS | None], tmp_path: Path
) -> None:
    # Issue 18: a looping tone WAV in "Talk" with "Standby" on program read -inf dBFS on
    # real OBS 29 and failed as silent. OBS meters (and plays) an input only while a
    # scene on program shows it; the check must say it cannot hear it yet, never "silent",
    # and must not touch what is on air: the next speaker is checked during another talk.
    url, password, simulated = any_obs
    client = OBSClient(url, password, subscriptions=protocol.EventSubscription.ALL)
    await client.connect()
    gw = OBSGateway(client)
    try:
        for scene in ("Standby", "Talk A", "Talk B"):
            await gw.create_scene(scene)
        size = {"width": 640, "height": 360}
        await gw.create_input("Standby", "Card", "color_source_v3", {"color": 0xFF808080, **size})
        await gw.create_input(
            "Talk B", "Dark Cam", "color_source_v3", {"color": 0xFF000000, **size}
        )
        mics = {
            "Tone A": ("Talk A", True),
            "Tone B": ("Talk B", True),
            "Quiet B": ("Talk B", False),
        }
        for name, (scene, tone) in mics.items():
            wav = _wav(tmp_path / f"{name}.wav", tone=tone)
            await gw.create_input(
                scene,
                name,
                "ffmpeg_source",
                {"local_file": str(wav), "is_local_file": True, "looping": True},
            )
            if simulated is not None:  # the sim reads no WAV levels: its signal stands in
                simulated.use_cases.speaker_audio(name, "speaking" if tone else "silent")
        await gw.set_program_scene("Standby")
        cfg = _event_with(
            tmp_path,
            [
                ("a", None, "Tone A"),
                ("b", "Tone B", "Tone B"),
                ("quiet", None, "Quiet B"),
                ("dark", "Dark Cam", None),
            ],
        )
        ids = ["a", "b", "quiet", "dark"]

        # T-30: Standby on program, no talk on air.
        before = {(r.speaker, r.part): r for r in await SpeakerCheck(cfg, gw).run(ids)}
        for key in (("a", "audio"), ("b", "audio"), ("quiet", "audio"), ("b", "video")):
            assert before[key].verdict == "not checked", before[key]
            assert before[key].value == "not on air", before[key]
        assert (
            "cannot hear" in before[("b", "audio")].hint
            or "聞けません" in before[("b", "audio")].hint
        )
        assert "聞けません" in before[("a", "audio")].hint, before[("a", "audio")]  # ja event
        # A picture that is there off air is judged off air: a black camera is black.
        assert before[("dark", "video")].verdict == "fail", before[("dark", "video")]

        # Talk A on air; the next speaker (Talk B) is checked meanwhile: nothing on air moves.
        await gw.set_program_scene("Talk A")
        await asyncio.sleep(0.5)
        seen: list[str] = []
        unsubscribe = client.subscribe(lambda e: seen.append(e.event_type))
        during = {(r.speaker, r.part): r for r in await SpeakerCheck(cfg, gw).run(ids)}
        unsubscribe()
        assert await gw.program_scene() == "Talk A"
        on_air_changes = {
            "CurrentProgramSceneChanged",
            "SceneTransitionStarted",
            "SceneItemCreated",
            "SceneItemRemoved",
            "SceneItemEnableStateChanged",
            "InputMuteStateChanged",
            "InputVolumeChanged",
            "InputAudioTracksChanged",
        }
        changes = [e for e in seen if e in on_air_changes]
        assert changes == [], changes
        assert during[("a", "audio")].verdict == "pass", during[("a", "audio")]
        assert during[("b", "audio")].verdict == "not checked", during[("b", "audio")]
        assert during[("quiet", "audio")].verdict == "not checked", during[("quiet", "audio")]

        # Talk B on air: the tone passes, the silent WAV is silent, and only now.
        await gw.set_program_scene("Talk B")
        await asyncio.sleep(0.5)
        on_air = {(r.speaker, r.part): r for r in await SpeakerCheck(cfg, gw).run(ids)}
        assert on_air[("b", "audio")].verdict == "pass", on_air[("b", "audio")]
        assert on_air[("quiet", "audio")].verdict == "fail", on_air[("quiet", "audio")]
        assert on_air[("a", "audio")].verdict == "not checked", on_air[("a", "audio")]
    finally:
        await client.close()


async def test_a_rehearsal_at_speed_says_show_times_and_calls_no_fine_speaker_silent(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Issue 19: at --speed 600 a Fade of 300 ms real is 180 show seconds of lead, so the
    # engine sends each cue that early; what it says of the cue must still carry the cue's
    # time. And 20 show seconds of on-air silence are 33 ms real there, less than one
    # meter reading: 佐藤 花子, who speaks throughout her talk, must not be called silent.
    cfg = load_config(EXAMPLE)
    seed_event(sim, cfg)
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    sessions: list[ShowSession] = []

    def attach(session: ShowSession) -> None:
        sessions.append(session)

        async def end_after_her_qa() -> None:
            async for state in session.feed():
                on_air = state.show.on_air
                if on_air is not None and on_air.index == 4:  # the next talk: enough
                    await session.submit({"command": "end"}, source="keys")
                    return

        @contextlib.asynccontextmanager
        async def surface(s: ShowSession) -> AsyncIterator[None]:
            s.spawn(end_after_her_qa(), "test surface")
            yield

        session.attach("test surface", surface)

    report = await rehearse(
        cfg,
        RehearsalOptions(obs=obs, speed=600, journal=tmp_path / "r.jsonl", from_slot=2),
        on_session=attach,
    )
    assert not any("佐藤 花子さんの音" in w for w in report.warnings), report.warnings
    said = {m.text: datetime.fromisoformat(m.at) for m in sessions[0].state.messages}
    talk = said["slot 3 小さな LLM を手元で動かす on air"]
    reached = said["'小さな LLM を手元で動かす' reached its end: next slot in 60 s"]
    qa = said["slot 4 質疑応答 on air"]
    nxt = said["slot 5 Feature Store を半年運用してみた on air"]
    # The talk's 15 minutes, its 60 s of grace, the Q&A's 4 minutes: as planned.
    assert (reached - talk).total_seconds() == 900, said
    assert (qa - reached).total_seconds() == 60, said
    assert (nxt - qa).total_seconds() == 240, said


async def test_at_speed_the_next_speakers_result_comes_before_their_slot(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # At x120 the check's 5 s window is ten show minutes: started the usual five minutes
    # ahead (at the Q&A before her talk), 鈴木's result would come after her talk began.
    # The check looks far enough ahead that it is said before the talk goes on air.
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "event.toml")
    seed_event(sim, cfg)
    talk = cfg.slots_resolved()[4]  # the second talk
    said: list[tuple[int, str]] = []

    def attach(session: ShowSession) -> None:
        @contextlib.asynccontextmanager
        async def surface(s: ShowSession) -> AsyncIterator[None]:
            async def watch() -> None:
                async for state in s.feed():
                    for m in state.messages:
                        if m.seq > (said[-1][0] if said else 0):
                            said.append((m.seq, m.text))
                    on_air = state.show.on_air
                    if on_air is not None and on_air.index > talk.index:
                        await s.submit({"command": "end"}, source="keys")
                        return

            s.spawn(watch(), "test surface")
            yield

        session.attach("test surface", surface)

    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    await rehearse(
        cfg, RehearsalOptions(obs=obs, speed=120, journal=tmp_path / "r.jsonl"), on_session=attach
    )
    texts = [t for _, t in said]
    checked = next(
        i for i, t in enumerate(texts) if t.startswith(f"speaker checks before {talk.title!r}")
    )
    on_air = next(i for i, t in enumerate(texts) if t.startswith(f"slot 5 {talk.title}"))
    assert checked < on_air, texts[min(checked, on_air) : max(checked, on_air) + 1]
