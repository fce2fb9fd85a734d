"""Run the simulated OBS standalone until cancelled (what `showcaller sim` does)."""

from __future__ import annotations

import asyncio
import sys
from typing import cast

from showcaller.obs.needs import ShowNeeds
from showcaller.obs.sim.server import ObsVersion, SimulatedOBS


async def run_sim(
    host: str,
    port: int,
    password: str | None,
    obs_version: str,
    needs: ShowNeeds | None,
) -> None:
    """Serve (seeded with what `needs` lists) until cancelled (Ctrl-C); then ExitStarted
    and close every client with 1001."""
    if obs_version not in ("5.1", "5.5"):
        raise ValueError(f"obs_version must be 5.1 or 5.5, not {obs_version!r}")
    sim = SimulatedOBS(host, port, password, cast(ObsVersion, obs_version))
    if needs is not None:
        sim.use_cases.seed_show(needs)
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
