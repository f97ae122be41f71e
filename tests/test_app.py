"""The endpoint in process: its answers when the store itself fails (a real,
broken store), and the fast path reading requests as the slow path does."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from causerie.webmentions.logtext import loggable
from causerie.webmentions.model import domain_of
from causerie.webmentions.receiver.app import Service, create_app, form_values
from causerie.webmentions.receiver.request_checks import (
    Accepted,
    RateLimiter,
    check_request,
)
from causerie.webmentions.settings import WebmentionSettings
from causerie.webmentions.store.mention_store import Store, Target

POST = "https://blog.example/posts/2026/aube/"


def test_a_mention_that_cannot_be_stored_is_not_accepted(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    store.replace_targets("https://blog.example", [Target(POST, "Aube")])
    app = create_app(Service(store, WebmentionSettings(), RateLimiter(100)))
    client = Client(app)
    ok = client.post(
        "/webmention", data={"source": "https://a.example/1", "target": POST}
    )
    assert ok.status_code == 202
    with store.engine.begin() as conn:  # the disk, the schema... something breaks
        conn.execute(sa.text("DROP TABLE mentions"))
    answer = client.post(
        "/webmention", data={"source": "https://a.example/2", "target": POST}
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "300"
    assert "could not be stored; try again later" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        "source=https%3A%2F%2Fa.example%2F1&target=https%3A%2F%2Fb.example%2F",
        "target=t&source=s",
        "source=&source=second&target=",  # a blank field is skipped
        "source&target=t",  # no "="
        "source=a+b%20c&target=%C3%A9t%C3%A9",
        "source=%ff%fe&target=%zz",  # bad escapes and bytes
        "so%75rce=encoded+name&target=x&target=y",
        "&&source=s&&",
        "",
        "source==x&target=a=b",
        "other=1&source+=no&source=yes",
    ],
)
def test_the_fast_path_reads_a_form_as_parse_qs_does(body: str) -> None:
    form = parse_qs(body)
    assert form_values(body) == (
        form.get("source", [None])[0],
        form.get("target", [None])[0],
    )


@pytest.mark.parametrize(
    "source",
    [
        "https://Alice.Example/r",
        " https://WWW.alice.example:8080/r#x ",
        "http://[fe80::1%ETH0]/r",
    ],
)
def test_an_accepted_request_carries_its_source_domain(source: str) -> None:
    result = check_request(source, POST, lambda url: True)
    assert isinstance(result, Accepted)
    assert result.source_domain == domain_of(result.source)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("https://café.example/é", "https://café.example/é"),  # accents stay
        ("a\x1b[2Jb", r"a\x1b[2Jb"),
        ("line\r\nINFO forged", r"line\r\nINFO forged"),
        ("bell\x07nul\x00del\x7f", r"bell\x07nul\x00del\x7f"),
        ("bidi\u202etxt.exe", r"bidi\u202etxt.exe"),
        ("c1\x9b31m", r"c1\x9b31m"),
        (None, "None"),
    ],
)
def test_loggable_escapes_what_a_terminal_would_act_on(
    value: object, shown: str
) -> None:
    assert loggable(value) == shown


def test_loggable_cuts_long_values() -> None:
    assert loggable("x" * 1000, 10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    "source",
    [
        "https://a.example:65536/r",
        "https://a.example:-1/r",
        "https://a.example:8_0/r",
        "https://a.example:\u0668\u0660/r",  # Arabic-Indic "80": int() reads it
        "https://a.example:0/r",
        "https://" + "a" * 64 + ".example/r",
        "https://" + ("a" * 60 + ".") * 5 + "example/r",
        "https://a..example/r",
        "https://a%2e.example/r",
        "http://[::g]/r",
    ],
)
def test_hosts_and_ports_that_cannot_exist_are_refused(source: str) -> None:
    assert not isinstance(check_request(source, POST, lambda url: True), Accepted)


@pytest.mark.parametrize(
    "source",
    [
        "https://a.example:/r",  # an empty port is the default one (RFC 3986 §3.2.3)
        "https://a.example:65535/r",
        "https://élan.example./r",
        "https://a_b.example/r",
        "https://a.example/%ff%00",  # escaped bytes in a path are the sender's
    ],
)
def test_unusual_but_valid_urls_are_accepted(source: str) -> None:
    assert isinstance(check_request(source, POST, lambda url: True), Accepted)
