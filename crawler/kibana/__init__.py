"""Kibana as code: saved objects kept as JSON files, bundled to NDJSON and imported.

Framework core: depends on the standard library only; never on ``plugins/`` or ``lab/``.
:mod:`.bundle` turns ``kibana/objects/`` into a validated NDJSON bundle, :mod:`.client` waits
for Kibana and imports it; ``onionlab kibana`` is :mod:`onionlab.crawler.commands.kibana`.
"""
