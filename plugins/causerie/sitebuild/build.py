"""Build the site with Pelican, with progress, a summary and strictness.

This is the library side of ``publish build``: it runs a real Pelican build
and turns Pelican's log into a list of problems that each name a file.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateError
from pelican import Pelican, signals
from pelican.log import LimitFilter, console

from causerie.errors import UserError

# The loader lives with the settings (causerie.settings); kept here under its
# old name for the callers that read a site to build it.
from causerie.settings import load_settings as load_settings
from causerie.settings import read_section, site_dir

from . import urls
from .content_cache import markdown_cache
from .incremental import staging_dir, sync_tree
from .settings import SitebuildSettings
from .stable_sitemap import forget_failed_build
from .state import PROCESS
from .warm import WarmState, warm_builds
from .writer import PRINTS_FILE, PagePlan, active_plan, parallel_rendering

#: Called as progress(stage, done, total): stage "reading" has a total (the
#: number of source files), stage "writing" counts files written (total None).
Progress = Callable[[str, int, int | None], None]
#: Called with each problem (a warning or an error) as soon as it happens.
ProblemSink = Callable[[str], None]

SOURCE_SUFFIXES = {".md", ".markdown", ".mkd", ".mdown", ".html", ".htm", ".rst"}


class SitebuildError(UserError):
    """The site cannot be built; the message says what to fix."""


@dataclass
class BuildReport:
    """What a build did."""

    output: Path
    posts: int = 0
    translations: int = 0
    pages: int = 0
    drafts: int = 0
    scheduled: int = 0
    files_written: int = 0
    #: Incremental builds: files of the output replaced (new or different
    #: bytes) and removed; None for a clean build (it rewrites everything).
    files_changed: int | None = None
    files_removed: int | None = None
    #: Incremental builds: Markdown files converted (the others came from
    #: the cache of earlier builds).
    converted: int | None = None
    #: Incremental builds: pages and feeds rendered, and those left as they
    #: were because nothing they show changed.
    rendered: int | None = None
    kept: int | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    #: publish watch: the change was applied without a build (fastpath).
    fast: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def count_sources(settings: dict[str, Any]) -> int:
    """Number of post and page source files Pelican will read."""
    root = Path(settings["PATH"])
    total = 0
    for sub in [*settings["ARTICLE_PATHS"], *settings["PAGE_PATHS"]]:
        base = root / sub
        if base.is_dir():
            total += sum(
                1
                for p in base.rglob("*")
                if p.suffix in SOURCE_SUFFIXES and not p.name.startswith(".")
            )
    return total


class _ProblemHandler(logging.Handler):
    """Collects WARNING and above from Pelican and the plugins, one line each."""

    def __init__(self, content_root: str, sink: ProblemSink | None) -> None:
        super().__init__(logging.WARNING)
        self.content_root = content_root
        self.sink = sink
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # Pelican logs a file it could not read with logger.exception() but no
        # traceback unless DEBUG is on, so the reason would be lost: we are
        # still inside its except block, so the exception is at hand.
        if message.startswith("Could not process") and not record.exc_info:
            exc = sys.exc_info()[1]
            if exc is not None:
                message = f"{message}: {describe(exc)}"
        message = message.replace(self.content_root + os.sep, "")
        self.problems.append(message)
        if self.sink:
            self.sink(message)


def describe(exc: BaseException) -> str:
    """One line saying what is wrong with a source file and how to fix it."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); save the file as UTF-8"
        )
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror}); check its permissions"
    return f"{exc}; fix the metadata at the top of the file"


@contextmanager
def _capture(content_root: str, sink: ProblemSink | None) -> Iterator[_ProblemHandler]:
    handler = _ProblemHandler(content_root, sink)
    # Pelican's log filter drops a message it has already seen, across builds
    # in the same process: without a reset a rebuild (publish serve) would
    # hide a problem that is still there.
    LimitFilter._raised_messages.clear()
    LimitFilter._group_count.clear()
    root = logging.getLogger()
    root.addHandler(handler)
    quiet = console.quiet
    console.quiet = True  # Pelican prints its own "Done:" line; we print ours
    try:
        yield handler
    finally:
        console.quiet = quiet
        root.removeHandler(handler)


def build_site(
    settings: dict[str, Any],
    progress: Progress | None = None,
    on_problem: ProblemSink | None = None,
    warm_state: WarmState | None = None,
) -> BuildReport:
    """Run one Pelican build with ``settings`` and report what it did.

    Bad posts are skipped and reported in ``report.problems``; errors in the
    settings or the theme raise :class:`SitebuildError`. With ``warm_state``
    (a process that builds the same site again and again: incremental builds
    only), unchanged source files are not read again (:mod:`.warm`).
    """
    original = settings
    report = BuildReport(output=Path(settings["OUTPUT_PATH"]))
    incremental = read_section(settings, "SITEBUILD", SitebuildSettings).incremental
    if incremental:
        # Pelican renders a whole clean site into the staging directory
        # (emptied first: a build that crashed may have left one behind);
        # sync_tree() then moves only the differences into the output.
        settings = {
            **settings,
            "OUTPUT_PATH": str(staging_dir(report.output)),
            "DELETE_OUTPUT_DIRECTORY": True,
            "OUTPUT_RETENTION": [],
        }
    if warm_state is not None and not incremental:
        raise ValueError("a warm build is an incremental build")
    if incremental:
        # Two incremental builds of one output share its staging directory
        # (publish watch and a cron job): one waits for the other.
        with output_lock(report.output):
            return _build(
                settings,
                original,
                report,
                incremental,
                progress,
                on_problem,
                warm_state,
            )
    return _build(
        settings, original, report, incremental, progress, on_problem, warm_state
    )


