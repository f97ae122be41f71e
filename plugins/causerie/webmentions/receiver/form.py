"""The comment form, for readers without a website (no JavaScript needed).

A comment is stored as a verified, pending reply: it goes through the same
moderation and is shown the same way as a webmention reply.
"""

from __future__ import annotations

import html
import logging
import uuid
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from causerie.catalogs import N_, message_language, tr
from causerie.webmentions import model
from causerie.webmentions.receiver.request_checks import without_fragment
from causerie.webmentions.receiver.web import client_of, page
from causerie.webmentions.verify.moderation import DROP, decide

log = logging.getLogger(__name__)

MAX_NAME = 100
MAX_COMMENT = 5000

#: The form's answers, in the post's language.
TEXTS = {
    "thanks": N_("Thank you!"),
    "held": N_("Your comment was received. It will be published once reviewed."),
    "shown": N_(
        "Your comment was received; it will appear at the next update of the site."
    ),
    "back": N_("Back to the post"),
    "error": N_("Comment not sent"),
    "fix": N_("Please fix this and send the form again:"),
    "name": N_("give your name (100 characters at most)"),
    "comment": N_("write a comment (5,000 characters at most)"),
    "website": N_("the website address must start with http:// or https://"),
    "target": N_("this post does not exist or does not take comments"),
    "flood": N_("too many comments from your address: try again in a minute"),
    "kept": N_("Your text is kept below: fix it and send it again."),
    "label_name": N_("Name"),
    "label_website": N_("Website (optional)"),
    "label_comment": N_("Comment"),
    "rating": N_("choose a rating from 1 to 5 stars, or none"),
    "rating_off": N_("this post takes no rating: send the comment without one"),
    "label_rating": N_("Your rating (optional)"),
    "no_rating": N_("No rating"),
    "star": N_("{n} star out of 5"),
    "stars": N_("{n} stars out of 5"),
    "send": N_("Send the comment"),
    "home": N_("Back to the site"),
}


def text_to_html(text: str) -> str:
    """Plain text → paragraphs, everything escaped (no markup from readers)."""
    paragraphs = [
        p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()
    ]
    return "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs
    )


def check_form(form: Any, is_target: Any) -> tuple[dict[str, Any], list[str]]:
    """Validate the form's fields (pure); return the values and error keys."""
    from causerie.webmentions.sanitize import clean_text, safe_url

    errors = []
    try:
        target = without_fragment((form.get("target") or "").strip())
    except ValueError:  # "http://[x": urlsplit raises (found by bench/fuzz.py)
        target = ""
    if not target or not is_target(target):
        errors.append("target")
    name = clean_text(form.get("name") or "", MAX_NAME + 1)
    if not name or len(name) > MAX_NAME:
        errors.append("name")
    comment = (form.get("comment") or "").strip()
    if not comment or len(comment) > MAX_COMMENT:
        errors.append("comment")
    website_raw = (form.get("website") or "").strip()
    website = safe_url(website_raw) if website_raw else None
    if website_raw and not website:
        errors.append("website")
    values = {
        "target": target,
        "author_name": name,
        "author_url": website,
        "content_text": comment[:500],
        "content_html": text_to_html(comment),
    }
    return values, errors


#: The form's rating scale: 1 to 5 stars.
RATING_BEST = 5


def check_rating(raw: str | None, takes_reviews: bool) -> tuple[int | None, str | None]:
    """The form's optional rating (pure): (stars, None), (None, None) for no
    rating, or (None, error key). A post that takes no rating refuses one
    rather than dropping it: the reader meant it, and must know."""
    value = (raw or "").strip()
    if not value:
        return None, None
    if not takes_reviews:
        return None, "rating_off"
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= RATING_BEST:
        return None, "rating"
    return int(value), None


def rating_group(texts: dict[str, str], chosen: str = "") -> str:
    """The rating as a radio group: a fieldset whose legend names it, each
    choice a labelled radio ("4 stars out of 5"), "no rating" first."""
    e = html.escape
    options = [("", texts["no_rating"])] + [
        (str(n), texts["star" if n == 1 else "stars"].format(n=n))
        for n in range(1, RATING_BEST + 1)
    ]
    if chosen not in {v for v, _ in options}:
        chosen = ""
    items = "".join(
        f'<li><input type="radio" id="rating-{v or "none"}" name="rating" value="{v}"'
        + (" checked" if v == chosen else "")
        + f'><label for="rating-{v or "none"}">{e(label)}</label></li>'
        for v, label in options
    )
    return (
        f'<fieldset class="rating-field"><legend>{e(texts["label_rating"])}</legend>'
        f'<ul class="rating-choices">{items}</ul></fieldset>'
    )


