"""The lab plan: which onion services the world has, of which kind, in build order.

Order matters only where a service refers to others: the phishing clone follows the market
it imitates, and the link directory comes last because it lists every service. Each
service's onion address depends only on the seed and its name, so adding a service never
moves the others. An ``optional`` service is built only on request (``build_world(...,
hostile=True)``). Depends on ``onionlab.lab.world.context``.
"""

from __future__ import annotations

from onionlab.lab.world.context import ServiceSpec

PLAN: tuple[ServiceSpec, ...] = (
    ServiceSpec("market", "market"),  # Western multi-vendor market
    ServiceSpec("bazaar", "bazaar", mirrors=1),  # a second Western market, with a mirror
    ServiceSpec("market-clone", "market", clone_of="market"),  # phishing clone of `market`
    ServiceSpec("shop-ru", "ru_platform"),  # Russian-language automated shop platform
    ServiceSpec("vendor-a", "vendor_shop_a"),  # single-vendor shop
    ServiceSpec("vendor-b", "vendor_shop_b"),  # single-vendor shop
    ServiceSpec("forum", "forum"),  # vendor threads, signed announcements, scam reports
    ServiceSpec("paste", "paste"),  # paste site
    ServiceSpec("directory", "directory"),  # link directory: every service, up/down
    # A malicious site, only with the lab profile's ``hostile`` switch on. After the
    # directory (which does not list it): the other services and their truth stay the same.
    ServiceSpec("abyss", "hostile", optional=True),
)
