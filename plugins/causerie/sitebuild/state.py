"""The state of the build running in this process, in one object.

Pelican's signals are process-wide, so one build runs at a time in a
process; what the plugin's modules must share while it runs (the reading in
progress, the page plan, the memos) lives in :data:`BUILD`, and what a
long-lived process (``publish watch``, ``publish serve``) keeps from one
build to the next lives in :data:`PROCESS`. No module of sitebuild keeps
build state of its own: reading this file tells all there is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: this module imports no other at run time
    from .content_cache import ContentCache
    from .prefetch import BuildReading
    from .related import Candidate
    from .warm import WarmState
    from .writer import PagePlan


@dataclass
class BuildState:
    """One build's shared state, from its ``initialized`` to its ``finalized``
    (each field says who sets it)."""

    #: prefetch.begin/end: the files being read ahead, and their word counts.
    reading: BuildReading | None = None
    #: writer.active_plan: the page plan of an incremental build (None: all).
    plan: PagePlan | None = None
    #: writer.parallel_rendering: processes rendering the pages (1: as Pelican).
    jobs: int = 1
    #: warm.warm_builds: publish watch's state, reused by its builds.
    warm: WarmState | None = None
    #: urls.settle/forget: URLs computed once per object and key.
    urls: dict[tuple[int, str, bool, str], str] | None = None
    #: render_once.reusing: theme fragments rendered once per key.
    fragments: dict[tuple[Any, ...], Any] | None = None


@dataclass
class ProcessState:
    """What a process that builds more than once keeps between builds."""

    #: build.page_plan: one page plan per output directory.
    plans: dict[Path, PagePlan] = field(default_factory=dict)
    #: content_cache.cache_for: the open Markdown caches.
    caches: dict[tuple[Path, str], ContentCache] = field(default_factory=dict)
    #: enrich: reading times of the last build, by HTML and words per minute.
    minutes: dict[tuple[str, int], int] = field(default_factory=dict)
    #: enrich.related_of: a warm process's last related posts, by language:
    #: the limit, the pool (by key) and each post's answer.
    related: dict[str, tuple[int, dict[int, Candidate[int]], dict[int, list[int]]]] = (
        field(default_factory=dict)
    )
    #: stable_sitemap: pelican-sitemap's formatted dates, memoised.
    sitemap_dates: dict[Any, Any] = field(default_factory=dict)


BUILD = BuildState()
PROCESS = ProcessState()
