"""``publish mail serve``: an SMTP (or LMTP) listener the company's mail
server forwards the blog's address to.

The promise of a 250 (RFC 5321 §4.2.5: once it is sent, the message is
ours to keep): the raw message is written to the spool first — temp file,
fsync, rename, fsync of the directory — and only then does the client hear
250. If the spool cannot be written (a full disk…), it hears 451 and its
server tries again later; never a 250 for a message we could lose.

A worker thread takes spooled messages one by one: it verifies their DKIM
signatures itself (RFC 6376 §6: this listener *is* the receiving server, no
one upstream has checked them for us) and hands them to the pipeline.

The spool, under ``<site>/var/mail/``::

    spool/<id>.eml        the message, byte for byte as received
    spool/<id>.json       its envelope (recipients, sender, peer, time),
                          renamed into place before the .eml: an .eml
                          always has its envelope
A message with a final verdict is deleted from the spool: a post in
content/ is the durable result of one of ``model.DONE``; a ``quarantined``
or ``refused`` message is kept by the pipeline itself, for every adapter
alike (var/mail/quarantined/, var/mail/refused/). ``retry``, or an exception
from the pipeline, keeps it in spool/ and it is tried again later, with
growing delays. At start-up, what a previous run left in spool/ is
processed first (crash recovery); half-written temp files are removed
(their client never heard 250, so its server sends them again).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from .. import dkimcheck, model
from ..errors import MailError
from ..model import Ingest
from ..settings import MailSettings
from ..write import fsync_dir

log = logging.getLogger(__name__)

#: dkimpy's DNS lookup: a name ("sel._domainkey.example.com.") to its TXT
#: record, or None. Injectable so that tests verify without DNS.
DnsFunc = dkimcheck.DnsFunc


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- DKIM -------------------------------------------------------------------


def dkim_domains(raw: bytes, dnsfunc: DnsFunc | None = None) -> tuple[str, ...]:
    """The ``d=`` domains of the DKIM signatures of ``raw`` that verify
    (every one is checked; see :func:`..dkimcheck.check`)."""
    return dkimcheck.check(raw, dnsfunc or dkimcheck.resolver_lookup()).domains


# --- the spool --------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """What the SMTP dialogue said about a message (kept beside it)."""

    recipients: tuple[str, ...]
    mail_from: str | None = None
    peer: str | None = None
    received: str | None = None  # ISO 8601


class Spool:
    """Messages accepted and not yet dealt with, one file each (see above)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "spool"

    def create(self) -> None:
        (self.root / "spool").mkdir(parents=True, exist_ok=True)

    def store(self, raw: bytes, envelope: Envelope) -> str:
        """Write a message durably; return its id. Raises OSError."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"
        meta = json.dumps(envelope.__dict__, ensure_ascii=False).encode("utf-8")
        envelope_path = self.dir / f"{name}.json"
        try:
            self._write(envelope_path, meta)
            self._write(self.dir / f"{name}.eml", raw)  # the commit point
            fsync_dir(self.dir)  # the renames themselves survive a crash
        except OSError:
            envelope_path.unlink(missing_ok=True)
            raise
        return name

    def _write(self, path: Path, data: bytes) -> None:
        temp = path.with_name(f".tmp-{path.name}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
        except OSError:
            temp.unlink(missing_ok=True)
            raise

    def recover(self) -> list[str]:
        """Tidy what a crash left; return the ids still to process, oldest first."""
        for temp in self.dir.glob(".tmp-*"):
            log.info("mailposts: removing %s, left by an interrupted delivery", temp)
            temp.unlink(missing_ok=True)
        for meta in self.dir.glob("*.json"):
            if not meta.with_suffix(".eml").exists():
                meta.unlink(missing_ok=True)  # its message was never acknowledged
        return sorted(p.stem for p in self.dir.glob("*.eml"))

    def load(self, name: str) -> tuple[bytes, Envelope]:
        raw = (self.dir / f"{name}.eml").read_bytes()
        try:
            data = json.loads((self.dir / f"{name}.json").read_text("utf-8"))
            envelope = Envelope(
                recipients=tuple(data.get("recipients", ())),
                mail_from=data.get("mail_from"),
                peer=data.get("peer"),
                received=data.get("received"),
            )
        except (OSError, ValueError) as e:
            log.warning("mailposts: spooled %s has no readable envelope (%s)", name, e)
            envelope = Envelope(recipients=())
        return raw, envelope

    def finish(self, name: str, outcome: str) -> None:
        """Remove a message with a final verdict (``outcome``: the pipeline
        has written its post, or kept its own copy of a set-aside one)."""
        for suffix in (".json", ".eml"):  # the .eml last: it marks "still to do"
            (self.dir / f"{name}{suffix}").unlink(missing_ok=True)
        fsync_dir(self.dir)

    def path(self, name: str) -> Path:
        return self.dir / f"{name}.eml"


# --- the listener -----------------------------------------------------------


def is_served(address: str, served: tuple[str, ...]) -> bool:
    """Is mail for ``address`` ours? ``blog+anything@d`` is when ``blog@d``
    is: the part after "+" is the author's secret, for the pipeline."""
    address = address.strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return False
    base = local.split("+", 1)[0]
    return address in served or f"{base}@{domain}" in served


