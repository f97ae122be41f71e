"""Photo albums and documents (issue 16): the blocks' syntax, the sizes, the
markup both inflows share, ledes, the cache, documents and bad input.

The pure parts are tested with plain values and golden files; the rest with
real builds of small sites (tests/album_kit.py) whose photos Pillow draws
and whose PDFs are real, and a real worker process under its limits.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from album_kit import album_post, build_site, make_site, pdf, photo
from bs4 import BeautifulSoup
from PIL import Image

from causerie.albums import blocks, lede, plan
from causerie.albums.images import run_worker
from causerie.albums.settings import AlbumsSettings

DATA = Path(__file__).parent / "data" / "albums"


# --- the syntax (pure) --------------------------------------------------------


def test_a_gallery_block_gives_its_photos_with_alt_and_caption() -> None:
    text = [
        "Avant.",
        "",
        "```gallery",
        "{static}/images/a.jpg | Une lampe | L’atelier",
        "/images/b.jpg | Pied \\| abat-jour",
        "# a comment line",
        "images/c.jpg",
        "../etc/passwd | Nope",
        "```",
        "Après.",
    ]
    (block,) = blocks.find_blocks(text)
    assert (block.kind, block.start, block.end) == ("gallery", 2, 8)
    assert block.items == (
        blocks.Photo("images/a.jpg", "Une lampe", "L’atelier", 4),
        blocks.Photo("images/b.jpg", "Pied | abat-jour", "", 5),
    )
    assert [t.line for t in block.troubles] == [7, 8]
    assert "no alt text" in block.troubles[0].message
    assert "not a file under content/" in block.troubles[1].message


def test_a_downloads_block_and_an_unclosed_block() -> None:
    (block,) = blocks.find_blocks(
        ["~~~downloads", "docs/fiche.pdf | Fiche technique", "docs/tarifs.xlsx"]
    )
    assert block.items == (
        blocks.Document("docs/fiche.pdf", "Fiche technique", 2),
        blocks.Document("docs/tarifs.xlsx", "", 3),
    )
    assert "never closed" in block.troubles[0].message
    # An ordinary fenced code block is not one of ours.
    assert blocks.find_blocks(["```python", "x = 1", "```"]) == []


@pytest.mark.parametrize(
    ("size", "widths", "expected"),
    [
        ((4000, 3000), (480, 1024, 2000), [(480, 360), (1024, 768), (2000, 1500)]),
        ((1600, 1200), (480, 1024, 2000), [(480, 360), (1024, 768), (1600, 1200)]),
        ((300, 600), (480, 1024, 2000), [(300, 600)]),  # never enlarged
        ((1024, 10), (480, 1024), [(480, 5), (1024, 10)]),
    ],
)
def test_plan_sizes(
    size: tuple[int, int], widths: tuple[int, ...], expected: list[tuple[int, int]]
) -> None:
    got = plan.plan_sizes(*size, widths)
    assert [(s.width, s.height) for s in got] == expected


def _shown(n: int, caption: str = "") -> plan.ShownPhoto:
    variants = tuple(
        plan.Variant(f"/m/k{n}/{w}.{ext}", w, w * 3 // 4, t)
        for w in (480, 1024)
        for ext, t in (("jpg", "image/jpeg"), ("webp", "image/webp"))
    )
    return plan.ShownPhoto(f"Photo {n} <&>", caption, variants)


@pytest.mark.parametrize("name", ["gallery-one", "gallery-three"])
def test_gallery_markup_is_the_golden_one(name: str) -> None:
    photos = (
        [_shown(1)]
        if name == "gallery-one"
        else [_shown(1, "L’atelier"), _shown(2), _shown(3, "« Aube »")]
    )
    html = plan.gallery_html(photos, first_index=0, eager=2) + "\n"
    expected = DATA / f"{name}.expected.html"
    if os.environ.get("CAUSERIE_GOLDEN_UPDATE") == "1":
        expected.write_text(html, encoding="utf-8")
    assert html == expected.read_text(encoding="utf-8")


def test_downloads_markup_is_the_golden_one() -> None:
    thumb = plan.Variant("/m/k/thumb.png", 240, 340, "image/png")
    docs = [
        plan.ShownDocument("/d/fiche.pdf", "Fiche technique", "fiche.pdf", "PDF",
                           "application/pdf", 1_234_567, thumb),
        plan.ShownDocument("/d/tarifs.xlsx", "tarifs.xlsx", "tarifs.xlsx", "Excel",
                           "application/vnd.ms-excel", 8_400, None),
    ]  # fmt: skip
    html = plan.downloads_html(docs, "fr") + "\n"
    expected = DATA / "downloads.expected.html"
    if os.environ.get("CAUSERIE_GOLDEN_UPDATE") == "1":
        expected.write_text(html, encoding="utf-8")
    assert html == expected.read_text(encoding="utf-8")
    assert "1,2\u00a0Mo" in html and "8,4\u00a0ko" in html


# --- the lede rule (pure) -----------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Le texte.</p>", "<p>Le texte.</p>"),
        (
            '<div class="gallery"><figure><p>x</p></figure></div><p>Ensuite.</p>',
            "<p>Ensuite.</p>",
        ),
        ('<p><img src="a.jpg" alt="Une lampe"></p><p>Le texte.</p>', "<p>Le texte.</p>"),
        (
            '<p><a href="/images/fiche-aube.pdf">fiche-aube.pdf</a></p><p>Le texte.</p>',
            "<p>Le texte.</p>",
        ),
        ('<ul class="downloads"><li><p>fiche.pdf</p></li></ul><p>Fin.</p>', "<p>Fin.</p>"),
        ('<p>Voir <a href="/posts/x/">ce billet</a>.</p>', '<p>Voir <a href="/posts/x/">ce billet</a>.</p>'),
        ('<div class="gallery"></div>', None),
    ],
)  # fmt: skip
def test_the_lede_is_the_first_paragraph_of_text(
    html: str, expected: str | None
) -> None:
    assert lede.first_paragraph(html) == expected


# --- real builds --------------------------------------------------------------

COUNTS = (1, 2, 3, 7, 20)


@pytest.fixture(scope="module")
def album_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("albums")
    posts: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for day, count in enumerate(COUNTS, start=1):
        text, photos = album_post(
            f"album-{count}", count, date=f"2026-06-{day:02d} 10:00"
        )
        posts[f"2026-06-{day:02d}-album-{count}.md"] = text
        files.update(photos)
    make_site(root, posts, files)
    report = build_site(root)
    assert report.problems == [], report.problems
    return root


def soup_of(html: str) -> Any:
    """Parsed HTML, untyped: the tests index it freely (a missing tag fails)."""
    return BeautifulSoup(html, "html.parser")


def page(root: Path, slug: str) -> Any:
    path = root / "output" / "posts" / "2026" / slug / "index.html"
    return soup_of(path.read_text(encoding="utf-8"))


def output_file(root: Path, url: str) -> Path:
    assert url.startswith("http://blog.test/"), url
    return root / "output" / url.removeprefix("http://blog.test/")


@pytest.mark.parametrize("count", COUNTS)
def test_each_photo_is_a_figure_with_its_sizes(album_site: Path, count: int) -> None:
    soup = page(album_site, f"album-{count}")
    (gallery,) = soup.select(".e-content .gallery")
    figures = gallery.find_all("figure", class_="gallery-item", recursive=False)
    assert len(figures) == count
    for n, figure in enumerate(figures, start=1):
        img = figure.find("img")
        assert img["alt"] == f"Photo {n} de l’album album-{count}"
        width, height = int(img["width"]), int(img["height"])
        # The photos of album_post are 1600×1200, or 1200×1600 every third.
        assert (width, height) == ((1200, 1600) if n % 3 == 0 else (1600, 1200))
        for candidate in img["srcset"].split(", "):
            url, w = candidate.split(" ")
            with Image.open(output_file(album_site, url)) as made:
                assert made.format == "JPEG" and f"{made.width}w" == w
                assert not made.getexif()  # no camera metadata published
        (source,) = figure.find_all("source")
        assert source["type"] == "image/webp"
        for candidate in source["srcset"].split(", "):
            with Image.open(output_file(album_site, candidate.split(" ")[0])) as made:
                assert made.format == "WEBP"
        # The link opens the largest size, without JavaScript.
        link = figure.find("a", class_="gallery-link")
        assert link["href"].endswith(f"/{width}.jpg")
        assert output_file(album_site, link["href"]).exists()
        assert (img.get("loading") == "lazy") == (n > 2)
        caption = figure.find("figcaption")
        assert (caption is not None) == (n % 2 == 1)


def test_a_list_shows_the_cover_and_the_count_never_the_gallery(
    album_site: Path,
) -> None:
    home = soup_of((album_site / "output" / "index.html").read_text(encoding="utf-8"))
    assert not home.select(".gallery, figure, picture")
    entries = {
        e.select_one(".entry-title").get_text(strip=True): e
        for e in home.select("article.h-entry")
    }
    for count in COUNTS:
        entry = entries[f"Album album-{count}"]
        (cover,) = entry.select("img.entry-cover")
        assert cover["alt"] == f"Photo 1 de l’album album-{count}"
        assert int(cover["width"]) and int(cover["height"])
        assert entry.select_one(".entry-album-count").get_text() == (
            "1 photo" if count == 1 else f"{count} photos"
        )
        summary = entry.select_one(".entry-summary").get_text(" ", strip=True)
        assert summary == "Le premier paragraphe, celui que les listes montrent."


def test_the_lede_and_og_description_are_the_first_paragraph(album_site: Path) -> None:
    soup = page(album_site, "album-20")
    og = soup.find("meta", property="og:description")["content"]
    assert og == "Le premier paragraphe, celui que les listes montrent."
    assert soup.find("meta", attrs={"name": "description"})["content"] == og
    # Not repeated above the body it opens.
    assert not soup.select(".post-lede")


def test_a_summary_of_its_own_is_kept(tmp_path: Path) -> None:
    text, files = album_post("resume", 2)
    text = text.replace("Lang: fr\n", "Lang: fr\nSummary: Deux photos de l’atelier.\n")
    make_site(tmp_path, {"2026-06-01-resume.md": text}, files)
    assert build_site(tmp_path).problems == []
    soup = page(tmp_path, "resume")
    assert (
        soup.select_one(".post-lede").get_text(strip=True)
        == "Deux photos de l’atelier."
    )
    assert soup.find("meta", property="og:description")["content"] == (
        "Deux photos de l’atelier."
    )


def _cache_state(cache: Path) -> dict[str, int]:
    return {
        p.relative_to(cache).as_posix(): p.stat().st_mtime_ns
        for p in cache.rglob("*")
        if p.is_file()
    }


def test_an_unchanged_site_is_rebuilt_without_image_work(album_site: Path) -> None:
    cache = album_site / "cache" / "albums"
    before = _cache_state(cache)
    # One entry a distinct photo (the smaller albums reuse the 20's photos).
    assert len([k for k in before if k.endswith("meta.json")]) == max(COUNTS)
    report = build_site(album_site)  # a clean build: output/ is emptied first
    assert report.problems == []
    # No entry made again, none added: no image was decoded or encoded.
    assert _cache_state(cache) == before
    soup = page(album_site, "album-20")
    for img in soup.select(".gallery img"):
        for candidate in img["srcset"].split(", "):
            assert output_file(album_site, candidate.split(" ")[0]).exists()


def test_an_incremental_rebuild_keeps_the_photos_published(album_site: Path) -> None:
    first = build_site(
        album_site, SITEBUILD={"now": "2026-11-23T12:00:00+01:00", "incremental": True}
    )
    assert first.problems == []
    again = build_site(
        album_site, SITEBUILD={"now": "2026-11-23T12:00:00+01:00", "incremental": True}
    )
    assert again.problems == [] and again.converted == 0
    soup = page(album_site, "album-7")
    for img in soup.select(".gallery img"):
        assert output_file(album_site, img["src"]).exists()


# --- the same markup for mail ---------------------------------------------------


def test_a_mail_gallery_and_a_markdown_gallery_give_the_same_markup(
    tmp_path: Path,
) -> None:
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    from test_mail_parse import CLAIRE, PARIS, SETTINGS, envelope, image_part

    from causerie.mailposts import parse, write

    root = MIMEMultipart("mixed")
    root.attach(
        MIMEText(
            "alt: L’établi\nalt: Le pied\nalt: La vitrine\n\nTrois photos de l’atelier de Vaise.\n",
            "plain",
            "utf-8",
        )
    )
    for n in (1, 2, 3):
        root.attach(
            image_part(
                photo(1600, 1200, seed=n), f"IMG_00{n}.jpg", disposition="attachment"
            )
        )
    post = parse.parse_message(
        envelope(root, "L’atelier"), author=CLAIRE, settings=SETTINGS, tz=PARIS
    )
    assert isinstance(post, parse.Post), post
    content = make_site(tmp_path, {}, {})
    write.write_media(post, content)
    write.write_post(post, content, "posts")
    # The same photos, by hand, in a Markdown post.
    lines = [
        re.sub(r"^\{static\}/", "", line)
        for line in re.findall(r"```gallery\n(.*?)\n```", post.body, re.S)[0].split(
            "\n"
        )
    ]
    (content / "posts" / "2026-03-15-a-la-main.md").write_text(
        "Title: À la main\nDate: 2026-03-15 10:00\nAuthor: Claire Dubois\nLang: fr\n"
        "Slug: a-la-main\n\nTrois photos de l’atelier de Vaise.\n\n```gallery\n"
        + "\n".join(lines) + "\n```\n",
        encoding="utf-8",
    )  # fmt: skip
    assert build_site(tmp_path).problems == []
    galleries = []
    for path in (tmp_path / "output" / "posts").rglob("index.html"):
        soup = soup_of(path.read_text(encoding="utf-8"))
        (gallery,) = soup.select(".e-content .gallery")
        for a in gallery.find_all("a"):
            # nh3 gives every link of outside text rel="noopener noreferrer".
            del a["rel"]
        galleries.append(gallery.decode(formatter="minimal"))
    assert len(galleries) == 2 and galleries[0] == galleries[1]
    assert 'alt="L’établi"' in galleries[0] and galleries[0].count("<figure") == 3


# --- documents ------------------------------------------------------------------


def test_documents_are_offered_with_name_type_size_and_a_thumbnail(
    tmp_path: Path,
) -> None:
    files = {
        "images/docs/fiche-aube.pdf": pdf(2),
        "images/docs/Tarifs 2026 (v2).xlsx": b"PK\x03\x04" + b"\x00" * 200,
        "images/docs/cut.pdf": pdf()[:300],
        "images/docs/setup.exe": b"MZ\x90\x00",
        "images/docs/fake.pdf": b"MZ\x90\x00 not a pdf",
    }
    post = (
        "Title: Docs\nDate: 2026-07-01 10:00\nAuthor: Claire Dubois\nLang: fr\nSlug: docs\n\n"
        "La fiche et les tarifs.\n\n```downloads\n"
        "images/docs/fiche-aube.pdf | Fiche technique de l’Aube\n"
        "images/docs/Tarifs 2026 (v2).xlsx\nimages/docs/cut.pdf\n"
        "images/docs/setup.exe\nimages/docs/fake.pdf\n```\n"
    )  # fmt: skip
    make_site(tmp_path, {"2026-07-01-docs.md": post}, files)
    report = build_site(tmp_path)
    problems = "\n".join(report.problems)
    assert (
        "content/images/docs/setup.exe: refused: exe files are not offered" in problems
    )
    assert "content/images/docs/fake.pdf: refused: it is named .pdf but" in problems
    assert "content/images/docs/cut.pdf" in problems and "generic icon" in problems
    assert all("posts/2026-07-01-docs.md" in p for p in report.problems)
    soup = page(tmp_path, "docs")
    items = soup.select("ul.downloads li.download")
    assert [i.select_one(".download-name").get_text() for i in items] == [
        "Fiche technique de l’Aube", "Tarifs 2026 (v2).xlsx", "cut.pdf",
    ]  # fmt: skip
    first = items[0]
    link = first.find("a")
    assert link["type"] == "application/pdf" and link["download"] == "fiche-aube.pdf"
    assert (
        output_file(tmp_path, link["href"]).read_bytes()
        == files["images/docs/fiche-aube.pdf"]
    )
    meta = first.select_one(".download-meta").get_text()
    assert meta.startswith("fiche-aube.pdf · PDF, ") and meta.endswith("ko")
    thumb = first.select_one("img.download-thumb")
    with Image.open(output_file(tmp_path, thumb["src"])) as made:
        assert (
            made.size == (int(thumb["width"]), int(thumb["height"]))
            and made.width == 240
        )
        # The first page's brown band was rendered (not a blank page).
        band = made.convert("RGB").getpixel((120, 20))
        assert isinstance(band, tuple) and band[0] > 100
    assert items[2].select_one(".download-icon").get_text() == "PDF"
    assert not items[2].select("img")
    # The lede is the paragraph, never the download list.
    assert (
        soup.find("meta", property="og:description")["content"]
        == "La fiche et les tarifs."
    )


# --- bad input --------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data))
    )


def wide_png(width: int = 40_000, height: int = 8) -> bytes:
    """A real PNG 40,000 px wide (a few KB: its rows are all zeros)."""
    raw = zlib.compress(b"".join(b"\x00" + b"\x00" * width for _ in range(height)), 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", raw)
        + _png_chunk(b"IEND", b"")
    )


def gif_bomb(side: int = 4000, frames: int = 3000) -> bytes:
    """An animated GIF of ``frames`` frames on a ``side``² screen, each frame
    a 1×1 pixel: 30 KB that a player would decode to billions of pixels."""
    out = bytearray(b"GIF89a" + struct.pack("<HH", side, side) + b"\x80\x00\x00")
    out += b"\x00\x00\x00\xff\xff\xff"  # a global colour table of two
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 1/100 s
        out += b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00"
        out += b"\x02\x02\x44\x01\x00"  # LZW: clear, pixel 0, end
    return bytes(out + b"\x3b")


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>'


def test_bad_images_are_refused_naming_the_file_and_the_page_holds(
    tmp_path: Path,
) -> None:
    good = photo(800, 600, seed=1)
    files = {
        "images/bad/ok.jpg": good,
        "images/bad/corrupt.jpg": good[: len(good) // 3],
        "images/bad/large.png": wide_png(),
        "images/bad/bomb.gif": gif_bomb(),
        "images/bad/script.svg": SVG,
        "images/bad/script-as.jpg": SVG,
        "images/bad/garbage.jpg": os.urandom(2048),
    }
    lines = "\n".join(f"{path} | {Path(path).stem}" for path in files)
    post = (
        "Title: Mauvais\nDate: 2026-07-02 10:00\nAuthor: Claire Dubois\nLang: fr\n"
        f"Slug: mauvais\n\nDes fichiers abîmés.\n\n```gallery\n{lines}\n```\n"
    )
    make_site(tmp_path, {"2026-07-02-mauvais.md": post}, files)
    report = build_site(tmp_path)
    problems = {
        p.split(": ")[2]: p for p in report.problems if p.startswith("albums: ")
    }
    assert sorted(problems) == sorted(
        f"content/{p}" for p in files if "ok.jpg" not in p
    )
    assert "damaged or cut short" in problems["content/images/bad/corrupt.jpg"]
    assert "40000×8 px" in problems["content/images/bad/large.png"]
    assert "animation of 3000 frames" in problems["content/images/bad/bomb.gif"]
    assert "SVG can hold scripts" in problems["content/images/bad/script.svg"]
    assert "SVG can hold scripts" in problems["content/images/bad/script-as.jpg"]
    assert "not an image" in problems["content/images/bad/garbage.jpg"]
    soup = page(tmp_path, "mauvais")
    (gallery,) = soup.select(".gallery")
    assert [img["alt"] for img in gallery.find_all("img")] == ["ok"]
    assert "alert" not in str(soup)
    assert not soup.select(".albums-problem")


def _job(source: Path, out: Path) -> dict[str, object]:
    s = AlbumsSettings()
    return {
        "op": "image", "source": str(source), "out": str(out), "widths": list(s.widths),
        "webp": True, "jpeg_quality": 82, "webp_quality": 80, "max_side": s.max_side_px,
        "max_pixels": s.max_pixels, "thumb_px": 240,
    }  # fmt: skip


def test_one_photo_is_processed_in_under_300_mb(tmp_path: Path) -> None:
    """A 12 MP camera photo (4000×3000), and each hostile file: the worker's
    own peak resident memory (VmHWM: ru_maxrss less what it inherits from
    the forked parent) stays under 300 MB."""
    sources = {
        "12mp.jpg": photo(4000, 3000, seed=3),
        "12mp.png": photo(4000, 3000, seed=4, fmt="PNG"),
        "large.png": wide_png(),
        "bomb.gif": gif_bomb(),
    }
    peaks = {}
    for name, data in sources.items():
        (tmp_path / name).write_bytes(data)
        answer = run_worker(
            _job(tmp_path / name, tmp_path / f"out-{name}"), AlbumsSettings()
        )
        assert answer["ok"] == name.startswith("12mp"), answer
        peaks[name] = answer["maxrss_kb"] / 1024
    assert all(mb < 300 for mb in peaks.values()), peaks
    made = sorted(p.name for p in (tmp_path / "out-12mp.jpg").iterdir())
    assert made == [
        "1024.jpg",
        "1024.webp",
        "2000.jpg",
        "2000.webp",
        "480.jpg",
        "480.webp",
    ]
    print(json.dumps(peaks))


def test_a_worker_over_its_memory_limit_is_a_refusal_not_a_crash(
    tmp_path: Path,
) -> None:
    (tmp_path / "big.jpg").write_bytes(photo(4000, 3000, seed=5))
    tight = AlbumsSettings(worker_memory_mb=40)  # less than Python and Pillow need
    answer = run_worker(_job(tmp_path / "big.jpg", tmp_path / "out"), tight)
    assert answer["ok"] is False, answer
    # Where the allocation fails decides what the worker sees: Python's
    # MemoryError ("memory"), the limit itself ("limit", "failed"), or, when
    # it fails inside Pillow's decoder, a decoding error ("corrupt"; seen in
    # CI under load). Each is a refusal with a reason, never a crash.
    assert answer["code"] in ("limit", "memory", "failed", "corrupt"), answer
    if answer["code"] != "corrupt":
        assert "MB" in answer["detail"], answer


def test_an_image_of_the_page_is_read_from_io(tmp_path: Path) -> None:
    """Sanity check of the kit: the drawn photo is a JPEG of the size asked."""
    with Image.open(io.BytesIO(photo(640, 480))) as image:
        assert image.format == "JPEG" and image.size == (640, 480)


def test_a_camera_photo_turned_by_exif_is_published_upright(tmp_path: Path) -> None:
    """A phone stores a portrait photo sideways with "Orientation: 6" (turn
    90° clockwise): the sizes are upright, width and height swapped, and
    the tag (with the rest of the EXIF) is gone."""
    image = Image.new("RGB", (1600, 1200), (40, 90, 200))
    image.paste((250, 210, 40), (0, 0, 200, 1200))  # a yellow band on the left
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)  # a GPS position
    gps[1], gps[2] = "N", (45.0, 45.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    (tmp_path / "portrait.jpg").write_bytes(out.getvalue())
    answer = run_worker(
        _job(tmp_path / "portrait.jpg", tmp_path / "out"), AlbumsSettings()
    )
    assert answer["ok"] and (answer["width"], answer["height"]) == (1200, 1600)
    with Image.open(tmp_path / "out" / "1200.jpg") as made:
        assert made.size == (1200, 1600) and not made.getexif()
        top = made.convert("RGB").getpixel((600, 50))
        assert (
            isinstance(top, tuple) and top[0] > 180 and top[2] < 120
        )  # the band is on top


def test_publish_build_strict_fails_on_a_refused_photo_alone(tmp_path: Path) -> None:
    from conftest import ROOT, run_publish

    text, files = album_post("strict", 2)
    files["images/strict/2.jpg"] = files["images/strict/2.jpg"][:500]  # cut short
    make_site(tmp_path, {"2026-06-01-strict.md": text}, files)
    (tmp_path / "pelicanconf.py").write_text(
        "import importlib.util\n"
        f"_spec = importlib.util.spec_from_file_location('demo', {str(ROOT / 'pelicanconf.py')!r})\n"
        "_demo = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_demo)\n"
        "globals().update({k: v for k, v in vars(_demo).items() if k.isupper()})\n"
        f"THEME = {str(ROOT / 'theme')!r}\nPATH = 'content'\nOUTPUT_PATH = 'output'\n"
        "SITEURL = 'http://strict.test'\nFEED_DOMAIN = SITEURL\n",
        encoding="utf-8",
    )  # fmt: skip
    lenient = run_publish("build", cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    assert "content/images/strict/2.jpg: refused" in lenient.stderr
    assert (tmp_path / "output/posts/2026/strict/index.html").is_file()
    strict = run_publish("build", "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    assert "content/images/strict/2.jpg: refused" in strict.stderr
    assert "Traceback" not in strict.stdout + strict.stderr


def test_a_page_has_its_gallery_and_the_viewer_a_post_without_photos_not(
    tmp_path: Path,
) -> None:
    text, files = album_post("atelier", 2)
    page_text = text.replace("Date: 2026-06-01 10:00\n", "").replace(
        "Slug: atelier", "Slug: notre-atelier"
    )
    make_site(
        tmp_path,
        {"2026-06-02-texte.md": "Title: Texte\nDate: 2026-06-02 10:00\n"
         "Author: Claire Dubois\nLang: fr\nSlug: texte\n\nSans photo.\n"},
        files,
    )  # fmt: skip
    (tmp_path / "content" / "pages").mkdir()
    (tmp_path / "content" / "pages" / "atelier.md").write_text(page_text, "utf-8")
    assert build_site(tmp_path).problems == []
    shown = soup_of(
        (tmp_path / "output" / "notre-atelier" / "index.html").read_text("utf-8")
    )
    assert len(shown.select(".gallery figure")) == 2
    assert shown.select('script[src$="/theme/js/gallery.js"]')
    plain = page(tmp_path, "texte")
    assert not plain.select("script") and not plain.select(".gallery")


def test_a_replaced_photo_is_made_again_a_touched_one_is_not(tmp_path: Path) -> None:
    text, files = album_post("change", 2)
    make_site(tmp_path, {"2026-06-01-change.md": text}, files)
    assert build_site(tmp_path).problems == []
    cache = tmp_path / "cache" / "albums"

    def entries() -> set[str]:
        return {p.parent.name for p in cache.glob("*/meta.json")}

    def shown() -> list[str]:
        soup = page(tmp_path, "change")
        return [img["src"].split("/")[-2] for img in soup.select(".gallery img")]

    first, keys = entries(), shown()
    assert len(first) == 2 and set(keys) == first
    one = tmp_path / "content" / "images" / "change" / "1.jpg"
    # Touched: same bytes, new mtime: hashed again, the same entry.
    os.utime(one, ns=(one.stat().st_atime_ns, one.stat().st_mtime_ns + 10**9))
    assert build_site(tmp_path).problems == []
    assert entries() == first and shown() == keys
    # Replaced under the same name: a new entry, shown by a clean build.
    one.write_bytes(photo(1000, 750, seed=99))
    assert build_site(tmp_path).problems == []
    now = shown()
    assert now[1] == keys[1] and now[0] != keys[0] and now[0] in entries()
    assert page(tmp_path, "change").select(".gallery img")[0]["width"] == "1000"
