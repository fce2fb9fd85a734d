"""The simulated OBS's one request table: each request type to the handler object
method that answers it, with what OBS does around every request (the requests seen,
stalls and delays from `Faults`, `Sleep` inside batches)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from showcaller.clock import Clock
from showcaller.obs import protocol
from showcaller.obs.protocol import Status
from showcaller.obs.sim import catalog
from showcaller.obs.sim.args import Args, Handler
from showcaller.obs.sim.core import FRAME_S, ObsVersion, sleep
from showcaller.obs.sim.faults import Faults
from showcaller.obs.sim.model import JSON, RequestFailed


def build_table(groups: Iterable[Mapping[str, Handler]]) -> dict[str, Handler]:
    """One table from the groups' tables; a request type answered twice is a bug."""
    table: dict[str, Handler] = {}
    for group in groups:
        twice = table.keys() & group.keys()
        if twice:
            raise ValueError(f"request types answered twice: {sorted(twice)}")
        table.update(group)
    return table


class Dispatcher:
    """Answers one request: counted, held while stalled, delayed, then its handler's."""

    def __init__(
        self,
        table: Mapping[str, Handler],
        *,
        obs_version: ObsVersion,
        faults: Faults,
        clock: Clock,
    ) -> None:
        """Route to `table` the requests an OBS of `obs_version` lists."""
        self._table = dict(table)
        self._faults = faults
        self._clock = clock
        self.requests_seen: Counter[str] = Counter()
        # Only what the sim answers: a controller that detects features from this list
        # must not be told about requests that would answer 204.
        self.available_requests: tuple[str, ...] = tuple(
            name
            for name in catalog.REQUESTS_5_1
            + (catalog.REQUESTS_5_5_EXTRA if obs_version == "5.5" else ())
            if name == "Sleep" or name in self._table
        )

    async def answer(
        self, req: protocol.Request, *, in_batch: int | None
    ) -> protocol.RequestResponse:
        """The response to `req` (alone: `in_batch` None; else the batch's executionType)."""
        self.requests_seen[req.request_type] += 1
        await self._faults.wait_answering()
        delay = self._faults.delay_for(req.request_type)
        if delay > 0:
            await sleep(self._clock, delay)
        if self._faults.loading:
            status = protocol.RequestStatus(
                False, Status.NOT_READY, "OBS is not ready to perform the request."
            )
            return protocol.RequestResponse(req.request_type, req.request_id, status)
        try:
            data = await self._execute(req, in_batch)
        except RequestFailed as failed:
            status = protocol.RequestStatus(False, failed.code, failed.comment)
            return protocol.RequestResponse(req.request_type, req.request_id, status)
        status = protocol.RequestStatus(True, Status.SUCCESS)
        return protocol.RequestResponse(req.request_type, req.request_id, status, data)

    async def _execute(self, req: protocol.Request, in_batch: int | None) -> JSON | None:
        rtype = req.request_type
        if not rtype:
            raise RequestFailed(
                Status.MISSING_REQUEST_TYPE, "Your request's `requestType` may not be empty."
            )
        if rtype not in self.available_requests:
            raise RequestFailed(Status.UNKNOWN_REQUEST_TYPE, "Your request type is not valid.")
        args = Args(req.request_data)
        if rtype == "Sleep":
            await self._sleep_request(args, in_batch)
            return None
        handler = self._table.get(rtype)
        if handler is None:
            raise RequestFailed(Status.UNKNOWN_REQUEST_TYPE, "Your request type is not valid.")
        return await handler(args)

    async def _sleep_request(self, args: Args, in_batch: int | None) -> None:
        if in_batch is None:
            raise RequestFailed(Status.UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE)
        if in_batch == protocol.BatchExecution.SERIAL_FRAME:
            await sleep(self._clock, args.number("sleepFrames", 0, 10000) * FRAME_S)
        elif in_batch == protocol.BatchExecution.SERIAL_REALTIME:
            await sleep(self._clock, args.number("sleepMillis", 0, 50000) / 1000)
        else:
            raise RequestFailed(Status.UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE)
