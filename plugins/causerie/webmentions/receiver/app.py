"""The receiver's HTTP service (WSGI): the endpoint, the comment form, /admin.

Thin adapters over :mod:`causerie.webmentions.receiver.request_checks`, :mod:`causerie.webmentions.receiver.form` and :mod:`causerie.webmentions.receiver.admin`; the
verification itself happens later, in :mod:`causerie.webmentions.verify.queue`. Run it with
``publish mentions serve`` (waitress, plus an in-process worker), or under any
WSGI server with several processes (see docs/webmentions.md).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from causerie.webmentions.logtext import loggable
from causerie.webmentions.receiver import admin, form
from causerie.webmentions.receiver.request_checks import (
    Accepted,
    check_request,
)
from causerie.webmentions.receiver.web import Handler, Service, client_of, page, text

log = logging.getLogger(__name__)

MAX_FORM = 64 * 1024


# --- the endpoint (§3.2) -------------------------------------------------


Answer = tuple[int, str, dict[str, str]]


def accept_webmention(
    service: Service, source: str | None, target: str | None, client: str
) -> Answer:
    """The endpoint's decision (§3.2): status, plain-text reason, headers."""
    result = check_request(source, target, service.is_target)
    if not isinstance(result, Accepted):
        # Everything here came from the sender: escaped (issue 13 item 6).
        log.info(
            "webmention refused (%s): %s source=%s target=%s",
            loggable(client),
            loggable(result.reason, 600),
            loggable(repr(source)),  # repr: None, or the text in quotes
            loggable(repr(target)),
        )
        return 400, result.reason, {}
    if not service.limiter.allow(f"client:{client}", f"source:{result.source_domain}"):
        log.warning(
            "webmention flood from %s (source %s): 429",
            loggable(client),
            loggable(result.source),
        )
        return 429, "too many webmentions: try again in a minute", {"Retry-After": "60"}
    if service.domain_policy(result.source_domain) == "block":
        # Dropped, as the moderators asked; the sender learns nothing more.
        log.info("webmention from blocked domain dropped: %s", loggable(result.source))
        return 202, "accepted", {}
    try:
        mention_id = service.enqueue(result.source, result.target, client)
    except Exception:
        # Not stored, so not accepted: the sender must try again (§3.2
        # leaves retrying to it), and nothing was promised that was lost.
        log.exception(
            "webmention not stored: %s -> %s",
            loggable(result.source),
            loggable(result.target),
        )
        return (
            503,
            "the webmention could not be stored; try again later",
            {"Retry-After": "300"},
        )
    # Its "queued" line is logged by the group commit (_log_queued), or by
    # the writer process (writer.log_queued).
    # §3.2: 202 Accepted, since verification is asynchronous; sent only now
    # that the row is committed.
    return 202, f"accepted: webmention {mention_id} is queued for verification", {}


def webmention_post(service: Service, request: Request) -> Response:
    status, message, headers = accept_webmention(
        service,
        request.form.get("source"),
        request.form.get("target"),
        client_of(request),
    )
    return text(status, message, headers)


def form_values(body: str) -> tuple[str | None, str | None]:
    """``source`` and ``target`` of a form-encoded body, read as
    ``parse_qs(body).get(name, [None])[0]`` reads them: the first non-blank
    value, "+" as a space, %-escapes as UTF-8 (bad bytes replaced).

    Only the two fields the endpoint reads: parse_qs decoded every field
    into a dict of lists, a tenth of the endpoint's own time.
    """
    source = target = None
    for pair in body.split("&"):
        name, _, value = pair.partition("=")
        if not value:  # no "=", or a blank value: parse_qs skips the field
            continue
        name = unquote(name.replace("+", " "))
        if name == "source" and source is None:
            source = unquote(value.replace("+", " "))
        elif name == "target" and target is None:
            target = unquote(value.replace("+", " "))
    return source, target


STATUS_LINES = {
    200: "200 OK",
    202: "202 Accepted",
    400: "400 Bad Request",
    413: "413 Content Too Large",
    429: "429 Too Many Requests",
    503: "503 Service Unavailable",
}


def fast_webmention(
    service: Service, environ: dict[str, Any], start_response: Any
) -> Iterable[bytes]:
    """``POST /webmention`` with a form-encoded body, straight from WSGI.

    The endpoint is the receiver's hot path: building Werkzeug's request and
    response objects cost as much as storing the mention (bench/mentions.py).
    Same decisions as :func:`webmention_post`, which serves the other cases.
    """
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    headers: dict[str, str]
    if not 0 <= length <= MAX_FORM:
        status, message, headers = (
            413,
            f"the body must be a form of at most {MAX_FORM} bytes",
            {},
        )
    else:
        source, target = form_values(
            environ["wsgi.input"].read(length).decode("utf-8", "replace")
        )
        status, message, headers = accept_webmention(
            service, source, target, environ.get("REMOTE_ADDR") or "unknown"
        )
    body = (message + "\n").encode("utf-8")
    start_response(
        STATUS_LINES[status],
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *headers.items(),
        ],
    )
    return [body]


def webmention_get(service: Service, request: Request) -> Response:
    endpoint = html.escape(service.settings.endpoint)
    return page(
        200,
        "Webmention endpoint",
        f'<p>This is the <a href="https://www.w3.org/TR/webmention/">Webmention</a> '
        f"endpoint of this blog. Send a form-encoded POST with <code>source</code> "
        f"(your page) and <code>target</code> (our post):</p>"
        f"<pre>curl -i -d source=https://you.example/reply -d target=https://…/posts/… {endpoint}</pre>",
    )


def health(service: Service, request: Request) -> Response:
    return text(200, f"ok; {service.store.queue_size()} queued")


def routes() -> list[tuple[Rule, Handler]]:
    return [
        (
            Rule("/webmention", methods=["POST"], endpoint="webmention_post"),
            webmention_post,
        ),
        (
            Rule("/webmention", methods=["GET", "HEAD"], endpoint="webmention_get"),
            webmention_get,
        ),
        (Rule("/healthz", methods=["GET", "HEAD"], endpoint="health"), health),
        *form.routes(),
        *admin.routes(),
    ]


def create_app(
    service: Service, proxies: int = 0
) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """The WSGI application of ``service``.

    ``proxies``: how many reverse proxies stand in front (their
    X-Forwarded-For is then trusted for the client address).
    """
    table = routes()
    url_map = Map([rule for rule, _handler in table])
    handlers = {rule.endpoint: handler for rule, handler in table}

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") == "/webmention"
            and environ.get("REQUEST_METHOD") == "POST"
            and (environ.get("CONTENT_TYPE") or "").startswith(
                "application/x-www-form-urlencoded"
            )
        ):
            return fast_webmention(service, environ, start_response)
        request = Request(environ)
        # Forms are small: refuse a huge body before reading it.
        request.max_content_length = MAX_FORM
        adapter = url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            response = handlers[str(endpoint)](service, request, **args)
        except NotFound:
            response = text(404, "not found")
        except MethodNotAllowed as exc:
            response = text(405, "method not allowed", dict(exc.get_headers(environ)))
        except HTTPException as exc:
            response = text(exc.code or 400, exc.description or exc.name)
        return response(environ, start_response)

    return ProxyFix(app, x_for=proxies) if proxies else app
