"""Load benchmark (`make bench-load`, not a test gate): many realistic conversations over the REST channel.

Runs, each with its own freshly started servers:
- ours on one server (SQLite tracker store, in-memory lock store),
- ours on two Rasa servers (PostgreSQL tracker store, Redis lock store, one action server for both);
  the client spreads the conversations round-robin over both, which a load balancer does in production,
- Rasa's own minimal assistant (`rasa init`, no custom actions) as the baseline.
Each run has two phases: `--users` people pausing about `--pause` s between messages for `--duration` s,
then the same number of users without pauses (saturation) for `--saturation-duration` s.

Our conversations: 60 % FAQ questions, 25 % office lookups with follow-ups, 15 % callback forms.
Every conversation has a new sender id and fewer than 10 messages (well under the guard's burst of 20).
Nothing here prints or logs message texts; the callback requests end up in the run's temporary store.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime
import itertools
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
import yaml

import knowledge
from bot.channels.guard import SLOW, TROUBLE
from knowledge import Outcome
from tests.bench import percentile
from tests.e2e.server import BIN, ROOT, RasaServer, free_port, running_assistant, wait_until_up
from tests.services import postgres_server, redis_server, shared_stores_env

DOCS = ROOT / "docs" / "benchmarks.md"
START_MARKER, END_MARKER = "<!-- bench-load:start -->", "<!-- bench-load:end -->"
REQUEST_TIMEOUT_S = 30  # longer than the guard's REPLY_TIMEOUT_S, so a slow reply shows as its message
SAMPLE_EVERY_S = 0.5
OFFICE_INTENTS = {"ask_responsible_office", "ask_contact", "ask_opening_hours", "inform_town"}
# Fictitious people for the callback form.
FIRST_NAMES = ["Erika", "Hannelore", "Gerd", "Jürgen", "Aylin", "Dragan", "Małgorzata", "Uwe", "Sabine"]
LAST_NAMES = ["Musterfrau", "Beispielmann", "Probst", "Testrup", "Lastmann", "Demirci-Probe", "Ohnesorg"]
REASONS = [
    "Frage zu meinem Antrag",
    "Frage zur Wertmarke",
    "Merkzeichen G beantragt",
    "Mein Ausweis läuft bald ab",
    "Ich habe einen Bescheid bekommen und verstehe ihn nicht",
]
LOOKUPS = [
    "{place}",
    "Ich wohne in {place}",
    "ich komme aus {place}",
    "Welches Amt ist für {place} zuständig?",
]


@dataclass(frozen=True)
class Turn:
    text: str
    step: str  # a label for the report, never the text
    expect: str | None = None  # a piece of the reply that shows the conversation is on script


Conversation = list[Turn]


def nlu_examples(path: Path, intent: str) -> list[str]:
    """The example phrasings of one intent in a Rasa NLU file."""
    for block in yaml.safe_load(path.read_text()).get("nlu", []):
        if block.get("intent") == intent:
            lines = block["examples"].splitlines()
            return [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]
    raise LookupError(f"{intent} not in {path}")


class OurConversations:
    """Random conversations for our assistant, phrased as in the dev set and the training data."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        cases = yaml.safe_load((ROOT / "tests" / "e2e" / "dev_set.yml").read_text())["cases"]
        self.questions = [
            case["text"]
            for case in cases
            if case["intent"].startswith("ask_") and case["intent"] not in OFFICE_INTENTS
        ]
        self.thanks = [case["text"] for case in cases if case["intent"] == "thank"]
        self.callback_requests = nlu_examples(ROOT / "data" / "nlu" / "callback.yml", "request_callback")
        self.places = self._places()

    @staticmethod
    def _places() -> list[tuple[str, knowledge.Office]]:
        """Towns and postcodes that name exactly one office, with that office (from knowledge)."""
        kb = knowledge.load()
        with (knowledge.DATA_DIR / "municipalities.csv").open(encoding="utf-8") as file:
            names = [row["name"] for row in csv.DictReader(file)]
        with (knowledge.DATA_DIR / "postcodes.csv").open(encoding="utf-8") as file:
            postcodes = sorted({row["plz"] for row in csv.DictReader(file)})
        found = []
        for place in names + postcodes:
            match = kb.find_office(place)
            if match.outcome is Outcome.FOUND and match.office is not None:
                found.append((place, match.office))
        return found

    def __call__(self) -> Conversation:
        roll = self.rng.random()
        if roll < 0.60:
            return self.faq()
        if roll < 0.85:
            return self.office_lookup()
        return self.callback()

    def faq(self) -> Conversation:
        turns = [Turn(text, "faq") for text in self.rng.sample(self.questions, self.rng.randint(1, 4))]
        if self.rng.random() < 0.5:
            turns.append(Turn(self.rng.choice(self.thanks), "thanks"))
        return turns

    def lookup(self) -> tuple[Turn, knowledge.Office]:
        place, office = self.rng.choice(self.places)
        return Turn(self.rng.choice(LOOKUPS).format(place=place), "lookup", office.street), office

    def office_lookup(self) -> Conversation:
        turn, office = self.lookup()
        follow_ups = [Turn("Öffnungszeiten?", "hours"), Turn("Telefonnummer?", "phone", office.main_phone)]
        return [turn, *self.rng.sample(follow_ups, self.rng.randint(1, 2))]

    def callback(self) -> Conversation:
        """The whole form: place, request, consent, name, phone, reason, skip, skip, confirm."""
        place, _ = self.lookup()
        name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
        return [
            place,
            Turn(self.rng.choice(self.callback_requests), "cb-request", "einverstanden"),
            Turn("/affirm", "cb-consent", "heißen"),
            Turn(name, "cb-name", "Telefonnummer"),
            Turn(f"0231 555{self.rng.randrange(10_000):04d}", "cb-phone", "Worum"),
            Turn(self.rng.choice(REASONS), "cb-reason", "Wann"),
            Turn("/skip", "cb-time", "sonst erreichen"),
            Turn("/skip", "cb-alternative", name),
            Turn("/affirm", "cb-confirm", "ruft Sie"),
        ]


