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
