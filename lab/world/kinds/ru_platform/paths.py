"""The platform's URL scheme (``RuLayout``): every page's path, shared by world and site.

The truth lists these pages and the site (``onionlab.lab.sites.ru_platform``) renders and
links them. ``PROTECTED_PREFIXES`` are the paths behind the lab's login wall.
Depends on ``onionlab.lab.world.layout`` and the platform's content.
"""

from __future__ import annotations

from onionlab.lab.world.kinds.ru_platform.content import REVIEWS_PER_PAGE, Platform, Product, Shop
from onionlab.lab.world.layout import Page
from onionlab.lab.world.model import Service
from onionlab.lab.world.records import page_count

PROTECTED_PREFIXES: tuple[str, ...] = ("/tovar/", "/rabota")


class RuLayout:
    """Paths of the platform; the site and the truth both build URLs from these."""

    @staticmethod
    def city_path(city: str) -> str:
        return f"/gorod/{city}"

    @staticmethod
    def shop_path(shop: str) -> str:
        return f"/magazin/{shop}"

    @staticmethod
    def shop_city_path(shop: str, city: str) -> str:
        return f"/magazin/{shop}/{city}"

    @staticmethod
    def district_path(shop: str, city: str, district: str) -> str:
        return f"/magazin/{shop}/{city}/{district}"

    @staticmethod
    def reviews_path(shop: str, number: int = 1) -> str:
        base = f"/magazin/{shop}/otzyvy"
        return base if number == 1 else f"{base}?page={number}"

    @staticmethod
    def product_path(listing_id: str) -> str:
        return f"/tovar/{listing_id}"

    @staticmethod
    def jobs_path(shop: str = "") -> str:
        return f"/rabota/{shop}" if shop else "/rabota"

    BALANCE = "/balans"
    EXCHANGE = "/obmen"
    RULES = "/pravila"

    @staticmethod
    def review_page_count(shop: Shop) -> int:
        return page_count(len(shop.reviews), REVIEWS_PER_PAGE)

    @staticmethod
    def shop_products(
        platform: Platform, shop: str, city: str = "", district: str = ""
    ) -> list[Product]:
        """Products in the order the site lists them (by substance, then price)."""
        chosen = [
            p
            for p in platform.products
            if p.shop == shop and (not city or p.city == city)
            and (not district or p.district == district)
        ]  # fmt: skip
        return sorted(chosen, key=lambda p: (p.title, int(p.price_local), p.listing_id))

    def pages(self, service: Service) -> list[Page]:
        plat: Platform = service.content
        pages = [
            Page("/", "home"),
            Page(self.BALANCE, "balance"),
            Page(self.EXCHANGE, "exchange"),
            Page(self.RULES, "rules"),
            Page(self.jobs_path(), "jobs-index"),
        ]
        pages += [Page(self.city_path(c.slug), "city", c.slug) for c in plat.cities]
        for shop in plat.shops:
            pages.append(Page(self.shop_path(shop.slug), "shop", shop.slug))
            for city in shop.cities:
                pages.append(
                    Page(self.shop_city_path(shop.slug, city), "shop-city", f"{shop.slug}/{city}")
                )
            for city, district in shop.districts:
                pages.append(
                    Page(
                        self.district_path(shop.slug, city, district),
                        "district",
                        f"{shop.slug}/{city}/{district}",
                    )
                )
            for n in range(1, self.review_page_count(shop) + 1):
                pages.append(Page(self.reviews_path(shop.slug, n), "reviews", shop.slug, n))
            pages.append(Page(self.jobs_path(shop.slug), "jobs", shop.slug))
        pages += [
            Page(self.product_path(p.listing_id), "product", p.listing_id) for p in plat.products
        ]
        return pages


LAYOUT = RuLayout()
