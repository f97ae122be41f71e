"""The endpoint's writer process (SQLite): real processes, real signals.

Through its client, as the endpoint's threads use it, and through
``publish mentions serve``: no request is answered 202 unless its row is
committed, a dead writer means 503 then a new writer, and a killed service
leaves no writer behind.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from conftest import run_publish
from receiver_kit import POST, Receiver, wait_until, write_site

from causerie.webmentions.errors import StoreError
from causerie.webmentions.store.mention_store import Store
from causerie.webmentions.store.writer_process import WriterClient, WriterProcess

TARGET = "https://blog.example/posts/2026/aube/"


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mentions.sqlite3'}"
    Store.open(url).engine.dispose()  # created and migrated, as serve does
    return url


@pytest.fixture
def writer(url: str, tmp_path: Path) -> Iterator[WriterProcess]:
    process = WriterProcess(url, tmp_path)
    process.start()
    yield process
    process.close()


def gone(pid: int) -> bool:
    """The process has exited (a zombie has: only its exit status is left)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def test_many_threads_get_distinct_ids_and_every_row_is_committed(
    writer: WriterProcess, url: str
) -> None:
    client = WriterClient(writer)
    ids: dict[tuple[str, str], set[int]] = {}
    lock = threading.Lock()

    def send(thread: int) -> None:
        for i in range(40):
            # Every thread also sends the same mention each time: one row.
            for source in (f"https://t{thread}.example/{i}", "https://same.example/"):
                mention_id = client.enqueue(source, TARGET, f"10.0.0.{thread}")
                with lock:
                    ids.setdefault((source, TARGET), set()).add(mention_id)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(found) == 1 for found in ids.values())
    answered = {pair: found.pop() for pair, found in ids.items()}
    assert len(set(answered.values())) == len(answered) == 12 * 40 + 1
    # Committed: another connection (another process could) reads them all.
    stored = {(m.source, m.target): m.id for m in Store.open(url).list_mentions()}
    assert stored == answered


def test_a_killed_writer_fails_requests_then_is_started_again(
    writer: WriterProcess, url: str
) -> None:
    client = WriterClient(writer)
    client.enqueue("https://before.example/", TARGET)
    old = writer.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: gone(old))
    with pytest.raises(StoreError):  # never an id for a mention not stored
        client.enqueue("https://during.example/", TARGET)

    def served() -> int | None:
        try:
            return client.enqueue("https://after.example/", TARGET)
        except StoreError:
            return None

    mention_id = wait_until(served)
    assert writer.pid != old
    assert Store.open(url).get(mention_id) is not None


def test_a_batch_that_cannot_be_stored_fails_and_the_writer_goes_on(
    writer: WriterProcess, url: str
) -> None:
    client = WriterClient(writer)
    engine = Store.open(url).engine
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE mentions RENAME TO mentions_away")
    with pytest.raises(StoreError, match="not stored"):
        client.enqueue("https://a.example/", TARGET)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE mentions_away RENAME TO mentions")
    mention_id = client.enqueue("https://a.example/", TARGET)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM mentions")).scalar() == 1
    assert Store.open(url).get(mention_id) is not None


# --- in the service ----------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = write_site(tmp_path_factory.mktemp("writer-site"))
    result = run_publish("--settings", str(settings), "build", cwd=settings.parent)
    assert result.returncode == 0, result.stderr
    return settings


def writer_pid(receiver: Receiver, after: int = 0) -> int:
    """The pid of the latest writer the service's log names (not ``after``)."""

    def found() -> int | None:
        pids = re.findall(r"mention writer (\d+) listening", receiver.describe())
        return int(pids[-1]) if pids and int(pids[-1]) != after else None

    return int(wait_until(found, 30, receiver.describe))


def test_the_service_answers_503_while_its_writer_is_dead(site: Path) -> None:
    receiver = Receiver(site).start()
    store = Store.open(f"sqlite:///{site.parent / 'var' / 'mentions.sqlite3'}")
    try:
        assert receiver.send("https://w.example/1", POST).status_code == 202
        old = writer_pid(receiver)
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: gone(old))
        answer = receiver.send("https://w.example/2", POST)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "300"
        writer_pid(receiver, after=old)  # started again

        def accepted() -> requests.Response | None:
            answer = receiver.send("https://w.example/3", POST)
            assert answer.status_code in (202, 503), answer.text
            return answer if answer.status_code == 202 else None

        answer = wait_until(accepted, 30, receiver.describe)
        mention_id = int(answer.text.split("webmention ")[1].split()[0])
        mention = store.get(mention_id)
        assert mention and mention.source == "https://w.example/3"
    finally:
        receiver.stop()


def test_no_writer_outlives_a_killed_service(site: Path) -> None:
    receiver = Receiver(site).start()
    try:
        assert receiver.send("https://w.example/k", POST).status_code == 202
        pid = writer_pid(receiver)
    finally:
        receiver.kill()  # SIGKILL: the service cleans nothing up
    wait_until(lambda: gone(pid), 30, receiver.describe)
