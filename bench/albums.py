"""Benchmark photo albums (issue 16): our processing against plain Pillow,
and a rebuild of an unchanged site with many photos.

    .venv/bin/python bench/albums.py                 # 20 × 12 MP, then 500 photos
    .venv/bin/python bench/albums.py --photos 100    # a smaller site
    .venv/bin/python bench/albums.py --skip-album --side 800   # only the rebuild, small photos

1. **A 20-photo album of 12 MP photos** (4000×3000 JPEGs drawn by Pillow,
   seeded, with an EXIF orientation tag), each made into the gallery's
   sizes (480, 1024, 2000 px) as JPEG and WebP:

   - *ours*: :func:`causerie.albums.images.processed` with an empty cache, one
     photo after the other, each in its own limited worker process (as a
     build on one core does; a build on every core runs one per core);
   - *plain Pillow*: the straightforward way in this process: open, turn
     upright, resize the full image to each width with LANCZOS, save JPEG
     and WebP at the same qualities.

   Both write the same six files a photo. The ratio is ours / plain.

2. **A rebuild of an unchanged site**: ``--photos`` photos (``--side``, 1600×1200) in
   posts of 20, built once (every photo processed), then built again from
   scratch (a clean build: output/ emptied) with the cache kept. The second
   build must do no image work: no cache entry is made again or added
   (their files' mtimes are compared), which the script checks. Its time is
   set against the same site's posts without their galleries.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from causerie.albums.images import processed
from causerie.albums.settings import AlbumsSettings
from causerie.sitebuild import build as sitebuild

#: The checkout whose venv runs this (causerie is installed from it, -e).
ROOT = Path(__file__).resolve().parent.parent


def photo(width: int, height: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    image = Image.new("RGB", (width, height), (rnd.randrange(256), 120, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(20, width // 4)
        draw.ellipse(
            (x - r, y - r, x + r, y + r),
            fill=tuple(rnd.randrange(256) for _ in range(3)),
        )
    # Sensor noise, so that the JPEG weighs what a camera's does.
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    exif = Image.Exif()
    exif[0x0112] = 1
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def plain_pillow(source: Path, out: Path, settings: AlbumsSettings) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    for width in settings.widths:
        height = round(image.height * width / image.width)
        resized = image.resize((width, height), Image.Resampling.LANCZOS)
        resized.save(
            out / f"{width}.jpg",
            "JPEG",
            quality=settings.jpeg_quality,
            progressive=True,
        )
        resized.save(
            out / f"{width}.webp", "WEBP", quality=settings.webp_quality, method=4
        )


def album(work: Path, count: int, runs: int) -> None:
    settings = AlbumsSettings()
    sources = []
    for n in range(count):
        path = work / "photos" / f"{n}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(photo(4000, 3000, n))
        sources.append(path)
    size = sum(p.stat().st_size for p in sources) / len(sources) / 1e6
    ours, plain, peaks = [], [], []
    for run in range(runs):
        cache = work / f"cache-{run}"
        start = time.perf_counter()
        for path in sources:
            entry = processed(path, path.name, "image", cache, settings)
            peaks.append(entry.maxrss_kb / 1024)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        for path in sources:
            plain_pillow(path, work / f"plain-{run}" / path.stem, settings)
        plain.append(time.perf_counter() - start)
    o, p = statistics.median(ours), statistics.median(plain)
    plain_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n1. {count} photos of 12 MP (4000×3000, {size:.1f} MB each) → "
          f"{len(settings.widths)} widths × JPEG + WebP, median of {runs}")  # fmt: skip
    print(f"   {'':28} {'seconds':>8} {'per photo':>10} {'peak RSS':>10}")
    print(
        f"   {'ours (worker, cache)':28} {o:8.2f} {o / count:9.3f}s {max(peaks):8.0f} MB"
    )
    print(
        f"   {'plain Pillow (in process)':28} {p:8.2f} {p / count:9.3f}s {plain_rss:8.0f} MB*"
    )
    print(f"   ratio ours / plain: {o / p:.2f}   (* this whole process's peak)")


def cache_state(cache: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}


def write_site(root: Path, photos: int, galleries: bool, side: int = 1600) -> None:
    content = root / "content"
    shutil.rmtree(content, ignore_errors=True)
    (content / "posts").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "authors.toml", content / "authors.toml")
    shutil.copytree(ROOT / "content" / "images", content / "images")
    for post in range((photos + 19) // 20):
        lines = []
        for n in range(post * 20, min(photos, post * 20 + 20)):
            path = content / "images" / "albums" / f"{n}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(photo(side, side * 3 // 4, 1000 + n))
            lines.append(f"images/albums/{n}.jpg | Photo {n} de l’atelier")
        block = "\n\n```gallery\n" + "\n".join(lines) + "\n```\n" if galleries else "\n"
        (content / "posts" / f"2026-01-{post % 28 + 1:02d}-album-{post}.md").write_text(
            f"Title: Album {post}\nDate: 2026-01-{post % 28 + 1:02d} 10:00\n"
            f"Author: Claire Dubois\nLang: fr\nSlug: album-{post}\n\n"
            f"Vingt photos de l’atelier, numéro {post}.\n{block}",
            encoding="utf-8",
        )


def build(root: Path) -> float:
    settings = sitebuild.load_settings(
        ROOT / "pelicanconf.py",
        {"PATH": str(root / "content"), "OUTPUT_PATH": str(root / "output"),
         "CACHE_PATH": str(root / "cache"), "CAUSERIE_SITE_DIR": str(root / "site"),
         "SITEURL": "http://bench.test", "SITEBUILD": {"now": "2026-11-23T12:00:00+01:00"}},
    )  # fmt: skip
    start = time.perf_counter()
    report = sitebuild.build_site(settings)
    seconds = time.perf_counter() - start
    assert not report.problems, report.problems
    return seconds


def rebuild(work: Path, photos: int, side: int) -> None:
    site = work / "site-albums"
    write_site(site, photos, galleries=True, side=side)
    first = build(site)
    cache = site / "cache" / "albums"
    before = cache_state(cache)
    entries = len(list(cache.glob("*/meta.json")))
    again = [build(site) for _ in range(3)]
    after = cache_state(cache)
    assert after == before, "the rebuild did image work: cache entries changed"
    published = len(list((site / "output" / "media" / "albums").rglob("*.jpg")))
    text = work / "site-text"
    write_site(text, photos, galleries=False)
    build(text)
    text_only = [build(text) for _ in range(3)]
    r, t = statistics.median(again), statistics.median(text_only)
    posts = (photos + 19) // 20
    print(
        f"\n2. a site of {posts} posts with {photos} photos "
        f"({side}×{side * 3 // 4}), clean builds"
    )
    print(
        f"   first build (every photo processed): {first:8.2f} s  ({entries} cache entries)"
    )
    print(f"   rebuild, unchanged, cache kept:      {r:8.2f} s  (median of 3; "
          f"0 entries made or changed; {published} JPEGs published)")  # fmt: skip
    print(f"   the same posts without galleries:    {t:8.2f} s  (median of 3)")
    print(
        f"   ratio rebuild / first: {r / first:.3f}; rebuild / text only: {r / t:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--album", type=int, default=20, help="photos of 12 MP")
    parser.add_argument("--photos", type=int, default=500, help="photos of the site")
    parser.add_argument(
        "--side", type=int, default=1600, help="width of the site's photos"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-album", action="store_true", help="only the rebuild")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, Pillow {Image.__version__}, "
          f"{os.cpu_count()} CPU(s)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="causerie-bench-albums-") as tmp:
        work = Path(tmp)
        if not args.skip_album:
            album(work, args.album, args.runs)
        rebuild(work, args.photos, args.side)


if __name__ == "__main__":
    main()
