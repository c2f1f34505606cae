"""Run the frozen blind sets (tests/data/blind) over REST against the real servers.

    python -m tests.blind [answers|places|callbacks ...] [--set v1] [--failures N] [--json FILE]

A reply counts when it contains what was asked (the set's regexes), not when the topic was right.
Not a test gate: the figures go to docs/benchmarks.md. Never tune on a set's phrasings; when the
assistant was tuned against a set, have a new one written (tests/data/blind/README.md).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

import knowledge
from callbacks.store import CallbackStore
from tests.e2e.server import ROOT, Assistant, running_assistant

BLIND = ROOT / "tests" / "data" / "blind"
OPENER = "Welche Stelle ist für meinen Schwerbehindertenausweis zuständig?"
# The assistant's own markers (knowledge/data/texts.yml): what the checker needs to know of it.
OUT_OF_SCOPE = re.compile(r"Ich beantworte (nur )?Fragen zum Schwerbehindertenausweis", re.I)
GAP = re.compile(r"keine gesicherte Auskunft", re.I)
FALLBACK = re.compile(r"nicht sicher, ob ich Sie richtig verstehe|habe ich leider nicht verstanden", re.I)
OUTSIDE = re.compile(r"nicht in Nordrhein-Westfalen|nicht in Deutschland", re.I)
SEPARATORS = re.compile(r"(?<=\d)[\s/\-–.]+(?=\d)")


def compact(text: str) -> str:
    """'0221 / 221-30702' -> '022122130702': phone numbers compare by digits."""
    return SEPARATORS.sub("", text)


def matches(pattern: str, text: str) -> bool:
    return bool(re.search(pattern, text, re.I) or re.search(pattern, compact(text), re.I))


@dataclass
class Tally:
    passed: int = 0
    total: int = 0
    by: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[dict] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def add(self, ok: bool, labels: dict[str, str], failure: dict) -> None:
        self.total += 1
        self.passed += ok
        for name, value in labels.items():
            self.by[name][(value, ok)] += 1
        if not ok:
            self.failures.append(failure)

    def rows(self, title: str) -> list[str]:
        lines = [f"| {title} | {self.passed}/{self.total} | {self.passed / max(1, self.total):.1%} |"]
        for name, counts in self.by.items():
            for value in sorted({value for value, _ in counts}):
                ok, bad = counts[(value, True)], counts[(value, False)]
                lines.append(f"| {title}: {name} {value} | {ok}/{ok + bad} | {ok / max(1, ok + bad):.1%} |")
        return lines


def reply_text(messages: list[dict]) -> str:
    return "\n".join(message.get("text") or "" for message in messages)


def timed_send(assistant: Assistant, tally: Tally, sender: str, text: str) -> list[dict]:
    started = time.perf_counter()
    try:
        messages = assistant.send(sender, text)
    except requests.HTTPError as error:  # e.g. 429: a conversation going round in circles
        return [{"text": f"HTTP {error.response.status_code}"}]
    tally.latencies.append((time.perf_counter() - started) * 1000)
    return messages


# --- answers -------------------------------------------------------------------------------------


def run_answers(assistant: Assistant, version: str) -> tuple[Tally, dict[str, int]]:
    tally, extra = Tally(), Counter()
    for path in sorted(BLIND.glob(f"answers_{version}_*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            sender = f"blind-{version}-{conversation['id']}"
            expect = conversation.get("expect", "answer")
            problems = []
            for index, turn in enumerate(conversation["turns"]):
                text = reply_text(timed_send(assistant, tally, sender, turn["user"]))
                must, must_not = turn.get("must") or [], turn.get("must_not") or []
                scored = bool(must or must_not)
                last = index == len(conversation["turns"]) - 1
                if expect == "out_of_scope" and (scored or last) and not OUT_OF_SCOPE.search(text):
                    problems.append({"turn": index, "missing": "out-of-scope reply", "reply": text})
                if expect == "gap" and (scored or last) and not GAP.search(text):
                    problems.append({"turn": index, "missing": "gap reply", "reply": text})
                missing = [p for p in must if not matches(p, text)]
                wrong = [p for p in must_not if matches(p, text)]
                if missing or wrong:
                    problems.append({"turn": index, "missing": missing, "wrong": wrong, "reply": text})
                if expect == "answer" and scored:
                    extra["in_scope_turns"] += 1
                    extra["in_scope_fallbacks"] += bool(FALLBACK.search(text))
                if expect == "out_of_scope" and scored:
                    extra["out_of_scope_turns"] += 1
                    extra["out_of_scope_card_facts"] += bool(wrong)
            labels = {"expect": expect, "style": conversation.get("style", "?"), "part": path.stem[-1]}
            failure = {
                "id": conversation["id"],
                "turns": [t["user"] for t in conversation["turns"]],
                "problems": problems,
            }
            tally.add(not problems, labels, failure)
    return tally, extra


# --- places --------------------------------------------------------------------------------------


def office_digits() -> set[str]:
    return {
        re.sub(r"\D", "", phone) for office in knowledge.load().offices.values() for phone in office.phones
    }


def check_place(case: dict, messages: list[dict], nrw_phones: set[str]) -> str | None:
    text = reply_text(messages)
    digits = compact(text)
    buttons = [b.get("title", "") for m in messages for b in m.get("buttons") or []]
    expect = case["expect"]
    if expect == "office":
        phone = re.sub(r"\D", "", str(case["phone"]))
        return None if phone in re.sub(r"[^\d\n]", "", digits) or phone in digits else "office phone missing"
    if any(phone in digits for phone in nrw_phones):
        return "an NRW office phone was given"
    if expect == "ambiguous":
        if len(buttons) < 2:
            return "no choice offered"
        offered = " ".join(buttons) + " " + text
        missing = [o for o in case.get("options") or [] if not re.search(o, offered, re.I)]
        return f"options missing: {missing}" if missing else None
    if not OUTSIDE.search(text):
        return "not refused as outside"
    region = case.get("state") if expect == "outside_nrw" else case.get("country")
    if region and region.lower() not in text.lower():
        return f"{region} not named"
    return None


def run_places(assistant: Assistant, version: str) -> Tally:
    tally, nrw_phones = Tally(), office_digits()
    cases = yaml.safe_load((BLIND / f"places_{version}.yml").read_text(encoding="utf-8"))["cases"]
    for case in cases:
        modes = {"both": ("answer", "alone"), "answer": ("answer",), "alone": ("alone",)}[
            case.get("mode", "both")
        ]
        for mode in modes:
            sender = f"blind-place-{version}-{case['id']}-{mode}"
            if mode == "answer":
                timed_send(assistant, tally, sender, OPENER)
            messages = timed_send(assistant, tally, sender, case["text"])
            problem = check_place(case, messages, nrw_phones)
            labels = {"kind": case["kind"], "mode": mode, "expect": case["expect"]}
            failure = {
                "id": case["id"],
                "text": case["text"],
                "mode": mode,
                "problem": problem,
                "reply": reply_text(messages),
            }
            tally.add(problem is None, labels, failure)
    return tally


# --- callbacks -----------------------------------------------------------------------------------

ASKS = (  # what the assistant asks for, by its own texts (knowledge/data/texts.yml, callback.*)
    ("done", re.compile(r"ist gespeichert|Ihre Bitte ist gespeichert")),
    ("ended", re.compile(r"abgebrochen und nichts gespeichert|ich speichere nichts")),
    ("consent", re.compile(r"Sind Sie einverstanden")),
    ("confirm", re.compile(r"Soll ich die Rückrufbitte so absenden|Was möchten Sie ändern")),
    ("name", re.compile(r"Wie heißen Sie|Vor- und Nachnamen")),
    ("alternative", re.compile(r"Wie kann das Amt Sie erreichen|keine E-Mail-Adresse, Faxnummer")),
    ("phone", re.compile(r"Telefonnummer|Handynummer|Vorwahl")),
    ("reason", re.compile(r"Worum geht es|Anliegen")),
    ("town", re.compile(r"Stadt oder Gemeinde|Wohnort|Postleitzahl|Ort genauer")),
    ("preferred_time", re.compile(r"Wann passt")),
)
MAX_TURNS = 16


def asked(text: str) -> str | None:
    for name, pattern in ASKS:
        if pattern.search(text):
            return name
    return None


def answer_for(step: str, person: dict, used: Counter) -> str:
    key = {"alternative": "alternative", "phone": "phone"}.get(step, step)
    if step == "phone" and not person.get("phone") and person.get("alternative"):
        key = "alternative"
    value = person.get(key)
    if value is None:
        value = {"preferred_time": "egal", "consent": "ja", "confirm": "ja"}.get(step, "weiß nicht")
    if isinstance(value, list):
        value = value[min(used[key], len(value) - 1)]
    used[key] += 1
    return str(value)


def run_callbacks(assistant: Assistant, version: str) -> Tally:
    tally = Tally()
    store = CallbackStore(f"sqlite:///{assistant.callbacks_db}")
    conversations = yaml.safe_load((BLIND / f"callbacks_{version}.yml").read_text(encoding="utf-8"))[
        "conversations"
    ]
    for conversation in conversations:
        sender = f"blind-callback-{version}-{conversation['id']}"
        before = {request.reference for request in store.list()}
        person, used, midway = conversation["person"], Counter(), list(conversation.get("midway") or [])
        transcript = []
        text = ""
        for message in conversation["opening"]:
            text = reply_text(timed_send(assistant, tally, sender, message))
            transcript += [f"> {message}", text]
        outcome = None
        for _ in range(MAX_TURNS):
            step = asked(text)
            if step in ("done", "ended"):
                outcome = step
                break
            if step is None:
                outcome = "lost"
                break
            due = next((m for m in midway if m.get("before") == {"town": "town"}.get(step, step)), None)
            if due is not None:
                midway.remove(due)
                say = due["say"]
            else:
                say = answer_for(step, person, used)
            text = reply_text(timed_send(assistant, tally, sender, say))
            transcript += [f"> {say}", text]
        new = [request for request in store.list() if request.reference not in before]
        problem = check_callback(conversation["expect"], new, outcome)
        failure = {"id": conversation["id"], "problem": problem, "transcript": transcript[-12:]}
        tally.add(problem is None, {"style": conversation.get("style", "?")}, failure)
    return tally


def check_callback(expect: dict, new: list, outcome: str | None) -> str | None:
    if not expect["stored"]:
        return None if not new else "stored although it should not be"
    if len(new) != 1:
        return f"{len(new)} requests stored (conversation ended: {outcome})"
    request = new[0]
    if " ".join(str(expect["name"]).split()).casefold() != " ".join(request.name.split()).casefold():
        return f"name {request.name!r} != {expect['name']!r}"
    if expect.get("phone_e164") and request.phone != expect["phone_e164"]:
        return f"phone {request.phone!r} != {expect['phone_e164']!r}"
    if not expect.get("phone_e164") and request.contact_method == "phone":
        return "a phone number was stored for a person who gave none"
    alternative = expect.get("alternative_regex")
    contact = " ".join(filter(None, [request.email, request.fax, request.phone]))
    if alternative and not re.search(alternative, contact):
        return f"contact {contact!r} does not match {alternative!r}"
    if not re.search(expect["reason_regex"], request.reason):
        return f"reason {request.reason!r} does not match"
    office = knowledge.load().offices[request.office]
    if not re.search(expect["office_regex"], f"{office.name} {office.city}"):
        return f"office {office.name!r} does not match {expect['office_regex']!r}"
    return None


# --- main ----------------------------------------------------------------------------------------


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else 0.0


def share_row(label: str, count: int, total: int) -> str:
    return f"| {label} | {count}/{total} | {count / total:.1%} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", default=["answers", "places", "callbacks"])
    parser.add_argument("--set", default="v1", help="version of the blind sets")
    parser.add_argument("--failures", type=int, default=0, help="print this many failures per set")
    parser.add_argument("--json", type=Path, help="write all failures to this file")
    args = parser.parse_args()
    rows, failures = ["| set | passed | share |", "|---|---|---|"], {}
    with tempfile.TemporaryDirectory() as workdir, running_assistant(Path(workdir)) as assistant:
        for name in args.sets:
            if name == "answers":
                tally, extra = run_answers(assistant, args.set)
                rows += tally.rows(f"answers {args.set}")
                turns, fallbacks = max(1, extra["in_scope_turns"]), extra["in_scope_fallbacks"]
                rows.append(share_row(f"answers {args.set}: in-scope fallback rate", fallbacks, turns))
                oos, facts = max(1, extra["out_of_scope_turns"]), extra["out_of_scope_card_facts"]
                rows.append(share_row(f"answers {args.set}: out-of-scope turns with a card fact", facts, oos))
            elif name == "places":
                tally = run_places(assistant, args.set)
                rows += tally.rows(f"places {args.set}")
            else:
                tally = run_callbacks(assistant, args.set)
                rows += tally.rows(f"callbacks {args.set}")
            rows.append(
                f"| {name}: REST latency p50 / p95 | {statistics.median(tally.latencies):.0f} / "
                f"{percentile(tally.latencies, 0.95):.0f} ms | |"
            )
            failures[name] = tally.failures
            for failure in tally.failures[: args.failures]:
                print(json.dumps(failure, ensure_ascii=False), file=sys.stderr)
    print("\n".join(rows))
    if args.json:
        args.json.write_text(json.dumps(failures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
