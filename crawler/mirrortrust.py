"""Which official mirrors of a site the crawl trusts: the site's key, its signed list, proofs.

Mirrors: ``ONIONLAB_MIRRORS`` may seed host → official addresses (e.g. from the lab's
``lab.json``: the instructor's own state, trusted as given). Beyond those, a site's own
``/mirrors.txt`` is believed only when it proves itself, because a hostile site can name
any other site as its "mirror" and then go dark (the crawl once sent 2,906 requests under a
hostile site's URLs to another lab site). The rules, checked by
:class:`onionlab.crawler.mirrors.SignatureChecker` (gpg):

1. **The site's key is pinned on first contact**: the key the site itself publishes at
   ``/pgp.txt`` (fetched when a mirror list needs it), or a fingerprint configured in
   ``ONIONLAB_SITE_KEYS`` (host → fingerprint), which then wins. The pin is kept in
   ``sites.json`` (``key_fingerprint``), so a resumed crawl refuses a site whose key changed.
2. **The list must be clearsigned by that key**, and name the address it was served from
   (a list copied from another site does not). Only the signed text is read.
3. **A mirror must prove the same identity**: its own ``/mirrors.txt``, fetched from the
   mirror, must be signed by the same key fingerprint and name the mirror. A list naming
   another, differently keyed (or unsigned) site is therefore refused: a key offered by the
   same hostile page proves nothing by itself, since a hostile site can sign its own list.
   One fetch per named mirror (at most 8), one attempt, 30 s; a mirror that cannot be
   reached then is not trusted this session (``unreachable_<kind>``).

An unsigned list is trusted only with ``ONIONLAB_TRUST_UNSIGNED_MIRRORS`` (default off);
a list with a signature that does not verify never is. Every refused list and every refused
mirror counts as ``onionlab/dropped/mirror_unverified`` (by reason in
``onionlab/mirrors/refused/<reason>``), is logged, and shows in ``sites.json``
(``mirror_list``: ``verified`` or why not; ``mirrors_refused``: address → reason).

:class:`MirrorTrust` is the part of :class:`onionlab.crawler.sitestate.LivenessRegistry` that
applies these rules (a mixin: it reads and writes the registry's host records). Depends on
Scrapy, :mod:`onionlab.crawler.mirrors`, :mod:`onionlab.crawler.failurekinds` and
:mod:`onionlab.crawler.tor.handler` (the ``onionlab_via`` meta key).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response

from onionlab.crawler import default_settings
from onionlab.crawler.failurekinds import failure_kind
from onionlab.crawler.mirrors import (
    KEY_PATH,
    MAX_SIGNED_FILE,
    MIRRORS_PATH,
    SignatureChecker,
    Verified,
    parse_mirror_list,
)
from onionlab.crawler.tor.handler import VIA

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

    from onionlab.crawler.sitestate import HostRecord

logger = logging.getLogger(__name__)

PROBE = "onionlab_mirror_probe"  # request meta: the registry's own fetch (key, mirror proof)
MAX_PROBES = 8  # mirrors checked per list; a list naming more is a flood, not a site
PROBE_TIMEOUT = 30  # seconds per proof fetch (one attempt, no retries)
UNVERIFIED = "onionlab/dropped/mirror_unverified"
Fetch = Callable[[Request], Awaitable[Response]]


def _with_path(url: str, path: str) -> str:
    """``url``'s scheme, host and port with another path (no query)."""
    parts = urlsplit(url)
    return parts._replace(path=path, query="", fragment="").geturl()


def response_text(response: Any) -> str:
    body = getattr(response, "body", b"") or b""
    return body[: MAX_SIGNED_FILE + 1].decode("utf-8", errors="replace")


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call (gpg) in Twisted's thread pool, off the crawl's event loop."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet.threads import deferToThread

    return await maybe_deferred_to_future(deferToThread(function, *args))


