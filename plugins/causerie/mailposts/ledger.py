"""The mail ledger: every message seen, and what became of it.

A small SQLite file under var/mail/ (WAL, synchronous=FULL: a committed row
survives a power cut). It makes ingestion idempotent — the same Message-ID or
the same bytes again is a duplicate, never a second post — remembers the
confirmations we sent (an answer to one edits its post), and counts replies
for the rate limit. Mail is ingested on one machine, so SQLite is enough; the
ledger holds nothing the site needs to build.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    path TEXT,
    sender TEXT,
    at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_id ON messages (message_id);
CREATE UNIQUE INDEX IF NOT EXISTS messages_digest ON messages (digest);
CREATE TABLE IF NOT EXISTS confirmations (
    message_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    author_email TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS replies (
    recipient TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_recipient ON replies (recipient, at);
"""


@dataclass(frozen=True)
class Seen:
    """A message already handled."""

    message_id: str
    digest: str
    outcome: str
    reason: str | None
    path: str | None


class Ledger:
    """The ledger at ``path`` (created with its directory if missing)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(
            str(path), timeout=30, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE: two ingesting processes never both decide that a
        # message is new (the second waits, then sees the first's row).
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def seen(self, message_id: str, digest: str) -> Seen | None:
        """The earlier handling of this Message-ID or of these very bytes."""
        with self._lock:
            row = self._conn.execute(
                "SELECT message_id, digest, outcome, reason, path FROM messages "
                "WHERE message_id = ? OR digest = ? LIMIT 1",
                (message_id, digest),
            ).fetchone()
        return Seen(*row) if row else None

    def record(
        self,
        message_id: str,
        digest: str,
        outcome: str,
        *,
        reason: str | None = None,
        path: str | None = None,
        sender: str | None = None,
        at: dt.datetime,
    ) -> bool:
        """Record a final outcome; False if the message was recorded already
        (by another process meanwhile): the caller then treats it as a duplicate."""
        with self._tx() as conn:
            try:
                conn.execute(
                    "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (message_id, digest, outcome, reason, path, sender, at.isoformat()),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def confirmation_sent(
        self, message_id: str, path: str, author_email: str, at: dt.datetime
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO confirmations VALUES (?, ?, ?, ?)",
                (message_id, path, author_email.lower(), at.isoformat()),
            )

    def confirmation(self, message_ids: list[str]) -> tuple[str, str] | None:
        """(post path, author e-mail) of the first of ``message_ids`` that is a
        confirmation we sent, or None."""
        with self._lock:
            for mid in message_ids:
                row = self._conn.execute(
                    "SELECT path, author_email FROM confirmations WHERE message_id = ?",
                    (mid,),
                ).fetchone()
                if row:
                    return str(row[0]), str(row[1])
        return None

    def reply_allowed(self, recipient: str, limit: int, now: dt.datetime) -> bool:
        """Whether one more reply to ``recipient`` stays within ``limit`` an
        hour; if so, it is counted."""
        since = (now - dt.timedelta(hours=1)).isoformat()
        with self._tx() as conn:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM replies WHERE recipient = ? AND at > ?",
                (recipient.lower(), since),
            ).fetchone()
            if count >= limit:
                return False
            conn.execute(
                "INSERT INTO replies VALUES (?, ?)",
                (recipient.lower(), now.isoformat()),
            )
        return True

    def outcomes(self) -> list[Seen]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT message_id, digest, outcome, reason, path FROM messages ORDER BY at"
            ).fetchall()
        return [Seen(*row) for row in rows]

    def entry(self, digest: str) -> tuple[Seen, str] | None:
        """The row of these very bytes, with when it was recorded."""
        with self._lock:
            row = self._conn.execute(
                "SELECT message_id, digest, outcome, reason, path, at FROM messages "
                "WHERE digest = ?",
                (digest,),
            ).fetchone()
        return (Seen(*row[:5]), str(row[5])) if row else None

    def forget(self, digest: str, outcome: str) -> bool:
        """Remove the row of these bytes if its outcome is ``outcome``
        (`publish mail release`: the message is handled afresh)."""
        with self._tx() as conn:
            cursor = conn.execute(
                "DELETE FROM messages WHERE digest = ? AND outcome = ?",
                (digest, outcome),
            )
        return cursor.rowcount > 0

    def set_outcome(
        self,
        message_id: str,
        digest: str,
        outcome: str,
        *,
        reason: str | None,
        at: dt.datetime,
    ) -> None:
        """Change the outcome recorded for these bytes (or record it):
        `publish mail drop` keeps a record of what it discarded."""
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE messages SET outcome = ?, reason = ?, at = ? WHERE digest = ?",
                (outcome, reason, at.isoformat(), digest),
            )
            if cursor.rowcount == 0:
                conn.execute(
                    "INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, NULL, NULL, ?)",
                    (message_id, digest, outcome, reason, at.isoformat()),
                )
