"""A scripted web server for the sending tests, run as its own process.

    python tests/target_server.py HOST ROUTES.json LOG.jsonl

It prints its port on the first line of stdout once it listens. ROUTES.json
maps a path (with its query, if any) to a route, re-read at every request so
a test can change the pages between runs:

    {"/page": {"status": 200, "headers": [["Link", "</wm>; rel=webmention"]],
               "body": "<html>…", "type": "text/html"},
     "/wm":   {"post": [{"status": 503, "headers": [["Retry-After", "1"]]},
                        {"status": 202}]}}

A GET answers with the route's status, headers and body (``delay`` seconds
first; ``"garbage": true`` sends bytes that are not HTTP). A POST is logged to
LOG.jsonl (path, form fields) and answered with the next answer of ``post``
(the last one repeats); a path without ``post`` answers 202. A path missing
from ROUTES answers as the route "*" if there is one, else 404 (a GET), or
404 without logging (a POST).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ROUTES, LOG = sys.argv[2], sys.argv[3]
_lock = threading.Lock()
_posts_seen: dict[str, int] = {}


def _routes() -> dict[str, Any]:
    with open(ROUTES, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(
        self, status: int, headers: list[list[str]], body: bytes, kind: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        routes = _routes()
        route = routes.get(self.path, routes.get("*"))
        if route is None:
            self._answer(404, [], b"not found", "text/plain")
            return
        time.sleep(float(route.get("delay", 0)))
        if route.get("garbage"):
            self.wfile.write(b"\x00\xffNOT HTTP AT ALL\r\n\x01\x02garbage\r\n\r\n")
            self.close_connection = True
            return
        self._answer(
            int(route.get("status", 200)),
            route.get("headers", []),
            str(route.get("body", "")).encode("utf-8"),
            route.get("type", "text/html; charset=utf-8"),
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8"))
        route = _routes().get(self.path)
        if route is None:
            self._answer(404, [], b"no endpoint here", "text/plain")
            return
        answers = route.get("post") or [{"status": 202}]
        with _lock:
            seen = _posts_seen.get(self.path, 0)
            _posts_seen[self.path] = seen + 1
            with open(LOG, "a", encoding="utf-8") as log:
                entry = {
                    "path": self.path,
                    "source": form.get("source", [None])[0],
                    "target": form.get("target", [None])[0],
                    "content_type": self.headers.get("Content-Type"),
                    "user_agent": self.headers.get("User-Agent"),
                }
                log.write(json.dumps(entry) + "\n")
        answer = answers[min(seen, len(answers) - 1)]
        self._answer(
            int(answer.get("status", 202)),
            answer.get("headers", []),
            str(answer.get("body", "Accepted")).encode("utf-8"),
            "text/plain; charset=utf-8",
        )

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer((sys.argv[1], 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
