"""Testing a plugin: pytest fixtures and helpers (the public face of the kit's ``testing``).

In a plugin project's ``conftest.py``: ``pytest_plugins = ["onionlab.testing"]`` gives the
fixtures ``onionlab_page`` and ``onionlab_extract``.
"""

from onionlab.crawler.kit.testing import (
    PluginFailed,
    extract,
    load_plugin_file,
    onionlab_extract,
    onionlab_page,
    plugin_manager,
    response_from_file,
    response_from_text,
)

__all__ = [
    "PluginFailed",
    "extract",
    "load_plugin_file",
    "onionlab_extract",
    "onionlab_page",
    "plugin_manager",
    "response_from_file",
    "response_from_text",
]
