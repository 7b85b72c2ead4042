"""A real HTTP server on loopback that speaks the part of the hub API downloads use.

It serves repositories held in memory, and can misbehave on purpose: fail a
request a few times, serve corrupted bytes, stall or cut a transfer, list a
path that escapes the download folder, ask for a token. Every request is
logged, so tests can assert on what the client really sent.

Run it by hand with ``python tests/hubmirror.py --port 8090 DIR`` to serve the
files of DIR as the model repo ``local/DIR-NAME``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".bin", ".safetensors", ".model", ".pt")


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    files: dict[str, bytes]
    repo_type: str = "model"
    gated_token: str | None = None  # if set, every request must carry this bearer token

    def is_lfs(self, path: str) -> bool:
        return path.endswith(LFS_SUFFIXES)

    @property
    def sha(self) -> str:
        digest = hashlib.sha1()
        for path in sorted(self.files):
            digest.update(path.encode() + b"\0" + self.files[path])
        return digest.hexdigest()

    def etag(self, path: str) -> str:
        data = self.files[path]
        return hashlib.sha256(data).hexdigest() if self.is_lfs(path) else git_blob_sha1(data)

    def sibling(self, path: str) -> dict:
        data = self.files[path]
        entry = {"rfilename": path, "size": len(data), "blobId": git_blob_sha1(data)}
        if self.is_lfs(path):
            entry["lfs"] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                            "pointerSize": 130}
        return entry


@dataclass
class Faults:
    """Misbehaviour, keyed by file path (or ``"api"`` for the listing)."""

    fail: dict[str, list[int]] = field(default_factory=dict)  # statuses to answer, one per request
    corrupt: set[str] = field(default_factory=set)  # serve flipped bytes
    stall_after: dict[str, int] = field(default_factory=dict)  # send N bytes, then hang
    cut_after: dict[str, int] = field(default_factory=dict)  # send N bytes, then close (once)
    extra_siblings: list[dict] = field(default_factory=list)  # entries added to the listing
    not_a_hub: bool = False  # answer every request with an HTML page
    portal: bool = False  # answer every request 200 with an HTML login page (a captive portal)
    names_only: bool = False  # list file names without sizes or digests, as olah offline does
    xet: bool = False  # announce files as Xet-stored, as the real hub does


class HubMirror:
    """The server; use as a context manager, ``url`` is its endpoint."""

    def __init__(self, repos: dict[str, Repo] | None = None, port: int = 0):
        self.repos: dict[str, Repo] = dict(repos or {})
        self.faults = Faults()
        self.log: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubMirror:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def requests(self, method: str | None = None, contains: str = "") -> list[dict]:
        with self._lock:
            return [r for r in self.log
                    if (method is None or r["method"] == method) and contains in r["path"]]

    def take_failure(self, key: str) -> int | None:
        with self._lock:
            queue = self.faults.fail.get(key)
            return queue.pop(0) if queue else None


def _handler_for(mirror: HubMirror):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            return

        def do_HEAD(self) -> None:
            self._route(body=False)

        def do_GET(self) -> None:
            self._route(body=True)

        # -- plumbing -------------------------------------------------------
        def _send(self, status: int, payload: bytes = b"", headers: dict | None = None,
                  body: bool = True, content_type: str = "application/json") -> None:
            self.send_response(status)
            headers = {"Content-Length": str(len(payload)), **(headers or {})}
            self.send_header("Content-Type", content_type)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def _error(self, status: int, code: str, message: str, body: bool) -> None:
            payload = json.dumps({"error": message}).encode()
            self._send(status, payload, {"X-Error-Code": code, "X-Error-Message": message}, body)

        def _route(self, body: bool) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            with mirror._lock:
                mirror.log.append({"method": self.command, "path": path,
                                   "range": self.headers.get("Range"),
                                   "authorization": self.headers.get("Authorization")})
            if mirror.faults.portal:
                page = b"<html><body>Log in to the campus network</body></html>"
                self._send(200, page, body=body, content_type="text/html")
                return
            if mirror.faults.not_a_hub:
                page = b"<html><body>Welcome to nginx!</body></html>"
                self._send(200 if path == "/" else 404, page, body=body, content_type="text/html")
                return
            if path.startswith("/api/"):
                self._api(path, parse_qs(parts.query), body)
            elif "/resolve/" in path:
                self._resolve(path, body)
            else:
                self._error(404, "NotFound", f"no route for {path}", body)

        def _repo(self, repo_type: str, repo_id: str, body: bool) -> Repo | None:
            repo = mirror.repos.get(repo_id)
            if repo is None or repo.repo_type != repo_type:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found", body)
                return None
            if repo.gated_token:
                sent = self.headers.get("Authorization", "")
                if sent != f"Bearer {repo.gated_token}":
                    self._error(401, "GatedRepo", "Access to this repo is restricted", body)
                    return None
            return repo

        # -- /api/{models,datasets}/{id}/revision/{rev} and /tree/{rev} -----
        def _api(self, path: str, query: dict, body: bool) -> None:
            status = mirror.take_failure("api")
            if status:
                self._error(status, "Transient", "try again later", body)
                return
            kind, _, rest = path[len("/api/"):].partition("/")
            repo_type = {"models": "model", "datasets": "dataset"}.get(kind)
            marker = "/tree/" if "/tree/" in rest else "/revision/"
            repo_id, _, revision = rest.partition(marker)
            if repo_type is None or not repo_id:
                self._error(404, "NotFound", f"no route for {path}", body)
                return
            repo = self._repo(repo_type, repo_id, body)
            if repo is None:
                return
            siblings = [repo.sibling(p) for p in sorted(repo.files)]
            siblings += mirror.faults.extra_siblings
            if marker == "/revision/":
                if mirror.faults.names_only:
                    siblings = [{"rfilename": s["rfilename"]} for s in siblings]
                info = {"id": repo_id, "sha": repo.sha, "siblings": siblings,
                        "private": False, "gated": bool(repo.gated_token)}
                self._send(200, json.dumps(info).encode(), body=body)
                return
            tree = [{"type": "file", "path": s["rfilename"], "size": s["size"],
                     "oid": s["blobId"],
                     **({"lfs": {"oid": s["lfs"]["sha256"], "size": s["lfs"]["size"]}}
                        if "lfs" in s else {})}
                    for s in siblings]
            self._send(200, json.dumps(tree).encode(), body=body)

        # -- /{id}/resolve/{rev}/{path} --------------------------------------
        def _resolve(self, path: str, body: bool) -> None:
            head, _, tail = path.partition("/resolve/")
            repo_type = "dataset" if head.startswith("/datasets/") else "model"
            repo_id = head.removeprefix("/datasets/").lstrip("/")
            _revision, _, filename = tail.partition("/")
            repo = self._repo(repo_type, repo_id, body)
            if repo is None:
                return
            status = mirror.take_failure(filename)
            if status:
                self._error(status, "Transient", "try again later", body)
                return
            if filename not in repo.files:
                self._error(404, "EntryNotFound", f"{filename} does not exist", body)
                return
            data = repo.files[filename]
            if filename in mirror.faults.corrupt:
                data = bytes(b ^ 0xFF for b in data[:16]) + data[16:]
            start = 0
            wanted = self.headers.get("Range", "")
            if wanted.startswith("bytes=") and wanted.endswith("-"):
                start = int(wanted[len("bytes="):-1])
            headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{repo.etag(filename)}"',
                       "Accept-Ranges": "bytes"}
            if mirror.faults.xet:
                headers["X-Xet-Hash"] = hashlib.sha256(data).hexdigest()
                headers["X-Xet-Refresh-Route"] = f"/api/models/{repo_id}/xet-read-token/{repo.sha}"
            status_code = 200
            if start:
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                status_code = 206
            payload = data[start:]
            if not body:
                self._send(status_code, b"", headers | {"Content-Length": str(len(payload))},
                           body=False, content_type="application/octet-stream")
                return
            self.send_response(status_code)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self._stream(filename, payload)

        def _stream(self, filename: str, payload: bytes) -> None:
            stall = mirror.faults.stall_after.get(filename)
            cut = mirror.faults.cut_after.pop(filename, None)
            limit = min(x for x in (stall, cut, len(payload)) if x is not None)
            self.wfile.write(payload[:limit])
            self.wfile.flush()
            if stall is not None and limit < len(payload):
                while not mirror._stop.wait(0.1):  # hang until the client gives up
                    pass
                return
            if cut is not None and limit < len(payload):
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(payload[limit:])

    return Handler


def repo_from_folder(folder: Path) -> Repo:
    files = {str(p.relative_to(folder)): p.read_bytes()
             for p in sorted(folder.rglob("*")) if p.is_file()}
    return Repo(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    repo_id = f"local/{args.folder.resolve().name}"
    with HubMirror({repo_id: repo_from_folder(args.folder)}, port=args.port) as mirror:
        print(f"serving {repo_id} at {mirror.url}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
