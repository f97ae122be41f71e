"""The endpoint's answers when the store itself fails (a real, broken store)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from werkzeug.test import Client

from webmentions.app import Service, create_app
from webmentions.receive import RateLimiter
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
