"""`showcaller sim`: the simulated OBS, standalone."""

from __future__ import annotations

from showcaller.cli import command
from showcaller.obs.sim.command import add_sim_arguments, sim_command

command(
    "sim",
    "run the simulated OBS (an obs-websocket v5 server) until Ctrl-C",
    arguments=add_sim_arguments,
)(sim_command)
