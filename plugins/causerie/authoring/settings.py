"""``AUTHORING`` settings: who writes, and where posts go."""

from __future__ import annotations

from dataclasses import dataclass

from causerie.errors import SettingsError


@dataclass(frozen=True)
class AuthoringSettings:
    """The ``AUTHORING`` dict of pelicanconf.py, with its defaults."""

    #: The authors registry, relative to the content directory (PATH).
    registry: str = "authors.toml"
    #: Slug or name of the author used by ``publish new`` without ``--author``.
    default_author: str | None = None
    #: Where ``publish new`` writes posts, relative to the content directory.
    posts_dir: str = "posts"
    #: Languages a post may be written in (``Lang:``); the first is the default.
    languages: tuple[str, ...] = ("fr", "en")

    def __post_init__(self) -> None:
        if not self.languages:
            raise SettingsError("languages must list at least one language code")
