"""`rehearse` and `live`: the two ways to run a show, in three stages.

prepare (`prepare.py`: the plan, the journal claimed, OBS connected and checked, the
host asked) → assemble (`assemble.py`: the engine, the session, the mode's policy and
attachments — one assembly for both modes) → run (`run.py`: a list of sessions in one
task group, the process's signals taken once).

Both modes run the same `Show` in a `ShowSession`; they differ in the clock (scaled vs
real), in the guard (rehearsal can never start or stop the stream), and in the mode's
policy (`show.policies`: live starts the stream before the first slot and records from
the opening; rehearsal may record to prove it works).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from showcaller.clock import Clock, SystemClock
from showcaller.config import EventConfig
from showcaller.errors import UsageError
from showcaller.show.journal import Journal, Kind
from showcaller.show.plan import ShowPlan
from showcaller.show.session import ShowSession
from showcaller.show.state import ShowReport
from showcaller.surfaces.prompts import ask_on_tty

from .assemble import Extras, assemble
from .prepare import (
    Confirm,
    LiveOptions,
    RehearsalOptions,
    find_slot,
    journal_of,
    preparing_live,
    preparing_rehearsal,
)
from .run import run_shows


async def rehearse(
    cfg: EventConfig,
    options: RehearsalOptions,
    *,
    on_session: Callable[[ShowSession], None] | None = None,
) -> ShowReport:
    """Run the whole timetable now, sped up, against OBS; never touches the real stream.

    With `stream_test`, streams to the config's private rehearsal target only, and puts
    OBS's own stream settings back afterwards, whatever happens. `on_session` may attach
    surfaces to the session before it runs.
    """
    plan = ShowPlan.of(cfg)
    async with preparing_rehearsal(cfg, plan, options) as prepared:
        # A rehearsal always starts from the top: its journal is written anew.
        clock = prepared.showtime.clock
        with Journal(prepared.journal_path, clock, plan.hash, fresh=True) as journal:
            extras = Extras(
                record=options.record, notify=options.notify, stream_test=options.stream_test
            )
            session = assemble(prepared, journal, extras, on_session=on_session)
            [report] = await run_shows([session])
            return report


async def live(
    cfg: EventConfig,
    options: LiveOptions,
    *,
    clock: Clock | None = None,
    confirm: Confirm = ask_on_tty,
    interactive: bool | None = None,
    on_session: Callable[[ShowSession], None] | None = None,
    ask_on_ctrl_c: bool = True,
) -> ShowReport:
    """Run the show on air in real time; resumes from the journal after a crash.

    `ask_on_ctrl_c`: on a terminal, Ctrl-C asks what to do (off when a surface, the
    dashboard, asks the question itself).
    """
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if not options.yes and not interactive:
        raise UsageError(
            "live mode goes on air only after a confirmation, and there is no terminal to ask",
            hint="run it in a terminal, or pass --yes",
        )
    clock = clock or SystemClock()
    plan = ShowPlan.of(cfg)
    async with preparing_live(cfg, plan, options, clock, confirm) as prepared:
        with Journal(prepared.journal_path, clock, plan.hash) as journal:
            if prepared.point is not None:
                journal.write(Kind.RESUME, from_line=prepared.point.line)
            extras = Extras(ask_on_ctrl_c=interactive and ask_on_ctrl_c)
            session = assemble(prepared, journal, extras, on_session=on_session)
            [report] = await run_shows([session], detach_on_sigterm=True)
            return report


__all__ = [
    "LiveOptions",
    "RehearsalOptions",
    "find_slot",
    "journal_of",
    "live",
    "rehearse",
]
