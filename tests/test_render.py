"""Approved mentions under the posts: real builds from a real store.

The store is seeded the way the receiver fills it (enqueue → claim →
verified, or add_verified for the form), on SQLite and PostgreSQL; the demo
site is built with the webmentions plugin and read back with the parsers
IndieWeb tools and feed readers use (html5lib, mf2py, feedparser).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import mf2py
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from conftest import (
    ROOT,
    SITEURL,
    build,
    drop_postgres_schema,
    missing,
    post_pages,
    postgres_schema_url,
)

from causerie.sitebuild.build import BuildReport, load_settings
from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store
from causerie.webmentions.store.schema import targets

SERVICE = "https://mentions.blog.test"
ENDPOINT = f"{SERVICE}/webmention"
FR = f"{SITEURL}/posts/2025/pourquoi-un-blog/"
EN = f"{SITEURL}/posts/2025/pourquoi-un-blog/en/"
QUIET = f"{SITEURL}/posts/2026/aube-six-mois-apres/"
DRAFT = f"{SITEURL}/posts/2026/abat-jour-en-lin/"
SCHEDULED = f"{SITEURL}/posts/2027/portes-ouvertes-atelier/"
AVATAR = "0123456789abcdef0123456789abcdef.png"
T0 = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
#: People whose mentions must never be shown (not approved, gone, not ours).
HIDDEN = [
    "Pending Paul",
    "Rejected Rita",
    "Deleted Dora",
    "Queued Quentin",
    "Draft Dan",
    "Scheduled Sid",
    "Nobody Ned",
]
REMOTE_PHOTOS = ["alice.example/photo-alice.jpg", "bob.example/bob.png"]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def plugins() -> list[str]:
    base = list(load_settings(ROOT / "pelicanconf.py")["PLUGINS"])
    return base if "causerie.webmentions" in base else [*base, "causerie.webmentions"]


def build_with_mentions(
    output: Path, site_dir: Path, database: str | None, **overrides: Any
) -> BuildReport:
    """The demo site with the webmentions plugin, its var/ under ``site_dir``."""
    section: dict[str, Any] = {"service_url": SERVICE}
    if database:
        section["database"] = database
    return build(
        output,
        PLUGINS=plugins(),
        WEBMENTIONS=section,
        CAUSERIE_SITE_DIR=str(site_dir),
        **overrides,
    )


def seed(store: Store, clock: Clock, site_url: str = SITEURL) -> dict[str, int]:
    """Mentions of every kind and state; returns some of their ids by name."""
    fr = f"{site_url}/posts/2025/pourquoi-un-blog/"
    en = f"{site_url}/posts/2025/pourquoi-un-blog/en/"
    ids: dict[str, int] = {}

    def webmention(name: str, target: str, moderation: str | None, **data: Any) -> int:
        clock.now += dt.timedelta(hours=1)
        slug = name.lower().replace(" ", "-")
        source = f"https://{slug}.example/{data.get('kind', 'reply')}"
        mention_id = store.enqueue(source, target, "203.0.113.7")
        if moderation is not None:
            (claimed,) = store.claim(dt.timedelta(minutes=5))
            assert claimed.id == mention_id
            fields = {"author_name": name, "url": source, **data}
            store.verified(mention_id, fields, moderation)
        ids[name] = mention_id
        return mention_id

    day = dt.timedelta(days=1)
    webmention(
        "Alice Martin",
        fr,
        model.APPROVED,
        kind="reply",
        published=T0 + day,
        author_url="https://alice.example/",
        author_photo="https://alice.example/photo-alice.jpg",
        avatar=AVATAR,
        content_html="<p>Bravo pour ce <strong>blog</strong> !</p>",
    )
    webmention(
        "Bob Leroy",
        fr,
        model.APPROVED,
        kind="reply",
        published=T0 + 2 * day,
        author_photo="https://bob.example/bob.png",
        avatar="fedcba9876543210fedcba9876543210.png",  # not in the cache
        content_html="<p>Et le formulaire, il marche sans JavaScript ?</p>",
    )
    ids["Claude Martin"] = store.add_verified(
        "urn:uuid:7d1e2c51-0000-4000-8000-000000000001",
        fr,
        model.FORM,
        {
            "kind": "reply",
            "author_name": "Claude Martin",
            "content_html": "<p>Merci, je m’abonne.</p>",
            "content_text": "Merci, je m’abonne.",
            "published": T0 + 3 * day,
            "moderation": model.APPROVED,
        },
    )
    webmention(
        "Journal du design",
        fr,
        model.APPROVED,
        kind="mention",
        published=T0 + 4 * day,
        title="Revue de presse de janvier",
        content_html="<p>Long article…</p>",
    )
    for name in ("Carla", "Dan", "Eve"):
        webmention(
            name,
            fr,
            model.APPROVED,
            kind="like",
            author_url=f"https://{name.lower()}.example/",
        )
    webmention("Frank", fr, model.PENDING, kind="like")
    webmention("Gina", fr, model.APPROVED, kind="repost")
    # A tampered avatar name must not reach outside the avatar cache.
    webmention("Mallory", fr, model.APPROVED, kind="repost", avatar="../secret.png")
    webmention("Ivan", fr, model.APPROVED, kind="bookmark")
    webmention("Pending Paul", fr, model.PENDING, kind="reply", content_html="<p>?</p>")
    webmention(
        "Rejected Rita", fr, model.REJECTED, kind="reply", content_html="<p>x</p>"
    )
    deleted = webmention("Deleted Dora", fr, model.APPROVED, kind="reply")
    store.failed(deleted, "410 Gone", deleted=True)
    webmention(
        "Erin English",
        en,
        model.APPROVED,
        kind="reply",
        published=T0 + 5 * day,
        content_html="<p>Nice!</p>",
    )
    webmention(
        "Rosa", en, model.APPROVED, kind="rsvp", rsvp="yes", published=T0 + 6 * day
    )
    webmention("Liam", en, model.APPROVED, kind="like")
    webmention("Draft Dan", f"{site_url}/posts/2026/abat-jour-en-lin/", model.APPROVED)
    webmention(
        "Scheduled Sid",
        f"{site_url}/posts/2027/portes-ouvertes-atelier/",
        model.APPROVED,
    )
    webmention("Nobody Ned", f"{site_url}/posts/2025/no-such-post/", model.APPROVED)
    webmention("Queued Quentin", fr, None)  # last: never claimed
    return ids


def write_avatars(site_dir: Path) -> bytes:
    """A cached avatar as the worker leaves it (a square PNG), and a file
    beside the cache that a tampered avatar name would reach."""
    import io

    from PIL import Image

    avatars = site_dir / "var" / "avatars"
    avatars.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    Image.new("RGB", (96, 96), (201, 118, 28)).save(out, format="PNG")
    png = out.getvalue()
    (avatars / AVATAR).write_bytes(png)
    (site_dir / "var" / "secret.png").write_bytes(b"not for the public")
    return png


@dataclass
class Seeded:
    output: Path
    report: BuildReport
    store: Store
    ids: dict[str, int]
    avatar: bytes


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """The demo site built from a seeded store, once per backend."""
    site_dir = tmp_path_factory.mktemp(f"site-{request.param}")
    schema = f"causerie_render_{os.getpid()}"
    if request.param == "sqlite":
        url: str | None = f"sqlite:///{site_dir / 'mentions.sqlite3'}"
    else:
        url = postgres_schema_url(schema)
        if url is None:
            missing("PostgreSQL", "start it, or set CAUSERIE_TEST_POSTGRES")
    assert url
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("CAUSERIE_DATABASE_URL", raising=False)
            clock = Clock()
            store = Store.open(url, clock)
            ids = seed(store, clock)
            avatar = write_avatars(site_dir)
            output = site_dir / "output"
            report = build_with_mentions(output, site_dir, url)
        yield Seeded(output, report, store, ids, avatar)
        store.engine.dispose()
    finally:
        if request.param == "postgresql":
            drop_postgres_schema(schema)


def page(output: Path, url: str) -> Path:
    return output / url.removeprefix(SITEURL + "/") / "index.html"


def parse_html(text: str) -> Any:
    """A document as a browser parses it (html5lib); Any: bs4's own types
    make every lookup Optional, which a test's assertions already cover."""
    return BeautifulSoup(text, "html5lib")


