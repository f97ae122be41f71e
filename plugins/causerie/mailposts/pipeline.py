"""One message, from its bytes to a post file and a reply: the pipeline
every adapter (IMAP, SMTP/LMTP, pipe) hands its mail to.

    seen before? ─yes─► duplicate (nothing, again)
    may publish? ─no──► quarantined (a copy in var/mail/quarantined/, no reply)
    automatic?   ─yes─► quarantined (RFC 3834: never a post, never a reply)
    an answer to one of our confirmations? ─► MODIFIER/EDIT or SUPPRIMER/DELETE
                 on its first line: edit or delete that post (the previous
                 version kept in var/mail/history/); else a reply saying how
    a post?      ─no──► refused (a copy in var/mail/refused/, a reply saying why;
                 damaged in transit: held instead, with the same reply)
    write it (atomically, once) ─► record it ─► reply with its link ─► hook

Each outcome is recorded in the ledger before the reply is sent, so a crash
can lose a reply but never a mail, and never make a second post: the post
file carries the Message-ID, and the ledger the bytes' digest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from causerie.authoring.registry import Author, Registry, slugify
from causerie.catalogs import tr

from . import auth, dkimcheck, history, reply, write
from . import held as holding
from .errors import MailError
from .ledger import Ledger
from .model import (
    ANSWERED,
    DELETED,
    DRAFTED,
    DROPPED,
    DUPLICATE,
    PUBLISHED,
    QUARANTINED,
    REFUSED,
    RESTORED,
    RETRY,
    UPDATED,
    Arrival,
    Post,
    Refusal,
    Verdict,
)
from .parse import DELETE, RESTORE, reply_command
from .scrub import Scrubber
from .settings import MailSettings

log = logging.getLogger(__name__)

_MSGID = re.compile(r"<[^<>\s]+>")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass
class Site:
    """What the pipeline needs of the site's settings."""

    content_dir: Path
    var_dir: Path
    site_url: str
    timezone: str
    default_lang: str
    languages: tuple[str, ...]
    article_url: str  # Pelican's ARTICLE_URL
    article_lang_url: str  # and ARTICLE_LANG_URL

    def url_of(self, post: Post) -> str:
        pattern = (
            self.article_url
            if post.lang == self.default_lang
            else self.article_lang_url
        )
        path = pattern.format(date=post.date, slug=post.slug, lang=post.lang)
        return f"{self.site_url.rstrip('/')}/{path}"


