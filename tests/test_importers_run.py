"""`publish import` on a real site: the post files, authors, images, store
rows and redirects of each fixture; idempotence, dry runs, a kill half-way;
then a real build shows the comments and answers the old addresses."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ROOT, run_publish
from sender_kit import write_blog

from causerie.importers.errors import ExportError, StrictError
from causerie.importers.run import Options, run_import
from causerie.settings import load_settings
from causerie.webmentions import model as mention_model
from causerie.webmentions import open_store
from causerie.webmentions.store.schema import mentions

DATA = Path(__file__).parent / "data" / "importers"
EXPECTED = DATA / "expected"


def bench_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "causerie_bench_import", ROOT / "bench" / "import.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def make_site(root: Path) -> dict[str, Any]:
    settings_file = write_blog(root, {})
    return load_settings(settings_file)


def imported(settings: dict[str, Any], kind: str, export: Path, **options: Any) -> Any:
    store = None if options.get("dry_run") else open_store(settings)
    try:
        return run_import(settings, Options(kind, export, **options), store)
    finally:
        if store is not None:
            store.engine.dispose()


def files(content: Path) -> dict[str, bytes]:
    """Every file of content/ but the demo's own (authors.toml included)."""
    return {
        p.relative_to(content).as_posix(): p.read_bytes()
        for p in sorted(content.rglob("*"))
        if p.is_file()
    }


def rows(settings: dict[str, Any]) -> list[dict[str, Any]]:
    store = open_store(settings)
    try:
        with store.engine.connect() as conn:
            query = sa.select(mentions).order_by(mentions.c.source)
            return [dict(r) for r in conn.execute(query).mappings()]
    finally:
        store.engine.dispose()


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Any]:
    return make_site(tmp_path / "blog")


def content_of(settings: dict[str, Any]) -> Path:
    return Path(settings["PATH"])


def expected_files(name: str) -> dict[str, str]:
    root = EXPECTED / name
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_wordpress(site: dict[str, Any], tmp_path: Path) -> None:
    media = tmp_path / "uploads" / "2012" / "03"
    media.mkdir(parents=True)
    (media / "etabli.jpg").write_bytes(b"\xff\xd8\xff\xe0 a JPEG of the workbench")
    before = files(content_of(site))
    tally = imported(
        site, "wordpress", DATA / "wordpress.xml", media=tmp_path / "uploads"
    )
    after = files(content_of(site))
    new = {k: v for k, v in after.items() if before.get(k) != v}
    # The post files, exactly as expected, written like hand-written posts.
    for path, text in expected_files("wordpress").items():
        assert new.pop(path).decode("utf-8") == text, path
    # The image, found in --media under its full-size name (the post showed
    # WordPress's 300x200 copy), and the two new authors with their avatars.
    assert new.pop("images/imported/reparer-une-lampe/etabli.jpg").startswith(
        b"\xff\xd8"
    )
    assert set(new) == {
        "authors.toml",
        "images/authors/helene-rousseau.svg",
        "images/authors/inconnu.svg",
        "redirects.tsv",
    }
    registry = after["authors.toml"].decode()
    assert (
        '[helene-rousseau]\nname = "Hélène Rousseau"\nemail = "helene@atelier.example"'
        in registry
    )
    assert (
        "[karim-haddad]" in registry and registry.count("Karim Haddad") == 1
    )  # found by e-mail
    assert (tally.posts, tally.pages, tally.drafts, tally.unchanged) == (2, 1, 1, 0)
    assert (tally.comments, tally.rejected_comments, tally.images) == (3, 3, 1)
    assert tally.skipped == [
        (
            "post 150",
            "no date: a post needs one (give it a date on the old blog and export again)",
        )
    ]
    assert [w for w, _ in tally.ignored] == ["comment 12 of post 123"]  # the pingback
    assert any(
        "slug 'reparer-une-lampe' is already another post's" in r
        for _, r in tally.fixed
    )
    assert any("no title: titled with its first words" in r for _, r in tally.fixed)

    stored = {r["source"].rpartition("-")[2]: r for r in rows(site)}
    assert set(stored) == {"7", "8", "9", "10", "11", "13"}
    assert {r["origin"] for r in stored.values()} == {mention_model.BLOG}
    assert {r["target"] for r in stored.values()} == {
        "http://blog.test/posts/2012/reparer-une-lampe/"
    }
    approved = {
        k for k, r in stored.items() if r["moderation"] == mention_model.APPROVED
    }
    assert approved == {"7", "8", "9"}
    assert stored["11"]["reason"] == "pending on the old blog, never shown there"
    assert (
        stored["10"]["reason"]
        == stored["13"]["reason"]
        == "spam or trash on the old blog"
    )
    assert stored["8"]["reply_to"] == stored["7"]["source"]
    assert stored["9"]["reply_to"] == stored["8"]["source"]
    assert (
        stored["8"]["blog_author"] == "karim-haddad"
        and stored["7"]["blog_author"] is None
    )
    # Hostile HTML in a comment: nothing of it is stored.
    assert "onerror" not in (stored["7"]["content_html"] or "") and "<img" not in (
        stored["7"]["content_html"] or ""
    )
    assert (
        stored["7"]["author_name"] == "Anaïs Lefèvre"
        and stored["7"]["author_url"] == "https://anais.example/"
    )

    redirects = (content_of(site) / "redirects.tsv").read_text(encoding="utf-8")
    for line in (
        "/2012/03/reparer-une-lampe/\tposts/2012-03-12-reparer-une-lampe.md",
        "/?p=123\tposts/2012-03-12-reparer-une-lampe.md",
        "/?p=140\tposts/2012-05-15-reparer-une-lampe-2.md",
        "/?page_id=2\tpages/a-propos.md",
        "/feed/\t@feeds/all.atom.xml",
    ):
        assert line in redirects.splitlines()
    assert "130" not in redirects  # a draft has no old address to keep


