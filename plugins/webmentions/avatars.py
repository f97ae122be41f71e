"""Avatars of the people who mention us, cached and served by our own site.

A reader's browser never loads a picture from a third party (no tracking):
the worker fetches it once through the guarded fetcher, re-encodes it as a
small PNG (which also drops any metadata and anything that is not a picture),
and the build copies it next to the pages.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from .fetch import FetchError, FetchPolicy, fetch
from .logtext import loggable

log = logging.getLogger(__name__)

#: Formats we decode. Anything else (SVG above all: it can carry script) is refused.
FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
#: A picture larger than this is refused before it is decoded.
MAX_PIXELS = 40_000_000


def avatar_name(url: str) -> str:
    """The cache file name of the avatar at ``url`` (stable, no user input)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32] + ".png"


def to_square_png(data: bytes, size: int) -> bytes:
    """Decode ``data``, crop it to a centred square of ``size`` px, as PNG.

    Raises ValueError with a reason for anything that is not a safe picture.
    """
    with warnings.catch_warnings():
        # Pillow only warns about a decompression bomb below 2x its limit:
        # treat the warning as the error it is.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise ValueError(f"not a picture we accept ({image.format})")
            if image.width * image.height > MAX_PIXELS:
                raise ValueError(f"too large ({image.width}x{image.height})")
            image.seek(0)  # first frame of an animation
            image = image.convert("RGBA")
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
            OSError,
        ) as exc:
            raise ValueError(f"not a readable picture ({exc})") from None
    side = min(image.width, image.height)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize(
        (size, size), Image.Resampling.LANCZOS
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cache_avatar(
    url: str, directory: Path, policy: FetchPolicy, size: int
) -> str | None:
    """Fetch, resize and store the avatar at ``url``; its file name, or None.

    A missing or broken avatar is not worth failing a mention for: it is
    logged and the comment shows without a picture.
    """
    name = avatar_name(url)
    path = directory / name
    if path.exists():
        return name
    try:
        result = fetch(url, policy)
        if result.status != 200:
            raise ValueError(f"answered {result.status}")
        png = to_square_png(result.body, size)
    except (FetchError, ValueError) as exc:
        log.warning(
            "avatar %s not cached: %s",
            loggable(url),
            loggable(getattr(exc, "reason", exc), 600),
        )
        return None
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(png)
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    return name


def cache_missing(
    store: Any,
    directory: Path,
    policy: FetchPolicy,
    size: int,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Cache the avatars the store lacks (after an import); return how many."""
    todo = store.missing_avatars()
    cached = 0
    for done, mention in enumerate(todo, start=1):
        name = cache_avatar(mention.author_photo, directory, policy, size)
        if name:
            store.set_avatar(mention.id, name)
            cached += 1
        if progress:
            progress(done, len(todo))
    return cached


def remove_avatars(directory: Path, names: list[str]) -> None:
    """Delete cached avatars (erasure on request)."""
    for name in names:
        if name == os.path.basename(name) and name.endswith(".png"):
            (directory / name).unlink(missing_ok=True)
