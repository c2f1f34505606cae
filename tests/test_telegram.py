"""The Telegram channel: a fake Bot API server here, the real assistant for the e2e tests.

Unit tests (no Rasa): splitting long texts, the channel switched off, settings, button payloads.
End to end (pytest.mark.e2e): the real Rasa server with TELEGRAM_* pointing at the fake Bot API.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

import knowledge
from bot.channels import telegram
from bot.channels.guard import Limits, MessageGuard
from bot.channels.telegram import (
    SECRET_HEADER,
    CallbackPayloads,
    SecureTelegramInput,
    SecureTelegramOutput,
    TelegramSettings,
    split_message,
    utf16_length,
)
from tests.e2e.server import Assistant, free_port, running_assistant

TOKEN = "123456789:AAFakeTokenForTests_only-0123456789"
BOT_NAME = "SbAusweisTestBot"
SECRET = "test-secret_0123456789"
WEBHOOK_URL = "https://bot.example.org/webhooks/telegram/webhook"
TELEGRAM_ENV = ("TELEGRAM_TOKEN", "TELEGRAM_BOT_NAME", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN")


def said(key: str) -> str:
    """The channel's own text `telegram.<key>` (knowledge/data/texts/channels.yml)."""
    return knowledge.load().texts(f"telegram.{key}")


# --- a fake Telegram Bot API server -------------------------------------------------------------------


class FakeBotApi:
    """Answers /bot<token>/<method> like Telegram and records every call, in a thread of its own."""

    def __init__(self, token: str = TOKEN, username: str = BOT_NAME) -> None:
        self.token = token
        self.username = username
        self.port = free_port()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._message_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        assert self._ready.wait(10), "the fake Bot API did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def recorded(self, method: str, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                params
                for name, params in self.calls
                if name == method and (chat_id is None or params.get("chat_id") == str(chat_id))
            ]

    def texts(self, chat_id: int | str) -> list[str]:
        return [params["text"] for params in self.recorded("sendMessage", chat_id)]

    def wait_for(self, method: str, timeout_s: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while not self.recorded(method) and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.recorded(method)

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = {key: str(value) for key, value in (await request.json()).items()}
        else:
            params = {key: str(value) for key, value in (await request.post()).items()}
        if "reply_markup" in params:
            params["reply_markup"] = json.loads(params["reply_markup"])
        with self._lock:
            self.calls.append((method, params))
        return web.json_response({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": int(self.token.split(":")[0]),
                "is_bot": True,
                "first_name": "Test",
                "username": self.username,
            }
        if method == "sendMessage":
            return {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        return True


# --- Telegram updates, as Telegram sends them ---------------------------------------------------------

_update_ids = itertools.count(int(time.time()))


def chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "first_name": "Erika", "type": "private"}


def message(chat_id: int, **content: Any) -> dict[str, Any]:
    return {
        "message_id": next(_update_ids) % 100_000,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Erika", "language_code": "de"},
        "chat": chat(chat_id),
        "date": int(time.time()),
        **content,
    }


def update(**content: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **content}


def text_update(chat_id: int, text: str) -> dict[str, Any]:
    entities = (
        [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}] if text[0] == "/" else []
    )
    return update(message=message(chat_id, text=text, **({"entities": entities} if entities else {})))


def button_update(chat_id: int, data: str, keyboard: dict[str, Any] | None = None) -> dict[str, Any]:
    shown = message(chat_id, text="…", **({"reply_markup": keyboard} if keyboard else {}))
    shown["from"] = {"id": 123456789, "is_bot": True, "first_name": "Test", "username": BOT_NAME}
    return update(
        callback_query={
            "id": f"cq-{next(_update_ids)}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Erika"},
            "message": shown,
            "chat_instance": "42",
            "data": data,
        }
    )


