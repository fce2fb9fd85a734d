"""Scene templates → a plan → OBS: `showcaller provision` (see docs/scenes.md).

`wanted()` is pure: from the event config, the templates, the canvas and the input
kinds this OBS offers, the scenes, inputs and items the show's OBS should have.
`plan()` reads OBS once and says, for each, create / update / keep / skip and why.
`apply()` carries the plan out, one step at a time; a rerun after an interruption
plans again from what OBS has, so it finishes the job.

What showcaller creates carries a mark in the input's settings
(`"showcaller": {"template": …, "v": …}`); only marked inputs (and their items, and the
scenes that hold them) are ever changed. What the host made is kept unless `force`.
Nothing is ever deleted, except an input of the wrong kind with `force`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from showcaller.config import EventConfig
from showcaller.errors import OBSError
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.items import ALIGN_LEFT, ALIGN_TOP_LEFT, ItemTransform, SceneItemInfo
from showcaller.stage.templates import ROLES, Item, Template, builtin_templates, rgb_to_obs
from showcaller.stage.textfields import input_name

if TYPE_CHECKING:
    from showcaller.obs.connect import ObsSeed

MARK = "showcaller"
SPEAKERS_TEMPLATE = "speakers"

# A template's kind → the OBS input kinds that do it, best first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "color": ("color_source_v3", "color_source_v2", "color_source"),
    "text": ("text_gdiplus_v3", "text_gdiplus_v2", "text_ft2_source_v2", "text_ft2_source"),
    "image": ("image_source",),
    "media": ("ffmpeg_source",),
    "capture": ("window_capture", "xcomposite_input", "screen_capture", "xshm_input"),
    "feed": ("browser_source",),
    "timer": ("browser_source",),
}
# When OBS has none of a kind's candidates: what to build instead.
FALLBACKS = {"timer": "text", "feed": "media", "capture": "media", "image": "color"}
# Text faces by (text kind, language). A face OBS lacks falls back to its default font
# (measured on OBS 29), so a Japanese face is safe where it is missing.
TEXT_FACE = {
    ("gdiplus", "ja"): "Yu Gothic UI",
    ("gdiplus", "en"): "Arial",
    ("ft2", "ja"): "Noto Sans CJK JP",
    ("ft2", "en"): "Sans Serif",
}

Action = Literal["create", "update", "keep", "skip"]
What = Literal["scene", "input", "item"]


@dataclass(frozen=True)
class WantedInput:
    """An input the templates ask for, resolved to this OBS's kinds."""

    name: str
    kind: str  # an OBS input kind
    settings: Mapping[str, Any]  # with the mark
    template: str
    text_fill: bool = False  # its "text" is written by the show: never compared


@dataclass(frozen=True)
class WantedItem:
    """A source placed in a scene; no transform: where OBS puts it (audio, a part)."""

    scene: str
    source: str
    transform: ItemTransform | None
    is_scene: bool = False


@dataclass(frozen=True)
class WantedScene:
    """A scene and its items, bottom first."""

    name: str
    template: str
    items: tuple[WantedItem, ...]


@dataclass(frozen=True)
class Wanted:
    """Everything the templates ask of this OBS, and what was said on the way."""

    scenes: tuple[WantedScene, ...]
    inputs: Mapping[str, WantedInput]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One line of the plan; `run` (None for keep/skip) carries it out."""

    action: Action
    what: What
    name: str
    reason: str
    run: Callable[[OBSGateway], Awaitable[None]] | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{self.action:<7} {self.what:<6} {self.name}  ({self.reason})"


@dataclass(frozen=True)
class Plan:
    """The steps, and the notes (fallbacks, left-out items)."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...]

    @property
    def changes(self) -> tuple[Step, ...]:
        """The steps that change OBS."""
        return tuple(s for s in self.steps if s.run is not None)


# ------------------------------------------------------------------------------- wanted


