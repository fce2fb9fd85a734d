"""`showcaller doctor [FILE] [--obs URL|sim]`: can showcaller drive this OBS?

Connects once and prints what a host needs to know before a show: OBS and
obs-websocket versions, platform, optional features, scenes and inputs. With an event
file it also lists every scene and input the file names that OBS lacks (exit 1).
Cannot reach or authenticate: one line, a hint, exit 3; never a traceback.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from showcaller import errors
from showcaller.obs.connect import SIM, ObsSeed, open_target
from showcaller.obs.needs import ShowNeeds, lacking
from showcaller.words import plural

if TYPE_CHECKING:
    from showcaller.config import EventConfig
    from showcaller.obs.gateway import OBSGateway

EXIT_OK = 0
EXIT_MISSING = 1


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE (optional) and --obs, for the doctor subcommand."""
    parser.add_argument(
        "config", type=Path, nargs="?", metavar="FILE", help="event file to check OBS against"
    )
    parser.add_argument(
        "--obs",
        metavar="URL|sim",
        help="OBS to check: ws://host:port or sim (default: the file's obs.url); "
        "the password comes from SHOWCALLER_OBS__PASSWORD unless the file gives one",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="put OBS's own stream settings back when a killed stream test left the "
        "rehearsal target set",
    )


async def doctor_command(args: argparse.Namespace) -> int:
    """The argparse entry point: run_doctor with the parsed arguments."""
    return await run_doctor(args.config, args.obs, fix=args.fix)


async def run_doctor(
    config_path: Path | None,
    obs_url: str | None,
    *,
    console: Console | None = None,
    err_console: Console | None = None,
    fix: bool = False,
) -> int:
    """Check OBS (against the event file if given); the exit code (0, 1, 2 or 3)."""
    out = console or Console(highlight=False)
    err = err_console or Console(stderr=True, highlight=False)
    try:
        return await _doctor(config_path, obs_url, out, fix=fix)
    except errors.ShowcallerError as exc:
        _print_error(err, exc)
        return exc.exit_code


def _print_error(err: Console, exc: errors.ShowcallerError) -> None:
    problems = exc.problems if isinstance(exc, errors.ConfigError) else []
    lines = [str(p) for p in problems] or [str(exc)]
    for line in lines:
        err.print(f"error: {line}", markup=False, soft_wrap=True)
    if exc.hint:
        err.print(f"hint: {exc.hint}", markup=False, soft_wrap=True)


async def _doctor(
    config_path: Path | None, obs_url: str | None, out: Console, *, fix: bool = False
) -> int:
    from showcaller.config import load_config, obs_settings
    from showcaller.stage.needs import needs_of

    config = load_config(config_path) if config_path is not None else None
    obs = obs_settings(config, url=obs_url)
    needs = needs_of(config) if config is not None else None
    seed = ObsSeed(needs=needs) if obs.url == SIM and needs is not None else None
    async with open_target(obs, seed=seed) as conn:
        shown = "the built-in simulated OBS" if conn.sim is not None else conn.url
        missing = await _report(conn.gateway, shown, out, needs)
        leftover = config is not None and not await _stream_test_leftover(
            conn.gateway, config, out, fix=fix
        )
    if leftover:
        return EXIT_MISSING
    if config_path is not None:
        if missing:
            file = escape(str(config_path))
            target = "" if obs_url is None else f" --obs {escape(obs_url)}"
            out.print(
                f"[red]✗[/red] OBS lacks {missing} of what {file} names: "
                f"`showcaller provision {file}{target}` creates every scene and input of the "
                "scene templates (a name the templates do not make: fix it in the file)"
            )
            return EXIT_MISSING
        out.print(
            f"[green]✓[/green] OBS has every scene and input {escape(str(config_path))} names"
        )
    return EXIT_OK


