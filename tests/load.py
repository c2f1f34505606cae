"""Load benchmark (`make bench-load`, not a test gate): many realistic conversations over the REST channel.

Runs, each with its own freshly started servers:
- ours on one server (SQLite tracker store, in-memory lock store), `--history` conversations stored,
- ours on two Rasa servers (PostgreSQL tracker store, Redis lock store, one action server for both),
  as many stored; the client spreads the conversations round-robin over both, as a load balancer does,
- Rasa's own minimal assistant (`rasa init`, no custom actions) as the baseline.
Each run has two phases: `--users` people pausing about `--pause` s between messages for `--duration` s,
then the same number of users without pauses (saturation) for `--saturation-duration` s.
Then "cost flat in history": on SQLite and on PostgreSQL, one fresh server on an empty store and one on
a store with `--history` conversations, each answering `--flat-messages` messages one after another.

Our conversations: 60 % FAQ questions, 25 % office lookups with follow-ups, 15 % callback forms.
Every conversation has a new sender id and fewer than 10 messages (well under the guard's burst of 20).
The stored history comes from tests/history.py. Nothing here writes message texts to the docs; stderr
shows the start of the first reply off script per step (the people in the forms are fictitious).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
import yaml

import knowledge
from bot.channels.guard import SLOW, TROUBLE
from tests import history
from tests.bench import percentile
from tests.e2e.server import BIN, ROOT, RasaServer, free_port, running_assistant, wait_until_up
from tests.services import postgres_server, redis_server, shared_stores_env

DOCS = ROOT / "docs" / "benchmarks.md"
START_MARKER, END_MARKER = "<!-- bench-load:start -->", "<!-- bench-load:end -->"
REQUEST_TIMEOUT_S = 30  # longer than the guard's REPLY_TIMEOUT_S, so a slow reply shows as its message
SAMPLE_EVERY_S = 0.5
EXCERPT_CHARS = 160
# The "Done when" (issue 13).
P95_LIMIT_MS, BASELINE_FACTOR, TWO_SERVER_FACTOR, FLAT_LIMIT = 300.0, 1.3, 1.8, 1.10
ONE, TWO, BASELINE = "ours, 1 server", "ours, 2 servers", "rasa init baseline"
STORES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "postgres+redis": "PostgreSQL + Redis"}
OFFICE_INTENTS = {"ask_responsible_office", "ask_contact", "ask_opening_hours", "inform_place", "inform_town"}
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
# A callback request that already says something the form takes (name, number, reason, time, another
# way of contact, someone else) skips questions; the scripted form needs the plain requests.
DETAILS = re.compile(
    r"\d|wegen|bzgl|name|hei(ß|ss)e|anliegen|tel\b|uhr|morgen|heute|mittag|fr(ü|ue)h|mail|fax|sms|schrift"
    r"|gehörlos|taub|schwerhörig|telefonier|antrag|widerspruch|merkzeichen|ausweis|mutter|vater|mann\b"
    r"|oma|sohn|tochter|festnetz|handy|nummer|sachbearbeit|termin|angelegenheit",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    text: str
    step: str  # a label for the report, never the text
    expect: tuple[str, ...] = ()  # pieces of the reply that show the conversation is on script


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
            if case["intent"].startswith("ask_") and case["intent"].split("/")[0] not in OFFICE_INTENTS
        ]
        self.thanks = [case["text"] for case in cases if case["intent"] == "thank"]
        requests = nlu_examples(ROOT / "data" / "nlu" / "callback.yml", "request_callback")
        self.callback_requests = [text for text in requests if not DETAILS.search(text)]
        self.places = history.places()

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
        """A place alone or in a sentence; the reply names the office with its street and phone."""
        said, _, office = self.rng.choice(self.places)
        text = self.rng.choice(history.LOOKUPS).format(place=said)
        return Turn(text, "lookup", (office.street, office.main_phone)), office

    def office_lookup(self) -> Conversation:
        turn, office = self.lookup()
        follow_ups = [Turn("Öffnungszeiten?", "hours"), Turn("Telefonnummer?", "phone", (office.main_phone,))]
        return [turn, *self.rng.sample(follow_ups, self.rng.randint(1, 2))]

    def callback(self) -> Conversation:
        """The whole form: place, request, consent, name, phone, reason (the place is known), confirm."""
        place, _ = self.lookup()
        name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
        return [
            place,
            Turn(self.rng.choice(self.callback_requests), "cb-request", ("einverstanden",)),
            Turn("/affirm", "cb-consent", ("Wie heißen Sie",)),
            Turn(name, "cb-name", ("Telefonnummer",)),
            Turn(f"0231 555{self.rng.randrange(10_000):04d}", "cb-phone", ("Worum geht es",)),
            Turn(self.rng.choice(REASONS), "cb-reason", ("Soll ich die Rückrufbitte so absenden?",)),
            Turn("/affirm", "cb-confirm", ("ist gespeichert", "ruft Sie")),
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


# Sending ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    off_script: Counter[str] = field(default_factory=Counter)
    off_script_example: dict[str, str] = field(default_factory=dict)  # step -> start of the first reply

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + self.errors["timeout"] + self.errors["no-reply"] + self.rate_limited

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def latency(self, share: float) -> float:
        return percentile(self.latencies_ms, share) if self.latencies_ms else float("nan")


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
    elif any(piece not in reply_text(body) for piece in turn.expect):
        tally.off_script[turn.step] += 1
        tally.off_script_example.setdefault(turn.step, " ".join(reply_text(body).split())[:EXCERPT_CHARS])


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


async def one_after_another(url: str, conversations: Callable[[], Conversation], count: int) -> Tally:
    """`count` messages, each sent when the previous reply has arrived (no concurrency, no pauses)."""
    tally = Tally()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for number in itertools.count():
            for turn in conversations():
                if tally.sent >= count:
                    return tally
                await send(session, url, f"load-flat-{number}", turn, tally)
    return tally


def warm_up(urls: list[str], conversations: Callable[[], Conversation], rounds: int = 6) -> None:
    """A few conversations per server before measuring: the first replies of a fresh process are slow."""

    async def go() -> None:
        tally = Tally()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            for index in range(rounds * len(urls)):
                for turn in conversations():
                    await send(session, urls[index % len(urls)], f"load-warmup-{index}", turn, tally)

    asyncio.run(go())


# Server processes ------------------------------------------------------------------------------


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


def fill_history(url: str, count: int) -> None:
    """`count` past conversations into the (empty) tracker store at `url`, checked by counting."""
    if not count:
        return
    print(f"storing {count:,} conversations ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    events = history.fill(url, count)
    stored = history.stored_conversations(url)
    if stored != count:
        raise RuntimeError(f"{stored} conversations stored, not {count}")
    print(f"  {events:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


@contextmanager
def fresh_store(kind: str, workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """An empty tracker store of `kind` (see STORES): its URL and the servers' environment."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'tracker.db'}", {}  # running_assistant's default
        return
    with postgres_server() as db_url:
        if kind == "postgres":
            yield db_url, {"TRACKER_STORE_URL": db_url, "DATABASE_URL": db_url}
            return
        with redis_server() as redis_port:
            yield db_url, shared_stores_env(db_url, redis_port)


