"""``publish mail …``: posts by e-mail (docs/mail.md)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import click

from causerie.errors import UserError

from .common import Site, fail, pass_site, plural


@click.group()
def mail() -> None:
    """Posts by e-mail: an author's message becomes a post (docs/mail.md).

    \b
    Example:
        publish mail poll --watch         # read the blog's IMAP mailbox
        publish mail serve                # or receive by SMTP/LMTP on :2525
        publish mail import message.eml   # or from a pipe, a file, a Maildir
    """


def _mail(site: Site) -> tuple[Any, Any, dict[str, Any]]:
    """The site's MAILPOSTS settings, its pipeline, and its Pelican settings."""
    from causerie import mailposts
    from causerie.mailposts.service import make_pipeline

    settings = site.settings()
    try:
        return mailposts.config(settings), make_pipeline(settings), settings
    except UserError as exc:
        fail(exc)


def _retry_replies(pipeline: Any) -> None:
    """Send the replies a mail server did not take earlier (var/mail/outbox/)."""
    sent, waiting = pipeline.retry_replies()
    if sent or waiting:
        click.echo(
            f"Kept replies: {sent} sent now, {waiting} still waiting for the mail server."
        )


def _verdict_line(name: str, verdict: Any, error: str | None = None) -> str:
    if verdict is None:
        return f"{'error':<12} {name}: {error} (kept; try again)"
    where = verdict.url or verdict.path or verdict.reason or ""
    return f"{verdict.outcome:<12} {name}: {where}"


@mail.command("poll")
@click.option("--watch", is_flag=True, help="Keep going: IMAP IDLE, reconnecting.")
@pass_site
def mail_poll(site: Site, watch: bool) -> None:
    """Read the blog's mailbox (MAILPOSTS["imap_host"]) and publish what is new.

    Messages are read without being marked, then moved to Processed,
    Quarantine or Failed once handled; a message that could not be handled
    stays for the next poll. Password: $CAUSERIE_IMAP_PASSWORD (or an OAuth2
    token in $CAUSERIE_IMAP_TOKEN).

    \b
    Example:
        CAUSERIE_IMAP_PASSWORD=… publish mail poll          # from cron
        CAUSERIE_IMAP_PASSWORD=… publish mail poll --watch  # a service
    """
    from causerie.mailposts.settings import ENV_IMAP_PASSWORD, ENV_IMAP_TOKEN
    from causerie.mailposts.sources import imap

    cfg, pipeline, _settings = _mail(site)
    _retry_replies(pipeline)
    password = os.environ.get(ENV_IMAP_PASSWORD)
    token = os.environ.get(ENV_IMAP_TOKEN)

    def show(report: Any) -> None:
        for result in report.results:
            click.echo(_verdict_line(f"uid {result.uid}", result.verdict, result.error))

    try:
        if watch:
            click.echo(f"Watching {cfg.imap_user}@{cfg.imap_host} — Ctrl-C to stop")
            imap.watch(
                cfg, pipeline, on_report=show, password=password, oauth2_token=token
            )
            return
        report = imap.poll(cfg, pipeline, password=password, oauth2_token=token)
    except UserError as exc:
        fail(exc)
    except KeyboardInterrupt:
        click.echo("Stopped.")
        return
    show(report)
    click.echo(
        f"{plural(len(report.results), 'message')}: {len(report.moved)} handled, "
        f"{len(report.kept)} kept for the next poll."
    )
    if report.kept:
        raise click.exceptions.Exit(1)


@mail.command("serve")
@pass_site
def mail_serve(site: Site) -> None:
    """Receive mail by SMTP (or LMTP) for the blog's address, and publish it.

    For a company whose mail server forwards blog@ here. Recipients not
    served are refused, the size limit is announced, 250 is answered once
    the message is on disk, and DKIM is verified here. Stop with Ctrl-C.

    \b
    Example:
        publish mail serve                # MAILPOSTS["listen_host"]:["listen_port"]
    """
    from causerie.mailposts.service import service_logging, site_dir
    from causerie.mailposts.sources import smtp

    cfg, pipeline, settings = _mail(site)
    # One INFO line per mail on stderr (issue 12 item 14: a published mail
    # logged nothing at the default level).
    service_logging()
    stop = threading.Event()

    def replies() -> None:
        # Replies the relay did not take wait in var/mail/outbox/: tried at
        # start, then every minute while the listener runs.
        while True:
            try:
                pipeline.retry_replies()
            except Exception as exc:  # a disk error: logged, tried again
                click.echo(f"Kept replies: {exc}", err=True)
            if stop.wait(60):
                return

    threading.Thread(target=replies, name="mailposts-replies", daemon=True).start()
    protocol = "LMTP" if cfg.lmtp else "SMTP"
    click.secho(
        f"{protocol} for {', '.join(cfg.served)} on {cfg.listen_host}:{cfg.listen_port} — Ctrl-C to stop",
        fg="green",
    )
    try:
        smtp.serve(cfg, pipeline, Path(site_dir(settings)), stop=stop)
    except UserError as exc:
        fail(exc)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {cfg.listen_host}:{cfg.listen_port} ({exc.strerror}); "
            "set MAILPOSTS['listen_port']"
        ) from exc
    except KeyboardInterrupt:
        stop.set()
        click.echo("Stopped.")


