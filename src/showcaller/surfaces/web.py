"""The web app of a running show: speaker timer, host control page, state API, push feed.

An attachment of the show session (`WebApp.attach`): one aiohttp server that lives as
long as the show. It reads the session's one published state and sends host commands
to the session's one command stream; it holds no show logic. The pages are static
files (`static/`, no build step, nothing from the network).

Routes (docs/web.md):

    GET  /timer          the speaker countdown (?transparent=1 for an OBS browser source)
    GET  /control        the host's page (a static page; every command needs the token)
    GET  /api/state      the session state as JSON                            [read]
    GET  /api/events     the state pushed as Server-Sent Events               [read]
    POST /api/commands   {"command": "next"} with Authorization: Bearer TOKEN [control]
    GET  /healthz        {"ok": true}: the server answers (no data, no token)
    GET  /metrics        the Prometheus text format (surfaces/metrics.py)         [read]

Access: *control* is the control token (SHOWCALLER_WEB__TOKEN, or generated at the
show's first start, kept 0600 beside its journal for restarts, and printed only inside
the control URL); *read* is open on a loopback address and
otherwise takes the read-only timer token (or the control token). Tokens travel in the
`Authorization` header only — the pages take them from the URL's fragment, which no
browser sends to a server — and aiohttp's access log is off, so no token reaches a log.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import contextlib
import dataclasses
import errno
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aiohttp import web

from showcaller.config import EventConfig
from showcaller.config.sections import Web
from showcaller.errors import UsageError
from showcaller.show.confirming import needs_confirming
from showcaller.show.context import ShowContext
from showcaller.show.hostcommands import BadCommand, parse_command
from showcaller.show.session import ShowSession
from showcaller.show.state import SessionState
from showcaller.surfaces.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)

# A command is a small JSON object; anything this big is not one.
MAX_BODY_BYTES = 16 * 1024
# A comment line on an idle feed this often, so a dead client (or proxy) is noticed.
HEARTBEAT_S = 15.0
# A feed sends at most one state per this many real seconds (always the newest): the pages
# count down on their own, and a rehearsal at x60 publishes 60 states a second.
FEED_EVERY_S = 0.1
# A configured token shorter than this is refused for a non-loopback address.
MIN_TOKEN_CHARS = 16
# The pages' own files, served under /static/.
STATIC = resources.files("showcaller.surfaces") / "static"
_STATIC_FILES = {
    "feed.js": "text/javascript",
    "timer.js": "text/javascript",
    "control.js": "text/javascript",
    "cards.js": "text/javascript",
    "timer.css": "text/css",
    "control.css": "text/css",
}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


# ------------------------------------------------------------------------------ access


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name to bind) is reachable from this machine only."""
    if host.casefold() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def timer_token_for(control_token: str) -> str:
    """The read-only token that goes with a control token (stable across restarts)."""
    digest = hmac.new(control_token.encode(), b"showcaller timer", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


@dataclass(frozen=True)
class WebAccess:
    """Where the web app listens and the tokens it takes (`repr` shows no token)."""

    host: str
    port: int  # 0: any free port
    control_token: str = dataclasses.field(repr=False)
    timer_token: str | None = dataclasses.field(repr=False)  # None: reading is open
    generated: bool  # the control token was made at start (printed in the control URL)


def web_access(web_cfg: Web, *, port: int | None = None) -> WebAccess:
    """The web app's address and tokens from `[web]` (and `--web-port`).

    Raises UsageError for a non-loopback address without a good token: anybody on the
    network could run the show.
    """
    host = web_cfg.host
    token = web_cfg.token.get_secret_value().strip()
    loopback = is_loopback(host)
    if not loopback and len(token) < MIN_TOKEN_CHARS:
        what = "without a token" if not token else f"with a token of {len(token)} characters"
        raise UsageError(
            f"web.host is {host!r} (reachable from other machines) {what}: "
            "anybody on the network could run the show",
            hint=f"set SHOWCALLER_WEB__TOKEN to a secret of {MIN_TOKEN_CHARS}+ characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`), "
            'or keep web.host = "127.0.0.1"',
        )
    generated = not token
    if generated:
        token = secrets.token_urlsafe(16)
    return WebAccess(
        host=host,
        port=web_cfg.port if port is None else port,
        control_token=token,
        timer_token=None if loopback else timer_token_for(token),
        generated=generated,
    )


_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_")


def token_file(journal: Path) -> Path:
    """Where a show keeps its generated control token: beside its journal."""
    return journal.with_name(journal.name + ".token")


def kept_token(journal: Path, made: str) -> str:
    """The control token kept beside `journal` (mode 0600), or `made`, kept there from now.

    So a restarted `live`/`rehearse` of the same journal takes the same token, and a host
    page opened before a crash keeps working. A file that cannot be written is one
    warning (a restart then makes a new token); the token itself is never logged.
    """
    path = token_file(journal)
    try:
        kept = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        kept = ""
    if len(kept) >= MIN_TOKEN_CHARS and set(kept) <= _TOKEN_CHARS:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)  # a copy that lost its mode is put back to owner-only
        return kept
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(made + "\n")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning(
            "could not keep the web token in %s (%s): a restart will print a new host page link",
            path,
            exc.strerror or exc,
        )
        with contextlib.suppress(OSError):
            temporary.unlink()
    return made


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.casefold() == "bearer" and value else None


