"""Staff hand-over: the command-line tool and the HTTP endpoint with its bearer token."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from callbacks import cli
from callbacks.http import create_app
from callbacks.store import CallbackStore, NewRequest

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path, monkeypatch) -> CallbackStore:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    filled = CallbackStore()
    filled.submit(NewRequest("koeln", "Anna Müller", "+4922112345678", "Antrag, AZ 1"), "a", NOW)
    filled.submit(NewRequest("dortmund", "Jens Groß", "+492315000", "Wertmarke"), "b", NOW)
    return filled


def run_cli(capsys, *args: str) -> str:
    assert cli.main(list(args)) == 0
    return capsys.readouterr().out


def test_cli_lists_open_requests_as_json_lines(store, capsys) -> None:
    rows = [json.loads(line) for line in run_cli(capsys, "list", "--status", "open").splitlines()]
    assert [r["office"] for r in rows] == ["koeln", "dortmund"]
    assert set(rows[0]) >= {"id", "created_at", "office", "name", "phone", "reason", "preferred_time",
                            "alternative_contact", "status"}  # fmt: skip


def test_cli_filters_exports_csv_marks_and_purges(store, capsys) -> None:
    [row] = list(csv.DictReader(io.StringIO(run_cli(capsys, "list", "--office", "koeln", "--format", "csv"))))
    assert row["name"] == "Anna Müller"
    run_cli(capsys, "mark", row["reference"], "done")
    assert json.loads(run_cli(capsys, "list", "--office", "koeln", "--format", "json"))[0]["status"] == "done"
    assert cli.main(["mark", "RR-UNKNOWN", "done"]) == 1
    run_cli(capsys, "purge", "--days", "0")
    assert run_cli(capsys, "list", "--office", "koeln") == ""


def test_http_endpoint_needs_the_token(store) -> None:
    async def scenario() -> None:
        async with TestClient(TestServer(create_app(store, "s3cret"))) as client:
            assert (await client.get("/callbacks")).status == 401
            assert (await client.get("/callbacks", headers={"Authorization": "Bearer wrong"})).status == 401
            auth = {"Authorization": "Bearer s3cret"}
            listed = await (await client.get("/callbacks?office=dortmund&status=open", headers=auth)).json()
            assert [r["name"] for r in listed] == ["Jens Groß"]
            reference = listed[0]["reference"]
            marked = await client.post(
                f"/callbacks/{reference}", json={"status": "unreachable"}, headers=auth
            )
            assert marked.status == 200
            assert (
                await client.post(f"/callbacks/{reference}", json={"status": "x"}, headers=auth)
            ).status == 400
            assert (
                await client.post("/callbacks/RR-NONE", json={"status": "done"}, headers=auth)
            ).status == 404

    asyncio.run(scenario())


def test_cli_and_http_show_utc_berlin_time_and_the_contact(store, capsys) -> None:
    store.submit(
        NewRequest("bonn", "Eva Still", reason="gehörlos", contact_method="email", email="eva@example.de"),
        "c",
        datetime(2026, 7, 15, 21, 50, tzinfo=ZoneInfo("Europe/Berlin")),
    )
    [row] = list(csv.DictReader(io.StringIO(run_cli(capsys, "list", "--office", "bonn", "--format", "csv"))))
    assert list(row) == cli.FIELDS
    assert (row["contact_method"], row["contact"], row["phone"]) == ("email", "eva@example.de", "")
    assert (row["created_at"], row["created_at_local"]) == (
        "2026-07-15T19:50:00+00:00",
        "2026-07-15T21:50:00+02:00",
    )
    [koeln] = [json.loads(line) for line in run_cli(capsys, "list", "--office", "koeln").splitlines()]
    assert koeln["created_at"] == "2026-11-23T09:00:00+00:00"
    assert koeln["created_at_local"] == "2026-11-23T10:00:00+01:00"
    assert (koeln["contact_method"], koeln["contact"]) == ("phone", "+4922112345678")

    async def scenario() -> None:
        async with TestClient(TestServer(create_app(store, "s3cret"))) as client:
            auth = {"Authorization": "Bearer s3cret"}
            [listed] = await (await client.get("/callbacks?office=bonn", headers=auth)).json()
            assert listed["contact"] == "eva@example.de"
            assert listed["created_at_local"] == "2026-07-15T21:50:00+02:00"

    asyncio.run(scenario())


def test_http_endpoint_is_off_without_token(store) -> None:
    with pytest.raises(ValueError):
        create_app(store, "")
