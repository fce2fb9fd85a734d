"""The web side of several rooms in one process: each room's pages, an overview, `/metrics`.

One server for the process, on the first room's `[web]` host and port (`--web-port`),
with its access rules: one control token for the process; reading is open on a loopback
address, else it takes a read-only token (`Authorization: Bearer …`).

    GET  /                    the rooms, each with its show, the slot on air, its pages
    GET  /overview            every room at once (polls /api/rooms)               [page]
    GET  /api/rooms           every room's line as JSON (surfaces/overview.py)    [read]
    GET  /metrics             every room's numbers in the Prometheus text format  [read]
    GET  /healthz             {"ok": true}
    /rooms/<room>/…           that room's own web app, as one room has it at / (timer,
                              control, api/state, api/events, api/commands)

Tokens: the process's control token runs every room; the process's timer token
(`timer_token_for`) reads everything; each room's timer token (`room_timer_token`)
reads that room's pages only, so its speaker timer link opens nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import html
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from importlib import resources

from aiohttp import web

from showcaller.surfaces.metrics import CONTENT_TYPE, Metrics
from showcaller.surfaces.overview import room_line
from showcaller.surfaces.web import WebAccess, WebApp, is_loopback

_STATIC = resources.files("showcaller.surfaces") / "static"
_OWN_FILES = {"overview.js": "text/javascript", "overview.css": "text/css"}
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'",
}


def room_timer_token(control_token: str, room: str) -> str:
    """The read-only token of one room's pages (stable across restarts)."""
    message = b"showcaller timer of room " + room.encode()
    digest = hmac.new(control_token.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def room_access(access: WebAccess, room: str) -> WebAccess:
    """The access of one room's pages: the process's control token, the room's timer token."""
    if access.timer_token is None:
        return access  # loopback: reading is open
    return dataclasses.replace(access, timer_token=room_timer_token(access.control_token, room))


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


def _refused() -> web.Response:
    return web.json_response({"ok": False, "error": "this needs the timer token"}, status=401)


def _not_yet(app: WebApp) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware: a room's state and commands wait for its show (pages load at once)."""

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if "/api/" in request.path and not app.following:
            return web.json_response(
                {"ok": False, "error": "this room's show has not started yet"}, status=503
            )
        return await handler(request)

    return middleware


def rooms_app(
    metrics: Metrics, access: WebAccess, pages: Mapping[str, WebApp] | None = None
) -> web.Application:
    """The aiohttp application of the rooms: the list, the overview, the metrics, and
    each room's web app in `pages` mounted under /rooms/<room>/."""
    pages = pages or {}

    async def rooms(request: web.Request) -> web.StreamResponse:
        if not _readable(request, access):
            return _refused()
        rows = []
        for name, session in metrics.rooms.items():
            show = session.state.show
            on_air = show.on_air.title if show.on_air is not None else "-"
            room = html.escape(name)
            links = ""
            if name in pages:
                links = (
                    f'<a href="rooms/{room}/timer">timer</a> '
                    f'<a href="rooms/{room}/control">control</a>'
                )
            rows.append(
                f"<tr><td>{room}</td><td>{html.escape(show.title)}</td>"
                f"<td>{html.escape(on_air)}</td><td>{show.delay_s:+.0f} s</td>"
                f"<td>{html.escape(session.state.link)}</td><td>{links}</td></tr>"
            )
        body = (
            "<!doctype html><meta charset=utf-8><title>showcaller: rooms</title>"
            "<h1>Rooms</h1><table><tr><th>room</th><th>show</th><th>on air</th>"
            "<th>delay</th><th>OBS</th><th>pages</th></tr>" + "".join(rows) + "</table>"
            '<p><a href="overview">overview</a> <a href="metrics">/metrics</a></p>'
        )
        return web.Response(text=body, content_type="text/html", headers=_HEADERS)

    async def overview(_: web.Request) -> web.StreamResponse:
        text = (_STATIC / "overview.html").read_text(encoding="utf-8")
        return web.Response(text=text, content_type="text/html", headers=_HEADERS)

    async def own_file(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        kind = _OWN_FILES.get(name)
        if kind is None:
            return web.json_response({"ok": False, "error": f"no such file: {name}"}, status=404)
        body = (_STATIC / name).read_bytes()
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=_HEADERS)

    async def lines(request: web.Request) -> web.StreamResponse:
        if not _readable(request, access):
            return _refused()
        listed = [
            dataclasses.asdict(room_line(name, session.state)) | {"pages": name in pages}
            for name, session in metrics.rooms.items()
        ]
        waiting = [{"room": name, "waiting": True} for name in pages if name not in metrics.rooms]
        return web.json_response({"rooms": listed + waiting}, dumps=json.dumps, headers=_HEADERS)

    async def scrape(request: web.Request) -> web.StreamResponse:
        if not _readable(request, access):
            return _refused()
        return web.Response(
            body=metrics.exposition().encode(),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    async def healthz(_: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/", rooms)
    app.router.add_get("/overview", overview)
    app.router.add_get("/static/{name}", own_file)
    app.router.add_get("/api/rooms", lines)
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    for name, page in pages.items():
        sub = page.make_app()
        sub.middlewares.append(_not_yet(page))
        app.add_subapp(f"/rooms/{name}", sub)
    return app


def room_urls(base: str, access: WebAccess, rooms: list[str]) -> list[str]:
    """The lines that say where every page is (tokens in the fragment, never logged)."""
    said = []
    overview = f"{base}/overview"
    if access.timer_token is not None:
        overview += f"#token={access.timer_token}"
    said.append(f"all rooms: {overview}  (rooms and metrics: {base}/, {base}/metrics)")
    for room in rooms:
        timer = f"{base}/rooms/{room}/timer"
        if access.timer_token is not None:
            timer += f"#token={room_timer_token(access.control_token, room)}"
        control = f"{base}/rooms/{room}/control"
        control += (
            f"#token={access.control_token}"
            if access.generated
            else "#token=<SHOWCALLER_WEB__TOKEN>"
        )
        said.append(f"[{room}] speaker timer: {timer}")
        said.append(f"[{room}] host page:     {control}")
    return said


@contextlib.asynccontextmanager
async def serving_rooms(
    metrics: Metrics,
    access: WebAccess,
    *,
    say: Callable[[str], None] = print,
    pages: Mapping[str, WebApp] | None = None,
) -> AsyncIterator[int | None]:
    """Serve the rooms while the block runs; yields the port (None: the port could not be
    had, said, and the rooms run without it)."""
    runner = web.AppRunner(rooms_app(metrics, access, pages), access_log=None, shutdown_timeout=2.0)
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
        for line in room_urls(f"http://{host}:{port}", access, list(pages or {})):
            say(line)
        yield port
    finally:
        await runner.cleanup()


__all__ = ["room_access", "room_timer_token", "room_urls", "rooms_app", "serving_rooms"]