def wanted(
    cfg: EventConfig,
    canvas: tuple[int, int],
    kinds: Sequence[str],
    templates: Sequence[Template] | None = None,
    *,
    timer_url: str | None = None,
) -> Wanted:
    """What OBS should have for this event (parts first, then each role's scene)."""
    templates = builtin_templates() if templates is None else templates
    builder = _Builder(cfg, canvas, set(kinds), timer_url or _timer_url(cfg))
    roles = sorted((t for t in templates if t.role), key=lambda t: ROLES.index(t.role or ""))
    ordered = [t for t in templates if t.part] + roles
    scenes = []
    for t in ordered:
        name = t.scene_name(cfg.scenes.scene_for(t.role) if t.role else None)
        if not name:
            builder.notes.append(f"template {t.name}: [scenes].{t.role} is not set: left out")
            continue
        items = tuple(i for item in t.items for i in builder.items(t, name, item))
        scenes.append(WantedScene(name, t.name, items))
    return Wanted(tuple(scenes), builder.inputs, tuple(dict.fromkeys(builder.notes)))


def _timer_url(cfg: EventConfig) -> str:
    host = "127.0.0.1" if cfg.web.host in ("0.0.0.0", "::", "") else cfg.web.host
    return f"http://{host}:{cfg.web.port}/timer?transparent=1"


