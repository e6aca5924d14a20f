"""A listing read from one page layout: the part every layout plugin writes alike.

A layout plugin says where each :class:`~onionlab.items.Listing` field stands on its pages
(a function from the field's name to the page's text for it); :func:`layout_listing` reads
the text fields as they are (``None`` when empty) and the quantities as numbers. Like every
plugin it uses only the public plugin API (``onionlab.items``, ``onionlab.parsing``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onionlab.items import Listing
from onionlab.parsing import number

TEXT_FIELDS = ("vendor", "category", "substance", "ships_from")
"""The listing fields a page gives as text."""
NUMBER_FIELDS = ("weight_g", "price_usd", "price_btc")
"""The listing fields a page gives as numbers (read with :func:`onionlab.parsing.number`)."""


def layout_listing(
    *,
    site: str,
    listing_id: str,
    url: str,
    title: str,
    field: Callable[[str], str],
    extra: dict[str, Any] | None = None,
) -> Listing:
    """The listing whose :data:`TEXT_FIELDS` and :data:`NUMBER_FIELDS` are ``field(name)``."""
    return Listing(
        site=site,
        listing_id=listing_id,
        url=url,
        title=title,
        **{name: field(name) or None for name in TEXT_FIELDS},
        **{name: number(field(name)) for name in NUMBER_FIELDS},
        extra=extra or {},
    )
