"""`pip install .` (not editable) carries everything the servers need: every package, the
knowledge data, the domain, the widget's files; nothing is read from the source tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CHECK = """
import pathlib, sys
import knowledge, bot.catalogue, bot.nlu.places, bot.nlu.cards, bot.tracker_store
from bot.channels import guard, rest, telegram, voice, widget
import actions.answer, actions.callback, callbacks.store, reports.deflection
kb = knowledge.load()
assert len(kb.cards) > 150 and kb.texts("voice.greeting") and kb.find_office("Issum").office
assert (widget.WEB_DIR / "widget.js").exists(), widget.WEB_DIR
assert (pathlib.Path(bot.catalogue.__file__).parent / "domain" / "callback.yml").exists()
print(knowledge.__file__)
"""


def test_a_non_editable_install_has_every_package_and_its_data(tmp_path: Path) -> None:
    target = tmp_path / "installed"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(target), str(ROOT)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"  # not the source tree: nothing may be found there
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path[:0] = [{str(target)!r}]\n{CHECK}"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().startswith(str(target))
