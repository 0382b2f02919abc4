"""The assistant starts its own engine when none runs, and stops it on SIGTERM."""

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.settings import ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.engine


def read_until(process: subprocess.Popen[bytes], marker: str, timeout: float) -> str:
    assert process.stdout is not None
    seen, deadline = b"", time.monotonic() + timeout
    while marker.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


def test_sigterm_stops_the_console_and_the_engine_it_started(engine_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, **engine_env, "ENGINE_URL": f"http://127.0.0.1:{port}", "ENGINE_AUTOSTART": "true",
           "STATE_DIR": str(tmp_path), "ENGINE_DATABASE_URL": f"sqlite:///{tmp_path / 'engine.db'}"}
    process = subprocess.Popen([sys.executable, "-m", "bot", "console"], cwd=ROOT, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert "1) Rights" in read_until(process, "5) Language", timeout=240)
        assert (tmp_path / "engine.pid").exists()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not (tmp_path / "engine.pid").exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
