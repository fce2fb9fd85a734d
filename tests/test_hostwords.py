"""What the host reads (issue 20): errors that name the mistake, and no noise.

Each test writes the mistake a new user makes into a copy of the example and asserts the
exact line the host sees: file, line, field and what to do.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from rich.console import Console

from showcaller.checks.hints import hint
from showcaller.cli import main
from showcaller.clock import ScaledClock
from showcaller.config import load_config, obs_settings
from showcaller.config.load import date_warnings
from showcaller.modes import LiveOptions, live
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.engine import ShowReport
from showcaller.stage.doctor import run_doctor
from showcaller.stage.needs import needs_of
from showcaller.surfaces.console import print_report
from showcaller.words import failure, plural, unexpected

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")

LT_BLOCK = """[[timetable.slots]]
kind = "lt"
title = "GPU なしで始める画像分類"
speakers = ["watanabe"]
duration = "5m"
end = 30
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SHOWCALLER_"):
            monkeypatch.delenv(name)


def edited(tmp_path: Path, old: str, new: str, *, name: str = "event.toml") -> Path:
    assert old in EXAMPLE_TEXT, f"{old!r} is not in the example any more"
    path = tmp_path / name
    path.write_text(EXAMPLE_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    text = path.read_text(encoding="utf-8")
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


# -- the event file -------------------------------------------------------------------------


def test_a_slot_pasted_twice_is_called_a_duplicate_with_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(tmp_path, LT_BLOCK, LT_BLOCK + "\n" + LT_BLOCK)
    first = line_of(path, "[[timetable.slots]]", 12)
    second = line_of(path, "[[timetable.slots]]", 13)

    code, _, err = validate(capsys, str(path))

    assert code == 2
    assert err.splitlines() == [
        f'error: {path}:{second}: timetable.slots[12]: lt "GPU なしで始める画像分類": the same '
        f"slot as timetable.slots[11] on line {first} (same kind, title and speakers) "
        "(a block pasted twice? delete one of the two)"
    ]
    assert "time order" not in err
    assert "shorten" not in err


def test_two_untitled_breaks_are_not_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The 10-minute break becomes two 5-minute ones: the times still add up.
    path = edited(
        tmp_path,
        'kind = "break"\nduration = "10m"',
        'kind = "break"\nduration = "5m"\n\n[[timetable.slots]]\nkind = "break"\nduration = "5m"',
    )

    code, _, err = validate(capsys, str(path))

    assert (code, err) == (0, "")


def test_a_full_width_colon_gets_the_exact_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(tmp_path, 'start = "19:30"', 'start = "19：30"')
    line = line_of(path, 'start = "19：30"')

    code, _, err = validate(capsys, str(path))

    assert code == 2
    assert err.splitlines() == [
        f'error: {path}:{line}: timetable.slots[1].start: opening "オープニング": bad time '
        "'19：30': expected HH:MM or HH:MM:SS (full-width characters from a Japanese input "
        "method: write '19:30')"
    ]


def test_full_width_digits_in_a_duration_get_the_exact_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(tmp_path, 'duration = "10m"\nmin', 'duration = "１０ｍ"\nmin')

    code, _, err = validate(capsys, str(path))

    assert code == 2
    assert "bad duration '１０ｍ'" in err
    assert "(full-width characters from a Japanese input method: write '10m')" in err


def test_an_unterminated_string_is_located_where_it_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The last line loses its closing quote: tomllib says "at end of document".
    text = EXAMPLE_TEXT.rstrip("\n")
    last = text.rsplit("\n", 1)[1]
    assert last.startswith('at = "2m"'), last
    path = tmp_path / "event.toml"
    path.write_text(text.rsplit("\n", 1)[0] + '\nat = "2m', encoding="utf-8")
    line = path.read_text(encoding="utf-8").count("\n") + 1

    code, _, err = validate(capsys, str(path))

    assert code == 2
    assert err.splitlines() == [
        f"error: {path}:{line}: invalid TOML: a string opens here and is never closed "
        '(end it with " on the same line)'
    ]


def test_an_unclosed_multiline_string_is_located_where_it_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(tmp_path, '"""                       # one sentence a line', "")
    line = line_of(path, 'intro = """')

    code, _, err = validate(capsys, str(path))

    assert code == 2
    assert err.splitlines() == [
        f'error: {path}:{line}: invalid TOML: a """ string opens here and is never closed '
        '(end it with """)'
    ]


def test_an_unknown_speaker_gets_a_did_you_mean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(tmp_path, 'speakers = ["suzuki"]\nstart', 'speakers = ["suzki"]\nstart')
    line = line_of(path, '"suzki"')

    code, _, err = validate(capsys, str(path))

    assert code == 2
    assert err.splitlines() == [
        f'error: {path}:{line}: timetable.slots[7].speakers[0]: talk "Evaluating RAG without '
        "ground truth\": unknown speaker 'suzki' (did you mean 'suzuki'? known speaker ids: "
        "ito, kobayashi, sato, suzuki, tanaka, watanabe)"
    ]


# -- doctor ---------------------------------------------------------------------------------


async def test_doctor_on_a_fresh_obs_points_at_provision(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    async with SimulatedOBS(password="", record_dir=tmp_path / "rec") as fresh:
        code = await run_doctor(
            EXAMPLE,
            fresh.url,
            console=Console(file=out, width=400),
            err_console=Console(file=err, width=400),
        )

    assert code == 1, err.getvalue()
    last = out.getvalue().strip().splitlines()[-1]
    assert "create them in OBS" not in out.getvalue()
    assert last.startswith(f"✗ OBS lacks 23 of what {EXAMPLE} names: ")
    assert f"`showcaller provision {EXAMPLE} --obs {fresh.url}` creates every scene" in last


# -- words: plurals, and failures without Python class names --------------------------------


def test_counts_are_said_with_the_right_plural() -> None:
    assert plural(1, "warning") == "1 warning"
    assert plural(0, "warning") == "0 warnings"
    assert plural(2, "scene or input", "scenes or inputs") == "2 scenes or inputs"


async def test_link_failures_are_words_in_the_events_language() -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.transport.abort()  # the connection is cut mid-request

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    said: list[str] = []
    async with server, aiohttp.ClientSession() as http:
        for url in (f"http://127.0.0.1:{port}/slides", "http://127.0.0.1:9/slides"):
            with pytest.raises(aiohttp.ClientError) as caught:
                await http.head(url)
            said += [failure(caught.value, "ja"), failure(caught.value, "en")]

    assert said == [
        "接続が途中で切れました",
        "the connection was cut",
        "接続を拒否されました",
        "connection refused (nothing listens there)",
    ]
    assert not any("Error" in text for text in said)
    hint_text = hint("slides_down", "ja", status=said[0], who="佐藤さん")
    assert "（接続が途中で切れました）" in hint_text


def test_an_unexpected_failure_has_no_class_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert unexpected(RuntimeError("boom")) == "unexpected failure: boom"
    assert unexpected(ConnectionResetError(104, "Connection reset by peer")) == (
        "the connection was cut"
    )
    assert unexpected(OSError(28, "No space left on device", "/rec/a.mkv")) == (
        "No space left on device (/rec/a.mkv)"
    )


# -- live practice on the built-in OBS -------------------------------------------------------


async def test_live_on_the_built_in_obs_goes_on_air_and_ends_clean(tmp_path: Path) -> None:
    """The example, live on `sim`: the built-in OBS streams to its own loopback sink, so the
    show ends with no problem; the closing line speaks of the live show (sped up ×60, from
    20:58:30, the last LT and the closing)."""
    cfg = load_config(EXAMPLE)
    clock = ScaledClock(60, datetime(2026, 12, 10, 20, 58, 30, tzinfo=ZoneInfo("Asia/Tokyo")))
    journal = tmp_path / "live.jsonl"

    report = await live(
        cfg,
        LiveOptions(obs=obs_settings(cfg), journal=journal, yes=True),
        clock=clock,
        interactive=False,
    )

    assert report.ended
    assert report.problems == []
    assert report.ok
    streamed = [
        json.loads(line)
        for line in journal.read_text(encoding="utf-8").splitlines()
        if '"kind": "stream"' in line
    ]
    assert [s["action"] for s in streamed if s.get("action") in ("started", "stop")] == [
        "started",
        "stop",
    ]
    out = io.StringIO()
    print_report(cfg, report, Console(file=out, width=300))
    last = out.getvalue().strip().splitlines()[-1]
    assert last.startswith("OK: ")
    assert "rehearse" not in out.getvalue()


def test_a_live_show_with_problems_does_not_say_rehearse_again() -> None:
    cfg = load_config(EXAMPLE)
    report = ShowReport(title="t", mode="live", speed=1.0)
    report.problems.append("the stream left the air (stopped in OBS)")
    out = io.StringIO()
    print_report(cfg, report, Console(file=out, width=300))
    last = out.getvalue().strip().splitlines()[-1]
    assert last == (
        "1 problem in the live show: each is above, with what happened on air; "
        "the journal has the whole show"
    )


# -- validate: the date, the OBS it names, scene names once at their key ---------------------


def test_validate_shows_the_weekday_in_the_events_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = validate(capsys, str(EXAMPLE))
    assert code == 0
    assert "2026-12-10 (木) Asia/Tokyo" in out
    path = edited(tmp_path, 'language = "ja"', 'language = "en"')
    code, out, _ = validate(capsys, str(path))
    assert "2026-12-10 (Thu) Asia/Tokyo" in out


def test_a_past_or_far_date_is_a_warning_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = load_config(edited(tmp_path, "date = 2026-12-10", "date = 2025-12-10"))
    line = line_of(tmp_path / "event.toml", "date = 2025-12-10")
    now = datetime(2026, 12, 4, 21, 0, tzinfo=ZoneInfo("UTC"))
    assert [str(w) for w in date_warnings(cfg, now)] == [
        f"{tmp_path / 'event.toml'}:{line}: event.date: 2025-12-10 is in the past (today is "
        "2026-12-05 in Asia/Tokyo) (set the date of this meetup; copying last month's file "
        "keeps its date)"
    ]
    far = load_config(edited(tmp_path, "date = 2026-12-10", "date = 2062-12-10", name="far.toml"))
    assert [w.message for w in date_warnings(far, now)] == [
        "2062-12-10 is more than a year away (today is 2026-12-05)"
    ]
    assert date_warnings(load_config(EXAMPLE), now) == []
    # validate says it (on stderr) and still exits 0: the file is valid
    code, _, err = validate(capsys, str(tmp_path / "event.toml"))
    assert code == 0
    assert "event.date: 2025-12-10 is in the past" in err


async def test_a_scene_typo_is_said_once_at_its_scenes_key_with_the_real_obs_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(tmp_path, 'lt = "Lightning Talk"', 'lt = "Lightning Talks"')
    line = line_of(path, 'lt = "Lightning Talks"')
    async with SimulatedOBS(password="pw", record_dir=tmp_path / "rec") as obs:
        obs.use_cases.seed_show(needs_of(load_config(EXAMPLE)))  # the host's OBS, ready
        monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", "pw")
        code = await asyncio.to_thread(main, ["validate", str(path), "--obs", obs.url])
        url = obs.url
    out = capsys.readouterr().out

    assert code == 1
    assert f"OBS      {url} (password: ***)" in out
    assert "OBS      sim" not in out
    problems = [ln for ln in out.splitlines() if ln.startswith("problem:")]
    assert problems == [
        f"problem: {path}:{line}: scenes.lt: OBS has no scene 'Lightning Talks' — did you "
        "mean 'Lightning Talk'?"
    ]


def test_validate_on_the_built_in_obs_says_a_scene_name_a_typo_away_from_the_usual(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(tmp_path, 'lt = "Lightning Talk"', 'lt = "Lightning Talks"')
    line = line_of(path, 'lt = "Lightning Talks"')

    code, out, _ = validate(capsys, str(path), "--obs", "sim")

    assert code == 0
    assert (
        f"warning: {path}:{line}: scenes.lt: 'Lightning Talks' — did you mean 'Lightning Talk'?"
        in out
    )


def test_validate_on_the_built_in_obs_reports_a_scene_no_template_makes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edited(
        tmp_path,
        'title = "GPU なしで始める画像分類"',
        'title = "GPU なしで始める画像分類"\nscene = "Lightning Talk 2"',
    )
    line = line_of(path, 'scene = "Lightning Talk 2"')

    code, out, _ = validate(capsys, str(path), "--obs", "sim")

    assert code == 1
    assert (
        f"problem: {path}:{line}: timetable.slots[11].scene: OBS has no scene "
        "'Lightning Talk 2'" in out
    )


# -- one logging policy ---------------------------------------------------------------------


def test_a_normal_run_prints_only_the_commands_output() -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SHOWCALLER_")}
    quiet = subprocess.run(
        [sys.executable, "-m", "showcaller", "doctor", "--obs", "sim"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    verbose = subprocess.run(
        [sys.executable, "-m", "showcaller", "doctor", "--obs", "sim", "--verbose"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert "INFO showcaller.obs.supervisor: connected to OBS at" in verbose.stderr
