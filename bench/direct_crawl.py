"""The baseline for the Tor-vs-direct benchmark: the same crawl with Tor taken out.

Runs ``onionlab crawl`` with Scrapy's own HTTP/1.1 handler instead of the Tor handler and
non-onion hosts allowed, so that it can fetch ``http://127.0.0.1:PORT/`` straight from the
site's loopback port. For benchmarks only; never a way to crawl.
"""

from __future__ import annotations

import sys


def main() -> None:
    from onionlab.crawler import addon

    original = addon.OnionlabAddon.update_settings

    def without_tor(self: addon.OnionlabAddon, settings: object) -> None:
        original(self, settings)  # type: ignore[arg-type]
        default = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
        settings.set("DOWNLOAD_HANDLERS", {"http": default}, 200)  # type: ignore[attr-defined]
        settings.set(  # type: ignore[attr-defined]
            "TWISTED_DNS_RESOLVER", "scrapy.resolver.CachingThreadedResolver", 200
        )

    addon.OnionlabAddon.update_settings = without_tor  # type: ignore[method-assign]
    from onionlab.crawler.commands import main as onionlab

    sys.argv = ["onionlab", "crawl", *sys.argv[1:]]
    onionlab()


if __name__ == "__main__":
    main()
