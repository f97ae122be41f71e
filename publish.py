"""publish — the Causerie command line.

Thin commands over the capability packages in plugins/. Run ``publish --help``
or ``publish COMMAND --help``; every command shows an example.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import click

# The capability packages are Pelican plugins found through PLUGIN_PATHS. Put
# the same directory first on sys.path so this CLI and Pelican import the same
# module objects (one copy, one state).
PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"
if str(PLUGINS_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGINS_DIR))

import authoring  # noqa: E402
import deploy as deployment  # noqa: E402
import webmentions  # noqa: E402
from causerie_settings import UserError  # noqa: E402
from sitebuild import build as sitebuild  # noqa: E402
from sitebuild import schedule  # noqa: E402
from sitebuild import serve as preview  # noqa: E402


def fail(exc: Exception) -> NoReturn:
    raise click.ClickException(str(exc)) from exc


class Site:
    """What every command needs: where the settings file is."""

    def __init__(self, settings_file: Path) -> None:
        self.settings_file = settings_file

    def settings(self, **overrides: Any) -> dict[str, Any]:
        try:
            return sitebuild.load_settings(self.settings_file, overrides)
        except UserError as exc:
            fail(exc)


pass_site = click.make_pass_decorator(Site)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default="pelicanconf.py",
    show_default=True,
    envvar="CAUSERIE_SETTINGS",
    help="Pelican settings file (publishconf.py for production).",
)
@click.version_option(package_name="causerie")
@click.pass_context
def cli(ctx: click.Context, settings_file: Path) -> None:
    """Causerie: write, build and publish a company blog.

    \b
    Example:
        publish new "Nos lampes arrivent à Montréal" --lang fr
        publish check
        publish build
        publish serve
    """
    ctx.obj = Site(settings_file)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _print_report(report: sitebuild.BuildReport) -> None:
    click.echo(
        f"Built {_n(report.posts, 'post')} ({_n(report.translations, 'translation')}), "
        f"{_n(report.pages, 'page')}; skipped {_n(report.drafts, 'draft')} and "
        f"{_n(report.scheduled, 'scheduled post')}; wrote "
        f"{_n(report.files_written, 'file')} to {report.output} in {report.seconds:.2f} s."
    )
    if report.files_changed is not None:
        click.echo(
            f"Incremental: {report.files_changed} changed, "
            f"{report.files_removed} removed, the rest left as it was."
        )
    if report.problems:
        click.secho(
            f"{_n(len(report.problems), 'problem')}, listed above.", fg="yellow"
        )


class _BuildProgress:
    """A progress bar for reading, then a count of files written."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.last = 0

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage == "reading" and total:
            if self.bar is None:
                self.bar = click.progressbar(
                    length=total, label="Reading", file=sys.stderr, show_pos=True
                )
                self.bar.__enter__()
            self.bar.update(done - self.last)
            self.last = done
        elif stage == "writing":
            self.close()
            if sys.stderr.isatty() and done % 25 == 0:
                click.echo(f"\rWriting {done} files", nl=False, err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _problem(message: str) -> None:
    click.secho(f"\n⚠ {message}", fg="yellow", err=True)


def run_build(site: Site, strict: bool, **overrides: Any) -> sitebuild.BuildReport:
    settings = site.settings(**overrides)
    progress = _BuildProgress()
    try:
        report = sitebuild.build_site(settings, progress, _problem)
    except UserError as exc:
        fail(exc)
    finally:
        progress.close()
        if sys.stderr.isatty():
            click.echo("\r", nl=False, err=True)
    _print_report(report)
    if strict and report.problems:
        raise click.ClickException(
            f"--strict: {len(report.problems)} problem(s); fix them and build again"
        )
    return report


@cli.command()
@click.option("--strict", is_flag=True, help="Exit non-zero on any warning.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default: OUTPUT_PATH of the settings).",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Build as if it were DATE (YYYY-MM-DD[THH:MM]): preview scheduled posts.",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Update the existing output: rewrite only changed files, reuse converted Markdown.",
)
@pass_site
def build(
    site: Site,
    strict: bool,
    output: Path | None,
    as_of: str | None,
    incremental: bool,
) -> None:
    """Build the site into output/.

    Posts with broken metadata or unknown authors are reported with their file
    and skipped; --strict makes any such problem fatal (exit status 1).

    \b
    Example:
        publish build --strict
        publish build --incremental      # after a new post or comment
        publish --settings publishconf.py build -o /tmp/site
    """
    overrides: dict[str, Any] = {}
    if output:
        overrides["OUTPUT_PATH"] = str(output.resolve())
    section: dict[str, Any] = {}
    if as_of:
        section["now"] = as_of
    if incremental:
        section["incremental"] = True
    if section:
        current = site.settings().get("SITEBUILD", {})
        overrides["SITEBUILD"] = {**current, **section}
    run_build(site, strict, **overrides)


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "-p", "--port", default=8000, show_default=True, help="Port to listen on."
)
@click.option(
    "--drafts",
    is_flag=True,
    help="Also show drafts and scheduled posts, under /drafts/.",
)
@click.option(
    "--no-build",
    is_flag=True,
    help="Serve the output directory as it is: no build, no rebuild on changes.",
)
@click.option(
    "--mentions",
    is_flag=True,
    help="Also run the Webmention receiver (WEBMENTIONS host/port); rebuild after approvals.",
)
@pass_site
def serve(
    site: Site, host: str, port: int, drafts: bool, no_build: bool, mentions: bool
) -> None:
    """Preview the site at http://HOST:PORT/, rebuilding when content/ or theme/ change.

    Links in the preview point at the served address. Stop with Ctrl-C.

    \b
    Example:
        publish serve                 # http://127.0.0.1:8000/
        publish serve --drafts -p 8001
        publish serve --mentions      # + the receiver and /admin on :8081
    """
    url = f"http://{host}:{port}"
    overrides = preview.preview_overrides(url, drafts)
    settings = site.settings(**({} if no_build else overrides))
    output = Path(settings["OUTPUT_PATH"])
    if no_build and not output.is_dir():
        raise click.ClickException(
            f"{output} does not exist; run `publish build` first"
        )
    try:
        # Listen first: a busy port is reported before a build is wasted.
        server = preview.start_server(output, host, port)
    except UserError as exc:
        fail(exc)
    started = time.time()
    if not no_build:
        try:
            run_build(site, False, **overrides)
        except click.ClickException:
            server.shutdown()
            raise
    click.secho(f"Serving {output} at {url}/ — Ctrl-C to stop", fg="green")
    building = threading.Lock()  # Pelican builds one at a time
    receiver = None
    if mentions:
        receiver = _start_receiver(
            site, lambda: _locked_build(building, site, overrides)
        )
    try:
        if no_build:
            threading.Event().wait()
        else:
            watched = [
                Path(settings["PATH"]),
                Path(settings["THEME"]),
                site.settings_file,
            ]

            def rebuild(changed: set[str]) -> None:
                click.echo(
                    f"Changed: {', '.join(sorted(Path(p).name for p in changed))}"
                )
                _locked_build(building, site, overrides)

            preview.watch_and_rebuild(watched, rebuild, started)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if receiver:
            receiver.close()
        click.echo("Stopped.")


