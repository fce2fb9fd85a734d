"""`showcaller cards FILE [-o FILE]`: the evening's MC cue cards as Markdown (planned times)."""

from __future__ import annotations

import argparse

from showcaller.commands import add_config_argument, add_output_argument, command, write_document


def _cards_args(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_output_argument(parser)


@command(
    "cards",
    "print every MC cue card and post draft of the evening as Markdown (planned times)",
    arguments=_cards_args,
)
def _cards(args: argparse.Namespace) -> int:
    from showcaller.config import load_config
    from showcaller.stage.cards import cards_markdown

    write_document(cards_markdown(load_config(args.config)), args.output)
    return 0
