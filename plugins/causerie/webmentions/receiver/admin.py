"""The moderation pages (/admin): pending mentions, one click to decide.

One shared secret ($CAUSERIE_ADMIN_SECRET) logs a moderator in; the session
is a signed, expiring cookie (no server-side state, so any number of service
processes accept it). Every form that changes something carries a CSRF token
derived from the session, and the Origin header is checked when present.

These pages show attacker-controlled text (names, excerpts, URLs): everything
is escaped, only http(s) URLs become links, and a strict Content-Security-Policy
forbids scripts and any request to another site as a second line of defence.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from causerie.catalogs import load_catalogs
from causerie.webmentions import model
from causerie.webmentions.model import Mention, domain_of
from causerie.webmentions.receiver.web import Service, client_of, text
from causerie.webmentions.store.schema import mentions, targets
from causerie.webmentions.verify.avatars import remove_avatars

log = logging.getLogger(__name__)

COOKIE = "causerie_admin"
SESSION = dt.timedelta(hours=12)
#: The trusted-device cookie: this browser logged in before (see .login).
DEVICE_COOKIE = "causerie_admin_device"
DEVICE = dt.timedelta(days=365)
PENDING_SHOWN, DECIDED_SHOWN, FAILED_SHOWN = 50, 20, 20
EXCERPT = 300

Handler = Callable[..., Response]

_STYLE = (
    "body{font:1rem/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
    "padding:0 1rem;color:#1f1a17;background:#fffdf9}a{color:#8a3b12}"
    "article{border-top:1px solid #d8cfc6;padding:.5rem 0}"
    "blockquote{margin:.5rem 0;padding-left:1rem;border-left:3px solid #d8cfc6}"
    "form.inline{display:inline}"
    "button{margin:.2rem .3rem .2rem 0;font:inherit;padding:.35rem .8rem;"
    "border:1px solid #8a3b12;border-radius:.3rem;background:#fff;color:#8a3b12;"
    "cursor:pointer}button:hover{background:#f6e7dc}"
    "button.primary{background:#8a3b12;color:#fff}button.primary:hover{background:#6d2e0e}"
    "input{font:inherit;padding:.3rem;border:1px solid #6b625b;border-radius:.3rem}"
    ":focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}"
    "nav.pages a{margin-right:1rem}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;"
    "padding:.3rem;border-bottom:1px solid #eee;vertical-align:top}"
    "[role=status]{background:#eef6e9;padding:.5rem}"
)
# Scripts, images, frames, fonts: nothing at all. The one inline style is
# allowed by its hash; forms may only post back here.
_CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "Cache-Control": "no-store",
    # same-origin, not no-referrer: with no-referrer a browser sends
    # "Origin: null" with the forms' POSTs (Fetch, "append a request Origin
    # header": no-referrer serializes the origin as null), which the Origin
    # check rightly refuses. same-origin
    # still sends nothing to other sites: /admin URLs never leak to sources.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def N_(message: str) -> str:
    """Mark a string for translation where it is defined (babel: -k N_);
    it is translated where it is shown, in that request's language."""
    return message


#: The languages of the moderation pages (catalogs in translations/).
LANGUAGES = ("en", "fr")
_TRANSLATIONS = Path(__file__).parent / "translations"
_CATALOGS = load_catalogs(_TRANSLATIONS, LANGUAGES)
#: This request's language (set by the guard every page goes through).
_LANG: ContextVar[str] = ContextVar("admin_lang", default="en")


def _(message: str, **values: object) -> str:
    """``message`` in this request's language, with ``values`` filled in
    (they are already escaped by the caller)."""
    translated = _CATALOGS[_LANG.get()].gettext(message)
    return translated.format(**values) if values else translated


def choose_language(accept: Any, default: str | None) -> str:
    """The moderator's browser's language if we have it (Accept-Language),
    else the site's DEFAULT_LANG if we have it, else English."""
    best = accept.best_match(LANGUAGES) if accept else None
    if best:
        return str(best)
    if default and default.split("-")[0].lower() in LANGUAGES:
        return default.split("-")[0].lower()
    return "en"


