"""mailposts.media: images re-encoded without metadata, documents sniffed."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageDraw

from causerie.mailposts import media


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "Apple"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    return exif


def process(data: bytes, max_px: int = 2000, thumb_px: int = 480) -> media.Picture:
    result = media.process_image(data, "photo.jpg", max_px=max_px, thumb_px=thumb_px)
    assert isinstance(result, media.Picture), result
    return result


def assert_no_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
            assert key not in image.info
    assert b"Exif\0\0" not in data
    assert b"GPS" not in data and b"Apple" not in data


def test_exif_orientation_applied_then_every_metadata_removed() -> None:
    source = Image.new("RGB", (300, 100), "red")
    data = encode(
        source, "JPEG", exif=gps_exif(orientation=6).tobytes(), comment=b"secret"
    )
    with Image.open(io.BytesIO(data)) as check:  # the fixture is what we think
        assert check.getexif()[0x0112] == 6 and check.getexif().get_ifd(0x8825)
        assert check.size == (300, 100)
    picture = process(data)
    assert picture.size == (100, 300)  # Orientation 6: turned 90° clockwise
    assert picture.media_type == "image/jpeg" and picture.extension == "jpg"
    assert_no_metadata(picture.data)
    assert_no_metadata(picture.thumbnail)


def test_icc_profile_converted_to_srgb_and_dropped() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (profile, srgb):
        data = encode(Image.new("RGB", (50, 50), "blue"), "JPEG", icc_profile=icc)
        assert_no_metadata(process(data).data)


def test_heic_converted() -> None:
    heif = pillow_heif.from_pillow(Image.new("RGB", (640, 480), (10, 200, 30)))
    out = io.BytesIO()
    heif.save(out, quality=90)
    data = out.getvalue()
    assert media.sniff_image(data) == "HEIF"
    picture = process(data, max_px=320, thumb_px=100)
    assert picture.media_type == "image/jpeg"
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == "JPEG" and image.size == (320, 240)
        r, g, b = image.convert("RGB").getpixel((160, 120))  # type: ignore[misc]
        assert g > 150 and r < 80 and b < 80
    assert picture.thumbnail_size == (100, 75)


@pytest.mark.parametrize(
    ("size", "max_px", "thumb_px", "full", "thumb"),
    [
        ((4000, 3000), 2000, 480, (2000, 1500), (480, 360)),
        ((3000, 4000), 2000, 480, (1500, 2000), (360, 480)),
        ((800, 600), 2000, 480, (800, 600), (480, 360)),  # never enlarged
        ((100, 50), 2000, 480, (100, 50), (100, 50)),
    ],
)
def test_resize_and_thumbnail(size, max_px, thumb_px, full, thumb) -> None:
    data = encode(Image.new("RGB", size, "white"), "PNG")
    picture = process(data, max_px=max_px, thumb_px=thumb_px)
    assert (picture.size, picture.thumbnail_size) == (full, thumb)
    for blob, expected in ((picture.data, full), (picture.thumbnail, thumb)):
        with Image.open(io.BytesIO(blob)) as image:
            assert image.size == expected


@pytest.mark.parametrize(
    ("fmt", "mode", "color", "media_type"),
    [
        ("PNG", "RGBA", (255, 0, 0, 128), "image/png"),  # real transparency kept
        ("PNG", "RGBA", (255, 0, 0, 255), "image/jpeg"),  # opaque alpha: a photo
        ("GIF", "P", 1, "image/jpeg"),
        ("WEBP", "RGB", (0, 0, 255), "image/jpeg"),
        ("JPEG", "CMYK", (0, 255, 255, 0), "image/jpeg"),
    ],
)
def test_formats_in(fmt, mode, color, media_type) -> None:
    picture = process(encode(Image.new(mode, (64, 48), color), fmt))
    assert picture.media_type == media_type
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == ("PNG" if media_type == "image/png" else "JPEG")
    assert_no_metadata(picture.data)


def test_png_text_chunks_are_gone() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 48.85 2.35")
    data = encode(Image.new("RGBA", (20, 20), (0, 0, 0, 10)), "PNG", pnginfo=info)
    picture = process(data)
    assert picture.media_type == "image/png"
    assert b"48.85" not in picture.data and b"tEXt" not in picture.data


def test_decompression_bomb_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(Image.new("RGB", (200, 200), "white"), "PNG")
    # 40,000 pixels for a limit of 30,000: Pillow only warns (it raises at 2x).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30_000)
    assert media.process_image(
        data, "big.png", max_px=2000, thumb_px=480
    ) == media.Problem(media.IMAGE_TOO_LARGE, "big.png")


def test_huge_dimensions_in_a_header_refused_before_decoding() -> None:
    # A PNG that claims 100000×100000 pixels in 60 bytes.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + chunk(b"IEND", b"")
    )
    result = media.process_image(png, "bomb.png", max_px=2000, thumb_px=480)
    assert result == media.Problem(media.IMAGE_TOO_LARGE, "bomb.png")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"MZ\x90\x00 an exe",
        b"\xff\xd8\xff\xe0 truncated jpeg",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
        b"%!PS-Adobe-3.0 EPSF-3.0\n",  # never reaches Ghostscript
        b"<svg onload='alert(1)'/>",
    ],
)
def test_undecodable_images_refused(data: bytes) -> None:
    assert media.process_image(
        data, "x.jpg", max_px=2000, thumb_px=480
    ) == media.Problem(media.NOT_AN_IMAGE, "x.jpg")


def zip_bytes(entries: list[tuple[str, bytes]], stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i, (name, body) in enumerate(entries):
            method = (
                zipfile.ZIP_STORED if stored_first and i == 0 else zipfile.ZIP_DEFLATED
            )
            archive.writestr(zipfile.ZipInfo(name), body, compress_type=method)
    return out.getvalue()


CT = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100


@pytest.mark.parametrize(
    ("data", "name", "declared", "expected"),
    [
        (b"%PDF-1.7\n...", "rapport.pdf", "application/pdf", ("application/pdf", "pdf")),
        (b"%PDF-1.4", "scan.bin", "application/octet-stream", ("application/pdf", "pdf")),
        (zip_bytes([("[Content_Types].xml", CT), ("word/document.xml", b"<w/>")]), "a.docx", "", (media._OOXML["word/document.xml"][1], "docx")),
        (zip_bytes([("[Content_Types].xml", CT), ("xl/workbook.xml", b"<x/>")]), "a.xlsx", "", (media._OOXML["xl/workbook.xml"][1], "xlsx")),
        (zip_bytes([("[Content_Types].xml", CT), ("ppt/presentation.xml", b"<p/>")]), "a.pptx", "", (media._OOXML["ppt/presentation.xml"][1], "pptx")),
        (zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<x/>")], stored_first=True), "a.odt", "", ("application/vnd.oasis.opendocument.text", "odt")),
        (OLE2 + "WordDocument\0".encode("utf-16-le"), "a.doc", "", ("application/msword", "doc")),
        (OLE2 + "Workbook\0".encode("utf-16-le"), "a.xls", "", ("application/vnd.ms-excel", "xls")),
        (OLE2 + "PowerPoint Document\0".encode("utf-16-le"), "a.ppt", "", ("application/vnd.ms-powerpoint", "ppt")),
        ("ville;ventes\nLyon;12\nNîmes;3\n".encode(), "ventes.csv", "text/csv", ("text/csv", "csv")),
        ("ville;ventes\nNîmes;3\n".encode("cp1252"), "ventes.CSV", "application/vnd.ms-excel", ("text/csv", "csv")),
        (b"notes", "notes.txt", "text/plain", ("text/plain", "txt")),
    ],
)  # fmt: skip
def test_documents_allowed(data, name, declared, expected) -> None:
    assert media.sniff_document(data, name, declared) == media.DocumentType(*expected)


@pytest.mark.parametrize(
    ("data", "name", "declared", "code"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode", "rapport.pdf", "application/pdf", media.NOT_ALLOWED),
        (b"#!/bin/sh\nrm -rf /\n", "script.sh", "application/x-sh", media.NOT_ALLOWED),
        (b"<html><script>alert(1)</script>", "page.html", "text/html", media.NOT_ALLOWED),
        (b"a,b\0\0\x01", "data.csv", "text/csv", media.NOT_ALLOWED),  # binary in disguise
        (zip_bytes([("evil.exe", b"MZ")]), "archive.docx", "", media.NOT_ALLOWED),
        (zip_bytes([("[Content_Types].xml", CT), ("word/document.xml", b"<w/>"), ("word/vbaProject.bin", b"x")]), "a.docx", "", media.MACROS),
        (zip_bytes([("[Content_Types].xml", CT.replace(b"/>", b' ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>')), ("word/document.xml", b"<w/>")]), "a.docm", "", media.MACROS),
        (OLE2 + "WordDocument\0".encode("utf-16-le") + "_VBA_PROJECT".encode("utf-16-le"), "a.doc", "", media.MACROS),
        (OLE2 + "SummaryInformation\0".encode("utf-16-le"), "setup.msi", "", media.NOT_ALLOWED),
        (b"PK\x03\x04 broken", "a.xlsx", "", media.NOT_ALLOWED),
        (b"{\\rtf1 hello}", "a.rtf", "application/rtf", media.NOT_ALLOWED),
    ],
)  # fmt: skip
def test_documents_refused(data, name, declared, code) -> None:
    assert media.sniff_document(data, name, declared) == media.Problem(code, name)


# Issue 12 item 11: the refusal names the right cause, so the advice fits.
TNEF_STREAM = b"\x78\x9f\x3e\x22\x00\x00\x01\x06\x90\x08\x00\x04\x00\x00\x00"
QUICKTIME = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "name", "declared", "code"),
    [
        (TNEF_STREAM, "winmail.dat", "application/ms-tnef", media.TNEF),
        (TNEF_STREAM, "ATT00001.dat", "application/octet-stream", media.TNEF),
        (b"\0\0garbage", "WINMAIL.DAT", "application/octet-stream", media.TNEF),
        (QUICKTIME, "IMG_0412.MOV", "video/quicktime", media.VIDEO),
        (QUICKTIME, "clip.bin", "application/octet-stream", media.VIDEO),
        (MP4, "VID_20261128.mp4", "video/mp4", media.VIDEO),
        (
            b"\x1a\x45\xdf\xa3\x01\x00",
            "film.webm",
            "application/octet-stream",
            media.VIDEO,
        ),
        (b"\x00\x01binary", "plan.dwg", "application/acad", media.NOT_ALLOWED),
        (b"{\\rtf1 hello}", "a.rtf", "application/rtf", media.NOT_ALLOWED),
    ],
)
def test_refused_attachments_say_why(
    data: bytes, name: str, declared: str, code: str
) -> None:
    assert media.sniff_document(data, name, declared) == media.Problem(code, name)


# Issue 12 item 15: an image bomb is refused from its header, before any
# pixel is decoded, and one such mail costs little memory.
def sparse_png(width: int, height: int) -> bytes:
    """A 1-bit PNG of ``width``×``height`` black pixels, compressed row by
    row: a few kilobytes that would decode to width×height bytes or more.
    Written by hand so that making it costs no memory either."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte 0, then the bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def test_a_81_megapixel_png_is_refused_from_its_header() -> None:
    data = sparse_png(9000, 9000)
    assert len(data) < 20_000
    assert media.process_image(
        data, "plan.png", max_px=2000, thumb_px=480
    ) == media.Problem(media.IMAGE_TOO_LARGE, "plan.png")
    assert media.MAX_PIXELS < 9000 * 9000