class _Builder:
    def __init__(self, cfg: EventConfig, canvas: tuple[int, int], kinds: set[str], url: str):
        self.cfg, self.canvas, self.kinds, self.timer_url = cfg, canvas, kinds, url
        self.inputs: dict[str, WantedInput] = {}
        self.notes: list[str] = []

    def items(self, t: Template, scene: str, item: Item) -> list[WantedItem]:
        if item.scene is not None:
            return [WantedItem(scene, item.scene, None, is_scene=True)]
        if item.speakers is not None:
            return self._speaker_items(scene, item)
        if item.input is None:  # templates.py allows no other item
            return []
        name = item.input if item.fill is None else input_name(self.cfg, item.fill, item.input)
        if name is None:
            self.notes.append(
                f"{item.input!r} ({t.name}): [lower_third] leaves its field empty: left out"
            )
            return []
        kind = self._kind(name, item.kind or "", item.fallback)
        if kind is None:
            return []
        abstract, obs_kind = kind
        self.inputs.setdefault(name, self._input(t, name, item, abstract, obs_kind))
        return [WantedItem(scene, name, self._transform(item, abstract))]

    def _speaker_items(self, scene: str, item: Item) -> list[WantedItem]:
        names: list[str] = []
        for slot in self.cfg.slots_resolved():
            if slot.scene != scene:
                continue
            for sp in slot.speakers:
                video, audio = sp.video_input, sp.audio_input
                wanted = video if item.speakers == "video" else (audio if audio != video else None)
                if wanted:
                    names.append(wanted)
        out = []
        for name in dict.fromkeys(names):
            abstract = "feed" if item.speakers == "video" else "media"
            kind = self._kind(name, abstract, None)
            if kind is None:
                continue
            placeholder = Item(input=name, kind=abstract, box=item.box)
            template = Template(SPEAKERS_TEMPLATE, 1, None, None, "", (), "")
            self.inputs.setdefault(name, self._input(template, name, placeholder, *kind))
            out.append(WantedItem(scene, name, self._transform(placeholder, kind[0])))
        return out

    def _kind(self, name: str, kind: str, fallback: str | None) -> tuple[str, str] | None:
        """(template kind, OBS kind) this OBS can build, with a note when it falls back."""
        tried: list[str] = []
        current: str | None = kind
        while current is not None and current not in tried:
            tried.append(current)
            for candidate in CANDIDATES.get(current, (current,)):
                if candidate in self.kinds:
                    if len(tried) > 1:
                        self.notes.append(
                            f"{name!r}: this OBS has no {_kind_words(tried[0])}: "
                            f"using a {candidate} instead"
                            + (" that showcaller keeps up to date" if current == "text" else "")
                        )
                    return current, candidate
            current = fallback if len(tried) == 1 and fallback else FALLBACKS.get(current)
        self.notes.append(f"{name!r}: this OBS has no input kind for a {kind}: left out")
        return None

    def _input(
        self, t: Template, name: str, item: Item, abstract: str, obs_kind: str
    ) -> WantedInput:
        w, h = self.canvas
        box = item.box or (0.0, 0.0, 1.0, 1.0)
        bw, bh = round(box[2] * w), round(box[3] * h)
        settings: dict[str, Any] = {}
        if abstract == "color":
            settings = {"color": rgb_to_obs(item.color or "#000000"), "width": bw, "height": bh}
        elif abstract == "text":
            settings = self._text_settings(item, obs_kind)
        elif abstract == "timer" and obs_kind == "browser_source":
            settings = {"url": self.timer_url, "width": bw, "height": bh}
        elif abstract == "feed" and obs_kind == "browser_source":
            # The host pastes the speaker's call link (VDO.Ninja and the like); canvas-sized.
            settings = {"url": "", "width": w, "height": h}
        elif obs_kind == "ffmpeg_source":
            # A network stream (SRT/RTMP/NDI bridge) for a feed; a looping file otherwise.
            settings = {"is_local_file": abstract == "media", "looping": abstract == "media"}
        settings[MARK] = {"template": t.name, "v": t.version}
        return WantedInput(name, obs_kind, settings, t.name, text_fill=item.fill is not None)

    def _text_settings(self, item: Item, obs_kind: str) -> dict[str, Any]:
        h = self.canvas[1]
        px = max(8, round((item.size or 0.05) * h))
        color = rgb_to_obs(item.color or "#FFFFFF")
        text = ""
        if item.text is not None:
            text = item.text.get(self.cfg.event.language) or next(iter(item.text.values()))
        elif item.fill == "event.title":
            text = self.cfg.event.title
        elif item.fill == "event.next":
            text = self.cfg.event.next_event
        lang = self.cfg.event.language
        if obs_kind.startswith("text_gdiplus"):
            face = TEXT_FACE[("gdiplus", lang)]
            font = {"face": face, "size": px, "style": "Regular", "flags": 0}
            return {"text": text, "font": font, "color": color & 0xFFFFFF}
        font = {"face": TEXT_FACE[("ft2", lang)], "size": px, "style": "Regular", "flags": 0}
        return {"text": text, "font": font, "color1": color, "color2": color}

    def _transform(self, item: Item, abstract: str) -> ItemTransform | None:
        if item.box is None:
            return None
        w, h = self.canvas
        x, y, bw, bh = item.box[0] * w, item.box[1] * h, item.box[2] * w, item.box[3] * h
        if abstract == "color":
            return ItemTransform(position_x=round(x), position_y=round(y))
        bounds = "OBS_BOUNDS_MAX_ONLY" if abstract == "text" else "OBS_BOUNDS_SCALE_INNER"
        return ItemTransform(
            position_x=round(x),
            position_y=round(y),
            alignment=ALIGN_TOP_LEFT,
            bounds_type=bounds,
            bounds_width=round(bw),
            bounds_height=round(bh),
            bounds_alignment=ALIGN_LEFT if abstract == "text" else 0,
        )


def _kind_words(kind: str) -> str:
    return {"timer": "browser source for the timer page", "feed": "browser source"}.get(
        kind, f"input kind {kind}"
    )


# --------------------------------------------------------------------------------- plan


@dataclass
class _Seen:
    """What OBS has, read once for the plan."""

    scenes: set[str]
    kinds: dict[str, str]  # input → kind
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # read on demand
    items: dict[str, list[SceneItemInfo]] = field(default_factory=dict)

    def owned(self, name: str) -> bool:
        return isinstance(self.settings.get(name, {}).get(MARK), dict)


