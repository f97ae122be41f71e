"""Authoring: the authors registry, new posts and the content linter (a Pelican plugin).

- loads and validates ``AUTHORING['registry']`` once per build;
- gives templates the ``author_card`` filter (Pelican Author → registry entry);
- skips, with a warning naming the file, any post signed by an unknown author.
"""

from __future__ import annotations

from .check import check_site
from .lint import Problem
from .registry import (
    Author,
    AuthoringError,
    AuthorsError,
    Registry,
    load_registry,
    registry_for,
)
from .scaffold import NewPost, new_post, write_new_post
from .settings import AuthoringSettings

__all__ = [
    "Author",
    "AuthoringError",
    "AuthoringSettings",
    "AuthorsError",
    "NewPost",
    "Problem",
    "Registry",
    "check_site",
    "load_registry",
    "new_post",
    "register",
    "registry_for",
    "write_new_post",
]


def register() -> None:
    """Pelican's entry point (PLUGINS = ["causerie.authoring"]); the
    handlers are in :mod:`.plugin`."""
    from . import plugin

    plugin.register()
