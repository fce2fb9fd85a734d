"""`showcaller sim`: the simulated OBS, standalone."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from showcaller.commands import command

PASSWORD_ENV = "SHOWCALLER_OBS__PASSWORD"  # noqa: S105 - the variable's name, not a password


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `showcaller sim`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=4455, help="port (0: any free port)")
    parser.add_argument(
        "--password",
        default=None,
        help=f"require this password (default: ${PASSWORD_ENV}, else none)",
    )
    parser.add_argument(
        "--obs-version",
        choices=("5.1", "5.5"),
        default="5.5",
        help="obs-websocket version to behave like: 5.5 (OBS 30, the default) or 5.1 (OBS 29)",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="seed scenes and inputs from this event file"
    )


@command(
    "sim",
    "run the simulated OBS (an obs-websocket v5 server) until Ctrl-C",
    arguments=add_sim_arguments,
)
async def sim_command(args: argparse.Namespace) -> int:
    """Run `showcaller sim` with parsed arguments (the event file, if any, seeds it)."""
    # Imported here, so `showcaller --version` stays quick.
    from showcaller.config import load_config
    from showcaller.obs.sim import run_sim
    from showcaller.stage.needs import needs_of

    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    needs = needs_of(load_config(args.config)) if args.config is not None else None
    await run_sim(args.host, args.port, password, args.obs_version, needs)
    return 0
