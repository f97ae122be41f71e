"""Real parts for the sending tests: the scripted target server as its own
process (tests/target_server.py) and a small site of our own around it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import receiver_kit
from conftest import ROOT, stop_process

#: The target server's address: the only one the sender may reach in tests
#: (FetchPolicy.allow_networks); 127.0.0.1 stays refused, as on the Internet.
TARGET_HOST = "127.0.0.2"
SITEURL = "http://blog.test"


class TargetServer:
    """tests/target_server.py as a real process, stopped by its PID."""

    def __init__(self, workdir: Path, host: str = TARGET_HOST) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.routes_file = workdir / "routes.json"
        self.log_file = workdir / "received.jsonl"
        self.routes: dict[str, Any] = {}
        self.save()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "target_server.py"),
                host,
                str(self.routes_file),
                str(self.log_file),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            stop_process(self.proc)
            raise RuntimeError(f"target server did not start: {line!r}")
        self.base = f"http://{host}:{int(line)}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, **route: Any) -> str:
        """Set the answer of ``path``; returns its absolute URL."""
        self.routes[path] = route
        self.save()
        return self.url(path)

    def page(self, path: str, body: str = "", **route: Any) -> str:
        return self.route(path, body=body, **route)

    def save(self) -> None:
        tmp = self.routes_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.routes), encoding="utf-8")
        tmp.replace(self.routes_file)  # atomic: the server never reads half

    def received(self) -> list[dict[str, Any]]:
        if not self.log_file.exists():
            return []
        lines = self.log_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]

    def pairs(self) -> set[tuple[str, str]]:
        return {(r["source"], r["target"]) for r in self.received()}

    def clear(self) -> None:
        self.log_file.unlink(missing_ok=True)

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture
def remote_sites(tmp_path: Path) -> Iterator[TargetServer]:
    """Other people's sites: every page advertises one endpoint, /e/wm,
    which accepts (202) and records every webmention."""
    srv = TargetServer(tmp_path / "targets")
    srv.route("*", body="<p>a page</p>", headers=[["Link", "</e/wm>; rel=webmention"]])
    srv.route("/e/wm", post=[{"status": 202}])
    yield srv
    srv.stop()


def write_blog(root: Path, posts: dict[str, str], **webmentions: Any) -> Path:
    """A site of our own in ``root``: content/posts/<name>.md for each post
    (given whole, metadata included), the demo's theme and plugins, its own
    store; returns its settings file."""
    content = root / "content"
    (content / "posts").mkdir(parents=True, exist_ok=True)
    (content / "pages").mkdir(exist_ok=True)
    (content / "authors.toml").write_text(
        (ROOT / "content" / "authors.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    if (ROOT / "content" / "images").is_dir():
        import shutil

        shutil.copytree(
            ROOT / "content" / "images", content / "images", dirs_exist_ok=True
        )
    for name, text in posts.items():
        (content / "posts" / f"{name}.md").write_text(text, encoding="utf-8")
    return write_settings(root, content, **webmentions)


def write_settings(root: Path, content: Path, **webmentions: Any) -> Path:
    return receiver_kit.write_settings(
        root,
        content,
        {
            "database": f"sqlite:///{root / 'var' / 'mentions.sqlite3'}",
            "service_url": "http://127.0.0.1:8081",
            "fetch_allow_networks": [f"{TARGET_HOST}/32"],
            "notify": False,
            **webmentions,
        },
    )


def post(slug: str, body: str, title: str = "Un billet", **meta: str) -> str:
    """A post's Markdown, with its metadata."""
    lines = [
        f"Title: {title}",
        "Date: 2026-10-01 10:00",
        "Author: Léa Marchetti",
        "Category: Conversation",
        "Lang: fr",
        f"Slug: {slug}",
        *(f"{k.replace('_', '-').title()}: {v}" for k, v in meta.items()),
        "",
        body,
        "",
    ]
    return "\n".join(lines)
