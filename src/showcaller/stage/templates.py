"""Scene templates: the TOML files of `scenes/` read into frozen data (see docs/scenes.md).

A template is one scene: a slot role's (`role = "talk"`, the scene named by [scenes].talk)
or a part's (`part = "Lower Third"`, a scene of that name that other templates show).
Its items, bottom first, are inputs (`input`, `kind`), each speaker's feeds of the
scene's slots (`speakers = "video" | "audio"`), or another template's part (`scene`).
Boxes are parts of the canvas, so one template fits 1280×720 and 1920×1080 alike.
A mistake says the file, the item and the field.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from showcaller.errors import ConfigError, ConfigProblem
from showcaller.stage.fields import FIELDS

# What a template may ask for; provision.py turns each into an OBS input kind.
KINDS = ("color", "text", "image", "media", "capture", "feed", "timer")
ROLES = ("standby", "opening", "talk", "lt", "break", "qa", "closing", "trouble")
_ITEM_KEYS = frozenset(
    {"input", "kind", "fallback", "box", "color", "size", "fill", "text", "speakers", "scene"}
)
_TOP_KEYS = frozenset({"role", "part", "version", "about", "item"})


@dataclass(frozen=True)
class Item:
    """One item of a template, bottom of the scene first."""

    input: str | None = None  # the input's name (a lower-third text: the config may rename it)
    kind: str | None = None  # one of KINDS, or an OBS input kind with a `fallback`
    fallback: str | None = None  # the kind to use when this OBS lacks `kind`
    box: tuple[float, float, float, float] | None = None  # x, y, w, h: parts of the canvas
    color: str | None = None  # "#RRGGBB": a fill, or a text's colour
    size: float | None = None  # a text's height, as a part of the canvas height
    fill: str | None = None  # the text field (textfields.FIELDS) showcaller writes
    text: Mapping[str, str] | None = None  # a fixed text per language ("ja", "en")
    speakers: str | None = None  # "video" or "audio": one item per speaker's input
    scene: str | None = None  # a part (another template) shown here


@dataclass(frozen=True)
class Template:
    """One scene template; `name` is the file's stem (talk, lower-third)."""

    name: str
    version: int
    role: str | None
    part: str | None
    about: str
    items: tuple[Item, ...]
    path: str

    def scene_name(self, role_scene: str | None) -> str | None:
        """The scene OBS gets: the part's own name, or the one [scenes] gives the role."""
        return self.part if self.part else role_scene


def builtin_dir() -> Path:
    """The package's `scenes/` folder (the repository's top-level `scenes/` is the same)."""
    return Path(str(resources.files("showcaller") / "scenes"))


@functools.cache
def builtin_templates() -> tuple[Template, ...]:
    """The built-in templates (read once)."""
    return load_templates(builtin_dir())


def load_templates(folder: Path) -> tuple[Template, ...]:
    """Every `*.toml` of `folder`, checked; ConfigError with every mistake, located."""
    problems: list[ConfigProblem] = []
    templates: list[Template] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(ConfigProblem(str(path), None, "", str(exc)))
            continue
        template = _template(path, data, problems)
        if template is not None:
            templates.append(template)
    problems += _cross_check(templates)
    if problems:
        raise ConfigError(problems)
    return tuple(templates)


