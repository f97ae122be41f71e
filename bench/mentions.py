"""Benchmark the Webmention receiver: accepted requests/s and verifications/s.

    .venv/bin/python bench/mentions.py                 # about 45 s
    .venv/bin/python bench/mentions.py --duration 20 --sources 1000

1. Acceptance: the real ``publish mentions serve --no-worker`` (waitress, 8
   threads, SQLite store in a temporary site) and a hello-world WSGI app on
   waitress with the same threads, each loaded by the same client (wrk if it is
   on PATH, else a Python keep-alive load generator) with form-encoded POSTs
   to /webmention, a distinct source per request so that every one inserts a
   row. Goal: the receiver does at least 50% of hello-world's requests/s.
2. Verification: M h-entry source pages served on 127.0.0.2, M mentions
   queued, the real Worker (fetch, mf2 parsing, store) run until the queue is
   empty. Goal: at least 100 verifications/s.

Everything runs on loopback, builds its own data in a temporary directory,
and stops the processes it started by their PID. Results go to
docs/PERFORMANCE.md by hand, with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent

SITEURL = "http://blog.test"
SOURCE_HOST = "127.0.0.2"
THREADS = int(
    os.environ.get("BENCH_THREADS", "8")
)  # what `publish mentions serve` gives waitress

HELLO = """
import sys
from waitress import serve

def app(environ, start_response):
    start_response("202 Accepted", [("Content-Type", "text/plain")])
    return [b"accepted\\n"]

serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]),
      _quiet=True)
