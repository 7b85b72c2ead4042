"""The ``explainlab`` command of the learner's package: ``download`` and ``doctor``.

Other installed packages add commands through the ``explainlab.commands`` entry point (a
function that adds its parser to the subparsers): the course factory adds the teacher's
``homework`` tools. The factory's own commands (twins, mirror) are ``explainlab-course``'s."""

from __future__ import annotations

import argparse
import platform
import sys
from importlib.metadata import entry_points

from . import constants
from .errors import ExplainLabError, MissingPackageError

COMMANDS_GROUP = "explainlab.commands"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="explainlab",
                                     description="ExplainLab: the course's companion package.")
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

    plugged = {entry.name: entry for entry in entry_points(group=COMMANDS_GROUP)}
    for entry in plugged.values():
        entry.load()(commands)
    if "homework" not in plugged:
        commands.add_parser("homework", help="teacher tools (need the course factory)",
                            add_help=False).set_defaults(handler=_no_teacher_tools)
    return parser


def _no_teacher_tools(_: argparse.Namespace) -> int:
    raise MissingPackageError(
        "The homework's teacher tools (key, solutions, grade) come with the course factory, "
        "which a learner's install leaves out. In a checkout of the course repository, run "
        "`make install`, or `pip install -e tools`.")


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
    from .hub import probe
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
    rows.append(("endpoint answers", probe(endpoint, get_role("mt-zh-en").hub_id)))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


def run(handler, args: argparse.Namespace, *, prog: str = "explainlab") -> int:
    """Run a command's ``handler``: its errors as one line on stderr (exit 1), an interrupt
    as a hint to rerun (exit 130). The course factory's command runs its handlers here too."""
    try:
        return handler(args)
    except (ExplainLabError, FileNotFoundError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"download": _download, "doctor": _doctor}.get(args.command, None)
    return run(handler or args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
