"""The rsync target: the same releases and `current` symlink on a host
reached by SSH. Files go up with rsync into ``<id>.partial/`` (unchanged files
hard-linked from the live release with --link-dest), then one SSH command
renames it and renames a new symlink over ``current`` on the host."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from .releases import PARTIAL, State, link_target, read_state
from .settings import DeployError, DeploySettings

#: ssh exits 255 on its own errors (host down, key refused); anything else is
#: the remote command's status.
SSH_FAILED = 255
TIMEOUT = 3600  # an upload of a large site on a slow line


class RsyncTarget:
    """Releases under ``cfg.root`` on ``cfg.host``."""

    def __init__(self, cfg: DeploySettings, identity_file: str | None) -> None:
        self.cfg = cfg
        self.dest = f"{cfg.user}@{cfg.host}" if cfg.user else str(cfg.host)
        self.root = cfg.root.rstrip("/") or "/"
        self.where = f"{self.dest}:{self.root}"
        options = [
            "-p",
            str(cfg.port),
            # Never prompt (cron has no one to answer); give up on a dead host.
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={cfg.connect_timeout}",
        ]
        for option in cfg.ssh_options:
            options += ["-o", option]
        if identity_file:
            options += ["-i", identity_file, "-o", "IdentitiesOnly=yes"]
        self.ssh = ["ssh", *options]

    def _sh(self, script: str, what: str) -> str:
        """Run ``script`` with the host's shell; its output, or a DeployError."""
        result = self._run([*self.ssh, self.dest, script])
        if result.returncode:
            raise self._error(what, "ssh", result)
        return result.stdout

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
        except FileNotFoundError as exc:
            raise DeployError(
                f"{argv[0]} is not installed: apt-get install openssh-client rsync"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise DeployError(
                f"{argv[0]} to {self.dest} took more than {TIMEOUT} s and was "
                "stopped; the live site is unchanged; run `publish deploy` again"
            ) from exc

    def _error(
        self, what: str, tool: str, result: subprocess.CompletedProcess[str]
    ) -> DeployError:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1] if lines else f"exit status {result.returncode}"
        if (tool == "ssh" and result.returncode == SSH_FAILED) or (
            tool == "rsync" and result.returncode in (12, 255)
        ):
            advice = (
                f"check that the host is up and that `{shlex.join(self.ssh)} "
                f"{self.dest} true` works"
            )
        else:
            advice = f"check that {self.dest} may write to {self.root} and has space"
        return DeployError(
            f"{what} on {self.where} failed ({tool}: {detail}); {advice}. The "
            "live site is unchanged unless said otherwise; run the command again"
        )

    def _q(self, *parts: str) -> str:
        return shlex.quote("/".join((self.root, *parts)))

    def state(self) -> State:
        root, current = self._q(), self._q("current")
        out = self._sh(
            f"if [ -d {current} ] && [ ! -L {current} ]; then echo notlink; exit; fi; "
            f'if [ -L {current} ]; then echo "link $(readlink {current})"; fi; '
            f"ls -1A {root}/releases 2>/dev/null || true",
            "reading the releases",
        )
        lines = out.splitlines()
        if lines[:1] == ["notlink"]:
            raise DeployError(
                f"{self.where}/current is a directory, not a symlink: move it "
                "away on the host (mv current current.old) and deploy again"
            )
        link = lines[0][5:] if lines and lines[0].startswith("link ") else None
        return read_state(lines[1 if link else 0 :], link)

    def _rsync(self, output: Path, dest: str, *flags: str) -> list[str]:
        return [
            "rsync",
            # No times or owners: files are compared by checksum, so an
            # unchanged file is hard-linked (or left alone) even though each
            # build writes it anew.
            "-rlpc",
            "--delete",
            "--protect-args",
            "-e",
            shlex.join(self.ssh),
            *flags,
            f"{output}/",
            f"{self.dest}:{dest}/",
        ]

    def unchanged(self, output: Path, live: str) -> bool:
        argv = self._rsync(
            output, f"{self.root}/releases/{live}", "--dry-run", "--itemize-changes"
        )
        result = self._run(argv)
        if result.returncode:
            raise self._error("comparing with the live release", "rsync", result)
        return not result.stdout.strip()

    def upload(self, output: Path, release: str, base: str | None) -> str:
        partial = f"{release}{PARTIAL}"
        self._sh(f"mkdir -p {self._q('releases')}", "creating releases/")
        flags = [f"--link-dest=../{base}"] if base else []
        result = self._run(
            self._rsync(output, f"{self.root}/releases/{partial}", *flags)
        )
        if result.returncode:
            raise self._error("uploading the new release", "rsync", result)
        # sync: the bytes are on the host's disk before `current` names them.
        self._sh(
            f"sync && mv -T {self._q('releases', partial)} {self._q('releases', release)}",
            "completing the new release",
        )
        return f"uploaded to {self.where}/releases/{release}"

    def activate(self, release: str) -> None:
        temporary = self._q(".current.tmp")
        # mv -T is rename(2): atomic, unlike `ln -sfn` (unlink, then link).
        self._sh(
            f"test -d {self._q('releases', release)} && rm -f {temporary} && "
            f"ln -s {shlex.quote(link_target(release))} {temporary} && "
            f"mv -T {temporary} {self._q('current')}",
            f"switching current to {release}",
        )

    def remove(self, names: list[str]) -> None:
        if names:
            paths = " ".join(self._q("releases", n) for n in names)
            self._sh(f"rm -rf -- {paths}", "removing old releases")

    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        # The command runs on the host, in the root; quoted word by word, so
        # the remote shell passes it on as it is.
        return self._run(
            [*self.ssh, self.dest, f"cd {self._q()} && {shlex.join(command)}"]
        )
