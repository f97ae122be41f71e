"""The Pelican and pelican-sitemap internals Causerie relies on, in one list.

Every read or write of one of them is in this module (the accessors at its
end); sitebuild replaces or wraps a few attributes that are not Pelican's public
API, to build faster (``Content.get_url_setting`` memoised, ``read_file``
through the warm cache, ``METADATA_PROCESSORS`` for plain ISO dates) and to
make the sitemap reproducible (pelican-sitemap's ``generator.now``,
``_write_out``, ``format_date``). A new release may rename any of them, and
the patch would then fail far from its cause, or silently do nothing. So
they are named here, with the versions they were checked against; the build
checks them at start (:func:`check`) and stops with a message naming the
supported range, and tests/test_package.py checks that each exists in the
installed versions. pyproject.toml pins the same ranges.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from causerie.errors import UserError


@dataclass(frozen=True)
class Private:
    """One attribute we patch or read: ``module``.``path`` (dotted inside)."""

    distribution: str
    module: str
    path: str
    used_by: str


#: The distributions, and the versions whose internals the list was checked
#: against: [lowest, first unsupported).
SUPPORTED = {
    "pelican": ((4, 12), (4, 13)),
    "pelican-sitemap": ((1, 2), (1, 3)),
}

PRIVATES = (
    Private("pelican", "pelican.contents", "Content.get_url_setting", "sitebuild.urls, sitebuild.warm"),
    Private("pelican", "pelican.readers", "Readers.read_file", "sitebuild.warm"),
    Private("pelican", "pelican.readers", "METADATA_PROCESSORS", "sitebuild.dates"),
    Private("pelican", "pelican.contents", "Content._get_intrasite_link_regex", "has_intrasite_links"),
    Private("pelican", "pelican.plugins._utils", "plugin_enabled", "plugin_enabled"),
    Private("pelican", "pelican.writers", "Writer._create_new_feed", "sitebuild.writer (feed_classes)"),
    Private("pelican", "pelican.writers", "Writer._add_item_to_the_feed", "sitebuild.writer (feed_classes)"),
    Private("pelican-sitemap", "pelican.plugins.sitemap.sitemap", "generator.now", "sitebuild.stable_sitemap"),
    Private("pelican-sitemap", "pelican.plugins.sitemap.sitemap", "generator.page_queue", "sitebuild.stable_sitemap"),
    Private("pelican-sitemap", "pelican.plugins.sitemap.sitemap", "generator._write_out", "sitebuild.stable_sitemap"),
    Private("pelican-sitemap", "pelican.plugins.sitemap.sitemap", "generator._main_pelican", "sitebuild.stable_sitemap"),
    Private("pelican-sitemap", "pelican.plugins.sitemap.sitemap", "format_date", "sitebuild.stable_sitemap"),
)  # fmt: skip


class IncompatiblePelican(UserError):
    """An installed Pelican (or pelican-sitemap) Causerie was not made for."""


def version_tuple(text: str) -> tuple[int, ...]:
    """ "4.12.0" → (4, 12, 0); what follows the numbers is ignored
    ("1.3rc1" → (1, 3), "4.12.0.dev2" → (4, 12, 0))."""
    found = re.match(r"\d+(?:\.\d+)*", text.strip())
    return tuple(int(n) for n in found.group().split(".")) if found else ()


def version_problem(distribution: str, installed: str) -> str | None:
    """What is wrong with ``installed`` for ``distribution``, or None."""
    low, high = SUPPORTED[distribution]
    found = version_tuple(installed)
    if low <= found < high:
        return None
    wanted = f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"
    return (
        f"{distribution} {installed} is installed, but Causerie supports "
        f"{distribution}{wanted} (it patches internals checked against those "
        f"versions: causerie.pelican_compat): run "
        f"`pip install '{distribution}{wanted}'`"
    )


def missing(private: Private) -> str | None:
    """Why ``private`` cannot be found in what is installed, or None."""
    try:
        target: object = importlib.import_module(private.module)
    except ImportError as exc:
        return f"{private.module} cannot be imported ({exc})"
    for name in private.path.split("."):
        if not hasattr(target, name):
            return f"{private.module}.{private.path} does not exist"
        target = getattr(target, name)
    return None


def check(distributions: tuple[str, ...] = ("pelican", "pelican-sitemap")) -> None:
    """Stop with a clear message if an installed version is out of range or an
    internal we patch has gone. A distribution that is not installed is
    skipped (pelican-sitemap is optional)."""
    problems: list[str] = []
    for name in distributions:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        problem = version_problem(name, installed)
        if problem:
            problems.append(problem)
            continue
        problems.extend(
            f"{reason} (used by {p.used_by})"
            for p in PRIVATES
            if p.distribution == name and (reason := missing(p))
        )
    if problems:
        raise IncompatiblePelican("; ".join(problems))


def plugin_enabled(settings: dict[str, Any], name: str) -> bool:
    """Whether the build of ``settings`` lists plugin ``name``
    ("causerie.webmentions"), by Pelican's own rule (its ``plugin_enabled``,
    which also knows the short names of namespace plugins). PLUGINS may hold
    modules as well as names; Pelican's function compares names only."""
    from pelican.plugins._utils import plugin_enabled as pelican_plugin_enabled

    names = [str(getattr(p, "__name__", p)) for p in settings.get("PLUGINS") or ()]
    return bool(pelican_plugin_enabled(name, names))


