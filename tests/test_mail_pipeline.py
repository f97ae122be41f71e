"""Posting by e-mail end to end: a message in, a post file, a reply through a
real SMTP listener (aiosmtpd), the built page. The pipeline is the real one
of a site (mailposts.service.make_pipeline), as every adapter gets it."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import run_publish
from sender_kit import write_blog
from test_notify import Collector

from causerie.mailposts.model import (
    ANSWERED,
    DELETED,
    DRAFTED,
    DUPLICATE,
    PUBLISHED,
    QUARANTINED,
    REFUSED,
    RESTORED,
    UPDATED,
    Arrival,
)
from causerie.mailposts.pipeline import Pipeline
from causerie.mailposts.service import make_pipeline
from causerie.sitebuild import build as sitebuild

CLAIRE = "claire.dubois@maison-lumen.example"  # mail = "publish"
LEA = "lea.marchetti@maison-lumen.example"  # mail: the default, drafts only
AR = "mx.maison-lumen.example; dkim=pass header.d=maison-lumen.example header.s=s1"
#: The pipeline's clock: before the test site's build date (2026-11-23), so
#: the posts are not scheduled in its future.
NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)


#: A real SMTP listener's handler keeping what it receives (the replies).
Inbox = Collector


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


class Site:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.settings_file = write_blog(root, {})
        conf = self.settings_file.read_text(encoding="utf-8")
        conf += f"""
