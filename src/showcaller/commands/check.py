"""`showcaller check FILE… [--obs URL|sim] [--speaker ID] [--watch]`: are the speakers' feeds OK?

A live table while the checks run (all speakers at once), then the result: speaker,
video, audio, slides, each pass / warn / fail with what was measured and a hint in the
event's language. Exit 0 when nothing failed, 1 when something did, 3 when OBS cannot
be reached. `--watch` checks the failing speakers again until all pass (Ctrl-C stops).

Several files: one room each (docs/rooms.md), every room checked at once on its own OBS,
one table per room headed with its name; a room whose OBS cannot be reached is one line
naming it and the others still run; the exit code is the worst room's.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from showcaller.commands import add_obs_argument, command, obs_target
from showcaller.errors import ShowcallerError
from showcaller.show.state import CheckResult
from showcaller.words import plural

if TYPE_CHECKING:
    from showcaller.config import OBS, EventConfig

PARTS = ("video", "audio", "slides")
STYLE = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "checking": "cyan",
    "not checked": "dim",
}
# Seconds between two rounds of --watch.
WATCH_PAUSE_S = 2.0


def _check_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="the event's TOML file; several files: one room each, each on its own OBS "
        "(docs/rooms.md)",
    )
    add_obs_argument(parser)
    parser.add_argument(
        "--speaker", action="append", metavar="ID", help="check only this speaker (repeatable)"
    )
    parser.add_argument(
        "--watch", action="store_true", help="check failing speakers again until all pass"
    )


def results_table(
    title: str,
    names: dict[str, str],
    results: dict[tuple[str, str], CheckResult],
    off: dict[str, str] | None = None,
) -> Table:
    """One row per speaker: each part's verdict and measured value (`off`: why a part is not
    checked at all)."""
    off = off or {}
    table = Table(title=title, title_justify="left")
    table.add_column("speaker")
    for part in PARTS:
        table.add_column(part)
    for speaker_id, name in names.items():
        cells: list[Text | str] = [escape(name)]
        for part in PARTS:
            r = results.get((speaker_id, part))
            if r is None:
                cells.append(Text(off.get(part, ""), style="dim"))
                continue
            cell = Text(r.verdict, style=STYLE.get(r.verdict, ""))
            if r.value:
                cell.append(f"  {r.value}", style="dim")
            cells.append(cell)
        table.add_row(*cells)
    return table


def hints(results: Sequence[CheckResult]) -> list[Text]:
    """A line per result that has something to say."""
    return [
        Text.assemble((f"{r.name} {r.part}: ", "bold"), r.hint)
        for r in results
        if r.hint and r.verdict in ("fail", "warn", "not checked")
    ]


@command("check", "check every speaker's picture, sound and slides in OBS", arguments=_check_args)
async def _check(args: argparse.Namespace) -> int:
    if len(args.config) > 1:
        return await _check_rooms(args)
    from showcaller.config import load_config

    path: Path = args.config[0]
    cfg = load_config(path)
    names = _wanted(args.speaker, {str(path): cfg})[str(path)]
    obs = obs_target(args, cfg)
    console = Console(highlight=False)
    one = _RoomCheck(cfg, obs, names, title=f"{cfg.event.title} — speaker checks")
    with Live(one.table(), console=console, transient=True) as live:
        await one.run(args.watch, lambda: live.update(one.table()))
    final = list(one.results.values())
    console.print(Group(one.table(), *hints(final)))
    console.print(one.verdict())
    return one.exit_code()


class _RoomCheck:
    """One event file's speakers checked on its OBS: the results so far, the table."""

    def __init__(
        self, cfg: EventConfig, obs: OBS, names: dict[str, str], *, title: str, room: str = ""
    ) -> None:
        self.cfg = cfg
        self.obs = obs
        self.names = names
        self.title = title
        self.room = room
        self.off = {} if cfg.checks.slides else {"slides": "off (checks.slides)"}
        self.results: dict[tuple[str, str], CheckResult] = {}
        self.error: ShowcallerError | None = None

    def table(self) -> Table:
        return results_table(self.title, self.names, self.results, self.off)

    async def run(self, watch: bool, changed: Callable[[], None]) -> None:
        """Check the speakers (with `watch`: the failing ones again until all pass)."""
        from showcaller.checks.run import SpeakerCheck, meter_tap
        from showcaller.obs.connect import SIM, ObsSeed, open_target
        from showcaller.stage.needs import needs_of
        from showcaller.stage.simfeeds import apply_initial_feeds

        cfg = self.cfg
        seed = ObsSeed(needs=needs_of(cfg)) if self.obs.url == SIM else None
        async with open_target(self.obs, seed=seed) as conn:
            if conn.sim is not None:
                apply_initial_feeds(conn.sim, cfg)

            def on_result(result: CheckResult) -> None:
                self.results[(result.speaker, result.part)] = result
                changed()

            checker = SpeakerCheck(cfg, conn.gateway, on_result=on_result)
            async with meter_tap(conn.gateway, checker.clock) as tap:
                ids = list(self.names)
                while True:
                    await checker.run(ids, tap=tap)
                    failing = sorted({r.speaker for r in self.results.values() if r.failed})
                    if not watch or not failing:
                        break
                    ids = failing
                    await asyncio.sleep(WATCH_PAUSE_S)

    def verdict(self) -> str:
        from showcaller.checks.run import summary

        failed, warned, passed = summary(list(self.results.values()))
        verdict = "[bold red]FAIL[/]" if failed else "[bold green]OK[/]"
        where = f"room {escape(self.room)}: " if self.room else ""
        return f"{where}{verdict}: {passed} passed, {plural(warned, 'warning')}, {failed} failed"

    def exit_code(self) -> int:
        if self.error is not None:
            return self.error.exit_code
        return 1 if any(r.failed for r in self.results.values()) else 0


