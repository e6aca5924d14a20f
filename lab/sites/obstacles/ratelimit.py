"""Rate limiting: a token bucket per visitor → ``429 Too Many Requests`` with ``Retry-After``.

Requests without a cookie share one bucket per site (the way every Tor user of an onion
service looks alike). Depends on aiohttp and ``.common``.
"""

from __future__ import annotations

import math

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from onionlab.lab.sites.obstacles.common import Bounded, Front, esc, html_response, page


def too_many_requests(front: Front, retry_after: float, message: str) -> web.Response:
    """The 429 page every obstacle uses; ``Retry-After`` is a whole number of seconds >= 1."""
    seconds = max(1, math.ceil(retry_after))
    body = page(
        f"{front.site} - Too Many Requests",
        '<div class="ratelimit-box"><h1>Slow down</h1>'
        f'<p class="rate-limit">{esc(message)} Retry after '
        f'<span class="retry-after">{seconds}</span> seconds.</p></div>',
    )
    return html_response(body, status=429, headers={"Retry-After": str(seconds)})


def make_rate_limit(front: Front) -> Middleware:
    """The token-bucket middleware (``profile.rate`` tokens/s, at most ``profile.burst``)."""
    rate, burst = front.profile.rate, float(front.profile.burst)
    buckets: Bounded[str, tuple[float, float]] = Bounded(50_000)  # visitor → (tokens, when)

    @web.middleware
    async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        key, now = front.visitor(request), front.clock()
        tokens, then = buckets.get(key) or (burst, now)
        tokens = min(burst, tokens + (now - then) * rate)
        if tokens < 1:
            buckets.put(key, (tokens, now))
            return too_many_requests(
                front, (1 - tokens) / rate, "You are sending requests too fast."
            )
        buckets.put(key, (tokens - 1, now))
        return await handler(request)

    return rate_limit
