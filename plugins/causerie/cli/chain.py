"""``publish publish``: pending mail → build → deploy → webmentions, in order.

Each step is also its own command (mail poll, build, deploy, mentions send);
this runs them as one, under the site's deploy lock, and stops at the first
that fails with a :class:`PublishError` saying which step, why, and what the
live site is. Running it again is safe: mail already handled is gone from the
mailbox, an unchanged site makes no new release, and webmentions already
sent are not sent again.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from causerie.deploy.run import (
    DeployReport,
    config,
    deploy,
    make_target,
    site_dir,
    site_lock,
)
from causerie.deploy.settings import DeployError
from causerie.errors import UserError
from causerie.pelican_compat import plugin_enabled
from causerie.sitebuild import build as sitebuild

Say = Callable[[str], None]


class PublishError(DeployError):
    """A step of ``publish publish`` failed; the message names it and says
    what to do."""


@dataclass
class PublishReport:
    """What each step did (None: skipped or not reached)."""

    mail: Any = None  # mailposts.sources.imap.PollReport
    build: sitebuild.BuildReport | None = None
    deploy: DeployReport | None = None
    mentions: Counter[str] | None = None


def _failed(step: str, exc: Exception, live: str) -> PublishError:
    return PublishError(
        f"{step} failed: {exc}. {live} Fix it, then run `publish publish` again."
    )


UNCHANGED = "Nothing was deployed: the live site is as it was."


def poll_mail(settings: dict[str, Any], environ: Mapping[str, str], say: Say) -> Any:
    """`publish mail poll` once, if MAILPOSTS["imap_host"] is set; else None."""
    from causerie import mailposts
    from causerie.mailposts.service import make_pipeline
    from causerie.mailposts.settings import ENV_IMAP_PASSWORD, ENV_IMAP_TOKEN
    from causerie.mailposts.sources import imap

    cfg = mailposts.config(settings)
    if not cfg.imap_host:
        return None
    pipeline = make_pipeline(settings, environ)
    pipeline.hook = None  # MAILPOSTS["on_publish"]: the build comes next anyway
    say(f"Reading {cfg.imap_user}@{cfg.imap_host}")
    report = imap.poll(
        cfg,
        pipeline,
        password=environ.get(ENV_IMAP_PASSWORD),
        oauth2_token=environ.get(ENV_IMAP_TOKEN),
    )
    say(
        f"Mail: {len(report.results)} message(s), {len(report.moved)} handled, "
        f"{len(report.kept)} kept for the next run"
    )
    return report


def send_mentions(settings: dict[str, Any], say: Say) -> Counter[str] | None:
    """`publish mentions send`: what is due, if the webmentions plugin is on."""
    if not plugin_enabled(settings, "causerie.webmentions"):
        return None
    from causerie import webmentions
    from causerie.webmentions.errors import WebmentionError
    from causerie.webmentions.send import run as sendrun

    store = webmentions.open_store(settings)
    cfg = webmentions.config(settings)
    try:
        jobs = sendrun.due(store, cfg, str(settings["SITEURL"]).rstrip("/"))
    except WebmentionError as exc:  # no post at all: nothing to tell anyone
        say(f"Webmentions: none to send ({exc})")
        return Counter()
    done: list[Any] = []
    sendrun.send(
        store, cfg, jobs, lambda outcome, stored: done.append((outcome, stored))
    )
    tally = sendrun.counts(done)
    rows = ", ".join(f"{n} {status}" for status, n in sendrun.summary_rows(tally))
    say(f"Webmentions: {rows or 'none due'}")
    if sendrun.exit_code(tally):
        raise UserError(
            f"{tally.get('error', 0)} webmention(s) could not be sent because of "
            "a fault on our side (see the log); run `publish mentions send` to retry"
        )
    return tally


def publish(
    settings: dict[str, Any],
    *,
    now: dt.datetime,
    say: Say = lambda _line: None,
    progress: sitebuild.Progress | None = None,
    on_problem: sitebuild.ProblemSink | None = None,
    environ: Mapping[str, str] | None = None,
) -> PublishReport:
    """Run the whole chain for the site of Pelican ``settings``."""
    env = os.environ if environ is None else environ
    cfg = config(settings)  # a wrong DEPLOY fails before anything is done
    site = site_dir(settings)
    target = make_target(cfg, site, env)
    report = PublishReport()
    with site_lock(site):
        try:
            report.mail = poll_mail(settings, env, say)
        except UserError as exc:
            raise _failed("mail", exc, UNCHANGED) from exc
        say("Building")
        try:
            report.build = sitebuild.build_site(settings, progress, on_problem)
        except UserError as exc:
            raise _failed("build", exc, UNCHANGED) from exc
        if report.build.problems:
            # A skipped post would vanish from the live site (and look
            # deleted to the webmention sender): publish all or nothing.
            raise _failed(
                "build",
                UserError(f"{len(report.build.problems)} problem(s), listed above"),
                UNCHANGED + " `publish check` shows them with their fixes.",
            )
        try:
            report.deploy = deploy(target, cfg, Path(settings["OUTPUT_PATH"]), now, say)
        except DeployError as exc:
            raise PublishError(
                f"deploy failed: {exc}. Then run `publish publish` again."
            ) from exc
        try:
            report.mentions = send_mentions(settings, say)
        except UserError as exc:
            live = f"The site is deployed ({report.deploy.release})."
            raise _failed("webmentions", exc, live) from exc
    return report
