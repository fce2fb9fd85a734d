"""The event config: the example loads, env overrides win, and every broken copy of the
example is reported with its file, line and field, all problems at once, no secret shown."""

from __future__ import annotations

import itertools
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from showcaller.config import EventConfig, load_config, obs_settings
from showcaller.config.tomlpos import TomlLocator, format_path
from showcaller.errors import ConfigError, ConfigProblem, UsageError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own SHOWCALLER_* variables must not change what these tests see."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("SHOWCALLER_"):
            monkeypatch.delenv(name)


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "event.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"{old!r} is not in the example any more"
    return text.replace(old, new, 1)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def problems_of(path: Path) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def only(problems: list[ConfigProblem], field: str) -> ConfigProblem:
    found = [p for p in problems if p.field == field]
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


# -- the example ------------------------------------------------------------------------------


def test_example_loads_and_adds_up() -> None:
    cfg = load_config(EXAMPLE)
    slots = cfg.slots_resolved()

    assert cfg.event.title.startswith("Machine Learning Casual Talks")
    assert cfg.event.date == date(2026, 12, 10)
    assert cfg.event.hashtag == "#mlct"
    assert cfg.tz == TOKYO
    assert cfg.config_source == EXAMPLE
    assert cfg.obs.url == "sim"
    assert cfg.obs.password.get_secret_value() == ""

    assert [s.kind for s in slots] == [
        "standby", "opening", "talk", "qa", "talk", "qa", "break",
        "talk", "qa", "lt", "lt", "lt", "closing",
    ]  # fmt: skip
    assert slots[0].start == datetime(2026, 12, 10, 19, 20, tzinfo=TOKYO)
    assert slots[1].start == datetime(2026, 12, 10, 19, 30, tzinfo=TOKYO)
    assert slots[-1].start == datetime(2026, 12, 10, 21, 0, tzinfo=TOKYO)
    assert slots[-1].duration == timedelta(minutes=10)
    for before, after in itertools.pairwise(slots):
        assert before.end == after.start, (before.title, after.title)
    assert [s.duration for s in slots if s.kind == "lt"] == [timedelta(minutes=5)] * 3


def test_example_resolves_scenes_speakers_and_end_behaviour() -> None:
    cfg = load_config(EXAMPLE)
    slots = cfg.slots_resolved()
    talk, qa, brk = slots[2], slots[3], slots[6]

    assert talk.scene == "Talk"
    assert [s.id for s in talk.speakers] == ["sato"]
    assert talk.speakers[0].video_input == "Speaker 1 Video"
    assert (talk.end_mode, talk.grace_s, talk.min_s) == ("grace", 60, None)
    assert qa.title == "質疑応答"  # no title: the kind's name in event.language
    assert (qa.scene, qa.end_mode, qa.min_s) == ("Q&A", "auto", 120.0)
    assert (brk.scene, brk.min_s) == ("Break", 240.0)  # the slot's own min beats break_min
    assert slots[9].scene == "Lightning Talk"
    assert cfg.scenes.trouble == "Technical Difficulties"
    assert cfg.lower_third.hashtag_input == "Lower Third Hashtag"
    assert cfg.speaker("watanabe").name == "Ren Watanabe"
    with pytest.raises(KeyError):
        cfg.speaker("nobody")
    assert cfg.slots_resolved() == slots  # computed once, handed out as a fresh list


