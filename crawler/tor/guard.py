"""Process-level leak guards applied before any crawl: no proxy env vars, no PSL download.

Scrapy's cookies middleware builds a tldextract ``TLDExtract`` at import time that would
fetch the public-suffix list from the internet, directly, on the first cookie with a
``Domain`` attribute. Emptying ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS`` before that import
makes it use its bundled snapshot; if the module was imported already, its instance is
fixed in place. Depends on the standard library (and Scrapy only if already imported).
"""

from __future__ import annotations

import os
import sys

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


def harden_environment() -> None:
    """Make this process unable to leak around Tor through library defaults."""
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
        os.environ.pop(name.upper(), None)
    cookies = sys.modules.get("scrapy.downloadermiddlewares.cookies")
    if cookies is not None:
        cookies._split_domain.suffix_list_urls = ()