class Pipeline:
    """Callable: an :class:`Arrival` → its :class:`Verdict` (the adapters'
    ``Ingest``). Never raises for a bad message; an exception is a fault of
    ours (the disk, the ledger), and the adapter keeps the message."""

    def __init__(
        self,
        cfg: MailSettings,
        site: Site,
        registry: Registry,
        ledger: Ledger,
        *,
        mailer: reply.Mailer | None = None,
        hook: Callable[[], None] | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.cfg, self.site, self.registry, self.ledger = cfg, site, registry, ledger
        self.mailer, self.hook, self.clock = mailer, hook, clock
        self.environ = dict(environ if environ is not None else {})
        self.tz = ZoneInfo(site.timezone)
        #: Every author's secret, removed from posts, replies and log lines
        #: (issue 12 item 2: "no secret ever leaves").
        self.scrub = Scrubber.from_environ(self.environ)
        #: The DKIM key lookup of a release (an SMTP message is verified again).
        self.dnsfunc: dkimcheck.DnsFunc = dkimcheck.resolver_lookup(
            cfg.dns_servers, cfg.dns_timeout
        )
        self._replies_tried = 0.0

    def _log(self, level: int, text: str, *args: object) -> None:
        log.log(level, text, *(self.scrub.arg(a) for a in args))

    def __call__(self, arrival: Arrival) -> Verdict:
        # One message at a time per site, across processes (`mail poll
        # --watch` and a `mail import` may run at once): between the ledger's
        # "not seen" and its record, the post is written; two ingesters of the
        # same message would otherwise both write it (a second post, -2).
        lock = self.site.var_dir / "mail" / "ingest.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as locked:
            fcntl.flock(locked, fcntl.LOCK_EX)
            verdict = self._ingest(arrival)
        self._retry_replies_now_and_then()
        return verdict

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The per-site ingest lock (see ``__call__``): the operator's
        commands take it too, so none runs in the middle of a message."""
        lock = self.site.var_dir / "mail" / "ingest.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as locked:
            fcntl.flock(locked, fcntl.LOCK_EX)
            yield

    def restore(self, query: str) -> tuple[str, history.Version, history.Version]:
        """``publish mail restore``: put back the newest kept version of the
        post ``query`` names (path, file name or slug), text and media.
        Returns (its path, the version restored, the state it replaced,
        itself kept: a second restore undoes the first)."""
        with self._locked():
            path = history.find_post(self.site.var_dir, self.site.content_dir, query)
            wanted, undo = history.restore(
                self.site.var_dir,
                self.site.content_dir,
                path,
                media_dir=self.cfg.media_dir,
                at=self.clock(),
            )
        log.info("mail: %s restored to its version of %s", path, wanted.at)
        self._run_hook()
        return path, wanted, undo

    # --- held messages (`publish mail held / release / drop`) -----------------

    def held(self) -> list[holding.Held]:
        return holding.held(self.site.var_dir, self.ledger)

    def release(self, ident: str, trust: bool = False) -> tuple[holding.Held, Verdict]:
        """Handle a held message again, with the current settings (the
        registry, DKIM — verified again for one that came by SMTP —, the
        secret), or, ``trust``, as the operator's override: no DKIM, secret
        nor age check, the rest as for any mail (the registry, the parser,
        the sanitizer). Its earlier verdict is forgotten first, so a
        redelivery taken for a duplicate of it does not block it."""
        with self._locked():
            item = holding.find(self.site.var_dir, self.ledger, ident)
            raw = item.file.read_bytes()
            dkim_domains: tuple[str, ...] | None = None
            temporary = None
            if item.via in ("smtp", "lmtp") and not trust:
                checked = dkimcheck.check(raw, self.dnsfunc)
                dkim_domains, temporary = checked.domains, checked.temporary
            arrival = Arrival(
                raw,
                item.via,
                dkim_domains=dkim_domains,
                recipients=item.recipients,
                dkim_temporary=temporary,
                trusted=trust,
            )
            entry = self.ledger.entry(item.digest)
            self.ledger.forget(item.digest, QUARANTINED)
            try:
                verdict = self._ingest(arrival)
            except BaseException:
                self._held_again(item, entry)
                raise
            if verdict.outcome == RETRY:
                self._held_again(item, entry)
            elif verdict.outcome != QUARANTINED:
                item.remove()  # a post, a refusal (with its reply), a duplicate
        log.info(
            "mail %s: released%s by the operator: %s",
            item.message_id,
            " (trusted)" if trust else "",
            verdict.outcome,
        )
        return item, verdict

    def _held_again(self, item: holding.Held, entry: Any) -> None:
        if entry is not None:
            seen, _at = entry
            self.ledger.set_outcome(
                seen.message_id, item.digest, QUARANTINED, reason=seen.reason,
                at=self.clock(),
            )  # fmt: skip

    def drop(self, ident: str) -> holding.Held:
        """Discard a held message; the ledger keeps a record of it (so a
        redelivery stays a duplicate)."""
        with self._locked():
            item = holding.find(self.site.var_dir, self.ledger, ident)
            message_id = item.message_id or f"<{item.digest}@causerie.invalid>"
            self.ledger.set_outcome(
                message_id,
                item.digest,
                DROPPED,
                reason=f"dropped by the operator; it was held: {item.reason}",
                at=self.clock(),
            )
            item.remove()
        log.info("mail %s: dropped by the operator", item.message_id)
        return item

    # --- replies that could not be sent ------------------------------------------

    def _outbox(self) -> Path:
        return self.site.var_dir / "mail" / "outbox"

    def _postpone(
        self, message: EmailMessage, recipient: str, confirms: str | None
    ) -> None:
        """Keep a reply the mail server did not take (down, refusing now):
        the message itself, then what sending it must record."""
        name = (
            f"{time.time_ns():020d}-{hashlib.sha256(bytes(message)).hexdigest()[:12]}"
        )
        meta = {"recipient": recipient, "confirms": confirms}
        write.atomic_write(
            self._outbox() / f"{name}.json", json.dumps(meta).encode("utf-8")
        )
        write.atomic_write(self._outbox() / f"{name}.eml", bytes(message))

    def pending_replies(self) -> int:
        return len(list(self._outbox().glob("*.eml")))

    def retry_replies(self) -> tuple[int, int]:
        """Send the replies kept in var/mail/outbox/, oldest first; stop at
        the first failure (the server is still down). (sent, still waiting)."""
        self._replies_tried = time.monotonic()
        if self.mailer is None:
            return 0, self.pending_replies()
        sent = 0
        with self._locked():
            waiting = sorted(self._outbox().glob("*.eml"))
            for file in waiting:
                envelope = file.with_suffix(".json")
                try:
                    meta = json.loads(envelope.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    meta = {}
                message: Any = BytesParser(policy=policy.default).parsebytes(
                    file.read_bytes()
                )
                try:
                    self.mailer(message)
                except Exception as exc:
                    log.warning("mail: the kept replies wait still: %s", exc)
                    break
                if meta.get("confirms"):
                    self.ledger.confirmation_sent(
                        str(message["Message-ID"]),
                        str(meta["confirms"]),
                        str(meta.get("recipient") or message["To"]),
                        self.clock(),
                    )
                file.unlink()  # sent: never twice (the .eml is the mark)
                envelope.unlink(missing_ok=True)
                sent += 1
                log.info("mail: a kept reply to %s is sent", message["To"])
        return sent, self.pending_replies()

    def _retry_replies_now_and_then(self) -> None:
        # After a message, at most once a minute: a relay that is down must
        # not cost every mail its connection timeout.
        if time.monotonic() - self._replies_tried < 60:
            return
        try:
            if self.pending_replies():
                self.retry_replies()
            else:
                self._replies_tried = time.monotonic()
        except Exception as exc:  # the message is handled: never undo that
            log.error("mail: cannot retry the kept replies: %s", exc)

    def _ingest(self, arrival: Arrival) -> Verdict:
        self._arrival = arrival  # how it came, kept beside a held copy
        raw = arrival.raw
        digest = hashlib.sha256(raw).hexdigest()
        try:
            msg: Any = BytesParser(policy=policy.default).parsebytes(raw)
            # Also what names the post of a message whose Message-ID the
            # parser finds unusable ("<abc>", no "@"): stable across hops.
            identity = stable_identity(msg, raw)
            message_id = _message_id(msg) or f"<{identity}@causerie.invalid>"
        except Exception as exc:  # the parser is lenient; this is rare
            return self._set_aside(
                QUARANTINED,
                f"unreadable message: {exc}",
                f"<{digest}@causerie.invalid>",
                digest,
                raw,
            )
        seen = self.ledger.seen(message_id, digest)
        if seen is not None:
            self._log(
                logging.INFO, "mail %s: already %s; ignored", message_id, seen.outcome
            )
            return Verdict(DUPLICATE, f"already {seen.outcome}", seen.path)
        if auth.server_temperror(msg, arrival, self.cfg):
            # Our mail server could not fetch the key (dkim=temperror): we
            # verify the signature ourselves, now; failing again, a retry.
            checked = dkimcheck.check(raw, self.dnsfunc)
            arrival = dataclasses.replace(
                arrival, dkim_domains=checked.domains, dkim_temporary=checked.temporary
            )
        decision = auth.authorize(msg, arrival, self.registry, self.cfg, self.environ)
        if decision.temporary:
            # A DKIM key lookup timed out or failed: nothing is recorded, so
            # the adapter's retry (or a redelivery) is judged afresh, never
            # taken for a duplicate (issue 12 item 5).
            log.warning(
                "mail %s: kept, tried again later: %s", message_id, decision.reason
            )
            return Verdict(RETRY, decision.reason)
        if not decision.allowed or decision.author is None:
            return self._set_aside(
                QUARANTINED, decision.reason or "not allowed", message_id, digest, raw
            )
        author = decision.author
        automatic = reply.automatic(msg, self.cfg.address)
        if automatic:
            return self._set_aside(
                QUARANTINED,
                f"automatic mail ({automatic}): not a post",
                message_id,
                digest,
                raw,
            )
        # A trusted release may be of a message held for days (held for its
        # age, or retried that long): the operator vouches for it.
        if not arrival.trusted and (too_old := self._too_old(msg)):
            return self._set_aside(QUARANTINED, too_old, message_id, digest, raw)
        if len(raw) > self.cfg.max_message_bytes:
            return self._refuse(
                msg,
                author,
                message_id,
                digest,
                raw,
                _too_big(len(raw), self.cfg, author.lang),
            )
        confirmed = self.ledger.confirmation(_referenced(msg))
        if confirmed is not None:
            return self._edit(msg, author, message_id, digest, raw, *confirmed)
        received = self.clock().astimezone(self.tz)
        made = self._parse(msg, author, identity, len(raw), received=received)
        if isinstance(made, Refusal):
            return self._refuse(
                msg, author, message_id, digest, raw, made.reason, hold=made.hold
            )
        if author.mail == "draft" and made.status != "draft":
            made = dataclasses.replace(made, status="draft")
        made = self._own_slug(made)
        path, _new = write.write_post(made, self.site.content_dir, self.cfg.posts_dir)
        relative = path.relative_to(self.site.content_dir).as_posix()
        outcome = DRAFTED if made.status == "draft" else PUBLISHED
        if not self.ledger.record(
            message_id,
            digest,
            outcome,
            path=relative,
            sender=author.email,
            at=self.clock(),
        ):
            return Verdict(DUPLICATE, "recorded meanwhile by another process", relative)
        url = self.site.url_of(made)
        self._log(
            logging.INFO, "mail %s: %s %s (%s)", message_id, outcome, relative, url
        )
        where = (
            url
            if outcome == PUBLISHED
            else f"content/{relative} (publish serve --drafts)"
        )
        # Only a date: command dates a post after its receipt (the parser
        # takes a Date ahead of it for a wrong clock): the post is held back
        # by the build until then, and the reply must not say "online".
        scheduled = made.date if made.date > received else None
        note = None
        ahead = self._clock_ahead(msg, received)
        if ahead is not None and made.date == received:
            self._log(
                logging.WARNING,
                "mail %s: its Date (%s) is ahead of its receipt (%s): "
                "dated at its receipt",
                message_id,
                ahead.isoformat(),
                received.isoformat(),
            )
            note = _wrong_clock(ahead, received, author.lang)
        self._answer(
            msg,
            author,
            reply.confirmation(
                msg,
                author.email,
                self.cfg,
                author.lang,
                where,
                outcome == DRAFTED,
                scheduled=scheduled,
                note=note,
            ),
            confirms=relative,
        )
        self._run_hook()
        return Verdict(outcome, None, relative, url)

    # --- the steps -------------------------------------------------------------

    def _parse(
        self,
        msg: EmailMessage,
        author: Author,
        digest: str,
        size: int,
        edit: bool = False,
        received: dt.datetime | None = None,
    ) -> Post | Refusal:
        from .parse import parse_message

        made = parse_message(
            self.scrub.message(msg),
            author=author,
            settings=self.cfg,
            tz=self.tz,
            languages=self.site.languages,
            default_lang=self.site.default_lang,
            received_at=received or self.clock().astimezone(self.tz),
            raw_digest=digest,
            raw_size=size,
            edit=edit,
        )
        if isinstance(made, Refusal):
            return dataclasses.replace(made, reason=self.scrub.text(made.reason))
        return self.scrub.post(made)

    def _own_slug(self, post: Post) -> Post:
        """The post under a slug no other post has, its media in a folder of
        its own (issue 12 item 4: the same subject twice made two posts of
        one URL, and the second one's photos replaced the first one's).

        Taken: the slug of every post in posts_dir (its ``Slug:``, else its
        title's), in any year or language — Pelican groups posts of one slug
        as translations of each other —, of every post edited or taken down
        by mail (var/mail/history/), and every media folder's name. The
        post of this very message (a retry after a crash between the post's
        write and its record) keeps its slug, so that write_post finds it.
        """
        taken: set[str] = set()
        posts = self.site.content_dir / self.cfg.posts_dir
        for path in sorted(posts.rglob("*")) if posts.is_dir() else []:
            if path.suffix.lower() not in (".md", ".markdown") or not path.is_file():
                continue
            meta = write.read_metadata(path)
            slug = meta.get("slug") or slugify(meta.get("title", ""))
            if slug and meta.get(write.MESSAGE_ID.lower()) == post.message_id:
                return write.with_slug(post, slug)
            taken.add(slug.casefold())
        # A post taken down keeps its address (its tombstone answers 410
        # Gone there): the copies kept under var/mail/history/ name it.
        # (history.py: a version folder's post.md; before it, <post>.md.<key>.)
        kept_root = history.root_of(self.site.var_dir)
        copies = [
            *kept_root.rglob("post.md"),
            *(p for p in kept_root.rglob("*.md.*") if p.is_file()),
        ]
        for path in copies if kept_root.is_dir() else []:
            kept = write.read_metadata(path).get("slug")
            if kept:
                taken.add(kept.casefold())
        media = self.site.content_dir / self.cfg.media_dir.strip("/")
        for year in media.iterdir() if media.is_dir() else []:
            if year.is_dir():
                taken.update(d.name.casefold() for d in year.iterdir() if d.is_dir())
        for n in range(1, 1000):
            slug = post.slug if n == 1 else f"{post.slug}-{n}"
            if slug.casefold() not in taken:
                return write.with_slug(post, slug)
        raise FileExistsError(
            f"999 posts have the slug {post.slug} already: give this one a slug: line"
        )

    def _same_place(self, post: Post, target: Path) -> Post:
        """An edit keeps its post's slug (hence its URL) and media folder,
        whatever its new title or date."""
        meta = write.read_metadata(target)
        slug, year = meta.get("slug"), meta.get("date", "")[:4]
        if not slug:
            return post
        if not year.isdigit():
            return write.with_slug(post, slug)
        post = dataclasses.replace(post, slug=slug)
        folder = f"{self.cfg.media_dir.strip('/')}/{year}/{slug}"
        return write.with_media_folder(post, folder)

    def _clock_ahead(
        self, msg: EmailMessage, received: dt.datetime
    ) -> dt.datetime | None:
        """The Date header, when it is further ahead of the receipt than
        future_tolerance_minutes (a wrong clock); else None."""
        try:
            sent = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if sent is None:
            return None
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=dt.UTC)  # RFC 5322 §3.3 "-0000"
        tolerance = dt.timedelta(minutes=self.cfg.future_tolerance_minutes)
        return sent if sent - received > tolerance else None

    def _too_old(self, msg: EmailMessage) -> str | None:
        try:
            sent = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        except (TypeError, ValueError):
            return None  # no usable Date: the parser dates the post on receipt
        if sent is None or sent.tzinfo is None:
            return None
        if self.clock() - sent > dt.timedelta(days=self.cfg.max_age_days):
            return (
                f"its Date ({sent:%Y-%m-%d}) is more than {self.cfg.max_age_days} "
                "days old: a replayed message?"
            )
        return None

    def _edit(
        self,
        msg: EmailMessage,
        author: Author,
        message_id: str,
        digest: str,
        raw: bytes,
        path: str,
        owner: str,
    ) -> Verdict:
        """An answer to one of our confirmations: replace or delete the post."""
        if owner.lower() != author.email.lower():
            return self._set_aside(
                QUARANTINED,
                f"{author.email} answered the confirmation of {path}, which is {owner}'s post",
                message_id,
                digest,
                raw,
            )
        target = self.site.content_dir / path
        command, _text = reply_command(_text_of(msg))
        if command is None:
            # "Merci !", a quote of the confirmation…: nothing changes, and
            # the author learns how to edit (this answer confirms the post
            # too, so it may be answered with a command in turn).
            text = tr(author.lang, "The post {path} is unchanged. ").format(
                path=path
            ) + tr(author.lang, reply.HOW_TO)
            return self._edited(
                msg, author, message_id, digest, path, ANSWERED, text, confirms=True
            )
        if command == DELETE:
            # Checked before "is the post still there?": after a crash between
            # the removal and its record, the retried DELETE finds the post
            # gone and must end as deleted, not as a refusal.
            # The post and its media (issue 12 item 6: photos stayed public).
            # Which media is read from the kept version, not the post: a
            # retry after a crash that had removed the post still knows them.
            kept = self._keep_previous(path, digest, "delete")
            write.delete_post(target)
            write.remove_media(
                list(kept.media), self.site.content_dir, self.cfg.media_dir
            )
            text = tr(author.lang, "The post {path} is taken down.").format(path=path)
            return self._edited(msg, author, message_id, digest, path, DELETED, text)
        if command == RESTORE:
            # The previous version back, text and media; the one replaced is
            # kept (keyed by this answer), so RESTAURER again undoes it.
            try:
                history.restore(
                    self.site.var_dir,
                    self.site.content_dir,
                    path,
                    media_dir=self.cfg.media_dir,
                    at=self.clock(),
                    key=digest[:16],
                )
            except MailError:
                return self._refuse(
                    msg, author, message_id, digest, raw, _no_history(path, author.lang)
                )
            text = tr(
                author.lang,
                "The post {path} is back to its previous version. "
                "Answer RESTORE to this message to undo it.",
            ).format(path=path)
            return self._edited(
                msg, author, message_id, digest, path, RESTORED, text, confirms=True
            )
        if not target.exists():
            return self._refuse(
                msg, author, message_id, digest, raw, _gone(path, author.lang)
            )
        made = self._parse(msg, author, digest, len(raw), edit=True)
        if isinstance(made, Refusal):
            return self._refuse(
                msg, author, message_id, digest, raw, made.reason, hold=made.hold
            )
        if author.mail == "draft":  # an edit cannot publish what only drafts may
            made = dataclasses.replace(made, status="draft")
        made = self._same_place(made, target)
        kept = self._keep_previous(path, digest, "edit")
        # Its media in a folder named by this answer: the same on a retry,
        # never a file the current version shows (see write.relocated).
        made = write.relocated(made, f"v{digest[:10]}")
        write.replace_post(target, made, self.site.content_dir)
        # The old photos the new version no longer shows are not public any
        # more (they are in the kept version, for a restore).
        write.remove_media(
            list(kept.media),
            self.site.content_dir,
            self.cfg.media_dir,
            keep={m.path for m in made.media},
        )
        text = tr(author.lang, "The post {path} is updated.").format(path=path)
        return self._edited(
            msg, author, message_id, digest, path, UPDATED, text, confirms=True
        )

    def _keep_previous(self, path: str, digest: str, why: str) -> history.Version:
        """The post as it was before an edit or a deletion, media included,
        under var/mail/history/ (outside content/: never built). Named by the
        answer's digest and never overwritten: a retried edit, whose first
        try had replaced the post, must not take the new text for the old."""
        return history.keep(
            self.site.var_dir,
            self.site.content_dir,
            path,
            digest[:16],
            media_dir=self.cfg.media_dir,
            at=self.clock(),
            why=why,
        )

    def _edited(
        self,
        msg: EmailMessage,
        author: Author,
        message_id: str,
        digest: str,
        path: str,
        outcome: str,
        text: str,
        confirms: bool = False,
    ) -> Verdict:
        """Record an edit or a deletion, tell the author, run the hook. An
        updated post's notice may be answered in turn (it confirms the post)."""
        self.ledger.record(
            message_id, digest, outcome, path=path, sender=author.email, at=self.clock()
        )
        self._log(logging.INFO, "mail %s: %s %s", message_id, outcome, path)
        self._answer(
            msg,
            author,
            reply.notice(msg, author.email, self.cfg, author.lang, text),
            confirms=path if confirms else None,
        )
        self._run_hook()
        return Verdict(outcome, None, path)

    def _set_aside(
        self, outcome: str, reason: str, message_id: str, digest: str, raw: bytes
    ) -> Verdict:
        """Keep a copy (nothing is lost, whatever the adapter does), record
        it, say why in the log: never a reply."""
        folder = self.site.var_dir / "mail" / outcome
        if outcome == QUARANTINED:  # its envelope first: a held .eml has one
            arrival = getattr(self, "_arrival", None)
            holding.write_envelope(
                self.site.var_dir,
                digest,
                arrival.via if arrival else "pipe",
                arrival.recipients if arrival else (),
            )
        write.atomic_write(folder / f"{digest}.eml", raw)
        self.ledger.record(message_id, digest, outcome, reason=reason, at=self.clock())
        self._log(logging.WARNING, "mail %s %s: %s", message_id, outcome, reason)
        return Verdict(outcome, reason)

    def _refuse(
        self,
        msg: EmailMessage,
        author: Author,
        message_id: str,
        digest: str,
        raw: bytes,
        reason: str,
        hold: bool = False,
    ) -> Verdict:
        # A damaged message (issue 12: "malformed MIME is decoded correctly or
        # held with a reason") is held for the operator and answered too, so
        # that the author knows to send it again.
        outcome = QUARANTINED if hold else REFUSED
        verdict = self._set_aside(outcome, reason, message_id, digest, raw)
        self._answer(
            msg, author, reply.refusal(msg, author.email, self.cfg, author.lang, reason)
        )
        return verdict

    def _answer(
        self,
        original: EmailMessage,
        author: Author,
        message: EmailMessage,
        confirms: str | None = None,
    ) -> None:
        message = self.scrub.reply(message)
        if self.mailer is None:
            log.info("mail: no SMTP host set; no reply sent to %s", author.email)
            return
        if not self.ledger.reply_allowed(
            author.email, self.cfg.replies_per_hour, self.clock()
        ):
            self._log(
                logging.WARNING,
                "mail: reply to %s skipped: rate limit (%d an hour): %s",
                author.email,
                self.cfg.replies_per_hour,
                message["Subject"],
            )
            return
        try:
            self.mailer(message)
        except Exception as exc:  # the post is written; the reply waits
            self._log(
                logging.ERROR,
                "mail: cannot send the reply to %s now (%s): kept in "
                "var/mail/outbox/, sent with the next mail or command",
                author.email,
                exc,
            )
            self._postpone(message, author.email, confirms)
            return
        if confirms is not None:
            self.ledger.confirmation_sent(
                str(message["Message-ID"]), confirms, author.email, self.clock()
            )

    def _run_hook(self) -> None:
        if self.hook is None:
            return
        try:
            self.hook()
        except Exception as exc:
            log.error("mail: the on_publish hook failed: %s", exc)


#: The headers that name a message without a Message-ID: the author's own,
#: never a relay's (issue 12 item 13: a redelivery with one more Received
#: header made a second post, as the digest of the bytes had changed).
IDENTITY_HEADERS = ("From", "Date", "Subject")


def stable_identity(msg: EmailMessage, raw: bytes) -> str:
    """A digest of a message that its delivery does not change: its From,
    Date and Subject as written, and its body's bytes (line ends and
    trailing blank lines aside: one hop stores CRLF, another LF). Trace
    headers (Received, Return-Path, Delivered-To, Authentication-Results…)
    are left out: every hop adds its own."""
    digest = hashlib.sha256()
    values: dict[str, list[str]] = {name.lower(): [] for name in IDENTITY_HEADERS}
    for key, value in msg.raw_items():
        if key.lower() in values:
            values[key.lower()].append(" ".join(str(value).split()))
    for name in IDENTITY_HEADERS:
        line = f"{name}: {chr(0x1F).join(values[name.lower()])}\n"
        digest.update(line.encode("utf-8", "surrogatepass"))
    match = re.search(rb"\r?\n\r?\n", raw)
    body = raw[match.end() :] if match else b""
    digest.update(b"\n" + body.replace(b"\r\n", b"\n").rstrip(b"\r\n\t "))
    return digest.hexdigest()


def _message_id(msg: EmailMessage) -> str | None:
    found = _MSGID.search(str(msg.get("Message-ID", "")))
    return found.group(0) if found else None


def _referenced(msg: EmailMessage) -> list[str]:
    """The Message-IDs this one answers (In-Reply-To first, then References)."""
    ids = _MSGID.findall(str(msg.get("In-Reply-To", "")))
    ids += reversed(_MSGID.findall(str(msg.get("References", ""))))
    return list(dict.fromkeys(ids))


def _text_of(msg: EmailMessage) -> str:
    """The message's text (plain, else HTML as text): its first lines say
    whether an answer to a confirmation is a command."""
    body = msg.get_body(("plain", "html"))
    if body is None:
        return ""
    try:
        text = str(body.get_content())
    except (LookupError, UnicodeError, ValueError):
        return ""
    if body.get_content_subtype() == "html":
        from bs4 import BeautifulSoup

        text = BeautifulSoup(text, "lxml").get_text("\n")
    return text


def _too_big(size: int, cfg: MailSettings, lang: str) -> str:
    mb, limit = size / 1_000_000, cfg.max_message_bytes / 1_000_000
    return tr(
        lang,
        "the message is {size} MB, the limit is {limit} MB. Send fewer photos "
        "per message, or smaller ones.",
    ).format(size=f"{mb:.0f}", limit=f"{limit:.0f}")


def _wrong_clock(sent: dt.datetime, received: dt.datetime, lang: str) -> str:
    sent = sent.astimezone(received.tzinfo)
    when = tr(lang, "%Y-%m-%d %H:%M")
    return tr(
        lang,
        "Your message was dated {sent}, in the future: your device's clock is "
        "probably wrong. The post is dated at its receipt, {received}. To "
        "schedule a post, write a line “date: YYYY-MM-DD HH:MM” at the top of "
        "the message.",
    ).format(sent=sent.strftime(when), received=received.strftime(when))


def _gone(path: str, lang: str) -> str:
    return tr(
        lang, "the post {path} no longer exists: send a new message to publish."
    ).format(path=path)


def _no_history(path: str, lang: str) -> str:
    return tr(lang, "the post {path} has no previous version to restore.").format(
        path=path
    )


def site_from_settings(settings: dict[str, Any], site_dir: str) -> Site:
    """The pipeline's view of Pelican ``settings``."""
    from causerie.settings import read_section

    languages: tuple[str, ...] = ("fr", "en")
    try:
        from causerie.authoring.settings import AuthoringSettings

        languages = tuple(
            read_section(settings, "AUTHORING", AuthoringSettings).languages
        )
    except Exception:  # settings without AUTHORING: the defaults
        pass
    return Site(
        content_dir=Path(settings["PATH"]),
        var_dir=Path(site_dir) / "var",
        site_url=str(settings.get("SITEURL") or ""),
        timezone=str(settings.get("TIMEZONE") or "UTC"),
        default_lang=str(settings.get("DEFAULT_LANG") or "en"),
        languages=languages,
        article_url=str(settings.get("ARTICLE_URL") or "{slug}.html"),
        article_lang_url=str(settings.get("ARTICLE_LANG_URL") or "{slug}-{lang}.html"),
    )
