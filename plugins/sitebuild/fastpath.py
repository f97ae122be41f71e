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
from pathlib import Path
from typing import Any

from blinker import signal

from .build import BuildReport
from .incremental import staging_dir, sync_tree
from .reading import reading_minutes
from .warm import WarmState, warm_builds
from .writer import CauserieWriter, PagePlan, active_plan

#: Sent as posts_edited.send(generator, posts=[...]) after posts of
#: ``generator`` took a new body in place, without a build: a plugin that
#: records something of each post at build time records it again (a named
#: blinker signal, so that plugins need not import this one).
posts_edited = signal("causerie.posts_edited")
#: Sent as comments_changed.send(generator, targets=..., staging=...,
#: unchanged=...) when mentions of ``targets`` changed in the store: a
#: receiver updates those posts' conversations, writes what it writes itself
#: (feeds) into ``staging`` (asking ``unchanged(relpath, *inputs)`` first, as
#: in a build) and returns the posts it changed; LookupError: rebuild.
comments_changed = signal("causerie.comments_changed")

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
        reader, args, kwargs = kept.read  # type: ignore[misc]
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
    track, plan.track = plan.track, False  # same pages, same dependencies
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
        synced = sync_tree(staging, output, delete_stale=False)
    finally:
        plan.track = track
    plan.previous.update(plan.current)
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
