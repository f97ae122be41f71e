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

from causerie.webmentions.fetch import FetchError, FetchPolicy, fetch
from causerie.webmentions.logtext import loggable

log = logging.getLogger(__name__)

#: Formats we decode. Anything else (SVG above all: it can carry script) is refused.
FORMATS = ("GIF", "JPEG", "PNG", "WEBP")
#: A picture with more pixels than this is refused from its header, before a
#: byte of it is decoded (Image.open only reads the header). 12 Mpx lets a
#: 4000x3000 photo through; decoding it peaks near 230 MB in all with WebP
#: (libwebp's frame and Pillow's copy, 16 bytes a pixel), 150 MB with PNG
#: or GIF, and little with JPEG (decoded at a reduced scale). The limit was
#: 40 Mpx: a 4.4 kB PNG of 6000x6000 took 430 MB (issue 13 item 8). A shown
#: avatar is 96 px.
MAX_PIXELS = 12_000_000


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
            # formats=: Pillow never even tries another decoder on a
            # stranger's bytes (EPS would run Ghostscript).
            image: Image.Image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > MAX_PIXELS:
                raise ValueError(
                    f"too large: {width}x{height} pixels is more than the "
                    f"{MAX_PIXELS:,} an avatar may have"
                )
            image.seek(0)  # first frame of an animation
            if image.format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale when that is still larger
                # than the avatar: less memory and time, same result.
                image.draft("RGB", (size, size))
            image.load()
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA")  # P, L, LA, I;16… (GIF, PNG)
        except UnidentifiedImageError:
            raise ValueError(
                "not a picture we accept (GIF, JPEG, PNG or WebP)"
            ) from None
        except (
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
            OSError,
            EOFError,  # a GIF or WebP cut short
        ) as exc:
            raise ValueError(f"not a readable picture ({exc})") from None
    side = min(image.width, image.height)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    # The centred square straight to its size (box=, no cropped copy), after
    # an integer reduction to about twice the size (reducing_gap=): the
    # full-size picture is never copied again once decoded.
    image = image.resize(
        (size, size),
        Image.Resampling.LANCZOS,
        box=(left, top, left + side, top + side),
        reducing_gap=2.0,
    ).convert("RGBA")
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