def has_intrasite_links(obj: Any, body: bool = True) -> bool:
    """Whether a content object's text (and metadata) holds ``{filename}``-style
    links Pelican resolves at build time (its private link pattern); True
    when the object is not one this Pelican can tell about (safe: the
    callers then treat it as linked)."""
    try:
        regex = obj._get_intrasite_link_regex()
    except Exception:
        return True
    texts = [getattr(obj, "_content", "") or ""] if body else []
    texts += [v for v in getattr(obj, "metadata", {}).values() if isinstance(v, str)]
    return any(regex.search(text) for text in texts)


# --- the accessors: the only code that names a private of PRIVATES ------------


def content_url_setting() -> Callable[..., str]:
    """``Content.get_url_setting`` as it is now (Pelican's, or a patch)."""
    from pelican.contents import Content

    return Content.get_url_setting


def set_content_url_setting(function: Callable[..., str]) -> None:
    from pelican.contents import Content

    Content.get_url_setting = function


def wrap_read_file(
    readers: Any, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """This build's ``Readers.read_file`` replaced by ``wrapper(original)``."""
    readers.read_file = wrapper(readers.read_file)


def metadata_processor(name: str) -> Callable[..., Any]:
    from pelican import readers

    return readers.METADATA_PROCESSORS[name]


def set_metadata_processor(name: str, function: Callable[..., Any]) -> None:
    from pelican import readers

    readers.METADATA_PROCESSORS[name] = function


def sitemap_module() -> Any:
    """pelican-sitemap's module, or None where it is not installed."""
    try:
        from pelican.plugins.sitemap import sitemap
    except ImportError:
        return None
    return sitemap


def sitemap_pages(sitemap: Any) -> tuple[list[tuple[str, Any]], Any]:
    """pelican-sitemap's queue of (path, content) of the build, and its clock."""
    return list(sitemap.generator.page_queue), sitemap.generator.now


def set_sitemap_clock(sitemap: Any, now: Any) -> None:
    sitemap.generator.now = now


def write_sitemap_of(
    sitemap: Any, pelican: Any, pages: list[tuple[str, Any]], now: Any
) -> None:
    """pelican-sitemap writes the sitemap of ``pages`` dated ``now``, its own
    queue and clock left as they were."""
    generator = sitemap.generator
    saved = generator.page_queue, generator.now
    generator.page_queue, generator.now = list(pages), now
    try:
        generator._write_out(pelican)
    finally:
        generator.page_queue, generator.now = saved


def reset_sitemap(sitemap: Any) -> None:
    """pelican-sitemap forgets the Pelican object it waits for, and its queue."""
    sitemap.generator._main_pelican = None
    sitemap.generator.page_queue = []


def sitemap_format_date(sitemap: Any) -> Callable[[Any], Any]:
    return sitemap.format_date


def set_sitemap_format_date(sitemap: Any, function: Callable[[Any], Any]) -> None:
    sitemap.format_date = function
