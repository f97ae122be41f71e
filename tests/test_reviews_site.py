"""Reviews on the built site (issue 15): the aggregate on the post and in
the lists, as h-review-aggregate (read back with mf2py) and as schema.org
JSON-LD; one voice per reader; only approved reviews count; a post's own
Rating: as an h-review."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import mf2py
import mf2util
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_publish
from receiver_kit import OTHER_POST, POST, write_settings

from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store

PAGE = "posts/2025/nos-clients-parlent-plus-fort/index.html"
OTHER = "posts/2026/aube-six-mois-apres/index.html"
T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)


def _with_metadata(path: Path, lines: str) -> None:
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    path.write_text(f"{head}\n{lines}\n\n{body}", encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Store]:
    root = tmp_path_factory.mktemp("reviews-built")
    content = root / "content"
    shutil.copytree(ROOT / "content", content)
    posts = content / "posts"
    page = posts / "2025-03-04-nos-clients-parlent-plus-fort.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "Author: Léa Marchetti", "Authors: Léa Marchetti, Karim Haddad", 1
        ),
        encoding="utf-8",
    )
    _with_metadata(page, "Itemtype: Product")
    _with_metadata(
        posts / "2026-09-29-aube-six-mois-apres.md",
        "Rating: 4,5/5\nReviewed: Lampe Halo\nReviewed-Url: https://shop.example/halo",
    )
    settings = write_settings(
        root,
        content,
        {
            "database": f"sqlite:///{root / 'var' / 'mentions.sqlite3'}",
            "notify": False,
            "reviews": ["Conversation"],
            "rankings": True,
        },
    )
    first = run_publish("--settings", str(settings), "build", cwd=root)
    assert first.returncode == 0, first.stderr
    store = Store.open(f"sqlite:///{root / 'var' / 'mentions.sqlite3'}")

    def review(
        source: str, rating: float | None, author: str, when: int, **kw: Any
    ) -> int:
        return store.add_verified(
            source,
            POST,
            kw.pop("origin", model.WEBMENTION),
            {
                "kind": "review",
                "author_name": author,
                "author_url": kw.pop(
                    "author_url", f"https://{author.lower()}.example/"
                ),
                "content_text": f"Avis de {author} <script>x</script>",
                "content_html": f"<p>Avis de {author}</p>",
                "rating": rating,
                "rating_best": 5.0 if rating is not None else None,
                "rating_worst": 1.0 if rating is not None else None,
                "published": T0 + dt.timedelta(days=when),
                "moderation": kw.pop("moderation", model.APPROVED),
                **kw,
            },
        )

    review("https://alice.example/a", 5.0, "Alice", 1)
    review("https://bob.example/old", 1.0, "Bob", 2)  # replaced by Bob's next
    review("https://bob.example/new", 4.0, "Bob", 3)
    review("urn:uuid:form-1", 4.0, "Chloé", 4, origin=model.FORM, author_url=None)
    review("https://eve.example/x", 1.0, "Eve", 5, moderation=model.REJECTED)
    review("https://zoe.example/x", None, "Zoé", 6, rating_note="not a number")
    store.add_verified(
        "https://yves.example/re",
        POST,
        model.WEBMENTION,
        {
            "kind": "reply",
            "author_name": "Yves",
            "content_text": "Merci !",
            "published": T0 + dt.timedelta(days=7),
            "moderation": model.APPROVED,
        },
    )
    second = run_publish("--settings", str(settings), "build", cwd=root)
    assert second.returncode == 0, second.stderr
    return root / "output", store


def _soup(output: Path, page: str) -> Any:
    """The page as BeautifulSoup (typed Any, as in test_admin.py)."""
    return BeautifulSoup((output / page).read_text(encoding="utf-8"), "html.parser")


def test_the_post_shows_the_aggregate_in_words_and_stars(
    built: tuple[Path, Store],
) -> None:
    soup = _soup(built[0], PAGE)
    line = soup.select_one(".rating-summary .rating-line")
    assert line is not None
    words = " ".join(line.get_text(" ").split())
    # Alice 5, Bob 4 (his 1 replaced), Chloé 4; Eve rejected, Zoé no rating.
    assert "4,3 sur 5 (3 avis)" in words.replace(" (", " (")
    assert line.select_one(".stars")["aria-hidden"] == "true"
    assert line.select_one(".stars").get_text() == "★★★★☆"
    shown = [
        li.get_text(" ", strip=True) for li in soup.select(".rating-distribution li")
    ]
    assert shown[0].startswith("5 étoiles : 1") and shown[1].startswith("4 étoiles : 2")
    comments = soup.select(".comment-review")
    authors = [c.select_one(".p-author .p-name").get_text() for c in comments]
    assert authors == ["Alice", "Bob", "Chloé", "Zoé"]  # one voice each
    assert [c.select_one(".comment-rating") is not None for c in comments] == [
        True,
        True,
        True,
        False,
    ]


def test_mf2py_reads_the_h_review_aggregate(built: tuple[Path, Store]) -> None:
    html = (built[0] / PAGE).read_text(encoding="utf-8")
    parsed = mf2py.parse(doc=html, url=POST)
    (aggregate,) = mf2util.find_all_entries(parsed, ["h-review-aggregate"])
    props = aggregate["properties"]
    assert props["average"] == ["4.3"] and props["count"] == ["3"]
    assert props["best"] == ["5"] and props["worst"] == ["1"]
    item = props["item"][0]
    assert item["properties"]["url"] == [POST]
    # Each review under the post is a p-comment h-cite with its p-rating.
    (entry,) = [i for i in parsed["items"] if "h-entry" in i["type"]]
    ratings = [c["properties"].get("rating") for c in entry["properties"]["comment"]]
    assert [r[0] for r in ratings if r] == ["5", "4", "4"]


def test_the_json_ld_is_a_product_with_its_aggregate_and_reviews(
    built: tuple[Path, Store],
) -> None:
    soup = _soup(built[0], PAGE)
    (script,) = soup.select('script[type="application/ld+json"]')
    raw = script.string or ""
    assert "<" not in raw  # a reader's text cannot close the element
    data = json.loads(raw)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] and data["url"] == POST
    rating = data["aggregateRating"]
    # schema.org AggregateRating: ratingValue and a count are required.
    assert rating["@type"] == "AggregateRating"
    assert rating["ratingValue"] == 4.3 and rating["ratingCount"] == 3
    assert (rating["bestRating"], rating["worstRating"]) == (5, 1)
    reviews = data["review"]
    assert [r["author"]["name"] for r in reviews] == ["Alice", "Bob", "Chloé"]
    for review in reviews:
        assert review["@type"] == "Review"
        assert review["reviewRating"]["@type"] == "Rating"
        assert 1 <= review["reviewRating"]["ratingValue"] <= 5
        assert review["datePublished"].startswith("2026-11-")


def test_lists_show_the_rating_next_to_the_title(built: tuple[Path, Store]) -> None:
    soup = _soup(built[0], "categories/conversation/index.html")
    for entry in soup.select("article.entry"):
        link = entry.select_one(".entry-title a")
        if link and link["href"] == POST:
            rating = entry.select_one(".entry-rating")
            assert rating is not None
            assert " ".join(rating.get_text(" ").split()).endswith("4,3 sur 5 (3 avis)")
            return
    raise AssertionError("the post is not in its category's list")


def test_a_post_with_its_own_rating_is_an_h_review(built: tuple[Path, Store]) -> None:
    html = (built[0] / OTHER).read_text(encoding="utf-8")
    parsed = mf2py.parse(doc=html, url=OTHER_POST)
    (post,) = [i for i in parsed["items"] if "h-entry" in i["type"]]
    assert "h-review" in post["type"]
    props = post["properties"]
    assert props["rating"] == ["4.5"] and props["best"] == ["5"]
    item = props["item"][0]["properties"]
    assert item["name"] == ["Lampe Halo"] and item["url"] == [
        "https://shop.example/halo"
    ]
    soup: Any = BeautifulSoup(html, "html.parser")
    shown = soup.select_one(".own-review").get_text(" ")
    assert "Notre note : 4,5 sur 5" in " ".join(shown.split())


# --- threaded feeds (RFC 4685) and co-authors -------------------------------------

THR = "http://purl.org/syndication/thread/1.0"
ATOM = "http://www.w3.org/2005/Atom"


def rfc4685_problems(path: Path) -> list[str]:
    """What breaks RFC 4685 in the Atom feed at ``path``: §3 thr:in-reply-to
    must have a ref (an IRI), href and source are IRIs; §4 a replies link
    has an href, thr:count a non-negative integer, thr:updated a date-time
    (RFC 3339)."""
    from lxml import etree

    problems = []
    root = etree.parse(str(path)).getroot()
    for element in root.iter(f"{{{THR}}}in-reply-to"):
        ref = element.get("ref") or ""
        if ":" not in ref:
            problems.append(f"{path.name}: in-reply-to without an IRI ref")
        for name in ("href", "source"):
            value = element.get(name)
            if value is not None and not value.startswith(("http://", "https://")):
                problems.append(f"{path.name}: in-reply-to {name}={value!r}")
    for link in root.iter(f"{{{ATOM}}}link"):
        if link.get("rel") != "replies":
            continue
        if not link.get("href"):
            problems.append(f"{path.name}: replies link without href")
        count = link.get(f"{{{THR}}}count")
        if count is not None and not count.isdigit():
            problems.append(f"{path.name}: thr:count={count!r}")
        updated = link.get(f"{{{THR}}}updated")
        if updated is not None:
            try:
                dt.datetime.fromisoformat(updated)
            except ValueError:
                problems.append(f"{path.name}: thr:updated={updated!r}")
    return problems


def test_every_feed_passes_the_rfc_4685_check(built: tuple[Path, Store]) -> None:
    feeds = sorted(built[0].glob("feeds/**/*.atom.xml"))
    assert len(feeds) > 10
    problems = [p for feed in feeds for p in rfc4685_problems(feed)]
    assert not problems, problems


def test_conversation_entries_say_what_they_answer(built: tuple[Path, Store]) -> None:
    import feedparser

    output = built[0]
    site = feedparser.parse(str(output / "feeds/all.atom.xml"))
    (post,) = [e for e in site.entries if e.link == POST]
    for path in (
        "feeds/comments/nos-clients-parlent-plus-fort.atom.xml",
        "feeds/comments.atom.xml",
    ):
        feed = feedparser.parse(str(output / path))
        ours = [
            e for e in feed.entries if "nos-clients" in e["thr_in-reply-to"]["href"]
        ]
        assert ours, path
        for entry in ours:
            # The ref is the post's own entry id in the site's feed.
            assert entry["thr_in-reply-to"]["ref"] == post.id
            assert entry["thr_in-reply-to"]["href"] == POST
        every = [e for e in feed.entries if "thr_in-reply-to" not in e]
        assert not every, f"{path}: entries without thr:in-reply-to"
    titles = [
        e.title
        for e in feedparser.parse(
            str(output / "feeds/comments/nos-clients-parlent-plus-fort.atom.xml")
        ).entries
    ]
    assert any(
        t.startswith("Alice a noté") and t.endswith("5\u00a0sur\u00a05") for t in titles
    )
    assert any(t.startswith("Yves a répondu") for t in titles)


def test_site_and_list_entries_link_their_replies_with_a_count(
    built: tuple[Path, Store],
) -> None:
    import feedparser

    for path in ("feeds/all.atom.xml", "feeds/categories/conversation.atom.xml"):
        feed = feedparser.parse(str(built[0] / path))
        (post,) = [e for e in feed.entries if e.link == POST]
        (replies,) = [link for link in post.links if link.rel == "replies"]
        assert replies.href.endswith(
            "/feeds/comments/nos-clients-parlent-plus-fort.atom.xml"
        )
        # Alice, Bob, Chloé and Zoé's reviews and Yves's reply (Bob's first
        # review replaced, Eve's rejected).
        assert replies["thr:count"] == "5"
        assert replies.type == "application/atom+xml"
        others = [e for e in feed.entries if e.link != POST]
        assert all(any(link.rel == "replies" for link in e.links) for e in others), path


def test_every_author_is_in_the_feeds(built: tuple[Path, Store]) -> None:
    import feedparser

    atom = feedparser.parse(str(built[0] / "feeds/all.atom.xml"))
    (post,) = [e for e in atom.entries if e.link == POST]
    assert [a["name"] for a in post.authors] == ["Léa Marchetti", "Karim Haddad"]
    from lxml import etree

    rss = etree.parse(str(built[0] / "feeds/all.rss.xml"))
    (item,) = [i for i in rss.iter("item") if i.findtext("link") == POST]
    creators = [c.text for c in item.iter("{http://purl.org/dc/elements/1.1/}creator")]
    assert creators == ["Léa Marchetti", "Karim Haddad"]


# --- rankings --------------------------------------------------------------------


def test_the_rankings_page_in_each_language_is_linked_from_the_navigation(
    built: tuple[Path, Store],
) -> None:
    output = built[0]
    soup = _soup(output, "rankings/fr/index.html")
    assert soup.select_one("h1").get_text() == "Classements"
    sections = {s["aria-labelledby"]: s for s in soup.select("section.ranking")}
    recent = [a["href"] for a in sections["ranking-recent"].select("ol a")]
    assert recent[0] == POST  # five responses in the last 30 days
    best = sections["ranking-best"].select("ol li")
    assert [li.a["href"] for li in best] == [POST]
    assert "4,3 sur 5 (3 avis)" in " ".join(best[0].get_text(" ").split())
    # English posts have their own page; the nav links the page's language.
    assert (output / "rankings/en/index.html").exists()
    post_nav = _soup(output, PAGE).select_one(".site-nav a[href$='rankings/fr/']")
    assert post_nav is not None and post_nav.get_text() == "Classements"
    here = soup.select_one(".site-nav a[aria-current=page]")
    assert here is not None and here["href"].endswith("rankings/fr/")


def test_the_rankings_feeds_are_atom(built: tuple[Path, Store]) -> None:
    import feedparser

    output = built[0]
    for which in ("recent", "all-time", "best"):
        feed = feedparser.parse(str(output / f"feeds/rankings/{which}-fr.atom.xml"))
        assert not feed.bozo, feed.bozo_exception
        assert feed.entries and feed.entries[0].link == POST
    best = feedparser.parse(str(output / "feeds/rankings/best-fr.atom.xml"))
    assert best.entries[0].title.endswith("(4,3 sur 5, 3 avis)")


@pytest.mark.browser
def test_the_reviewed_pages_are_valid_html(built: tuple[Path, Store]) -> None:
    """The Nu HTML Checker on the pages with reviews: the aggregate, the
    JSON-LD, the reviews, the post's own h-review, the rankings, the form."""
    import shutil
    import subprocess

    from browser_kit import INSTALL_TOOLS, VNU_JAR

    java = shutil.which("java")
    if java is None or not VNU_JAR.exists():
        pytest.skip(f"java and vnu.jar are needed: {INSTALL_TOOLS}")
    output = built[0]
    files = [
        str(output / p)
        for p in (PAGE, OTHER, "rankings/fr/index.html", "rankings/en/index.html")
    ] + [str(output / "categories/conversation/index.html")]
    proc = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    messages = json.loads(proc.stderr or proc.stdout or '{"messages": []}')["messages"]
    errors = [
        f"{m.get('url', '?').rsplit('/output/', 1)[-1]}:{m.get('lastLine')}: {m.get('message')}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    assert not errors, errors
