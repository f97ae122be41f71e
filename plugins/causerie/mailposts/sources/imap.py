"""``publish mail poll [--watch]``: posts from a mailbox on an IMAP server.

Nothing is lost (docs/architecture.md): a message is fetched with ``BODY.PEEK[]``, which
never sets ``\\Seen`` (RFC 3501 §6.4.5), and it leaves the mailbox only after
the pipeline's verdict, that is once its post is safely written:

==========================  ==========================================
verdict                     the message goes to
==========================  ==========================================
``model.DONE`` outcomes     ``imap_processed``
``quarantined``             ``imap_quarantine``
``refused``                 ``imap_failed``
``retry``, or ``ingest``    stays in ``imap_mailbox``, untouched, and is
raised                      tried again on the next poll
==========================  ==========================================

A move is ``UID MOVE`` when the server has MOVE (RFC 6851), otherwise
``UID COPY`` + ``\\Deleted`` + ``UID EXPUNGE`` of that one UID (UIDPLUS,
RFC 4315 §2.1). Without UIDPLUS the copy stays flagged ``\\Deleted`` in the
mailbox and is never expunged by us: a plain EXPUNGE would also remove
messages other clients flagged. Searches skip ``\\Deleted`` messages.

Secrets (a password or an OAuth2 access token) are parameters: the CLI reads
them from the environment. They are never logged (imapclient redacts LOGIN
and AUTHENTICATE from its own debug log).
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from .. import model
from ..errors import MailError
from ..model import Ingest
from ..settings import ENV_IMAP_PASSWORD, ENV_IMAP_TOKEN, MailSettings

log = logging.getLogger(__name__)

DELETED = b"\\Deleted"


class ConnectionLost(MailError):
    """The IMAP server closed the connection: `publish mail poll` will
    reconnect (with --watch) or can simply be run again."""


#: What a dropped or refused connection raises: ``watch`` reconnects.
_CONNECTION_ERRORS = (OSError, IMAPClientAbortError, ConnectionLost)


@dataclass(frozen=True)
class MessageResult:
    """What became of one message of the mailbox."""

    uid: int
    #: None when ``ingest`` raised (a fault of ours; see ``error``).
    verdict: model.Verdict | None
    #: The folder it was moved to; None: left in the mailbox for a retry.
    folder: str | None
    error: str | None = None


@dataclass
class PollReport:
    """One pass over the mailbox."""

    mailbox: str
    results: list[MessageResult] = field(default_factory=list)

    @property
    def moved(self) -> list[MessageResult]:
        return [r for r in self.results if r.folder is not None]

    @property
    def kept(self) -> list[MessageResult]:
        """Messages left in the mailbox to be tried again."""
        return [r for r in self.results if r.folder is None]


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnection attempts: first, 2×first, 4×first… up to cap."""

    first: float = 1.0
    cap: float = 300.0

    def delay(self, failures: int) -> float:
        """The pause after ``failures`` failures in a row (1, 2…)."""
        return float(min(self.cap, self.first * 2 ** max(0, failures - 1)))


def destination(settings: MailSettings, outcome: str) -> str | None:
    """The folder a message with this verdict goes to (None: it stays)."""
    if outcome in model.DONE:
        return settings.imap_processed
    if outcome == model.QUARANTINED:
        return settings.imap_quarantine
    if outcome == model.REFUSED:
        return settings.imap_failed
    return None  # RETRY, or an outcome this adapter does not know: keep it


