"""The sending state in the mention store, on SQLite and PostgreSQL: what a
build records, and how each outcome is kept (retries, giving up)."""

from __future__ import annotations

import datetime as dt

import pytest
from test_store import T0, clock, store

from causerie.webmentions.send import state as outbox_store
from causerie.webmentions.send.plan import (
    DELETED,
    FAILED,
    HELD,
    PUBLISHED,
    RETRY,
    SENT,
    OutboundPost,
    SentRecord,
)
from causerie.webmentions.store.mention_store import Store

SITE = "https://blog.example"


__all__ = ["clock", "store"]  # test_store's fixtures, used here


def post(slug: str, *links: str, digest: str = "d1") -> OutboundPost:
    return OutboundPost(
        url=f"{SITE}/posts/2026/{slug}/",
        source_path=f"posts/{slug}.md",
        save_as=f"posts/2026/{slug}/index.html",
        title=slug.title(),
        lang="fr",
        links=links,
        digest=digest,
    )


def test_builds_are_recorded_and_reconciled(store: Store) -> None:
    a, b, c = post("a", "https://x/"), post("b"), post("c")
    first = outbox_store.record_build(store, SITE, [a, b, c], [], lambda _p: True)
    assert {p.url: p.status for p in first} == dict.fromkeys(
        (a.url, b.url, c.url), PUBLISHED
    )
    # b's file is gone; c failed to read (its file is still there).
    outbox_store.record_build(store, SITE, [a], [], lambda p: p.url == c.url)
    known = {p.url: p for p in outbox_store.posts(store, SITE)}
    assert (known[b.url].status, known[c.url].status) == (DELETED, HELD)
    assert known[a.url].links == ("https://x/",)
    assert known[b.url].deleted_at == T0
    assert [p.url for p in outbox_store.deleted_posts(store, SITE)] == [b.url]
    # Another site's posts (a staging build) are left alone.
    outbox_store.record_build(store, "https://staging.example", [], [], lambda _p: True)
    assert len(outbox_store.posts(store, SITE)) == 3
    with pytest.raises(ValueError, match="must start with"):
        outbox_store.record_build(store, "https://other.example", [a], [], bool)


def outcome(status: str, attempts: int = 0, **kw: object) -> SentRecord:
    return SentRecord(
        f"{SITE}/posts/2026/a/",
        "https://x/",
        "d1",
        status,
        attempts=attempts,
        sent_at=T0,
        **kw,  # type: ignore[arg-type]
    )


def test_a_sent_outcome_replaces_the_last(store: Store) -> None:
    delay = dt.timedelta(minutes=10)
    outbox_store.save_outcome(store, outcome(RETRY), delay, 6)
    saved = outbox_store.save_outcome(
        store, outcome(SENT, endpoint="https://x/wm", http_status=201), delay, 6
    )
    rows = outbox_store.records(store, SITE)
    assert rows == [saved]
    assert (saved.status, saved.http_status, saved.next_attempt_at) == (SENT, 201, None)


def test_transient_failures_back_off_then_give_up(store: Store) -> None:
    delay = dt.timedelta(minutes=10)
    first = outbox_store.save_outcome(store, outcome(RETRY, reason="503"), delay, 3)
    assert (first.attempts, first.next_attempt_at) == (1, T0 + delay)
    second = outbox_store.save_outcome(store, outcome(RETRY, 1, reason="503"), delay, 3)
    assert (second.attempts, second.next_attempt_at) == (2, T0 + 2 * delay)
    last = outbox_store.save_outcome(store, outcome(RETRY, 2, reason="503"), delay, 3)
    assert (last.status, last.next_attempt_at) == (FAILED, None)
    assert last.reason == "503 (gave up after 3 runs)"


def test_a_retry_after_longer_than_the_backoff_is_honoured(store: Store) -> None:
    asked = T0 + dt.timedelta(hours=3)
    saved = outbox_store.save_outcome(
        store,
        outcome(RETRY, next_attempt_at=asked),
        dt.timedelta(minutes=10),
        6,
    )
    assert saved.next_attempt_at == asked
