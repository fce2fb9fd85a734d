"""Open the OBS a command names: a ws:// URL, or `sim` (the embedded simulated OBS).

    async with open_obs(obs.url, password, connect_timeout=5, request_timeout=5) as conn:
        await conn.gateway.set_program_scene("Talk")

    async with open_target(cfg.obs, seed=...) as conn:   # an event file's [obs] section
        ...

The supervised link keeps reconnecting while the block runs; everything stops on exit.
The guard is the caller's choice (`OBSGateway(conn.link, guard=...)`, or `guard=`).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from showcaller.obs.gateway import Guard, OBSGateway
from showcaller.obs.needs import ShowNeeds
from showcaller.obs.supervisor import OBSLink

if TYPE_CHECKING:
    from showcaller.obs.sim import SimulatedOBS

SIM = "sim"
# The built-in OBS's own stream target: rtmp://127.0.0.1:<a free port>/showcaller-sim.
SINK_APP = "showcaller-sim"


@dataclass(frozen=True)
class ObsSeed:
    """What the simulated OBS starts with, so `sim` looks like a host's prepared OBS.

    `needs` (what a show needs: `showcaller.stage.needs.needs_of(cfg)`) seeds every scene,
    lower-third text input and speaker feed with live picture and sound; `scenes` and
    `inputs` (name, kind, scene) add more. `provision` (run over the connection first,
    e.g. `showcaller provision`'s) builds the scene templates before those are added.
    """

    needs: ShowNeeds | None = None
    scenes: tuple[str, ...] = ()
    inputs: tuple[tuple[str, str, str], ...] = ()
    provision: Callable[[OBSGateway], Awaitable[None]] | None = None


@dataclass(frozen=True)
class OBSConnection:
    """An open link to OBS with its gateway; `sim` is the embedded simulated OBS, if any."""

    link: OBSLink
    gateway: OBSGateway
    url: str
    sim: SimulatedOBS | None = None


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class Target(Protocol):
    """Where OBS is and how long to wait for it: an event file's `[obs]` section fits."""

    @property
    def url(self) -> str: ...

    @property
    def password(self) -> _Secret: ...

    @property
    def connect_timeout(self) -> float: ...

    @property
    def request_timeout(self) -> float: ...


def open_target(
    obs: Target, *, seed: ObsSeed | None = None, guard: Guard | None = None
) -> contextlib.AbstractAsyncContextManager[OBSConnection]:
    """`open_obs` for an `[obs]` section (its URL, password and timeouts), in one place."""
    return open_obs(
        obs.url,
        obs.password.get_secret_value() or None,
        connect_timeout=obs.connect_timeout,
        request_timeout=obs.request_timeout,
        seed=seed,
        guard=guard,
    )


@contextlib.asynccontextmanager
async def open_obs(
    url: str,
    password: str | None,
    *,
    connect_timeout: float = 5.0,
    request_timeout: float = 5.0,
    seed: ObsSeed | None = None,
    guard: Guard | None = None,
) -> AsyncIterator[OBSConnection]:
    """Connect (starting the simulated OBS for `sim`); the first failure raises at once.

    Raises ConnectionRefused, ConnectTimeout (after `connect_timeout`), NotOBSServer or
    AuthenticationFailed; once connected, the link reconnects by itself.
    """
    async with contextlib.AsyncExitStack() as stack:
        sim = None
        if url == SIM:
            # Imported here: the simulator is big and most commands drive a real OBS.
            from showcaller.obs.sim import SimulatedOBS

            password = secrets.token_urlsafe(16)
            sim = await stack.enter_async_context(
                SimulatedOBS(host="127.0.0.1", port=0, password=password)
            )
            _stream_to_loopback(sim)
            if seed is not None and seed.provision is None:
                _seed(sim, seed)
            url = sim.url
        link = OBSLink(
            url, password, connect_timeout=connect_timeout, request_timeout=request_timeout
        )
        await stack.enter_async_context(link)
        await link.wait_ready(fail_fast=True)
        if sim is not None and seed is not None and seed.provision is not None:
            await seed.provision(OBSGateway(link))
            _seed(sim, seed)
        yield OBSConnection(link, OBSGateway(link, guard=guard), url, sim)


def _stream_to_loopback(sim: SimulatedOBS) -> None:
    """Give the built-in OBS a stream target of its own: a sink on loopback that listens.

    A fresh OBS streams nowhere, so `live --obs sim` could only ever fail at the stream's
    start. Like a real OBS set to a custom RTMP server that listens, the built-in one
    goes on air to this sink (and counts what it sends); nothing leaves the machine.
    """
    port = sim.use_cases.listen(0)
    sim.use_cases.stream_target(f"rtmp://127.0.0.1:{port}/{SINK_APP}", key=SINK_APP, listen=False)


def _seed(sim: SimulatedOBS, seed: ObsSeed) -> None:
    if seed.needs is not None:
        sim.use_cases.seed_show(seed.needs)
    sim.seed(scenes=seed.scenes, inputs=seed.inputs)