def test_env_overrides_the_file(
    tmp_path: Path, example_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = replace_once(example_text, 'url = "sim" ', 'url = "ws://10.0.0.9:4455"\npassword = "f" ')
    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", "from-env")
    monkeypatch.setenv("SHOWCALLER_OBS__URL", "ws://192.168.1.20:4455")
    monkeypatch.setenv("SHOWCALLER_WEB__TOKEN", "tok")

    cfg = load_config(write(tmp_path, text))

    assert cfg.obs.url == "ws://192.168.1.20:4455"
    assert cfg.obs.password.get_secret_value() == "from-env"
    assert cfg.web.token.get_secret_value() == "tok"
    assert cfg.obs.transition == "Fade"  # the rest of [obs] still comes from the file


def test_a_bad_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOWCALLER_OBS__URL", "http://obs.local")
    monkeypatch.setenv("SHOWCALLER_OBS__PASWORD", "typo")

    problems = problems_of(EXAMPLE)

    url = only(problems, "obs.url")
    assert url.file == "SHOWCALLER_OBS__URL"
    assert "ws://host:port" in url.message
    typo = only(problems, "obs.pasword")
    assert typo.file == "SHOWCALLER_OBS__PASWORD"
    assert "password" in typo.hint


def test_an_env_list_that_is_not_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOWCALLER_NOTIFY__WEBHOOKS", "https://hooks.example.com/secret-path")

    [problem] = problems_of(EXAMPLE)

    assert (problem.file, problem.field) == ("SHOWCALLER_NOTIFY*", "notify")
    assert "JSON" in problem.hint
    assert "secret-path" not in str(problem)


def test_secrets_never_show(
    tmp_path: Path, example_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = replace_once(example_text, 'url = "sim" ', 'url = "sim"\npassword = "hunter2-file" ')
    monkeypatch.setenv("SHOWCALLER_WEB__TOKEN", "hunter2-token")
    cfg = load_config(write(tmp_path, text))

    shown = [repr(cfg), str(cfg), repr(cfg.obs), cfg.model_dump_json(), str(cfg.model_dump())]
    for text_shown in shown:
        assert "hunter2" not in text_shown


def test_a_broken_config_does_not_leak_secrets(
    tmp_path: Path, example_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every way a secret could reach a message: next to a bad value, a misspelt secret key
    # (pydantic's input_value would be the secret), a secret of the wrong type, a bad env value.
    text = replace_once(
        example_text,
        'url = "sim" ',
        'url = "tcp://x"\npassword = "hunter2-file"\npasswd = "hunter2-typo" ',
    )
    text = replace_once(text, "port = 8080", 'port = 8080\ntoken = ["hunter2-list"]')
    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", "hunter2-env")
    monkeypatch.setenv("SHOWCALLER_REHEARSAL__STREAM_TEST_KEY", "hunter2-key")
    monkeypatch.setenv("SHOWCALLER_OBS__CONNECT_TIMEOUT", "soon")

    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))

    error = caught.value
    fields = {p.field for p in error.problems}
    assert {"obs.url", "obs.passwd", "web.token", "obs.connect_timeout"} <= fields
    everything = [str(error), *map(str, error.problems), repr(error.problems)]
    everything += [str(error.__context__), str(error.__cause__)]
    for shown in everything:
        assert "hunter2" not in shown


# -- located problems -------------------------------------------------------------------------


def test_toml_syntax_error_has_its_line(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, "port = 8080", "port = = 8080")

    [problem] = problems_of(write(tmp_path, text))

    assert problem.line == line_of(text, "port = = 8080")
    assert problem.message.startswith("invalid TOML")
    assert str(problem).startswith(f"{tmp_path / 'event.toml'}:{problem.line}: invalid TOML")


def test_unknown_top_level_key(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, "[event]", 'colour = "red"\n\n[event]')

    [problem] = problems_of(write(tmp_path, text))

    assert (problem.field, problem.line) == ("colour", line_of(text, "colour ="))
    assert problem.message == "unknown key"
    assert "timetable" in problem.hint  # lists the sections the file may have


def test_unknown_key_in_obs_suggests_the_right_one(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, "transition_ms = 300", "transition_ms = 300\ntransiton = 1")

    [problem] = problems_of(write(tmp_path, text))

    assert (problem.field, problem.line) == ("obs.transiton", line_of(text, "transiton ="))
    assert problem.hint == "did you mean 'transition'?"


def test_unknown_key_in_a_slot(tmp_path: Path, example_text: str) -> None:
    text = replace_once(
        example_text, 'title = "Feature Store', 'speaker = "tanaka"\ntitle = "Feature Store'
    )

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[4].speaker"
    assert problem.line == line_of(text, 'speaker = "tanaka"')
    assert "Feature Store" in problem.message  # names the slot by its title
    assert problem.hint == "did you mean 'speakers'?"


def test_bad_time(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'start = "19:30"', 'start = "19:7x"')

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[1].start"
    assert problem.line == line_of(text, "19:7x")
    assert "expected HH:MM or HH:MM:SS" in problem.message
    assert "'19:7x'" in problem.message
    assert "opening" in problem.message


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ('"20 minutes"', "bad duration '20 minutes'"),
        ('"0m"', "longer than 0"),
        ("20", "needs a unit"),
    ],
)
def test_bad_duration(tmp_path: Path, example_text: str, written: str, says: str) -> None:
    text = replace_once(example_text, 'duration = "10m"', f"duration = {written}")

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[6].duration"
    assert problem.line == line_of(text, f"duration = {written}")
    assert says in problem.message


