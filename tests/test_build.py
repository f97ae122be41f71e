"""A real Pelican build of the demo site: pages, drafts, schedule, languages."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import AS_OF, ROOT, SITEURL, build, compared, run_publish

from causerie.sitebuild.build import BuildReport, SitebuildError

DRAFT = "abat-jour-en-lin"
SCHEDULED = "portes-ouvertes-atelier"
FRENCH_POST = "posts/2025/nos-clients-parlent-plus-fort/index.html"
ENGLISH_POST = "posts/2026/accessibility-what-we-fixed/en/index.html"


def all_text(site: Path) -> dict[str, str]:
    return {
        str(p.relative_to(site)): p.read_text(encoding="utf-8")
        for p in site.rglob("*")
        if p.suffix in (".html", ".xml")
    }


def test_demo_builds_without_problems(demo_build: BuildReport) -> None:
    assert demo_build.problems == []
    # 13 dated posts are due: 11 originals + 2 English translations; one
    # draft and one scheduled post wait; "À propos" and its translation.
    assert (demo_build.posts, demo_build.translations) == (11, 2)
    assert (demo_build.drafts, demo_build.scheduled) == (1, 1)
    assert demo_build.pages == 2


@pytest.mark.parametrize(
    "page",
    [
        "index.html",
        "archives/index.html",
        "categories/index.html",
        "categories/conversation/index.html",
        "tags/index.html",
        "authors/index.html",
        "authors/claire-dubois/index.html",
        "authors/tom-whitfield/index.html",
        "a-propos/index.html",
        "a-propos/en/index.html",
        FRENCH_POST,
        ENGLISH_POST,
        "posts/2025/pourquoi-un-blog/index.html",
        "posts/2025/pourquoi-un-blog/en/index.html",
        "feeds/all.atom.xml",
        "feeds/all.rss.xml",
        "feeds/categories/produits.atom.xml",
        "feeds/tags/webmention.atom.xml",
        "feeds/authors/lea-marchetti.rss.xml",
        "sitemap.xml",
        "images/authors/claire-dubois.svg",
    ],
)
def test_expected_pages_exist(demo_site: Path, page: str) -> None:
    assert (demo_site / page).is_file()


def test_drafts_and_scheduled_posts_are_nowhere(demo_site: Path) -> None:
    assert not (demo_site / "drafts").exists()
    for name, text in all_text(demo_site).items():
        assert DRAFT not in text, f"the draft leaks into {name}"
        assert SCHEDULED not in text, f"the scheduled post leaks into {name}"
        assert "Portes ouvertes" not in text, f"the scheduled title leaks into {name}"


def test_scheduled_post_goes_live_when_its_date_passes(tmp_path: Path) -> None:
    report = build(tmp_path / "later", SITEBUILD={"now": "2027-06-01T09:00:00+02:00"})
    assert report.scheduled == 0 and report.posts == 12
    assert (tmp_path / "later" / "posts/2027" / SCHEDULED / "index.html").is_file()
    sitemap = (tmp_path / "later" / "sitemap.xml").read_text(encoding="utf-8")
    assert f"/posts/2027/{SCHEDULED}/" in sitemap
    assert DRAFT not in sitemap


def test_sitemap_lists_every_post_with_absolute_urls(demo_site: Path) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.parse(demo_site / "sitemap.xml").getroot()
    urls = {loc.text for loc in root.findall("s:url/s:loc", ns)}
    assert all(u and u.startswith(SITEURL + "/") for u in urls)
    pages = {
        f"{SITEURL}/{p.parent.relative_to(demo_site).as_posix()}/"
        for p in (demo_site / "posts").rglob("index.html")
    }
    # The deleted post's address serves a tombstone: not in the sitemap.
    tombstone = f"{SITEURL}/posts/2025/concours-photo/"
    assert tombstone in pages and tombstone not in urls
    posts = pages - {tombstone}
    assert len(posts) == 13
    assert posts <= urls


def test_french_post_speaks_french(demo_site: Path) -> None:
    html = (demo_site / FRENCH_POST).read_text(encoding="utf-8")
    assert '<html lang="fr"' in html
    assert "mardi 4 mars 2025" in html
    assert "Aucun commentaire" in html
    assert "No comments yet" not in html


def test_english_post_speaks_english(demo_site: Path) -> None:
    html = (demo_site / ENGLISH_POST).read_text(encoding="utf-8")
    assert '<html lang="en"' in html
    assert "Tuesday, May 12, 2026" in html
    assert "No comments yet" in html
    assert "Aucun commentaire" not in html


def test_translations_link_each_other(demo_site: Path) -> None:
    fr = (demo_site / "posts/2025/pourquoi-un-blog/index.html").read_text(
        encoding="utf-8"
    )
    en = (demo_site / "posts/2025/pourquoi-un-blog/en/index.html").read_text(
        encoding="utf-8"
    )
    assert f'hreflang="en" href="{SITEURL}/posts/2025/pourquoi-un-blog/en/"' in fr
    assert f'hreflang="fr" href="{SITEURL}/posts/2025/pourquoi-un-blog/"' in en


def test_french_dates_need_no_system_locale(tmp_path: Path) -> None:
    """Dates come from Babel's data, not from the machine's installed locales."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "LANGUAGE": ""}
    result = run_publish(
        "build", "-o", str(tmp_path / "out"), "--as-of", "2026-11-23", env=env
    )
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / FRENCH_POST).read_text(encoding="utf-8")
    assert "mardi 4 mars 2025" in html