class MirrorTrust:
    """Mirror lists: pinned key, valid signature, mirrors proving the same key (see the
    module docstring). Mixed into the liveness registry, whose records it updates."""

    stats: StatsCollector
    hosts: dict[str, HostRecord]
    mirrors: dict[str, list[str]]

    def _init_trust(self, settings: BaseSettings) -> None:
        self.trust_unsigned = default_settings.getbool(settings, "ONIONLAB_TRUST_UNSIGNED_MIRRORS")
        self.configured_keys = {
            host.lower(): str(fp).replace(" ", "").upper()
            for host, fp in settings.getdict("ONIONLAB_SITE_KEYS").items()
        }
        self.checker = SignatureChecker()
        self.keys: dict[str, tuple[str, str]] = {}  # host -> (fingerprint, armored key)
        self.run_blocking: Callable[..., Awaitable[Any]] = _in_thread

    def _entry(self, host: str) -> HostRecord:  # the registry's
        raise NotImplementedError

    def learn_mirrors(
        self, host: str, hosts: list[str] | tuple[str, ...]
    ) -> None:  # the registry's
        raise NotImplementedError

    def pin_for(self, host: str) -> str | None:
        """The fingerprint ``host``'s key must have: configured, else pinned earlier."""
        record = self.hosts.get(host)
        return self.configured_keys.get(host) or (record.key_fingerprint if record else None)

    async def offer_key(self, host: str, armored: str) -> tuple[str, str] | None:
        """A key ``host`` publishes (its ``/pgp.txt``): pinned on first contact, then held
        to the pin. Returns ``(fingerprint, armored)`` when it is the site's key."""
        fingerprint = await self.run_blocking(self.checker.key_fingerprint, armored)
        if fingerprint is None:
            self.stats.inc_value("onionlab/mirrors/key_unreadable")
            return None
        pinned = self.pin_for(host)
        if pinned is not None and pinned != fingerprint:
            self.stats.inc_value("onionlab/mirrors/key_mismatch")
            logger.error(
                "KEY CHANGED: %s publishes key %s but its pinned key is %s; its mirror "
                "lists are not trusted.",
                host,
                fingerprint,
                pinned,
            )
            return None
        record = self._entry(host)
        if record.key_fingerprint != fingerprint:
            record.key_fingerprint = fingerprint
            self.stats.inc_value("onionlab/mirrors/key_pinned")
            logger.info("pinned the key of %s: %s", host, fingerprint)
        self.keys[host] = (fingerprint, armored)
        return self.keys[host]

    async def key_for(self, host: str, url: str, fetch: Fetch) -> tuple[str, str] | None:
        """``host``'s pinned key, fetching its ``/pgp.txt`` the first time it is needed."""
        if host in self.keys:
            return self.keys[host]
        request = Request(
            _with_path(url, KEY_PATH),
            dont_filter=True,
            meta={PROBE: True, "download_timeout": PROBE_TIMEOUT},
        )
        try:
            response = await fetch(request)
        except Exception as exc:
            logger.info("could not fetch the key of %s: %s", host, exc or type(exc).__name__)
            return None
        if host in self.keys:  # the crawl's own fetch of /pgp.txt was quicker
            return self.keys[host]
        if getattr(response, "status", None) != 200:
            return None
        return await self.offer_key(host, response_text(response))

    def _refuse_list(self, host: str, reason: str, hosts: tuple[str, ...]) -> None:
        self.stats.inc_value(UNVERIFIED)
        self.stats.inc_value(f"onionlab/mirrors/refused/{reason}")
        self._entry(host).mirror_list = reason
        logger.warning(
            "NOT FOLLOWING the mirror list of %s (%s): %s. Set ONIONLAB_TRUST_UNSIGNED_MIRRORS "
            "only for sites you trust.",
            host,
            reason,
            ", ".join(hosts) or "no addresses",
        )

    def _refuse_mirror(self, host: str, mirror: str, reason: str) -> None:
        self.stats.inc_value(UNVERIFIED)
        self.stats.inc_value(f"onionlab/mirrors/refused/{reason}")
        self._entry(host).mirrors_refused[mirror] = reason
        logger.warning(
            "NOT A MIRROR: %s names %s as its mirror, but %s does not prove the same key "
            "(%s); no request of %s will go there.",
            host,
            mirror,
            mirror,
            reason,
            host,
        )

    async def check_mirror_list(
        self, host: str, served: str, url: str, text: str, fetch: Fetch
    ) -> None:
        """Trust the mirrors a ``mirrors.txt`` of ``host`` (served by ``served``) names, or
        refuse them, by the rules in the module docstring."""
        listed = parse_mirror_list(text)
        if not listed.signed:
            if self.trust_unsigned:
                self._entry(host).mirror_list = "unsigned_trusted"
                self.stats.inc_value("onionlab/mirrors/unsigned_trusted")
                self.learn_mirrors(host, listed.hosts)
            else:
                self._refuse_list(host, "unsigned", listed.hosts)
            return
        key = await self.key_for(host, url, fetch)
        if key is None:
            self._refuse_list(host, "no_key", listed.hosts)
            return
        fingerprint, armored = key
        verified: Verified = await self.run_blocking(
            self.checker.verify, text, armored, fingerprint
        )
        if not verified.ok:
            self._refuse_list(host, verified.reason, listed.hosts)
            return
        if served not in verified.hosts:  # another site's list, replayed here
            self._refuse_list(host, "not_listed", verified.hosts)
            return
        self._entry(host).mirror_list = "verified"
        self.stats.inc_value("onionlab/mirrors/verified")
        known = self.mirrors.get(host, [])
        candidates = [h for h in verified.hosts if h not in (host, served) and h not in known]
        for mirror in candidates[MAX_PROBES:]:
            self._refuse_mirror(host, mirror, "too_many")
        for mirror in candidates[:MAX_PROBES]:
            reason = await self._prove(mirror, url, key, fetch)
            if reason is None:
                self._entry(host).mirrors_refused.pop(mirror, None)
                self.stats.inc_value("onionlab/mirrors/proven")
                self.learn_mirrors(host, [mirror])
            else:
                self._refuse_mirror(host, mirror, reason)

    async def _prove(self, mirror: str, url: str, key: tuple[str, str], fetch: Fetch) -> str | None:
        """None when ``mirror`` serves a mirror list signed by ``key`` that names it."""
        request = Request(
            _with_path(url, MIRRORS_PATH),
            dont_filter=True,
            headers={"Host": mirror},
            meta={VIA: mirror, PROBE: True, "dont_retry": True, "download_timeout": PROBE_TIMEOUT},
        )
        try:
            response = await fetch(request)
        except Exception as exc:
            return f"unreachable_{failure_kind(exc) or type(exc).__name__}"
        status = getattr(response, "status", None)
        if status != 200:
            return f"http_{status}"
        verified = await self.run_blocking(
            self.checker.verify, response_text(response), key[1], key[0]
        )
        if not verified.ok:
            return verified.reason
        return None if mirror in verified.hosts else "not_listed"
