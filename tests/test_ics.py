"""`showcaller ics`: the plan as iCalendar, held to RFC 5545 and to what calendars accept.

Two readers: the bytes are checked by hand (CRLF, folds at 75 octets, every physical line
whole UTF-8, no fold inside an escape: Google Calendar drops such an event), and the
meaning (times, titles, zones) by the icalendar library's parser, as a calendar would.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from showcaller.cli import main
from showcaller.config import EventConfig, load_config
from showcaller.interop.ics import calendar, escape_text, fold
from showcaller.interop.tomlwrite import toml_string

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
PRETALX = Path(__file__).resolve().parent / "fixtures" / "schedules" / "pretalx-democon.json"
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TALK_TITLE = 'title = "小さな LLM を手元で動かす"'


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SHOWCALLER_"):
            monkeypatch.delenv(name)


def physical_lines(data: bytes) -> list[str]:
    """RFC 5545 3.1 on the bytes; the logical lines, unfolded."""
    assert data.endswith(b"\r\n")
    raw = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in raw)
    assert all(len(line) <= 75 for line in raw), max(raw, key=len)
    lines: list[str] = []
    for line in raw:
        text = line.decode("utf-8")  # a fold inside a multi-byte character fails here
        if text.startswith(" "):
            before = lines[-1]
            trailing = len(before) - len(before.rstrip("\\"))
            assert trailing % 2 == 0, f"a fold splits an escape: {before[-20:]!r} / {text[:20]!r}"
            lines[-1] = before + text[1:]
        else:
            lines.append(text)
    return lines


def read(data: bytes) -> icalendar.Calendar:
    """The file as a calendar reads it: parsed, with no errors and every TZID defined."""
    physical_lines(data)
    cal = icalendar.Calendar.from_ical(data)
    assert not [c.errors for c in cal.walk() if c.errors]
    assert cal.get_missing_tzids() == set()
    return cal


def vevents(cal: icalendar.Calendar) -> list[icalendar.Event]:
    return list(cal.walk("VEVENT"))


def config_with_talk_title(directory: Path, title: str) -> EventConfig:
    text = EXAMPLE.read_text(encoding="utf-8").replace(TALK_TITLE, f"title = {toml_string(title)}")
    path = directory / "event.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_every_slot_is_an_event_at_its_local_time_with_title_speakers_and_url(
    tmp_path: Path,
) -> None:
    long_title = "小さな LLM を手元で動かす, 量子化; \\ と「長い」\nタイトル 🎤 " * 3
    cfg = config_with_talk_title(tmp_path, long_title)
    cal = read(calendar(cfg, STAMP).encode())
    assert str(cal["X-WR-CALNAME"]) == "Machine Learning Casual Talks #20"
    found = vevents(cal)
    slots = cfg.slots_resolved()
    assert len(found) == len(slots)
    for event, slot in zip(found, slots, strict=True):
        assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
        assert event.start == slot.start
        assert event.end == slot.end
        assert event.DTSTAMP == STAMP
        assert str(event["URL"]) == "https://mlct.example.com/events/20"
        assert "https://mlct.example.com/events/20" in str(event["DESCRIPTION"])
    talk = found[2]
    assert str(talk["SUMMARY"]) == f"{long_title} — 佐藤 花子"
    assert "Example AI Lab, @hanako_ml" in str(talk["DESCRIPTION"])
    assert talk.start.strftime("%H:%M") == "19:35"  # local time, as the speaker's calendar shows


def test_the_zone_is_defined_so_that_a_calendar_without_tokyo_still_gets_the_times() -> None:
    cfg = load_config(EXAMPLE)
    cal = read(calendar(cfg, STAMP).encode())
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Tokyo"
    rules = zone.to_tz()  # only what the file says, not the machine's zone database
    for slot in cfg.slots_resolved():
        local = slot.start.astimezone(cfg.tz).replace(tzinfo=None)
        assert local.replace(tzinfo=rules) == slot.start


@pytest.mark.parametrize("shift", range(4))
def test_no_fold_splits_an_escape_or_a_character(tmp_path: Path, shift: int) -> None:
    # Dense escapes and three-octet characters: some fold lands next to each of them.
    title = "x" * shift + "量子化,;\\\n" * 30
    cfg = config_with_talk_title(tmp_path, title)
    cal = read(calendar(cfg, STAMP).encode())
    assert str(vevents(cal)[2]["SUMMARY"]) == f"{title} — 佐藤 花子"


def _plain(text: str) -> str:
    """What survives in a calendar: RFC 5545 TEXT has newlines and tabs, no other controls."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\t\n" or (ord(c) >= 0x20 and ord(c) != 0x7F))


