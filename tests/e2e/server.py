"""Start the real action server and Rasa server on free ports; talk to them over REST."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass
class Assistant:
    url: str
    workdir: Path
    env: dict[str, str]
    action_port: int
    actions: subprocess.Popen | None = None

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

    def send(self, sender: str, text: str) -> list[dict]:
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def reply(self, sender: str, text: str) -> str:
        return "\n".join(message.get("text", "") for message in self.send(sender, text))


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


@contextmanager
def running_assistant(workdir: Path) -> Iterator[Assistant]:
    """The real servers, on free ports, with a SQLite tracker store in `workdir`."""
    assert MODEL.exists(), "train first: make train"
    rasa_port, action_port = free_port(), free_port()
    env = {
        **os.environ,
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_DB": str(workdir / "tracker.db"),
        "ASSISTANT_DATA_DIR": str(workdir),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    assistant = Assistant(f"http://127.0.0.1:{rasa_port}", workdir, env, action_port)
    rasa = start(
        [
            str(BIN / "rasa"),
            "run",
            "--enable-api",
            "--port",
            str(rasa_port),
            "-m",
            str(MODEL),
            "--credentials",
            "bot/credentials.yml",
            "--endpoints",
            "endpoints.yml",
        ],  # fmt: skip
        env,
        workdir / "rasa.log",
    )
    try:
        assistant.start_actions()
        wait_until_up(f"http://127.0.0.1:{rasa_port}/status", rasa, workdir / "rasa.log")
        yield assistant
    finally:
        rasa.terminate()
        assistant.stop_actions()
        try:
            rasa.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rasa.kill()