def test_an_unchanged_import_writes_nothing(site: dict[str, Any]) -> None:
    imported(site, "wordpress", DATA / "wordpress.xml")
    content = content_of(site)
    stamps = {p: p.stat().st_mtime_ns for p in content.rglob("*") if p.is_file()}
    stored = rows(site)
    tally = imported(site, "wordpress", DATA / "wordpress.xml")
    assert (tally.posts, tally.pages, tally.drafts, tally.unchanged) == (0, 0, 0, 4)
    assert {
        p: p.stat().st_mtime_ns for p in content.rglob("*") if p.is_file()
    } == stamps
    assert rows(site) == stored  # updated_at included: no row written


def test_a_changed_export_updates_in_place(
    site: dict[str, Any], tmp_path: Path
) -> None:
    imported(site, "wordpress", DATA / "wordpress.xml")
    text = (DATA / "wordpress.xml").read_text(encoding="utf-8")
    changed = tmp_path / "changed.xml"
    changed.write_text(
        text.replace(
            "Nous réparons des lampes depuis 1987.", "Depuis 1987, et toujours."
        ).replace("Parfait, c’est réparé.", "Parfait, tout marche."),
        encoding="utf-8",
    )
    # A moderator rejects a comment meanwhile: a re-import keeps that.
    store = open_store(site)
    with store.engine.begin() as conn:
        conn.execute(
            mentions.update()
            .where(mentions.c.source.endswith("-7"))
            .values(moderation="rejected")
        )
    store.engine.dispose()
    tally = imported(site, "wordpress", changed)
    assert (tally.pages, tally.unchanged) == (1, 3)
    page = (content_of(site) / "pages/a-propos.md").read_text(encoding="utf-8")
    assert "Depuis 1987, et toujours." in page
    assert len(list((content_of(site) / "pages").glob("*.md"))) == 1  # no copy
    stored = {r["source"].rpartition("-")[2]: r for r in rows(site)}
    assert len(stored) == 6
    assert stored["9"]["content_text"] == "Parfait, tout marche."
    assert stored["7"]["moderation"] == "rejected"


def test_dry_run_writes_nothing(site: dict[str, Any]) -> None:
    before = files(content_of(site))
    tally = imported(site, "wordpress", DATA / "wordpress.xml", dry_run=True)
    assert (tally.posts, tally.pages, tally.comments) == (2, 1, 3)
    assert files(content_of(site)) == before
    assert not (Path(site["CAUSERIE_SITE_DIR"]) / "var").exists() or rows(site) == []


