"""``SITEBUILD`` settings: how the site is built and previewed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from causerie.errors import SettingsError
from causerie.settings import read_section

from .schedule import parse_instant


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, as a container or
    ``taskset`` restricts it), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class SitebuildSettings:
    """The ``SITEBUILD`` dict of pelicanconf.py, with its defaults."""

    #: Build the site as of this instant (ISO 8601) instead of now: posts dated
    #: later are held back as scheduled. ``publish build --as-of`` sets it.
    now: str | None = None
    #: Words read per minute, for the reading time shown on posts.
    words_per_minute: int = 230
    #: How many related posts to show under each post.
    related_posts: int = 3
    #: Read Markdown with two Markdown objects kept for the whole build
    #: instead of a new one per file (same HTML; see docs/PERFORMANCE.md).
    reuse_markdown: bool = True
    #: Rebuild into the existing output: render into a staging directory,
    #: then replace only the files whose bytes changed and remove those no
    #: longer produced; Markdown converted by an earlier build is reused
    #: (by content hash, var/build-cache/). ``publish build --incremental``.
    incremental: bool = False
    #: Processes converting Markdown at the start of a build (with
    #: reuse_markdown); 1 converts in the build's own process, file by file.
    jobs: int = field(default_factory=usable_cpus)

    def __post_init__(self) -> None:
        if self.now is not None:
            try:
                parse_instant(self.now)
            except ValueError as exc:
                raise SettingsError(f"now: {exc}") from None
        if self.words_per_minute < 50:
            raise SettingsError("words_per_minute must be at least 50")
        if self.related_posts < 0:
            raise SettingsError("related_posts cannot be negative")
        if self.jobs < 1:
            raise SettingsError(f"jobs must be at least 1 (processes), got {self.jobs}")


def config(settings: dict[str, Any]) -> SitebuildSettings:
    """The validated ``SITEBUILD`` dict of Pelican ``settings``."""
    return read_section(settings, "SITEBUILD", SitebuildSettings)
