"""Bringing an old blog along: Blogger, WordPress or any feed, with comments.

- :mod:`.blogger`, :mod:`.wordpress`, :mod:`.feed` — pure streaming parsers:
  an export file → :mod:`.model` events (posts, pages, comments, authors,
  attachments, problems), XML read safely (:mod:`.xmlsafe`);
- :mod:`.convert` — pure: an item → a post file's text, its images, its
  redirects;
- :mod:`.run` — the adapter: files in content/, authors in the registry,
  comments in the mention store, images from a folder or the guarded fetch;
- :mod:`.redirects` — old addresses → static redirect pages and nginx maps;
- :mod:`.plugin` — the Pelican side: imported posts' HTML sanitized, the
  redirect pages and maps written by each build.
"""

from __future__ import annotations

from .settings import ImportSettings, config

__all__ = ["ImportSettings", "config", "register"]


def register() -> None:
    from .plugin import connect_signals

    connect_signals()
