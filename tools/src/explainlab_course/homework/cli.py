"""``explainlab homework key|solutions|grade``: the teacher's commands, plugged into the
learner's ``explainlab`` command through the ``explainlab.commands`` entry point."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import DEFAULT_TIMEOUT


def add_parser(commands) -> None:
    """Add ``homework`` and its three actions to the ``explainlab`` command's subparsers."""
    homework = commands.add_parser(
        "homework", help="teacher tools: answer key, solved notebook, grading",
        description="The teacher's tools for lesson 05_homework (from the course factory).")
    actions = homework.add_subparsers(dest="homework_command", required=True, metavar="ACTION")

    key = actions.add_parser("key", help="the answer key on a profile: JSON and a table")
    key.add_argument("--lang", choices=("en", "zh"), required=True)
    key.add_argument("--profile", choices=("hub", "offline"), default="hub",
                     help="the models the key is computed on (default: hub, the real models)")
    key.add_argument("--out", metavar="KEY.json",
                     help="write the key here, and the table beside it as KEY.md")
    key.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")
    key.set_defaults(handler=_key)

    solved = actions.add_parser("solutions", help="write the solved notebook")
    solved.add_argument("--lang", choices=("en", "zh"), required=True)
    solved.add_argument("--out", metavar="SOLVED.ipynb", required=True)
    solved.set_defaults(handler=_solutions)

    graded = actions.add_parser(
        "grade", help="run each submission in a fresh kernel and grade its answers",
        description="Each submission runs from the top in a fresh kernel, within the time "
        "limit; after each answer cell the grader takes the value of `answer` and judges it "
        "itself. One CSV row per submission: file, q1, q2, ... (points), total, errors.")
    graded.add_argument("submissions", nargs="+", metavar="SUBMISSION.ipynb")
    graded.add_argument("--out", metavar="GRADES.csv", required=True)
    graded.add_argument("--profile", choices=("hub", "offline"), default="hub",
                        help="the models the submissions were written for (default: hub)")
    graded.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"seconds per submission (default: {DEFAULT_TIMEOUT:g})")
    graded.set_defaults(handler=_grade)


def _key(args: argparse.Namespace) -> int:
    from . import answer_key, key_table

    key = answer_key(args.lang, profile=args.profile, timeout=args.timeout)
    table = key_table(key)
    print(table, end="")
    if args.out:
        out = Path(args.out)
        out.write_text(json.dumps(key, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        out.with_suffix(".md").write_text(table, encoding="utf-8")
        print(f"Wrote {out} and {out.with_suffix('.md')}", file=sys.stderr)
    return 0


def _solutions(args: argparse.Namespace) -> int:
    import nbformat

    from . import solve

    nbformat.write(solve(args.lang), args.out)
    print(f"Wrote the solved homework ({args.lang}) to {args.out}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from . import grade

    rows = grade(args.submissions, profile=args.profile, timeout=args.timeout, out=args.out)
    for row in rows:
        print(f"{row['file']}: {row['total']}" + (f"  ({row['errors']})" if row["errors"] else ""))
    print(f"Wrote {args.out}")
    return 0