"""

# Every wrk thread numbers its requests; the thread's id and a per-run tag
# make each source unique, so every request inserts a new row.
WRK_SCRIPT = """
local tag, targets, n = "%(tag)s", {%(targets)s}, 0
local next_id = 0
function setup(thread) thread:set("tid", next_id); next_id = next_id + 1 end
function request()
  n = n + 1
  local body = "source=http%%3A%%2F%%2Fs" .. tid .. ".bench.example%%2F" .. tag .. "%%2F" .. n
    .. "&target=" .. targets[(n %% #targets) + 1]
  return wrk.format("POST", "/webmention",
    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, proc: subprocess.Popen[Any], log: Path, host: str = "127.0.0.1"
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited early:\n{log.read_text()}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"server did not listen on {port}:\n{log.read_text()}")


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) and of its
    running children (the receiver's writer process), Linux only."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            total += cpu_seconds(int(child))
    return total


def targets_of(count: int) -> list[str]:
    return [f"{SITEURL}/posts/2026/billet-{i:04d}/" for i in range(count)]


def write_site(root: Path, targets: list[str]) -> Path:
    """A site dir: the demo's settings with a store under ``root``, targets seeded."""
    from causerie.webmentions.store.mention_store import Store, Target

    database = f"sqlite:///{root / 'var' / 'mentions.sqlite3'}"
    (root / "var").mkdir(parents=True)  # also creates root
    webmentions = {
        "database": database,
        "service_url": "http://127.0.0.1:8081",
        "fetch_allow_networks": [f"{SOURCE_HOST}/32"],
        "rate_limit_per_minute": 1_000_000_000,  # measure the work, not the 429s
        # The load generator's connections all come from 127.0.0.1.
        "max_connections_per_client": 10_000,
        "notify": False,
    }
    conf = (ROOT / "pelicanconf.py").read_text(encoding="utf-8") + textwrap.dedent(
        f"""
        PATH = {str(ROOT / "content")!r}
        THEME = {str(ROOT / "theme")!r}
        OUTPUT_PATH = {str(root / "output")!r}
        SITEURL = {SITEURL!r}
        WEBMENTIONS = {webmentions!r}
        """
    )
    settings = root / "pelicanconf.py"
    settings.write_text(conf, encoding="utf-8")
    store = Store.open(database)
    store.replace_targets(
        SITEURL, [Target(url, f"Billet {url[-5:-1]}") for url in targets]
    )
    store.engine.dispose()
    return settings


# --- load generators ---------------------------------------------------------


def run_wrk(
    port: int, targets: list[str], args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    quoted = ",".join(f'"{t.replace(":", "%3A").replace("/", "%2F")}"' for t in targets)
    script.write_text(WRK_SCRIPT % {"tag": tag, "targets": quoted})
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{args.client_threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}/webmention",
            ],
            capture_output=True,
            text=True,
            timeout=args.duration + 60,
            check=True,
        ).stdout
    finally:
        script.unlink()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    return {
        "rate": rate,
        "requests": total,
        "failed": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
        "p99": p99.group(1) if p99 else "",
    }


def run_python_load(
    port: int, targets: list[str], args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    """Fallback without wrk: keep-alive connections in threads, fixed duration."""
    deadline = time.monotonic() + args.duration
    counts: list[tuple[int, int]] = []

    def client(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        done = failed = 0
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        while time.monotonic() < deadline:
            body = urlencode(
                {
                    "source": f"http://s{number}.bench.example/{tag}/{done + failed}",
                    "target": targets[(done + failed) % len(targets)],
                }
            )
            conn.request("POST", "/webmention", body, headers)
            response = conn.getresponse()
            response.read()
            if 200 <= response.status < 400:
                done += 1
            else:
                failed += 1
        conn.close()
        counts.append((done, failed))

    start = time.monotonic()
    threads = [
        threading.Thread(target=client, args=(i,)) for i in range(args.connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    total = sum(d + f for d, f in counts)
    return {
        "rate": total / elapsed,
        "requests": total,
        "failed": sum(f for _, f in counts),
        "socket_errors": "",
        "p99": "",
    }


def acceptance(
    args: argparse.Namespace, work: Path, settings: Path, targets: list[str]
) -> tuple[dict[str, Any], dict[str, Any], str]:
    load = (
        run_wrk if shutil.which("wrk") and not args.python_client else run_python_load
    )
    client = "wrk" if load is run_wrk else "python http.client"
    results = {}
    for name, command in [
        (
            "hello-world WSGI (waitress)",
            [sys.executable, "-c", HELLO, "{port}", str(THREADS)],
        ),
        (
            "publish mentions serve",
            [
                sys.executable,
                str(args.publish),
                "--settings",
                str(settings),
                "mentions",
                "serve",
                "--no-worker",
                "--threads",
                str(THREADS),
                "--port",
                "{port}",
            ],
        ),
    ]:
        port = free_port()
        log = work / f"server-{port}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [c.replace("{port}", str(port)) for c in command],
                cwd=work,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, proc, log)
            load(
                port,
                targets,
                argparse.Namespace(**{**vars(args), "duration": 2}),
                "warmup-" + str(port),
            )
            before = cpu_seconds(proc.pid)
            results[name] = load(port, targets, args, "run-" + str(port))
            used = cpu_seconds(proc.pid) - before
            # CPU per request: tells a server that computes from one that waits.
            results[name]["cpu_ms"] = 1000 * used / max(results[name]["requests"], 1)
            results[name]["cpu_share"] = used / args.duration
        finally:
            stop(proc)
    hello, ours = results.values()
    return hello, ours, client


# --- verification --------------------------------------------------------------


def write_sources(
    directory: Path, count: int, targets: list[str], rng: random.Random, base: str
) -> list[tuple[str, str]]:
    """``count`` h-entry replies as files under ``directory``; (source, target) pairs."""
    words = ["lampe", "lumière", "aube", "atelier", "laiton", "verre", "merci", "bravo"]
    (directory / "replies").mkdir(parents=True)
    pairs = []
    for i in range(count):
        target = rng.choice(targets)
        url = f"{base}/replies/{i}.html"
        text = " ".join(rng.choice(words) for _ in range(rng.randint(20, 120)))
        (directory / "replies" / f"{i}.html").write_text(
            f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Réponse {i}</title></head><body><header><nav><a href="/">Accueil</a></nav></header>
<main><article class="h-entry">
  <a class="p-author h-card" href="{base}/">Lectrice {i}</a>
  <a class="u-in-reply-to" href="{target}">en réponse à</a>
  <time class="dt-published" datetime="2026-11-20T10:00:00+01:00">20 nov.</time>
  <div class="e-content"><p>{text}</p></div>
  <a class="u-url" href="{url}">lien</a>
</article></main></body></html>""",
            encoding="utf-8",
        )
        pairs.append((url, target))
    return pairs


def verification(
    args: argparse.Namespace,
    work: Path,
    targets: list[str],
    workers: int,
    processes: bool = False,
) -> dict[str, Any]:
    """Queue ``args.sources`` mentions in a fresh store; verify them with
    ``workers`` Worker threads in this process, or ``workers`` processes of
    ``publish mentions work --once`` (their start-up time included). The
    sources are served by another process, as remote sites would be."""
    from causerie import webmentions
    from causerie.sitebuild.build import load_settings
    from causerie.webmentions import model
    from causerie.webmentions.receiver.run import make_worker

    name = f"{workers}-{'processes' if processes else 'threads'}"
    settings_file = write_site(work / f"verify-{name}", targets)
    settings = load_settings(settings_file)
    store = webmentions.open_store(settings)
    port = free_port(SOURCE_HOST)
    pairs = write_sources(
        work / f"sources-{name}",
        args.sources,
        targets,
        random.Random(args.seed),
        f"http://{SOURCE_HOST}:{port}",
    )
    log = work / f"sources-{port}.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                SOURCE_HOST,
                "--directory",
                str(work / f"sources-{name}"),
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server, log, SOURCE_HOST)
        for source, target in pairs:
            store.enqueue(source, target, "bench")
        deadline = time.monotonic() + args.max_verify_seconds

        def work_queue() -> None:
            worker = make_worker(settings, store)
            while worker.run_once(limit=10) and time.monotonic() < deadline:
                pass

        command = [sys.executable, str(args.publish), "--settings", str(settings_file)]
        command += ["mentions", "work", "--once"]
        start = time.monotonic()
        if processes:
            procs = [
                subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL)
                for _ in range(workers)
            ]
            for proc in procs:
                try:
                    proc.wait(timeout=args.max_verify_seconds)
                except subprocess.TimeoutExpired:
                    stop(proc)
        else:
            threads = [threading.Thread(target=work_queue) for _ in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        elapsed = time.monotonic() - start
    finally:
        stop(server)
    states = [m.verification for m in store.list_mentions()]
    store.engine.dispose()
    verified = states.count(model.VERIFIED)
    return {
        "workers": f"{workers} {'processes' if processes else 'thread' + 's' * (workers > 1)}",
        "verified": verified,
        "left": states.count(model.QUEUED),
        "seconds": elapsed,
        "rate": verified / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of load per server"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client-threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--targets", type=int, default=200, help="posts in the store")
    parser.add_argument("--sources", type=int, default=500, help="pages to verify")
    parser.add_argument("--max-verify-seconds", type=float, default=120)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 4],
        help="worker threads to try (the first is the goal's)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        nargs="*",
        default=[2],
        help="`publish mentions work --once` processes to try",
    )
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument("--skip", choices=["accept", "verify"])
    parser.add_argument(
        "--publish",
        type=Path,
        default=ROOT / "publish.py",
        help="the publish.py to serve with; to compare another checkout, run this script with that checkout's .venv/bin/python (the in-process store and worker are the running Python's causerie package)",
    )
    args = parser.parse_args()

    targets = targets_of(args.targets)
    with tempfile.TemporaryDirectory(prefix="causerie-bench-") as tmp:
        work = Path(tmp)
        settings = write_site(work / "accept", targets)
        print(
            f"# machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}"
        )
        if args.skip != "accept":
            hello, ours, client = acceptance(args, work, settings, targets)
            print(
                f"\n## Accepting webmentions ({client}, {args.connections} connections, "
                f"{args.duration} s each, waitress {THREADS} threads, SQLite)\n"
            )
            print(
                "| server | requests/s | requests | non-2xx | p99 latency "
                "| server CPU per request | server CPU use |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|")
            for name, r in (
                ("hello-world WSGI (waitress)", hello),
                ("publish mentions serve", ours),
            ):
                print(
                    f"| {name} | {r['rate']:.0f} | {r['requests']} | {r['failed']} | {r['p99']} "
                    f"| {r['cpu_ms']:.2f} ms | {r['cpu_share']:.0%} of a core |"
                )
            ratio = ours["rate"] / hello["rate"]
            print(
                f"\nratio: {ratio:.1%} of hello-world (goal: at least 50%) — "
                f"{'met' if ratio >= 0.5 else 'MISSED'}"
            )
        if args.skip != "verify":
            # Fresh stores: the rows inserted under load would be claimed
            # first, and their sources do not exist.
            rows = [verification(args, work, targets, n) for n in args.workers]
            rows += [verification(args, work, targets, n, True) for n in args.processes]
            print(
                f"\n## Verifying ({args.sources} h-entry sources served on {SOURCE_HOST} by another process)\n"
            )
            print("| workers | verified | still queued | seconds | verifications/s |")
            print("|---:|---:|---:|---:|---:|")
            for v in rows:
                print(
                    f"| {v['workers']} | {v['verified']} | {v['left']} | {v['seconds']:.2f} | {v['rate']:.0f} |"
                )
            best = rows[0]["rate"]
            print(
                f"\ngoal: at least 100/s with one worker — {'met' if best >= 100 else 'MISSED'} ({best:.0f}/s)"
            )


if __name__ == "__main__":
    main()
