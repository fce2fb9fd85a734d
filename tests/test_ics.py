"""`showcaller ics`: the plan as iCalendar, read back with a small RFC 5545 parser."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showcaller.cli import main
from showcaller.config import load_config
from showcaller.interop.ics import calendar, escape_text, fold
from showcaller.interop.tomlwrite import toml_string

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SHOWCALLER_"):
            monkeypatch.delenv(name)


def unfold(data: bytes) -> list[str]:
    """RFC 5545 3.1: lines end with CRLF; a line starting with a space continues the last."""
    assert data.endswith(b"\r\n")
    raw = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in raw)
    assert all(len(line) <= 75 for line in raw), max(raw, key=len)
    lines: list[bytes] = []
    for line in raw:
        if line.startswith(b" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return [line.decode("utf-8") for line in lines]  # a fold inside a character fails here


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            nxt = text[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            assert text[i] not in ",;", text  # unescaped separators split a TEXT value
            out.append(text[i])
            i += 1
    return "".join(out)


def events(lines: list[str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return found


def _event_file(tmp_path: Path, title: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'title = "小さな LLM を手元で動かす"', f"title = {title}"
    )
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_slot_is_an_event_at_its_local_time_with_title_speakers_and_url(
    tmp_path: Path,
) -> None:
    long_title = "小さな LLM を手元で動かす, 量子化; \\\\ と「長い」タイトル 🎤 " * 3
    path = _event_file(tmp_path, toml_string(long_title))
    cfg = load_config(path)
    data = calendar(cfg, STAMP).encode()
    lines = unfold(data)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "TZID:Asia/Tokyo" in lines
    assert "TZOFFSETTO:+0900" in lines
    found = events(lines)
    slots = cfg.slots_resolved()
    assert len(found) == len(slots)
    for event, slot in zip(found, slots, strict=True):
        start = slot.start.astimezone(cfg.tz).strftime("%Y%m%dT%H%M%S")
        end = slot.end.astimezone(cfg.tz).strftime("%Y%m%dT%H%M%S")
        assert event["DTSTART;TZID=Asia/Tokyo"] == start
        assert event["DTEND;TZID=Asia/Tokyo"] == end
        assert event["DTSTAMP"] == "20261201T090000Z"
        assert event["URL"] == "https://mlct.example.com/events/20"
        description = unescape(event["DESCRIPTION"])
        assert "https://mlct.example.com/events/20" in description
    talk = found[2]
    assert unescape(talk["SUMMARY"]) == f"{slots[2].title} — 佐藤 花子"
    assert slots[2].title == long_title
    assert "Example AI Lab" in unescape(talk["DESCRIPTION"])
    assert found[1]["DTSTART;TZID=Asia/Tokyo"] == "20261210T193000"  # the opening, 19:30 JST


def test_uids_are_stable_per_event_and_slot(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE)
    first = [e["UID"] for e in events(unfold(calendar(cfg, STAMP).encode()))]
    again = [e["UID"] for e in events(unfold(calendar(cfg, datetime.now(UTC)).encode()))]
    assert first == again
    assert len(set(first)) == len(first)
    other = tmp_path / "other.toml"
    other.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("date = 2026-12-10", "date = 2026-12-17"),
        encoding="utf-8",
    )
    assert set(first).isdisjoint(
        e["UID"] for e in events(unfold(calendar(load_config(other), STAMP).encode()))
    )


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
    found = events(unfold(calendar(cfg, STAMP).encode()))
    assert "DTSTART;TZID=Europe/Berlin" not in found[0]
    assert found[0]["DTSTART"] == "20260328T232000Z"  # 00:20 CET
    assert found[-1]["DTSTART"] == "20260329T010000Z"  # 03:00 CEST


@pytest.mark.parametrize(
    "line", ["x" * 74, "x" * 75, "x" * 76, "あ" * 30, "🎤" * 40, "a" + "あ" * 40]
)
def test_folding_keeps_characters_whole(line: str) -> None:
    folded = fold("SUMMARY:" + line).encode()
    assert unfold(folded) == ["SUMMARY:" + line]


def test_the_command_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.ics"
    assert main(["ics", str(EXAMPLE), "-o", str(out)]) == 0
    assert len(events(unfold(out.read_bytes()))) == len(load_config(EXAMPLE).slots_resolved())
    assert main(["ics", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


@given(st.text())
def test_any_text_folds_and_escapes_so_that_it_reads_back(text: str) -> None:
    line = "DESCRIPTION:" + escape_text(text)
    (back,) = unfold(fold(line).encode())
    kept = "".join(
        c
        for c in text.replace("\r\n", "\n").replace("\r", "\n")
        if c in "\t\n" or (ord(c) >= 0x20 and ord(c) != 0x7F)
    )
    assert unescape(back.partition(":")[2]) == kept