def _same(given: str | None, token: str | None) -> bool:
    if given is None or token is None:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


# ------------------------------------------------------------------------- the state


@dataclass(frozen=True)
class _Snapshot:
    """One published state, encoded once for every page that follows it."""

    version: int
    state_json: str  # the state without its messages
    sent_at: str  # show time when it was encoded (the pages count down from here)


class _Broadcast:
    """The newest state for every open feed; waking them costs one Event per change."""

    def __init__(self, ctx: ShowContext) -> None:
        self._ctx = ctx
        self.snapshot: _Snapshot | None = None
        self.closed = False
        self._changed = asyncio.Event()
        self._seqs: list[int] = []
        self._messages: list[str] = []  # encoded once, in seq order
        # The newest snapshot's event as bytes, per (messages after, with messages): the
        # feeds that are up to date (nearly all) share one encoding instead of one each.
        self._events: dict[tuple[int, bool], bytes] = {}

    def publish(self, state: SessionState) -> None:
        """Encode `state` and wake the feeds."""
        time = self._ctx.time
        plain = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
        messages = plain.pop("messages")
        last = self._seqs[-1] if self._seqs else 0
        for message in messages:
            if message.seq > last:
                self._seqs.append(message.seq)
                self._messages.append(_dumps(message))
        keep = len(messages)  # the session keeps the newest ones; so does this
        if len(self._seqs) > keep:
            del self._seqs[:-keep], self._messages[:-keep]
        self.snapshot = _Snapshot(
            version=state.version,
            state_json=_dumps(plain),
            sent_at=time.wall(time.now()).isoformat(),
        )
        self._events.clear()
        self._wake()

    def close(self) -> None:
        """The show is over: the feeds send their last state and end."""
        self.closed = True
        self._wake()

    def event(self, snapshot: _Snapshot, after: int, with_messages: bool, head: str) -> bytes:
        """The `state` event of `snapshot` for a feed that has the messages up to `after`
        (`head`: the feed's fixed fields), encoded once for all such feeds."""
        key = (after if with_messages else -1, with_messages)
        cached = self._events.get(key) if snapshot is self.snapshot else None
        if cached is None:
            messages = self.messages_after(after) if with_messages else "[]"
            data = (
                f'{{"sent_at":"{snapshot.sent_at}",{head},"messages":{messages},'
                f'"state":{snapshot.state_json}}}'
            )
            cached = f"event: state\ndata: {data}\n\n".encode()
            if snapshot is self.snapshot:
                self._events[key] = cached
        return cached

    def messages_after(self, seq: int) -> str:
        """The encoded messages numbered above `seq`, as a JSON array."""
        start = bisect.bisect_right(self._seqs, seq)
        return "[" + ",".join(self._messages[start:]) + "]"

    @property
    def last_seq(self) -> int:
        """The newest message's number (0: none yet)."""
        return self._seqs[-1] if self._seqs else 0

    async def changed(self) -> None:
        """Wait for the next change."""
        await self._changed.wait()

    def _wake(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _dumps(value: object) -> str:
    return json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- the app


def _error(status: int, text: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"ok": False, "error": text}, status=status, headers=headers, dumps=_dumps
    )


