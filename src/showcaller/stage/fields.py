"""The fields a scene template's text item may `fill`, and who writes each.

Below both the templates (which check a `fill` names a field) and the text-field mapping
(`textfields.py`, which says what each field shows and which input it goes to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Writer = Literal["cue", "live"]


@dataclass(frozen=True)
class TextField:
    """One field a text input can show."""

    key: str
    about: str
    writer: Writer
    config: str | None = None  # the [lower_third] field naming its input (cue fields)


FIELDS: dict[str, TextField] = {
    f.key: f
    for f in (
        TextField("speakers", "the slot's speakers: name (affiliation)", "cue", "speaker_input"),
        TextField("title", "the slot's title", "cue", "title_input"),
        TextField("hashtag", "the event's hashtag", "cue", "hashtag_input"),
        TextField("event.title", "the event's title", "live"),
        TextField("event.next", "the next event ([event].next_event)", "live"),
        TextField("next.title", "the next slot's title", "live"),
        TextField("countdown.start", "time until the show starts (after standby)", "live"),
        TextField("countdown.next", "time until the next slot", "live"),
        TextField("countdown.remaining", "time left in the slot on air", "live"),
    )
}


__all__ = ["FIELDS", "TextField", "Writer"]
