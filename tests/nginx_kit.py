"""Real nginx for the tests: the shipped example (docs/examples/nginx.conf),
made to run on a loopback port without certificates, in its own prefix."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import requests
from conftest import ROOT, missing, stop_process
from receiver_kit import free_port, wait_until

EXAMPLE = ROOT / "docs" / "examples" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def site_conf(root: Path, port: int, receiver_port: int) -> str:
    """The example serving ``root`` (for /srv/blog/current) on ``port``."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.split("\nserver {\n    listen 80;")[0]  # the redirect to HTTPS
    replaced = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port};",
        "/srv/blog/current": str(root),
        "127.0.0.1:8081": f"127.0.0.1:{receiver_port}",
    }
    for old, new in replaced.items():
        assert old in text, f"the example no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx running the example over ``root``, stopped by its PID."""

    def __init__(
        self,
        prefix: Path,
        root: Path,
        receiver_port: int = 9,
        port: int | None = None,
        access_log: Path | None = None,
        edit: Callable[[str], str] = str,
    ) -> None:
        """``port``: the one a site built for this address needs (its
        SITEURL); ``access_log``: one line per request, the path and the bytes
        of the body as sent (compressed or not); ``edit``: changes the
        example's text (a server configured otherwise)."""
        if not os.path.exists(NGINX):
            missing("nginx", "apt-get install nginx-light (.ci/run installs it)")
        self.prefix = prefix
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        (prefix / "logs").mkdir(parents=True)
        (prefix / "site.conf").write_text(
            edit(site_conf(root, self.port, receiver_port)), encoding="utf-8"
        )
        # Workers as root only when the tests run as root: pytest's temporary
        # directories are private to their owner.
        user = "user root;" if os.geteuid() == 0 else ""
        log = "access_log off;"
        if access_log is not None:
            log = (
                "log_format sent '$request_uri $body_bytes_sent';\n"
                f"    access_log {access_log} sent;"
            )
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(
            f"""{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    {log}
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
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(self.conf)],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: (
                    self.proc.poll() is None
                    and requests.get(self.base + "/", timeout=2) is not None
                ),
                15,
                self.errors,
            )
        except BaseException:
            self.stop()
            raise

    @property
    def reload_command(self) -> list[str]:
        """What DEPLOY["reload"] runs for this nginx (no shell)."""
        return [NGINX, "-p", str(self.prefix), "-c", str(self.conf), "-s", "reload"]

    def errors(self) -> str:
        out = ""
        if self.proc.stderr and self.proc.poll() is not None:
            out = self.proc.stderr.read()
        return out + (self.prefix / "logs/error.log").read_text()

    def stop(self) -> None:
        stop_process(self.proc)
