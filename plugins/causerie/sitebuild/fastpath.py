"""``publish watch``'s fast path: an edited post without a build.

The most common change to a published site is a post whose text is
corrected. Its title, date, tags, category, authors and language are the
same, so no list changes, no related post moves, no URL changes: only the
pages that *show* the post change (its own page, the list pages and feeds it
is on, the archives, the posts that show it as related when its summary is
cut from its body). The warm build (:mod:`.warm`) still goes through all of
Pelican's stages for every post; this module does not:

1. the file is read again with the reader of the last build;
2. if anything but the body differs from what was read last time (any
   metadata, or a ``{filename}`` link), it gives up: the caller then runs a
   warm build, which handles every change;
3. otherwise the post's object takes the new body *in place* (every list,
   related post and translation of the last build already points to it),
   with its reading time computed again;
4. the pages recorded as showing that object during the last build
   (:class:`~.writer.PagePlan` ``deps``) are fingerprinted again with their
   recorded writer calls, and rendered when their fingerprint changed, into
   a staging directory whose files are then moved into the output;
5. plugins registered in :data:`on_edit` learn of the edit (webmentions
   stores the post's new links for ``publish mentions send``).

The result is what a build would give (tests/test_watch.py compares it with
a clean build).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from causerie.signals import comments_changed, post_added, posts_edited

from .build import BuildReport
from .incremental import staging_dir, sync_tree
from .reading import reading_minutes
from .warm import WarmState, warm_builds
from .writer import CauserieWriter, PagePlan, active_plan

#: Attributes read from a file that an edit may change without a build.
_BODY = frozenset({"_content"})
#: Attributes of a content object that are not read from its file.
_NOT_READ = frozenset({"_context", "settings"})


def try_edit(
    paths: set[str],
    state: WarmState,
    plan: PagePlan | None,
    settings: dict[str, Any],
) -> BuildReport | None:
    """Apply body-only edits of published posts and render what shows them;
    None when the change needs a build (the caller runs one)."""
    start = time.perf_counter()
    if plan is None or not plan.recipes or state.generators is None or not paths:
        return None
    output = Path(settings["OUTPUT_PATH"])
    shown = _published(state.generators)
    edits = []
    for path in paths:
        found = state.by_path(path)
        if len(found) != 1 or found[0].read is None or id(found[0].obj) not in shown:
            return None
        kept = found[0]
        try:
            st = os.stat(path)
        except OSError:
            return None  # deleted: a build says what becomes of it
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == kept.stamp:
            continue
        assert kept.read is not None  # checked above
        reader, args, kwargs = kept.read
        try:
            new = reader(*args, **kwargs)
        except Exception:
            return None  # a build reports the problem with its file
        if not _body_only(kept.pristine, vars(new)):
            return None
        edits.append((kept, new, stamp))
    if not edits:
        return BuildReport(
            output=output,
            fast=True,
            rendered=0,
            kept=0,
            files_changed=0,
            files_removed=0,
            seconds=time.perf_counter() - start,
        )

    cfg_wpm = (settings.get("SITEBUILD") or {}).get("words_per_minute", 230)
    pages: set[str] = set()
    generator_of = {id(p): g for g in state.generators for p in _posts_of(g)}
    edited_by_generator: dict[int, tuple[Any, list[Any]]] = {}
    for kept, new, stamp in edits:
        state.replace(kept, new, stamp)
        obj = kept.obj
        if hasattr(obj, "reading_time"):
            obj.reading_time = reading_minutes(obj.content, cfg_wpm)
        pages |= plan.deps.get(id(obj), set())
        generator = generator_of.get(id(obj))
        if generator is not None:
            edited_by_generator.setdefault(id(generator), (generator, []))[1].append(
                obj
            )

    plan.digester.forget({id(kept.obj) for kept, _new, _stamp in edits})
    plan.current = {}
    with warm_builds(state):
        report = _render(pages, plan, settings, output)
    for generator, posts in edited_by_generator.values():
        posts_edited.send(generator, posts=posts)
    # (The Markdown cache has the new body in memory; it is saved by the
    # next build, not here: a pickle of every post is most of an edit's time.)
    report.seconds = time.perf_counter() - start
    return report


def _body_only(before: dict[str, Any], after: dict[str, Any]) -> bool:
    keys = (before.keys() | after.keys()) - _NOT_READ - _BODY
    return all(before.get(k) == after.get(k) for k in keys)


def _posts_of(generator: Any) -> list[Any]:
    return [
        *getattr(generator, "articles", []),
        *getattr(generator, "translations", []),
        *getattr(generator, "pages", []),
        *getattr(generator, "hidden_articles", []),
        *getattr(generator, "hidden_pages", []),
    ]


def _published(generators: list[Any]) -> set[int]:
    return {id(p) for g in generators for p in _posts_of(g)}


def try_comments(
    targets: set[str],
    state: WarmState,
    plan: PagePlan | None,
    settings: dict[str, Any],
) -> BuildReport | None:
    """Mentions of ``targets`` (post URLs) changed in the store: give those
    posts their new conversation and render what shows them; None when a
    build is needed (a target the last build did not publish, no plugin to
    do it)."""
    start = time.perf_counter()
    if plan is None or not plan.recipes or state.generators is None:
        return None
    output = Path(settings["OUTPUT_PATH"])
    generator = next(
        (
            g
            for g in state.generators
            if hasattr(g, "articles") and hasattr(g, "drafts")
        ),
        None,
    )
    if generator is None:
        return None
    staging = _stage(output)
    plan.current = {}
    try:
        answers = comments_changed.send(
            generator, targets=targets, staging=staging, unchanged=plan.unchanged
        )
    except LookupError:
        shutil.rmtree(staging)
        return None
    posts = [post for _receiver, result in answers for post in (result or [])]
    if not answers:
        shutil.rmtree(staging)
        return None
    plan.digester.forget({id(p) for p in posts})
    pages = set().union(*(plan.deps.get(id(p), set()) for p in posts))
    with warm_builds(state):
        report = _render(pages, plan, settings, output, staging)
    report.seconds = time.perf_counter() - start
    return report


def try_new(
    paths: set[str],
    state: WarmState,
    plan: PagePlan | None,
    settings: dict[str, Any],
) -> BuildReport | None:
    """One new post, newer than every other, in a category, tags and with
    authors the site has: add it to the last build's lists and render what
    shows it. None when a build is needed (anything else)."""
    start = time.perf_counter()
    if len(paths) != 1 or plan is None or not plan.lists or state.generators is None:
        return None
    (path,) = paths
    if state.by_path(path) or state.sitemap is None:
        return None  # not new, or no sitemap to write again
    generator = _articles_generator(state.generators)
    if generator is None:
        return None
    cfg = generator.settings
    relpath = os.path.relpath(path, generator.path)
    if relpath.startswith("..") or not any(
        Path(relpath).parts[:1] == Path(d).parts[:1] for d in cfg["ARTICLE_PATHS"]
    ):
        return None
    if (
        cfg.get("ARTICLE_ORDER_BY") != "reversed-date"
        or not cfg.get("NEWEST_FIRST_ARCHIVES")
        or cfg.get("TRANSLATION_FEED_ATOM")
        or cfg.get("TRANSLATION_FEED_RSS")
    ):
        return None  # orders and feeds this path does not reproduce
    from pelican import signals as pelican_signals
    from pelican.contents import Article

    try:
        post = generator.readers.read_file(
            base_path=generator.path,
            path=relpath,
            content_class=Article,
            context=generator.context,
            preread_signal=pelican_signals.article_generator_preread,
            preread_sender=generator,
            context_signal=pelican_signals.article_generator_context,
            context_sender=generator,
        )
    except Exception:
        return None  # a build reports it with its file
    with warm_builds(state):  # Pelican's URLs, memoized
        if not _simple_new_post(post, generator, settings):
            return None
    output = Path(settings["OUTPUT_PATH"])
    if (output / post.save_as).exists():
        return None  # a tombstone, or someone else's file: a build decides
    staging = _stage(output)
    plan.current = {}
    # From here the last build's lists change: if anything fails, the next
    # change must take a build (state.generators = None).
    try:
        with warm_builds(state):
            pages = _add(post, generator, plan, settings)
            answers = post_added.send(
                generator, post=post, staging=staging, unchanged=plan.unchanged
            )
            if not answers or not all(result for _r, result in answers):
                raise LookupError("a plugin could not take the new post")
            own_page = (
                (
                    post.save_as,
                    generator.get_template(post.template),
                    generator.context,
                ),
                {
                    "article": post,
                    "category": getattr(post, "category", None),
                    "override_output": hasattr(post, "override_save_as"),
                    "url": post.url,
                    "blog": True,
                },
            )
            lists = _lists_of(post, plan)
            # Their pages are cut again below: not from the old cut.
            pages = {name for name in pages if _paginator_of(plan, name) not in lists}
            report = _render(
                pages,
                plan,
                settings,
                output,
                staging,
                lists=lists,
                calls=[own_page],
                dates=generator.dates,
            )
            # Once the post is live: the sitemap of 8,000 pages takes longer
            # to write than the post's pages.
            staging = _stage(output)
            _write_sitemap(post, state, settings, staging)
            moved = sync_tree(staging, output, delete_stale=False).changed
            report.files_changed = (report.files_changed or 0) + moved
    except Exception:
        state.generators = None
        if staging.exists():
            shutil.rmtree(staging)
        raise
    report.seconds = time.perf_counter() - start
    return report


def _articles_generator(generators: list[Any]) -> Any:
    return next(
        (g for g in generators if hasattr(g, "articles") and hasattr(g, "drafts")), None
    )


def _simple_new_post(post: Any, generator: Any, settings: dict[str, Any]) -> bool:
    from .schedule import is_due, parse_instant, system_now
    from .settings import config

    if not getattr(post, "is_valid", lambda: False)() or post.status != "published":
        return False
    cfg = config(settings)
    now = parse_instant(cfg.now) if cfg.now else system_now()
    if not is_due(post.date, now):
        return False
    everyone = [
        *generator.articles,
        *generator.translations,
        *generator.drafts,
        *generator.drafts_translations,
        *getattr(generator, "hidden_articles", []),
        *getattr(generator, "hidden_translations", []),
    ]
    if generator.articles and post.date <= generator.articles[0].date:
        return False  # not the newest: it would move other posts between pages
    key = generator.settings.get("ARTICLE_TRANSLATION_ID", "slug")
    mine = getattr(post, key, None) if key else None
    for other in everyone:
        if other.save_as == post.save_as or (
            mine and getattr(other, key, None) == mine
        ):
            return False  # a translation, or the same address
    categories = {cat for cat, _posts in generator.categories}
    if getattr(post, "category", None) not in categories:
        return False
    if any(tag not in generator.tags for tag in getattr(post, "tags", [])):
        return False
    authors = {author for author, _posts in generator.authors}
    if not all(a in authors for a in getattr(post, "authors", [])):
        return False
    return _year_archive(post, generator) is not False


def _year_archive(post: Any, generator: Any) -> dict[str, Any] | bool | None:
    """The year archive the post joins (None: no year archives; False: one
    this path cannot update — a new year, or month and day archives)."""
    settings = generator.settings
    if settings.get("MONTH_ARCHIVE_SAVE_AS") or settings.get("DAY_ARCHIVE_SAVE_AS"):
        return False
    if not settings.get("YEAR_ARCHIVE_SAVE_AS"):
        return None
    for archive in getattr(generator, "period_archives", {}).get("year", []):
        if archive["period"] == (post.date.year,):
            return archive
    return False


def _add(
    post: Any, generator: Any, plan: PagePlan, settings: dict[str, Any]
) -> set[str]:
    """Put ``post`` first in every list of the last build that it joins, as
    that build would have; the pages to render again (related posts that
    changed, the index pages of categories, tags and authors)."""
    from .enrich import candidate, enrich_post, related_of

    generator.articles.insert(0, post)
    generator.dates.insert(0, post)
    members = [posts for term, posts in generator.categories if term == post.category]
    members += [generator.tags[tag] for tag in getattr(post, "tags", [])]
    members += [posts for author, posts in generator.authors if author in post.authors]
    for posts in members:
        posts.insert(0, post)
        if hasattr(posts, "_ids"):
            posts._ids.add(id(post))
    year = _year_archive(post, generator)
    if isinstance(year, dict):
        # Its year's page lists it first (the same lists the page was
        # written from).
        for key in ("dates", "articles"):
            year[key].insert(0, post)
    generator.add_source_path(post)
    generator.add_static_links(post)
    enrich_post(generator, post)
    # Related posts of the new post's language, ranked again near it.
    lang_posts = [
        p for p in generator.articles + generator.translations if p.lang == post.lang
    ]
    by_id = {id(p): p for p in lang_posts}
    answers = related_of(
        post.lang, [candidate(p) for p in lang_posts], _related_limit(settings)
    )
    pages: set[str] = set()
    for ident, keys in answers.items():
        other = by_id[ident]
        related = [by_id[k] for k in keys]
        if other is post or related != getattr(other, "related_posts", None):
            other.related_posts = related
            plan.digester.forget({id(other)})
            pages |= plan.deps.get(id(other), set())
    # The site's index pages (archives, tags, categories, authors) list
    # every post: their recorded calls see the lists updated in place.
    for name, (kind, call) in plan.recipes.items():
        if kind != "page":
            continue
        kwargs = call[5]
        if "articles_page" not in kwargs and (
            "articles" in kwargs or "dates" in kwargs
        ):
            pages.add(name)
    # Feeds that show it: lists it joined in place, and the site's feed of
    # every post (Pelican gives it a sorted copy: the new post goes first).
    feed_paths = {settings.get("FEED_ALL_ATOM"), settings.get("FEED_ALL_RSS")} - {None}
    for name, (kind, call) in plan.recipes.items():
        if kind != "feed":
            continue
        elements = call[0]
        if name in feed_paths and post not in elements:
            elements.insert(0, post)
        if post in elements:
            pages.add(name)
    return pages


def _paginator_of(plan: PagePlan, name: str) -> str | None:
    """The list a recorded page belongs to (its first page's name)."""
    kind, call = plan.recipes[name]
    if kind != "page":
        return None
    return getattr(call[5].get("articles_paginator"), "name", None)


def _related_limit(settings: dict[str, Any]) -> int:
    from .settings import config

    return config(settings).related_posts


def _lists_of(post: Any, plan: PagePlan) -> list[str]:
    """The paginated lists (index, its category, tags, authors) that show
    ``post``: their first page's name."""
    return [
        name for name, call in plan.lists.items() if post in call[6].get("articles", ())
    ]


def _write_sitemap(
    post: Any, state: WarmState, settings: dict[str, Any], staging: Path
) -> None:
    """The sitemap of the last build plus ``post``, into ``staging``."""
    from types import SimpleNamespace

    from .stable_sitemap import write_sitemap

    assert state.sitemap is not None
    queue, _now = state.sitemap
    # pelican-sitemap names pages by their path under the output it was
    # given: the staging directory, as in the build that made the queue.
    queue = [*queue, (str(staging / post.save_as), post)]
    newest = getattr(post, "modified", None) or post.date
    state.sitemap = (queue, newest)
    write_sitemap(
        SimpleNamespace(output_path=str(staging), settings=settings), queue, newest
    )


def _stage(output: Path) -> Path:
    staging = staging_dir(output)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def _render(
    pages: set[str],
    plan: PagePlan,
    settings: dict[str, Any],
    output: Path,
    staging: Path | None = None,
    lists: Sequence[str] = (),
    calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]] = (),
    dates: list[Any] | None = None,
) -> BuildReport:
    """Fingerprint ``pages`` again from their recorded writer calls, render
    those that changed (and whatever is in ``staging`` already) into the
    output."""
    staging = staging or _stage(output)
    # The digester remembers every object of the last build; the caller
    # made it forget the ones that changed (Digester.forget). What a plugin
    # wrote into staging already has its fingerprint in plan.current.
    plan.kept = set()
    plan.rendered = 0
    # Record what the pages show (a new post's page, lists that now show it).
    track, plan.track = plan.track, True
    writer_settings = {**settings, "OUTPUT_PATH": str(staging)}
    try:
        with active_plan(plan):
            writer = CauserieWriter(str(staging), settings=writer_settings)
            # No content_written: the sitemap plugin would list these pages
            # twice in the next build's sitemap.
            writer.quiet = True
            for name in sorted(pages):
                kind, call = plan.recipes[name]
                if kind == "page":
                    writer._one(*call)
                else:
                    writer.write_feed(*call)
            for name in lists:
                # A list a post joined: cut again (stable pagination keeps
                # its older pages), with its posts' dates as Pelican gives.
                template, context, relative, template_name, override, url, kwargs = (
                    plan.lists[name]
                )
                if (
                    dates is not None
                    and "dates" in kwargs
                    and kwargs["dates"] is not dates
                ):
                    articles = kwargs.get("articles", ())
                    kwargs = {**kwargs, "dates": [a for a in dates if a in articles]}
                writer.write_file(
                    name,
                    template,
                    context,
                    relative,
                    None,
                    template_name,
                    override,
                    url,
                    **kwargs,
                )
            for args, kwargs in calls:
                writer.write_file(*args, **kwargs)
        plan.checkpoint()
        synced = sync_tree(staging, output, delete_stale=False)
    finally:
        plan.track = track
    plan.previous.update(plan.current)
    if plan.produced is not None:
        plan.produced |= synced.produced  # new files: a later build may remove them
    plan.save()
    return BuildReport(
        output=output,
        fast=True,
        rendered=plan.rendered,
        kept=len(plan.kept),
        files_changed=synced.changed,
        files_removed=0,
        files_written=plan.rendered,
    )
