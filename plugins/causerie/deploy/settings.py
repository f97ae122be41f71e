"""``DEPLOY`` settings: where releases go, how many are kept, how to reach a host."""

from __future__ import annotations

from dataclasses import dataclass

from causerie.errors import SettingsError, UserError

#: The SSH key for the rsync target may also come from the environment (a
#: per-machine value, like the deploy key a CI runner is given).
ENV_IDENTITY = "CAUSERIE_DEPLOY_IDENTITY"

TARGETS = ("local", "rsync")


class DeployError(UserError):
    """A deployment or a rollback failed; the message says what failed, that
    the live site is unchanged (or what it is), and how to try again."""


@dataclass(frozen=True)
class DeploySettings:
    """The ``DEPLOY`` dict of pelicanconf.py, with its defaults."""

    #: "local": a directory of this machine; "rsync": a host reached by SSH.
    target: str = "local"
    #: On the machine that serves the site: holds releases/<id>/ and the
    #: `current` symlink the web server's root points at. A relative path is
    #: read from the site's directory (local) or the SSH user's home (rsync).
    root: str = "/srv/blog"
    #: Releases kept; older ones are removed (never the live one, nor the one
    #: before it, so a rollback always has somewhere to go).
    keep: int = 5
    #: Run after each switch, without a shell (on the remote host for
    #: "rsync"), e.g. ["nginx", "-s", "reload"] so nginx re-reads gone.map.
    reload: tuple[str, ...] | None = None
    #: rsync: the host, its SSH user and port, the private key file.
    host: str | None = None
    user: str | None = None
    port: int = 22
    identity_file: str | None = None
    #: rsync: extra `ssh -o` options, e.g. ["StrictHostKeyChecking=accept-new"].
    ssh_options: tuple[str, ...] = ()
    #: rsync: seconds to wait for the host to answer before giving up.
    connect_timeout: int = 10

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise SettingsError(
                f"target must be 'local' or 'rsync', not {self.target!r}"
            )
        if not self.root.strip():
            raise SettingsError("root must name a directory, e.g. '/srv/blog'")
        if self.keep < 1:
            raise SettingsError("keep must be at least 1")
        if self.reload is not None and not self.reload:
            raise SettingsError(
                "reload must be a command, e.g. ['nginx', '-s', 'reload']"
            )
        if self.target == "rsync" and not self.host:
            raise SettingsError("target 'rsync' needs a host, e.g. 'www.example.com'")
        if not 0 < self.port < 65536:
            raise SettingsError("port must be between 1 and 65535")
        if self.connect_timeout < 1:
            raise SettingsError("connect_timeout must be at least 1")
