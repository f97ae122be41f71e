"""The shipped nginx example (docs/examples/nginx.conf), run by a real nginx
against a real build: the Link header, 410 for deleted posts with their
tombstone, and the proxy to a real receiver process.

The file is used as it is, but for what a test cannot have: TLS, port 443,
and /srv/blog (replaced by a loopback port and the build's directory).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import ROOT, missing, run_publish, stop_process
from receiver_kit import Receiver, free_port, wait_until
from sender_kit import post, write_blog

EXAMPLE = ROOT / "docs" / "examples" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = "https://blog.example.com"


def site_conf(output: Path, port: int, receiver_port: int) -> str:
    """The example, made to run on loopback without certificates."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.split("\nserver {\n    listen 80;")[0]  # the redirect to HTTPS
    replaced = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port};",
        "/srv/blog/current": str(output),
        "127.0.0.1:8081": f"127.0.0.1:{receiver_port}",
    }
    for old, new in replaced.items():
        assert old in text, f"the example no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return text


@pytest.fixture
def nginx_site(tmp_path: Path) -> Iterator[tuple[str, Path, Receiver]]:
    if not os.path.exists(NGINX):
        missing("nginx", "apt-get install nginx-light (.ci/run installs it)")
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
    port = free_port()
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "site.conf").write_text(
        site_conf(blog / "output", port, receiver.port), encoding="utf-8"
    )
    # Workers as root only when the tests run as root: pytest's temporary
    # directories are private to their owner.
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"""{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
""",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: proc.poll() is None and requests.get(base + "/", timeout=2),
            15,
            lambda: (
                (proc.stderr.read() if proc.stderr and proc.poll() is not None else "")
                + (prefix / "logs/error.log").read_text()
            ),
        )
        yield base, blog / "output", receiver
    finally:
        stop_process(proc)
        receiver.stop()


def test_the_nginx_example(nginx_site: tuple[str, Path, Receiver]) -> None:
    base, output, receiver = nginx_site
    link = f'<{SITE}/webmention>; rel="webmention"'

    home = requests.get(base + "/", timeout=5)
    assert home.status_code == 200
    assert home.headers["Link"] == link
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
