"""Sending (W3C Webmention §3.1.3) against a real server process: answers,
retries, and the targets that misbehave. No waiting: the sender's sleep is
recorded instead of slept."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sender_kit import TargetServer

from causerie.webmentions.fetch import FetchPolicy
from causerie.webmentions.send.plan import (
    FAILED,
    NO_ENDPOINT,
    REFUSED,
    RETRY,
    SENT,
    Job,
)
from causerie.webmentions.send.sender import (
    HostLimiter,
    Outcome,
    Sender,
    SendPolicy,
    retry_after_seconds,
)

SOURCE = "http://blog.test/posts/2026/un-billet/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetServer]:
    srv = TargetServer(tmp_path_factory.mktemp("send"))
    yield srv
    srv.stop()


class Run:
    def __init__(self, **policy: object) -> None:
        self.slept: list[float] = []
        fetch = FetchPolicy(allow_networks=("127.0.0.2/32",), timeout=1.0)
        self.sender = Sender(
            SendPolicy(fetch=fetch, **policy),  # type: ignore[arg-type]
            sleep=self.slept.append,
        )

    def one(self, target: str) -> Outcome:
        return self.sender.send_one(Job(SOURCE, target, "digest"))


def target_with_endpoint(
    server: TargetServer, name: str, *answers: dict[str, object]
) -> str:
    server.route(f"/e/{name}", post=list(answers))
    return server.page(f"/t/{name}", headers=[["Link", f"</e/{name}>; rel=webmention"]])


def arrived(server: TargetServer, name: str) -> int:
    return len([r for r in server.received() if r["path"] == f"/e/{name}"])


def test_202_is_success(server: TargetServer) -> None:
    outcome = Run().one(target_with_endpoint(server, "ok", {"status": 202}))
    assert (outcome.status, outcome.http_status) == (SENT, 202)


def test_201_is_success_and_its_location_is_kept(server: TargetServer) -> None:
    target = target_with_endpoint(
        server, "created", {"status": 201, "headers": [["Location", "/status/42"]]}
    )
    outcome = Run().one(target)
    assert (outcome.status, outcome.http_status) == (SENT, 201)
    assert outcome.location == server.url("/status/42")


def test_a_4xx_is_a_refusal_with_the_receivers_reason(server: TargetServer) -> None:
    target = target_with_endpoint(
        server, "refuses", {"status": 400, "body": "source does not link to target"}
    )
    run = Run()
    outcome = run.one(target)
    assert outcome.status == REFUSED
    assert outcome.reason == "the endpoint answered 400: source does not link to target"
    assert run.slept == []  # a refusal is not retried
    assert arrived(server, "refuses") == 1


def test_429_is_retried_after_the_wait_it_asks(server: TargetServer) -> None:
    target = target_with_endpoint(
        server,
        "busy",
        {"status": 429, "headers": [["Retry-After", "2"]]},
        {"status": 202},
    )
    run = Run()
    outcome = run.one(target)
    assert outcome.status == SENT
    assert run.slept == [2.0]
    assert arrived(server, "busy") == 2


def test_5xx_is_retried_with_backoff_then_left_for_a_later_run(
    server: TargetServer,
) -> None:
    target = target_with_endpoint(server, "down", {"status": 503})
    run = Run(tries=3, backoff=1.0)
    outcome = run.one(target)
    assert outcome.status == RETRY
    assert outcome.reason == "the endpoint answered 503"
    assert run.slept == [1.0, 2.0]
    assert arrived(server, "down") == 3


def test_a_long_retry_after_goes_to_a_later_run(server: TargetServer) -> None:
    target = target_with_endpoint(
        server, "later", {"status": 503, "headers": [["Retry-After", "3600"]]}
    )
    run = Run(max_wait=30.0)
    outcome = run.one(target)
    assert (outcome.status, outcome.retry_after) == (RETRY, 3600.0)
    assert run.slept == []


def test_the_post_is_not_redirected(server: TargetServer) -> None:
    server.route("/e/elsewhere", post=[{"status": 202}])
    target = target_with_endpoint(
        server, "moves", {"status": 307, "headers": [["Location", "/e/elsewhere"]]}
    )
    outcome = Run().one(target)
    assert outcome.status == REFUSED
    assert "not redirected" in (outcome.reason or "")
    assert arrived(server, "elsewhere") == 0


def test_a_target_that_times_out(server: TargetServer) -> None:
    target = server.page("/t/slow", "<p>slow</p>", delay=3)
    run = Run(tries=1)
    outcome = run.one(target)
    assert outcome.status == RETRY
    assert (outcome.reason or "").endswith("(the deadline is 1 s)")


def test_a_target_that_answers_garbage(server: TargetServer) -> None:
    target = server.route("/t/garbage", garbage=True)
    outcome = Run(tries=1).one(target)
    assert outcome.status == RETRY
    assert (outcome.reason or "").startswith("cannot connect to 127.0.0.2:")


def test_a_redirect_loop(server: TargetServer) -> None:
    server.route("/t/loop-a", status=302, headers=[["Location", "/t/loop-b"]])
    target = server.route("/t/loop-b", status=302, headers=[["Location", "/t/loop-a"]])
    outcome = Run().one(target)
    assert outcome.status == FAILED
    assert "redirect loop" in (outcome.reason or "")


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("http://127.0.0.1:{port}/e/private", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/e/private", "localhost resolves to"),
        ("http://10.1.2.3/e/private", "10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        (
            "http://[::ffff:127.0.0.1]:{port}/e/private",
            "::ffff:127.0.0.1 is a loopback address",
        ),
        ("ftp://127.0.0.2/e/private", "only http and https URLs"),
    ],
)
def test_a_private_endpoint_is_never_sent_to(
    server: TargetServer, endpoint: str, why: str
) -> None:
    """§4.3: a target may name an endpoint on our own network; refused."""
    port = server.base.rsplit(":", 1)[1]
    name = f"private-{abs(hash(endpoint))}"
    target = server.page(
        f"/t/{name}",
        headers=[["Link", f"<{endpoint.format(port=port)}>; rel=webmention"]],
    )
    outcome = Run().one(target)
    assert outcome.status == FAILED
    assert why in (outcome.reason or ""), outcome.reason


def test_a_target_on_a_private_address_is_not_fetched() -> None:
    outcome = Run().one("http://127.0.0.1:9/post")
    assert outcome.status == FAILED
    assert "loopback address" in (outcome.reason or "")


def test_a_missing_target_is_a_refusal(server: TargetServer) -> None:
    outcome = Run().one(server.url("/t/never-there"))
    assert (outcome.status, outcome.http_status) == (REFUSED, 404)


def test_a_target_that_is_not_html_has_no_endpoint(server: TargetServer) -> None:
    target = server.page("/t/image", "\x89PNG....", type="image/png")
    assert Run().one(target).status == NO_ENDPOINT


def test_one_bad_target_holds_up_no_other(server: TargetServer) -> None:
    slow = server.page("/t/slow-2", "<p>slow</p>", delay=3)
    fast = [target_with_endpoint(server, f"fast{i}", {"status": 202}) for i in range(6)]
    order: list[str] = []
    Run(tries=1, workers=4).sender.run(
        [Job(SOURCE, t, "d") for t in [slow, *fast]],
        lambda o: order.append(o.job.target),
    )
    assert set(order) == {slow, *fast}
    assert order[-1] == slow  # the six others ended while it timed out


def test_host_limiter_caps_requests_per_host() -> None:
    limiter = HostLimiter(per_host=2)
    busy = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}
    lock = threading.Lock()

    def hit(host: str) -> None:
        with limiter.slot(f"http://{host}.example/x"):
            with lock:
                busy[host] += 1
                peak[host] = max(peak[host], busy[host])
            time.sleep(0.05)
            with lock:
                busy[host] -= 1

    threads = [threading.Thread(target=hit, args=(h,)) for h in "ab" * 6]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == {"a": 2, "b": 2}


@pytest.mark.parametrize(
    ("value", "now", "expected"),
    [
        ("120", 0.0, 120.0),
        (" 5 ", 0.0, 5.0),
        (None, 0.0, None),
        ("", 0.0, None),
        ("soon", 0.0, None),
        # An HTTP date: the seconds from now until then, never negative.
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412400.0, 80.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412500.0, 0.0),
    ],
)
def test_retry_after(value: str | None, now: float, expected: float | None) -> None:
    assert retry_after_seconds(value, now=now) == expected


def test_a_refusal_reason_is_one_line_of_plain_text(server: TargetServer) -> None:
    """The receiver's words reach our terminal: one line, no escape codes."""
    target = target_with_endpoint(
        server,
        "html-refusal",
        {
            "status": 400,
            "body": "<h1>Bad\x1b[2J request</h1>\n<p>no\tlink</p>" + "x" * 300,
        },
    )
    reason = Run().one(target).reason or ""
    # A text/plain answer (the server's) keeps its text; ESC becomes a space.
    assert reason.startswith(
        "the endpoint answered 400: <h1>Bad [2J request</h1> <p>no link"
    )
    assert "\x1b" not in reason and "\n" not in reason
    assert reason.endswith("…") and len(reason) < 200