async def _report(gateway: OBSGateway, shown: str, out: Console, needs: ShowNeeds | None) -> int:
    """Print what OBS is and has; the number of needed scenes and inputs it lacks."""
    version = await gateway.version()
    caps = await gateway.capabilities()
    scenes = await gateway.scene_names()
    inputs = await gateway.inputs()
    program = await gateway.program_scene()

    about = Table.grid(padding=(0, 2))
    about.add_row("OBS", escape(shown))
    about.add_row("OBS Studio", version.obs_version)
    about.add_row("obs-websocket", version.websocket_version)
    about.add_row("rpc version", str(version.rpc_version))
    about.add_row("platform", escape(version.platform_description or version.platform))
    settings = await gateway.recording_settings()
    about.add_row(
        "split recording",
        _feature(
            caps.split_record,
            settings.split_by_hand,
            'Settings > Output: Output Mode "Advanced", Recording, Automatic File '
            'Splitting "Only split manually"',
        ),
    )
    about.add_row(
        "chapter markers",
        _feature(
            caps.chapters,
            settings.chapter_markers,
            'Settings > Output: Recording Format "Hybrid MP4"',
        ),
    )
    out.print(about)

    needed_scenes = set(needs.scene_names) if needs else set()
    needed_inputs = set(needs.input_names) if needs else set()
    table = Table(title=f"Scenes ({len(scenes)})", title_justify="left")
    table.add_column("scene")
    table.add_column("")
    for name in scenes:
        marks = ["on program" if name == program else "", "needed" if name in needed_scenes else ""]
        table.add_row(escape(name), ", ".join(m for m in marks if m))
    out.print(table)
    table = Table(title=f"Inputs ({len(inputs)})", title_justify="left")
    table.add_column("input")
    table.add_column("kind")
    for item in inputs:
        needed = "  (needed)" if item.name in needed_inputs else ""
        table.add_row(escape(item.name), escape(item.kind) + needed)
    out.print(table)

    if needs is None:
        return 0
    # One line per missing scene or input, with every place of the file that names it.
    named_by: dict[tuple[str, str], list[str]] = {}
    near: dict[tuple[str, str], str] = {}
    templates: list[str] = []  # the scene templates' live texts: only a note
    for gap in lacking(needs, set(scenes), {i.name for i in inputs}):
        if gap.soft:
            templates.append(gap.name)
            continue
        named_by.setdefault((gap.what, gap.name), []).append(gap.why)
        if gap.near:
            near[(gap.what, gap.name)] = gap.near
    for (what, name), whys in named_by.items():
        named = "; ".join(whys[:2]) + (f"; and {len(whys) - 2} more" if len(whys) > 2 else "")
        meant = near.get((what, name))
        hint = f" — did you mean {escape(repr(meant))}?" if meant else ""
        out.print(f"[red]missing {what}:[/red] {escape(name)}  ({escape(named)}){hint}")
    if templates:
        out.print(
            f"[yellow]not provisioned:[/yellow] {plural(len(templates), 'text')} of the "
            "scene templates "
            f"({escape(', '.join(templates[:3]))}{', …' if len(templates) > 3 else ''}): "
            "`showcaller provision FILE` creates them"
        )
    return len(named_by)


async def _stream_test_leftover(
    gateway: OBSGateway, config: EventConfig, out: Console, *, fix: bool
) -> bool:
    """Say (and with `fix` undo) a killed stream test's target left in OBS; True when none."""
    from showcaller.show.journal import default_journal
    from showcaller.show.state import Mode
    from showcaller.show.streamtest import backup_path, find_leftover, put_back

    test_server = config.rehearsal.stream_test_server
    backup = backup_path(default_journal(config.config_source, Mode.REHEARSAL.value))
    leftover = await find_leftover(gateway, test_server, backup)
    if leftover is None:
        return True
    out.print(f"[red]✗[/red] {escape(leftover.describe(test_server))}")
    if not fix:
        if leftover.backup is not None:
            out.print("  run `showcaller doctor FILE --fix` to put them back")
        else:
            out.print("  set OBS's own stream settings by hand (Settings > Stream)")
        return False
    if not await put_back(gateway, leftover):
        out.print("  no backup to put back: set OBS's own stream settings by hand")
        return False
    out.print("[green]✓[/green] OBS's own stream settings are back")
    return True


def _feature(offered: bool, allowed: bool | None, how: str) -> str:
    if not offered:
        return "no (needs OBS 30.2+ / obs-websocket 5.5+)"
    if allowed is False:
        return escape(f"off in OBS's settings ({how})")
    return "yes"
