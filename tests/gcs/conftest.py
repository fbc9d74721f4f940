"""A real GCS emulator (``gcp-storage-emulator``) for the session, on a free 127.0.0.1 port.

Started in a subprocess once, stopped at the end. ``STORAGE_EMULATOR_HOST`` points
google-cloud-storage (and Beam's GCS IO) at it for this process and every child it starts, which
then talk to it anonymously; no credential exists anywhere in these tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

EMULATOR = Path(sys.executable).parent / "gcp-storage-emulator"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a running emulator; ``STORAGE_EMULATOR_HOST`` set to it."""
    port = _free_port()
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(EMULATOR), "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the GCS emulator did not start: {log.read_text()}") from None
            time.sleep(0.1)
    host = f"http://127.0.0.1:{port}"
    before = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = host
    try:
        yield host
    finally:
        if before is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = before
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def bucket(emulator: str) -> str:
    """``gs://<fresh bucket>``, created in the emulator for one test."""
    from google.cloud import storage

    name = f"test-{uuid.uuid4().hex[:12]}"
    storage.Client(project="test").create_bucket(name)
    return f"gs://{name}"