class BaselineConversations:
    """Conversations for `rasa init`'s moodbot: greet, mood, maybe yes/no, bye, in its own phrasings."""

    def __init__(self, rng: random.Random, nlu_file: Path) -> None:
        self.rng = rng
        intents = ["greet", "mood_great", "mood_unhappy", "affirm", "deny", "goodbye"]
        self.examples = {intent: nlu_examples(nlu_file, intent) for intent in intents}

    def __call__(self) -> Conversation:
        say = lambda intent: Turn(self.rng.choice(self.examples[intent]), intent)  # noqa: E731
        mood = self.rng.choice(["mood_great", "mood_unhappy"])
        turns = [say("greet"), say(mood)]
        if mood == "mood_unhappy":
            turns.append(say(self.rng.choice(["affirm", "deny"])))
        return [*turns, say("goodbye")]


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    off_script: Counter[str] = field(default_factory=Counter)

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + self.errors["timeout"] + self.errors["no-reply"] + self.rate_limited


def reply_problem(status: int, body: object) -> str | None:
    """Why a reply counts as an error, or None."""
    if status != 200:
        return f"http-{status}"
    text = reply_text(body)
    if not text.strip():
        return "empty"
    if TROUBLE in text:
        return "guard-trouble"
    if SLOW in text:
        return "guard-slow"
    return None


def reply_text(body: object) -> str:
    if not isinstance(body, list):
        return ""
    return "\n".join(str(part.get("text") or "") for part in body if isinstance(part, dict))


async def send(session: aiohttp.ClientSession, url: str, sender: str, turn: Turn, tally: Tally) -> None:
    started = time.perf_counter()
    try:
        async with session.post(
            f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": turn.text}
        ) as r:
            status = r.status
            body = await r.json(content_type=None) if status == 200 else None
    except asyncio.TimeoutError:
        tally.errors["timeout"] += 1
        return
    except (aiohttp.ClientError, ValueError):
        tally.errors["no-reply"] += 1
        return
    if status == 429:
        tally.rate_limited += 1
        return
    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
    problem = reply_problem(status, body)
    if problem is not None:
        tally.errors[problem] += 1
    elif turn.expect is not None and turn.expect not in reply_text(body):
        tally.off_script[turn.step] += 1


@dataclass(frozen=True)
class Phase:
    name: str
    users: int
    pause_s: float
    duration_s: float


