"""The sitebuild plugin's registration: which Pelican signals it answers,
in the order they fire in a build."""

from __future__ import annotations

from typing import Any

from pelican import signals

from causerie import pelican_compat

from . import dates, prefetch, render_once, urls, warm
from .content_cache import markdown_cache
from .enrich import enrich_all
from .lists import drop_duplicate_urls, fast_membership, hold_scheduled
from .markdown_reader import use_reusing_reader
from .settings import config
from .stable_sitemap import pin_sitemap_clock, sitemap_queue
from .writer import get_writer


def _initialized(pelican: Any) -> None:
    # Before anything is patched: a Pelican whose internals moved fails here,
    # with the supported range, not deep inside a build.
    pelican_compat.check()
    config(pelican.settings)  # fail early, before any file is read
    cache = markdown_cache(pelican.settings)
    if cache is not None:
        cache.start_build()
    prefetch.begin(pelican.settings)


def _readers_init(readers: Any) -> None:
    cfg = config(readers.settings)
    if cfg.reuse_markdown:
        cache = markdown_cache(readers.settings)
        reading = prefetch.current(readers.settings)
        if reading is None:  # readers made outside a build (no `initialized`)
            use_reusing_reader(readers, cache)
        else:
            # A warm build reads only the files that changed: no workers.
            jobs = 1 if warm.current() is not None else cfg.jobs
            reading.start(readers, jobs, cache)
            use_reusing_reader(readers, cache, reading.prefetcher, reading.words)
    # Last: a warm process (publish watch) answers unchanged files itself.
    warm.install_reader(readers)


def _finalized(pelican: Any) -> None:
    prefetch.end()
    state = warm.current()
    if state is not None:
        # Before pelican-sitemap writes and forgets its pages (it is listed
        # after this plugin): the fast path of a new post writes the sitemap
        # again from them.
        state.sitemap = sitemap_queue()
    cache = markdown_cache(pelican.settings)
    if cache is not None:
        # A warm build (publish watch) does not read unchanged files, so it
        # "uses" only the changed ones: keep the entries of the texts it
        # holds too (an edited post's older versions go).
        cache.save(keep=cache.keys_of(state.seen) if state is not None else ())


def _flush(_generator: Any, writer: Any = None) -> None:
    """The page generator, Pelican's last to render templates, is done: write
    what Causerie's writer collected, on every core (writer.flush)."""
    flush = getattr(writer, "flush", None)
    if flush is not None:
        flush()


def register() -> None:
    dates.install()
    signals.initialized.connect(_initialized)
    signals.get_writer.connect(get_writer)
    signals.finalized.connect(_finalized)
    signals.page_writer_finalized.connect(_flush)
    signals.generator_init.connect(render_once.install)
    signals.all_generators_finalized.connect(urls.settle)
    signals.finalized.connect(urls.forget)
    signals.readers_init.connect(_readers_init)
    signals.article_generator_pretaxonomy.connect(hold_scheduled)
    signals.article_generator_pretaxonomy.connect(drop_duplicate_urls)
    signals.page_generator_finalized.connect(drop_duplicate_urls)
    signals.article_generator_finalized.connect(fast_membership)
    signals.all_generators_finalized.connect(enrich_all)
    signals.all_generators_finalized.connect(pin_sitemap_clock)
