"""The rankings' pages and feeds (adapter): ``rankings/<lang>/`` (HTML, the
theme's ``rankings.html``) and ``feeds/rankings/<which>-<lang>.atom.xml``
(Atom) for each language of the site, written by each build and again by
``publish watch``'s fast path when an approval changes what they show.

On with WEBMENTIONS["rankings"]; the navigation then links the page in the
language of the page it is on (``RANKINGS_URLS``).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from feedgen.feed import FeedGenerator
from markupsafe import Markup

from causerie.catalogs import N_, tr
from causerie.webmentions.reviews.rankings import Candidate, Ranked, Rankings, rank
from causerie.webmentions.settings import config

log = logging.getLogger(__name__)

PAGE = "rankings/{lang}/index.html"
URL = "rankings/{lang}/"
FEED = "feeds/rankings/{which}-{lang}.atom.xml"
WHICH = ("recent", "all-time", "best")
TITLES = {
    "recent": N_("Most discussed in the last {days} days"),
    "all-time": N_("Most discussed of all time"),
    "best": N_("Best rated"),
    "said": N_("{n} response(s)"),
    "rated": N_("{average} out of 5, {n} review(s)"),
}


def languages(settings: dict[str, Any]) -> list[str]:
    """The site's default language, then those of the theme's catalogs."""
    default = str(settings.get("DEFAULT_LANG", "en"))
    found = [default]
    catalogs = Path(str(settings.get("THEME", ""))) / "translations"
    if catalogs.is_dir():
        found += sorted(
            p.name for p in catalogs.iterdir() if (p / "LC_MESSAGES").is_dir()
        )
    return list(dict.fromkeys(found))


def enabled(settings: dict[str, Any]) -> bool:
    return bool(config(settings).rankings)


def urls(settings: dict[str, Any]) -> dict[str, str]:
    return {lang: URL.format(lang=lang) for lang in languages(settings)}


def _now(settings: dict[str, Any]) -> dt.datetime:
    """The build's "now" (SITEBUILD["now"], fixed in tests and previews),
    else the clock: the 30 days end there."""
    fixed = (settings.get("SITEBUILD") or {}).get("now")
    if fixed:
        value = dt.datetime.fromisoformat(str(fixed))
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def _candidates(posts: Any, site_url: str) -> list[Candidate]:
    return [
        Candidate(
            url=f"{site_url}/{p.url}",
            title=str(Markup(p.title).striptags()),
            lang=p.lang,
            published=p.date if p.date.tzinfo else p.date.replace(tzinfo=dt.UTC),
            comments=tuple(getattr(p, "comments", ()) or ()),
            totals=getattr(p, "rating_totals", None),
        )
        for p in posts
    ]


def write(generator: Any, posts: Any, output: Path, site_url: str) -> list[Path]:
    """Write every language's rankings page and feeds into ``output``."""
    settings = generator.settings
    cfg = config(settings)
    ranks = rank(_candidates(posts, site_url), _now(settings), cfg.reviews_min_count)
    template = generator.get_template("rankings")
    written = []
    for lang in languages(settings):
        ranking = ranks.get(lang) or Rankings(
            lang, (), (), (), cfg.reviews_min_count, 30, None
        )
        path = output / PAGE.format(lang=lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        context = {
            **generator.context,
            "rankings": ranking,
            # theme_i18n takes the page's language from page.lang.
            "page": SimpleNamespace(lang=lang, slug="rankings"),
            "output_file": PAGE.format(lang=lang),
            "rankings_feeds": {w: FEED.format(which=w, lang=lang) for w in WHICH},
        }
        path.write_text(template.render(context), encoding="utf-8")
        written.append(path)
        for which, items in zip(
            WHICH, (ranking.recent, ranking.all_time, ranking.best), strict=True
        ):
            feed_path = output / FEED.format(which=which, lang=lang)
            feed_path.parent.mkdir(parents=True, exist_ok=True)
            feed_path.write_bytes(
                _feed(site_url, lang, which, ranking, items, settings)
            )
            written.append(feed_path)
    return written


def _feed(
    site_url: str,
    lang: str,
    which: str,
    ranking: Rankings,
    items: tuple[Ranked, ...],
    settings: dict[str, Any],
) -> bytes:
    texts = {key: tr(lang, text) for key, text in TITLES.items()}
    page = f"{site_url}/{URL.format(lang=lang)}"
    self_url = f"{site_url}/{FEED.format(which=which, lang=lang)}"
    fg = FeedGenerator()
    fg.id(self_url)
    site = str(Markup(settings.get("SITENAME", site_url)).striptags())
    fg.title(f"{site} — " + texts[which].format(days=ranking.window_days))
    fg.language(lang)
    fg.author({"name": site})
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=page, rel="alternate", type="text/html")
    # The feed changes when the ranking does, never with the clock: its
    # date is the newest post's in it (or the epoch for an empty ranking).
    fg.updated(
        max(
            (i.published for i in items), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        )
    )
    for place, item in enumerate(items, 1):
        entry = fg.add_entry(order="append")
        entry.id(f"{item.url}#ranking-{which}")
        note = (
            texts["rated"].format(average=item.shown, n=item.count)
            if which == "best"
            else texts["said"].format(n=item.count)
        )
        entry.title(f"{place}. {item.title} ({note})")
        entry.link(href=item.url, rel="alternate")
        entry.updated(item.published)
    return bytes(fg.atom_str(pretty=True))