@contextmanager
def our_servers(kind: str, servers: int, stored: int) -> Iterator[tuple[list[str], dict[str, int]]]:
    """Fresh servers of ours (`servers` Rasa processes, one action server) on a fresh store of `kind`
    that holds `stored` conversations before they start: (urls, process ids by name)."""
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="load-")))
        url, env = stack.enter_context(fresh_store(kind, workdir))
        fill_history(url, stored)
        bot = stack.enter_context(running_assistant(workdir, **env))
        pids, urls = {"rasa": bot.rasa.process.pid}, [bot.url]
        for number in range(1, servers):
            extra = RasaServer(workdir, bot.env, name=f"rasa-{chr(ord('a') + number)}")
            stack.callback(extra.stop)
            extra.start()
            pids[extra.name], urls = extra.process.pid, [*urls, extra.url]
        yield urls, {**pids, "actions": bot.actions.pid}


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


# Measuring -------------------------------------------------------------------------------------


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
        return self.tally.latency(share)

    def cpu_ms(self, prefix: str = "") -> float:
        """Server CPU ms per reply, of the processes whose name starts with `prefix` (all by default)."""
        seconds = sum(s for name, s in self.cpu_s.items() if name.startswith(prefix))
        return 1000 * seconds / max(1, len(self.tally.latencies_ms))


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


