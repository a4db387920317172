"""The redis-server child that serve and the tests start."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from scripts.redis_server import RedisServer, free_port

PARENT = """
import sys, time
from scripts.redis_server import RedisServer
server = RedisServer(port=int(sys.argv[1]), data_dir=sys.argv[2]).__enter__()
print("up", flush=True)
time.sleep(60)
"""


def test_server_answers_and_stops_with_the_context() -> None:
    with RedisServer() as server:
        process = server.process
        client = redis.Redis(host=server.host, port=server.port)
        assert client.ping() is True
    assert process is not None and process.poll() is not None


def test_server_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    """The killed parent cleans nothing up, so its server's directory is pytest's tmp_path."""
    port = free_port()
    argv = [sys.executable, "-c", PARENT, str(port), str(tmp_path)]
    parent = subprocess.Popen(argv, stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == b"up"
        assert (tmp_path / "redis.log").exists()  # not a temporary directory left behind
        client = redis.Redis(port=port, socket_connect_timeout=1)
        assert client.ping() is True
        os.kill(parent.pid, signal.SIGKILL)  # no teardown runs: only the death signal is left
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
            except redis.ConnectionError:
                return
            time.sleep(0.1)
        raise AssertionError(f"redis-server on port {port} outlived its killed parent")
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_port_left_in_time_wait_counts_as_free_one_listened_on_does_not() -> None:
    import socket

    from scripts.redis_server import port_is_free

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert not port_is_free(port)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end waits in TIME-WAIT
    server.close()
    client.close()
    assert port_is_free(port)  # a restarted server (SO_REUSEADDR) could listen here again
