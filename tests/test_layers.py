"""Layers point one way: knowledge/ and callbacks/ at the bottom, bot/ and reports/ never import
actions/, channels never decide what to answer (no knowledge.dialogue, no actions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"knowledge", "callbacks", "bot", "actions", "reports", "tests", "scripts"}
# package -> the project packages (and frameworks) it may import
ALLOWED = {
    "knowledge": {"knowledge"},
    "callbacks": {"callbacks"},
    "bot": {"bot", "knowledge", "callbacks", "rasa"},
    "actions": {"actions", "knowledge", "callbacks", "rasa_sdk"},
    "reports": {"reports", "knowledge", "callbacks"},
}
FRAMEWORKS = {"rasa", "rasa_sdk"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(package)
        for name in imports_of(path)
        if (top := name.split(".")[0]) in PROJECT | FRAMEWORKS and top not in ALLOWED[package]
    }
    assert not wrong


def test_channels_carry_messages_and_leave_the_decisions_to_the_dialogue() -> None:
    wrong = {
        f"{path.name}: {name}"
        for path in modules("bot/channels")
        for name in imports_of(path)
        if name.startswith(("knowledge.dialogue", "actions", "callbacks"))
    }
    assert not wrong
