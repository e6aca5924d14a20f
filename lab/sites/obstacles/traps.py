"""Link traps, injected into every HTML page a site serves (in a footer before ``</body>``).

- an infinite events calendar: ``/calendar/YYYY/MM``, each month linking to the previous
  and the next one (years 1-9999), served here, deterministic;
- sort/filter permutations: the current page with ``?sort=…&order=…&filter=…``;
- session ids in URLs: the current page and the home page with ``?sid=<new per render>``;
- a ``/logout`` link (the login wall serves it: it ends the session);
- a hidden honeypot link (``style="display:none"``) that bans the visitor for
  ``honeypot_ban`` seconds (403 on every request).

The ``sort``/``order``/``filter``/``sid`` query parameters are removed before the site sees
the request, so those URLs serve the real page. Depends on aiohttp and ``.common``.
"""

from __future__ import annotations

import calendar
import random
import re
import secrets
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from onionlab.lab.sites.obstacles.common import Bounded, Front, esc, html_response, page

CALENDAR = re.compile(r"/calendar/(\d{4})/(\d{2})")
SORTS = ("price", "date", "rating", "name")
ORDERS = ("asc", "desc")
FILTERS = ("all", "escrow", "fe", "worldwide")
_HONEYPOT_PATHS = ("/staff/panel", "/support/escalate", "/mod/queue", "/wallet/sweep")
_HONEYPOT_TEXT = ("Staff panel", "Escalate ticket", "Moderation", "Sweep wallet")


def honeypot_path(seed: int, site: str) -> str:
    rng = random.Random(f"honeypot:{seed}:{site}")
    return f"{rng.choice(_HONEYPOT_PATHS)}-{rng.getrandbits(24):06x}"


def first_month(seed: int, site: str) -> tuple[int, int]:
    rng = random.Random(f"calendar:{seed}:{site}")
    return 2024 + rng.randrange(3), 1 + rng.randrange(12)


def _month_link(year: int, month: int, cls: str, rel: str) -> str:
    label = f"{calendar.month_name[month]} {year}"
    return f'<a class="{cls}" rel="{rel}" href="/calendar/{year:04d}/{month:02d}">{label}</a>'


def calendar_body(year: int, month: int) -> str:
    prev_ = (year, month - 1) if month > 1 else (year - 1, 12)
    next_ = (year, month + 1) if month < 12 else (year + 1, 1)
    nav = []
    if prev_[0] >= 1:
        nav.append(_month_link(*prev_, "cal-prev", "prev"))
    if next_[0] <= 9999:
        nav.append(_month_link(*next_, "cal-next", "next"))
    days = calendar.monthrange(year, month)[1]
    return (
        f'<div class="calendar"><h1 class="cal-title">Events &middot; '
        f"{calendar.month_name[month]} {year}</h1>"
        f"<p>{days} days, no events scheduled this month.</p>"
        f'<p class="cal-nav">{" | ".join(nav)}</p></div>'
    )


def make_traps(front: Front) -> tuple[Middleware, Middleware]:
    """The ban check (placed early) and the trap middleware (placed innermost)."""
    p = front.profile
    honeypot = honeypot_path(front.seed, front.site)
    honeypot_text = _HONEYPOT_TEXT[_HONEYPOT_PATHS.index(honeypot.rsplit("-", 1)[0])]
    cal_year, cal_month = first_month(front.seed, front.site)
    stripped = (("sort", "order", "filter") if p.trap_sort else ()) + (
        ("sid",) if p.trap_sid else ()
    )
    banned: Bounded[str, float] = Bounded(50_000)  # visitor → banned until

    def footer(request: web.Request) -> str:
        real = [(k, v) for k, v in request.query.items() if k not in stripped]
        here = request.path
        links = []
        if p.trap_calendar:
            links.append(
                f'<a class="events" href="/calendar/{cal_year:04d}/{cal_month:02d}">Events</a>'
            )
        if p.trap_sort:
            chosen = {
                "sort": request.query.get("sort", SORTS[0]),
                "order": request.query.get("order", ORDERS[0]),
                "filter": request.query.get("filter", FILTERS[0]),
            }
            for key, values in (("sort", SORTS), ("order", ORDERS), ("filter", FILTERS)):
                for value in values:
                    query = urlencode([*real, *(chosen | {key: value}).items()])
                    links.append(f'<a class="{key}" href="{esc(here)}?{esc(query)}">{value}</a>')
        if p.trap_sid:
            sid = secrets.token_hex(8)
            links.append(f'<a class="home" href="/?sid={sid}">Home</a>')
            query = urlencode([*real, ("sid", sid)])
            links.append(f'<a class="permalink" href="{esc(here)}?{esc(query)}">Permalink</a>')
        if p.trap_logout:
            links.append('<a class="logout" href="/logout">Logout</a>')
        if p.trap_honeypot:
            links.append(f'<a href="{honeypot}" style="display:none">{honeypot_text}</a>')
        return f'<footer class="site-footer"><nav>{" ".join(links)}</nav></footer>'

    def forbidden(seconds: float) -> web.Response:
        body = page(
            f"{front.site} - Access Denied",
            '<div class="banned-box"><h1>Access denied</h1>'
            '<p class="banned">Your session has been banned for suspicious activity. '
            f"Come back in {int(seconds) + 1} seconds.</p></div>",
        )
        return html_response(body, status=403, headers={"Retry-After": str(int(seconds) + 1)})

    @web.middleware
    async def ban_check(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = front.visitor(request)
        until = banned.get(key)
        if until is not None:
            remaining = until - front.clock()
            if remaining > 0:
                return forbidden(remaining)
            banned.pop(key)
        return await handler(request)

    @web.middleware
    async def traps(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if p.trap_honeypot and path == honeypot:
            banned.put(front.visitor(request), front.clock() + p.honeypot_ban)
            return forbidden(p.honeypot_ban)
        if p.trap_calendar and (m := CALENDAR.fullmatch(path)):
            year, month = int(m[1]), int(m[2])
            if 1 <= year <= 9999 and 1 <= month <= 12 and request.method in ("GET", "HEAD"):
                title = f"{front.site} - Events {calendar.month_name[month]} {year}"
                body = page(title, calendar_body(year, month) + footer(request))
                return html_response(body)
        original = request
        if stripped and any(k in request.query for k in stripped):
            kept = [(k, v) for k, v in request.query.items() if k not in stripped]
            request = request.clone(rel_url=request.rel_url.with_query(kept))
        response = await handler(request)
        if (
            p.trap_calendar or p.trap_sort or p.trap_sid or p.trap_logout or p.trap_honeypot
        ) and isinstance(response, web.Response):
            body = response.body
            if response.content_type == "text/html" and isinstance(body, bytes):
                at = body.rfind(b"</body>")
                if at >= 0:
                    response.body = body[:at] + footer(original).encode() + body[at:]
        return response

    return ban_check, traps
