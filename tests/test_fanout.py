"""Pages rendered by forked workers (sitebuild.fanout, SITEBUILD["jobs"]).

First the mechanism, with real forked processes and tasks that write real
files: every task runs once, a worker's warnings reach the build's logging,
a task that fails in a worker raises its own error in the build's process,
and a worker that dies has its share done again. Then whole sites: the demo
plus enough posts for the workers to start, built with one process and with
two, byte-identical; a template error in a worker's page stops the build
with the message a serial build gives.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from conftest import AS_OF, ROOT, build
from test_parallel_read import same_trees, tree, write_posts

from causerie.sitebuild import fanout
from causerie.sitebuild.build import SitebuildError

TASKS = fanout.MIN_TASKS + 50


def writers(out: Path, effect: dict[int, object] | None = None) -> list[fanout.Task]:
    """TASKS tasks, each writing its own file (and doing ``effect[i]``)."""
    parent = os.getpid()

    def task(i: int) -> None:
        what = (effect or {}).get(i)
        if what == "warn":
            logging.getLogger("causerie.test").warning("task %d in %s", i, "a worker")
        elif what == "fail":
            raise ValueError(f"task {i} cannot render")
        elif what == "die" and os.getpid() != parent:
            os._exit(9)  # as the OOM killer would
        (out / f"{i}.txt").write_text(f"{i} by {os.getpid()}", encoding="utf-8")

    return [lambda i=i: task(i) for i in range(TASKS)]  # type: ignore[misc]


def written(out: Path) -> dict[int, int]:
    return {
        int(p.stem): int(p.read_text(encoding="utf-8").split(" by ")[1])
        for p in out.iterdir()
    }


def test_every_task_runs_once_shared_with_a_worker(tmp_path: Path) -> None:
    fanout.run(writers(tmp_path), jobs=2)
    pids = written(tmp_path)
    assert sorted(pids) == list(range(TASKS))
    # Every other task in each process: the build's own and one worker.
    assert {pids[i] for i in range(0, TASKS, 2)} == {os.getpid()}
    [worker] = {pids[i] for i in range(1, TASKS, 2)}
    assert worker != os.getpid()


def test_small_batches_stay_in_the_build_process(tmp_path: Path) -> None:
    fanout.run(writers(tmp_path)[: fanout.MIN_TASKS - 1], jobs=2)
    assert set(written(tmp_path).values()) == {os.getpid()}


def test_a_workers_warning_reaches_the_builds_logging(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fanout.run(writers(tmp_path, {7: "warn", 8: "warn"}), jobs=2)
    messages = [r.getMessage() for r in caplog.records if r.name == "causerie.test"]
    assert sorted(messages) == ["task 7 in a worker", "task 8 in a worker"]
    assert len(written(tmp_path)) == TASKS


def test_a_task_failing_in_a_worker_raises_its_own_error(tmp_path: Path) -> None:
    # Odd tasks are the worker's; the build's process raises what it raised.
    with pytest.raises(ValueError, match="task 101 cannot render"):
        fanout.run(writers(tmp_path, {101: "fail"}), jobs=2)


def test_a_dead_workers_share_is_done_in_the_build_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fanout.run(writers(tmp_path, {51: "die"}), jobs=2)
    pids = written(tmp_path)
    assert sorted(pids) == list(range(TASKS))
    # Written by the worker before it died, or again here: all there, and
    # the rest of its share (from task 51 on) by the build's process.
    assert all(pids[i] == os.getpid() for i in range(51, TASKS, 2))
    [warning] = [r for r in caplog.records if r.name == fanout.__name__]
    assert warning.levelno == logging.WARNING
    assert "exit code 9" in warning.getMessage()


POSTS = 120


@pytest.fixture
def content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    write_posts(content, POSTS)
    return content


def test_a_site_rendered_by_two_processes_is_the_same(
    tmp_path: Path, content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=fanout.__name__)
    trees = {}
    for jobs in (1, 2):
        output = tmp_path / f"jobs-{jobs}"
        report = build(
            output, PATH=str(content), SITEBUILD={"now": AS_OF, "jobs": jobs}
        )
        assert report.problems == []
        trees[jobs] = tree(output)
    [forked] = [r.getMessage() for r in caplog.records if r.name == fanout.__name__]
    assert "rendered by 2 processes" in forked
    assert int(forked.split()[1]) > fanout.MIN_TASKS
    assert same_trees(trees[1], trees[2]) == []
    # Pages, feeds, the conversations' feeds and the sitemap: all there.
    assert "posts/2025/note-7/index.html" in trees[2]
    assert "feeds/all.atom.xml" in trees[2] and "sitemap.xml" in trees[2]
    assert any(name.startswith("feeds/comments/") for name in trees[2])


def test_a_template_error_in_any_process_stops_the_build(
    tmp_path: Path, content: Path
) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    article = theme / "templates" / "article.html"
    # Two posts' pages fail: whichever process renders them, the build stops
    # with the serial build's message (a worker's failure is raised again
    # by the build's process: test_a_task_failing_in_a_worker_...).
    article.write_text(
        '{% if article.slug in ("note-10", "note-40") %}{{ article.nothing.here }}'
        "{% endif %}" + article.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    errors = []
    for jobs in (1, 2):
        with pytest.raises(SitebuildError) as failed:
            build(
                tmp_path / f"jobs-{jobs}",
                PATH=str(content),
                THEME=str(theme),
                SITEBUILD={"now": AS_OF, "jobs": jobs},
            )
        errors.append(str(failed.value))
    assert errors[0] == errors[1]
    assert "the theme failed" in errors[1] and "nothing" in errors[1]
