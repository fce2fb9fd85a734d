"""The one mapping of text fields: which config value or show time fills which OBS text input.

A template's text item says `fill = "<field>"`; this module says what each field shows
and who writes it:
- `cue` fields (the lower third: speakers, title, hashtag) are written by the engine in
  the cue's own batch, before the switch; their inputs are named by [lower_third];
- `live` fields (countdowns, the next title, the event's title) are written by the
  scene texts attachment (`livetexts.py`) about once a second, for the scenes on air
  or next.
Provision, preflight (`needs_of`), the engine and the attachment all read `bindings()`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from showcaller.stage.fields import FIELDS, TextField, Writer

if TYPE_CHECKING:
    from showcaller.config import EventConfig, ResolvedSlot
    from showcaller.show.state import ShowState, SlotView
    from showcaller.stage.templates import Template

_WORDS = {
    "ja": {
        "start_in": "開始まで {t}",
        "starting": "まもなく開始",
        "back_in": "再開まで {t}",
        "back_soon": "まもなく再開",
        "next": "次: {title}",
    },
    "en": {
        "start_in": "Starting in {t}",
        "starting": "Starting now",
        "back_in": "Back in {t}",
        "back_soon": "Back soon",
        "next": "Next: {title}",
    },
}


@dataclass(frozen=True)
class TextBinding:
    """A text input, the field it shows, and the scenes that show it (parts included)."""

    input: str
    field: str
    scenes: tuple[str, ...]
    template: str

    @property
    def writer(self) -> Writer:
        """Who writes it: the engine's cue or the live texts."""
        return FIELDS[self.field].writer


def input_name(cfg: EventConfig, field: str, default: str) -> str | None:
    """The input a field's text goes to: [lower_third] names the cue fields (None: left out)."""
    config = FIELDS[field].config
    if config is None:
        return default
    name: str | None = getattr(cfg.lower_third, config)
    return name or None


def template_scenes(cfg: EventConfig, templates: Sequence[Template]) -> dict[str, tuple[str, ...]]:
    """Template name → the scene names that show it: its own, and those that show its part."""
    own: dict[str, str] = {}
    for t in templates:
        scene = t.scene_name(cfg.scenes.scene_for(t.role) if t.role else None)
        if scene:
            own[t.name] = scene
    by_part = {t.part: t.name for t in templates if t.part}
    shown_by: dict[str, list[str]] = {name: [scene] for name, scene in own.items()}
    for t in templates:
        if t.name not in own:
            continue
        for item in t.items:
            if item.scene in by_part:
                shown_by.setdefault(by_part[item.scene], []).append(own[t.name])
    return {name: tuple(dict.fromkeys(scenes)) for name, scenes in shown_by.items()}


def bindings(cfg: EventConfig, templates: Sequence[Template]) -> tuple[TextBinding, ...]:
    """Every text input the templates fill, with its field and scenes."""
    scenes = template_scenes(cfg, templates)
    found: dict[str, TextBinding] = {}
    for t in templates:
        if t.name not in scenes:
            continue
        for item in t.items:
            if item.fill is None or item.input is None:
                continue
            name = input_name(cfg, item.fill, item.input)
            if name is None:
                continue
            old = found.get(name)
            shown = scenes[t.name] if old is None else (*old.scenes, *scenes[t.name])
            found[name] = TextBinding(name, item.fill, tuple(dict.fromkeys(shown)), t.name)
    return tuple(found.values())


# ----------------------------------------------------------------------------- cue fields


def speakers_text(slot: ResolvedSlot) -> str:
    """The lower third's names: "name (affiliation)", joined with " / "."""
    return " / ".join(
        f"{sp.name} ({sp.affiliation})" if sp.affiliation else sp.name for sp in slot.speakers
    )


