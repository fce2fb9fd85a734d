"""`showcaller provision FILE [--obs URL|sim] [--dry-run] [--force]`: build the scenes in OBS."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from showcaller.commands import add_config_argument, add_obs_argument, command, obs_target
from showcaller.words import plural

if TYPE_CHECKING:
    from showcaller.config import OBS, EventConfig
    from showcaller.stage.provision import Plan


def add_provision_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, --obs, --dry-run and --force."""
    add_config_argument(parser)
    add_obs_argument(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan and change nothing in OBS"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="also take over what the host made (inputs and scenes of the same names)",
    )


@command(
    "provision",
    "create the event's scenes and inputs in OBS from the scene templates (idempotent)",
    arguments=add_provision_arguments,
)
async def provision_command(args: argparse.Namespace) -> int:
    """Plan, print the plan, and (unless --dry-run) make OBS match it."""
    from showcaller.config import load_config
    from showcaller.errors import OBSConnectionError
    from showcaller.obs.connect import SIM, open_target
    from showcaller.stage.provision import apply, plan

    cfg = load_config(args.config)
    obs = obs_target(args, cfg)
    async with open_target(obs) as conn:
        where = "the built-in simulated OBS (a fresh one)" if obs.url == SIM else conn.url
        the_plan = await plan(conn.gateway, cfg, force=args.force)
        if not the_plan.changes:
            print(f"{where}: nothing to do: OBS has every scene, input and item of the templates")
            return 0
        print_plan(the_plan, where)
        if args.dry_run:
            changes = plural(len(the_plan.changes), "change")
            print(f"dry run: {changes} planned, nothing was sent to OBS")
            return 0
        try:
            outcome = await apply(conn.gateway, the_plan.changes)
        except OBSConnectionError as exc:
            exc.hint = "run `showcaller provision` again once OBS is back: it finishes the job"
            raise
    for step, why in outcome.failed:
        print(f"failed: {step.action} {step.what} {step.name}: {why}", file=sys.stderr)
    created = sum(1 for s in outcome.done if s.action == "create")
    updated = len(outcome.done) - created
    print(f"done: {created} created, {updated} updated, {len(outcome.failed)} failed")
    return 1 if outcome.failed else 0


def print_plan(the_plan: Plan, where: str) -> None:
    """The plan as the host reads it: every change and every thing of the host's kept."""
    print(f"plan for {where}:")
    quiet = 0
    for step in the_plan.steps:
        if step.run is None and "host" not in step.reason and step.action != "skip":
            quiet += 1
            continue
        print(f"  {step}")
    if quiet:
        print(f"  ({quiet} already as the templates want)")
    for note in the_plan.notes:
        print(f"note: {note}")


def _near_usual_scene_names(cfg: EventConfig) -> list[str]:
    """[scenes] names a typo away from the usual ones: the built-in OBS would build any
    name as written, so this is the only way `validate --obs sim` can see such a slip."""
    from showcaller.config.plan import KIND_TITLES
    from showcaller.nearnames import nearest

    # The scene names of the example and the docs, per role: a [scenes] name one typo
    # away from one of these ("Lightning Talks") is more likely a slip than a choice.
    usual_scenes = {**KIND_TITLES["en"], "trouble": "Technical Difficulties"}
    said = []
    for role, usual in usual_scenes.items():
        name = cfg.scenes.scene_for(role)
        if name and name != usual and nearest(name, [usual]) == usual:
            said.append(
                f"{cfg.where(('scenes', role))}: {name!r} — did you mean {usual!r}? "
                "(provision builds the scene with the name as written; a real OBS that has "
                f"{usual!r} would lack it)"
            )
    return said


async def validate_against_obs(cfg: EventConfig, obs: OBS) -> int:
    """`validate --obs`: every scene and input OBS lacks (with "did you mean …?"); 1 if any."""
    from showcaller.obs.connect import SIM, ObsSeed, open_target
    from showcaller.stage.preflight import check_obs
    from showcaller.stage.provision import sim_seed

    # The built-in OBS offers what a fresh `provision` creates, and nothing else: a scene
    # or input the file names that no template makes is reported as on a real OBS.
    seed = ObsSeed(provision=sim_seed(cfg).provision) if obs.url == SIM else None
    async with open_target(obs, seed=seed) as conn:
        checked = await check_obs(cfg, conn.gateway)
        shown = "the built-in simulated OBS" if conn.sim is not None else conn.url
    warnings = list(checked.warnings)
    if obs.url == SIM:
        warnings += _near_usual_scene_names(cfg)
    for problem in checked.problems:
        print(f"problem: {problem}")
    for warning in warnings:
        print(f"warning: {warning}")
    if checked.hard:
        print(f"✗ {shown} cannot show every slot: `live` would refuse to start")
    if checked.problems:
        lacks = plural(len(checked.problems), "scene or input", "scenes or inputs")
        print(f"✗ {shown} lacks {lacks} the event uses")
        return 1
    print(f"✓ {shown} has every scene and input the event uses")
    return 0
