"""Downloads from the hub or a mirror, on ``huggingface_hub``'s public API.

``HfApi.repo_info`` lists the repository, ``get_hf_file_metadata`` fills in a
listing that gives names only (olah), and each file streams over the library's
own HTTP client (``get_session``). This module adds what the library lacks for
a classroom behind a mirror: Xet off (Xet downloads bypass ``HF_ENDPOINT``),
retries with backoff on 429/5xx and dropped connections, resume of a partial
file after an interrupted run (``hf_hub_download`` keeps none across runs in
huggingface_hub 1.27 and 2.x), a checksum for every file, no path outside
``local_dir``, and one-line errors that say what to do. The setup guide
introduces ``download`` and ``explainlab download``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

import huggingface_hub
from huggingface_hub import (
    HfApi,
    get_hf_file_metadata,
    get_session,
    hf_hub_url,
    hf_raise_for_status,
)
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import (
    HFValidationError,
    build_hf_headers,
    filter_repo_objects,
    tqdm,
    validate_repo_id,
)

from . import constants
from .errors import (
    AuthenticationError,
    ChecksumMismatchError,
    ExplainLabError,
    InvalidRepoIdError,
    MirrorUnreachableError,
    NotAMirrorError,
    RepoNotFoundError,
    UnsafePathError,
)

TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
PARTIAL_DIR = Path(".cache") / "explainlab"  # inside local_dir, like huggingface_hub's own
_T = TypeVar("_T")


def configure_endpoint(endpoint: str | None = None) -> str:
    """Point an imported ``huggingface_hub`` at ``endpoint``; for a mirror, turn Xet off.

    ``huggingface_hub`` reads ``HF_ENDPOINT`` once, when it is imported, so
    setting the variable later in a notebook has no effect; and Xet downloads
    go to Xet storage directly, bypassing a mirror. ``setup()`` calls this.

    Args:
        endpoint: the hub or mirror URL; defaults to ``HF_ENDPOINT``, else the hub.

    Returns:
        The endpoint now in use.
    """
    chosen = (endpoint or constants.HF_ENDPOINT or constants.DEFAULT_ENDPOINT).rstrip("/")
    hub_constants = huggingface_hub.constants
    hub_constants.ENDPOINT = chosen
    hub_constants.HUGGINGFACE_CO_URL_TEMPLATE = chosen + "/{repo_id}/resolve/{revision}/{filename}"
    if chosen != constants.DEFAULT_ENDPOINT:
        os.environ[constants.ENV_ENDPOINT] = chosen
        os.environ["HF_HUB_DISABLE_XET"] = "1"
        hub_constants.HF_HUB_DISABLE_XET = True
    return chosen


def download(
    repo_id: str,
    *,
    local_dir: str | os.PathLike | None = None,
    endpoint: str | None = None,
    revision: str | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    token: str | None = None,
    repo_type: str = "model",
    retries: int = 5,
    wait: float = 1.0,
    progress: bool = True,
    pytorch_only: bool = False,
) -> Path:
    """Download a repository (or part of it) into ``local_dir``, checked and resumable.

    Args:
        repo_id: e.g. ``"Helsinki-NLP/opus-mt-zh-en"``.
        local_dir: target folder; defaults to ``EXPLAINLAB_HOME/downloads/REPO_ID``.
        endpoint: hub or mirror URL; defaults to ``HF_ENDPOINT``, else the hub.
        revision: branch, tag or commit; defaults to ``main``.
        include: glob patterns of files to keep (all files if omitted).
        exclude: glob patterns of files to skip.
        token: access token for gated or private repositories (never printed).
        repo_type: ``"model"`` or ``"dataset"``.
        retries: how many times to retry a request that failed with 429/5xx or a dropped connection.
        wait: first backoff in seconds; doubles after each retry.
        progress: show progress bars (``HF_HUB_DISABLE_PROGRESS_BARS=1`` hides them too).
        pytorch_only: skip what PyTorch ``from_pretrained`` does not read (TensorFlow,
            Flax, Rust, ONNX weights; ``.bin`` weights when safetensors exist).

    Returns:
        The folder, ready for ``from_pretrained(folder)``.

    Raises:
        InvalidRepoIdError: ``repo_id`` is not a repository id; nothing is asked or written.
        MirrorUnreachableError: nothing answers at the endpoint, or it keeps failing.
        NotAMirrorError: the endpoint answers, but not as a hub.
        RepoNotFoundError: unknown repository or revision.
        AuthenticationError: the repository needs a valid token.
        UnsafePathError: the listing names a path outside ``local_dir``; nothing is written.
        ChecksumMismatchError: some files did not match their checksum; they were deleted.
    """
    _check_repo_id(repo_id)
    endpoint = (endpoint or constants.HF_ENDPOINT or constants.DEFAULT_ENDPOINT).rstrip("/")
    token = token or constants.HF_TOKEN
    target = Path(local_dir) if local_dir else constants.HOME / "downloads" / repo_id
    api = HfApi(endpoint=endpoint, token=token or False)
    info = _call(lambda: api.repo_info(repo_id, repo_type=repo_type, revision=revision or "main",
                                       files_metadata=True,
                                       timeout=huggingface_hub.constants.HF_HUB_ETAG_TIMEOUT),
                 endpoint=endpoint, what=f"{repo_type} {repo_id}", retries=retries, wait=wait)
    files = list(filter_repo_objects(info.siblings or [], allow_patterns=include,
                                     ignore_patterns=exclude, key=lambda s: s.rfilename))
    if pytorch_only:
        files = _pytorch_files(files)
    _check_paths(target, [s.rfilename for s in files])
    fetch = _Fetcher(repo_id=repo_id, repo_type=repo_type, endpoint=endpoint,
                     revision=info.sha or revision or "main", token=token, target=target,
                     retries=retries, wait=wait, progress=progress)
    bad: list[str] = []
    bar = tqdm(files, desc=f"{repo_id}", unit="file", disable=not progress or len(files) < 2)
    for sibling in bar:
        if not fetch(sibling):
            bad.append(sibling.rfilename)
    if bad:
        raise ChecksumMismatchError(
            f"{len(bad)} file(s) did not match the checksum in the listing and were deleted: "
            f"{', '.join(bad)}. The mirror {endpoint} may serve a broken copy: run the same "
            "command again later, or use another mirror."
        )
    return target


def probe(endpoint: str, repo_id: str) -> str:
    """Whether ``endpoint`` answers as a hub, in a few words; ``explainlab doctor`` shows it.

    One request, no retry, a 5 s timeout, no token. The setup guide introduces
    ``explainlab doctor``.

    Args:
        endpoint: the hub or mirror URL.
        repo_id: a model the endpoint should have, e.g. ``"Helsinki-NLP/opus-mt-zh-en"``.

    Returns:
        ``"yes (hub API; has REPO_ID)"``, ``"yes (hub API; it does not have REPO_ID)"``,
        or ``"no: "`` and the one-line error that ``download`` would raise.

    Raises:
        InvalidRepoIdError: ``repo_id`` is not a repository id.
    """
    _check_repo_id(repo_id)
    api = HfApi(endpoint=endpoint, token=False)
    try:
        _call(lambda: api.model_info(repo_id, timeout=5), endpoint=endpoint, what=repo_id,
              retries=0, wait=0)
    except RepoNotFoundError:
        return f"yes (hub API; it does not have {repo_id})"
    except ExplainLabError as exc:
        return f"no: {exc}"
    return f"yes (hub API; has {repo_id})"


def _check_repo_id(repo_id: str) -> None:
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise InvalidRepoIdError(
            f"{repo_id!r} is not a valid repository id: the form is NAME or NAMESPACE/NAME "
            "(letters, digits, '-', '_' and '.', no '--' or '..', at most 96 characters), "
            "e.g. Helsinki-NLP/opus-mt-zh-en. Check the spelling."
        ) from None


@dataclass(frozen=True)
class Expected:
    """What a file's bytes must be: size and digest (``sha256`` or git's ``git-sha1``)."""

    size: int | None
    kind: str | None = None
    digest: str | None = None

    @classmethod
    def from_listing(cls, sibling) -> Expected:
        lfs = getattr(sibling, "lfs", None)
        sha = (lfs.get("sha256") if isinstance(lfs, dict) else getattr(lfs, "sha256", None)
               ) if lfs else None
        if sha:
            return cls(sibling.size, "sha256", sha)
        blob_id = getattr(sibling, "blob_id", None)
        return cls(sibling.size, "git-sha1" if blob_id else None, blob_id)

    @classmethod
    def from_etag(cls, size: int | None, etag: str | None) -> Expected:
        """Mirrors that list names only (olah) still send the digest as the ETag."""
        tag = (etag or "").strip('"').lower()
        kinds = {64: "sha256", 40: "git-sha1"}
        if len(tag) in kinds and all(c in "0123456789abcdef" for c in tag):
            return cls(size, kinds[len(tag)], tag)
        return cls(size)

    def matches(self, path: Path) -> bool:
        if not path.is_file():
            return False
        if self.size is not None and path.stat().st_size != self.size:
            return False
        return self.kind is None or file_digest(path, self.kind) == self.digest


def file_digest(path: Path, kind: str) -> str:
    """The digest of a file's bytes: ``sha256``, or git's blob ``git-sha1``."""
    digest = hashlib.sha256() if kind == "sha256" else hashlib.sha1()
    if kind == "git-sha1":
        digest.update(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


NOT_FOR_PYTORCH = ("*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "*.tflite", "*.gguf",
                   "onnx/*", "openvino/*", "coreml/*", "tf_model*", "flax_model*")


def _pytorch_files(files: list) -> list:
    kept = list(filter_repo_objects(files, ignore_patterns=NOT_FOR_PYTORCH,
                                    key=lambda s: s.rfilename))
    if any(s.rfilename.endswith(".safetensors") for s in kept):
        kept = [s for s in kept if not _is_bin_weights(s.rfilename)]
    return kept


def _is_bin_weights(name: str) -> bool:
    base = PurePosixPath(name).name
    return base.startswith("pytorch_model") and base.endswith((".bin", ".bin.index.json"))


def _check_paths(target: Path, names: list[str]) -> None:
    root = target.resolve()
    unsafe = []
    for name in names:
        pure = PurePosixPath(name)
        inside = (root / name).resolve()
        if (not name or pure.is_absolute() or ".." in pure.parts or "\\" in name
                or not inside.is_relative_to(root)):
            unsafe.append(name)
    if unsafe:
        raise UnsafePathError(
            f"The file listing names paths outside the download folder: {', '.join(unsafe)}. "
            "Nothing was downloaded. This mirror is broken or hostile: use another one."
        )


class _Fetcher:
    """Downloads one listed file into place: resume, retry, verify, atomic rename."""

    def __init__(self, *, repo_id, repo_type, endpoint, revision, token, target, retries, wait,
                 progress):
        self.repo_id, self.repo_type, self.endpoint = repo_id, repo_type, endpoint
        self.revision, self.target = revision, target
        self.retries, self.wait, self.progress = retries, wait, progress
        self.token = token
        # identity: sizes and Range offsets then count the file's own bytes
        self.headers = build_hf_headers(token=token or False, library_name="explainlab",
                                        headers={"Accept-Encoding": "identity"})

    def __call__(self, sibling) -> bool:
        """Fetch one file; False if its bytes never matched (nothing is left behind)."""
        name = sibling.rfilename
        url = hf_hub_url(self.repo_id, name, repo_type=self.repo_type, revision=self.revision,
                         endpoint=self.endpoint)
        expected = Expected.from_listing(sibling)
        if expected.size is None and expected.kind is None:
            meta = self._call(lambda: get_hf_file_metadata(
                url, token=self.token or False,
                timeout=huggingface_hub.constants.HF_HUB_ETAG_TIMEOUT), name)
            expected = Expected.from_etag(meta.size, meta.etag)
        dest = self.target / name
        if expected.matches(dest):
            return True
        part = self.target / PARTIAL_DIR / f"{name}.part"
        part.parent.mkdir(parents=True, exist_ok=True)
        had_partial = part.is_file() and part.stat().st_size > 0
        for _ in range(2 if had_partial else 1):  # a stale partial gets one fresh retry
            if part.exists() and expected.size is not None and part.stat().st_size > expected.size:
                part.unlink()
            self._call(lambda: self._get(url, name, expected.size, part), name)
            if expected.matches(part):
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, dest)
                return True
            part.unlink(missing_ok=True)
        return False

    def _get(self, url: str, name: str, size: int | None, part: Path) -> None:
        """One GET that appends to ``part`` from where it ends (a ``Range`` request)."""
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have == size:
            return
        headers = {**self.headers, "Range": f"bytes={have}-"} if have else self.headers
        with get_session().stream("GET", url, headers=headers,
                                  timeout=huggingface_hub.constants.HF_HUB_DOWNLOAD_TIMEOUT
                                  ) as response:
            hf_raise_for_status(response)
            if response.status_code != 206:  # the whole file: start over
                have = 0
            with part.open("ab" if have else "wb", buffering=0) as handle, tqdm(
                    total=size, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                    desc=name, leave=False, disable=not self.progress) as bar:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
                    bar.update(len(chunk))

    def _call(self, fn: Callable[[], _T], what: str) -> _T:
        return _call(fn, endpoint=self.endpoint, what=what, retries=self.retries, wait=self.wait)


def _call(fn: Callable[[], _T], *, endpoint: str, what: str, retries: int, wait: float) -> _T:
    """Run a hub request; retry transient failures; turn the rest into one-line errors."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except (GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError) as exc:
            raise _repo_error(exc, endpoint, what) from None
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status not in TRANSIENT_STATUSES:
                raise _http_error(exc, endpoint, what) from None
            failure = f"HTTP {status}"
        except json.JSONDecodeError as exc:  # a 200 that is not hub JSON: a portal, a web server
            raise NotAMirrorError(
                f"{endpoint} answered, but not like a Hugging Face hub ({_reason(exc)}). "
                "Check the HF_ENDPOINT or --mirror URL (scheme, host, port, no extra path)."
            ) from None
        except Exception as exc:
            transport = _transport_error(exc)
            if transport is None:
                raise
            if transport == "ConnectError":
                raise MirrorUnreachableError(
                    f"Cannot connect to {endpoint} ({_reason(exc)}). {_connect_hint(endpoint)}"
                ) from None
            failure = _reason(exc)
        if attempt < retries:
            time.sleep(wait * 2**attempt)
    raise MirrorUnreachableError(
        f"{endpoint} kept failing for {what} ({failure}) after {retries + 1} tries. "
        "Run the same command again later (finished files are kept), or use another mirror."
    )