def test_strict_stops_at_the_first_bad_item(site: dict[str, Any]) -> None:
    with pytest.raises(StrictError, match="post 150: no date"):
        imported(site, "wordpress", DATA / "wordpress.xml", strict=True)


def test_author_mapping(site: dict[str, Any]) -> None:
    tally = imported(
        site,
        "wordpress",
        DATA / "wordpress.xml",
        authors={"helene": "lea-marchetti", "inconnu": "claire-dubois"},
    )
    assert tally.authors_added == []
    page = (content_of(site) / "pages/a-propos.md").read_text(encoding="utf-8")
    assert "\nAuthor: Léa Marchetti\n" in page
    with pytest.raises(ExportError, match="--author helene=nobody: no author 'nobody'"):
        imported(
            site, "wordpress", DATA / "wordpress.xml", authors={"helene": "nobody"}
        )


def test_blogger_classic_and_takeout(site: dict[str, Any]) -> None:
    imported(site, "blogger", DATA / "blogger-classic.xml")
    imported(site, "blogger", DATA / "blogger-takeout.atom")
    content = content_of(site)
    for path, text in expected_files("blogger").items():
        assert (content / path).read_text(encoding="utf-8") == text, path
    stored = {r["source"].rpartition("-")[2]: r for r in rows(site)}
    assert set(stored) == {"5001", "5002", "5003", "200", "201", "202", "203"}
    assert stored["5002"]["reply_to"] == stored["5001"]["source"]
    assert stored["5002"]["blog_author"] == "lea"  # the post's author, by profile
    assert stored["201"]["reply_to"] == stored["200"]["source"]
    assert stored["201"]["blog_author"] == "claire-dubois"  # in the registry already
    assert (
        "<script" not in stored["5001"]["content_html"]
        and "alert" not in stored["5001"]["content_html"]
    )
    assert {k for k, r in stored.items() if r["moderation"] == "rejected"} == {
        "202",
        "203",
    }
    assert (
        stored["5001"]["target"]
        == "http://blog.test/posts/2008/quand-les-clients-ecrivent/"
    )
    redirects = (content / "redirects.tsv").read_text(encoding="utf-8").splitlines()
    assert (
        "/2008/10/quand-les-clients-ecrivent.html\tposts/2008-10-12-quand-les-clients-ecrivent.md"
        in redirects
    )
    assert (
        "/2010/05/une-lampe-des-avis.html\tposts/2010-05-03-une-lampe-des-avis.md"
        in redirects
    )
    assert "/p/contact.html\tpages/contact.md" in redirects
    assert "/feeds/posts/default\t@feeds/all.atom.xml" in redirects


