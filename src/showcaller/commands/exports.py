"""`showcaller chapters` and `showcaller report`: documents computed from a show's journal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from showcaller.commands import add_output_argument, command, write_document


def _journal_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "journal",
        type=Path,
        metavar="JOURNAL",
        help="the show's journal (<event>.rehearsal.jsonl or <event>.live.jsonl)",
    )


def _chapters_args(parser: argparse.ArgumentParser) -> None:
    _journal_argument(parser)
    parser.add_argument(
        "--recording",
        action="store_true",
        help="relative to the recording's start instead of the stream's "
        "(split recordings: one list per file)",
    )
    add_output_argument(parser)


@command(
    "chapters",
    "print YouTube chapters (ready to paste) from a show's journal",
    arguments=_chapters_args,
)
def _chapters(args: argparse.Namespace) -> int:
    from showcaller.interop.chapters import chapters_of
    from showcaller.interop.runs import last_run

    chapters = chapters_of(last_run(args.journal), recording=args.recording)
    for note in chapters.notes:
        print(f"note: {note}", file=sys.stderr)
    write_document(chapters.text(), args.output)
    return 0


def _report_args(parser: argparse.ArgumentParser) -> None:
    _journal_argument(parser)
    parser.add_argument(
        "--format",
        choices=("md", "csv", "html"),
        default="md",
        help="Markdown (default), CSV (one row per slot) or HTML with the evening's timeline",
    )
    add_output_argument(parser)


@command(
    "report",
    "planned vs actual, problems and checks of a show, from its journal",
    arguments=_report_args,
)
def _report(args: argparse.Namespace) -> int:
    from showcaller.interop.runs import last_run
    from showcaller.interop.timeline import render

    write_document(render(last_run(args.journal), args.format), args.output)
    return 0
