"""``ALBUMS`` settings: the widths of each photo, formats, limits, the cache."""

from __future__ import annotations

from dataclasses import dataclass

from causerie.errors import SettingsError


@dataclass(frozen=True)
class AlbumsSettings:
    """The ``ALBUMS`` dict of pelicanconf.py, with its defaults."""

    #: The widths (px) each photo is made in; none wider than the original.
    widths: tuple[int, ...] = (480, 1024, 2000)
    #: Also each width as WebP (a <source> beside the JPEG or PNG).
    webp: bool = True
    jpeg_quality: int = 82
    webp_quality: int = 80
    #: The first this many photos of a page load at once; later ones are
    #: loading="lazy" (they are below the fold on every screen we test).
    eager_photos: int = 2
    #: Where processed photos are kept between builds, by content hash
    #: (relative to the site's directory; default: Pelican's CACHE_PATH/albums).
    cache_dir: str | None = None
    #: Where they are published in output/.
    output_dir: str = "media/albums"
    #: Refused beyond these: a 40,000-px-wide image, a decompression bomb.
    max_side_px: int = 16_000
    max_pixels: int = 60_000_000
    #: Limits of the process that decodes one image or renders one PDF page.
    worker_memory_mb: int = 1024
    worker_seconds: int = 60
    #: Width of a PDF's first-page thumbnail.
    document_thumbnail_px: int = 240

    def __post_init__(self) -> None:
        if not self.widths or any(w < 16 for w in self.widths):
            raise SettingsError("ALBUMS['widths'] must list widths of 16 px or more")
        for name in (
            "jpeg_quality",
            "webp_quality",
            "max_side_px",
            "max_pixels",
            "worker_memory_mb",
            "worker_seconds",
            "document_thumbnail_px",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"ALBUMS['{name}'] must be at least 1")
        if self.eager_photos < 0:
            raise SettingsError("ALBUMS['eager_photos'] must be 0 or more")
        for name in ("jpeg_quality", "webp_quality"):
            if getattr(self, name) > 100:
                raise SettingsError(f"ALBUMS['{name}'] must be at most 100")
