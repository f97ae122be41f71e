"""Sites with photo albums, for the albums tests: real photos drawn by
Pillow (camera-sized JPEGs with EXIF orientation and GPS, a PNG with
transparency), real PDFs, posts written in both inflows' syntax, built by
the real build into a temporary directory."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path
from typing import Any

from conftest import AS_OF, ROOT, SITEURL
from PIL import Image, ImageDraw

from causerie.sitebuild import build as sitebuild

CLAIRE = "Claire Dubois"


def photo(
    width: int = 1600, height: int = 1200, seed: int = 0, fmt: str = "JPEG"
) -> bytes:
    """A photo-like image: gradients and shapes (compresses like a photo)."""
    rnd = random.Random(seed)
    image = Image.new("RGB", (width, height), (rnd.randrange(256), 120, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(24):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(20, max(21, width // 4))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    out = io.BytesIO()
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[0x0112] = 1
        image.save(out, "JPEG", quality=85, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def pdf(pages: int = 1, text: str = "Fiche technique") -> bytes:
    """A small valid PDF drawn by Pillow (one page per image)."""
    images = []
    for n in range(pages):
        page = Image.new("RGB", (595, 842), "white")
        draw = ImageDraw.Draw(page)
        draw.rectangle((40, 40, 555, 140), fill=(148, 65, 11))
        draw.text((60, 170), f"{text} — page {n + 1}", fill="black")
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:])
    return out.getvalue()


def make_site(root: Path, posts: dict[str, str], files: dict[str, bytes]) -> Path:
    """content/ with the demo's authors and images, and only ``posts``
    (file name → text) and ``files`` (path under content/ → bytes)."""
    content = root / "content"
    (content / "posts").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "authors.toml", content / "authors.toml")
    shutil.copytree(ROOT / "content" / "images", content / "images")
    for name, text in posts.items():
        (content / "posts" / name).write_text(text, encoding="utf-8")
    for path, data in files.items():
        target = content / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return content


def build_site(root: Path, **overrides: Any) -> sitebuild.BuildReport:
    settings = sitebuild.load_settings(
        ROOT / "pelicanconf.py",
        {
            "PATH": str(root / "content"),
            "OUTPUT_PATH": str(root / "output"),
            "CACHE_PATH": str(root / "cache"),
            "CAUSERIE_SITE_DIR": str(root / "site"),
            "SITEURL": SITEURL,
            "SITEBUILD": {"now": AS_OF},
            **overrides,
        },
    )
    return sitebuild.build_site(settings)


def album_post(
    slug: str, count: int, *, date: str = "2026-06-01 10:00", text: str = ""
) -> tuple[str, dict[str, bytes]]:
    """A Markdown post with a gallery of ``count`` photos, and the photos."""
    files = {
        f"images/{slug}/{n}.jpg": photo(
            1600 if n % 3 else 1200, 1200 if n % 3 else 1600, seed=n
        )
        for n in range(1, count + 1)
    }
    lines = "\n".join(
        f"images/{slug}/{n}.jpg | Photo {n} de l’album {slug}"
        + (
            f" | Légende {n}, un peu longue pour voir comment elle passe à la ligne"
            if n % 2
            else ""
        )
        for n in range(1, count + 1)
    )
    body = text or "Le premier paragraphe, celui que les listes montrent."
    post = (
        f"Title: Album {slug}\nDate: {date}\nAuthor: {CLAIRE}\nCategory: Atelier\n"
        f"Lang: fr\nSlug: {slug}\n\n{body}\n\n```gallery\n{lines}\n```\n\n"
        "Un dernier paragraphe après la galerie.\n"
    )
    return post, files
