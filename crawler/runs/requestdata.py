"""A Scrapy request as plain JSON data, and its validation when read back from a ledger.

The resume ledger (:mod:`onionlab.crawler.runs.ledger`) keeps each queued request as data,
never as code (no pickle): method, headers, body in base64, priority, the few JSON-safe
``meta`` keys onionlab and Scrapy need (:data:`META_TYPES`), callback and errback by *name*,
checked against the spider's allow-list (:data:`CALLBACKS`). Run directories are passed
around, so what is read back is untrusted input: :func:`check_request` validates every field
(types, http/https only, sizes) and raises
:class:`onionlab.crawler.runs.rundir.RunDirDamaged` naming the file and line. Depends on
Scrapy and :mod:`onionlab.crawler.runs.rundir`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request

from onionlab.crawler.runs.rundir import RunDirDamaged

REPAIR_HINT = "remove the line (or the file, to crawl again from the start), or start a new crawl"

# Limits of a request read back from the ledger.
MAX_URL = 8192
MAX_BODY = 1024 * 1024
MAX_HEADERS = 64
MAX_HEADER_VALUE = 8192
MAX_FLAGS = 16
MAX_FLAG = 256
MAX_COOKIES = 64
MAX_PRIORITY = 1_000_000
MAX_REDIRECT_URLS = 64
METHODS = frozenset({"GET", "HEAD", "POST"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_ENCODING = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}")
# The JSON-safe ``meta`` keys onionlab and Scrapy need again on resume, with their types.
META_TYPES: dict[str, tuple[type, ...]] = {
    "depth": (int,),
    "cookiejar": (str, int),
    "download_slot": (str,),
    "dont_retry": (bool,),
    "dont_redirect": (bool,),
    "dont_merge_cookies": (bool,),
    "onionlab_via": (str,),
}
CALLBACKS = frozenset({"parse", "on_error"})
"""Spider methods a ledger request may name as its callback or errback (a spider may widen
it with a ``resume_callbacks`` attribute)."""
REQUEST_KEYS = frozenset(
    {"url", "method", "headers", "body", "meta", "priority", "callback", "errback",
     "dont_filter", "flags", "cookies", "encoding"}
)  # fmt: skip


def damaged(path: Path, line: int, problem: str) -> RunDirDamaged:
    return RunDirDamaged(path, problem, line, REPAIR_HINT)


def check_url(url: Any, path: Path, line: int, what: str = "url") -> str:
    """``url`` if it is an http(s) URL with a host, of bounded size."""
    if not isinstance(url, str) or not url:
        raise damaged(path, line, f"{what} is not a string")
    if len(url) > MAX_URL:
        raise damaged(path, line, f"{what} longer than {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise damaged(path, line, f"{what} contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise damaged(path, line, f"{what} is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise damaged(path, line, f"{what} is not an http/https URL with a host")
    return url


def _callback_name(method: Any, spider: Any) -> str | None:
    """The name of a spider method (None for none); ValueError for anything else."""
    if method is None:
        return None
    name = getattr(method, "__name__", None)
    allowed = allowed_callbacks(spider)
    if (
        name not in allowed
        or getattr(method, "__self__", None) is not spider
        or getattr(spider, name, None) != method
    ):
        raise ValueError(f"callback {method!r} is not one of the spider's {sorted(allowed)}")
    return name


def allowed_callbacks(spider: Any) -> frozenset[str]:
    return frozenset(getattr(spider, "resume_callbacks", CALLBACKS))


def request_to_data(request: Request, spider: Any) -> dict[str, Any] | None:
    """``request`` as plain JSON data, or None if it carries what cannot be kept as data
    (a callback that is not an allowed spider method, callback kwargs): it is then replayed
    from its URL alone. ``meta`` keeps only the keys of :data:`META_TYPES`."""
    try:
        callback = _callback_name(request.callback, spider)
        errback = _callback_name(request.errback, spider)
    except ValueError:
        return None
    if request.cb_kwargs:
        return None
    meta = {
        key: value
        for key, value in request.meta.items()
        if key in META_TYPES and type(value) in META_TYPES[key]
    }
    if isinstance(request.meta.get("redirect_urls"), list):
        meta["redirect_urls"] = [u for u in request.meta["redirect_urls"] if isinstance(u, str)]
    headers = {
        name.decode("latin-1"): [value.decode("latin-1") for value in values]
        for name, values in request.headers.items()
    }
    data: dict[str, Any] = {
        "url": request.url,
        "method": request.method,
        "headers": headers,
        "body": base64.b64encode(request.body).decode("ascii"),
        "meta": meta,
        "priority": request.priority,
        "callback": callback,
        "errback": errback,
        "dont_filter": request.dont_filter,
        "flags": [str(flag) for flag in request.flags],
        "encoding": request.encoding,
    }
    cookies = request.cookies
    if isinstance(cookies, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in cookies.items()
    ):
        data["cookies"] = dict(cookies)
    return data


def check_request(data: Any, path: Path, line: int) -> dict[str, Any]:
    """The keyword arguments of :class:`scrapy.Request` (callbacks still by name) that the
    ledger's ``request`` data describes, every field checked."""

    def bad(problem: str) -> RunDirDamaged:
        return damaged(path, line, f"request {problem}")

    if not isinstance(data, dict):
        raise bad("is not a JSON object")
    unknown = set(data) - REQUEST_KEYS
    if unknown:
        raise bad(f"has unknown fields {sorted(unknown)}")
    url = check_url(data.get("url"), path, line, "request url")
    method = data.get("method", "GET")
    if method not in METHODS:
        raise bad(f"method {method!r} is not one of {sorted(METHODS)}")
    headers = data.get("headers", {})
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        raise bad(f"headers are not an object of at most {MAX_HEADERS} names")
    for name, values in headers.items():
        if not _TOKEN.fullmatch(name):
            raise bad(f"header name {name[:40]!r} is not a token")
        if not isinstance(values, list) or len(values) > 8:
            raise bad(f"header {name} is not a list of at most 8 values")
        for value in values:
            if (
                not isinstance(value, str)
                or len(value) > MAX_HEADER_VALUE
                or any(ch in value for ch in "\r\n\0")
            ):
                raise bad(f"header {name} has a value that is not one bounded line")
    body_text = data.get("body", "")
    if not isinstance(body_text, str) or len(body_text) > MAX_BODY * 4 // 3 + 4:
        raise bad(f"body is not base64 text of at most {MAX_BODY} bytes")
    try:
        body = base64.b64decode(body_text, validate=True)
    except (binascii.Error, ValueError):
        raise bad("body is not base64") from None
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise bad("meta is not an object")
    for key, value in meta.items():
        if key == "redirect_urls":
            if not isinstance(value, list) or len(value) > MAX_REDIRECT_URLS:
                raise bad("meta redirect_urls is not a short list")
            for entry in value:
                check_url(entry, path, line, "request meta redirect_urls entry")
        elif key not in META_TYPES:
            raise bad(f"meta key {key[:40]!r} is not one onionlab keeps")
        elif type(value) not in META_TYPES[key]:
            raise bad(f"meta {key} is not a {' or '.join(t.__name__ for t in META_TYPES[key])}")
        elif isinstance(value, str) and len(value) > MAX_URL:
            raise bad(f"meta {key} is too long")
    if isinstance(meta.get("depth"), int) and not 0 <= meta["depth"] <= 1_000_000:
        raise bad("meta depth out of range")
    priority = data.get("priority", 0)
    if type(priority) is not int or abs(priority) > MAX_PRIORITY:
        raise bad(f"priority is not an integer within ±{MAX_PRIORITY}")
    for key in ("callback", "errback"):
        name = data.get(key)
        if name is not None and (not isinstance(name, str) or name not in CALLBACKS):
            raise bad(f"{key} {str(name)[:40]!r} is not one of {sorted(CALLBACKS)}")
    if type(data.get("dont_filter", False)) is not bool:
        raise bad("dont_filter is not true/false")
    flags = data.get("flags", [])
    if (
        not isinstance(flags, list)
        or len(flags) > MAX_FLAGS
        or not all(isinstance(f, str) and len(f) <= MAX_FLAG for f in flags)
    ):
        raise bad(f"flags are not a list of at most {MAX_FLAGS} short strings")
    cookies = data.get("cookies", {})
    if (
        not isinstance(cookies, dict)
        or len(cookies) > MAX_COOKIES
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) + len(v) <= MAX_HEADER_VALUE
            for k, v in cookies.items()
        )
    ):
        raise bad(f"cookies are not an object of at most {MAX_COOKIES} strings")
    encoding = data.get("encoding", "utf-8")
    if not isinstance(encoding, str) or not _ENCODING.fullmatch(encoding):
        raise bad("encoding is not a codec name")
    try:
        codecs.lookup(encoding)  # a page's own charset, e.g. cp1251 (response.follow)
    except LookupError:
        raise bad(f"encoding {encoding!r} is not a known codec") from None
    return {
        "url": url,
        "method": method,
        "headers": headers,
        "body": body,
        "meta": meta,
        "priority": priority,
        "callback": data.get("callback"),
        "errback": data.get("errback"),
        "dont_filter": data.get("dont_filter", False),
        "flags": list(flags),
        "cookies": dict(cookies),
        "encoding": encoding,
    }


def request_from_data(kwargs: dict[str, Any], spider: Any) -> Request:
    """A Request from :func:`check_request`'s result; callbacks resolved on ``spider`` (a name
    it does not allow or lacks leaves the default)."""
    kwargs = dict(kwargs)
    allowed = allowed_callbacks(spider)
    for key in ("callback", "errback"):
        name = kwargs.pop(key)
        method = getattr(spider, name, None) if name in allowed else None
        if callable(method):
            kwargs[key] = method
    return Request(**kwargs)
