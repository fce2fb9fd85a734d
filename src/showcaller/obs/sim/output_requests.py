"""Request handlers of the simulated OBS: the stream and record outputs (the state
machines they start and stop are the `Outputs` object, outputs.py)."""

from __future__ import annotations

import asyncio

from showcaller.clock import Clock
from showcaller.obs.protocol import Status
from showcaller.obs.sim.args import Args
from showcaller.obs.sim.core import FRAME_S
from showcaller.obs.sim.model import JSON, OBSModel, RequestFailed
from showcaller.obs.sim.outputs import (
    RECORD_BYTES_PER_S,
    Outputs,
    append_bytes,
    finish_file,
    timecode,
)


class OutputRequests:
    """Stream, stream-service, record and output-list requests."""

    def __init__(self, model: OBSModel, outputs: Outputs, clock: Clock) -> None:
        """Handlers over `model`, driving `outputs`."""
        self.model = model
        self.outputs = outputs
        self.clock = clock

    # ------------------------------------------------------------------ stream

    async def handle_GetStreamStatus(self, a: Args) -> JSON:
        """outputActive, bytes growing while the stream runs, timecode."""
        st = self.model.stream
        duration = self.clock.monotonic() - st.started_at if st.active else 0.0
        return {
            "outputActive": st.active,
            "outputBytes": self.outputs.stream_bytes() if st.active else 0,
            "outputCongestion": self.outputs.network_drop if st.active else 0.0,
            "outputDuration": int(duration * 1000),
            "outputReconnecting": st.state == "reconnecting",
            "outputSkippedFrames": self.outputs.stream_skipped_frames() if st.active else 0,
            "outputTimecode": timecode(duration),
            "outputTotalFrames": int(duration / FRAME_S),
        }

    async def handle_StartStream(self, a: Args) -> None:
        """Start streaming: STARTING, then STARTED (a reachable server) or STOPPED."""
        if self.model.stream.state != "stopped":
            raise RequestFailed(Status.OUTPUT_RUNNING)
        self.outputs.start_stream()

    async def handle_StopStream(self, a: Args) -> None:
        """Stop streaming; 501 when it is not running."""
        if self.model.stream.state not in ("started", "reconnecting"):
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        self.outputs.stop_stream()

    async def handle_ToggleStream(self, a: Args) -> JSON:
        """Start or stop; answers the new outputActive (true even if the start fails)."""
        if self.model.stream.state in ("started", "reconnecting"):
            self.outputs.stop_stream()
            return {"outputActive": False}
        if self.model.stream.state == "stopped":
            self.outputs.start_stream()
        return {"outputActive": True}

    async def handle_GetStreamServiceSettings(self, a: Args) -> JSON:
        """The stream service (a fresh OBS: rtmp_common with nothing set)."""
        return {
            "streamServiceSettings": dict(self.model.stream_service_settings),
            "streamServiceType": self.model.stream_service_type,
        }

    async def handle_SetStreamServiceSettings(self, a: Args) -> None:
        """Set the stream service; rtmp_custom with an rtmp:// server makes streams start."""
        kind = a.string("streamServiceType")
        settings = a.obj("streamServiceSettings", allow_empty=False)
        m = self.model
        if kind == m.stream_service_type:
            m.stream_service_settings = {**m.stream_service_settings, **settings}
        else:
            m.stream_service_type, m.stream_service_settings = kind, dict(settings)

    # ------------------------------------------------------------------ record

    async def handle_GetRecordDirectory(self, a: Args) -> JSON:
        """Where recordings land."""
        return {"recordDirectory": str(self.outputs.record_dir)}

    async def handle_GetOutputStatus(self, a: Args) -> JSON:
        """The status of an output GetOutputList lists; 600 for any other name."""
        name = a.string("outputName")
        listed = {o["outputName"] for o in (await self.handle_GetOutputList(a))["outputs"]}
        if name not in listed:
            raise RequestFailed(
                Status.RESOURCE_NOT_FOUND, f"No output was found with the name `{name}`."
            )
        if name == "simple_stream":
            return await self.handle_GetStreamStatus(a)
        rec = self.model.record
        duration = rec.duration(self.clock.monotonic()) if rec.active else 0.0
        return {
            "outputActive": rec.active,
            "outputBytes": int(duration * RECORD_BYTES_PER_S),
            "outputCongestion": 0.0,
            "outputDuration": int(duration * 1000),
            "outputReconnecting": False,
            "outputSkippedFrames": 0,
            "outputTimecode": timecode(duration),
            "outputTotalFrames": int(duration / FRAME_S),
        }

    async def handle_GetReplayBufferStatus(self, a: Args) -> JSON:
        """No replay buffer, as OBS 29 in simple output mode without one answers."""
        raise RequestFailed(Status.INVALID_RESOURCE_STATE, "Replay buffer is not available.")

    async def handle_GetRecordStatus(self, a: Args) -> JSON:
        """outputActive, outputPaused, timecode and duration without pauses."""
        rec = self.model.record
        duration = rec.duration(self.clock.monotonic()) if rec.active else 0.0
        return {
            "outputActive": rec.active,
            "outputBytes": int(duration * RECORD_BYTES_PER_S),
            "outputDuration": int(duration * 1000),
            "outputPaused": rec.paused_at is not None,
            "outputTimecode": timecode(duration),
        }

    async def handle_StartRecord(self, a: Args) -> None:
        """Start recording: STARTING, then STARTED with the new file's path."""
        if self.model.record.state != "stopped":
            raise RequestFailed(Status.OUTPUT_RUNNING)
        self.outputs.start_record()

    async def handle_StopRecord(self, a: Args) -> JSON:
        """Stop recording; answers the file's path at once (STOPPING, STOPPED follow): like
        OBS 30.2, the recording's first file even after SplitRecordFile (measured)."""
        rec = self.model.record
        if rec.state != "started" or rec.path is None:
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        path = rec.first_path or rec.path
        self.outputs.stop_record()
        return {"outputPath": str(path)}

    async def handle_ToggleRecord(self, a: Args) -> JSON:
        """Start or stop recording; answers the new outputActive."""
        if self.model.record.state == "started":
            self.outputs.stop_record()
            return {"outputActive": False}
        if self.model.record.state == "stopped":
            self.outputs.start_record()
        return {"outputActive": True}

    async def handle_PauseRecord(self, a: Args) -> None:
        """Pause (502 if paused; like OBS 29, a no-op success when not recording)."""
        rec = self.model.record
        if rec.paused_at is not None:
            raise RequestFailed(Status.OUTPUT_PAUSED)
        if rec.state != "started":
            return
        rec.paused_at = self.clock.monotonic()
        self.outputs.record_event("PAUSED", False, None)

    async def handle_ResumeRecord(self, a: Args) -> None:
        """Resume (503 unless paused)."""
        rec = self.model.record
        if rec.paused_at is None:
            raise RequestFailed(Status.OUTPUT_NOT_PAUSED)
        rec.paused_total += self.clock.monotonic() - rec.paused_at
        rec.paused_at = None
        self.outputs.record_event("RESUMED", True, None)

    async def handle_ToggleRecordPause(self, a: Args) -> JSON:
        """Pause or resume; answers the new outputPaused (like OBS 29, true and a no-op
        when not recording)."""
        rec = self.model.record
        if rec.state == "started" and rec.paused_at is not None:
            await self.handle_ResumeRecord(a)
            return {"outputPaused": False}
        await self.handle_PauseRecord(a)
        return {"outputPaused": True}

    async def handle_SplitRecordFile(self, a: Args) -> None:
        """5.5: close the current file and go on in a new one (RecordFileChanged)."""
        rec = self.model.record
        if rec.state != "started" or rec.path is None:
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        # Like OBS 30.2: refused while paused too.
        if not rec.split_enabled or rec.paused_at is not None:
            raise RequestFailed(
                Status.REQUEST_PROCESSING_FAILED,
                "Verify that file splitting is enabled in the output settings.",
            )
        old = rec.path
        await asyncio.to_thread(finish_file, old, rec.duration(self.clock.monotonic()))
        rec.path = await asyncio.to_thread(self.outputs.new_recording_file)
        rec.chapters = []
        self.model.emit("RecordFileChanged", {"newOutputPath": str(rec.path)})

    async def handle_CreateRecordChapter(self, a: Args) -> None:
        """5.5: mark a chapter in the current recording."""
        rec = self.model.record
        if rec.state != "started" or rec.path is None:
            raise RequestFailed(Status.OUTPUT_NOT_RUNNING)
        if not rec.chapter_markers or rec.paused_at is not None:
            raise RequestFailed(
                Status.REQUEST_PROCESSING_FAILED,
                "Verify that the output being used supports chapter markers.",
            )
        name = (
            a.string("chapterName") if a.has("chapterName") else f"Chapter {len(rec.chapters) + 1}"
        )
        rec.chapters.append(name)
        line = f"chapter {rec.duration(self.clock.monotonic()):.3f} {name}\n"
        await asyncio.to_thread(append_bytes, rec.path, line.encode())

    async def handle_GetOutputList(self, a: Args) -> JSON:
        """The record and stream outputs."""
        flags = {
            "OBS_OUTPUT_AUDIO": True,
            "OBS_OUTPUT_ENCODED": True,
            "OBS_OUTPUT_MULTI_TRACK": True,
            "OBS_OUTPUT_SERVICE": False,
            "OBS_OUTPUT_VIDEO": True,
        }
        w, h = self.model.canvas
        outputs = [
            {
                "outputActive": self.model.record.active,
                "outputFlags": flags,
                "outputHeight": h if self.model.record.active else 0,
                "outputKind": "ffmpeg_muxer",
                "outputName": "simple_file_output",
                "outputWidth": w if self.model.record.active else 0,
            }
        ]
        # Listed from the first StartStream on, before the record output (OBS 29, measured).
        if self.model.stream.created:
            outputs.insert(
                0,
                {
                    "outputActive": self.model.stream.active,
                    "outputFlags": {**flags, "OBS_OUTPUT_SERVICE": True},
                    "outputHeight": h,
                    "outputKind": "rtmp_output",
                    "outputName": "simple_stream",
                    "outputWidth": w,
                },
            )
        return {"outputs": outputs}
