"""Start the real action server and Rasa server on free ports; talk to them over REST."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "assistant.tar.gz"
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_defaults() -> dict[str, str]:
    """bot/defaults.env, the values endpoints.yml gets when nothing else is set."""
    lines = (ROOT / "bot" / "defaults.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


@dataclass
class RasaServer:
    """One `rasa run` process; can be stopped and started again on the same port."""

    workdir: Path
    env: dict[str, str]
    name: str = "rasa"
    port: int = field(default_factory=lambda: free_port())
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "bot.server",
            "run",
            "--enable-api",
            "--port",
            str(self.port),
            "-m",
            str(MODEL),
            "--credentials",
            "bot/credentials.yml",
            "--endpoints",
            "endpoints.yml",
        ]  # fmt: skip
        log = self.workdir / f"{self.name}-{int(time.time() * 1000)}.log"
        self.process = start(command, self.env, log)
        wait_until_up(f"{self.url}/status", self.process, log)

    def stop(self, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill() if kill else self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


@dataclass
class Assistant:
    rasa: RasaServer
    workdir: Path
    env: dict[str, str]
    action_port: int
    actions: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return self.rasa.url

    def start_actions(self, **extra_env: str) -> None:
        """(Re)start the action server, e.g. with a fault injected through the environment."""
        self.stop_actions()
        env = {**self.env, **extra_env}
        command = [
            str(BIN / "rasa"),
            "run",
            "actions",
            "--actions",
            "actions",
            "--port",
            str(self.action_port),
        ]
        log = self.workdir / f"actions-{int(time.time() * 1000)}.log"
        self.actions = start(command, env, log)
        wait_until_up(f"http://127.0.0.1:{self.action_port}/health", self.actions, log)

    def stop_actions(self) -> None:
        if self.actions is not None and self.actions.poll() is None:
            self.actions.terminate()
            self.actions.wait(timeout=20)

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    @property
    def callbacks_db(self) -> Path:
        return self.workdir / "callbacks.db"

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.workdir.glob("*.log"))

    def send(self, sender: str, text: str, url: str | None = None) -> list[dict]:
        response = requests.post(
            f"{url or self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def reply(self, sender: str, text: str, url: str | None = None) -> str:
        return "\n".join(message.get("text", "") for message in self.send(sender, text, url))


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def assistant_env(workdir: Path, action_port: int, **extra_env: str) -> dict[str, str]:
    """Embedded defaults, then the caller's environment, then this test's files and ports."""
    return {
        **embedded_defaults(),
        **os.environ,
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "ASSISTANT_DATA_DIR": str(workdir),
        "RASA_TELEMETRY_ENABLED": "false",
        "REPLY_TIMEOUT_S": "10",  # the guard's limit; replies here take well under a second
        **extra_env,
    }


@contextmanager
def running_assistant(workdir: Path, **extra_env: str) -> Iterator[Assistant]:
    """The real servers, on free ports, with a SQLite tracker store in `workdir` unless
    `extra_env` says otherwise (e.g. TRACKER_STORE_URL, LOCK_STORE_TYPE)."""
    assert MODEL.exists(), "train first: make train"
    action_port = free_port()
    env = assistant_env(workdir, action_port, **extra_env)
    assistant = Assistant(RasaServer(workdir, env), workdir, env, action_port)
    try:
        assistant.start_actions()
        assistant.rasa.start()
        yield assistant
    finally:
        assistant.rasa.stop()
        assistant.stop_actions()
