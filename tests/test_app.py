"""The endpoint in process: its answers when the store itself fails (a real,
broken store), and the fast path reading requests as the slow path does."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from webmentions.app import Service, create_app, form_values
from webmentions.model import domain_of
from webmentions.receive import Accepted, RateLimiter, check_request
from webmentions.settings import WebmentionSettings
from webmentions.store import Store, Target

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