MAILPOSTS = {{
    "address": "blog@maison-lumen.example",
    "authserv_id": "mx.maison-lumen.example",
    "smtp_host": "127.0.0.1",
    "smtp_port": {port},
}}
"""
        self.settings_file.write_text(conf, encoding="utf-8")
        self.settings = sitebuild.load_settings(self.settings_file)
        self.pipeline: Pipeline = make_pipeline(self.settings, environ={})
        self.pipeline.clock = lambda: NOW

    def posts(self) -> list[Path]:
        return sorted((self.root / "content" / "posts").glob("*.md"))


@pytest.fixture
def site(tmp_path: Path, inbox: tuple[Inbox, int]) -> Site:
    return Site(tmp_path / "blog", inbox[1])


def mail(
    *,
    subject: str = "Une nouvelle lampe à l’atelier",
    body: str = "Nous avons fini la lampe Aube ce matin.\n\nElle part demain chez une cliente.\n",
    sender: str = CLAIRE,
    ar: str | None = AR,
    date: dt.datetime | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    if ar:
        msg["Authentication-Results"] = ar
    msg["From"] = sender
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or NOW - dt.timedelta(minutes=5))
    msg["Message-ID"] = make_msgid(domain="phone.example")
    for name, value in (extra or {}).items():
        msg[name] = value
    msg.set_content(body)
    return bytes(msg)


def ingest(site: Site, raw: bytes) -> Any:
    return site.pipeline(Arrival(raw, "pipe"))


def wait_for(inbox: Inbox, count: int) -> list[EmailMessage]:
    deadline = time.monotonic() + 10
    while len(inbox.envelopes) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return inbox.messages()


def test_a_mail_becomes_a_post_and_its_author_gets_the_link(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    raw = mail()
    verdict = ingest(site, raw)
    assert verdict.outcome == PUBLISHED, verdict.reason
    (path,) = site.posts()
    text = path.read_text(encoding="utf-8")
    assert "Title: Une nouvelle lampe à l’atelier" in text
    assert "Author: Claire Dubois" in text
    assert "Message-Id: <" in text
    assert "Nous avons fini la lampe Aube ce matin." in text
    assert verdict.url and verdict.url.startswith("http://blog.test/posts/")
    (answer,) = wait_for(inbox[0], 1)
    envelope = inbox[0].envelopes[0]
    assert envelope.mail_from in ("", "<>")  # RFC 3834 §3.3: a null sender
    assert envelope.rcpt_tos == [CLAIRE]
    assert answer["Auto-Submitted"] == "auto-replied"
    original = message_from_bytes(raw, policy=policy.default)
    assert answer["In-Reply-To"] == original["Message-ID"]
    assert verdict.url in answer.get_content()

    # The same message again (a replay, a second poll): nothing new.
    again = ingest(site, raw)
    assert again.outcome == DUPLICATE
    assert len(site.posts()) == 1
    time.sleep(0.3)
    assert len(inbox[0].envelopes) == 1


def test_the_post_builds_and_is_sanitized(site: Site) -> None:
    body = (
        "Voici du code : &lt;script&gt;alert(1)&lt;/script&gt; et <script>alert(2)</script>\n\n"
        '<img src=x onerror="alert(3)"> [lien](javascript:alert(4))\n'
    )
    assert ingest(site, mail(body=body)).outcome == PUBLISHED
    result = run_publish("--settings", str(site.settings_file), "build", cwd=site.root)
    assert result.returncode == 0, result.stderr
    pages = [
        p
        for p in (site.root / "output" / "posts").rglob("index.html")
        if "nouvelle-lampe" in str(p)
    ]
    (page,) = pages
    from bs4 import BeautifulSoup

    content = BeautifulSoup(page.read_text(encoding="utf-8"), "html5lib").select_one(
        ".e-content"
    )
    assert content is not None
    # No live markup from the mail: no script, no handler, no javascript: URL…
    assert content.find_all(["script", "img", "svg", "iframe"]) == []
    for element in content.find_all(True):
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), element
            assert "javascript:" not in str(value).lower(), element
    # …while the words are kept, as text.
    text = content.get_text()
    assert "<script>alert(2)</script>" in text
    assert "alert(1)" in text and "onerror" in text


SUMMARIES = [
    "[x](https://shop.example/){: onclick=alert(1) }",
    "[clic](javascript:alert(2)) et [data](data:text/html,<script>alert(3)</script>)",
    '{: style="position:fixed;inset:0" } Une offre',
    "![](https://tracker.example/pixel.gif) <img src=https://tracker.example/t.gif>",
]


@pytest.mark.parametrize("summary", SUMMARIES)
def test_a_summary_is_plain_text_in_every_page_and_feed(
    site: Site, summary: str
) -> None:
    # Issue 12, item 12: Pelican renders Summary: as Markdown, outside the
    # body's sanitizer, and shows it in the lede, every list and the feeds.
    body = f"résumé: {summary}\n\nNous avons fini la lampe Aube ce matin.\n"
    assert ingest(site, mail(body=body)).outcome == PUBLISHED
    result = run_publish("--settings", str(site.settings_file), "build", cwd=site.root)
    assert result.returncode == 0, result.stderr
    from bs4 import BeautifulSoup

    output = site.root / "output"
    shown = [p for p in output.rglob("*.html") if "nouvelle-lampe" in p.read_text()]
    shown += list(output.rglob("*.xml"))
    assert len(shown) >= 3  # the post, the home page, an archive or author page
    for page in shown:
        text = page.read_text(encoding="utf-8")
        if page.suffix == ".xml":
            # A feed carries HTML as escaped text: read it as HTML.
            text = text.replace("&lt;", "<").replace("&gt;", ">")
            text = text.replace("&quot;", '"').replace("&amp;", "&")
        soup = BeautifulSoup(text, "html.parser")
        for element in soup.find_all(True):
            for name, value in element.attrs.items():
                value = " ".join(value) if isinstance(value, list) else str(value)
                assert not name.lower().startswith("on"), (page, element)
                assert name.lower() != "style", (page, element)
                assert not value.lower().startswith(("javascript:", "data:")), page
                if name.lower() in ("src", "srcset", "href", "poster", "data"):
                    assert "tracker.example" not in value, (page, element)


def test_a_spoofed_sender_is_quarantined_without_a_reply(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    forged = mail(ar="mx.attacker.example; dkim=pass header.d=maison-lumen.example")
    verdict = ingest(site, forged)
    assert verdict.outcome == QUARANTINED
    assert "no DKIM pass aligned" in (verdict.reason or "")
    assert site.posts() == []
    kept = list((site.root / "var" / "mail" / QUARANTINED).glob("*.eml"))
    assert [p.read_bytes() for p in kept] == [forged]  # nothing lost
    time.sleep(0.3)
    assert inbox[0].envelopes == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"List-Id": "<annonces.maison-lumen.example>"},
    ],
)
def test_automatic_mail_makes_no_post_and_gets_no_answer(
    site: Site, inbox: tuple[Inbox, int], headers: dict[str, str]
) -> None:
    verdict = ingest(site, mail(subject="Absent du bureau", extra=headers))
    assert verdict.outcome == QUARANTINED
    assert "automatic mail" in (verdict.reason or "")
    time.sleep(0.3)
    assert site.posts() == [] and inbox[0].envelopes == []


def test_an_old_date_is_a_replay(site: Site) -> None:
    old = NOW - dt.timedelta(days=30)
    verdict = ingest(site, mail(date=old))
    assert verdict.outcome == QUARANTINED
    assert "days old" in (verdict.reason or "")


def test_a_draft_only_author_makes_a_draft(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    raw = mail(sender=LEA, ar=AR)
    verdict = ingest(site, raw)
    assert verdict.outcome == DRAFTED
    (path,) = site.posts()
    assert "Status: draft" in path.read_text(encoding="utf-8")
    (answer,) = wait_for(inbox[0], 1)
    assert "brouillon" in answer.get_content()


def test_a_huge_mail_is_refused_with_a_reason(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    site.pipeline.cfg = type(site.pipeline.cfg)(
        **{**vars(site.pipeline.cfg), "max_message_bytes": 2_000}
    )
    verdict = ingest(site, mail(body="Une longue histoire.\n" * 400))
    assert verdict.outcome == REFUSED
    (answer,) = wait_for(inbox[0], 1)
    assert "la limite est" in answer.get_content()
    assert list((site.root / "var" / "mail" / REFUSED).glob("*.eml"))


def confirmation_of(inbox: Inbox) -> EmailMessage:
    (answer,) = wait_for(inbox, 1)
    return answer


def test_edit_and_delete_by_reply(site: Site, inbox: tuple[Inbox, int]) -> None:
    assert ingest(site, mail()).outcome == PUBLISHED
    confirmation = confirmation_of(inbox[0])
    (path,) = site.posts()

    # Another author answering the confirmation cannot touch the post.
    other = ingest(
        site,
        mail(
            sender=LEA,
            subject="Re: Une nouvelle lampe",
            body="Texte de Léa.\n",
            extra={"In-Reply-To": str(confirmation["Message-ID"])},
        ),
    )
    assert other.outcome == QUARANTINED
    assert "Texte de Léa" not in path.read_text(encoding="utf-8")

    edited = ingest(
        site,
        mail(
            subject="Re: La lampe Aube est finie",
            body="MODIFIER\n\nNous avons fini la lampe Aube ce matin, avec un abat-jour en lin.\n",
            extra={"In-Reply-To": str(confirmation["Message-ID"])},
        ),
    )
    assert edited.outcome == UPDATED, edited.reason
    text = path.read_text(encoding="utf-8")
    assert "abat-jour en lin" in text
    assert "Title: La lampe Aube est finie" in text
    assert len(site.posts()) == 1

    removed = ingest(
        site,
        mail(
            subject="Re: La lampe Aube est finie",
            body="SUPPRIMER\n",
            extra={"In-Reply-To": str(confirmation["Message-ID"])},
        ),
    )
    assert removed.outcome == DELETED
    assert site.posts() == []


def test_a_draft_only_authors_edit_stays_a_draft(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    assert ingest(site, mail(sender=LEA)).outcome == DRAFTED
    confirmation = confirmation_of(inbox[0])
    edited = ingest(
        site,
        mail(
            sender=LEA,
            subject="Re: Une nouvelle lampe",
            body="Edit\nstatus: published\n\nLe texte corrigé.\n",
            extra={"In-Reply-To": str(confirmation["Message-ID"])},
        ),
    )
    assert edited.outcome == UPDATED, edited.reason
    (path,) = site.posts()
    text = path.read_text(encoding="utf-8")
    assert "Le texte corrigé." in text and "Status: draft" in text


def test_a_retried_delete_after_a_crash_still_deletes(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    """A crash after the post's removal, before its record: the DELETE mail,
    handled again, ends as deleted (not as "the post no longer exists")."""
    assert ingest(site, mail()).outcome == PUBLISHED
    confirmation = confirmation_of(inbox[0])
    (path,) = site.posts()
    path.unlink()  # what the first, interrupted try had done
    again = ingest(
        site,
        mail(
            subject="Re: Une nouvelle lampe",
            body="DELETE\n",
            extra={"In-Reply-To": str(confirmation["Message-ID"])},
        ),
    )
    assert again.outcome == DELETED, again.reason


def test_the_same_mail_ingested_at_once_makes_one_post(site: Site) -> None:
    """`mail poll --watch` and `mail import` at the same time, several times
    over: the per-site ingest lock lets one write the post, the others find
    it recorded."""
    import threading

    raw = mail()
    pipelines = [make_pipeline(site.settings, environ={}) for _ in range(4)]
    for pipeline in pipelines:
        pipeline.clock = lambda: NOW
    start = threading.Barrier(len(pipelines))
    outcomes: list[str] = []

    def run(pipeline: Pipeline) -> None:
        start.wait()
        outcomes.append(pipeline(Arrival(raw, "pipe")).outcome)

    threads = [threading.Thread(target=run, args=(p,)) for p in pipelines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [DUPLICATE, DUPLICATE, DUPLICATE, PUBLISHED]
    assert len(site.posts()) == 1


def answer_the_confirmation(
    site: Site, inbox: tuple[Inbox, int], subject: str, body: str, **headers: str
) -> tuple[Path, str, Any]:
    """Publish a post, then answer its confirmation: the post file, its text
    before the answer, and the answer's verdict."""
    assert ingest(site, mail()).outcome == PUBLISHED
    confirmation = confirmation_of(inbox[0])
    (path,) = site.posts()
    before = path.read_text(encoding="utf-8")
    extra = {"In-Reply-To": str(confirmation["Message-ID"]), **headers}
    verdict = ingest(site, mail(subject=subject, body=body, extra=extra))
    return path, before, verdict


