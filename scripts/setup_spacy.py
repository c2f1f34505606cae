"""Provide the German spaCy pipeline that bot/config.yml loads from `.spacy/de_pipeline`.

Real deployments get spaCy's trained `de_core_news_sm` (installed from its release download).
Where that download is unreachable (this CI machine), we build an honest fallback: a blank
German pipeline with the lookup lemmatizer of spacy-lookups-data, saved as `de_blank_lookup`.
`.spacy/de_pipeline` links to whichever is in use; `describe` prints which one.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPACY_DIR = ROOT / ".spacy"
LINK = SPACY_DIR / "de_pipeline"
FALLBACK_NAME = "de_blank_lookup"
MODEL_NAME = "de_core_news_sm"
MODEL_VERSION = "3.4.0"  # the release matching spaCy 3.4
MODEL_URL = (
    "https://github.com/explosion/spacy-models/releases/download/"
    f"{MODEL_NAME}-{MODEL_VERSION}/{MODEL_NAME}-{MODEL_VERSION}-py3-none-any.whl"
)


def installed_model_path() -> Path | None:
    try:
        module = importlib.import_module(MODEL_NAME)
    except ImportError:
        return None
    return Path(module.__file__).parent / f"{MODEL_NAME}-{MODEL_VERSION}"


def try_install_model() -> Path | None:
    if os.environ.get("SPACY_SKIP_DOWNLOAD") == "1":
        return None
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--timeout", "15", "--retries", "0", MODEL_URL],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(f"{MODEL_NAME} could not be downloaded; using the fallback pipeline.", file=sys.stderr)
        return None
    importlib.invalidate_caches()
    return installed_model_path()


def build_fallback() -> Path:
    import spacy

    target = SPACY_DIR / FALLBACK_NAME
    if (target / "meta.json").exists():
        return target
    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["name"] = FALLBACK_NAME.removeprefix("de_")
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = (
        "Fallback German pipeline: spacy.blank('de') tokenizer with the lookup lemmatizer of "
        f"spacy-lookups-data. No statistical model; used where {MODEL_NAME} cannot be downloaded."
    )
    SPACY_DIR.mkdir(exist_ok=True)
    nlp.to_disk(target)
    return target


def link(target: Path) -> None:
    SPACY_DIR.mkdir(exist_ok=True)
    if LINK.is_symlink() or LINK.exists():
        if LINK.resolve() == target.resolve():
            return
        LINK.unlink()
    LINK.symlink_to(target.resolve())


def describe() -> str:
    import json

    meta = json.loads((LINK / "meta.json").read_text())
    return f"{meta['lang']}_{meta['name']} {meta['version']} ({LINK.resolve()})"


def main() -> None:
    target = installed_model_path() or try_install_model() or build_fallback()
    link(target)
    print(f"spaCy pipeline: {describe()}")


if __name__ == "__main__":
    if sys.argv[1:] == ["describe"]:
        print(describe())
    else:
        main()