def test_unknown_speaker_lists_the_known_ids(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'speakers = ["suzuki"]', 'speakers = ["suzuki", "yamada"]')

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[7].speakers[1]"
    assert problem.line == line_of(text, '"yamada"')
    assert "unknown speaker 'yamada'" in problem.message
    assert problem.hint.startswith("known speaker ids: ")
    for known in ("sato", "tanaka", "suzuki", "ito", "kobayashi", "watanabe"):
        assert known in problem.hint


def test_duplicate_speaker_id(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'id = "ito"', 'id = "tanaka"')
    text = text.replace('speakers = ["ito"]', 'speakers = ["tanaka"]')
    text = text.replace('speaker = "ito"', 'speaker = "tanaka"')  # [[sim.feeds]]

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "speakers[3].id"
    assert problem.line == line_of(text, 'id = "tanaka"', occurrence=2)
    assert "duplicate speaker id 'tanaka'" in problem.message


def test_a_speaker_without_a_name_is_one_located_problem(tmp_path: Path, example_text: str) -> None:
    # Slots 2 and 3 name sato: they must not crash, nor add problems of their own.
    text = replace_once(example_text, 'name = "佐藤 花子"', "")

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "speakers[0].name"
    assert problem.line == text.splitlines().index("[[speakers]]") + 1  # its header
    assert problem.message == "missing (required)"


def test_a_speaker_with_an_unknown_key_is_one_located_problem(
    tmp_path: Path, example_text: str
) -> None:
    text = replace_once(example_text, 'name = "佐藤 花子"', 'name = "佐藤 花子"\nnmae = "typo"')

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "speakers[0].nmae"
    assert problem.line == line_of(text, 'nmae = "typo"')
    assert problem.message == "unknown key"
    assert problem.hint == "did you mean 'name'?"


def test_overlapping_slots_name_both(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'start = "20:25"', 'start = "20:20"')

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[7].start"
    assert problem.line == line_of(text, 'start = "20:20"')
    assert 'talk "Evaluating RAG without ground truth"' in problem.message
    assert "break (timetable.slots[6]) runs until 20:25" in problem.message


def test_slots_out_of_order(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'start = "21:00"', 'start = "20:30"')

    problems = problems_of(write(tmp_path, text))

    problem = only(problems, "timetable.slots[12].start")
    assert problem.line == line_of(text, 'start = "20:30"')
    assert "before lt" in problem.message
    assert "timetable.slots[11]" in problem.message
    assert problem.hint == "list the slots in time order"


LATE_SHOW = """
[event]
title = "Night owls"
date = 2026-12-31
crosses_midnight = {crosses}

[scenes]
talk = "Talk"
closing = "Closing"

[[timetable.slots]]
kind = "talk"
title = "Countdown"
start = "23:40"

[[timetable.slots]]
kind = "closing"
start = "00:05"
duration = "15m"
"""


def test_crossing_midnight_needs_the_flag(tmp_path: Path) -> None:
    text = LATE_SHOW.format(crosses="false")

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[1].start"
    assert problem.line == line_of(text, '"00:05"')
    assert 'talk "Countdown"' in problem.message
    assert problem.hint == (
        "the show crosses midnight: set event.crosses_midnight = true if that is intended"
    )


def test_crossing_midnight_with_the_flag(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, LATE_SHOW.format(crosses="true")))

    countdown, closing = cfg.slots_resolved()

    assert countdown.end == closing.start == datetime(2027, 1, 1, 0, 5, tzinfo=TOKYO)
    assert closing.end == datetime(2027, 1, 1, 0, 20, tzinfo=TOKYO)


