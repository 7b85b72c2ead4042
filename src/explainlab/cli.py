"""The ``explainlab`` command: ``download``, ``doctor``, ``zoo``, ``mirror``."""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

from . import constants
from ._parallel import default_jobs
from .errors import ExplainLabError, RepoNotFoundError, TwinContractError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="explainlab", description="ExplainLab course tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    get = commands.add_parser(
        "download", help="download a model or dataset repository, checked and resumable",
        description="Download a repository from the hub or a mirror into a folder. "
        "Rerun the same command to resume an interrupted download.")
    get.add_argument("repo_id", help="e.g. Helsinki-NLP/opus-mt-zh-en")
    get.add_argument("--mirror", metavar="URL",
                     help="hub mirror, e.g. https://hf-mirror.com "
                     f"(default: ${constants.ENV_ENDPOINT})")
    get.add_argument("--local-dir", metavar="DIR",
                     help="target folder (default: the repository name in the current folder)")
    get.add_argument("--include", action="append", metavar="PAT", help="glob of files to keep")
    get.add_argument("--exclude", action="append", metavar="PAT", help="glob of files to skip")
    get.add_argument("--revision", metavar="REV", help="branch, tag or commit (default: main)")
    get.add_argument("--token", metavar="TOKEN",
                     help=f"access token for gated repositories (default: ${constants.ENV_TOKEN})")
    get.add_argument("--dataset", action="store_true", help="the repository is a dataset")
    get.add_argument("--retries", type=int, default=5, help="retries per request (default: 5)")
    get.add_argument("--quiet", action="store_true", help="no progress bars")

    commands.add_parser("doctor", help="check versions, device, profile and hub access")

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


def _mirror(args: argparse.Namespace) -> int:
    from .mirror import folder_sources, serve, twin_sources

    if args.downloads is not None:
        sources = folder_sources(Path(args.downloads or constants.HOME / "downloads"))
    else:
        sources = twin_sources(args.roles or None)
    return serve(sources, host=args.host, port=args.port)


def _download(args: argparse.Namespace) -> int:
    from .hub import download

    target = download(
        args.repo_id,
        local_dir=args.local_dir or args.repo_id.split("/")[-1],
        endpoint=args.mirror,
        revision=args.revision,
        include=args.include,
        exclude=args.exclude,
        token=args.token,
        repo_type="dataset" if args.dataset else "model",
        retries=args.retries,
        progress=not args.quiet,
    )
    print(f"Downloaded {args.repo_id} to {target}")
    return 0


def _doctor(_: argparse.Namespace) -> int:
    from .models import get_role
    from .notebook import check_profile, ipython_patch_needed, package_version, pick_device

    rows = [("python", platform.python_version())]
    rows += [(name, package_version(name)) for name in (
        "explainlab", "torch", "transformers", "huggingface_hub", "inseq", "captum", "bertviz",
        "ipython")]
    try:
        rows.append(("device", pick_device()))
    except ExplainLabError as exc:
        rows.append(("device", f"problem: {exc}"))
    try:
        rows.append(("profile", check_profile()))
    except ExplainLabError as exc:
        rows.append(("profile", f"problem: {exc}"))
    rows.append(("IPython patch", "needed (setup() applies it)" if ipython_patch_needed()
                 else "not needed"))
    endpoint = constants.HF_ENDPOINT or constants.DEFAULT_ENDPOINT
    rows.append(("endpoint", f"{endpoint} ({'mirror' if constants.HF_ENDPOINT else 'hub'})"))
    rows.append(("endpoint answers", _probe(endpoint, get_role("mt-zh-en").hub_id)))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


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


def _probe(endpoint: str, repo_id: str) -> str:
    from huggingface_hub import HfApi

    from .hub import _call

    api = HfApi(endpoint=endpoint, token=False)
    try:
        _call(lambda: api.model_info(repo_id, timeout=5), endpoint=endpoint, what=repo_id,
              retries=0, wait=0)
    except RepoNotFoundError:
        return f"yes (hub API; it does not have {repo_id})"
    except ExplainLabError as exc:
        return f"no: {exc}"
    return f"yes (hub API; has {repo_id})"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"download": _download, "doctor": _doctor, "zoo": _zoo,
               "mirror": _mirror}[args.command]
    try:
        return handler(args)
    except (ExplainLabError, FileNotFoundError) as exc:
        print(f"explainlab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("explainlab: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
