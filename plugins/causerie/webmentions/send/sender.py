"""Sending webmentions over the network: discover each target's endpoint,
then POST (source, target) to it (W3C Webmention §3.1.2-3.1.3).

Every request goes through the one guarded :func:`~webmentions.fetch.fetch`:
targets and endpoints on loopback or private networks are refused (§4.3;
a test allows loopback through the policy's ``allow_networks``). Jobs run
concurrently with a limit per host; transient failures (429, 5xx, timeouts,
network errors) are retried with backoff, honouring ``Retry-After``. One
target's trouble never stops the others: every job ends as an
:class:`Outcome` with a plain reason.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from causerie.webmentions.fetch import FetchError, FetchPolicy, FetchResult, fetch
from causerie.webmentions.send.discover import discover
from causerie.webmentions.send.plan import (
    ERROR,
    FAILED,
    NO_ENDPOINT,
    REFUSED,
    RETRY,
    SENT,
    Job,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendPolicy:
    """How hard and how fast ``publish mentions send`` tries."""

    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    #: Jobs in flight at once, and requests at once to any one host.
    workers: int = 8
    per_host: int = 2
    #: Tries within one run for a transient failure, and the first wait
    #: between them (doubled each time).
    tries: int = 3
    backoff: float = 1.0
    #: The longest Retry-After honoured within a run; a longer one ends the
    #: try and the next run takes it up once that time has passed.
    max_wait: float = 30.0


@dataclass(frozen=True)
class Outcome:
    """How one job ended."""

    job: Job
    status: str
    reason: str | None = None
    endpoint: str | None = None
    http_status: int | None = None
    location: str | None = None  # a 201's status page
    #: For a transient failure: the wait the server asked for, in seconds.
    retry_after: float | None = None


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class HostLimiter:
    """At most ``per_host`` requests at once to each host."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._slots: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.Semaphore(self.per_host))
        with semaphore:
            yield


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` (RFC 9110 §10.2.3) in seconds: delay-seconds or an
    HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Sender:
    """Sends jobs; ``sleep`` is injectable so tests need not wait."""

    def __init__(
        self,
        policy: SendPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self.limiter = HostLimiter(policy.per_host)
        # Discovery once per target and run, though many posts link to it.
        self._found: dict[str, tuple[str | None, Outcome | None]] = {}
        self._finding: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def run(
        self, jobs: Iterable[Job], on_outcome: Callable[[Outcome], None]
    ) -> list[Outcome]:
        """Send every job; ``on_outcome`` is called (in this thread) as each ends."""
        outcomes = []
        with ThreadPoolExecutor(
            max_workers=self.policy.workers, thread_name_prefix="send"
        ) as pool:
            futures = {pool.submit(self.send_one, job): job for job in jobs}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as exc:  # a bug of ours: say so, go on
                    log.exception("sending %s failed", futures[future].target)
                    outcome = Outcome(futures[future], ERROR, f"internal error: {exc}")
                on_outcome(outcome)
                outcomes.append(outcome)
        return outcomes

    def send_one(self, job: Job) -> Outcome:
        endpoint, failure = self.endpoint_of(job)
        if failure is not None:
            return Outcome(
                job,
                failure.status,
                failure.reason,
                None,
                failure.http_status,
                retry_after=failure.retry_after,
            )
        if endpoint is None:
            return Outcome(
                job, NO_ENDPOINT, "the target advertises no Webmention endpoint"
            )
        return self._post(job, endpoint)

    # --- discovery (§3.1.2) --------------------------------------------------

    def endpoint_of(self, job: Job) -> tuple[str | None, Outcome | None]:
        """The target's endpoint, or why it could not be found."""
        with self._lock:
            if job.target in self._found:
                return self._found[job.target]
            lock = self._finding.setdefault(job.target, threading.Lock())
        with lock:
            with self._lock:
                if job.target in self._found:
                    return self._found[job.target]
            found = self._discover(job)
            with self._lock:
                self._found[job.target] = found
            return found

    def _discover(self, job: Job) -> tuple[str | None, Outcome | None]:
        try:
            page = self._with_retries(lambda: self._get(job.target))
        except _Transient as exc:
            return None, Outcome(job, RETRY, exc.reason, retry_after=exc.retry_after)
        except FetchError as exc:
            return None, Outcome(job, FAILED, f"cannot fetch the target: {exc.reason}")
        if page.status >= 400:
            return None, Outcome(
                job,
                REFUSED,
                f"the target answered {page.status}",
                http_status=page.status,
            )
        html = page.text() if "html" in page.content_type else None
        try:
            endpoint = discover(page.url, page.headers.get("Link"), html)
        except Exception as exc:  # a parser failure on garbage is the target's
            return None, Outcome(
                job, FAILED, f"the target's page cannot be read: {exc}"
            )
        return endpoint, None

    def _get(self, url: str) -> FetchResult:
        with self.limiter.slot(url):
            page = fetch(url, self.policy.fetch)
        if page.status == 429 or page.status >= 500:
            raise _Transient(
                f"the target answered {page.status}",
                retry_after_seconds(page.headers.get("Retry-After")),
            )
        return page

    # --- sending (§3.1.3) ----------------------------------------------------

    def _post(self, job: Job, endpoint: str) -> Outcome:
        try:
            answer = self._with_retries(lambda: self._send(endpoint, job))
        except _Transient as exc:
            return Outcome(
                job, RETRY, exc.reason, endpoint, retry_after=exc.retry_after
            )
        except FetchError as exc:
            reason = exc.reason
            if "refused:" in reason:
                # §4.3: never send to an endpoint on a private network.
                reason = f"the endpoint {endpoint} is not allowed: {reason}"
            return Outcome(job, FAILED, reason, endpoint)
        status = answer.status
        if 200 <= status < 300:
            location = answer.headers.get("Location")
            return Outcome(
                job,
                SENT,
                None,
                endpoint,
                status,
                urljoin(endpoint, location.strip()) if location else None,
            )
        if 300 <= status < 400:
            return Outcome(
                job,
                REFUSED,
                f"the endpoint answered {status} (a redirect); a Webmention POST is not redirected",
                endpoint,
                status,
            )
        return Outcome(
            job,
            REFUSED,
            f"the endpoint answered {status}: {_excerpt(answer)}",
            endpoint,
            status,
        )

    def _send(self, endpoint: str, job: Job) -> FetchResult:
        with self.limiter.slot(endpoint):
            answer = fetch(
                endpoint,
                self.policy.fetch,
                method="POST",
                data={"source": job.source, "target": job.target},
                follow_redirects=False,
            )
        if answer.status == 429 or answer.status >= 500:
            raise _Transient(
                f"the endpoint answered {answer.status}",
                retry_after_seconds(answer.headers.get("Retry-After")),
            )
        return answer

    def _with_retries(self, attempt: Callable[[], FetchResult]) -> FetchResult:
        wait = self.policy.backoff
        for tried in range(1, self.policy.tries + 1):
            try:
                return attempt()
            except FetchError as exc:
                if not exc.transient:
                    raise
                problem = _Transient(exc.reason)
            except _Transient as exc:
                problem = exc
            if tried == self.policy.tries:
                raise problem
            asked = problem.retry_after
            if asked is not None and asked > self.policy.max_wait:
                raise problem  # the next run, once the server is ready
            self.sleep(asked if asked is not None else wait)
            wait *= 2
        raise AssertionError("unreachable")


def _excerpt(answer: FetchResult, limit: int = 160) -> str:
    """The start of a receiver's answer, as one line of plain text: it is
    printed on our terminal, so no markup and no control characters (an
    escape sequence could rewrite what the user sees)."""
    text = answer.text()
    if "html" in answer.content_type:
        from bs4 import BeautifulSoup

        text = BeautifulSoup(text, "lxml").get_text(" ")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return (text[: limit - 1] + "…" if len(text) > limit else text) or "(empty body)"