def cue_texts(cfg: EventConfig, slot: ResolvedSlot) -> list[tuple[str, str]]:
    """(input, text) the engine writes with a slot's cue: the lower third, named by the config."""
    values = {"speakers": speakers_text(slot), "title": slot.title, "hashtag": cfg.event.hashtag}
    texts: list[tuple[str, str]] = []
    for key, value in values.items():
        name = input_name(cfg, key, "")
        if name:
            texts.append((name, value))
    return texts


# ---------------------------------------------------------------------------- live fields


def clock_text(seconds: float) -> str:
    """Seconds as a countdown reads them: 9:05, 1:02:03; whole seconds, rounded up."""
    whole = max(0, math.ceil(seconds - 1e-6))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def live_values(
    cfg: EventConfig, state: ShowState, now: datetime, slot: SlotView | None = None
) -> dict[str, str]:
    """What every live field shows at `now` (an aware time) on the scene of `slot`.

    `slot` is the slot on air (the default) or the one about to be: its scene already
    shows what it will show on air, "next" meaning the slot after it.
    """
    words = _WORDS[cfg.event.language]
    on_air = slot is None or (state.on_air is not None and slot.index == state.on_air.index)
    slot = state.on_air if slot is None else slot
    values = {"event.title": cfg.event.title, "event.next": cfg.event.next_event}
    nxt = state.next if on_air else _after(state, slot)
    values["next.title"] = words["next"].format(title=nxt.title) if nxt is not None else ""
    values["countdown.next"] = ""
    if nxt is not None:
        left = (datetime.fromisoformat(nxt.expected_start) - now).total_seconds()
        values["countdown.next"] = (
            words["back_in"].format(t=clock_text(left)) if left > 0 else words["back_soon"]
        )
    first = next((s for s in state.slots if s.kind != "standby" and s.state == "upcoming"), None)
    values["countdown.start"] = words["starting"]
    if first is not None:
        left = (datetime.fromisoformat(first.expected_start) - now).total_seconds()
        if left > 0:
            values["countdown.start"] = words["start_in"].format(t=clock_text(left))
    values["countdown.remaining"] = _remaining(state, now, slot, on_air)
    return values


def _after(state: ShowState, slot: SlotView | None) -> SlotView | None:
    """The upcoming slot that follows `slot` in the timetable."""
    if slot is None:
        return None
    return next((s for s in state.slots if s.index > slot.index and s.state == "upcoming"), None)


def _remaining(state: ShowState, now: datetime, slot: SlotView | None, on_air: bool) -> str:
    if slot is None:
        return ""
    if on_air:
        if state.time_left_s is None:
            return ""
        left = state.time_left_s
        if not state.held:
            left -= (now - datetime.fromisoformat(state.now)).total_seconds()
    else:  # not started yet: its whole length
        start, end = (datetime.fromisoformat(t) for t in (slot.expected_start, slot.expected_end))
        left = (end - start).total_seconds()
    return clock_text(left) if left >= 0 else "-" + clock_text(-left)


def scene_texts_now(
    cfg: EventConfig, found: Iterable[TextBinding], state: ShowState, now: datetime
) -> list[tuple[str, str]]:
    """(input, text) for the live bindings of the scenes on air and next, each with the
    values of its own slot (the scene on air wins where both show an input)."""
    found = [b for b in found if b.writer == "live"]
    texts: dict[str, str] = {}
    anchors = [(state.on_air, {state.program_scene} if state.program_scene else set())]
    anchors.append((state.next, set()))
    for slot, extra in anchors:
        if slot is None:
            continue
        scenes = {slot.scene, *extra} - {""}
        values = live_values(cfg, state, now, slot)
        for b in found:
            if b.input not in texts and scenes.intersection(b.scenes) and b.field in values:
                texts[b.input] = values[b.field]
    return list(texts.items())


__all__ = [
    "FIELDS",
    "TextBinding",
    "TextField",
    "bindings",
    "clock_text",
    "cue_texts",
    "input_name",
    "live_values",
    "scene_texts_now",
    "speakers_text",
    "template_scenes",
]
