"""The simulated OBS: an obs-websocket v5 server that behaves like real OBS 29/30.

`SimulatedOBS` (server.py) composes plain objects: the state `OBSModel` (model.py);
`Outputs` (outputs.py), the stream and record state machines and meters over it; the
request handler groups (general_, scene_, input_, output_, control_, media_ and
frontend_requests.py), one `Dispatcher` table of them (dispatch.py); and the `Wire`
(wire.py) that serves clients and hands it their requests. `Faults` (faults.py) and
`UseCases` (usecases.py, `seed_show` seeds what a show needs from plain `obs.needs`
data) act on the parts they need; `signals.py` makes synthetic speaker picture and
sound; `standalone.py` runs it until cancelled (the command line, `showcaller sim`, is
in `showcaller.commands.sim`).
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
