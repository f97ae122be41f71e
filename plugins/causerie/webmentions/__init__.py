"""Webmentions: readers' replies, likes and reposts as moderated comments.

The receiver side of the W3C Webmention Recommendation (2017), plus the form
for readers without a website, moderation, and the Pelican side that shows
approved mentions under each post.

- :mod:`.store`, :mod:`.schema` — the mention store (SQLite or PostgreSQL)
- :mod:`.fetch` — the one guarded HTTP client of the project
- :mod:`.verify`, :mod:`.sanitize` — pure: a fetched source → a mention or a reason
- :mod:`.worker` — the verification queue
- :mod:`.app` — the HTTP service: endpoint, comment form, moderation pages
- :mod:`.render` — the Pelican plugin: mentions into posts, conversation feeds
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
    from .store import Store, _now

    url = config(settings).database_url(site_dir(settings))
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url[len("sqlite:///") :]) or ".", exist_ok=True)
    return Store.open(url, clock or _now)


def register() -> None:
    from .render import connect_signals

    connect_signals()