# Text dense in what needs care (escapes, multi-byte characters), and any text at all.
_HARD = st.text(alphabet=st.sampled_from(",;\\\n\r\tx量🎤\x07"), max_size=300) | st.text()


@given(_HARD)
def test_any_text_folds_and_escapes_so_that_a_calendar_reads_it_back(text: str) -> None:
    line = fold("DESCRIPTION:" + escape_text(text)).encode()
    physical_lines(line)
    event = icalendar.Event.from_ical(b"BEGIN:VEVENT\r\n" + line + b"END:VEVENT\r\n")
    assert str(event["DESCRIPTION"]) == _plain(text)


@settings(max_examples=40, deadline=None)
@given(st.text().filter(str.strip))
def test_any_title_reaches_the_calendar_as_typed(title: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        cfg = config_with_talk_title(Path(directory), title)
    cal = read(calendar(cfg, STAMP).encode())
    assert str(vevents(cal)[2]["SUMMARY"]) == f"{_plain(title)} — 佐藤 花子"


def test_uids_are_stable_per_event_and_slot(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE)
    first = [str(e["UID"]) for e in vevents(read(calendar(cfg, STAMP).encode()))]
    again = [str(e["UID"]) for e in vevents(read(calendar(cfg, datetime.now(UTC)).encode()))]
    assert first == again
    assert len(set(first)) == len(first)
    other = tmp_path / "other.toml"
    other.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("date = 2026-12-10", "date = 2026-12-17"),
        encoding="utf-8",
    )
    others = vevents(read(calendar(load_config(other), STAMP).encode()))
    assert set(first).isdisjoint(str(e["UID"]) for e in others)


def test_a_show_through_a_clock_change_is_written_in_utc(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('timezone = "Asia/Tokyo"', 'timezone = "Europe/Berlin"')
    # 2026-03-29 02:00 CET the clocks go to 03:00 CEST, between the LTs and the closing.
    text = text.replace("date = 2026-12-10", "date = 2026-03-29")
    for before, after in (
        ("19:20", "00:20"),
        ("19:30", "00:30"),
        ("20:25", "01:25"),
        ("21:00", "03:00"),
    ):
        text = text.replace(f'start = "{before}"', f'start = "{after}"')
    path = tmp_path / "dst.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    found = vevents(read(calendar(cfg, STAMP).encode()))
    assert "TZID" not in found[0]["DTSTART"].params
    assert found[0].start == datetime(2026, 3, 28, 23, 20, tzinfo=UTC)  # 00:20 CET
    assert found[-1].start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert [e.start for e in found] == [s.start for s in cfg.slots_resolved()]


def test_an_imported_schedule_goes_to_the_calendar_in_its_own_zone(tmp_path: Path) -> None:
    event = tmp_path / "event.toml"
    plan = tmp_path / "plan.ics"
    args = ["import", str(PRETALX), "--room", "Gray Room", "--day", "1", "-o", str(event)]
    assert main(args) == 0
    assert main(["ics", str(event), "-o", str(plan)]) == 0
    cfg = load_config(event)
    assert cfg.event.timezone == "Etc/GMT-1"  # DemoCon's talks are at +01:00
    found = vevents(read(plan.read_bytes()))
    talk = next(e for e in found if str(e["SUMMARY"]).startswith("Focused 5thgeneration"))
    assert talk["DTSTART"].params["TZID"] == "Etc/GMT-1"
    assert talk.start == datetime(2020, 12, 14, 8, 0, tzinfo=UTC)  # 09:00 at +01:00


def test_the_command_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.ics"
    assert main(["ics", str(EXAMPLE), "-o", str(out)]) == 0
    assert len(vevents(read(out.read_bytes()))) == len(load_config(EXAMPLE).slots_resolved())
    assert main(["ics", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