def test_an_image_just_under_the_limit_is_published() -> None:
    # 7000×7000 = 49 megapixels: a 48 MP phone photo is under MAX_PIXELS.
    assert media.MAX_PIXELS >= 7000 * 7000
    picture = media.process_image(
        sparse_png(7000, 7000), "grand.png", max_px=2000, thumb_px=480
    )
    assert isinstance(picture, media.Picture) and picture.size == (2000, 2000)


MEMORY_PROBE = r"""
import datetime as dt, json, resource, sys
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sender_kit import write_blog  # tests/ on PYTHONPATH
from causerie.mailposts.model import Arrival
from causerie.mailposts.service import make_pipeline
from causerie.sitebuild import build as sitebuild

root = Path(sys.argv[4])
settings_file = write_blog(root, {})
settings_file.write_text(
    settings_file.read_text(encoding="utf-8")
    + '\nMAILPOSTS = {"address": "blog@maison-lumen.example", '
    '"authserv_id": "mx.maison-lumen.example"}\n',
    encoding="utf-8",
)
pipeline = make_pipeline(sitebuild.load_settings(settings_file), environ={})
now = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)
pipeline.clock = lambda: now
raw = Path(sys.argv[5]).read_bytes()
verdict = pipeline(Arrival(raw, "pipe"))
print(json.dumps({"outcome": verdict.outcome, "reason": verdict.reason}))
"""
#: Runs MEMORY_PROBE as its own child and reports the child's ru_maxrss. Linux
#: carries a process's peak RSS over fork and exec (the mm's high-water mark
#: is copied, then kept in the signal struct at exec): a probe started
#: straight from pytest would report pytest's own peak. Started from this
#: small launcher, it reports its own.
LAUNCHER = r"""
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-c", sys.argv[1], *sys.argv[2:]])
_pid, status, usage = os.wait4(pid, 0)
print(json.dumps({"status": status, "peak_kb": usage.ru_maxrss}))
"""