def test_slot_role_without_scene(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'lt = "Lightning Talk"', "")
    # A slot-level scene is enough for that one slot.
    text = replace_once(text, 'title = "Kaggle', 'scene = "LT close-up"\ntitle = "Kaggle')

    problems = problems_of(write(tmp_path, text))

    assert [p.field for p in problems] == ["timetable.slots[9].scene", "timetable.slots[11].scene"]
    first = problems[0]
    assert first.line == line_of(text, "[[timetable.slots]]", occurrence=10)  # the slot's header
    assert "scenes.lt is not set" in first.message
    assert "pandas" in first.message


def test_the_last_slot_needs_a_duration(tmp_path: Path) -> None:
    text = LATE_SHOW.format(crosses="true").replace('duration = "15m"\n', "")

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[1].duration"
    assert problem.line == line_of(text, "[[timetable.slots]]", occurrence=2)
    assert "the last slot needs a duration" in problem.message


def test_empty_timetable(tmp_path: Path, example_text: str) -> None:
    cut = example_text.index("\n[[timetable.slots]]")
    text = example_text[:cut] + example_text[example_text.index("\n[[speakers]]") :]

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots"
    assert problem.line == line_of(text, "[timetable]")
    assert "the timetable is empty" in problem.message


def test_missing_required_key_points_at_its_table(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'title = "Machine Learning', 'name = "Machine Learning')

    problems = problems_of(write(tmp_path, text))

    missing = only(problems, "event.title")
    assert missing.line == line_of(text, "[event]")
    assert "missing" in missing.message
    assert only(problems, "event.name").message == "unknown key"


def test_several_problems_are_all_reported_in_file_order(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, "transition_ms = 300", "transition_ms = 300\nprot = 1")
    text = replace_once(text, 'start = "19:30"', 'start = "19:7x"')
    text = replace_once(text, 'speakers = ["suzuki"]', 'speakers = ["suzukii"]')
    text = replace_once(text, 'id = "ito"', 'id = "sato"')
    text = replace_once(text, 'per_talk = "split"', 'per_talk = "chapters"')
    path = write(tmp_path, text)

    problems = problems_of(path)

    assert [p.field for p in problems] == [
        "obs.prot",
        "record.per_talk",
        "timetable.slots[1].start",
        "timetable.slots[7].speakers[0]",
        "timetable.slots[9].speakers[0]",  # "ito" is no longer a speaker id
        "speakers[3].id",
    ]
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)
    for p in problems:
        assert p.file == str(path)
        assert p.line is not None
    per_talk = only(problems, "record.per_talk")
    assert "'split', 'chapter', 'restart' or 'off'" in per_talk.message


def test_a_duration_too_long_for_python(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, 'duration = "10m"', 'duration = "99999999999999999999h"')

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[6].duration"
    assert problem.line == line_of(text, "99999999999999999999h")
    assert problem.message == "break: duration '99999999999999999999h' is too long"


def test_a_show_that_ends_after_the_year_9999(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, "date = 2026-12-10", "date = 9999-12-31")
    closing = 'start = "21:00"\nduration = "10m"'
    text = replace_once(text, closing, 'start = "23:30"\nduration = "1h"')

    [problem] = problems_of(write(tmp_path, text))

    assert problem.field == "timetable.slots[12].duration"
    assert problem.line == line_of(text, 'duration = "1h"')
    assert problem.message.endswith("ends after the year 9999")


def test_a_number_with_more_digits_than_python_reads(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, "port = 8080", "port = " + "9" * 5000)

    [problem] = problems_of(write(tmp_path, text))

    assert (problem.field, problem.line) == ("", line_of(text, "port = 999"))
    assert problem.message.startswith("a number too long to read")


def test_arrays_nested_too_deeply(tmp_path: Path, example_text: str) -> None:
    text = replace_once(example_text, "webhooks = []", "webhooks = " + "[" * 5000 + "]" * 5000)

    [problem] = problems_of(write(tmp_path, text))

    assert problem.file == str(tmp_path / "event.toml")
    assert problem.message == "invalid TOML: arrays or tables nested too deeply"


