"""Each checkout has its own DynamoDB Local: reused by the checkout's own processes, never by another clone.

The checkouts are temporary data directories; the engines are real DynamoDB Local processes persisting there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from iracing_sync_local.dynamodb_local import (
    DynamoDBLocal,
    EngineRecord,
    checkout_engine,
    checkout_port,
    read_record,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def engines() -> Iterator[list[DynamoDBLocal]]:
    """Engines a test starts, stopped at its end."""
    started: list[DynamoDBLocal] = []
    yield started
    for engine in started:
        engine.stop()


def tables(engine: DynamoDBLocal) -> list[str]:
    client = boto3.client("dynamodb", endpoint_url=engine.endpoint, region_name="us-east-1")
    return list(client.list_tables()["TableNames"])


def create_table(engine: DynamoDBLocal, name: str) -> None:
    boto3.client("dynamodb", endpoint_url=engine.endpoint, region_name="us-east-1").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_checkout_port_is_stable_per_checkout_and_differs_between_checkouts(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / ".local", tmp_path / "b" / ".local"
    assert checkout_port(a) == checkout_port(tmp_path / "a" / "x" / ".." / ".local")
    assert checkout_port(a) != checkout_port(b)
    assert 20000 <= checkout_port(a) < 30000


def test_two_checkouts_run_two_engines_with_their_own_data(tmp_path: Path, engines: list[DynamoDBLocal]) -> None:
    # Given two clones on one machine, each starting its engine
    first, second = checkout_engine(tmp_path / "a" / ".local"), checkout_engine(tmp_path / "b" / ".local")
    engines += [first.start(), second.start()]
    # Then they are two processes on two ports
    assert first.started_here and second.started_here
    assert first.port != second.port and first.pid != second.pid
    # And what one clone writes, the other does not see
    create_table(first, "only-in-a")
    assert "only-in-a" in tables(first) and "only-in-a" not in tables(second)
    # And each recorded its own engine under its own data directory
    assert read_record(tmp_path / "a" / ".local" / "dynamodb" / "engine.json").port == first.port  # type: ignore[union-attr]


def test_another_process_of_the_checkout_reuses_its_engine(tmp_path: Path, engines: list[DynamoDBLocal]) -> None:
    # Given `serve` running in one terminal (this process started the checkout's engine)
    local = tmp_path / "repo" / ".local"
    serving = checkout_engine(local)
    engines.append(serving.start())
    create_table(serving, "shared")
    # When `sync` starts in another terminal (another process of the same checkout)
    code = (
        "import json, sys; from pathlib import Path; from iracing_sync_local.dynamodb_local import checkout_engine;"
        "e = checkout_engine(Path(sys.argv[1])).start(); print(json.dumps([e.started_here, e.port]))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(local)], capture_output=True, text=True, check=True)
    # Then it used the running engine instead of starting one
    assert json.loads(done.stdout) == [False, serving.port]
    # And once the engine that started it stops, its record is gone (the next process starts a new one)
    serving.stop()
    assert read_record(local / "dynamodb" / "engine.json") is None


def test_a_foreign_listener_on_the_checkouts_port_is_never_reused(tmp_path: Path, engines: list[DynamoDBLocal]) -> None:
    # Given something else listening on this checkout's port, and a record naming it (a live pid, that port)
    local = tmp_path / "repo" / ".local"
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", checkout_port(local)))
        foreign.listen()
        record = local / "dynamodb" / "engine.json"
        record.parent.mkdir(parents=True)
        db_path = str((local / "dynamodb").resolve())
        record.write_text(json.dumps({"pid": os.getpid(), "port": checkout_port(local), "db_path": db_path}))
        # When the checkout's engine starts
        engine = checkout_engine(local)
        engines.append(engine.start())
        # Then it is a new DynamoDB Local on another port, recorded as the checkout's engine
        assert engine.started_here and engine.port != checkout_port(local)
        assert read_record(record) == EngineRecord(engine.pid or 0, engine.port, db_path)
        create_table(engine, "mine")
        assert tables(engine) == ["mine"]


def test_an_engine_without_a_record_refuses_a_taken_port() -> None:
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        with pytest.raises(RuntimeError, match="already in use"):
            DynamoDBLocal(port=foreign.getsockname()[1]).start()
