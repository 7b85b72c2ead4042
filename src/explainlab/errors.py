"""Every exception explainlab raises.

Each one subclasses a built-in, so ``except KeyError`` and friends keep
working, and each message says what to do next.
"""

from __future__ import annotations


class ExplainLabError(Exception):
    """Base class: ``except ExplainLabError`` catches everything below."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class UnknownRoleError(ExplainLabError, KeyError):
    """A model role that the course does not define."""


class UnknownProfileError(ExplainLabError, ValueError):
    """``EXPLAINLAB_PROFILE`` or ``profile=`` is neither ``hub`` nor ``offline``."""


class TwinUnavailableError(ExplainLabError, LookupError):
    """The offline twin for a role cannot be provided."""


class TwinContractError(ExplainLabError, RuntimeError):
    """No seed gave an offline twin that keeps its contract; the message lists what it missed."""


class MissingPackageError(ExplainLabError, ImportError):
    """A lesson step needs a package this environment lacks; the message says what to install."""


class DeviceUnavailableError(ExplainLabError, RuntimeError):
    """``EXPLAINLAB_DEVICE`` asks for a device this machine does not have."""


class MirrorUnreachableError(ExplainLabError, ConnectionError):
    """Nothing answers at the endpoint, or it keeps failing after retries."""


class NotAMirrorError(ExplainLabError, ConnectionError):
    """Something answers at the endpoint, but it does not speak the hub API."""


class RepoNotFoundError(ExplainLabError, FileNotFoundError):
    """The endpoint does not know the repository or revision."""


class AuthenticationError(ExplainLabError, PermissionError):
    """The repository needs a (valid) token."""


class UnsafePathError(ExplainLabError, ValueError):
    """A file listing names a path that would land outside ``local_dir``."""


class ChecksumMismatchError(ExplainLabError, OSError):
    """A downloaded file's bytes do not match the checksum in the listing."""


class LessonExecutionError(ExplainLabError, RuntimeError):
    """A lesson cell raised an error or ran out of time; the message shows the cell."""


class LessonClaimError(ExplainLabError, AssertionError):
    """An executed lesson contradicts a claim of its prose (``explainlab_course.claims``); the
    message names the lesson file, the language, and each failed claim with what it found."""


class UnknownClaimError(ExplainLabError, KeyError):
    """A claim name that a lesson does not have; the message lists its claims."""


# Explainers (explainlab.explain, lesson 03_classification_explainers)


class UnknownExplainerError(ExplainLabError, KeyError):
    """An explainer name that the registry does not know; the message lists the known ones."""


class UnknownLabelError(ExplainLabError, KeyError):
    """A ``class_name`` that the model does not have; the message lists its labels."""


class LabelIndexError(ExplainLabError, IndexError):
    """An ``index`` outside the model's outputs."""


class EmptyInputError(ExplainLabError, ValueError):
    """An empty (or whitespace-only) text, question or label list."""


class NoEntailmentLabelError(ExplainLabError, ValueError):
    """Zero-shot needs an NLI model with an ``entailment`` label; this one has none."""


class AttributionTypeNotSupportedError(ExplainLabError, ValueError):
    """An ``attribution_type`` the explainer does not implement."""


class AttributionsNotCalculatedError(ExplainLabError, ValueError):
    """Results were asked for before the explainer was called on an input."""


class TextTruncatedWarning(ExplainLabError, UserWarning):
    """A text longer than the model accepts was cut; the message says how many tokens went."""


# Homework (explainlab.homework, lesson 05_homework)


class UnknownQuestionError(ExplainLabError, KeyError):
    """A homework question id that the registry does not know; the message lists the ids."""


class HomeworkKeyError(ExplainLabError, RuntimeError):
    """The homework's answer key cannot be made: a question has no answer cell or no reference
    solution, or a reference solution fails or is judged wrong on the profile."""


class InvalidRepoIdError(ExplainLabError, ValueError):
    """A repository id that is not one (``"../../etc"``); nothing was asked or written."""
