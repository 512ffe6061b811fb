"""A throwaway PostgreSQL server for the tests: a fresh cluster in a temporary folder.

``PostgresServer.start()`` runs Debian's ``initdb`` and ``pg_ctl`` (found under
``/usr/lib/postgresql/*/bin``, or by ``pg_config --bindir``), listening on 127.0.0.1 on
a free port with scram-sha-256 password authentication for every TCP connection; the
Unix socket lives in the cluster folder, so no system-wide PostgreSQL is touched. As
root (CI containers), the cluster runs as the ``postgres`` OS user, which Debian's
package creates. ``stop()`` stops the server and deletes the folder.

The server is a developer's too: ``python -m tests.postgres_server`` starts one and
prints its superuser URL until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"


class ServerUnavailable(RuntimeError):
    """PostgreSQL is not installed, or the server could not be started."""


def find_bindir() -> Path:
    """The folder of ``initdb``/``pg_ctl``/``postgres``: the newest Debian version, or
    whatever ``pg_config --bindir`` names."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(re.findall(r"/(\d+)/bin/", p)[0]),
    )
    if found:
        return Path(found[-1]).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if bindir and (Path(bindir) / "postgres").exists():
            return Path(bindir)
    raise ServerUnavailable(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/postgres); "
        "install them: apt-get install -y postgresql"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """One running cluster. ``url(user, password, dbname)`` builds a libpq URL to it."""

    bindir: Path
    folder: Path
    port: int
    password: str
    os_user: str | None
    log: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(
        self, user: str = SUPERUSER, password: str | None = None, dbname: str = "postgres"
    ) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{user}:{secret}@{self.host}:{self.port}/{dbname}"

    @classmethod
    def start(cls, bindir: Path | None = None, attempts: int = 3) -> PostgresServer:
        """initdb a new cluster in a temporary folder and start it (waits until ready).
        Another attempt, on another free port, follows a failure (the port may have been
        taken between finding it free and the server binding it)."""
        bindir = bindir or find_bindir()
        os_user = _server_os_user()
        for attempt in range(1, attempts + 1):
            folder = Path(tempfile.mkdtemp(prefix="recsys-pg-"))
            server = cls(bindir, folder, free_port(), secrets.token_urlsafe(18), os_user)
            try:
                server._init()
                server._pg_ctl("start", "-w", "-t", "60", "-l", str(folder / "server.log"))
                return server
            except ServerUnavailable:
                server.stop()
                if attempt == attempts:
                    raise
            except BaseException:
                server.stop()
                raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are disconnected) and delete the folder."""
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def server_log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- internals ---------------------------------------------------------------------

    def _init(self) -> None:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.os_user is not None:
            entry = pwd.getpwnam(self.os_user)
            for path in (self.folder, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
            "password_encryption": "'scram-sha-256'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# recsys-duck tests\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        # TCP only from 127.0.0.1, always with a password (initdb wrote the same rules
        # for the auth methods asked; this makes the file say exactly that and no more).
        (self.data / "pg_hba.conf").write_text(
            "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )
        if self.os_user is not None:
            entry = pwd.getpwnam(self.os_user)
            for path in (self.data / "postgresql.conf", self.data / "pg_hba.conf"):
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), *args], check=check)

    def _run(self, argv: Sequence[str], check: bool = True) -> None:
        if self.os_user is not None:
            argv = ["runuser", "-u", self.os_user, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        self.log.append(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}")
        if check and done.returncode != 0:
            raise ServerUnavailable(
                f"{' '.join(argv[-3:])} failed (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}\n{self.server_log()}"
            )


def _server_os_user() -> str | None:
    """The OS user to run the server as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServerUnavailable(
            "running as root and there is no 'postgres' OS user to run the server; "
            "install Debian's postgresql package (it creates one)"
        ) from exc
    if shutil.which("runuser") is None:
        raise ServerUnavailable("running as root and runuser (util-linux) is missing")
    return "postgres"


if __name__ == "__main__":
    # Ctrl-C or kill (SIGTERM) stop the server and delete its folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = PostgresServer.start()
    print(server.url(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
