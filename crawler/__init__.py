"""onionlab's crawler framework: Scrapy core, Tor layer, plugin manager, sinks and CLI.

The core never imports from ``plugins/`` or ``lab/``; plugins reach it only through
the hook API re-exported here.
"""

from onionlab.crawler.hookspecs import hookimpl

__all__ = ["hookimpl"]
