"""A hostile or broken OBS: the client, gateway and a whole show against a peer that lies.

`HostileOBS` (tests/hostile_obs.py) is a proxy in front of the simulated OBS that passes
the handshake, then mutates what the server sends. The fuzzer runs thousands of cases
on one sim, one proxy and one supervised link, as the show uses them: each case arms one
mutation for the next answer (or event), runs one show verb through the gateway, and
checks that

- the verb returns, or raises one of `showcaller.errors`, within its time bound;
- nothing is logged with a traceback, nothing at ERROR;
- a frame that is merely broken never costs the link (only a close or a cut does);
- a clean request succeeds afterwards (after the supervisor reconnected, if it had to),
  and no request is left waiting.

`SHOWCALLER_FUZZ_CASES` (default 2000), `SHOWCALLER_FUZZ_SEED` (default 22) and
`SHOWCALLER_FUZZ_CASE` (run that one case only) reproduce any run; a failure names them.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import random
import string
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from showcaller import errors
from showcaller.config import OBS, load_config
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs import events as typed
from showcaller.obs import protocol
from showcaller.obs.client import OBSClient
from showcaller.obs.events import OBSEvent, ProgramSceneChanged
from showcaller.obs.gateway import OBSGateway
from showcaller.obs.sim import SimulatedOBS
from showcaller.obs.supervisor import OBSLink
from showcaller.stage.needs import needs_of
from tests.hostile_obs import Action, HostileOBS, Peer, Target
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"

TYPED_EVENT_CLASSES: tuple[type[OBSEvent], ...] = tuple(
    cls
    for name in typed.__all__
    if isinstance(cls := getattr(typed, name), type)
    and issubclass(cls, OBSEvent)
    and cls is not OBSEvent
)

SEED = int(os.environ.get("SHOWCALLER_FUZZ_SEED", "22"))
CASES = int(os.environ.get("SHOWCALLER_FUZZ_CASES", "2000"))
ONLY = os.environ.get("SHOWCALLER_FUZZ_CASE")

# A verb whose answer the peer keeps waits this long; every other verb waits NORMAL_TIMEOUT.
SILENT_TIMEOUT = 0.03
NORMAL_TIMEOUT = 2.0
RESYNC_TIMEOUT = 0.1
# A verb that is still running this long after its own timeout hangs.
HANG_SLACK = 2.0
HUGE = 5 * 1024 * 1024


# ------------------------------------------------------------------------ log capture


class LogTrap(logging.Handler):
    """Keeps every record at WARNING or above; `tracebacks()` are the ones that fail a test."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        return [
            f"{r.name} {r.levelname}: {r.getMessage()}"
            for r in self.records
            if r.exc_info or r.levelno >= logging.ERROR
        ]

    def warnings(self, logger: str = "showcaller") -> list[str]:
        return [
            r.getMessage()
            for r in self.records
            if r.levelno == logging.WARNING and r.name.startswith(logger)
        ]


@contextlib.contextmanager
def trapped_logs() -> Iterator[LogTrap]:
    trap = LogTrap()
    root = logging.getLogger()
    root.addHandler(trap)
    try:
        yield trap
    finally:
        root.removeHandler(trap)


# ------------------------------------------------------------------------ garbage