#: sysexits.h EX_TEMPFAIL: a mail server's pipe transport then keeps the
#: message and tries again later (Postfix pipe(8), Exim's pipe transport).
EX_TEMPFAIL = 75


@mail.command("import")
@click.argument("source", default="-")
@pass_site
def mail_import(site: Site, source: str) -> None:
    """Publish messages from a file (.eml), a Maildir, or standard input (-).

    For a mail server's pipe transport, procmail, or a one-off. Exit 0 when
    every message was dealt with (published, or set aside with its reason);
    75 (EX_TEMPFAIL, "try again later") when one could not be, so a pipe
    transport keeps it.

    \b
    Example:
        publish mail import message.eml
        publish mail import ~/Maildir
        publish mail import - < message.eml      # from a pipe transport
    """
    from causerie.mailposts.sources import pipe

    _cfg, pipeline, _settings = _mail(site)
    _retry_replies(pipeline)
    stream = source == "-"
    try:
        results = pipe.import_messages(
            sys.stdin.buffer if stream else Path(source), pipeline
        )
    except UserError as exc:
        fail(exc)
    for result in results:
        click.echo(_verdict_line(result.name, result.verdict, result.error))
    if not all(result.ok for result in results):
        raise click.exceptions.Exit(EX_TEMPFAIL)


@mail.command("held")
@pass_site
def mail_held(site: Site) -> None:
    """List the messages held in quarantine, with why.

    Each line: its ID, when it was held, From, Subject; then the reason.
    Release one (`publish mail release ID`) or drop it (`publish mail drop ID`).

    \b
    Example:
        publish mail held
    """
    _cfg, pipeline, _settings = _mail(site)
    items = pipeline.held()
    if not items:
        click.echo("No held messages.")
        return
    for item in items:
        when = item.held_at[:16].replace("T", " ") or "(time unknown)"
        click.echo(f"{item.id}  {when}  {item.sender}  {item.subject}")
        click.echo(f"    {item.reason}")
    click.echo(f"{plural(len(items), 'held message')}.")


@mail.command("release")
@click.option(
    "--trust",
    is_flag=True,
    help="Vouch for the sender: skip DKIM, secret and age checks (the rest applies).",
)
@click.argument("ids", nargs=-1, required=True)
@pass_site
def mail_release(site: Site, ids: tuple[str, ...], trust: bool) -> None:
    """Handle held messages again, by ID (`publish mail held` shows them).

    Without --trust, with the current settings: after adding an author,
    fixing DKIM or setting a secret. With --trust, as the operator's
    override, for a message you know is genuine: no DKIM, secret nor age
    check; the sender must still be an author, and the text is sanitized as
    always. Works even when a redelivery of it was taken for a duplicate.
    Exit 1 when one is held again, or not found.

    \b
    Example:
        publish mail release 3f2a9c01d4e5
        publish mail release --trust 3f2a9c01d4e5
    """
    _cfg, pipeline, _settings = _mail(site)
    failed = False
    for ident in ids:
        try:
            item, verdict = pipeline.release(ident, trust=trust)
        except UserError as exc:
            click.echo(f"{'error':<12} {ident}: {exc}", err=True)
            failed = True
            continue
        click.echo(_verdict_line(item.id, verdict))
        if verdict.outcome in ("quarantined", "retry"):
            failed = True
    if failed:
        raise click.exceptions.Exit(1)


@mail.command("drop")
@click.argument("ids", nargs=-1, required=True)
@pass_site
def mail_drop(site: Site, ids: tuple[str, ...]) -> None:
    """Discard held messages, by ID; the ledger keeps a record of each (a
    redelivery of one stays a duplicate).

    \b
    Example:
        publish mail drop 3f2a9c01d4e5
    """
    _cfg, pipeline, _settings = _mail(site)
    failed = False
    for ident in ids:
        try:
            item = pipeline.drop(ident)
        except UserError as exc:
            click.echo(f"{'error':<12} {ident}: {exc}", err=True)
            failed = True
            continue
        click.echo(f"{'dropped':<12} {item.id}: {item.sender}, {item.subject}")
    if failed:
        raise click.exceptions.Exit(1)


@mail.command("restore")
@click.argument("post")
@pass_site
def mail_restore(site: Site, post: str) -> None:
    """Put back the previous version of a post edited or deleted by e-mail.

    POST is its file (content/posts/2026-11-21-aube.md), its file name, or
    its slug. Its text and its photos and documents come back as they were
    before the last edit, deletion or restore; the version replaced is kept,
    so running the command again undoes it. Then build to publish it.

    \b
    Example:
        publish mail restore 2026-11-21-une-nouvelle-lampe
        publish mail restore content/posts/2026-11-21-une-nouvelle-lampe.md
    """
    _cfg, pipeline, _settings = _mail(site)
    try:
        path, wanted, _undo = pipeline.restore(post)
    except UserError as exc:
        fail(exc)
    state = "restored" if wanted.present else "removed again (it did not exist then)"
    click.echo(f"{path}: {state}, as it was on {wanted.at[:16].replace('T', ' ')}")
    click.echo(
        f"The version replaced is kept: `publish mail restore {post}` again undoes this."
    )
