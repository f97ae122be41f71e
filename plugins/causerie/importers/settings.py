"""``IMPORTERS`` settings: where imported posts, pages, images and redirects go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causerie.errors import SettingsError
from causerie.settings import read_section


@dataclass(frozen=True)
class ImportSettings:
    """The ``IMPORTERS`` dict of pelicanconf.py, with its defaults."""

    #: Folders under content/ for imported posts and pages.
    posts_dir: str = "posts"
    pages_dir: str = "pages"
    #: Imported images go under this folder of content/ (in STATIC_PATHS).
    media_dir: str = "images/imported"
    #: The old addresses and the files they now are, under content/; each
    #: build writes a redirect page for each and the nginx maps.
    redirects: str = "redirects.tsv"
    #: The language of imported posts when the export does not say.
    default_lang: str | None = None
    #: Largest image fetched or copied, in bytes.
    max_image_bytes: int = 20_000_000

    def __post_init__(self) -> None:
        for name in ("posts_dir", "pages_dir", "media_dir", "redirects"):
            value = getattr(self, name)
            if not value or value.startswith("/") or ".." in value.split("/"):
                raise SettingsError(
                    f"{name} must be a path inside content/, not {value!r}"
                )
        if self.max_image_bytes < 1:
            raise SettingsError("max_image_bytes must be at least 1")


def config(settings: dict[str, Any]) -> ImportSettings:
    """The validated ``IMPORTERS`` dict of Pelican ``settings``."""
    return read_section(settings, "IMPORTERS", ImportSettings)
