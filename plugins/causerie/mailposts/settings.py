"""``MAILPOSTS`` settings: where mail comes from, who may publish, limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causerie.errors import SettingsError
from causerie.settings import read_section

#: Environment variables (secrets live only there).
ENV_IMAP_PASSWORD = "CAUSERIE_IMAP_PASSWORD"
ENV_IMAP_TOKEN = "CAUSERIE_IMAP_TOKEN"
#: An author's secret: CAUSERIE_MAIL_SECRET_ + the author's slug in upper
#: case with "-" as "_" (CAUSERIE_MAIL_SECRET_CLAIRE_DUBOIS).
ENV_SECRET_PREFIX = "CAUSERIE_MAIL_SECRET_"


@dataclass(frozen=True)
class MailSettings:
    """The ``MAILPOSTS`` dict of pelicanconf.py, with its defaults."""

    #: The blog's address: what authors write to; never answered itself.
    address: str = "blog@localhost"
    #: Addresses `publish mail serve` accepts mail for (default: address).
    recipients: tuple[str, ...] = ()
    #: The authserv-id of the company's own mail server: only its
    #: Authentication-Results headers are trusted (IMAP and pipe modes).
    authserv_id: str | None = None
    #: Also require the author's secret (blog+SECRET@… or a "secret:" line).
    require_secret: bool = False
    #: A Date further in the past than this is refused (a replayed message).
    max_age_days: int = 7
    #: A Date header later than the receipt is a wrong clock (a phone set
    #: hours ahead, a year 3609): the post is dated at its receipt. Beyond
    #: this many minutes ahead, the log and the reply say so.
    future_tolerance_minutes: int = 15
    #: Limits: the whole message, attachments (count, total), images.
    max_message_bytes: int = 30_000_000
    max_attachments: int = 20
    max_attachments_bytes: int = 25_000_000
    image_max_px: int = 2000
    thumbnail_px: int = 480
    #: Where posts and their media go, relative to content/.
    posts_dir: str = "posts"
    media_dir: str = "images/mail"
    #: Category of a post whose subject names none.
    default_category: str | None = None
    #: IMAP: `publish mail poll`. Password or OAuth2 token: environment.
    imap_host: str | None = None
    imap_port: int = 993
    imap_security: str = "ssl"  # "ssl" (IMAPS), "starttls", or "none" (tests)
    imap_user: str | None = None
    imap_mailbox: str = "INBOX"
    imap_processed: str = "Processed"
    imap_failed: str = "Failed"
    imap_quarantine: str = "Quarantine"
    #: SMTP/LMTP: `publish mail serve` listens here.
    listen_host: str = "127.0.0.1"
    listen_port: int = 2525
    lmtp: bool = False
    #: DNS servers for DKIM keys in `mail serve` ("host" or "host:port");
    #: none: the system's. A lookup that times out or fails (SERVFAIL) is
    #: retried later, never taken for a failed signature.
    dns_servers: tuple[str, ...] = ()
    dns_timeout: float = 5.0
    #: Replies to authors go through this mail server.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    #: At most this many replies per author per hour.
    replies_per_hour: int = 10
    #: Run after a post is written (no shell), e.g. ["publish", "build"].
    on_publish: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.future_tolerance_minutes < 0:
            raise SettingsError("future_tolerance_minutes must be 0 or more")
        if "@" not in self.address:
            raise SettingsError(f"address {self.address!r} is not an e-mail address")
        if self.imap_security not in ("ssl", "starttls", "none"):
            raise SettingsError("imap_security must be 'ssl', 'starttls' or 'none'")
        for server in self.dns_servers:
            from .dkimcheck import split_server

            try:
                split_server(server)
            except ValueError as exc:
                raise SettingsError(
                    f"dns_servers: {exc}: give 'host' or 'host:port'"
                ) from None
        if self.dns_timeout <= 0:
            raise SettingsError("dns_timeout must be a number of seconds above 0")
        for name in (
            "max_age_days",
            "max_message_bytes",
            "max_attachments",
            "max_attachments_bytes",
            "image_max_px",
            "thumbnail_px",
            "imap_port",
            "listen_port",
            "smtp_port",
            "replies_per_hour",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")

    @property
    def served(self) -> tuple[str, ...]:
        """The addresses mail is accepted for, lower case."""
        return tuple(a.lower() for a in (self.recipients or (self.address,)))


def config(settings: dict[str, Any]) -> MailSettings:
    """The validated ``MAILPOSTS`` dict of Pelican ``settings``."""
    return read_section(settings, "MAILPOSTS", MailSettings)
