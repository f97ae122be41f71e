"""``publish mentions …``: readers' webmentions and comments; sending ours."""

from __future__ import annotations

import getpass
import os
import sys
import threading
from pathlib import Path
from typing import Any

import click

from causerie import webmentions
from causerie.errors import UserError

from .common import Site, fail, pass_site, plural


@click.group()
def mentions() -> None:
    """Readers' webmentions and comments: receive, verify, moderate.

    \b
    Example:
        publish mentions serve            # endpoint + form + /admin on :8081
        publish mentions list --pending
        publish mentions approve 12
    """


def _store(site: Site) -> Any:
    try:
        return webmentions.open_store(site.settings())
    except UserError as exc:
        fail(exc)


def _cli_moderator() -> str:
    """Who decides from the command line: the system user, marked as such
    (the decisions log tells it from a /admin moderator's name)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid {os.getuid()}"
    return f"{user} (command line)"


def _rebuild_after_approval(site: Site) -> None:
    from causerie.webmentions.receiver import approval_hook as hooks

    settings = site.settings()
    hook = webmentions.config(settings).on_approve
    if hook:
        click.echo(f"Running {' '.join(hook)} ...")
        hooks.run_command(tuple(hook), webmentions.site_dir(settings))
    else:
        click.echo(
            "Rebuild the site to show it: publish build (or set WEBMENTIONS['on_approve'])."
        )


@mentions.command("serve")
@click.option("--host", help="Address to listen on (default: WEBMENTIONS['host']).")
@click.option(
    "-p", "--port", type=int, help="Port (default: WEBMENTIONS['port'], 8081)."
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Do not verify in this process (run `publish mentions work`).",
)
@click.option(
    "--threads",
    default=16,
    show_default=True,
    help="Request threads (a request mostly waits for its commit).",
)
@pass_site
def mentions_serve(
    site: Site, host: str | None, port: int | None, no_worker: bool, threads: int
) -> None:
    """Run the Webmention endpoint, the comment form and /admin.

    Verification runs in the same process unless --no-worker. Stop with Ctrl-C.

    \b
    Example:
        CAUSERIE_ADMIN_SECRET=… publish mentions serve --port 8081
    """
    from causerie.webmentions.receiver import run as mention_service

    settings = site.settings()
    try:
        cfg = webmentions.config(settings)
        host, port = host or cfg.host, port or cfg.port
        click.secho(
            f"Webmention endpoint at http://{host}:{port}/webmention — Ctrl-C to stop",
            fg="green",
        )
        mention_service.serve(
            settings, host, port, with_worker=not no_worker, threads=threads
        )
    except UserError as exc:
        fail(exc)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror}); pass --port"
        ) from exc
    except KeyboardInterrupt:
        click.echo("Stopped.")


@mentions.command("work")
@click.option("--once", is_flag=True, help="Verify what is due, then exit.")
@pass_site
def mentions_work(site: Site, once: bool) -> None:
    """Verify queued webmentions (fetch each source, check it links to us).

    \b
    Example:
        publish mentions work --once      # from cron
        publish mentions work             # a long-running worker
    """
    from causerie.webmentions.receiver import run as mention_service

    settings = site.settings()
    store = _store(site)
    worker = mention_service.make_worker(settings, store)
    mention_service.service_logging()
    if once:
        total = 0
        while taken := worker.run_once():
            total += taken
        click.echo(
            f"Verified {total} mention(s); {store.queue_size()} still queued (waiting to retry)."
        )
        return
    stop = threading.Event()
    click.echo("Verifying queued mentions — Ctrl-C to stop")
    try:
        worker.run_forever(stop)
    except KeyboardInterrupt:
        click.echo("Stopped.")


@mentions.command("list")
@click.option("--pending", is_flag=True, help="Only those waiting for moderation.")
@pass_site
def mentions_list(site: Site, pending: bool) -> None:
    """List mentions, newest first.

    \b
    Example:
        publish mentions list --pending
    """
    store = _store(site)
    items = store.list_mentions(moderation="pending" if pending else None)
    if pending:
        items = [m for m in items if m.verification == "verified"]
    for m in items:
        who = m.author_name or m.source_domain
        click.echo(
            f"{m.id:>5}  {m.moderation:<8} {m.verification:<8} {m.kind:<8} {who[:30]:<30} {m.target}"
        )
        if m.decided_by:
            click.echo(f"       {m.moderation} by {m.decided_by}")
        if m.rating is not None and m.rating_best is not None:
            click.echo(f"       rating: {m.rating:g} out of {m.rating_best:g}")
        elif m.rating_note:
            click.echo(
                f"       rating not counted: {' '.join(m.rating_note.split())[:200]}"
            )
        detail = m.content_text or m.title or m.reason
        if detail:
            click.echo(f"       {' '.join(detail.split())[:100]}")
    click.echo(f"{len(items)} mention(s).")


@mentions.command("approve")
@click.argument("ids", nargs=-1, type=int)
@click.option(
    "--domain", help="Approve everything from this domain, now and from now on."
)
@pass_site
def mentions_approve(site: Site, ids: tuple[int, ...], domain: str | None) -> None:
    """Approve mentions by ID, or a whole domain ("approve and always allow").

    \b
    Example:
        publish mentions approve 12 13
        publish mentions approve --domain alice.example
    """
    if not ids and not domain:
        raise click.UsageError("give mention IDs or --domain DOMAIN")
    store = _store(site)
    for mention_id in ids:
        if not store.moderate(mention_id, "approved", by=_cli_moderator()):
            raise click.ClickException(
                f"no mention {mention_id}; see `publish mentions list`"
            )
        click.echo(f"Approved {mention_id}.")
    if domain:
        click.echo(
            f"Approved {store.approve_domain(domain, by=_cli_moderator())} mention(s) from {domain}; its next ones will be approved too."
        )
    _rebuild_after_approval(site)


@mentions.command("reject")
@click.argument("ids", nargs=-1, type=int, required=True)
@pass_site
def mentions_reject(site: Site, ids: tuple[int, ...]) -> None:
    """Reject mentions by ID (kept, never shown).

    \b
    Example:
        publish mentions reject 14
    """
    store = _store(site)
    for mention_id in ids:
        if not store.moderate(mention_id, "rejected", by=_cli_moderator()):
            raise click.ClickException(
                f"no mention {mention_id}; see `publish mentions list`"
            )
        click.echo(f"Rejected {mention_id}.")


@mentions.command("block")
@click.argument("domain")
@pass_site
def mentions_block(site: Site, domain: str) -> None:
    """Block a domain: delete its mentions and drop its next ones.

    \b
    Example:
        publish mentions block spam.example
    """
    from causerie.webmentions.verify import avatars

    store = _store(site)
    removed = store.block_domain(domain, by=_cli_moderator())
    avatars.remove_avatars(
        Path(webmentions.var_dir(site.settings())) / "avatars", removed
    )
    click.echo(f"Blocked {domain}.")


@mentions.command("erase")
@click.argument("who")
@pass_site
def mentions_erase(site: Site, who: str) -> None:
    """Erase a person's mentions and cached avatar, on request (GDPR).

    WHO is their website URL (https://alice.example/) or domain (alice.example).

    \b
    Example:
        publish mentions erase https://alice.example/
    """
    from causerie.webmentions.verify import avatars

    store = _store(site)
    before = len(store.list_mentions())
    removed = store.erase(who)
    avatars.remove_avatars(
        Path(webmentions.var_dir(site.settings())) / "avatars", removed
    )
    click.echo(
        f"Erased {before - len(store.list_mentions())} mention(s) and {len(removed)} avatar(s) of {who}. Rebuild the site to remove them from the pages."
    )


@mentions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_site
def mentions_import(site: Site, file: Path) -> None:
    """Import mentions exported from webmention.io (JF2 JSON).

    \b
    Example:
        publish mentions import webmentions.json
    """
    from causerie.webmentions.receiver import run as mention_service
    from causerie.webmentions.store import jf2_import as importer
    from causerie.webmentions.verify import avatars

    settings = site.settings()
    store = _store(site)
    try:
        data = importer.load_jf2(file)
        with click.progressbar(
            length=len(data.get("children") or []), label="Importing", file=sys.stderr
        ) as bar:
            report = importer.import_jf2(
                store,
                data,
                settings["SITEURL"],
                progress=lambda done, _total: bar.update(done - bar.pos),
            )
    except UserError as exc:
        fail(exc)
    for item, reason in report.skipped:
        click.echo(f"skipped {item}: {reason}", err=True)
    click.echo(
        f"Imported {report.imported}, updated {report.updated}, skipped {len(report.skipped)}."
    )
    # Imported mentions name their authors' pictures; cache them now, through
    # the guarded fetcher, so the site can serve them itself.
    cfg = webmentions.config(settings)
    with click.progressbar(
        length=len(store.missing_avatars()), label="Avatars", file=sys.stderr
    ) as bar:
        cached = avatars.cache_missing(
            store,
            Path(webmentions.var_dir(settings)) / "avatars",
            mention_service.fetch_policy(settings),
            cfg.avatar_size,
            progress=lambda done, _total: bar.update(done - bar.pos),
        )
    click.echo(
        f"Cached {cached} avatar(s). Rebuild the site to show the imported mentions."
    )


@mentions.command("send")
@click.option(
    "--dry-run", is_flag=True, help="List what is due; send nothing, record nothing."
)
@click.option("--post", "slug", help="Only this post (its slug, as in its address).")
@click.option(
    "--strict", is_flag=True, help="Exit 1 on any refusal or failure, not only ours."
)
@pass_site
def mentions_send(site: Site, dry_run: bool, slug: str | None, strict: bool) -> None:
    """Send webmentions for new, changed and deleted posts (after deploying).

    Each link of a post is told of it; an updated post is sent again to its
    current and former links, a deleted one to its former links. Unchanged
    posts are not sent again. Exit 0 when every failure is the remote's
    (refused, no endpoint, unreachable: recorded, retried by later runs).

    \b
    Example:
        publish --settings publishconf.py mentions send --dry-run
        publish --settings publishconf.py mentions send --post aube-six-mois-apres
    """
    from causerie.webmentions.send import run as sendrun

    settings = site.settings()
    store = _store(site)
    cfg = webmentions.config(settings)
    site_url = str(settings["SITEURL"]).rstrip("/")
    try:
        jobs = sendrun.due(store, cfg, site_url, slug)
    except UserError as exc:
        fail(exc)
    if dry_run or not jobs:
        for job in jobs:
            what = "deleted" if job.deleted else "post"
            click.echo(f"{what:<8} {job.source}  ->  {job.target}")
        click.echo(
            f"{plural(len(jobs), 'webmention')} due{' (dry run: nothing sent)' if jobs else ''}."
        )
        return
    done: list[Any] = []
    with click.progressbar(length=len(jobs), label="Sending", file=sys.stderr) as bar:

        def progress(outcome: Any, stored: Any) -> None:
            done.append((outcome, stored))
            bar.update(1)

        sendrun.send(store, cfg, jobs, progress)
    problems = [(o, r) for o, r in done if (r.status if r else o.status) != "sent"]
    for outcome, stored in sorted(
        problems, key=lambda p: (p[0].job.source, p[0].job.target)
    ):
        status = stored.status if stored else outcome.status
        post = outcome.job.source.removeprefix(site_url)
        click.echo(
            f"{status:<11} {post} -> {outcome.job.target}: {outcome.reason}", err=True
        )
    tally = sendrun.counts(done)
    click.echo(f"{'status':<12}{'count':>6}")
    for status, count in sendrun.summary_rows(tally):
        click.echo(f"{status:<12}{count:>6}")
    code = sendrun.exit_code(tally, strict)
    if code:
        raise click.exceptions.Exit(code)


@mentions.command("migrate")
@pass_site
def mentions_migrate(site: Site) -> None:
    """Create or upgrade the mention store's tables.

    \b
    Example:
        CAUSERIE_DATABASE_URL=postgresql+psycopg://blog@db/blog publish mentions migrate
    """
    _store(site)
    click.echo("The mention store is up to date.")
