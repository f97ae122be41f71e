"""Issue 12, item 4: two posts never share a URL or a media folder.

The same subject twice in a year made two posts of one slug: the second
one's photos replaced the first one's (one media folder), its confirmation
gave the first one's URL, and ``build --strict`` failed ("same URL").
"""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
import test_mail_pipeline
from conftest import run_publish
from PIL import Image
from test_mail_pipeline import AR, CLAIRE, NOW, Inbox, Site, wait_for

from causerie.mailposts.model import PUBLISHED, UPDATED, Arrival
from causerie.mailposts.service import make_pipeline

#: The real SMTP listener that receives the replies (a fixture).
inbox = test_mail_pipeline.inbox
SUBJECT = "Portes ouvertes à l’atelier"


@pytest.fixture
def site(tmp_path: Path, inbox: tuple[Inbox, int]) -> Site:
    return Site(tmp_path / "blog", inbox[1])


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), color).save(out, "JPEG")
    return out.getvalue()


def photo_mail(
    color: str,
    *,
    subject: str = SUBJECT,
    text: str = "Venez voir les lampes samedi.",
    extra: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = AR
    msg["From"] = CLAIRE
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = make_msgid(domain="phone.example")
    for name, value in (extra or {}).items():
        msg[name] = value
    msg.set_content(text + "\n")
    for n in (1, 2):
        msg.add_attachment(
            jpeg(color), maintype="image", subtype="jpeg", filename=f"IMG_{n}.jpg"
        )
    return bytes(msg)


def media_of(site: Site) -> dict[str, bytes]:
    root = site.root / "content" / "images" / "mail"
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def folder_of(post: Path) -> set[str]:
    """The media folders a post's text points at."""
    import re

    text = post.read_text(encoding="utf-8")
    return set(re.findall(r"\{static\}/images/mail/(\d{4}/[^/)]+)/", text))


def test_the_same_subject_twice_makes_two_posts_with_their_own_url_and_photos(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    first = site.pipeline(Arrival(photo_mail("red"), "pipe"))
    assert first.outcome == PUBLISHED, first.reason
    before = media_of(site)
    assert len(before) == 2  # two photos

    second = site.pipeline(Arrival(photo_mail("blue"), "pipe"))
    assert second.outcome == PUBLISHED, second.reason

    posts = site.posts()
    assert len(posts) == 2
    folders = [folder_of(p) for p in posts]
    assert all(len(f) == 1 for f in folders)
    assert folders[0] != folders[1]
    after = media_of(site)
    assert len(after) == 4
    # The first post's photos are untouched, byte for byte.
    assert {k: v for k, v in after.items() if k in before} == before
    assert first.url != second.url
    assert second.url and second.url.endswith("/portes-ouvertes-a-latelier-2/")

    replies = wait_for(inbox[0], 2)
    assert len(replies) == 2
    assert first.url in replies[0].get_content()
    assert second.url in replies[1].get_content()
    assert first.url not in replies[1].get_content()

    result = run_publish(
        "--settings", str(site.settings_file), "build", "--strict", cwd=site.root
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = site.root / "output"
    for verdict in (first, second):
        assert verdict.url is not None
        path = verdict.url.removeprefix("http://blog.test/")
        page = (output / path / "index.html").read_text(encoding="utf-8")
        assert "Venez voir les lampes samedi." in page


def test_an_edit_keeps_its_slug_and_media_folder(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    assert site.pipeline(Arrival(photo_mail("red"), "pipe")).outcome == PUBLISHED
    (confirmation,) = wait_for(inbox[0], 1)
    (post,) = site.posts()
    (folder,) = folder_of(post)
    # A post whose slug the edit's new title would have.
    other = site.pipeline(Arrival(photo_mail("green", subject="Samedi"), "pipe"))
    assert other.outcome == PUBLISHED
    others = media_of(site)

    edited = site.pipeline(
        Arrival(
            photo_mail(
                "blue",
                subject="Samedi",
                text="MODIFIER\n\nVenez voir les lampes samedi et dimanche.",
                extra={"In-Reply-To": str(confirmation["Message-ID"])},
            ),
            "pipe",
        )
    )
    assert edited.outcome == UPDATED, edited.reason
    text = post.read_text(encoding="utf-8")
    assert "Slug: portes-ouvertes-a-latelier\n" in text
    assert "samedi et dimanche" in text
    assert folder_of(post) == {folder}
    # The other post's photos are untouched.
    kept = {k: v for k, v in media_of(site).items() if k.startswith("2026/samedi/")}
    assert kept == {k: v for k, v in others.items() if k.startswith("2026/samedi/")}
    assert len(site.posts()) == 2


def test_a_retry_after_a_crash_keeps_the_post_it_wrote(site: Site) -> None:
    """The post written, the ledger not told (a crash between the two): the
    message again finds its post, under its slug, and makes no second one."""
    raw = photo_mail("red")
    assert site.pipeline(Arrival(raw, "pipe")).outcome == PUBLISHED
    site.pipeline.ledger.close()
    for path in (site.root / "var" / "mail").glob("ledger.sqlite3*"):
        path.unlink()
    pipeline = make_pipeline(site.settings, environ={})
    pipeline.clock = lambda: NOW
    again = pipeline(Arrival(raw, "pipe"))
    assert again.outcome == PUBLISHED, again.reason
    assert len(site.posts()) == 1
    assert again.url and again.url.endswith("/portes-ouvertes-a-latelier/")
    assert len(media_of(site)) == 2


def test_a_deleted_posts_address_is_not_given_again(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    """Its tombstone (410 Gone) stays at that address: a new post of the
    same subject gets another one."""
    first = site.pipeline(Arrival(photo_mail("red"), "pipe"))
    (confirmation,) = wait_for(inbox[0], 1)
    deleted = site.pipeline(
        Arrival(
            photo_mail(
                "red",
                subject=f"Re: {SUBJECT}",
                text="SUPPRIMER",
                extra={"In-Reply-To": str(confirmation["Message-ID"])},
            ),
            "pipe",
        )
    )
    assert deleted.outcome == "deleted", deleted.reason
    assert site.posts() == []
    # Its photos may be gone too (another item of the issue): the history
    # copy of the post is what keeps its slug taken.
    import shutil

    shutil.rmtree(site.root / "content" / "images" / "mail")
    again = site.pipeline(Arrival(photo_mail("blue"), "pipe"))
    assert again.outcome == PUBLISHED
    assert first.url and again.url and again.url != first.url
    assert again.url.endswith("/portes-ouvertes-a-latelier-2/")
