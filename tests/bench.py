"""Benchmarks (not a test gate): `make bench` prints the figures kept in docs/benchmarks.md.

- the frozen blind sets over REST against the real servers (tests/blind.py), newest version first
- dev set answer accuracy and sequential REST reply latency p50/p95
- town resolver accuracy per kind of query and lookup latency
- optionally (--cv) NLU cross-validation intent F1, (--train) the time of a full training
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import knowledge
from knowledge import Outcome
from tests.e2e.server import ROOT, running_assistant

RASA = str(Path(sys.executable).parent / "rasa")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def cross_validation(folds: int) -> str:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [RASA, "test", "nlu", "--cross-validation", "--folds", str(folds), "--config", "bot/config.yml",
             "--nlu", "data/nlu", "--out", out],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        report = json.loads((Path(out) / "intent_report.json").read_text())
    weighted = report["weighted avg"]
    return f"| NLU intent F1 ({folds}-fold cross-validation, weighted) | {weighted['f1-score']:.3f} |"


def dev_set_and_latency() -> list[str]:
    cases = yaml.safe_load((ROOT / "tests" / "e2e" / "dev_set.yml").read_text())["cases"]
    latencies: list[float] = []
    correct = 0
    with tempfile.TemporaryDirectory() as workdir, running_assistant(Path(workdir)) as assistant:
        for index, case in enumerate(cases):
            started = time.perf_counter()
            reply = assistant.reply(f"bench-{index}", case["text"]).lower()
            latencies.append((time.perf_counter() - started) * 1000)
            correct += all(item.lower() in reply for item in case["expect"])
    return [
        f"| Dev set answer accuracy ({len(cases)} cases) | {correct / len(cases):.1%} |",
        f"| REST reply latency p50 | {statistics.median(latencies):.0f} ms |",
        f"| REST reply latency p95 | {percentile(latencies, 0.95):.0f} ms |",
    ]


def resolver() -> list[str]:
    path = ROOT / "tests" / "data" / "resolver_dev_set.yml"
    if not path.exists():
        return []
    cases = yaml.safe_load(path.read_text())["cases"]
    base = knowledge.load()
    by_kind: dict[str, list[bool]] = {}
    timings: list[float] = []
    for case in cases:
        started = time.perf_counter()
        match = base.find_office(case["query"])
        timings.append((time.perf_counter() - started) * 1000)
        expected = Outcome(case["outcome"])
        ok = match.outcome is expected and (
            expected is not Outcome.FOUND or match.office.id == case["office"]
        )
        by_kind.setdefault(case["kind"], []).append(ok)
    rows = [
        f"| Resolver accuracy: {kind} ({len(results)}) | {sum(results) / len(results):.1%} |"
        for kind, results in sorted(by_kind.items())
    ]
    rows.append(f"| Resolver lookup latency median | {statistics.median(timings):.3f} ms |")
    rows.append(f"| Resolver lookup latency p99 | {percentile(timings, 0.99):.3f} ms |")
    return rows


def blind_versions() -> list[str]:
    """v2, v1, …: the newest first (tests/data/blind/README.md)."""
    found = {path.stem.split("_")[1] for path in (ROOT / "tests" / "data" / "blind").glob("*_v*.yml")}
    return sorted(found, key=lambda version: -int(version[1:]))


def training_time() -> str:
    started = time.perf_counter()
    subprocess.run(
        [RASA, "train", "--config", "bot/config.yml", "--domain", "bot/domain", "--data", "data",
         "--out", tempfile.mkdtemp(), "--force"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return f"| Full training | {time.perf_counter() - started:.0f} s |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", action="store_true", help="also time a full training")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--cv", action="store_true", help="also NLU cross-validation (slow)")
    parser.add_argument(
        "--blind", nargs="*", default=None, help="blind set versions, default: all, newest first"
    )
    args = parser.parse_args()
    for version in args.blind if args.blind is not None else blind_versions():
        print(f"blind sets {version} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "tests.blind", "--set", version], cwd=ROOT, check=True)
    rows = ["| figure | value |", "|---|---|"]
    rows += resolver()
    rows += dev_set_and_latency()
    if args.cv:
        rows.append(cross_validation(args.folds))
    if args.train:
        rows.append(training_time())
    print("\n".join(rows))


if __name__ == "__main__":
    main()
