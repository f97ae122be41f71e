"""The shipped nginx example (docs/examples/nginx.conf), run by a real nginx
against a real build: the Link header, 410 for deleted posts with their
tombstone, and the proxy to a real receiver process.

The file is used as it is, but for what a test cannot have: TLS, port 443,
and /srv/blog (replaced by a loopback port and the build's directory).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import run_publish
from nginx_kit import Nginx
from receiver_kit import Receiver
from sender_kit import post, write_blog

SITE = "https://blog.example.com"


@pytest.fixture
def nginx_site(tmp_path: Path) -> Iterator[tuple[str, Path, Receiver]]:
    blog = tmp_path / "blog"
    settings = write_blog(
        blog,
        {
            "avis": post("avis", "Un billet qui sera supprimé."),
            "autre": post("autre", "Un billet qui reste.", title="Autre"),
        },
        service_url=SITE,
    )
    for _ in range(2):  # the second build, after the deletion, makes the tombstone
        result = run_publish("--settings", str(settings), "build", cwd=blog)
        assert result.returncode == 0, result.stderr
        (blog / "content/posts/avis.md").unlink(missing_ok=True)
    receiver = Receiver(settings).start()
    try:
        nginx = Nginx(tmp_path / "nginx", blog / "output", receiver.port)
    except BaseException:
        receiver.stop()
        raise
    try:
        yield nginx.base, blog / "output", receiver
    finally:
        nginx.stop()
        receiver.stop()


def test_the_nginx_example(nginx_site: tuple[str, Path, Receiver]) -> None:
    base, output, receiver = nginx_site
    link = f'<{SITE}/webmention>; rel="webmention"'

    home = requests.get(base + "/", timeout=5)
    assert home.status_code == 200
    assert home.headers["Link"] == link
    # Pages and feeds are revalidated every time; CSS and images kept a week.
    assert home.headers["Cache-Control"] == "no-cache"
    csp = home.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert home.headers["X-Content-Type-Options"] == "nosniff"
    assert (
        "Content-Security-Policy"
        in requests.get(base + "/theme/css/causerie.css", timeout=5).headers
    )
    feed = requests.get(base + "/feeds/all.atom.xml", timeout=5)
    assert feed.status_code == 200 and feed.headers["Cache-Control"] == "no-cache"
    assert feed.headers["Link"] == link
    sheet = requests.get(base + "/theme/css/causerie.css", timeout=5)
    assert sheet.headers["Cache-Control"].split(", ") == ["max-age=604800", "public"]
    live = requests.get(base + "/posts/2026/autre/", timeout=5)
    assert live.status_code == 200 and "Un billet qui reste." in live.text
    assert (
        requests.get(base + "/theme/css/causerie.css", timeout=5).headers["Link"]
        == link
    )

    # The deleted post: 410, its tombstone page, the Link header still there.
    for path in ("/posts/2026/avis/", "/posts/2026/avis/index.html"):
        gone = requests.get(base + path, timeout=5)
        assert gone.status_code == 410, path
        assert '<meta http-equiv="Status" content="410 Gone">' in gone.text
        assert gone.headers["Link"] == link
    assert (output / "gone.map").is_file()
    assert requests.get(base + "/gone.map", timeout=5).status_code == 404
    assert requests.get(base + "/posts/2026/never/", timeout=5).status_code == 404

    # The endpoint goes to the receiver, which gives its plain reasons.
    answer = requests.post(
        base + "/webmention", data={"source": "ftp://x", "target": "y"}, timeout=5
    )
    assert answer.status_code == 400
    assert "source" in answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert receiver.proc is not None and receiver.proc.poll() is None
