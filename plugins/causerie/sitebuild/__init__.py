"""Sitebuild: building, previewing and scheduling the site (a Pelican plugin).

The plugin half (:mod:`.plugin` connects it) holds back scheduled posts and
drops duplicate URLs (:mod:`.lists`), gives each post its reading time and
related posts (:mod:`.enrich`), reads Markdown once per text
(:mod:`.markdown_reader`, :mod:`.prefetch`, :mod:`.content_cache`) and
writes pages on every core (:mod:`.writer`). The library half
(:mod:`.build`, :mod:`.serve`, :mod:`.watch` and its :mod:`.fastpath`) is
what ``publish build``, ``serve`` and ``watch`` call.
"""

from __future__ import annotations

from .settings import SitebuildSettings, config

__all__ = ["SitebuildSettings", "config", "register"]


def register() -> None:
    """Pelican's entry point (PLUGINS = ["causerie.sitebuild"]); the
    handlers are in :mod:`.plugin`, the work in the modules it names."""
    from . import plugin

    plugin.register()
