"""The lab's mock onion sites: one package per site kind, all served by ``lab/sites/serve.py``.

Sites render a ``onionlab.lab.world`` model to HTML with aiohttp.web. They depend on
``onionlab.lab.world`` (never on ``crawler`` or ``plugins``); ``onionlab.lab.sites.registry`` maps
kinds to app factories.
"""
