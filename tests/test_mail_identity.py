"""Issue 12, item 13: a message without Message-ID, redelivered with one
more Received header, made two posts — its identity was the digest of its
bytes, which every hop changes. Now it is named by what its author wrote
(From, Date, Subject, the body), never by trace headers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import test_mail_pipeline
from test_mail_pipeline import Inbox, Site, mail, wait_for

from causerie.mailposts.model import DUPLICATE, PUBLISHED, Arrival
from causerie.mailposts.service import make_pipeline

#: The real SMTP listener that receives the replies (a fixture).
inbox = test_mail_pipeline.inbox


@pytest.fixture
def site(tmp_path: Path, inbox: tuple[Inbox, int]) -> Site:
    return Site(tmp_path / "blog", inbox[1])


def without_message_id(raw: bytes) -> bytes:
    lines = raw.split(b"\n")
    kept = [line for line in lines if not line.lower().startswith(b"message-id:")]
    assert len(kept) == len(lines) - 1
    return b"\n".join(kept)


def relayed(raw: bytes, hop: str) -> bytes:
    """``raw`` as one more relay hands it on: a Received and a Return-Path
    on top, an Authentication-Results of its own, CRLF line ends."""
    trace = (
        f"Received: from {hop}.maison-lumen.example (10.0.0.7) by "
        "mx.maison-lumen.example with ESMTPS; Sat, 21 Nov 2026 10:01:02 +0000\n"
        "Return-Path: <claire.dubois@maison-lumen.example>\n"
        f"X-Relay: {hop}\n"
    ).encode()
    return (trace + raw).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_a_redelivery_with_one_more_received_header_is_a_duplicate(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    raw = without_message_id(mail())
    first = site.pipeline(Arrival(raw, "pipe"))
    assert first.outcome == PUBLISHED, first.reason
    again = site.pipeline(Arrival(relayed(raw, "mx2"), "pipe"))
    assert again.outcome == DUPLICATE, again.reason
    twice = site.pipeline(Arrival(relayed(relayed(raw, "mx2"), "mx3"), "pipe"))
    assert twice.outcome == DUPLICATE
    assert len(site.posts()) == 1
    assert len(wait_for(inbox[0], 1)) == 1
    time.sleep(0.3)  # no second reply on its way
    assert len(inbox[0].envelopes) == 1


def test_a_redelivery_after_a_lost_ledger_finds_its_post(site: Site) -> None:
    """A crash between the post's write and its record: the relayed copy
    finds the post by its Message-Id metadata, and writes none."""
    raw = without_message_id(mail())
    assert site.pipeline(Arrival(raw, "pipe")).outcome == PUBLISHED
    site.pipeline.ledger.close()
    for path in (site.root / "var" / "mail").glob("ledger.sqlite3*"):
        path.unlink()
    pipeline = make_pipeline(site.settings, environ={})
    pipeline.clock = site.pipeline.clock
    again = pipeline(Arrival(relayed(raw, "mx2"), "pipe"))
    assert again.outcome == PUBLISHED
    assert len(site.posts()) == 1


def test_another_text_without_message_id_is_another_post(site: Site) -> None:
    first = without_message_id(mail())
    other = without_message_id(mail(body="Un autre texte, une autre lampe.\n"))
    assert site.pipeline(Arrival(first, "pipe")).outcome == PUBLISHED
    assert site.pipeline(Arrival(other, "pipe")).outcome == PUBLISHED
    assert len(site.posts()) == 2


def test_a_message_id_without_at_sign_is_stable_across_hops_too(site: Site) -> None:
    """ "<abc>" is no Message-ID the parser accepts (RFC 5322 §3.6.4 asks
    for id-left "@" id-right): the post is named by the stable identity,
    which a relayed copy finds after a lost ledger."""
    raw = b"\n".join(
        b"Message-ID: <no-at-sign>" if line.startswith(b"Message-ID:") else line
        for line in mail().split(b"\n")
    )
    assert b"<no-at-sign>" in raw
    assert site.pipeline(Arrival(raw, "pipe")).outcome == PUBLISHED
    site.pipeline.ledger.close()
    for path in (site.root / "var" / "mail").glob("ledger.sqlite3*"):
        path.unlink()
    pipeline = make_pipeline(site.settings, environ={})
    pipeline.clock = site.pipeline.clock
    assert pipeline(Arrival(relayed(raw, "mx2"), "pipe")).outcome == PUBLISHED
    assert len(site.posts()) == 1
