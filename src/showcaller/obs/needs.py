"""What a show needs from OBS, as plain data: scenes, text inputs, speaker feeds, transition.

Written by `showcaller.stage.needs.needs_of` from an event config; read by doctor, preflight,
the simulated OBS's seeding and the tests. It lives in `obs/` so that the simulated OBS
can seed itself from it without knowing the event config.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SceneNeed:
    """A scene the show switches to; `why` says who names it (for a missing-scene line)."""

    name: str
    why: str
    on_air: bool  # a slot puts it on program (roles like "trouble" may not)


@dataclass(frozen=True)
class TextNeed:
    """A text input the show writes on every cue (a lower third), shown in `scenes`."""

    name: str
    why: str  # the config field: "lower_third.speaker_input"
    scenes: tuple[str, ...]
    soft: bool = False  # a scene template's text (countdowns): missing is a warning only


@dataclass(frozen=True)
class SpeakerNeed:
    """One speaker's feeds: the inputs carrying picture and sound, and where they appear."""

    speaker: str  # the speaker's id
    video_input: str | None
    audio_input: str | None
    scenes: tuple[str, ...]  # the scenes of the speaker's slots (else the first slot's)


@dataclass(frozen=True)
class ShowNeeds:
    """Everything a show asks of OBS, in the order the event names it."""

    scenes: tuple[SceneNeed, ...]
    texts: tuple[TextNeed, ...]
    speakers: tuple[SpeakerNeed, ...]
    transition: str | None = None

    @property
    def scene_names(self) -> tuple[str, ...]:
        """Every scene name once, in order."""
        return tuple(dict.fromkeys(s.name for s in self.scenes))

    @property
    def input_names(self) -> tuple[str, ...]:
        """Every input name once (texts first, then speakers' video and audio)."""
        names = [t.name for t in self.texts]
        for sp in self.speakers:
            names.extend(n for n in (sp.video_input, sp.audio_input) if n)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Missing:
    """A scene or input the show needs that OBS lacks, and what needs it."""

    what: str  # "scene" or "input"
    name: str
    why: str
    near: str | None = None  # the name OBS has that the host probably meant
    soft: bool = False  # only a scene template's: the show runs without it

    def __str__(self) -> str:
        near = f" — did you mean {self.near!r}?" if self.near else ""
        return f"{self.why}: OBS has no {self.what} {self.name!r}{near}"


def lacking(needs: ShowNeeds, scenes: set[str], inputs: set[str]) -> list[Missing]:
    """What OBS (with these scene and input names) lacks, one line per place that names it,
    each with the nearest name OBS has (case, width, a typo) if one is near."""
    from showcaller.nearnames import nearest

    missing = [
        Missing("scene", s.name, s.why, nearest(s.name, scenes))
        for s in needs.scenes
        if s.name not in scenes
    ]
    missing += [
        Missing("input", t.name, t.why, nearest(t.name, inputs), soft=t.soft)
        for t in needs.texts
        if t.name not in inputs
    ]
    for sp in needs.speakers:
        for field, name in (("video_input", sp.video_input), ("audio_input", sp.audio_input)):
            if name and name not in inputs:
                why = f"speaker {sp.speaker}: {field}"
                missing.append(Missing("input", name, why, nearest(name, inputs)))
    return missing


__all__ = ["Missing", "SceneNeed", "ShowNeeds", "SpeakerNeed", "TextNeed", "lacking"]
