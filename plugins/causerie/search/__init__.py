"""Static search: a Pagefind index of the built site, and its search pages.

- :mod:`.settings` — the ``SEARCH`` dict
- :mod:`.core` — pure: which pages are indexed, where the search pages go,
  the indexer's command line, how a new index replaces the old one
- :mod:`.indexer` — runs Pagefind on the output; in the background for
  ``publish watch``
- :mod:`.plugin` — the Pelican side: the search pages, what the theme
  needs, indexing after a build
"""

from __future__ import annotations

from typing import Any

from causerie.settings import read_section

from .indexer import SearchError
from .settings import SearchSettings

__all__ = ["SearchError", "SearchSettings", "config", "register"]


def config(settings: dict[str, Any]) -> SearchSettings:
    """The validated ``SEARCH`` dict of Pelican ``settings``."""
    return read_section(settings, "SEARCH", SearchSettings)


def register() -> None:
    from .plugin import connect

    connect()
