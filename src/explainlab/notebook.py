"""The first cell of every lesson: ``setup()``, and the IPython patch it applies."""

from __future__ import annotations

import importlib
import os
import random
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from . import constants
from .errors import DeviceUnavailableError, UnknownProfileError

_MARK = "_explainlab_patched"
_BANNER_PACKAGES = ("torch", "transformers", "inseq", "captum", "IPython")


def patch_ipython() -> bool:
    """Make ``from IPython.core.display import display, HTML`` work on IPython >= 9.

    IPython 9 moved ``display`` out of ``IPython.core.display``; Inseq's
    ``show()`` still imports it from there. The patch puts the function back
    where Inseq looks. Introduced in lesson 01 (MT attribution).

    Returns:
        True if this call patched IPython, False if nothing needed patching
        (IPython < 9, already patched, or IPython not installed).
    """
    try:
        core_display = importlib.import_module("IPython.core.display")
    except ImportError:
        return False
    if hasattr(core_display, "display"):
        return False
    from IPython.core.display_functions import display

    core_display.display = display
    setattr(core_display, _MARK, True)
    return True


def plain_numpy_scalars() -> None:
    """Print NumPy scalars as ``178.0``, not ``np.float64(178.0)`` (NumPy >= 2).

    Inseq 0.7 writes heatmap colours as ``"rgba" + str(tuple)``; with NumPy 2's
    scalar repr that is invalid CSS and ``show()`` draws uncoloured cells.
    Called by ``setup()`` (lesson 01).
    """
    import numpy

    if int(numpy.__version__.split(".")[0]) >= 2:
        numpy.set_printoptions(legacy="1.25")


def ipython_patch_needed() -> bool:
    """Whether this IPython lacks ``IPython.core.display.display`` (our own patch aside)."""
    try:
        core_display = importlib.import_module("IPython.core.display")
    except ImportError:
        return False
    return not hasattr(core_display, "display") or getattr(core_display, _MARK, False)


def pick_device(requested: str | None = None) -> str:
    """Choose ``cuda``, ``mps`` or ``cpu``; ``EXPLAINLAB_DEVICE`` overrides the choice.

    Raises:
        DeviceUnavailableError: the requested device is not on this machine.
    """
    import torch

    wanted = (requested or constants.DEVICE or "auto").lower()
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if wanted == "auto":
        return next(name for name, ok in available.items() if ok)
    kind = wanted.split(":")[0]
    if kind not in available:
        raise DeviceUnavailableError(
            f"Unknown device {wanted!r}: use one of cuda, mps, cpu or auto "
            f"(set {constants.ENV_DEVICE} or pass device=)."
        )
    if not available[kind]:
        raise DeviceUnavailableError(
            f"Device {wanted!r} was requested but this machine has none. "
            f"Unset {constants.ENV_DEVICE} (or set it to cpu), or switch the notebook "
            "runtime to a GPU (Colab: Runtime > Change runtime type)."
        )
    return wanted


def check_profile(profile: str | None = None) -> str:
    """Return the active profile, validated (``hub`` or ``offline``)."""
    chosen = (profile or constants.PROFILE).lower()
    if chosen not in constants.PROFILES:
        raise UnknownProfileError(
            f"Unknown profile {chosen!r}: set {constants.ENV_PROFILE} to one of "
            f"{', '.join(constants.PROFILES)}."
        )
    return chosen


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and GPU) for repeatable lessons."""
    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class Session:
    """What ``setup()`` chose; lessons read ``device`` and ``device_map`` from it."""

    profile: str
    device: str
    seed: int
    ipython_patched: bool
    endpoint: str | None = None  # a mirror, when HF_ENDPOINT is set
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def dtype(self):
        """The dtype to load a model in for attribution (``from_pretrained(..., dtype=...)``).

        ``torch.float32`` on a CPU or MPS: gradients in bfloat16 keep 8 bits of mantissa, so
        small attributions round to the same value, and a CPU without bfloat16 instructions
        computes them many times slower than in float32. ``"auto"`` (the checkpoint's own
        dtype, bfloat16 for Qwen3) on CUDA, where it halves the memory;
        ``clean_attribution`` turns the scores into float32 for Inseq's ``show()``.
        Introduced in lesson 02_llm_attribution.
        """
        if self.device.startswith("cuda"):
            return "auto"
        import torch

        return torch.float32

    @property
    def device_map(self) -> dict[str, str]:
        """A ``device_map`` for ``from_pretrained``: the chosen device, never a bare GPU index."""
        return {"": self.device}

    def banner(self) -> str:
        parts = [f"explainlab {package_version('explainlab')}", f"profile {self.profile}",
                 f"device {self.device}", f"seed {self.seed}"]
        parts += [f"{name} {ver}" for name, ver in self.versions.items()]
        if self.endpoint:
            parts.append(f"mirror {self.endpoint}")
        if self.ipython_patched:
            parts.append("IPython display patched")
        return " | ".join(parts)


def setup(*, seed: int | None = None, device: str | None = None, profile: str | None = None,
          quiet: bool = False) -> Session:
    """Prepare a lesson: IPython patch, mirror, seeds, device, one-line banner.

    Call it in the first cell of every lesson (lesson 01 introduces it).

    Args:
        seed: random seed; defaults to ``EXPLAINLAB_SEED`` or 0.
        device: ``cuda``, ``mps``, ``cpu`` or ``auto``; defaults to
            ``EXPLAINLAB_DEVICE`` or auto.
        profile: ``hub`` or ``offline``; sets ``EXPLAINLAB_PROFILE`` for this
            process; defaults to the variable, else ``hub``.
        quiet: do not print the banner.

    With ``HF_ENDPOINT`` set, the mirror is applied to an already-imported
    ``huggingface_hub`` and Xet is turned off (see ``configure_endpoint``).
    """
    patched = patch_ipython()
    plain_numpy_scalars()
    endpoint = None
    if constants.HF_ENDPOINT:
        from .hub import configure_endpoint

        endpoint = configure_endpoint()
    if profile is not None:  # later resolve() calls follow the lesson's choice
        os.environ[constants.ENV_PROFILE] = check_profile(profile)
    chosen_seed = constants.SEED if seed is None else seed
    seed_everything(chosen_seed)
    session = Session(
        profile=check_profile(profile),
        device=pick_device(device),
        seed=chosen_seed,
        ipython_patched=patched or ipython_patch_needed(),
        versions={name: package_version(name) for name in _BANNER_PACKAGES},
        endpoint=endpoint,
    )
    if not quiet:
        print(session.banner())
    return session