def test_related_posts_and_reading_time(demo_site: Path) -> None:
    html = (demo_site / "posts/2026/aube-six-mois-apres/index.html").read_text(
        encoding="utf-8"
    )
    # The other Aube post shares the category and tags: it must be offered.
    assert "/posts/2026/aube-une-lampe-qui-se-repare/" in html
    assert "min de lecture" in html


def test_build_summary_and_progress(tmp_path: Path) -> None:
    result = run_publish("build", "-o", str(tmp_path / "o"), "--as-of", "2026-11-23")
    assert result.returncode == 0, result.stderr
    assert "Reading" in result.stderr
    assert (
        "Built 11 posts (2 translations), 2 pages; skipped 1 draft and 1 scheduled post"
        in result.stdout
    )


def test_the_same_content_builds_the_same_bytes(tmp_path: Path) -> None:
    """Two builds of unchanged content, by two processes a second apart, are
    identical file for file (an unchanged site deploys no new release; the
    sitemap's list pages are dated by the newest post, not by the clock)."""
    import time

    from receiver_kit import write_settings

    settings = write_settings(tmp_path / "site", ROOT / "content", {})
    outputs = [tmp_path / "first", tmp_path / "second"]
    for output in outputs:
        result = run_publish("--settings", str(settings), "build", "-o", str(output))
        assert result.returncode == 0, result.stderr
        time.sleep(1.1)  # the sitemap's dates have a one-second resolution

    def tree(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and compared(p.relative_to(root).as_posix())
        }

    first, second = (tree(output) for output in outputs)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert "<lastmod>" in first["sitemap.xml"].decode()


#: Markdown whose state could leak from one post into the next if a reused
#: Markdown object were not reset: footnotes, abbreviations, reference links,
#: heading ids (toc), stashed raw HTML, code blocks, a summary with markup.
STATEFUL_POST = """Title: État {n}
Date: 2026-02-0{n} 10:00
Author: Claire Dubois
Category: Produits
Tags: test
Lang: fr
Slug: etat-{n}
Summary: Un *résumé* avec une note[^1] et [un lien][ref].

## Titre

## Titre

Le HTML fait partie du texte.[^1] [Une référence][ref] et [une autre][r{n}].

*[HTML]: HyperText Markup Language

<div class="brut">du HTML brut {n}</div>

```python
print({n})
```

[^1]: La note du billet {n}.
[ref]: https://ref.example/{n}
"""


def test_reused_markdown_objects_give_the_same_site(tmp_path: Path) -> None:
    """Every output file is byte-identical whether Markdown is read with the
    objects kept for the build (reuse_markdown) or with Pelican's reader,
    which makes a new Markdown object per file."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    for n in (1, 2, 3):
        (content / "posts" / f"etat-{n}.md").write_text(
            STATEFUL_POST.format(n=n), encoding="utf-8"
        )
    sites = {}
    for reuse in (True, False):
        output = tmp_path / f"reuse-{reuse}"
        report = build(
            output,
            PATH=str(content),
            SITEBUILD={"now": AS_OF, "reuse_markdown": reuse},
        )
        assert report.problems == [] and report.posts == 14
        sites[reuse] = {
            str(p.relative_to(output)): p.read_bytes()
            for p in output.rglob("*")
            if p.is_file() and compared(p.relative_to(output).as_posix())
        }
    assert sorted(sites[True]) == sorted(sites[False])
    differ = [name for name in sites[True] if sites[True][name] != sites[False][name]]
    assert differ == []
    page = sites[True]["posts/2026/etat-2/index.html"].decode()
    assert "La note du billet 2." in page and "du billet 1." not in page


def test_a_failed_build_does_not_stop_later_sitemaps(tmp_path: Path) -> None:
    """pelican-sitemap waited for the Pelican object of a build that raised:
    a process that built again (publish serve, publish watch) wrote no
    sitemap from then on."""
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    article = theme / "templates" / "article.html"
    article.write_text(
        "{{ article.nothing.here }}" + article.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    with pytest.raises(SitebuildError, match="the theme failed"):
        build(tmp_path / "broken", THEME=str(theme))
    report = build(tmp_path / "fixed")
    assert report.problems == []
    assert (tmp_path / "fixed" / "sitemap.xml").is_file()