def kept_form(form: Any, texts: dict[str, str], lang: str, rating: bool = False) -> str:
    """The comment form again, filled with what the reader sent (escaped,
    as sent: nothing of it is lost to a mistake in one field), posting
    here again (issue 13 item 10)."""
    e = html.escape

    def value(name: str, limit: int) -> str:
        return e((form.get(name) or "")[:limit])

    return (
        '<form method="post" action="/comment">'
        f'<input type="hidden" name="target" value="{value("target", 2000)}">'
        f'<input type="hidden" name="lang" value="{e(lang)}">'
        f'<p><label for="comment-name">{texts["label_name"]}</label><br>'
        '<input id="comment-name" name="name" type="text" required maxlength="100" '
        f'autocomplete="name" value="{value("name", 2 * MAX_NAME)}"></p>'
        f'<p><label for="comment-website">{texts["label_website"]}</label><br>'
        '<input id="comment-website" name="website" type="url" maxlength="500" '
        f'autocomplete="url" value="{value("website", 1000)}"></p>'
        + (rating_group(texts, (form.get("rating") or "")[:2]) if rating else "")
        + f'<p><label for="comment-text">{texts["label_comment"]}</label><br>'
        '<textarea id="comment-text" name="comment" required maxlength="5000" '
        f'rows="8">{value("comment", 2 * MAX_COMMENT)}</textarea></p>'
        f'<p><button type="submit">{texts["send"]}</button></p></form>'
    )


def _back_link(service: Any, target: str, texts: dict[str, str]) -> str:
    """A link back to the post (a known one only: the field is anyone's),
    else to the site's home page, else nothing."""
    if target and service.is_target(target):
        href, label = target + "#comments", texts["back"]
    elif getattr(service, "site_url", None):
        href, label = service.site_url.rstrip("/") + "/", texts["home"]
    else:
        return ""
    return f'<p><a href="{html.escape(href)}">{label}</a></p>'


def comment_post(service: Any, request: Request) -> Response:

    lang = request.form.get("lang", "en")
    lang = message_language(lang)
    texts = {key: tr(lang, text) for key, text in TEXTS.items()}
    if request.form.get("honeypot"):
        # A bot filled the field people cannot see: act as if all went well.
        log.info("comment form: honeypot filled by %s; dropped", request.remote_addr)
        return page(200, texts["thanks"], f"<p>{texts['held']}</p>", lang)
    values, errors = check_form(request.form, service.is_target)
    takes = False
    if "target" not in errors and request.form.get("rating"):
        known = service.store.target(values["target"])
        takes = bool(known and known.reviews)
    stars, rating_error = check_rating(request.form.get("rating"), takes)
    if rating_error:
        errors.append(rating_error)
    if errors or not service.limiter.allow(f"form:{client_of(request)}"):
        # Refused: say why, give the reader's text back in the form, and a
        # way back to the post (issue 13 item 10).
        if errors:
            items = "".join(f"<li>{texts[e]}</li>" for e in errors)
            status, why = 400, f"<p>{texts['fix']}</p><ul>{items}</ul>"
        else:
            status, why = 429, f"<p>{texts['flood']}</p>"
        return page(
            status,
            texts["error"],
            f'<div role="alert">{why}</div><p>{texts["kept"]}</p>'
            + kept_form(request.form, texts, lang, rating=takes)
            + _back_link(service, values["target"], texts),
            lang,
        )
    target = values.pop("target")
    if stars is not None:
        # A rated comment is a review: one voice per reader and post, and
        # only approved ones count (causerie.webmentions.reviews.aggregate).
        values.update(
            kind="review",
            rating=float(stars),
            rating_best=float(RATING_BEST),
            rating_worst=1.0,
        )
    # The "website" field is whatever the reader typed: nobody checked that
    # the comment comes from that site, so an always-allowed domain must not
    # approve it (issue 13 item 2: anyone could claim a friend's domain). A
    # block still drops it: claiming a blocked domain only harms the claimant.
    claimed = (
        service.domain_policy(model.domain_of(values["author_url"]))
        if values["author_url"]
        else None
    )
    policy = "block" if claimed == "block" else None
    decision = decide(service.settings.moderation, policy, model.PENDING)
    if decision == DROP:
        return page(200, texts["thanks"], f"<p>{texts['held']}</p>", lang)
    now = service.clock()
    mention_id = service.store.add_verified(
        f"urn:uuid:{uuid.uuid4()}",
        target,
        model.FORM,
        {"kind": "reply", **values, "published": now, "moderation": decision},
    )
    log.info("comment %s received for %s (%s)", mention_id, target, decision)
    if service.notify and decision == model.PENDING:
        mention = service.store.get(mention_id)
        try:
            service.notify(mention)
        except Exception:
            log.exception("comment %s: notification failed", mention_id)
    message = texts["held"] if decision == model.PENDING else texts["shown"]
    back = html.escape(target + "#comments")
    return page(
        201,
        texts["thanks"],
        f'<p>{message}</p><p><a href="{back}">{texts["back"]}</a></p>',
        lang,
    )


def routes() -> list[tuple[Rule, Any]]:
    return [(Rule("/comment", methods=["POST"], endpoint="comment_post"), comment_post)]
