"""The sending state in the mention store: our posts as built, what was sent.

Written by each build (:func:`record_build`) and by ``publish mentions
send`` (:func:`save_outcome`), read by both. SQLAlchemy Core over the same
engine as :class:`~webmentions.store.Store`, so it runs on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from causerie.webmentions.send.plan import (
    DELETED,
    RETRY,
    OutboundPost,
    SentRecord,
    reconcile,
)
from causerie.webmentions.store.mention_store import Store
from causerie.webmentions.store.schema import (
    outbound_posts,
    sent_webmentions,
)


def _post(row: Any) -> OutboundPost:
    return OutboundPost(
        url=row.url,
        source_path=row.source_path,
        save_as=row.save_as,
        title=row.title,
        lang=row.lang,
        links=tuple(json.loads(row.links)),
        digest=row.digest,
        status=row.status,
        deleted_at=row.deleted_at,
    )


def _prefix(site_url: str) -> str:
    return site_url.rstrip("/") + "/"


def posts(store: Store, site_url: str) -> list[OutboundPost]:
    """Our posts under ``site_url`` as the latest build saw them."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbound_posts)
            .where(outbound_posts.c.url.startswith(_prefix(site_url)))
            .order_by(outbound_posts.c.url)
        )
        return [_post(row) for row in rows]


def deleted_posts(store: Store, site_url: str) -> list[OutboundPost]:
    """The deleted posts, whose addresses now serve a tombstone."""
    return [p for p in posts(store, site_url) if p.status == DELETED]


def record_build(
    store: Store,
    site_url: str,
    published: Iterable[OutboundPost],
    deleted: Iterable[OutboundPost],
    still_there: Callable[[OutboundPost], bool],
) -> list[OutboundPost]:
    """Store what this build published and deleted; return every post known.

    Read and written in one transaction, so two builds at once cannot both
    decide a post's fate from the same stale state.
    """
    prefix = _prefix(site_url)
    published, deleted = list(published), list(deleted)
    if any(not p.url.startswith(prefix) for p in (*published, *deleted)):
        raise ValueError(f"every post URL must start with {prefix}")
    now = store.clock()
    with store.tx() as conn:
        rows = conn.execute(
            sa.select(outbound_posts).where(outbound_posts.c.url.startswith(prefix))
        )
        previous = {row.url: _post(row) for row in rows}
        result = reconcile(previous, published, deleted, still_there, now)
        # Only the rows that changed: a build of 8,000 posts where one
        # changed rewrites one row, not 8,000 (updated_at is when a row last
        # changed).
        wanted = {p.url: p for p in result}
        stale = [url for url, before in previous.items() if wanted.get(url) != before]
        fresh = [p for url, p in wanted.items() if previous.get(url) != p]
        for start in range(0, len(stale), 500):
            conn.execute(
                outbound_posts.delete().where(
                    outbound_posts.c.url.in_(stale[start : start + 500])
                )
            )
        if fresh:
            conn.execute(outbound_posts.insert(), [_row(p, now) for p in fresh])
    return result


def _row(p: OutboundPost, now: dt.datetime) -> dict[str, Any]:
    return {
        "url": p.url,
        "source_path": p.source_path,
        "save_as": p.save_as,
        "title": p.title,
        "lang": p.lang,
        "links": json.dumps(list(p.links)),
        "digest": p.digest,
        "status": p.status,
        "updated_at": now,
        "deleted_at": p.deleted_at,
    }


def record_published(
    store: Store, site_url: str, posts: Iterable[OutboundPost]
) -> None:
    """Store a few posts a build published again at the same address (an
    edit seen by ``publish watch``): what :func:`record_build` would store
    for them, since a published post simply replaces its previous row."""
    prefix = _prefix(site_url)
    posts = list(posts)
    if any(not p.url.startswith(prefix) for p in posts):
        raise ValueError(f"every post URL must start with {prefix}")
    now = store.clock()
    with store.tx() as conn:
        for p in posts:
            conn.execute(outbound_posts.delete().where(outbound_posts.c.url == p.url))
            conn.execute(outbound_posts.insert(), [_row(p, now)])


def records(store: Store, site_url: str | None = None) -> list[SentRecord]:
    """Every sent webmention (of the posts under ``site_url``, if given)."""
    query = sa.select(sent_webmentions).order_by(
        sent_webmentions.c.source, sent_webmentions.c.target
    )
    if site_url:
        query = query.where(sent_webmentions.c.source.startswith(_prefix(site_url)))
    with store.engine.connect() as conn:
        return [
            SentRecord(**{c.name: getattr(row, c.name) for c in sent_webmentions.c})
            for row in conn.execute(query)
        ]


def save_outcome(
    store: Store,
    record: SentRecord,
    retry_delay: dt.timedelta,
    max_attempts: int,
) -> SentRecord:
    """Store one send's outcome; a transient failure gets its next attempt
    time (``retry_delay`` doubled per attempt), or becomes final after
    ``max_attempts`` runs. Returns what was stored."""
    now = record.sent_at or store.clock()
    attempts = record.attempts
    next_at = None
    status = record.status
    if status == RETRY:
        attempts += 1
        if attempts >= max_attempts:
            status = "failed"
            reason = f"{record.reason} (gave up after {attempts} runs)"
            record = SentRecord(**{**vars(record), "reason": reason})
        else:
            wait = max(
                retry_delay * (2 ** (attempts - 1)),
                record.next_attempt_at - now
                if record.next_attempt_at
                else dt.timedelta(0),
            )
            next_at = now + wait
    values = {
        **vars(record),
        "status": status,
        "attempts": attempts,
        "sent_at": now,
        "next_attempt_at": next_at,
    }
    with store.tx() as conn:
        conn.execute(
            sent_webmentions.delete().where(
                (sent_webmentions.c.source == record.source)
                & (sent_webmentions.c.target == record.target)
            )
        )
        conn.execute(sent_webmentions.insert().values(values))
    return SentRecord(**values)
