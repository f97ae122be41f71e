"""Reviews (issue 15): ratings as strangers write them, and h-reviews in the
shapes sites publish, read by verify() (pure: FetchResult in)."""

from __future__ import annotations

import pytest

from causerie.webmentions.fetch import FetchResult
from causerie.webmentions.reviews.rating import Rating, read_rating
from causerie.webmentions.verify.source import MentionData, verify

TARGET = "https://blog.example/posts/lampe/"
SOURCE = "https://alice.example/reviews/1"


def verified(body: str) -> MentionData:
    fetched = FetchResult(SOURCE, 200, {}, body.encode(), "text/html", "utf-8")
    result = verify(SOURCE, TARGET, fetched)
    assert isinstance(result, MentionData), result
    return result


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (("4", None, None), Rating(4.0, 5.0, 1.0)),
        (("4,5", None, None), Rating(4.5, 5.0, 1.0)),
        (("  3.5 ", "5", "1"), Rating(3.5, 5.0, 1.0)),
        (("8", "10", "0"), Rating(8.0, 10.0, 0.0)),
        (("4/5", None, None), Rating(4.0, 5.0, 1.0)),
        (("7 out of 10", None, "0"), Rating(7.0, 10.0, 0.0)),
        (("4 sur 5", None, None), Rating(4.0, 5.0, 1.0)),
        (("★★★★☆", None, None), Rating(4.0, 5.0, 1.0)),
        (("90", "100", "0"), Rating(90.0, 100.0, 0.0)),
    ],
)
def test_ratings_people_write_are_read(
    given: tuple[str, str | None, str | None], expected: Rating
) -> None:
    assert read_rating(*given) == expected


@pytest.mark.parametrize(
    ("given", "why"),
    [
        (("6", None, None), "outside 1–5"),
        (("0", None, None), "outside 1–5"),
        (("-3", None, None), "outside 1–5"),
        (("3", "5", "-5"), "negative scale"),
        (("NaN", None, None), "not a number"),
        (("nan", "5", "1"), "not a number"),
        (("inf", None, None), "not a number"),
        (("1e400", None, None), "not a number"),
        (("99999999999999999999", None, None), "not a number"),
        (("999999", None, None), "outside 1–5"),
        (("5", "100000", "0"), "larger than 0–100"),
        (("great", None, None), "not a number"),
        (("4", "five", None), "best rating 'five' is not a number"),
        (("4", "1", "5"), "not above the worst 5"),
        (("3", "3", "3"), "not above the worst 3"),
        (("4/5", "10", None), "does not match its best"),
        (("<script>x</script>", None, None), "not a number"),
    ],
)
def test_bad_ratings_are_refused_with_a_reason(
    given: tuple[str, str | None, str | None], why: str
) -> None:
    rating = read_rating(*given)
    assert rating is not None and rating.value is None
    assert rating.note and why in rating.note


def test_no_rating_is_no_rating() -> None:
    assert read_rating(None) is None
    assert read_rating("  ") is None


def test_the_one_scale_is_one_to_five() -> None:
    assert Rating(8.0, 10.0, 0.0).stars() == pytest.approx(4.2)
    assert Rating(1.0).stars() == 1.0 and Rating(5.0).stars() == 5.0


# --- h-reviews as sites publish them ------------------------------------------

#: The microformats wiki's h-review: p-item h-product, p-rating in <data>
#: with stars as its text, p-best, e-content, the author's h-card with a photo.
WIKI_SHAPE = f"""<!doctype html><html><head><title>Blog d’Alice</title></head><body>
<article class="h-review">
  <h1 class="p-name">Une lampe qui dure</h1>
  <p class="p-author h-card"><img class="u-photo" src="/alice.jpg" alt="">
     <a class="p-name u-url" href="https://alice.example/">Alice Martin</a></p>
  <p>Avis sur <a class="p-item h-product" href="{TARGET}">Aube</a> :
     <data class="p-rating" value="4">★★★★☆</data>
     sur <data class="p-best" value="5">5</data></p>
  <div class="e-content"><p>Trois ans sans une panne.</p><script>alert(1)</script></div>
  <time class="dt-published" datetime="2026-11-20T10:00:00+01:00">20 nov.</time>
</article></body></html>"""