def _template(path: Path, data: dict[str, Any], problems: list[ConfigProblem]) -> Template | None:
    where = str(path)
    before = len(problems)

    def bad(message: str) -> None:
        problems.append(ConfigProblem(where, None, "", message))

    for key in sorted(set(data) - _TOP_KEYS):
        bad(f"unknown field {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    role, part = data.get("role"), data.get("part")
    if (role is None) == (part is None):
        bad('give exactly one of role = "…" or part = "…"')
    if role is not None and role not in ROLES:
        bad(f"role {role!r} is not one of {', '.join(ROLES)}")
    if part is not None and (not isinstance(part, str) or not part.strip()):
        bad("part must be the scene's name")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        bad("version must be a whole number from 1")
    raw_items = data.get("item", [])
    if not isinstance(raw_items, list):
        bad("item must be a list of [[item]] tables")
        raw_items = []
    items = [
        item
        for n, raw in enumerate(raw_items, 1)
        if (item := _item(where, f"item {n}", raw, problems)) is not None
    ]
    if len(problems) > before:
        return None
    return Template(
        name=path.stem,
        version=int(version),
        role=role,
        part=part,
        about=str(data.get("about", "")),
        items=tuple(items),
        path=where,
    )


def _item(file: str, where: str, raw: object, problems: list[ConfigProblem]) -> Item | None:
    def bad(message: str) -> None:
        problems.append(ConfigProblem(file, None, where, message))

    if not isinstance(raw, dict):
        bad("not a table")
        return None
    before = len(problems)
    for key in sorted(set(raw) - _ITEM_KEYS):
        bad(f"unknown field {key!r}")
    what = [k for k in ("input", "speakers", "scene") if k in raw]
    if len(what) != 1:
        bad("give exactly one of input, speakers or scene")
    if "speakers" in raw and raw["speakers"] not in ("video", "audio"):
        bad('speakers must be "video" or "audio"')
    kind = raw.get("kind")
    if "input" in raw:
        if not isinstance(raw["input"], str) or not raw["input"].strip():
            bad("input must be the input's name")
        if not isinstance(kind, str):
            bad(f"an input needs a kind ({', '.join(KINDS)})")
        elif kind not in KINDS and raw.get("fallback") not in KINDS:
            bad(
                f"kind {kind!r} is an OBS kind of its own: give a fallback "
                f"(one of {', '.join(KINDS)})"
            )
    box = raw.get("box")
    if box is not None and not _is_box(box):
        bad("box must be [x, y, width, height], each from 0 to 1")
    color = raw.get("color")
    if color is not None and not _is_color(color):
        bad(f'color must be "#RRGGBB", not {color!r}')
    size = raw.get("size")
    if size is not None and not (isinstance(size, int | float) and 0 < size <= 1):
        bad("size must be a part of the canvas height (0 to 1)")
    text = raw.get("text")
    if text is not None and not (
        isinstance(text, dict) and text and all(isinstance(v, str) for v in text.values())
    ):
        bad('text must be { ja = "…", en = "…" }')
    fill = raw.get("fill")
    if fill is not None and fill not in FIELDS:
        bad(f"fill {fill!r} is not one of {', '.join(FIELDS)}")
    if kind in ("text", "timer") and fill is None and text is None:
        bad(f'a {kind} needs fill = "…" or text = {{…}}')
    if len(problems) > before:
        return None
    return Item(
        input=raw.get("input"),
        kind=kind,
        fallback=raw.get("fallback"),
        box=tuple(float(v) for v in box) if box is not None else None,  # type: ignore[arg-type]
        color=color,
        size=float(size) if size is not None else None,
        fill=fill,
        text=dict(text) if text is not None else None,
        speakers=raw.get("speakers"),
        scene=raw.get("scene"),
    )


def _is_box(box: object) -> bool:
    if not isinstance(box, list) or len(box) != 4:
        return False
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box):
        return False
    x, y, w, h = (float(v) for v in box)
    return 0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1


def _is_color(color: object) -> bool:
    if not isinstance(color, str) or len(color) != 7 or not color.startswith("#"):
        return False
    try:
        int(color[1:], 16)
    except ValueError:
        return False
    return True


def _cross_check(templates: Iterable[Template]) -> list[ConfigProblem]:
    """One definition per input name; every part shown exists; no role twice."""
    problems: list[ConfigProblem] = []
    templates = list(templates)
    parts = {t.part for t in templates if t.part}
    roles: dict[str, str] = {}
    inputs: dict[str, tuple[str, Item]] = {}
    for t in templates:
        if t.role:
            if t.role in roles:
                problems.append(
                    ConfigProblem(t.path, None, "role", f"{t.role!r} already has {roles[t.role]}")
                )
            roles[t.role] = t.path
        for n, item in enumerate(t.items, 1):
            if item.scene is not None and item.scene not in parts:
                problems.append(
                    ConfigProblem(
                        t.path, None, f"item {n}", f"no template is the part {item.scene!r}"
                    )
                )
            if item.input is None:
                continue
            seen = inputs.get(item.input)
            if seen is None:
                inputs[item.input] = (t.path, item)
                continue
            other = seen[1]
            same = (other.kind, other.fallback, other.color, other.size, other.fill, other.text)
            if same != (item.kind, item.fallback, item.color, item.size, item.fill, item.text):
                problems.append(
                    ConfigProblem(
                        t.path,
                        None,
                        f"item {n}",
                        f"input {item.input!r} is defined differently in {seen[0]}",
                        "an input is one source in OBS: give it one definition",
                    )
                )
    return problems


def rgb_to_obs(color: str) -> int:
    """ "#RRGGBB" as OBS's opaque 0xAABBGGRR colour integer."""
    value = int(color[1:], 16)
    r, g, b = (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF
    return 0xFF000000 | (b << 16) | (g << 8) | r


__all__ = [
    "KINDS",
    "ROLES",
    "Item",
    "Template",
    "builtin_dir",
    "builtin_templates",
    "load_templates",
    "rgb_to_obs",
]