def soup(path: Path) -> Any:
    return parse_html(path.read_text(encoding="utf-8"))


def comment_names(doc: Any) -> list[str]:
    return [
        li.select_one(".comment-author .p-name").get_text(strip=True)
        for li in doc.select("#comments .comment-list > li")
    ]


def every_output_text(output: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in output.rglob("*")
        if p.suffix in (".html", ".xml")
    )


# --- the pages ----------------------------------------------------------------


def test_build_is_clean(seeded: Seeded) -> None:
    assert seeded.report.problems == []
    assert (seeded.report.posts, seeded.report.translations) == (11, 2)


def test_approved_mentions_appear_under_their_post_only(seeded: Seeded) -> None:
    fr = soup(page(seeded.output, FR))
    assert comment_names(fr) == [
        "Alice Martin",
        "Bob Leroy",
        "Claude Martin",
        "Journal du design",
    ]
    assert fr.select_one("#comments-title .count").get_text() == "(4)"
    assert not fr.select(".comments-empty")
    mention = fr.select("#comments .mention-link a")
    assert [a.get_text() for a in mention] == ["Revue de presse de janvier"]
    assert mention[0]["href"] == "https://journal-du-design.example/mention"
    alice = fr.select_one(".comment-list > li")
    assert "h-cite" in alice["class"] and "p-comment" in alice["class"]
    assert alice.select_one(".comment-content strong").get_text() == "blog"
    assert alice.select_one("a.p-name")["href"] == "https://alice.example/"
    assert alice.select_one("a.p-name")["rel"] == ["nofollow", "ugc"]
    # The form comment has no page of its own: no link to an original.
    claude = fr.select(".comment-list > li")[2]
    assert claude["id"] == f"comment-{seeded.ids['Claude Martin']}"
    assert not claude.select("a.u-url")

    en = soup(page(seeded.output, EN))
    assert comment_names(en) == ["Erin English", "Rosa"]
    assert "will attend" in en.select(".comment-list > li")[1].get_text()

    quiet = soup(page(seeded.output, QUIET))
    assert quiet.select_one(".comments-empty").get_text() == "Aucun commentaire"
    assert not quiet.select(".comment-list, .facepile")

    text = every_output_text(seeded.output)
    for name in HIDDEN:
        assert name not in text, f"{name} is shown"
    for name in ("Alice Martin", "Erin English", "Carla"):
        assert (
            sum(
                1
                for p in seeded.output.glob("posts/**/index.html")
                if name in p.read_text(encoding="utf-8")
            )
            == 1
        )


