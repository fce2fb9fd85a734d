"""`showcaller check FILE [--obs URL|sim] [--speaker ID] [--watch]`: are the speakers' feeds OK?

A live table while the checks run (all speakers at once), then the result: speaker,
video, audio, slides, each pass / warn / fail with what was measured and a hint in the
event's language. Exit 0 when nothing failed, 1 when something did, 3 when OBS cannot
be reached. `--watch` checks the failing speakers again until all pass (Ctrl-C stops).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from showcaller.commands import add_config_argument, add_obs_argument, command, obs_target
from showcaller.show.state import CheckResult
from showcaller.words import plural

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
    add_config_argument(parser)
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
    # Imported here, so `showcaller --help` stays quick.
    from showcaller.checks.run import SpeakerCheck, meter_tap, summary
    from showcaller.config import load_config
    from showcaller.errors import UsageError
    from showcaller.obs.connect import SIM, ObsSeed, open_target
    from showcaller.stage.needs import needs_of
    from showcaller.stage.simfeeds import apply_initial_feeds

    cfg = load_config(args.config)
    known = {s.id: s.name for s in cfg.speakers}
    wanted: list[str] | None = args.speaker
    if wanted:
        unknown = [s for s in wanted if s not in known]
        if unknown:
            raise UsageError(
                f"--speaker {', '.join(unknown)}: no such speaker in {args.config}",
                hint=f"the speakers are: {', '.join(known) or 'none'}",
            )
    obs = obs_target(args, cfg)
    console = Console(highlight=False)
    names = {k: v for k, v in known.items() if wanted is None or k in wanted}
    off = {} if cfg.checks.slides else {"slides": "off (checks.slides)"}
    results: dict[tuple[str, str], CheckResult] = {}
    async with open_target(
        obs, seed=ObsSeed(needs=needs_of(cfg)) if obs.url == SIM else None
    ) as conn:
        if conn.sim is not None:
            apply_initial_feeds(conn.sim, cfg)
        title = f"{cfg.event.title} — speaker checks"
        with Live(
            results_table(title, names, results, off), console=console, transient=True
        ) as live:

            def on_result(result: CheckResult) -> None:
                results[(result.speaker, result.part)] = result
                live.update(results_table(title, names, results, off))

            checker = SpeakerCheck(cfg, conn.gateway, on_result=on_result)
            async with meter_tap(conn.gateway, checker.clock) as tap:
                ids = list(names)
                while True:
                    await checker.run(ids, tap=tap)
                    failing = sorted({r.speaker for r in results.values() if r.failed})
                    if not args.watch or not failing:
                        break
                    ids = failing
                    await asyncio.sleep(WATCH_PAUSE_S)
    final = list(results.values())
    console.print(Group(results_table(title, names, results, off), *hints(final)))
    failed, warned, passed = summary(final)
    verdict = "[bold red]FAIL[/]" if failed else "[bold green]OK[/]"
    console.print(f"{verdict}: {passed} passed, {plural(warned, 'warning')}, {failed} failed")
    return 1 if failed else 0