def _transport_error(exc: BaseException) -> str | None:
    """``"ConnectError"``, ``"TransportError"`` (timeouts, cuts), or None for other errors.

    huggingface_hub 1.x sends its requests with httpx, 2.x with httpx2; both
    name their exceptions alike, so the class names tell, without importing either.
    """
    names = {cls.__name__ for cls in type(exc).__mro__
             if cls.__module__.partition(".")[0] in ("httpx", "httpx2")}
    for name in ("ConnectError", "TransportError"):
        if name in names:
            return name
    return None


def _connect_hint(endpoint: str) -> str:
    if endpoint == constants.DEFAULT_ENDPOINT:
        return ("Check the internet connection, or use a mirror: set HF_ENDPOINT "
                "(e.g. https://hf-mirror.com) or pass --mirror.")
    return ("Check that the mirror is running and that HF_ENDPOINT or --mirror is right, "
            f"or unset HF_ENDPOINT to use {constants.DEFAULT_ENDPOINT}.")


def _repo_error(exc: Exception, endpoint: str, what: str) -> Exception:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, GatedRepoError) or status in (401, 403):
        return AuthenticationError(
            f"{endpoint} needs a valid token for {what}. Accept the model's terms on its hub "
            "page, then pass --token or set HF_TOKEN."
        )
    if isinstance(exc, RevisionNotFoundError):
        return RepoNotFoundError(f"{endpoint} has {what}, but not that revision: check --revision.")
    return RepoNotFoundError(
        f"{endpoint} does not know {what}. Check the spelling of the repository id "
        "(and --dataset for datasets)."
    )


def _http_error(exc: HfHubHTTPError, endpoint: str, what: str) -> Exception:
    response = exc.response
    content_type = response.headers.get("content-type", "") if response is not None else ""
    if "json" not in content_type and not (response is not None and
                                           response.headers.get("x-error-code")):
        return NotAMirrorError(
            f"{endpoint} answered HTTP {response.status_code if response is not None else '?'} "
            f"for {what}, and not like a Hugging Face hub. Check the HF_ENDPOINT or --mirror URL."
        )
    if response is not None and response.status_code in (401, 403):
        return _repo_error(exc, endpoint, what)
    if response is not None and response.status_code == 404:
        return RepoNotFoundError(f"{endpoint} has no {what} (HTTP 404).")
    return MirrorUnreachableError(f"{endpoint} refused {what}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
