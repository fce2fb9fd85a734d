"""The web side of several rooms in one process: `/` lists the rooms, `/metrics` serves them all.

One server for the process, on the first room's `[web]` host and port (`--web-port`),
with its access rules: reading is open on a loopback address, else it takes the timer
token that goes with the process's one control token (`Authorization: Bearer …`).

    GET  /          the rooms, each with its show, the slot on air and its link to OBS
    GET  /metrics   every room's numbers in the Prometheus text format        [read]
    GET  /healthz   {"ok": true}

(Each room's own /rooms/<room>/timer and /control pages are not served yet: one room
keeps today's web app; docs/rooms.md.)
"""

from __future__ import annotations

import contextlib
import hmac
import html
import socket
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from showcaller.surfaces.metrics import CONTENT_TYPE, Metrics
from showcaller.surfaces.web import WebAccess, is_loopback


def _readable(request: web.Request, access: WebAccess) -> bool:
    if access.timer_token is None:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.casefold() != "bearer":
        return False
    token = given.strip().encode()
    # Both compared every time: how long it takes says nothing about which matched.
    timer = hmac.compare_digest(token, access.timer_token.encode())
    control = hmac.compare_digest(token, access.control_token.encode())
    return timer or control


def rooms_app(metrics: Metrics, access: WebAccess) -> web.Application:
    """The aiohttp application of the rooms' list and their metrics."""

    async def rooms(request: web.Request) -> web.StreamResponse:
        if not _readable(request, access):
            return web.json_response(
                {"ok": False, "error": "this needs the timer token"}, status=401
            )
        rows = []
        for name, session in metrics.rooms.items():
            show = session.state.show
            on_air = show.on_air.title if show.on_air is not None else "-"
            rows.append(
                f"<tr><td>{html.escape(name)}</td><td>{html.escape(show.title)}</td>"
                f"<td>{html.escape(on_air)}</td><td>{show.delay_s:+.0f} s</td>"
                f"<td>{html.escape(session.state.link)}</td></tr>"
            )
        body = (
            "<!doctype html><meta charset=utf-8><title>showcaller: rooms</title>"
            "<h1>Rooms</h1><table><tr><th>room</th><th>show</th><th>on air</th>"
            "<th>delay</th><th>OBS</th></tr>" + "".join(rows) + "</table>"
            '<p><a href="/metrics">/metrics</a></p>'
        )
        return web.Response(
            text=body, content_type="text/html", headers={"Cache-Control": "no-store"}
        )

    async def scrape(request: web.Request) -> web.StreamResponse:
        if not _readable(request, access):
            return web.json_response(
                {"ok": False, "error": "this needs the timer token"}, status=401
            )
        return web.Response(
            body=metrics.exposition().encode(),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    async def healthz(_: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/", rooms)
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    return app


@contextlib.asynccontextmanager
async def serving_rooms(
    metrics: Metrics, access: WebAccess, *, say: Callable[[str], None] = print
) -> AsyncIterator[int | None]:
    """Serve the rooms' list and metrics while the block runs; yields the port (None: the
    port could not be had, said, and the rooms run without it)."""
    runner = web.AppRunner(rooms_app(metrics, access), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, access.host, access.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            say(f"the rooms' web page could not start on {access.host}:{access.port}: {exc}")
            yield None
            return
        server = site._server  # aiohttp keeps the asyncio.Server here; its socket has the port
        sockets = getattr(server, "sockets", None) or []
        port = int(sockets[0].getsockname()[1]) if sockets else access.port
        host = access.host if is_loopback(access.host) else socket.gethostname()
        say(f"rooms and metrics: http://{host}:{port}/ and http://{host}:{port}/metrics")
        yield port
    finally:
        await runner.cleanup()


__all__ = ["rooms_app", "serving_rooms"]