#: Kinds, states and logged actions as shown.
KIND_LABEL = {
    "reply": N_("reply"),
    "like": N_("like"),
    "repost": N_("repost"),
    "bookmark": N_("bookmark"),
    "rsvp": N_("RSVP"),
    "review": N_("review"),
    "mention": N_("mention"),
}
STATE_LABEL = {"approved": N_("approved"), "rejected": N_("rejected")}
ACTION_LABEL = {
    "approve": N_("approve"),
    "reject": N_("reject"),
    "undo": N_("undo"),
    "allow": N_("always allow"),
    "block": N_("block"),
    "unblock": N_("unblock"),
    "unallow": N_("stop allowing"),
}


def _label(table: dict[str, str], key: str) -> str:
    return _(table[key]) if key in table else key


#: The short messages shown after an action (?done=…), filled with escaped values.
FLASH = {
    "approved": N_("Mention {id} approved."),
    "rejected": N_("Mention {id} rejected."),
    "pending": N_("Mention {id} is pending again."),
    "allowed": N_("{domain} is always allowed now; {n} pending mention(s) approved."),
    "blocked": N_("{domain} is blocked; its mentions were deleted."),
    "unblocked": N_(
        "{domain} is no longer blocked (its deleted mentions stay deleted)."
    ),
    "unallowed": N_(
        "{domain} is no longer always allowed (its approved mentions stay approved)."
    ),
    "missing": N_("There is no mention {id}."),
    "loggedout": N_("Logged out."),
}

# Logged-out sessions, until they expire (this process only: a stolen cookie
# from before a logout still works on other processes until it expires;
# changing the secret ends every session everywhere).
_revoked: dict[str, float] = {}
_revoked_lock = threading.Lock()


# --- sessions and CSRF tokens --------------------------------------------


def _key(secret: str, purpose: str) -> bytes:
    """A key per purpose, so a session signature is never a valid CSRF token."""
    return hmac.new(
        secret.encode(), f"causerie-admin|{purpose}".encode(), "sha256"
    ).digest()


def _sign(secret: str, purpose: str, payload: str) -> str:
    return hmac.new(_key(secret, purpose), payload.encode(), "sha256").hexdigest()


def _token(
    secret: str, purpose: str, name: str, lifetime: dt.timedelta, now: dt.datetime
) -> str:
    """A signed token "expiry.name.nonce.signature" for moderator ``name``,
    signed with their own secret (changing it ends their sessions only)."""
    expiry = int((now + lifetime).timestamp())
    nonce = secrets.token_hex(8)
    return (
        f"{expiry}.{name}.{nonce}.{_sign(secret, purpose, f'{name}|{expiry}|{nonce}')}"
    )


def _check(
    moderators: dict[str, str], purpose: str, token: str | None, now: dt.datetime
) -> tuple[str, str] | None:
    """(name, nonce) of a live, well-signed token, else None."""
    if not token or token.count(".") != 3:
        return None
    expiry, name, nonce, signature = token.split(".")
    secret = moderators.get(name)
    if secret is None:
        return None
    # Bytes: compare_digest refuses str with non-ASCII (a forged cookie's).
    expected = _sign(secret, purpose, f"{name}|{expiry}|{nonce}").encode()
    if not hmac.compare_digest(signature.encode(), expected):
        return None
    if not (expiry.isdigit() and int(expiry) > now.timestamp()):
        return None
    return name, nonce


def new_session(name: str, secret: str, now: dt.datetime) -> str:
    """A session token of moderator ``name`` (the nonce tells sessions apart)."""
    return _token(secret, "session", name, SESSION, now)


def valid_session(
    moderators: dict[str, str], token: str | None, now: dt.datetime
) -> str | None:
    """The moderator whose live session ``token`` is, else None."""
    checked = _check(moderators, "session", token, now)
    if checked is None:
        return None
    with _revoked_lock:
        if token in _revoked:
            return None
    return checked[0]


def new_device(name: str, secret: str, now: dt.datetime) -> str:
    """A trusted-device token: this browser logged in as ``name`` (see .login)."""
    return _token(secret, "device", name, DEVICE, now)


def valid_device(
    moderators: dict[str, str], name: str, token: str | None, now: dt.datetime
) -> str | None:
    """The device's id if ``token`` is a live device token of ``name``."""
    checked = _check(moderators, "device", token, now)
    return checked[1] if checked and checked[0] == name else None


def csrf_token(secret: str, session: str) -> str:
    return hmac.new(_key(secret, "csrf"), session.encode(), "sha256").hexdigest()


def _revoke(token: str, now: dt.datetime) -> None:
    with _revoked_lock:
        for old in [t for t, expiry in _revoked.items() if expiry < now.timestamp()]:
            del _revoked[old]
        _revoked[token] = float(token.split(".")[0])


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# --- the guard every /admin handler goes through --------------------------


