"""An imported event → an event file (TOML with comments, the way config.example.toml reads).

The scenes and lower-third inputs are the example's names, which `showcaller provision`
and the built-in simulated OBS know; the host renames them to their own OBS's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from showcaller.config.sections import format_clock, format_duration
from showcaller.interop.schedule import ImportedEvent, ImportedSlot
from showcaller.interop.tomlwrite import TomlDocument

STANDBY_BEFORE = timedelta(minutes=10)
_W = 26  # the column of the trailing comments

_SCENES = (
    ("standby", "Standby", "before the show"),
    ("opening", "Opening", "the MC's opening"),
    ("talk", "Talk", "a talk: slides + speaker camera"),
    ("lt", "Lightning Talk", "a lightning talk"),
    ("break", "Break", "the break (countdown to the next slot)"),
    ("qa", "Q&A", "questions and answers"),
    ("closing", "Closing", "the MC's closing"),
    ("trouble", "Technical Difficulties", '"please stand by", one key away in the dashboard'),
)


def with_standby(event: ImportedEvent) -> ImportedEvent:
    """The event with a standby slot before its first slot (unless it starts with one)."""
    if not event.slots or event.slots[0].kind == "standby":
        return event
    first = event.slots[0]
    standby = ImportedSlot("standby", None, first.start - STANDBY_BEFORE, None, anchored=True)
    slots = (standby, replace(first, anchored=True), *event.slots[1:])
    return replace(event, slots=slots, date=standby.start.date())


def event_file(event: ImportedEvent) -> str:
    """The event as a commented TOML event file that `load_config` accepts."""
    doc = TomlDocument()
    doc.comment(f"showcaller event file for {event.title}")
    for note in event.notes:
        doc.comment(note)
    doc.comment("Check it with `showcaller validate FILE`; try it with `showcaller rehearse FILE`.")
    doc.comment("Secrets never go here: set SHOWCALLER_OBS__PASSWORD and SHOWCALLER_WEB__TOKEN")
    doc.comment("in the environment.")
    _event(doc, event)
    _obs(doc)
    _record(doc, event)
    if event.connpass_event is not None:
        doc.table("connpass", "the event's connpass page (showcaller import --connpass)")
        doc.set(
            "event_id", event.connpass_event, "the API key: SHOWCALLER_CONNPASS__API_KEY", width=_W
        )
    _timetable(doc, event)
    _speakers(doc, event)
    return doc.text()


def _event(doc: TomlDocument, event: ImportedEvent) -> None:
    doc.table("event")
    doc.set("title", event.title, "shown on the countdown page and in reports", width=_W)
    doc.set("date", event.date, "the day of the show (a TOML date, no quotes)", width=_W)
    doc.set("timezone", event.timezone, "IANA zone of every time in the timetable", width=_W)
    doc.set("hashtag", event.hashtag, 'lower third and reminders, e.g. "#mlct"', width=_W)
    doc.set("url", event.url, "the event page", width=_W)
    doc.set("language", event.language, '"ja" or "en": default titles, speaker pages', width=_W)
    doc.set(
        "crosses_midnight",
        event.crosses_midnight,
        "true: a slot starts after midnight",
        width=_W,
    )


def _obs(doc: TomlDocument) -> None:
    doc.table("obs")
    doc.set(
        "url", "sim", '"sim" = built-in simulated OBS; real OBS: "ws://127.0.0.1:4455"', width=_W
    )
    doc.comment("password: set SHOWCALLER_OBS__PASSWORD (OBS: Tools > WebSocket Server Settings)")
    doc.set("transition", "Fade", "OBS transition for every switch", width=_W)
    doc.set("transition_ms", 300, "its length in milliseconds", width=_W)
    doc.table("scenes", "the OBS scene for each role a slot can play (rename to yours)")
    for key, scene, what in _SCENES:
        doc.set(key, scene, what, width=_W)
    doc.table("lower_third", "OBS text inputs rewritten on every cue")
    doc.set("speaker_input", "Lower Third Name", "the speaker's name (and affiliation)", width=_W)
    doc.set("title_input", "Lower Third Title", "the slot's title", width=_W)
    doc.set("hashtag_input", "Lower Third Hashtag", "the event's hashtag", width=_W)


def _record(doc: TomlDocument, event: ImportedEvent) -> None:
    doc.table("record")
    doc.set("enabled", True, "record the show", width=_W)
    doc.set(
        "per_talk", "split", 'one file per talk: "split", "chapter", "restart" or "off"', width=_W
    )
    if any(s.do_not_record for s in event.slots):
        doc.comment("slots with do_not_record = true are not recorded: the recording pauses")
        doc.comment("while they are on air and goes on with the next slot")


def _timetable(doc: TomlDocument, event: ImportedEvent) -> None:
    doc.table("timetable")
    doc.set("break_min", "5m", "a late show may squeeze a break down to this", width=_W)
    doc.set("qa_min", "2m", "... and a Q&A down to this", width=_W)
    for i, slot in enumerate(event.slots):
        doc.table("timetable.slots", _slot_comment(event, i), array=True)
        doc.set("kind", slot.kind, width=_W)
        if slot.title:
            doc.set("title", slot.title, width=_W)
        if slot.speakers:
            doc.set("speakers", list(slot.speakers), width=_W)
        if slot.anchored or i == 0:
            doc.set("start", format_clock(slot.start.timetz()), width=_W)
        if slot.duration is not None:
            doc.set("duration", format_duration(slot.duration), width=_W)
        if slot.do_not_record:
            doc.set("do_not_record", True, "the speaker asked not to be recorded", width=_W)


def _slot_comment(event: ImportedEvent, index: int) -> str:
    slot = event.slots[index]
    start = slot.start
    end = slot.start + slot.duration if slot.duration is not None else None
    if end is None and index + 1 < len(event.slots):
        end = event.slots[index + 1].start
    text = f"{start:%H:%M}" + (f"-{end:%H:%M}" if end is not None else "")
    if slot.note:
        text += f" ({slot.note})"
    return text


def _speakers(doc: TomlDocument, event: ImportedEvent) -> None:
    for n, speaker in enumerate(event.speakers):
        doc.table("speakers", array=True)
        doc.set("id", speaker.id, "the id the slots refer to" if n == 0 else "", width=_W)
        doc.set("name", speaker.name, "shown in the lower third" if n == 0 else "", width=_W)
        if speaker.handle:
            doc.set("handle", speaker.handle, width=_W)
        if speaker.affiliation:
            doc.set("affiliation", speaker.affiliation, width=_W)
        if n == 0:
            doc.comment(
                'video_input = "Speaker 1 Video"  # the OBS input with their picture (checked)'
            )
            doc.comment('audio_input = "Speaker 1 Audio"  # the OBS input with their sound')


__all__ = ["event_file", "with_standby"]