class _Handler:
    """aiosmtpd's hooks: RCPT (who we serve) and DATA (spool, then 250)."""

    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if not is_served(address, self.server.settings.served):
            # RFC 5321 §4.2.2 / RFC 3463: 550 5.1.1, "bad destination mailbox".
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content)
        limit = self.server.settings.max_message_bytes
        if len(raw) > limit:  # aiosmtpd counts the same; a second guard is cheap
            return f"552 5.3.4 Message larger than {limit} bytes"
        peer = session.peer
        meta = Envelope(
            recipients=tuple(envelope.rcpt_tos),
            mail_from=envelope.mail_from,
            peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
            received=self.server.now().isoformat(),
        )
        loop = asyncio.get_running_loop()
        try:
            # fsync blocks: off the event loop, so other clients go on.
            name = await loop.run_in_executor(None, self.server.spool.store, raw, meta)
        except OSError as e:
            log.error("mailposts: cannot spool a message (%s): answered 451", e)
            # RFC 5321 §4.2.3: a temporary failure; the sending server retries.
            return self._per_recipient(
                meta.recipients,
                "451 4.3.0 Cannot store the message now, try again later",
            )
        log.info(
            "mailposts: accepted %s for %s",
            name,
            ", ".join(_masked(r) for r in meta.recipients),
        )
        self.server.enqueue(name)
        return self._per_recipient(meta.recipients, f"250 2.0.0 Queued as {name}")

    def _per_recipient(self, recipients: tuple[str, ...], reply: str) -> str:
        """SMTP: one reply. LMTP: one per accepted recipient (RFC 2033 §4.2)."""
        if not self.server.settings.lmtp:
            return reply
        code, status, text = reply.split(" ", 2)
        return "\r\n".join(f"{code} {status} <{r}> {text}" for r in recipients)


class _Controller(Controller):
    """aiosmtpd's Controller, speaking LMTP when asked (RFC 2033)."""

    def __init__(self, handler: _Handler, *, lmtp: bool, **kwargs: Any) -> None:
        self.lmtp = lmtp
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        cls = LMTP if self.lmtp else SMTP
        return cls(self.handler, **self.SMTP_kwargs)


@dataclass(frozen=True)
class RetryDelays:
    """Delays before a kept message is tried again: first, 2×first… up to cap."""

    first: float = 30.0
    cap: float = 3600.0

    def delay(self, failures: int) -> float:
        return float(min(self.cap, self.first * 2 ** max(0, failures - 1)))


