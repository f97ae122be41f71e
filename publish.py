"""publish — the Causerie command line.

Thin commands over the capability packages in plugins/. Run ``publish --help``
or ``publish COMMAND --help``; every command shows an example.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

# The capability packages are Pelican plugins found through PLUGIN_PATHS. Put
# the same directory first on sys.path so this CLI and Pelican import the same
# module objects (one copy, one state).
PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"
if str(PLUGINS_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGINS_DIR))

from causerie_settings import UserError  # noqa: E402
from sitebuild import build as sitebuild  # noqa: E402


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


def _print_report(report: sitebuild.BuildReport) -> None:
    click.echo(
        f"Built {report.posts} posts ({report.translations} translations), "
        f"{report.pages} pages; skipped {report.drafts} drafts and "
        f"{report.scheduled} scheduled posts; wrote {report.files_written} files "
        f"to {report.output} in {report.seconds:.2f} s."
    )
    if report.problems:
        click.secho(f"{len(report.problems)} problem(s), listed above.", fg="yellow")


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
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default: OUTPUT_PATH of the settings).",
)
@click.option(
    "--as-of", "as_of", metavar="DATE",
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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
