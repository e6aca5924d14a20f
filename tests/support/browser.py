"""Debian's Chromium, headless, for tests that look at a page as a person does.

Every run gets its own profile folder and flags that keep the browser on loopback: no
background networking, no component updates, sync, metrics or crash reports, and every
host name but 127.0.0.1 made unresolvable (``--host-resolver-rules``), so a page's link to
the outside world cannot reach it. ``bin/test`` installs the browser. Test code only.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-domain-reliability",
    "--disable-breakpad", "--metrics-recording-only", "--disable-client-side-phishing-detection",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)  # fmt: skip


def chromium() -> str:
    """The browser's path; AssertionError (not a skip) when bin/test did not install it."""
    path = shutil.which("chromium")
    assert path, "Debian's chromium is missing: bin/test installs it (apt-get install chromium)"
    return path


def run(url: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Chromium on ``url`` with ``args`` (``--dump-dom``, ``--screenshot=…``)."""
    assert url.startswith(("http://127.0.0.1:", "file:///")), url  # loopback or a file
    with tempfile.TemporaryDirectory(prefix="onionlab-chromium-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip


def dump_dom(url: str) -> str:
    """The page's DOM after it loaded and ran its scripts, as HTML."""
    done = run(url, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(url: str, path: Path, size: str = "1280,900") -> Path:
    """A PNG of the page as the browser drew it, once its scripts had 10 s of virtual time."""
    done = run(url, f"--window-size={size}", "--virtual-time-budget=10000", f"--screenshot={path}")
    assert done.returncode == 0 and path.is_file(), done.stderr[-2000:]
    return path


def console_and_dom(url: str, budget_ms: int = 10_000) -> tuple[list[str], str]:
    """The page's console messages (Chromium logs them as ``CONSOLE`` lines) and its DOM
    after ``budget_ms`` of virtual time (its scripts have run)."""
    done = run(url, "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}",
               "--dump-dom")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if "CONSOLE" in line], done.stdout
