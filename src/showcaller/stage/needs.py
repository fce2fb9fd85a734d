"""The one answer to "what does this event need from OBS?" (see `obs.needs`)."""

from __future__ import annotations

from showcaller.config import EventConfig
from showcaller.obs.needs import SceneNeed, ShowNeeds, SpeakerNeed, TextNeed
from showcaller.stage.templates import builtin_templates
from showcaller.stage.textfields import bindings

ROLES = ("standby", "opening", "talk", "lt", "break", "qa", "closing", "trouble")


def needs_of(cfg: EventConfig) -> ShowNeeds:
    """The scenes (every slot's, and every role's), lower-third texts, speaker feeds, and
    the scene templates' live texts (countdowns: `soft`, the show runs without them)."""
    slots = cfg.slots_resolved()
    # A scene is named once, where the file names it: a slot's own `scene`, else its
    # kind's [scenes] key (a typo there is one line, not one per slot of that kind).
    own = {
        slot.index
        for slot, raw in zip(slots, cfg.timetable.slots, strict=True)
        if raw.scene is not None
    }
    scenes = [
        SceneNeed(slot.scene, cfg.where(("timetable", "slots", slot.index, "scene")), on_air=True)
        for slot in slots
        if slot.scene and slot.index in own
    ]
    on_air_roles = {slot.kind for slot in slots if slot.index not in own}
    named = {s.name for s in scenes}
    for role in ROLES:
        scene = cfg.scenes.scene_for(role)
        if scene and scene not in named:
            named.add(scene)
            scenes.append(SceneNeed(scene, cfg.where(("scenes", role)), role in on_air_roles))
    slot_scenes = tuple(dict.fromkeys(s.scene for s in slots if s.scene))
    lt = cfg.lower_third
    texts = tuple(
        TextNeed(name, cfg.where(("lower_third", field)), slot_scenes)
        for field, name in (
            ("speaker_input", lt.speaker_input),
            ("title_input", lt.title_input),
            ("hashtag_input", lt.hashtag_input),
        )
        if name
    )
    texts += tuple(
        TextNeed(b.input, f"scene template {b.template}: {b.field}", b.scenes, soft=True)
        for b in bindings(cfg, builtin_templates())
        if b.writer == "live"
    )
    speakers = []
    for sp in cfg.speakers:
        if not (sp.video_input or sp.audio_input):
            continue
        theirs = tuple(
            dict.fromkeys(s.scene for s in slots if any(p.id == sp.id for p in s.speakers))
        )
        speakers.append(
            SpeakerNeed(sp.id, sp.video_input, sp.audio_input, theirs or slot_scenes[:1])
        )
    return ShowNeeds(tuple(scenes), texts, tuple(speakers), cfg.obs.transition)


__all__ = ["needs_of"]
