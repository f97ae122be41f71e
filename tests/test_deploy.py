"""Deployment: releases switched atomically, on this machine and over SSH to
a real sshd on loopback; rollback, keep N, failures that leave the live site
as it was, and readers served by a real nginx during deploys."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from deploy_kit import Sshd
from nginx_kit import Nginx

from causerie.deploy import DeployError, DeploySettings, deploy, make_target, rollback
from causerie.deploy.releases import (
    live_release,
    new_id,
    previous,
    read_state,
    to_prune,
)

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


# --- the pure core ------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "existing", "expected"),
    [
        (T0, [], "20261123T120000Z"),
        (T0, ["20261123T115959Z"], "20261123T120000Z"),
        # The same second twice, and a clock that went back: still after the last.
        (T0, ["20261123T120000Z"], "20261123T120000Z-2"),
        (T0, ["20261123T120000Z-2"], "20261123T120000Z-3"),
        (T0, ["20261124T080000Z", "20261123T110000Z"], "20261124T080000Z-2"),
        (T0, ["20261123T120000Z.partial"], "20261123T120000Z-2"),
        (T0.astimezone(dt.timezone(dt.timedelta(hours=1))), [], "20261123T120000Z"),
    ],
)
def test_new_id(now: dt.datetime, existing: list[str], expected: str) -> None:
    assert new_id(now, existing) == expected


R = [f"20261123T1{i}0000Z" for i in range(6)]


@pytest.mark.parametrize(
    ("releases", "live", "keep", "pruned"),
    [
        (R, R[5], 5, [R[0]]),
        (R, R[5], 2, R[:4]),
        (R, R[5], 1, R[:4]),  # the one before the live one stays
        (R, R[2], 2, [R[0], R[3]]),  # after a rollback: live and its previous stay
        (R[:2], R[1], 1, []),
        (R, None, 2, R[:4]),
    ],
)
def test_to_prune(
    releases: list[str], live: str | None, keep: int, pruned: list[str]
) -> None:
    assert to_prune(releases, live, keep) == pruned


def test_previous_and_state() -> None:
    assert previous(R, R[3]) == R[2]
    assert previous(R, R[0]) is None
    assert previous(R, None) is None
    names = [
        R[1],
        "junk",
        R[0],
        "20261123T130000Z.partial",
        "x.partial",
        "20261123T100000Z-2",
    ]
    state = read_state(names, f"releases/{R[1]}")
    assert state.releases == [R[0], "20261123T100000Z-2", R[1]]
    assert state.live == R[1]
    assert state.partials == ["20261123T130000Z.partial"]
    assert live_release("/srv/blog/releases/" + R[1]) == R[1]
    assert live_release("/elsewhere") is None
    # `current` naming a release that is not there is not a live release.
    assert read_state([R[0]], f"releases/{R[1]}").live is None


# --- real targets -------------------------------------------------------------


def write_release(output: Path, n: int, size: int = 2000, gone: str = "") -> Path:
    """A built site whose page and stylesheet both name release ``n``."""
    (output / "theme/css").mkdir(parents=True, exist_ok=True)
    (output / "index.html").write_text(page(n, size), encoding="utf-8")
    (output / "theme/css/causerie.css").write_text(css(n, size), encoding="utf-8")
    (output / "unchanged.txt").write_text("the same in every release\n")
    (output / "gone").mkdir(exist_ok=True)  # a post, or its tombstone
    (output / "gone/index.html").write_text("a post", encoding="utf-8")
    (output / "gone.map").write_text(gone, encoding="utf-8")
    return output


def page(n: int, size: int) -> str:
    return (
        f"<!doctype html><title>release {n}</title>\n" + f"<p>release {n}</p>\n" * size
    )


def css(n: int, size: int) -> str:
    return f"/* release {n} */\n" + f".r{n} {{ color: red; }}\n" * size


class Env:
    """A target (local, or rsync to a real sshd) and its root."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.root = tmp / "srv" / "blog"
        self.site = tmp / "site"
        self.site.mkdir()
        self.sshd = Sshd(tmp / "sshd") if kind == "rsync" else None
        self.kind = kind

    def cfg(self, **more: Any) -> DeploySettings:
        if self.sshd:
            return DeploySettings(**{**self.sshd.deploy_settings(self.root), **more})
        return DeploySettings(root=str(self.root), **more)

    def deploy(self, output: Path, n: int, **more: Any) -> Any:
        cfg = self.cfg(**more)
        return deploy(
            make_target(cfg, self.site, {}), cfg, output, T0 + dt.timedelta(minutes=n)
        )

    def rollback(self, to: str | None = None) -> Any:
        cfg = self.cfg()
        return rollback(make_target(cfg, self.site, {}), cfg, to)

    def live(self) -> str:
        return os.readlink(self.root / "current")

    def releases(self) -> list[str]:
        return sorted(os.listdir(self.root / "releases"))


