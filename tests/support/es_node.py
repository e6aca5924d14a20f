"""A real Elasticsearch node for the tests, started and stopped with ``bin/elasticsearch``.

The node is the stack's version (``STACK_VERSION`` in ``.env.example``), Elastic's
integration-test distribution that ``bin/test`` fetches from Maven Central before pytest
runs (the tests themselves only talk to 127.0.0.1: the node is never downloaded here). It
listens on a free loopback port, with its data in a temporary directory. Test code only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import Elasticsearch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bin" / "elasticsearch"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_node(directory: Path, port: int | None = None) -> str:
    """Start a node with its files in ``directory``; its URL once it answers (yellow)."""
    env = {**os.environ, "ONIONLAB_ES_NO_FETCH": "1"}
    result = subprocess.run(
        ["bash", str(SCRIPT), "start", str(directory), str(port or free_port())],
        capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"the Elasticsearch node did not start:\n{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def stop_node(directory: Path) -> None:
    subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], timeout=60, check=False)


@dataclass(frozen=True)
class Node:
    directory: Path
    port: int
    url: str


@contextmanager
def running_node(prefix: str = "onionlab-es-") -> Iterator[Node]:
    """A node in a fresh folder (not under pytest's: as root the node runs as its own user,
    to whom that is closed), stopped and its folder removed at the end."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    directory.chmod(0o755)
    port = free_port()
    try:
        yield Node(directory, port, start_node(directory, port))
    finally:
        stop_node(directory)
        shutil.rmtree(directory, ignore_errors=True)


def wipe(client: Elasticsearch) -> None:
    """Nothing of onionlab's left on the node: indices (and their aliases), index and
    component templates."""
    # By name: Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name).
    names = list(client.indices.get(index="onionlab-*", expand_wildcards="all"))
    if names:
        client.indices.delete(index=",".join(names))
    found = client.options(ignore_status=404).indices.get_index_template(name="onionlab*")
    for template in found.get("index_templates", []):
        client.indices.delete_index_template(name=template["name"])
    found = client.options(ignore_status=404).cluster.get_component_template(name="onionlab*")
    for template in found.get("component_templates", []):
        client.cluster.delete_component_template(name=template["name"])