def test_a_truncated_export_imports_what_it_holds(
    site: dict[str, Any], tmp_path: Path
) -> None:
    data = (DATA / "wordpress.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.index(b"<title><![CDATA[Brouillon") + 30])
    tally = imported(site, "wordpress", cut)
    assert (tally.posts, tally.pages) == (1, 1)
    ((where, reason),) = tally.skipped
    assert where == "cut.xml" and "cut short" in reason
    # Whole files only: no post half-written, no temporary file left.
    posts = list((content_of(site) / "posts").iterdir())
    assert [p.name for p in posts if p.name.startswith(".")] == []


def test_resumes_after_a_kill(tmp_path: Path) -> None:
    export = tmp_path / "big.xml"
    bench_module().write_wxr(export, 300, comments=2)
    killed = make_site(tmp_path / "killed")
    clean = make_site(tmp_path / "clean")
    command = [
        sys.executable, str(ROOT / "publish.py"), "--settings",
        str(Path(killed["CAUSERIE_SITE_DIR"]) / "pelicanconf.py"), "import", "wordpress", str(export),
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    posts = content_of(killed) / "posts"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if len(list(posts.glob("*.md"))) >= 60:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, (
        "the import ended before it could be killed"
    )
    assert 60 <= len(list(posts.glob("*.md"))) < 300
    again = run_publish(*command[2:], cwd=Path(killed["CAUSERIE_SITE_DIR"]))
    assert again.returncode == 0, again.stderr
    imported(clean, "wordpress", export)
    stale = {
        p for p in files(content_of(killed)) if p.rpartition("/")[2].startswith(".")
    }
    assert files(content_of(killed)).keys() - stale == files(content_of(clean)).keys()
    for path, data in files(content_of(clean)).items():
        assert files(content_of(killed))[path] == data, path
    strip = ("id", "updated_at", "received_at")
    assert [{k: v for k, v in r.items() if k not in strip} for r in rows(killed)] == [
        {k: v for k, v in r.items() if k not in strip} for r in rows(clean)
    ]


def test_the_command_line(site: dict[str, Any]) -> None:
    settings_file = str(Path(site["CAUSERIE_SITE_DIR"]) / "pelicanconf.py")
    result = run_publish(
        "--settings",
        settings_file,
        "import",
        "wordpress",
        str(DATA / "wordpress.xml"),
        "--dry-run",
    )
    assert result.returncode == 0, result.stderr
    assert "would write posts/2012-03-12-reparer-une-lampe.md" in result.stdout
    assert (
        "Would import 2 posts, 1 page, 1 draft (0 unchanged); 3 comments shown, 3 kept as rejected"
        in result.stdout
    )
    assert "skipped post 150: no date" in result.stderr
    bad = run_publish(
        "--settings", settings_file, "import", "blogger", str(DATA / "wordpress.xml")
    )
    assert (
        bad.returncode == 1
        and "not a Blogger export" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    strict = run_publish(
        "--settings",
        settings_file,
        "import",
        "wordpress",
        str(DATA / "wordpress.xml"),
        "--strict",
    )
    assert strict.returncode == 1 and "--strict: post 150: no date" in strict.stderr


def test_a_post_edited_here_is_kept_until_its_item_changes(
    site: dict[str, Any], tmp_path: Path
) -> None:
    imported(site, "wordpress", DATA / "wordpress.xml")
    page = content_of(site) / "pages/a-propos.md"
    edited = page.read_text(encoding="utf-8").replace("1987", "1987 (à Vaise)")
    page.write_text(edited, encoding="utf-8")
    imported(site, "wordpress", DATA / "wordpress.xml")
    assert page.read_text(encoding="utf-8") == edited
    # An Imported-From line an older converter wrote: the post is made again.
    meta = re.sub(
        r" 2 #[0-9a-f]{16}$", " 2 #" + "0" * 16, edited.split("\n\n")[0], flags=re.M
    )
    assert meta != edited.split("\n\n")[0]
    page.write_text(meta + "\n\nAncien texte.\n", encoding="utf-8")
    imported(site, "wordpress", DATA / "wordpress.xml")
    assert "Nous réparons des lampes depuis 1987." in page.read_text(encoding="utf-8")
    assert [p.name for p in (content_of(site) / "pages").iterdir()] == ["a-propos.md"]


def test_a_feed_import(site: dict[str, Any], tmp_path: Path) -> None:
    export = tmp_path / "vieux.rss"
    export.write_bytes(
        """<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0"><channel><title>Vieux carnet</title><link>https://vieux.example/</link>
<item><title>Été à l'atelier</title><link>https://vieux.example/archives/ete.php?id=4</link>
<guid>https://vieux.example/archives/ete.php?id=4</guid><pubDate>Tue, 01 Jul 2008 10:00:00 +0200</pubDate>
<author>zoe@vieux.example (Zoé)</author><category>saisons</category>
<description>&lt;p&gt;Il fait chaud, très chaud.&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</description></item>
</channel></rss>""".encode("iso-8859-1")
    )
    tally = imported(site, "feed", export)
    assert (tally.posts, tally.comments, tally.skipped) == (1, 0, [])
    (post,) = (content_of(site) / "posts").glob("2008-07-01-*.md")
    text = post.read_text(encoding="utf-8")
    assert "Title: Été à l'atelier\n" in text and "Tags: saisons\n" in text
    assert "Il fait chaud, très chaud." in text and "x()" not in text
    assert "\nAuthor: Zoé\n" in text and tally.authors_added == ["zoe"]
    redirects = (content_of(site) / "redirects.tsv").read_text(encoding="utf-8")
    assert f"/archives/ete.php?id=4\tposts/{post.name}" in redirects.splitlines()