def test_missing_file(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "nope.toml")
    assert problem.message == "no such file"


def test_toml_local_time_and_bom_are_accepted(tmp_path: Path) -> None:
    text = LATE_SHOW.format(crosses="true").replace('start = "23:40"', "start = 23:40:00")
    text = "\ufeff" + text
    cfg = load_config(write(tmp_path, text))
    assert cfg.slots_resolved()[0].start == datetime(2026, 12, 31, 23, 40, tzinfo=TOKYO)


def test_config_built_in_code_resolves_too() -> None:
    cfg = EventConfig(
        event={"title": "x", "date": date(2026, 1, 5), "language": "en"},
        scenes={"talk": "Talk"},
        timetable={"slots": [{"kind": "talk", "start": "10:00", "duration": "1h10m"}]},
    )
    [slot] = cfg.slots_resolved()
    assert (slot.title, slot.duration, cfg.config_source) == ("Talk", timedelta(minutes=70), None)

    bad = EventConfig(event={"title": "x", "date": date(2026, 1, 5)})
    with pytest.raises(ConfigError, match="the timetable is empty"):
        bad.slots_resolved()


def test_obs_settings_without_a_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOWCALLER_OBS__PASSWORD", "pw")

    obs = obs_settings(url="ws://127.0.0.1:4455")

    assert (obs.url, obs.password.get_secret_value()) == ("ws://127.0.0.1:4455", "pw")
    with pytest.raises(UsageError, match="--obs"):
        obs_settings(url="localhost:4455")


# -- the line locator -------------------------------------------------------------------------

TRICKY = '''\
title = "a [not.a.table] # not a comment"  # [also.not]
"dotted.quoted" = 1
site.owner.name = 'x'

[obs]
motd = """
[[timetable.slots]]
kind = "fake"
"""""
url = "ws://h:1"
list = [
  "]", # ]
  { name = "inline", tags = ["a", "b"] },
  \'\'\'[x]\'\'\',
]

[[timetable.slots]]   # first
kind = "talk"

[[timetable.slots]]
kind = "qa"
speakers = [
  "a",
  "b",
]

[[timetable.slots.notes]]
text = "nested"

[timetable]
break_min = "5m"
'''


def test_locator_finds_keys_past_strings_arrays_and_comments() -> None:
    tomllib.loads(TRICKY)  # the locator only ever sees valid TOML
    loc = TomlLocator(TRICKY)

    def at(path: str) -> int | None:
        return loc.exact_line(path)

    assert at("title") == 1
    assert loc.exact_line(("dotted.quoted",)) == 2
    assert at("site.owner.name") == at("site") == 3
    assert at("obs") == 5
    assert at("obs.motd") == 6
    assert at("obs.url") == 10
    assert (at("obs.list[0]"), at("obs.list[1].tags[1]"), at("obs.list[2]")) == (12, 13, 14)
    assert at("timetable.slots[0]") == 17
    assert at("timetable.slots[0].kind") == 18
    assert at("timetable.slots[1].kind") == 21
    assert (at("timetable.slots[1].speakers[0]"), at("timetable.slots[1].speakers[1]")) == (23, 24)
    assert at("timetable.slots[1].notes[0].text") == 28
    assert at("timetable.slots[2]") is None  # the fake one in the multi-line string
    assert at("timetable.break_min") == 31


def test_locator_falls_back_to_the_table_header_then_none() -> None:
    loc = TomlLocator(TRICKY)
    assert loc.line("timetable.slots[1].duration") == 20
    assert loc.line("obs.password") == 5
    assert loc.line("web.port") is None


def test_locator_places_every_key_of_the_example(example_text: str) -> None:
    loc = TomlLocator(example_text)
    lines = example_text.splitlines()

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = (*path, key)
                line = loc.exact_line(here)
                assert line is not None, format_path(here)
                # A key stands on its own line; a table of an array of tables on its header.
                if not (isinstance(value, list) and value and isinstance(value[0], dict)):
                    assert str(key) in lines[line - 1], (format_path(here), line)
                walk(value, here)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                assert loc.exact_line((*path, index)) is not None, format_path((*path, index))
                walk(value, (*path, index))

    walk(tomllib.loads(example_text), ())
