"""Golden pairs: each message of tests/data/mail/golden/ (shaped like the mail
client or the oddity it is named after; tests/data/mail/make_golden.py) goes
through the real pipeline of a site, and ends exactly as its expected file
says, which also says the outcome:

- NAME.expected.md: a post (published, or drafted for an author who may only
  draft), exactly this file; its photos upright, resized, no metadata left;
- NAME.refused.txt: refused, with exactly this reason (the reply's text);
- NAME.held.txt: held (quarantined), with exactly this reason (no reply, but
  for a message damaged on its way, whose author is told to send it again).

To accept a deliberate change of output: CAUSERIE_GOLDEN_UPDATE=1, then read
the diff of the expected files before committing them.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from PIL import Image
from sender_kit import write_blog

from causerie.mailposts.model import (
    DRAFTED,
    PUBLISHED,
    QUARANTINED,
    REFUSED,
    Arrival,
    Verdict,
)
from causerie.mailposts.service import make_pipeline
from causerie.sitebuild import build as sitebuild

GOLDEN = Path(__file__).resolve().parent / "data" / "mail" / "golden"
NAMES = sorted(p.stem for p in GOLDEN.glob("*.eml"))
#: The messages are dated 22–30 November 2026: the pipeline's clock is
#: after the last one (a Date ahead of the receipt is a wrong clock, and the
#: post is dated at its receipt: issue 12 item 9), and max_age_days below
#: spans them all (a week after the first, it would be a replay).
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


#: The expected file of each outcome.
SUFFIX = {
    PUBLISHED: ".expected.md",
    DRAFTED: ".expected.md",
    REFUSED: ".refused.txt",
    QUARANTINED: ".held.txt",
}


@pytest.fixture(scope="module")
def verdicts(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, Verdict]]:
    root = tmp_path_factory.mktemp("golden") / "blog"
    settings_file = write_blog(root, {})
    settings_file.write_text(
        settings_file.read_text(encoding="utf-8")
        + '\nMAILPOSTS = {"address": "blog@maison-lumen.example", '
        '"authserv_id": "mx.maison-lumen.example", "max_age_days": 14}\n',
        encoding="utf-8",
    )
    pipeline = make_pipeline(sitebuild.load_settings(settings_file), environ={})
    pipeline.clock = lambda: NOW
    return {
        name: (
            root / "content",
            pipeline(Arrival((GOLDEN / f"{name}.eml").read_bytes(), "pipe")),
        )
        for name in NAMES
    }


@pytest.fixture(scope="module")
def outcomes(
    verdicts: dict[str, tuple[Path, Verdict]],
) -> dict[str, tuple[Path, str]]:
    """The posts: name → (content/, the post file's text)."""
    return {
        name: (content, (content / verdict.path).read_text(encoding="utf-8"))
        for name, (content, verdict) in verdicts.items()
        if verdict.outcome in (PUBLISHED, DRAFTED) and verdict.path
    }


def expected_file(name: str) -> Path | None:
    found = [GOLDEN / f"{name}{s}" for s in set(SUFFIX.values())]
    existing = [p for p in found if p.exists()]
    assert len(existing) <= 1, existing
    return existing[0] if existing else None


def test_there_are_golden_mails() -> None:
    # Issue 12: at least 40, every client and oddity with its outcome.
    assert len(NAMES) >= 40
    assert all(expected_file(name) for name in NAMES), [
        n for n in NAMES if not expected_file(n)
    ]


@pytest.mark.parametrize("name", NAMES)
def test_golden_outcome(verdicts: dict[str, tuple[Path, Verdict]], name: str) -> None:
    content, verdict = verdicts[name]
    assert verdict.outcome in SUFFIX, (name, verdict)
    if verdict.outcome in (PUBLISHED, DRAFTED):
        assert verdict.path
        made = (content / verdict.path).read_text(encoding="utf-8")
    else:
        assert verdict.reason
        made = verdict.reason + "\n"
    wanted = GOLDEN / f"{name}{SUFFIX[verdict.outcome]}"
    if os.environ.get("CAUSERIE_GOLDEN_UPDATE") == "1":
        for other in set(SUFFIX.values()):
            (GOLDEN / f"{name}{other}").unlink(missing_ok=True)
        wanted.write_text(made, encoding="utf-8")
    found = expected_file(name)
    assert found == wanted, f"{name}: {verdict.outcome}, expected {found}"
    assert made == wanted.read_text(encoding="utf-8")
    if verdict.outcome == DRAFTED:
        assert "Status: draft" in made


def images(content: Path, slug: str) -> dict[str, Image.Image]:
    folder = content / "images" / "mail" / "2026" / slug
    return {p.name: Image.open(p) for p in sorted(folder.glob("*.jpg"))}


def assert_no_metadata(image: Image.Image, path: Path) -> None:
    assert dict(image.getexif()) == {}
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
    data = path.read_bytes()
    assert b"Exif" not in data and b"GPS" not in data and b"iPhone" not in data


def test_the_iphone_photo_is_upright_and_has_no_gps(
    outcomes: dict[str, tuple[Path, str]],
) -> None:
    content, _text = outcomes["iphone-mail"]
    folder = content / "images/mail/2026/la-premiere-aube-dhiver"
    photo = Image.open(folder / "1.jpg")
    # Sent 640×480 with "Orientation: rotate 90° clockwise": published upright.
    assert photo.size == (480, 640)
    # The yellow band drawn on the left of the sensor's image is now on top.
    top = photo.convert("RGB").getpixel((240, 20))
    bottom = photo.convert("RGB").getpixel((240, 620))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 180 and top[2] < 120, top  # yellow
    assert bottom[2] > 120 and bottom[0] < 100, bottom  # blue
    assert_no_metadata(photo, folder / "1.jpg")
    # No thumbnail of mail's own: the albums plugin makes every size.
    assert sorted(p.name for p in folder.iterdir()) == ["1.jpg"]


def test_the_heic_photo_is_a_jpeg(outcomes: dict[str, tuple[Path, str]]) -> None:
    content, _text = outcomes["heic-photo"]
    found = images(content, "abat-jour-miel")
    assert sorted(found) == ["1.jpg"]
    assert found["1.jpg"].format == "JPEG" and found["1.jpg"].size == (400, 300)


def test_apple_mail_inline_images_stay_where_they_were(
    outcomes: dict[str, tuple[Path, str]],
) -> None:
    content, text = outcomes["apple-mail-inline"]
    assert (
        text.index("Deux vues") < text.index("/1.jpg | ") < text.index("Et la vitrine")
    )
    assert text.index("Et la vitrine") < text.index("/2.jpg | ")
    found = images(content, "portes-ouvertes-latelier-en-images")
    assert found["1.jpg"].size == (320, 200) and found["2.jpg"].size == (320, 200)
    for name, image in found.items():
        assert_no_metadata(
            image,
            content / "images/mail/2026/portes-ouvertes-latelier-en-images" / name,
        )


def test_the_pdf_is_published_as_it_came(outcomes: dict[str, tuple[Path, str]]) -> None:
    import email
    from email import policy

    content, text = outcomes["pdf-attachment"]
    sent = email.message_from_bytes(
        (GOLDEN / "pdf-attachment.eml").read_bytes(), policy=policy.default
    )
    (attached,) = [p for p in sent.walk() if p.get_content_type() == "application/pdf"]
    # Under its own name, made safe for a URL (issue 12 item 14: not "1.pdf").
    folder = content / "images/mail/2026/programme-des-portes-ouvertes"
    published = folder / "programme-portes-ouvertes.pdf"
    assert published.read_bytes() == attached.get_content()
    assert (
        "```downloads\n{static}/images/mail/2026/programme-des-portes-ouvertes/"
        "programme-portes-ouvertes.pdf | Programme portes ouvertes.pdf\n```"
    ) in text


def test_no_image_keeps_metadata(outcomes: dict[str, tuple[Path, str]]) -> None:
    content = next(iter(outcomes.values()))[0]
    written = sorted((content / "images" / "mail").rglob("*.jpg"))
    assert (
        len(written) >= 5
    )  # one a photo (no thumbnails: the albums plugin sizes them)
    for path in written:
        assert_no_metadata(Image.open(io.BytesIO(path.read_bytes())), path)
