"""The verification queue: fetch each source, verify it, store the result.

Runs in ``publish mentions work`` or in a thread of ``publish mentions serve``.
Any number of workers may run at once (leases in the store keep them apart);
a worker killed mid-verification loses nothing: its lease runs out and the
mention is verified again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

from causerie.webmentions import model
from causerie.webmentions.fetch import FetchError, FetchPolicy, fetch
from causerie.webmentions.logtext import loggable
from causerie.webmentions.model import Mention
from causerie.webmentions.settings import WebmentionSettings
from causerie.webmentions.store.mention_store import Store
from causerie.webmentions.verify.avatars import cache_avatar
from causerie.webmentions.verify.moderation import DROP, decide
from causerie.webmentions.verify.source import MentionData, Refusal, verify

log = logging.getLogger(__name__)

Notifier = Callable[[Mention], None]


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """When to try a transient failure again: delay, 2×delay, 4×delay…"""

    max_attempts: int = 6
    delay: dt.timedelta = dt.timedelta(seconds=30)

    def next_attempt(self, attempts: int, now: dt.datetime) -> dt.datetime | None:
        """The time of the next try after ``attempts`` tries, or None: give up."""
        if attempts >= self.max_attempts:
            return None
        return now + self.delay * (2 ** (attempts - 1))


def _was_verified(mention: Mention) -> bool:
    """Has this mention been verified (or moderated) before this attempt?"""
    return mention.moderation != model.PENDING or any(
        (mention.url, mention.author_name, mention.title, mention.content_text)
    )


class Worker:
    """Verifies queued mentions, one batch at a time."""

    def __init__(
        self,
        store: Store,
        settings: WebmentionSettings,
        avatars_dir: Path,
        policy: FetchPolicy,
        notify: Notifier | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.avatars_dir = avatars_dir
        self.policy = policy
        self.notify = notify
        self._writes: list[Callable[[], object]] = []
        self._to_notify: list[int] = []
        self._policies: dict[str, str] = {}
        self.retry = RetryPolicy(
            settings.max_attempts, dt.timedelta(seconds=settings.retry_delay)
        )

    def run_once(self, limit: int = 10) -> int:
        """Verify up to ``limit`` due mentions; return how many were taken.

        The results of a batch are written together, in one short
        transaction after all the fetching: one disk sync per batch, and the
        store is never locked while we wait for the network. A crash before
        that write loses nothing: the leases run out, the batch is redone.
        """
        batch = self.store.claim(
            dt.timedelta(seconds=self.settings.lease_seconds), limit
        )
        if not batch:
            return 0
        self._writes, self._to_notify = [], []
        self._policies = self.store.domain_policies()
        for mention in batch:
            try:
                self._verify_one(mention)
            except Exception:
                # One bad source must never stop the queue: record, go on.
                log.exception(
                    "mention %s (%s): unexpected error",
                    mention.id,
                    loggable(mention.source),
                )
                self._transient(mention, "an unexpected error occurred while verifying")
        with self.store.batch():
            for write in self._writes:
                write()
        for mention_id in self._to_notify:
            self._send_notification(mention_id)
        return len(batch)

    def _send_notification(self, mention_id: int) -> None:
        mention = self.store.get(mention_id)
        if mention and self.notify:
            try:
                self.notify(mention)
            except Exception:
                log.exception("mention %s: notification failed", mention_id)

    def run_forever(self, stop: threading.Event, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                taken = self.run_once()
            except Exception:
                # The store itself failed (a database restart, a full disk):
                # the worker waits and tries again rather than dying.
                log.exception("verification paused: the mention store failed")
                stop.wait(10 * idle)
                continue
            if not taken:
                stop.wait(idle)

    def _verify_one(self, mention: Mention) -> None:
        """Fetch and verify one mention; queue what to write (see run_once)."""
        try:
            fetched = fetch(mention.source, self.policy)
        except FetchError as exc:
            if exc.transient:
                self._transient(mention, exc.reason)
            else:
                self._refuse(mention, exc.reason, deleted=False)
            return
        if fetched.status == 429 or fetched.status >= 500:
            self._transient(mention, f"the source answered {fetched.status}")
            return
        result = verify(mention.source, mention.target, fetched)
        if isinstance(result, Refusal):
            self._refuse(mention, result.reason, result.deleted)
            return
        self._accept(mention, result, model.domain_of(fetched.url))

    def _policy(self, sent_as: str, final: str) -> str | None:
        """The domain policy of a source sent as ``sent_as`` and fetched, after
        redirects, from ``final``. Only the final host vouches for the
        content (issue 13 item 2: an allowed domain redirecting elsewhere
        approved the other host's page); a block of either host drops it."""
        if "block" in (self._policies.get(sent_as), self._policies.get(final)):
            return "block"
        return self._policies.get(final)

    def _accept(self, mention: Mention, data: MentionData, final_domain: str) -> None:
        sent_as = model.domain_of(mention.source)
        final_domain = final_domain or sent_as
        decision = decide(
            self.settings.moderation,
            self._policy(sent_as, final_domain),
            mention.moderation,
        )
        if decision == DROP:
            log.info(
                "mention %s from blocked domain %s dropped",
                mention.id,
                loggable(final_domain),
            )
            self._writes.append(partial(self.store.erase, mention.source))
            return
        values = dataclasses.asdict(data)
        values.pop("source", None)
        values.pop("target", None)
        if data.author_photo:
            values["avatar"] = cache_avatar(
                data.author_photo,
                self.avatars_dir,
                self.policy,
                self.settings.avatar_size,
            )
        first_time = not _was_verified(mention)
        # Stored under the host it came from, so that the admin's "always
        # allow" and "block" buttons act on that host.
        values["source_domain"] = final_domain
        self._writes.append(partial(self.store.verified, mention.id, values, decision))
        log.info(
            "mention %s verified: %s from %s (%s)",
            mention.id,
            data.kind,
            loggable(mention.source),
            decision,
        )
        if self.notify and first_time and decision == model.PENDING:
            self._to_notify.append(mention.id)

    def _refuse(self, mention: Mention, reason: str, deleted: bool) -> None:
        # §3.2.4 (updates and deletes): a source that is gone, or that no
        # longer links to us, deletes a mention we had verified before; one
        # we never verified is simply refused (failed, with its reason).
        log.info(
            "mention %s refused: %s (%s)",
            mention.id,
            loggable(reason, 600),
            loggable(mention.source),
        )
        self._writes.append(
            partial(
                self.store.failed,
                mention.id,
                reason,
                deleted and _was_verified(mention),
            )
        )

    def _transient(self, mention: Mention, reason: str) -> None:
        at = self.retry.next_attempt(mention.attempts, self.store.clock())
        if at is None:
            self._writes.append(
                partial(
                    self.store.failed,
                    mention.id,
                    f"{reason} (gave up after {mention.attempts} attempts)",
                )
            )
        else:
            log.info(
                "mention %s: %s; retrying at %s",
                mention.id,
                loggable(reason, 600),
                at.isoformat(),
            )
            self._writes.append(partial(self.store.retry_later, mention.id, reason, at))
