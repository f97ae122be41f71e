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
