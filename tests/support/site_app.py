"""Serve one lab site's aiohttp app in-process and fetch or crawl its pages (test-only).

``fetch_pages(world, service, paths)`` runs the service's app under aiohttp's
``TestServer`` (no Tor, no subprocess) and returns ``path -> (status, content type,
text)``; ``post_form`` sends one form. ``crawl(served)`` follows the links of the fetched
pages from ``/`` within the one host, checking every link on the way, and returns the set
of paths it reached, to compare with the truth pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

from aiohttp.test_utils import TestClient, TestServer

from onionlab.lab.sites.registry import make_app
from onionlab.lab.world.model import Service, World
from tests.support.html_extract import parse

Fetched = dict[str, tuple[int, str, str]]  # path -> (status, content type, text)
ABSOLUTE = ("http:", "https:", "//")


def fetch_pages(
    world: World, service: Service, paths: list[str], *, host: str | None = None
) -> Fetched:
    """GET every path from the service's app, with ``Host: host`` (the onion by default)."""

    async def run() -> Fetched:
        async with TestClient(TestServer(make_app(world, service))) as client:
            out: Fetched = {}
            for path in paths:
                resp = await client.get(path, headers={"Host": host or service.onion})
                out[path] = (resp.status, resp.headers.get("Content-Type", ""), await resp.text())
            return out

    return asyncio.run(run())


def post_form(world: World, service: Service, path: str, data: dict[str, str]) -> tuple[int, str]:
    """POST a form to the service's app: its status and text."""

    async def run() -> tuple[int, str]:
        async with TestClient(TestServer(make_app(world, service))) as client:
            resp = await client.post(path, data=data, headers={"Host": service.onion})
            return resp.status, await resp.text()

    return asyncio.run(run())


def crawl(
    served: Mapping[str, tuple[int, str, str]],
    *,
    external: Callable[[str], bool] | None = None,
    fragments: bool = True,
    root_relative: bool = True,
) -> set[str]:
    """The paths (with query) reached by following links from ``/`` on the served pages.

    Every page reached must answer 200 and every link must lead to a served page. Links
    are root-relative (``/…``), or merely relative with ``root_relative=False``; a link to
    another host fails unless ``external(href)`` accepts it (it is not followed). A
    ``#fragment`` is dropped, or fails with ``fragments=False``. Only HTML is parsed.
    """
    base = "http://site.invalid"
    seen, frontier = {"/"}, ["/"]
    while frontier:
        path = frontier.pop()
        status, ctype, text = served[path]
        assert status == 200, path
        if not ctype.startswith("text/html"):
            continue
        for href in parse(text).links:
            assert fragments or "#" not in href, (path, href)
            if href.split("#")[0].startswith(ABSOLUTE) and external is not None:
                assert external(href.split("#")[0]), (path, href)
                continue
            assert not href.startswith(ABSOLUTE), (path, href)
            assert href.startswith("/") or not root_relative, (path, href)
            target = urlsplit(urljoin(base + path, href))
            key = target.path + (f"?{target.query}" if target.query else "")
            assert key in served, f"{path} links to {key}, which is not a truth page"
            if key not in seen:
                seen.add(key)
                frontier.append(key)
    return seen
