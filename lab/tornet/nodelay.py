"""The lab's tor processes without Nagle's algorithm: ``nodelay.c`` built and preloaded.

tor never sets ``TCP_NODELAY``. Between the lab's few relays on 127.0.0.1 that made every
page wait for delayed acknowledgements (up to 40 ms each, several per page): 50-130 ms a
page where the relays answer in about 10 ms, and how long depended on how a client timed
its requests, not on the lab (Scrapy alone got 255 pages/s, and 335 with a second client
adding traffic beside it). :func:`build_preload` compiles ``nodelay.c`` (60 lines of C, next to
this module) with the machine's C compiler into the lab's directory; the tor launcher
preloads it (``LD_PRELOAD``) into Debian's tor, which then sets ``TCP_NODELAY`` on every
TCP socket it connects or accepts, and nothing else. Without a C compiler the lab runs as
before and says so. The latency a page takes is then the lab's own setting (the site
server's ``--latency``), the same for every client. Standard library only.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("nodelay.c")
COMPILERS = ("cc", "gcc", "clang")
BUILD_TIMEOUT = 60.0  # seconds


class PreloadUnavailable(RuntimeError):
    """The shim could not be built here (no C compiler, or it failed): the reason."""


def build_preload(directory: Path) -> Path:
    """Compile ``nodelay.c`` into ``directory/nodelay.so`` and return its path.

    Raises :class:`PreloadUnavailable` with the reason when no C compiler is found or the
    build fails; the caller runs tor without it.
    """
    compiler = next((found for name in COMPILERS if (found := shutil.which(name))), None)
    if compiler is None:
        raise PreloadUnavailable(
            "no C compiler (cc, gcc or clang) to build the lab's TCP_NODELAY shim "
            "(`sudo apt-get install gcc` adds one)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "nodelay.so"
    command = [compiler, "-shared", "-fPIC", "-O2", "-o", str(target), str(SOURCE), "-ldl"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PreloadUnavailable(f"building the TCP_NODELAY shim failed: {exc}") from None
    if done.returncode != 0 or not target.is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PreloadUnavailable(f"building the TCP_NODELAY shim failed: {detail[0]}")
    return target
