"""Webmentions: readers' replies, likes and reposts as moderated comments.

The receiver side of the W3C Webmention Recommendation (2017), the form for
readers without a website, moderation, the Pelican side that shows approved
mentions under each post, and the sender side for our own links.

The floor every wing stands on (pure, or the one HTTP client):

- :mod:`.model` — the mention as the store keeps it
- :mod:`.sanitize`, :mod:`.logtext` — outside text made safe to store, show, log
- :mod:`.fetch` — the one guarded HTTP client of the project
- :mod:`.settings`, :mod:`.errors` — ``WEBMENTIONS`` settings and the errors

The wings, one per flow:

- :mod:`.receiver` — the HTTP service (endpoint, comment form, /admin), how it runs
- :mod:`.verify` — the queue: a source fetched, verified, moderated, its author told
- :mod:`.store` — the mention store (SQLite or PostgreSQL): tables, migrations, writer
- :mod:`.site` — the Pelican side: mentions into posts, conversation feeds
- :mod:`.send` — sending webmentions for the links in our posts
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from causerie.settings import read_section, site_dir

from .settings import WebmentionSettings

__all__ = ["WebmentionSettings", "config", "open_store", "register", "site_dir"]


def config(settings: dict[str, Any]) -> WebmentionSettings:
    """The validated ``WEBMENTIONS`` dict of Pelican ``settings``."""
    return read_section(settings, "WEBMENTIONS", WebmentionSettings)


def var_dir(settings: dict[str, Any]) -> str:
    """Where the receiver keeps its files (the SQLite store, avatars)."""
    return os.path.join(site_dir(settings), "var")


def open_store(
    settings: dict[str, Any], clock: Callable[[], dt.datetime] | None = None
) -> Any:
    """Open (and migrate) the mention store named by Pelican ``settings``."""
    from causerie.webmentions.store.mention_store import Store, _now

    url = config(settings).database_url(site_dir(settings))
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url[len("sqlite:///") :]) or ".", exist_ok=True)
    return Store.open(url, clock or _now)


def register() -> None:
    from causerie.webmentions.site.render import connect_signals

    connect_signals()
