"""Throwaway PostgreSQL and Redis servers (Debian's binaries) in temporary directories."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is missing: run scripts/system_deps.sh (apt-get install postgresql)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh database; the server stops and its files go afterwards."""
    binaries, port = _binaries(), _free_port()
    # Not under pytest's tmp dir: as root we run PostgreSQL as `postgres`, who cannot enter it.
    directory = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(directory, user="postgres")
    data = directory / "data"
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True)  # noqa: E731
    run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    run(
        str(binaries / "pg_ctl"), "-D", str(data), "-l", str(directory / "server.log"), "-w", "start",
        "-o", f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
    )  # fmt: skip
    try:
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "assistant")
        yield f"postgresql://postgres@127.0.0.1:{port}/assistant"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[int]:
    """Yield the port of a fresh Redis server on 127.0.0.1 (no persistence); it stops afterwards."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("Redis is missing: run scripts/system_deps.sh (apt-get install redis-server)")
    port, directory = _free_port(), Path(tempfile.mkdtemp(prefix="assistant-redis-"))
    command = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    log = (directory / "redis.log").open("w")
    process = subprocess.Popen([*command, "--dir", str(directory)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (directory / "redis.log").read_text()
                    raise RuntimeError(f"Redis did not start: {output}") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def shared_stores_env(db_url: str, redis_port: int) -> dict[str, str]:
    """Environment for Rasa servers that share one PostgreSQL and one Redis (docs/deployment.md)."""
    return {
        "TRACKER_STORE_URL": db_url,
        "DATABASE_URL": db_url,
        "LOCK_STORE_TYPE": "bot.lock_store.AtomicRedisLockStore",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_port),
    }
