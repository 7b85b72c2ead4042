"""A twin's contract: the numbers measured on a built twin, each with the bound it must keep.

A twin is defined by its behaviour, not its bytes: the weights a build produces depend on the
machine's CPU kernels, so a recipe states the lesson facts it exists for (and held-out
behaviour) as checks with margins, and a build is accepted only when every check holds. The
bounds are stricter than the claims the lessons make, so that the lessons' facts survive the
small numerical differences between machines.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Check:
    """One term of a contract: ``value`` measured on the twin, kept within ``[low, high]``."""

    name: str
    value: float
    low: float = -math.inf
    high: float = math.inf

    @property
    def margin(self) -> float:
        """How far ``value`` is inside its bounds (negative: outside)."""
        return min(self.value - self.low, self.high - self.value)

    @property
    def passed(self) -> bool:
        return self.margin >= 0

    def bound(self) -> str:
        if self.low == -math.inf and self.high == math.inf:
            return "reported, no bound"
        if self.low > -math.inf and self.high < math.inf:
            return f"in [{self.low:g}, {self.high:g}]"
        return f">= {self.low:g}" if self.low > -math.inf else f"<= {self.high:g}"

    def describe(self) -> str:
        if not self.bounded:
            return f"{self.name}: {self.value:.4g} (reported, no bound)"
        verdict = "ok" if self.passed else "FAILS"
        return f"{self.name}: {self.value:.4g} ({self.bound()}, margin {self.margin:.3g}) {verdict}"

    @property
    def bounded(self) -> bool:
        return self.low > -math.inf or self.high < math.inf

    def record(self) -> dict:
        """The check as ``twin.json`` keeps it (infinite bounds left out)."""
        row = {k: v for k, v in asdict(self).items() if not isinstance(v, float)
               or math.isfinite(v)}
        if not self.bounded:
            return {**row, "passed": True}
        return {**row, "margin": round(self.margin, 6), "passed": self.passed}


def at_least(name: str, value: float, low: float) -> Check:
    return Check(name, float(value), low=low)


def at_most(name: str, value: float, high: float) -> Check:
    return Check(name, float(value), high=high)


def reported(name: str, value: float) -> Check:
    """A number the model card shows, with no bound: it varies too much between seeds or
    machines for the twin to promise it."""
    return Check(name, float(value))


def holds(name: str, fact: bool) -> Check:
    """A yes/no fact (1 if it holds); for facts with no number to keep a margin on."""
    return Check(name, 1.0 if fact else 0.0, low=1.0)


def lead(scores, word: str, *, rivals=None, rank: int = 1) -> float:
    """How many times ``word``'s score is the ``rank``-th best score of its rivals (every
    other word unless ``rivals`` names them); above 1: ``word`` is among the ``rank`` best.

    ``scores``: a dict or (word, score) pairs, as the explainers and Inseq rankings give them.
    """
    pairs = list(scores.items()) if isinstance(scores, dict) else list(scores)
    others = sorted((v for w, v in pairs if w != word and (rivals is None or w in rivals)),
                    reverse=True)
    return dict(pairs)[word] / others[rank - 1]


def failures(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.passed]


def build_machine() -> dict[str, str]:
    """The CPU and the kernels a twin was built with (for ``twin.json`` and the model card)."""
    import torch

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                          if line.startswith("model name")), model)
    except OSError:
        pass
    machine = {"cpu": model, "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}
    for name in ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"):
        if os.environ.get(name):
            machine[name] = os.environ[name]
    return machine
