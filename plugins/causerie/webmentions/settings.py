"""``WEBMENTIONS`` settings: the receiver, its store, moderation and e-mails."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from causerie.errors import SettingsError
from causerie.settings import read_section, site_dir

log = logging.getLogger(__name__)

#: Environment variables that override settings (secrets live only there).
ENV_DATABASE = "CAUSERIE_DATABASE_URL"
ENV_ADMIN_SECRET = "CAUSERIE_ADMIN_SECRET"
#: Each named moderator's secret: CAUSERIE_MODERATOR_<NAME>_SECRET.
ENV_MODERATOR_PREFIX = "CAUSERIE_MODERATOR_"
#: The moderator $CAUSERIE_ADMIN_SECRET logs in.
ADMIN_NAME = "admin"
_MODERATOR_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def moderator_env(name: str) -> str:
    """The environment variable holding moderator ``name``'s secret."""
    return f"{ENV_MODERATOR_PREFIX}{name.upper().replace('-', '_')}_SECRET"


def moderator_secrets(cfg: WebmentionSettings) -> dict[str, str]:
    """Name -> secret of every moderator who has one in the environment:
    "admin" for $CAUSERIE_ADMIN_SECRET, then WEBMENTIONS["moderators"]."""
    found: dict[str, str] = {}
    if os.environ.get(ENV_ADMIN_SECRET):
        found[ADMIN_NAME] = os.environ[ENV_ADMIN_SECRET]
    for name in cfg.moderators:
        secret = os.environ.get(moderator_env(name))
        if secret:
            found[name] = secret
        else:
            log.warning(
                "moderator %s cannot log in: set %s to their secret",
                name,
                moderator_env(name),
            )
    return found


