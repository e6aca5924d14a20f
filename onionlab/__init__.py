"""onionlab: a plugin-based crawler for a laboratory of Tor onion services.

This package is the one import name of the project. ``onionlab.crawler`` is the framework,
``onionlab.plugins`` the built-in extractors, ``onionlab.lab`` the mock darknet. Plugin
authors need only this public face (the model: the ``pytest`` namespace):

- :data:`hookimpl`, to mark a plugin's hook functions (every hook:
  :mod:`onionlab.crawler.hookspecs`);
- :mod:`onionlab.items`, the item types a plugin returns;
- :mod:`onionlab.parsing`, small helpers for reading pages;
- :mod:`onionlab.testing`, pytest fixtures and helpers to test a plugin.

It may depend on ``onionlab.crawler`` only; nothing here may import ``plugins`` or ``lab``.
"""

from onionlab.crawler.hookspecs import hookimpl

__all__ = ["hookimpl"]
