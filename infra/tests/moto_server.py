"""moto server on a free loopback port, for the tests that need an AWS API DynamoDB Local does not
have (EventBridge, SQS, CloudFormation). From .local/moto (requirements-moto.txt, pinned)."""

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(change_set_outputs=False):
    """Starts moto server; returns (process, URL) once it answers. Stop it with `stop`.
    `change_set_outputs`: with stacks' outputs after a change set (moto_standin.py)."""
    port = free_port()
    # Its log (requests, and the tracebacks behind its HTTP 500s) in .local/run.
    log = ROOT / f".local/run/moto.{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if change_set_outputs:
        server = [str(ROOT / ".local/moto/bin/python"), str(Path(__file__).with_name("moto_standin.py"))]
    else:
        server = [str(ROOT / ".local/moto/bin/moto_server")]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*server, "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"moto server did not answer at {url}")


def stop(process):
    process.terminate()
    process.wait(timeout=10)
