"""A Twisted name resolver that refuses every lookup: names are resolved by Tor, never here.

Installed through Scrapy's ``TWISTED_DNS_RESOLVER``; it guards the Twisted stack only (the
download handler never asks for a lookup in the first place).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.base import ReactorBase


@implementer(IResolverSimple)
class RefuseAllResolver:
    """Fails every ``getHostByName`` so that no local DNS query can ever be made."""

    def __init__(self, reactor: ReactorBase) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> RefuseAllResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        return defer.fail(
            DNSLookupError(f"local name lookup of {name!r} refused: names are resolved by Tor")
        )