def test_a_small_mail_with_a_9000_by_9000_png_costs_little_memory(
    tmp_path: Path,
) -> None:
    import datetime as dt
    import json
    import subprocess
    import sys
    from email.message import EmailMessage
    from email.utils import format_datetime

    msg = EmailMessage()
    msg["Authentication-Results"] = (
        "mx.maison-lumen.example; dkim=pass header.d=maison-lumen.example"
    )
    msg["From"] = "Claire Dubois <claire.dubois@maison-lumen.example>"
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = "Le plan de l’atelier"
    msg["Date"] = format_datetime(dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC))
    msg["Message-ID"] = "<bomb-9000@maison-lumen.example>"
    msg.set_content("Voici le plan de l’atelier, en grand.\n")
    msg.add_attachment(
        sparse_png(9000, 9000), maintype="image", subtype="png", filename="plan.png"
    )
    raw = bytes(msg)
    assert len(raw) < 20_000  # "a 14 kB mail"
    (tmp_path / "bomb.eml").write_bytes(raw)
    tests = Path(__file__).resolve().parent
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            LAUNCHER,
            MEMORY_PROBE,
            "",
            "",
            "",
            str(tmp_path / "blog"),
            str(tmp_path / "bomb.eml"),
        ],
        env={**os.environ, "PYTHONPATH": str(tests)},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    *_, verdict_line, usage_line = done.stdout.strip().splitlines()
    result = json.loads(verdict_line) | json.loads(usage_line)
    assert result["status"] == 0, result
    assert result["outcome"] == "refused", result
    assert "plan.png" in result["reason"] and "pixels" in result["reason"], result
    # ru_maxrss is in kilobytes on Linux: the whole process, imports included.
    print("peak memory of the bomb mail:", result["peak_kb"] // 1024, "MB")
    assert result["peak_kb"] < 300 * 1024, result


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "HEIF"])
def test_the_pixel_count_is_read_before_any_decoding(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile
    from pillow_heif import as_plugin

    data = encode(Image.new("RGB", (400, 300), "orange"), fmt)

    def no_decoding(self: object) -> None:
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(media, "MAX_PIXELS", 400 * 300 - 1)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(as_plugin._LibHeifImageFile, "load", no_decoding)
    # IMAGE_TOO_LARGE, not NOT_AN_IMAGE: the refusal came before load().
    assert media.process_image(
        data, f"big.{fmt.lower()}", max_px=2000, thumb_px=480
    ) == media.Problem(media.IMAGE_TOO_LARGE, f"big.{fmt.lower()}")


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_large_heif_shrunk_band_by_band_is_the_same_picture(
    orientation: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 12 item 15: a 48 MP iPhone HEIC took 357 MB through pillow-heif's
    # load(); shrunk band by band it takes 254 MB. The banded path is forced
    # here on a small image (encoding a 48 MP one takes a minute) and must
    # give what the ordinary path gives: size, orientation, colours.
    image = Image.new("RGB", (1280, 960), (40, 90, 160))
    ImageDraw.Draw(image).rectangle((0, 0, 320, 960), fill=(230, 200, 60))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(image, "HEIF", quality=90, exif=exif)
    ordinary = process(data, max_px=400, thumb_px=100)
    monkeypatch.setattr(media, "_HEIF_BANDED_PIXELS", 0)
    banded = process(data, max_px=400, thumb_px=100)
    assert (
        banded.size == ordinary.size
        and banded.thumbnail_size == ordinary.thumbnail_size
    )
    with (
        Image.open(io.BytesIO(banded.data)) as one,
        Image.open(io.BytesIO(ordinary.data)) as two,
    ):
        width, height = one.size
        for point in [
            (5, 5),
            (width - 5, height - 5),
            (width // 2, 5),
            (5, height // 2),
        ]:
            a, b = (
                one.convert("RGB").getpixel(point),
                two.convert("RGB").getpixel(point),
            )
            assert isinstance(a, tuple) and isinstance(b, tuple)
            assert all(abs(x - y) < 24 for x, y in zip(a, b, strict=True)), (
                point,
                a,
                b,
            )


@pytest.mark.parametrize(
    ("fmt", "size"), [("WEBP", (4100, 3000)), ("GIF", (6000, 4500))]
)
def test_formats_whose_decoder_copies_have_lower_limits(
    fmt: str, size: tuple[int, int]
) -> None:
    # Over their own limit (WebP 12 MP, GIF 25 MP), under the 50 MP one.
    assert media.MAX_PIXELS_BY_FORMAT[fmt] < size[0] * size[1] < media.MAX_PIXELS
    mode = "P" if fmt == "GIF" else "RGB"
    data = encode(
        Image.new(mode, size), fmt, **({"method": 0} if fmt == "WEBP" else {})
    )
    assert media.process_image(
        data, f"a.{fmt.lower()}", max_px=2000, thumb_px=480
    ) == media.Problem(media.IMAGE_TOO_LARGE, f"a.{fmt.lower()}")
