"""The export parsers (pure): Blogger in both shapes, WordPress WXR, feeds;
hostile and broken files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from causerie.importers import blogger, feed, model, wordpress
from causerie.importers.errors import ExportError

DATA = Path(__file__).parent / "data" / "importers"


def kinds(events: list[model.Event], cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def test_wordpress_wxr() -> None:
    events = list(wordpress.events(DATA / "wordpress.xml"))
    (blog,) = kinds(events, model.Blog)
    assert (blog.kind, blog.url, blog.lang) == (
        "wordpress",
        "https://atelier.example",
        "fr",
    )
    assert blog.title == "L’atelier de Vaise"
    authors = {a.key: a for a in kinds(events, model.Author)}
    assert authors["helene"].name == "Hélène Rousseau"
    (attachment,) = kinds(events, model.Attachment)
    assert attachment.parent_key == "123" and attachment.url.endswith("etabli.jpg")
    items = {i.key: i for i in kinds(events, model.Item)}
    assert set(items) == {"123", "2", "130", "140", "150"}  # no menu item
    post = items["123"]
    assert post.kind == "post" and not post.draft and post.slug == "reparer-une-lampe"
    assert post.date == dt.datetime(2012, 3, 12, 8, 30, tzinfo=dt.UTC)
    assert post.categories == ("Réparations",) and post.tags == ("laiton", "câble")
    assert (
        post.author_key == "karim"
        and post.summary == "Changer le câble en dix minutes."
    )
    assert post.old_urls == (
        "https://atelier.example/2012/03/reparer-une-lampe/",
        "https://atelier.example/?p=123",
    )
    comments = {c.key: c for c in post.comments}
    assert set(comments) == {"7", "8", "9", "10", "11", "13"}  # no pingback
    assert comments["8"].parent_key == "7" and comments["9"].parent_key == "8"
    assert comments["8"].by_blog_author and not comments["7"].by_blog_author
    assert [comments[k].status for k in ("7", "10", "11", "13")] == [
        model.APPROVED, model.SPAM, model.HELD, model.SPAM,
    ]  # fmt: skip
    assert comments["7"].date == dt.datetime(2012, 3, 13, 9, 0, tzinfo=dt.UTC)
    assert (
        items["2"].kind == "page"
        and "https://atelier.example/?page_id=2" in items["2"].old_urls
    )
    draft = items["130"]
    # The zero date of a draft is no date; its local post_date is used.
    assert draft.draft and draft.slug is None and draft.categories == ()
    assert draft.date == dt.datetime(2012, 4, 2, 10, 0, tzinfo=dt.UTC)
    assert items["150"].date is None and items["150"].title == ""
    assert any("pingback" in p.reason for p in kinds(events, model.Problem))


def test_blogger_classic_in_a_legacy_encoding() -> None:
    events = list(blogger.events(DATA / "blogger-classic.xml"))
    assert (DATA / "blogger-classic.xml").read_bytes().count(b"\xe9") > 3  # cp1252
    (blog,) = kinds(events, model.Blog)
    assert (
        blog.title == "Le carnet de Léa"
        and blog.url == "http://carnet-lea.blogspot.com"
    )
    items = {i.key: i for i in kinds(events, model.Item)}
    assert set(items) == {"9001", "9002", "77"}  # not the settings nor the template
    post = items["9001"]
    assert post.title == "Quand les clients écrivent à notre place"
    assert "« ça brûle »" in post.html and post.tags == ("clients", "écoute")
    assert post.slug == "quand-les-clients-ecrivent"
    assert post.old_urls == (
        "http://carnet-lea.blogspot.com/2008/10/quand-les-clients-ecrivent.html",
    )
    assert items["9002"].draft and items["77"].kind == "page"
    comments = {c.key: c for c in kinds(events, model.Comment)}
    assert {c.post_key for c in comments.values()} == {"9001"}
    assert comments["5002"].parent_key == "5001" and comments["5001"].parent_key is None
    assert comments["5001"].author_url == "http://jerome.example/"
    assert comments["5003"].author_email is None  # noreply@blogger.com is nobody


def test_blogger_takeout() -> None:
    events = list(blogger.events(DATA / "blogger-takeout.atom"))
    items = {i.key: i for i in kinds(events, model.Item)}
    assert items["100"].old_urls == ("/2010/05/une-lampe-des-avis.html",)
    assert items["100"].tags == ("avis", "Lumière") and not items["100"].draft
    assert items["101"].draft and items["102"].kind == "page"
    comments = {c.key: c for c in kinds(events, model.Comment)}
    # An answer names the comment it answers as its parent: same post.
    assert comments["201"].post_key == "100" and comments["201"].parent_key == "200"
    assert comments["202"].status == model.SPAM and comments["203"].status == model.HELD


def test_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(
        """<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
        xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Vieux blog</title><link>https://vieux.example/</link>
        <item><title>Été</title><link>https://vieux.example/ete.php?id=4</link><guid>https://vieux.example/ete.php?id=4</guid>
        <pubDate>Tue, 01 Jul 2008 10:00:00 +0200</pubDate><dc:creator>Zoé</dc:creator><category>saisons</category>
        <description>court</description><content:encoded><![CDATA[<p>Le texte <em>complet</em>.</p>]]></content:encoded></item>
        </channel></rss>""",
        encoding="utf-8",
    )
    events = list(feed.events(path))
    (item,) = kinds(events, model.Item)
    assert item.html == "<p>Le texte <em>complet</em>.</p>" and item.tags == (
        "saisons",
    )
    assert item.date == dt.datetime(2008, 7, 1, 8, 0, tzinfo=dt.UTC)
    assert (
        item.old_urls == ("https://vieux.example/ete.php?id=4",)
        and item.author_key == "Zoé"
    )
    atom = tmp_path / "atom.xml"
    atom.write_text(
        """<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>urn:x:1</id><title>Un</title>
        <link href="https://a.example/un"/><updated>2009-01-01T00:00:00Z</updated><summary>Résumé</summary></entry></feed>""",
        encoding="utf-8",
    )
    (entry,) = kinds(list(feed.events(atom)), model.Item)
    assert entry.old_urls == ("https://a.example/un",) and entry.html == "Résumé"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss><channel><item><title>&lol3;</title></item></channel></rss>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&xxe;</title>
<wp:post_id>1</wp:post_id></item></channel></rss>"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
@pytest.mark.parametrize("parser", [wordpress, blogger, feed])
def test_entities_are_refused(tmp_path: Path, text: str, parser) -> None:
    path = tmp_path / "export.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportError, match="entities"):
        list(parser.events(path))


def test_an_undeclared_entity_is_not_resolved(tmp_path: Path) -> None:
    # No DTD at all, an entity reference anyway: a problem, never a read file.
    path = tmp_path / "export.xml"
    path.write_text("<rss><channel><item><title>&xxe;</title></item></channel></rss>")
    events = list(wordpress.events(path))
    assert [p.fatal for p in kinds(events, model.Problem)] == [True]
    assert not kinds(events, model.Item)


def test_a_truncated_export_keeps_what_came_before(tmp_path: Path) -> None:
    data = (DATA / "wordpress.xml").read_bytes()
    cut = data.index(b"<title><![CDATA[Brouillon")
    path = tmp_path / "cut.xml"
    path.write_bytes(data[: cut + 30])
    events = list(wordpress.events(path))
    assert [i.key for i in kinds(events, model.Item)] == ["123", "2"]
    (problem,) = [p for p in kinds(events, model.Problem) if p.fatal]
    assert (
        "cut short" in problem.reason and "download the export again" in problem.reason
    )


@pytest.mark.parametrize(
    ("parser", "text", "message"),
    [
        (
            wordpress,
            '<feed xmlns="http://www.w3.org/2005/Atom"><entry/></feed>',
            "not a WordPress export",
        ),
        (blogger, "<rss><channel><item/></channel></rss>", "not a Blogger export"),
        (feed, "<html><body/></html>", "neither an Atom"),
    ],
)
def test_the_wrong_kind_of_file(
    tmp_path: Path, parser, text: str, message: str
) -> None:
    path = tmp_path / "x.xml"
    path.write_text(text)
    with pytest.raises(ExportError, match=message):
        list(parser.events(path))


def test_not_xml_at_all(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_bytes(b"PK\x03\x04 a zip file")
    (problem,) = list(wordpress.events(path))[-1:]
    assert isinstance(problem, model.Problem) and problem.fatal


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (
            "Une ligne.\nUne autre.\n\nUn paragraphe.",
            "<p>Une ligne.<br>\nUne autre.</p>\n<p>Un paragraphe.</p>",
        ),
        ("<p>Déjà en HTML.</p>", "<p>Déjà en HTML.</p>"),
        ("<ul>\n<li>a</li>\n</ul>\nSuite.", "<ul>\n<li>a</li>\n</ul>\n<p>Suite.</p>"),
        (
            '[caption id="a" width="300"]<img src="x.jpg" alt="X" /> Légende[/caption]',
            '<figure><img src="x.jpg" alt="X" /><figcaption>Légende</figcaption></figure>',
        ),
        ('Avant.\n\n[gallery ids="1,2"]\n\nAprès.', "<p>Avant.</p>\n<p>Après.</p>"),
        (
            "[embed]https://video.example/1[/embed]",
            '<p><a href="https://video.example/1">https://video.example/1</a></p>',
        ),
        ("Windows\r\nlines", "<p>Windows<br>\nlines</p>"),
    ],
)
def test_wordpress_paragraphs_as_the_blog_showed_them(stored: str, shown: str) -> None:
    assert wordpress.autop(stored) == shown
