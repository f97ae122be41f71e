"""A deployment and a rollback, over any target (the glue the CLI calls).

Order matters: the new release is complete on the target's disk before the
`current` symlink is renamed to it, and old releases go only after that. A
failure at any point before the rename leaves the live site as it was.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from causerie.settings import read_section
from causerie.settings import site_dir as shared_site_dir

from .local import LocalTarget
from .releases import State, new_id, previous, to_prune
from .remote import RsyncTarget
from .settings import ENV_IDENTITY, DeployError, DeploySettings

Say = Callable[[str], None]


class Target(Protocol):
    where: str

    def state(self) -> State: ...
    def unchanged(self, output: Path, live: str) -> bool: ...
    def upload(self, output: Path, release: str, base: str | None) -> str: ...
    def activate(self, release: str) -> None: ...
    def remove(self, names: list[str]) -> None: ...
    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]: ...


@dataclass
class DeployReport:
    """What a deployment did."""

    where: str
    release: str  # what is live now
    previous: str | None = None  # what was live before
    changed: bool = True  # False: the output was the live release already
    detail: str = ""
    pruned: list[str] = field(default_factory=list)
    reloaded: bool = False


def config(settings: Mapping[str, Any]) -> DeploySettings:
    """The validated ``DEPLOY`` dict of Pelican ``settings``."""
    return read_section(settings, "DEPLOY", DeploySettings)


def site_dir(settings: Mapping[str, Any]) -> Path:
    return Path(shared_site_dir(settings))


def make_target(
    cfg: DeploySettings, site: Path, environ: Mapping[str, str] | None = None
) -> Target:
    """The target ``cfg`` names; relative local paths are read from ``site``."""
    env = os.environ if environ is None else environ
    if cfg.target == "rsync":
        identity = env.get(ENV_IDENTITY) or cfg.identity_file
        key = str(site / Path(identity).expanduser()) if identity else None
        return RsyncTarget(cfg, key)
    return LocalTarget(site / cfg.root)


@contextmanager
def site_lock(site: Path) -> Iterator[None]:
    """One deployment (or publish chain) at a time per site: a cron run that
    overlaps the previous one fails at once instead of racing it."""
    var = site / "var"
    var.mkdir(parents=True, exist_ok=True)
    with open(var / "deploy.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeployError(
                f"another publish, deploy or rollback of this site is running "
                f"(it holds {var / 'deploy.lock'}); wait for it to finish and run "
                "the command again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_output(output: Path) -> None:
    if not (output / "index.html").is_file():
        raise DeployError(
            f"{output} holds no built site (no index.html): run `publish build` "
            "first, or pass the directory to deploy with --output"
        )


def deploy(
    target: Target,
    cfg: DeploySettings,
    output: Path,
    now: dt.datetime,
    say: Say = lambda _line: None,
) -> DeployReport:
    """Put ``output`` live on ``target`` as a new release (unless it is the
    live release already), then prune and reload."""
    check_output(output)
    state = target.state()
    if state.live and target.unchanged(output, state.live):
        return DeployReport(
            target.where, state.live, state.live, changed=False, detail="unchanged"
        )
    if state.partials:
        # Left by an interrupted upload; `current` never pointed at them.
        say(f"Removing {len(state.partials)} incomplete upload(s)")
        target.remove(state.partials)
    release = new_id(now, state.releases + state.partials)
    say(f"Uploading release {release} to {target.where}")
    detail = target.upload(output, release, state.live)
    target.activate(release)
    report = DeployReport(target.where, release, state.live, detail=detail)
    report.pruned = to_prune([*state.releases, release], release, cfg.keep)
    try:
        target.remove(report.pruned)
    except DeployError as exc:  # the site is live; old releases can wait
        say(f"Could not remove old releases ({exc}); the next deploy tries again")
        report.pruned = []
    report.reloaded = reload(target, cfg, release)
    return report


def rollback(
    target: Target, cfg: DeploySettings, to: str | None = None
) -> DeployReport:
    """Point `current` at the release before the live one (or at ``to``)."""
    state = target.state()
    if to is None:
        to = previous(state.releases, state.live)
        if to is None:
            raise DeployError(
                f"no release before {state.live or 'the live one'} on "
                f"{target.where} (releases: {', '.join(state.releases) or 'none'}); "
                "nothing to roll back to"
            )
    elif to not in state.releases:
        raise DeployError(
            f"no release {to!r} on {target.where}; the releases are "
            f"{', '.join(state.releases) or 'none'}"
        )
    target.activate(to)
    report = DeployReport(target.where, to, state.live)
    report.reloaded = reload(target, cfg, to)
    return report


def reload(target: Target, cfg: DeploySettings, release: str) -> bool:
    """Run ``cfg.reload`` after a switch; a failure says the site is live."""
    if not cfg.reload:
        return False
    command = list(cfg.reload)
    try:
        result = target.run(command)
        lines = (result.stderr or result.stdout).strip().splitlines()
        failure = (
            (lines[-1] if lines else f"exit status {result.returncode}")
            if result.returncode
            else None
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        failure = str(exc)
    if failure:
        raise DeployError(
            f"release {release} is live on {target.where}, but the reload "
            f"command {' '.join(command)!r} failed ({failure}): run it by hand "
            "(until then the web server may use the old gone.map)"
        )
    return True