def test_facepiles_count_likes_reposts_and_bookmarks(seeded: Seeded) -> None:
    fr = soup(page(seeded.output, FR))
    titles = [h.get_text() for h in fr.select(".facepile-title")]
    assert titles == ["3 J’aime", "2 partages", "1 mise en favori"]
    likes = fr.select(".facepile-like li")
    assert [li.select_one(".p-name").get_text() for li in likes] == [
        "Carla",
        "Dan",
        "Eve",
    ]
    assert likes[0].select_one("a.h-card")["href"] == "https://carla.example/"
    en = soup(page(seeded.output, EN))
    assert [h.get_text() for h in en.select(".facepile-title")] == ["1 like"]


def test_avatars_are_copied_and_served_from_the_site(seeded: Seeded) -> None:
    copied = seeded.output / "mentions" / "avatars"
    assert sorted(p.name for p in copied.iterdir()) == [AVATAR]
    assert (copied / AVATAR).read_bytes() == seeded.avatar
    fr = soup(page(seeded.output, FR))
    photos = [img["src"] for img in fr.select("#comments img")]
    assert photos == [f"{SITEURL}/mentions/avatars/{AVATAR}"]
    bob = fr.select(".comment-list > li")[1]
    assert not bob.select("img"), "a missing avatar file is shown as no photo"
    text = every_output_text(seeded.output)
    for remote in REMOTE_PHOTOS:
        assert remote not in text, f"the remote photo {remote} leaks to readers"
    assert "secret.png" not in text


def test_microformats_read_the_comments_as_h_cite(seeded: Seeded) -> None:
    path = page(seeded.output, FR)
    doc = mf2py.parse(doc=path.read_text(encoding="utf-8"), url=FR)
    entry = doc["items"][0]
    assert entry["type"] == ["h-entry"] and not entry.get("children")
    assert entry["properties"]["url"][0] == FR
    comments = entry["properties"]["comment"]
    assert all(c["type"] == ["h-cite"] for c in comments)
    names = [c["properties"]["author"][0]["properties"]["name"][0] for c in comments]
    assert names == ["Alice Martin", "Bob Leroy", "Claude Martin", "Journal du design"]
    alice = comments[0]["properties"]
    assert alice["url"] == ["https://alice-martin.example/reply"]
    assert alice["author"][0]["properties"]["photo"][0]["value"].startswith(
        f"{SITEURL}/mentions/avatars/"
    )
    assert "blog" in alice["content"][0]["html"]
    assert alice["published"][0].startswith("2026-01-11")
    for prop, count in (("like", 3), ("repost", 2), ("bookmark", 1)):
        assert len(entry["properties"][prop]) == count
        assert all(c["type"] == ["h-cite"] for c in entry["properties"][prop])
    assert entry["properties"]["like"][0]["properties"]["author"][0]["properties"][
        "url"
    ] == ["https://carla.example/"]


