"""`showcaller sim`: run the simulated OBS standalone until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import cast

from showcaller.obs.sim.server import ObsVersion, SimulatedOBS

log = logging.getLogger(__name__)

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
    parser.add_argument("--obs-version", choices=("5.1", "5.5"), default="5.5")
    parser.add_argument(
        "--config", type=Path, default=None, help="seed scenes and inputs from this event file"
    )


async def sim_command(args: argparse.Namespace) -> int:
    """Run `showcaller sim` with parsed arguments."""
    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    await run_sim(args.host, args.port, password, args.obs_version, args.config)
    return 0


async def run_sim(
    host: str,
    port: int,
    password: str | None,
    obs_version: str,
    seed_config: Path | None,
) -> None:
    """Serve until cancelled (Ctrl-C); then ExitStarted and close every client with 1001."""
    if obs_version not in ("5.1", "5.5"):
        raise ValueError(f"obs_version must be 5.1 or 5.5, not {obs_version!r}")
    sim = SimulatedOBS(host, port, password, cast(ObsVersion, obs_version))
    if seed_config is not None:
        from showcaller.config import load_config  # the config layer is only needed here

        sim.seed_from_config(load_config(seed_config))
    await sim.start()
    try:
        auth = "with a password" if password else "without a password"
        print(
            f"simulated OBS {obs_version} listening on {sim.url} ({auth}); "
            f"recordings go to {sim.record_dir}; Ctrl-C stops it",
            file=sys.stderr,
        )
        await asyncio.Event().wait()
    finally:
        await asyncio.shield(sim.stop())
