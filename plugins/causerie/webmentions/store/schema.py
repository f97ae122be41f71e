"""The mention store's tables and their versioned migrations (SQLAlchemy Core).

A migration is a registered function; each is applied together with its row
in ``schema_migrations`` in one transaction, so a crash leaves the database at
one version or the next, never in between. Changing a table means adding a
migration that brings existing databases to the new shape (and freezing the
older migrations' own table definitions, if they used these objects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL.

    SQLite has no time zones: values are stored as naive UTC and given their
    zone back when read.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

mentions = sa.Table(
    "mentions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("source_domain", sa.String(255), nullable=False, index=True),
    sa.Column("origin", sa.String(20), nullable=False),
    sa.Column("verification", sa.String(20), nullable=False),
    sa.Column("moderation", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False, server_default="mention"),
    sa.Column("url", sa.Text),
    sa.Column("author_name", sa.Text),
    sa.Column("author_url", sa.Text),
    sa.Column("author_photo", sa.Text),
    sa.Column("avatar", sa.String(100)),
    sa.Column("published", UTCDateTime),
    sa.Column("title", sa.Text),
    sa.Column("content_html", sa.Text),
    sa.Column("content_text", sa.Text),
    sa.Column("rsvp", sa.String(20)),
    sa.Column("reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime),
    # A worker holds a claimed mention until lease_until; if it dies, the
    # lease runs out and another worker takes the mention again.
    sa.Column("lease_until", UTCDateTime),
    sa.Column("client", sa.String(64)),
    # The moderator who last set ``moderation`` (None: the policy did).
    sa.Column("decided_by", sa.String(64)),
    # An imported blog's comment (v4): the source of the comment it answers,
    # and the registry slug of the blog's author who wrote it, if one did.
    sa.Column("reply_to", sa.Text),
    sa.Column("blog_author", sa.String(100)),
    # A review's checked rating and scale, and why a rating was refused.
    sa.Column("rating", sa.Float),
    sa.Column("rating_best", sa.Float),
    sa.Column("rating_worst", sa.Float),
    sa.Column("rating_note", sa.Text),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("source", "target", name="mentions_source_target"),
    sa.Index("mentions_queue", "verification", "next_attempt_at"),
    sa.Index("mentions_target", "target"),
    # The admin's pages of waiting mentions (keyset pagination).
    sa.Index("mentions_waiting", "moderation", "verification", "received_at", "id"),
    sa.Index("mentions_reviews", "kind", "target"),
)

#: Domain policies: "allow" (approved once, always allowed) or "block".
domains = sa.Table(
    "domains",
    metadata,
    sa.Column("domain", sa.String(255), primary_key=True),
    sa.Column("policy", sa.String(10), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", sa.String(64)),
)

#: The published posts, written by each build: what may be mentioned, who
#: wrote it (for notifications), its title (for the moderation page).
targets = sa.Table(
    "targets",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author_email", sa.Text),
    sa.Column("lang", sa.String(10)),
    sa.Column("published", UTCDateTime),
    # The post takes ratings in the comment form.
    sa.Column("reviews", sa.Boolean, nullable=False, server_default=sa.false()),
)

#: Our own posts as the latest build saw them, for sending webmentions
#: (W3C Webmention §3.1): their outgoing links, a digest that changes when
#: the post does, and whether the post still exists (a deleted post keeps its
#: row, so its tombstone and its deletion notices can be made).
outbound_posts = sa.Table(
    "outbound_posts",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("save_as", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("lang", sa.String(10)),
    sa.Column("links", sa.Text, nullable=False),  # a JSON list of URLs
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # published|deleted|held
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("deleted_at", UTCDateTime),
)

#: What was sent for each (our post, their page): the endpoint, the answer,
#: and the post's digest at the time, so an unchanged post is not sent again.
sent_webmentions = sa.Table(
    "sent_webmentions",
    metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("target", sa.Text, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("endpoint", sa.Text),
    sa.Column("http_status", sa.Integer),
    sa.Column("location", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sent_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),
)

#: Every moderator's decision, oldest first: who did what to which mention
#: or domain. Kept when what it was about is gone (an unblock, a block's
#: deleted mentions), so "who did this?" always has an answer.
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("moderator", sa.String(64), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("mention_id", sa.Integer),
    sa.Column("domain", sa.String(255)),
    sa.Index("decisions_at", "at"),
)

Migration = Callable[[sa.Connection], None]


def _frozen_v1_v2(meta: sa.MetaData) -> dict[str, sa.Table]:
    """The tables as migrations 1 and 2 created them, frozen: those
    migrations must build the same shape forever, whatever the current
    definitions above become (a later migration alters them).
    """
    sa.Table(
        "mentions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("source_domain", sa.String(255), nullable=False, index=True),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("verification", sa.String(20), nullable=False),
        sa.Column("moderation", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="mention"),
        sa.Column("url", sa.Text),
        sa.Column("author_name", sa.Text),
        sa.Column("author_url", sa.Text),
        sa.Column("author_photo", sa.Text),
        sa.Column("avatar", sa.String(100)),
        sa.Column("published", UTCDateTime),
        sa.Column("title", sa.Text),
        sa.Column("content_html", sa.Text),
        sa.Column("content_text", sa.Text),
        sa.Column("rsvp", sa.String(20)),
        sa.Column("reason", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime),
        # A worker holds a claimed mention until lease_until; if it dies, the
        # lease runs out and another worker takes the mention again.
        sa.Column("lease_until", UTCDateTime),
        sa.Column("client", sa.String(64)),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("source", "target", name="mentions_source_target"),
        sa.Index("mentions_queue", "verification", "next_attempt_at"),
        sa.Index("mentions_target", "target"),
    )

    #: Domain policies: "allow" (approved once, always allowed) or "block".
    sa.Table(
        "domains",
        meta,
        sa.Column("domain", sa.String(255), primary_key=True),
        sa.Column("policy", sa.String(10), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )

    #: The published posts, written by each build: what may be mentioned, who
    #: wrote it (for notifications), its title (for the moderation page).
    sa.Table(
        "targets",
        meta,
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("author_email", sa.Text),
        sa.Column("lang", sa.String(10)),
        sa.Column("published", UTCDateTime),
    )

    #: Our own posts as the latest build saw them, for sending webmentions
    #: (W3C Webmention §3.1): their outgoing links, a digest that changes when
    #: the post does, and whether the post still exists (a deleted post keeps its
    #: row, so its tombstone and its deletion notices can be made).
    sa.Table(
        "outbound_posts",
        meta,
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("save_as", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("lang", sa.String(10)),
        sa.Column("links", sa.Text, nullable=False),  # a JSON list of URLs
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),  # published|deleted|held
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime),
    )

    #: What was sent for each (our post, their page): the endpoint, the answer,
    #: and the post's digest at the time, so an unchanged post is not sent again.
    sa.Table(
        "sent_webmentions",
        meta,
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("target", sa.Text, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.Text),
        sa.Column("http_status", sa.Integer),
        sa.Column("location", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
    )
    return dict(meta.tables)


def _v1(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    frozen = _frozen_v1_v2(meta)
    meta.create_all(
        conn, tables=[frozen["mentions"], frozen["domains"], frozen["targets"]]
    )


def _v2(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    frozen = _frozen_v1_v2(meta)
    meta.create_all(conn, tables=[frozen["outbound_posts"], frozen["sent_webmentions"]])


def _v3(conn: sa.Connection) -> None:
    # Who decided (issue 13 item 9, named moderators). The new table is
    # frozen here too, as this migration created it.
    conn.execute(sa.text("ALTER TABLE mentions ADD COLUMN decided_by VARCHAR(64)"))
    conn.execute(sa.text("ALTER TABLE domains ADD COLUMN decided_by VARCHAR(64)"))
    conn.execute(
        sa.text(
            "CREATE INDEX mentions_waiting ON mentions"
            " (moderation, verification, received_at, id)"
        )
    )
    meta = sa.MetaData()
    sa.Table(
        "decisions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("moderator", sa.String(64), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("mention_id", sa.Integer),
        sa.Column("domain", sa.String(255)),
        sa.Index("decisions_at", "at"),
    )
    meta.create_all(conn)


def _v4(conn: sa.Connection) -> None:
    # Comments imported from an old blog (issue 18): their threading and
    # whether the blog's author wrote them. Plain ALTERs: no table is
    # created, so nothing needs freezing.
    conn.execute(sa.text("ALTER TABLE mentions ADD COLUMN reply_to TEXT"))
    conn.execute(sa.text("ALTER TABLE mentions ADD COLUMN blog_author VARCHAR(100)"))


def _v5(conn: sa.Connection) -> None:
    # Reviews (issue 15): the rating a reader gave, on its scale, and the
    # reason when the one given was refused. The aggregate reads approved
    # reviews of one target, hence the index.
    for column, kind in (
        ("rating", "FLOAT"),
        ("rating_best", "FLOAT"),
        ("rating_worst", "FLOAT"),
        ("rating_note", "TEXT"),
    ):
        conn.execute(sa.text(f"ALTER TABLE mentions ADD COLUMN {column} {kind}"))
    conn.execute(sa.text("CREATE INDEX mentions_reviews ON mentions (kind, target)"))
    # Which posts take a rating in the form (the form's check reads it).
    conn.execute(
        sa.text("ALTER TABLE targets ADD COLUMN reviews BOOLEAN NOT NULL DEFAULT false")
    )


#: (version, name, function), in order. Append; never edit an applied one.
MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "mentions, domains and targets", _v1),
    (2, "outbound posts and sent webmentions", _v2),
    (3, "who decided: mentions.decided_by, domains.decided_by, decisions", _v3),
    (4, "imported blog comments: mentions.reply_to, mentions.blog_author", _v4),
    (5, "reviews: mentions.rating…rating_note, targets.reviews", _v5),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table("schema_migrations"):
        return 0
    return int(
        conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0
    )


def migrate(engine: sa.Engine, now: dt.datetime) -> list[int]:
    """Bring the database to the latest version; return the versions applied."""
    applied = []
    with engine.begin() as conn:
        schema_migrations.create(conn, checkfirst=True)
    for version, name, function in MIGRATIONS:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # One migrator at a time across machines; SQLite gets the
                # same from BEGIN IMMEDIATE (see store.connect).
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
            # Re-read inside the transaction: another process may have
            # migrated meanwhile (two workers starting at once).
            if current_version(conn) >= version:
                continue
            function(conn)
            conn.execute(
                schema_migrations.insert().values(
                    version=version, name=name, applied_at=now
                )
            )
            applied.append(version)
    return applied
