"""What every part of the simulated OBS shares: the state, the clock, the clients, the tasks.

`SimulatedOBS` (server.py) is put together from mixins that each hold one job: the
wire session (wire.py), the request handlers by area (scene_requests.py,
input_requests.py, output_requests.py) and the outputs and meters (outputs.py). They
all build on `SimCore`, which declares what they share.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from showcaller.clock import Clock
from showcaller.obs import protocol
from showcaller.obs.protocol import EventSubscription
from showcaller.obs.sim.model import JSON, OBSModel

if TYPE_CHECKING:
    from showcaller.obs.sim.faults import Faults
    from showcaller.obs.sim.wire import Session

log = logging.getLogger(__name__)

ObsVersion = Literal["5.1", "5.5"]

VERSIONS: dict[str, dict[str, str]] = {
    "5.1": {
        "obsVersion": "29.0.2",
        "obsWebSocketVersion": "5.1.0",
        "platformDescription": "Debian GNU/Linux 12 (bookworm)",
    },
    "5.5": {
        "obsVersion": "30.2.3",
        "obsWebSocketVersion": "5.5.2",
        "platformDescription": "Debian GNU/Linux 13 (trixie)",
    },
}

FRAME_S = 1 / 30


class FrameCounter:
    """Frames skipped at a share of the frame rate that changes now and then (a fault)."""

    def __init__(self) -> None:
        self.base = 0.0
        self.since = 0.0
        self.share = 0.0

    def value(self, now: float) -> int:
        """Frames counted up to `now`."""
        return int(self.base + (now - self.since) * self.share / FRAME_S)

    def set_share(self, now: float, share: float) -> None:
        """Count `share` of the frames from `now` on."""
        self.base, self.since, self.share = float(self.value(now)), now, share


class SimCore:
    """The attributes and helpers the wire, the handlers and the outputs share."""

    host: str
    port: int
    password: str | None
    obs_version: ObsVersion
    clock: Clock
    model: OBSModel
    faults: Faults
    requests_seen: Counter[str]
    available_requests: tuple[str, ...]
    _record_dir: Path | None
    _own_record_dir: bool  # a temp dir made here: removed at stop if left empty
    _sessions: set[Session]
    _tasks: set[asyncio.Task[None]]
    _started_at: float
    network_skipped: FrameCounter  # frames dropped on the network (faults.drop_frames)
    encoder_skipped: FrameCounter  # frames the encoder and renderer skipped

    @property
    def record_dir(self) -> Path:
        """Where recordings land (a temp dir unless one was given)."""
        if self._record_dir is None:
            self._record_dir = Path(tempfile.mkdtemp(prefix="showcaller-sim-rec-"))
            self._own_record_dir = True
        return self._record_dir

    async def _sleep(self, seconds: float) -> None:
        await self.clock.sleep_until(self.clock.monotonic() + seconds)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulated OBS task %s failed", task.get_name(), exc_info=task.exception())

    def broadcast(self, event_type: str, data: JSON) -> None:
        """Send an event to every identified client subscribed to its intent bit."""
        intent = protocol.EVENT_INTENT.get(event_type, EventSubscription.GENERAL)
        text: str | None = None
        for session in self._sessions:
            if session.identified and session.subscriptions & intent:
                text = text or protocol.encode(protocol.Event(event_type, intent, data))
                session.send(text)
