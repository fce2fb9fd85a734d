"""The package's folders are its layers, and imports point down (docs/ARCHITECTURE.md).

protocol ← client ← supervisor ← gateway (obs/) ← engine ← session (show/) ← stage,
checks, interop ← surfaces ← modes ← commands and cli. Function-local imports count
(only `if TYPE_CHECKING:` ones do not): a lazy import that hides an upward arrow is
the kind of circle this test is here to catch.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "showcaller"

# Each top-level part of the package and its floor; an import may only go to a floor at
# or below its own. obs/ and config/ stand side by side: neither imports the other.
FLOORS: dict[str, int] = {
    "errors": 0,
    "clock": 0,
    "nearnames": 0,
    "words": 0,
    "__init__": 0,
    "config": 1,
    "obs": 1,
    "show": 2,
    "stage": 3,
    "checks": 3,
    "interop": 3,
    "surfaces": 4,
    "modes": 5,
    "commands": 6,
    "cli": 6,
    "__main__": 7,
}


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for sub in node.body for n in ast.walk(sub))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, m) for line, m in found if m.startswith("showcaller.")]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "scenes" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    part = rel.parts[0].removesuffix(".py")
    own = FLOORS[part]
    upward = [
        f"{rel}:{line} imports {module} (floor {FLOORS[_part(module)]} > {own})"
        for line, module in _imports(path)
        if FLOORS[_part(module)] > own
        or (
            part in ("obs", "config")
            and _part(module) in ("obs", "config")
            and _part(module) != part
        )
    ]
    assert not upward, "\n".join(upward)


def test_the_top_level_shows_the_layers() -> None:
    modules = [p.name for p in PACKAGE.iterdir() if p.suffix == ".py"]
    assert len(modules) <= 10, modules
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} >= {
        "show",
        "stage",
        "checks",
        "surfaces",
        "interop",
        "config",
        "obs",
        "commands",
        "modes",
    }