def _locked_build(lock: threading.Lock, site: Site, overrides: dict[str, Any]) -> None:
    with lock:
        try:
            run_build(site, False, **overrides)
        except click.ClickException as exc:
            exc.show()  # keep serving the last good build


def _start_receiver(site: Site, rebuild: Any) -> Any:
    from webmentions import hooks
    from webmentions import service as mention_service

    settings = site.settings()
    cfg = webmentions.config(settings)
    try:
        running = mention_service.start(
            settings,
            cfg.host,
            cfg.port,
            on_approve=hooks.Debounced(rebuild, 1.0).trigger,
        )
    except UserError as exc:
        fail(exc)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {cfg.host}:{cfg.port} for webmentions ({exc.strerror}); "
            "is `publish mentions serve` already running?"
        ) from exc
    admin = (
        " (set CAUSERIE_ADMIN_SECRET for /admin)"
        if not os.environ.get("CAUSERIE_ADMIN_SECRET")
        else ""
    )
    click.secho(
        f"Webmentions and comments at {cfg.service_url}/, moderation at {cfg.service_url}/admin{admin}",
        fg="green",
    )
    return running


@cli.command()
@click.argument("title")
@click.option(
    "-a",
    "--author",
    help="Author's slug, name or e-mail (default: AUTHORING['default_author']).",
)
@click.option("-l", "--lang", help="Language of the post (default: the author's).")
@click.option("-c", "--category", help="Category of the post.")
@click.option("-t", "--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.option("--slug", help="URL slug (default: made from the title).")
@click.option(
    "--publish",
    "publish_now",
    is_flag=True,
    help="Publish at the next build instead of starting as a draft.",
)
@pass_site
def new(
    site: Site,
    title: str,
    author: str | None,
    lang: str | None,
    category: str | None,
    tags: tuple[str, ...],
    slug: str | None,
    publish_now: bool,
) -> None:
    """Start a new post: content/posts/YYYY-MM-DD-slug.md, as a draft.

    \b
    Example:
        publish new "Nos lampes arrivent à Montréal" -c Produits -t export
        publish new "Hello Montreal" --author tom-whitfield --publish
    """
    try:
        path = authoring.new_post(
            site.settings(),
            title,
            now=schedule.system_now(),
            author=author,
            lang=lang,
            category=category,
            tags=tags,
            slug=slug,
            draft=not publish_now,
        )
    except UserError as exc:
        fail(exc)
    click.echo(f"Created {path}")
    if not publish_now:
        click.echo("It is a draft: remove the `Status: draft` line to publish it.")


@cli.command()
@pass_site
def check(site: Site) -> None:
    """Check the content: metadata, authors, links, images, slugs.

    Prints one line per problem (file:line: problem — fix) and exits 1 if
    there is any.

    \b
    Example:
        publish check && publish build
    """
    settings = site.settings()
    try:
        problems = authoring.check_site(settings)
    except UserError as exc:
        fail(exc)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.secho(f"{len(problems)} problem(s) found.", fg="red", err=True)
        sys.exit(1)
    click.secho("No problems found.", fg="green")


# --- webmentions -----------------------------------------------------------
# The webmentions modules are imported inside the commands: `publish build`
# need not load SQLAlchemy, requests and Pillow.


@cli.group()
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


def _rebuild_after_approval(site: Site) -> None:
    from webmentions import hooks

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
    from webmentions import service as mention_service

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
    from webmentions import service as mention_service

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
        if not store.moderate(mention_id, "approved"):
            raise click.ClickException(
                f"no mention {mention_id}; see `publish mentions list`"
            )
        click.echo(f"Approved {mention_id}.")
    if domain:
        click.echo(
            f"Approved {store.approve_domain(domain)} mention(s) from {domain}; its next ones will be approved too."
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
        if not store.moderate(mention_id, "rejected"):
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
    from webmentions import avatars

    store = _store(site)
    removed = store.block_domain(domain)
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
    from webmentions import avatars

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
    from webmentions import avatars, importer
    from webmentions import service as mention_service

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
    from webmentions import sendrun

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
            f"{_n(len(jobs), 'webmention')} due{' (dry run: nothing sent)' if jobs else ''}."
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


@cli.group()
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
    import mailposts
    from mailposts.service import make_pipeline

    settings = site.settings()
    try:
        return mailposts.config(settings), make_pipeline(settings), settings
    except UserError as exc:
        fail(exc)


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
    from mailposts.settings import ENV_IMAP_PASSWORD, ENV_IMAP_TOKEN
    from mailposts.sources import imap

    cfg, pipeline, _settings = _mail(site)
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
        f"{_n(len(report.results), 'message')}: {len(report.moved)} handled, "
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
    from mailposts.service import site_dir
    from mailposts.sources import smtp

    cfg, pipeline, settings = _mail(site)
    stop = threading.Event()
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
    from mailposts.sources import pipe

    _cfg, pipeline, _settings = _mail(site)
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


# --- deployment ------------------------------------------------------------


def _deploy_setup(site: Site) -> tuple[Any, Any, dict[str, Any]]:
    """The site's DEPLOY settings, its target, and its Pelican settings."""
    settings = site.settings()
    try:
        cfg = deployment.config(settings)
        return cfg, deployment.make_target(cfg, deployment.site_dir(settings)), settings
    except UserError as exc:
        fail(exc)


def _print_deploy(report: deployment.DeployReport) -> None:
    if not report.changed:
        click.echo(
            f"Nothing changed: {report.where} stays at release {report.release}."
        )
        return
    was = f" (was {report.previous})" if report.previous else ""
    click.secho(f"Live: release {report.release} on {report.where}{was}.", fg="green")
    if report.detail:
        click.echo(report.detail)
    if report.pruned:
        click.echo(f"Removed old release(s): {', '.join(report.pruned)}.")
    if report.reloaded:
        click.echo("Reloaded the web server.")


@cli.command("deploy")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="The built site to deploy (default: OUTPUT_PATH of the settings).",
)
@pass_site
def deploy_command(site: Site, output: Path | None) -> None:
    """Put the built site live as a new release, switched atomically (DEPLOY).

    The release is copied (or rsync'ed) whole into DEPLOY["root"]/releases/,
    then the `current` symlink is renamed to it; old releases beyond
    DEPLOY["keep"] are removed. A failure leaves the live site as it was.

    \b
    Example:
        publish --settings publishconf.py build --strict
        publish --settings publishconf.py deploy
    """
    cfg, target, settings = _deploy_setup(site)
    try:
        with deployment.site_lock(deployment.site_dir(settings)):
            report = deployment.deploy(
                target,
                cfg,
                output or Path(settings["OUTPUT_PATH"]),
                schedule.system_now(),
                click.echo,
            )
    except UserError as exc:
        fail(exc)
    _print_deploy(report)


@cli.command("rollback")
@click.option("--to", "to", metavar="RELEASE", help="Go to this release instead.")
@click.option(
    "--list", "list_only", is_flag=True, help="List the releases; change nothing."
)
@pass_site
def rollback_command(site: Site, to: str | None, list_only: bool) -> None:
    """Point the live site back at the release before the current one.

    \b
    Example:
        publish --settings publishconf.py rollback
        publish --settings publishconf.py rollback --list
        publish --settings publishconf.py rollback --to 20261123T120000Z
    """
    cfg, target, settings = _deploy_setup(site)
    try:
        with deployment.site_lock(deployment.site_dir(settings)):
            if list_only:
                state = target.state()
                for release in state.releases:
                    click.echo(f"{'*' if release == state.live else ' '} {release}")
                click.echo(
                    f"{_n(len(state.releases), 'release')} on {target.where}; * is live."
                )
                return
            report = deployment.rollback(target, cfg, to)
    except UserError as exc:
        fail(exc)
    click.secho(
        f"Rolled back: {report.where} now serves release {report.release} "
        f"(was {report.previous or 'none'}).",
        fg="green",
    )
    if report.reloaded:
        click.echo("Reloaded the web server.")


@cli.command("publish")
@pass_site
def publish_command(site: Site) -> None:
    """Publish: read pending mail, build, deploy, send webmentions — in order.

    Mail is read only if MAILPOSTS["imap_host"] is set. Any build problem
    stops the chain (the live site stays as it was), as does any failed step;
    running it again is safe. Made for cron or a systemd timer, which also
    puts scheduled posts live on their day (docs/deployment.md).

    \b
    Example:
        publish --settings publishconf.py publish
        */15 * * * * cd /srv/causerie && .venv/bin/publish --settings publishconf.py publish
    """
    from deploy import chain

    settings = site.settings()
    progress = _BuildProgress()

    def say(line: str) -> None:
        progress.close()
        click.echo(line)

    try:
        report = chain.publish(
            settings,
            now=schedule.system_now(),
            say=say,
            progress=progress,
            on_problem=_problem,
        )
    except UserError as exc:
        fail(exc)
    finally:
        progress.close()
    assert report.build is not None and report.deploy is not None
    _print_report(report.build)
    _print_deploy(report.deploy)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
