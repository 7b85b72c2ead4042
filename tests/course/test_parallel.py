"""_parallel: commands side by side, at most N at a time, each with its own log."""

from __future__ import annotations

import sys

import pytest

from explainlab_course._parallel import run_side_by_side

# Each child writes when it started and ended, and holds on for a moment in between.
CHILD = """\
import sys, time
start = time.time()
time.sleep(0.6)
print("out of", sys.argv[1])
print("trouble in", sys.argv[1], file=sys.stderr)
open(sys.argv[2], "w").write(f"{start} {time.time()}")
sys.exit(int(sys.argv[3]))
"""


def _run(tmp_path, jobs, codes):
    commands = [(f"c{i}", [sys.executable, "-c", CHILD, f"c{i}", str(tmp_path / f"c{i}.t"),
                           str(code)]) for i, code in enumerate(codes)]
    done = list(run_side_by_side(commands, jobs=jobs, logs=tmp_path / "logs", desc="test"))
    spans = {d.name: tuple(map(float, (tmp_path / f"{d.name}.t").read_text().split()))
             for d in done}
    return {d.name: d for d in done}, spans


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_two_at_a_time_overlap_and_one_at_a_time_do_not(tmp_path):
    done, spans = _run(tmp_path / "two", 2, [0, 0])
    assert _overlap(spans["c0"], spans["c1"])
    done, spans = _run(tmp_path / "one", 1, [0, 0])
    assert not _overlap(spans["c0"], spans["c1"])
    assert all(d.returncode == 0 and d.seconds >= 0.6 for d in done.values())


def test_at_most_jobs_at_once_and_every_outcome_reported(tmp_path):
    done, spans = _run(tmp_path, 2, [0, 3, 0, 0])
    assert sorted(done) == ["c0", "c1", "c2", "c3"]
    assert done["c1"].returncode == 3 and done["c0"].returncode == 0
    for name, span in spans.items():  # never three running at the same time
        others = [s for n, s in spans.items() if n != name and _overlap(span, s)]
        assert not any(_overlap(a, b) for a in others for b in others if a != b)
    log = done["c1"].tail()
    assert "out of c1" in log and "trouble in c1" in log  # stdout and stderr, in the log
    assert done["c1"].log == tmp_path / "logs" / "c1.log"


def test_no_jobs_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        list(run_side_by_side([("a", ["true"])], jobs=0, logs=tmp_path, desc="test"))


def test_children_let_idle_openmp_threads_sleep(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    show = [sys.executable, "-c", "import os; print(os.environ['OMP_WAIT_POLICY'])"]
    (done,) = run_side_by_side([("a", show)], jobs=1, logs=tmp_path / "unset", desc="test")
    assert done.tail(1) == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # a choice of the user's is kept
    (done,) = run_side_by_side([("a", show)], jobs=1, logs=tmp_path / "set", desc="test")
    assert done.tail(1) == "ACTIVE"
