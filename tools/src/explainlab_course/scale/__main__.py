"""``python -m explainlab_course.scale {build,check,requirements}``; see the package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    from explainlab import constants

    from ..lessons import lesson_paths
    from . import check, requirements, standins

    parser = argparse.ArgumentParser(prog="python -m explainlab_course.scale",
                                     description="The lessons at the real models' size.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the stand-ins (all roles, or those named)")
    build.add_argument("roles", nargs="*")
    run = sub.add_parser("check", help="run every lesson on the stand-ins, measure, report")
    run.add_argument("paths", nargs="*", type=Path, help="lesson files (default: all)")
    run.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    run.add_argument("--out", type=Path, default=check.REPORT_DIR)
    run.add_argument("--timeout", type=int, default=1800, help="seconds per cell (1800)")
    req = sub.add_parser("requirements", help="write lessons/requirements.json from reports")
    req.add_argument("reports", nargs="+", type=Path)
    req.add_argument("--update", action="store_true",
                     help="replace only the lessons these reports measured; keep the others")
    args = parser.parse_args(argv)

    scale_home = constants.HOME / "scale"
    if args.command == "build":
        from explainlab.models import list_roles

        for role in args.roles or list_roles():
            standins.build(role, scale_home=scale_home)
        return 0
    if args.command == "requirements":
        print(requirements.write(args.reports, update=args.update))
        return 0
    if args.device.startswith("cuda"):
        from ..gpucheck import NO_CUDA_STATUS, cuda_status

        ok, line = cuda_status()
        if not ok:
            print(line, file=sys.stderr)
            return NO_CUDA_STATUS
    paths = [p.resolve() for p in args.paths] or lesson_paths()
    report = check.run(paths, device=args.device, out=args.out,
                       log=lambda line: print(line, flush=True))
    print(check.report_text(report), end="")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
