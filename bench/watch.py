"""Benchmark the fast path: one change, how long until the page shows it.

    .venv/bin/python bench/watch.py                  # N=2000
    .venv/bin/python bench/watch.py --posts 8000
    .venv/bin/python bench/watch.py --posts 8000 --no-search   # no indexer beside

On the corpus of bench/build.py (same generator, same seed), in the same run:

- **plain Pelican** as the issue measured it after one change: a first
  build with its content cache on (``CACHE_CONTENT``, ``LOAD_CONTENT_CACHE``),
  then one post edited, then the rebuild that follows, timed (each its own
  process). That is the plain alternative: Pelican reads the cache and renders
  and writes every page again.
- **Causerie**: ``publish watch`` runs as its own process on a Causerie site
  of the same corpus (with a fresh SQLite mention store). After its first
  build, each change is made as an author or a moderator makes it, and the
  time is taken from the change (the file written, the comment approved in
  the store) until the page that shows it holds it on disk (polled every
  5 ms). The watcher's own line for that build is printed too.

The changes: a correction in a post's body, a comment approved (it arrived
before, pending), a review approved (issue 15: timed until the post shows its
aggregate, *and* the rankings page and the best-rated feed list the post; the
watcher's site has WEBMENTIONS["rankings"] on), a new post (dated after every
other, as a post from a phone is), a post's title changed, one deleted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from build import (  # bench/build.py: a script's own folder is on sys.path
    SITEURL,
    Corpus,
    causerie_settings,
    make_corpus,
    measure,
)

ROOT = Path(__file__).resolve().parent.parent


def plain_rebuild(work: Path, corpus_path: Path, edited: Path) -> tuple[float, float]:
    """Plain Pelican with its content cache: first build, then after an edit."""
    site = work / "plain-cache"
    site.mkdir()
    conf = site / "plainconf.py"
    conf.write_text(
        textwrap.dedent(
            f"""
            PATH = {str(corpus_path)!r}
            OUTPUT_PATH = {str(site / "output")!r}
            CACHE_PATH = {str(site / "cache")!r}
            SITEURL = {SITEURL!r}
            TIMEZONE = "Europe/Paris"
            DEFAULT_LANG = "fr"
            DEFAULT_PAGINATION = 10
            CACHE_CONTENT = True
            LOAD_CONTENT_CACHE = True
            """
        ),
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "pelican", "-s", str(conf), "-q"]
    first = measure(command, site, site / "output")
    original = edited.read_text(encoding="utf-8")
    edited.write_text(original + "\nUne correction.\n", encoding="utf-8")
    try:
        again = measure(command, site, site / "output")
    finally:
        edited.write_text(original, encoding="utf-8")
    return first.seconds, again.seconds


def wait_for(check: Callable[[], bool], timeout: float = 600) -> float:
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise SystemExit("the change never showed")
        time.sleep(0.005)
    return time.perf_counter() - start


def shows(page: Path, text: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return text in page.read_text(encoding="utf-8")
        except OSError:
            return False

    return check


def gone(page: Path) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return "410 Gone" in page.read_text(encoding="utf-8")
        except OSError:
            return False

    return check


def log_lines(log: Path) -> list[str]:
    text = log.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if " rendered " in line]


def page_of(post: Path, output: Path) -> Path:
    """The output page of a corpus post (its Slug and year)."""
    meta = dict(
        line.split(": ", 1)
        for line in post.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
    )
    # French is the default language: its posts live at posts/YEAR/SLUG/.
    return output / "posts" / meta["Date"][:4] / meta["Slug"] / "index.html"


def receive(site: Path, target: str) -> int:
    """A reply arrives and is verified: pending, shown nowhere yet."""
    from causerie.webmentions import model
    from causerie.webmentions.store.mention_store import Store

    store = Store.open(f"sqlite:///{site / 'var' / 'mentions.sqlite3'}")
    try:
        return store.add_verified(
            "urn:uuid:bench-0000-4000-8000-000000000001",
            target,
            model.FORM,
            {
                "kind": "reply",
                "author_name": "Lectrice Rapide",
                "content_html": "<p>Merci !</p>",
                "content_text": "Merci !",
                "published": dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC),
            },
        )
    finally:
        store.engine.dispose()


def receive_review(site: Path, target: str) -> int:
    """A rated review arrives (pending, counted nowhere yet)."""
    from causerie.webmentions import model
    from causerie.webmentions.store.mention_store import Store

    store = Store.open(f"sqlite:///{site / 'var' / 'mentions.sqlite3'}")
    try:
        return store.add_verified(
            "https://critique.example/avis/1",
            target,
            model.WEBMENTION,
            {
                "kind": "review",
                "author_name": "Critique Pressée",
                "author_url": "https://critique.example/",
                "content_text": "Très bien.",
                "rating": 5.0,
                "rating_best": 5.0,
                "rating_worst": 1.0,
                "published": dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC),
            },
        )
    finally:
        store.engine.dispose()


def all_of(*checks: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: all(check() for check in checks)


def approve(site: Path, mention: int) -> None:
    """The moderator approves it (as publish mentions approve does)."""
    from causerie.webmentions import model
    from causerie.webmentions.store.mention_store import Store

    store = Store.open(f"sqlite:///{site / 'var' / 'mentions.sqlite3'}")
    try:
        store.moderate(mention, model.APPROVED)
    finally:
        store.engine.dispose()


def watch_changes(
    work: Path, corpus: Corpus, search: bool = True
) -> list[tuple[str, float, str]]:
    corpus_path = corpus.path
    site = work / "causerie-watch"
    site.mkdir()
    conf = causerie_settings(site, corpus, ROOT / "publish.py")
    with conf.open("a", encoding="utf-8") as settings:
        # The rankings, so that a review's approval has them to update too.
        settings.write(
            'WEBMENTIONS = {**WEBMENTIONS, "rankings": True, "reviews_min_count": 1}\n'
        )
        if not search:
            settings.write('SEARCH = {"enabled": False}\n')
    output = site / "output"
    log = site / "watch.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0"}
    env.pop("CAUSERIE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "publish.py"), "--settings", str(conf), "watch"],
        cwd=site,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    results: list[tuple[str, float, str]] = []
    try:
        start = time.perf_counter()
        wait_for(lambda: len(log_lines(log)) >= 1)
        first = time.perf_counter() - start
        results.append(("first build (empty output)", first, log_lines(log)[-1]))
        posts = sorted((corpus_path / "posts").glob("*-fr.md"))

        def step(
            name: str, change: Callable[[], None], check: Callable[[], bool]
        ) -> None:
            count = len(log_lines(log))
            time.sleep(1.0)  # a quiet watcher, as in life
            began = time.perf_counter()
            change()
            wait_for(check)
            seconds = time.perf_counter() - began
            wait_for(lambda: len(log_lines(log)) > count)
            results.append((name, seconds, log_lines(log)[-1]))

        typo = posts[5]
        step(
            "a correction in a post's body",
            lambda: typo.write_text(
                typo.read_text(encoding="utf-8") + "\nUne correction rapide.\n",
                encoding="utf-8",
            ),
            shows(page_of(typo, output), "Une correction rapide."),
        )
        commented = posts[6]
        url = f"{SITEURL}/{page_of(commented, output).relative_to(output).parent.as_posix()}/"
        # The reply arrives first (pending: nothing to show, the watcher
        # looks and renders nothing); what is timed is the approval.
        count = len(log_lines(log))
        mention = receive(site, url)
        wait_for(lambda: len(log_lines(log)) > count)
        step(
            "a comment approved",
            lambda: approve(site, mention),
            shows(page_of(commented, output), "Lectrice Rapide"),
        )
        reviewed = posts[9]
        page = page_of(reviewed, output)
        url = f"{SITEURL}/{page.relative_to(output).parent.as_posix()}/"
        count = len(log_lines(log))
        review = receive_review(site, url)
        wait_for(lambda: len(log_lines(log)) > count)
        step(
            "a review approved (post, aggregate, rankings)",
            lambda: approve(site, review),
            all_of(
                shows(page, "h-review-aggregate"),
                shows(output / "rankings" / "fr" / "index.html", url),
                shows(output / "feeds" / "rankings" / "best-fr.atom.xml", url),
            ),
        )
        new = corpus_path / "posts" / "99999-fr.md"
        step(
            "a new post",
            lambda: new.write_text(
                "Title: Un billet du téléphone\nDate: 2024-12-31 09:00\n"
                "Author: Claire Dubois\nCategory: Atelier\nTags: tag-01\nLang: fr\n"
                "Slug: un-billet-du-telephone\nSummary: Envoyé depuis mon téléphone.\n\n"
                "Une photo et trois lignes.\n",
                encoding="utf-8",
            ),
            shows(
                output / "posts" / "2024" / "un-billet-du-telephone" / "index.html",
                "trois lignes",
            ),
        )
        retitled = posts[7]
        text = retitled.read_text(encoding="utf-8")
        step(
            "a post's title changed",
            lambda: retitled.write_text(
                text.replace("Title: ", "Title: Nouveau titre : ", 1), encoding="utf-8"
            ),
            shows(page_of(retitled, output), "Nouveau titre : "),
        )
        deleted = posts[8]
        deleted_page = page_of(deleted, output)
        step("a post deleted", deleted.unlink, gone(deleted_page))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="SEARCH['enabled'] = False: no indexer running beside the builds",
    )
    args = parser.parse_args()
    print(
        f"# machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="causerie-bench-watch-") as tmp:
        work = Path(tmp)
        corpus = make_corpus(work / "corpus", args.posts, args.seed)
        edited = sorted((corpus.path / "posts").glob("*-fr.md"))[5]
        plain_first, plain_again = plain_rebuild(work, corpus.path, edited)
        results = watch_changes(work, corpus, search=not args.no_search)
    print(f"\nN={args.posts} posts, search {'off' if args.no_search else 'on'}")
    print(f"plain Pelican, first build with its cache: {plain_first:.2f} s")
    print(f"plain Pelican, rebuild after one edit (cache): {plain_again:.2f} s\n")
    print(
        "| change | publish watch: until the page shows it | / plain rebuild | watcher's line |"
    )
    print("|---|---:|---:|---|")
    for name, seconds, line in results:
        said = line.split(" ", 1)[1]
        print(f"| {name} | {seconds:.2f} s | {seconds / plain_again:.3f} | `{said}` |")
    print("\nGoal (issue 6): ≤ 1 s at 8,000 posts for a new post, an edit, a comment.")
    print("Goal (issue 15): ≤ 1 s at 8,000 posts for an approved review.")


if __name__ == "__main__":
    main()
