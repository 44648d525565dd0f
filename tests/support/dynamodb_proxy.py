"""A fault-injecting HTTP proxy in front of DynamoDB Local (real sockets on 127.0.0.1).

DynamoDB Local never throttles; this proxy answers chosen operations with DynamoDB's real throttling
error so tests can show what the service does when AWS throttles it. It also counts requests by
operation, which proves which routes Query and that nothing Scans; holds one write request until the test
lets it go (to interleave two writers at any step); and drops the connection of every write from the k-th
on (a writer killed mid-batch).
"""

from __future__ import annotations

import base64
import collections
import http.client
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from iracing_sync_local.keepalive import KeepAliveServer

WRITES = frozenset({"BatchWriteItem", "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"})
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})

THROTTLED = {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded.",
}


class DynamoDBProxy:
    """Forwards every request to DynamoDB Local at ``upstream_port``; scriptable throttling; counts ops."""

    def __init__(self, port: int, upstream_port: int, *, meter: bool = False) -> None:
        self.port, self.upstream_port = port, upstream_port
        self.meter = meter
        self.operations: collections.Counter[str] = collections.Counter()
        # Capacity units consumed, by operation (metered only).
        self.units: collections.Counter[str] = collections.Counter()
        self._indexes: dict[str, list[IndexShape]] = {}
        self._throttle: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: KeepAliveServer | None = None
        self._hold: Hold | None = None
        self._drop_after: int | None = None
        self._writes = 0

    def hold_write(self, skip: int = 0) -> Hold:
        """Hold the write request after the next ``skip`` ones until ``Hold.release()`` (then forward it)."""
        hold = Hold(skip)
        with self._lock:
            self._hold = hold
        return hold

    def drop_writes(self, after: int = 0) -> None:
        """Let ``after`` more write requests through, then drop the connection of every later one (until heal)."""
        with self._lock:
            self._writes, self._drop_after = 0, after

    def heal(self) -> None:
        """Stop dropping and holding."""
        with self._lock:
            self._drop_after, self._hold = None, None

    def _on_write(self) -> tuple[Hold | None, bool]:
        """What to do with one write request: the hold to wait on (if it is this one), and whether to drop it."""
        with self._lock:
            hold = self._hold
            if hold is not None:
                if hold.skip:
                    hold.skip -= 1
                    hold = None
                else:
                    self._hold = None
            self._writes += 1
            drop = self._drop_after is not None and self._writes > self._drop_after
            return hold, drop

    def throttle(self, operation: str, times: int) -> None:
        """Answer the next ``times`` requests of ``operation`` (e.g. "BatchWriteItem") with a throttling error."""
        with self._lock:
            self._throttle[operation] = self._throttle.get(operation, 0) + times

    def reset_counts(self) -> None:
        with self._lock:
            self.operations.clear()
            self.units.clear()

    @property
    def read_units(self) -> float:
        """Read request units consumed since the last reset (metered only)."""
        with self._lock:
            return sum(units for op, units in self.units.items() if op in READS)

    @property
    def write_units(self) -> float:
        """Write request units consumed since the last reset (metered only)."""
        with self._lock:
            return sum(units for op, units in self.units.items() if op in WRITES)

    def _metered_request(self, operation: str, body: bytes) -> tuple[bytes, dict[str, Any] | None]:
        """The request body asking for its consumed capacity, and the request parsed (None if not metered)."""
        if not self.meter or operation not in READS | WRITES:
            return body, None
        request = json.loads(body or b"{}")
        if request.get("ReturnConsumedCapacity", "NONE") == "NONE":
            request["ReturnConsumedCapacity"] = "TOTAL"
            body = json.dumps(request).encode()
        return body, request

    def _record_units(
        self, operation: str, request: dict[str, Any], status: int, data: bytes, headers: dict[str, str]
    ) -> None:
        if status != 200:
            return  # a refused request (condition failed, throttled) answers no capacity; AWS bills few of those
        answer = json.loads(data)
        consumed = answer.get("ConsumedCapacity") or []
        units = sum(c.get("CapacityUnits", 0.0) for c in (consumed if isinstance(consumed, list) else [consumed]))
        if operation == "TransactWriteItems":
            units = transact_write_units(request, lambda table: self._table_indexes(table, headers))
        with self._lock:
            self.units[operation] += units

    def _table_indexes(self, table: str, headers: dict[str, str]) -> list[IndexShape]:
        """A table's global secondary indexes (asked of DynamoDB Local once per table)."""
        if table not in self._indexes:
            # DynamoDB Local keeps one database per access key and region: the side request reuses the headers.
            side = {k: v for k, v in headers.items() if k.lower() != "x-amz-target"}
            side["X-Amz-Target"] = "DynamoDB_20120810.DescribeTable"
            _, data, _ = self._upstream(json.dumps({"TableName": table}).encode(), side)
            self._indexes[table] = index_shapes(json.loads(data)["Table"])
        return self._indexes[table]

    def _upstream(self, body: bytes, headers: dict[str, str], path: str = "/") -> tuple[int, bytes, dict[str, Any]]:
        """Send one request to DynamoDB Local: (status, body, headers) of its answer."""
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            upstream.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
            response = upstream.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            upstream.close()

    def _take_throttle(self, operation: str) -> bool:
        with self._lock:
            left = self._throttle.get(operation, 0)
            if left:
                self._throttle[operation] = left - 1
            return bool(left)

    def start(self) -> DynamoDBProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
                with proxy._lock:
                    proxy.operations[operation] += 1
                if proxy._take_throttle(operation):
                    self._answer(400, json.dumps(THROTTLED).encode(), {"Content-Type": "application/x-amz-json-1.0"})
                    return
                if operation in WRITES:
                    hold, drop = proxy._on_write()
                    if hold is not None:
                        hold.reached.set()
                        hold.released.wait(60)
                    if drop:
                        # Like a process killed mid-request: the connection closes with no answer at all.
                        self.close_connection = True
                        return
                body, request = proxy._metered_request(operation, body)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                status, data, answer_headers = proxy._upstream(body, headers, self.path)
                if request is not None:
                    proxy._record_units(operation, request, status, data, headers)
                self._answer(status, data, answer_headers)

            def _answer(self, status: int, data: bytes, headers: dict[str, Any]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        # (server_close() also closes kept-alive connections: a pool must not reach a stopped proxy later)
        self._server = KeepAliveServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass(frozen=True)
class IndexShape:
    """What a global secondary index holds of an item: its key attributes and projection."""

    keys: frozenset[str]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    table_keys: frozenset[str]
    included: frozenset[str] = frozenset()

    def projected(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """The item as this index stores it, or None if the item lacks the index's keys (then it is not indexed)."""
        if not self.keys <= item.keys():
            return None
        if self.projection == "ALL":
            return item
        wanted = self.keys | self.table_keys | (self.included if self.projection == "INCLUDE" else frozenset())
        return {k: v for k, v in item.items() if k in wanted}


def index_shapes(table: dict[str, Any]) -> list[IndexShape]:
    """The global secondary indexes of a DescribeTable answer's ``Table``."""
    table_keys = frozenset(k["AttributeName"] for k in table["KeySchema"])
    return [
        IndexShape(
            keys=frozenset(k["AttributeName"] for k in index["KeySchema"]),
            projection=index["Projection"]["ProjectionType"],
            table_keys=table_keys,
            included=frozenset(index["Projection"].get("NonKeyAttributes", [])),
        )
        for index in table.get("GlobalSecondaryIndexes", [])
    ]


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: each attribute's name (UTF-8) plus its value."""
    return sum(len(name.encode()) + value_bytes(value) for name, value in item.items())


def value_bytes(value: dict[str, Any]) -> int:
    """One attribute value's size (wire JSON, e.g. {"S": "abc"}) by AWS's item size rules."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_bytes(v)
    if kind == "B":
        return len(base64.b64decode(v))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_number_bytes(n) for n in v)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in v)
    if kind == "L":  # 3 bytes of overhead, 1 per element
        return 3 + sum(1 + value_bytes(e) for e in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_bytes(e) for k, e in v.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def _number_bytes(text: str) -> int:
    # About 1 byte per two significant digits, plus 1.
    digits = text.lstrip("-").split("e")[0].split("E")[0].replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def transact_write_units(request: dict[str, Any], indexes_of: Callable[[str], list[IndexShape]]) -> float:
    """Write units of one TransactWriteItems by AWS's rule: 2 per KB (rounded up) of each action, per index too.

    A Put is sized from its new image (an item it replaces may be larger: AWS bills the larger of the two);
    an Update, Delete or ConditionCheck is not sized here (its stored image is not in the request) and counts as
    one KB in the table alone.
    """
    units = 0.0
    for action in request.get("TransactItems", []):
        put = action.get("Put")
        if put is None:
            units += 2
            continue
        item = put["Item"]
        sizes = [item_bytes(item)] + [
            item_bytes(projected)
            for index in indexes_of(put["TableName"])
            if (projected := index.projected(item)) is not None
        ]
        units += sum(2 * max(1, math.ceil(size / 1024)) for size in sizes)
    return units


class Hold:
    """One held write request: ``reached`` is set when it arrives; it goes on after ``release()``."""

    def __init__(self, skip: int) -> None:
        self.skip = skip
        self.reached = threading.Event()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()