def measure(
    run: str, urls: list[str], pids: dict[str, int], conversations: Callable[[], Conversation], args, rng
) -> list[Result]:
    """Warm-up, then the paused phase and the saturation phase on the same servers."""
    warm_up(urls, conversations)
    phases = [
        Phase("paused", args.users, args.pause, args.duration),
        Phase("saturation", args.users, 0.0, args.saturation_duration),
    ]
    results = []
    for phase in phases:
        print(f"{run}: {phase.name} for {phase.duration_s:.0f} s ...", file=sys.stderr, flush=True)
        result = asyncio.run(run_phase(run, urls, pids, conversations, phase, rng))
        print(f"  {detail(result)}", file=sys.stderr, flush=True)
        results.append(result)
    return results


def ours(args, rng: random.Random, servers: int) -> list[Result]:
    kind, run = ("sqlite", ONE) if servers == 1 else ("postgres+redis", TWO)
    with our_servers(kind, servers, args.history) as (urls, pids):
        return measure(run, urls, pids, OurConversations(rng), args, rng)


def baseline(args, rng: random.Random) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="load-baseline-") as scratch:
        directory = Path(args.baseline_dir or scratch)
        directory.mkdir(parents=True, exist_ok=True)
        with baseline_server(directory) as (url, pid):
            conversations = BaselineConversations(rng, directory / "data" / "nlu.yml")
            return measure(BASELINE, [url], {"rasa": pid}, conversations, args, rng)


@dataclass
class Flat:
    """Messages one after another on one fresh server of ours, on a store with `stored` conversations."""

    kind: str
    stored: int
    tally: Tally


def flatness(args, kind: str) -> list[Flat]:
    """The same messages (same seed) on an empty store and on one with `--history` conversations."""
    results = []
    for stored in (0, args.history):
        with our_servers(kind, 1, stored) as (urls, _):
            warm_up(urls, OurConversations(random.Random(args.seed + 1)))
            print(
                f"flat, {STORES[kind]}, {stored:,} stored: {args.flat_messages} messages ...", file=sys.stderr
            )
            conversations = OurConversations(random.Random(args.seed))
            tally = asyncio.run(one_after_another(urls[0], conversations, args.flat_messages))
            print(f"  p50 {tally.latency(0.5):.0f} ms, p95 {tally.latency(0.95):.0f} ms", file=sys.stderr)
            results.append(Flat(kind, stored, tally))
    return results


# Report ----------------------------------------------------------------------------------------


def run_label(run: str, stored: int) -> str:
    if run == ONE:
        return f"{ONE} (SQLite, {stored:,} stored)"
    if run == TWO:
        return f"{TWO} (PostgreSQL + Redis, {stored:,} stored)"
    return run


def find(results: list[Result], run: str, phase: str) -> Result | None:
    return next((r for r in results if r.run == run and r.phase.name == phase), None)


def per_process(paused: Result, saturation: Result) -> str:
    """CPU ms per message, paused · saturation: all processes, and for ours Rasa and actions apart."""
    both = lambda prefix: f"{paused.cpu_ms(prefix):.1f} · {saturation.cpu_ms(prefix):.1f}"  # noqa: E731
    if "actions" not in paused.cpu_s:
        return both("")
    return f"{both('')} (Rasa {both('rasa')}, actions {both('actions')})"


def peak_memory(results: list[Result]) -> str:
    """Peak RSS per process over both phases, their sum first."""
    peaks: dict[str, float] = {}
    for result in results:
        for name, mb in result.peak_rss_mb.items():
            peaks[name] = max(peaks.get(name, 0.0), mb)
    rasa = " + ".join(f"{mb:.0f}" for name, mb in peaks.items() if name.startswith("rasa"))
    apart = f"Rasa {rasa}" + (f", actions {peaks['actions']:.0f}" if "actions" in peaks else "")
    return f"{sum(peaks.values()):.0f} ({apart})"


