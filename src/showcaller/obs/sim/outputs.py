"""The outputs and meters of the simulated OBS: the stream and record state machines
(STARTING, STARTED, RECONNECTING, STOPPING, STOPPED, with OBS's events) and the
InputVolumeMeters loop, all timed on the injected clock.

`Outputs` is an object over the model (whose stream and record state it moves), the
clock, the sim's owned tasks and the event `Audience`; it also holds the output-side
conditions faults set (stream health, dropped and skipped frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from showcaller.clock import Clock
from showcaller.obs.protocol import EventSubscription
from showcaller.obs.sim.core import Audience, FrameCounter, Tasks, sleep
from showcaller.obs.sim.model import JSON, OBSModel

StreamHealth = Literal["ok", "unreachable", "reconnecting"]

METER_INTERVAL_S = 0.05
STREAM_BYTES_PER_S = 2_500_000 // 8
RECORD_BYTES_PER_S = 1_000_000 // 8
_OUTPUT_START_S = 0.04
_STREAM_FAIL_S = 0.01
_RECONNECT_GIVE_UP_S = 2.0
_CONNECT_TIMEOUT_S = 2.0
_DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443}


def is_loopback(host: str | None) -> bool:
    """Whether `host` names this machine (the only place the sim ever connects to)."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def target_accepts(server: str) -> bool:
    """Whether an rtmp(s):// target on loopback accepts a TCP connection.

    That is enough to tell a listening server from a refused one, which is what makes
    real OBS go on air or give up. A target elsewhere (or srt://, over UDP) is never
    contacted and counts as reachable.
    """
    parts = urlsplit(server)
    if parts.scheme not in _DEFAULT_PORTS or not is_loopback(parts.hostname):
        return True
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        async with asyncio.timeout(_CONNECT_TIMEOUT_S):
            _, writer = await asyncio.open_connection(parts.hostname, port)
    except (OSError, TimeoutError, ValueError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class Outputs:
    """Stream and record state machines, and the volume meters."""

    def __init__(
        self,
        model: OBSModel,
        clock: Clock,
        tasks: Tasks,
        audience: Audience,
        record_dir: Path | None = None,
    ) -> None:
        """Outputs of `model`, stopped; recordings go to `record_dir` (a temp dir if None)."""
        self.model = model
        self.clock = clock
        self._tasks = tasks
        self._audience = audience
        self._record_dir = record_dir
        self._own_record_dir = False  # a temp dir made here: removed at stop if left empty
        self.health: StreamHealth = "ok"
        self.network_drop = 0.0  # share of the stream's frames dropped on the way out
        self.encoder_skip = 0.0  # share of frames the encoder and renderer skip
        self.network_skipped = FrameCounter()  # frames dropped on the network
        self.encoder_skipped = FrameCounter()  # frames the encoder and renderer skipped
        self._network_at_start = (
            0  # network_skipped when the stream started (OBS counts per output)
        )

    @property
    def record_dir(self) -> Path:
        """Where recordings land (a temp dir unless one was given)."""
        if self._record_dir is None:
            self._record_dir = Path(tempfile.mkdtemp(prefix="showcaller-sim-rec-"))
            self._own_record_dir = True
        return self._record_dir

    def remove_own_record_dir(self) -> None:
        """Remove the temp record dir made here, if no recording is left in it."""
        if self._own_record_dir and self._record_dir is not None:
            with contextlib.suppress(OSError):  # not empty: the recordings stay
                self._record_dir.rmdir()

    def reset(self) -> None:
        """Every output stopped at once, as when OBS dies (its tasks are cancelled apart)."""
        self.model.stream.state = "stopped"
        self.model.stream.reconnecting_since = None
        self.model.record.state = "stopped"
        self.model.record.paused_at = None

    async def _sleep(self, seconds: float) -> None:
        await sleep(self.clock, seconds)

    # ------------------------------------------------------------------ stream

    def _stream_target_ok(self) -> bool:
        server = str(self.model.stream_service_settings.get("server", ""))
        configured = self.model.stream_service_type == "rtmp_custom" and server.startswith(
            ("rtmp://", "rtmps://", "srt://")
        )
        return configured and self.health == "ok"

    def _stream_event(self, state: str, active: bool) -> None:
        self.model.emit(
            "StreamStateChanged",
            {"outputActive": active, "outputState": f"OBS_WEBSOCKET_OUTPUT_{state}"},
        )

    def stream_bytes(self) -> int:
        """outputBytes of the stream now."""
        st = self.model.stream
        if st.state == "started":
            rate = STREAM_BYTES_PER_S * (1.0 - self.network_drop)
            return st.bytes_base + int((self.clock.monotonic() - st.bytes_since) * rate)
        return st.bytes_base

    def stream_skipped_frames(self) -> int:
        """GetStreamStatus outputSkippedFrames: dropped on the network since the stream started."""
        return self.network_skipped.value(self.clock.monotonic()) - self._network_at_start

    def drop_frames(self, network: float, encoder: float) -> None:
        """Drop a share of frames from now on (`faults.drop_frames()`): counters and the
        byte rate change from now."""
        now = self.clock.monotonic()
        st = self.model.stream
        if st.state == "started":
            st.bytes_base, st.bytes_since = self.stream_bytes(), now
        self.network_drop, self.encoder_skip = network, encoder
        self.network_skipped.set_share(now, network)
        self.encoder_skipped.set_share(now, encoder)

    def start_stream(self) -> None:
        """STARTING, then STARTED (a reachable target) or STOPPED."""
        self.model.stream.state = "starting"
        self.model.stream.created = True
        self._tasks.spawn(self._run_stream_start(), "sim-obs stream start")

    async def _run_stream_start(self) -> None:
        st = self.model.stream
        self._stream_event("STARTING", False)
        server = str(self.model.stream_service_settings.get("server", ""))
        if not self._stream_target_ok() or not await target_accepts(server):
            await self._sleep(_STREAM_FAIL_S)
            st.state = "stopped"
            self._stream_event("STOPPED", False)
            return
        await self._sleep(_OUTPUT_START_S)
        now = self.clock.monotonic()
        st.state, st.started_at, st.bytes_base, st.bytes_since = "started", now, 0, now
        self._network_at_start = self.network_skipped.value(now)
        self._stream_event("STARTED", True)

    def stop_stream(self) -> None:
        """STOPPING, then STOPPED."""
        st = self.model.stream
        st.bytes_base = self.stream_bytes()
        st.state = "stopping"
        self._tasks.spawn(self._run_stream_stop(), "sim-obs stream stop")

    async def _run_stream_stop(self) -> None:
        self._stream_event("STOPPING", False)
        await self._sleep(_OUTPUT_START_S)
        self.model.stream.state = "stopped"
        self._stream_event("STOPPED", False)

    def set_health(self, health: StreamHealth) -> None:
        """How the stream target behaves from now (`faults.stream_health()`); a running
        stream reconnects, or is back."""
        self.health = health
        st = self.model.stream
        if st.state == "started" and health != "ok":
            st.bytes_base = self.stream_bytes()
            st.state = "reconnecting"
            self._stream_event("RECONNECTING", True)
            if health == "unreachable":
                self._tasks.spawn(self._give_up_reconnecting(), "sim-obs stream reconnect")
        elif st.state == "reconnecting" and health == "ok":
            st.state, st.bytes_since = "started", self.clock.monotonic()
            self._stream_event("RECONNECTED", True)

    async def _give_up_reconnecting(self) -> None:
        await self._sleep(_RECONNECT_GIVE_UP_S)
        if self.model.stream.state == "reconnecting" and self.health == "unreachable":
            self.model.stream.state = "stopped"
            self._stream_event("STOPPED", False)

    # ------------------------------------------------------------------ record

    def record_event(self, state: str, active: bool, path: Path | None) -> None:
        """RecordStateChanged."""
        self.model.emit(
            "RecordStateChanged",
            {
                "outputActive": active,
                "outputPath": str(path) if path is not None else None,
                "outputState": f"OBS_WEBSOCKET_OUTPUT_{state}",
            },
        )

    def start_record(self) -> None:
        """STARTING, then STARTED with a new file."""
        rec = self.model.record
        rec.state, rec.paused_at, rec.paused_total, rec.chapters = "starting", None, 0.0, []
        self._tasks.spawn(self._run_record_start(), "sim-obs record start")

    async def _run_record_start(self) -> None:
        rec = self.model.record
        self.record_event("STARTING", False, None)
        await self._sleep(_OUTPUT_START_S)
        rec.path = rec.first_path = await asyncio.to_thread(self.new_recording_file)
        rec.state, rec.started_at = "started", self.clock.monotonic()
        self.record_event("STARTED", True, rec.path)

    def new_recording_file(self) -> Path:
        """A new, small .mkv-named file in the record dir, named by the time now."""
        directory = self.record_dir
        directory.mkdir(parents=True, exist_ok=True)
        stem = self.clock.now().astimezone().strftime("%Y-%m-%d %H-%M-%S")
        path = directory / f"{stem}.mkv"
        n = 1
        while path.exists():
            n += 1
            path = directory / f"{stem} ({n}).mkv"
        # The EBML magic of a Matroska file, then a note on what this really is.
        path.write_bytes(b"\x1a\x45\xdf\xa3showcaller simulated OBS recording\n")
        return path

    def stop_record(self) -> None:
        """STOPPING, then STOPPED with the file finished."""
        rec = self.model.record
        rec.state = "stopping"
        self._tasks.spawn(self._run_record_stop(), "sim-obs record stop")

    async def _run_record_stop(self) -> None:
        rec = self.model.record
        self.record_event("STOPPING", False, None)
        await self._sleep(_OUTPUT_START_S)
        if rec.path is not None:
            await asyncio.to_thread(finish_file, rec.path, rec.duration(self.clock.monotonic()))
        rec.state, rec.paused_at = "stopped", None
        # Like OBS 30.2: the first file of the recording, even after splits (measured).
        self.record_event("STOPPED", False, rec.first_path or rec.path)

    # ------------------------------------------------------------------ meters

    async def meter_loop(self) -> None:
        """InputVolumeMeters every METER_INTERVAL_S while anyone subscribes, until cancelled."""
        deadline = self.clock.monotonic()
        while True:
            deadline += METER_INTERVAL_S
            await self.clock.sleep_until(deadline)
            # Never try to catch up a backlog: a late tick just moves the schedule on.
            deadline = max(deadline, self.clock.monotonic() - METER_INTERVAL_S)
            if self._audience.subscribed(EventSubscription.INPUT_VOLUME_METERS):
                self._audience.broadcast("InputVolumeMeters", {"inputs": self._meter_levels()})

    def _meter_levels(self) -> list[JSON]:
        t = self.clock.monotonic()
        out: list[JSON] = []
        for inp in reversed(self.model.inputs.values()):
            # obs-websocket meters an input from its activation to its deactivation only.
            if not inp.has_audio or not self.model.is_active(inp.name):
                continue
            levels = inp.audio.levels(t, muted=inp.muted) if inp.audio is not None else []
            entry: JSON = {"inputLevelsMul": levels, "inputName": inp.name}
            if self.model.with_uuids:
                entry["inputUuid"] = inp.uuid
            out.append(entry)
        return out


def timecode(seconds: float) -> str:
    """HH:MM:SS.mmm, as OBS writes outputTimecode."""
    ms = int(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def finish_file(path: Path, duration: float) -> None:
    """Note a finished recording's duration in its file."""
    append_bytes(path, f"duration {duration:.3f}\n".encode())


def append_bytes(path: Path, data: bytes) -> None:
    """Append `data` to the file at `path`."""
    with path.open("ab") as out:
        out.write(data)