#: Where the guard leaves the logged-in moderator's name for the handlers.
_MODERATOR = "causerie.moderator"


def moderator(request: Request) -> str:
    """The name of the moderator making this (guarded) request."""
    return str(request.environ[_MODERATOR])


def _refusal(service: Service, request: Request, session: bool) -> Response | None:
    """Why this request may not go on, if it may not: no moderator (503), a
    POST from another origin (403), no valid session (to the login form), a
    POST without this session's CSRF token (403)."""
    post = request.method == "POST"
    if not service.moderators:
        return text(
            503,
            "set CAUSERIE_ADMIN_SECRET (or WEBMENTIONS['moderators'] and their "
            "CAUSERIE_MODERATOR_<NAME>_SECRET) to use the moderation pages",
        )
    origin = request.headers.get("Origin")
    if post and origin and origin.lower() != _origin(service.settings.service_url):
        log.warning("admin: POST from foreign origin %r refused", origin)
        return text(
            403,
            f"refused: this form was not sent from {_origin(service.settings.service_url)}"
            "/admin (if it was, fix WEBMENTIONS['service_url'])",
        )
    if not session:
        return None
    token = request.cookies.get(COOKIE)
    name = valid_session(service.moderators, token, service.clock())
    if token is None or name is None:
        return _redirect("/admin/login")
    request.environ[_MODERATOR] = name
    given = request.form.get("csrf", "")
    if post and not hmac.compare_digest(
        given.encode(), csrf_token(service.moderators[name], token).encode()
    ):
        log.warning("admin: POST %s without a valid CSRF token", request.path)
        return text(403, "refused: missing or invalid form token; reload /admin")
    return None


def _guard(*, session: bool = True) -> Callable[[Handler], Handler]:
    """Put a handler behind :func:`_refusal`; every answer gets _HEADERS."""

    def wrap(handler: Handler) -> Handler:
        def guarded(service: Service, request: Request, **args: Any) -> Response:
            _LANG.set(choose_language(request.accept_languages, service.default_lang))
            refused = _refusal(service, request, session)
            return _secure(refused or handler(service, request, **args))

        return guarded

    return wrap


def _secure(response: Response) -> Response:
    response.headers.extend(_HEADERS)
    return response


def _redirect(location: str) -> Response:
    return Response("", status=303, headers={"Location": location})


