"""One run of ``publish mentions send``: what is due, sent, and recorded.

Glue between the pure planning (:mod:`causerie.webmentions.send.plan`), the store
(:mod:`causerie.webmentions.send.state`) and the network (:mod:`causerie.webmentions.send.sender`); the CLI stays thin.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable

from causerie.webmentions.errors import WebmentionError
from causerie.webmentions.fetch import FetchPolicy
from causerie.webmentions.model import domain_of
from causerie.webmentions.send.plan import (
    ERROR,
    FAILED,
    NO_ENDPOINT,
    REFUSED,
    RETRY,
    SENT,
    Job,
    OutboundPost,
    SentRecord,
    plan,
    same_site,
)
from causerie.webmentions.send.sender import Outcome, Sender, SendPolicy
from causerie.webmentions.send.state import posts, records, save_outcome
from causerie.webmentions.settings import WebmentionSettings
from causerie.webmentions.store.mention_store import Store

#: The order of the summary table.
ORDER = (SENT, NO_ENDPOINT, REFUSED, RETRY, FAILED, ERROR)


def policy_from(cfg: WebmentionSettings) -> SendPolicy:
    return SendPolicy(
        fetch=FetchPolicy(allow_networks=cfg.fetch_allow_networks),
        workers=cfg.send_workers,
        per_host=cfg.send_per_host,
        tries=cfg.send_tries,
        max_wait=float(cfg.send_max_wait),
    )


def keeps(cfg: WebmentionSettings, site_url: str) -> Callable[[str], bool]:
    """Which targets are sent to: not our own site (unless configured), not
    a skipped domain (or its subdomains)."""
    skipped = tuple(d.lower().lstrip(".") for d in cfg.send_skip_domains)

    def keep(target: str) -> bool:
        if cfg.send_skip_own_site and same_site(target, site_url):
            return False
        host = domain_of(target)
        return not any(host == d or host.endswith("." + d) for d in skipped)

    return keep


def matching(all_posts: Iterable[OutboundPost], slug: str) -> list[OutboundPost]:
    """The posts whose address has ``slug`` as a path segment (a post and
    its translations); a WebmentionError if there is none."""
    found = [p for p in all_posts if slug.strip("/") in p.url.rstrip("/").split("/")]
    if not found:
        raise WebmentionError(
            f"no post has the slug {slug!r}: build the site first (publish build), "
            "and give the slug as in the post's address"
        )
    return found


def due(
    store: Store,
    cfg: WebmentionSettings,
    site_url: str,
    slug: str | None = None,
) -> list[Job]:
    """The webmentions due now, for every post or those of ``slug``."""
    known = posts(store, site_url)
    if not known:
        raise WebmentionError(
            f"no post of {site_url} is known to the mention store: run "
            "`publish build` with the same settings first"
        )
    chosen = matching(known, slug) if slug else known
    return plan(chosen, records(store, site_url), store.clock(), keeps(cfg, site_url))


def send(
    store: Store,
    cfg: WebmentionSettings,
    jobs: list[Job],
    on_outcome: Callable[[Outcome, SentRecord | None], None],
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send ``jobs``, storing each outcome as it comes; ``on_outcome`` gets
    it with the stored record (None for a fault of ours, which is not stored,
    so the next run tries again)."""
    sender = Sender(policy_from(cfg), sleep=sleep)

    def done(outcome: Outcome) -> None:
        stored = None
        if outcome.status != ERROR:
            stored = save_outcome(
                store,
                to_record(outcome, store.clock()),
                dt.timedelta(seconds=cfg.send_retry_delay),
                cfg.send_max_runs,
            )
        on_outcome(outcome, stored)

    return sender.run(jobs, done)


def to_record(outcome: Outcome, now: dt.datetime) -> SentRecord:
    job = outcome.job
    wait = outcome.retry_after
    return SentRecord(
        source=job.source,
        target=job.target,
        digest=job.digest,
        status=outcome.status,
        endpoint=outcome.endpoint,
        http_status=outcome.http_status,
        location=outcome.location,
        reason=outcome.reason,
        attempts=job.attempts,
        sent_at=now,
        next_attempt_at=now + dt.timedelta(seconds=wait) if wait else None,
    )


def counts(stored: Iterable[tuple[Outcome, SentRecord | None]]) -> Counter[str]:
    """Outcomes by final status (a retry that gave up counts as failed)."""
    return Counter(
        record.status if record else outcome.status for outcome, record in stored
    )


def summary_rows(tally: Counter[str]) -> list[tuple[str, int]]:
    return [(status, tally[status]) for status in ORDER if tally.get(status)]


def exit_code(tally: Counter[str], strict: bool = False) -> int:
    """0 unless a fault of ours happened (or, with ``strict``, any failure):
    a target that refuses, has no endpoint or is down is the remote's
    business, recorded and retried; it must not fail a cron job."""
    if tally.get(ERROR):
        return 1
    if strict and any(tally.get(s) for s in (REFUSED, RETRY, FAILED)):
        return 1
    return 0


__all__ = [
    "ORDER",
    "counts",
    "due",
    "exit_code",
    "keeps",
    "policy_from",
    "send",
    "summary_rows",
]
