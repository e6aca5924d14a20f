"""The aiohttp application every lab site uses: pre-rendered pages, one dict lookup each.

A site renders all its pages when the app is created (fast, deterministic) and hands them
here with its branded 404 page, its response headers (sites differ, as real ones do) and
the paths its login wall protects. Depends on aiohttp and ``onionlab.lab.sites.obstacles``.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from onionlab.lab.sites.obstacles import PROTECTED_KEY

PAGES_KEY: web.AppKey[dict[str, tuple[bytes, str]]] = web.AppKey("onionlab_pages", dict)
HTML = "text/html"


def prerendered_app(
    pages: Mapping[str, bytes | tuple[bytes, str]],
    not_found: bytes,
    *,
    headers: Mapping[str, str],
    protected: tuple[str, ...] = (),
) -> web.Application:
    """Serve ``pages`` (``"/path?query"`` → HTML bytes, or ``(bytes, content type)``).

    Any other path gets ``not_found`` with status 404. GET (and HEAD) only; a site that
    takes a form adds its own POST route to the returned application.
    """
    table = {
        path: (page, HTML) if isinstance(page, bytes) else page for path, page in pages.items()
    }
    fixed_headers = dict(headers)

    async def handle(request: web.Request) -> web.Response:
        body, content_type = table.get(request.path_qs, (not_found, HTML))
        return web.Response(
            status=200 if request.path_qs in table else 404,
            body=body,
            content_type=content_type,
            charset="utf-8",
            headers=fixed_headers,
        )

    app = web.Application()
    app[PAGES_KEY] = table
    app[PROTECTED_KEY] = protected
    app.router.add_get("/{tail:.*}", handle)
    return app


def html_response(body: bytes, headers: Mapping[str, str], status: int = 200) -> web.Response:
    """An HTML response with the site's headers (for a site's own extra routes)."""
    return web.Response(
        status=status, body=body, content_type=HTML, charset="utf-8", headers=dict(headers)
    )