async def plan(
    gateway: OBSGateway,
    cfg: EventConfig,
    *,
    force: bool = False,
    templates: Sequence[Template] | None = None,
) -> Plan:
    """Read OBS and say what provisioning would do; changes nothing."""
    video = await gateway.video_settings()
    kinds = await gateway.input_kinds()
    want = wanted(cfg, (video.base_width, video.base_height), kinds, templates)
    seen = _Seen(set(await gateway.scene_names()), {i.name: i.kind for i in await gateway.inputs()})
    for name in want.inputs:
        if name in seen.kinds:
            seen.settings[name] = (await gateway.input_kind_and_settings(name))[1]
    for scene in want.scenes:
        if scene.name in seen.scenes:
            seen.items[scene.name] = await gateway.scene_items(scene.name)
    steps: list[Step] = []
    for scene in want.scenes:
        steps.append(_scene_step(scene, seen, force))
    handled: set[str] = set()  # inputs already planned (an input is shown in several scenes)
    for scene in want.scenes:
        mine = _scene_is_ours(scene, seen) or force
        for item in scene.items:
            steps.extend(_item_steps(item, want, seen, handled, mine, force))
    return Plan(tuple(steps), want.notes)


def _scene_step(scene: WantedScene, seen: _Seen, force: bool) -> Step:
    if scene.name not in seen.scenes:

        async def create(gw: OBSGateway) -> None:
            await gw.create_scene(scene.name)

        return Step("create", "scene", scene.name, f"template {scene.template}", create)
    if _scene_is_ours(scene, seen):
        return Step("keep", "scene", scene.name, "exists")
    why = "made by the host: its items are left as they are"
    if force:
        why = "made by the host: --force adds the template's items"
    return Step("keep", "scene", scene.name, why)


def _scene_is_ours(scene: WantedScene, seen: _Seen) -> bool:
    """A scene we may add to: new, empty, or holding something showcaller made."""
    if scene.name not in seen.scenes:
        return True
    items = seen.items.get(scene.name, [])
    return not items or any(seen.owned(i.source_name) for i in items)


def _item_steps(
    item: WantedItem, want: Wanted, seen: _Seen, handled: set[str], mine: bool, force: bool
) -> list[Step]:
    label = f"{item.scene} ▸ {item.source}"
    steps: list[Step] = []
    wanted_input = want.inputs.get(item.source)
    if wanted_input is not None and item.source not in handled:
        step = _input_step(wanted_input, item, seen, force, mine)
        steps.append(step)
        if step.action != "skip":
            handled.add(item.source)
        if step.action == "create" or (step.action == "update" and "replaced" in step.reason):
            return steps  # the new input's first item is made with it
    if not mine:
        return steps
    existing = next(
        (i for i in seen.items.get(item.scene, []) if i.source_name == item.source), None
    )
    if existing is None:

        async def add(gw: OBSGateway) -> None:
            item_id = await gw.create_scene_item(item.scene, item.source)
            if item.transform is not None:
                await gw.set_item_transform(item.scene, item_id, item.transform)

        steps.append(Step("create", "item", label, "missing", add))
        return steps
    ours = item.is_scene or seen.owned(item.source) or force
    if item.transform is None or not ours:
        steps.append(Step("keep", "item", label, "exists" if ours else "the host's source"))
        return steps
    diff = item.transform.differs(existing.transform)
    if not diff and existing.enabled:
        steps.append(Step("keep", "item", label, "in place"))
        return steps
    transform = item.transform

    async def place(gw: OBSGateway) -> None:
        await gw.set_item_transform(item.scene, existing.item_id, transform)
        if not existing.enabled:
            await gw.set_item_enabled(item.scene, existing.item_id, True)

    why = f"moved: {', '.join(diff)}" if diff else "hidden"
    steps.append(Step("update", "item", label, why, place))
    return steps


