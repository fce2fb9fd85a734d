"""The outputs and meters of the simulated OBS: the stream and record state machines
(STARTING, STARTED, RECONNECTING, STOPPING, STOPPED, with OBS's events) and the
InputVolumeMeters loop, all timed on the injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from showcaller.obs.protocol import EventSubscription
from showcaller.obs.sim.core import SimCore
from showcaller.obs.sim.model import JSON

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


class Outputs(SimCore):
    """Stream and record state machines, and the volume meters."""

    _meters: asyncio.Task[None] | None
    _network_at_start = 0  # network_skipped when the stream started (OBS counts per output)

    def _reset_outputs(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.model.stream.state = "stopped"
        self.model.stream.reconnecting_since = None
        self.model.record.state = "stopped"
        self.model.record.paused_at = None

    # ------------------------------------------------------------------ stream

    def _stream_target_ok(self) -> bool:
        server = str(self.model.stream_service_settings.get("server", ""))
        configured = self.model.stream_service_type == "rtmp_custom" and server.startswith(
            ("rtmp://", "rtmps://", "srt://")
        )
        return configured and self.faults.health == "ok"

    def _stream_event(self, state: str, active: bool) -> None:
        self.model.emit(
            "StreamStateChanged",
            {"outputActive": active, "outputState": f"OBS_WEBSOCKET_OUTPUT_{state}"},
        )

    def _stream_bytes(self) -> int:
        st = self.model.stream
        if st.state == "started":
            rate = STREAM_BYTES_PER_S * (1.0 - self.faults.network_drop)
            return st.bytes_base + int((self.clock.monotonic() - st.bytes_since) * rate)
        return st.bytes_base

    def stream_skipped_frames(self) -> int:
        """GetStreamStatus outputSkippedFrames: dropped on the network since the stream started."""
        return self.network_skipped.value(self.clock.monotonic()) - self._network_at_start

    def frames_changed(self, network: float, encoder: float) -> None:
        """React to `faults.drop_frames()`: counters and the byte rate change from now."""
        now = self.clock.monotonic()
        st = self.model.stream
        if st.state == "started":
            st.bytes_base, st.bytes_since = self._stream_bytes(), now
        self.faults.network_drop, self.faults.encoder_skip = network, encoder
        self.network_skipped.set_share(now, network)
        self.encoder_skipped.set_share(now, encoder)

    def _start_stream(self) -> None:
        self.model.stream.state = "starting"
        self.model.stream.created = True
        self._spawn(self._run_stream_start(), "sim-obs stream start")

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

    def _stop_stream(self) -> None:
        st = self.model.stream
        st.bytes_base = self._stream_bytes()
        st.state = "stopping"
        self._spawn(self._run_stream_stop(), "sim-obs stream stop")

    async def _run_stream_stop(self) -> None:
        self._stream_event("STOPPING", False)
        await self._sleep(_OUTPUT_START_S)
        self.model.stream.state = "stopped"
        self._stream_event("STOPPED", False)

    def stream_health_changed(self) -> None:
        """React to `faults.stream_health()` while a stream runs."""
        st = self.model.stream
        health = self.faults.health
        if st.state == "started" and health != "ok":
            st.bytes_base = self._stream_bytes()
            st.state = "reconnecting"
            self._stream_event("RECONNECTING", True)
            if health == "unreachable":
                self._spawn(self._give_up_reconnecting(), "sim-obs stream reconnect")
        elif st.state == "reconnecting" and health == "ok":
            st.state, st.bytes_since = "started", self.clock.monotonic()
            self._stream_event("RECONNECTED", True)

    async def _give_up_reconnecting(self) -> None:
        await self._sleep(_RECONNECT_GIVE_UP_S)
        if self.model.stream.state == "reconnecting" and self.faults.health == "unreachable":
            self.model.stream.state = "stopped"
            self._stream_event("STOPPED", False)

    # ------------------------------------------------------------------ record

    def _record_event(self, state: str, active: bool, path: Path | None) -> None:
        self.model.emit(
            "RecordStateChanged",
            {
                "outputActive": active,
                "outputPath": str(path) if path is not None else None,
                "outputState": f"OBS_WEBSOCKET_OUTPUT_{state}",
            },
        )

    def _start_record(self) -> None:
        rec = self.model.record
        rec.state, rec.paused_at, rec.paused_total, rec.chapters = "starting", None, 0.0, []
        self._spawn(self._run_record_start(), "sim-obs record start")

    async def _run_record_start(self) -> None:
        rec = self.model.record
        self._record_event("STARTING", False, None)
        await self._sleep(_OUTPUT_START_S)
        rec.path = await asyncio.to_thread(self._new_recording_file)
        rec.state, rec.started_at = "started", self.clock.monotonic()
        self._record_event("STARTED", True, rec.path)

    def _new_recording_file(self) -> Path:
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

    def _stop_record(self) -> None:
        rec = self.model.record
        rec.state = "stopping"
        self._spawn(self._run_record_stop(), "sim-obs record stop")

    async def _run_record_stop(self) -> None:
        rec = self.model.record
        self._record_event("STOPPING", False, None)
        await self._sleep(_OUTPUT_START_S)
        if rec.path is not None:
            await asyncio.to_thread(finish_file, rec.path, rec.duration(self.clock.monotonic()))
        rec.state, rec.paused_at = "stopped", None
        self._record_event("STOPPED", False, rec.path)

    # ------------------------------------------------------------------ meters

    async def _meter_loop(self) -> None:
        deadline = self.clock.monotonic()
        while True:
            deadline += METER_INTERVAL_S
            await self.clock.sleep_until(deadline)
            # Never try to catch up a backlog: a late tick just moves the schedule on.
            deadline = max(deadline, self.clock.monotonic() - METER_INTERVAL_S)
            if any(
                x.identified and x.subscriptions & EventSubscription.INPUT_VOLUME_METERS
                for x in self._sessions
            ):
                self.broadcast("InputVolumeMeters", {"inputs": self._meter_levels()})

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
    ms = int(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def finish_file(path: Path, duration: float) -> None:
    append_bytes(path, f"duration {duration:.3f}\n".encode())


def append_bytes(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)
