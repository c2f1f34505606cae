"""Two Rasa servers sharing one PostgreSQL tracker store and one Redis lock store (docs/deployment.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.channels.guard import SLOW, TROUBLE
from tests.e2e.server import Assistant, RasaServer, running_assistant
from tests.services import postgres_server, redis_server, shared_stores_env

pytestmark = pytest.mark.e2e

NAME, PHONE, REASON = "Gisela Kowalczyk", "0231 5550123", "Merkzeichen G beantragt"


@dataclass
class Cluster:
    assistant: Assistant
    second: RasaServer
    db_url: str

    @property
    def urls(self) -> list[str]:
        return [self.assistant.url, self.second.url]

    def events(self, sender: str) -> list[tuple[str, str | None, dict]]:
        engine = sa.create_engine(self.db_url)
        query = sa.text("select type_name, action_name, data from events where sender_id = :s order by id")
        with engine.connect() as connection:
            rows = connection.execute(query, {"s": sender}).fetchall()
        engine.dispose()
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def callback_rows(self) -> list[tuple]:
        engine = sa.create_engine(self.db_url)
        with engine.connect() as connection:
            rows = connection.execute(sa.text("select name, phone, reason, office from callback_requests"))
            result = rows.fetchall()
        engine.dispose()
        return [tuple(row) for row in result]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with postgres_server() as db_url, redis_server() as redis_port:
        workdir: Path = tmp_path_factory.mktemp("two-servers")
        shared = {
            **shared_stores_env(db_url, redis_port),
            # Waiting messages of one conversation poll Rasa's lock once a second: the twelfth
            # simultaneous one waits about 12 s, longer than the guard's limit in the other tests.
            "REPLY_TIMEOUT_S": "60",
        }
        with running_assistant(workdir, **shared) as assistant:
            second = RasaServer(workdir, assistant.env, name="rasa-b")
            second.start()
            try:
                yield Cluster(assistant, second, db_url)
            finally:
                second.stop()


def turns(events: list[tuple[str, str | None, dict]]) -> list[list[tuple[str, str | None, dict]]]:
    """The events split at each user message (the first part holds the session start)."""
    parts: list[list] = [[]]
    for event in events:
        if event[0] == "user":
            parts.append([])
        parts[-1].append(event)
    return parts[1:]


def assert_complete_turns(events: list[tuple[str, str | None, dict]], expected_turns: int) -> None:
    """Every message is stored once, answered, and its turn ends listening: nothing lost or interleaved."""
    by_turn = turns(events)
    assert len(by_turn) == expected_turns
    for turn in by_turn:
        assert [e for e in turn if e[0] == "bot"], turn
        assert turn[-1][:2] == ("action", "action_listen"), turn


def test_a_form_continues_across_servers(cluster: Cluster) -> None:
    sender = "scale-form"
    server = cycle(cluster.urls)
    steps = [
        ("Ich wohne in Dortmund", "Dortmund"),
        ("Ich möchte bitte einen Rückruf", "einverstanden"),
        ("/affirm", "heißen"),
        (NAME, "Telefonnummer"),
        (PHONE, "Worum"),
        (REASON, NAME),  # the town is known, the time optional: the summary
        ("/affirm", "ruft Sie"),
    ]
    for text, expected in steps:
        reply = cluster.assistant.reply(sender, text, url=next(server))
        assert expected in reply, (text, reply)
    [row] = cluster.callback_rows()
    assert row[:3] == (NAME, "+492315550123", REASON)
    assert_complete_turns(cluster.events(sender), len(steps))


def test_simultaneous_messages_on_both_servers_lose_nothing(cluster: Cluster) -> None:
    sender = "scale-race"
    questions = [
        "Was kostet die Wertmarke?",
        "Ich habe meinen Ausweis verloren",
        "Wie beantrage ich einen Schwerbehindertenausweis?",
        "Was bedeutet das Merkzeichen aG?",
        "Wie lange ist der Ausweis gültig?",
        "Was ist der orange Parkausweis?",
    ] * 2
    jobs = [(question, url) for question, url in zip(questions, cycle(cluster.urls))]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        replies = list(pool.map(lambda job: cluster.assistant.reply(sender, *job), jobs))
    assert all(reply.strip() and SLOW not in reply and TROUBLE not in reply for reply in replies)
    events = cluster.events(sender)
    assert_complete_turns(events, len(questions))
    stored = sorted(e[2]["text"] for e in events if e[0] == "user")
    assert stored == sorted(questions)