TABLE = [
    "| run | paused p50 / p95 / p99 ms | paused msg/s | saturation msg/s "
    "| server CPU ms per message, paused · saturation | peak RSS MB | errors (429s) |",
    "|---|---|---|---|---|---|---|",
]


def table_row(results: list[Result], run: str, stored: int) -> str | None:
    paused, saturation = find(results, run, "paused"), find(results, run, "saturation")
    if paused is None or saturation is None:
        return None
    errors = paused.tally.error_count + saturation.tally.error_count
    limited = paused.tally.rate_limited + saturation.tally.rate_limited
    latency = " / ".join(f"{paused.latency(share):.0f}" for share in (0.50, 0.95, 0.99))
    return (
        f"| {run_label(run, stored)} | {latency} | {paused.rate:.1f} | {saturation.rate:.1f} "
        f"| {per_process(paused, saturation)} | {peak_memory([paused, saturation])} | {errors} ({limited}) |"
    )


FLAT_TABLE = [
    "| store (1 server) | empty: p50 / p95 ms | {stored} stored: p50 / p95 ms | ratio p50 / p95 | errors |",
    "|---|---|---|---|---|",
]


def ratios(flats: list[Flat], kind: str) -> tuple[Flat, Flat, float, float] | None:
    """(empty, full, p50 ratio, p95 ratio) of one store, or None if not measured."""
    runs = [flat for flat in flats if flat.kind == kind]
    empty = next((flat for flat in runs if flat.stored == 0), None)
    full = next((flat for flat in runs if flat.stored > 0), None)
    if empty is None or full is None:
        return None
    return empty, full, *(full.tally.latency(s) / empty.tally.latency(s) for s in (0.50, 0.95))


def flat_row(flats: list[Flat], kind: str) -> str | None:
    found = ratios(flats, kind)
    if found is None:
        return None
    empty, full, p50, p95 = found
    cells = [f"{flat.tally.latency(0.50):.0f} / {flat.tally.latency(0.95):.0f}" for flat in (empty, full)]
    errors = empty.tally.error_count + full.tally.error_count
    return f"| {STORES[kind]} | {cells[0]} | {cells[1]} | {p50:.2f} / {p95:.2f} | {errors} |"


def detail(result: Result) -> str:
    """Counts of one phase: messages, errors by kind, replies off script by step, machine load."""
    tally = result.tally
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(tally.errors.items()))
    text = f"{result.run}, {result.phase.name}: {tally.sent} messages in {result.elapsed_s:.0f} s, "
    text += f"{tally.error_count} errors" + (f" ({kinds})" if kinds else "") + f", {tally.rate_limited} × 429"
    if result.run != BASELINE:
        text += f", {off_script(tally)}"
    return text + f"; machine CPU busy {result.machine_busy:.0%}"


def off_script(tally: Tally) -> str:
    steps = ", ".join(f"{step} {count}" for step, count in sorted(tally.off_script.items()))
    return f"replies off script {sum(tally.off_script.values())}" + (f" ({steps})" if steps else "")


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def one_process_verdict(results: list[Result], stored: int) -> str:
    ours_, theirs = find(results, ONE, "paused"), find(results, BASELINE, "paused")
    if ours_ is None or theirs is None:
        return "- One process, paused conversations: not measured (needs ours on 1 server and the baseline)."
    p95, limit = ours_.latency(0.95), BASELINE_FACTOR * theirs.latency(0.95)
    errors = ours_.tally.error_count
    ok = p95 <= P95_LIMIT_MS and p95 <= limit and errors == 0
    return (
        f"- One process on the embedded default, {ours_.phase.users} paused conversations, "
        f"{stored:,} stored: p95 {p95:.0f} ms and {errors} errors (targets: p95 ≤ {P95_LIMIT_MS:.0f} ms "
        f"and ≤ {BASELINE_FACTOR:g} × the baseline's {theirs.latency(0.95):.0f} ms = {limit:.0f} ms, "
        f"0 errors): {verdict(ok)}."
    )


