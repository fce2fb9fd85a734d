"""The last stage: run assembled shows, each its own session, in one task group.

`run_shows` runs a list of sessions side by side (several rooms later is a longer list,
not a rewrite): one slow or failing session never holds another's cues, since each runs
its own engine and attachments in its own tasks. The process's signals are taken here,
once: SIGTERM detaches every show (OBS keeps streaming exactly as it is); each
session's own Ctrl-C question, if any, is an attachment of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence

from showcaller.show.hostcommands import Detach
from showcaller.show.session import ShowSession
from showcaller.show.state import ShowReport
from showcaller.surfaces.prompts import on_signal


async def run_shows(
    sessions: Sequence[ShowSession], *, detach_on_sigterm: bool = False
) -> list[ShowReport]:
    """Run every session until its show ends or is detached; their reports, in order.

    `detach_on_sigterm`: SIGTERM detaches every show (live), handled once per process.
    """
    undo = on_signal(signal.SIGTERM, lambda: _detach_all(sessions)) if detach_on_sigterm else None
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(s.run(), name=f"show {s.name or i + 1}")
                for i, s in enumerate(sessions)
            ]
    finally:
        if undo is not None:
            undo()
    return [t.result() for t in tasks]


def _detach_all(sessions: Sequence[ShowSession]) -> None:
    for session in sessions:
        with contextlib.suppress(RuntimeError):  # that show has already stopped
            session.spawn(_submit_detach(session), "SIGTERM detach")


async def _submit_detach(session: ShowSession) -> None:
    await session.submit(Detach(), source="signal")


__all__ = ["run_shows"]