#: An h-entry with u-review-of and a p-rating in plain text (some blogs).
ENTRY_SHAPE = f"""<html><body><div class="h-entry">
  <a class="p-author h-card" href="https://bob.example/">Bob</a>
  <a class="u-review-of" href="{TARGET}#x">la lampe Aube</a>
  <span class="p-rating">4,5</span>/<span class="p-best">5</span>
  <p class="e-content">Very good light.</p></div></body></html>"""

#: An older h-review: p-item h-card with u-url inside, e-description, a
#: 0–10 scale.
DESCRIPTION_SHAPE = f"""<html><body><div class="h-review">
  <div class="p-item h-card"><a class="p-name u-url" href="{TARGET}">Aube</a></div>
  <span class="p-rating">8</span> / <span class="p-best">10</span>
  <span class="p-worst">0</span>
  <div class="e-description">Solide, un peu chère.</div>
  <span class="p-author h-card">Chloé</span></div></body></html>"""


def test_the_wiki_h_review_is_a_review_with_its_author_and_clean_text() -> None:
    review = verified(WIKI_SHAPE)
    assert review.kind == "review"
    assert (review.rating, review.rating_best, review.rating_worst) == (4.0, 5.0, 1.0)
    assert review.rating_note is None
    assert review.author_name == "Alice Martin"
    assert review.author_url == "https://alice.example/"
    assert review.author_photo == "https://alice.example/alice.jpg"
    assert review.title == "Une lampe qui dure"
    assert review.content_html and "Trois ans" in review.content_html
    assert "script" not in review.content_html and "alert" not in review.content_html


def test_an_h_entry_with_review_of_and_a_rating_is_a_review() -> None:
    review = verified(ENTRY_SHAPE)
    assert review.kind == "review" and review.rating == 4.5
    assert review.author_name == "Bob"


def test_an_older_h_review_with_e_description_and_a_ten_point_scale() -> None:
    review = verified(DESCRIPTION_SHAPE)
    assert review.kind == "review"
    assert (review.rating, review.rating_best, review.rating_worst) == (8.0, 10.0, 0.0)
    assert review.content_text and "Solide" in review.content_text


def test_a_review_of_another_page_is_a_mention_with_the_reason() -> None:
    body = f"""<html><body><div class="h-review">
      <a class="p-item h-product" href="https://shop.example/lamp">Lampe X</a>
      <span class="p-rating">1</span>
      <p class="e-content">Moins bien que <a href="{TARGET}">Aube</a>.</p>
      </div></body></html>"""
    mention = verified(body)
    assert mention.kind == "mention" and mention.rating is None
    assert mention.rating_note and "https://shop.example/lamp" in mention.rating_note


def test_a_rating_out_of_range_keeps_the_review_without_its_rating() -> None:
    body = WIKI_SHAPE.replace('value="4">★★★★☆', 'value="50">★')
    review = verified(body)
    assert review.kind == "review" and review.rating is None
    assert review.rating_note and "outside 1–5" in review.rating_note


def test_a_review_without_rating_is_a_review_without_rating() -> None:
    body = WIKI_SHAPE.replace('class="p-rating"', 'class="stars"')
    review = verified(body)
    assert review.kind == "review" and review.rating is None
    assert review.rating_note is None


# --- the aggregate and the rankings (pure) ----------------------------------------

import datetime as dt  # noqa: E402

from causerie.webmentions import model  # noqa: E402
from causerie.webmentions.model import Mention  # noqa: E402
from causerie.webmentions.reviews.aggregate import aggregate, current_reviews  # noqa: E402
from causerie.webmentions.reviews.rankings import Candidate, rank  # noqa: E402
from causerie.webmentions.site.comments import Comment  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _review(
    i: int, stars: float, author: str, target: str = TARGET, **kw: object
) -> Mention:
    values: dict[str, object] = {
        "id": i,
        "source": f"https://{author}.example/{i}",
        "target": target,
        "origin": model.WEBMENTION,
        "verification": model.VERIFIED,
        "moderation": model.APPROVED,
        "kind": "review",
        "author_url": f"https://{author}.example/",
        "rating": stars,
        "rating_best": 5.0,
        "rating_worst": 1.0,
        "published": NOW - dt.timedelta(days=100 - i),
        **kw,
    }
    return Mention(**values)  # type: ignore[arg-type]


