"""EndGame-style queue: a "Please Wait" page with a meta refresh until the ticket is old enough.

A first request without a queue ticket gets a 200 wait page and a signed ``eg_queue``
cookie (it also carries the new visitor id); coming back before ``queue_wait`` seconds
gives the wait page again; afterwards (or with a valid CAPTCHA pass) the request goes on.
No JavaScript: ``<meta http-equiv="refresh" content="N;url=…">``. Depends on aiohttp and
``.common``.
"""

from __future__ import annotations

import math

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from onionlab.lab.sites.obstacles.common import (
    QUEUE_COOKIE,
    Front,
    esc,
    html_response,
    new_visitor,
    page,
    set_cookie,
)


def wait_page(front: Front, seconds: int, target: str) -> bytes:
    return page(
        f"{front.site} - Please Wait",
        '<div class="queue-box"><h1>Please Wait</h1>'
        '<p class="queue-notice">You are in the queue. This page reloads in '
        f'<span class="queue-seconds">{seconds}</span> seconds; do not refresh it.</p></div>',
        head=f'<meta http-equiv="refresh" content="{seconds};url={esc(target)}">',
    )


def make_queue(front: Front) -> Middleware:
    """The queue middleware (``profile.queue_wait`` seconds)."""
    wait = front.profile.queue_wait

    @web.middleware
    async def queue(request: web.Request, handler: Handler) -> web.StreamResponse:
        if front.passed(request) is not None:
            return await handler(request)
        now = front.clock()
        ticket = front.signer.unsign(request.cookies.get(QUEUE_COOKIE))
        target = request.path_qs if request.method == "GET" else "/"
        if ticket is None:
            visitor = front.visitor(request)
            if visitor == "anon":
                visitor = new_visitor()
            response = html_response(wait_page(front, math.ceil(wait), target))
            set_cookie(response, QUEUE_COOKIE, front.signer.sign(visitor, now))
            return response
        remaining = wait - (now - ticket[1])
        if remaining > 0:
            return html_response(wait_page(front, max(1, math.ceil(remaining)), target))
        return await handler(request)

    return queue