def test_conversation_feeds(seeded: Seeded) -> None:
    site = feedparser.parse((seeded.output / "feeds/comments.atom.xml").read_bytes())
    assert site.bozo == 0, site.get("bozo_exception")
    # Replies, mentions and RSVPs, newest first; likes and reposts are not in it.
    assert [e.author for e in site.entries] == [
        "Rosa",
        "Erin English",
        "Journal du design",
        "Claude Martin",
        "Bob Leroy",
        "Alice Martin",
    ]
    alice = site.entries[-1]
    assert (
        alice.title
        == "Alice Martin a répondu à «\u00a0Pourquoi Maison Lumen ouvre un blog\u00a0»"
    )
    assert alice.link == "https://alice-martin.example/reply"
    assert alice.id.startswith("tag:blog.test,2026-01-10:mention:")
    assert alice.author_detail.href == "https://alice.example/"
    assert "<strong>blog</strong>" in alice.content[0].value
    assert alice.published.startswith("2026-01-11")
    claude = site.entries[3]
    assert claude.link == f"{FR}#comment-{seeded.ids['Claude Martin']}"
    assert (
        site.entries[1].title
        == "Erin English replied to “Why Maison Lumen is starting a blog”"
    )
    assert len({e.id for e in site.entries}) == 6

    fr = soup(page(seeded.output, FR))
    feed_link = fr.select_one(
        'head link[type="application/atom+xml"][href*="/comments/"]'
    )
    assert feed_link["href"] == f"{SITEURL}/feeds/comments/pourquoi-un-blog.atom.xml"
    assert fr.select_one(f'#comments a[href="{feed_link["href"]}"]')
    expected = {
        "pourquoi-un-blog": 4,
        "pourquoi-un-blog-en": 2,
        "aube-six-mois-apres": 0,  # every post has its feed, even before a comment
    }
    for name, count in expected.items():
        path = seeded.output / "feeds" / "comments" / f"{name}.atom.xml"
        feed = feedparser.parse(path.read_bytes())
        assert feed.bozo == 0, f"{path}: {feed.get('bozo_exception')}"
        assert len(feed.entries) == count, path
    assert len(list((seeded.output / "feeds" / "comments").glob("*.xml"))) == 13


def test_targets_are_exactly_the_published_posts(seeded: Seeded) -> None:
    with seeded.store.engine.connect() as conn:
        rows = {r.url: r for r in conn.execute(sa.select(targets))}
    written = {
        f"{SITEURL}/{p.parent.relative_to(seeded.output).as_posix()}/"
        for p in post_pages(seeded.output)
    }
    assert set(rows) == written and len(rows) == 13
    assert DRAFT not in rows and SCHEDULED not in rows
    assert rows[FR].author_email == "claire.dubois@maison-lumen.example"
    assert (rows[EN].lang, rows[EN].title) == (
        "en",
        "Why Maison Lumen is starting a blog",
    )
    assert rows[FR].published == dt.datetime(2025, 1, 14, 9, 0, tzinfo=dt.UTC)


def test_webmention_endpoint_and_comments_feed_on_every_page(seeded: Seeded) -> None:
    pages = sorted(seeded.output.rglob("*.html"))
    assert len(pages) > 30
    for path in pages:
        head = soup(path).head
        links = head.find_all("link", rel="webmention")
        assert [link["href"] for link in links] == [ENDPOINT], path
        footer = soup(path).select_one("footer.site-footer")
        assert footer.select_one(f'a[href="{SITEURL}/feeds/comments.atom.xml"]'), path


def test_comment_form(seeded: Seeded) -> None:
    for url, lang in ((FR, "fr"), (EN, "en")):
        form = soup(page(seeded.output, url)).select_one("#comments form")
        assert (form["method"], form["action"]) == ("post", f"{SERVICE}/comment")
        fields = {f["name"]: f for f in form.select("input, textarea")}
        assert set(fields) == {
            "target",
            "lang",
            "name",
            "website",
            "comment",
            "honeypot",
        }
        assert fields["target"]["value"] == url and fields["lang"]["value"] == lang
        assert fields["name"].has_attr("required") and fields["comment"].has_attr(
            "required"
        )
        assert fields["website"]["type"] == "url" and not fields["website"].has_attr(
            "required"
        )
        trap = fields["honeypot"]
        assert trap["tabindex"] == "-1"
        assert trap.find_parent(attrs={"aria-hidden": "true"}) is not None
        for field in ("name", "website", "comment", "honeypot"):
            assert form.select_one(f'label[for="{fields[field]["id"]}"]'), field
        note = soup(page(seeded.output, url)).select_one(".webmention-note")
        assert note.select_one("code").get_text() == ENDPOINT


