"""`showcaller import`: real pretalx/frab exports and CSV timetables → event files that load
back with the config loader and rehearse on the simulated OBS; bad input → one line, exit 2."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tomllib
from datetime import UTC, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showcaller.cli import main
from showcaller.config import OBS, EventConfig, load_config
from showcaller.interop.tomlwrite import TomlDocument, display_width, toml_string
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.journal import Kind, read_journal
from showcaller.show.session import ShowSession
from tests.realobs import HeadlessOBS
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401
from tests.test_modes import provision
from tests.test_session import _when

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "schedules"
PRETALX = FIXTURES / "pretalx-democon.json"
FRAB = FIXTURES / "frab-camp2019.json"
EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
HOSTILE = [
    'say "hi"',
    "back\\slash \\n not a newline",
    "two\nlines\r\nand CR",
    "tab\there",
    "bell\x07 nul\x00 esc\x1b del\x7f",
    "triple \"\"\" quotes ''' too",
    "emoji 🎤🔥 and 日本語「カギ括弧」",
    "# not a comment = not a key",
    "\\u0041 stays as typed",
    "]] [[ table ] brackets",
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SHOWCALLER_"):
            monkeypatch.delenv(name)


def _import(tmp_path: Path, *args: str, name: str = "event.toml") -> tuple[int, Path]:
    out = tmp_path / name
    return main(["import", *args, "-o", str(out)]), out


# ------------------------------------------------------------------ TOML quoting


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_string_reads_back_exactly(text: str) -> None:
    doc = TomlDocument()
    doc.table("event", comment=text)
    doc.set("title", text, comment=text)
    doc.set(text, [text, text])
    data = tomllib.loads(doc.text())
    assert data["event"]["title"] == text
    assert data["event"][text] == [text, text]


@given(st.text())
def test_any_text_is_a_valid_toml_string_that_reads_back(text: str) -> None:
    assert tomllib.loads(f"v = {toml_string(text)}")["v"] == text


# ------------------------------------------------------------------ pretalx / frab


def test_pretalx_one_room_one_day_validates_with_speakers_breaks_and_local_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _import(tmp_path, str(PRETALX), "--room", "Gray Room", "--day", "1")
    assert code == 0
    cfg = load_config(out)
    assert cfg.event.title == "DemoCon"
    assert str(cfg.event.date) == "2020-12-14"
    slots = cfg.slots_resolved()
    talks = [s for s in slots if s.kind == "talk"]
    assert len(talks) == 9  # Gray Room has nine talks on day 1
    # The schedule's entries are at +01:00 (while time_zone_name says UTC): 09:00 stays 09:00.
    assert talks[0].start.astimezone(cfg.tz).time() == time(9, 0)
    assert talks[0].start.astimezone(UTC).time() == time(8, 0)
    assert talks[0].title == "Focused 5thgeneration hardware"
    # 10:30-11:30 and 13:00-14:00 have no talk: breaks.
    breaks = [(s.start.astimezone(cfg.tz).time(), s.duration) for s in slots if s.kind == "break"]
    assert breaks == [(time(10, 30), timedelta(hours=1)), (time(13, 0), timedelta(hours=1))]
    # Curtis Andrews gives two talks: one speaker; the last talk has two speakers.
    curtis = [s for s in talks if any(p.name == "Curtis Andrews" for p in s.speakers)]
    assert len(curtis) == 2
    assert len([sp for sp in cfg.speakers if sp.name == "Curtis Andrews"]) == 1
    assert [p.name for p in talks[-1].speakers] == ["Maria Williams", "Mariah Estrada"]
    assert slots[0].kind == "standby"
    assert "DemoCon: 12 slots (9 talks), 8 speakers" in capsys.readouterr().err


def test_do_not_record_is_kept_on_the_slot(tmp_path: Path) -> None:
    code, out = _import(tmp_path, str(PRETALX), "--room", "Gray Room", "--day", "2020-12-15")
    assert code == 0
    slots = load_config(out).slots_resolved()
    assert [s.title for s in slots if s.do_not_record] == ["Down-sized directional algorithm"]


def test_frab_export_keeps_berlin_time_and_ids_as_speakers(tmp_path: Path) -> None:
    code, out = _import(tmp_path, str(FRAB), "--room", "curie", "--day", "02")
    assert code == 0
    cfg = load_config(out)
    assert cfg.event.title == "Chaos Communication Camp 2019"
    assert cfg.event.timezone == "Europe/Berlin"
    first = next(s for s in cfg.slots_resolved() if s.kind != "standby")
    assert first.title == "OpenCodes"
    assert first.start.astimezone(cfg.tz).time() == time(12, 0)
    assert first.duration == timedelta(minutes=45)
    assert first.speakers  # frab persons[].public_name


def _schedule(tmp_path: Path, events: list[dict[str, Any]], **conference: Any) -> Path:
    data = {
        "schedule": {
            "version": "1",
            "conference": {
                "title": conference.get("title", "機械学習カジュアルトークス #21"),
                "time_zone_name": conference.get("tz", "Asia/Tokyo"),
                "days": [{"index": 1, "date": "2026-12-10", "rooms": {"配信": events}}],
            },
        }
    }
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _entry(
    start: str, duration: str, title: str, kind: str, *people: tuple[str, str]
) -> dict[str, Any]:
    return {
        "date": f"2026-12-10T{start}:00+09:00",
        "start": start,
        "duration": duration,
        "room": "配信",
        "title": title,
        "type": kind,
        "persons": [{"code": code, "name": name} for code, name in people],
    }


def test_japanese_titles_names_and_hostile_text_survive_exactly(tmp_path: Path) -> None:
    hostile = 'LT「"引用符" と \\ バックスラッシュ」\n改行 🎤 """'
    path = _schedule(
        tmp_path,
        [
            _entry("19:30", "00:05", "オープニング", "Talk"),
            _entry("19:35", "00:20", "小さな LLM を手元で動かす", "Talk", ("SATO1", "佐藤 花子")),
            _entry("19:55", "00:05", hostile, "Talk", ("ITO22", 'Sho "伊藤" \\ 翔')),
            _entry("20:10", "00:20", "休憩のあと", "Talk", ("SATO1", "佐藤 花子")),
            _entry("20:30", "00:10", "クロージング", "Talk"),
        ],
    )
    code, out = _import(tmp_path, str(path))
    assert code == 0
    cfg = load_config(out)
    assert cfg.event.title == "機械学習カジュアルトークス #21"
    assert cfg.event.timezone == "Asia/Tokyo"
    assert cfg.event.language == "ja"
    slots = [s for s in cfg.slots_resolved() if s.kind != "standby"]
    assert [s.kind for s in slots] == ["opening", "talk", "lt", "break", "talk", "closing"]
    assert slots[2].title == hostile
    assert [p.name for p in slots[2].speakers] == ['Sho "伊藤" \\ 翔']
    assert slots[0].start.astimezone(cfg.tz).time() == time(19, 30)  # +09:00 stays 19:30
    assert slots[1].speakers == slots[4].speakers  # SATO1 twice: one speaker


