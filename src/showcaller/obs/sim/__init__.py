"""The simulated OBS: an obs-websocket v5 server that behaves like real OBS 29/30.

`SimulatedOBS` (server.py) is put together from the wire session (wire.py), the
request handlers by area (scene_requests.py, input_requests.py, output_requests.py)
and the outputs and meters (outputs.py), on the shared core (core.py); `OBSModel`
(model.py) holds the state; `signals.py` makes synthetic speaker picture and sound;
`faults.py` and `usecases.py` hold the verbs tests use (`seed_show` seeds what a show
needs, from plain `obs.needs` data); `standalone.py` runs it until cancelled (the
command line, `showcaller sim`, is in `showcaller.commands.sim`).
"""

from showcaller.obs.sim.faults import Faults
from showcaller.obs.sim.model import OBSModel, RequestFailed
from showcaller.obs.sim.server import SimulatedOBS
from showcaller.obs.sim.standalone import run_sim
from showcaller.obs.sim.usecases import UseCases

__all__ = [
    "Faults",
    "OBSModel",
    "RequestFailed",
    "SimulatedOBS",
    "UseCases",
    "run_sim",
]