PHOTO = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90, "file_size": 1234}]
NON_TEXT = {
    "photo": {"photo": PHOTO},
    "sticker": {
        "sticker": {
            "file_id": "CAAD",
            "file_unique_id": "AgAD",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": "👍",
        }
    },
    "voice": {
        "voice": {"file_id": "AwAD", "file_unique_id": "AgAD", "duration": 3, "mime_type": "audio/ogg"}
    },
    "location": {"location": {"latitude": 51.2277, "longitude": 6.7735}},
    "contact": {"contact": {"phone_number": "+49 211 000000", "first_name": "Erika"}},
    "poll": {
        "poll": {
            "id": "5",
            "question": "Ja?",
            "options": [{"text": "Ja", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
    },
    "document": {"document": {"file_id": "BQAD", "file_unique_id": "AgAD", "file_name": "Bescheid.pdf"}},
}


# --- unit: splitting long texts -----------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.sampled_from(list("abcdeäöüß AB\n\n\t.,") + ["😀", "\u00a0", "\u2003"]), max_size=600
)


def assert_split_well(text: str, parts: list[str], limit: int) -> None:
    assert all(0 < utf16_length(part) <= limit for part in parts)
    assert all(part == part.strip() for part in parts)
    # The parts, in order, with only whitespace between and around them, are the original text.
    pattern = r"\s*" + r"\s*".join(re.escape(part) for part in parts) + r"\s*"
    assert re.fullmatch(pattern, text, flags=re.DOTALL)
    assert "".join(re.sub(r"\s", "", part) for part in parts) == re.sub(r"\s", "", text)


@given(text=TEXT, limit=st.integers(min_value=2, max_value=80))
@settings(max_examples=300, deadline=None)
def test_split_keeps_the_text_within_the_limit(text: str, limit: int) -> None:
    assert_split_well(text, split_message(text, limit), limit)


@given(paragraphs=st.lists(st.text(alphabet="abc äöü😀\n.", min_size=1, max_size=3000), max_size=8))
@settings(max_examples=40, deadline=None)
def test_split_at_telegrams_limit(paragraphs: list[str]) -> None:
    text = "\n\n".join(paragraphs)
    parts = split_message(text)
    assert_split_well(text, parts, telegram.MAX_TEXT_LENGTH)
    assert (len(parts) > 1) == (utf16_length(text.strip()) > telegram.MAX_TEXT_LENGTH)


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_message("Erster Absatz.\n\nZweiter Absatz hier.", 30) == [
        "Erster Absatz.",
        "Zweiter Absatz hier.",
    ]
    assert split_message("eins zwei drei\nvier fünf sechs", 20) == ["eins zwei drei", "vier fünf sechs"]
    assert split_message("eins zwei drei vier", 12) == ["eins zwei", "drei vier"]
    assert split_message("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert split_message(" \n ") == []
    assert split_message("😀😀😀", 4) == ["😀😀", "😀"]  # an emoji counts 2 in Telegram


# --- unit: settings and the switched-off channel ------------------------------------------------------


@pytest.fixture
def no_telegram_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*TELEGRAM_ENV, "TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class NoNetwork:
    """Records every attempt to open a network connection (and refuses it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[Any] = []
        real_connect = socket.socket.connect

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                self.attempts.append(address)
                raise OSError("no network in this test")
            return real_connect(sock, address)

        async def request(session: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
            self.attempts.append(url)  # (uvloop connects in C, below socket.socket)
            raise aiohttp.ClientConnectionError("no network in this test")

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(aiohttp.ClientSession, "_request", request)


def test_without_token_the_channel_is_off_and_silent(
    no_telegram_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    network = NoNetwork(no_telegram_env)
    with caplog.at_level(logging.INFO, logger="bot.channels.telegram"):
        channel = SecureTelegramInput.from_credentials(None)
        channel.blueprint(lambda message: asyncio.sleep(0))

        async def use() -> Any:
            channel.start_registration()
            await channel.stop()
            return await channel.receive({SECRET_HEADER: ""}, b"{}", lambda m: asyncio.sleep(0), None)

        answer = asyncio.run(use())
    assert not channel.enabled and channel.get_output_channel() is None
    assert answer.status == 503
    assert network.attempts == []
    records = [r for r in caplog.records if r.name == "bot.channels.telegram"]
    assert len(records) == 1 and records[0].levelno == logging.INFO and "TELEGRAM_TOKEN" in records[0].message


def test_an_enabled_channel_would_be_caught_calling_out(no_telegram_env: pytest.MonkeyPatch) -> None:
    """The check above can fail: the same watcher sees the start-up calls of a configured channel."""
    network = NoNetwork(no_telegram_env)
    settings_ = TelegramSettings(TOKEN, BOT_NAME, WEBHOOK_URL, SECRET, api_url="http://127.0.0.1:9")
    channel = SecureTelegramInput(settings_, guard=MessageGuard(Limits()))

    async def start_and_stop() -> None:
        channel.start_registration()
        await asyncio.sleep(0.5)
        await channel.stop()

    asyncio.run(start_and_stop())
    assert network.attempts


def test_token_without_secret_refuses_to_start(
    no_telegram_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    no_telegram_env.setenv("TELEGRAM_TOKEN", TOKEN)
    no_telegram_env.setenv("TELEGRAM_WEBHOOK_URL", WEBHOOK_URL)
    with caplog.at_level(logging.INFO, logger="bot.channels.telegram"):
        channel = SecureTelegramInput.from_credentials(None)
    assert not channel.enabled
    [record] = [r for r in caplog.records if r.name == "bot.channels.telegram"]
    assert record.levelno == logging.ERROR and "TELEGRAM_SECRET_TOKEN" in record.message
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"token": "not-a-token"}, "TELEGRAM_TOKEN"),
        ({"secret_token": "has spaces and ümlauts"}, "TELEGRAM_SECRET_TOKEN"),
        ({"secret_token": "x" * 257}, "TELEGRAM_SECRET_TOKEN"),
        ({"webhook_url": None}, "TELEGRAM_WEBHOOK_URL"),
    ],
)
def test_bad_settings_are_named(changes: dict[str, Any], named: str) -> None:
    good = {"token": TOKEN, "bot_name": BOT_NAME, "webhook_url": WEBHOOK_URL, "secret_token": SECRET}
    assert TelegramSettings(**good).problem() is None
    problem = TelegramSettings(**{**good, **changes}).problem()
    assert problem is not None and named in problem


def test_settings_come_from_renamed_variables(no_telegram_env: pytest.MonkeyPatch) -> None:
    no_telegram_env.setenv("MY_BOT_TOKEN", TOKEN)
    names = telegram.env_names({"token": "MY_BOT_TOKEN"})
    assert TelegramSettings.from_env(names).token == TOKEN
    with pytest.raises(ValueError, match="environment variable"):
        telegram.env_names({"token": TOKEN})  # a secret pasted into credentials.yml
    with pytest.raises(ValueError, match="unknown"):
        telegram.env_names({"verify": "TELEGRAM_BOT_NAME"})


def test_secret_token_is_compared_exactly() -> None:
    settings_ = TelegramSettings(TOKEN, BOT_NAME, WEBHOOK_URL, SECRET)
    channel = SecureTelegramInput(settings_, guard=MessageGuard(Limits()))
    assert channel.authentic(SECRET)
    for wrong in (None, "", SECRET[:-1], SECRET + "x", SECRET.upper()):
        assert not channel.authentic(wrong)


# --- unit: buttons ---------------------------------------------------------------------------------------


def test_long_button_payloads_fit_into_callback_data() -> None:
    payloads = CallbackPayloads()
    short = "/ask_apply"
    long = '/inform_place{"place": "Mülheim an der Ruhr (kreisfreie Stadt, Nordrhein-Westfalen)"}'
    assert payloads.callback_data(short) == short
    data = payloads.callback_data(long)
    assert len(data.encode()) <= 64 and payloads.payload(data) == long
    assert payloads.payload(short) == short
    keyboard = {"inline_keyboard": [[{"text": "Mülheim an der Ruhr", "callback_data": data}]]}
    restarted = CallbackPayloads()
    assert restarted.payload(data, keyboard) == "Mülheim an der Ruhr"  # the title, as if typed
    assert restarted.payload(data) is None


def test_long_payloads_are_kept_in_a_bounded_lru_cache() -> None:
    payloads = CallbackPayloads(max_entries=2)
    first, second, third = (f'/inform_place{{"place": "{"x" * 70}{index}"}}' for index in range(3))
    keys = [payloads.callback_data(first), payloads.callback_data(second)]
    assert payloads.payload(keys[0]) == first  # used again: now the most recent
    payloads.callback_data(third)
    assert payloads.payload(keys[0]) == first and payloads.payload(keys[1]) is None
    assert len(payloads._payloads) == 2


def test_repeated_updates_are_remembered_within_a_bound() -> None:
    channel = SecureTelegramInput(
        TelegramSettings(TOKEN, BOT_NAME, WEBHOOK_URL, SECRET), guard=MessageGuard()
    )
    assert not channel._seen_before(1) and channel._seen_before(1)
    assert not channel._seen_before("1") and not channel._seen_before(None)  # no id, never a repeat
    for update_id in range(2, telegram.MAX_RECENT_UPDATES + 10):
        channel._seen_before(update_id)
    assert len(channel._recent_updates) == telegram.MAX_RECENT_UPDATES
    assert not channel._seen_before(1)  # the oldest was forgotten


def test_an_empty_text_with_buttons_asks_to_choose() -> None:
    with FakeBotApi() as api:

        async def send() -> None:
            output = SecureTelegramOutput(TOKEN, api.url)
            try:
                await output.send_text_with_buttons("78", "", [{"title": "Ja", "payload": "/affirm"}])
            finally:
                await output.close_session()

        asyncio.run(send())
    [sent] = api.recorded("sendMessage", 78)
    assert sent["text"] == said("choose") and shown_buttons(sent) == [("Ja", "/affirm")]


def test_long_text_with_buttons_has_the_keyboard_on_the_last_part() -> None:
    paragraph = "Ein langer Absatz über den Schwerbehindertenausweis. " * 30
    text = "\n\n".join(f"{index}. {paragraph}" for index in range(8))
    buttons = [
        {"title": "Antrag stellen", "payload": "/ask_apply"},
        {"title": "Merkzeichen", "payload": "/x"},
    ]
    with FakeBotApi() as api:

        async def send() -> None:
            output = SecureTelegramOutput(TOKEN, api.url)
            try:
                await output.send_text_with_buttons("77", text, buttons)
            finally:
                await output.close_session()

        asyncio.run(send())
    sent = api.recorded("sendMessage", 77)
    assert len(sent) > 1
    assert_split_well(text, [params["text"] for params in sent], telegram.MAX_TEXT_LENGTH)
    assert all("reply_markup" not in params for params in sent[:-1])
    rows = sent[-1]["reply_markup"]["inline_keyboard"]
    assert [[(b["text"], b["callback_data"]) for b in row] for row in rows] == [
        [("Antrag stellen", "/ask_apply")],
        [("Merkzeichen", "/x")],
    ]


# --- end to end: the real assistant behind the fake Bot API ---------------------------------------------


@dataclass
class TelegramAssistant:
    assistant: Assistant
    api: FakeBotApi

    def post(self, body: Any, secret: str | None = SECRET) -> requests.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        url = f"{self.assistant.url}/webhooks/telegram/webhook"
        return requests.post(url, json=body, headers=headers, timeout=60)

    def ask(self, chat_id: int, text: str) -> list[dict[str, Any]]:
        before = len(self.api.recorded("sendMessage", chat_id))
        assert self.post(text_update(chat_id, text)).status_code == 200
        return self.api.recorded("sendMessage", chat_id)[before:]


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TelegramAssistant]:
    with ExitStack() as stack:
        api = stack.enter_context(FakeBotApi())
        with pytest.MonkeyPatch.context() as env:  # only the server started here sees the variables
            env.setenv("TELEGRAM_TOKEN", TOKEN)
            env.setenv("TELEGRAM_BOT_NAME", BOT_NAME)
            env.setenv("TELEGRAM_WEBHOOK_URL", WEBHOOK_URL)
            env.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
            env.setenv("TELEGRAM_API_URL", api.url)
            assistant = stack.enter_context(running_assistant(tmp_path_factory.mktemp("telegram")))
        yield TelegramAssistant(assistant, api)


def rest_answer(bot: TelegramAssistant, text: str) -> list[dict[str, Any]]:
    """The same question over the REST channel, in a fresh conversation: what Telegram must show."""
    return bot.assistant.send(f"rest-{next(_update_ids)}", text)


def shown_buttons(sent: dict[str, Any]) -> list[tuple[str, str]]:
    rows = sent.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


@pytest.mark.e2e
def test_webhook_is_registered_with_the_secret_token(bot: TelegramAssistant) -> None:
    [registration] = bot.api.wait_for("setWebhook")
    assert registration["url"] == WEBHOOK_URL
    assert registration["secret_token"] == SECRET
    assert "callback_query" in json.loads(registration["allowed_updates"])


@pytest.mark.e2e
def test_text_question_gets_the_assistants_answer(bot: TelegramAssistant) -> None:
    question = "Was kostet die Wertmarke?"
    sent = bot.ask(5001, question)
    expected = "\n".join(m["text"] for m in rest_answer(bot, question) if m.get("text"))
    assert expected and "\n".join(m["text"] for m in sent) == expected
    assert all(m["chat_id"] == "5001" for m in sent)
    assert bot.api.texts(5002) == []  # nobody else got it


@pytest.mark.e2e
def test_start_greets_with_a_keyboard_and_a_button_press_is_answered(bot: TelegramAssistant) -> None:
    greeting = bot.ask(5101, "/start")
    [expected] = [m for m in rest_answer(bot, "/greet") if m.get("buttons")]
    assert greeting[-1]["text"] == expected["text"]
    buttons = shown_buttons(greeting[-1])
    assert buttons == [(b["title"], b["payload"]) for b in expected["buttons"]]

    title, payload = buttons[0]
    press = button_update(5101, payload, greeting[-1]["reply_markup"])
    assert bot.post(press).status_code == 200
    [answered] = [
        c
        for c in bot.api.recorded("answerCallbackQuery")
        if c["callback_query_id"] == press["callback_query"]["id"]
    ]
    assert answered
    after_press = bot.api.texts(5101)[len(greeting) :]
    expected_answer = [m["text"] for m in rest_answer(bot, payload) if m.get("text")]
    assert after_press == expected_answer and after_press


@pytest.mark.e2e
def test_restart_command_starts_over_with_a_greeting(bot: TelegramAssistant) -> None:
    greeting = bot.ask(5151, "/start")
    again = bot.ask(5151, "/restart")
    assert [m["text"] for m in again] == [m["text"] for m in greeting]
    url = f"{bot.assistant.url}/conversations/5151/tracker"
    events = requests.get(url, params={"include_events": "ALL"}, timeout=30).json()["events"]
    assert [e["event"] for e in events].count("restart") == 1


@pytest.mark.e2e
def test_long_answer_is_split_with_the_buttons_last(bot: TelegramAssistant) -> None:
    chat_id = 5201
    bot.ask(chat_id, "Hallo")
    paragraph = " ".join(f"Satz {index} über den Ausweis und die Merkzeichen." for index in range(40))
    text = "\n\n".join(f"Abschnitt {index}:\n{paragraph}" for index in range(6))
    before = len(bot.api.texts(chat_id))
    event = {
        "event": "bot",
        "text": text,
        "data": {"buttons": [{"title": "Antrag stellen", "payload": "/ask_apply"}]},
    }
    reply = requests.post(
        f"{bot.assistant.url}/conversations/{chat_id}/tracker/events",
        params={"output_channel": "telegram", "execute_side_effects": "true"},
        json=[event],
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    sent = bot.api.recorded("sendMessage", chat_id)[before:]
    assert len(sent) >= 2
    assert_split_well(text, [m["text"] for m in sent], telegram.MAX_TEXT_LENGTH)
    assert [shown_buttons(m) for m in sent] == [[]] * (len(sent) - 1) + [[("Antrag stellen", "/ask_apply")]]


@pytest.mark.e2e
@pytest.mark.parametrize("kind", sorted(NON_TEXT))
def test_non_text_messages_get_a_polite_answer(bot: TelegramAssistant, kind: str) -> None:
    chat_id = 5300 + sorted(NON_TEXT).index(kind)
    response = bot.post(update(message=message(chat_id, **NON_TEXT[kind])))
    assert response.status_code == 200
    assert bot.api.texts(chat_id) == [said("only_text")]


@pytest.mark.e2e
def test_edited_message_is_not_answered_twice(bot: TelegramAssistant) -> None:
    chat_id = 5401
    bot.ask(chat_id, "Was kostet die Wertmarke?")
    answered = len(bot.api.texts(chat_id))
    edited = message(chat_id, text="Wie verlängere ich meinen Ausweis?", edit_date=int(time.time()))
    assert bot.post(update(edited_message=edited)).status_code == 200
    assert bot.api.texts(chat_id)[answered:] == [said("edited")]


@pytest.mark.e2e
def test_other_updates_never_fail(bot: TelegramAssistant) -> None:
    channel_post = {
        "message_id": 9,
        "chat": {"id": -1005501, "type": "channel", "title": "Kanal"},
        "date": 1,
        "text": "?",
    }
    member = {"chat": chat(5502), "from": chat(5502), "date": 1, "old_chat_member": {}, "new_chat_member": {}}
    odd = [
        update(channel_post=channel_post),
        update(my_chat_member=member),
        update(poll={"id": "1", "question": "?", "options": []}),
        update(some_future_update={"chat": {"id": 5503}}),
        update(message=message(5504, new_chat_members=[chat(5505)])),
        update(message={"message_id": 1, "date": 1}),  # no chat at all
        update(),
        [1, 2, 3],
    ]
    for body in odd:
        assert bot.post(body).status_code == 200, body
    assert bot.api.texts(-1005501) == [said("channel_post")]
    for chat_id in (5502, 5503, 5504, 5505):
        assert bot.api.texts(chat_id) == []
    assert bot.post(update(message=message(5506, text="Hallo"))).status_code == 200  # still working
    assert bot.api.texts(5506)


@pytest.mark.e2e
def test_a_repeated_update_is_answered_once(bot: TelegramAssistant) -> None:
    same = text_update(5601, "Was kostet die Wertmarke?")
    assert bot.post(same).status_code == 200
    answered = bot.api.texts(5601)
    assert answered
    assert bot.post(same).status_code == 200
    assert bot.api.texts(5601) == answered


@pytest.mark.e2e
@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_updates_without_the_secret_are_refused(bot: TelegramAssistant, secret: str | None) -> None:
    chat_id = 5700 + len(secret or "") + (secret is None)
    press = button_update(chat_id, "/ask_apply")
    for body in (text_update(chat_id, "Was kostet die Wertmarke?"), press):
        assert bot.post(body, secret=secret).status_code == 403
    assert bot.api.texts(chat_id) == []
    press_id = press["callback_query"]["id"]
    assert not [c for c in bot.api.recorded("answerCallbackQuery") if c["callback_query_id"] == press_id]
    tracker = requests.get(f"{bot.assistant.url}/conversations/{chat_id}/tracker", timeout=30).json()
    assert not [e for e in tracker.get("events", []) if e.get("event") == "user"]


@pytest.mark.e2e
def test_logs_hold_neither_chat_ids_nor_texts(bot: TelegramAssistant) -> None:
    chat_id = 5809_4417
    question = "Ich habe meinen Ausweis verloren, Zimmer 4711"
    assert bot.ask(chat_id, question)
    assert bot.post(text_update(chat_id, question), secret="wrong").status_code == 403
    logs = bot.assistant.logs()
    assert str(chat_id) not in logs
    assert "Zimmer 4711" not in logs and question not in logs
    assert "Telegram webhook registered" in logs
    assert "Rejected a Telegram webhook call" in logs  # the refused call was noticed, without its content
