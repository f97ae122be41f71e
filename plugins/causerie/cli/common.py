"""What every command of the CLI shares: the site, errors, build output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from causerie import signals as causerie_signals
from causerie.errors import UserError
from causerie.sitebuild import build as sitebuild


def fail(exc: Exception) -> NoReturn:
    """A user error at the edge: one line saying what to do, no traceback."""
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


def plural(count: int, noun: str) -> str:
    """ "1 post", "2 posts"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def print_report(report: sitebuild.BuildReport) -> None:
    """The one-line summary of a build."""
    click.echo(
        f"Built {plural(report.posts, 'post')} ({plural(report.translations, 'translation')}), "
        f"{plural(report.pages, 'page')}; skipped {plural(report.drafts, 'draft')} and "
        f"{plural(report.scheduled, 'scheduled post')}; wrote "
        f"{plural(report.files_written, 'file')} to {report.output} in {report.seconds:.2f} s."
    )
    if report.files_changed is not None:
        rendered = (
            f"rendered {plural(report.rendered, 'page')} (feeds included), "
            f"{report.kept} unchanged left unrendered; "
            if report.rendered is not None
            else ""
        )
        click.echo(
            f"Incremental: {rendered}{report.files_changed} changed, "
            f"{report.files_removed} removed, the rest left as it was."
        )
    if report.problems:
        click.secho(
            f"{plural(len(report.problems), 'problem')}, listed above.", fg="yellow"
        )


class BuildProgress:
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


def problem(message: str) -> None:
    """A problem found by the build, shown as it is found."""
    click.secho(f"\n⚠ {message}", fg="yellow", err=True)


def run_build(site: Site, strict: bool, **overrides: Any) -> sitebuild.BuildReport:
    """Build with a progress bar and a summary; --strict makes problems fatal."""
    settings = site.settings(**overrides)
    progress = BuildProgress()
    try:
        report = sitebuild.build_site(settings, progress, problem)
        if (settings.get("SITEBUILD") or {}).get("incremental"):
            # A clean build indexes at its end (Pelican's finalized); an
            # incremental one rendered into staging, so what follows it
            # (the search index) runs on the output now, before the command
            # returns and a deploy copies it.
            causerie_signals.output_updated.send(
                Path(settings["OUTPUT_PATH"]), settings=settings, background=False
            )
    except UserError as exc:
        fail(exc)
    finally:
        progress.close()
        if sys.stderr.isatty():
            click.echo("\r", nl=False, err=True)
    print_report(report)
    if strict and report.problems:
        raise click.ClickException(
            f"--strict: {len(report.problems)} problem(s); fix them and build again"
        )
    return report
