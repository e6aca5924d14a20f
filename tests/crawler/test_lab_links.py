"""On every truth page of the lab, the spider's one-pass link handling finds exactly the
links (and counts exactly the hidden links) the old per-link XPath did. (Hidden links
themselves are fuzzed in ``test_fuzz_pagework``; the lab's honeypot is an obstacle the
served pages here leave off.)"""

from __future__ import annotations

import pytest
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from onionlab.crawler.extraction.page import cut_hidden, link_extractor_for
from onionlab.crawler.spiders.onion import HIDDEN_LINKS, VISIBLE_LINKS
from tests.support.site_pages import fetch_site, world_and_truth

SEED = 1
SERVICES = [service.name for service in world_and_truth(SEED)[0].services]


@pytest.mark.parametrize("name", SERVICES)
def test_the_same_links_as_before_on_every_lab_page(name: str) -> None:
    pages = fetch_site(SEED, name)
    assert pages
    host = world_and_truth(SEED)[0].service(name).onion.lower()
    old_extractor = LinkExtractor(allow_domains=[host], restrict_xpaths=VISIBLE_LINKS, unique=True)
    new_extractor = link_extractor_for([host])
    for url, cached in pages.items():
        if not isinstance(cached, TextResponse):
            continue
        old = [link.url for link in old_extractor.extract_links(cached)]
        old_hidden = len(cached.xpath(HIDDEN_LINKS))
        page = cached.replace()  # a fresh parse: the cached one must stay as it is
        new_hidden = cut_hidden(page.selector.root)
        new = [link.url for link in new_extractor.extract_links(page)]
        assert (new, new_hidden) == (old, old_hidden), url
