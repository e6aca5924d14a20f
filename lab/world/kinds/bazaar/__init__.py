"""Site kind ``bazaar``: a second Western multi-vendor market with its own brand and URLs.

A card-grid market: home, paginated departments (``/c/<slug>/<n>``), items
(``/item/<id>``) with quantity tiers priced in USD and EUR with BTC and XMR equivalents,
stores (``/store/<handle>``) showing the vendor's PGP key, BTC/XMR wallets and contacts,
store feedback pages, a security page and a news page, plus the dark.fail-style signed
files ``/pgp.txt``, ``/mirrors.txt`` and ``/canary.txt`` (rendered by
``onionlab.lab.sites.signed_files``). Vendors come from the shared identity pool (many also
sell on ``market``). One mirror (``spec.mirrors``) serves the same site. Deterministic:
every choice comes from ``ctx.rng``/``ctx.secret``.

Modules: ``paths`` (the URL scheme, shared by the site ``onionlab.lab.sites.bazaar`` and
the truth), ``content`` (the model and its queries), ``words`` (``data/words.json``),
``build`` and ``truth``. This package re-exports what the site and the world use.
Depends on ``onionlab.lab.world`` only.
"""

from onionlab.lab.world.kinds.bazaar.build import build
from onionlab.lab.world.kinds.bazaar.content import (
    PER_PAGE,
    content_of,
    dept_listings,
    dept_page_count,
    store_listings,
)
from onionlab.lab.world.kinds.bazaar.paths import (
    CANARY_TXT,
    MIRRORS_TXT,
    NEWS_PATH,
    PGP_TXT,
    PROTECTED_PREFIXES,
    SECURITY_PATH,
    dept_path,
    item_path,
    reviews_path,
    store_path,
)
from onionlab.lab.world.kinds.bazaar.truth import (
    decoys,
    occurrences,
    pages,
    truth_listings,
    truth_vendors,
)

__all__ = [
    "CANARY_TXT",
    "MIRRORS_TXT",
    "NEWS_PATH",
    "PER_PAGE",
    "PGP_TXT",
    "PROTECTED_PREFIXES",
    "SECURITY_PATH",
    "build",
    "content_of",
    "decoys",
    "dept_listings",
    "dept_page_count",
    "dept_path",
    "item_path",
    "occurrences",
    "pages",
    "reviews_path",
    "store_listings",
    "store_path",
    "truth_listings",
    "truth_vendors",
]
