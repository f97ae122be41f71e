"""Avatars from outside: refused by their pixel count before any decoding,
fetched from a real server on 127.0.0.2, peak memory measured in a child
process (issue 13 item 8)."""

from __future__ import annotations

import io
import json
import logging
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from test_fetch import ALLOW, Loopback

from causerie.webmentions.verify.avatars import MAX_PIXELS, cache_avatar, to_square_png

#: What a picture may cost, decoded and resized, in all (the issue's bound).
MEMORY_LIMIT_KB = 300 * 1024


def png(width: int, height: int, color_type: int = 6, bit_depth: int = 8) -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels, made row by row:
    a few kB whatever it declares (a decompression bomb, or a worst case)."""
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    row = b"\x00" + bytes(width * channels * bit_depth // 8)  # filter 0, then pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def web() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.close()


def test_a_small_png_declaring_9000x9000_is_refused_with_its_reason(
    web: Loopback, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bomb = png(9000, 9000, color_type=0)
    assert len(bomb) < 100_000  # small on the wire, 81 Mpx once decoded
    url = web.page("/bomb-9000.png", bomb, content_type="image/png")
    with caplog.at_level(logging.WARNING, logger="causerie.webmentions.verify.avatars"):
        assert cache_avatar(url, tmp_path, ALLOW, 96) is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"avatar {url} not cached: too large: 9000x9000 pixels")
    assert list(tmp_path.iterdir()) == []


def test_a_real_avatar_is_cached_as_a_small_square_png(
    web: Loopback, tmp_path: Path
) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (300, 200), "#8a3b12").save(picture, format="JPEG")
    url = web.page("/face.jpg", picture.getvalue(), content_type="image/jpeg")
    name = cache_avatar(url, tmp_path, ALLOW, 96)
    assert name
    with Image.open(tmp_path / name) as image:
        assert (image.format, image.size) == ("PNG", (96, 96))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (png(6000, 6000), "too large: 6000x6000"),  # the 430 MB one
        (png(4001, 3000), "too large: 4001x3000"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a picture we accept"),
        (png(64, 64)[:60], "not a readable picture"),  # cut short
    ],
)
def test_what_is_refused_and_why(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_square_png(data, 96)


def _peak_kb(data: bytes, tmp_path: Path) -> tuple[int, str]:
    """Decode ``data`` in a fresh process; its peak memory (kB) and outcome.

    Not getrusage's ru_maxrss: on Linux it keeps, across the fork and exec,
    the resident size of the pytest process that started the child. The
    child resets its own high-water mark first (clear_refs, Linux >= 4.0)
    and reads it at the end (VmHWM), imports and all.
    """
    path = tmp_path / "picture.bin"
    path.write_bytes(data)
    script = f"""
import json, sys
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak resident size to the current one
from causerie.webmentions.verify.avatars import to_square_png
try:
    outcome = "ok %d bytes" % len(to_square_png(open({str(path)!r}, "rb").read(), 96))
except ValueError as exc:
    outcome = "refused: %s" % exc
status = open("/proc/self/status").read()
peak = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
print(json.dumps([int(peak[0]), outcome]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    peak, outcome = json.loads(done.stdout)
    return int(peak), str(outcome)


def _encoded(fmt: str, width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#8a3b12").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "accepted"),
    [
        (lambda: png(6000, 6000), False),  # the 430 MB one: its header
        (lambda: png(9000, 9000, color_type=0), False),
        # The largest accepted, in the formats that cost the most to decode.
        (lambda: png(4000, 3000, color_type=6, bit_depth=16), True),
        (lambda: png(4000, 3000, color_type=0, bit_depth=16), True),
        (lambda: _encoded("WEBP", 4000, 3000), True),
        (lambda: _encoded("GIF", 4000, 3000), True),
        (lambda: _encoded("JPEG", 4000, 3000), True),
    ],
    ids=["png-6000", "png-9000", "png-rgba16", "png-grey16", "webp", "gif", "jpeg"],
)
def test_peak_memory_stays_under_300_mb(
    tmp_path: Path, make: Callable[[], bytes], accepted: bool
) -> None:
    peak, outcome = _peak_kb(make(), tmp_path)
    assert outcome.startswith("ok" if accepted else "refused: too large"), outcome
    assert peak < MEMORY_LIMIT_KB, f"{peak // 1024} MB"


def test_the_limit_is_the_pixel_count() -> None:
    assert 4000 * 3000 <= MAX_PIXELS < 4001 * 3000
