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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from causerie.settings import site_dir
from causerie.webmentions.settings import WebmentionSettings, config, var_dir

if TYPE_CHECKING:
    from causerie.webmentions.store import Store

__all__ = [
    "WebmentionSettings",
    "config",
    "open_store",
    "register",
    "site_dir",
    "var_dir",
]


def open_store(
    settings: dict[str, Any], clock: Callable[[], dt.datetime] | None = None
) -> Store:
    """Open (and migrate) the mention store of Pelican ``settings`` (see
    :func:`causerie.webmentions.store.open_store`; imported here only when
    called, so that ``import causerie.webmentions`` stays light)."""
    from causerie.webmentions import store

    return store.open_store(settings, clock)


def register() -> None:
    """Pelican's entry point (PLUGINS = ["causerie.webmentions"]); the
    handlers are in :mod:`.plugin`, imported only when a build asks."""
    from causerie.webmentions import plugin

    plugin.register()
