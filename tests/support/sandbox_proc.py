"""The sandbox in its own process (``smsdesk sandbox``), for tests that kill the sender: it
outlives the kill and keeps its record of every message it accepted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def standalone_sandbox(key: str, *knobs: str, webhook_secret: str = "s") -> Iterator[str]:
    """Start ``smsdesk sandbox`` with ``--set`` ``knobs``; yields its URL once it answers."""
    port = free_port()
    env = {**os.environ, "SMSDESK_SANDBOX_API_KEY": key, "SMSDESK_SANDBOX_WEBHOOK_SECRET": webhook_secret}
    args = [sys.executable, "-m", "smsdesk", "sandbox", "--port", str(port)]
    for knob in knobs:
        args += ["--set", knob]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "sandbox did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:  # a graceful stop waits for answers still pending
            proc.kill()
            proc.wait(10)