def efficiency_verdicts(results: list[Result]) -> list[str]:
    """CPU per message and saturation of one process against the baseline; two servers against one."""
    lines = []
    phases = [(find(results, ONE, p), find(results, BASELINE, p)) for p in ("paused", "saturation")]
    if all(ours_ and theirs for ours_, theirs in phases):
        ok = all(ours_.cpu_ms() <= theirs.cpu_ms() for ours_, theirs in phases)
        figures = "; ".join(
            f"{ours_.phase.name} {ours_.cpu_ms():.1f} vs {theirs.cpu_ms():.1f}" for ours_, theirs in phases
        )
        lines.append(
            f"- CPU ms per message (all server processes), one process vs baseline (target: not more): "
            f"{figures}: {verdict(ok)}."
        )
        ours_sat, theirs_sat = phases[1]
        lines.append(
            f"- Saturation, one process vs baseline (target: not less): {ours_sat.rate:.1f} vs "
            f"{theirs_sat.rate:.1f} msg/s: "
            f"{verdict(ours_sat.rate >= theirs_sat.rate)}."
        )
    else:
        lines.append("- CPU per message and saturation against the baseline: not measured.")
    one, two = find(results, ONE, "saturation"), find(results, TWO, "saturation")
    if one and two:
        factor = two.rate / one.rate
        lines.append(
            f"- Two servers vs one, saturation: {two.rate:.1f} / {one.rate:.1f} msg/s = {factor:.2f}× "
            f"(target ≥ {TWO_SERVER_FACTOR:g}×): {verdict(factor >= TWO_SERVER_FACTOR)}."
        )
    else:
        lines.append("- Two servers vs one: not measured.")
    return lines


def flat_verdict(flats: list[Flat]) -> str:
    found = {kind: ratios(flats, kind) for kind in ("sqlite", "postgres")}
    if not all(found.values()):
        return "- Cost flat in history: not measured on both stores."
    figures = "; ".join(f"{STORES[kind]} p50 {r[2]:.2f}×, p95 {r[3]:.2f}×" for kind, r in found.items())
    ok = all(max(r[2], r[3]) <= FLAT_LIMIT for r in found.values())
    return (
        f"- Cost flat in history, full / empty store (target ≤ {FLAT_LIMIT:.2f}×): {figures}: {verdict(ok)}."
    )


