"""Search without a browser: the pure core, the settings, and the indexer
run for real (the pagefind binary of pagefind[bin]) on built sites; a
missing or failing indexer is a clear error, or a warning when not required."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import build

from causerie import search
from causerie.errors import SettingsError
from causerie.search.core import (
    ENTRY_FILE,
    is_excluded,
    plan_bundle,
    search_pages,
)
from causerie.search.indexer import (
    SearchError,
    build_index,
    find_binary,
    scratch_name,
)

# --- the pure core ------------------------------------------------------------


@pytest.mark.parametrize(
    ("save_as", "patterns", "excluded"),
    [
        ("posts/2019/x/index.html", ["posts/2019/*"], True),
        ("posts/2020/x/index.html", ["posts/2019/*"], False),
        ("a-propos/index.html", ["a-propos/"], True),
        ("a-propos/en/index.html", ["a-propos/"], False),
        ("a-propos/en/index.html", ["*/en/*"], True),
        ("posts/2026/x/en/index.html", ["*/en/*"], True),
        ("legal.html", ["legal.html"], True),
        ("/posts/2019/x/index.html", ["posts/2019/*"], True),
        ("posts/2019/x/index.html", [], False),
    ],
)
def test_exclude_patterns(save_as: str, patterns: list[str], excluded: bool) -> None:
    assert is_excluded(save_as, patterns) is excluded


def test_search_pages_one_per_language_default_first() -> None:
    pages = search_pages("search/", "fr", ["en", "fr", "de"])
    assert [(p.lang, p.url, p.save_as) for p in pages] == [
        ("fr", "search/", "search/index.html"),
        ("en", "search/en/", "search/en/index.html"),
        ("de", "search/de/", "search/de/index.html"),
    ]


def test_new_bundle_replaces_the_old_entry_file_last() -> None:
    live = {ENTRY_FILE: "a", "index/old.pf_index": "1", "pagefind.js": "js"}
    new = {
        ENTRY_FILE: "b",
        "index/new.pf_index": "2",
        "pagefind.js": "js",
        "fragment/f.pf_fragment": "3",
    }
    plan = plan_bundle(new, live)
    assert plan.copy == ("fragment/f.pf_fragment", "index/new.pf_index", ENTRY_FILE)
    assert plan.remove == ("index/old.pf_index",)
    assert plan_bundle(live, live).copy == ()


# --- settings -------------------------------------------------------------------


def test_defaults_and_validation() -> None:
    cfg = search.config({})
    assert (cfg.enabled, cfg.required, cfg.comments, cfg.url) == (
        True,
        True,
        True,
        "search/",
    )
    with pytest.raises(SettingsError, match=r"unknown key\(s\) 'exclued'"):
        search.config({"SEARCH": {"exclued": ["posts/*"]}})
    with pytest.raises(SettingsError, match="comments_weight must be between 0 and 10"):
        search.config({"SEARCH": {"comments_weight": 20}})
    with pytest.raises(SettingsError, match="must be a path relative to the site"):
        search.config({"SEARCH": {"url": "/search"}})
    with pytest.raises(SettingsError, match="without a leading '/'"):
        search.config({"SEARCH": {"exclude": ["/posts/*"]}})


# --- the indexer, for real ------------------------------------------------------


def _entry(output: Path) -> dict[str, dict[str, int]]:
    return json.loads((output / "pagefind" / ENTRY_FILE).read_text("utf-8"))[
        "languages"
    ]


def test_the_installed_binary_is_found() -> None:
    assert Path(find_binary(search.config({}))).is_file()


def test_a_clean_build_indexes_posts_and_pages_by_language(demo_site: Path) -> None:
    languages = _entry(demo_site)
    assert set(languages) == {"fr", "en"}
    post_html = (
        demo_site / "posts/2026/aube-une-lampe-qui-se-repare/index.html"
    ).read_text("utf-8")
    assert "data-pagefind-body" in post_html
    assert 'data-pagefind-filter="category">Produits<' in post_html
    assert 'data-pagefind-weight="0.5"' in post_html or "comment-list" not in post_html
    # The list pages and the search pages themselves are not indexed.
    for listing in ("index.html", "archives/index.html", "search/index.html"):
        assert "data-pagefind-body" not in (demo_site / listing).read_text("utf-8")
    total = sum(v["page_count"] for v in languages.values())
    indexed = [
        p
        for p in demo_site.rglob("*.html")
        if "data-pagefind-body" in p.read_text("utf-8")
    ]
    assert total == len(indexed)


def test_excluded_pages_and_comments_off(tmp_path: Path) -> None:
    output = tmp_path / "out"
    build(output, SEARCH={"exclude": ["*/en/*"], "comments": False})
    assert set(_entry(output)) == {"fr"}, "every English page is excluded"
    en = output / "posts/2026/accessibility-what-we-fixed/en/index.html"
    assert "data-pagefind-body" not in en.read_text("utf-8")
    fr = (output / "posts/2025/pourquoi-un-blog/index.html").read_text("utf-8")
    assert "data-pagefind-weight" not in fr


def test_disabled_search_leaves_no_index_and_no_field(tmp_path: Path) -> None:
    output = tmp_path / "out"
    build(output)
    assert (output / "pagefind").is_dir()
    # The previous build's index is retained, then removed: search is off.
    build(output, SEARCH={"enabled": False})
    assert not (output / "pagefind").exists()
    assert not (output / "search").exists()
    home = (output / "index.html").read_text("utf-8")
    assert "site-search" not in home


def test_a_missing_binary_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-pagefind"
    with pytest.raises(SearchError) as caught:
        build(tmp_path / "out", SEARCH={"binary": str(missing)})
    message = str(caught.value)
    assert str(missing) in message
    assert "pip install 'pagefind[bin]'" in message


def _failing_binary(tmp_path: Path) -> Path:
    script = tmp_path / "pagefind"
    script.write_text("#!/bin/sh\necho 'Error: out of disk space' >&2\nexit 3\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_failing_binary_is_an_error_with_its_message(tmp_path: Path) -> None:
    with pytest.raises(SearchError) as caught:
        build(tmp_path / "out", SEARCH={"binary": str(_failing_binary(tmp_path))})
    message = str(caught.value)
    assert "exit 3" in message and "out of disk space" in message
    assert "SEARCH['required'] = False" in message


def test_not_required_a_failure_is_a_warning(tmp_path: Path) -> None:
    report = build(
        tmp_path / "out",
        SEARCH={"binary": str(_failing_binary(tmp_path)), "required": False},
    )
    assert report.posts
    assert any("search" in p and "out of disk space" in p for p in report.problems), (
        report.problems
    )


def test_reindexing_keeps_unchanged_files_and_drops_stale_ones(tmp_path: Path) -> None:
    output = tmp_path / "out"
    build(output)
    cfg = search.config({})
    bundle = output / "pagefind"

    def hashed() -> set[str]:
        return {p.name for d in ("fragment", "index") for p in (bundle / d).iterdir()}

    before = hashed()
    entry = (bundle / "pagefind-entry.json").read_bytes()
    again = build_index(output, cfg)
    # Same pages: the index is kept as it is, not made again (Pagefind would
    # name its filter files anew, and a deploy would see a change).
    assert hashed() == before
    assert again.files_changed == 0
    assert (bundle / "pagefind-entry.json").read_bytes() == entry
    assert again.pages == sum(v["page_count"] for v in _entry(output).values())
    stale = output / "pagefind" / "fragment" / "en_stale.pf_fragment"
    stale.write_bytes(b"old")
    build_index(output, cfg)
    assert not stale.exists()
    assert hashed() == before


def _page(path: Path, lang: str, title: str, marked: bool) -> None:
    body = f"<main{' data-pagefind-body' if marked else ''}><h1>{title}</h1>"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html lang='{lang}'><head><title>{title}</title></head>"
        f"<body><nav>Menu</nav>{body}<p>Texte de la page {title}.</p></main>"
        "</body></html>",
        encoding="utf-8",
    )


def test_only_marked_pages_are_indexed_and_nothing_is_left_beside(
    tmp_path: Path,
) -> None:
    output = tmp_path / "output"
    _page(output / "posts/a/index.html", "fr", "Photophore", marked=True)
    _page(output / "posts/b/index.html", "fr", "Laiton", marked=True)
    _page(output / "tags/x/index.html", "fr", "Liste", marked=False)
    report = build_index(output, search.config({}))
    assert report.pages == 2
    # The staged pages and the fresh bundle do not outlive the indexing.
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["output"]
    assert not (Path("/dev/shm") / scratch_name(output)).exists()
    # A page losing its mark leaves the index; the unmarked one never came.
    _page(output / "posts/b/index.html", "fr", "Laiton", marked=False)
    assert build_index(output, search.config({})).pages == 1


@pytest.mark.parametrize("where", ["output", "dir"])
def test_the_indexer_works_where_scratch_says(tmp_path: Path, where: str) -> None:
    output = tmp_path / "site" / "output"
    _page(output / "posts/a/index.html", "fr", "Photophore", marked=True)
    place = tmp_path / "scratch"
    place.mkdir()
    scratch = "output" if where == "output" else str(place)
    report = build_index(output, search.config({"SEARCH": {"scratch": scratch}}))
    assert report.pages == 1
    assert list(place.iterdir()) == []
    assert sorted(p.name for p in output.parent.iterdir() if p.is_dir()) == ["output"]


def test_a_scratch_that_cannot_be_used_is_an_error_naming_it(tmp_path: Path) -> None:
    output = tmp_path / "output"
    _page(output / "a/index.html", "fr", "Photophore", marked=True)
    with pytest.raises(SearchError, match="SEARCH\\['scratch'\\]"):
        build_index(
            output, search.config({"SEARCH": {"scratch": str(tmp_path / "nowhere/x")}})
        )
    with pytest.raises(SettingsError, match="absolute"):
        search.config({"SEARCH": {"scratch": "tmp"}})


def test_a_killed_runs_scratch_is_cleared_not_indexed(tmp_path: Path) -> None:
    output = tmp_path / "output"
    _page(output / "posts/a/index.html", "fr", "Photophore", marked=True)
    leftover = Path("/dev/shm") / scratch_name(output) / "pages" / "old"
    _page(leftover / "index.html", "fr", "Ancien", marked=True)
    assert build_index(output, search.config({})).pages == 1
    assert not leftover.parent.parent.exists()


def test_a_site_that_marks_no_page_has_every_page_indexed(tmp_path: Path) -> None:
    # As Pagefind does on its own: no data-pagefind-body anywhere, every page.
    output = tmp_path / "output"
    _page(output / "index.html", "fr", "Accueil", marked=False)
    _page(output / "a/index.html", "fr", "Photophore", marked=False)
    _page(output / "b/index.html", "en", "Brass", marked=False)
    report = build_index(output, search.config({}))
    assert report.pages == 3 and report.languages == ("en", "fr")


def test_watch_reindexes_in_the_background_only_when_files_changed(
    tmp_path: Path,
) -> None:
    from causerie import signals
    from causerie.search import indexer

    output = tmp_path / "out"
    build(output)
    entry = output / "pagefind" / ENTRY_FILE
    settings = {"PLUGINS": ["causerie.search"], "SEARCH": {}}
    before = entry.stat().st_mtime_ns
    french = _entry(output)["fr"]["page_count"]
    # Nothing changed and an index is there: no run.
    signals.output_updated.send(
        output, settings=settings, background=True, changed=False
    )
    worker = indexer.background(output, search.config(settings))
    assert worker.wait(30) and worker.runs == 0
    assert entry.stat().st_mtime_ns == before
    # A burst of changes: coalesced, at most one run after the first.
    page = output / "posts/2025/pourquoi-un-blog/index.html"
    page.unlink()
    for _ in range(5):
        signals.output_updated.send(
            output, settings=settings, background=True, changed=True
        )
    assert worker.wait(120), "the background indexing did not finish"
    assert 1 <= worker.runs <= 2 and worker.last_error is None
    assert worker.last is not None
    # Built with the post's page gone: one French page fewer.
    assert _entry(output)["fr"]["page_count"] == french - 1
    # A site whose settings no longer name the plugin is left alone.
    runs = worker.runs
    signals.output_updated.send(output, settings={"PLUGINS": []}, background=True)
    assert worker.wait(30) and worker.runs == runs