# --- a fresh clone: no mentions, no store yet ---------------------------------------


def test_a_fresh_clone_builds_with_an_empty_store(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CAUSERIE_DATABASE_URL", raising=False)
        report = build_with_mentions(tmp_path / "output", tmp_path, None)
    assert report.problems == []
    assert (tmp_path / "var" / "mentions.sqlite3").is_file()
    posts = post_pages(tmp_path / "output")
    assert len(posts) == 13
    for path in posts:
        doc = soup(path)
        empty = doc.select_one("#comments .comments-empty").get_text()
        assert empty in ("Aucun commentaire", "No comments yet"), path
        assert not doc.select(".comment-list, .facepile")
    feed = feedparser.parse((tmp_path / "output/feeds/comments.atom.xml").read_bytes())
    assert feed.bozo == 0 and feed.entries == []
    assert not (tmp_path / "output" / "mentions").exists()


def test_counts_are_plural_in_english_and_french() -> None:
    from causerie.catalogs import load_catalogs

    catalogs = load_catalogs(ROOT / "theme" / "translations", ("fr", "en"))
    fr, en = catalogs["fr"], catalogs["en"]
    assert (
        fr.ngettext("%(num)s repost", "%(num)s reposts", 2) % {"num": 2} == "2 partages"
    )
    assert fr.ngettext("%(num)s like", "%(num)s likes", 1) % {"num": 1} == "1 J’aime"
    assert en.ngettext("%(num)s like", "%(num)s likes", 3) % {"num": 3} == "3 likes"
    assert (
        en.ngettext("%(num)s bookmark", "%(num)s bookmarks", 1) % {"num": 1}
        == "1 bookmark"
    )


# --- XSS: an attacker wrote straight into the store ----------------------------------

#: Two corpora: the receiver's (tests/test_xss.py, with {TAB}-style
#: placeholders) and this file's own, aimed at the page and feed templates.
CORPORA = [
    ROOT / "tests" / "data" / "xss" / "payloads.txt",
    ROOT / "tests" / "data" / "xss" / "render-payloads.txt",
]
SPECIALS = {
    "{TAB}": "\t",
    "{NL}": "\n",
    "{CR}": "\r",
    "{NUL}": "\0",
    # C0/C1 controls and non-characters: illegal in XML (a feed writer
    # raises on them) and parse errors in HTML.
    "{CTRL}": "\x01\x0b\x1b\x7f\x85\ufffe",
}
#: Elements no payload may bring into a page: they run script, load content,
#: change the page's base or meta data, or are parsed in ways that revive
#: markup (svg, math, style: the mutation XSS classics).
FORBIDDEN = {
    "script", "iframe", "object", "embed", "applet", "frame", "frameset",
    "math", "style", "base", "template", "noscript", "noembed", "noframes",
    "xmp", "plaintext", "isindex", "keygen", "video", "audio", "source",
    "marquee", "details", "select", "option",
}  # fmt: skip
#: Elements the theme itself uses that a payload must not add to (counted
#: against the same page built without mentions).
COUNTED = {"svg", "meta", "form", "input", "textarea", "button", "link", "img", "h1", "body", "head", "html", "label", "title"}  # fmt: skip
#: What a comment's content may hold once sanitized (webmentions.sanitize).
COMMENT_TAGS = {
    "li", "p", "br", "a", "em", "strong", "b", "i", "blockquote", "code",
    "pre", "ul", "ol", "q", "cite", "abbr", "del", "ins", "sub", "sup",
    "span", "div", "time", "data", "img",
}  # fmt: skip
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
#: Attributes a browser reads as a URL (HTML, SVG, legacy); text attributes
#: such as title="javascript:…" are only shown, never followed.
URL_ATTRS = {
    "href", "src", "srcset", "action", "formaction", "data", "poster",
    "background", "cite", "value", "content", "ping", "manifest", "codebase",
    "dynsrc", "lowsrc", "longdesc", "icon", "profile", "usemap", "xlink:href",
    "archive", "classid",
}  # fmt: skip
KIND_CYCLE = ("reply", "mention", "like", "repost", "bookmark", "rsvp")


def payloads(nul: bool = True) -> list[str]:
    """Every payload once; without NUL characters if ``nul`` is false
    (PostgreSQL refuses them in text, so no attacker can store one there)."""
    found: dict[str, None] = {}
    for corpus in CORPORA:
        if not corpus.exists():  # the receiver's corpus ships with its tests
            continue
        for line in corpus.read_text(encoding="utf-8").split("\n"):
            if not line or line.startswith("# "):
                continue
            for token, char in SPECIALS.items():
                line = line.replace(token, char if nul or char != "\0" else "")
            found[line] = None
    return list(found)


def assert_inert(doc: Any, where: str) -> None:
    """No script can run from ``doc``, checked element by element."""
    for element in doc.find_all(True):
        assert element.name not in FORBIDDEN, f"{where}: <{element.name}>"
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), (
                f"{where}: {name}= on <{element.name}>"
            )
            values = value if isinstance(value, list) else [value]
            for item in values if name.lower() in URL_ATTRS else []:
                # What a browser's URL parser would see: no leading controls or
                # spaces, no tabs or newlines anywhere.
                url = "".join(ch for ch in item if ch not in "\t\n\r")
                url = url.lstrip("".join(map(chr, range(0x21)))).lower()
                url = url.split("url=", 1)[-1]  # <meta http-equiv=refresh content>
                assert not url.startswith(BAD_SCHEMES), (
                    f"{where}: {name}={item!r} on <{element.name}>"
                )