@pytest.fixture(params=["local", "rsync"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    e = Env(request.param, tmp_path)
    yield e
    if e.sshd:
        e.sshd.stop()


def test_deploy_rollback_and_keep(env: Env, tmp_path: Path) -> None:
    ids: list[str] = []
    for n in range(1, 5):
        report = env.deploy(write_release(tmp_path / f"out{n}", n), n, keep=1)
        assert report.changed and report.previous == (ids[-1] if ids else None)
        ids.append(report.release)
        assert env.live() == f"releases/{report.release}"
        served = (env.root / "current/index.html").read_text(encoding="utf-8")
        assert served == page(n, 2000)
        # keep=1: the live release and the one before it, nothing else.
        assert env.releases() == ids[-2:]
    # An unchanged file is a hard link to the previous release's, not a copy.
    inode = [(env.root / f"releases/{r}/unchanged.txt").stat().st_ino for r in ids[-2:]]
    assert inode[0] == inode[1]

    # The same site again: no new release, nothing removed.
    again = env.deploy(tmp_path / "out4", 5, keep=1)
    assert not again.changed and again.release == ids[-1]
    assert env.releases() == ids[-2:]

    back = env.rollback()
    assert (back.release, back.previous) == (ids[-2], ids[-1])
    assert (env.root / "current/index.html").read_text(encoding="utf-8") == page(
        3, 2000
    )
    with pytest.raises(DeployError, match="nothing to roll back to"):
        env.rollback()
    forward = env.rollback(to=ids[-1])
    assert forward.release == ids[-1] and env.live() == f"releases/{ids[-1]}"
    with pytest.raises(DeployError, match="no release 'nope'"):
        env.rollback(to="nope")


def test_an_interrupted_upload_is_never_live(env: Env, tmp_path: Path) -> None:
    first = env.deploy(write_release(tmp_path / "a", 1), 1)
    # What an upload killed half-way leaves: an incomplete directory.
    partial = env.root / "releases" / "20261123T120500Z.partial"
    (partial / "theme").mkdir(parents=True)
    (partial / "index.html").write_text("half", encoding="utf-8")
    assert env.live() == f"releases/{first.release}"
    second = env.deploy(write_release(tmp_path / "b", 2), 10)
    assert not partial.exists()
    assert second.release not in (first.release, "20261123T120500Z")
    assert env.releases() == [first.release, second.release]
    assert (env.root / "current/index.html").read_text(encoding="utf-8") == page(
        2, 2000
    )


def test_a_target_that_is_down_changes_nothing(tmp_path: Path) -> None:
    env = Env("rsync", tmp_path)
    assert env.sshd is not None
    try:
        first = env.deploy(write_release(tmp_path / "a", 1), 1)
    finally:
        env.sshd.stop()
    with pytest.raises(DeployError) as caught:
        env.deploy(write_release(tmp_path / "b", 2), 2)
    message = str(caught.value)
    assert "check that the host is up" in message and "run the command again" in message
    assert env.live() == f"releases/{first.release}"
    assert env.releases() == [first.release]


def test_current_must_be_a_symlink(tmp_path: Path) -> None:
    env = Env("local", tmp_path)
    (env.root / "current").mkdir(parents=True)
    with pytest.raises(DeployError, match="is a directory, not a symlink"):
        env.deploy(write_release(tmp_path / "a", 1), 1)


def test_nothing_built_nothing_deployed(tmp_path: Path) -> None:
    env = Env("local", tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeployError, match="run `publish build` first"):
        env.deploy(tmp_path / "empty", 1)
    assert not (env.root / "current").exists()


# --- readers during a deploy -------------------------------------------------


def test_readers_never_see_a_half_deployed_site(env: Env, tmp_path: Path) -> None:
    """Requests in a loop while releases are switched: every answer is 200 and
    whole, from one release, and a reader never goes back to an older one."""
    size = 20000  # ~400 kB: nginx sends it in many pieces
    env.deploy(write_release(tmp_path / "out0", 0, size), 0, keep=2)
    nginx = Nginx(tmp_path / "nginx", env.root / "current")
    pages = {page(n, size): n for n in range(7)}
    sheets = {css(n, size): n for n in range(7)}
    seen: dict[str, list[tuple[int, int | None]]] = {
        "/": [],
        "/theme/css/causerie.css": [],
    }
    stop = threading.Event()

    def read(path: str, known: dict[str, int]) -> None:
        while not stop.is_set():
            answer = requests.get(nginx.base + path, timeout=10)
            seen[path].append((answer.status_code, known.get(answer.text)))

    readers = [
        threading.Thread(target=read, args=a)
        for a in (("/", pages), ("/theme/css/causerie.css", sheets))
    ]
    try:
        for reader in readers:
            reader.start()
        assert_soon(lambda: all(len(v) > 0 for v in seen.values()))
        for n in range(1, 7):
            env.deploy(write_release(tmp_path / f"out{n}", n, size), n, keep=2)
        assert_soon(lambda: all(v[-1][1] == 6 for v in seen.values()))
    finally:
        stop.set()
        for reader in readers:
            reader.join()
        nginx.stop()
    for path, answers in seen.items():
        assert all(status == 200 for status, _ in answers), path
        assert None not in (n for _, n in answers), f"{path}: not from one release"
        releases = [n for _, n in answers if n is not None]
        assert releases == sorted(releases), f"{path}: went back to an older release"
        assert releases[0] == 0 and releases[-1] == 6


def assert_soon(predicate: Any) -> None:
    from receiver_kit import wait_until

    wait_until(predicate, 60)


def test_reload_makes_nginx_read_the_new_gone_map(env: Env, tmp_path: Path) -> None:
    env.deploy(write_release(tmp_path / "a", 1), 1)
    nginx = Nginx(tmp_path / "nginx", env.root / "current")
    try:
        assert requests.get(nginx.base + "/gone/", timeout=5).status_code == 200
        out = write_release(tmp_path / "b", 2, gone='"/gone/" 1;\n')
        report = env.deploy(out, 2, reload=nginx.reload_command)
        assert report.reloaded
        assert_soon(
            lambda: requests.get(nginx.base + "/gone/", timeout=5).status_code == 410
        )
        # A reload that fails says the release is live, and how to finish.
        with pytest.raises(DeployError, match=r"is live on .* run it by hand"):
            env.deploy(write_release(tmp_path / "c", 3), 3, reload=["false"])
        assert "release 3" in requests.get(nginx.base + "/", timeout=5).text
    finally:
        nginx.stop()
