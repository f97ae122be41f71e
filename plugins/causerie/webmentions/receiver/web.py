"""What every page of the receiver shares: the service's state, plain and
HTML answers, the client's address.

The endpoint (:mod:`.app`), the comment form (:mod:`.form`) and /admin
(:mod:`.admin`) all stand on this module, and it on none of them.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from causerie.webmentions.logtext import loggable
from causerie.webmentions.receiver.login_throttle import LoginThrottle
from causerie.webmentions.receiver.request_checks import RateLimiter
from causerie.webmentions.settings import ADMIN_NAME, WebmentionSettings
from causerie.webmentions.store.group_commit import GroupCommit
from causerie.webmentions.store.mention_store import Store

# The endpoint's "queued" lines keep the name they always had (app), so a
# logging config that names it still finds them.
log = logging.getLogger("causerie.webmentions.receiver.app")

Handler = Callable[["Service", Request], Response]
Notifier = Callable[[Any], None]


class Snapshot:
    """The published targets and the domain policies, kept in memory.

    Read from the store at most every ``ttl`` seconds (the hot path of the
    endpoint makes no query for them); an unknown target triggers an early
    re-read, so a post published by a build is accepted within a second.
    """

    def __init__(
        self,
        store: Store,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._targets: set[str] = set()
        self._policies: dict[str, str] = {}

    def _refresh(self, older_than: float) -> None:
        # Most calls find the copy fresh, and need no lock (every request
        # came here twice; the lock made request threads queue on it).
        if self.clock() - self._read_at < older_than:
            return
        with self._lock:
            if self.clock() - self._read_at >= older_than:
                self._targets = self.store.target_urls()
                self._policies = self.store.domain_policies()
                self._read_at = self.clock()

    def is_target(self, url: str) -> bool:
        self._refresh(self.ttl)
        if url in self._targets:
            return True
        self._refresh(1.0)
        return url in self._targets

    def domain_policy(self, domain: str) -> str | None:
        self._refresh(self.ttl)
        return self._policies.get(domain)

    def invalidate(self) -> None:
        """Forget what was read (after a change made in this process)."""
        with self._lock:
            self._read_at = -float("inf")


@dataclass
class Service:
    """Everything the handlers share."""

    store: Store
    settings: WebmentionSettings
    limiter: RateLimiter
    #: The one shared secret of older set-ups: the moderator "admin".
    admin_secret: str | None = None
    notify: Notifier | None = None
    on_approve: Callable[[], None] | None = None
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    snapshot: Snapshot | None = None
    #: Where cached avatars live (deleted with a blocked domain's mentions).
    avatars_dir: Path | None = None
    #: Failed log-ins on /admin (see .login); made from the settings if None.
    login_throttle: LoginThrottle | None = None
    #: The public site's address (Pelican's SITEURL): the admin's cookies
    #: are Secure when it or service_url is https (a TLS proxy in front).
    site_url: str | None = None
    #: The site's DEFAULT_LANG: /admin's language when the browser asks for
    #: none we have.
    default_lang: str = "en"
    #: What stores the endpoint's mentions (anything with GroupCommit's
    #: ``enqueue``): ``publish mentions serve`` on SQLite gives a
    #: :class:`.writer.WriterClient`; by default, a group commit here.
    writer: Any = None
    #: Moderator name -> secret (see settings.moderator_secrets).
    moderators: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.admin_secret and ADMIN_NAME not in self.moderators:
            self.moderators = {ADMIN_NAME: self.admin_secret, **self.moderators}
        if self.snapshot is None:
            self.snapshot = Snapshot(self.store)
        if self.login_throttle is None:
            self.login_throttle = LoginThrottle(
                self.settings.login_address_failures,
                self.settings.login_global_failures,
                self.settings.login_window,
            )
        # No thread of its own: creating it up front costs nothing.
        self._writer = self.writer or GroupCommit(self.store, on_commit=_log_queued)

    def enqueue(self, source: str, target: str, client: str | None) -> int:
        """Queue a webmention; return its id once it is committed."""
        return self._writer.enqueue(source, target, client)

    def is_target(self, url: str) -> bool:
        assert self.snapshot
        return self.snapshot.is_target(url)

    def domain_policy(self, domain: str) -> str | None:
        assert self.snapshot
        return self.snapshot.domain_policy(domain)

    def policies_changed(self) -> None:
        assert self.snapshot
        self.snapshot.invalidate()


def _log_queued(
    items: Sequence[tuple[str, str, str | None]], ids: Sequence[int]
) -> None:
    """Log the mentions one group commit stored, one line each.

    Logged by the thread that committed them, for all of them: when every
    request thread logged its own line, they queued on the log handler's
    lock, each one's write handing the GIL to the next (bench/mentions.py).
    """
    if log.isEnabledFor(logging.INFO):
        for (source, target, _client), mention_id in zip(items, ids, strict=True):
            log.info(
                "webmention %s queued: %s -> %s",
                mention_id,
                loggable(source),
                loggable(target),
            )


def text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A plain-text answer: what programs (and curl users) read."""
    return Response(
        message.rstrip("\n") + "\n",
        status=status,
        mimetype="text/plain",
        headers=headers,
    )


def page(status: int, title: str, body_html: str, lang: str = "en") -> Response:
    """A minimal, accessible HTML page for people (the form's answers)."""
    doc = (
        f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:38rem;margin:3rem auto;"
        "padding:0 1rem;color:#1f1a17;background:#fffdf9}a{color:#8a3b12}</style>"
        f"</head><body><main><h1>{html.escape(title)}</h1>{body_html}</main></body></html>"
    )
    return Response(doc, status=status, mimetype="text/html")


def client_of(request: Request) -> str:
    return request.remote_addr or "unknown"
