"""Serve the bundled sample news sites, each on its own loopback address.

Every source in ``samples/sources.toml`` gets one ``ThreadingHTTPServer`` bound to the
host of its ``base_url`` (127.0.0.11, 127.0.0.12, ...). All sites share one port, so a
single ``AKHBAR_SAMPLES_PORT`` expands every ``base_url`` in the registry. Separate
hosts let Scrapy's offsite filter and robots.txt handling behave as on the real web.

Static files may contain ``{{BASE}}``; it is replaced on the bytes (so windows-1256
pages survive) by ``http://<ip>:<port>``. An optional ``_headers.toml`` in a site folder
maps a URL path to response headers that override the defaults.

    with SampleSites() as sites:          # free port
        sites.base_url("aljazeera")       # 'http://127.0.0.14:41234'
        os.environ.update(sites.env())    # AKHBAR_SAMPLES_PORT for the registry

    python -m akhbar.samples [--port P]

Without a server: ``load_truth()`` reads ``samples/truth.json`` and ``read_page(source,
url_path, base)`` returns a page's bytes exactly as served (for extraction tests).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import signal
import socket
import threading
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
PORT_ENV = "AKHBAR_SAMPLES_PORT"
PLACEHOLDER = b"{{BASE}}"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}

NOT_FOUND_PAGE = (
    b"<!DOCTYPE html><html lang='ar' dir='rtl'><head><meta charset='utf-8'>"
    b"<title>404 - \xd8\xa7\xd9\x84\xd8\xb5\xd9\x81\xd8\xad\xd8\xa9 \xd8\xba\xd9\x8a\xd8\xb1 "
    b"\xd9\x85\xd9\x88\xd8\xac\xd9\x88\xd8\xaf\xd8\xa9</title></head>"
    b"<body><h1>404</h1><p>Not Found</p></body></html>"
)


@dataclass(frozen=True)
class SiteSpec:
    name: str
    host: str
    base_url_template: str
    root: Path


def _expand(template: str, env: dict[str, str]) -> str:
    """Expand ``${VAR}`` from ``env`` (unknown variables are left as they are)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), template)


def load_specs(samples_dir: Path) -> list[SiteSpec]:
    with (samples_dir / "sources.toml").open("rb") as fh:
        registry = tomllib.load(fh)
    specs = []
    for src in registry.get("sources", []):
        # The host comes from base_url with the port variable set to a dummy value.
        host = urlsplit(_expand(src["base_url"], {PORT_ENV: "1"})).hostname
        if not host:
            raise ValueError(f"source {src['name']!r}: base_url has no host")
        specs.append(
            SiteSpec(src["name"], host, src["base_url"], samples_dir / "sites" / src["name"])
        )
    return specs


def _load_headers(root: Path) -> dict[str, dict[str, str]]:
    path = root / "_headers.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    return {unquote(k): {str(h): str(v) for h, v in hs.items()} for k, hs in data.items()}


def resolve(root: Path, url_path: str) -> Path | None:
    """The file that serves ``url_path`` (already percent-decoded) under a site folder."""
    root = root.resolve()
    target = (root / url_path.lstrip("/")).resolve()
    if target != root and root not in target.parents:
        return None  # no escaping the site folder with ../
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file() or target.name.startswith("_"):
        return None
    return target


def load_truth(samples_dir: Path | str | None = None) -> dict[str, dict[str, Any]]:
    """``samples/truth.json``: one entry per HTML page, keyed ``"<source><url_path>"``."""
    path = Path(samples_dir or DEFAULT_SAMPLES_DIR) / "truth.json"
    return json.loads(path.read_text(encoding="utf-8"))


