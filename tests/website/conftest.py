"""Site fixtures: the course site built with both configurations into a temporary folder,
served on loopback, and Debian's chromium driven by Playwright.

The build is the real one (``mkdocs build --strict`` with the hook), against the shared
cache of twins and executed lessons (``TWIN_HOME``), so after ``make site`` it runs no lesson.
Screenshots go to ``test-output/site/``.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import TWIN_HOME

ROOT = Path(__file__).resolve().parents[2]
LANGS = ("en", "zh")
SHOTS = ROOT / "test-output" / "site"
CHROMIUM = os.environ.get("EXPLAINLAB_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def load_hook():
    """docs/hooks/explainlab_site.py as a module (MkDocs loads it by path, so do we)."""
    path = ROOT / "docs" / "hooks" / "explainlab_site.py"
    spec = importlib.util.spec_from_file_location("explainlab_site_hook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def repo_url() -> str:
    """The repository of pyproject.toml (``[project.urls] Repository``), read here
    independently of the hook."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r"^Repository = \"(\S+)\"", text, re.M)[1]


def lesson_slugs(lang: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / "lessons" / lang).glob("[0-9][0-9]_*.py"))


def expected_pages() -> list[tuple[str, str]]:
    """``(lang, path)`` of every page the site must have: docs pages and lessons."""
    pages = []
    for lang in LANGS:
        for md in sorted((ROOT / "docs" / lang).glob("*.md")):
            pages.append((lang, "" if md.stem == "index" else f"{md.stem}/"))
        pages += [(lang, f"lessons/{slug}/") for slug in lesson_slugs(lang)]
    return pages


def url_path(lang: str, path: str) -> str:
    """The page's path below the site root (English at the top, Chinese under zh/)."""
    return ("" if lang == "en" else "zh/") + path


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Both languages built with ``--strict`` (English at the top, Chinese in ``zh/``)."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "EXPLAINLAB_PROFILE": "offline", "EXPLAINLAB_HOME": str(TWIN_HOME),
           "NO_MKDOCS_2_WARNING": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    for config, dest in (("mkdocs.yml", out), ("mkdocs.zh.yml", out / "zh")):
        done = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
             "--config-file", config, "--site-dir", str(dest)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
        if done.returncode:
            pytest.fail(f"mkdocs build -f {config} failed:\n{done.stdout}\n{done.stderr}")
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(built_site):
    """The built site served on loopback; yields its base address (ends with ``/``)."""
    handler = functools.partial(_Quiet, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright (no browser download, no network)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make test-tools` (scripts/ensure-test-tools.sh).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: install the dev extra (`make install`).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """A browser page that records what a reader's visit would reveal.

    ``console_errors`` and ``page_errors`` (uncaught exceptions), ``foreign`` (requests to
    any host but the local server: aborted, never sent), ``failed`` (local responses >= 400
    and failed requests).
    """

    def __init__(self, browser, base: str, **context):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._request_failed)
        self.page.route("**/*", self._route)

    def _console(self, message):
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def _response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def _request_failed(self, request):
        if request.url.startswith(self.base):
            self.failed.append(f"{request.failure} {request.url}")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def goto(self, path: str):
        self.page.goto(self.base + path, wait_until="networkidle")
        return self.page

    def problems(self) -> list[str]:
        return ([f"console error: {m}" for m in self.console_errors]
                + [f"uncaught: {m}" for m in self.page_errors]
                + [f"request to another host: {u}" for u in self.foreign]
                + [f"failed: {u}" for u in self.failed])

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site_url):
    """``visit()`` opens a fresh browser context on the served site; closed after the test."""
    opened = []

    def open_visit(**context) -> Visit:
        opened.append(Visit(browser, site_url, **context))
        return opened[-1]

    yield open_visit
    for v in opened:
        v.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