def machine() -> str:
    """CPU model, cores and RAM of this machine."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?"
    )
    ram_gb = psutil.virtual_memory().total / 2**30
    return f"{model}, {os.cpu_count()} cores, {ram_gb:.0f} GB RAM"


def wrapped(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=100, subsequent_indent=indent, break_on_hyphens=False)


def method(args) -> list[str]:
    """How it was measured, for the section."""
    text = (
        "`make bench-load` (`python -m tests.load`), one invocation, each run on freshly started "
        f"servers. Phases: {args.users} concurrent conversations pausing about {args.pause:g} s between "
        "messages (uniformly 0.5–1.5 × the pause, like a person reading) for "
        f"{args.duration:.0f} s, then the same number without pauses (saturation) for "
        f"{args.saturation_duration:.0f} s. Our conversations: 60 % FAQ questions from the dev set, "
        "25 % office lookups by town or postcode with follow-ups (opening hours, phone), 15 % complete "
        "callback forms (place, request, consent, name, phone, reason, confirmation); each has a new "
        "sender id and fewer than 10 messages. Before our servers start, their tracker store holds "
        f"{args.history:,} past conversations (tests/history.py: 2–6 turns each, events as the assistant "
        "stores them). Errors: HTTP status not 200, empty reply, timeout (30 s), or the guard's trouble "
        "or too-slow message, counted over both phases; 429s (the guard's rate limit) are counted "
        "apart. Latency is per message; CPU is the servers' CPU time in the phase per reply; RSS is the "
        "peak of each server process over both phases, sampled every 0.5 s."
    )
    setups = [
        "- *1 server*: SQLite tracker store, in-memory lock store (like `make run`).",
        "- *2 servers*: two Rasa processes with a PostgreSQL tracker store and the Redis lock store, one "
        "action server for both. The load generator sends each new conversation to the next server in "
        "turn (round-robin); in production a load balancer does this.",
        "- *Baseline*: Rasa's own minimal assistant (`rasa init --no-prompt`, in-memory tracker store, "
        "no custom actions, no guard), same load shape, its own phrasings (greet, mood, yes/no, bye).",
        f"- *Cost flat in history*: one server of ours, {args.flat_messages} messages one after another "
        "(no concurrency; our conversation mix with the same seed, so the same messages), on an empty store "
        f"and on a store with {args.history:,} conversations, each on fresh servers after the same warm-up; "
        "SQLite, and PostgreSQL (in-memory lock store).",
    ]
    return [wrapped(text), "", *(wrapped(setup, "  ") for setup in setups)]


def section(results: list[Result], flats: list[Flat], args) -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    rows = [table_row(results, run, args.history) for run in (ONE, TWO, BASELINE)]
    flat_rows = [flat_row(flats, kind) for kind in ("sqlite", "postgres")]
    flat_header = [FLAT_TABLE[0].format(stored=f"{args.history:,}"), FLAT_TABLE[1]]
    lines = [
        f"## Load ({now:%Y-%m-%d})",
        "",
        wrapped(f"Measured {now:%Y-%m-%d %H:%M} UTC on {machine()}."),
        "",
        *method(args),
        "",
        *TABLE,
        *(row for row in rows if row),
        "",
    ]
    if any(flat_rows):
        lines += ["Cost flat in history:", "", *flat_header, *(row for row in flat_rows if row), ""]
    lines += ["Done when (issue 13):", ""]
    checks = [one_process_verdict(results, args.history), *efficiency_verdicts(results), flat_verdict(flats)]
    lines += [wrapped(line, "  ") for line in checks]
    lines += ["", "Per phase:", ""]
    lines += [wrapped(f"- {detail(result)}.", "  ") for result in results]
    lines += [
        wrapped(f"- flat, {STORES[f.kind]}, {f.stored:,} stored: {flat_detail(f)}.", "  ") for f in flats
    ]
    return "\n".join(lines)


def flat_detail(flat: Flat) -> str:
    tally = flat.tally
    return (
        f"{tally.sent} messages, {tally.error_count} errors, {tally.rate_limited} × 429, {off_script(tally)}"
    )


def print_off_script(results: list[Result], flats: list[Flat]) -> None:
    """The start of the first reply off script per step and run, on stderr (never in the docs)."""
    tallies = [(f"{r.run}, {r.phase.name}", r.tally) for r in results]
    tallies += [(f"flat, {STORES[f.kind]}, {f.stored:,} stored", f.tally) for f in flats]
    for name, tally in tallies:
        for step, excerpt in sorted(tally.off_script_example.items()):
            print(f"off script: {name}, {step}: {excerpt!r}", file=sys.stderr)


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


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=120, help="seconds of the paused phase")
    parser.add_argument("--saturation-duration", type=float, default=60, help="seconds without pauses")
    parser.add_argument("--users", type=int, default=50, help="concurrent conversations")
    parser.add_argument("--pause", type=float, default=2.0, help="mean seconds between a reply and the next")
    parser.add_argument(
        "--history", type=int, default=20_000, help="conversations stored before our servers start"
    )
    parser.add_argument(
        "--flat-messages", type=int, default=300, help="messages per store in the flatness runs"
    )
    parser.add_argument("--servers", choices=["1", "2", "both"], default="both")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-flat", action="store_true", help="without the cost-flat-in-history runs")
    parser.add_argument("--baseline-dir", help="keep the `rasa init` project here and reuse its model")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update the section in --output")
    parser.add_argument("--output", type=Path, default=DOCS)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    rng = random.Random(args.seed)
    started = time.monotonic()
    results: list[Result] = []
    flats: list[Flat] = []
    if args.servers in ("1", "both"):
        results += ours(args, rng, servers=1)
    if args.servers in ("2", "both"):
        results += ours(args, rng, servers=2)
    if not args.skip_baseline:
        results += baseline(args, rng)
    if not args.skip_flat and args.history:
        flats += flatness(args, "sqlite") + flatness(args, "postgres")
    text = section(results, flats, args)
    print(text)
    print_off_script(results, flats)
    print(f"\nTotal time {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.write:
        write_section(args.output, text)


if __name__ == "__main__":
    main()
