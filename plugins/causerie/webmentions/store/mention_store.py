"""The mention store: the queue, moderation and what the site shows.

Every write is one transaction; a webmention is acknowledged (202) only after
its row is committed, and a verification result is written in the same
transaction that releases the queue lease, so a crash at any point leaves the
mention queued (it will be verified again) or done, never lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from causerie.webmentions import model
from causerie.webmentions.errors import StoreError
from causerie.webmentions.model import Mention, domain_of
from causerie.webmentions.store.schema import (
    LATEST,
    current_version,
    decisions,
    domains,
    mentions,
    migrate,
    targets,
)

log = logging.getLogger(__name__)
_MENTION_FIELDS = [f.name for f in fields(Mention)]
#: The decisions log's name for each moderation state set by a person.
_ACTIONS = {
    model.APPROVED: "approve",
    model.REJECTED: "reject",
    model.PENDING: "undo",
}
_WRITE = "causerie_write"  # Connection.info key: this transaction will write
# Rows per multi-row upsert: 13 parameters each stays under the 999 that
# SQLite before 3.32 allows in one statement.
_ROWS_PER_STATEMENT = 64


def connect(url: str) -> sa.Engine:
    """An engine for ``url``, SQLite set up for safe concurrent use."""
    try:
        if url.startswith("sqlite"):
            # No pool_pre_ping: a SQLite file does not drop connections.
            engine = sa.create_engine(
                url, connect_args={"timeout": 30, "isolation_level": None}
            )

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                # WAL: readers never block the writer; FULL: a commit survives
                # a power cut, which is what "202 only once stored" promises.
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _begin(conn: sa.Connection) -> None:
                # pysqlite's own transaction handling defers BEGIN and skips
                # it for DDL. A write transaction (Store.tx) takes the write
                # lock up front, so two processes never both read-then-write
                # the same row; a read needs no lock at all in WAL mode.
                write = conn.info.get(_WRITE)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

            return engine
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(
            f"cannot use the mention store {url!r} ({exc}); fix WEBMENTIONS['database'] "
            "or $CAUSERIE_DATABASE_URL"
        ) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Target:
    """A published post that may be mentioned."""

    url: str
    title: str
    author_email: str | None = None
    lang: str | None = None
    published: dt.datetime | None = None
    #: The post takes ratings in the comment form (issue 15).
    reviews: bool = False


class Store:
    """The mention store over one SQLAlchemy engine.

    ``clock`` is the one source of time, so tests can travel in time.
    """

    def __init__(self, engine: sa.Engine, clock: Any = _now) -> None:
        self.engine = engine
        self.clock = clock
        self._statements: dict[Any, Any] = {}
        self._local = threading.local()
        self._write_lock: Any = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        # enqueue_many()'s own connection, and the lock that lends it out.
        self._enqueue_lock = threading.Lock()
        self._enqueue_conn: Any = None

    @classmethod
    def open(cls, url: str, clock: Any = _now, migrate_now: bool = True) -> Store:
        store = cls(connect(url), clock)
        try:
            if migrate_now:
                migrate(store.engine, clock())
            with store.engine.connect() as conn:
                version = current_version(conn)
        except sa.exc.OperationalError as exc:
            raise StoreError(
                f"cannot open the mention store ({exc.orig}); check "
                "WEBMENTIONS['database'] / $CAUSERIE_DATABASE_URL and that the "
                "directory or server exists"
            ) from None
        if version != LATEST:
            raise StoreError(
                f"the mention store is at schema version {version}, this Causerie "
                f"needs {LATEST}: run `publish mentions migrate`"
            )
        return store

    @contextmanager
    def tx(self) -> Iterator[sa.Connection]:
        """A write transaction, committed on exit.

        On SQLite, this process's writers take turns on a Python lock first:
        waiting there is instant, whereas SQLite's busy handler sleeps for up
        to 100 ms between tries (p99 of a second under load, before this).
        """
        current = getattr(self._local, "conn", None)
        if current is not None:  # inside batch(): one transaction for all
            yield current
            return
        with self._write_lock, self.engine.connect() as conn:
            conn.info[_WRITE] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop(_WRITE, None)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make every write in the block part of one transaction (one sync)."""
        with self.tx() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    # --- receiving -----------------------------------------------------

    def _upsert(
        self, conn: sa.Connection, values: dict[str, Any], update: Iterable[str]
    ) -> int:
        stmt = self._upsert_statement(conn.dialect, values, update)
        return int(conn.execute(stmt, values).scalar_one())

    def _upsert_statement(
        self, dialect: sa.Dialect, values: dict[str, Any], update: Iterable[str]
    ) -> Any:
        key = (tuple(sorted(values)), tuple(update))
        stmt = self._statements.get(key)
        if stmt is None:
            # Built once per shape, then executed with parameters: building
            # an upsert costs more than running it (1.3 ms; bench/mentions.py).
            flavour = postgresql if dialect.name == "postgresql" else sqlite
            insert = flavour.insert(mentions).values(
                {k: sa.bindparam(k) for k in key[0]}
            )
            stmt = insert.on_conflict_do_update(
                index_elements=[mentions.c.source, mentions.c.target],
                set_={name: insert.excluded[name] for name in update},
            ).returning(mentions.c.id)
            self._statements[key] = stmt
        return stmt

    def enqueue(self, source: str, target: str, client: str | None = None) -> int:
        """Queue a webmention for verification (an update if already known).

        Returns its id once the row is committed. Its moderation state is
        kept: an approved reply that is edited stays approved.
        """
        return self.enqueue_many([(source, target, client)])[0]

    def enqueue_many(self, items: Sequence[tuple[str, str, str | None]]) -> list[int]:
        """Queue several webmentions in one transaction (one disk sync)."""
        if not items:
            return []
        now = self.clock()
        # One row per (source, target), with the last values given for it: a
        # statement may not upsert a row twice (PostgreSQL refuses), and
        # upserting twice would leave the second's values anyway.
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target, client in items:
            values, update = self._queued(source, target, client, now)
            rows.pop((source, target), None)
            rows[(source, target)] = values
        # The same instant for every row: converted for the driver once.
        stamps: dict[dt.datetime, Any] = {}
        shaped = [self._driver_values(values, stamps) for values in rows.values()]
        statements = []
        for start in range(0, len(shaped), _ROWS_PER_STATEMENT):
            chunk = shaped[start : start + _ROWS_PER_STATEMENT]
            sql, order = self._multi_upsert(tuple(chunk[0]), update, len(chunk))
            if order is None:  # named parameters (psycopg)
                params: Any = {
                    f"{name}_{i}": row[name]
                    for i, row in enumerate(chunk)
                    for name in row
                }
            else:
                params = [chunk[i][name] for i, name in order]
            statements.append((sql, params))
        inside = getattr(self._local, "conn", None)
        if inside is not None:  # inside batch(): its transaction
            ids = self._run_upserts(inside.connection.dbapi_connection, statements)
            return [ids[(source, target)] for source, target, _client in items]
        # The endpoint's hot path (GroupCommit), kept lean: SQL compiled once,
        # run on a DB-API connection this path keeps, in a transaction of
        # its own. A pooled SQLAlchemy transaction (checkout, begin event,
        # commit, reset on return) cost three times the insert and its sync
        # (bench/mentions.py). Writers of this process still take turns on
        # the write lock, as in tx().
        with self._enqueue_lock, self._write_lock:
            raw = self._enqueue_conn
            if raw is None:
                raw = self._enqueue_conn = self.engine.raw_connection()
            try:
                dbapi: Any = raw.dbapi_connection
                # On SQLite one statement needs no BEGIN and COMMIT: in
                # autocommit it is a transaction of its own, committed (and
                # synced) by its last step, which _run_upserts always runs.
                # A single write statement takes the write lock before it
                # reads, so it cannot meet the stale read BEGIN IMMEDIATE
                # guards against. Two calls fewer, and each gave up the GIL
                # and had to win it back (bench/mentions.py).
                alone = self.engine.dialect.name == "sqlite" and len(statements) == 1
                if self.engine.dialect.name == "sqlite" and not alone:
                    # As tx() does: the write lock up front (see connect()).
                    dbapi.execute("BEGIN IMMEDIATE")
                ids = self._run_upserts(dbapi, statements)
                if not alone:
                    dbapi.commit()
            except BaseException:
                # Nothing of this batch is stored. The connection may be
                # broken (a PostgreSQL restart): start over with a fresh one.
                self._enqueue_conn = None
                raw.invalidate()
                raise
        return [ids[(source, target)] for source, target, _client in items]

    @staticmethod
    def _run_upserts(
        dbapi: Any, statements: list[tuple[str, Any]]
    ) -> dict[tuple[str, str], int]:
        """Run multi-row upserts; the id of each (source, target).

        One statement for the whole batch, not one per row: each SQLite step
        releases the GIL, and under load winning it back is what a step
        costs (bench/mentions.py).
        """
        cursor = dbapi.cursor()
        try:
            ids = {}
            for sql, params in statements:
                cursor.execute(sql, params)
                # RETURNING gives no order for a multi-row insert: by key.
                for mention_id, source, target in cursor.fetchall():
                    ids[(source, target)] = int(mention_id)
            return ids
        finally:
            cursor.close()

    def _multi_upsert(
        self, names: tuple[str, ...], update: tuple[str, ...], count: int
    ) -> tuple[str, list[tuple[int, str]] | None]:
        """The SQL text of an upsert of ``count`` rows of columns ``names``,
        and its parameters' order as (row, column) pairs (None for drivers
        with named parameters, which are named ``column_row``)."""
        key = ("multi", names, update, count)
        cached = self._statements.get(key)
        if cached is None:
            dialect = self.engine.dialect
            flavour = postgresql if dialect.name == "postgresql" else sqlite
            insert = flavour.insert(mentions).values(
                [{n: sa.bindparam(f"{n}_{i}") for n in names} for i in range(count)]
            )
            stmt = insert.on_conflict_do_update(
                index_elements=[mentions.c.source, mentions.c.target],
                set_={name: insert.excluded[name] for name in update},
            ).returning(mentions.c.id, mentions.c.source, mentions.c.target)
            compiled = stmt.compile(dialect=dialect)
            order = None
            if compiled.positional:
                order = []
                for param in compiled.positiontup or ():
                    column, _, row = param.rpartition("_")
                    order.append((int(row), column))
            cached = self._statements[key] = (compiled.string, order)
        return cached

    def _driver_values(
        self, values: dict[str, Any], stamps: dict[dt.datetime, Any]
    ) -> dict[str, Any]:
        """``values`` as the driver wants them: UTC datetimes as UTCDateTime
        stores them (naive; SQLite's text format on SQLite), each distinct
        one converted once into ``stamps``."""
        out = {}
        for name, value in values.items():
            if isinstance(value, dt.datetime):
                stamp = stamps.get(value)
                if stamp is None:
                    stamp = value.astimezone(dt.UTC).replace(tzinfo=None)
                    if self.engine.dialect.name == "sqlite":
                        stamp = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
                    stamps[value] = stamp
                value = stamp
            out[name] = value
        return out

    @staticmethod
    def _queued(
        source: str, target: str, client: str | None, now: dt.datetime
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        values = {
            "source": source,
            "target": target,
            "source_domain": domain_of(source),
            "origin": model.WEBMENTION,
            "verification": model.QUEUED,
            "moderation": model.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "lease_until": None,
            "client": client,
            "received_at": now,
            "updated_at": now,
            "reason": None,
        }
        update = (
            "verification",
            "attempts",
            "next_attempt_at",
            "lease_until",
            "client",
            "updated_at",
            "reason",
        )
        return values, update

    def add_verified(
        self, source: str, target: str, origin: str, data: Mapping[str, Any]
    ) -> int:
        """Store a mention that needs no fetching (form comment, import)."""
        now = self.clock()
        values = {
            "source": source,
            "target": target,
            # The host the domain policies judge: a form comment's only name
            # is the website its author typed; anything else (an import, a
            # test's webmention) is judged by its source, the verified part,
            # never by the author URL the page claims (issue 13 item 2).
            "source_domain": domain_of(
                (data.get("author_url") if origin == model.FORM else None) or source
            ),
            "origin": origin,
            "verification": model.VERIFIED,
            "moderation": data.get("moderation", model.PENDING),
            "received_at": data.get("received_at") or now,
            "updated_at": now,
            **{
                k: v
                for k, v in data.items()
                if k in _MENTION_FIELDS and k not in ("id", "moderation", "received_at")
            },
        }
        update = [
            k
            for k in values
            if k not in ("source", "target", "received_at", "moderation")
        ]
        with self.tx() as conn:
            return self._upsert(conn, values, update)

    # --- the queue -----------------------------------------------------

    def claim(self, lease: dt.timedelta, limit: int = 10) -> list[Mention]:
        """Take up to ``limit`` due mentions for ``lease``; skip those held."""
        now = self.clock()
        due = sa.and_(
            mentions.c.verification == model.QUEUED,
            mentions.c.next_attempt_at <= now,
            sa.or_(mentions.c.lease_until.is_(None), mentions.c.lease_until < now),
        )
        claimed = []
        with self.tx() as conn:
            query = (
                sa.select(mentions.c.id)
                .where(due)
                .order_by(mentions.c.next_attempt_at)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                # Several workers on several machines: each takes other rows.
                query = query.with_for_update(skip_locked=True)
            ids = list(conn.execute(query).scalars())
            if ids:
                conn.execute(
                    mentions.update()
                    .where(mentions.c.id.in_(ids))
                    .values(lease_until=now + lease, attempts=mentions.c.attempts + 1)
                )
                rows = conn.execute(sa.select(mentions).where(mentions.c.id.in_(ids)))
                claimed = [self._mention(r) for r in rows.mappings()]
        return claimed

    def verified(
        self, mention_id: int, data: Mapping[str, Any], moderation: str | None
    ) -> None:
        """Record a successful verification (and, if given, a moderation decision)."""
        values = {
            k: v
            for k, v in data.items()
            if k in _MENTION_FIELDS and k not in ("id", "source", "target")
        }
        if data.get("source_domain"):
            # The host the source was fetched from, after redirects.
            values["source_domain"] = str(data["source_domain"])
        values.update(
            verification=model.VERIFIED,
            lease_until=None,
            next_attempt_at=None,
            reason=None,
        )
        if moderation:
            values["moderation"] = moderation
        values.pop("updated_at", None)  # _update stamps it
        self._update(mention_id, **values)

    def _update(self, mention_id: int, **values: Any) -> int:
        """Change one mention (stamping updated_at); return rows changed."""
        with self.tx() as conn:
            result = conn.execute(
                mentions.update()
                .where(mentions.c.id == mention_id)
                .values(**values, updated_at=self.clock())
            )
        return int(result.rowcount)

    def retry_later(self, mention_id: int, reason: str, at: dt.datetime) -> None:
        self._update(mention_id, reason=reason, next_attempt_at=at, lease_until=None)

    def failed(self, mention_id: int, reason: str, deleted: bool = False) -> None:
        """Record a permanent refusal; ``deleted`` when the source is gone."""
        state = model.DELETED if deleted else model.FAILED
        self._update(
            mention_id,
            verification=state,
            reason=reason,
            next_attempt_at=None,
            lease_until=None,
        )

    def set_avatar(self, mention_id: int, avatar: str | None) -> None:
        with self.tx() as conn:
            conn.execute(
                mentions.update()
                .where(mentions.c.id == mention_id)
                .values(avatar=avatar)
            )

    def missing_avatars(self) -> list[Mention]:
        """Mentions with an author picture not cached yet (imported ones)."""
        query = sa.select(mentions).where(
            mentions.c.author_photo.is_not(None), mentions.c.avatar.is_(None)
        )
        with self.engine.connect() as conn:
            return [self._mention(r) for r in conn.execute(query).mappings()]

    def queue_size(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        mentions.c.verification == model.QUEUED
                    )
                ).scalar_one()
            )

    # --- moderation ----------------------------------------------------

    def get(self, mention_id: int) -> Mention | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(mentions).where(mentions.c.id == mention_id))
                .mappings()
                .first()
            )
        return self._mention(row) if row else None

    def list_mentions(
        self,
        *,
        moderation: str | None = None,
        verification: str | None = None,
        target: str | None = None,
    ) -> list[Mention]:
        query = sa.select(mentions).order_by(
            mentions.c.received_at.desc(), mentions.c.id.desc()
        )
        if moderation:
            query = query.where(mentions.c.moderation == moderation)
        if verification:
            query = query.where(mentions.c.verification == verification)
        if target:
            query = query.where(mentions.c.target == target)
        with self.engine.connect() as conn:
            return [self._mention(r) for r in conn.execute(query).mappings()]

    def moderate(self, mention_id: int, state: str, by: str | None = None) -> bool:
        """Approve, reject or put back to pending one mention, recording who
        (``by``) did; False if there is no such mention."""
        if state not in (model.APPROVED, model.REJECTED, model.PENDING):
            raise ValueError(state)
        with self.batch(), self.tx() as conn:
            changed = self._update(mention_id, moderation=state, decided_by=by) == 1
            if changed and by:
                self._decided(conn, by, _ACTIONS[state], mention_id=mention_id)
        return changed

    def _decided(
        self,
        conn: sa.Connection,
        by: str,
        action: str,
        mention_id: int | None = None,
        domain: str | None = None,
    ) -> None:
        """Append to the decisions log (same transaction as the decision)."""
        conn.execute(
            decisions.insert().values(
                at=self.clock(),
                moderator=by[:64],
                action=action,
                mention_id=mention_id,
                domain=domain,
            )
        )

    def latest_decisions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest decisions, newest first: at, moderator, action,
        mention_id, domain."""
        query = (
            sa.select(decisions)
            .order_by(decisions.c.at.desc(), decisions.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def domain_policy(self, domain: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(domains.c.policy).where(domains.c.domain == domain.lower())
            ).scalar()

    def set_domain_policy(
        self, domain: str, policy: str | None, by: str | None = None
    ) -> None:
        """ "allow" (approve and always allow), "block", or None to forget;
        ``by``: the moderator deciding it."""
        domain = domain.lower().removeprefix("www.")
        with self.tx() as conn:
            before = conn.execute(
                sa.select(domains.c.policy).where(domains.c.domain == domain)
            ).scalar()
            conn.execute(domains.delete().where(domains.c.domain == domain))
            if policy:
                conn.execute(
                    domains.insert().values(
                        domain=domain,
                        policy=policy,
                        updated_at=self.clock(),
                        decided_by=by,
                    )
                )
            if by:
                # None undoes what was there: "unblock" or "unallow".
                action = policy or f"un{before or 'block'}"
                self._decided(conn, by, action, domain=domain)

    def approve_domain(self, domain: str, by: str | None = None) -> int:
        """Allow ``domain`` from now on and approve what it already sent.

        One transaction: a crash never leaves the policy without its effect.
        """
        with self.batch(), self.tx() as conn:
            self.set_domain_policy(domain, "allow", by)
            result = conn.execute(
                mentions.update()
                .where(
                    mentions.c.source_domain == domain.lower().removeprefix("www."),
                    mentions.c.moderation == model.PENDING,
                    # A form comment's domain is the website its author typed,
                    # unverified: allowing a domain never approves those
                    # (issue 13 item 2); each is moderated on its own.
                    mentions.c.origin != model.FORM,
                )
                .values(
                    moderation=model.APPROVED, updated_at=self.clock(), decided_by=by
                )
            )
        return int(result.rowcount)

    def block_domain(self, domain: str, by: str | None = None) -> list[str]:
        """Block ``domain``: drop its mentions; return their cached avatars.

        One transaction: a crash never leaves the block without its effect.
        """
        with self.batch():
            self.set_domain_policy(domain, "block", by)
            return self._delete(
                mentions.c.source_domain == domain.lower().removeprefix("www.")
            )

    def domain_list(self, policy: str, limit: int = 200) -> list[dict[str, Any]]:
        """The domains with ``policy``, latest first (bounded): domain,
        updated_at, decided_by."""
        query = (
            sa.select(domains.c.domain, domains.c.updated_at, domains.c.decided_by)
            .where(domains.c.policy == policy)
            .order_by(domains.c.updated_at.desc(), domains.c.domain)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def erase(self, who: str) -> list[str]:
        """Remove a person's mentions (by their URL or their domain); return
        the avatar files to delete. The domain is not blocked."""
        who = who.strip()
        if "/" in who:
            prefix = who.rstrip("/")
            condition = sa.or_(
                mentions.c.author_url == who,
                mentions.c.author_url == prefix,
                mentions.c.author_url.startswith(prefix + "/"),
                mentions.c.source == who,
                mentions.c.source.startswith(prefix + "/"),
            )
        else:
            domain = who.lower().removeprefix("www.")
            condition = mentions.c.source_domain == domain
        return self._delete(condition)

    def _delete(self, condition: Any) -> list[str]:
        with self.tx() as conn:
            avatars = [
                a
                for a in conn.execute(
                    sa.select(mentions.c.avatar).where(condition)
                ).scalars()
                if a
            ]
            conn.execute(mentions.delete().where(condition))
            # An avatar still used by someone else's mention stays.
            still = (
                set(
                    conn.execute(
                        sa.select(mentions.c.avatar).where(
                            mentions.c.avatar.in_(avatars)
                        )
                    ).scalars()
                )
                if avatars
                else set()
            )
        return sorted(set(avatars) - still)

    # --- the site ------------------------------------------------------

    def change_marker(self) -> tuple[Any, ...]:
        """A value that changes whenever a mention is added, changed or
        removed (every change stamps updated_at): ``publish watch`` asks it
        five times a second to know when to rebuild."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.max(mentions.c.id),
                    sa.func.max(mentions.c.updated_at),
                )
            ).one()
        return tuple(row)

    def changed_targets(self, since: tuple[Any, ...]) -> set[str] | None:
        """The targets of the mentions added or changed since ``since`` (a
        :meth:`change_marker`); None when mentions were also removed (their
        targets are unknown: the caller rebuilds everything)."""
        count, max_id, max_updated = since
        with self.engine.connect() as conn:
            now = conn.execute(
                sa.select(sa.func.count()).select_from(mentions)
            ).scalar_one()
            conditions = [mentions.c.id > (max_id or 0)]
            if max_updated is not None:
                conditions.append(mentions.c.updated_at > max_updated)
            rows = conn.execute(
                sa.select(mentions.c.id, mentions.c.target).where(sa.or_(*conditions))
            ).all()
        added = sum(1 for row in rows if row.id > (max_id or 0))
        if now != count + added:
            return None
        return {row.target for row in rows}

    def visible(self) -> dict[str, list[Mention]]:
        """Approved, verified mentions by target URL, oldest first."""
        query = (
            sa.select(mentions)
            .where(
                mentions.c.verification == model.VERIFIED,
                mentions.c.moderation == model.APPROVED,
            )
            .order_by(
                sa.func.coalesce(mentions.c.published, mentions.c.received_at),
                mentions.c.id,
            )
        )
        result: dict[str, list[Mention]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                mention = self._mention(row)
                result.setdefault(mention.target, []).append(mention)
        return result

    def by_origin(self, origin: str) -> dict[tuple[str, str], Mention]:
        """Every mention of ``origin`` by (source, target): what an import
        compares with, so that an unchanged one is not written again."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(mentions).where(mentions.c.origin == origin))
            return {
                (m.source, m.target): m for m in map(self._mention, rows.mappings())
            }

    def replace_targets(self, site_url: str, items: Iterable[Target]) -> None:
        """The published posts of the site at ``site_url``, as of its latest
        build. Targets of other site URLs (a staging build) are left alone."""
        prefix = site_url.rstrip("/") + "/"
        rows = [vars(t) for t in items]
        if any(not r["url"].startswith(prefix) for r in rows):
            raise ValueError(f"every target must start with {prefix}")
        with self.tx() as conn:
            conn.execute(targets.delete().where(targets.c.url.startswith(prefix)))
            if rows:
                conn.execute(targets.insert(), rows)

    def put_targets(self, items: Iterable[Target]) -> None:
        """Add or replace a few targets (a post published without a build)."""
        rows = [vars(t) for t in items]
        with self.tx() as conn:
            for row in rows:
                conn.execute(targets.delete().where(targets.c.url == row["url"]))
            if rows:
                conn.execute(targets.insert(), rows)

    def target_urls(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(targets.c.url)).scalars())

    def domain_policies(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(domains.c.domain, domains.c.policy))
            return {str(domain): str(policy) for domain, policy in rows}

    def target(self, url: str) -> Target | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(targets).where(targets.c.url == url))
                .mappings()
                .first()
            )
        return Target(**row) if row else None

    @staticmethod
    def _mention(row: Any) -> Mention:
        return Mention(**{k: row[k] for k in _MENTION_FIELDS})