@pytest.mark.parametrize(
    "body",
    [
        "Merci !\n",
        "secret: s3cr3t\n\nMerci beaucoup, c’est parfait.\n",
        "> Votre billet est en ligne\n\nSUPPRIMER plus tard ?\n",
    ],
)
def test_an_answer_without_a_command_changes_nothing_and_says_how(
    site: Site, inbox: tuple[Inbox, int], body: str
) -> None:
    path, before, verdict = answer_the_confirmation(
        site, inbox, "Re: Une nouvelle lampe", body
    )
    assert verdict.outcome == ANSWERED, verdict.reason
    assert path.read_text(encoding="utf-8") == before
    answers = wait_for(inbox[0], 2)
    assert "MODIFIER" in answers[1].get_content()


def test_an_out_of_office_answer_changes_nothing(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    path, before, verdict = answer_the_confirmation(
        site, inbox, "Absent", "Je suis absente.\n", **{"X-Autoreply": "yes"}
    )
    assert verdict.outcome == QUARANTINED
    assert path.read_text(encoding="utf-8") == before


def jpeg(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def photo_mail(body: str, *photos: bytes, **kwargs: Any) -> bytes:
    msg = message_from_bytes(mail(body=body, **kwargs), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    for n, data in enumerate(photos, 1):
        msg.add_attachment(data, maintype="image", subtype="jpeg", filename=f"{n}.jpg")
    return bytes(msg)


def media_files(site: Site) -> list[str]:
    top = site.root / "content" / "images" / "mail"
    return sorted(p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file())


def test_deleting_by_reply_removes_the_photos_from_content_and_output(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    """Issue 12 item 6: only the .md went; the photos stayed in content/,
    were copied to output/ by the next build, and served."""
    from conftest import TOMBSTONE_META

    raw = photo_mail("La lampe Aube, en photo.\n", jpeg((200, 120, 40)))
    published = ingest(site, raw)
    assert published.outcome == PUBLISHED, published.reason
    confirmation = confirmation_of(inbox[0])
    photos = media_files(site)
    assert len(photos) == 1  # the photo (the albums plugin makes its sizes)
    built = run_publish("--settings", str(site.settings_file), "build", cwd=site.root)
    assert built.returncode == 0, built.stderr
    output_images = site.root / "output" / "images" / "mail"
    assert (
        sorted(
            p.relative_to(output_images).as_posix()
            for p in output_images.rglob("*")
            if p.is_file()
        )
        == photos
    )
    page = next(p for p in (site.root / "output" / "posts").rglob("index.html"))
    assert list((site.root / "output" / "media" / "albums").rglob("*.jpg"))

    removed = ingest(
        site,
        mail(
            subject="Re: Une nouvelle lampe",
            body="SUPPRIMER\n",
            extra={"In-Reply-To": str(confirmation["Message-ID"])},
        ),
    )
    assert removed.outcome == DELETED, removed.reason
    assert site.posts() == [] and media_files(site) == []
    again = run_publish("--settings", str(site.settings_file), "build", cwd=site.root)
    assert again.returncode == 0, again.stderr
    assert not output_images.exists() or not [
        p for p in output_images.rglob("*") if p.is_file()
    ]
    # The tombstone stays at the post's address.
    assert TOMBSTONE_META in page.read_text(encoding="utf-8")
    # The photos are kept with the deleted version, outside content/.
    kept = list((site.root / "var" / "mail" / "history").rglob("*.jpg"))
    assert len(kept) == 1
    # Nor are the sizes the albums plugin made of them published any more.
    sized = site.root / "output" / "media" / "albums"
    assert not sized.exists() or not list(sized.rglob("*.jpg"))


def test_an_edit_keeps_the_old_text_and_photos_and_restore_puts_them_back(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    """Issue 12 item 3: history kept the .md only; one command restores."""
    old_photo = jpeg((200, 120, 40))
    assert (
        ingest(site, photo_mail("Le premier texte.\n", old_photo)).outcome == PUBLISHED
    )
    confirmation = confirmation_of(inbox[0])
    (path,) = site.posts()
    before_text = path.read_bytes()
    before_media = {
        p: (site.root / "content" / "images" / "mail" / p).read_bytes()
        for p in media_files(site)
    }
    edited = ingest(
        site,
        mail(
            subject="Re: Une nouvelle lampe",
            body="MODIFIER\n\nUn texte sans photo.\n",
            extra={"In-Reply-To": str(confirmation["Message-ID"])},
        ),
    )
    assert edited.outcome == UPDATED, edited.reason
    assert "Un texte sans photo." in path.read_text(encoding="utf-8")
    assert media_files(site) == []  # the old photo is no longer public

    def restore() -> Any:
        return run_publish(
            "--settings", str(site.settings_file), "mail", "restore", path.stem,
            cwd=site.root,
        )  # fmt: skip

    first = restore()
    assert first.returncode == 0, first.stdout + first.stderr
    assert path.read_bytes() == before_text
    assert {
        p: (site.root / "content" / "images" / "mail" / p).read_bytes()
        for p in media_files(site)
    } == before_media
    # A restore is itself undone by the next one.
    second = restore()
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Un texte sans photo." in path.read_text(encoding="utf-8")
    assert media_files(site) == []


def test_restore_brings_back_a_deleted_post(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    path, before, verdict = answer_the_confirmation(
        site, inbox, "Re: Une nouvelle lampe", "DELETE\n"
    )
    assert verdict.outcome == DELETED and not path.exists()
    result = run_publish(
        "--settings", str(site.settings_file), "mail", "restore",
        f"content/{path.relative_to(site.root / 'content').as_posix()}",
        cwd=site.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_text(encoding="utf-8") == before
    unknown = run_publish(
        "--settings", str(site.settings_file), "mail", "restore", "no-such-post",
        cwd=site.root,
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "Traceback" not in unknown.stderr and path.stem in unknown.stderr


def test_restaurer_by_reply_puts_back_the_previous_version_once(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    """RESTAURER / RESTORE: the previous version, text and photo, from the
    phone. Retried after a crash (done, not recorded), it does not toggle
    back; answered RESTORE again, it undoes itself."""
    import sqlite3

    assert (
        ingest(site, photo_mail("Le premier texte.\n", jpeg((200, 120, 40)))).outcome
        == PUBLISHED
    )
    confirmation = confirmation_of(inbox[0])
    (path,) = site.posts()
    before, before_media = path.read_bytes(), media_files(site)
    answer = {"In-Reply-To": str(confirmation["Message-ID"])}
    edited = ingest(
        site,
        mail(subject="Re: x", body="MODIFIER\n\nLe second texte.\n", extra=answer),
    )
    assert edited.outcome == UPDATED
    restore_mail = mail(subject="Re: x", body="RESTAURER\n", extra=answer)
    restored = ingest(site, restore_mail)
    assert restored.outcome == RESTORED, restored.reason
    assert path.read_bytes() == before and media_files(site) == before_media
    notices = wait_for(inbox[0], 3)
    assert "version précédente" in notices[2].get_content()

    # A crash after the restore, before its record: handled again, the same.
    ledger = site.root / "var" / "mail" / "ledger.sqlite3"
    with sqlite3.connect(ledger) as conn:
        conn.execute("DELETE FROM messages WHERE outcome = 'restored'")
    assert ingest(site, restore_mail).outcome == RESTORED
    assert path.read_bytes() == before and media_files(site) == before_media

    # RESTORE answered to the notice undoes the restore.
    undone = ingest(
        site,
        mail(
            subject="Re: x",
            body="RESTORE\n",
            extra={"In-Reply-To": str(notices[2]["Message-ID"])},
        ),
    )
    assert undone.outcome == RESTORED, undone.reason
    assert "Le second texte." in path.read_text(encoding="utf-8")
    assert media_files(site) == []


def test_an_edit_stopped_before_the_post_is_written_leaves_it_wholly_old(
    site: Site, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash window of an edit with a new photo: its media written, the
    post's file not yet. The photo used to be written over the old one at
    the same path: the old text showed the new photo. Then, handled again,
    the edit applies wholly (bench/mail_crash.py --replies kills for real)."""
    from causerie.mailposts import write

    old_photo, new_photo = jpeg((40, 90, 200)), jpeg((200, 40, 40))
    assert (
        ingest(site, photo_mail("Le premier texte.\n", old_photo)).outcome == PUBLISHED
    )
    confirmation = confirmation_of(inbox[0])
    (path,) = site.posts()
    before = path.read_bytes()
    content = site.root / "content"
    shown = {
        rel: (content / rel).read_bytes()
        for rel in write.media_of(before.decode(), "images/mail")
    }
    answer = photo_mail(
        "MODIFIER\n\nLe second texte.\n",
        new_photo,
        subject="Re: Une nouvelle lampe à l’atelier",
        extra={"In-Reply-To": str(confirmation["Message-ID"])},
    )
    real_write = write.atomic_write

    def crash_on_the_post(target: Path, data: bytes) -> None:
        if target == path:
            raise OSError(28, "No space left on device")
        real_write(target, data)

    monkeypatch.setattr(write, "atomic_write", crash_on_the_post)
    with pytest.raises(OSError):
        ingest(site, answer)
    assert path.read_bytes() == before
    assert {rel: (content / rel).read_bytes() for rel in shown} == shown

    monkeypatch.setattr(write, "atomic_write", real_write)
    assert ingest(site, answer).outcome == UPDATED  # nothing was recorded
    text = path.read_text(encoding="utf-8")
    assert "Le second texte." in text
    now_shown = write.media_of(text, "images/mail")
    assert len(now_shown) == 1 and not set(now_shown) & set(shown)
    assert not any((content / rel).exists() for rel in shown)


def test_restore_takes_a_version_kept_before_media_were(site: Site) -> None:
    """Versions kept by earlier releases are a file "<post>.md.<id>" (text
    only): restore still finds and puts them back, and keeps the photos the
    restored text shows."""
    from causerie.mailposts import write

    raw = photo_mail("Le texte actuel.\n", jpeg((40, 90, 200)))
    assert ingest(site, raw).outcome == PUBLISHED
    (path,) = site.posts()
    current = path.read_text(encoding="utf-8")
    older = current.replace("Le texte actuel.", "Le texte d’avant.")
    relative = path.relative_to(site.root / "content").as_posix()
    legacy = site.root / "var" / "mail" / "history" / f"{relative}.0123456789abcdef"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(older, encoding="utf-8")

    restored, wanted, _undo = site.pipeline.restore(path.stem)
    assert restored == relative and wanted.key == "0123456789abcdef"
    assert path.read_text(encoding="utf-8") == older
    shown = write.media_of(older, "images/mail")
    assert shown and all((site.root / "content" / rel).exists() for rel in shown)
