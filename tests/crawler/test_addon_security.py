"""The add-on's locked settings: only http/https through Tor, no code-running consoles.

Issue #10 (defect 11): Scrapy 2.19 enables its RemoteControl extension (an HTTP server on
localhost that executes posted Python code) and its ``data:`` handler by default; a crawl
must have neither, whatever the user's settings say.
"""

from __future__ import annotations

import pytest
from scrapy.core.downloader.handlers import DownloadHandlers
from scrapy.settings import default_settings
from scrapy.utils.test import get_crawler

from onionlab.crawler.addon import TOR_HANDLER
from onionlab.crawler.spiders.onion import OnionSpider

HOSTILE_USER_SETTINGS = {
    "REMOTE_CONTROL_ENABLED": True,
    "TELNETCONSOLE_ENABLED": True,
    "DOWNLOAD_HANDLERS": {"data": "scrapy.core.downloader.handlers.datauri.DataURIDownloadHandler"},
    "EXTENSIONS": {"scrapy.extensions.remote_control.RemoteControl": 0},
}


def _crawler(user: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    settings = {"ADDONS": {"onionlab.crawler.addon.OnionlabAddon": 0}, "TOR_SOCKS": "127.0.0.1:9"}
    return get_crawler(OnionSpider, settings_dict={**settings, **(user or {})})


@pytest.mark.parametrize("user", [None, HOSTILE_USER_SETTINGS], ids=["defaults", "user-on"])
def test_remote_control_and_telnet_are_off(user: dict[str, object] | None) -> None:
    crawler = _crawler(user)
    assert crawler.settings.getbool("REMOTE_CONTROL_ENABLED") is False
    assert crawler.settings.getbool("TELNETCONSOLE_ENABLED") is False
    enabled = [type(ext).__name__ for ext in crawler.extensions.middlewares]
    assert "RemoteControl" not in enabled and "TelnetConsole" not in enabled


@pytest.mark.parametrize("user", [None, HOSTILE_USER_SETTINGS], ids=["defaults", "user-on"])
def test_only_http_and_https_have_a_handler(user: dict[str, object] | None) -> None:
    crawler = _crawler(user)
    handlers = crawler.settings.getwithbase("DOWNLOAD_HANDLERS")
    enabled = {scheme for scheme, path in handlers.items() if path}
    assert enabled == {"http", "https"}
    assert {handlers["http"], handlers["https"]} == {TOR_HANDLER}
    assert set(default_settings.DOWNLOAD_HANDLERS_BASE) - {"http", "https"} >= {"data", "file"}
    schemes = DownloadHandlers(crawler)._schemes  # what Scrapy will actually load
    assert set(schemes) == {"http", "https"}


def test_a_crawl_never_imports_the_remote_control_console() -> None:
    """Scrapy imports every extension it lists, switched off or not: RemoteControl brought
    aiohttp's HTTP server into every crawl (0.2 s of its start)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tests.crawler.test_addon_security import _crawler\n"
        "_crawler()\n"
        "names = ('aiohttp', 'scrapy.extensions.remote_control')\n"
        "print(sorted(m for m in sys.modules if m.startswith(names)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.strip() == "[]"