async def person(
    index: int,
    session: aiohttp.ClientSession,
    urls: Iterator[str],
    conversations: Callable[[], Conversation],
    phase: Phase,
    deadline: float,
    tally: Tally,
    rng: random.Random,
) -> None:
    """One person after another at the same keyboard: each conversation has a new sender id."""
    if phase.pause_s:
        await asyncio.sleep(rng.uniform(0, phase.pause_s))  # people do not all start at once
    for number in itertools.count():
        url, sender = next(urls), f"load-{phase.name}-{index}-{number}"
        for turn in conversations():
            if time.monotonic() >= deadline:
                return
            await send(session, url, sender, turn, tally)
            if phase.pause_s:  # reading the reply; no one waits past the end of the phase
                reading = rng.uniform(0.5, 1.5) * phase.pause_s
                await asyncio.sleep(min(reading, max(0.0, deadline - time.monotonic())))


def process_tree(pid: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss_mb(pid: int) -> float:
    total = 0
    for process in process_tree(pid):
        with suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 2**20


def cpu_s(pid: int) -> float:
    total = 0.0
    for process in process_tree(pid):
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


async def watch_memory(pids: dict[str, int], peaks: dict[str, float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for name, pid in pids.items():
            peaks[name] = max(peaks.get(name, 0.0), rss_mb(pid))
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY_S)


@dataclass
class Result:
    run: str
    phase: Phase
    tally: Tally
    elapsed_s: float
    peak_rss_mb: dict[str, float]
    cpu_s: dict[str, float]
    machine_busy: float  # share of all cores busy during the phase, whoever used them

    @property
    def rate(self) -> float:
        return len(self.tally.latencies_ms) / self.elapsed_s

    def latency(self, share: float) -> float:
        return percentile(self.tally.latencies_ms, share) if self.tally.latencies_ms else float("nan")


async def run_phase(
    run: str,
    urls: list[str],
    pids: dict[str, int],
    conversations: Callable[[], Conversation],
    phase: Phase,
    rng: random.Random,
) -> Result:
    tally, peaks, stop = Tally(), {}, asyncio.Event()
    spread = itertools.cycle(urls)  # round-robin by conversation: the load balancer's job
    cpu_before = {name: cpu_s(pid) for name, pid in pids.items()}
    psutil.cpu_percent()
    watcher = asyncio.create_task(watch_memory(pids, peaks, stop))
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        people = [
            person(index, session, spread, conversations, phase, started + phase.duration_s, tally, rng)
            for index in range(phase.users)
        ]
        await asyncio.gather(*people)
    elapsed = time.monotonic() - started
    busy = psutil.cpu_percent() / 100
    stop.set()
    await watcher
    cpu = {name: cpu_s(pid) - cpu_before[name] for name, pid in pids.items()}
    return Result(run, phase, tally, elapsed, peaks, cpu, busy)


def warm_up(urls: list[str], conversations: Callable[[], Conversation], rounds: int = 6) -> None:
    """A few conversations per server before measuring: the first replies of a fresh process are slow."""
    phase = Phase("warmup", users=rounds * len(urls), pause_s=0.0, duration_s=0.0)

    async def go() -> None:
        tally = Tally()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            for index in range(phase.users):
                sender = f"load-warmup-{index}"
                for turn in conversations():
                    await send(session, urls[index % len(urls)], sender, turn, tally)

    asyncio.run(go())


def measure(
    run: str, urls: list[str], pids: dict[str, int], conversations: Callable[[], Conversation], args, rng
) -> list[Result]:
    warm_up(urls, conversations)
    phases = [
        Phase("paused", args.users, args.pause, args.duration),
        Phase("saturation", args.users, 0.0, args.saturation_duration),
    ]
    results = []
    for phase in phases:
        print(f"{run}: {phase.name} for {phase.duration_s:.0f} s ...", file=sys.stderr, flush=True)
        result = asyncio.run(run_phase(run, urls, pids, conversations, phase, rng))
        print(row(result), file=sys.stderr, flush=True)
        results.append(result)
    return results


def one_server(args, rng: random.Random) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="load-one-") as workdir, running_assistant(Path(workdir)) as bot:
        pids = {"rasa": bot.rasa.process.pid, "actions": bot.actions.pid}
        return measure("ours, 1 server", [bot.url], pids, OurConversations(rng), args, rng)


def two_servers(args, rng: random.Random) -> list[Result]:
    with (
        postgres_server() as db_url,
        redis_server() as redis_port,
        tempfile.TemporaryDirectory(prefix="load-two-") as workdir,
    ):
        shared = shared_stores_env(db_url, redis_port)
        with running_assistant(Path(workdir), **shared) as bot:
            second = RasaServer(Path(workdir), bot.env, name="rasa-b")
            second.start()
            try:
                pids = {
                    "rasa": bot.rasa.process.pid,
                    "rasa-b": second.process.pid,
                    "actions": bot.actions.pid,
                }
                urls = [bot.url, second.url]
                return measure("ours, 2 servers", urls, pids, OurConversations(rng), args, rng)
            finally:
                second.stop()


@contextmanager
def baseline_server(directory: Path) -> Iterator[tuple[str, int]]:
    """`rasa init --no-prompt` in `directory` (it trains a small model) unless done before; `rasa run`."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    if not list((directory / "models").glob("*.tar.gz")):
        print("baseline: rasa init (trains a small model) ...", file=sys.stderr, flush=True)
        command = [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(directory)]
        subprocess.run(command, cwd=directory, env=env, check=True, capture_output=True)
    port = free_port()
    command = [str(BIN / "rasa"), "run", "--port", str(port), "-m", "models",
               "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]  # fmt: skip
    log = directory / f"baseline-{int(time.time())}.log"
    process = subprocess.Popen(
        command, cwd=directory, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, log)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def baseline(args, rng: random.Random) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="load-baseline-") as scratch:
        directory = Path(args.baseline_dir or scratch)
        directory.mkdir(parents=True, exist_ok=True)
        with baseline_server(directory) as (url, pid):
            conversations = BaselineConversations(rng, directory / "data" / "nlu.yml")
            return measure("rasa init baseline", [url], {"rasa": pid}, conversations, args, rng)


HEADER = [
    "| run | phase | messages | errors | 429 | p50 ms | p95 ms | p99 ms | msg/s | peak RSS MB | CPU s |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def row(result: Result) -> str:
    tally, phase = result.tally, result.phase
    label = f"{phase.users} users, " + (f"~{phase.pause_s:g} s pause" if phase.pause_s else "no pause")
    memory = ", ".join(f"{name} {mb:.0f}" for name, mb in result.peak_rss_mb.items())
    cpu = ", ".join(f"{name} {seconds:.0f}" for name, seconds in result.cpu_s.items())
    return (
        f"| {result.run} | {label}, {result.elapsed_s:.0f} s | {tally.sent} | {sum(tally.errors.values())} "
        f"| {tally.rate_limited} | {result.latency(0.50):.0f} | {result.latency(0.95):.0f} "
        f"| {result.latency(0.99):.0f} | {result.rate:.1f} | {memory} | {cpu} |"
    )


def find(results: list[Result], run: str, phase: str) -> Result | None:
    return next((r for r in results if r.run == run and r.phase.name == phase), None)


def verdicts(results: list[Result]) -> list[str]:
    """The targets, checked; and where the CPU time of a message goes."""
    lines = []
    for result in results:
        errors = sum(result.tally.errors.values())
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(result.tally.errors.items()))
        off = ", ".join(f"{step} {count}" for step, count in sorted(result.tally.off_script.items()))
        line = f"- {result.run}, {result.phase.name}: {errors} errors" + (f" ({kinds})" if kinds else "")
        if result.run != "rasa init baseline":
            line += f"; replies off script: {sum(result.tally.off_script.values())}" + (
                f" ({off})" if off else ""
            )
        messages = max(1, len(result.tally.latencies_ms))
        shares = [f"{name} {1000 * s / messages:.1f}" for name, s in result.cpu_s.items()]
        total = 1000 * sum(result.cpu_s.values()) / messages
        line += f"; server CPU ms per message: {total:.1f} ({', '.join(shares)})"
        line += f"; machine CPU busy {result.machine_busy:.0%}"
        if result.phase.name == "paused" and result.run != "rasa init baseline":
            ok = errors == 0 and result.latency(0.95) <= 300
            line += f". Target 0 errors and p95 ≤ 300 ms: {'met' if ok else 'NOT met'}"
        lines.append(line + ".")
    ours, theirs = (
        find(results, "ours, 1 server", "saturation"),
        find(results, "rasa init baseline", "saturation"),
    )
    if ours and theirs:
        share = ours.rate / theirs.rate
        verdict = "met" if share >= 0.70 else "NOT met"
        lines.append(
            f"- Saturation throughput, ours on one server vs the baseline: {ours.rate:.1f} / "
            f"{theirs.rate:.1f} msg/s = {share:.0%}. Target ≥ 70 %: {verdict}."
        )
    two = find(results, "ours, 2 servers", "saturation")
    if ours and two:
        lines.append(f"- Two servers vs one, saturation: {two.rate / ours.rate:.2f}×.")
    return lines


def wrapped(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=100, subsequent_indent=indent, break_on_hyphens=False)


def section(results: list[Result], args) -> str:
    method = (
        f"`make bench-load` (`python -m tests.load`). Each run starts its own servers. Phases: {args.users} "
        f"concurrent conversations pausing about {args.pause:g} s between messages (uniformly 0.5–1.5 × "
        f"the pause, like a person reading) for {args.duration:.0f} s, then the same number without "
        f"pauses (saturation) for {args.saturation_duration:.0f} s. Our conversations: 60 % FAQ questions "
        "from the dev set, 25 % office lookups by town or postcode with follow-ups (opening hours, "
        "phone), 15 % complete callback forms; each has a new sender id and fewer than 10 messages. "
        "Errors: HTTP status not 200, empty reply, timeout (30 s), or the guard's trouble or too-slow "
        "message; 429s (the guard's rate limit) are counted apart. Latency is per message; RSS is the "
        "peak of each server process, sampled every 0.5 s; CPU s is the servers' CPU time in the phase."
    )
    setups = [
        "- *1 server*: SQLite tracker store, in-memory lock store (like `make run`).",
        "- *2 servers*: two Rasa processes with a PostgreSQL tracker store and the Redis lock store, one "
        "action server for both. The load generator sends each new conversation to the next server in "
        "turn (round-robin); in production a load balancer does this.",
        "- *Baseline*: Rasa's own minimal assistant (`rasa init --no-prompt`, trained in a temporary "
        "directory; in-memory tracker store, no custom actions, no guard), same load shape, its own "
        "phrasings (greet, mood, yes/no, bye).",
    ]
    return "\n".join(
        [
            f"## Load ({datetime.date.today().isoformat()})",
            "",
            wrapped(method),
            "",
            *(wrapped(setup, "  ") for setup in setups),
            "",
            *HEADER,
            *(row(result) for result in results),
            "",
            *(wrapped(line, "  ") for line in verdicts(results)),
        ]
    )


def write_section(path: Path, text: str) -> None:
    """Replace what is between the markers, appending them at the end of the file if missing."""
    content = path.read_text() if path.exists() else ""
    block = f"{START_MARKER}\n{text}\n{END_MARKER}"
    if START_MARKER in content and END_MARKER in content:
        before, rest = content.split(START_MARKER, 1)
        after = rest.split(END_MARKER, 1)[1]
        content = before + block + after
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=120, help="seconds of the paused phase")
    parser.add_argument("--saturation-duration", type=float, default=60, help="seconds without pauses")
    parser.add_argument("--users", type=int, default=50, help="concurrent conversations")
    parser.add_argument("--pause", type=float, default=2.0, help="mean seconds between a reply and the next")
    parser.add_argument("--servers", choices=["1", "2", "both"], default="both")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--baseline-dir", help="keep the `rasa init` project here and reuse its model")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update the section in --output")
    parser.add_argument("--output", type=Path, default=DOCS)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    results: list[Result] = []
    if args.servers in ("1", "both"):
        results += one_server(args, rng)
    if args.servers in ("2", "both"):
        results += two_servers(args, rng)
    if not args.skip_baseline:
        results += baseline(args, rng)
    text = section(results, args)
    print(text)
    print(f"\nTotal time {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.write:
        write_section(args.output, text)


if __name__ == "__main__":
    main()
