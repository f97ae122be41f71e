"""Pure functions, tested with tables of input and expected output."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest

from causerie.authoring.registry import AuthorsError, parse_registry
from causerie.authoring.scaffold import NewPost, render
from causerie.errors import SettingsError
from causerie.settings import read_section
from causerie.sitebuild.reading import reading_minutes, word_count
from causerie.sitebuild.related import Candidate, RelatedIndex, related
from causerie.sitebuild.schedule import is_due, parse_instant
from causerie.sitebuild.settings import SitebuildSettings
from causerie.theme_i18n.dates import format_date

UTC = dt.UTC


@pytest.mark.parametrize(
    ("day", "lang", "fmt", "expected"),
    [
        (dt.date(2008, 10, 2), "fr", "full", "jeudi 2 octobre 2008"),
        (dt.date(2008, 10, 2), "en", "full", "Thursday, October 2, 2008"),
        (dt.datetime(2026, 3, 1, 23, 0), "fr", "long", "1 mars 2026"),
        (dt.date(2026, 8, 15), "fr", "full", "samedi 15 août 2026"),
    ],
)
def test_dates_in_the_posts_language(day, lang, fmt, expected):
    assert format_date(day, lang, fmt) == expected


@pytest.mark.parametrize(
    ("html", "words"),
    [
        ("<p>Bonjour le monde</p>", 3),
        ("<p>l’atelier d'été, c’est porte-à-porte</p>", 4),
        ('<a href="https://x.example/very/long/url">lien</a>', 1),
        ("<p>A &amp; B</p>", 2),
        ("", 0),
    ],
)
def test_word_count(html, words):
    assert word_count(html) == words


@pytest.mark.parametrize(("words", "minutes"), [(0, 1), (230, 1), (231, 2), (1000, 5)])
def test_reading_minutes(words, minutes):
    assert reading_minutes("<p>" + "mot " * words + "</p>", 230) == minutes


def _c(key, tags=(), category=None, day=1):
    return Candidate(
        key, key, dt.datetime(2026, 1, day, tzinfo=UTC), category, frozenset(tags)
    )


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        # more shared tags first; same category counts one
        ([_c("a", {"x"}), _c("b", {"x", "y"}), _c("c", (), "cat")], ["b", "a", "c"]),
        # nothing in common: not related
        ([_c("a", {"z"}), _c("b", (), "other")], []),
        # equal scores: the closest in time first (the post is of day 1)
        ([_c("later", {"x"}, day=5), _c("near", {"x"}, day=2)], ["near", "later"]),
        # at most three
        ([_c(k, {"x"}, day=i + 1) for i, k in enumerate("abcde")], ["a", "b", "c"]),
        # a newer post does not push out a closer one of the same score
        (
            [
                _c("a", {"x"}, day=1),
                _c("b", {"x"}, day=2),
                _c("c", {"x"}, day=3),
                _c("newest", {"x"}, day=28),
            ],
            ["a", "b", "c"],
        ),
    ],
)
def test_related_posts(pool, expected):
    post = _c("me", {"x", "y"}, "cat")
    assert related(post, [post, *pool], 3) == expected
    assert RelatedIndex([post, *pool]).related(post, 3) == expected


@pytest.mark.parametrize("seed", range(40))
def test_related_index_equals_the_rule(seed):
    """The index gives related()'s answer for every post: random pools with
    few tags, categories and days, so ties (score, date, even title) abound."""
    rng = random.Random(seed)
    pool = [
        Candidate(
            key,
            rng.choice("abc"),
            dt.datetime(2026, 1, rng.randint(1, 9), tzinfo=UTC),
            rng.choice([None, "c1", "c2", "c3"]),
            frozenset(rng.sample(["t1", "t2", "t3", "t4", "t5"], rng.randint(0, 3))),
        )
        for key in range(rng.randint(1, 60))
    ]
    index = RelatedIndex(pool)
    for limit in (0, 1, 3, 7):
        for post in pool:
            assert index.related(post, limit) == related(post, pool, limit)


@pytest.mark.parametrize(
    ("date", "now", "due"),
    [
        ("2026-11-23T09:00+01:00", "2026-11-23T08:00+00:00", True),  # same instant
        ("2026-11-23T09:01+01:00", "2026-11-23T08:00+00:00", False),
        ("2027-06-01T09:00+02:00", "2026-11-23T12:00+01:00", False),
        ("2025-01-01T00:00+00:00", "2026-11-23T12:00+01:00", True),
    ],
)
def test_scheduled_posts_wait_for_their_date(date, now, due):
    assert is_due(parse_instant(date), parse_instant(now)) is due


def test_parse_instant_says_what_it_accepts():
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_instant("next tuesday")
    assert parse_instant("2027-01-01").tzinfo is UTC


def test_settings_are_merged_over_defaults_and_validated():
    cfg = read_section(
        {"SITEBUILD": {"related_posts": 5}}, "SITEBUILD", SitebuildSettings
    )
    assert cfg.related_posts == 5 and cfg.words_per_minute == 230
    with pytest.raises(SettingsError, match=r"unknown key.*'related'.*related_posts"):
        read_section({"SITEBUILD": {"related": 5}}, "SITEBUILD", SitebuildSettings)
    with pytest.raises(
        SettingsError, match=r"SITEBUILD\['words_per_minute'\] must be int"
    ):
        read_section(
            {"SITEBUILD": {"words_per_minute": "fast"}}, "SITEBUILD", SitebuildSettings
        )
    with pytest.raises(SettingsError, match="now: 'soon' is not a date"):
        read_section({"SITEBUILD": {"now": "soon"}}, "SITEBUILD", SitebuildSettings)
    with pytest.raises(SettingsError, match="must be a dict"):
        read_section({"SITEBUILD": ["x"]}, "SITEBUILD", SitebuildSettings)


@dataclass(frozen=True)
class _Typed:
    names: tuple[str, ...] = ()
    ratio: float = 1.0
    flag: bool = False


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({"names": ["a", "b"]}, True),
        ({"names": ["a", 2]}, False),
        ({"ratio": 2}, True),
        ({"ratio": True}, False),
        ({"flag": 1}, False),
    ],
)
def test_settings_types(raw, ok):
    if ok:
        read_section({"X": raw}, "X", _Typed)
    else:
        with pytest.raises(SettingsError):
            read_section({"X": raw}, "X", _Typed)


GOOD = {
    "name": "Ana Lima",
    "email": "ana@example.com",
    "role": "CTO",
    "bio": "Builds things.",
    "avatar": "/images/ana.svg",
    "lang": "en",
}


def test_registry_finds_authors_by_slug_name_email():
    reg = parse_registry({"ana-lima": GOOD}, "authors.toml", ("fr", "en"))
    ana = reg.find("ana-lima")
    assert ana is not None and ana.avatar == "images/ana.svg"
    assert reg.find("ANA LIMA") is ana and reg.find("ana@example.com") is ana
    assert reg.find("Anà Lima") is ana  # same slug
    assert reg.find("Bob") is None


@pytest.mark.parametrize(
    ("entry", "key", "message"),
    [
        ({**GOOD, "email": ""}, "ana-lima", "missing email"),
        ({**GOOD, "lang": "de"}, "ana-lima", "lang 'de' is not one of fr, en"),
        ({**GOOD, "links": ["javascript:alert(1)"]}, "ana-lima", "not an http"),
        ({**GOOD, "twitter": "@ana"}, "ana-lima", "unknown field"),
        (GOOD, "Ana Lima", "must be a slug such as \\[ana-lima\\]"),
        ({**GOOD, "email": "nope"}, "ana-lima", "not an e-mail"),
    ],
)
def test_registry_rejects_bad_entries(entry, key, message):
    with pytest.raises(AuthorsError, match=message):
        parse_registry({key: entry}, "authors.toml", ("fr", "en"))


def test_registry_rejects_a_shared_email():
    with pytest.raises(AuthorsError, match="already used by \\[a\\]"):
        parse_registry({"a": GOOD, "b": {**GOOD, "name": "B"}}, "authors.toml", ("en",))


def test_new_post_text():
    reg = parse_registry({"ana-lima": GOOD}, "authors.toml", ("fr", "en"))
    ana = reg.find("ana-lima")
    assert ana is not None
    post = NewPost(
        title="Été à l’atelier: 3 lampes",
        author=ana,
        lang="fr",
        date=dt.datetime(2026, 7, 1, 9, 30),
        tags=("atelier", "été"),
    )
    assert post.filename == "2026-07-01-ete-a-latelier-3-lampes.md"
    assert render(post) == (
        "Title: Été à l’atelier: 3 lampes\n"
        "Date: 2026-07-01 09:30\n"
        "Author: Ana Lima\n"
        "Tags: atelier, été\n"
        "Lang: fr\n"
        "Slug: ete-a-latelier-3-lampes\n"
        "Status: draft\n"
        "\n"
        "Écrivez ici votre billet, en Markdown.\n"
    )
