"""Site kind ``market``: a Western multi-vendor market, and its phishing clone.

Home, paginated category indexes, listing pages and vendor pages. Vendors are drawn from
the shared identity pool, so the same person keeps key and wallets across sites. A clone
(``spec.clone_of``) copies the original's catalogue and look but has a look-alike onion,
other keys and other wallets.

Modules: ``paths`` (``MarketLayout``, the URL scheme shared by the site
``onionlab.lab.sites.market`` and the truth), ``build`` and ``truth``.
Depends on ``onionlab.lab.world``.
"""

from onionlab.lab.world.kinds.market.build import build
from onionlab.lab.world.kinds.market.paths import LAYOUT, PROTECTED_PREFIXES, MarketLayout
from onionlab.lab.world.kinds.market.truth import (
    decoys,
    occurrences,
    pages,
    truth_listings,
    truth_vendors,
)

__all__ = [
    "LAYOUT",
    "PROTECTED_PREFIXES",
    "MarketLayout",
    "build",
    "decoys",
    "occurrences",
    "pages",
    "truth_listings",
    "truth_vendors",
]
