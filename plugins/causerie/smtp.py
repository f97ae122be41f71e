"""The one SMTP client: replies to mail authors and notifications of mentions.

One settings block, ``SMTP = {"host": ..., "port": ..., "starttls": ...,
"user": ..., "from_address": ...}``, and one password variable,
``$CAUSERIE_SMTP_PASSWORD``, serve every message Causerie sends. Older sites
set ``smtp_*`` keys in ``MAILPOSTS`` or ``WEBMENTIONS`` and the mail side's
password in ``$CAUSERIE_MAIL_SMTP_PASSWORD``: those are still read, with a
warning that says what to write instead, as long as no ``SMTP`` block exists.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from causerie.errors import SettingsError
from causerie.settings import read_section

__all__ = [
    "ENV_PASSWORD",
    "SmtpClient",
    "SmtpSettings",
    "smtp_password",
    "smtp_settings",
]

log = logging.getLogger(__name__)

#: The password of ``SMTP["user"]``.
ENV_PASSWORD = "CAUSERIE_SMTP_PASSWORD"
#: What the mail side read before there was one block (still read, with a warning).
LEGACY_ENV_PASSWORD = "CAUSERIE_MAIL_SMTP_PASSWORD"

_warned: set[str] = set()


@dataclass(frozen=True)
class SmtpSettings:
    """``SMTP``: the mail server Causerie sends through (None: send nothing)."""

    host: str | None = None
    port: int = 25
    #: STARTTLS after connecting (a submission port, 587, wants it).
    starttls: bool = False
    #: Log in as this user, with $CAUSERIE_SMTP_PASSWORD.
    user: str | None = None
    #: The From of notifications (mail replies come from MAILPOSTS["address"]).
    from_address: str = "blog@localhost"
    #: Seconds for the connection and each command.
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"SMTP['port'] must be 1-65535, got {self.port}")
        if self.timeout <= 0:
            raise SettingsError("SMTP['timeout'] must be more than 0 seconds")


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def smtp_settings(
    settings: Mapping[str, Any], legacy: Any = None, section: str = ""
) -> SmtpSettings:
    """The SMTP settings of a site: its ``SMTP`` block; else, for an older
    site, the ``smtp_*`` fields of the capability's validated settings
    ``legacy`` (``section`` names its block in the warning)."""
    if settings.get("SMTP") is not None:
        if legacy is not None and getattr(legacy, "smtp_host", None):
            _warn_once(
                f"{section}['smtp_host'] and its smtp_* keys are ignored: the "
                "SMTP block is used; remove them from pelicanconf.py"
            )
        return read_section(settings, "SMTP", SmtpSettings)
    if legacy is None or not getattr(legacy, "smtp_host", None):
        return SmtpSettings()
    _warn_once(
        f"{section}['smtp_host'], ['smtp_port'], ['smtp_starttls'] and "
        f"['smtp_user'] are deprecated: write one SMTP = {{'host': ..., 'port': ..., "
        "'starttls': ..., 'user': ..., 'from_address': ...}} block in pelicanconf.py, "
        "used by mail replies and notifications alike (docs/configuration.md)"
    )
    return SmtpSettings(
        host=legacy.smtp_host,
        port=legacy.smtp_port,
        starttls=legacy.smtp_starttls,
        user=legacy.smtp_user,
        from_address=getattr(legacy, "smtp_from", None) or SmtpSettings.from_address,
    )


def smtp_password(environ: Mapping[str, str] | None = None) -> str | None:
    """$CAUSERIE_SMTP_PASSWORD; else the older $CAUSERIE_MAIL_SMTP_PASSWORD,
    with a warning."""
    env = os.environ if environ is None else environ
    if env.get(ENV_PASSWORD):
        return env[ENV_PASSWORD]
    if env.get(LEGACY_ENV_PASSWORD):
        _warn_once(
            f"${LEGACY_ENV_PASSWORD} is deprecated: set ${ENV_PASSWORD} instead "
            "(one password for every message Causerie sends)"
        )
        return env[LEGACY_ENV_PASSWORD]
    return None


class SmtpClient:
    """Sends one message per call through the configured server."""

    def __init__(self, cfg: SmtpSettings, password: str | None) -> None:
        self.cfg = cfg
        self.password = password

    @property
    def server(self) -> str:
        return f"{self.cfg.host}:{self.cfg.port}"

    def send(self, message: EmailMessage, envelope_from: str | None = None) -> None:
        """Send ``message`` to its To. ``envelope_from=""`` gives the null
        reverse-path of automatic replies (RFC 3834 §3.3); None: its From.
        Raises OSError or smtplib.SMTPException, with the server's words."""
        cfg = self.cfg
        if not cfg.host:
            raise smtplib.SMTPException("SMTP['host'] is not set")
        if cfg.user and not self.password:
            raise smtplib.SMTPException(f"${ENV_PASSWORD} is not set")
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.user and self.password:
                smtp.login(cfg.user, self.password)
            smtp.send_message(
                message, from_addr=envelope_from, to_addrs=[str(message["To"])]
            )
