"""The lab's mock onion sites: one package per site kind, all served by ``lab.sites.serve``.

Sites render a ``lab.world`` model to HTML with aiohttp.web. They depend on ``lab.world``
(never on ``crawler`` or ``plugins``); ``lab.sites.registry`` maps kinds to app factories.
"""
