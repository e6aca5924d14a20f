"""HTML of the Russian-language shop platform: server-rendered, Russian, no JavaScript.

``render_pages(world, service)`` returns ``{"/path?query": html_bytes}`` for every page of
``onionlab.lab.world.kinds.ru_platform.pages`` (plus the ``?page=1`` alias of each shop's reviews)
and the branded 404 page. The chrome is in ``frame``, the platform's own pages in
``platform_pages`` and each shop's in ``shop_pages``. Contacts are plain text (no external
links): every link is root-relative.
Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

from onionlab.lab.sites.ru_platform.frame import L, fasovka, stars
from onionlab.lab.sites.ru_platform.platform_pages import PlatformPages
from onionlab.lab.sites.ru_platform.shop_pages import ShopPages
from onionlab.lab.world.kinds.ru_platform import fmt_amount
from onionlab.lab.world.model import Service, World


class _Renderer(PlatformPages, ShopPages):
    """Every page of one platform service."""


def render_pages(world: World, service: Service) -> tuple[dict[str, bytes], bytes]:
    """Render every page of ``service``: ``({path_qs: html}, not_found_html)``."""
    r = _Renderer(world, service)
    out: dict[str, bytes] = {}
    for page in L.pages(service):
        kind, key = page.kind, page.key
        if kind == "home":
            out[page.path] = r.home()
        elif kind == "balance":
            out[page.path] = r.balance()
        elif kind == "exchange":
            out[page.path] = r.exchange()
        elif kind == "rules":
            out[page.path] = r.rules()
        elif kind == "jobs-index":
            out[page.path] = r.jobs_index()
        elif kind == "city":
            out[page.path] = r.city(r.cities[key])
        elif kind == "shop":
            out[page.path] = r.shop(r.shops[key])
        elif kind == "shop-city":
            shop, city = key.split("/")
            out[page.path] = r.shop_city(r.shops[shop], city)
        elif kind == "district":
            shop, city, district = key.split("/")
            out[page.path] = r.district(r.shops[shop], city, district)
        elif kind == "reviews":
            out[page.path] = r.reviews(r.shops[key], page.number)
            if page.number == 1:
                out[L.reviews_path(key) + "?page=1"] = out[page.path]
        elif kind == "jobs":
            out[page.path] = r.jobs(r.shops[key])
        elif kind == "product":
            out[page.path] = r.product(r.products[key])
        else:  # pragma: no cover - a page kind without a renderer is a bug
            raise ValueError(f"no renderer for page kind {kind!r}")
    return out, r.not_found()


__all__ = ["fasovka", "fmt_amount", "render_pages", "stars"]
