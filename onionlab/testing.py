"""Testing a plugin: pytest fixtures and helpers (the public face of the kit's ``testing``).

In a plugin project's ``conftest.py``: ``pytest_plugins = ["onionlab.testing"]`` gives the
fixtures ``onionlab_page`` and ``onionlab_extract``. The names are the kit's ``__all__``
(:mod:`onionlab.crawler.kit.testing`: ``PluginFailed``, ``extract``, ``load_plugin_file``,
``plugin_manager``, ``response_from_file``, ``response_from_text`` and the two fixtures),
listed there only.
"""

from onionlab.crawler.kit import testing as _kit
from onionlab.crawler.kit.testing import *  # noqa: F403  (every name of the kit's __all__)

__all__ = list(_kit.__all__)
