"""YouTube chapters from a show's journal: ready to paste into the video's description.

YouTube's rules (support.google.com/youtube/answer/9884579): the first chapter at 0:00,
at least three chapters, each at least 10 seconds long, in time order. Times are
`MM:SS` below an hour and `H:MM:SS` from an hour.

- Relative to the stream's start (the first time OBS said the stream started; else
  showcaller's own start of it), or with `recording=True` to the recording's start.
  A rehearsal has no stream: the recording, else the first slot on air, with a note.
- A chapter per slot that went on air, in the order it did (a slot put on air again
  with `back` comes again; skipped slots are not there), titled with its speakers.
- The first chapter is moved to 0:00 when it starts within 10 s of the reference;
  later, a chapter named after the stream (配信開始 / "Stream starts") fills the gap.
- A chapter shorter than 10 s is merged into the one before it (the first: into the
  next), with a note.
- Split recordings (`record.per_talk = "split"` or `"restart"`) with `recording=True`:
  one block per file, each from 0:00 and headed by the file's name.

Notes for the host (what was merged, what the times are relative to) are returned
beside the text; the command prints them on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from showcaller.errors import UsageError
from showcaller.interop.runs import Run, by_index, with_speakers
from showcaller.show.journal import Kind
from showcaller.words import plural

# YouTube's shortest chapter and fewest chapters.
MIN_CHAPTER_S = 10.0
MIN_CHAPTERS = 3


@dataclass(frozen=True)
class Chapter:
    """One chapter: seconds from its video's start, and its title."""

    at: float
    title: str


@dataclass
class ChapterList:
    """The chapters of one video (one recording file, or the whole stream)."""

    chapters: list[Chapter]
    file: str | None = None  # the recording file these chapters belong to


@dataclass
class Chapters:
    """What `showcaller chapters` prints: the lists, and notes for stderr."""

    lists: list[ChapterList]
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The chapter lists as text (blocks separated by a blank line)."""
        blocks = []
        for block in self.lists:
            lines = [f"# {block.file}"] if block.file is not None else []
            lines += [f"{stamp(c.at)} {c.title}" for c in block.chapters]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"


def stamp(seconds: float) -> str:
    """`MM:SS` below an hour, `H:MM:SS` from an hour (to the nearest second)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _clean(title: str) -> str:
    # YouTube drops descriptions with angle brackets; a line break would end the chapter.
    return " ".join(title.replace("<", "‹").replace(">", "›").split())


def _first(run: Run, kind: str, *actions: str) -> float | None:
    for action in actions:
        for h in run.of(kind):
            if h.data.get("action") == action:
                return h.at
    return None


def _reference(run: Run, recording: bool, notes: list[str]) -> tuple[float, str]:
    stream = _first(run, Kind.STREAM, "started", "on_air", "start")
    record = _first(run, Kind.RECORD, "started", "start")
    cues = run.slot_cues()
    if not cues:
        raise UsageError(
            "no slot went on air in this journal's last run: there is nothing to chapter",
            hint="run the show (or rehearse it) to its first slot at least",
        )
    if recording:
        if record is not None:
            return record, "the recording's start"
        notes.append("nothing was recorded in this run: chapters are from the first slot on air")
        return cues[0][0], "the first slot on air"
    if stream is not None:
        return stream, "the stream's start"
    why = (
        "the stream never started in this rehearsal"
        if run.mode == "rehearsal"
        else "the journal has no stream start (was it on air before showcaller started?)"
    )
    if record is not None:
        notes.append(f"{why}: chapters are from the recording's start")
        return record, "the recording's start"
    notes.append(f"{why}, nor a recording: chapters are from the first slot on air")
    return cues[0][0], "the first slot on air"


def _merge_short(chapters: list[Chapter], end: float | None, notes: list[str]) -> list[Chapter]:
    """Chapters of at least MIN_CHAPTER_S (the last one too, when the end is known)."""
    out = list(chapters)
    i = 0
    while len(out) > 1 and i < len(out):
        nxt = out[i + 1].at if i + 1 < len(out) else end
        if nxt is None or nxt - out[i].at >= MIN_CHAPTER_S:
            i += 1
            continue
        short = out.pop(i)
        length = max(0.0, nxt - short.at)
        if i == 0:
            out[0] = Chapter(short.at, out[0].title)  # the first stays at 0:00
            notes.append(f"{short.title!r} lasted {length:.0f} s: merged into the next chapter")
        else:
            notes.append(f"{short.title!r} lasted {length:.0f} s: merged into the chapter before")
    return out


