"""A throwaway PostgreSQL cluster on 127.0.0.1, for the tests and `bench/run.py central`.

It runs Debian's own binaries (`initdb`, `pg_ctl`) in a temporary folder; as
root it runs them as the `postgres` user (PostgreSQL refuses to run as root).
Host connections need the password (scram-sha-256), so the station's rule
"the password comes from the environment or a .pgpass" is exercised for real:
`pgpass` is a .pgpass file for the cluster, to point PGPASSFILE at.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN_DIRS = tuple(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
USER = "qc"
DATABASE = "inspection"


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL bin folder holding initdb, or None."""
    for d in PG_BIN_DIRS:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    return None


def missing_reason() -> str | None:
    """Why no scratch server can start here (None: it can)."""
    if pg_bin() is None:
        return (
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "run scripts/setup.sh test"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ScratchServer:
    """A cluster with database `inspection` owned by role `qc`; `url` has no password."""

    def __init__(self, *, fsync: bool = False, max_connections: int = 100) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError(missing_reason())
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="station-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.pgpass = self.root / "pgpass"
        self.pgpass.write_text(f"127.0.0.1:{self.port}:*:{USER}:{self.password}\n")
        self.pgpass.chmod(0o600)
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o644)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        pwfile.unlink()
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.root}'",
            f"max_connections = {max_connections}",
            f"fsync = {'on' if fsync else 'off'}",
            "shared_buffers = 128MB",
            "log_min_messages = fatal",
        ]
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n".join(conf) + "\n")
        self.start()
        self._watcher = self._watch_owner()
        self._run("createdb", "-h", str(self.root), "-p", str(self.port), "-U", USER, DATABASE)

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _watch_owner(self) -> subprocess.Popen[bytes]:
        """A shell that stops the server and removes its folder once this process is gone.

        A test run killed outright (SIGKILL, a CI timeout) never reaches `close`; without
        this its server would run on, holding a port and a folder in /tmp.
        """
        stop = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
        if self._as_postgres:
            stop = ["runuser", "-u", "postgres", "--", *stop]
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
            f"{shlex.join(stop)}; rm -rf {shlex.quote(str(self.root))}"
        )
        return subprocess.Popen(
            ["sh", "-c", script],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; mode "immediate" is a crash (no shutdown checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def close(self) -> None:
        self._watcher.kill()
        self._watcher.wait()
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ScratchServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
