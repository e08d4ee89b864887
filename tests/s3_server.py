"""An S3-compatible server (moto) on 127.0.0.1 for a test module, and an environment for it.

The server runs in a child process; it stops when the tests close its stdin,
or by itself after ``lifetime`` seconds. Code under test reaches it through
s3fs exactly as it would reach S3: the endpoint and credentials come from the
standard AWS environment variables that `s3_environment` sets.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["moto_server", "s3_environment"]

SERVER = """
    import sys, threading
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
    closed.wait(float(sys.argv[1]))  # the tests closed stdin (or died), or time is up
    server.stop()
"""


@contextlib.contextmanager
def moto_server(lifetime: float = 300) -> Iterator[str]:
    """Run a moto S3 server on 127.0.0.1 for the block; yields its URL."""
    pytest.importorskip("moto", reason="the S3 tests need the dev extra (moto[server])")
    pytest.importorskip("s3fs", reason="the S3 tests need the s3 extra (fsspec, s3fs)")
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SERVER), str(lifetime)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()


@contextlib.contextmanager
def s3_environment(endpoint: str, scratch: Path) -> Iterator[None]:
    """Point s3fs (and flowtape's object stores) at ``endpoint`` for the block, with test
    credentials and no AWS configuration file of the machine; caches go under ``scratch``."""
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": str(scratch / "no-aws-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-aws-credentials"),
           "FLOWTAPE_CACHE_DIR": str(scratch / "cache")}
    import fsspec

    # fsspec keeps file system instances by their arguments, not the environment: one made
    # for another server (an earlier test) would still point there.
    s3 = fsspec.get_filesystem_class("s3")
    s3.clear_instance_cache()
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            yield
    finally:
        s3.clear_instance_cache()