def poll(
    settings: MailSettings,
    ingest: Ingest,
    *,
    password: str | None = None,
    oauth2_token: str | None = None,
    stop: threading.Event | None = None,
    timeout: float = 60.0,
    ssl_context: ssl.SSLContext | None = None,
) -> PollReport:
    """Fetch every message of ``settings.imap_mailbox`` once, hand each to
    ``ingest`` (``via="imap"``) and move it by its verdict.

    Missing folders (Processed, Failed, Quarantine) are created. ``stop``
    ends the pass between two messages. ``ssl_context`` replaces the system's
    trust store (a company CA); certificates are always verified. Raises :class:`MailError` when the
    server cannot be reached or refuses the login, with what to check.
    """
    try:
        with _session(settings, password, oauth2_token, timeout, ssl_context) as client:
            return _process(client, settings, ingest, stop, _Retries(Backoff()))
    except LoginError as e:
        raise _login_error(settings, e) from None
    except (*_CONNECTION_ERRORS, IMAPClientError) as e:
        raise MailError(
            f"IMAP {settings.imap_host}:{settings.imap_port}: {e}: check imap_host, "
            "imap_port and imap_security in MAILPOSTS, or try again later"
        ) from None


def watch(
    settings: MailSettings,
    ingest: Ingest,
    *,
    password: str | None = None,
    oauth2_token: str | None = None,
    stop: threading.Event | None = None,
    on_report: Callable[[PollReport], None] | None = None,
    backoff: Backoff = Backoff(),
    retry: Backoff = Backoff(first=60.0, cap=3600.0),
    idle_refresh: float = 300.0,
    timeout: float = 60.0,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Poll, then wait for new mail with IDLE (RFC 2177), until ``stop`` is set.

    A dropped connection (the server restarts, the network fails) is
    retried after ``backoff`` delays, doubling up to its cap; a login
    refused on the very first connection raises :class:`MailError` (a
    wrong password will not get better). A message kept for a retry is
    tried again after ``retry`` delays. IDLE is renewed every
    ``idle_refresh`` seconds, well under the 29 minutes after which RFC 2177
    §3 lets a server drop an idle client; a server without IDLE is polled at
    that interval instead. ``on_report`` sees each pass that found mail;
    ``ssl_context`` is as for :func:`poll`.
    """
    stop = stop or threading.Event()
    failures = 0
    connected_once = False
    while not stop.is_set():
        retries = _Retries(retry)  # UIDs may change meaning on another connection
        try:
            with _session(
                settings, password, oauth2_token, timeout, ssl_context
            ) as client:
                if failures:
                    log.info(
                        "mailposts: IMAP connection to %s is back", settings.imap_host
                    )
                connected_once, failures = True, 0
                while not stop.is_set():
                    report = _process(client, settings, ingest, stop, retries)
                    if report.results and on_report is not None:
                        on_report(report)
                    if not _announced_new_mail(client):
                        _wait_for_mail(client, stop, idle_refresh, retries.next_due())
        except LoginError as e:
            if not connected_once:
                raise _login_error(settings, e) from None
            failures += 1
            log.warning("mailposts: IMAP login refused after a reconnection: %s", e)
        except (*_CONNECTION_ERRORS, IMAPClientError) as e:
            failures += 1
            log.warning(
                "mailposts: IMAP connection to %s:%s failed (%s: %s)",
                settings.imap_host,
                settings.imap_port,
                type(e).__name__,
                e,
            )
        if failures and not stop.is_set():
            delay = backoff.delay(failures)
            log.info("mailposts: reconnecting to IMAP in %.1f s", delay)
            stop.wait(delay)


# --- connection -------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def _session(
    settings: MailSettings,
    password: str | None,
    oauth2_token: str | None,
    timeout: float,
    ssl_context: ssl.SSLContext | None,
) -> Iterator[IMAPClient]:
    """A logged-in client with the mailbox selected and the folders made.

    ``imap_security``: "ssl" is IMAPS (implicit TLS, RFC 8314 §3.3),
    "starttls" upgrades a plain connection (RFC 3501 §6.2.1) and fails if
    the server does not offer it, "none" sends the password in clear and is
    only accepted on a loopback address: it exists for the tests.
    """
    host, security = settings.imap_host, settings.imap_security
    if not host:
        raise MailError("MAILPOSTS has no imap_host: set it to your IMAP server's name")
    if not settings.imap_user:
        raise MailError("MAILPOSTS has no imap_user: set it to the mailbox's login")
    if not (password or oauth2_token):
        raise MailError(
            f"no IMAP secret: set {ENV_IMAP_PASSWORD} (a password) or "
            f"{ENV_IMAP_TOKEN} (an OAuth2 access token) in the environment"
        )
    if security == "none" and not _is_loopback(host):
        raise MailError(
            f"imap_security 'none' would send the password to {host} in clear: "
            "use 'ssl' or 'starttls' ('none' is only for a server on loopback)"
        )
    context = ssl_context or ssl.create_default_context()
    client = IMAPClient(
        host,
        port=settings.imap_port,
        ssl=security == "ssl",
        ssl_context=context,
        timeout=timeout,
    )
    try:
        if security == "starttls":
            client.starttls(context)
        if oauth2_token:
            if client.has_capability("AUTH=OAUTHBEARER") and not client.has_capability(
                "AUTH=XOAUTH2"
            ):
                client.oauthbearer_login(settings.imap_user, oauth2_token)  # RFC 7628
            else:
                client.oauth2_login(settings.imap_user, oauth2_token)  # XOAUTH2
        else:
            assert password is not None
            client.login(settings.imap_user, password)
        _make_folders(client, settings)
        client.select_folder(settings.imap_mailbox)  # read-write: we move
        yield client
    finally:
        _close(client)


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # already gone: nothing to log out from
        with suppress(Exception):
            client.shutdown()


def _make_folders(client: IMAPClient, settings: MailSettings) -> None:
    for folder in dict.fromkeys(
        (settings.imap_processed, settings.imap_failed, settings.imap_quarantine)
    ):
        if client.folder_exists(folder):
            continue
        try:
            client.create_folder(folder)
            log.info("mailposts: created the IMAP folder %s", folder)
        except IMAPClientError:
            # Another poller may have just created it (RFC 3501 §6.3.3 gives
            # NO for an existing name): only a folder still missing is an error.
            if not client.folder_exists(folder):
                raise


def _login_error(settings: MailSettings, error: Exception) -> MailError:
    return MailError(
        f"the IMAP server refused the login of {settings.imap_user!r} ({error}): "
        f"check imap_user, and {ENV_IMAP_PASSWORD} or {ENV_IMAP_TOKEN}"
    )


# --- one pass ---------------------------------------------------------------


class _Retries:
    """When each kept message may be tried again (``watch``)."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.failures: dict[int, int] = {}
        self.due: dict[int, float] = {}

    def ready(self, uid: int) -> bool:
        return self.due.get(uid, 0.0) <= time.monotonic()

    def failed(self, uid: int) -> None:
        self.failures[uid] = self.failures.get(uid, 0) + 1
        self.due[uid] = time.monotonic() + self.backoff.delay(self.failures[uid])

    def forget(self, uid: int) -> None:
        self.failures.pop(uid, None)
        self.due.pop(uid, None)

    def next_due(self) -> float | None:
        return min(self.due.values(), default=None)


def _process(
    client: IMAPClient,
    settings: MailSettings,
    ingest: Ingest,
    stop: threading.Event | None,
    retries: _Retries,
) -> PollReport:
    report = PollReport(settings.imap_mailbox)
    _announced_new_mail(client)  # forget older news: the search sees it all
    uids = [u for u in client.search(["UNDELETED"]) if retries.ready(u)]
    if not uids:
        return report
    sizes = client.fetch(uids, ["RFC822.SIZE"])
    for uid in uids:
        if stop is not None and stop.is_set():
            break
        if uid not in sizes:
            continue  # gone meanwhile (another client moved it)
        result = _handle(client, settings, ingest, uid, sizes[uid].get(b"RFC822.SIZE"))
        if result is None:
            continue
        report.results.append(result)
        if result.folder is None:
            retries.failed(uid)
        else:
            retries.forget(uid)
    return report


def _handle(
    client: IMAPClient,
    settings: MailSettings,
    ingest: Ingest,
    uid: int,
    size: Any,
) -> MessageResult | None:
    if isinstance(size, int) and size > settings.max_message_bytes:
        # The transport's limit, as `mail serve` answers 552 (RFC 5321
        # §4.5.3.1.7): never load it; it goes to Failed for a person to see.
        verdict = model.Verdict(
            model.REFUSED,
            f"{size} bytes: larger than max_message_bytes ({settings.max_message_bytes})",
        )
        log.warning("mailposts: IMAP UID %s: %s", uid, verdict.reason)
        return _settle(client, settings, uid, verdict)
    # BODY.PEEK[]: the whole message, without setting \Seen (RFC 3501 §6.4.5).
    data = client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
    if data is None or b"BODY[]" not in data:
        return None  # gone meanwhile
    try:
        verdict = ingest(model.Arrival(bytes(data[b"BODY[]"]), via="imap"))
    except Exception as e:
        log.exception(
            "mailposts: IMAP UID %s: the pipeline failed; kept for a retry", uid
        )
        return MessageResult(uid, None, None, f"{type(e).__name__}: {e}")
    return _settle(client, settings, uid, verdict)


def _settle(
    client: IMAPClient, settings: MailSettings, uid: int, verdict: model.Verdict
) -> MessageResult:
    folder = destination(settings, verdict.outcome)
    if folder is None:
        log.info(
            "mailposts: IMAP UID %s: %s (%s); kept for a retry",
            uid,
            verdict.outcome,
            verdict.reason or "no reason given",
        )
        return MessageResult(uid, verdict, None)
    _move(client, uid, folder)
    log.info("mailposts: IMAP UID %s: %s, moved to %s", uid, verdict.outcome, folder)
    return MessageResult(uid, verdict, folder)


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move([uid], folder)  # RFC 6851 §3.1: atomic
        return
    client.copy([uid], folder)
    client.add_flags([uid], [DELETED], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])  # this UID only (RFC 4315 §2.1)
    else:
        log.warning(
            "mailposts: the IMAP server has neither MOVE nor UIDPLUS: UID %s "
            "is copied to %s and left flagged \\Deleted in the mailbox",
            uid,
            folder,
        )


