"""The redis-server child that serve and the tests start."""

import os
import signal
import subprocess
import sys
import time

import redis

from worker.redis_server import RedisServer, free_port

PARENT = """
import sys, time
from worker.redis_server import RedisServer
server = RedisServer(port=int(sys.argv[1])).__enter__()
print("up", flush=True)
time.sleep(60)
"""


def test_server_answers_and_stops_with_the_context() -> None:
    with RedisServer() as server:
        process = server.process
        client = redis.Redis(host=server.host, port=server.port)
        assert client.ping() is True
    assert process is not None and process.poll() is not None


def test_server_dies_when_its_parent_is_killed() -> None:
    port = free_port()
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(port)], stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == b"up"
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
