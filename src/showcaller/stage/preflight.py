"""Before the first cue: what OBS lacks for the show, what would keep the stream off air,
and the show's transition made OBS's current one."""

from __future__ import annotations

from dataclasses import dataclass

from showcaller.config import EventConfig
from showcaller.errors import OBSError
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.needs import lacking
from showcaller.stage.needs import needs_of
from showcaller.words import plural

# OBS names its built-in transitions in its UI language ("フェード" on an OBS in Japanese):
# the config's "Cut" and "Fade" also find them by kind.
BUILTIN_TRANSITIONS = {"cut": "cut_transition", "fade": "fade_transition"}
# One frame at 30 fps: how long OBS takes to show a cut.
FRAME_S = 1 / 30


@dataclass(frozen=True)
class ObsCheck:
    """What OBS lacks for the show: problems, warnings, and whether the show cannot run."""

    problems: list[str]  # missing scenes and inputs the show uses (with "did you mean …?")
    warnings: list[str]  # the scene templates' texts, if OBS was not provisioned
    hard: list[str]  # the problems a live show must not start with: a slot without its scene


async def check_obs(cfg: EventConfig, gateway: OBSGateway) -> ObsCheck:
    """Every scene and input the config and the scene templates name, looked for in OBS."""
    needs = needs_of(cfg)
    scenes = set(await gateway.scene_names())
    inputs = {i.name for i in await gateway.inputs()}
    gaps = lacking(needs, scenes, inputs)
    on_air = {s.name for s in needs.scenes if s.on_air}
    problems = [str(m) for m in gaps if not m.soft]
    hard = [str(m) for m in gaps if m.what == "scene" and m.name in on_air]
    soft = [m for m in gaps if m.soft]
    warnings = []
    if soft:
        names = ", ".join(repr(m.name) for m in soft[:3]) + (", …" if len(soft) > 3 else "")
        near = [str(m) for m in soft if m.near]
        warnings.append(
            f"OBS lacks {plural(len(soft), 'text')} of the scene templates ({names}): "
            "the countdowns stay blank; `showcaller provision FILE` creates them"
        )
        warnings += near
    return ObsCheck(problems, warnings, hard)


async def preflight(cfg: EventConfig, gateway: OBSGateway) -> list[str]:
    """Problems OBS would cause during the show: every missing scene and input, where named."""
    return (await check_obs(cfg, gateway)).problems


async def stream_preflight(gateway: OBSGateway) -> list[str]:
    """What would keep the stream off the air, found before it starts (the key is never shown).

    A fresh OBS streams nowhere (rtmp_common with nothing set); OBS answers StartStream
    anyway and gives up by itself, which the host would only learn at the stream's start.
    """
    try:
        service = await gateway.stream_service()
    except OBSError as exc:
        return [f"could not read OBS's stream settings: {exc}"]
    settings = service.settings
    where = "set it in OBS: Settings > Stream"
    if service.service_type == "rtmp_custom" and not str(settings.get("server") or "").strip():
        return [f"OBS has no stream server: the stream cannot go on air ({where})"]
    if service.service_type == "rtmp_common":
        name = str(settings.get("service") or "").strip()
        if not name:
            return [f"OBS has no streaming service chosen: the stream cannot go on air ({where})"]
        if not str(settings.get("key") or "").strip():
            return [f"OBS has no stream key for {name}: the stream cannot go on air ({where})"]
    return []


@dataclass(frozen=True)
class TransitionSet:
    """What `set_transition` did: the kind OBS now uses (None if unknown), and what to say."""

    kind: str | None
    problems: list[str]
    notes: list[str]


async def set_transition(cfg: EventConfig, gateway: OBSGateway) -> TransitionSet:
    """Make the config's transition (and duration) OBS's current one; never raises for OBS."""
    wanted = cfg.obs.transition
    notes: list[str] = []
    try:
        available = await gateway.transitions()
        match = next((t for t in available if t.name == wanted), None)
        if match is None:
            kind = BUILTIN_TRANSITIONS.get(wanted.casefold())
            match = next((t for t in available if kind and t.kind == kind), None)
            if match is None:
                names = ", ".join(repr(t.name) for t in available) or "none"
                return TransitionSet(
                    None,
                    [f"obs.transition {wanted!r}: OBS has no such transition (it has {names})"],
                    [],
                )
            notes.append(f"obs.transition {wanted!r}: using OBS's {match.name!r} ({match.kind})")
        await gateway.set_transition(match.name, cfg.obs.transition_ms)
    except OBSError as exc:
        return TransitionSet(None, [f"obs.transition {wanted!r}: {exc}"], [])
    return TransitionSet(match.kind, [], notes)


def initial_lead(cfg: EventConfig, transition: TransitionSet) -> float:
    """Until OBS has landed a switch: one frame for a cut, the fade itself otherwise."""
    kind = transition.kind or BUILTIN_TRANSITIONS.get(cfg.obs.transition.casefold())
    if kind == "cut_transition":
        return FRAME_S
    return FRAME_S + cfg.obs.transition_ms / 1000


__all__ = [
    "BUILTIN_TRANSITIONS",
    "ObsCheck",
    "TransitionSet",
    "check_obs",
    "initial_lead",
    "preflight",
    "set_transition",
    "stream_preflight",
]