@dataclass(frozen=True)
class WebmentionSettings:
    """The ``WEBMENTIONS`` dict of pelicanconf.py, with its defaults."""

    #: SQLAlchemy URL of the mention store. A relative SQLite path is read from
    #: the site's directory. ``$CAUSERIE_DATABASE_URL`` overrides it, e.g.
    #: ``postgresql+psycopg://blog@db.internal/blog`` for several machines.
    database: str = "sqlite:///var/mentions.sqlite3"
    #: Public address of the receiver service, as readers' browsers and other
    #: sites reach it (the endpoint is ``<service_url>/webmention``).
    service_url: str = "http://127.0.0.1:8081"
    #: Where ``publish mentions serve`` listens.
    host: str = "127.0.0.1"
    port: int = 8081
    #: How many reverse proxies stand in front of the service (their
    #: X-Forwarded-For then gives the client address for rate limits).
    proxies: int = 0
    #: "hold": every mention waits for approval (a company's default);
    #: "open": mentions are shown unless their domain is blocked.
    moderation: str = "hold"
    #: Requests accepted per minute from one client address, and for one
    #: source domain; more get 429 Too Many Requests.
    rate_limit_per_minute: int = 30
    #: ``publish mentions serve`` against slow and greedy clients (issue 13
    #: item 4; docs/webmentions.md, "Slow clients"). Connections open at once
    #: (the next ones wait in the kernel's queue); the open-files limit is
    #: raised to fit, up to the hard limit.
    max_connections: int = 1000
    #: Connections one client address (an IPv6 /64) may hold open; it gets
    #: 429 for more. Not applied with ``proxies`` >= 1: every connection then
    #: comes from the proxy, whose own limit applies (nginx's limit_conn).
    max_connections_per_client: int = 20
    #: Seconds a client has to send a whole request, headers and body, from
    #: its first byte (from connecting, for the first request); slower ones
    #: are cut off, however often they send a byte (slowloris).
    request_timeout: int = 10
    #: Seconds an idle keep-alive connection is kept.
    idle_timeout: int = 30
    #: Networks the fetcher may reach although they are private (an intranet).
    #: Empty on the Internet: loopback and private addresses are refused.
    fetch_allow_networks: tuple[str, ...] = ()
    #: Verification attempts before a mention is recorded as failed.
    max_attempts: int = 6
    #: Seconds before the first retry; doubled at each further attempt.
    retry_delay: int = 30
    #: Seconds a worker holds a mention it verifies; if the worker dies, another
    #: takes the mention over after this. Keep it above the fetch time limit (5 s).
    lease_seconds: int = 60
    #: Side of the square avatars cached and served by the site, in pixels.
    avatar_size: int = 96
    #: Command run (without a shell) after mentions are approved, to rebuild
    #: and publish the site, e.g. ["publish", "build"]. None: do nothing.
    on_approve: tuple[str, ...] | None = None
    #: E-mail the post's author when a mention arrives (needs smtp_host).
    notify: bool = True
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_from: str = "blog@localhost"
    #: Sending (``publish mentions send``): links to our own site are not
    #: sent to (their pages are ours); nor are links to these domains.
    send_skip_own_site: bool = True
    send_skip_domains: tuple[str, ...] = ()
    #: Targets handled at once, and requests at once to any one host.
    send_workers: int = 8
    send_per_host: int = 2
    #: Tries within a run for a 429, a 5xx or a timeout (Retry-After is
    #: honoured up to send_max_wait seconds; longer waits go to a later run).
    send_tries: int = 3
    send_max_wait: int = 30
    #: A target still failing transiently is tried again by later runs, after
    #: send_retry_delay seconds (doubled each time), at most send_max_runs runs.
    send_retry_delay: int = 600
    send_max_runs: int = 6
    #: Failed /admin log-ins (docs/webmentions.md, "Log-in limits"): after
    #: login_address_failures failures from one address within login_window
    #: seconds its further failures wait (429, a doubling Retry-After); past
    #: login_global_failures failures in all, only browsers that logged in
    #: before are answered. The right secret is never refused by the
    #: per-address limit.
    #: Named moderators of /admin, each logging in with their own secret from
    #: $CAUSERIE_MODERATOR_<NAME>_SECRET (lower-case names, digits, - and _;
    #: "admin" is $CAUSERIE_ADMIN_SECRET's). Every decision records the name.
    moderators: tuple[str, ...] = ()
    login_address_failures: int = 5
    login_global_failures: int = 100
    login_window: int = 900
    #: Reviews (docs/webmentions.md, "Reviews"): the categories whose posts
    #: take a rating in the comment form (a post also opts in with
    #: ``Reviews: on``, or out with ``Reviews: off``).
    reviews: tuple[str, ...] = ()
    #: The minimum count of the "best rated" ranking: a post with fewer
    #: rated reviews is not ranked, and the Bayesian average counts the
    #: site's mean this many times.
    reviews_min_count: int = 3
    #: The rankings pages and feeds (most discussed, best rated), linked
    #: from the navigation; off by default.
    rankings: bool = False

    def __post_init__(self) -> None:
        if self.moderation not in ("hold", "open"):
            raise SettingsError("moderation must be 'hold' or 'open'")
        if urlsplit(self.service_url).scheme not in ("http", "https"):
            raise SettingsError(
                f"service_url {self.service_url!r} must be an http(s) URL"
            )
        for name in self.moderators:
            if not isinstance(name, str) or not _MODERATOR_NAME.fullmatch(name):
                raise SettingsError(
                    f"moderators: {name!r} is not a moderator name (lower-case "
                    "letters, digits, - and _, at most 32, such as 'alice')"
                )
        if ADMIN_NAME in self.moderators:
            raise SettingsError(
                "moderators: 'admin' is the moderator of $CAUSERIE_ADMIN_SECRET; "
                "give the others their own names"
            )
        for net in self.fetch_allow_networks:
            try:
                ipaddress.ip_network(net)
            except ValueError:
                raise SettingsError(
                    f"fetch_allow_networks: {net!r} is not a network such as 10.0.0.0/8"
                ) from None
        for name in (
            "port",
            "rate_limit_per_minute",
            "max_attempts",
            "avatar_size",
            "lease_seconds",
            "send_workers",
            "send_per_host",
            "send_tries",
            "send_max_runs",
            "login_address_failures",
            "login_global_failures",
            "login_window",
            "max_connections",
            "max_connections_per_client",
            "request_timeout",
            "idle_timeout",
            "reviews_min_count",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        if self.send_max_wait < 0 or self.send_retry_delay < 0:
            raise SettingsError("send_max_wait and send_retry_delay must be 0 or more")

    @property
    def endpoint(self) -> str:
        return self.service_url.rstrip("/") + "/webmention"

    def database_url(self, site_dir: str) -> str:
        """The store's URL: the environment's, else ours, with SQLite paths
        made absolute against the site's directory."""
        url = os.environ.get(ENV_DATABASE) or self.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            path = url[len(prefix) :]
            if path and path != ":memory:":
                url = prefix + os.path.join(os.path.abspath(site_dir), path)
        return url


def config(settings: dict[str, Any]) -> WebmentionSettings:
    """The validated ``WEBMENTIONS`` dict of Pelican ``settings``."""
    return read_section(settings, "WEBMENTIONS", WebmentionSettings)


def var_dir(settings: dict[str, Any]) -> str:
    """Where the receiver keeps its files (the SQLite store, avatars)."""
    return os.path.join(site_dir(settings), "var")