def _build(
    settings: dict[str, Any],
    original: dict[str, Any],
    report: BuildReport,
    incremental: bool,
    progress: Progress | None,
    on_problem: ProblemSink | None,
    warm_state: WarmState | None,
) -> BuildReport:
    cfg = read_section(settings, "SITEBUILD", SitebuildSettings)
    plan = page_plan(original) if incremental else None
    if plan is not None:
        # A warm process may render pages again without a build (fastpath).
        plan.track = warm_state is not None
        # Plugins write beside the pages (gone.map, avatars): the staging
        # directory must exist even when every page is kept.
        Path(settings["OUTPUT_PATH"]).mkdir(parents=True, exist_ok=True)
    total = count_sources(settings)
    read = 0
    generators: list[Any] = []

    def on_read(_content: Any) -> None:
        nonlocal read
        read += 1
        if progress:
            progress("reading", min(read, total), total)

    def on_written(_path: Any, **_kw: Any) -> None:
        report.files_written += 1
        if progress:
            progress("writing", report.files_written, None)

    def on_generators(gens: list[Any]) -> None:
        generators.extend(gens)

    receivers: list[tuple[Any, Callable[..., None]]] = [
        (signals.content_object_init, on_read),
        (signals.content_written, on_written),
        (signals.feed_written, on_written),
        (signals.all_generators_finalized, on_generators),
    ]
    start = time.perf_counter()
    with _capture(str(settings["PATH"]), on_problem) as handler:
        for signal, receiver in receivers:
            signal.connect(receiver, weak=False)
        finished = False
        try:
            with active_plan(plan), _warm(warm_state), parallel_rendering(cfg.jobs):
                pelican = Pelican(settings)
                if plan is not None:
                    # The site's digest once the plugins' `initialized` have
                    # added to the settings (the albums plugin its Markdown
                    # extension to MARKDOWN, in place): taken before, the
                    # first build of a process saw MARKDOWN without it and
                    # the next with it, so the first build after the fast
                    # path in `publish watch` rendered every page again.
                    plan.start(settings)
                pelican.run()
            finished = True
        except TemplateError as exc:
            raise SitebuildError(
                f"the theme failed: {exc} (in {getattr(exc, 'filename', '?')}, "
                f"line {getattr(exc, 'lineno', '?')}); fix the template"
            ) from exc
        finally:
            urls.forget()  # a build that failed half-way kept them
            if not finished:
                forget_failed_build()
            for signal, receiver in receivers:
                signal.disconnect(receiver)
    if incremental:
        if plan is not None:
            plan.checkpoint()
        synced = sync_tree(
            Path(settings["OUTPUT_PATH"]),
            report.output,
            delete_stale=bool(original["DELETE_OUTPUT_DIRECTORY"]),
            retention=original.get("OUTPUT_RETENTION") or (),
            kept=plan.kept if plan is not None else (),
            # A warm process knows what it produced last time: no need to
            # walk the whole output to find what is stale.
            known=plan.produced
            if plan is not None and warm_state is not None
            else None,
        )
        if plan is not None:
            plan.produced = synced.produced
            plan.finish()
            report.rendered, report.kept = plan.rendered, len(plan.kept)
        report.files_changed, report.files_removed = synced.changed, synced.removed
        cache = markdown_cache(settings)
        report.converted = cache.misses if cache is not None else None
    report.seconds = time.perf_counter() - start
    report.problems = handler.problems
    _count(report, generators)
    if warm_state is not None:
        warm_state.generators = generators
        # Deleted files: their objects were kept from build to build.
        warm_state.prune(warm_state.seen)
    return report


# One plan per output for the life of the process (state.PROCESS.plans):
# ``publish watch`` and ``publish serve`` keep the fingerprints in memory.


def page_plan(settings: dict[str, Any]) -> PagePlan:
    """The fingerprints of the pages of ``settings``' output."""
    output = Path(settings["OUTPUT_PATH"]).resolve()
    plan = PROCESS.plans.get(output)
    if plan is None:
        store = Path(site_dir(settings)).resolve() / PRINTS_FILE
        plan = PROCESS.plans[output] = PagePlan(output, store)
    return plan


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Hold the lock of ``output``'s incremental builds."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output.parent / f".{output.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _warm(state: WarmState | None) -> Iterator[None]:
    if state is None:
        yield
        return
    state.start()
    with warm_builds(state):
        yield


def _count(report: BuildReport, generators: list[Any]) -> None:
    for gen in generators:
        name = type(gen).__name__
        if name == "ArticlesGenerator":
            report.posts = len(gen.articles)
            report.translations = len(gen.translations)
            waiting = gen.drafts + gen.drafts_translations
            report.scheduled = sum(1 for a in waiting if getattr(a, "scheduled", False))
            report.drafts = len(waiting) - report.scheduled
        elif name == "PagesGenerator":
            report.pages = len(gen.pages) + len(gen.translations)
