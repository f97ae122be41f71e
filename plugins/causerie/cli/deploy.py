"""``publish deploy``, ``publish rollback``, ``publish publish``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from causerie import deploy as deployment
from causerie.errors import UserError
from causerie.sitebuild import schedule

from .common import (
    BuildProgress,
    Site,
    fail,
    pass_site,
    plural,
    print_report,
    problem,
)


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


@click.command("deploy")
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


@click.command("rollback")
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
                    f"{plural(len(state.releases), 'release')} on {target.where}; * is live."
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


@click.command("publish")
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
    from causerie.cli import chain

    settings = site.settings()
    progress = BuildProgress()

    def say(line: str) -> None:
        progress.close()
        click.echo(line)

    try:
        report = chain.publish(
            settings,
            now=schedule.system_now(),
            say=say,
            progress=progress,
            on_problem=problem,
        )
    except UserError as exc:
        fail(exc)
    finally:
        progress.close()
    assert report.build is not None and report.deploy is not None
    print_report(report.build)
    _print_deploy(report.deploy)