_UNAUTHORIZED = (
    "this needs the {what} token: send Authorization: Bearer TOKEN "
    "(the token is in the {what} URL printed at start, or SHOWCALLER_WEB__TOKEN)"
)


class WebApp:
    """The web app of one show: serves the pages, the state and the push feed; takes commands.

    `say` gets the URLs once the server listens (the control URL carries a generated
    token: it is printed once, never logged).
    """

    def __init__(
        self,
        cfg: EventConfig,
        access: WebAccess,
        *,
        say: Callable[[str], None] = print,
        metrics: Callable[[], str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.metrics = metrics  # the /metrics exposition (surfaces/metrics.py), if served
        self.access = access
        self._say = say
        self.port: int | None = None  # the port it listens on, once it does
        self.ready = asyncio.Event()  # set once it listens (or could not)
        self._bad_tokens = 0
        self.open_feeds = 0  # /api/events connections open now (a leak shows here)
        self._broadcast: _Broadcast | None = None
        self._session: ShowContext | None = None

    # ----------------------------------------------------------------- attachment

    def attach(self, session: ShowSession) -> None:
        """Serve the pages for as long as `session` runs."""
        session.attach("the web app", self.serve)

    @contextlib.asynccontextmanager
    async def serve(self, session: ShowContext) -> AsyncIterator[None]:
        """The attachment: listen, follow the state, stop with the show.

        A port that is taken is one problem for the report (said plainly); the show runs.
        """
        self._session = session
        if self.access.generated:
            # A file read and written: off the event loop, like every file the show touches.
            token = await asyncio.to_thread(
                kept_token, session.journal_path, self.access.control_token
            )
            timer = None if self.access.timer_token is None else timer_token_for(token)
            self.access = dataclasses.replace(self.access, control_token=token, timer_token=timer)
        broadcast = self._broadcast = _Broadcast(session)
        broadcast.publish(session.state)
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            try:
                sock = _listen(self.access.host, self.access.port)
            except OSError as exc:
                session.problem(f"the web app could not start: {_bind_problem(self.access, exc)}")
                yield
                return
            try:
                await web.SockSite(runner, sock).start()
            except BaseException:
                sock.close()
                raise
            self.port = sock.getsockname()[1]
            self._say_urls()
            self.ready.set()
            feed = session.feed()

            async def follow() -> None:
                try:
                    async for state in feed:
                        broadcast.publish(state)
                finally:
                    broadcast.close()

            task = session.spawn(follow(), "the web app's state feed", with_show=False)
            yield
            with contextlib.suppress(asyncio.CancelledError):
                await task  # the feed ends after the show's last state
        finally:
            self.ready.set()
            broadcast.close()
            await runner.cleanup()

    def attach_mounted(self, session: ShowSession) -> None:
        """Follow `session` for an app mounted in another server (several rooms: the
        rooms' server, surfaces/rooms_web.py, listens and serves `make_app()`)."""
        session.attach("the web app", self.follow)

    @property
    def following(self) -> bool:
        """Whether a show is attached (its state and commands can be served)."""
        return self._session is not None

    @contextlib.asynccontextmanager
    async def follow(self, session: ShowContext) -> AsyncIterator[None]:
        """The mounted app's attachment: follow the state, listen nowhere."""
        self._session = session
        broadcast = self._broadcast = _Broadcast(session)
        broadcast.publish(session.state)

        async def follow() -> None:
            try:
                async for state in session.feed():
                    broadcast.publish(state)
            finally:
                broadcast.close()

        task = session.spawn(follow(), "the web app's state feed", with_show=False)
        try:
            yield
            with contextlib.suppress(asyncio.CancelledError):
                await task  # the feed ends after the show's last state
        finally:
            broadcast.close()

    # --------------------------------------------------------------------- URLs

    def urls(self) -> dict[str, str]:
        """The pages' URLs, tokens in the fragment (only once it listens)."""
        host = self.access.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        base = f"http://{host}:{self.port}"
        timer = f"{base}/timer"
        if self.access.timer_token is not None:
            timer += f"#token={self.access.timer_token}"
        control = f"{base}/control"
        if self.access.generated:
            control += f"#token={self.access.control_token}"
        return {"base": base, "timer": timer, "control": control}

    def _say_urls(self) -> None:
        urls = self.urls()
        self._say(f"speaker timer: {urls['timer']}  (OBS browser source: add ?transparent=1)")
        if self.access.generated:
            self._say(f"host page:     {urls['control']}  (kept for this show's restarts)")
        else:
            self._say(f"host page:     {urls['control']}#token=<SHOWCALLER_WEB__TOKEN>")

    # ---------------------------------------------------------------------- app

    def make_app(self) -> web.Application:
        """The aiohttp application (routes, limits, headers)."""
        app = web.Application(
            client_max_size=MAX_BODY_BYTES,
            middlewares=[self._guard_host, _security_headers],
        )
        app.router.add_get("/", self._root)
        app.router.add_get("/timer", self._page("timer.html"), name="timer")
        app.router.add_get("/control", self._page("control.html"))
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/commands", self._commands)
        app.router.add_get("/healthz", self._healthz)
        if self.metrics is not None:
            app.router.add_get("/metrics", self._metrics)
        return app

    @web.middleware
    async def _guard_host(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # On loopback the token-free pages must not be readable by a web site whose name
        # was re-pointed at 127.0.0.1 (DNS rebinding): only loopback names are served.
        if is_loopback(self.access.host):
            name = _host_name(request.host)
            if not is_loopback(name):
                return _error(421, f"this server answers to 127.0.0.1 and localhost, not {name!r}")
        return await handler(request)

    async def _root(self, request: web.Request) -> web.StreamResponse:
        # The timer of this app, wherever it is mounted (/timer, /rooms/<room>/timer).
        timer = str(request.app.router["timer"].url_for())
        return web.Response(status=302, headers={"Location": timer})

    def _page(self, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        text = (STATIC / name).read_text(encoding="utf-8")
        body = text.replace("__LANG__", self.cfg.event.language)

        async def page(_: web.Request) -> web.StreamResponse:
            return web.Response(
                text=body, content_type="text/html", headers={"Cache-Control": "no-cache"}
            )

        return page

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        kind = _STATIC_FILES.get(name)
        if kind is None:
            return _error(404, f"no such file: {name}")
        return web.Response(
            body=(STATIC / name).read_bytes(),
            content_type=kind,
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def _healthz(self, _: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    # ------------------------------------------------------------------- access

    def _readable(self, request: web.Request) -> bool:
        if self.access.timer_token is None:
            return True
        given = _bearer(request)
        # Both compared every time: how long it takes says nothing about which matched.
        timer = _same(given, self.access.timer_token)
        control = _same(given, self.access.control_token)
        return timer or control

    def _unauthorized(self, request: web.Request, what: str) -> web.Response:
        self._bad_tokens += 1
        # First refusal on the console, the rest in the debug log: a page left open with
        # an old token would otherwise fill the screen. Never the token itself.
        level = logging.WARNING if self._bad_tokens == 1 else logging.DEBUG
        reason = "no token" if _bearer(request) is None else "a wrong token"
        log.log(
            level,
            "the web app refused %s %s from %s: %s (the token is in the URL printed at start)",
            request.method,
            request.path,
            request.remote,
            reason,
        )
        challenge = {"WWW-Authenticate": 'Bearer realm="showcaller"'}
        return _error(401, _UNAUTHORIZED.format(what=what), challenge)

    # ---------------------------------------------------------------------- API

    async def _state(self, request: web.Request) -> web.StreamResponse:
        if not self._readable(request):
            return self._unauthorized(request, "timer")
        assert self._session is not None  # served only while attached
        return web.json_response(
            self._session.state.to_json(), dumps=_dumps, headers={"Cache-Control": "no-store"}
        )

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        if not self._readable(request):
            return self._unauthorized(request, "timer")
        assert self.metrics is not None  # routed only then
        return web.Response(
            body=self.metrics().encode(),
            headers={"Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if not self._readable(request):
            return self._unauthorized(request, "timer")
        broadcast = self._broadcast
        assert broadcast is not None  # served only while attached
        with_messages = request.query.get("messages", "1") != "0"
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # a reverse proxy must not hold events back
            }
        )
        await response.prepare(request)
        speed = json.dumps(self._session.speed if self._session else 1.0)
        language = json.dumps(self.cfg.event.language)
        head = f'"speed":{speed},"language":{language}'  # the same for every feed of a show
        sent_version, sent_seq = -1, 0
        loop = asyncio.get_running_loop()
        sent_at = -FEED_EVERY_S
        with contextlib.suppress(ConnectionError), self._counted_feed():
            while True:
                snapshot = broadcast.snapshot
                if snapshot is not None and snapshot.version != sent_version:
                    if (wait := sent_at + FEED_EVERY_S - loop.time()) > 0:
                        await asyncio.sleep(wait)
                        continue  # then the newest state
                    sent_at = loop.time()
                    event = broadcast.event(snapshot, sent_seq, with_messages, head)
                    if with_messages:
                        sent_seq = broadcast.last_seq
                    await response.write(event)
                    sent_version = snapshot.version
                    continue
                if broadcast.closed:
                    await response.write(b"event: end\ndata: {}\n\n")
                    break
                try:
                    async with asyncio.timeout(HEARTBEAT_S):
                        await broadcast.changed()
                except TimeoutError:
                    await response.write(b": still here\n\n")
        return response

    @contextlib.contextmanager
    def _counted_feed(self) -> Iterator[None]:
        # Counted down however the feed ends: the show's end, the client leaving, a cancel.
        self.open_feeds += 1
        try:
            yield
        finally:
            self.open_feeds -= 1

    async def _commands(self, request: web.Request) -> web.StreamResponse:
        if not _same(_bearer(request), self.access.control_token):
            return self._unauthorized(request, "control")
        session = self._session
        assert session is not None  # served only while attached
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _error(413, f"a command is at most {MAX_BODY_BYTES} bytes")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"a command is at most {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f'not JSON ({exc}): send an object like {{"command": "next"}}')
        if not isinstance(data, Mapping):
            return _error(400, 'a command is a JSON object like {"command": "next"}')
        data = dict(data)
        confirmed = data.pop("confirm", False)
        if not isinstance(confirmed, bool):
            return _error(422, f"confirm must be true or false, not {confirmed!r}")
        try:
            command = parse_command(data)
        except BadCommand:
            # The session journals the refusal with its reason and says it the same way.
            result = await session.submit(data, source="web")
            return _error(422, result.message)
        time = session.time
        why = needs_confirming(command, session.state.show, time.wall(time.now()))
        if why is not None and not confirmed:
            # Live: a risky command goes only when the host confirms it (the page's second
            # tap sends it again with "confirm": true); nothing was sent to the show.
            return web.json_response(
                {
                    "ok": False,
                    "confirm": why,
                    "message": f'confirm: {why} (send it again with "confirm": true)',
                },
                status=409,
                dumps=_dumps,
            )
        result = await session.submit(command, source="web")
        status = 200 if result.ok else 409
        return web.json_response(
            {"ok": result.ok, "message": result.message}, status=status, dumps=_dumps
        )


@web.middleware
async def _security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _harden(exc.headers, request.path)
        raise
    _harden(response.headers, request.path)
    return response


def _harden(headers: MutableMapping[str, str], path: str) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    # The control page must not be framed by another site (a click there is a command).
    frame = "; frame-ancestors 'none'" if path.endswith("/control") else ""  # a room's too
    headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'{frame}",
    )


def _host_name(header: str) -> str:
    """The name in a Host header: `[::1]:8080` → `::1`, `localhost:8080` → `localhost`."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if ":" in header else header


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (0: a free port); OSError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # Lets a restarted showcaller take its port back at once (not while another listens).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _bind_problem(access: WebAccess, exc: OSError) -> str:
    where = f"{access.host}:{access.port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {access.port} on {access.host} is taken (another showcaller, or another "
            "program); start with --web-port N for another port, or --web-port 0 for any free one"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{access.host} is not an address of this machine (web.host)"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {where}; use a port above 1023 (--web-port N)"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def attach_web(
    cfg: EventConfig,
    *,
    port: int | None,
    say: Callable[[str], None],
    metrics: Callable[[], str] | None = None,
) -> Callable[[ShowSession], None]:
    """What `rehearse`/`live` call with the session: attach the web app (UsageError first)."""
    app = WebApp(cfg, web_access(cfg.web, port=port), say=say, metrics=metrics)
    return app.attach


__all__ = [
    "MAX_BODY_BYTES",
    "WebAccess",
    "WebApp",
    "attach_web",
    "is_loopback",
    "kept_token",
    "timer_token_for",
    "token_file",
    "web_access",
]