def _input_step(want: WantedInput, item: WantedItem, seen: _Seen, force: bool, mine: bool) -> Step:
    name = want.name
    if name not in seen.kinds:
        if not mine:
            return Step("skip", "input", name, f"scene {item.scene!r} is the host's")
        transform = item.transform

        async def create(gw: OBSGateway) -> None:
            item_id = await gw.create_input(item.scene, name, want.kind, want.settings)
            if transform is not None:
                await gw.set_item_transform(item.scene, item_id, transform)

        return Step("create", "input", name, f"{want.kind} in {item.scene!r}", create)
    owned = seen.owned(name)
    if seen.kinds[name] != want.kind:
        if not force:
            who = "showcaller's" if owned else "the host's"
            return Step(
                "keep",
                "input",
                name,
                f"{who} {seen.kinds[name]}, the template wants a {want.kind} (--force replaces it)",
            )

        async def replace(gw: OBSGateway) -> None:
            await gw.remove_input(name)
            item_id = await gw.create_input(item.scene, name, want.kind, want.settings)
            if item.transform is not None:
                await gw.set_item_transform(item.scene, item_id, item.transform)

        seen.kinds[name] = want.kind
        seen.settings[name] = dict(want.settings)
        for items in seen.items.values():  # removing an input removes its items everywhere
            items[:] = [i for i in items if i.source_name != name]
        return Step("update", "input", name, f"--force: replaced by a {want.kind}", replace)
    if not owned and not force:
        return Step("keep", "input", name, "made by the host: left as is (--force takes it over)")
    current = seen.settings.get(name, {})
    diff = [
        k
        for k, v in want.settings.items()
        if not (k == "text" and want.text_fill) and not _same(current.get(k), v)
    ]
    if not diff:
        return Step("keep", "input", name, "up to date")
    settings = {k: want.settings[k] for k in diff}
    seen.settings[name] = {**current, **settings}  # one update, however many scenes show it

    async def update(gw: OBSGateway) -> None:
        await gw.set_input_settings(name, settings)

    why = "--force: taken over" if not owned else f"changed: {', '.join(diff)}"
    return Step("update", "input", name, why, update)


def _same(have: object, want: object) -> bool:
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(_same(have.get(k), v) for k, v in want.items())
    if isinstance(want, bool) or isinstance(have, bool):
        return have == want
    if isinstance(want, int | float) and isinstance(have, int | float):
        return abs(float(have) - float(want)) < 1e-6
    return have == want


# -------------------------------------------------------------------------------- apply


@dataclass(frozen=True)
class Outcome:
    """What apply did: steps done, and the step that failed (with why)."""

    done: tuple[Step, ...]
    failed: tuple[tuple[Step, str], ...]


async def apply(gateway: OBSGateway, steps: Sequence[Step]) -> Outcome:
    """Carry out the plan's changes in order; a failed step is said and the rest go on.

    A lost link raises (OBSConnectionError): rerun provision once OBS is back.
    """
    from showcaller.errors import OBSConnectionError

    done: list[Step] = []
    failed: list[tuple[Step, str]] = []
    for step in steps:
        if step.run is None:
            continue
        try:
            await step.run(gateway)
        except OBSConnectionError:
            raise
        except OBSError as exc:
            failed.append((step, str(exc)))
        else:
            done.append(step)
    return Outcome(tuple(done), tuple(failed))


async def provision(
    gateway: OBSGateway, cfg: EventConfig, *, force: bool = False
) -> tuple[Plan, Outcome]:
    """Plan and apply in one go (the simulated OBS's seeding uses this)."""
    the_plan = await plan(gateway, cfg, force=force)
    return the_plan, await apply(gateway, the_plan.changes)


def sim_seed(cfg: EventConfig) -> ObsSeed:
    """What the simulated OBS starts with for this event: the provisioned scene templates,
    then every scene and input the event needs, the speakers' feeds live."""
    from showcaller.obs.connect import ObsSeed
    from showcaller.stage.needs import needs_of

    async def build(gateway: OBSGateway) -> None:
        _, outcome = await provision(gateway, cfg)
        for step, why in outcome.failed:  # a sim that refuses its own templates is a bug
            raise OBSError(f"the simulated OBS refused {step}: {why}")

    return ObsSeed(needs=needs_of(cfg), provision=build)


__all__ = [
    "MARK",
    "Outcome",
    "Plan",
    "Step",
    "Wanted",
    "WantedInput",
    "WantedItem",
    "WantedScene",
    "apply",
    "plan",
    "provision",
    "sim_seed",
    "wanted",
]
