"""Claims of every lesson, on any profile: what no published page may show."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..lessons import LESSONS_DIR, WORKDIR_PREFIX
from . import EVERY_LESSON, claim, excerpt

_WORKDIR = re.compile(re.escape(WORKDIR_PREFIX) + r"[^\s/\\'\"<>]*")
_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+")


def _spellings(path: str | Path) -> list[str]:
    """A folder as a page could show it: as given and with links resolved, no trailing slash."""
    found = []
    for form in (str(path), os.path.realpath(path)):
        form = form.rstrip("/\\")
        if form and form not in found:
            found.append(form)
    return found


def local_folders() -> list[tuple[str, list[str]]]:
    """``(what, spellings)`` of this machine's folders that no output may contain, the most
    specific first: the twins' cache, ``EXPLAINLAB_HOME``, the course repository, the user's
    home. Read when called (``EXPLAINLAB_HOME`` as ``constants`` reads it)."""
    from explainlab import constants

    folders = [("the twins' cache", constants.HOME / "twins"),
               ("EXPLAINLAB_HOME", constants.HOME),
               ("the course repository", LESSONS_DIR.parent),
               ("the user's home", Path(os.path.expanduser("~")))]
    return [(what, _spellings(path)) for what, path in folders]


def output_texts(output: Any) -> list[str]:
    """The text an output would put on a page: streams, errors, and every textual MIME type
    (images are left out; base64 data inside HTML is cut out)."""
    kind = output.get("output_type")
    if kind == "stream":
        texts = [output.get("text", "")]
    elif kind == "error":
        texts = [output.get("ename", ""), output.get("evalue", ""),
                 *output.get("traceback", [])]
    else:
        texts = [value for mime, value in output.get("data", {}).items()
                 if not mime.startswith("image/") or mime == "image/svg+xml"]
    joined = [t if isinstance(t, str) else "".join(t) if isinstance(t, list) else str(t)
              for t in texts]
    return [_DATA_URI.sub("data:...", t) for t in joined]


def _line_with(text: str, start: int) -> str:
    begin = text.rfind("\n", 0, start) + 1
    end = text.find("\n", start)
    return text[begin:end if end >= 0 else len(text)]


@claim(EVERY_LESSON, profiles=None)
def no_machine_local_paths(nb):
    """No output shows a folder of the machine that ran the lesson (EXPLAINLAB_HOME, the twins'
    cache, the repository, the user's home, the lesson's temporary working directory)."""
    folders = local_folders()
    found = []
    for index, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            for text in output_texts(output):
                hit = next(((what, form, text.find(form)) for what, forms in folders
                            for form in forms if form in text), None)
                if hit is None:
                    match = _WORKDIR.search(text)
                    if match:
                        hit = ("the lesson's temporary working directory", match[0],
                               match.start())
                if hit is not None:
                    what, form, start = hit
                    found.append(f"cell {index} shows {what} ({form}):\n"
                                 f"{excerpt(_line_with(text, start), 300)}")
                    break
    if found:
        raise AssertionError(
            "expected no folder of this machine in any output (print a role, a hub id or a "
            "file name instead); " + "; ".join(found))
