"""The kind of a failed download, as liveness counts it (``tor_F0``, ``timeout``, ``dns``…).

:func:`failure_kind` names every failure that is not an HTTP response; the kinds in
:data:`ANSWERED_KINDS` prove the site answered. Used by the per-site state
(:mod:`onionlab.crawler.sitestate`), the mirror proofs (:mod:`onionlab.crawler.mirrortrust`)
and the liveness middleware. Depends on Scrapy, Twisted and :mod:`onionlab.crawler.tor.errors`.
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    StopDownload,
    UnsupportedURLSchemeError,
)
from twisted.internet import defer
from twisted.internet.error import (
    ConnectError,
    ConnectionDone,
    ConnectionLost,
    DNSLookupError,
    TimeoutError,
)
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from onionlab.crawler.tor.errors import SocksError

# Failures that prove the site answered (its bytes arrived, too many or cut short): counted
# by kind like every failure, but evidence of life, never a step towards "gone".
ANSWERED_KINDS = frozenset({"cancelled", "dataloss", "stopped"})


def failure_kind(exc: BaseException) -> str | None:
    """The liveness kind of a failed download; None only for the crawl's own refusals.

    Every failure that is not an HTTP response has a named kind: SOCKS/Tor replies
    (``tor_F0`` …), ``timeout`` (Twisted's or Scrapy 2.19's ``DownloadTimeoutError``),
    ``connection`` (refused, lost, failed: ``DownloadFailedError``,
    ``DownloadConnectionRefusedError``, Twisted's connection errors), ``dns``, and the
    answered kinds ``cancelled`` (``DownloadCancelledError``: the body passed ``DOWNLOAD_MAXSIZE``),
    ``dataloss`` and ``stopped``. Anything else is named after its exception class, so a
    new kind of failure is counted, never ignored. ``IgnoreRequest`` (a request the crawl
    itself refused: site gone, out of scope) and an unsupported scheme say nothing of the
    site and return None.
    """
    if isinstance(exc, IgnoreRequest | UnsupportedURLSchemeError | NotSupported):
        return None
    if isinstance(exc, SocksError):
        return "tor_no_reply" if exc.code is None else f"tor_{exc.code:02X}"
    if isinstance(exc, TimeoutError | defer.TimeoutError | DownloadTimeoutError):
        return "timeout"
    if isinstance(exc, CannotResolveHostError | DNSLookupError):
        return "dns"
    if isinstance(exc, DownloadCancelledError | defer.CancelledError):
        return "cancelled"
    if isinstance(exc, ResponseDataLossError):
        return "dataloss"
    if isinstance(exc, StopDownload):
        return "stopped"
    if isinstance(
        exc,
        ConnectError
        | ConnectionLost
        | ConnectionDone
        | ResponseNeverReceived
        | ResponseFailed
        | DownloadFailedError
        | DownloadConnectionRefusedError
        | ConnectionError,
    ):
        return "connection"
    return type(exc).__name__
