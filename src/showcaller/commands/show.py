"""`showcaller rehearse` and `showcaller live`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from showcaller.commands import add_obs_argument, command, obs_target

if TYPE_CHECKING:
    from showcaller.config import EventConfig
    from showcaller.modes.rooms import Room
    from showcaller.show.session import ShowSession
    from showcaller.show.state import ShowReport
    from showcaller.surfaces.console import CueLog
    from showcaller.surfaces.dashboard import Dashboard


def _quiet_engine_log(args: argparse.Namespace) -> None:
    # The console surface prints every cue, mark and warning of the show (and the journal
    # keeps them); their log lines would only say everything twice. --debug keeps them.
    if not args.debug:
        for name in (
            "showcaller.show.engine",
            "showcaller.show.policies",
            "showcaller.show.session",
        ):
            logging.getLogger(name).setLevel(logging.ERROR)


def _positive_speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the speed must be more than 0")
    return value


def _add_plain_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plain",
        action="store_true",
        help="log lines instead of the dashboard (the default when stdout is not a terminal)",
    )


def _web_port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0 to 65535): {text!r}")
    return int(text)


def _add_web_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--web-port",
        type=_web_port,
        metavar="N",
        help="port of the speaker timer and host page (default: the config's web.port; "
        "0: any free port)",
    )
    parser.add_argument("--no-web", action="store_true", help="do not start the web app")


def _surfaces(
    args: argparse.Namespace, cfg: EventConfig, surface: CueLog | Dashboard
) -> Callable[[ShowSession], None]:
    """The terminal surface plus the web app (unless --no-web); an unsafe web.host is
    refused here, before OBS is touched. The web app's URLs go to the terminal surface,
    which keeps them in sight (never into the session state: one carries a token)."""
    if args.no_web:
        return surface.attach
    from showcaller.surfaces.metrics import Metrics
    from showcaller.surfaces.web import attach_web

    metrics = Metrics()
    web = attach_web(cfg, port=args.web_port, say=surface.note, metrics=metrics.exposition)

    def attach(session: ShowSession) -> None:
        metrics.add(cfg.room_name, session)
        web(session)
        surface.attach(session)

    return attach


def _add_configs_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="the event's TOML file; several files: one room each, run together (docs/rooms.md)",
    )


def _refuse_for_rooms(args: argparse.Namespace, *options: str) -> None:
    from showcaller.errors import UsageError

    for option in options:
        if getattr(args, option.lstrip("-").replace("-", "_"), None):
            raise UsageError(
                f"{option} is for one event file; with several rooms each keeps its own",
                hint="run the room on its own for that, or leave the option out",
            )


def _rehearse_args(parser: argparse.ArgumentParser) -> None:
    _add_configs_argument(parser)
    add_obs_argument(parser)
    _add_plain_argument(parser)
    _add_web_arguments(parser)
    parser.add_argument(
        "--speed",
        type=_positive_speed,
        help="run the timetable N times faster (default: the config's rehearsal.speed)",
    )
    parser.add_argument(
        "--from",
        dest="from_slot",
        metavar="SLOT",
        help="start at this slot: its number or a piece of its title",
    )
    parser.add_argument("--journal", type=Path, metavar="PATH", help="where to write the journal")
    parser.add_argument(
        "--record", action="store_true", help="also record, to check that recording works"
    )
    parser.add_argument(
        "--stream-test",
        action="store_true",
        help="also stream, to rehearsal.stream_test_server only; OBS's own stream settings "
        "are put back afterwards",
    )
    parser.add_argument(
        "--notify",
        action="store_true",
        help="also send the [notify] webhooks, each message marked as a rehearsal "
        "(without it a rehearsal sends nothing to the speakers' channel)",
    )
    parser.add_argument(
        "--no-lead",
        action="store_true",
        help="send scene switches at the deadline, without compensating OBS's switch latency",
    )


@command(
    "rehearse",
    "run the whole show now (optionally sped up) without ever going on air",
    arguments=_rehearse_args,
)
async def _rehearse(args: argparse.Namespace) -> int:
    from showcaller.config import load_config
    from showcaller.modes import RehearsalOptions, find_slot, rehearse
    from showcaller.show.plan import ShowPlan
    from showcaller.surfaces.console import print_report
    from showcaller.surfaces.dashboard import choose_surface

    if len(args.config) > 1:
        return await _rehearse_rooms(args)
    cfg = load_config(args.config[0])
    options = RehearsalOptions(
        obs=obs_target(args, cfg),
        speed=args.speed or cfg.rehearsal.speed,
        from_slot=find_slot(ShowPlan.of(cfg), args.from_slot),
        journal=args.journal,
        record=args.record,
        lead=not args.no_lead,
        stream_test=args.stream_test,
        notify=args.notify,
    )
    _quiet_engine_log(args)
    surface = choose_surface(cfg, plain=args.plain)
    report = await rehearse(cfg, options, on_session=_surfaces(args, cfg, surface))
    print_report(cfg, report, surface.console)
    return 0 if report.ok else 1


def _live_args(parser: argparse.ArgumentParser) -> None:
    _add_configs_argument(parser)
    add_obs_argument(parser)
    _add_plain_argument(parser)
    _add_web_arguments(parser)
    parser.add_argument("--yes", action="store_true", help="go on air without asking")
    parser.add_argument("--journal", type=Path, metavar="PATH", help="where to write the journal")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start over instead of resuming from the journal (the old one is kept)",
    )


@command("live", "run the show on air, in real time", arguments=_live_args)
async def _live(args: argparse.Namespace) -> int:
    from showcaller.config import load_config
    from showcaller.modes import LiveOptions, live
    from showcaller.surfaces.console import CueLog, print_report
    from showcaller.surfaces.dashboard import choose_surface

    if len(args.config) > 1:
        return await _live_rooms(args)
    cfg = load_config(args.config[0])
    options = LiveOptions(
        obs=obs_target(args, cfg), journal=args.journal, yes=args.yes, fresh=args.fresh
    )
    _quiet_engine_log(args)
    surface = choose_surface(cfg, plain=args.plain)
    report = await live(
        cfg,
        options,
        interactive=sys.stdin.isatty(),
        on_session=_surfaces(args, cfg, surface),
        # The dashboard asks its own question on q and Ctrl-C.
        ask_on_ctrl_c=isinstance(surface, CueLog),
    )
    print_report(cfg, report, surface.console)
    return 0 if report.ok else 1


# ----------------------------------------------------------------------- several rooms


def _room_surfaces(
    args: argparse.Namespace, rooms: list[Room]
) -> tuple[
    Callable[[Room, ShowSession], None],
    Callable[[list[ShowReport]], int],
    contextlib.AbstractAsyncContextManager[object],
    bool,
]:
    """The rooms' dashboard on a terminal (else each room's plain console, its lines marked
    `[room]`), the rooms' web server with each room's pages and `/metrics` (unless
    --no-web; an unsafe web.host is refused here, before OBS is touched); what prints the
    reports; whether the terminal surface is the plain console (it asks on Ctrl-C)."""
    from showcaller.surfaces.console import CueLog, print_report
    from showcaller.surfaces.metrics import Metrics
    from showcaller.surfaces.overview import room_console
    from showcaller.surfaces.rooms_board import RoomsDashboard
    from showcaller.surfaces.rooms_web import room_access, serving_rooms
    from showcaller.surfaces.web import WebApp, web_access

    board: RoomsDashboard | None = None
    logs: dict[str, CueLog] = {}
    if args.plain or not sys.stdout.isatty():
        logs = {room.name: CueLog(room.cfg, console=room_console(room.name)) for room in rooms}
    else:
        board = RoomsDashboard({r.name: r.cfg for r in rooms}, stdin_fd=sys.stdin.fileno())
    metrics = Metrics()
    web: contextlib.AbstractAsyncContextManager[object] = contextlib.nullcontext()
    pages: dict[str, WebApp] = {}
    if not args.no_web:
        access = web_access(rooms[0].cfg.web, port=args.web_port)
        pages = {r.name: WebApp(r.cfg, room_access(access, r.name)) for r in rooms}
        say = board.note if board is not None else print
        web = serving_rooms(metrics, access, say=say, pages=pages)

    @contextlib.asynccontextmanager
    async def surfaces() -> AsyncIterator[object]:
        async with web, board.screen() if board is not None else contextlib.nullcontext():
            yield None

    def attach(room: Room, session: ShowSession) -> None:
        metrics.add(room.name, session)
        if room.name in pages:
            pages[room.name].attach_mounted(session)
        if board is not None:
            board.attach(room.name, session)
        else:
            logs[room.name].attach(session)

    def reports(done: list[ShowReport]) -> int:
        for room, report in zip(rooms, done, strict=True):
            console = board.console if board is not None else logs[room.name].console
            print_report(room.cfg, report, console)
        return 0 if all(r.ok for r in done) else 1

    return attach, reports, surfaces(), board is None


async def _rehearse_rooms(args: argparse.Namespace) -> int:
    from showcaller.modes import RehearsalOptions
    from showcaller.modes.rooms import load_rooms, rehearse_rooms

    _refuse_for_rooms(args, "--journal", "--from")
    rooms = load_rooms(args.config, obs_url=args.obs)

    def options(room: Room) -> RehearsalOptions:
        return RehearsalOptions(
            obs=room.obs,
            speed=args.speed or room.cfg.rehearsal.speed,
            record=args.record,
            lead=not args.no_lead,
            stream_test=args.stream_test,
            notify=args.notify,
        )

    _quiet_engine_log(args)
    attach, reports, web, _ = _room_surfaces(args, rooms)
    async with web:
        done = await rehearse_rooms(rooms, options, on_session=attach)
    return reports(done)


async def _live_rooms(args: argparse.Namespace) -> int:
    from showcaller.errors import UsageError
    from showcaller.modes import LiveOptions
    from showcaller.modes.rooms import live_rooms, load_rooms

    _refuse_for_rooms(args, "--journal")
    interactive = sys.stdin.isatty()
    if not args.yes and not interactive:
        raise UsageError(
            "live mode goes on air only after a confirmation, and there is no terminal to ask",
            hint="run it in a terminal, or pass --yes",
        )
    rooms = load_rooms(args.config, obs_url=args.obs)

    def options(room: Room) -> LiveOptions:
        return LiveOptions(obs=room.obs, yes=args.yes, fresh=args.fresh)

    _quiet_engine_log(args)
    attach, reports, web, plain = _room_surfaces(args, rooms)
    async with web:
        # The rooms' dashboard takes Ctrl-C as a key (the focused room's quit question).
        done = await live_rooms(
            rooms, options, on_session=attach, ask_on_ctrl_c=interactive and plain
        )
    return reports(done)