def assert_comments_sanitized(doc: Any, where: str) -> None:
    for block in doc.select("#comments .comment-list, #comments .reactions"):
        for element in block.find_all(True):
            assert element.name in COMMENT_TAGS | {"h3", "div"}, (
                f"{where}: <{element.name}>"
            )
            if element.name == "a" and element.has_attr("href"):
                assert element["href"].startswith(("http://", "https://")), where
            if element.name == "img":
                assert element["src"].startswith(f"{SITEURL}/mentions/avatars/"), where


@pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")
def test_stored_xss_payloads_never_reach_a_page_or_a_feed(
    store_url: str, tmp_path: Path
) -> None:
    corpus = payloads(nul=not store_url.startswith("postgresql"))
    assert len(corpus) >= 100
    clock = Clock()
    store = Store.open(store_url, clock)
    for i, payload in enumerate(corpus):
        kind = KIND_CYCLE[i % len(KIND_CYCLE)]
        store.add_verified(
            f"https://evil.example/{i}",
            EN if i % 7 == 0 else FR,
            model.WEBMENTION,
            {
                "kind": kind,
                "moderation": model.APPROVED,
                "published": T0 + dt.timedelta(minutes=i),
                "content_html": payload,
                "content_text": payload,
                "author_name": payload,
                "author_url": payload,
                "author_photo": payload,
                "url": payload,
                "title": payload,
                # Column sizes (PostgreSQL enforces them): avatar 100, rsvp 20.
                "avatar": payload[:100],
                "rsvp": payload[:20] if kind == "rsvp" else None,
            },
        )
    store.engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CAUSERIE_DATABASE_URL", raising=False)
        attacked = build_with_mentions(tmp_path / "attacked", tmp_path, store_url)
        clean = build_with_mentions(
            tmp_path / "clean",
            tmp_path / "clean-site",
            f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        )
    assert attacked.problems == [] and clean.problems == []

    fr = soup(page(tmp_path / "attacked", FR))
    shown = len(fr.select("#comments .comment-list > li"))
    faces = len(fr.select("#comments .facepile-item"))
    # Not a vacuous pass: the payloads are there, as harmless text.
    assert shown > 60 and faces > 50, (shown, faces)
    assert "Un commentaire ordinaire" in fr.get_text()

    for path in sorted((tmp_path / "attacked").rglob("*.html")):
        where = str(path.relative_to(tmp_path))
        if path.relative_to(tmp_path / "attacked").parts[0] == "search":
            # The search pages hold no stored text, only the theme's own
            # script and form; their results come from the index when a
            # reader searches (tests/test_search_browser.py).
            continue
        doc = soup(path)
        assert_inert(doc, where)
        assert_comments_sanitized(doc, where)
        baseline = soup(tmp_path / "clean" / path.relative_to(tmp_path / "attacked"))
        count = Counter(e.name for e in doc.find_all(COUNTED))
        assert count == Counter(e.name for e in baseline.find_all(COUNTED)), where
        assert len(doc.select('[id="comments"]')) == len(
            baseline.select('[id="comments"]')
        )
    for url in (FR, EN):
        items = mf2py.parse(
            doc=page(tmp_path / "attacked", url).read_text(encoding="utf-8"), url=url
        )["items"]
        assert (
            len(items) == 1
            and items[0]["type"] == ["h-entry"]
            and not items[0].get("children")
        )
        assert (
            "Pourquoi" in items[0]["properties"]["name"][0]
            or "Why" in items[0]["properties"]["name"][0]
        )

    atom = "{http://www.w3.org/2005/Atom}"
    for path in [
        tmp_path / "attacked/feeds/comments.atom.xml",
        *(tmp_path / "attacked/feeds/comments").glob("*.xml"),
    ]:
        assert feedparser.parse(path.read_bytes()).bozo == 0, path
        root = ET.parse(path).getroot()
        for link in root.iter(f"{atom}link"):
            assert link.get("href", "").startswith(("http://", "https://")), path
        for uri in root.iter(f"{atom}uri"):
            assert (uri.text or "").startswith(("http://", "https://")), path
        for title in root.iter(f"{atom}title"):
            assert title.get("type", "text") == "text", path
        for content in root.iter(f"{atom}content"):
            if content.get("type") == "html":
                fragment = parse_html(content.text or "")
                assert_inert(fragment, f"{path.name}: content")
                for element in fragment.body.find_all(True):
                    assert element.name in COMMENT_TAGS, (
                        f"{path.name}: <{element.name}>"
                    )


