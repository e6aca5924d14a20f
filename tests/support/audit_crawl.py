"""Runs the ``onionlab`` CLI under an audit hook installed before Scrapy is imported.

Usage: ``python -m tests.support.audit_crawl LOGFILE [--direct-control] -- ARGS...``.
Every name lookup (``socket.getaddrinfo``/``gethostbyname*`` of anything that is not an IP
literal) and every ``socket.connect`` in any thread is recorded to LOGFILE as JSON. Name
lookups and connects to non-loopback addresses are also *blocked* (the hook raises), so
that even the positive control cannot send a packet off this machine.

``--direct-control`` is the positive control: it swaps the Tor handler and the refusing
resolver for Scrapy's defaults, the way a careless crawler would run, so that the test can
show it catches direct requests.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import sys

LOOKUP_EVENTS = {
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "socket.gethostbyaddr",
}
records: dict[str, list] = {"lookups": [], "connects": []}


def _is_ip(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    try:
        ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return True


def _hook(event: str, args: tuple) -> None:
    if event in LOOKUP_EVENTS:
        host = args[0]
        if host is None or _is_ip(host):
            return
        name = host.decode() if isinstance(host, bytes) else str(host)
        records["lookups"].append(name)
        raise OSError(f"audit: local name lookup of {name!r} blocked")
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2:
            records["connects"].append([str(address[0]), int(address[1])])
            if _is_ip(address[0]) and not ipaddress.ip_address(str(address[0])).is_loopback:
                raise OSError(f"audit: connect to {address[0]} blocked")


def main() -> None:
    log_path = sys.argv[1]
    rest = sys.argv[2:]
    control = "--direct-control" in rest
    if control:
        rest.remove("--direct-control")
    if rest and rest[0] == "--":
        rest = rest[1:]

    def dump() -> None:
        with open(log_path, "w") as handle:
            json.dump(records, handle)

    atexit.register(dump)
    sys.addaudithook(_hook)

    if control:
        from onionlab.crawler import addon

        original = addon.OnionlabAddon.update_settings

        def careless(self: object, settings: object) -> None:
            original(self, settings)  # type: ignore[arg-type]
            default = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
            settings.set(  # type: ignore[attr-defined]
                "DOWNLOAD_HANDLERS", {"http": default, "https": default}, 200
            )
            settings.set(  # type: ignore[attr-defined]
                "TWISTED_DNS_RESOLVER", "scrapy.resolver.CachingThreadedResolver", 200
            )

        addon.OnionlabAddon.update_settings = careless  # type: ignore[method-assign]

    from onionlab.crawler.commands import main as onionlab

    sys.argv = ["onionlab", *rest]
    onionlab()


if __name__ == "__main__":
    main()
