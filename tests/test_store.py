"""The mention store on SQLite and PostgreSQL: queue, updates, moderation."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from causerie.webmentions import model
from causerie.webmentions.errors import StoreError
from causerie.webmentions.store.mention_store import Store, Target
from causerie.webmentions.store.schema import LATEST, mentions, schema_migrations

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
POST = "https://blog.example/posts/2026/aube/"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(store_url: str, clock: Clock) -> Store:
    return Store.open(store_url, clock)


def test_migrations_are_recorded_and_idempotent(store_url: str, clock: Clock) -> None:
    Store.open(store_url, clock)
    store = Store.open(store_url, clock)  # a second start applies nothing
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(schema_migrations)).all()
    assert [r.version for r in rows] == list(range(1, LATEST + 1))


def test_a_store_without_migrations_says_what_to_run(
    store_url: str, clock: Clock
) -> None:
    with pytest.raises(StoreError, match="publish mentions migrate"):
        Store.open(store_url, clock, migrate_now=False)


def test_same_source_and_target_is_one_mention(store: Store, clock: Clock) -> None:
    first = store.enqueue("https://alice.example/reply", POST, "203.0.113.9")
    (claimed,) = store.claim(dt.timedelta(minutes=5))
    store.verified(claimed.id, {"kind": "reply", "content_text": "v1"}, model.APPROVED)
    clock.now += dt.timedelta(hours=1)
    again = store.enqueue("https://alice.example/reply", POST)
    assert again == first
    (mention,) = store.list_mentions()
    # Re-queued for verification, and still approved: an edit does not
    # send a known reply back to moderation.
    assert (mention.verification, mention.moderation) == (model.QUEUED, model.APPROVED)
    assert mention.received_at == T0 and mention.updated_at == clock.now


def test_claims_are_leased_and_resume_after_a_crash(store: Store, clock: Clock) -> None:
    ids = [store.enqueue(f"https://s{i}.example/", POST) for i in range(3)]
    batch = store.claim(dt.timedelta(minutes=5), limit=2)
    assert [m.id for m in batch] == ids[:2]
    # Held: another worker gets only the third.
    assert [m.id for m in store.claim(dt.timedelta(minutes=5))] == ids[2:]
    assert store.claim(dt.timedelta(minutes=5)) == []
    # The worker died without writing anything: after the lease, the work is back.
    clock.now += dt.timedelta(minutes=6)
    again = store.claim(dt.timedelta(minutes=5))
    assert sorted(m.id for m in again) == ids
    assert all(m.attempts == 2 for m in again if m.id in ids[:2])


def test_retry_failure_and_deletion(store: Store, clock: Clock) -> None:
    a = store.enqueue("https://a.example/", POST)
    b = store.enqueue("https://b.example/", POST)
    store.claim(dt.timedelta(minutes=5))
    store.retry_later(a, "timed out after 5 s", clock.now + dt.timedelta(minutes=1))
    store.failed(b, "the source answered 410", deleted=True)
    assert store.claim(dt.timedelta(minutes=5)) == []
    clock.now += dt.timedelta(minutes=2)
    assert [m.id for m in store.claim(dt.timedelta(minutes=5))] == [a]
    gone = store.get(b)
    assert (
        gone
        and gone.verification == model.DELETED
        and gone.reason == "the source answered 410"
    )


def test_only_verified_and_approved_are_visible(store: Store) -> None:
    for name in ("ok", "held", "rejected"):
        store.enqueue(f"https://{name}.example/", POST)
    claimed = {m.source_domain: m for m in store.claim(dt.timedelta(minutes=5))}
    store.verified(claimed["ok.example"].id, {"kind": "like"}, model.APPROVED)
    store.verified(claimed["held.example"].id, {"kind": "like"}, None)
    store.verified(claimed["rejected.example"].id, {"kind": "like"}, model.REJECTED)
    visible = store.visible()
    assert [m.source for m in visible[POST]] == ["https://ok.example/"]
    assert [m.source for m in store.list_mentions(moderation=model.PENDING)] == [
        "https://held.example/"
    ]


def test_domains_approve_block_and_erase(store: Store) -> None:
    store.enqueue("https://www.bob.example/1", POST)
    store.enqueue("https://bob.example/2", POST)
    carol = store.enqueue("https://carol.example/p", POST)
    for m in store.claim(dt.timedelta(minutes=5)):
        store.verified(
            m.id,
            {
                "author_url": "https://carol.example/" if m.id == carol else None,
                "avatar": f"{m.id}.png",
            },
            None,
        )
    assert store.approve_domain("bob.example") == 2
    assert store.domain_policy("bob.example") == "allow"
    assert store.erase("https://carol.example/") == [f"{carol}.png"]
    assert store.get(carol) is None
    removed = store.block_domain("www.bob.example")
    assert len(removed) == 2 and store.list_mentions() == []
    assert store.domain_policy("bob.example") == "block"


def test_allowing_a_domain_never_approves_form_comments_claiming_it(
    store: Store,
) -> None:
    # Issue 13 item 2: a form comment's website is typed by the reader, not
    # verified; "always allow bob.example" approves bob's webmentions only.
    claimed = store.add_verified(
        "urn:uuid:1",
        POST,
        model.FORM,
        {"author_url": "https://bob.example/", "kind": "reply"},
    )
    sent = store.enqueue("https://bob.example/r", POST)
    (m,) = store.claim(dt.timedelta(minutes=5))
    store.verified(m.id, {"kind": "reply"}, None)
    assert store.approve_domain("bob.example") == 1
    assert _moderation(store, sent) == model.APPROVED
    assert _moderation(store, claimed) == model.PENDING


def test_a_redirected_source_is_stored_under_its_final_host(store: Store) -> None:
    mention_id = store.enqueue("https://friend.example/r", POST)
    (m,) = store.claim(dt.timedelta(minutes=5))
    store.verified(m.id, {"kind": "reply", "source_domain": "other.example"}, None)
    assert store.approve_domain("friend.example") == 0
    assert store.approve_domain("other.example") == 1
    assert _moderation(store, mention_id) == model.APPROVED


def _moderation(store: Store, mention_id: int) -> str | None:
    mention = store.get(mention_id)
    return mention.moderation if mention else None


def test_targets_are_replaced_by_each_build(store: Store) -> None:
    store.replace_targets(
        "https://blog.example", [Target(POST, "Aube", "karim@example.com", "fr", T0)]
    )
    assert store.target(POST) == Target(POST, "Aube", "karim@example.com", "fr", T0)
    # A staging build does not touch the production targets ...
    store.replace_targets(
        "http://127.0.0.1:8000", [Target("http://127.0.0.1:8000/p/", "P")]
    )
    assert store.target(POST) is not None
    # ... and a new production build replaces them.
    store.replace_targets("https://blog.example/", [Target(POST + "x/", "Other")])
    assert store.target(POST) is None and store.target("http://127.0.0.1:8000/p/")


def test_form_comments_are_stored_verified_and_pending(store: Store) -> None:
    mid = store.add_verified(
        "urn:causerie:comment:1",
        POST,
        model.FORM,
        {"kind": "reply", "author_name": "Ana", "content_text": "Merci"},
    )
    mention = store.get(mid)
    assert (
        mention
        and mention.verification == model.VERIFIED
        and mention.moderation == model.PENDING
    )
    assert mention.origin == model.FORM


def test_group_commit_answers_each_caller_once_its_row_is_stored(store: Store) -> None:
    import threading

    from causerie.webmentions.store.group_commit import GroupCommit

    writer = GroupCommit(store)
    results: dict[str, int] = {}

    def send(k: int) -> None:
        for i in range(25):
            source = f"https://s{k}.example/{i}"
            mention_id = writer.enqueue(source, POST)
            # Committed before enqueue returned: another connection sees it.
            assert store.get(mention_id) is not None
            results[source] = mention_id

    threads = [threading.Thread(target=send, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and len(set(results.values())) == 200
    assert store.queue_size() == 200
    # The same source and target again is the same mention.
    assert (
        writer.enqueue("https://s0.example/0", POST) == results["https://s0.example/0"]
    )


def test_enqueue_many_answers_each_item_even_repeated_or_many(store: Store) -> None:
    known = store.enqueue("https://known.example/", POST, "first")
    items: list[tuple[str, str, str | None]] = [
        (f"https://s{i}.example/", POST, None) for i in range(150)
    ]
    items[10:10] = [("https://known.example/", POST, "again")]
    items += [
        ("https://s3.example/", POST, "twice"),
        ("https://s3.example/", POST, "last"),
    ]
    ids = store.enqueue_many(items)  # several statements (64 rows each)
    assert len(ids) == len(items) and ids[10] == known
    assert ids[-1] == ids[-2] == ids[3]  # the same mention, one row
    by_id = {m.id: m for m in store.list_mentions()}
    assert len(by_id) == 151
    assert [by_id[i].source for i in ids] == [source for source, _t, _c in items]
    # A repeated mention keeps the values given last, as two upserts would.
    with store.engine.connect() as conn:
        clients = dict(conn.execute(sa.select(mentions.c.id, mentions.c.client)).all())
    assert clients[ids[-1]] == "last" and clients[known] == "again"


def _gated(store: Store, writer: Any, callers: int, commit: Any = None) -> list[int]:
    """Hold the group commit's first transaction until all ``callers`` are
    in it or queued behind it, then run ``commit`` (the store's own
    enqueue_many by default); return the sizes of the batches it was given."""
    commit = commit or store.enqueue_many
    sizes: list[int] = []

    def enqueue_many(items: Any) -> list[int]:
        if not sizes:
            deadline = time.monotonic() + 30  # a hang fails, never a slow run
            while (
                len(items) + len(writer._pending) < callers
                and time.monotonic() < deadline
            ):
                time.sleep(0.001)
        sizes.append(len(items))
        return list(commit(items))

    store.enqueue_many = enqueue_many  # type: ignore[method-assign]
    return sizes


def test_group_commit_one_leader_commits_for_all_who_queued_meanwhile(
    store: Store,
) -> None:
    from causerie.webmentions.store.group_commit import GroupCommit

    committed: list[tuple[list[Any], list[int]]] = []
    writer = GroupCommit(
        store, on_commit=lambda items, ids: committed.append((items, ids))
    )
    sizes = _gated(store, writer, 16)
    results: dict[str, int] = {}

    def send(k: int) -> None:
        source = f"https://s{k}.example/"
        results[source] = writer.enqueue(source, POST, f"client-{k}")

    threads = [threading.Thread(target=send, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The first leader committed what was there when it started (its own row,
    # perhaps another); all who arrived while it committed were committed
    # together by the next leader, one of them.
    assert sum(sizes) == 16 and len(sizes) <= 2 and max(sizes) > 1
    assert len(results) == 16 and len(set(results.values())) == 16
    stored = {m.source: m.id for m in store.list_mentions()}
    assert stored == results
    # on_commit saw every batch, with the ids its callers got.
    assert sorted(i for _items, ids in committed for i in ids) == sorted(
        results.values()
    )
    for items, ids in committed:
        assert [results[source] for source, _t, _c in items] == ids
    assert writer._pending == [] and not writer._leading


def test_group_commit_a_failed_commit_fails_every_caller_in_it(store: Store) -> None:
    from causerie.webmentions.errors import StoreError
    from causerie.webmentions.store.group_commit import GroupCommit

    writer = GroupCommit(store)

    def disk_full(items: Any) -> list[int]:
        raise RuntimeError("disk full")

    sizes = _gated(store, writer, 8, disk_full)
    failures: dict[int, BaseException] = {}

    def send(k: int) -> None:
        try:
            writer.enqueue(f"https://s{k}.example/", POST)
        except Exception as exc:
            failures[k] = exc

    threads = [threading.Thread(target=send, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Nobody is told "stored": each leader gets the error itself, the
    # callers it committed for a StoreError caused by it.
    assert sum(sizes) == 8 and len(sizes) <= 2
    assert sorted(failures) == list(range(8))
    for exc in failures.values():
        assert isinstance(exc, RuntimeError | StoreError)
        root = exc if isinstance(exc, RuntimeError) else exc.__cause__
        assert isinstance(root, RuntimeError) and str(root) == "disk full"
    assert store.list_mentions() == []
    # No leadership is left dangling: the next caller commits.
    del store.enqueue_many
    assert store.get(writer.enqueue("https://after.example/", POST)) is not None


def test_enqueue_replaces_a_broken_connection(store: Store) -> None:
    first = store.enqueue("https://a.example/1", POST)
    store._enqueue_conn.dbapi_connection.close()  # the server went away
    dbapi_error = store.engine.dialect.dbapi.Error  # type: ignore[union-attr]
    with pytest.raises(dbapi_error):
        store.enqueue("https://a.example/2", POST)
    second = store.enqueue("https://a.example/2", POST)  # a fresh connection
    assert [m.id for m in store.list_mentions()] == [second, first]


def test_a_failed_block_changes_nothing(store: Store) -> None:
    """The policy and its effect are one transaction: all or nothing."""
    store.enqueue("https://bob.example/1", POST)
    original = store._delete

    def crash(condition: object) -> list[str]:
        raise RuntimeError("power cut")

    store._delete = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        store.block_domain("bob.example")
    store._delete = original  # type: ignore[method-assign]
    assert store.domain_policy("bob.example") is None
    assert len(store.list_mentions()) == 1


def test_migration_3_adds_who_decided_to_an_older_store(store_url: str) -> None:
    """A store made by migrations 1 and 2 only (as before named moderators)
    is brought to the same shape as a new one, its rows kept."""
    from causerie.webmentions.store import schema

    engine = sa.create_engine(store_url)
    old = schema.MIGRATIONS
    try:
        schema.MIGRATIONS = old[:2]
        schema.migrate(engine, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    finally:
        schema.MIGRATIONS = old
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("mentions")}
    assert "decided_by" not in columns  # migration 1 made the old shape
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO mentions (source, target, source_domain, origin,"
                " verification, moderation, received_at, updated_at) VALUES"
                " ('https://a.example/1', :t, 'a.example', 'webmention',"
                " 'verified', 'approved', :now, :now)"
            ),
            {"t": POST, "now": dt.datetime(2026, 1, 1)},
        )
    store = Store.open(store_url)
    (kept,) = store.list_mentions()
    assert kept.moderation == model.APPROVED and kept.decided_by is None
    assert store.moderate(kept.id, model.REJECTED, by="alice")
    assert store.get(kept.id).decided_by == "alice"  # type: ignore[union-attr]
    inspector = sa.inspect(store.engine)
    for table in ("mentions", "domains", "decisions"):
        got = {c["name"] for c in inspector.get_columns(table)}
        assert got == set(schema.metadata.tables[table].columns.keys()), table