def _page(
    title: str, body: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    doc = (
        f'<!doctype html><html lang="{_LANG.get()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — Causerie</title><style>{_STYLE}</style>"
        f"</head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return Response(doc, status=status, mimetype="text/html", headers=headers)


# --- log in, log out -------------------------------------------------------


def _login_form() -> str:
    return (
        '<form method="post" action="/admin/login">'
        '<p><label for="name">' + _("Your moderator name") + "</label><br>"
        '<input type="text" id="name" name="name" required autocomplete="username" '
        'autocapitalize="none" spellcheck="false" maxlength="32" autofocus></p>'
        '<p><label for="secret">' + _("Your secret") + "</label><br>"
        '<input type="password" id="secret" name="secret" required '
        'autocomplete="current-password"></p>'
        '<p><button type="submit" class="primary">'
        + _("Log in")
        + "</button></p></form>"
    )


#: What an unknown name's attempt is compared with: as long as a real
#: comparison, so the time taken does not tell which names exist.
_NOBODY = secrets.token_hex(32)


@_guard(session=False)
def login_get(service: Service, request: Request) -> Response:
    if valid_session(service.moderators, request.cookies.get(COOKIE), service.clock()):
        return _redirect("/admin")
    return _page(_("Moderation: log in"), flash(request.args) + _login_form())


def _secure_cookies(service: Service) -> bool:
    """Cookies only over https when the public address is https: the
    service's own, or the site's (the service behind a TLS proxy that
    speaks http to it still has readers on https)."""
    return any(
        urlsplit(url or "").scheme == "https"
        for url in (service.settings.service_url, service.site_url)
    )


@_guard(session=False)
def login_post(service: Service, request: Request) -> Response:
    assert service.login_throttle
    client = client_of(request)
    # A single moderator ("admin" only) may leave the name out (scripts
    # written for the one shared secret keep working).
    only = next(iter(service.moderators)) if len(service.moderators) == 1 else None
    name = (request.form.get("name") or only or "").strip().lower()
    given = request.form.get("secret", "")
    secret = service.moderators.get(name)
    # Compared first, whatever the limits say (issue 13 item 7): they only
    # decide how a failure is answered, never whether the right secret
    # counts. Digests: equal length, so the time taken tells nothing.
    right = (
        hmac.compare_digest(
            hashlib.sha256(given.encode()).digest(),
            hashlib.sha256((secret or _NOBODY).encode()).digest(),
        )
        and secret is not None
    )
    now = service.clock()
    device = valid_device(
        service.moderators, name, request.cookies.get(DEVICE_COOKIE), now
    )
    answer = service.login_throttle.judge(client, right, device)
    if answer.refused:
        # The same answer for the right secret and a wrong one: past the
        # global cap, a browser that never logged in learns nothing.
        log.warning("admin: log-in from %s not answered: too many failures", client)
        return _page(
            _("Moderation: log in"),
            '<p role="alert">'
            + _(
                "Too many failed log-ins on this site just now: try again in "
                "{seconds} seconds. (A browser that logged in here before is "
                "let in meanwhile.)",
                seconds=answer.retry_after,
            )
            + "</p>"
            + _login_form(),
            429,
            {"Retry-After": str(answer.retry_after)},
        )
    if answer.delayed:
        # The address waits out its delay: not tried, so the same answer for
        # the right secret and a wrong one.
        log.warning("admin: log-in from %s not tried: waiting its delay", client)
        return _page(
            _("Moderation: log in"),
            '<p role="alert">'
            + _(
                "Too many failed log-ins from your address: try again in "
                "{seconds} seconds.",
                seconds=answer.retry_after,
            )
            + "</p>"
            + _login_form(),
            429,
            {"Retry-After": str(answer.retry_after)},
        )
    if not right or secret is None:
        log.warning("admin: wrong name or secret from %s", client)
        wait = (
            " "
            + _(
                "Wait {seconds} seconds before the next try.",
                seconds=answer.retry_after,
            )
            if answer.retry_after
            else ""
        )
        return _page(
            _("Moderation: log in"),
            '<p role="alert">'
            + _("That name and secret do not match.")
            + f"{wait}</p>"
            + _login_form(),
            429 if answer.retry_after else 403,
            {"Retry-After": str(answer.retry_after)} if answer.retry_after else None,
        )
    response = _redirect("/admin")
    secure = _secure_cookies(service)
    response.set_cookie(
        COOKIE,
        new_session(name, secret, now),
        max_age=int(SESSION.total_seconds()),
        path="/admin",
        secure=secure,
        httponly=True,
        samesite="Strict",
    )
    # Renewed at each log-in; only the log-in form reads it.
    response.set_cookie(
        DEVICE_COOKIE,
        new_device(name, secret, now),
        max_age=int(DEVICE.total_seconds()),
        path="/admin/login",
        secure=secure,
        httponly=True,
        samesite="Strict",
    )
    log.info("admin: moderator %s logged in from %s", name, client)
    return response


@_guard()
def logout_post(service: Service, request: Request) -> Response:
    _revoke(request.cookies[COOKIE], service.clock())
    response = _redirect("/admin/login?" + urlencode({"done": "loggedout"}))
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="Strict")
    return response


# --- the actions -----------------------------------------------------------


def _back(done: str, **values: object) -> Response:
    return _redirect("/admin?" + urlencode({"done": done, **values}))


def _changed_site(service: Service) -> None:
    """The set of shown mentions changed: run the rebuild hook, if any."""
    if service.on_approve:
        service.on_approve()


_STATES = {
    "approve": model.APPROVED,
    "reject": model.REJECTED,
    "pending": model.PENDING,
}


@_guard()
def mention_post(
    service: Service, request: Request, mention_id: int, action: str
) -> Response:
    state = _STATES[action]
    before = service.store.get(mention_id)
    who = moderator(request)
    if before is None or not service.store.moderate(mention_id, state, by=who):
        return _back("missing", id=mention_id)
    log.info(
        "admin: mention %s %s by %s (was %s)", mention_id, state, who, before.moderation
    )
    # Rebuild when what the site shows changes: shown now, or no longer shown.
    if before.visible != (
        before.verification == model.VERIFIED and state == model.APPROVED
    ):
        _changed_site(service)
    return _back(state, id=mention_id)


def _domain(request: Request) -> str | None:
    domain = (request.form.get("domain") or "").strip().lower().removeprefix("www.")
    if (
        not domain
        or len(domain) > 255
        or any(c.isspace() or c in "/\\@:?#" for c in domain)
    ):
        return None
    return domain


#: The undo actions of /admin/domains/…: the policy each forgets, and its log.
_UNDO_POLICY = {
    "unallow": ("allow", "no longer always allowed"),
    "unblock": ("block", "unblocked"),
}


@_guard()
def domain_post(service: Service, request: Request, action: str) -> Response:
    domain = _domain(request)
    if domain is None:
        return text(400, "give a domain name such as alice.example")
    who = moderator(request)
    if action in _UNDO_POLICY:
        # Forget that one policy only (the other kind is left alone). What an
        # allow approved stays approved (one click each on "Reject", if some
        # should go); what a block deleted is gone.
        policy, done = _UNDO_POLICY[action]
        if service.store.domain_policy(domain) == policy:
            service.store.set_domain_policy(domain, None, by=who)
            service.policies_changed()
            log.info("admin: %s %s, by %s", domain, done, who)
        return _back(f"{action}ed", domain=domain)
    if action == "allow":
        approved = service.store.approve_domain(domain, by=who)
        service.policies_changed()
        log.info(
            "admin: %s always allowed by %s; %s mention(s) approved",
            domain,
            who,
            approved,
        )
        if approved:
            _changed_site(service)
        return _back("allowed", domain=domain, n=approved)
    shown = count_visible(service.store.engine, domain)
    removed = service.store.block_domain(domain, by=who)
    service.policies_changed()
    if service.avatars_dir is not None:
        remove_avatars(service.avatars_dir, removed)
    elif removed:
        log.warning(
            "admin: %s avatar(s) of %s not deleted: the service has no avatars_dir",
            len(removed),
            domain,
        )
    log.info("admin: %s blocked by %s", domain, who)
    if shown:
        _changed_site(service)
    return _back("blocked", domain=domain)


# --- read-only queries for the dashboard ----------------------------------

_FIELDS = [f.name for f in fields(Mention)]
_LATEST = (mentions.c.updated_at.desc(), mentions.c.id.desc())
_WAITING = sa.and_(
    mentions.c.verification == model.VERIFIED, mentions.c.moderation == model.PENDING
)


@dataclass
class Dashboard:
    """What /admin shows: pending (newest first, bounded), the last decisions,
    the last failures, and the titles of the posts they are about."""

    waiting: int
    pending: list[Mention]
    decided: list[Mention]
    failed: list[Mention]
    titles: dict[str, str]
    #: How many waiting mentions are newer than this page's first one.
    newer: int = 0
    #: The cursor of the next (older) page, if there is one.
    older: str | None = None

    @classmethod
    def read(cls, engine: sa.Engine, page: str | None = None) -> Dashboard:
        """``page``: a cursor (:func:`cursor`) for the waiting mentions older
        than it, or "oldest" for the oldest page; None: the newest."""

        def latest(where: Any, order: Any, limit: int) -> list[Mention]:
            query = sa.select(mentions).where(where).order_by(*order).limit(limit)
            rows = conn.execute(query).mappings()
            return [Mention(**{k: row[k] for k in _FIELDS}) for row in rows]

        with engine.connect() as conn:
            waiting = conn.execute(sa.select(sa.func.count()).where(_WAITING)).scalar()
            newest = (mentions.c.received_at.desc(), mentions.c.id.desc())
            # Keyset pagination, not OFFSET: each page is one index range
            # read (mentions_waiting), as fast on page 200 as on page 1.
            if page == "oldest":
                oldest = (mentions.c.received_at.asc(), mentions.c.id.asc())
                pending = latest(_WAITING, oldest, PENDING_SHOWN)[::-1]
            else:
                after = parse_cursor(page)
                where = _WAITING if after is None else sa.and_(_WAITING, _older(*after))
                pending = latest(where, newest, PENDING_SHOWN + 1)
            older = None
            if len(pending) > PENDING_SHOWN:
                pending = pending[:PENDING_SHOWN]
                older = cursor(pending[-1])
            newer = 0
            if pending and (page is not None):
                first = pending[0]
                assert first.received_at is not None
                newer_than = sa.not_(_older(first.received_at, first.id))
                newer = int(
                    conn.execute(
                        sa.select(sa.func.count()).where(
                            _WAITING, newer_than, mentions.c.id != first.id
                        )
                    ).scalar()
                    or 0
                )
            decided = latest(
                mentions.c.moderation.in_([model.APPROVED, model.REJECTED]),
                _LATEST,
                DECIDED_SHOWN,
            )
            failed = latest(
                mentions.c.verification == model.FAILED, _LATEST, FAILED_SHOWN
            )
            urls = {m.target for m in (*pending, *decided, *failed)}
            query = sa.select(targets.c.url, targets.c.title).where(
                targets.c.url.in_(urls)
            )
            titles = {url: title for url, title in conn.execute(query)} if urls else {}
        return cls(int(waiting or 0), pending, decided, failed, titles, newer, older)

    def title(self, mention: Mention) -> str:
        return self.titles.get(mention.target, mention.target)


def _older(received_at: dt.datetime, mention_id: int) -> Any:
    """Waiting mentions after (received_at, id) in newest-first order."""
    return sa.or_(
        mentions.c.received_at < received_at,
        sa.and_(mentions.c.received_at == received_at, mentions.c.id < mention_id),
    )


def cursor(mention: Mention) -> str:
    """Where a page of waiting mentions ends: "<µs since epoch>.<id>"."""
    assert mention.received_at is not None
    moment = mention.received_at.astimezone(dt.UTC)
    micros = (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
        microseconds=1
    )
    return f"{micros}.{mention.id}"


def parse_cursor(value: str | None) -> tuple[dt.datetime, int] | None:
    """The (received_at, id) of a cursor; None for a missing or bad one
    (the query string is anyone's: a bad one shows the first page)."""
    micros, _dot, ident = (value or "").partition(".")
    if not (micros.isdigit() and ident.isdigit() and len(micros) <= 20):
        return None
    try:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            microseconds=int(micros)
        )
    except OverflowError:
        return None
    return moment, int(ident)


