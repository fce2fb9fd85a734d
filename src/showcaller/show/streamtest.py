"""A stream test that survives a crash: OBS's own stream settings kept before they change.

`rehearse --stream-test` points OBS at `rehearsal.stream_test_server`. Before it does, the
host's own settings go to a backup file beside the rehearsal journal
(`<journal>.stream-backup.json`, mode 0600: it holds the stream key) and a `stream`
record `test_saved` goes to the journal (service type and server, never the key). The
backup is removed once the settings are back. If showcaller is killed mid-test, the next
`rehearse`, `live` or `doctor` finds OBS still pointing at the test target, says so, and
puts the backup back (`live` asks first; `doctor` with `--fix`). docs/health.md.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from showcaller.clock import SystemClock
from showcaller.obs.gateway import OBSGateway, StreamService
from showcaller.show.outputs import stream_becomes

BACKUP_SUFFIX = ".stream-backup.json"


def backup_path(journal: Path) -> Path:
    """Where a stream test keeps OBS's own stream settings: beside its journal."""
    return journal.with_name(journal.name + BACKUP_SUFFIX)


def same_server(a: str, b: str) -> bool:
    """Whether two stream server URLs name the same target (a trailing / aside)."""
    return bool(a.strip()) and a.strip().rstrip("/") == b.strip().rstrip("/")


def points_at(service: StreamService, server: str) -> bool:
    """Whether OBS's stream settings point at `server` (the rehearsal target)."""
    here = str(service.settings.get("server") or "")
    return service.service_type == "rtmp_custom" and same_server(here, server)


def save_backup(path: Path, service: StreamService, test_server: str) -> None:
    """Write OBS's own settings to `path` (0600, complete on disk before returning)."""
    data = {
        "service_type": service.service_type,
        "settings": dict(service.settings),
        "test_server": test_server,
    }
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_backup(path: Path) -> StreamService | None:
    """The settings a stream test kept, or None (no file, or one we cannot read)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("settings"), dict):
        return None
    return StreamService(str(data.get("service_type") or "rtmp_common"), data["settings"])


def remove_backup(path: Path) -> None:
    """Forget the backup (the settings are back in OBS)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@dataclass(frozen=True)
class Leftover:
    """What a killed stream test left: OBS points at the test target; the backup, if any."""

    backup: StreamService | None
    path: Path
    streaming: bool

    def describe(self, test_server: str) -> str:
        """One line for the host (never the key)."""
        live = " and is STREAMING to it" if self.streaming else ""
        head = (
            f"OBS still points at the rehearsal target {test_server}{live}: "
            "a stream test did not finish (showcaller was killed?)"
        )
        if self.backup is None:
            return head + f"; no backup of OBS's own settings at {self.path}"
        server = self.backup.settings.get("server") or self.backup.settings.get("service") or ""
        kind = self.backup.service_type
        return head + f"; OBS's own settings ({kind} {server}) are in {self.path}"


async def find_leftover(gateway: OBSGateway, test_server: str, path: Path) -> Leftover | None:
    """A leftover of a killed stream test on this OBS, or None (a stale backup is removed)."""
    if not test_server:
        return None
    service = await gateway.stream_service()
    if not points_at(service, test_server):
        remove_backup(path)  # stale, if any: the host set OBS back by hand since
        return None
    streaming = (await gateway.stream_status()).active
    return Leftover(load_backup(path), path, streaming)


async def put_back(gateway: OBSGateway, leftover: Leftover, *, speed: float = 1.0) -> bool:
    """Stop the test stream if it runs and restore the backup; False without a backup."""
    if leftover.backup is None:
        return False
    if leftover.streaming:
        await gateway.stop_stream()
        # OBS keeps the old settings until the output has really stopped.
        await stream_becomes(gateway, SystemClock(), active=False, speed=speed)
    await gateway.restore_stream_service(leftover.backup)
    remove_backup(leftover.path)
    return True


__all__ = [
    "BACKUP_SUFFIX",
    "Leftover",
    "backup_path",
    "find_leftover",
    "load_backup",
    "points_at",
    "put_back",
    "remove_backup",
    "same_server",
    "save_backup",
]