def test_the_aggregate_counts_one_voice_and_only_approved_valid_ratings() -> None:
    reviews = [
        _review(1, 1.0, "bob"),
        _review(2, 5.0, "bob"),  # Bob again, later: replaces his 1
        _review(3, 4.0, "ana"),
        _review(4, 1.0, "eve", moderation=model.REJECTED),
        _review(5, 9.0, "mal"),  # a hand-edited row: outside its scale
        _review(6, 8.0, "ten", rating_best=10.0, rating_worst=0.0),  # 4.2 stars
    ]
    counted = current_reviews(reviews)
    assert [m.id for m in counted] == [2, 3, 5, 6]
    result = aggregate(counted)
    assert result is not None
    assert result.count == 3 and result.distribution == (0, 0, 0, 2, 1)
    assert result.rounded == 4.4  # (5 + 4 + 4.2) / 3


def _candidate(url: str, ratings: list[float], said: int = 0) -> Candidate:
    comments = tuple(
        Comment(
            id=i, kind="reply", author_name="x", author_url=None, author_photo=None,
            url=None, published=NOW - dt.timedelta(days=40 * (i % 2)), updated=NOW,
            content_html="", title=None, rsvp=None, uid=f"u{i}",
        )
        for i in range(said)
    )  # fmt: skip
    reviews = [_review(i, r, f"p{i}", target=url) for i, r in enumerate(ratings)]
    return Candidate(
        url, url, "fr", NOW - dt.timedelta(days=1), comments, aggregate(reviews)
    )


def test_best_rated_is_a_bayesian_average_with_a_minimum_count() -> None:
    one_five = _candidate("https://b/one", [5.0])
    forty = _candidate("https://b/forty", [5.0, 4.0, 5.0, 4.0, 5.0] * 8)
    three = _candidate("https://b/three", [2.0, 3.0, 2.0])
    ranks = rank([one_five, forty, three], NOW, min_count=3)["fr"]
    # A single 5 is not ranked (fewer than 3); forty 4.6 beat three 2.3.
    assert [r.url for r in ranks.best] == ["https://b/forty", "https://b/three"]
    assert ranks.best[0].shown == "4,6"
    prior = ranks.prior
    assert prior is not None and prior == pytest.approx((5 + 4.6 * 40 + 7) / 44)
    assert ranks.best[0].score == pytest.approx((3 * prior + 184) / 43, abs=1e-3)


def test_most_discussed_counts_the_window_and_all_time() -> None:
    busy_long_ago = _candidate("https://b/old", [], said=6)  # 3 in the window
    lively = _candidate("https://b/new", [], said=4)  # 2 in the window
    ranks = rank([lively, busy_long_ago], NOW, min_count=3)["fr"]
    assert [(r.url, r.count) for r in ranks.all_time] == [
        ("https://b/old", 6),
        ("https://b/new", 4),
    ]
    assert [(r.url, r.count) for r in ranks.recent] == [
        ("https://b/old", 3),
        ("https://b/new", 2),
    ]


def test_the_authors_email_names_a_review() -> None:
    from causerie.webmentions.settings import WebmentionSettings
    from causerie.webmentions.store.mention_store import Target
    from causerie.webmentions.verify.notify import build_message

    target = Target(TARGET, "Aube", "lea@blog.example", "fr")
    msg = build_message(WebmentionSettings(), _review(1, 4.0, "ana"), target, NOW)
    assert msg["Subject"] == "Nouvel avis sur «\u00a0Aube\u00a0» à modérer"
    assert "a reçu un avis qui attend" in msg.get_content()
