"""The ``explainlab-course`` command of the course factory: ``zoo`` and ``mirror``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from explainlab import constants
from explainlab.cli import run
from explainlab.errors import TwinContractError

from ._parallel import default_jobs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="explainlab-course",
        description="ExplainLab's course factory: offline twins and the classroom mirror.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    zoo = commands.add_parser("zoo", help="the offline twins: list or build them")
    zoo_commands = zoo.add_subparsers(dest="zoo_command", required=True, metavar="ACTION")
    zoo_commands.add_parser("list", help="role, real model, status, size, build time")
    build = zoo_commands.add_parser("build", help="build twins (all if no role is given)")
    build.add_argument("roles", nargs="*", metavar="ROLE")
    build.add_argument("--force", action="store_true", help="rebuild even if cached")
    build.add_argument("--jobs", type=int, default=default_jobs(), metavar="N",
                       help="twins built at a time, each in its own process "
                       f"(default: {default_jobs()})")

    mirror = commands.add_parser("mirror", help="serve the offline twins to a classroom")
    mirror_commands = mirror.add_subparsers(dest="mirror_command", required=True,
                                            metavar="ACTION")
    served = mirror_commands.add_parser(
        "serve", help="serve downloaded models, or the twins, to a classroom (olah, offline)")
    served.add_argument("roles", nargs="*", metavar="ROLE",
                        help="twins to serve under their real models' hub ids (default: all)")
    served.add_argument("--downloads", metavar="DIR", nargs="?", const="",
                        help="serve the ORG/NAME repositories under DIR instead of twins "
                        "(default DIR: $EXPLAINLAB_HOME/downloads)")
    served.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; 0.0.0.0 for the whole classroom")
    served.add_argument("--port", type=int, default=8090)
    return parser


def _zoo(args: argparse.Namespace) -> int:
    from . import zoo

    if args.zoo_command == "build":
        roles = args.roles or zoo.list_twins()
        if args.jobs > 1 and len(roles) > 1:
            return 0 if zoo.build_side_by_side(roles, jobs=args.jobs, force=args.force) else 1
        for role in roles:
            try:
                folder = zoo.build(role, force=args.force)
            except TwinContractError as error:
                print(error, file=sys.stderr)
                return 1
            print(f"{role}: {folder}", flush=True)
        return 0
    rows = zoo.status()
    print(f"{'role':<14}{'status':<11}{'size':>9}{'build':>9}{'tries':>7}  real model")
    for row in rows:
        size = f"{row['size_bytes'] / 1e6:.1f} MB" if row["size_bytes"] else "-"
        took = f"{row['build_seconds']:.1f} s" if row["build_seconds"] is not None else "-"
        tries = str(row.get("tries", "-"))
        print(f"{row['role']:<14}{row['status']:<11}{size:>9}{took:>9}{tries:>7}  "
              f"{row['real_model']}")
    built = [row["build_seconds"] for row in rows if row["build_seconds"] is not None]
    if built:
        print(f"{len(built)} of {len(rows)} built; build times add up to {sum(built):.1f} s "
              "(less on the clock when built side by side)")
    return 0


def _mirror(args: argparse.Namespace) -> int:
    from .mirror import folder_sources, serve, twin_sources

    if args.downloads is not None:
        sources = folder_sources(Path(args.downloads or constants.HOME / "downloads"))
    else:
        sources = twin_sources(args.roles or None)
    return serve(sources, host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run({"zoo": _zoo, "mirror": _mirror}[args.command], args, prog="explainlab-course")
