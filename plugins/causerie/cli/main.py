"""publish — the Causerie command line.

Thin commands over the capability packages in plugins/. Run ``publish --help``
or ``publish COMMAND --help``; every command shows an example.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from causerie import authoring, webmentions
from causerie.cli.common import (
    Site,
    fail,
    pass_site,
    plural,
    run_build,
)
from causerie.cli.deploy import (
    deploy_command,
    publish_command,
    rollback_command,
)
from causerie.cli.importing import import_group
from causerie.cli.mail import mail
from causerie.cli.mentions import mentions
from causerie.errors import UserError
from causerie.sitebuild import schedule
from causerie.sitebuild import serve as preview
from causerie.sitebuild import watch as sitebuild_watch


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
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default: OUTPUT_PATH of the settings).",
)
@pass_site
def watch(site: Site, output: Path | None) -> None:
    """Keep output/ up to date: rebuild at each change, within a second.

    Builds incrementally, then waits for changes to content/, the theme, the
    settings file or the comments (approved, rejected or erased in the
    mention store). Unchanged files are not read again and only the pages a
    change shows on are rendered. Stop with Ctrl-C.

    \b
    Example:
        publish watch
        publish --settings publishconf.py watch -o /srv/blog/live
    """
    overrides: dict[str, Any] = {}
    if output:
        overrides["OUTPUT_PATH"] = str(output.resolve())

    def settings() -> dict[str, Any]:
        loaded = site.settings(**overrides)
        loaded["SITEBUILD"] = {**loaded.get("SITEBUILD", {}), "incremental": True}
        return loaded

    def report(change: sitebuild_watch.Change, built: Any, error: Any) -> None:
        stamp = time.strftime("%H:%M:%S")
        if error is not None:
            reason = error if isinstance(error, UserError) else repr(error)
            click.secho(
                f"{stamp} {change.describe()}: build failed, output left as it was: "
                f"{reason}",
                fg="red",
                err=True,
            )
            return
        for line in built.problems:
            click.secho(f"  {line}", fg="yellow", err=True)
        how = " (no build)" if built.fast else ""
        click.echo(
            f"{stamp} {change.describe()}: {built.seconds:.2f} s{how}, rendered "
            f"{plural(built.rendered or 0, 'page')}, {built.files_changed} "
            f"changed, {built.files_removed} removed"
        )

    try:
        watcher = sitebuild_watch.Watcher(
            settings, site.settings_file, report, sitebuild_watch.open_mentions
        )
    except UserError as exc:
        fail(exc)
    click.secho(
        f"Watching {watcher.settings['PATH']} → {watcher.settings['OUTPUT_PATH']}"
        " — Ctrl-C to stop",
        fg="green",
    )
    with contextlib.suppress(KeyboardInterrupt):
        watcher.run()


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
    help="Also run the Webmention receiver (WEBMENTIONS host/port); the store is watched either way.",
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
        # Answer after the first build: a process without other threads
        # renders on every core (sitebuild.fanout).
        server = preview.start_server(output, host, port, serving=False)
    except UserError as exc:
        fail(exc)
    # The mention store is watched as `publish watch` does: an approval from
    # another shell (`publish mentions approve`), from /admin, or an update
    # or deletion verified by the receiver rebuilds the preview (issue 13
    # item 11). Not with --no-build, which never rebuilds.
    store_changes = None
    if not no_build:
        try:
            store = sitebuild_watch.open_mentions(settings)
        except UserError as exc:
            click.secho(f"Not watching the mention store: {exc}", fg="yellow", err=True)
            store = None
        store_changes = preview.StoreChanges(store) if store is not None else None
    started = time.time()
    if not no_build:
        try:
            run_build(site, False, **overrides)
        except click.ClickException:
            server.server_close()
            raise
    preview.serve_in_background(server)
    click.secho(f"Serving {output} at {url}/ — Ctrl-C to stop", fg="green")
    building = threading.Lock()  # Pelican builds one at a time
    receiver = None
    if mentions:
        receiver = _start_receiver(
            site,
            # Watching the store rebuilds after approvals already.
            (lambda: None)
            if store_changes is not None
            else lambda: _locked_build(building, site, overrides),
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
                names = ", ".join(sorted(Path(p).name for p in changed))
                click.echo(f"Changed: {names or 'comments'}")
                _locked_build(building, site, overrides)

            preview.watch_and_rebuild(
                watched, rebuild, started, store_changed=store_changes
            )
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if receiver:
            receiver.close()
        if store_changes is not None:
            store_changes.close()
        click.echo("Stopped.")


def _locked_build(lock: threading.Lock, site: Site, overrides: dict[str, Any]) -> None:
    with lock:
        try:
            run_build(site, False, **overrides)
        except click.ClickException as exc:
            exc.show()  # keep serving the last good build


def _start_receiver(site: Site, rebuild: Any) -> Any:
    from causerie.webmentions.receiver import approval_hook as hooks
    from causerie.webmentions.receiver import run as mention_service

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
    """Check the content: metadata, authors, links, images, galleries, slugs.

    Prints one line per problem (file:line: problem — fix) and exits 1 if
    there is any.

    \b
    Example:
        publish check && publish build
    """
    settings = site.settings()
    try:
        from causerie.albums.check import check_blocks

        # Gallery and downloads blocks: alt text, files, types (docs/albums.md).
        problems = authoring.check_site(settings, block_checks=(check_blocks,))
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


cli.add_command(mentions)
cli.add_command(mail)
cli.add_command(import_group)
cli.add_command(deploy_command)
cli.add_command(rollback_command)
cli.add_command(publish_command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
