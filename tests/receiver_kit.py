"""Real servers for the receiver tests: source pages on 127.0.0.2, the
receiver as a `publish mentions serve` process, a site directory around them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from conftest import ROOT, stop_process

SOURCE_HOST = "127.0.0.2"  # the only address the receiver's fetcher may reach
SITEURL = "http://blog.test"
POST = f"{SITEURL}/posts/2025/nos-clients-parlent-plus-fort/"
OTHER_POST = f"{SITEURL}/posts/2026/aube-six-mois-apres/"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Page:
    body: str | bytes = ""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class SourceServer:
    """A real HTTP server whose pages the tests set and change."""

    def __init__(self, host: str = SOURCE_HOST) -> None:
        self.pages: dict[str, Page] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = pages.get(
                    self.path.split("?")[0], Page("not found", 404, "text/plain")
                )
                if page.delay:
                    time.sleep(page.delay)
                body = (
                    page.body
                    if isinstance(page.body, bytes)
                    else page.body.encode("utf-8")
                )
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in page.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def reply(
        self, path: str, target: str, text: str = "Belle lampe !", author: str = "Alice"
    ) -> str:
        """Serve an h-entry reply to ``target`` at ``path``; return its URL."""
        self.pages[path] = Page(
            f"""<!doctype html><html><head><title>Re</title></head><body>
            <article class="h-entry">
              <a class="p-author h-card" href="{self.base}/">{author}</a>
              <a class="u-in-reply-to" href="{target}">en réponse</a>
              <time class="dt-published" datetime="2026-11-20T10:00:00+01:00">20 nov.</time>
              <div class="e-content"><p>{text}</p></div>
              <a class="u-url" href="{self.base}{path}">lien</a>
            </article></body></html>"""
        )
        return self.url(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_site(root: Path, **webmentions: Any) -> Path:
    """A site directory using the demo's content and theme; returns its settings file."""
    return write_settings(
        root,
        ROOT / "content",
        {
            "database": f"sqlite:///{root / 'var' / 'mentions.sqlite3'}",
            "service_url": "http://127.0.0.1:8081",
            "fetch_allow_networks": [f"{SOURCE_HOST}/32"],
            "rate_limit_per_minute": 10_000,
            "retry_delay": 1,
            "notify": False,
            **webmentions,
        },
    )


def write_settings(root: Path, content: Path, webmentions: dict[str, Any]) -> Path:
    """pelicanconf.py for a test site in ``root``: the demo's settings, with
    ``content``, the demo's theme, its own output, blog.test as SITEURL, a
    fixed build date, the webmentions plugin and ``webmentions``."""
    root.mkdir(parents=True, exist_ok=True)
    conf = (ROOT / "pelicanconf.py").read_text(encoding="utf-8")
    conf += f"""
PATH = {str(content)!r}
THEME = {str(ROOT / "theme")!r}
OUTPUT_PATH = {str(root / "output")!r}
SITEURL = {SITEURL!r}
FEED_DOMAIN = SITEURL
SITEBUILD = {{"now": "2026-11-23T12:00:00+01:00"}}
if "causerie.webmentions" not in PLUGINS:
    PLUGINS = [*PLUGINS, "causerie.webmentions"]
WEBMENTIONS = {webmentions!r}
"""
    settings = root / "pelicanconf.py"
    settings.write_text(conf, encoding="utf-8")
    return settings


class Receiver:
    """`publish mentions serve` as a real process."""

    def __init__(self, settings: Path, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.endpoint = self.url + "/webmention"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.log = settings.parent / f"receiver-{self.port}.log"

    def start(self) -> Receiver:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "publish.py"),
                "--settings",
                str(self.settings),
                "mentions",
                "serve",
                "--port",
                str(self.port),
            ],
            cwd=self.settings.parent,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        wait_until(
            lambda: requests.get(self.url + "/healthz", timeout=2).ok, 30, self.describe
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, as in a crash."""
        assert self.proc
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc)

    def send(self, source: str, target: str) -> requests.Response:
        return requests.post(
            self.endpoint, data={"source": source, "target": target}, timeout=10
        )

    def describe(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else "(no log)"


def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 30.0,
    explain: Callable[[], str] | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, requests.RequestException):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out" + (f"\n{explain()}" if explain else ""))
        time.sleep(0.1)