def _wanted(wanted: list[str] | None, configs: dict[str, EventConfig]) -> dict[str, dict[str, str]]:
    """Each file's (or room's) speakers to check, id → name (`--speaker`: those of them
    asked for; an id that none has is refused)."""
    from showcaller.errors import UsageError

    known = {path: {s.id: s.name for s in cfg.speakers} for path, cfg in configs.items()}
    if wanted:
        every = {k for names in known.values() for k in names}
        unknown = [s for s in wanted if s not in every]
        if unknown:
            where = " or ".join(str(p) for p in configs)
            raise UsageError(
                f"--speaker {', '.join(unknown)}: no such speaker in {where}",
                hint=f"the speakers are: {', '.join(sorted(every)) or 'none'}",
            )
    return {
        path: {k: v for k, v in names.items() if not wanted or k in wanted}
        for path, names in known.items()
    }


async def _check_rooms(args: argparse.Namespace) -> int:
    """Every room's speakers on the room's own OBS, all rooms at once; one table per room.

    A room whose OBS cannot be reached is one line naming it; the others still run. The
    exit code is the worst room's.
    """
    from showcaller.modes.rooms import load_rooms

    rooms = load_rooms(args.config, obs_url=args.obs)
    per_room = _wanted(args.speaker, {f"room {r.name}": r.cfg for r in rooms})
    checks = [
        _RoomCheck(
            room.cfg,
            room.obs,
            per_room[f"room {room.name}"],
            title=escape(f"[{room.name}] {room.cfg.event.title} — speaker checks"),
            room=room.name,
        )
        for room in rooms
    ]
    console = Console(highlight=False)

    def shown() -> Group:
        return Group(*(c.table() if c.error is None else _error_line(c) for c in checks))

    async def one(check: _RoomCheck, live: Live) -> None:
        try:
            await check.run(args.watch, lambda: live.update(shown()))
        except ShowcallerError as exc:
            check.error = exc
            live.update(shown())

    with Live(shown(), console=console, transient=True) as live:
        async with asyncio.TaskGroup() as tasks:
            for check in checks:
                tasks.create_task(one(check, live), name=f"room {check.room}: check")
    for check in checks:
        if check.error is not None:
            console.print(_error_line(check))
            continue
        console.print(Group(check.table(), *hints(list(check.results.values()))))
        console.print(check.verdict())
    return max(c.exit_code() for c in checks)


def _error_line(check: _RoomCheck) -> Text:
    assert check.error is not None
    hint = f" ({check.error.hint})" if check.error.hint else ""
    return Text.assemble(
        (f"room {check.room}: ", "bold"),
        (f"OBS {check.obs.url} cannot be checked: {check.error}{hint}", "bold red"),
    )