def read_page(
    source: str, url_path: str, base: str, samples_dir: Path | str | None = None
) -> bytes:
    """A page's bytes as the server would send them, without a server (for extraction
    tests and benchmarks): ``{{BASE}}`` replaced by ``base``, e.g. ``http://127.0.0.14:8000``."""
    root = Path(samples_dir or DEFAULT_SAMPLES_DIR) / "sites" / source
    target = resolve(root, unquote(url_path))
    if target is None:
        raise FileNotFoundError(f"{source}{url_path}")
    return target.read_bytes().replace(PLACEHOLDER, base.encode())


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never wait for a slow client on shutdown

    def __init__(
        self,
        spec: SiteSpec,
        port: int,
        log: list[tuple[str, str]] | None,
        latency: float = 0.0,
    ) -> None:
        self.spec = spec
        self.latency = latency
        self.headers_map = _load_headers(spec.root)
        self.request_log = log
        self.open_sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__((spec.host, port), _Handler)
        self.base = f"http://{spec.host}:{self.server_address[1]}".encode()

    def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
        with self._lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):  # type: ignore[no-untyped-def]
        with self._lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close keep-alive connections a client left open, so no handler thread lingers."""
        with self._lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    server_version = "akhbar-samples/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, as crawlers expect
    timeout = 30  # an idle keep-alive connection is dropped after this many seconds

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # quiet: tests and the demo print their own output

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        if self.server.latency:
            time.sleep(self.server.latency)  # a distant server's response time
        url_path = unquote(urlsplit(self.path).path, errors="replace") or "/"
        log = self.server.request_log
        if log is not None:
            log.append((self.server.spec.name, self.path))
        target = resolve(self.server.spec.root, url_path)
        if target is None:
            body, status = NOT_FOUND_PAGE, HTTPStatus.NOT_FOUND
            headers = {"Content-Type": "text/html; charset=utf-8"}
        else:
            status = HTTPStatus.OK
            body = target.read_bytes().replace(PLACEHOLDER, self.server.base)
            ctype = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
            headers = {"Content-Type": ctype}
            overrides = self.server.headers_map.get(url_path) or self.server.headers_map.get(
                url_path.rstrip("/") or "/"
            )
            if overrides:
                headers.update(overrides)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class SampleSites:
    """All sample sites on one shared port; a context manager.

    ``port=0`` picks a port that is free on every site address. ``request_log`` (a list of
    ``(site name, raw request path)``) records every request, so a crawl test can check for
    example that a robots.txt ``Disallow`` was obeyed.
    """

    def __init__(
        self,
        port: int = 0,
        samples_dir: Path | str | None = None,
        *,
        record_requests: bool = True,
        latency: float = 0.0,
    ) -> None:
        self.samples_dir = Path(samples_dir) if samples_dir else DEFAULT_SAMPLES_DIR
        self.specs = {s.name: s for s in load_specs(self.samples_dir)}
        self._wanted_port = port
        self.latency = latency  # seconds each response waits (scale tests and benches)
        self._servers: list[_SiteServer] = []
        self._threads: list[threading.Thread] = []
        self._port: int | None = None
        self.request_log: list[tuple[str, str]] | None = [] if record_requests else None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> SampleSites:
        if self._servers:
            return self
        attempts = 1 if self._wanted_port else 20
        last_error: OSError | None = None
        for _ in range(attempts):
            port = self._wanted_port or _free_port(next(iter(self.specs.values())).host)
            try:
                self._bind_all(port)
            except OSError as exc:
                self._close_all()
                if exc.errno != errno.EADDRINUSE:
                    raise
                last_error = exc
                continue
            self._port = port
            break
        else:
            raise OSError(f"no port free on every sample address: {last_error}")
        for server in self._servers:
            t = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"samples-{server.spec.name}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.close_connections()
        for t in self._threads:
            t.join(timeout=5)
        self._close_all()
        self._threads = []
        self._port = None

    def __enter__(self) -> SampleSites:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _bind_all(self, port: int) -> None:
        for spec in self.specs.values():
            self._servers.append(_SiteServer(spec, port, self.request_log, self.latency))

    def _close_all(self) -> None:
        for server in self._servers:
            server.server_close()
        self._servers = []

    # -- accessors -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("SampleSites is not running")
        return self._port

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def host(self, name: str) -> str:
        return self.specs[name].host

    def env(self) -> dict[str, str]:
        return {PORT_ENV: str(self.port)}

    def base_url(self, name: str) -> str:
        return _expand(self.specs[name].base_url_template, {**os.environ, **self.env()})

    def url(self, name: str, path: str) -> str:
        return self.base_url(name) + "/" + path.lstrip("/")


def write_sitemap(
    site: Path,
    pages: Iterable[tuple[str, datetime | None]],
    robots: str = "User-agent: *\nAllow: /\n",
) -> None:
    """``sitemap.xml`` (and ``robots.txt``) of a generated site under ``site``: one ``<url>``
    per (path, last modified) in ``pages``; paths start with ``/`` and the ``{{BASE}}``
    placeholder is put in front, as in the sample sites' files."""
    urls = []
    for path, modified in pages:
        lastmod = f"<lastmod>{modified.isoformat()}</lastmod>" if modified else ""
        urls.append(f"<url><loc>{{{{BASE}}}}{path}</loc>{lastmod}</url>")
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(urls)
        + "\n</urlset>\n",
        encoding="utf-8",
    )
    (site / "robots.txt").write_text(robots, encoding="utf-8")


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the akhbar sample news sites.")
    parser.add_argument("--port", type=int, default=0, help="shared port (default: a free one)")
    parser.add_argument("--dir", default=None, help="samples folder (default: the repository's)")
    args = parser.parse_args(argv)
    sites = SampleSites(port=args.port, samples_dir=args.dir, record_requests=False).start()
    signal.signal(signal.SIGTERM, _raise_interrupt)  # stop cleanly when a demo terminates us
    try:
        print(f"export {PORT_ENV}={sites.port}")
        print(f"export AKHBAR_SOURCES={sites.samples_dir / 'sources.toml'}")
        for name in sites.names:
            print(f"{name:12} {sites.base_url(name)}/")
        print("Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sites.stop()


if __name__ == "__main__":
    main()