def count_visible(engine: sa.Engine, domain: str) -> int:
    """How many shown mentions come from ``domain``."""
    shown = sa.and_(
        mentions.c.source_domain == domain,
        mentions.c.verification == model.VERIFIED,
        mentions.c.moderation == model.APPROVED,
    )
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(shown)).scalar() or 0)


# --- the dashboard (every value from the store is escaped) ---------------

e = html.escape


def _link(url: str | None, label: str | None = None) -> str:
    """A link for http(s) URLs only (html.escape does not stop javascript:)."""
    shown = e(label or url or "")
    try:
        scheme = urlsplit(url or "").scheme.lower()
    except ValueError:  # "http://[" : shown as text, not a broken page
        scheme = ""
    if url and scheme in ("http", "https"):
        return f'<a href="{e(url)}" rel="nofollow noopener noreferrer">{shown}</a>'
    return shown


def excerpt(mention: Mention, limit: int = EXCERPT) -> str:
    """The first ``limit`` characters of the mention's text (unescaped)."""
    words = " ".join((mention.content_text or mention.title or "").split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    utc = moment.astimezone(dt.UTC)
    return f'<time datetime="{utc.isoformat()}">{utc:%Y-%m-%d %H:%M} UTC</time>'


def _button(
    action: str,
    label: str,
    csrf: str,
    about: str | None = None,
    domain: str | None = None,
    primary: bool = False,
) -> str:
    """A one-button POST form; ``about``: the id of what it acts on (for
    screen readers, which otherwise hear many identical "Approve")."""
    field = f'<input type="hidden" name="domain" value="{e(domain)}">' if domain else ""
    described = f' aria-describedby="{about}"' if about else ""
    style = ' class="primary"' if primary else ""
    return (
        f'<form class="inline" method="post" action="{e(action)}">'
        f'<input type="hidden" name="csrf" value="{csrf}">{field}'
        f'<button type="submit"{described}{style}>'
        f"{e(label)}</button></form>"
    )


def _domain_of(mention: Mention) -> str:
    # A form comment's source is a urn: its "domain" is its author's website,
    # as the store records it.
    return mention.source_domain or domain_of(mention.author_url)


def author_label(m: Mention) -> str:
    """Who wrote it, never "someone": their name, else their website's
    domain, else the source's domain; a form comment without a name is a
    reader's (unescaped)."""
    name = " ".join((m.author_name or "").split())
    domain = domain_of(m.author_url) or (
        "" if m.origin == model.FORM else m.source_domain
    )
    if name and domain:
        return f"{name} ({domain})"
    return name or domain or _("an anonymous reader")


def _pending_item(m: Mention, title: str, csrf: str) -> str:
    head = f"m{m.id}"
    author = _link(m.author_url, author_label(m))
    source = _("the comment form") if m.origin == model.FORM else _link(m.source)
    domain = _domain_of(m)
    buttons = [
        _button(
            f"/admin/mentions/{m.id}/approve", _("Approve"), csrf, head, primary=True
        ),
        _button(f"/admin/mentions/{m.id}/reject", _("Reject"), csrf, head),
    ]
    if domain:
        buttons += [
            _button(
                "/admin/domains/allow",
                _("Approve and always allow {domain}", domain=domain),
                csrf,
                head,
                domain,
            ),
            _button(
                "/admin/domains/block",
                _("Block {domain}", domain=domain),
                csrf,
                head,
                domain,
            ),
        ]
    return (
        f'<li><article><h3 id="{head}">'
        + _(
            "{kind} #{id} by {author}",
            kind=e(_label(KIND_LABEL, m.kind)),
            id=m.id,
            author=author,
        )
        + "</h3><p>"
        + _(
            "On {post}, received {when}",
            post=_link(m.target, title),
            when=_when(m.received_at),
        )
        + "<br>"
        + _("Source:")
        + f" {source}</p>"
        + rating_line(m)
        + f"<blockquote>{e(excerpt(m))}</blockquote><p>{''.join(buttons)}</p></article></li>"
    )


def rating_line(m: Mention) -> str:
    """A review's rating as the moderator sees it: the rating given, or why
    none is counted (the note stored with it), so nothing is approved blind."""
    if m.kind != "review" and not m.rating_note:
        return ""
    if m.rating is not None and m.rating_best is not None:
        text = _(
            "Rating: {rating} out of {best}",
            rating=f"{m.rating:g}",
            best=f"{m.rating_best:g}",
        )
    elif m.rating_note:
        text = _("Rating not counted: {why}", why=e(m.rating_note))
    else:
        text = _("No rating given.")
    return f'<p class="rating">{text}</p>'


def _decided_row(m: Mention, title: str, csrf: str) -> str:
    who = e(author_label(m))
    by = m.decided_by or _("the policy")
    # One step to the other decision (an approved one rejected at once), or
    # back to pending.
    other = (
        _button(f"/admin/mentions/{m.id}/reject", _("Reject"), csrf, f"d{m.id}")
        if m.moderation == model.APPROVED
        else _button(f"/admin/mentions/{m.id}/approve", _("Approve"), csrf, f"d{m.id}")
    )
    undo = other + _button(
        f"/admin/mentions/{m.id}/pending", _("Undo"), csrf, f"d{m.id}"
    )
    return (
        f'<tr><td id="d{m.id}">{e(_label(STATE_LABEL, m.moderation))}: '
        + _(
            "{kind} #{id} by {author}",
            kind=e(_label(KIND_LABEL, m.kind)),
            id=m.id,
            author=who,
        )
        + "</td>"
        f"<td>{_link(m.target, title)}</td><td>{e(by)}</td>"
        f"<td>{_when(m.updated_at)}</td><td>{undo}</td></tr>"
    )


def _decision_row(d: dict[str, Any]) -> str:
    about = (
        _("mention #{id}", id=d["mention_id"])
        if d["mention_id"]
        else e(d["domain"] or "")
    )
    return (
        f"<tr><td>{_when(d['at'])}</td><td>{e(d['moderator'])}</td>"
        f"<td>{e(_label(ACTION_LABEL, d['action']))}</td><td>{about}</td></tr>"
    )


def _failed_row(m: Mention, title: str) -> str:
    return (
        f"<tr><td>{_link(m.source)}</td><td>{_link(m.target, title)}</td>"
        f"<td>{e(m.reason or '')}</td><td>{_when(m.updated_at)}</td></tr>"
    )


def _table(headers: Sequence[str], rows: list[str]) -> str:
    if not rows:
        return "<p>" + _("None.") + "</p>"
    head = "".join(f'<th scope="col">{_(h)}</th>' for h in headers)
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def flash(args: Any) -> str:
    """The message of ``?done=…``, escaped (the query string is anyone's)."""
    template = FLASH.get(args.get("done", ""))
    if not template:
        return ""
    values = {k: e(args.get(k, "")[:255]) for k in ("id", "domain", "n")}
    return f'<p role="status">{_(template, **values)}</p>'


@_guard()
def dashboard(service: Service, request: Request) -> Response:
    who = moderator(request)
    csrf = csrf_token(service.moderators[who], request.cookies[COOKIE])
    page = request.args.get("older") or (
        "oldest" if request.args.get("page") == "oldest" else None
    )
    data = Dashboard.read(service.store.engine, page)
    items = "".join(_pending_item(m, data.title(m), csrf) for m in data.pending)
    pending = f'<ol start="{data.newer + 1}">{items}</ol>' if items else ""
    if data.waiting > PENDING_SHOWN and data.pending:
        first = data.newer + 1
        shown = (
            "<p>"
            + _(
                "Showing {first}–{last} of {total}, newest first.",
                first=first,
                last=first + len(data.pending) - 1,
                total=data.waiting,
            )
            + "</p>"
        )
        links = []
        if page is not None:
            links.append('<a href="/admin">' + _("Newest") + "</a>")
        if data.older:
            links.append(
                f'<a href="/admin?older={e(data.older)}">' + _("Older") + "</a>"
            )
            links.append('<a href="/admin?page=oldest">' + _("Oldest") + "</a>")
        label = e(_("Pages of waiting mentions"))
        nav = f'<nav class="pages" aria-label="{label}">{"".join(links)}</nav>'
        pending = shown + nav + pending + nav
    decided = [_decided_row(m, data.title(m), csrf) for m in data.decided]
    failed = [_failed_row(m, data.title(m)) for m in data.failed]
    blocked = [
        f'<tr><td id="b{n}">{e(row["domain"])}</td><td>{e(row["decided_by"] or "")}</td>'
        f"<td>{_when(row['updated_at'])}</td><td>"
        + _button("/admin/domains/unblock", _("Unblock"), csrf, f"b{n}", row["domain"])
        + "</td></tr>"
        for n, row in enumerate(service.store.domain_list("block"))
    ]
    allowed = [
        f'<tr><td id="a{n}">{e(row["domain"])}</td><td>{e(row["decided_by"] or "")}</td>'
        f"<td>{_when(row['updated_at'])}</td><td>"
        + _button(
            "/admin/domains/unallow", _("Stop allowing"), csrf, f"a{n}", row["domain"]
        )
        + "</td></tr>"
        for n, row in enumerate(service.store.domain_list("allow"))
    ]
    log_rows = [_decision_row(d) for d in service.store.latest_decisions(20)]
    sections = [
        (
            _("Waiting for moderation ({n})", n=data.waiting),
            pending or "<p>" + _("Nothing is waiting.") + "</p>",
        ),
        (
            _("Last decisions"),
            _table(
                [N_("Decision"), N_("Post"), N_("By"), N_("When"), N_("Change")],
                decided,
            ),
        ),
        (
            _("Failed verifications"),
            _table([N_("Source"), N_("Post"), N_("Reason"), N_("When")], failed),
        ),
        (
            _("Always allowed domains"),
            _table([N_("Domain"), N_("Allowed by"), N_("Since"), N_("Undo")], allowed),
        ),
        (
            _("Blocked domains"),
            _table([N_("Domain"), N_("Blocked by"), N_("Since"), N_("Undo")], blocked),
        ),
        (
            _("Moderators’ log"),
            _table(
                [N_("When"), N_("Moderator"), N_("Decision"), N_("About")], log_rows
            ),
        ),
    ]
    body = flash(request.args) + (
        "<p>"
        + _("Logged in as {name}.", name=f"<strong>{e(who)}</strong>")
        + " "
        + _button("/admin/logout", _("Log out"), csrf)
        + "</p>"
    )
    for n, (heading, content) in enumerate(sections):
        body += f'<section aria-labelledby="h{n}"><h2 id="h{n}">{heading}</h2>{content}</section>'
    return _page(_("Moderation"), body)


def routes() -> list[tuple[Rule, Handler]]:
    mention = "/admin/mentions/<int:mention_id>/<any(approve,reject,pending):action>"
    table: list[tuple[str, list[str], Handler]] = [
        ("/admin", ["GET", "HEAD"], dashboard),
        ("/admin/login", ["GET", "HEAD"], login_get),
        ("/admin/login", ["POST"], login_post),
        ("/admin/logout", ["POST"], logout_post),
        (mention, ["POST"], mention_post),
        (
            "/admin/domains/<any(allow,block,unblock,unallow):action>",
            ["POST"],
            domain_post,
        ),
    ]
    return [
        (Rule(path, methods=methods, endpoint=f"admin_{i}"), handler)
        for i, (path, methods, handler) in enumerate(table)
    ]
