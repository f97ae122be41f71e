"""`publish serve --mentions` shows the store's changes without a restart
(issue 13 item 11), as `publish watch` does.

The real `publish serve --mentions` process on a copy of the demo with its
own store; the moderator approves from another shell (`publish mentions
approve`, a second process), then the source is updated and deleted (as the
receiver records them); each time the served page is polled until it shows
the change, within a generous bound.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, stop_process
from receiver_kit import free_port, wait_until, write_site

from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store

PAGE = "/posts/2025/pourquoi-un-blog/"
SOURCE = "https://nadia.example/notes/1"
#: A bound for a rebuild to show, not a speed requirement.
SHOWN_WITHIN = 120.0


@dataclass
class Served:
    url: str
    settings: Path
    store: Store
    log: Path

    def page(self) -> str:
        with urllib.request.urlopen(self.url + PAGE, timeout=10) as response:
            return str(response.read().decode("utf-8"))

    def describe(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def publish(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                str(ROOT / "publish.py"),
                "--settings",
                str(self.settings),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.settings.parent,
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    root = tmp_path / "site"
    receiver_port = free_port()
    settings = write_site(
        root,
        host="127.0.0.1",
        port=receiver_port,
        service_url=f"http://127.0.0.1:{receiver_port}",
    )
    # Opened before the process starts: nothing between Popen and the
    # try below may raise, or the process would outlive the test.
    (root / "var").mkdir(exist_ok=True)
    store = Store.open(f"sqlite:///{root / 'var' / 'mentions.sqlite3'}")
    port = free_port()
    log = root / "serve.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "publish.py"),
            "--settings",
            str(settings),
            "serve",
            "--mentions",
            "--port",
            str(port),
        ],
        cwd=root,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    running = Served(url, settings, store, log)
    try:
        wait_until(lambda: "Pourquoi" in running.page(), SHOWN_WITHIN, running.describe)
        # The receiver is up too (it shares the process).
        wait_until(
            lambda: (
                urllib.request.urlopen(
                    f"http://127.0.0.1:{receiver_port}/healthz", timeout=5
                ).status
                == 200
            ),
            SHOWN_WITHIN,
            running.describe,
        )
        yield running
    finally:
        stop_process(proc)
        store.engine.dispose()


def comment(served: Served, text: str) -> int:
    """A comment pending on PAGE (as the form stores one); its ID."""
    return served.store.add_verified(
        SOURCE,
        served.url + PAGE,  # the preview's SITEURL is its own address
        model.WEBMENTION,
        {
            "kind": "reply",
            "author_name": "Nadia Servie",
            "author_url": "https://nadia.example/",
            "content_html": f"<p>{text}</p>",
            "content_text": text,
            "published": dt.datetime(2026, 11, 22, 18, 0, tzinfo=dt.UTC),
        },
    )


def test_store_changes_show_without_a_restart(served: Served) -> None:
    mention = comment(served, "Première version du commentaire.")
    assert "Nadia Servie" not in served.page()  # pending: not shown

    # Approved from another shell, with no on_approve hook configured.
    approved = served.publish("mentions", "approve", str(mention))
    assert approved.returncode == 0, approved.stderr
    wait_until(
        lambda: "Première version du commentaire." in served.page(),
        SHOWN_WITHIN,
        served.describe,
    )

    # The source was edited: the receiver records the new content.
    assert comment(served, "Version corrigée du commentaire.") == mention
    wait_until(
        lambda: "Version corrigée du commentaire." in served.page(),
        SHOWN_WITHIN,
        served.describe,
    )

    # The source is gone (410): the mention is marked deleted.
    served.store.failed(mention, "the source answered 410", deleted=True)
    wait_until(
        lambda: "Nadia Servie" not in served.page(), SHOWN_WITHIN, served.describe
    )
    assert "Changed: comments" in served.describe()
