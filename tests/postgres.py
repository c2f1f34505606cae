"""A throwaway PostgreSQL server (Debian's binaries) in a temporary directory."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
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