class MailServer:
    """The listener, its spool and its worker; ``with MailServer(...)`` runs it.

    ``site_dir`` holds var/mail/. ``dnsfunc`` replaces dkimpy's DNS lookup
    (tests); ``now`` gives the time recorded with each message.
    """

    def __init__(
        self,
        settings: MailSettings,
        ingest: Ingest,
        site_dir: Path,
        *,
        dnsfunc: DnsFunc | None = None,
        retry: RetryDelays | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.ingest = ingest
        self.spool = Spool(Path(site_dir) / "var" / "mail")
        self.dnsfunc = dnsfunc or dkimcheck.resolver_lookup(
            settings.dns_servers, settings.dns_timeout
        )
        self.retry = retry or RetryDelays()
        self.now = now
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._controller: _Controller | None = None

    @property
    def via(self) -> str:
        return "lmtp" if self.settings.lmtp else "smtp"

    def start(self) -> None:
        """Recover the spool, start the worker, then listen."""
        try:
            self.spool.create()
        except OSError as e:
            raise MailError(
                f"cannot create the mail spool in {self.spool.root} ({e}): "
                "check that the site directory is writable"
            ) from None
        for name in self.spool.recover():
            log.info("mailposts: %s was left in the spool: processing it", name)
            self.enqueue(name)
        self._stop.clear()
        self._worker = threading.Thread(
            target=self._work, name="mailposts-spool", daemon=True
        )
        self._worker.start()
        host, port = self.settings.listen_host, self.settings.listen_port
        self._controller = _Controller(
            _Handler(self),
            lmtp=self.settings.lmtp,
            hostname=host,
            port=port,
            # RFC 1870: announced in EHLO as SIZE, checked on MAIL FROM
            # SIZE=… and while reading DATA; both answer 552 (RFC 5321
            # §4.5.3.1.7, "too much mail data").
            data_size_limit=self.settings.max_message_bytes,
        )
        try:
            self._controller.start()
        except Exception as e:
            self._controller = None
            self.stop()
            raise MailError(
                f"cannot listen on {host}:{port} ({e}): choose another "
                "listen_host/listen_port in MAILPOSTS, or stop what uses it"
            ) from None
        kind = "LMTP" if self.settings.lmtp else "SMTP"
        log.info("mailposts: %s listener on %s:%s", kind, host, port)
        if not _is_loopback(host):
            log.info(
                "mailposts: listening beyond loopback: only your mail server should reach it"
            )

    def stop(self) -> None:
        """Stop listening, then stop the worker (spooled mail waits for the next start)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def enqueue(self, name: str) -> None:
        self._queue.put(name)

    # --- the worker ---------------------------------------------------------

    def _work(self) -> None:
        due: dict[str, float] = {}
        failures: dict[str, int] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            wait = min((t for t in due.values()), default=now + 1.0) - now
            try:
                due.setdefault(self._queue.get(timeout=min(1.0, max(0.0, wait))), 0.0)
                while True:
                    due.setdefault(self._queue.get_nowait(), 0.0)
            except queue.Empty:
                pass
            for name in sorted(n for n, t in due.items() if t <= time.monotonic()):
                if self._stop.is_set():
                    return
                if self.deliver(name):
                    del due[name]
                    failures.pop(name, None)
                else:
                    failures[name] = failures.get(name, 0) + 1
                    delay = self.retry.delay(failures[name])
                    log.info("mailposts: %s will be tried again in %.0f s", name, delay)
                    due[name] = time.monotonic() + delay

    def deliver(self, name: str) -> bool:
        """Process one spooled message; False: keep it for a retry."""
        try:
            raw, envelope = self.spool.load(name)
        except FileNotFoundError:
            return True  # already dealt with
        except OSError as e:
            log.error("mailposts: cannot read spooled %s: %s", name, e)
            return False
        checked = dkimcheck.check(raw, self.dnsfunc)
        arrival = model.Arrival(
            raw,
            via=self.via,
            dkim_domains=checked.domains,
            recipients=envelope.recipients,
            # A key lookup that failed now (timeout, SERVFAIL): the pipeline
            # answers RETRY and the message stays in the spool (RFC 6376
            # §6.1.2, TEMPFAIL), never quarantined for it.
            dkim_temporary=checked.temporary,
        )
        try:
            verdict = self.ingest(arrival)
        except Exception:
            log.exception(
                "mailposts: the pipeline failed on %s; kept in the spool", name
            )
            return False
        if verdict.outcome == model.RETRY:
            log.info(
                "mailposts: %s: retry (%s)", name, verdict.reason or "no reason given"
            )
            return False
        try:
            self.spool.finish(name, verdict.outcome)
        except OSError as e:
            # The post is written; a retry is harmless (the pipeline sees a
            # duplicate) and clears the spool once the disk allows it.
            log.error("mailposts: cannot clear %s from the spool: %s", name, e)
            return False
        # DEBUG: the pipeline has logged the outcome, with the post and its
        # URL, in one line (a second INFO line per mail would be noise).
        log.debug("mailposts: %s: %s", name, verdict.outcome)
        return True


def _masked(address: str) -> str:
    """``blog+SECRET@…`` as ``blog+…@…``: the part after "+" may be an
    author's secret (docs/mail.md), which no log line shows."""
    local, at, domain = address.partition("@")
    if "+" in local:
        local = local.split("+", 1)[0] + "+…"
    return f"{local}{at}{domain}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(
    settings: MailSettings,
    ingest: Ingest,
    site_dir: Path,
    *,
    stop: threading.Event,
    dnsfunc: DnsFunc | None = None,
) -> None:
    """Run the listener until ``stop`` is set (the CLI sets it on a signal)."""
    with MailServer(settings, ingest, site_dir, dnsfunc=dnsfunc):
        stop.wait()
