"""`publish import`: bring an old Blogger, WordPress or feed-only blog along."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from causerie.errors import UserError

from .common import Site, fail, pass_site, plural


def _authors(values: tuple[str, ...]) -> dict[str, str]:
    mapped = {}
    for value in values:
        old, sep, slug = value.partition("=")
        if not sep or not old.strip() or not slug.strip():
            raise click.BadParameter(
                f"{value!r}: write OLD=slug, e.g. --author karim=karim-haddad",
                param_hint="--author",
            )
        mapped[old.strip()] = slug.strip()
    return mapped


def _options(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--dry-run",
                is_flag=True,
                help="Say what would be written; write nothing.",
            ),
            click.option(
                "--strict",
                is_flag=True,
                help="Stop at the first item that cannot be imported.",
            ),
            click.option(
                "--author",
                "authors",
                multiple=True,
                metavar="OLD=SLUG",
                help="Sign OLD's posts (login, name or profile URL) as SLUG of the registry (repeatable).",
            ),
            click.option(
                "--fetch-images",
                is_flag=True,
                help="Download the images not found in --media, through the guarded fetch.",
            ),
            click.option(
                "--media",
                type=click.Path(exists=True, file_okay=False, path_type=Path),
                help="A folder with the old blog's images (WordPress: wp-content/uploads).",
            ),
        ]
    ):
        func = option(func)
    return func


def _run(site: Site, kind: str, export: Path, **flags: Any) -> None:
    from causerie import webmentions
    from causerie.importers.run import Options, run_import

    settings = site.settings()
    fetcher = None
    if flags["fetch_images"]:
        fetcher = _fetcher(settings)
    options = Options(
        kind=kind,
        export=export,
        dry_run=flags["dry_run"],
        strict=flags["strict"],
        authors=_authors(flags["authors"]),
        media=flags["media"],
        fetch=fetcher,
    )
    try:
        store = None if options.dry_run else webmentions.open_store(settings)
        tally = run_import(settings, options, store, echo=click.echo)
    except UserError as exc:
        fail(exc)
    for where, reason in tally.fixed:
        click.echo(f"fixed {where}: {reason}", err=True)
    for where, reason in tally.skipped:
        click.echo(f"skipped {where}: {reason}", err=True)
    verb = "Would import" if options.dry_run else "Imported"
    click.echo(
        f"{verb} {plural(tally.posts, 'post')}, {plural(tally.pages, 'page')}, "
        f"{plural(tally.drafts, 'draft')} ({tally.unchanged} unchanged); "
        f"{plural(tally.comments, 'comment')} shown, {tally.rejected_comments} kept as "
        f"rejected (pending, spam, trash); {plural(tally.images, 'image')} copied; "
        f"{tally.redirects} old address{'' if tally.redirects == 1 else 'es'} redirected; "
        f"{len(tally.fixed)} fixed, {len(tally.skipped)} skipped, "
        f"{len(tally.ignored)} left out on purpose (pingbacks, trash)."
    )
    if tally.authors_added:
        click.echo(
            f"New authors in the registry: {', '.join(tally.authors_added)} (edit their role and bio)."
        )
    if not options.dry_run:
        click.echo(
            "Run `publish build` to see them; docs/import.md tells what to check."
        )


def _fetcher(settings: dict[str, Any]) -> Any:
    from causerie import importers
    from causerie.webmentions.fetch import FetchPolicy, fetch
    from causerie.webmentions.receiver.run import fetch_policy

    base = fetch_policy(settings)
    policy = FetchPolicy(
        allow_networks=base.allow_networks,
        timeout=15.0,
        max_bytes=importers.config(settings).max_image_bytes,
        accept="image/*",
    )

    def get(url: str) -> bytes:
        result = fetch(url, policy)
        if result.status != 200:
            raise ValueError(f"HTTP {result.status}")
        if not result.content_type.startswith("image/"):
            raise ValueError(f"not an image ({result.content_type})")
        return result.body

    return get


@click.group("import")
def import_group() -> None:
    """Bring an old blog along: its posts, pages, comments and addresses.

    \b
    Example:
        publish import wordpress export.xml --media wp-content/uploads
        publish import blogger blog-10-12-2008.xml --dry-run
        publish import feed old-feed.xml
    """


@import_group.command("blogger")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_options
@pass_site
def import_blogger(site: Site, export: Path, **flags: Any) -> None:
    """Import a Blogger export (classic .xml or Takeout feed.atom).

    \b
    Example:
        publish import blogger Takeout/Blogger/Blogs/Mon-blog/feed.atom --fetch-images
    """
    _run(site, "blogger", export, **flags)


@import_group.command("wordpress")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_options
@pass_site
def import_wordpress(site: Site, export: Path, **flags: Any) -> None:
    """Import a WordPress export (WXR, Tools → Export).

    \b
    Example:
        publish import wordpress atelier.WordPress.2012-03-12.xml --media uploads/ --author karim=karim-haddad
    """
    _run(site, "wordpress", export, **flags)


@import_group.command("feed")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_options
@pass_site
def import_feed(site: Site, export: Path, **flags: Any) -> None:
    """Import the posts of a full-content Atom or RSS feed (no comments).

    \b
    Example:
        publish import feed vieux-blog-atom.xml --fetch-images
    """
    _run(site, "feed", export, **flags)