def test_the_templates_escape_what_they_are_given() -> None:
    """The theme's own lock, without the sanitizers in front of it: a comment
    with raw markup in every text field comes out as text."""
    from jinja2 import Environment, FileSystemLoader

    from causerie.webmentions.site.render import Comment

    env = Environment(
        loader=FileSystemLoader(ROOT / "theme" / "templates"),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["localdate"] = lambda d, fmt="full": d.date().isoformat()
    env.filters["author_card"] = lambda author: None
    env.globals["page_lang"] = lambda: "en"
    evil = '"><script>alert(1)</script><b onmouseover="x'
    comment = Comment(
        id=1,
        kind="mention",
        author_name=evil,
        author_url='https://ok.example/"onmouseover="x',
        author_photo=None,
        url='https://ok.example/"><script>',
        published=T0,
        updated=T0,
        content_html="",
        title=evil,
        rsvp=None,
        uid="tag:blog.test,2026-01-10:mention:1",
    )
    macros: Any = env.get_template("_macros.html").make_module({"SITEURL": SITEURL})
    for html in (
        str(macros.comment(comment)),
        str(macros.facepile([comment], "like", "1 like")),
    ):
        doc = parse_html(html)
        assert not doc.find_all(["script", "b"]), html
        assert not [
            a for e in doc.find_all(True) for a in e.attrs if a.startswith("on")
        ]
        assert evil in doc.get_text(), "the text is shown, escaped"


# --- in a browser: HTML validity (vnu) and accessibility (axe) with mentions ---------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The seeded demo site, built for and served on a free loopback port."""
    import subprocess
    import sys

    from conftest import stop_process
    from test_browser import Site, _free_port, _wait_until_serving

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    site_dir = tmp_path_factory.mktemp("served-mentions")
    database = f"sqlite:///{site_dir / 'mentions.sqlite3'}"
    clock = Clock()
    store = Store.open(database, clock)
    seed(store, clock, site_url=url)
    store.engine.dispose()
    write_avatars(site_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CAUSERIE_DATABASE_URL", raising=False)
        report = build_with_mentions(
            site_dir / "output", site_dir, database, SITEURL=url
        )
    assert report.problems == []
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=site_dir / "output",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_serving(f"{url}/", proc, timeout=15)
        yield Site(url, site_dir / "output")
    finally:
        stop_process(proc)


MENTION_PAGES = ["posts/2025/pourquoi-un-blog/", "posts/2025/pourquoi-un-blog/en/"]


@pytest.mark.browser
def test_vnu_finds_no_error_in_pages_with_mentions(served: Any) -> None:
    import shutil
    import subprocess

    from test_browser import INSTALL_JAVA, INSTALL_TOOLS, VNU_JAR, require

    java = shutil.which("java")
    require(java is not None, "java", INSTALL_JAVA)
    require(VNU_JAR.exists(), "vnu.jar", INSTALL_TOOLS)
    files = [str(served.root / p / "index.html") for p in MENTION_PAGES]
    files.append(str(served.root / "index.html"))
    proc = subprocess.run(
        [str(java), "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(proc.stderr or proc.stdout or '{"messages": []}')["messages"]
    errors = [
        f"{m.get('url')}:{m.get('lastLine')}: {m.get('message')}" for m in messages
    ]
    assert not errors, "\n".join(errors)


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", MENTION_PAGES)
def test_axe_finds_no_violation_with_mentions(
    driver: Any, axe_source: str, served: Any, path: str, scheme: str
) -> None:
    from test_browser import AXE_RUN, AXE_TAGS, _emulate, _open, _screenshot

    _emulate(driver, 1280, scheme)
    _open(driver, served.page(path), scheme)
    lang = "en" if path.endswith("/en/") else "fr"
    _screenshot(driver, f"post-{lang}-with-mentions-{scheme}")
    driver.execute_script(axe_source)
    result = json.loads(driver.execute_async_script(AXE_RUN, AXE_TAGS))
    assert not isinstance(result, dict), result
    report = "\n".join(f"- {v['id']}: {v['help']} — {v['targets']}" for v in result)
    assert not result, f"axe on {path} ({scheme}):\n{report}"


@pytest.mark.browser
def test_the_form_fits_a_small_screen(driver: Any, served: Any) -> None:
    from test_browser import _emulate, _open, _screenshot

    _emulate(driver, 375, "light")
    _open(driver, served.page(MENTION_PAGES[0]), "light")
    _screenshot(driver, "post-fr-with-mentions-375")
    scroll, inner = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner
    honeypot = driver.find_element("name", "honeypot")
    assert not honeypot.is_displayed() or honeypot.rect["x"] < 0
    # The avatar (lazy-loaded) comes from our own site, and is a picture.
    driver.execute_script("document.getElementById('comments').scrollIntoView()")
    loaded = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const img = document.querySelector('#comments img.u-photo');
        const check = () => done([img.currentSrc, img.naturalWidth]);
        img.complete && img.naturalWidth ? check() : img.addEventListener('load', check);
        setTimeout(check, 5000);
        """
    )
    assert loaded == [f"{served.url}/mentions/avatars/{AVATAR}", 96]


# --- the pure parts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        (AVATAR, True),
        ("a1b2.jpg", True),
        ("../secret.png", False),
        ("a/b.png", False),
        ("..png", False),
        (".png", False),
        ("x.svg", False),
        ("x.png\x00.txt", False),
        ("", False),
        (None, False),
    ],
)
def test_only_plain_avatar_file_names_are_used(name: str | None, kept: bool) -> None:
    from causerie.webmentions.site.render import safe_avatar_name

    assert safe_avatar_name(name) == (name if kept else None)


def test_to_comment_checks_again_what_the_store_holds() -> None:
    from causerie.webmentions.model import Mention
    from causerie.webmentions.site.render import to_comment

    mention = Mention(
        id=7,
        source="https://alice.example/reply",
        target=FR,
        origin=model.WEBMENTION,
        verification=model.VERIFIED,
        moderation=model.APPROVED,
        kind="reply",
        url="javascript:alert(1)",
        author_name=None,
        author_url="https://alice.example/",
        author_photo="https://alice.example/me.jpg",
        avatar=AVATAR,
        content_html='<p onclick="x">Hi <a href="/about">me</a></p><script>x</script>',
        received_at=T0,
    )
    comment = to_comment(mention, SITEURL, {AVATAR})
    assert comment.url == "https://alice.example/reply"  # the source, not javascript:
    assert comment.author_name == "alice.example"
    assert comment.author_photo == f"{SITEURL}/mentions/avatars/{AVATAR}"
    assert (
        "script" not in comment.content_html and "onclick" not in comment.content_html
    )
    assert 'href="https://alice.example/about"' in comment.content_html
    assert comment.published == T0
    assert to_comment(mention, SITEURL, set()).author_photo is None
    form = dataclasses.replace(
        mention, origin=model.FORM, source="urn:uuid:1", url=None
    )
    assert to_comment(form, SITEURL, set()).url is None


def test_a_relative_siteurl_is_refused_with_the_fix(tmp_path: Path) -> None:
    from causerie.webmentions.errors import WebmentionError

    with pytest.raises(WebmentionError, match="set SITEURL"):
        build_with_mentions(tmp_path / "out", tmp_path, None, SITEURL="")
