"""Train only when the training data, domain, config or spaCy pipeline changed; Rasa's cache
(.rasa/cache) retrains only the components whose inputs changed (a rule: seconds, not DIET)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
FINGERPRINT = ROOT / "models" / "assistant.fingerprint"
INPUTS = [ROOT / "bot" / "config.yml", ROOT / ".spacy" / "de_pipeline" / "meta.json"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    inputs = [*INPUTS, *(ROOT / "bot" / "domain").glob("*.yml"), *(ROOT / "data").rglob("*.yml")]
    for path in sorted(inputs):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def main() -> int:
    # The rules, responses and intents that follow from the topic catalogue, always current.
    sync = subprocess.run([sys.executable, "-m", "bot.catalogue"], cwd=ROOT)
    if sync.returncode != 0:
        return sync.returncode
    current = fingerprint()
    if MODEL.exists() and FINGERPRINT.exists() and FINGERPRINT.read_text().strip() == current:
        print(f"Model is up to date: {MODEL.relative_to(ROOT)}")
        return 0
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", "bot/config.yml", "--domain", "bot/domain", "--data", "data",
        "--out", "models", "--fixed-model-name", "assistant",
    ]  # fmt: skip
    # The default 1 GB cache drops the character n-gram features, and DIET then trains again.
    env = {"RASA_MAX_CACHE_SIZE": "4000", **os.environ}
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode == 0:
        FINGERPRINT.write_text(current + "\n")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