def junk(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value a broken peer may put where a field belongs (NaN and Infinity too:
    Python's json reads them)."""
    kinds = ["none", "bool", "int", "big", "float", "nan", "str", "long", "emoji"]
    if depth < 3:
        kinds += ["list", "dict"]
    match rng.choice(kinds):
        case "none":
            return None
        case "bool":
            return rng.random() < 0.5
        case "int":
            return rng.randint(-5, 700)
        case "big":
            return rng.choice([2**63, -(2**63) - 1, 10**40])
        case "float":
            return rng.uniform(-1e6, 1e6)
        case "nan":
            return rng.choice([float("nan"), float("inf"), float("-inf")])
        case "str":
            return "".join(rng.choices(string.printable, k=rng.randint(0, 12)))
        case "long":
            return "x" * rng.randint(100, 5000)
        case "emoji":
            return rng.choice(["💥", "\u0000", "\ud800", "Ω≈ç√", "\u202e"])
        case "list":
            return [junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {junk_key(rng): junk(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def junk_key(rng: random.Random) -> str:
    return rng.choice(
        ["sceneName", "inputName", "requestId", "op", "d", "", "💥", "inputs", "x" * 30]
    )


def dumps(obj: Any) -> str:
    # ensure_ascii: a lone surrogate ("\ud800") cannot be sent as UTF-8, only escaped.
    return json.dumps(obj, allow_nan=True)


def not_json(rng: random.Random, frame: str) -> str:
    """A text frame that is not an obs-websocket message at all."""
    choices: list[Callable[[], str]] = [
        lambda: frame[: rng.randint(0, max(0, len(frame) - 1))],
        lambda: "".join(rng.choices(string.printable, k=rng.randint(1, 80))),
        lambda: rng.choice(["", " ", "null", "[]", "42", '"op"', "{", "}", "true", "NaN"]),
        lambda: rng.choice(['{"op":5}', '{"op":7,"d":[]}', '{"op":null,"d":{}}', '{"d":{}}']),
        lambda: rng.choice(['{"op":true,"d":{}}', '{"op":7.0,"d":{}}', '{"op":"7","d":{}}']),
        lambda: frame + rng.choice(["}", "]", ",", "x"]),
        lambda: frame.replace('"', "'", 1),
        # Nested deeper than Python's json parser recurses.
        lambda: "[" * 100_000 + "]" * 100_000,
        lambda: '{"op":5,"d":' * 50_000 + "{}" + "}" * 50_000,
    ]
    return rng.choice(choices)()


def unknown_op(rng: random.Random) -> str:
    op = rng.choice([4, 10, 11, 99, -1, 2**53, 2**70])
    return dumps({"op": op, "d": {"eventType": "X", "requestId": "sc-1"}})


def server_only_never(rng: random.Random) -> str:
    """Messages OBS never sends after the handshake: Hello, Identify, a Request, a batch."""
    return rng.choice(
        [
            dumps({"op": 0, "d": {"obsWebSocketVersion": "5.5.0", "rpcVersion": 1}}),
            dumps({"op": 1, "d": {"rpcVersion": 1}}),
            dumps({"op": 2, "d": {"negotiatedRpcVersion": 1}}),
            dumps({"op": 3, "d": {"eventSubscriptions": 0}}),
            dumps({"op": 6, "d": {"requestType": "GetVersion", "requestId": "x"}}),
            dumps({"op": 8, "d": {"requestId": "x", "requests": []}}),
        ]
    )


EVENT_FIELDS = {
    "CurrentProgramSceneChanged": ["sceneName", "sceneUuid"],
    "StreamStateChanged": ["outputActive", "outputState"],
    "RecordStateChanged": ["outputActive", "outputState", "outputPath"],
    "RecordFileChanged": ["newOutputPath"],
    "InputActiveStateChanged": ["inputName", "videoActive"],
    "InputShowStateChanged": ["inputName", "videoShowing"],
    "InputMuteStateChanged": ["inputName", "inputMuted"],
    "InputVolumeMeters": ["inputs"],
    "ExitStarted": [],
    "CurrentPreviewSceneChanged": ["sceneName"],
    "StudioModeStateChanged": ["studioModeEnabled"],
    "InputSettingsChanged": ["inputName", "inputSettings"],
}


def junk_event_data(rng: random.Random, event_type: str) -> Any:
    fields = EVENT_FIELDS.get(event_type, ["x"])
    match rng.randrange(4):
        case 0:  # every field of the wrong kind
            return {f: junk(rng) for f in fields}
        case 1:  # some fields missing
            return {f: junk(rng) for f in fields if rng.random() < 0.5}
        case 2 if event_type == "InputVolumeMeters":  # almost right levels
            return {
                "inputs": [
                    {"inputName": junk(rng), "inputLevelsMul": [[junk(rng), 0.5, 1]]},
                    {"inputName": "Mic", "inputLevelsMul": [[0.1, 0.2]]},
                    junk(rng),
                ]
            }
        case 2:
            return {f: junk(rng) for f in fields} | {junk_key(rng): junk(rng)}
    return junk(rng)  # eventData itself not an object


def garbage_event(rng: random.Random) -> str:
    """A valid envelope with nonsense eventData, or a broken envelope."""
    event_type = rng.choice([*EVENT_FIELDS, "NoSuchEvent", ""])
    d: dict[str, Any] = {
        "eventType": event_type,
        "eventIntent": int(protocol.EVENT_INTENT.get(event_type, 1)),
        "eventData": junk_event_data(rng, event_type),
    }
    if rng.random() < 0.15:  # the envelope itself broken
        d[rng.choice(["eventType", "eventIntent", "eventData"])] = junk(rng)
    return dumps({"op": 5, "d": d})


def answer_to_nobody(rng: random.Random, frame: str) -> str:
    """A well-formed (or not) answer to a request id nobody sent."""
    obj = json.loads(frame)
    obj["d"]["requestId"] = rng.choice(["sc-999999", "", "x" * 40, "sc-0"])
    if rng.random() < 0.3:
        mutate_fields(rng, obj, keep_id=True)
    return dumps(obj)


def huge(rng: random.Random) -> str:
    """A 5 MB frame: not JSON, an event, or an answer to nobody."""
    big = "x" * HUGE
    return rng.choice(
        [
            lambda: big,
            lambda: dumps(
                {
                    "op": 5,
                    "d": {
                        "eventType": "CurrentProgramSceneChanged",
                        "eventIntent": 4,
                        "eventData": {"sceneName": big},
                    },
                }
            ),
            lambda: dumps(
                {
                    "op": 7,
                    "d": {
                        "requestType": "GetStats",
                        "requestId": "nobody",
                        "requestStatus": {"result": True, "code": 100},
                        "responseData": {"blob": big},
                    },
                }
            ),
        ]
    )()


def _paths(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield (*path, i)
            yield from _paths(value, (*path, i))


def mutate_fields(rng: random.Random, obj: dict[str, Any], *, keep_id: bool) -> None:
    """One to three changes inside `d`: a field deleted, of the wrong kind, or added."""
    d = obj["d"]
    paths = [p for p in _paths(d) if not (keep_id and p == ("requestId",))]
    for _ in range(rng.randint(1, 3)):
        if not paths:
            break
        path = rng.choice(paths)
        parent: Any = d
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        try:
            match rng.randrange(3):
                case 0:
                    del parent[last]
                case 1:
                    parent[last] = junk(rng)
                case _:
                    target = parent[last]
                    if isinstance(target, dict):
                        target[junk_key(rng)] = junk(rng)
                    else:
                        parent[last] = junk(rng)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
        paths = [p for p in _paths(d) if not (keep_id and p == ("requestId",))]


# ------------------------------------------------------------------------ cases


class Expect(enum.Enum):
    """What a case may do to the verb and to the link."""

    ANSWERED = "the verb succeeds, on the same connection"
    TYPED = "the verb succeeds or raises a showcaller error, on the same connection"
    SILENT = "no answer comes: RequestTimeout (or success), on the same connection"
    DROPPED = "the link drops: ConnectionClosed, then the supervisor reconnects"


@dataclass(frozen=True)
class Case:
    """One thing the hostile peer does, with what that may cost."""

    name: str
    action: Action
    expect: Expect
    target: Target = "answer"
    all_frames: bool = False  # the peer misbehaves on every frame of the case
    then: Action | None = None  # what the peer does to the next answer (a resync's)


def _before(*frames: Callable[[str], str | bytes]) -> Action:
    """Send the frames (made from the real one) first, then the real answer."""

    async def act(frame: str, peer: Peer) -> None:
        for make in frames:
            extra = make(frame)
            if isinstance(extra, bytes):
                await peer.send_bytes(extra)
            else:
                await peer.send(extra)
        await peer.send(frame)

    return act


def _instead(make: Callable[[str], str]) -> Action:
    async def act(frame: str, peer: Peer) -> None:
        await peer.send(make(frame))

    return act


async def _swallow(frame: str, peer: Peer) -> None:
    pass


def _later(delay: float) -> Action:
    async def act(frame: str, peer: Peer) -> None:
        peer.later(delay, frame)

    return act


def _close(code: int, reason: str) -> Action:
    async def act(frame: str, peer: Peer) -> None:
        await peer.close(code, reason)

    return act


async def _cut(frame: str, peer: Peer) -> None:
    peer.abort()


def _mutated(rng: random.Random) -> Callable[[str], str]:
    def make(frame: str) -> str:
        obj = json.loads(frame)
        mutate_fields(rng, obj, keep_id=True)
        return dumps(obj)

    return make


def _refused(rng: random.Random) -> Callable[[str], str]:
    def make(frame: str) -> str:
        obj = json.loads(frame)
        status = {"result": False, "code": rng.choice([0, 204, 300, 400, 501, 600, 703, 9999])}
        if rng.random() < 0.7:
            status["comment"] = junk(rng) if rng.random() < 0.3 else "no."
        if obj["op"] == 7:
            obj["d"]["requestStatus"] = status
            obj["d"].pop("responseData", None)
        else:
            for result in obj["d"]["results"]:
                result["requestStatus"] = status
        return dumps(obj)

    return make


def _other_kind(frame: str) -> str:
    """A request answered as a batch, a batch as one request (each well-formed)."""
    obj = json.loads(frame)
    d = obj["d"]
    if obj["op"] == 7:
        return dumps({"op": 9, "d": {"requestId": d["requestId"], "results": [d]}})
    ok = {"result": True, "code": 100}
    return dumps(
        {"op": 7, "d": {"requestType": "X", "requestId": d["requestId"], "requestStatus": ok}}
    )


def _op_swapped(frame: str) -> str:
    obj = json.loads(frame)
    obj["op"] = 16 - obj["op"]  # 7 <-> 9, d as it was
    return dumps(obj)


def _results_miscounted(rng: random.Random) -> Callable[[str], str]:
    def make(frame: str) -> str:
        obj = json.loads(frame)
        if obj["op"] == 9 and obj["d"]["results"] and rng.random() < 0.5:
            obj["d"]["results"].pop()
        elif obj["op"] == 9:
            obj["d"]["results"].append(obj["d"]["results"][0] if obj["d"]["results"] else {})
        else:
            obj["d"]["responseData"] = {k: junk(rng) for k in obj["d"].get("responseData", {})}
        return dumps(obj)

    return make


def _id_broken(rng: random.Random) -> Callable[[str], str]:
    def make(frame: str) -> str:
        obj = json.loads(frame)
        match rng.randrange(3):
            case 0:
                del obj["d"]["requestId"]
            case 1:
                obj["d"]["requestId"] = junk(rng)
            case _:
                obj["d"] = junk(rng, depth=3)
        return dumps(obj)

    return make


CLOSE_CODES = [1000, 1001, 1011, 4000, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4009, 4010]
CLOSE_CODES += [4011, 4012]


def make_case(rng: random.Random) -> Case:
    """One case, all of it drawn from `rng`."""
    roll = rng.random()
    if roll < 0.40:  # garbage before the real answer: it must still arrive and count
        kind, make = rng.choice(
            [
                ("not JSON", lambda f: not_json(rng, f)),
                ("unknown op", lambda f: unknown_op(rng)),
                ("a message OBS never sends", lambda f: server_only_never(rng)),
                ("garbage event", lambda f: garbage_event(rng)),
                ("garbage event", lambda f: garbage_event(rng)),
                ("answer to nobody", lambda f: answer_to_nobody(rng, f)),
                ("5 MB frame", lambda f: huge(rng)),
                ("binary frame", lambda f: bytes(rng.randbytes(rng.randint(0, 64)))),
                ("the answer twice", lambda f: f),
            ]
        )
        if kind == "the answer twice":  # the copy comes after the answer, to nobody
            return Case(kind, _twice, Expect.ANSWERED)
        count = 1 if kind == "5 MB frame" else rng.choice([1, 1, 1, 2, 5])
        return Case(f"{kind} ×{count} before the answer", _before(*[make] * count), Expect.ANSWERED)
    if roll < 0.70:  # the answer itself broken: the verb fails (typed) or copes
        kind, make = rng.choice(
            [
                ("fields deleted/mistyped", _mutated(rng)),
                ("fields deleted/mistyped", _mutated(rng)),
                ("fields deleted/mistyped", _mutated(rng)),
                ("refused with odd status", _refused(rng)),
                ("answered as the other kind", _other_kind),
                ("op 7<->9 swapped", _op_swapped),
                ("results miscounted / data junk", _results_miscounted(rng)),
            ]
        )
        return Case(f"answer {kind}", _instead(make), Expect.TYPED)
    if roll < 0.77:  # the answer never comes (or too late)
        kind, action = rng.choice(
            [
                ("swallowed", _swallow),
                ("replaced by not-JSON", _instead(lambda f: not_json(rng, f))),
                ("with a broken requestId", _instead(_id_broken(rng))),
                ("sent too late", _later(rng.uniform(0.05, 0.2))),
            ]
        )
        return Case(f"answer {kind}", action, Expect.SILENT)
    if roll < 0.80:  # OBS falls silent: nothing at all for the whole case
        return Case("OBS falls silent", _swallow, Expect.SILENT, target="any", all_frames=True)
    if roll < 0.83:
        return Case("answer a little late", _later(rng.uniform(0, 0.02)), Expect.ANSWERED)
    if roll < 0.90:  # the next event broken (the verb switches scenes, so one comes)
        kind, action = rng.choice(
            [
                ("fields deleted/mistyped", _instead(_mutated_event(rng))),
                ("replaced by garbage", _instead(lambda f: garbage_event(rng))),
                ("not JSON", _instead(lambda f: not_json(rng, f))),
                ("swallowed", _swallow),
            ]
        )
        return Case(f"event {kind}", action, Expect.ANSWERED, target="event")
    if roll < 0.95:
        code = rng.choice(CLOSE_CODES)
        reason = rng.choice(["", "bye", "x" * 120])
        return Case(f"close {code} instead of the answer", _close(code, reason), Expect.DROPPED)
    if roll < 0.97:  # the link drops, then the resync after the reconnect gets a bad answer
        kind, then = rng.choice(
            [
                ("broken", _instead(_mutated(rng))),
                ("refused", _instead(_refused(rng))),
                ("swallowed", _swallow),
                ("closed again", _close(1011, "again")),
            ]
        )
        return Case(
            f"close, then the resync's answer {kind}", _close(1001, ""), Expect.DROPPED, then=then
        )
    return Case("TCP cut instead of the answer", _cut, Expect.DROPPED)


async def _twice(frame: str, peer: Peer) -> None:
    await peer.send(frame)
    await peer.send(frame)


def _mutated_event(rng: random.Random) -> Callable[[str], str]:
    def make(frame: str) -> str:
        obj = json.loads(frame)
        mutate_fields(rng, obj, keep_id=False)
        return dumps(obj)

    return make


# ------------------------------------------------------------------------ the show's verbs


@dataclass(frozen=True)
class Stage:
    """Names the seeded sim has, for the verbs."""

    scenes: tuple[str, ...]
    title: str
    audio: str


Verb = Callable[[OBSGateway, Stage, random.Random], Awaitable[Any]]


async def _switch(gw: OBSGateway, st: Stage, rng: random.Random) -> None:
    now = await gw.program_scene()
    await gw.set_program_scene(rng.choice([s for s in st.scenes if s != now]))


VERBS: dict[str, Verb] = {
    "set_program_scene": lambda gw, st, rng: gw.set_program_scene(rng.choice(st.scenes)),
    "set_text": lambda gw, st, rng: gw.set_text(st.title, f"talk {rng.randint(0, 99)}"),
    "volume_db": lambda gw, st, rng: gw.volume_db(st.audio),
    "muted": lambda gw, st, rng: gw.muted(st.audio),
    "stats": lambda gw, st, rng: gw.stats(),
    "screenshot": lambda gw, st, rng: gw.screenshot(rng.choice(st.scenes)),
    "cue": lambda gw, st, rng: gw.cue([(st.title, "next")], rng.choice(st.scenes)),
    "program_scene": lambda gw, st, rng: gw.program_scene(),
    "stream_status": lambda gw, st, rng: gw.stream_status(),
    "scene_names": lambda gw, st, rng: gw.scene_names(),
    "version": lambda gw, st, rng: gw.version(),
    "record_status": lambda gw, st, rng: gw.record_status(),
    "set_texts": lambda gw, st, rng: gw.set_texts([(st.title, "a"), (st.title, "b")]),
}


# ------------------------------------------------------------------------ the fuzzer


@dataclass
class Fuzzer:
    """One sim, one proxy, one supervised link and gateway; `run(i)` plays case i."""

    proxy: HostileOBS
    link: OBSLink
    gateway: OBSGateway
    stage: Stage
    trap: LogTrap
    outcomes: Counter[str]
    names: Counter[str]

    async def run(self, index: int) -> None:
        rng = random.Random(f"{SEED}-{index}")
        case = make_case(rng)
        verb_name = rng.choice(sorted(VERBS))
        if case.target == "event":
            verb_name = "switch scene"
        where = (
            f"seed {SEED} case {index}: {case.name}, {verb_name} "
            f"(again: SHOWCALLER_FUZZ_SEED={SEED} SHOWCALLER_FUZZ_CASE={index})"
        )
        self.names[case.name.split(" ×")[0]] += 1
        client = self.link.client
        assert client is not None, where
        connects = self.link.connects
        limit = SILENT_TIMEOUT if case.expect is Expect.SILENT else NORMAL_TIMEOUT
        client.request_timeout = limit
        if case.then is not None:  # the next connection's resync need not wait 2 s for nothing
            self.link.request_timeout = RESYNC_TIMEOUT
        if case.all_frames:
            self.proxy.always(case.action, case.target)
        else:
            self.proxy.arm(case.action, case.target, then=case.then)
        verb = _switch if case.target == "event" else VERBS[verb_name]
        started = time.monotonic()
        outcome: BaseException | None = None
        try:
            async with asyncio.timeout(limit + HANG_SLACK):
                await verb(self.gateway, self.stage, rng)
        except TimeoutError:
            pytest.fail(f"{where}: hung for {time.monotonic() - started:.1f} s")
        except errors.ShowcallerError as exc:
            outcome = exc
        except Exception as exc:
            pytest.fail(f"{where}: {type(exc).__name__} escaped: {exc!r}")
        finally:
            if case.then is None:
                self.proxy.disarm()
            client.request_timeout = NORMAL_TIMEOUT
        self.outcomes[type(outcome).__name__ if outcome else "ok"] += 1

        match case.expect:
            case Expect.ANSWERED:
                assert outcome is None, f"{where}: {outcome!r}"
            case Expect.DROPPED:
                assert isinstance(outcome, errors.ConnectionClosed), f"{where}: {outcome!r}"
            case Expect.SILENT:
                assert outcome is None or isinstance(outcome, errors.RequestTimeout), (
                    f"{where}: {outcome!r}"
                )
            case Expect.TYPED:
                pass
        await self.clean_request(where)
        if case.expect is Expect.DROPPED:
            assert self.link.connects > connects, f"{where}: the link never dropped"
        else:
            assert self.link.connects == connects, f"{where}: the link dropped"
        tracebacks = self.trap.tracebacks()
        assert not tracebacks, f"{where}: logged {tracebacks}"
        self.trap.records.clear()

    async def clean_request(self, where: str) -> None:
        """The show goes on: a clean request succeeds, and nothing waits for an answer."""
        async with asyncio.timeout(10):
            while True:
                await self.link.wait_ready()
                if self.proxy.armed:  # still waiting for a resync's answer
                    await asyncio.sleep(0.002)
                    continue
                self.link.request_timeout = NORMAL_TIMEOUT
                if self.link.client is not None:
                    self.link.client.request_timeout = NORMAL_TIMEOUT
                try:
                    await self.gateway.version()  # also refreshes what screenshot() reads
                    await self.gateway.program_scene()
                    break
                except errors.ConnectionClosed:
                    # The client is closed but the supervisor has not run since: let it.
                    await asyncio.sleep(0.002)
                except errors.ShowcallerError as exc:
                    pytest.fail(f"{where}: the clean request after it failed: {exc!r}")
        client = self.link.client
        assert client is not None, f"{where}: no client after the clean request"
        assert client.pending == 0, f"{where}: requests left waiting"


@contextlib.asynccontextmanager
async def fuzzer(sim: SimulatedOBS) -> AsyncIterator[Fuzzer]:  # noqa: F811
    cfg = load_config(EXAMPLE)
    seed_event(sim, cfg)
    needs = needs_of(cfg)
    audio = next(sp.audio_input for sp in needs.speakers if sp.audio_input)
    stage = Stage(tuple(needs.scene_names), needs.texts[0].name, audio)
    with trapped_logs() as trap:
        async with (
            HostileOBS(sim.url) as proxy,
            OBSLink(
                proxy.url,
                SIM_PASSWORD,
                request_timeout=NORMAL_TIMEOUT,
                backoff_base=0.005,
                heartbeat=5.0,
            ) as link,
        ):
            await link.wait_ready(5)
            gateway = OBSGateway(link)
            seen: list[ProgramSceneChanged] = []
            # The show's listeners: typed events are parsed, and none may trip on garbage.
            await gateway.on(seen.append, ProgramSceneChanged)
            # Every typed event has a listener, so garbage of every type is parsed.
            await gateway.on(lambda event: None, *TYPED_EVENT_CLASSES)
            link.subscribe(lambda event: None)
            resyncs: list[str] = []

            async def resync(gw: OBSGateway) -> None:
                resyncs.append(await gw.program_scene())  # as the show checks what is on air

            gateway.add_resync_hook(resync)
            for name, verb in VERBS.items():  # every verb works on this sim unmolested
                try:
                    await verb(gateway, stage, random.Random(0))
                except errors.ShowcallerError as exc:
                    pytest.fail(f"{name} fails without a hostile peer: {exc!r}")
            yield Fuzzer(proxy, link, gateway, stage, trap, Counter(), Counter())


@pytest.mark.timeout(max(120, CASES // 20))
async def test_a_hostile_obs_never_costs_a_traceback_a_hang_or_the_show(
    sim: SimulatedOBS,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    indexes = [int(ONLY)] if ONLY else range(CASES)
    started = time.monotonic()
    async with fuzzer(sim) as fz:
        for index in indexes:
            await fz.run(index)
        seconds = time.monotonic() - started
        summary = (
            f"hostile OBS: {len(indexes)} cases (seed {SEED}) in {seconds:.1f} s, "
            f"{len(indexes) / seconds:.0f} cases/s, {fz.link.connects - 1} reconnects, "
            f"{fz.proxy.taken} frames taken; outcomes {dict(fz.outcomes)}"
        )
    with capsys.disabled():
        sys.stdout.write(f"\n{summary}\n")
    assert fz.outcomes["ok"] > len(indexes) // 3


# ------------------------------------------------------------------------ the rules, one by one


@contextlib.asynccontextmanager
async def through(sim: SimulatedOBS) -> AsyncIterator[tuple[HostileOBS, OBSClient, LogTrap]]:  # noqa: F811
    """A bare client connected to the sim through a hostile proxy, with its logs trapped."""
    with trapped_logs() as trap:
        async with HostileOBS(sim.url) as proxy:
            client = OBSClient(proxy.url, SIM_PASSWORD, request_timeout=2)
            await client.connect()
            try:
                yield proxy, client, trap
            finally:
                await client.close()
        assert not trap.tracebacks()


def _when(request_type: str, make: Callable[[dict[str, Any]], str]) -> Action:
    """Change the answer to `request_type` (made from it); pass every other frame."""

    async def act(frame: str, peer: Peer) -> None:
        obj = json.loads(frame)
        await peer.send(make(obj) if obj["d"].get("requestType") == request_type else frame)

    return act


def _frames(*extra: str) -> Action:
    """Send `extra` before the real answer."""
    return _before(*[lambda _, e=e: e for e in extra])


async def test_a_garbage_event_is_dropped_with_one_warning_and_the_link_stays_up(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    async with through(sim) as (proxy, client, trap):
        gateway = OBSGateway(client)
        seen: list[ProgramSceneChanged] = []
        arrived = asyncio.Event()

        def on_scene(event: ProgramSceneChanged) -> None:
            seen.append(event)
            arrived.set()

        await gateway.on(on_scene, ProgramSceneChanged)
        envelope_broken = dumps({"op": 5, "d": {"eventType": 5, "eventIntent": 4}})
        data_mistyped = dumps(
            {
                "op": 5,
                "d": {
                    "eventType": "CurrentProgramSceneChanged",
                    "eventIntent": 4,
                    "eventData": {"sceneName": 5},
                },
            }
        )
        proxy.arm(_frames(envelope_broken, data_mistyped, envelope_broken, data_mistyped))
        assert await gateway.program_scene() == "Scene"
        assert client.connected
        assert seen == []
        assert len(trap.warnings()) == 2, trap.warnings()  # one per kind, not one per frame
        sim.model.create_scene("Talk")
        await gateway.set_program_scene("Talk")
        await asyncio.wait_for(arrived.wait(), 2)
        assert seen == [ProgramSceneChanged("Talk")]


async def test_a_broken_answer_fails_its_request_only_and_a_concurrent_one_succeeds(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    async with through(sim) as (proxy, client, _):
        gateway = OBSGateway(client)

        def without_status(obj: dict[str, Any]) -> str:
            del obj["d"]["requestStatus"]
            return dumps(obj)

        proxy.always(_when("GetStats", without_status))
        stats, scene = await asyncio.gather(
            gateway.stats(), gateway.program_scene(), return_exceptions=True
        )
        assert isinstance(stats, errors.OBSProtocolError), stats
        assert isinstance(stats, errors.MalformedResponse)  # what callers already catch
        assert "GetStats" in str(stats)
        assert "requestStatus" in str(stats)
        assert scene == "Scene"
        assert client.connected
        assert client.pending == 0
        proxy.disarm()
        assert (await gateway.stats()).active_fps > 0


async def test_an_answer_with_mistyped_data_is_a_typed_error_of_that_request(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    async with through(sim) as (proxy, client, _):
        gateway = OBSGateway(client)

        def scene_seven(obj: dict[str, Any]) -> str:
            obj["d"]["responseData"] = {"currentProgramSceneName": 7, "sceneName": 7}
            return dumps(obj)

        proxy.arm(_when("GetCurrentProgramScene", scene_seven))
        with pytest.raises(errors.MalformedResponse, match="GetCurrentProgramScene"):
            await gateway.program_scene()
        assert await gateway.program_scene() == "Scene"


async def test_a_batch_answered_as_one_request_or_miscounted_fails_that_batch(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    sim.model.create_scene("Talk")
    async with through(sim) as (proxy, client, _):
        gateway = OBSGateway(client)
        proxy.arm(_instead(_other_kind))
        with pytest.raises(errors.OBSProtocolError, match="batch of 1 requests"):
            await gateway.set_texts([("nothing", "x")])

        def one_more(frame: str) -> str:
            obj = json.loads(frame)
            obj["d"]["results"].append(obj["d"]["results"][0])
            return dumps(obj)

        proxy.arm(_instead(one_more))
        with pytest.raises(errors.OBSProtocolError, match="with 2 results"):
            await gateway.set_texts([("nothing", "x")])
        proxy.arm(_instead(lambda f: f.replace("}}", ',"x":"\\udfff"}}', 1)))
        with pytest.raises(errors.OBSProtocolError, match="lone surrogate"):
            await gateway.set_texts([("nothing", "x")])
        proxy.arm(_instead(_other_kind))  # a single request answered as a batch
        with pytest.raises(errors.OBSProtocolError, match="GetCurrentProgramScene"):
            await gateway.program_scene()
        assert client.connected
        assert await gateway.cue([], "Talk") == [None]


async def test_not_json_unknown_ops_and_answers_to_nobody_cost_nothing_but_a_warning(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    async with through(sim) as (proxy, client, trap):
        nobody = {"requestType": "GetVersion", "requestId": "never-sent"}
        proxy.arm(
            _frames(
                "not json at all",
                "[" * 100_000 + "]" * 100_000,  # deeper than json recurses
                dumps({"op": 99, "d": {}}),
                dumps({"op": 7, "d": {**nobody, "requestStatus": {"result": True, "code": 100}}}),
                dumps({"op": 7, "d": nobody}),  # broken, to nobody: DEBUG only
                dumps({"op": 0, "d": {"obsWebSocketVersion": "5.5.0", "rpcVersion": 1}}),
                # JSON Python reads and OBS never writes: no text, no number.
                '{"op":5,"d":{"eventType":"X","eventIntent":1,"eventData":{"a":"\\ud800"}}}',
                '{"op":5,"d":{"eventType":"X","eventIntent":NaN}}',
            )
        )
        version = await client.request("GetVersion")
        assert version["rpcVersion"] == 1
        assert client.connected
        said = trap.warnings()
        assert len(said) == 3, said  # not JSON (both), unknown op, a Hello
        assert all("later ones: debug" in line for line in said)
        proxy.arm(_frames(*["garbage"] * 1000))  # the 1000th of a kind is counted aloud
        await client.request("GetVersion")
        assert any("1000 of this kind so far" in line for line in trap.warnings())


async def test_a_frame_above_the_size_limit_closes_the_link_with_one_line_then_it_reconnects(
    sim: SimulatedOBS,  # noqa: F811
) -> None:
    with trapped_logs() as trap:
        async with (
            HostileOBS(sim.url) as proxy,
            OBSLink(
                proxy.url, SIM_PASSWORD, max_message_size=1024 * 1024, backoff_base=0.01
            ) as link,
        ):
            await link.wait_ready(5)
            proxy.arm(_frames("x" * (2 * 1024 * 1024)))
            with pytest.raises(errors.ConnectionClosed, match="a frame larger than 1 MiB"):
                await link.request("GetVersion")
            async with asyncio.timeout(5):
                while link.connects < 2:  # noqa: ASYNC110 - the link has no "connected again" event
                    await asyncio.sleep(0.01)
            await link.wait_ready(5)
            assert (await link.request("GetVersion"))["rpcVersion"] == 1
            assert link.connects == 2
        lines = trap.warnings("showcaller.obs.supervisor")
        assert len(lines) == 1, lines
        assert "lost the link to OBS" in lines[0]
        assert not trap.tracebacks()


# ------------------------------------------------------------------------ a show through it


def odd_text(rng: random.Random) -> str:
    return rng.choice(
        ["", "Talk", "Standby", "no such thing", "x" * 5000, "a\u0000b", "💥", "../../etc", "%s%n"]
    )


def odd_event(rng: random.Random) -> str:
    """A well-formed event with every field of the right type, saying something odd: a
    scene nobody cued, a stream the rehearsal never started, a recording file "…"."""
    output = "OBS_WEBSOCKET_OUTPUT_" + rng.choice(
        ["STARTING", "STARTED", "STOPPING", "STOPPED", "RECONNECTING", "PAUSED", "NEW_STATE"]
    )
    level = lambda: rng.choice([0.0, 1.0, 1e-9, 1e9, -1.0])  # noqa: E731 - a short generator
    event_type, data = rng.choice(
        [
            ("CurrentProgramSceneChanged", {"sceneName": odd_text(rng)}),
            ("StreamStateChanged", {"outputActive": rng.random() < 0.5, "outputState": output}),
            (
                "RecordStateChanged",
                {
                    "outputActive": rng.random() < 0.5,
                    "outputState": output,
                    "outputPath": odd_text(rng),
                },
            ),
            ("RecordFileChanged", {"newOutputPath": odd_text(rng)}),
            ("InputActiveStateChanged", {"inputName": odd_text(rng), "videoActive": True}),
            ("InputShowStateChanged", {"inputName": odd_text(rng), "videoShowing": False}),
            ("InputMuteStateChanged", {"inputName": odd_text(rng), "inputMuted": True}),
            (
                "InputVolumeMeters",
                {
                    "inputs": [
                        {
                            "inputName": odd_text(rng),
                            "inputLevelsMul": [[level(), level(), level()]],
                        }
                    ]
                },
            ),
            ("ExitStarted", {}),
        ]
    )
    intent = int(protocol.EVENT_INTENT[event_type])
    return dumps(
        {"op": 5, "d": {"eventType": event_type, "eventIntent": intent, "eventData": data}}
    )


def _flaky(rng: random.Random) -> Action:
    """What a flaky OBS does to one frame during a show."""
    return rng.choice(
        [
            _before(lambda f: odd_event(rng)),
            _before(lambda f: odd_event(rng)),
            _before(lambda f: garbage_event(rng)),
            _before(lambda f: not_json(rng, f)),
            _before(lambda f: unknown_op(rng)),
            _before(lambda f: answer_to_nobody(rng, f)),
            _instead(_mutated(rng)),
            _instead(_mutated(rng)),
            _later(rng.uniform(0, 0.05)),
            _swallow,
            _close(rng.choice([1001, 1011, 4011]), "flaky"),
        ]
    )


def _example_with_cuts(tmp_path: Path) -> Path:
    """The example event with Cut transitions, so it can run 3000 times faster than real time."""
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_rehearsal_through_a_flaky_obs_sends_every_cue_and_ends_without_a_traceback(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = load_config(_example_with_cuts(tmp_path))
    seed_event(sim, cfg)
    with trapped_logs() as trap:
        async with HostileOBS(sim.url) as proxy:
            obs = OBS.model_validate(
                {"url": proxy.url, "password": SIM_PASSWORD, "request_timeout": 0.1}
            )
            report = await asyncio.wait_for(
                rehearse(
                    cfg,
                    RehearsalOptions(obs=obs, journal=tmp_path / "r.jsonl", speed=500),
                    # Once the show runs: a preflight through a flaky OBS may rightly refuse.
                    on_session=lambda _: proxy.fuzz(0.1, random.Random(SEED), _flaky),
                ),
                60,
            )
    assert report.ended
    # Every slot cued in order, none skipped as caught up: the shortest slot (a Q&A, 4 show
    # minutes) is 0.48 s at 500×, and a lost answer costs 0.1 s, a reconnect about as much.
    # (At 1000× a loaded machine once stalled past a Q&A, and the show rightly caught up.)
    assert [c.scene for c in report.cues] == [s.scene for s in cfg.slots_resolved()]
    assert proxy.taken >= 5, proxy.taken
    assert not trap.tracebacks()
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    with capsys.disabled():
        sys.stdout.write(
            f"\nhostile rehearsal: {proxy.taken} of {proxy.taken + proxy.forwarded} frames "
            f"taken, {proxy.connections} connections, {len(report.problems)} problems said\n"
        )


# ------------------------------------------------------------------------ the command line


async def _doctor(url: str) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SHOWCALLER_")}
    environ |= {
        "SHOWCALLER_OBS__PASSWORD": SIM_PASSWORD,
        "SHOWCALLER_OBS__REQUEST_TIMEOUT": "0.5",
        "SHOWCALLER_OBS__CONNECT_TIMEOUT": "2",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "showcaller",
        "doctor",
        "--obs",
        url,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _without_status(frame: str) -> str:
    obj = json.loads(frame)
    obj["d"].pop("requestStatus", None)
    for result in obj["d"].get("results", []):
        result.pop("requestStatus", None)
    return dumps(obj)


@pytest.mark.parametrize(
    ("peer", "action", "said"),
    [
        ("never answers", _swallow, "did not answer"),
        ("answers garbage", _instead(lambda f: "}{" + f), "did not answer"),
        ("answers without a status", _instead(_without_status), "broken frame"),
    ],
)
async def test_doctor_against_an_obs_that_never_answers_or_answers_garbage_is_one_line_exit_3(
    sim: SimulatedOBS,  # noqa: F811
    peer: str,
    action: Action,
    said: str,
) -> None:
    async with HostileOBS(sim.url) as proxy:
        proxy.always(action)
        code, _, err = await _doctor(proxy.url)
    assert code == 3, f"{peer}: {err}"
    assert "Traceback" not in err
    errors_said = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors_said) == 1, err
    assert said in errors_said[0], err
