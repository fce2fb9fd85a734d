"""`showcaller chapters` and `showcaller report` on the journal of a real rehearsal of the
example event on the built-in simulated OBS (recorded, split per talk): computed from the
journal alone, the HTML report opened in headless Chromium."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from showcaller.interop.chapters import stamp
from showcaller.interop.runs import runs_of
from showcaller.show.journal import read_journal
from tests.test_web_browser import browser  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
TITLES = ["まもなく開始", "オープニング", "小さな LLM を手元で動かす", "クロージング"]
GRACE_SLOTS = [3, 5, 8, 10, 11, 12]  # 1-based: the talks and LTs that use their `end = N`


def _showcaller(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "showcaller", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The journal of `rehearse --record` of the example (Cut transitions, x3000)."""
    folder = tmp_path_factory.mktemp("rehearsal")
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    config = folder / "event.toml"
    config.write_text(text, encoding="utf-8")
    done = _showcaller(
        "rehearse", config, "--obs", "sim", "--speed", "3000", "--plain", "--no-web", "--record"
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return folder / "event.rehearsal.jsonl"


def _seconds(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


def test_chapters_start_at_zero_with_speakers_and_say_what_they_are_relative_to(
    journal: Path,
) -> None:
    done = _showcaller("chapters", journal)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("00:00 ")
    assert len(lines) >= 3
    times = [_seconds(line.split(" ", 1)[0]) for line in lines]
    assert all(b - a >= 10 for a, b in itertools.pairwise(times))
    assert any("小さな LLM を手元で動かす — 佐藤 花子" in line for line in lines)
    # 110 minutes of show: H:MM:SS from the hour on, MM:SS before it.
    assert re.fullmatch(r"1:\d\d:\d\d", lines[-1].split(" ", 1)[0])
    assert re.fullmatch(r"\d\d:\d\d", lines[1].split(" ", 1)[0])
    # A rehearsal never streams: the recording is the reference, and stderr says so.
    assert "stream never started" in done.stderr


def test_chapters_of_a_split_recording_come_per_file_each_from_zero(journal: Path) -> None:
    done = _showcaller("chapters", journal, "--recording")
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.strip().split("\n\n")
    files = {e.data["path"] for e in read_journal(journal) if e.data.get("action") == "file"}
    assert len(blocks) == len(files) + 1  # the first file, then one per split
    for block in blocks:
        head, first, *_ = [*block.splitlines(), ""]
        assert head.startswith("# ")
        assert head.endswith(".mkv")
        assert first.startswith("00:00 ")
    assert "Feature Store を半年運用してみた — 田中 健太" in blocks[2].splitlines()[1]
    assert "split" in done.stderr


def test_the_markdown_and_csv_reports_show_planned_vs_actual_and_overruns(journal: Path) -> None:
    md = _showcaller("report", journal)
    assert md.returncode == 0, md.stderr
    for title in TITLES:
        assert title in md.stdout
    # The talks used their configured grace (`end = 60` / `end = 30`): the plan working,
    # not an overrun.
    assert md.stdout.count("**overrun**") == 0
    assert "## Speaker checks" in md.stdout
    assert "Yui Suzuki" in md.stdout
    assert "OBS: the recording started" in md.stdout
    done = _showcaller("report", journal, "--format", "csv")
    rows = done.stdout.strip().splitlines()
    assert len(rows) == 14  # the header and the 13 slots
    overran = [r.split(",")[0] for r in rows[1:] if ",yes,no," in r]
    assert overran == []
    over = {r.split(",")[0]: r for r in rows[1:]}
    for n in GRACE_SLOTS:  # each ran past its planned end by its grace, as planned
        assert ",no,no," in over[str(n)], over[str(n)]


def test_a_journal_of_an_older_showcaller_is_refused_with_a_clear_line(
    journal: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    old.write_text("".join(ln for ln in lines if '"kind": "plan"' not in ln), encoding="utf-8")
    done = _showcaller("chapters", old)
    assert done.returncode == 2
    assert "older showcaller" in done.stderr
    assert "Traceback" not in done.stderr
    done = _showcaller("report", tmp_path / "missing.jsonl")
    assert done.returncode == 2
    assert "no such journal" in done.stderr
    done = _showcaller("chapters", EXAMPLE)  # the event file instead of its journal
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        f"error: {EXAMPLE}: not a show journal (its first line is not a journal record)"
    )


def _record(kind: str, template: dict[str, Any], **data: Any) -> str:
    base = {k: template[k] for k in ("wall", "mono", "plan", "v")}
    return json.dumps({"kind": kind, **base, **data}, ensure_ascii=False) + "\n"


def test_a_resumed_show_is_one_run_and_a_rerun_is_a_new_one(journal: Path, tmp_path: Path) -> None:
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    start, plan = lines[0], next(ln for ln in lines if '"kind": "plan"' in ln)
    cut = len(lines) // 2
    start_at = json.loads(lines[cut])
    resumed = tmp_path / "resumed.jsonl"
    restart = json.loads(start) | {"mono": start_at["mono"], "show_seconds": 0.0}
    # A crash at the middle: the restarted showcaller writes resume, start and plan again;
    # its mono clock restarts (anchored by its start record).
    restart["show_seconds"] = json.loads(start)["show_seconds"] + (
        start_at["mono"] - json.loads(start)["mono"]
    )
    resumed.write_text(
        "".join(lines[:cut])
        + _record("resume", start_at, from_line=cut)
        + json.dumps(restart, ensure_ascii=False)
        + "\n"
        + plan
        + "".join(lines[cut:]),
        encoding="utf-8",
    )
    whole = runs_of(read_journal(journal), journal)
    merged = runs_of(read_journal(resumed), resumed)
    assert len(merged) == 1
    assert merged[0].resumes == 1
    assert merged[0].slot_runs() == whole[0].slot_runs()
    twice = tmp_path / "twice.jsonl"
    twice.write_text("".join(lines) * 2, encoding="utf-8")
    assert len(runs_of(read_journal(twice), twice)) == 2
    assert _showcaller("chapters", twice).stdout == _showcaller("chapters", journal).stdout


def test_chapter_stamps_are_the_way_youtube_reads_them() -> None:
    assert [stamp(s) for s in (0, 9.6, 59 * 60 + 59, 3600, 3600 + 65)] == [
        "00:00",
        "00:10",
        "59:59",
        "1:00:00",
        "1:01:05",
    ]


@pytest.mark.slow
async def test_the_html_report_draws_the_timeline_in_chromium(
    journal: Path,
    tmp_path: Path,
    browser: Any,  # noqa: F811
) -> None:
    page_file = tmp_path / "report.html"
    done = _showcaller("report", journal, "--format", "html", "-o", page_file)
    assert done.returncode == 0, done.stderr
    html = page_file.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    page = await browser.new_page(viewport={"width": 1220, "height": 900})
    blocked: list[str] = []
    await page.route("**/*", lambda route: _only_the_file(route, blocked))
    await page.goto(page_file.as_uri())
    assert await page.locator("svg.timeline").count() == 1
    planned = page.locator("svg .bar-planned")
    actual = page.locator("svg .bar-actual")
    assert await planned.count() == 13
    assert await actual.count() == 13
    widths = [
        (
            float(await planned.nth(i).get_attribute("width") or 0),
            float(await actual.nth(i).get_attribute("width") or 0),
        )
        for i in range(13)
    ]
    for n in GRACE_SLOTS:
        plan_w, actual_w = widths[n - 1]
        assert actual_w > plan_w + 2, f"slot {n} overran: its bar must be wider"
    plan_w, actual_w = widths[1]  # the opening ran to plan
    assert abs(actual_w - plan_w) < 1
    # Their grace was the plan: the bars are longer, but nothing is drawn as an overrun.
    assert await page.locator("svg .overrun").count() == 0
    assert await page.locator("svg .marker").count() > 0
    box = await page.locator("svg.timeline").bounding_box()
    assert box is not None
    assert box["width"] > 1000
    assert "小さな LLM を手元で動かす" in await page.locator("svg.timeline").inner_html()
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    await page.screenshot(path=str(artifacts / "report-timeline.png"))
    assert blocked == []


async def _only_the_file(route: Any, blocked: list[str]) -> None:
    url = route.request.url
    if url.startswith("file://"):
        await route.continue_()
    else:
        blocked.append(url)
        await route.abort()


def _write_journal(path: Path, records: list[tuple[float, str, dict[str, Any]]]) -> None:
    """A journal as showcaller writes it: (show seconds, kind, fields) per record."""
    origin = "2026-12-10T19:30:00+09:00"
    lines = []
    for at, kind, data in records:
        wall = f"2026-12-10T19:{30 + int(at // 60):02d}:{int(at % 60):02d}+09:00"
        record = {"kind": kind, "wall": wall, "mono": 1000 + at, "plan": "p", "v": 2, **data}
        if kind == "start":
            record |= {"mode": "live", "origin": origin, "show_seconds": at, "slots": 4}
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    path.write_text("".join(lines), encoding="utf-8")


def _slot(index: int, kind: str, title: str, start: float, end: float, *names: str) -> Any:
    speakers = [{"id": n, "name": n, "handle": ""} for n in names]
    return {"index": index, "kind": kind, "title": title, "speakers": speakers} | {
        "start": start,
        "end": end,
        "scene": kind,
    }


def test_a_chapter_shorter_than_ten_seconds_is_merged_and_said(tmp_path: Path) -> None:
    slots = [
        _slot(0, "opening", "Opening", 0, 300),
        _slot(1, "talk", "Too short", 300, 1200, "Ann"),
        _slot(2, "talk", "Second <talk>", 1200, 2100, "Bo", "Cy"),
        _slot(3, "closing", "Closing", 2100, 2400),
    ]
    plan = {"event": {"title": "T", "timezone": "Asia/Tokyo", "language": "en"}, "slots": slots}
    cue = "slot_started"
    _write_journal(
        tmp_path / "j.jsonl",
        [
            (-120, "start", {}),
            (-120, "plan", plan),
            (-60, "stream", {"action": "started", "active": True}),
            (0, "cue", {"cue": cue, "slot": 0, "deadline": 0, "sent": 0}),
            (300, "cue", {"cue": cue, "slot": 1, "deadline": 300, "sent": 300}),
            (300.2, "landed", {"slot": 1, "at": 300.2, "late_ms": 0.2}),
            (305, "command", {"command": "next", "source": "keys"}),
            (305, "cue", {"cue": cue, "slot": 2, "deadline": 305, "sent": 305}),
            (1300, "cue", {"cue": cue, "slot": 3, "deadline": 1300, "sent": 1300}),
            (1600, "cue", {"cue": "show_ended", "at": 1600}),
            (1601, "stop", {"phase": "ended"}),
        ],
    )
    done = _showcaller("chapters", tmp_path / "j.jsonl")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "00:00 Stream starts",  # the first slot began a minute into the stream
        "01:00 Opening",
        "06:05 Second ‹talk› — Bo / Cy",
        "22:40 Closing",
    ]
    assert "'Too short — Ann' lasted 5 s: merged into the chapter before" in done.stderr
    assert "relative to the stream's start" in done.stderr
