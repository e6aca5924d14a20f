"""The Tor layer: SOCKS5 endpoint, fail-closed download handler, resolver guard, Tor checks.

Depends on Twisted and Scrapy only; knows nothing about plugins or the lab.
"""
