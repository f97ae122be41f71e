"""publish — the Causerie command line.

Thin commands over the capability packages in plugins/. Run ``publish --help``
or ``publish COMMAND --help``; every command shows an example.
"""

from __future__ import annotations

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
@pass_site
def build(site: Site, strict: bool, output: Path | None, as_of: str | None) -> None:
    """Build the site into output/.

    Posts with broken metadata or unknown authors are reported with their file
    and skipped; --strict makes any such problem fatal (exit status 1).

    \b
    Example:
        publish build --strict
        publish --settings publishconf.py build -o /tmp/site
    """
    overrides: dict[str, Any] = {}
    if output:
        overrides["OUTPUT_PATH"] = str(output.resolve())
    if as_of:
        current = site.settings().get("SITEBUILD", {})
        overrides["SITEBUILD"] = {**current, "now": as_of}
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
@pass_site
def serve(site: Site, host: str, port: int, drafts: bool, no_build: bool) -> None:
    """Preview the site at http://HOST:PORT/, rebuilding when content/ or theme/ change.

    Links in the preview point at the served address. Stop with Ctrl-C.

    \b
    Example:
        publish serve                 # http://127.0.0.1:8000/
        publish serve --drafts -p 8001
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
                try:
                    run_build(site, False, **overrides)
                except click.ClickException as exc:
                    exc.show()  # keep serving the last good build

            preview.watch_and_rebuild(watched, rebuild, started)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        click.echo("Stopped.")


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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