def _starts(run: Run, reference: float) -> list[Chapter]:
    slots = by_index(run.slots)
    chapters: list[Chapter] = []
    last: int | None = None
    for at, index in run.slot_cues():
        if index == last or index not in slots:
            continue
        last = index
        chapters.append(Chapter(at - reference, _clean(with_speakers(slots[index]))))
    # The slot on air when the video began starts it; those before are not in it.
    before = [c for c in chapters if c.at <= 0]
    after = [c for c in chapters if c.at > 0]
    if before:
        after.insert(0, Chapter(0.0, before[-1].title))
    return after


def _from_zero(chapters: list[Chapter], language: str, what: str) -> list[Chapter]:
    if not chapters or chapters[0].at <= 0:
        return chapters
    if chapters[0].at < MIN_CHAPTER_S:
        return [Chapter(0.0, chapters[0].title), *chapters[1:]]
    if what == "the stream's start":
        opening = "配信開始" if language == "ja" else "Stream starts"
    else:
        opening = "開始" if language == "ja" else "Start"
    return [Chapter(0.0, opening), *chapters]


def _check_count(block: ChapterList, notes: list[str]) -> None:
    if len(block.chapters) < MIN_CHAPTERS:
        where = f"{block.file}: " if block.file else ""
        notes.append(
            f"{where}only {plural(len(block.chapters), 'chapter')}: YouTube shows chapters only "
            f"from {MIN_CHAPTERS} on"
        )


def _split_files(run: Run, reference: float) -> list[tuple[float, str, int | None]]:
    """(start, file name, slot that opened it) of each recording file, in order."""
    files: list[tuple[float, str, int | None]] = []
    slot: int | None = None
    for h in run.happenings:
        if h.kind == Kind.CUE and h.data.get("cue") == "slot_started":
            slot = h.data.get("slot") if isinstance(h.data.get("slot"), int) else None
        path = h.data.get("path")
        if h.kind != Kind.RECORD or h.data.get("action") not in ("started", "file"):
            continue
        if isinstance(path, str) and path:
            name = PurePath(path).name
            if not files or files[-1][1] != name:
                files.append((h.at - reference, name, slot))
    return files


def chapters_of(run: Run, *, recording: bool = False) -> Chapters:
    """The YouTube chapters of a run (see the module docstring)."""
    notes: list[str] = []
    reference, what = _reference(run, recording, notes)
    end = run.end_at()
    end_rel = None if end is None else end - reference
    speed = f" (show time: the rehearsal ran x{run.speed:g})" if run.speed != 1 else ""
    notes.append(f"chapters relative to {what}{speed}")
    per_file = recording and run.per_talk in ("split", "restart")
    files = _split_files(run, reference) if per_file else []
    if len(files) <= 1:
        starts = _from_zero(_starts(run, reference), run.language, what)
        block = ChapterList(_merge_short(starts, end_rel, notes))
        _check_count(block, notes)
        return Chapters([block], notes)
    notes.append(f"the recording was split: {len(files)} files, chapters per file")
    slots = by_index(run.slots)
    cues = [(at - reference, index) for at, index in run.slot_cues()]
    lists: list[ChapterList] = []
    for n, (begin, name, slot) in enumerate(files):
        stop = files[n + 1][0] if n + 1 < len(files) else end_rel
        # The file opens with the slot whose cue split it (the cue goes out a little
        # before the scene lands, so the file's first seconds are that slot's already).
        first_at = next((at for at, i in cues if i == slot and at >= begin), begin)
        chapters = [Chapter(0.0, _clean(with_speakers(slots[slot])))] if slot in slots else []
        last = slot
        for at, index in cues:
            if at <= first_at or (stop is not None and at >= stop) or index == last:
                continue
            last = index
            chapters.append(Chapter(at - begin, _clean(with_speakers(slots[index]))))
        length = None if stop is None else stop - begin
        lists.append(ChapterList(_merge_short(chapters, length, notes), file=name))
    few = [b.file or "" for b in lists if len(b.chapters) < MIN_CHAPTERS]
    if few:
        notes.append(
            f"{len(few)} of {len(lists)} files have fewer than {MIN_CHAPTERS} chapters, "
            f"which YouTube does not show: {', '.join(few)}"
        )
    return Chapters(lists, notes)


__all__ = ["Chapter", "ChapterList", "Chapters", "chapters_of", "stamp"]