def test_an_imported_file_keeps_its_comments_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conference = '機械学習カジュアルトークス #21\n"特別編" \\ 年末'
    hostile = 'LT「"引用符" と \\ バックスラッシュ」\n改行 🎤 """'
    path = _schedule(
        tmp_path,
        [
            _entry("19:30", "00:05", "オープニング", "Talk"),
            _entry("19:35", "00:20", "小さな LLM を手元で動かす", "Talk", ("SATO1", "佐藤 花子")),
            _entry("19:55", "00:05", hostile, "Talk", ("ITO22", 'Sho "伊藤" \\ 翔')),
            _entry("20:00", "00:10", "クロージング", "Talk"),
        ],
        title=conference,
    )
    code, out = _import(tmp_path, str(path))
    assert code == 0
    assert main(["validate", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["event"]["title"] == conference
    assert [s.get("title") for s in data["timetable"]["slots"]][3] == hostile
    assert data["speakers"][1]["name"] == 'Sho "伊藤" \\ 翔'
    lines = text.splitlines()
    # A line break in a title goes on as a comment line; it never starts a line of TOML.
    assert lines[:2] == [
        "# showcaller event file for 機械学習カジュアルトークス #21",
        '# "特別編" \\ 年末',
    ]
    assert "[[timetable.slots]]  # 19:55-20:00" in lines
    title = next(line for line in lines if line.startswith("title = "))
    assert title.endswith("  # shown on the countdown page and in reports")
    # Trailing comments line up in an editor, wide Japanese characters counted as two.
    settings = [
        line.rpartition("  # ")[0] for line in lines if line[:1] not in "#[" and "  # " in line
    ]
    assert 'name = "佐藤 花子"' in [s.rstrip() for s in settings]
    short = [s for s in settings if display_width(s.rstrip()) < 26]
    assert len(short) > 20
    assert {display_width(s) for s in short} == {26}


def test_an_overlap_in_one_room_is_shortened_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _schedule(
        tmp_path,
        [_entry("19:00", "00:30", "A", "Talk"), _entry("19:20", "00:20", "B", "Talk")],
        title="Overlap",
    )
    code, out = _import(tmp_path, str(path))
    assert code == 0
    talks = [s for s in load_config(out).slots_resolved() if s.kind == "talk"]
    assert [s.duration for s in talks] == [timedelta(minutes=20), timedelta(minutes=20)]
    assert (
        "'A' runs until 19:30, past the start of 'B' at 19:20: shortened" in capsys.readouterr().err
    )


# ------------------------------------------------------------------ choosing room and day


def _one_error(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("error: ")]
    hints = [line for line in err if line.startswith("hint: ")]
    assert len(errors) == 1, err
    assert "Traceback" not in "\n".join(err)
    return errors[0], hints[0] if hints else ""


def test_several_rooms_and_none_given_lists_the_rooms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _import(tmp_path, str(PRETALX))
    assert code == 2
    assert not out.exists()
    error, hint = _one_error(capsys)
    assert "has 2 rooms: choose one with --room" in error
    assert hint == "hint: rooms: --room 'Gray Room' (27 talks), --room 'Tan Room' (9 talks)"


def test_several_days_and_none_given_lists_the_days_with_their_talks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _import(tmp_path, str(PRETALX), "--room", "Tan Room")
    assert code == 2
    error, hint = _one_error(capsys)
    assert "room 'Tan Room' has talks on 3 days" in error
    assert hint == (
        "hint: days: --day 1 (2020-12-14, 3 talks), --day 2 (2020-12-15, 3 talks), "
        "--day 3 (2020-12-16, 3 talks)"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--room", "Grey Room", "--day", "1"], "no room 'Grey Room' in the schedule"),
        (["--room", "Gray Room", "--day", "9"], "no day '9' in the schedule"),
        (["--room", "Gray Room", "--format", "ical"], "unknown format 'ical'"),
    ],
)
def test_a_room_day_or_format_that_is_not_there_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, _ = _import(tmp_path, str(PRETALX), *args)
    assert code == 2
    error, hint = _one_error(capsys)
    assert expected in error
    if "Grey" in expected:
        assert "did you mean 'Gray Room'?" in hint


def test_missing_file_and_broken_json_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _import(tmp_path, str(tmp_path / "nope.json"))
    assert code == 2
    assert _one_error(capsys)[0] == f"error: {tmp_path / 'nope.json'}: no such file"
    broken = tmp_path / "broken.json"
    broken.write_text('{"schedule": {\n  "conference": {"title": "x",\n  }\n}', encoding="utf-8")
    code, _ = _import(tmp_path, str(broken))
    assert code == 2
    assert _one_error(capsys)[0].startswith(f"error: {broken}:3: broken JSON: ")
    other = tmp_path / "other.json"
    other.write_text('{"events": []}', encoding="utf-8")
    assert _import(tmp_path, str(other))[0] == 2
    assert "not a frab/pretalx schedule.json" in _one_error(capsys)[0]
    unknown = tmp_path / "timetable.xlsx"
    unknown.write_bytes(b"PK")
    assert _import(tmp_path, str(unknown))[0] == 2
    assert "cannot tell the format" in _one_error(capsys)[0]


# ------------------------------------------------------------------ CSV


def test_csv_with_header_lines_and_japanese_separators(tmp_path: Path) -> None:
    sheet = tmp_path / "timetable.csv"
    sheet.write_text(
        "# title: ML Casual Talks #21\n"
        "# date: 2026-12-10\n"
        "# hashtag: #mlct\n"
        "start,duration,kind,title,speakers,affiliation,handle\n"
        "19:30,5m,opening,オープニング,,,\n"
        '19:35,15,talk,"小さな LLM, 手元で",佐藤 花子,Example AI Lab,@hanako_ml\n'
        ",5m,Q&A,,佐藤 花子,,\n"
        "20:00,5m,LT,Kaggle 初参加,小林 美咲、伊藤 翔,,@misaki_k;@sho_ito\n"
        ",0:10,閉会,クロージング,,,\n",
        encoding="utf-8",
    )
    code, out = _import(tmp_path, str(sheet))
    assert code == 0
    cfg = load_config(out)
    assert (cfg.event.title, str(cfg.event.date), cfg.event.hashtag) == (
        "ML Casual Talks #21",
        "2026-12-10",
        "#mlct",
    )
    assert cfg.event.timezone == "Asia/Tokyo"
    slots = [s for s in cfg.slots_resolved() if s.kind != "standby"]
    assert [s.kind for s in slots] == ["opening", "talk", "qa", "break", "lt", "closing"]
    assert slots[1].title == "小さな LLM, 手元で"
    assert slots[1].speakers[0].affiliation == "Example AI Lab"
    assert slots[3].duration == timedelta(minutes=5)  # 19:55-20:00: a gap
    assert [(p.name, p.handle) for p in slots[4].speakers] == [
        ("小林 美咲", "@misaki_k"),
        ("伊藤 翔", "@sho_ito"),
    ]
    assert slots[2].speakers == slots[1].speakers
    # Names without Latin letters: the ids come from the handles.
    assert [sp.id for sp in cfg.speakers] == ["hanako-ml", "misaki-k", "sho-ito"]
    assert slots[-1].start.astimezone(cfg.tz).time() == time(20, 5)


def test_csv_needs_a_date_and_says_where_a_row_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "t.csv"
    sheet.write_text("start,duration,kind,title,speakers\n19:30,20m,talk,A,x\n", encoding="utf-8")
    assert _import(tmp_path, str(sheet))[0] == 2
    error, hint = _one_error(capsys)
    assert "the CSV timetable needs a title and a date" in error
    assert "--date" in hint
    assert _import(tmp_path, str(sheet), "--title", "T", "--date", "2026-12-10")[0] == 0
    capsys.readouterr()
    sheet.write_text(
        "start,duration,kind,title,speakers\n19:30,20m,talk,A,x\n,5m,keynote?,B,\n",
        encoding="utf-8",
    )
    assert _import(tmp_path, str(sheet), "--title", "T", "--date", "2026-12-10")[0] == 2
    assert _one_error(capsys)[0] == f"error: {sheet}:3: kind: unknown kind 'keynote?'"
    sheet.write_text("start,kind,title\n19:30,talk,A\n", encoding="utf-8")
    assert _import(tmp_path, str(sheet), "--title", "T", "--date", "2026-12-10")[0] == 2
    assert "the header has no column duration, speakers" in _one_error(capsys)[0]


# ------------------------------------------------------------------ done when: it rehearses


def _cut(path: Path) -> EventConfig:
    text = path.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    path.write_text(text, encoding="utf-8")
    return load_config(path)


async def test_the_imported_pretalx_day_rehearses_and_never_records_the_do_not_record_talk(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    out = tmp_path / "democon.toml"
    # main() runs its own event loop: import in a worker thread of this test's loop.
    code = await asyncio.to_thread(
        main, ["import", str(PRETALX), "--room", "Gray Room", "--day", "2", "-o", str(out)]
    )
    assert code == 0
    cfg = _cut(out)
    seed_event(sim, cfg)
    dnr = next(s.index for s in cfg.slots_resolved() if s.do_not_record)
    seen: list[Any] = []

    def watch(session: ShowSession) -> None:
        async def record_status(s: ShowSession) -> Any:
            return await s.gateway.record_status()

        _when(
            session,
            lambda st: st.show.on_air is not None and st.show.on_air.index == dnr,
            record_status,
            seen,
        )

    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    report = await rehearse(
        cfg,
        RehearsalOptions(obs=obs, speed=3000, journal=tmp_path / "r.jsonl", record=True),
        on_session=watch,
    )
    assert report.ended
    assert report.problems == []
    assert len(report.cues) == len(cfg.slots_resolved())
    assert len(seen) == 1
    assert seen[0].active  # recording, but
    assert seen[0].paused  # paused while the talk is on air
    records = [dict(e.data) for e in read_journal(tmp_path / "r.jsonl") if e.kind == Kind.RECORD]
    ours = [
        (r["action"], r.get("slot")) for r in records if r["action"] in ("pause", "resume", "split")
    ]
    assert ("pause", dnr) in ours
    assert ("resume", dnr + 1) in ours
    assert ours.index(("pause", dnr)) + 1 == ours.index(("resume", dnr + 1))
    assert ("split", dnr) not in ours  # no file of its own for a talk that is not recorded
    assert not sim.model.record.active  # stopped at the end


async def test_a_first_slot_that_must_not_be_recorded_starts_the_recording_after_it(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    text = text.replace('title = "オープニング"', 'title = "オープニング"\ndo_not_record = true')
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    seed_event(sim, cfg)
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    report = await rehearse(
        cfg, RehearsalOptions(obs=obs, speed=3000, journal=tmp_path / "r.jsonl", record=True)
    )
    assert report.problems == []
    entries = list(read_journal(tmp_path / "r.jsonl"))
    actions = [
        (e.data.get("action"), e.data.get("slot"))
        for e in entries
        if e.kind == Kind.RECORD and e.data.get("action") in ("not_recorded", "start", "split")
    ]
    # Slot 1 (index 1) is the opening: not recorded; the first talk (index 2) starts the file.
    assert actions[:2] == [("not_recorded", 1), ("start", None)]
    first_cue_after = next(e for e in entries if e.kind == Kind.CUE and e.data.get("slot") == 2)
    start = next(e for e in entries if e.kind == Kind.RECORD and e.data.get("action") == "start")
    assert start.mono >= first_cue_after.mono


async def test_as_a_new_user_import_then_rehearse_on_the_built_in_obs(tmp_path: Path) -> None:
    path = _schedule(
        tmp_path,
        [
            _entry("19:30", "00:05", "オープニング", "Talk"),
            _entry("19:35", "00:20", "小さな LLM を手元で動かす", "Talk", ("SATO1", "佐藤 花子")),
            _entry("20:00", "00:05", "Kaggle 初参加", "Lightning Talk", ("KOBA", "小林 美咲")),
            _entry("20:05", "00:10", "クロージング", "Talk"),
        ],
    )
    out = tmp_path / "event.toml"
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("SHOWCALLER_")}

    async def cli(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "showcaller",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=clean,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode or 0, output.decode()

    code, output = await cli("import", str(path), "-o", str(out))
    assert code == 0, output
    code, output = await cli(
        "rehearse", str(out), "--obs", "sim", "--speed", "1500", "--plain", "--no-web"
    )
    assert code == 0, output
    assert "OK: 6 cues, show ended, no problems" in output


async def test_on_real_obs_a_do_not_record_talk_is_paused_out_of_the_recording(
    real_obs: HeadlessOBS, tmp_path: Path
) -> None:
    dnr = _entry("19:35", "00:15", "録画しない発表", "Talk", ("SATO1", "佐藤 花子"))
    dnr["do_not_record"] = True
    path = _schedule(
        tmp_path,
        [
            _entry("19:30", "00:05", "オープニング", "Talk"),
            dnr,
            _entry("19:50", "00:15", "録画する発表", "Talk", ("ITO22", "伊藤 翔")),
            _entry("20:05", "00:05", "クロージング", "Talk"),
        ],
    )
    out = tmp_path / "event.toml"
    assert await asyncio.to_thread(main, ["import", str(path), "-o", str(out)]) == 0
    # OBS 29 cannot split files; one file for the show is what this test looks at.
    out.write_text(
        out.read_text(encoding="utf-8").replace('per_talk = "split"', 'per_talk = "off"'),
        encoding="utf-8",
    )
    cfg = _cut(out)
    index = next(s.index for s in cfg.slots_resolved() if s.do_not_record)
    await provision(real_obs.url, real_obs.password, cfg)
    seen: list[Any] = []

    def watch(session: ShowSession) -> None:
        async def record_status(s: ShowSession) -> Any:
            return await s.gateway.record_status()

        _when(
            session,
            lambda st: st.show.on_air is not None and st.show.on_air.index == index,
            record_status,
            seen,
        )

    obs = OBS.model_validate({"url": real_obs.url, "password": real_obs.password})
    report = await rehearse(
        cfg,
        RehearsalOptions(obs=obs, speed=600, journal=tmp_path / "r.jsonl", record=True),
        on_session=watch,
    )
    assert report.problems == []
    assert len(seen) == 1
    assert seen[0].active
    assert seen[0].paused  # real OBS says outputPaused while the talk is on air
    records = [dict(e.data) for e in read_journal(tmp_path / "r.jsonl") if e.kind == Kind.RECORD]
    actions = [r["action"] for r in records]
    # Ours (pause, resume) and OBS's own RecordStateChanged (paused, resumed), in order.
    assert actions.index("pause") < actions.index("resume")
    assert actions.index("paused") < actions.index("resumed")
    saved = [r["path"] for r in records if r["action"] == "stop"]
    assert len(saved) == 1
    assert os.path.getsize(saved[0]) > 0  # noqa: ASYNC240 - after the show, nothing waits


async def test_a_pause_the_host_made_is_left_alone_and_one_under_a_do_not_record_slot_resumes(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    # The second talk (slot index 4) must not be recorded.
    text = text.replace(
        'title = "Feature Store を半年運用してみた"',
        'title = "Feature Store を半年運用してみた"\ndo_not_record = true',
    )
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    seed_event(sim, cfg)
    results: list[Any] = []

    def on_air(index: int) -> Any:
        return lambda st: st.show.on_air is not None and st.show.on_air.index == index

    def host(session: ShowSession) -> None:
        async def pause(s: ShowSession) -> Any:
            await s.gateway.pause_record()  # the host pauses in OBS
            return "paused"

        async def status(s: ShowSession) -> Any:
            return await s.gateway.record_status()

        _when(session, on_air(3), pause, results)  # the first Q&A, before the talk
        _when(session, on_air(6), pause, results)  # the break, before an ordinary talk
        _when(session, on_air(8), status, results)  # that talk's Q&A

    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    report = await rehearse(
        cfg,
        RehearsalOptions(obs=obs, speed=3000, journal=tmp_path / "r.jsonl", record=True),
        on_session=host,
    )
    assert report.problems == []
    assert results[:2] == ["paused", "paused"]
    records = [dict(e.data) for e in read_journal(tmp_path / "r.jsonl") if e.kind == Kind.RECORD]
    ours = [
        (r["action"], r.get("slot"))
        for r in records
        if r["action"] in ("pause", "resume", "not_recorded")
    ]
    # Paused already when the do_not_record talk came: that talk held the pause, and its
    # Q&A (index 5, which may be recorded) resumed it. The pause in the break was the
    # host's alone: nothing resumed it.
    assert ours == [("not_recorded", 4), ("resume", 5)]
    assert results[2].active
    assert results[2].paused


def test_csv_rooms_and_do_not_record_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "two-rooms.csv"
    sheet.write_text(
        "start,duration,kind,title,speakers,room,do_not_record\n"
        "19:00,20m,talk,A,Ann,Hall,\n"
        "19:00,20m,talk,B,Bob,Annex,yes\n"
        "19:20,20m,talk,C,Cid,Annex,\n",
        encoding="utf-8",
    )
    args = ["--title", "Two rooms", "--date", "2026-12-10", "--language", "en"]
    assert _import(tmp_path, str(sheet), *args)[0] == 2
    error, hint = _one_error(capsys)
    assert "has 2 rooms: choose one with --room" in error
    assert hint == "hint: rooms: Hall, Annex"
    code, out = _import(tmp_path, str(sheet), *args, "--room", "Annex")
    assert code == 0
    slots = [s for s in load_config(out).slots_resolved() if s.kind == "talk"]
    assert [(s.title, s.do_not_record) for s in slots] == [("B", True), ("C", False)]