# --- waiting ----------------------------------------------------------------


def _announced_new_mail(client: IMAPClient) -> bool:
    """Did the server announce a new message (EXISTS, RFC 3501 §7.3.1) in its
    answer to one of our commands? Forgets the news once read.

    A server tells a client of a new message once, in whatever response comes
    next: if that is our MOVE or FETCH rather than IDLE, IDLE would then wait
    in vain until its refresh. imapclient files such unsolicited responses in
    imaplib's table and has no public way to read them; should that table
    ever go, the IDLE refresh still finds such a message, only later.
    """
    table = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    if not isinstance(table, dict):
        return False
    return table.pop("EXISTS", None) is not None


def _wait_for_mail(
    client: IMAPClient,
    stop: threading.Event,
    refresh: float,
    retry_due: float | None,
) -> None:
    """Return when new mail may be there, a retry is due, or it is time to
    renew IDLE; raise ConnectionLost when the server says BYE."""
    deadline = time.monotonic() + refresh
    if retry_due is not None:
        deadline = min(deadline, retry_due)
    if not client.has_capability("IDLE"):
        stop.wait(max(0.0, deadline - time.monotonic()))
        return
    client.idle()
    try:
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            # Short checks so that ``stop`` is seen within a second.
            wait = min(1.0, left)
            started = time.monotonic()
            responses = client.idle_check(timeout=wait)
            if any(r[0] == b"BYE" for r in responses):
                raise ConnectionLost("the IMAP server said BYE")
            if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                return
            if not responses and time.monotonic() - started < wait / 2:
                # idle_check swallows an end of file and returns nothing at
                # once: leave IDLE, and idle_done() raises if the connection
                # is gone (else it was a harmless wake-up).
                return
    finally:
        client.idle_done()
